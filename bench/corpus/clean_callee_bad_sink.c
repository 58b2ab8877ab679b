/* CATEGORY: clean-freeing-callee
 * Juliet-style source/sink split: the sink prints and frees its argument. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: none */
static void badSink(char *data) {
    printf("%s\n", data);
    free(data);
}

/* EXPECT: none */
static void bad(void) {
    char *data = malloc(100);
    if (data == NULL)
        exit(-1);
    memset(data, 'A', 99);
    data[99] = '\0';
    badSink(data);
}

/* EXPECT: none */
int main(void) {
    bad();
    return 0;
}
