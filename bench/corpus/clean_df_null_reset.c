/* CATEGORY: clean-double-free-lookalike
 * The pointer is reset to NULL after the first free, so the second free is a no-op. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: none */
static int parse(const char *s) {
    char *copy = strdup(s);
    if (copy == NULL)
        return -1;
    int ok = copy[0] != '!';
    if (!ok) {
        fprintf(stderr, "bad input\n");
        free(copy);
        copy = NULL;
    }
    free(copy);
    return ok ? 0 : -1;
}

/* EXPECT: none */
int main(void) {
    parse("fine");
    return parse("!bad") == 0 ? 0 : 1;
}
