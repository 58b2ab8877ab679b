/* CATEGORY: leak-wrapper
 * xmalloc aborts on failure and returns the block; the caller loses it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: none */
static void *xmalloc(size_t n) {
    void *p = malloc(n);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

/* EXPECT: leak */
static void log_event(const char *what, int code) {
    char *line = xmalloc(strlen(what) + 16);
    sprintf(line, "%s: %d", what, code);
    puts(line);
}

/* EXPECT: none */
int main(void) {
    log_event("start", 0);
    return 0;
}
