/* CATEGORY: clean-freeing-callee
 * A tree is released by a recursive function. */
#include <stdio.h>
#include <stdlib.h>

struct tree {
    int key;
    struct tree *left;
    struct tree *right;
};

/* EXPECT: none */
static struct tree *insert(struct tree *t, int key) {
    if (t == NULL) {
        t = calloc(1, sizeof *t);
        if (t != NULL)
            t->key = key;
        return t;
    }
    if (key < t->key)
        t->left = insert(t->left, key);
    else
        t->right = insert(t->right, key);
    return t;
}

/* EXPECT: none */
static void free_tree(struct tree *t) {
    if (t == NULL)
        return;
    free_tree(t->left);
    free_tree(t->right);
    free(t);
}

/* EXPECT: none */
int main(void) {
    struct tree *t = NULL;
    int keys[] = {5, 2, 8, 1};
    for (int i = 0; i < 4; i++)
        t = insert(t, keys[i]);
    printf("%d\n", t ? t->key : -1);
    free_tree(t);
    return 0;
}
