/* CATEGORY: clean-fd
 * A helper returns an open descriptor; the caller closes it. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/* EXPECT: none */
static int open_lock(const char *path) {
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    if (fd < 0)
        return -1;
    return fd;
}

/* EXPECT: none */
int main(void) {
    int fd = open_lock("/tmp/bench_corpus.lock");
    if (fd < 0)
        return 1;
    if (write(fd, "x", 1) != 1) {
        close(fd);
        return 1;
    }
    close(fd);
    return 0;
}
