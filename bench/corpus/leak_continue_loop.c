/* CATEGORY: leak-goto-break
 * A continue skips the free at the bottom of the loop body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: leak */
static int count_long(const char *const *names, int n) {
    int count = 0;
    for (int i = 0; i < n; i++) {
        char *copy = strdup(names[i]);
        if (copy == NULL)
            return -1;
        if (strlen(copy) < 4)
            continue;
        count++;
        free(copy);
    }
    return count;
}

/* EXPECT: none */
int main(void) {
    const char *names[] = {"ab", "abcdef", "xyz"};
    printf("%d\n", count_long(names, 3));
    return 0;
}
