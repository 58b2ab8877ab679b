/* Juliet-style double free (415), use after free (416) and unclosed handles (775). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

void printLine(const char *line);
static int staticTrue = 1;
static int staticFalse = 0;

void bad_415(void) {
    char *data;
    data = NULL;
    if (staticTrue) {
        data = (char *)malloc(100 * sizeof(char));
        if (data == NULL) { exit(-1); }
        free(data);
    }
    if (staticTrue) {
        free(data);
    }
}

void goodB2G_415(void) {
    char *data;
    data = NULL;
    if (staticTrue) {
        data = (char *)malloc(100 * sizeof(char));
        if (data == NULL) { exit(-1); }
        free(data);
    }
    if (staticFalse) {
        printLine("Benign, fixed string");
    } else {
        ;
    }
}

static void badSink_415(char *data) {
    free(data);
}

void bad_415_41(void) {
    char *data = (char *)malloc(100 * sizeof(char));
    if (data == NULL) { exit(-1); }
    free(data);
    badSink_415(data);
}

void bad_416(void) {
    char *data = (char *)malloc(100 * sizeof(char));
    if (data == NULL) { exit(-1); }
    memset(data, 'A', 99);
    data[99] = '\0';
    free(data);
    printLine(data);
}

void goodG2B_416(void) {
    char *data;
    char dataBuffer[100];
    memset(dataBuffer, 'A', 99);
    dataBuffer[99] = '\0';
    data = dataBuffer;
    printLine(data);
}

void bad_775_fopen(void) {
    FILE *data;
    data = NULL;
    data = fopen("BadSource_fopen.txt", "w+");
    if (data != NULL) {
        fputs("x", data);
    }
}

void good_775_fopen(void) {
    FILE *data;
    data = NULL;
    data = fopen("GoodSource_fopen.txt", "w+");
    if (data != NULL) {
        fclose(data);
    }
}

void bad_775_open(void) {
    int data;
    data = -1;
    data = open("BadSource_open.txt", O_RDWR | O_CREAT, 0600);
    if (data != -1) {
        write(data, "x", 1);
    }
}

void good_775_open(void) {
    int data;
    data = -1;
    data = open("GoodSource_open.txt", O_RDWR | O_CREAT, 0600);
    if (data != -1) {
        close(data);
    }
}
