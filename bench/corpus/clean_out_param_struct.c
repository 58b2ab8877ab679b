/* CATEGORY: clean-out-param
 * A result struct passed by pointer receives the allocation. */
#include <stdio.h>
#include <stdlib.h>

struct result {
    int *values;
    int count;
};

/* EXPECT: none */
static int compute(int n, struct result *res) {
    int *vals = calloc((size_t)n, sizeof *vals);
    if (vals == NULL)
        return -1;
    for (int i = 0; i < n; i++)
        vals[i] = i * 3;
    res->values = vals;
    res->count = n;
    return 0;
}

/* EXPECT: none */
int main(void) {
    struct result r;
    if (compute(4, &r) != 0)
        return 1;
    printf("%d\n", r.values[r.count - 1]);
    free(r.values);
    return 0;
}
