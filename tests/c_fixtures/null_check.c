#include <stdio.h>
#include <stdlib.h>

void report(int n) {
    int *values = malloc(n * sizeof(int));
    if (!values) return;
    for (int i = 0; i < n; i++) {
        values[i] = i;
    }
    printf("%d\n", values[0]);
    free(values);
}
