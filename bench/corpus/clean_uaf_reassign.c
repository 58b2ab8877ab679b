/* CATEGORY: clean-uaf-lookalike
 * After free the variable is re-pointed at a fresh block before it is used. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: none */
static size_t swap_text(const char *a, const char *b) {
    char *msg = strdup(a);
    if (msg == NULL)
        return 0;
    free(msg);
    msg = strdup(b);
    if (msg == NULL)
        return 0;
    size_t n = strlen(msg);
    free(msg);
    return n;
}

/* EXPECT: none */
int main(void) {
    printf("%zu\n", swap_text("first", "second"));
    return 0;
}
