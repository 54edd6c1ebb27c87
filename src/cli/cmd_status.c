/*
 * rdsbk-provision status: where the newest copy of every database is, as a table or JSON;
 * --max-age makes it a monitoring check (exit 1 when a backup copy is older or missing).
 */
#include "commands.h"
#include "rdsbk/drill.h"
#include "rdsbk/json_util.h"
#include "rdsbk/error.h"
#include "rdsbk/log.h"
#include "rdsbk/str.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How a time is shown: ISO 8601 (the JSON form), to the second, to the minute; all UTC. */
enum s_time_form { S_ISO, S_SECONDS, S_MINUTES };

/* `t` as `form` says, into `out`. */
static void s_utc(char out[32], time_t t, enum s_time_form form) {
    struct tm tm;

    gmtime_r(&t, &tm);
    if (form == S_ISO)
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    else if (form == S_SECONDS)
        strftime(out, 32, "%Y-%m-%d %H:%M:%S UTC", &tm);
    else
        strftime(out, 32, "%Y-%m-%d %H:%M", &tm);
}

enum { S_OPT_MAX_AGE = 1 };

static const struct rdsbk_cli_option s_options[] = {
    {"max-age", 0, "DURATION",
     "exit 1 when a database's newest backup copy is older than this, or missing (26h, 90m, 2d)",
     S_OPT_MAX_AGE},
    {NULL, 0, NULL, NULL, 0}};

struct s_opts {
    long long max_age_s; /* 0: not asked */
};

static int s_option(int id, const char *value, void *payload) {
    struct s_opts *o = payload;

    if (id == S_OPT_MAX_AGE && rdsbk_duration_parse(&o->max_age_s, value)) {
        fprintf(stderr, "rdsbk-provision status: --max-age: %s\n", rdsbk_error_last()->message);
        return RDSBK_EUSAGE;
    }
    return 0;
}

static const char *s_kind(enum rdsbk_db_kind kind) {
    return kind == RDSBK_DB_CLUSTER ? "cluster" : "instance";
}

/* ---- text --------------------------------------------------------------------------------- */

#define S_COLS 9

static void s_age(char *out, size_t n, const struct rdsbk_status_snapshot *s, time_t now) {
    if (!s->id)
        snprintf(out, n, "-");
    else
        rdsbk_duration_format(out, n, (long long)(now - s->create_time));
}

/* A copy's cell: its age, and its status unless it is available. */
static void s_copy_cell(char *cell, size_t size, const struct rdsbk_status_snapshot *copy,
                        time_t now) {
    char age[16];
    bool pending = copy->id && strcmp(copy->status, "available") != 0;

    s_age(age, sizeof(age), copy, now);
    snprintf(cell, size, "%s%s%s", age, pending ? " " : "", pending ? copy->status : "");
}

