/* CATEGORY: clean-global
 * The loaded configuration is stored in a global and lives for the program. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *g_config;

/* EXPECT: none */
static int load_config(const char *text) {
    char *copy = strdup(text);
    if (copy == NULL)
        return -1;
    free(g_config);
    g_config = copy;
    return 0;
}

/* EXPECT: none */
int main(void) {
    if (load_config("debug=1") != 0)
        return 1;
    puts(g_config);
    return 0;
}
