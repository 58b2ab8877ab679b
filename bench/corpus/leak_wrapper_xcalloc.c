/* CATEGORY: leak-wrapper
 * xcalloc/xrealloc wrappers; the histogram they build is never released. */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: none */
static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n, size);
    if (p == NULL)
        exit(2);
    return p;
}

/* EXPECT: none */
static void *xrealloc(void *old, size_t size) {
    void *p = realloc(old, size);
    if (p == NULL) {
        free(old);
        exit(2);
    }
    return p;
}

/* EXPECT: leak */
static int peak_bucket(const unsigned char *data, size_t n) {
    unsigned *hist = xcalloc(16, sizeof *hist);
    hist = xrealloc(hist, 256 * sizeof *hist);
    for (size_t i = 16; i < 256; i++)
        hist[i] = 0;
    for (size_t i = 0; i < n; i++)
        hist[data[i]]++;
    int best = 0;
    for (int i = 1; i < 256; i++)
        if (hist[i] > hist[best])
            best = i;
    return best;
}

/* EXPECT: none */
int main(void) {
    const unsigned char data[] = {1, 2, 2, 3};
    printf("%d\n", peak_bucket(data, sizeof data));
    return 0;
}
