/* CATEGORY: leak-loop
 * A tokenizer copies each token with strndup, counts it and moves on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: none */
static int is_keyword(const char *tok) {
    return strcmp(tok, "if") == 0 || strcmp(tok, "while") == 0;
}

/* EXPECT: leak */
static int count_keywords(const char *text) {
    int found = 0;
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, " ");
        char *tok = strndup(p, len);
        if (tok == NULL)
            return -1;
        if (is_keyword(tok))
            found++;
        p += len;
        if (*p == ' ')
            p++;
    }
    return found;
}

/* EXPECT: none */
int main(void) {
    printf("%d\n", count_keywords("if a while b"));
    return 0;
}
