/* CATEGORY: clean-loop
 * Copies collected into an array in one loop and freed in another. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: none */
static int sort_first(const char *const *words, int n) {
    char **copies = calloc((size_t)n, sizeof *copies);
    if (copies == NULL)
        return -1;
    int made = 0;
    for (; made < n; made++) {
        copies[made] = strdup(words[made]);
        if (copies[made] == NULL)
            break;
    }
    int first = 0;
    for (int i = 1; i < made; i++)
        if (strcmp(copies[i], copies[first]) < 0)
            first = i;
    for (int i = 0; i < made; i++)
        free(copies[i]);
    free(copies);
    return first;
}

/* EXPECT: none */
int main(void) {
    const char *words[] = {"pear", "apple", "fig"};
    printf("%d\n", sort_first(words, 3));
    return 0;
}
