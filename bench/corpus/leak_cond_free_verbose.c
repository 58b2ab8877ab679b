/* CATEGORY: leak-conditional-free
 * The report is freed only inside the verbose branch. */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: leak */
static void report(int errors, int verbose) {
    char *msg = malloc(64);
    if (msg == NULL)
        return;
    snprintf(msg, 64, "%d errors", errors);
    if (verbose) {
        puts(msg);
        free(msg);
    }
}

/* EXPECT: none */
int main(int argc, char **argv) {
    (void)argv;
    report(3, argc > 1);
    return 0;
}
