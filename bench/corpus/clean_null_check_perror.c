/* CATEGORY: clean-null-check
 * The NULL branch reports and returns NULL; the success path returns the block. */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: none */
static double *zeros(size_t n) {
    double *v = calloc(n, sizeof *v);
    if (v == NULL) {
        perror("calloc");
        return NULL;
    }
    return v;
}

/* EXPECT: none */
int main(void) {
    double *v = zeros(10);
    if (v == NULL)
        return 1;
    v[3] = 1.5;
    printf("%.1f\n", v[3]);
    free(v);
    return 0;
}
