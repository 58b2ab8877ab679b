/* CATEGORY: clean-null-check
 * Two allocations, each checked; the first is freed when the second fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: none */
static int concat(const char *a, const char *b) {
    char *left = malloc(strlen(a) + 1);
    if (left == NULL)
        return -1;
    char *right = malloc(strlen(b) + 1);
    if (right == NULL) {
        free(left);
        return -1;
    }
    strcpy(left, a);
    strcpy(right, b);
    printf("%s%s\n", left, right);
    free(right);
    free(left);
    return 0;
}

/* EXPECT: none */
int main(void) {
    return concat("foo", "bar");
}
