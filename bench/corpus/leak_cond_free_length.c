/* CATEGORY: leak-conditional-free
 * A size heuristic decides whether to free: small blocks are (wrongly) kept. */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: leak */
static int fill_and_sum(size_t len) {
    unsigned char *p = malloc(len ? len : 1);
    if (!p)
        return -1;
    int sum = 0;
    for (size_t i = 0; i < len; i++) {
        p[i] = (unsigned char)i;
        sum += p[i];
    }
    if (len > 10)
        free(p);
    return sum;
}

/* EXPECT: none */
int main(void) {
    printf("%d %d\n", fill_and_sum(4), fill_and_sum(40));
    return 0;
}
