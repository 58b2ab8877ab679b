/* CATEGORY: double-free
 * The error branch frees the buffer and then falls through to the final free. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: double-free */
static int parse(const char *s) {
    char *copy = strdup(s);
    if (copy == NULL)
        return -1;
    int ok = copy[0] != '!';
    if (!ok) {
        fprintf(stderr, "bad input\n");
        free(copy);
    }
    free(copy);
    return ok ? 0 : -1;
}

/* EXPECT: none */
int main(void) {
    parse("fine");
    return parse("!bad") == 0 ? 0 : 1;
}
