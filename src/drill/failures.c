/*
 * status: the failures the pipeline recorded. Every function logs one JSON line per step, and a
 * failed step's line says "result": "error" with the hop ("action"), the database, what failed
 * ("source"), the AWS error code and message. The functions' log groups are therefore the record:
 * status reads the error lines of the last RDSBK_STATUS_FAILURE_DAYS with one FilterLogEvents per
 * group and keeps, per account, hop and database, the newest with a count.
 */
#include "drill_internal.h"
#include "rdsbk/error.h"
#include "rdsbk/json_util.h"
#include "rdsbk/services/logs.h"
#include "rdsbk/str.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_ERROR_LINES "{ $.result = \"error\" }"

/* A function's log group and the accounts that run it. */
struct s_group {
    const char *purpose; /* copy, share, backup-copy */
    bool backup;         /* in the backup account (else in each source account) */
};

static const struct s_group s_groups[] = {{"copy", false}, {"share", false}, {"backup-copy", true}};

static void s_failure_free(struct rdsbk_status_failure *f) {
    free(f->region);
    free(f->hop);
    free(f->database);
    free(f->source);
    free(f->error_code);
    free(f->message);
}

/* Whether `f` and the error line of `hop` about `database` (or, without one, `source`) in
 * `account` are the same failure. */
static bool s_same(const struct rdsbk_status_failure *f, const char *account, const char *hop,
                   const char *database, const char *source) {
    const char *a = f->database ? f->database : f->source;
    const char *b = database ? database : source;

    return strcmp(f->account, account) == 0 && strcmp(f->hop, hop) == 0 &&
           (f->database != NULL) == (database != NULL) && a && b && strcmp(a, b) == 0;
}

/* Fills `f` from the error line `line` of `account`, logged at `when`. */
static int s_fill(struct rdsbk_status_failure *f, const cJSON *line, const char *account,
                  const char *region, time_t when) {
    const char *source_account = rdsbk_json_str(line, "source_account");
    static const char *const names[] = {"action", "database", "source", "error_code", "message"};
    char **slots[] = {&f->hop, &f->database, &f->source, &f->error_code, &f->message};
    int rc = 0;

    s_failure_free(f);
    memset(f, 0, sizeof(*f));
    snprintf(f->account, sizeof(f->account), "%s", account);
    snprintf(f->source_account, sizeof(f->source_account), "%s",
             source_account ? source_account : account);
    f->time = when;
    for (size_t i = 0; rc == 0 && i < sizeof(slots) / sizeof(slots[0]); i++) {
        const char *value = rdsbk_json_str(line, names[i]);
        if (value)
            rc = rdsbk_strdup_into(slots[i], value);
    }
    return rc ? rc : rdsbk_strdup_into(&f->region, region);
}

/* Counts the error line `line` (the message of a log event at `when`) into r->failures. */
static int s_add_line(struct rdsbk_status_report *r, const cJSON *line, const char *account,
                      const char *region, time_t when) {
    const char *hop = rdsbk_json_str(line, "action");
    const char *database = rdsbk_json_str(line, "database");
    const char *source = rdsbk_json_str(line, "source");
    struct rdsbk_status_failure *grown;
    int count = 1;
    int rc;

    if (!hop || (!database && !source))
        return 0;
    for (size_t i = 0; i < r->n_failures; i++) {
        struct rdsbk_status_failure *f = &r->failures[i];
        if (!s_same(f, account, hop, database, source))
            continue;
        count = ++f->count;
        if (when < f->time)
            return 0;
        rc = s_fill(f, line, account, region, when);
        f->count = count;
        return rc;
    }
    grown = realloc(r->failures, (r->n_failures + 1) * sizeof(*grown));
    if (!grown)
        return rdsbk_error_oom();
    r->failures = grown;
    memset(&grown[r->n_failures], 0, sizeof(*grown));
    r->n_failures++;
    rc = s_fill(&grown[r->n_failures - 1], line, account, region, when);
    grown[r->n_failures - 1].count = count;
    return rc;
}

/* Notes that `group` of `account` could not be read, and why (the error last set). */
static int s_unread(struct rdsbk_status_report *r, const char *account, const char *group) {
    const struct rdsbk_error *e = rdsbk_error_last();
    struct rdsbk_status_unread *grown = realloc(r->unread, (r->n_unread + 1) * sizeof(*grown));
    struct rdsbk_status_unread *u;

    if (!grown)
        return rdsbk_error_oom();
    r->unread = grown;
    u = &grown[r->n_unread++];
    memset(u, 0, sizeof(*u));
    snprintf(u->account, sizeof(u->account), "%s", account);
    if (rdsbk_strdup_into(&u->log_group, group) ||
        rdsbk_strfmt(&u->error, "%s (%s)", e->message, e->aws_code[0] ? e->aws_code : "refused"))
        return rdsbk_error_oom();
    rdsbk_error_clear();
    return 0;
}

