/* CATEGORY: clean-dead-path
 * An early return guarded by a static const flag that is always 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int FLAG = 0;

/* EXPECT: none */
static int word_len(const char *w) {
    char *copy = strdup(w);
    if (copy == NULL)
        return -1;
    if (FLAG)
        return -2;
    int n = (int)strlen(copy);
    free(copy);
    return n;
}

/* EXPECT: none */
int main(void) {
    printf("%d\n", word_len("flag"));
    return 0;
}
