/* CATEGORY: file-leak
 * A config parser returns early on a malformed header and keeps the FILE open;
 * the line buffer is released correctly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: resource-leak */
static int read_version(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = malloc(128);
    if (!line) {
        fclose(f);
        return -1;
    }
    if (fgets(line, 128, f) == NULL || strncmp(line, "v=", 2) != 0) {
        free(line);
        return -1;
    }
    int v = atoi(line + 2);
    free(line);
    fclose(f);
    return v;
}

/* EXPECT: none */
int main(void) {
    printf("%d\n", read_version("/etc/os-release"));
    return 0;
}
