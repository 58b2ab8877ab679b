/* CATEGORY: clean-stack
 * A variable-length array holds per-call scratch space. */
#include <stdio.h>

/* EXPECT: none */
static int max_prefix_sum(const int *v, int n) {
    int prefix[n + 1];
    prefix[0] = 0;
    int best = 0;
    for (int i = 0; i < n; i++) {
        prefix[i + 1] = prefix[i] + v[i];
        if (prefix[i + 1] > best)
            best = prefix[i + 1];
    }
    return best;
}

/* EXPECT: none */
int main(void) {
    int v[] = {3, -1, 4, -10, 5};
    printf("%d\n", max_prefix_sum(v, 5));
    return 0;
}
