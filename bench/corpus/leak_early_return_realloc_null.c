/* CATEGORY: leak-early-return
 * realloc(NULL, n) is a malloc; the result is lost when the size check fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: leak */
static int store_header(const char *hdr, size_t limit) {
    size_t n = strlen(hdr) + 1;
    char *copy = realloc(NULL, n);
    if (!copy)
        return -1;
    memcpy(copy, hdr, n);
    if (n > limit) {
        fprintf(stderr, "header too long\n");
        return -1;
    }
    puts(copy);
    free(copy);
    return 0;
}

/* EXPECT: none */
int main(void) {
    store_header("Host: example", 4);
    return store_header("Host: example", 64);
}
