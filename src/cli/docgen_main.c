/*
 * rdsbk-docgen, run by the build, not installed: writes the manual page and the shell completions
 * from the command tables (docgen.h), and lists the topology keys the parser accepts for the test
 * that holds rdsbk-topology(5) to them.
 *
 *   rdsbk-docgen man DATE OUT | bash OUT | zsh OUT | topology-keys
 */
#include "docgen.h"
#include "rdsbk/config.h"
#include "rdsbk/error.h"

#include <stdio.h>
#include <string.h>

/* Writes `path` through `write` into a temporary file renamed over it once whole, so that a
 * failed run leaves no half page that make would take for up to date. Returns 0 or 1. */
static int s_write_file(const char *path, int (*write)(FILE *out, const char *arg),
                        const char *arg) {
    char tmp[4096];
    FILE *out;
    int rc;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return 1;
    out = fopen(tmp, "w");
    if (!out) {
        perror(tmp);
        return 1;
    }
    rc = write(out, arg);
    if (fclose(out) != 0 || rc != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "rdsbk-docgen: cannot write %s\n", path);
        remove(tmp);
        return 1;
    }
    return 0;
}

static int s_man(FILE *out, const char *date) {
    return rdsbk_cli_write_man(out, date);
}

static int s_bash(FILE *out, const char *unused) {
    (void)unused;
    return rdsbk_cli_write_bash(out);
}

static int s_zsh(FILE *out, const char *unused) {
    (void)unused;
    return rdsbk_cli_write_zsh(out);
}

static void s_print_key(const char *path, void *payload) {
    (void)payload;
    printf("%s\n", path);
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "man") == 0)
        return s_write_file(argv[3], s_man, argv[2]);
    if (argc == 3 && strcmp(argv[1], "bash") == 0)
        return s_write_file(argv[2], s_bash, NULL);
    if (argc == 3 && strcmp(argv[1], "zsh") == 0)
        return s_write_file(argv[2], s_zsh, NULL);
    if (argc == 2 && strcmp(argv[1], "topology-keys") == 0) {
        rdsbk_topology_each_key(s_print_key, NULL);
        return 0;
    }
    fprintf(stderr, "usage: rdsbk-docgen man DATE OUT | bash OUT | zsh OUT | topology-keys\n");
    return 2;
}
