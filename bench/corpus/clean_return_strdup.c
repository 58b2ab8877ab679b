/* CATEGORY: clean-return
 * Ownership moves to the caller by return value; the caller frees. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: none */
static char *make_label(const char *prefix, int n) {
    char *s = malloc(strlen(prefix) + 16);
    if (s == NULL)
        return NULL;
    sprintf(s, "%s-%d", prefix, n);
    return s;
}

/* EXPECT: none */
int main(void) {
    char *label = make_label("job", 4);
    if (label == NULL)
        return 1;
    puts(label);
    free(label);
    return 0;
}
