/* CATEGORY: clean-alias
 * A cursor walks the buffer while the original pointer is kept for free(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: none */
static int count_spaces(const char *s) {
    char *buf = strdup(s);
    if (buf == NULL)
        return -1;
    int n = 0;
    for (char *cur = buf; *cur; cur++)
        if (*cur == ' ')
            n++;
    free(buf);
    return n;
}

/* EXPECT: none */
int main(void) {
    printf("%d\n", count_spaces("a b c"));
    return 0;
}
