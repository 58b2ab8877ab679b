/* CATEGORY: leak-realloc-failure
 * A vector's data field is overwritten by a failing realloc. */
#include <stdio.h>
#include <stdlib.h>

struct vec {
    int *data;
    size_t len;
    size_t cap;
};

/* EXPECT: leak */
static int vec_push(struct vec *v, int x) {
    if (v->len == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 4;
        v->data = realloc(v->data, v->cap * sizeof *v->data);
        if (v->data == NULL)
            return -1;
    }
    v->data[v->len++] = x;
    return 0;
}

/* EXPECT: none */
int main(void) {
    struct vec v = {NULL, 0, 0};
    for (int i = 0; i < 10; i++)
        vec_push(&v, i);
    printf("%zu\n", v.len);
    free(v.data);
    return 0;
}
