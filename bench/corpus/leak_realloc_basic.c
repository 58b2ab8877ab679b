/* CATEGORY: leak-realloc-failure
 * p = realloc(p, n): when realloc fails, the old block is lost. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: leak */
static int grow_and_print(size_t n) {
    char *p = malloc(8);
    if (p == NULL)
        return -1;
    strcpy(p, "seed");
    p = realloc(p, n);
    if (p == NULL)
        return -1;
    memset(p + 4, '.', n - 5);
    p[n - 1] = '\0';
    puts(p);
    free(p);
    return 0;
}

/* EXPECT: none */
int main(void) {
    return grow_and_print(32);
}
