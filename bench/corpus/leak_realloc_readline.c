/* CATEGORY: leak-realloc-failure
 * A line reader appends characters with line = realloc(line, len + 2). */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: leak */
static int read_line(FILE *in, char **out) {
    char *line = NULL;
    size_t len = 0;
    int c;
    while ((c = fgetc(in)) != EOF && c != '\n') {
        line = realloc(line, len + 2);
        if (line == NULL)
            return -1;
        line[len++] = (char)c;
        line[len] = '\0';
    }
    *out = line;
    return (int)len;
}

/* EXPECT: none */
int main(void) {
    char *line = NULL;
    if (read_line(stdin, &line) >= 0 && line != NULL)
        puts(line);
    free(line);
    return 0;
}