static void s_print_table(const struct rdsbk_status_report *r, long long max_age_s, bool color) {
    static const char *const head[S_COLS] = {"SOURCE",          "DATABASE", "KIND",
                                             "SYSTEM SNAPSHOT", "AGE",      "REGION-B COPY",
                                             "BACKUP COPY",     "LAG",      "STATE"};
    char(*cells)[S_COLS][96] = calloc(r->n_rows ? r->n_rows : 1, sizeof(*cells));
    size_t width[S_COLS];
    size_t stale = 0;
    char max_age[16];

    if (!cells) {
        fprintf(stderr, "rdsbk-provision: error: out of memory\n");
        return;
    }
    for (int c = 0; c < S_COLS; c++)
        width[c] = strlen(head[c]);
    for (size_t i = 0; i < r->n_rows; i++) {
        const struct rdsbk_status_row *row = &r->rows[i];
        bool fresh = rdsbk_status_row_fresh(row, r->now, max_age_s);

        snprintf(cells[i][0], 96, "%s/%s", row->account, row->region);
        rdsbk_str_escape_terminal(cells[i][1], 96, row->database); /* AWS's, for patterns */
        snprintf(cells[i][2], 96, "%s", s_kind(row->kind));
        rdsbk_str_escape_terminal(cells[i][3], 96, row->source.id ? row->source.id : "(none)");
        s_age(cells[i][4], 96, &row->source, r->now);
        s_copy_cell(cells[i][5], 96, &row->region_copy, r->now);
        s_copy_cell(cells[i][6], 96, &row->backup_copy, r->now);
        rdsbk_duration_format(cells[i][7], 96, row->lag_s);
        snprintf(cells[i][8], 96, "%s%s", row->state,
                 max_age_s > 0 && !fresh && row->backup_available_time ? " (stale)" : "");
        if (max_age_s > 0 && !fresh)
            stale++;
        for (int c = 0; c < S_COLS; c++)
            if (strlen(cells[i][c]) > width[c])
                width[c] = strlen(cells[i][c]);
    }
    {
        char when[32];
        s_utc(when, r->now, S_SECONDS);
        printf("Stack %s, backup account %s/%s, %s\n\n", r->stack, r->backup_account,
               r->backup_region, when);
    }
    for (int c = 0; c < S_COLS; c++)
        printf("%s%-*s", c ? "  " : "", c == S_COLS - 1 ? 0 : (int)width[c], head[c]);
    putchar('\n');
    for (size_t i = 0; i < r->n_rows; i++) {
        const struct rdsbk_status_row *row = &r->rows[i];
        bool good = strcmp(row->state, "ok") == 0 && rdsbk_status_row_fresh(row, r->now, max_age_s);
        const char *on = !color ? "" : good ? "\033[32m" : "\033[1;31m";
        const char *off = color ? "\033[0m" : "";

        for (int c = 0; c < S_COLS - 1; c++)
            printf("%s%-*s", c ? "  " : "", (int)width[c], cells[i][c]);
        printf("  %s%s%s\n", on, cells[i][S_COLS - 1], off);
    }
    printf("\n%zu database%s; LAG: system snapshot to backup copy (or, while none, how long the "
           "newest has waited).\n",
           r->n_rows, r->n_rows == 1 ? "" : "s");
    if (max_age_s > 0) {
        rdsbk_duration_format(max_age, sizeof(max_age), max_age_s);
        if (stale)
            printf("%s%zu database%s without an available backup copy younger than %s.%s\n",
                   color ? "\033[1;31m" : "", stale, stale == 1 ? "" : "s", max_age,
                   color ? "\033[0m" : "");
        else
            printf("Every database has an available backup copy younger than %s.\n", max_age);
    }
    free(cells);
}

/* ---- quotas ------------------------------------------------------------------------------- */

/* The setting that bounds how many copies a place keeps. */
static const char *s_retention_of(const struct rdsbk_status_quota *q) {
    return q->backup ? "retention.backup_days" : "retention.intermediate_days";
}

/* One line of the quotas section: used / max and the share of the maximum, or why it is
 * unknown. */
static void s_print_quota(const struct rdsbk_status_quota *q, int width, bool color) {
    bool high = rdsbk_status_quota_high(q);
    const char *on = color && high ? "\033[1;31m" : "";
    const char *off = color && high ? "\033[0m" : "";
    char place[RDSBK_ACCOUNT_LEN + 64];

    snprintf(place, sizeof(place), "%s/%s", q->account, q->region);
    if (q->error) {
        char error[1024];
        printf("%-*s  %-22s  unknown: %s\n", width, place, q->name,
               rdsbk_str_escape_terminal(error, sizeof(error), q->error)); /* AWS's words */
        return;
    }
    printf("%-*s  %-22s  %6lld / %-6lld  %s%3d%%%s\n", width, place, q->name, q->used, q->max, on,
           rdsbk_status_quota_percent(q), off);
}

