/* CATEGORY: clean-freeing-callee
 * destroy() frees its argument, so the caller's pointer is released. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct session {
    char *user;
    int id;
};

/* EXPECT: none */
static void destroy(struct session *s) {
    free(s->user);
    free(s);
}

/* EXPECT: none */
static int login(const char *user, int id) {
    struct session *s = malloc(sizeof *s);
    if (s == NULL)
        return -1;
    s->user = strdup(user);
    if (s->user == NULL) {
        free(s);
        return -1;
    }
    s->id = id;
    printf("%s logged in as %d\n", s->user, s->id);
    destroy(s);
    return 0;
}

/* EXPECT: none */
int main(void) {
    return login("ada", 1);
}
