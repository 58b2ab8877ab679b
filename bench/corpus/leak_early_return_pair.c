/* CATEGORY: leak-early-return
 * Two allocations checked together: when one fails, the other is lost. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: leak */
static int concat(const char *a, const char *b) {
    char *left = malloc(strlen(a) + 1);
    char *right = malloc(strlen(b) + 1);
    if (left == NULL || right == NULL)
        return -1;
    strcpy(left, a);
    strcpy(right, b);
    printf("%s%s\n", left, right);
    free(left);
    free(right);
    return 0;
}

/* EXPECT: none */
int main(void) {
    return concat("foo", "bar");
}
