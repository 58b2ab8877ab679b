/* Juliet CWE-401-style flow variants written for these tests: bad() leaks, good*() do not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void printLine(const char *line);
void printStructLine(const void *structTwoIntsStruct);
extern const int GLOBAL_CONST_TRUE;
extern const int GLOBAL_CONST_FALSE;
int globalReturnsTrueOrFalse(void);

typedef struct { int intOne; int intTwo; } twoIntsStruct;

static const int STATIC_CONST_TRUE = 1;
static const int STATIC_CONST_FALSE = 0;
static int staticFive = 5;
static int staticReturnsTrue(void) { return 1; }
static int staticReturnsFalse(void) { return 0; }

void bad_01(void) {
    char *data;
    data = NULL;
    data = (char *)malloc(100 * sizeof(char));
    if (data == NULL) { exit(-1); }
    strcpy(data, "A String");
    printLine(data);
}

void goodB2G_01(void) {
    char *data;
    data = NULL;
    data = (char *)malloc(100 * sizeof(char));
    if (data == NULL) { exit(-1); }
    strcpy(data, "A String");
    printLine(data);
    free(data);
}

void goodG2B_01(void) {
    char *data;
    data = NULL;
    data = (char *)__builtin_alloca(100 * sizeof(char));
    strcpy(data, "A String");
    printLine(data);
}

void bad_04(void) {
    twoIntsStruct *data;
    data = NULL;
    if (STATIC_CONST_TRUE) {
        data = (twoIntsStruct *)calloc(100, sizeof(twoIntsStruct));
        if (data == NULL) { exit(-1); }
        data[0].intOne = 0;
        printStructLine(&data[0]);
    }
    if (STATIC_CONST_TRUE) {
        ;
    }
}

void goodB2G1_04(void) {
    char *data;
    data = NULL;
    if (STATIC_CONST_TRUE) {
        data = strdup("A String");
        if (data == NULL) { exit(-1); }
        printLine(data);
    }
    if (STATIC_CONST_FALSE) {
        printLine("Benign, fixed string");
    } else {
        free(data);
    }
}

void goodB2G1_09(void) {
    char *data;
    data = NULL;
    if (GLOBAL_CONST_TRUE) {
        data = (char *)malloc(100 * sizeof(char));
        if (data == NULL) { exit(-1); }
        printLine(data);
    }
    if (GLOBAL_CONST_FALSE) {
        printLine("Benign, fixed string");
    } else {
        free(data);
    }
}

void bad_08(void) {
    char *data;
    data = NULL;
    if (staticReturnsTrue()) {
        data = (char *)malloc(100 * sizeof(char));
        if (data == NULL) { exit(-1); }
        printLine(data);
    }
    if (staticReturnsTrue()) {
        ;
    }
}

void goodG2B2_08(void) {
    char *data;
    data = NULL;
    if (staticReturnsFalse()) {
        data = (char *)malloc(100 * sizeof(char));
    } else {
        data = (char *)__builtin_alloca(100 * sizeof(char));
    }
    printLine(data);
}

void bad_12(void) {
    char *data;
    data = NULL;
    if (globalReturnsTrueOrFalse()) {
        data = (char *)malloc(100 * sizeof(char));
        if (data == NULL) { exit(-1); }
    } else {
        data = (char *)malloc(100 * sizeof(char));
        if (data == NULL) { exit(-1); }
    }
    printLine(data);
}

void goodB2G_14(void) {
    char *data;
    data = NULL;
    if (staticFive == 5) {
        data = (char *)malloc(100 * sizeof(char));
        if (data == NULL) { exit(-1); }
    }
    if (staticFive != 5) {
        printLine("Benign, fixed string");
    } else {
        free(data);
    }
}

void goodB2G_15(void) {
    char *data;
    data = NULL;
    switch (6) {
    case 6:
        data = (char *)malloc(100 * sizeof(char));
        if (data == NULL) { exit(-1); }
        break;
    default:
        printLine("Benign, fixed string");
        break;
    }
    switch (7) {
    case 7:
        free(data);
        break;
    default:
        printLine("Benign, fixed string");
        break;
    }
}

void goodB2G_17(void) {
    int i, k;
    char *data;
    data = NULL;
    for (i = 0; i < 1; i++) {
        data = (char *)malloc(100 * sizeof(char));
        if (data == NULL) { exit(-1); }
    }
    for (k = 0; k < 1; k++) {
        free(data);
    }
}

void bad_18(void) {
    char *data;
    data = NULL;
    goto source;
source:
    data = (char *)malloc(100 * sizeof(char));
    if (data == NULL) { exit(-1); }
    printLine(data);
    goto sink;
sink:
    ;
}

void bad_31(void) {
    char *data;
    data = NULL;
    data = (char *)malloc(100 * sizeof(char));
    if (data == NULL) { exit(-1); }
    {
        char *dataCopy = data;
        char *data = dataCopy;
        printLine(data);
    }
}

void goodB2G_31(void) {
    char *data;
    data = NULL;
    data = (char *)malloc(100 * sizeof(char));
    if (data == NULL) { exit(-1); }
    {
        char *dataCopy = data;
        char *data = dataCopy;
        free(data);
    }
}

void good_34(void) {
    char *data;
    union { char *unionFirst; char *unionSecond; } myUnion;
    data = (char *)malloc(100 * sizeof(char));
    if (data == NULL) { exit(-1); }
    myUnion.unionFirst = data;
    {
        char *data = myUnion.unionSecond;
        free(data);
    }
}

static void badSink_41(char *data) {
    printLine(data);
}

void bad_41(void) {
    char *data;
    data = NULL;
    data = (char *)malloc(100 * sizeof(char));
    if (data == NULL) { exit(-1); }
    badSink_41(data);
}

static void goodB2GSink_41(char *data) {
    printLine(data);
    free(data);
}

void goodB2G_41(void) {
    char *data;
    data = NULL;
    data = (char *)malloc(100 * sizeof(char));
    if (data == NULL) { exit(-1); }
    goodB2GSink_41(data);
}

static char *badSource_42(char *data) {
    data = (char *)malloc(100 * sizeof(char));
    if (data == NULL) { exit(-1); }
    return data;
}

void bad_42(void) {
    char *data;
    data = NULL;
    data = badSource_42(data);
    printLine(data);
}

void goodB2G_42(void) {
    char *data;
    data = NULL;
    data = badSource_42(data);
    printLine(data);
    free(data);
}

void bad_44(void) {
    char *data;
    void (*funcPtr)(char *) = badSink_41;
    data = (char *)malloc(100 * sizeof(char));
    if (data == NULL) { exit(-1); }
    funcPtr(data);
}

void goodB2G_44(void) {
    char *data;
    void (*funcPtr)(char *) = goodB2GSink_41;
    data = (char *)malloc(100 * sizeof(char));
    if (data == NULL) { exit(-1); }
    funcPtr(data);
}

static void badSink_63(char **dataPtr) {
    char *data = *dataPtr;
    printLine(data);
}

void bad_63_not_followed(void) {
    char *data;
    data = (char *)malloc(100 * sizeof(char));
    if (data == NULL) { exit(-1); }
    badSink_63(&data);
}

void good_66(void) {
    char *data;
    char *dataArray[5];
    data = (char *)malloc(100 * sizeof(char));
    if (data == NULL) { exit(-1); }
    dataArray[2] = data;
    free(dataArray[2]);
}
