/*
 * rdsbk-provision init: writes a commented starter topology whose first line names the topology's
 * JSON Schema for editors. Its values come from the options or, on a terminal, from questions
 * (asked on standard error, answered on standard input). Each value is checked as the parser
 * checks it, and the whole text as `validate` checks a file, before anything is written.
 */
#include "commands.h"
#include "rdsbk/buf.h"
#include "rdsbk/config.h"
#include "rdsbk/error.h"
#include "rdsbk/file.h"
#include "rdsbk/model.h"
#include "rdsbk/str.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where `cmake --install` puts schema/topology.schema.json (CMakeLists.txt sets it). */
#ifndef RDSBK_SCHEMA_LOCATION
#define RDSBK_SCHEMA_LOCATION "/usr/local/share/rdsbk-provision/topology.schema.json"
#endif

/* The values of the starter topology, in the order they are asked for. */
enum s_field {
    S_STACK,
    S_BACKUP_ACCOUNT,
    S_BACKUP_REGION,
    S_SOURCE_ACCOUNT,
    S_SOURCE_REGION,
    S_INSTANCES,
    S_CLUSTERS,
    S_N_FIELDS
};

enum { S_OPT_FORCE = 1, S_OPT_SCHEMA_URL, S_OPT_NON_INTERACTIVE, S_OPT_FIELD };

static const char *s_check_account(const char *s) {
    return rdsbk_valid_account(s) ? NULL : "is not a 12-digit AWS account id";
}

/* A value's option, the question that asks for it and the parser's check of it (NULL for the
 * lists of identifiers, checked item by item). */
static const struct {
    const char *option;
    const char *question;
    const char *(*check)(const char *);
} s_fields[S_N_FIELDS] = {
    {"stack", "Stack name (every resource is named rdsbk-<stack>-...)", rdsbk_check_stack},
    {"backup-account", "Backup account id (Account-B, where the backup copies are kept)",
     s_check_account},
    {"backup-region", "Backup Region (Region-B, e.g. eu-west-1)", rdsbk_check_region},
    {"source-account", "Source account id (Account-A, where the databases are)", s_check_account},
    {"source-region", "Source Region (Region-A, the databases' Region, e.g. eu-central-1)",
     rdsbk_check_region},
    {"instances", "DB instance identifiers, comma-separated (billing-* matches a prefix)", NULL},
    {"clusters", "Aurora DB cluster identifiers, comma-separated", NULL},
};

static const struct rdsbk_cli_option s_options[] = {
    {"force", 0, NULL, "replace FILE when it exists", S_OPT_FORCE},
    {"schema-url", 0, "URL", "the schema the first line names (default: the installed one)",
     S_OPT_SCHEMA_URL},
    {"non-interactive", 0, NULL, "ask nothing: every value comes from the options below",
     S_OPT_NON_INTERACTIVE},
    {"stack", 0, "NAME", "the stack's name", S_OPT_FIELD + S_STACK},
    {"backup-account", 0, "ID", "the backup account (Account-B)", S_OPT_FIELD + S_BACKUP_ACCOUNT},
    {"backup-region", 0, "REGION", "its Region (Region-B)", S_OPT_FIELD + S_BACKUP_REGION},
    {"source-account", 0, "ID", "the source account (Account-A)", S_OPT_FIELD + S_SOURCE_ACCOUNT},
    {"source-region", 0, "REGION", "its Region (Region-A)", S_OPT_FIELD + S_SOURCE_REGION},
    {"instances", 0, "A,B", "its DB instances (a trailing * matches a prefix)",
     S_OPT_FIELD + S_INSTANCES},
    {"clusters", 0, "C,D", "its Aurora DB clusters", S_OPT_FIELD + S_CLUSTERS},
    {NULL, 0, NULL, NULL, 0}};

