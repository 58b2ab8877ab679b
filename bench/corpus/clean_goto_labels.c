/* CATEGORY: clean-goto-cleanup
 * Stacked cleanup labels unwind exactly what has been acquired. */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: none */
static int matrix_trace(int n) {
    int rc = -1;
    int *rows = malloc((size_t)n * sizeof *rows);
    if (rows == NULL)
        goto out;
    int *cols = malloc((size_t)n * sizeof *cols);
    if (cols == NULL)
        goto free_rows;
    for (int i = 0; i < n; i++) {
        rows[i] = i;
        cols[i] = i;
    }
    if (n < 2)
        goto free_cols;
    rc = 0;
    for (int i = 0; i < n; i++)
        rc += rows[i] * cols[i];
free_cols:
    free(cols);
free_rows:
    free(rows);
out:
    return rc;
}

/* EXPECT: none */
int main(void) {
    printf("%d %d\n", matrix_trace(1), matrix_trace(4));
    return 0;
}
