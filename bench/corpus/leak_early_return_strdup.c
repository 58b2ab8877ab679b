/* CATEGORY: leak-early-return
 * A strdup'ed key is rejected when it is empty, without releasing it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *g_last_key;

/* EXPECT: leak */
static int set_key(const char *raw) {
    char *key = strdup(raw);
    if (key == NULL)
        return -1;
    if (key[0] == '\0')
        return -1;
    free(g_last_key);
    g_last_key = key;
    return 0;
}

/* EXPECT: none */
int main(void) {
    set_key("");
    set_key("name");
    free(g_last_key);
    return 0;
}
