/* CATEGORY: leak-helper
 * A helper fills an out-parameter with heap memory; the caller never frees it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: none */
static int load_greeting(char **out) {
    *out = malloc(32);
    if (*out == NULL)
        return -1;
    strcpy(*out, "good morning");
    return 0;
}

/* EXPECT: leak */
static int greet_length(void) {
    char *g = NULL;
    if (load_greeting(&g) != 0)
        return -1;
    return (int)strlen(g);
}

/* EXPECT: none */
int main(void) {
    printf("%d\n", greet_length());
    return 0;
}
