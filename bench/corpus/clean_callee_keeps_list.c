/* CATEGORY: clean-keeping-callee
 * register_item() links the allocation into a global list that keeps it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    char *name;
    struct entry *next;
};

static struct entry *g_registry;

/* EXPECT: none */
static int register_item(char *name) {
    struct entry *e = malloc(sizeof *e);
    if (e == NULL)
        return -1;
    e->name = name;
    e->next = g_registry;
    g_registry = e;
    return 0;
}

/* EXPECT: none */
static int add(const char *name) {
    char *copy = strdup(name);
    if (copy == NULL)
        return -1;
    if (register_item(copy) != 0) {
        free(copy);
        return -1;
    }
    return 0;
}

/* EXPECT: none */
int main(void) {
    add("first");
    add("second");
    for (struct entry *e = g_registry; e; e = e->next)
        puts(e->name);
    return 0;
}
