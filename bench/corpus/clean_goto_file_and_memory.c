/* CATEGORY: clean-goto-cleanup
 * A stream and a buffer, both released on every error path via goto. */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: none */
static long count_bytes(const char *path) {
    long total = -1;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        goto done;
    buf = malloc(4096);
    if (buf == NULL)
        goto close_file;
    total = 0;
    size_t n;
    while ((n = fread(buf, 1, 4096, f)) > 0)
        total += (long)n;
    if (ferror(f))
        total = -1;
    free(buf);
close_file:
    fclose(f);
done:
    return total;
}

/* EXPECT: none */
int main(void) {
    printf("%ld\n", count_bytes("/etc/hostname"));
    return 0;
}
