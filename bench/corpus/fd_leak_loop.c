/* CATEGORY: fd-leak
 * Probing files opens a descriptor per path and never closes it. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/* EXPECT: resource-leak */
static int count_readable(const char *const *paths, int n) {
    int ok = 0;
    for (int i = 0; i < n; i++) {
        int fd = open(paths[i], O_RDONLY);
        if (fd >= 0)
            ok++;
    }
    return ok;
}

/* EXPECT: none */
int main(void) {
    const char *paths[] = {"/etc/hostname", "/nonexistent"};
    printf("%d\n", count_readable(paths, 2));
    return 0;
}
