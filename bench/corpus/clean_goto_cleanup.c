/* CATEGORY: clean-goto-cleanup
 * The classic single-exit goto cleanup: every error path releases everything. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: none */
static int build(const char *a, const char *b) {
    int rc = -1;
    char *x = NULL;
    char *y = NULL;
    x = strdup(a);
    if (x == NULL)
        goto cleanup;
    y = strdup(b);
    if (y == NULL)
        goto cleanup;
    if (strcmp(x, y) == 0)
        goto cleanup;
    printf("%s/%s\n", x, y);
    rc = 0;
cleanup:
    free(y);
    free(x);
    return rc;
}

/* EXPECT: none */
int main(void) {
    build("same", "same");
    return build("a", "b");
}
