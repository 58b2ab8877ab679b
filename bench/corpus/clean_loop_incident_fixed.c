/* CATEGORY: clean-loop
 * The incident's fix: one buffer allocated before the loop, reused, freed after. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (1024 * 1024)

/* EXPECT: none */
static void process_work(char *buffer, int round) {
    memset(buffer, round, CHUNK);
    printf("processed round %d\n", round);
}

/* EXPECT: none */
static int controller(int rounds) {
    char *buffer = malloc(CHUNK);
    if (buffer == NULL)
        return -1;
    for (int i = 0; i < rounds; i++)
        process_work(buffer, i);
    free(buffer);
    return 0;
}

/* EXPECT: none */
int main(void) {
    return controller(3);
}
