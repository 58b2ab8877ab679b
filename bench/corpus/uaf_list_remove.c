/* CATEGORY: use-after-free
 * Freeing a list reads n->next from a node it has just freed. */
#include <stdio.h>
#include <stdlib.h>

struct node {
    int v;
    struct node *next;
};

/* EXPECT: use-after-free */
static void list_free(struct node *head) {
    struct node *n = head;
    while (n != NULL) {
        free(n);
        n = n->next;
    }
}

/* EXPECT: none */
int main(void) {
    struct node *a = malloc(sizeof *a);
    if (a == NULL)
        return 1;
    a->v = 1;
    a->next = NULL;
    list_free(a);
    return 0;
}
