#include <stdlib.h>

void broken(void) {
    char *p = malloc(10);
    if (p {
        free(p);
    }
}
