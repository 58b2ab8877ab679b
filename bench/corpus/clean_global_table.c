/* CATEGORY: clean-global
 * Entries are stored into a global table; a cleanup function empties it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 8
static char *g_table[SLOTS];

/* EXPECT: none */
static int table_put(int slot, const char *value) {
    if (slot < 0 || slot >= SLOTS)
        return -1;
    char *v = strdup(value);
    if (v == NULL)
        return -1;
    free(g_table[slot]);
    g_table[slot] = v;
    return 0;
}

/* EXPECT: none */
static void table_clear(void) {
    for (int i = 0; i < SLOTS; i++) {
        free(g_table[i]);
        g_table[i] = NULL;
    }
}

/* EXPECT: none */
int main(void) {
    table_put(1, "one");
    table_put(2, "two");
    table_put(1, "uno");
    puts(g_table[1]);
    table_clear();
    return 0;
}
