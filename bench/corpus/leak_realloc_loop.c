/* CATEGORY: leak-realloc-failure
 * A growing array doubles with buf = realloc(buf, ...) inside the loop. */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: leak */
static long squares_sum(int n) {
    size_t cap = 4;
    long *buf = malloc(cap * sizeof *buf);
    if (buf == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        if ((size_t)i == cap) {
            cap *= 2;
            buf = realloc(buf, cap * sizeof *buf);
            if (buf == NULL)
                return -1;
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
