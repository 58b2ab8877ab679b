/* CATEGORY: clean-goto-cleanup
 * A retry loop written with goto frees the attempt before trying again. */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: none */
static int attempt(int n) {
    return n >= 2;
}

/* EXPECT: none */
static int with_retry(void) {
    int tries = 0;
    char *buf;
retry:
    buf = malloc(256);
    if (buf == NULL)
        return -1;
    snprintf(buf, 256, "try %d", tries);
    if (!attempt(tries)) {
        free(buf);
        tries++;
        goto retry;
    }
    puts(buf);
    free(buf);
    return tries;
}

/* EXPECT: none */
int main(void) {
    printf("%d\n", with_retry());
    return 0;
}
