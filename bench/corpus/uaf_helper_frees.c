/* CATEGORY: use-after-free
 * A helper frees the record; the caller reads a field afterwards. */
#include <stdio.h>
#include <stdlib.h>

struct rec {
    int id;
    int score;
};

/* EXPECT: none */
static void retire(struct rec *r) {
    printf("retiring %d\n", r->id);
    free(r);
}

/* EXPECT: use-after-free */
static int close_record(struct rec *r) {
    retire(r);
    return r->score;
}

/* EXPECT: none */
int main(void) {
    struct rec *r = malloc(sizeof *r);
    if (r == NULL)
        return 1;
    r->id = 7;
    r->score = 10;
    printf("%d\n", close_record(r));
    return 0;
}
