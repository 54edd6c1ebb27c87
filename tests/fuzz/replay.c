/*
 * Runs a fuzz target's LLVMFuzzerTestOneInput once over every file of the directories (or files)
 * given, without libFuzzer: the corpus regression in CTest, built with the project's compiler
 * and sanitizers. Exit 0 when every input ran (a crash or sanitizer report ends the process).
 */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int s_run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL;
    long len;
    int result = -1;

    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        goto cleanup;
    }
    if (fseek(f, 0, SEEK_END) != 0)
        goto cleanup;
    len = ftell(f);
    if (len < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto cleanup;
    /* a copy of exactly `len` bytes: reading past the input is an ASan error, as in libFuzzer */
    data = malloc(len ? (size_t)len : 1);
    if (!data || fread(data, 1, (size_t)len, f) != (size_t)len)
        goto cleanup;
    LLVMFuzzerTestOneInput(data, (size_t)len);
    result = 0;

cleanup:
    free(data);
    if (f)
        fclose(f);
    return result;
}

static int s_compare(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
    int runs = 0;
    int failures = 0;

    for (int i = 1; i < argc; i++) {
        struct stat sb;
        DIR *dir;
        struct dirent *de;
        char **names = NULL;
        size_t n = 0;

        if (stat(argv[i], &sb) != 0) {
            fprintf(stderr, "%s: does not exist\n", argv[i]);
            failures++;
            continue;
        }
        if (!S_ISDIR(sb.st_mode)) {
            failures += s_run_file(argv[i]) != 0;
            runs++;
            continue;
        }
        dir = opendir(argv[i]);
        while (dir && (de = readdir(dir)) != NULL) {
            char **grown;
            char *path;
            if (de->d_name[0] == '.')
                continue;
            grown = realloc(names, (n + 1) * sizeof(*names));
            path = malloc(strlen(argv[i]) + strlen(de->d_name) + 2);
            if (!grown || !path) {
                free(path);
                names = grown ? grown : names;
                failures++;
                break;
            }
            names = grown;
            sprintf(path, "%s/%s", argv[i], de->d_name);
            names[n++] = path;
        }
        if (dir)
            closedir(dir);
        if (n)
            qsort(names, n, sizeof(*names), s_compare);
        for (size_t k = 0; k < n; k++) {
            failures += s_run_file(names[k]) != 0;
            runs++;
            free(names[k]);
        }
        free(names);
    }
    printf("%d inputs run, %d unreadable\n", runs, failures);
    return runs > 0 && failures == 0 ? 0 : 1;
}
