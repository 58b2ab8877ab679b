/* CATEGORY: leak-loop
 * The incident's bug: the worker takes a fresh buffer on every pass of its
 * endless loop, hands it to a helper that only reads it, and never frees it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (1024 * 1024)

/* EXPECT: none */
static void process_work(char *buffer) {
    memset(buffer, 1, CHUNK);
    printf("processed %p\n", (void *)buffer);
}

/* EXPECT: leak */
static void controller(void) {
    while (1) {
        char *buffer = malloc(CHUNK);
        if (buffer == NULL)
            continue;
        process_work(buffer);
        sleep(1);
    }
}

/* EXPECT: none */
int main(int argc, char **argv) {
    (void)argv;
    if (argc > 1)
        controller();
    return 0;
}
