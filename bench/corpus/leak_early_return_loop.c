/* CATEGORY: leak-early-return
 * A parser allocates a scratch table, then returns from inside its scan loop
 * when it meets a comment character. */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: leak */
static int count_letters(const char *s) {
    int *seen = calloc(256, sizeof *seen);
    if (seen == NULL)
        return -1;
    int distinct = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == ';')
            return distinct;
        if (!seen[c]++)
            distinct++;
    }
    free(seen);
    return distinct;
}

/* EXPECT: none */
int main(void) {
    printf("%d %d\n", count_letters("abca"), count_letters("ab;c"));
    return 0;
}
