/* CATEGORY: clean-uaf-lookalike
 * The needed value is copied out of the record before the record is freed. */
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

/* EXPECT: none */
static int close_record(struct rec *r) {
    int score = r->score;
    retire(r);
    return score;
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
