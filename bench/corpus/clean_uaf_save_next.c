/* CATEGORY: clean-uaf-lookalike
 * The list is freed by saving next before freeing each node. */
#include <stdio.h>
#include <stdlib.h>

struct node {
    int v;
    struct node *next;
};

/* EXPECT: none */
static void list_free(struct node *head) {
    struct node *n = head;
    while (n != NULL) {
        struct node *next = n->next;
        free(n);
        n = next;
    }
}

/* EXPECT: none */
int main(void) {
    struct node *a = malloc(sizeof *a);
    if (a == NULL)
        return 1;
    struct node *b = malloc(sizeof *b);
    if (b == NULL) {
        free(a);
        return 1;
    }
    a->v = 1;
    a->next = b;
    b->v = 2;
    b->next = NULL;
    list_free(a);
    return 0;
}
