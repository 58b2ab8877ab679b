/* CATEGORY: clean-keeping-callee
 * cache_put() takes ownership of both key and value into hash buckets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bucket {
    char *key;
    char *value;
    struct bucket *next;
};

static struct bucket *g_buckets[8];

/* EXPECT: none */
static unsigned hash(const char *s) {
    unsigned h = 5381;
    while (*s)
        h = h * 33u + (unsigned char)*s++;
    return h % 8u;
}

/* EXPECT: none */
static int cache_put(char *key, char *value) {
    struct bucket *b = malloc(sizeof *b);
    if (b == NULL)
        return -1;
    unsigned h = hash(key);
    b->key = key;
    b->value = value;
    b->next = g_buckets[h];
    g_buckets[h] = b;
    return 0;
}

/* EXPECT: none */
static int remember(const char *k, const char *v) {
    char *key = strdup(k);
    char *value = strdup(v);
    if (key == NULL || value == NULL || cache_put(key, value) != 0) {
        free(key);
        free(value);
        return -1;
    }
    return 0;
}

/* EXPECT: none */
int main(void) {
    remember("host", "db1");
    remember("port", "5432");
    printf("%s\n", g_buckets[hash("host")] ? "cached" : "missing");
    return 0;
}
