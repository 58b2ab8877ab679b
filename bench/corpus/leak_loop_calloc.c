/* CATEGORY: leak-loop
 * A zeroed row is calloc'ed per record while summing; the row is never freed. */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: leak */
static long sum_rows(int count) {
    long sum = 0;
    while (count-- > 0) {
        int *row = calloc(8, sizeof *row);
        if (!row)
            return -1;
        row[count % 8] = count;
        for (int i = 0; i < 8; i++)
            sum += row[i];
    }
    return sum;
}

/* EXPECT: none */
int main(void) {
    printf("%ld\n", sum_rows(5));
    return 0;
}
