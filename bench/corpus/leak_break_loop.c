/* CATEGORY: leak-goto-break
 * A break leaves the loop between the allocation and its free. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: leak */
static int first_negative(const int *vals, int n) {
    int idx = -1;
    for (int i = 0; i < n; i++) {
        char *msg = malloc(32);
        if (msg == NULL)
            return -1;
        snprintf(msg, 32, "value %d", vals[i]);
        if (vals[i] < 0) {
            idx = i;
            break;
        }
        puts(msg);
        free(msg);
    }
    return idx;
}

/* EXPECT: none */
int main(void) {
    int vals[] = {3, 1, -4, 1};
    printf("%d\n", first_negative(vals, 4));
    return 0;
}
