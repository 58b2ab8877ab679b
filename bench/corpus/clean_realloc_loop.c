/* CATEGORY: clean-realloc
 * A doubling array grown with a temporary pointer inside the loop. */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: none */
static long squares_sum(int n) {
    size_t cap = 4;
    long *buf = malloc(cap * sizeof *buf);
    if (buf == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        if ((size_t)i == cap) {
            long *bigger = realloc(buf, 2 * cap * sizeof *buf);
            if (bigger == NULL) {
                free(buf);
                return -1;
            }
            buf = bigger;
            cap *= 2;
        }
        buf[i] = (long)i * i;
    }
    long sum = 0;
    for (int i = 0; i < n; i++)
        sum += buf[i];
    free(buf);
    return sum;
}

/* EXPECT: none */
int main(void) {
    printf("%ld\n", squares_sum(20));
    return 0;
}
