/* CATEGORY: clean-realloc
 * realloc done right: a temporary keeps the old block reachable on failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: none */
static void grow_and_print(size_t n) {
    char *p = malloc(8);
    if (p == NULL)
        return;
    strcpy(p, "seed");
    char *tmp = realloc(p, n);
    if (!tmp) {
        free(p);
        return;
    }
    p = tmp;
    memset(p + 4, '.', n - 5);
    p[n - 1] = '\0';
    puts(p);
    free(p);
}

/* EXPECT: none */
int main(void) {
    grow_and_print(32);
    return 0;
}