static void s_print_quotas(const struct rdsbk_status_report *r, bool color) {
    int width = (int)strlen("ACCOUNT/REGION");

    for (size_t i = 0; i < r->n_quotas; i++) {
        int w = (int)(strlen(r->quotas[i].account) + 1 + strlen(r->quotas[i].region));
        if (w > width)
            width = w;
    }
    printf("\nManual snapshot quotas where the copies are kept (RDS DescribeAccountAttributes):\n");
    printf("%-*s  %-22s  %s  %s\n", width, "ACCOUNT/REGION", "QUOTA", "  USED / MAX   ", " USE");
    for (size_t i = 0; i < r->n_quotas; i++)
        s_print_quota(&r->quotas[i], width, color);
}

/* ---- OU sources ----------------------------------------------------------------------------- */

/* Whether the pipeline is in place in the account and Region of `in`. */
static bool s_instance_ok(const struct rdsbk_status_instance *in) {
    return strcmp(in->detailed_status, "SUCCEEDED") == 0 && strcmp(in->status, "CURRENT") == 0;
}

/* The StackSet instances of the OU sources: where CloudFormation put the pipeline. */
static void s_print_instances(const struct rdsbk_status_report *r, bool color) {
    const char *ou = NULL;

    for (size_t i = 0; i < r->n_instances; i++) {
        const struct rdsbk_status_instance *in = &r->instances[i];
        bool ok = s_instance_ok(in);
        char reason[600];
        char unread[600];

        if (!ou || strcmp(ou, in->ou) != 0) {
            ou = in->ou;
            printf("\nThe pipeline in the accounts of %s (StackSet %s):\n", in->ou, in->stack_set);
            printf("%-12s  %-14s  %-10s  %-10s  %s\n", "ACCOUNT", "REGION", "STATUS", "DETAIL",
                   "REASON");
        }
        rdsbk_str_escape_terminal(reason, sizeof(reason), in->reason);
        rdsbk_str_escape_terminal(unread, sizeof(unread), in->read_error ? in->read_error : "");
        printf("%s%-12s  %-14s  %-10s  %-10s  %s%s%s%s\n", color && !ok ? "[1;31m" : "",
               in->account, in->region, in->status, in->detailed_status, reason,
               in->read_error ? "databases not read: " : "", unread, color && !ok ? "[0m" : "");
    }
}

/* ---- failures ----------------------------------------------------------------------------- */

/* The failures the functions logged, newest first, one line each; a failure followed by an
 * available backup copy of its database is marked resolved. */
static void s_print_failures(const struct rdsbk_status_report *r, bool color) {
    size_t open = 0;

    /* like a quota the account refuses to show: unknown, and why */
    for (size_t i = 0; i < r->n_unread; i++) {
        char error[600];

        rdsbk_str_escape_terminal(error, sizeof(error), r->unread[i].error);
        printf("\nFailures logged in %s of account %s: unknown: %s (reading them needs "
               "logs:FilterLogEvents)",
               r->unread[i].log_group, r->unread[i].account, error);
    }
    if (r->n_unread)
        putchar('\n');
    if (r->n_failures == 0) {
        printf("\nNo failures logged by the pipeline's functions in the last %d days.\n",
               RDSBK_STATUS_FAILURE_DAYS);
        return;
    }
    printf("\nFailures logged by the pipeline's functions in the last %d days, newest first (the "
           "last of each hop and database):\n",
           RDSBK_STATUS_FAILURE_DAYS);
    printf("%-16s  %-11s  %-12s  %-24s  %s\n", "TIME (UTC)", "HOP", "ACCOUNT", "DATABASE", "ERROR");
    for (size_t i = 0; i < r->n_failures; i++) {
        const struct rdsbk_status_failure *f = &r->failures[i];
        const char *on = !color ? "" : f->resolved ? "\033[33m" : "\033[1;31m";
        char when[32];
        char times[24] = "";
        char hop[32];
        char db[96];
        char code[96];
        char message[600];

        s_utc(when, f->time, S_MINUTES);
        if (f->count > 1)
            snprintf(times, sizeof(times), " (%d times)", f->count);
        /* what a function logged is shown, never obeyed, by the terminal */
        rdsbk_str_escape_terminal(hop, sizeof(hop), f->hop);
        rdsbk_str_escape_terminal(db, sizeof(db), f->database ? f->database : "-");
        rdsbk_str_escape_terminal(code, sizeof(code), f->error_code ? f->error_code : "?");
        rdsbk_str_escape_terminal(message, sizeof(message), f->message);
        printf("%s%-16s  %-11s  %-12s  %-24s  %s: %s%s%s%s\n", on, when, hop, f->account, db, code,
               message, times, f->resolved ? " [resolved: a newer backup copy is available]" : "",
               color ? "\033[0m" : "");
        open += !f->resolved;
    }
    printf("%zu unresolved.\n", open);
}

