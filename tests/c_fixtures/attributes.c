#include <stdlib.h>
#include <string.h>

static inline __attribute__((always_inline)) int twice(int x) {
    return 2 * x;
}

__attribute__((noinline)) void fill(char *__restrict dst, int n) {
    memset(dst, 0, n);
}

void poll_forever(void) {
    for (;;) {
        char *frame __attribute__((aligned(16))) = malloc(twice(64));
        fill(frame, 128);
    }
}
