/* CATEGORY: clean-return
 * A list builder allocates nodes and returns the head; main frees the list. */
#include <stdio.h>
#include <stdlib.h>

struct node {
    int v;
    struct node *next;
};

/* EXPECT: none */
static struct node *build(int n) {
    struct node *head = NULL;
    for (int i = 0; i < n; i++) {
        struct node *nd = calloc(1, sizeof *nd);
        if (nd == NULL)
            break;
        nd->v = i;
        nd->next = head;
        head = nd;
    }
    return head;
}

/* EXPECT: none */
static void destroy_list(struct node *head) {
    while (head) {
        struct node *next = head->next;
        free(head);
        head = next;
    }
}

/* EXPECT: none */
int main(void) {
    struct node *l = build(5);
    int sum = 0;
    for (struct node *n = l; n; n = n->next)
        sum += n->v;
    printf("%d\n", sum);
    destroy_list(l);
    return 0;
}
