/*
 * rdsbk-provision drill: push system snapshots through the pipeline, hop by hop, optionally
 * restore the backup copy; SIGINT/SIGTERM stop it but never skip its cleanup.
 */
#include "commands.h"
#include "rdsbk/drill.h"
#include "rdsbk/json_util.h"
#include "rdsbk/error.h"
#include "rdsbk/str.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    S_OPT_SNAPSHOT = 1,
    S_OPT_TIMEOUT,
    S_OPT_RESTORE_TEST,
    S_OPT_CLEANUP,
    S_OPT_INSTANCE_CLASS,
    S_OPT_SUBNET_GROUP
};

static const struct rdsbk_cli_option s_options[] = {
    {"snapshot", 0, "ID",
     "drill this system snapshot (identifier or ARN) instead of the newest ones", S_OPT_SNAPSHOT},
    {"timeout", 0, "DURATION", "give up following the hops after this long (default 30m)",
     S_OPT_TIMEOUT},
    {"restore-test", 0, NULL,
     "restore each backup copy into a temporary instance, wait until available, delete it",
     S_OPT_RESTORE_TEST},
    {"instance-class", 0, "CLASS", "class of the temporary instance (default db.t3.micro)",
     S_OPT_INSTANCE_CLASS},
    {"db-subnet-group", 0, "NAME",
     "DB subnet group of the temporary instance (default: the default VPC)", S_OPT_SUBNET_GROUP},
    {"cleanup", 0, NULL, "delete the Region-B copies this drill made (both accounts)",
     S_OPT_CLEANUP},
    {NULL, 0, NULL, NULL, 0}};

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig) {
    (void)sig;
    if (s_stop < 100)
        s_stop++;
}

static int s_option(int id, const char *value, void *payload) {
    struct rdsbk_drill_options *o = payload;

    switch (id) {
    case S_OPT_SNAPSHOT:
        o->snapshot_id = value;
        return 0;
    case S_OPT_TIMEOUT:
        if (rdsbk_duration_parse(&o->timeout_s, value)) {
            fprintf(stderr, "rdsbk-provision drill: --timeout: %s\n", rdsbk_error_last()->message);
            return RDSBK_EUSAGE;
        }
        return 0;
    case S_OPT_RESTORE_TEST:
        o->restore_test = true;
        return 0;
    case S_OPT_CLEANUP:
        o->cleanup = true;
        return 0;
    case S_OPT_INSTANCE_CLASS:
        o->instance_class = value;
        return 0;
    case S_OPT_SUBNET_GROUP:
        o->subnet_group = value;
        return 0;
    default:
        return 0;
    }
}

struct s_output {
    FILE *out;
};

static void s_progress(const char *line, void *payload) {
    struct s_output *o = payload;
    fprintf(o->out, "  %s\n", line);
    fflush(o->out);
}

static const char *s_kind(enum rdsbk_db_kind kind) {
    return kind == RDSBK_DB_CLUSTER ? "cluster" : "instance";
}

/* ---- text --------------------------------------------------------------------------------- */

#define S_COLS 8

static void s_hop_cell(char *out, size_t n, const struct rdsbk_drill_hop *h) {
    if (h->result == RDSBK_DRILL_OK)
        snprintf(out, n, "%.1fs%s", h->seconds, h->existed ? "*" : "");
    else
        snprintf(out, n, "%s", rdsbk_drill_result_name(h->result));
}

