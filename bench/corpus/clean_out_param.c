/* CATEGORY: clean-out-param
 * The result is handed out through *out; the caller frees it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: none */
static int make_path(const char *dir, const char *file, char **out) {
    char *p = malloc(strlen(dir) + strlen(file) + 2);
    if (p == NULL)
        return -1;
    sprintf(p, "%s/%s", dir, file);
    *out = p;
    return 0;
}

/* EXPECT: none */
int main(void) {
    char *path = NULL;
    if (make_path("/tmp", "x.txt", &path) != 0)
        return 1;
    puts(path);
    free(path);
    return 0;
}
