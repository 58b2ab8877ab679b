/* CATEGORY: leak-local-struct
 * A local buffer struct is initialised by a helper and never released. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buffer {
    char *data;
    size_t cap;
};

/* EXPECT: none */
static int buffer_init(struct buffer *b, size_t cap) {
    b->data = malloc(cap);
    if (b->data == NULL)
        return -1;
    b->cap = cap;
    b->data[0] = '\0';
    return 0;
}

/* EXPECT: none */
static void buffer_free(struct buffer *b) {
    free(b->data);
    b->data = NULL;
}

/* EXPECT: leak */
static int format_total(int total) {
    struct buffer b;
    if (buffer_init(&b, 64) != 0)
        return -1;
    snprintf(b.data, b.cap, "total=%d", total);
    puts(b.data);
    return 0;
}

/* EXPECT: none */
int main(void) {
    struct buffer ok;
    if (buffer_init(&ok, 16) == 0)
        buffer_free(&ok);
    return format_total(7);
}
