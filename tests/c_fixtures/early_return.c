#include <stdlib.h>
#include <string.h>

int parse_header(const char *input, int strict) {
    char *copy = strdup(input);
    if (!copy) {
        return -1;
    }
    if (strict && strlen(copy) > 64) {
        return -2;
    }
    int length = (int)strlen(copy);
    free(copy);
    return length;
}
