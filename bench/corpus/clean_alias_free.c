/* CATEGORY: clean-alias
 * The block is freed through an alias. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: none */
static int shout_len(const char *s) {
    char *p = strdup(s);
    if (p == NULL)
        return -1;
    char *q = p;
    int n = (int)strlen(q);
    free(q);
    return n;
}

/* EXPECT: none */
int main(void) {
    printf("%d\n", shout_len("alias"));
    return 0;
}
