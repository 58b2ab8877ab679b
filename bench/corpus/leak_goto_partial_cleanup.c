/* CATEGORY: leak-goto-break
 * The cleanup label frees the first buffer but forgets the second one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: leak */
static int build_pair(const char *k, const char *v) {
    int rc = -1;
    char *key = strdup(k);
    char *val = NULL;
    if (key == NULL)
        goto cleanup;
    val = strdup(v);
    if (val == NULL)
        goto cleanup;
    printf("%s=%s\n", key, val);
    rc = 0;
cleanup:
    free(key);
    return rc;
}

/* EXPECT: none */
int main(void) {
    return build_pair("user", "root");
}