/* What init was asked for. The values are owned (from the options or the answers). */
struct s_init {
    char *values[S_N_FIELDS];
    const char *schema_url; /* borrowed from argv */
    bool force;
    bool non_interactive;
};

/* Whether the list of identifiers `list` names none (empty, or only spaces). */
static bool s_list_empty(const char *list) {
    return !list || list[strspn(list, " \t")] == '\0';
}

/* What is wrong with the comma-separated identifiers `list`, as "'ITEM' PHRASE" in `msg`; false
 * when nothing is. An empty list is not wrong: whether one is needed is decided apart. */
static bool s_list_problem(char *msg, size_t size, const char *list) {
    const char *p = list;

    if (s_list_empty(list))
        return false;
    for (;;) {
        size_t n = strcspn(p, ",");
        char item[128];
        const char *phrase;

        while (n > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        /* an item cut here is longer than any identifier, and refused as such */
        snprintf(item, sizeof(item), "%.*s", (int)(n < sizeof(item) ? n : sizeof(item) - 1), p);
        phrase =
            n == 0 ? "is an empty identifier (two commas in a row?)" : rdsbk_check_db_pattern(item);
        if (phrase) {
            snprintf(msg, size, "'%s' %s", item, phrase);
            return true;
        }
        p = strchr(p, ',');
        if (!p)
            break;
        p++;
    }
    return false;
}

/* What is wrong with `value` for `field`, as "'VALUE' PHRASE" in `msg` (made safe to print);
 * false when nothing is. */
static bool s_problem(char *msg, size_t size, enum s_field field, const char *value) {
    char raw[512];
    const char *phrase;
    bool wrong;

    if (!s_fields[field].check) {
        wrong = s_list_problem(raw, sizeof(raw), value);
    } else {
        phrase = s_fields[field].check(value);
        wrong = phrase != NULL;
        if (wrong)
            snprintf(raw, sizeof(raw), "'%s' %s", value, phrase);
    }
    if (wrong)
        rdsbk_str_escape_terminal(msg, size, raw);
    return wrong;
}

static int s_option(int id, const char *value, void *payload) {
    struct s_init *in = payload;
    char msg[600];

    if (id == S_OPT_FORCE) {
        in->force = true;
    } else if (id == S_OPT_NON_INTERACTIVE) {
        in->non_interactive = true;
    } else if (id == S_OPT_SCHEMA_URL) {
        in->schema_url = value;
    } else {
        enum s_field f = (enum s_field)(id - S_OPT_FIELD);
        if (s_problem(msg, sizeof(msg), f, value))
            return rdsbk_cli_usage_error(&rdsbk_cmd_init, "--%s: %s", s_fields[f].option, msg);
        free(in->values[f]);
        in->values[f] = strdup(value);
        if (!in->values[f])
            return rdsbk_error_oom();
    }
    return 0;
}

/* Whether the source would have no database: neither list names one. */
static bool s_no_databases(const struct s_init *in) {
    return s_list_empty(in->values[S_INSTANCES]) && s_list_empty(in->values[S_CLUSTERS]);
}

/* Refuses, in one line naming them, the values the options did not give ("--stack,
 * --backup-region and --instances or --clusters"); 0 when none is missing. */
static int s_refuse_missing(const struct s_init *in) {
    const char *missing[S_N_FIELDS];
    struct rdsbk_buf b = RDSBK_BUF_INIT;
    size_t n = 0;
    int rc = 0;

    for (int f = 0; f < S_INSTANCES; f++)
        if (!in->values[f])
            missing[n++] = s_fields[f].option;
    if (s_no_databases(in))
        missing[n++] = "instances or --clusters";
    for (size_t i = 0; i < n && !rc; i++)
        rc = rdsbk_buf_printf(&b, "%s--%s", i == 0 ? "" : i + 1 < n ? ", " : " and ", missing[i]);
    if (n > 0 && !rc)
        rc = rdsbk_error_set(RDSBK_EUSAGE,
                             "init: missing %s: without a terminal, or with --non-interactive, "
                             "every value comes from the options",
                             rdsbk_buf_cstr(&b));
    rdsbk_buf_clean_up(&b);
    return rc;
}

/* Asks the question of `field` on standard error until standard input answers what the parser
 * accepts (`optional`: an empty answer too). Returns 0 and the answer in in->values[field], or
 * RDSBK_EUSAGE at the end of the input. */
static int s_ask(struct s_init *in, enum s_field field, bool optional) {
    char line[4096];
    char msg[600];
    char *start;

    for (;;) {
        char *end;

        start = line;
        fprintf(stderr, "%s%s: ", s_fields[field].question, optional ? " (may be empty)" : "");
        if (!fgets(line, sizeof(line), stdin)) {
            fputc('\n', stderr);
            return rdsbk_error_set(RDSBK_EUSAGE, "init: no answer for --%s (end of input)",
                                   s_fields[field].option);
        }
        end = line + strlen(line);
        while (end > line && isspace((unsigned char)end[-1]))
            *--end = '\0';
        while (isspace((unsigned char)*start))
            start++;
        if (!*start && !optional)
            fprintf(stderr, "  an answer is needed\n");
        else if (*start && s_problem(msg, sizeof(msg), field, start))
            fprintf(stderr, "  %s\n", msg);
        else
            break;
    }
    in->values[field] = strdup(start);
    return in->values[field] ? 0 : rdsbk_error_oom();
}

/* Asks for every value the options did not give; the databases until one is named. */
static int s_ask_missing(struct s_init *in) {
    int rc = 0;

    for (int f = 0; f < S_INSTANCES && !rc; f++)
        if (!in->values[f])
            rc = s_ask(in, (enum s_field)f, false);
    while (!rc && s_no_databases(in)) {
        free(in->values[S_INSTANCES]);
        free(in->values[S_CLUSTERS]);
        in->values[S_INSTANCES] = in->values[S_CLUSTERS] = NULL;
        rc = s_ask(in, S_INSTANCES, true);
        rc = rc ? rc : s_ask(in, S_CLUSTERS, true);
        if (!rc && s_no_databases(in))
            fprintf(stderr, "  name at least one DB instance or cluster\n");
    }
    return rc;
}

/* Appends `key: ["a", "b"]` for the identifiers of `list` (in lower case, as RDS stores them and
 * the parser uses them), or nothing for an empty list. */
static int s_add_list(struct rdsbk_buf *b, const char *key, const char *list) {
    int rc = 0;
    int items = 0;

    if (s_list_empty(list))
        return 0;
    rc = rdsbk_buf_printf(b, "    %s: [", key);
    for (const char *p = list; !rc && *p; p++) {
        if (*p == ',' || isspace((unsigned char)*p))
            continue;
        rc = rdsbk_buf_adds(b, items++ ? ", \"" : "\"");
        for (; !rc && *p && *p != ',' && !isspace((unsigned char)*p); p++)
            rc = rdsbk_buf_addc(b, (char)tolower((unsigned char)*p));
        rc = rc ? rc : rdsbk_buf_addc(b, '"');
        if (!*p)
            break;
    }
    return rc ? rc : rdsbk_buf_adds(b, "]\n");
}

/*
 * The starter topology: the schema line, what was asked, and the common settings commented out
 * with their defaults. The values are checked (digits, Region names, identifiers): none needs
 * quoting beyond what is written here.
 */
static int s_text(struct rdsbk_buf *b, const struct s_init *in, const char *schema) {
    const char *const *v = (const char *const *)in->values;
    int rc = rdsbk_buf_printf(
        b,
        "# yaml-language-server: $schema=%s\n"
        "#\n"
        "# A topology of rdsbk-provision (version 1), written by 'rdsbk-provision init'. Check it\n"
        "# with 'rdsbk-provision validate', then see what would be made with 'rdsbk-provision "
        "plan'.\n"
        "# Every key is described in the README (\"The topology file (version 1)\") and, in an\n"
        "# editor that reads the schema named on the first line, on hover.\n"
        "version: 1\n"
        "# every resource is named rdsbk-<stack>-... and tagged rdsbk:stack=<stack>\n"
        "stack: %s\n"
        "sources:                      # Account-A / Region-A: where the databases are\n"
        "  - account: \"%s\"\n"
        "    region: %s\n"
        "    # profile: prod           # AWS CLI profile (default: AWS_PROFILE)\n"
        "    # role_arn: arn:aws:iam::%s:role/deployer  # assumed on top\n",
        schema, v[S_STACK], v[S_SOURCE_ACCOUNT], v[S_SOURCE_REGION], v[S_SOURCE_ACCOUNT]);

    rc = rc ? rc : s_add_list(b, "instances", v[S_INSTANCES]);
    rc = rc ? rc : s_add_list(b, "clusters", v[S_CLUSTERS]);
    return rc ? rc
              : rdsbk_buf_printf(
                    b,
                    "backup:                       # Account-B; every copy lands in its Region, "
                    "Region-B\n"
                    "  account: \"%s\"\n"
                    "  region: %s\n"
                    "  # profile: backup\n"
                    "# key:\n"
                    "#   deletion_window_days: 30  # 7..30 days between destroy and the key's "
                    "deletion\n"
                    "#   prevent_destroy: false    # true: destroy refuses to delete the key\n"
                    "# retention:                  # see the README, \"Retention and RDS's "
                    "snapshot quotas\"\n"
                    "#   backup_days: 7            # days the backup copies are kept\n"
                    "#   intermediate_days: 1      # days the Region-B copies of Account-A are "
                    "kept\n"
                    "#   keep_last: 1              # copies of each database kept whatever their "
                    "age\n"
                    "# alerts:\n"
                    "#   emails: [ops@example.com] # subscribed to the alert topic\n"
                    "#   max_age: 26h              # report a database without a newer backup "
                    "copy\n"
                    "# tags:\n"
                    "#   team: data                # added to every taggable resource\n",
                    v[S_BACKUP_ACCOUNT], v[S_BACKUP_REGION]);
}

/* Checks `text` as `validate` checks a file: the parser (every problem printed, as
 * "rdsbk-provision init: MESSAGE"), then the pipeline's documents against AWS's quotas. */
static int s_check_text(const char *path, const char *text) {
    struct rdsbk_topology *topo = NULL;
    struct rdsbk_graph *graph = NULL;
    struct rdsbk_diagnostics diags;
    int rc = rdsbk_topology_parse(&topo, &diags, path, text, strlen(text));

    for (size_t i = 0; i < diags.count; i++)
        if (diags.items[i].severity == RDSBK_SEVERITY_ERROR)
            fprintf(stderr, "rdsbk-provision init: %s\n", diags.items[i].message);
    if (rc == RDSBK_EINVALID)
        rdsbk_error_set(rc, "%s not written: the values above make no valid topology", path);
    if (rc == 0)
        rc = rdsbk_model_build(&graph, topo);
    if (rc == 0)
        rc = rdsbk_model_check_quotas(graph);
    rdsbk_diagnostics_clean_up(&diags);
    rdsbk_graph_free(graph);
    rdsbk_topology_free(topo);
    return rc;
}

/* Writes `text` to `path`: a new file, never replacing one (O_EXCL), or with `force` in place of
 * whatever is there, atomically (rdsbk_file_replace). */
static int s_write(const char *path, const char *text, bool force) {
    int fd = -1;
    int rc;

    if (force)
        return rdsbk_file_replace(path, text, strlen(text));
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) {
        rc = rdsbk_error_set(errno == EEXIST ? RDSBK_EINVALID : RDSBK_EIO, "%s: %s%s", path,
                             strerror(errno),
                             errno == EEXIST ? " (pass --force to replace it)" : "");
        goto cleanup;
    }
    rc = rdsbk_file_write_all(fd, text, strlen(text), path);
    if (rc == 0 && fsync(fd) != 0)
        rc = rdsbk_error_set(RDSBK_EIO, "%s: %s", path, strerror(errno));
    if (rc)
        unlink(path);

cleanup:
    if (fd >= 0)
        close(fd);
    return rc;
}

