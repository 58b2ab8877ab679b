/* CATEGORY: leak-conditional-free
 * The buffer is released on the error branch but the success path forgets it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: leak */
static int encode(const char *in, int *len_out) {
    size_t n = strlen(in);
    char *out = malloc(2 * n + 1);
    if (out == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (in[i] < ' ') {
            free(out);
            return -1;
        }
        snprintf(out + 2 * i, 3, "%02x", (unsigned char)in[i]);
    }
    *len_out = (int)(2 * n);
    return 0;
}

/* EXPECT: none */
int main(void) {
    int len = 0;
    encode("hi", &len);
    printf("%d\n", len);
    return 0;
}
