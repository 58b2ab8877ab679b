/* CATEGORY: clean-out-param
 * A reader returns both the buffer and its length through out-parameters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: none */
static int read_all(const char *src, char **out, size_t *len) {
    size_t n = strlen(src);
    char *buf = malloc(n + 1);
    if (buf == NULL) {
        *out = NULL;
        *len = 0;
        return -1;
    }
    memcpy(buf, src, n + 1);
    *out = buf;
    *len = n;
    return 0;
}

/* EXPECT: none */
int main(void) {
    char *data;
    size_t len;
    if (read_all("contents", &data, &len) == 0) {
        printf("%zu %s\n", len, data);
        free(data);
    }
    return 0;
}
