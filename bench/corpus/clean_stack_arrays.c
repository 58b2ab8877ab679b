/* CATEGORY: clean-stack
 * Fixed-size stack arrays used in a loop; nothing is heap allocated. */
#include <stdio.h>
#include <string.h>

/* EXPECT: none */
static void pad_all(const char *const *words, int n) {
    for (int i = 0; i < n; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "[%-8s]", words[i]);
        puts(buf);
    }
}

/* EXPECT: none */
int main(void) {
    const char *words[] = {"a", "bb", "ccc"};
    char name[16];
    strcpy(name, "stack");
    puts(name);
    pad_all(words, 3);
    return 0;
}
