/* CATEGORY: clean-dead-path
 * A const global that is always 5 makes the leaking branch dead; a macro
 * guard of 0 disables a second one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRACE 0
static const int GLOBAL_CONST_FIVE = 5;

/* EXPECT: none */
static void good(const char *src) {
    char *buf = strdup(src);
    if (buf == NULL)
        return;
    if (GLOBAL_CONST_FIVE != 5)
        return;
    if (TRACE) {
        char *trace = strdup(buf);
        if (trace != NULL)
            puts(trace);
    }
    puts(buf);
    free(buf);
}

/* EXPECT: none */
int main(void) {
    good("constant");
    return 0;
}
