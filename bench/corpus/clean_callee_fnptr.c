/* CATEGORY: clean-freeing-callee
 * The block is released through a cleanup callback (a function pointer to a
 * freeing function). */
#include <stdio.h>
#include <stdlib.h>

typedef void (*cleanup_fn)(void *);

/* EXPECT: none */
static void release(void *p) {
    free(p);
}

/* EXPECT: none */
static int with_scratch(size_t n, cleanup_fn done) {
    char *s = malloc(n);
    if (s == NULL)
        return -1;
    snprintf(s, n, "scratch");
    puts(s);
    done(s);
    return 0;
}

/* EXPECT: none */
int main(void) {
    return with_scratch(32, release);
}