/* A warning on standard error for every quota used to RDSBK_STATUS_QUOTA_WARN_PERCENT or more. */
static void s_warn_quotas(const struct rdsbk_status_report *r) {
    for (size_t i = 0; i < r->n_quotas; i++) {
        const struct rdsbk_status_quota *q = &r->quotas[i];

        if (rdsbk_status_quota_high(q))
            rdsbk_log_warn("%s of account %s in %s: %lld of %lld used (%d%%); at the quota the "
                           "pipeline's copies fail with SnapshotQuotaExceeded: request a higher "
                           "quota in Service Quotas (Amazon RDS) or lower %s",
                           q->name, q->account, q->region, q->used, q->max,
                           rdsbk_status_quota_percent(q), s_retention_of(q));
    }
}

/* A warning on standard error for every database whose system snapshots are encrypted with a
 * customer-managed key the source's kms_keys does not name, with the key-policy statement that
 * lets the copy role use it when the key's policy does not leave that to IAM. */
static void s_warn_source_keys(const struct rdsbk_status_report *r) {
    for (size_t i = 0; i < r->n_rows; i++) {
        const struct rdsbk_status_row *row = &r->rows[i];
        if (!row->undeclared_key)
            continue;
        rdsbk_log_warn("%s of account %s in %s: its snapshots are encrypted with the customer-"
                       "managed key %s, which sources[].kms_keys does not name, so the copy role "
                       "cannot read them: name it there, and unless the key's policy lets the "
                       "account's IAM policies grant its use, add to the key's policy "
                       "{\"Sid\": \"rdsbk-%s-copy\", \"Effect\": \"Allow\", \"Principal\": "
                       "{\"AWS\": \"arn:%s:iam::%s:role/rdsbk-%s-copy\"}, \"Action\": "
                       "[\"kms:Decrypt\", \"kms:DescribeKey\", \"kms:CreateGrant\"], "
                       "\"Resource\": \"*\"}",
                       row->database, row->account, row->region, row->undeclared_key, r->stack,
                       rdsbk_region_partition(row->region), row->account, r->stack);
    }
}

/* A warning on standard error for every database whose newest backup copy is not encrypted: the
 * copies of an unencrypted Aurora cluster, which AWS cannot encrypt by copying them. */
static void s_warn_unencrypted(const struct rdsbk_status_report *r) {
    for (size_t i = 0; i < r->n_rows; i++) {
        const struct rdsbk_status_row *row = &r->rows[i];

        if (!row->backup_copy.id || row->backup_copy.encrypted)
            continue;
        rdsbk_log_warn("%s %s of account %s in %s: its backups are NOT encrypted, with the "
                       "stack's key or any other (newest backup copy %s)%s",
                       s_kind(row->kind), row->database, row->account, row->region,
                       row->backup_copy.id,
                       row->kind == RDSBK_DB_CLUSTER
                           ? ": the source cluster is unencrypted, and AWS cannot encrypt a DB "
                             "cluster snapshot by copying it; to fix, encrypt the cluster: "
                             "restore a snapshot of it into a new cluster with a KMS key "
                             "(RestoreDBClusterFromSnapshot with KmsKeyId) and back up that one"
                           : "");
    }
}

