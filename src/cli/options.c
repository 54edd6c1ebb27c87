#include "options.h"
#include "rdsbk/clock.h"
#include "rdsbk/config.h"
#include "rdsbk/error.h"
#include "rdsbk/log.h"
#include "rdsbk/str.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    S_FILE = -1,
    S_STATE = -2,
    S_JSON = -3,
    S_NO_COLOR = -4,
    S_VERBOSE = -5,
    S_DEBUG = -6,
    S_HELP = -7
};

struct s_common {
    struct rdsbk_cli_option opt;
    unsigned mask; /* 0: always accepted */
};

static const struct s_common s_common_options[] = {
    {{"file", 'f', "FILE", "topology file (default: rdsbk.yaml)", S_FILE}, RDSBK_CLI_FILE},
    {{"state", 0, "LOCATION",
      "the state: a file, or s3://BUCKET/KEY (default: the topology's state:, else a file beside "
      "it, its extension replaced by .state.json)",
      S_STATE},
     RDSBK_CLI_STATE},
    {{"json", 0, NULL, "machine-readable JSON on standard output", S_JSON}, RDSBK_CLI_JSON},
    {{"no-color", 0, NULL, "no colour (also when NO_COLOR is set or output is not a terminal)",
      S_NO_COLOR},
     RDSBK_CLI_OUTPUT},
    {{"verbose", 'v', NULL, "more detail on standard error", S_VERBOSE}, RDSBK_CLI_OUTPUT},
    {{"debug", 0, NULL, "one line per AWS API call on standard error (never secrets or signatures)",
      S_DEBUG},
     RDSBK_CLI_OUTPUT},
    {{"help", 'h', NULL, "show this help", S_HELP}, 0},
};

#define S_N_COMMON (sizeof(s_common_options) / sizeof(s_common_options[0]))

int rdsbk_cli_usage_error(const struct rdsbk_cli_command *cmd, const char *fmt, ...) {
    va_list ap;

    fprintf(stderr, "rdsbk-provision %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'rdsbk-provision %s --help'.\n", cmd->name);
    return RDSBK_EUSAGE;
}

/* Finds an option by long name (name_len chars of `name`) or by short letter. */
static const struct rdsbk_cli_option *s_find(const struct rdsbk_cli_command *cmd, const char *name,
                                             size_t name_len, char letter) {
    for (size_t i = 0; i < S_N_COMMON; i++) {
        const struct s_common *c = &s_common_options[i];
        if (c->mask && !(cmd->common & c->mask))
            continue;
        if (letter ? c->opt.short_name == letter
                   : strlen(c->opt.long_name) == name_len &&
                         strncmp(c->opt.long_name, name, name_len) == 0)
            return &c->opt;
    }
    for (const struct rdsbk_cli_option *o = cmd->options; o && o->long_name; o++) {
        if (letter ? o->short_name == letter
                   : strlen(o->long_name) == name_len && strncmp(o->long_name, name, name_len) == 0)
            return o;
    }
    return NULL;
}

static void s_apply_common(struct rdsbk_cli_args *args, int id, const char *value) {
    switch (id) {
    case S_FILE:
        args->file = value;
        break;
    case S_STATE:
        args->state = value;
        break;
    case S_JSON:
        args->json = true;
        break;
    case S_NO_COLOR:
        args->color = false;
        break;
    case S_VERBOSE:
        if (args->verbose < 1)
            args->verbose = 1;
        break;
    case S_DEBUG:
        args->verbose = 2;
        break;
    case S_HELP:
        args->help = true;
        break;
    default:
        break;
    }
}

