#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buffer {
    char *data;
    size_t cap;
};

static int buffer_init(struct buffer *b, size_t cap) {
    b->data = malloc(cap);
    if (b->data == NULL)
        return -1;
    b->cap = cap;
    return 0;
}

static void buffer_free(struct buffer *b) {
    free(b->data);
    b->data = NULL;
}

int format_total(int total) {
    struct buffer b;
    if (buffer_init(&b, 64) != 0)
        return -1;
    snprintf(b.data, b.cap, "total=%d", total);
    puts(b.data);
    return 0;
}

int format_total_fixed(int total) {
    struct buffer b;
    if (buffer_init(&b, 64) != 0)
        return -1;
    snprintf(b.data, b.cap, "total=%d", total);
    buffer_free(&b);
    return 0;
}

static int load(char **out) {
    char *s = strdup("value");
    if (s == NULL)
        return -1;
    *out = s;
    return 0;
}

int use_loaded(void) {
    char *v = NULL;
    int rc = load(&v);
    if (rc != 0)
        return rc;
    puts(v);
    free(v);
    return 0;
}

int leak_loaded(void) {
    char *v = NULL;
    if (load(&v) < 0)
        return -1;
    return (int)strlen(v);
}

struct node {
    int value;
    struct node *next;
};

static void destroy(struct node *head) {
    while (head) {
        struct node *next = head->next;
        free(head);
        head = next;
    }
}

static struct node *push(struct node *head, int value) {
    struct node *n = malloc(sizeof *n);
    if (n == NULL)
        exit(1);
    n->value = value;
    n->next = head;
    return n;
}

int sum_list(void) {
    struct node *list = NULL;
    for (int i = 0; i < 3; i++)
        list = push(list, i);
    int sum = 0;
    for (struct node *n = list; n; n = n->next)
        sum += n->value;
    destroy(list);
    return sum;
}

static void *xrealloc(void *old, size_t size) {
    void *p = realloc(old, size);
    if (p == NULL) {
        free(old);
        exit(2);
    }
    return p;
}

int grow(void) {
    int *v = malloc(4 * sizeof *v);
    if (v == NULL)
        return -1;
    v = xrealloc(v, 8 * sizeof *v);
    v[7] = 1;
    return v[7];
}

static void release(char *p) {
    free(p);
}

void release_twice(void) {
    char *p = malloc(8);
    release(p);
    release(p);
}

void use_released(void) {
    char *p = malloc(8);
    release(p);
    p[0] = 'x';
}
