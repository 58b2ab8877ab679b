/* CATEGORY: leak-helper
 * The release helper frees the object but not the name it owns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct obj {
    char *name;
    int refs;
};

/* EXPECT: none */
static struct obj *obj_new(const char *name) {
    struct obj *o = malloc(sizeof *o);
    if (o == NULL)
        return NULL;
    o->name = strdup(name);
    if (o->name == NULL) {
        free(o);
        return NULL;
    }
    o->refs = 1;
    return o;
}

/* EXPECT: leak */
static void obj_release(struct obj *o) {
    free(o);
}

/* EXPECT: none */
int main(void) {
    struct obj *o = obj_new("widget");
    if (o == NULL)
        return 1;
    puts(o->name);
    obj_release(o);
    return 0;
}
