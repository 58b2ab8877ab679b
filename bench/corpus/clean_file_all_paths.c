/* CATEGORY: clean-file
 * The stream is closed on the error path and on the success path. */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: none */
static int first_byte(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    int c = fgetc(f);
    fclose(f);
    if (c == EOF)
        return -1;
    return c;
}

/* EXPECT: none */
int main(int argc, char **argv) {
    printf("%d\n", first_byte(argc > 1 ? argv[1] : "/etc/hostname"));
    return 0;
}
