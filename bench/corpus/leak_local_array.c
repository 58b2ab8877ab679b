/* CATEGORY: leak-local-struct
 * A stack array of pointers is filled with heap blocks and goes out of scope. */
#include <stdio.h>
#include <stdlib.h>

/* EXPECT: leak */
static int make_slots(void) {
    char *slots[4];
    for (int i = 0; i < 4; i++) {
        slots[i] = malloc(16);
        if (slots[i] == NULL)
            return -1;
        snprintf(slots[i], 16, "slot-%d", i);
    }
    for (int i = 0; i < 4; i++)
        puts(slots[i]);
    return 0;
}

/* EXPECT: none */
int main(void) {
    return make_slots();
}