/* The error lines of the function `purpose` of `account`. */
static int s_read_group(struct rdsbk_status_report *r, const struct rdsbk_topology *topo,
                        struct rdsbk_drill_clients *clients, const char *account,
                        const char *purpose) {
    const char *region = topo->backup.region;
    long long start_ms = ((long long)r->now - RDSBK_STATUS_FAILURE_DAYS * 86400LL) * 1000;
    struct rdsbk_client *client = NULL;
    char *function = rdsbk_model_name(topo->stack, purpose, RDSBK_MODEL_NAME_MAX);
    char *group = NULL;
    cJSON *events = NULL;
    const cJSON *event;
    int rc;

    RDSBK_CHECK_ALLOC(function);
    RDSBK_TRY(rdsbk_strfmt(&group, "/aws/lambda/%s", function));
    RDSBK_TRY(rdsbk_drill_client(&client, clients, account, region));
    rc = rdsbk_logs_filter_events(&events, client, group, S_ERROR_LINES, start_ms);
    if (rc == RDSBK_ENOTFOUND) { /* never deployed or never run: nothing logged */
        rdsbk_error_clear();
        rc = 0;
        goto cleanup;
    }
    if (rc && rc != RDSBK_ENOMEM) {
        rc = s_unread(r, account, group);
        goto cleanup;
    }
    RDSBK_TRY(rc);
    cJSON_ArrayForEach(event, events) {
        const cJSON *ts = cJSON_GetObjectItemCaseSensitive(event, "timestamp");
        cJSON *line = cJSON_Parse(rdsbk_json_str(event, "message"));

        if (cJSON_IsObject(line) && cJSON_IsNumber(ts))
            rc = s_add_line(r, line, account, region, (time_t)(ts->valuedouble / 1000));
        cJSON_Delete(line);
        RDSBK_TRY(rc);
    }

cleanup:
    cJSON_Delete(events);
    free(group);
    free(function);
    return rc;
}

/* Whether the row `row` is of the database the failure `f` names (its identifier, or what stands
 * for it in its copies' names). */
static bool s_row_of(const struct rdsbk_status_row *row, const struct rdsbk_status_failure *f,
                     const struct rdsbk_topology *topo) {
    char base[RDSBK_COPY_BASE_MAX + 1];

    if (!f->database || strcmp(row->account, f->source_account) != 0)
        return false;
    if (strcasecmp(row->database, f->database) == 0)
        return true;
    for (size_t s = 0; s < topo->n_sources; s++) {
        const struct rdsbk_source *src = &topo->sources[s];
        if (strcmp(src->account, row->account) != 0 || strcmp(src->region, row->region) != 0)
            continue;
        rdsbk_drill_copy_base(base, topo, src, row->kind, row->database);
        if (strcmp(base, f->database) == 0)
            return true;
    }
    return false;
}

static int s_newest_first(const void *a, const void *b) {
    time_t ta = ((const struct rdsbk_status_failure *)a)->time;
    time_t tb = ((const struct rdsbk_status_failure *)b)->time;

    return (ta < tb) - (ta > tb);
}

int rdsbk_status_failures(struct rdsbk_status_report *r, const struct rdsbk_topology *topo,
                          struct rdsbk_drill_clients *clients) {
    int rc = 0;

    for (size_t g = 0; rc == 0 && g < sizeof(s_groups) / sizeof(s_groups[0]); g++) {
        for (size_t s = 0; rc == 0 && !s_groups[g].backup && s < topo->n_sources; s++) {
            const char *account = topo->sources[s].account;
            bool seen = false;
            for (size_t k = 0; k < s; k++)
                seen = seen || strcmp(topo->sources[k].account, account) == 0;
            if (!seen)
                rc = s_read_group(r, topo, clients, account, s_groups[g].purpose);
        }
        if (s_groups[g].backup)
            rc = s_read_group(r, topo, clients, topo->backup.account, s_groups[g].purpose);
    }
    if (rc)
        return rc;
    for (size_t i = 0; i < r->n_failures; i++)
        for (size_t k = 0; k < r->n_rows; k++)
            if (s_row_of(&r->rows[k], &r->failures[i], topo) &&
                r->rows[k].backup_available_time > r->failures[i].time)
                r->failures[i].resolved = true;
    if (r->n_failures > 1)
        qsort(r->failures, r->n_failures, sizeof(*r->failures), s_newest_first);
    return 0;
}

void rdsbk_status_failures_free(struct rdsbk_status_report *r) {
    for (size_t i = 0; i < r->n_failures; i++)
        s_failure_free(&r->failures[i]);
    for (size_t i = 0; i < r->n_unread; i++) {
        free(r->unread[i].log_group);
        free(r->unread[i].error);
    }
    free(r->failures);
    free(r->unread);
}
