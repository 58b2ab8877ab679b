/* CATEGORY: clean-dead-path
 * A helper that always returns 0 guards the only path that would leak. */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: none */
static int staticReturnsFalse(void) {
    return 0;
}

/* EXPECT: none */
static void good(void) {
    int *data = malloc(10 * sizeof *data);
    if (data == NULL)
        exit(-1);
    data[0] = 5;
    printf("%d\n", data[0]);
    if (staticReturnsFalse()) {
        puts("never");
        return;
    }
    free(data);
}

/* EXPECT: none */
int main(void) {
    good();
    return 0;
}
