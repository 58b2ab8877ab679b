/* CATEGORY: double-free
 * A free inside a scan loop lacks its break: a second match frees again. */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: double-free */
static int drop_on_negative(const int *v, int n) {
    char *scratch = malloc(32);
    if (scratch == NULL)
        return -1;
    snprintf(scratch, 32, "%d items", n);
    puts(scratch);
    int found = 0;
    for (int i = 0; i < n; i++) {
        if (v[i] < 0) {
            free(scratch);
            found++;
        }
    }
    if (!found)
        free(scratch);
    return found;
}

/* EXPECT: none */
int main(void) {
    int v[] = {1, -2, 3, -4};
    printf("%d\n", drop_on_negative(v, 4));
    return 0;
}
