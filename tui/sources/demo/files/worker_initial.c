#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define PAYLOAD_MB 10
#define PAGE_SIZE 4096

static long interval_ms = 1000;

/* Touch every page so the allocation becomes resident and is charged to the cgroup. */
void process_work(char *buffer) {
    for (long i = 0; i < PAYLOAD_MB * 1024L * 1024L; i += PAGE_SIZE) {
        buffer[i] = 1;
    }
    printf("processed item at %p\n", (void *)buffer);
    fflush(stdout);
}

void controller() {
    while (1) {
        char *buffer = malloc(PAYLOAD_MB * 1024 * 1024 * sizeof(char));
        process_work(buffer);
        free(buffer);
        usleep(interval_ms * 1000);
    }
}

int main() {
    char *interval = getenv("WORKER_INTERVAL_MS");
    if (interval != NULL && atol(interval) > 0) {
        interval_ms = atol(interval);
    }
    controller();
    return 0;
}