/* ---- JSON --------------------------------------------------------------------------------- */

/* {account, region, name, used, max}; an unknown quota has used and max null and an error. */
static cJSON *s_quota_json(const struct rdsbk_status_quota *q) {
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "account", q->account);
    cJSON_AddStringToObject(o, "region", q->region);
    cJSON_AddStringToObject(o, "name", q->name);
    if (q->error) {
        cJSON_AddNullToObject(o, "used");
        cJSON_AddNullToObject(o, "max");
        cJSON_AddStringToObject(o, "error", q->error);
    } else {
        cJSON_AddNumberToObject(o, "used", (double)q->used);
        cJSON_AddNumberToObject(o, "max", (double)q->max);
    }
    return o;
}

/* {id, status, created, age_s, encrypted}, or null when none was found. */
static cJSON *s_snapshot_json(const struct rdsbk_status_snapshot *s, time_t now) {
    cJSON *o;
    char when[32];

    if (!s->id)
        return cJSON_CreateNull();
    o = cJSON_CreateObject();
    s_utc(when, s->create_time, S_ISO);
    cJSON_AddStringToObject(o, "id", s->id);
    cJSON_AddStringToObject(o, "status", s->status);
    cJSON_AddStringToObject(o, "created", when);
    cJSON_AddNumberToObject(o, "age_s", (double)(now - s->create_time));
    cJSON_AddBoolToObject(o, "encrypted", s->encrypted);
    return o;
}

/* {time, hop, account, region, source_account, database, source, error_code, message, count,
 * resolved} */
static cJSON *s_failure_json(const struct rdsbk_status_failure *f) {
    cJSON *o = cJSON_CreateObject();
    char when[32];

    s_utc(when, f->time, S_ISO);
    cJSON_AddStringToObject(o, "time", when);
    cJSON_AddStringToObject(o, "hop", f->hop);
    cJSON_AddStringToObject(o, "account", f->account);
    cJSON_AddStringToObject(o, "region", f->region);
    cJSON_AddStringToObject(o, "source_account", f->source_account);
    cJSON_AddItemToObject(o, "database",
                          f->database ? cJSON_CreateString(f->database) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "source",
                          f->source ? cJSON_CreateString(f->source) : cJSON_CreateNull());
    cJSON_AddStringToObject(o, "error_code", f->error_code ? f->error_code : "");
    cJSON_AddStringToObject(o, "message", f->message ? f->message : "");
    cJSON_AddNumberToObject(o, "count", f->count);
    cJSON_AddBoolToObject(o, "resolved", f->resolved);
    return o;
}

