/* CATEGORY: clean-global
 * A function-local static caches a lazily allocated buffer. */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: none */
static char *scratch(void) {
    static char *cache;
    if (cache == NULL)
        cache = malloc(4096);
    return cache;
}

/* EXPECT: none */
int main(void) {
    char *s = scratch();
    if (s == NULL)
        return 1;
    snprintf(s, 4096, "%s", "cached");
    puts(scratch());
    return 0;
}
