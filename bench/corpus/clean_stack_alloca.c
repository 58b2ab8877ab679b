/* CATEGORY: clean-stack
 * alloca memory is released automatically when the function returns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXPECT: none */
static void shout(const char *s) {
    size_t n = strlen(s);
    char *tmp = __builtin_alloca(n + 2);
    memcpy(tmp, s, n);
    tmp[n] = '!';
    tmp[n + 1] = '\0';
    puts(tmp);
}

/* EXPECT: none */
int main(void) {
    for (int i = 0; i < 3; i++)
        shout("hey");
    return 0;
}
