/* CATEGORY: file-leak
 * A read error returns without closing the stream. */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: resource-leak */
static int first_byte(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    int c = fgetc(f);
    if (c == EOF)
        return -1;
    fclose(f);
    return c;
}

/* EXPECT: none */
int main(int argc, char **argv) {
    printf("%d\n", first_byte(argc > 1 ? argv[1] : "/etc/hostname"));
    return 0;
}
