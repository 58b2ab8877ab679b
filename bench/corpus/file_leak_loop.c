/* CATEGORY: file-leak
 * Each file in the list is opened and counted but never closed. */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: resource-leak */
static long total_lines(const char *const *paths, int n) {
    long lines = 0;
    for (int i = 0; i < n; i++) {
        FILE *f = fopen(paths[i], "r");
        if (f == NULL)
            continue;
        int c;
        while ((c = fgetc(f)) != EOF)
            if (c == '\n')
                lines++;
    }
    return lines;
}

/* EXPECT: none */
int main(void) {
    const char *paths[] = {"/etc/hostname", "/etc/passwd"};
    printf("%ld\n", total_lines(paths, 2));
    return 0;
}