static void s_print_table(const struct rdsbk_drill_report *r, bool restore, bool color) {
    static const char *const head[S_COLS] = {"DATABASE", "SNAPSHOT",    "INVOKE", "REGION-COPY",
                                             "SHARED",   "BACKUP-COPY", "TOTAL",  "RESTORE"};
    char(*cells)[S_COLS][128] = calloc(r->n_targets ? r->n_targets : 1, sizeof(*cells));
    size_t width[S_COLS];
    bool existed = false;
    int cols = restore ? S_COLS : S_COLS - 1;

    if (!cells)
        return;
    for (int c = 0; c < S_COLS; c++)
        width[c] = strlen(head[c]);
    for (size_t i = 0; i < r->n_targets; i++) {
        const struct rdsbk_drill_target *t = &r->targets[i];
        const struct rdsbk_drill_restore *rs = &t->restore;

        rdsbk_str_escape_terminal(cells[i][0], 128, t->database);
        rdsbk_str_escape_terminal(cells[i][1], 128, t->snapshot_id ? t->snapshot_id : "(none)");
        for (int h = 0; h < RDSBK_HOP_COUNT; h++) {
            s_hop_cell(cells[i][2 + h], 128, &t->hops[h]);
            existed |= t->hops[h].existed;
        }
        snprintf(cells[i][6], 128, "%.1fs", t->total_s);
        if (rs->result == RDSBK_DRILL_OK)
            snprintf(cells[i][7], 128, "%.1fs, %s", rs->seconds,
                     rs->deleted ? "deleted" : "NOT DELETED");
        else
            snprintf(cells[i][7], 128, "%s%s%s", rdsbk_drill_result_name(rs->result),
                     rs->instance_id && !rs->deleted ? ", NOT DELETED" : "",
                     rs->instance_id && rs->deleted ? ", deleted" : "");
        for (int c = 0; c < S_COLS; c++)
            if (strlen(cells[i][c]) > width[c])
                width[c] = strlen(cells[i][c]);
    }
    printf("\n");
    for (int c = 0; c < cols; c++)
        printf("%s%-*s", c ? "  " : "", c == cols - 1 ? 0 : (int)width[c], head[c]);
    putchar('\n');
    for (size_t i = 0; i < r->n_targets; i++) {
        for (int c = 0; c < cols; c++)
            printf("%s%-*s", c ? "  " : "", c == cols - 1 ? 0 : (int)width[c], cells[i][c]);
        putchar('\n');
    }
    for (size_t i = 0; i < r->n_targets; i++) {
        const struct rdsbk_drill_target *t = &r->targets[i];
        char db[256];
        char text[1024]; /* AWS's messages, escaped for the terminal */

        rdsbk_str_escape_terminal(db, sizeof(db), t->database);
        if (t->error)
            printf("%s: %s\n", db, rdsbk_str_escape_terminal(text, sizeof(text), t->error));
        for (int h = 0; h < RDSBK_HOP_COUNT; h++)
            if (t->hops[h].message)
                printf("%s: %s: %s\n", db, rdsbk_drill_hop_name(h),
                       rdsbk_str_escape_terminal(text, sizeof(text), t->hops[h].message));
        if (t->restore.message && restore)
            printf("%s: restore: %s\n", db,
                   rdsbk_str_escape_terminal(text, sizeof(text), t->restore.message));
        if (t->cleaned_region_copy || t->cleaned_backup_copy)
            printf("%s: cleanup deleted%s%s%s\n", db,
                   t->cleaned_region_copy ? " the Region-B copy" : "",
                   t->cleaned_region_copy && t->cleaned_backup_copy ? " and" : "",
                   t->cleaned_backup_copy ? " the backup copy" : "");
    }
    if (existed)
        printf("* was there before this drill (an earlier run or the pipeline itself made it)\n");
    printf("\n%s%s%s in %.1fs (drill %s).\n", color ? (r->ok ? "\033[32m" : "\033[1;31m") : "",
           r->ok ? "Drill passed" : "Drill FAILED", color ? "\033[0m" : "", r->total_s,
           r->drill_id);
    free(cells);
}

/* A restored instance left behind: impossible to miss, with the command that removes it. */
static void s_print_leftovers(const struct rdsbk_drill_report *r,
                              const struct rdsbk_topology *topo) {
    bool tty = isatty(STDERR_FILENO) != 0;

    for (size_t i = 0; i < r->n_targets; i++) {
        const struct rdsbk_drill_restore *rs = &r->targets[i].restore;
        if (!rs->instance_id || rs->deleted)
            continue;
        fprintf(stderr,
                "%s!!! LEFTOVER: the drill's DB instance %s in %s/%s was NOT deleted (%s).\n"
                "!!! It is tagged rdsbk:drill=%s and rdsbk:stack=%s. Delete it with:\n"
                "!!!   aws rds delete-db-instance --region %s%s%s "
                "--db-instance-identifier %s --skip-final-snapshot --delete-automated-backups%s\n",
                tty ? "\033[1m" : "", rs->instance_id, r->backup_account, r->backup_region,
                rs->message ? rs->message : "unknown reason", r->drill_id, r->stack,
                r->backup_region, topo->backup.profile ? " --profile " : "",
                topo->backup.profile ? topo->backup.profile : "", rs->instance_id,
                tty ? "\033[0m" : "");
    }
}

