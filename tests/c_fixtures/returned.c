#include <stdlib.h>
#include <string.h>

char *make_greeting(const char *name) {
    char *out = malloc(strlen(name) + 7);
    if (out == NULL)
        return NULL;
    strcpy(out, "hello ");
    strcat(out, name);
    return out;
}
