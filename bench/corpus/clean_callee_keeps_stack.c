/* CATEGORY: clean-keeping-callee
 * push() stores the pointer on a global stack; pop_all() frees them later. */
#include <stdio.h>
#include <stdlib.h>

#define DEPTH 16
static void *g_stack[DEPTH];
static int g_top;

/* EXPECT: none */
static int push(void *p) {
    if (g_top == DEPTH)
        return -1;
    g_stack[g_top++] = p;
    return 0;
}

/* EXPECT: none */
static void pop_all(void) {
    while (g_top > 0)
        free(g_stack[--g_top]);
}

/* EXPECT: none */
static int frame(int n) {
    int *locals = malloc((size_t)n * sizeof *locals);
    if (locals == NULL)
        return -1;
    locals[0] = n;
    if (push(locals) != 0) {
        free(locals);
        return -1;
    }
    return 0;
}

/* EXPECT: none */
int main(void) {
    for (int i = 1; i < 4; i++)
        frame(i);
    printf("%d\n", g_top);
    pop_all();
    return 0;
}
