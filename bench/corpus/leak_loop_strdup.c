/* CATEGORY: leak-loop
 * Each item is copied with strdup to be printed, and the copy is dropped at
 * the end of every iteration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: none */
static void shout(const char *s) {
    printf("%s!\n", s);
}

/* EXPECT: leak */
static void print_all(const char *const *items, int n) {
    for (int i = 0; i < n; i++) {
        char *line = strdup(items[i]);
        if (line == NULL)
            return;
        line[0] = 'X';
        shout(line);
    }
}

/* EXPECT: none */
int main(void) {
    const char *items[] = {"alpha", "beta", "gamma"};
    print_all(items, 3);
    return 0;
}
