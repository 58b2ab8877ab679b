/* CATEGORY: clean-heap-field
 * A strdup'ed name is stored into a heap node's field; the node owns it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct item {
    char *name;
    int qty;
};

/* EXPECT: none */
static struct item *item_new(const char *name, int qty) {
    struct item *it = malloc(sizeof *it);
    if (it == NULL)
        return NULL;
    it->name = strdup(name);
    if (it->name == NULL) {
        free(it);
        return NULL;
    }
    it->qty = qty;
    return it;
}

/* EXPECT: none */
static void item_free(struct item *it) {
    if (it == NULL)
        return;
    free(it->name);
    free(it);
}

/* EXPECT: none */
int main(void) {
    struct item *it = item_new("bolts", 12);
    if (it == NULL)
        return 1;
    printf("%s x%d\n", it->name, it->qty);
    item_free(it);
    return 0;
}
