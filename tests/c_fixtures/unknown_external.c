#include <stdlib.h>

void queue_push(void *item);

void enqueue_jobs(int count) {
    for (int i = 0; i < count; i++) {
        char *job = malloc(128);
        queue_push(job);
    }
}
