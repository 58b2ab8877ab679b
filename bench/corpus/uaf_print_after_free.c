/* CATEGORY: use-after-free
 * The message is logged after it was released. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: use-after-free */
static size_t finish(const char *text) {
    char *msg = strdup(text);
    if (msg == NULL)
        return 0;
    free(msg);
    return strlen(msg);
}

/* EXPECT: none */
int main(void) {
    printf("%zu\n", finish("done"));
    return 0;
}
