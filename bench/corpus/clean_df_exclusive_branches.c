/* CATEGORY: clean-double-free-lookalike
 * Two frees of the same pointer on mutually exclusive branches. */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: none */
static int classify(int v) {
    int *box = malloc(sizeof *box);
    if (box == NULL)
        return -1;
    *box = v;
    if (*box < 0) {
        free(box);
        return -1;
    } else {
        int r = *box % 3;
        free(box);
        return r;
    }
}

/* EXPECT: none */
int main(void) {
    printf("%d %d\n", classify(-2), classify(7));
    return 0;
}