int rdsbk_cli_parse(struct rdsbk_cli_args *args, const struct rdsbk_cli_command *cmd, int argc,
                    char **argv, rdsbk_cli_option_fn fn, void *payload) {
    const char *no_color = getenv("NO_COLOR");
    bool options_done = false;

    memset(args, 0, sizeof(*args));
    args->file = "rdsbk.yaml";
    args->color = isatty(STDOUT_FILENO) && !(no_color && no_color[0]);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const struct rdsbk_cli_option *opt;
        const char *value = NULL;
        int rc;

        if (options_done || a[0] != '-' || a[1] == '\0') {
            if (args->n_args >= cmd->max_args ||
                args->n_args >= (int)(sizeof(args->args) / sizeof(args->args[0])))
                return rdsbk_cli_usage_error(cmd, "unexpected argument '%s'", a);
            args->args[args->n_args++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
            opt = s_find(cmd, a + 2, len, 0);
            if (!opt)
                return rdsbk_cli_usage_error(cmd, "unknown option '%.*s'", (int)len + 2, a);
            if (eq) {
                if (!opt->value)
                    return rdsbk_cli_usage_error(cmd, "option '--%s' takes no value",
                                                 opt->long_name);
                value = eq + 1;
            }
        } else {
            opt = s_find(cmd, NULL, 0, a[1]);
            if (!opt)
                return rdsbk_cli_usage_error(cmd, "unknown option '-%c'", a[1]);
            if (a[2] != '\0') {
                if (!opt->value)
                    return rdsbk_cli_usage_error(cmd, "unknown option '%s'", a);
                value = a + 2;
            }
        }
        if (opt->value && !value) {
            if (i + 1 >= argc)
                return rdsbk_cli_usage_error(cmd, "option '--%s' needs a value (%s)",
                                             opt->long_name, opt->value);
            value = argv[++i];
        }
        if (opt->value && value[0] == '\0')
            return rdsbk_cli_usage_error(cmd, "option '--%s' needs a non-empty value",
                                         opt->long_name);
        if (opt->id < 0) {
            s_apply_common(args, opt->id, value);
            continue;
        }
        rc = fn ? fn(opt->id, value, payload) : 0;
        if (rc)
            return rc;
    }
    rdsbk_log_set_level(args->verbose);
    return 0;
}

/* One line of --help: "  -f, --file FILE            topology file ...". */
static void s_print_option(const struct rdsbk_cli_option *o, void *payload) {
    FILE *out = payload;
    char left[64];

    if (o->short_name)
        snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->long_name,
                 o->value ? " " : "", o->value ? o->value : "");
    else
        snprintf(left, sizeof(left), "    --%s%s%s", o->long_name, o->value ? " " : "",
                 o->value ? o->value : "");
    fprintf(out, "  %-26s %s\n", left, o->help);
}

int rdsbk_cli_start(struct rdsbk_cli_args *args, const struct rdsbk_cli_command *cmd, int argc,
                    char **argv, rdsbk_cli_option_fn fn, void *payload) {
    if (rdsbk_cli_parse(args, cmd, argc, argv, fn, payload))
        return 1;
    if (args->help) {
        rdsbk_cli_print_help(stdout, cmd);
        return 0;
    }
    return RDSBK_CLI_GO;
}

void rdsbk_cli_each_option(const struct rdsbk_cli_command *cmd, rdsbk_cli_option_each_fn fn,
                           void *payload) {
    for (const struct rdsbk_cli_option *o = cmd->options; o && o->long_name; o++)
        fn(o, payload);
    for (size_t i = 0; i < S_N_COMMON; i++) {
        const struct s_common *c = &s_common_options[i];
        if (!c->mask || (cmd->common & c->mask))
            fn(&c->opt, payload);
    }
}

void rdsbk_cli_print_help(FILE *out, const struct rdsbk_cli_command *cmd) {
    fprintf(out, "Usage: rdsbk-provision %s\n\n%s\n", cmd->usage, cmd->description);
    fprintf(out, "\nOptions:\n");
    rdsbk_cli_each_option(cmd, s_print_option, out);
}

char *rdsbk_cli_state_path(const struct rdsbk_cli_args *args, const struct rdsbk_topology *topo) {
    const char *file = args->file;
    const char *slash;
    const char *dot;
    size_t stem;
    char *out;

    if (args->state)
        return strdup(args->state);
    if (topo && topo->state.bucket)
        return rdsbk_strfmt(&out, "s3://%s/%s", topo->state.bucket, topo->state.key) ? NULL : out;
    slash = strrchr(file, '/');
    dot = strrchr(file, '.');
    stem = (dot && (!slash || dot > slash + 1)) ? (size_t)(dot - file) : strlen(file);
    out = malloc(stem + sizeof(".state.json"));
    if (!out)
        return NULL;
    memcpy(out, file, stem);
    memcpy(out + stem, ".state.json", sizeof(".state.json"));
    return out;
}

int rdsbk_cli_lock_timeout(int *seconds_out, const char *value) {
    long long seconds = 0;

    if (strcmp(value, "0") != 0 && (rdsbk_duration_parse(&seconds, value) || seconds > 86400)) {
        rdsbk_error_clear();
        fprintf(stderr,
                "rdsbk-provision: --lock-timeout takes 0, seconds or a duration up to a day "
                "(\"90s\", \"5m\", \"1h\"), not '%s'\n",
                value);
        return RDSBK_EUSAGE;
    }
    *seconds_out = (int)seconds;
    return 0;
}
