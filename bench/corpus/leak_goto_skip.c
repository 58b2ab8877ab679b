/* CATEGORY: leak-goto-break
 * An error jumps to a label placed after the free. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: leak */
static int render(const char *name, int width) {
    int rc = -1;
    char *line = malloc(128);
    if (line == NULL)
        goto out;
    if (width <= 0 || width > 100)
        goto out;
    snprintf(line, 128, "%-*s|", width, name);
    puts(line);
    free(line);
    rc = 0;
out:
    return rc;
}

/* EXPECT: none */
int main(void) {
    render("x", 0);
    return render("name", 10);
}
