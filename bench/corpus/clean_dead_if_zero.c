/* CATEGORY: clean-dead-path
 * The allocation sits under if (0) and can never run. */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: none */
static int compute(int x) {
    char *p = NULL;
    if (0) {
        p = malloc(64);
        if (p != NULL)
            p[0] = (char)x;
    }
    return x * 2 + (p != NULL);
}

/* EXPECT: none */
int main(void) {
    printf("%d\n", compute(21));
    return 0;
}
