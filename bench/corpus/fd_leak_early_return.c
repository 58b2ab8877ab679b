/* CATEGORY: fd-leak
 * A short read returns without closing the descriptor. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/* EXPECT: resource-leak */
static int read_magic(const char *path, unsigned char magic[4]) {
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    if (read(fd, magic, 4) != 4)
        return -1;
    close(fd);
    return 0;
}

/* EXPECT: none */
int main(void) {
    unsigned char m[4];
    printf("%d\n", read_magic("/bin/sh", m));
    return 0;
}
