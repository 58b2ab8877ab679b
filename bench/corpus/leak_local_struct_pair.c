/* CATEGORY: leak-local-struct
 * A struct returned by value carries a heap pointer; the caller drops it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct span {
    char *text;
    size_t len;
};

/* EXPECT: none */
static struct span span_from(const char *s) {
    struct span sp;
    sp.len = strlen(s);
    sp.text = malloc(sp.len + 1);
    if (sp.text != NULL)
        memcpy(sp.text, s, sp.len + 1);
    return sp;
}

/* EXPECT: leak */
static size_t measure(const char *s) {
    struct span sp = span_from(s);
    if (sp.text == NULL)
        return 0;
    return sp.len;
}

/* EXPECT: none */
int main(void) {
    printf("%zu\n", measure("twelve chars"));
    return 0;
}
