#include <stdlib.h>

struct cache {
    char *slots[16];
};

static char *last_buffer;
struct cache shared;

void remember(int size) {
    char *buffer = malloc(size);
    last_buffer = buffer;
}

void keep_in_slot(int i, int size) {
    char *slot = malloc(size);
    shared.slots[i] = slot;
}