static char *s_json(const struct rdsbk_status_report *r, long long max_age_s, bool ok) {
    cJSON *root = cJSON_CreateObject();
    cJSON *rows = cJSON_AddArrayToObject(root, "databases");
    cJSON *quotas;
    cJSON *failures;
    cJSON *unread;
    cJSON *instances;
    char *text;

    cJSON_AddStringToObject(root, "stack", r->stack);
    cJSON_AddStringToObject(root, "backup_account", r->backup_account);
    cJSON_AddStringToObject(root, "backup_region", r->backup_region);
    cJSON_AddNumberToObject(root, "now", (double)r->now);
    if (max_age_s > 0)
        cJSON_AddNumberToObject(root, "max_age_s", (double)max_age_s);
    else
        cJSON_AddNullToObject(root, "max_age_s");
    for (size_t i = 0; i < r->n_rows; i++) {
        const struct rdsbk_status_row *row = &r->rows[i];
        cJSON *o = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "source_account", row->account);
        cJSON_AddStringToObject(o, "source_region", row->region);
        cJSON_AddStringToObject(o, "database", row->database);
        cJSON_AddStringToObject(o, "kind", s_kind(row->kind));
        cJSON_AddItemToObject(o, "system_snapshot", s_snapshot_json(&row->source, r->now));
        cJSON_AddItemToObject(o, "region_copy", s_snapshot_json(&row->region_copy, r->now));
        cJSON_AddItemToObject(o, "backup_copy", s_snapshot_json(&row->backup_copy, r->now));
        if (row->lag_s >= 0)
            cJSON_AddNumberToObject(o, "lag_s", (double)row->lag_s);
        else
            cJSON_AddNullToObject(o, "lag_s");
        cJSON_AddStringToObject(o, "state", row->state);
        cJSON_AddBoolToObject(o, "fresh", rdsbk_status_row_fresh(row, r->now, max_age_s));
        (void)rdsbk_json_add_str_or_null(o, "undeclared_source_key", row->undeclared_key);
        cJSON_AddItemToArray(rows, o);
    }
    quotas = cJSON_AddArrayToObject(root, "quotas");
    for (size_t i = 0; i < r->n_quotas; i++)
        cJSON_AddItemToArray(quotas, s_quota_json(&r->quotas[i]));
    failures = cJSON_AddArrayToObject(root, "failures");
    for (size_t i = 0; i < r->n_failures; i++)
        cJSON_AddItemToArray(failures, s_failure_json(&r->failures[i]));
    instances = cJSON_AddArrayToObject(root, "stack_instances");
    for (size_t i = 0; i < r->n_instances; i++) {
        const struct rdsbk_status_instance *in = &r->instances[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "ou", in->ou);
        cJSON_AddStringToObject(o, "stack_set", in->stack_set);
        cJSON_AddStringToObject(o, "account", in->account);
        cJSON_AddStringToObject(o, "region", in->region);
        cJSON_AddStringToObject(o, "status", in->status);
        cJSON_AddStringToObject(o, "detailed_status", in->detailed_status);
        cJSON_AddStringToObject(o, "reason", in->reason);
        (void)rdsbk_json_add_str_or_null(o, "read_error", in->read_error);
        cJSON_AddItemToArray(instances, o);
    }
    unread = cJSON_AddArrayToObject(root, "failures_unread");
    for (size_t i = 0; i < r->n_unread; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "account", r->unread[i].account);
        cJSON_AddStringToObject(o, "log_group", r->unread[i].log_group);
        cJSON_AddStringToObject(o, "error", r->unread[i].error);
        cJSON_AddItemToArray(unread, o);
    }
    cJSON_AddBoolToObject(root, "ok", ok);
    text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}

static int s_run(const struct rdsbk_cli_command *cmd, int argc, char **argv) {
    struct rdsbk_cli_args args;
    int start;
    struct s_opts o = {0};
    struct rdsbk_topology *topo = NULL;
    struct rdsbk_status_report *report = NULL;
    char *text = NULL;
    bool ok = true;
    int status = 1;

    start = rdsbk_cli_start(&args, cmd, argc, argv, s_option, &o);
    if (start != RDSBK_CLI_GO)
        return start;
    if (rdsbk_cli_load_topology_aws(&topo, &args))
        return 1;
    if (rdsbk_status_collect(&report, topo)) {
        rdsbk_cli_print_error(&args);
        goto cleanup;
    }
    if (o.max_age_s > 0) {
        for (size_t i = 0; i < report->n_rows; i++)
            ok &= rdsbk_status_row_fresh(&report->rows[i], report->now, o.max_age_s);
        /* an account of an OU the pipeline did not reach backs nothing up */
        for (size_t i = 0; i < report->n_instances; i++)
            ok &= s_instance_ok(&report->instances[i]);
    }
    if (args.json) {
        text = s_json(report, o.max_age_s, ok);
        if (!text) {
            fprintf(stderr, "rdsbk-provision: error: out of memory\n");
            goto cleanup;
        }
        printf("%s\n", text);
    } else {
        s_print_table(report, o.max_age_s, args.color);
        s_print_instances(report, args.color);
        s_print_quotas(report, args.color);
        s_print_failures(report, args.color);
    }
    s_warn_quotas(report);
    s_warn_unencrypted(report);
    s_warn_source_keys(report);
    status = ok ? 0 : 1;

cleanup:
    free(text);
    rdsbk_status_report_free(report);
    rdsbk_topology_free(topo);
    return status;
}

