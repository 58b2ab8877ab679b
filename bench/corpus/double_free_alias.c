/* CATEGORY: double-free
 * Two names for one block, each freed once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct msg {
    char *body;
    char *cursor;
};

/* EXPECT: double-free */
static void msg_done(struct msg *m) {
    free(m->body);
    free(m->cursor);
}

/* EXPECT: none */
int main(void) {
    struct msg m;
    m.body = strdup("hello");
    if (m.body == NULL)
        return 1;
    m.cursor = m.body;
    puts(m.cursor);
    msg_done(&m);
    return 0;
}
