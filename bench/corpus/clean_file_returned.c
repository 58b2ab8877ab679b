/* CATEGORY: clean-file
 * An opener returns the stream to its caller, which closes it. */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: none */
static FILE *open_log(const char *path) {
    FILE *f = fopen(path, "a");
    if (f == NULL)
        return NULL;
    fputs("opened\n", f);
    return f;
}

/* EXPECT: none */
int main(void) {
    FILE *log = open_log("/tmp/bench_corpus.log");
    if (log == NULL)
        return 1;
    fputs("hello\n", log);
    fclose(log);
    return 0;
}
