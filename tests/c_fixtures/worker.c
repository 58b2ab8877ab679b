#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define PAYLOAD_MB 10
#define PAGE_SIZE 4096

void process_work_item(char *item);

/* Touch every page so the allocation becomes resident and is charged to the cgroup. */
void process_work(char *buffer) {
    for (long i = 0; i < PAYLOAD_MB * 1024L * 1024L; i += PAGE_SIZE) {
        buffer[i] = 1;
    }
    process_work_item(buffer);
}

void process_work_item(char *item) {
    printf("processed item at %p\n", (void *)item);
    fflush(stdout);
}

void controller() {
    while (1) {
        char *buffer = malloc(PAYLOAD_MB * 1024 * 1024 * sizeof(char));
        process_work(buffer);
        sleep(1);
    }
}

int main() {
    controller();
    return 0;
}
