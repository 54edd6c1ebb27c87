#ifndef RDSBK_CLI_OPTIONS_H
#define RDSBK_CLI_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

/* Options every command may take, chosen per command with a mask. */
enum rdsbk_cli_common_flags {
    RDSBK_CLI_FILE = 1 << 0,  /* -f/--file */
    RDSBK_CLI_STATE = 1 << 1, /* --state */
    RDSBK_CLI_JSON = 1 << 2,  /* --json */
    RDSBK_CLI_OUTPUT = 1 << 3 /* --no-color, -v/--verbose, --debug */
};

struct rdsbk_cli_option {
    const char *long_name; /* without the leading "--" */
    char short_name;       /* 0 when none */
    const char *value;     /* value placeholder ("FILE"), NULL for a flag */
    const char *help;
    int id; /* handed to the command's callback; > 0 */
};

struct rdsbk_cli_command;

/* Called for each command-specific option; `value` is NULL for flags. Returns 0 or, after
 * printing a one-line error, RDSBK_EUSAGE. */
typedef int (*rdsbk_cli_option_fn)(int id, const char *value, void *payload);

struct rdsbk_cli_command {
    const char *name;
    const char *summary;                    /* one line for the command list */
    const char *usage;                      /* "validate [options]" */
    const char *description;                /* paragraph(s) for --help */
    unsigned common;                        /* enum rdsbk_cli_common_flags */
    const struct rdsbk_cli_option *options; /* NULL-terminated by long_name, may be NULL */
    int max_args;                           /* positional arguments allowed */
    int (*run)(const struct rdsbk_cli_command *cmd, int argc, char **argv);
    /* What the first argument may be (NULL-terminated), offered by the shell completions; NULL
     * when it is a file, or nothing (max_args 0). */
    const char *const *words;
};

/* The parsed command line of one command. Strings point into argv. */
struct rdsbk_cli_args {
    const char *file;  /* topology; default "rdsbk.yaml" */
    const char *state; /* NULL: the topology's state:, else beside it (rdsbk_cli_state_path) */
    bool json;
    bool color;  /* resolved: a terminal, no NO_COLOR, no --no-color */
    int verbose; /* 0, 1 (-v) or 2 (--debug) */
    bool help;
    const char *args[8];
    int n_args;
};

/*
 * Parses argv (argv[0] is the command name). Handles the common options the command accepts and
 * hands the command's own options to `fn`. On a usage error prints one line plus a hint to stderr
 * and returns RDSBK_EUSAGE. Sets args->help for -h/--help (the caller prints help and stops).
 */
int rdsbk_cli_parse(struct rdsbk_cli_args *args, const struct rdsbk_cli_command *cmd, int argc,
                    char **argv, rdsbk_cli_option_fn fn, void *payload);

/* What rdsbk_cli_start returns when the command goes on. */
#define RDSBK_CLI_GO (-1)

/* The start every command shares: parses argv as rdsbk_cli_parse does and prints --help when
 * asked. Returns RDSBK_CLI_GO when the command goes on, or else the exit status it ends with (0
 * after --help, 1 after a usage error). */
int rdsbk_cli_start(struct rdsbk_cli_args *args, const struct rdsbk_cli_command *cmd, int argc,
                    char **argv, rdsbk_cli_option_fn fn, void *payload);

/* Called for each option a command accepts (rdsbk_cli_each_option). */
typedef void (*rdsbk_cli_option_each_fn)(const struct rdsbk_cli_option *opt, void *payload);

/* Calls `fn` for every option `cmd` accepts, in the order its --help lists them: its own, then
 * the common ones it takes, -h/--help last. The options are static; nothing is allocated. */
void rdsbk_cli_each_option(const struct rdsbk_cli_command *cmd, rdsbk_cli_option_each_fn fn,
                           void *payload);

/* Prints the command's --help text to `out`. */
void rdsbk_cli_print_help(FILE *out, const struct rdsbk_cli_command *cmd);

/* Prints "rdsbk-provision CMD: MESSAGE" and the help hint to stderr; returns RDSBK_EUSAGE. */
int rdsbk_cli_usage_error(const struct rdsbk_cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Where the state lives: --state (a path or s3://BUCKET/KEY), else the topology's state: as
 * s3://BUCKET/KEY, else the topology path with its extension replaced by ".state.json"
 * (rdsbk.yaml -> rdsbk.state.json). Caller frees; NULL when out of memory. */
struct rdsbk_topology;
char *rdsbk_cli_state_path(const struct rdsbk_cli_args *args, const struct rdsbk_topology *topo);

/* Parses --lock-timeout: 0, a number of seconds, or a duration ("90s", "5m", "1h"), at most a
 * day. Returns 0 and *seconds_out, or prints the error and returns RDSBK_EUSAGE. */
int rdsbk_cli_lock_timeout(int *seconds_out, const char *value);

#endif
