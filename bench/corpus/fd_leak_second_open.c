/* CATEGORY: fd-leak
 * When the destination cannot be opened, the source descriptor is leaked. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/* EXPECT: resource-leak */
static int copy_file(const char *src, const char *dst) {
    char buf[512];
    int in = open(src, O_RDONLY);
    if (in < 0)
        return -1;
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0)
        return -1;
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n)
            break;
    close(in);
    close(out);
    return 0;
}

/* EXPECT: none */
int main(void) {
    return copy_file("/etc/hostname", "/tmp/bench_corpus_copy") == 0 ? 0 : 1;
}
