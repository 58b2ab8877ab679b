/* CATEGORY: clean-heap-field
 * An init function stores a buffer into the context passed to it. */
#include <stdio.h>
#include <stdlib.h>

struct ctx {
    char *buf;
    size_t cap;
};

/* EXPECT: none */
static int ctx_init(struct ctx *c, size_t cap) {
    char *b = malloc(cap);
    if (b == NULL)
        return -1;
    c->buf = b;
    c->cap = cap;
    return 0;
}

/* EXPECT: none */
int main(void) {
    struct ctx *c = malloc(sizeof *c);
    if (c == NULL)
        return 1;
    if (ctx_init(c, 64) != 0) {
        free(c);
        return 1;
    }
    snprintf(c->buf, c->cap, "ready");
    puts(c->buf);
    free(c->buf);
    free(c);
    return 0;
}
