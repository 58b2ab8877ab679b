/* CATEGORY: double-free
 * destroy() frees its argument; the caller frees the same pointer again. */
#include <stdio.h>
#include <stdlib.h>

struct conn {
    int fd;
    int state;
};

/* EXPECT: none */
static void destroy(struct conn *c) {
    free(c);
}

/* EXPECT: double-free */
static void shutdown_conn(struct conn *c) {
    c->state = 0;
    destroy(c);
    free(c);
}

/* EXPECT: none */
int main(void) {
    struct conn *c = malloc(sizeof *c);
    if (c == NULL)
        return 1;
    c->fd = 3;
    c->state = 1;
    shutdown_conn(c);
    return 0;
}
