/* CATEGORY: clean-return
 * The buffer is either returned or freed on every path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: none */
static char *digits_only(const char *s) {
    char *out = malloc(strlen(s) + 1);
    if (!out)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; s[i]; i++)
        if (s[i] >= '0' && s[i] <= '9')
            out[j++] = s[i];
    out[j] = '\0';
    if (j == 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* EXPECT: none */
int main(void) {
    char *d = digits_only("a1b2c3");
    if (d) {
        puts(d);
        free(d);
    }
    free(digits_only("none"));
    return 0;
}