const struct rdsbk_cli_command rdsbk_cmd_status = {
    "status",
    "Show the newest copy of every database at each hop",
    "status [-f FILE] [--max-age DURATION] [--json]",
    "For every database of every source (instances and clusters; a pattern ending in '*' stands\n"
    "for every database with that prefix found among Region-A's automated snapshots) shows the\n"
    "newest system snapshot in Account-A/Region-A, the newest copy in Account-A/Region-B and the\n"
    "newest copy in Account-B/Region-B, their ages, the lag between system snapshot and backup\n"
    "copy, and a state: ok, copying, behind (the newest snapshot has no backup copy yet),\n"
    "missing (no backup copy at all) or no-snapshot. Copies are recognised by the pipeline's\n"
    "names (<db>-<stamp> in Region-B, <db>-<stamp>-<account> in the backup account) and tags.\n"
    "Then the manual snapshot quotas (ManualSnapshots, ManualClusterSnapshots: used / max) of\n"
    "each source account and of the backup account in Region-B, where the copies are kept, with\n"
    "a warning on standard error for any used to 80% or more; a quota the account refuses to\n"
    "show is reported as unknown, with the reason. A database whose newest backup copy is not\n"
    "encrypted (an unencrypted Aurora cluster's: AWS cannot encrypt its snapshots by copying\n"
    "them) gets a warning on standard error too.\n"
    "Then the failures the pipeline's functions logged in the last 7 days (their error lines in\n"
    "CloudWatch Logs: copy and share in each source account, backup-copy in the backup account,\n"
    "Region-B), the newest of each hop and database with how often it happened, marked resolved\n"
    "when a backup copy of that database became available after it.\n"
    "For a source that names an OU: the instances of its StackSet (the pipeline in each account\n"
    "and Region of the OU, with CloudFormation's status), and with its member_role the databases\n"
    "and quotas of every such account, read through that role.\n"
    "Only reads; needs rds:Describe* (rds:DescribeDBSnapshots, rds:DescribeDBClusterSnapshots,\n"
    "rds:DescribeAccountAttributes) in every account, and logs:FilterLogEvents on the\n"
    "functions' log groups.\n"
    "--max-age DURATION (s, m, h, d: 26h, 90m, 2d) exits 1 when any database's newest available\n"
    "backup copy is older than that or missing, or any OU account's StackSet instance is not\n"
    "CURRENT and SUCCEEDED: a check for cron or CI monitoring.\n"
    "--json prints {stack, backup_account, backup_region, now, max_age_s, databases: [{\n"
    "source_account, source_region, database, kind, system_snapshot, region_copy, backup_copy\n"
    "({id, status, created, age_s, encrypted} or null), lag_s, state, fresh,\n"
    "undeclared_source_key (a customer-managed key not in sources[].kms_keys, or null)}],\n"
    "quotas: [{account, region, name, used, max}] (unknown: used and max null, and an error),\n"
    "failures: [{time, hop, account, region, source_account, database, source, error_code,\n"
    "message, count, resolved}], failures_unread: [{account, log_group, error}],\n"
    "stack_instances: [{ou, stack_set, account, region, status, detailed_status, reason,\n"
    "read_error}], ok}.",
    RDSBK_CLI_FILE | RDSBK_CLI_JSON | RDSBK_CLI_OUTPUT,
    s_options,
    0,
    s_run,
    NULL};