/* ---- JSON --------------------------------------------------------------------------------- */

static char *s_json(const struct rdsbk_drill_report *r) {
    cJSON *root = cJSON_CreateObject();
    cJSON *dbs;
    char *text;

    cJSON_AddStringToObject(root, "drill_id", r->drill_id);
    cJSON_AddStringToObject(root, "stack", r->stack);
    cJSON_AddStringToObject(root, "copy_function", r->copy_function);
    cJSON_AddStringToObject(root, "backup_account", r->backup_account);
    cJSON_AddStringToObject(root, "backup_region", r->backup_region);
    cJSON_AddBoolToObject(root, "ok", r->ok);
    cJSON_AddNumberToObject(root, "total_s", r->total_s);
    cJSON_AddBoolToObject(root, "leftover", r->leftover);
    dbs = cJSON_AddArrayToObject(root, "databases");
    for (size_t i = 0; i < r->n_targets; i++) {
        const struct rdsbk_drill_target *t = &r->targets[i];
        cJSON *o = cJSON_CreateObject();
        cJSON *hops = cJSON_AddArrayToObject(o, "hops");
        cJSON *restore = cJSON_AddObjectToObject(o, "restore");
        cJSON *cleanup = cJSON_AddObjectToObject(o, "cleanup");

        cJSON_AddStringToObject(o, "source_account", t->account);
        cJSON_AddStringToObject(o, "source_region", t->source_region);
        cJSON_AddStringToObject(o, "database", t->database);
        cJSON_AddStringToObject(o, "kind", s_kind(t->kind));
        (void)rdsbk_json_add_str_or_null(o, "snapshot", t->snapshot_id);
        (void)rdsbk_json_add_str_or_null(o, "snapshot_arn", t->snapshot_arn);
        (void)rdsbk_json_add_str_or_null(o, "region_copy", t->region_copy_id);
        (void)rdsbk_json_add_str_or_null(o, "backup_copy", t->backup_copy_id);
        (void)rdsbk_json_add_str_or_null(o, "error", t->error);
        for (int h = 0; h < RDSBK_HOP_COUNT; h++) {
            cJSON *hop = cJSON_CreateObject();
            cJSON_AddStringToObject(hop, "name", rdsbk_drill_hop_name(h));
            cJSON_AddStringToObject(hop, "result", rdsbk_drill_result_name(t->hops[h].result));
            cJSON_AddNumberToObject(hop, "seconds", t->hops[h].seconds);
            cJSON_AddBoolToObject(hop, "existed", t->hops[h].existed);
            (void)rdsbk_json_add_str_or_null(hop, "message", t->hops[h].message);
            cJSON_AddItemToArray(hops, hop);
        }
        cJSON_AddNumberToObject(o, "total_s", t->total_s);
        cJSON_AddStringToObject(restore, "result", rdsbk_drill_result_name(t->restore.result));
        (void)rdsbk_json_add_str_or_null(restore, "instance", t->restore.instance_id);
        cJSON_AddNumberToObject(restore, "seconds", t->restore.seconds);
        cJSON_AddBoolToObject(restore, "deleted", t->restore.deleted);
        (void)rdsbk_json_add_str_or_null(restore, "message", t->restore.message);
        cJSON_AddBoolToObject(cleanup, "region_copy", t->cleaned_region_copy);
        cJSON_AddBoolToObject(cleanup, "backup_copy", t->cleaned_backup_copy);
        cJSON_AddItemToArray(dbs, o);
    }
    text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}

/* ---- run ---------------------------------------------------------------------------------- */

