/* CATEGORY: clean-double-free-lookalike
 * A helper frees through a double pointer and clears it; freeing again is harmless. */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: none */
static void free_and_null(char **pp) {
    free(*pp);
    *pp = NULL;
}

/* EXPECT: none */
static void teardown(void) {
    char *p = malloc(16);
    if (p == NULL)
        return;
    snprintf(p, 16, "tmp");
    puts(p);
    free_and_null(&p);
    free(p);
}

/* EXPECT: none */
int main(void) {
    teardown();
    return 0;
}
