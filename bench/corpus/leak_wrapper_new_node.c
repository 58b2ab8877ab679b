/* CATEGORY: leak-wrapper
 * new_node() returns a fresh node; a lookup builds a probe node and drops it. */
#include <stdio.h>
#include <stdlib.h>

struct node {
    int key;
    struct node *next;
};

/* EXPECT: none */
static struct node *new_node(int key) {
    struct node *n = malloc(sizeof *n);
    if (n == NULL)
        return NULL;
    n->key = key;
    n->next = NULL;
    return n;
}

/* EXPECT: leak */
static int contains(const struct node *head, int key) {
    struct node *probe = new_node(key);
    if (probe == NULL)
        return 0;
    for (const struct node *n = head; n; n = n->next)
        if (n->key == probe->key)
            return 1;
    return 0;
}

/* EXPECT: none */
int main(void) {
    struct node *head = new_node(1);
    if (head == NULL)
        return 1;
    printf("%d\n", contains(head, 1));
    free(head);
    return 0;
}