/* The values: the options', then the answers to what they left out when that may be asked. */
static int s_gather(struct s_init *in) {
    for (const char *p = in->schema_url; p && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return rdsbk_error_set(RDSBK_EUSAGE, "init: --schema-url must be one line without "
                                                 "control characters");
    if (in->non_interactive || !isatty(STDIN_FILENO))
        return s_refuse_missing(in);
    return s_ask_missing(in);
}

static int s_run(const struct rdsbk_cli_command *cmd, int argc, char **argv) {
    struct rdsbk_cli_args args;
    struct s_init in;
    struct rdsbk_buf text = RDSBK_BUF_INIT;
    struct stat st;
    int status;
    int rc = 0;

    memset(&in, 0, sizeof(in));
    status = rdsbk_cli_start(&args, cmd, argc, argv, s_option, &in);
    if (status != RDSBK_CLI_GO)
        goto cleanup;
    status = 1;
    /* before any question, which would be asked in vain */
    if (!in.force && lstat(args.file, &st) == 0)
        rc = rdsbk_error_set(RDSBK_EINVALID, "%s already exists; pass --force to replace it",
                             args.file);
    rc = rc ? rc : s_gather(&in);
    rc = rc ? rc : s_text(&text, &in, in.schema_url ? in.schema_url : RDSBK_SCHEMA_LOCATION);
    rc = rc ? rc : s_check_text(args.file, rdsbk_buf_cstr(&text));
    rc = rc ? rc : s_write(args.file, rdsbk_buf_cstr(&text), in.force);
    if (rc) {
        rdsbk_cli_print_error(&args);
        goto cleanup;
    }
    printf("Wrote %s (stack %s); check it with 'rdsbk-provision validate -f %s'.\n", args.file,
           in.values[S_STACK], args.file);
    status = 0;

cleanup:
    rdsbk_buf_clean_up(&text);
    for (int f = 0; f < S_N_FIELDS; f++)
        free(in.values[f]);
    return status;
}

const struct rdsbk_cli_command rdsbk_cmd_init = {
    "init",
    "Write a commented starter topology",
    "init [-f FILE] [--force] [--schema-url URL] [--non-interactive]\n"
    "       [--stack NAME] [--backup-account ID] [--backup-region REGION]\n"
    "       [--source-account ID] [--source-region REGION] [--instances A,B] [--clusters C,D]",
    "Writes a commented starter topology to FILE (default rdsbk.yaml), refusing to replace one\n"
    "that exists unless --force. Its first line names the topology's JSON Schema for editors\n"
    "that use yaml-language-server (VS Code's YAML extension, Neovim, Helix, ...): completion,\n"
    "descriptions on hover and most of validate's checks as you type. By default that is the\n"
    "schema installed with rdsbk-provision, " RDSBK_SCHEMA_LOCATION ";\n"
    "--schema-url names another (an https:// URL, or a path).\n"
    "On a terminal it asks, on standard error, for what the options do not give: the stack's\n"
    "name, the backup account and Region, one source account, its Region and its databases.\n"
    "With --non-interactive, or when standard input is not a terminal, every value must come\n"
    "from the options. Each value is checked as validate checks it, identifiers are written in\n"
    "lower case (as RDS stores them), and the whole file is checked as validate checks one\n"
    "before it is written. No AWS call is made.",
    RDSBK_CLI_FILE | RDSBK_CLI_OUTPUT,
    s_options,
    0,
    s_run,
    NULL};
