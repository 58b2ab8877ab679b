/* CATEGORY: clean-fd
 * The descriptor is closed whether the read succeeds or not. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/* EXPECT: none */
static int read_magic(const char *path, unsigned char magic[4]) {
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, magic, 4);
    close(fd);
    return n == 4 ? 0 : -1;
}

/* EXPECT: none */
int main(void) {
    unsigned char m[4];
    printf("%d\n", read_magic("/bin/sh", m));
    return 0;
}
