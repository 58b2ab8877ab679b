/* CATEGORY: clean-realloc
 * A vector grows its data field through a temporary; the old block survives failure. */
#include <stdio.h>
#include <stdlib.h>

struct vec {
    int *data;
    size_t len;
    size_t cap;
};

/* EXPECT: none */
static int vec_push(struct vec *v, int x) {
    if (v->len == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        int *data = realloc(v->data, cap * sizeof *data);
        if (data == NULL)
            return -1;
        v->data = data;
        v->cap = cap;
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
