/* CATEGORY: clean-null-check
 * Returning on the failing branch of a NULL check is not a leak. */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: none */
static int squares(int n) {
    int *p = malloc((size_t)n * sizeof *p);
    if (!p)
        return -1;
    for (int i = 0; i < n; i++)
        p[i] = i * i;
    int last = p[n - 1];
    free(p);
    return last;
}

/* EXPECT: none */
int main(void) {
    printf("%d\n", squares(6));
    return 0;
}
