/* CATEGORY: leak-conditional-free
 * The copy is freed in the if branch; the else branch just logs and falls off. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: leak */
static int accept_name(const char *name) {
    char *copy = strdup(name);
    if (copy == NULL)
        return -1;
    if (strchr(copy, '/') == NULL) {
        printf("ok %s\n", copy);
        free(copy);
        return 1;
    } else {
        printf("rejected %s\n", copy);
    }
    return 0;
}

/* EXPECT: none */
int main(void) {
    accept_name("a/b");
    return accept_name("ab") == 1 ? 0 : 1;
}
