/* CATEGORY: leak-wrapper
 * xstrdup in a loop: the previous copy is overwritten each time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: none */
static char *xstrdup(const char *s) {
    char *d = strdup(s);
    if (d == NULL)
        abort();
    return d;
}

/* EXPECT: leak */
static void remember_last(const char *const *names, int n) {
    char *last = NULL;
    for (int i = 0; i < n; i++)
        last = xstrdup(names[i]);
    if (last)
        puts(last);
    free(last);
}

/* EXPECT: none */
int main(void) {
    const char *names[] = {"one", "two", "three"};
    remember_last(names, 3);
    return 0;
}
