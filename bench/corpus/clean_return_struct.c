/* CATEGORY: clean-return
 * A struct returned by value hands its heap field to the caller, who frees it. */
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

/* EXPECT: none */
static size_t measure(const char *s) {
    struct span sp = span_from(s);
    if (sp.text == NULL)
        return 0;
    size_t len = sp.len;
    free(sp.text);
    return len;
}

/* EXPECT: none */
int main(void) {
    printf("%zu\n", measure("twelve chars"));
    return 0;
}
