/* CATEGORY: file-leak
 * The log stream is closed only when something was written to it. */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: resource-leak */
static int write_log(const char *path, int count) {
    FILE *log = fopen(path, "a");
    if (log == NULL)
        return -1;
    if (count > 0) {
        fprintf(log, "%d events\n", count);
        fclose(log);
    }
    return 0;
}

/* EXPECT: none */
int main(void) {
    write_log("/tmp/bench_corpus.log", 0);
    return 0;
}
