/* CATEGORY: leak-helper
 * A helper returns a fresh string; the caller prints it inline and loses it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: none */
static char *upper_copy(const char *s) {
    char *d = strdup(s);
    if (d == NULL)
        return NULL;
    for (char *p = d; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    return d;
}

/* EXPECT: leak */
static void banner(const char *title) {
    char *t = upper_copy(title);
    printf("== %s ==\n", t ? t : "?");
}

/* EXPECT: none */
int main(void) {
    banner("status");
    return 0;
}
