#include <stdlib.h>
#include <string.h>

int checksum(const char *input, int mode) {
    char *copy = malloc(strlen(input) + 1);
    if (copy == NULL) {
        return -1;
    }
    strcpy(copy, input);
    int sum = 0;
    if (mode == 1) {
        sum = copy[0];
        free(copy);
        return sum;
    } else if (mode == 2) {
        sum = (int)strlen(copy);
    } else {
        sum = 7;
    }
    for (int i = 0; i < 3; i++) {
        if (copy[i] == 0) {
            break;
        }
        sum += copy[i];
    }
    free(copy);
    return sum;
}

void drain(int n) {
    while (n-- > 0) {
        char *line = calloc(80, 1);
        if (!line)
            continue;
        memset(line, 'x', 79);
        free(line);
    }
}
