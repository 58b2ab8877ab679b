/* CATEGORY: clean-alias
 * The pointer is copied into a local struct and freed via the field. */
#include <stdio.h>
#include <stdlib.h>

struct holder {
    int *ptr;
    int n;
};

/* EXPECT: none */
static int total(int n) {
    int *p = malloc((size_t)n * sizeof *p);
    if (p == NULL)
        return -1;
    struct holder h;
    h.ptr = p;
    h.n = n;
    int t = 0;
    for (int i = 0; i < h.n; i++) {
        h.ptr[i] = i;
        t += h.ptr[i];
    }
    free(h.ptr);
    return t;
}

/* EXPECT: none */
int main(void) {
    printf("%d\n", total(5));
    return 0;
}
