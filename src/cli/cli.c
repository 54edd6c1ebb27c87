/*
 * rdsbk-provision <command> [options]: the command table and dispatch. Each command lives in
 * cmd_<name>.c with its own option table and help text.
 */
#include "cli.h"
#include "commands.h"
#include "rdsbk/client_set.h"
#include "rdsbk/config.h"
#include "rdsbk/error.h"
#include "rdsbk/http.h"
#include "rdsbk/services/organizations.h"
#include "rdsbk/log.h"
#include "rdsbk/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct rdsbk_cli_command *const rdsbk_cli_commands[] = {&rdsbk_cmd_init,
                                                              &rdsbk_cmd_validate,
                                                              &rdsbk_cmd_plan,
                                                              &rdsbk_cmd_apply,
                                                              &rdsbk_cmd_destroy,
                                                              &rdsbk_cmd_status,
                                                              &rdsbk_cmd_drill,
                                                              &rdsbk_cmd_generate,
                                                              &rdsbk_cmd_export,
                                                              &rdsbk_cmd_state,
                                                              &rdsbk_cmd_version,
                                                              &rdsbk_cmd_help,
                                                              NULL};

const char rdsbk_cli_about[] =
    "Builds and keeps the pipeline that copies every new RDS system snapshot from\n"
    "Account-A/Region-A to Account-A/Region-B and on into the backup account\n"
    "(Account-B/Region-B), re-encrypted with a KMS key the backup account owns.";

const struct rdsbk_cli_entry rdsbk_cli_exit_statuses[] = {
    {"0", "success"},
    {"1", "any error, including a usage error and an invalid topology"},
    {"2", "only 'plan --detailed-exitcode': the plan has changes"},
    {NULL, NULL}};

const char rdsbk_cli_environment_intro[] =
    "Besides the AWS CLI's variables for credentials, profiles and endpoints\n"
    "(AWS_PROFILE, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_ROLE_ARN,\n"
    "AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ENDPOINT_URL[_<SERVICE>], ...):";

const struct rdsbk_cli_entry rdsbk_cli_environment[] = {
    {"AWS_S3_FORCE_PATH_STYLE", "true or 1: S3 requests path-style"},
    {"NO_COLOR", "set and not empty: no colour"},
    {"RDSBK_HTTP_TIMEOUT_MS", "time limit of one HTTP attempt (default 60000)"},
    {"RDSBK_RETRY_MAX_ATTEMPTS", "attempts per AWS call (default 8)"},
    {"RDSBK_RETRY_BASE_DELAY_MS", "base of the retries' backoff in ms (default 1000)"},
    {"RDSBK_MAX_THREADS", "requests in flight in all, 1-256 (default 64-128)"},
    {"RDSBK_CORE_DUMPS", "1: allow core dumps (they would hold credentials)"},
    {NULL, NULL}};

/* The entries of `table` under `title` (none when NULL), the names padded to `width`. */
static void s_print_entries(FILE *out, const char *title, const struct rdsbk_cli_entry *table,
                            int width) {
    if (title)
        fprintf(out, "\n%s:\n", title);
    for (const struct rdsbk_cli_entry *e = table; e->name; e++)
        fprintf(out, "  %-*s %s\n", width, e->name, e->text);
}

static void s_print_main_help(FILE *out) {
    fprintf(out, "Usage: rdsbk-provision <command> [options]\n\n%s\n\nCommands:\n",
            rdsbk_cli_about);
    for (int i = 0; rdsbk_cli_commands[i]; i++)
        fprintf(out, "  %-10s %s\n", rdsbk_cli_commands[i]->name, rdsbk_cli_commands[i]->summary);
    fprintf(out, "\n'rdsbk-provision <command> --help' describes a command and its options,\n"
                 "'man rdsbk-provision' the whole tool, 'man rdsbk-topology' the topology file.\n");
    s_print_entries(out, "Exit status", rdsbk_cli_exit_statuses, 2);
    fprintf(out, "\nEnvironment:\n%s\n", rdsbk_cli_environment_intro);
    s_print_entries(out, NULL, rdsbk_cli_environment, 26);
}

static const struct rdsbk_cli_command *s_lookup(const char *name) {
    for (int i = 0; rdsbk_cli_commands[i]; i++)
        if (strcmp(rdsbk_cli_commands[i]->name, name) == 0)
            return rdsbk_cli_commands[i];
    return NULL;
}

static int s_help_run(const struct rdsbk_cli_command *cmd, int argc, char **argv) {
    struct rdsbk_cli_args args;
    const struct rdsbk_cli_command *topic;

    if (rdsbk_cli_parse(&args, cmd, argc, argv, NULL, NULL))
        return 1;
    if (args.help || args.n_args == 0) {
        if (args.help)
            rdsbk_cli_print_help(stdout, cmd);
        else
            s_print_main_help(stdout);
        return 0;
    }
    topic = s_lookup(args.args[0]);
    if (!topic) {
        rdsbk_cli_usage_error(cmd, "unknown command '%s'", args.args[0]);
        return 1;
    }
    rdsbk_cli_print_help(stdout, topic);
    return 0;
}

const struct rdsbk_cli_command rdsbk_cmd_help = {
    "help",
    "Show help for rdsbk-provision or one command",
    "help [COMMAND]",
    "Shows the list of commands, or the help of COMMAND.",
    0,
    NULL,
    1,
    s_help_run,
    NULL}; /* its argument is a command: completion.c offers rdsbk_cli_commands */

