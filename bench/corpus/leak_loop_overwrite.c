/* CATEGORY: leak-loop
 * The same pointer variable is re-assigned on every pass; only the last
 * block is freed after the loop, all earlier ones are lost. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: leak */
static size_t longest(const char *const *words, int n) {
    char *copy = NULL;
    size_t best = 0;
    for (int i = 0; i < n; i++) {
        copy = malloc(strlen(words[i]) + 1);
        if (copy == NULL)
            break;
        strcpy(copy, words[i]);
        if (strlen(copy) > best)
            best = strlen(copy);
    }
    free(copy);
    return best;
}

/* EXPECT: none */
int main(void) {
    const char *words[] = {"a", "bbb", "cc"};
    printf("%zu\n", longest(words, 3));
    return 0;
}
