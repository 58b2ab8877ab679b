/* CATEGORY: fd-leak
 * The lock descriptor is closed only when the write fails; success leaks it. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/* EXPECT: resource-leak */
static int try_lock(const char *path) {
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    if (fd < 0)
        return -1;
    char pid[16];
    int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (write(fd, pid, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    return 0;
}

/* EXPECT: none */
int main(void) {
    return try_lock("/tmp/bench_corpus.lock") == 0 ? 0 : 1;
}
