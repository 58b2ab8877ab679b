/* CATEGORY: leak-wrapper
 * make_buffer() allocates a header and its data; the caller frees only the header. */
#include <stdio.h>
#include <stdlib.h>

struct buf {
    char *data;
    size_t size;
};

/* EXPECT: none */
static struct buf *make_buffer(size_t size) {
    struct buf *b = malloc(sizeof *b);
    if (b == NULL)
        return NULL;
    b->data = malloc(size);
    if (b->data == NULL) {
        free(b);
        return NULL;
    }
    b->size = size;
    return b;
}

/* EXPECT: leak */
static int use_buffer(void) {
    struct buf *b = make_buffer(32);
    if (b == NULL)
        return -1;
    snprintf(b->data, b->size, "%s", "payload");
    puts(b->data);
    free(b);
    return 0;
}

/* EXPECT: none */
int main(void) {
    return use_buffer();
}
