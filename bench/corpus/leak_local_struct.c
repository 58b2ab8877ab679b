/* CATEGORY: leak-local-struct
 * A heap string lives in a stack struct; the struct dies at return. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct user {
    char *name;
    int age;
};

/* EXPECT: leak */
static int greet(const char *name, int age) {
    struct user u;
    u.name = strdup(name);
    if (u.name == NULL)
        return -1;
    u.age = age;
    printf("hello %s (%d)\n", u.name, u.age);
    return 0;
}

/* EXPECT: none */
int main(void) {
    return greet("ada", 36);
}