/* The problems found in the topology, in file order, each as FILE:LINE:COL: error: MESSAGE or,
 * like every warning of the tool, warning: FILE:LINE:COL: MESSAGE (the messages are escaped by the
 * loader, the file name here), then the count of those not listed. */
static void s_print_diagnostics(const struct rdsbk_diagnostics *diags,
                                const struct rdsbk_cli_args *args) {
    const char *red = args->color && isatty(STDERR_FILENO) ? "\033[1;31m" : "";
    const char *reset = args->color && isatty(STDERR_FILENO) ? "\033[0m" : "";
    char *file = rdsbk_str_escape_terminal_dup(args->file);

    for (size_t i = 0; i < diags->count; i++) {
        const struct rdsbk_diagnostic *d = &diags->items[i];
        if (d->severity == RDSBK_SEVERITY_WARNING)
            rdsbk_log_warn("%s:%d:%d: %s", file ? file : "?", d->pos.line, d->pos.col, d->message);
        else
            fprintf(stderr, "%s:%d:%d: %serror:%s %s\n", file ? file : "?", d->pos.line, d->pos.col,
                    red, reset, d->message);
    }
    if (diags->more)
        fprintf(stderr, "%s: ... and %zu more problem%s\n", file ? file : "?", diags->more,
                diags->more == 1 ? "" : "s");
    free(file);
}

int rdsbk_cli_load_topology(struct rdsbk_topology **out, const struct rdsbk_cli_args *args) {
    struct rdsbk_diagnostics diags;
    int rc = rdsbk_topology_load(out, &diags, args->file);

    s_print_diagnostics(&diags, args);
    if (rc && diags.count == 0)
        rdsbk_cli_print_error(args);
    rdsbk_diagnostics_clean_up(&diags);
    return rc;
}

/* backup.organization: true: its id from AWS (rdsbk_cli_load_topology_aws). */
static int s_resolve_organization(struct rdsbk_topology *topo, const struct rdsbk_cli_args *args) {
    struct rdsbk_http *http = NULL;
    struct rdsbk_client_set *set = NULL;
    struct rdsbk_client *client;
    int rc;

    if (!topo->backup.organization || topo->backup.organization_id)
        return 0;
    RDSBK_TRY(rdsbk_http_new(&http, NULL));
    RDSBK_TRY(rdsbk_client_set_new(&set, topo, http, NULL, NULL));
    RDSBK_TRY(rdsbk_client_set_get(&client, set, topo->backup.account, topo->backup.region));
    RDSBK_TRY(rdsbk_organizations_id(&topo->backup.organization_id, client));
    rdsbk_log_verbose("backup.organization: the backup account %s is in organisation %s",
                      topo->backup.account, topo->backup.organization_id);

cleanup:
    if (rc)
        rdsbk_cli_print_error(args);
    rdsbk_client_set_free(set);
    rdsbk_http_free(http);
    return rc;
}

int rdsbk_cli_load_topology_aws(struct rdsbk_topology **out, const struct rdsbk_cli_args *args) {
    int rc = rdsbk_cli_load_topology(out, args);

    if (rc == 0 && (rc = s_resolve_organization(*out, args)) != 0) {
        rdsbk_topology_free(*out);
        *out = NULL;
    }
    return rc;
}

int rdsbk_cli_offline_organization(const struct rdsbk_topology *topo,
                                   const struct rdsbk_cli_args *args, const char *what) {
    if (!topo->backup.organization || topo->backup.organization_id)
        return 0;
    rdsbk_error_set(RDSBK_EINVALID,
                    "%s: backup.organization: true is read from AWS (organizations:"
                    "DescribeOrganization) by plan, apply, destroy, status and drill; %s calls "
                    "no AWS: set backup.organization_id",
                    topo->path, what);
    rdsbk_cli_print_error(args);
    return RDSBK_EINVALID;
}

void rdsbk_cli_print_error(const struct rdsbk_cli_args *args) {
    const struct rdsbk_error *e = rdsbk_error_last();
    (void)args;

    fprintf(stderr, "rdsbk-provision: error: %s", e->message[0] ? e->message : "unknown error");
    if (e->aws_code[0])
        fprintf(stderr, " (%s%s%s)", e->aws_code, e->request_id[0] ? ", request id " : "",
                e->request_id);
    fputc('\n', stderr);
}

int rdsbk_cli_main(int argc, char **argv) {
    const struct rdsbk_cli_command *cmd;
    int rc;

    if (argc < 2) {
        s_print_main_help(stderr);
        return 1;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        s_print_main_help(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0)
        return rdsbk_cmd_version.run(&rdsbk_cmd_version, 1, argv + 1);
    cmd = s_lookup(argv[1]);
    if (!cmd) {
        fprintf(stderr,
                "rdsbk-provision: unknown command '%s'\n"
                "Try 'rdsbk-provision help' for the list of commands.\n",
                argv[1]);
        return 1;
    }
    rc = cmd->run(cmd, argc - 1, argv + 1);
    /* Only 0, 1 and (plan --detailed-exitcode) 2 leave the process. */
    return rc == 0 || rc == 2 ? rc : 1;
}