static int s_run(const struct rdsbk_cli_command *cmd, int argc, char **argv) {
    struct rdsbk_cli_args args;
    int start;
    struct rdsbk_drill_options o;
    struct s_output output;
    struct sigaction sa;
    struct sigaction old_int;
    struct sigaction old_term;
    struct rdsbk_topology *topo = NULL;
    struct rdsbk_drill_report *report = NULL;
    char *text = NULL;
    bool handlers = false;
    int status = 1;

    memset(&o, 0, sizeof(o));
    start = rdsbk_cli_start(&args, cmd, argc, argv, s_option, &o);
    if (start != RDSBK_CLI_GO)
        return start;
    if (rdsbk_cli_load_topology_aws(&topo, &args))
        return 1;

    /* Ctrl-C / SIGTERM only set a flag: the drill stops waiting and still cleans up. */
    s_stop = 0;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    handlers = true;

    output.out = args.json ? stderr : stdout;
    o.stop = &s_stop;
    o.progress = s_progress;
    o.payload = &output;
    if (!args.json)
        printf("Drill of stack %s: following each snapshot to %s/%s%s\n", topo->stack,
               topo->backup.account, topo->backup.region,
               o.restore_test ? ", then a restore test" : "");
    fflush(stdout);
    if (rdsbk_drill_run(&report, topo, &o)) {
        rdsbk_cli_print_error(&args);
        goto cleanup;
    }
    if (args.json) {
        text = s_json(report);
        if (text)
            printf("%s\n", text);
    } else {
        s_print_table(report, o.restore_test, args.color);
    }
    fflush(stdout);
    s_print_leftovers(report, topo);
    if (s_stop)
        fprintf(stderr, "rdsbk-provision drill: interrupted; cleanup done\n");
    status = report->ok ? 0 : 1;

cleanup:
    if (handlers) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    free(text);
    rdsbk_drill_report_free(report);
    rdsbk_topology_free(topo);
    return status;
}

const struct rdsbk_cli_command rdsbk_cmd_drill = {
    "drill",
    "Push snapshots through the pipeline and time every hop",
    "drill [-f FILE] [--snapshot ID] [--timeout DURATION] [--restore-test] [--cleanup]",
    "Takes the newest system snapshot of every configured database (or --snapshot ID), invokes\n"
    "the stack's copy function in Account-A/Region-B asynchronously with the event EventBridge\n"
    "forwards for it (RDS-EVENT-0091, or 0169 for a cluster), and follows the snapshot through\n"
    "each hop, polling with capped backoff: region-copy (the copy in Account-A/Region-B is\n"
    "available), shared (its restore attribute names the backup account), backup-copy (the copy\n"
    "in Account-B/Region-B is available). Prints each hop's duration and the total. Copies that\n"
    "already exist are reported as such (*) and not made twice; a Region-B copy that exists but\n"
    "never reached the backup account gets its share step re-driven (RDS-EVENT-0060 to the share\n"
    "function), so a drill of a snapshot missed while the pipeline was broken also repairs it.\n"
    "--restore-test then restores each backup copy into a temporary instance\n"
    "rdsbk-<stack>-drill-<id> (tagged rdsbk:drill and rdsbk:stack; db.t3.micro or\n"
    "--instance-class; the default VPC or --db-subnet-group; not publicly accessible), waits\n"
    "until it is available and deletes it without a final snapshot: always, also after a\n"
    "failure, a timeout or Ctrl-C (a second Ctrl-C abandons waiting; an instance that could not\n"
    "be deleted is printed in bold with the command that deletes it). Aurora cluster copies are\n"
    "followed but not restored (skipped).\n"
    "--timeout bounds following the hops, and again the restore (default 30m). --cleanup\n"
    "deletes the Region-B copies this drill made (not those that were there before).\n"
    "Exit status 0 only when every hop, and every restore asked for, succeeded.\n"
    "--json prints {drill_id, stack, copy_function, backup_account, backup_region, ok, total_s,\n"
    "leftover, databases: [{source_account, source_region, database, kind, snapshot, region_copy,\n"
    "backup_copy, error, hops: [{name, result, seconds, existed, message}], total_s, restore:\n"
    "{result, instance, seconds, deleted, message}, cleanup: {region_copy, backup_copy}}]};\n"
    "progress goes to standard error then.",
    RDSBK_CLI_FILE | RDSBK_CLI_JSON | RDSBK_CLI_OUTPUT,
    s_options,
    0,
    s_run,
    NULL};
