#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>

int first_line(const char *path, char *out, int size) {
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    if (fgets(out, size, f) == NULL)
        return -2;
    fclose(f);
    return 0;
}

int count_bytes(const char *path) {
    char buf[256];
    int total = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    for (;;) {
        int n = (int)read(fd, buf, sizeof buf);
        if (n <= 0)
            break;
        total += n;
    }
    return total;
}

int closed_on_every_path(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd == -1)
        return -1;
    char c;
    if (read(fd, &c, 1) != 1) {
        close(fd);
        return -2;
    }
    close(fd);
    return c;
}

FILE *open_log(const char *path) {
    FILE *f = fopen(path, "a");
    if (!f)
        return NULL;
    fputs("opened\n", f);
    return f;
}

void log_twice(const char *path) {
    FILE *f = open_log(path);
    if (f == NULL)
        return;
    fputs("one\n", f);
    fclose(f);
    fclose(f);
}

int stream_from_fd(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "r");
    if (f == NULL) {
        close(fd);
        return -1;
    }
    int c = fgetc(f);
    fclose(f);
    return c;
}
