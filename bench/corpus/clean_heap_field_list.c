/* CATEGORY: clean-heap-field
 * A new node is linked into a heap list header. */
#include <stdio.h>
#include <stdlib.h>

struct node {
    int v;
    struct node *next;
};

struct list {
    struct node *head;
    int len;
};

/* EXPECT: none */
static int list_push(struct list *l, int v) {
    struct node *n = malloc(sizeof *n);
    if (n == NULL)
        return -1;
    n->v = v;
    n->next = l->head;
    l->head = n;
    l->len++;
    return 0;
}

/* EXPECT: none */
static void list_free(struct list *l) {
    struct node *n = l->head;
    while (n) {
        struct node *next = n->next;
        free(n);
        n = next;
    }
    free(l);
}

/* EXPECT: none */
int main(void) {
    struct list *l = calloc(1, sizeof *l);
    if (l == NULL)
        return 1;
    for (int i = 0; i < 3; i++)
        list_push(l, i);
    printf("%d\n", l->len);
    list_free(l);
    return 0;
}
