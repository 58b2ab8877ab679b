/* CATEGORY: leak-early-return
 * A validation failure returns before the buffer is freed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: leak */
static int checksum(const char *input, int *out) {
    size_t n = strlen(input);
    char *buf = malloc(n + 1);
    if (buf == NULL)
        return -1;
    memcpy(buf, input, n + 1);
    if (buf[0] == '#')
        return -2;
    int sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += buf[i];
    *out = sum;
    free(buf);
    return 0;
}

/* EXPECT: none */
int main(void) {
    int sum = 0;
    checksum("#comment", &sum);
    checksum("data", &sum);
    printf("%d\n", sum);
    return 0;
}
