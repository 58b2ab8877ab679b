/* CATEGORY: use-after-free
 * A reset function frees the buffer and then writes a terminator into it. */
#include <stdio.h>
#include <stdlib.h>

struct line {
    char *buf;
    size_t len;
};

/* EXPECT: use-after-free */
static void line_reset(struct line *l) {
    free(l->buf);
    l->buf[0] = '\0';
    l->len = 0;
}

/* EXPECT: none */
int main(void) {
    struct line l;
    l.buf = malloc(8);
    if (l.buf == NULL)
        return 1;
    l.len = 0;
    line_reset(&l);
    return 0;
}
