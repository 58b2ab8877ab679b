/* CATEGORY: leak-helper
 * The result of an allocating helper is discarded outright. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: none */
static char *join(const char *a, const char *b) {
    char *r = malloc(strlen(a) + strlen(b) + 1);
    if (r == NULL)
        return NULL;
    strcpy(r, a);
    strcat(r, b);
    return r;
}

/* EXPECT: leak */
static void warm_up(void) {
    join("cache", "-warm");
    puts("warmed");
}

/* EXPECT: none */
int main(void) {
    warm_up();
    return 0;
}
