/*
 * drill: push system snapshots through the pipeline and watch every hop.
 *
 *   1. pick the snapshot(s): the newest system snapshot of every configured database, or --snapshot
 *   2. note what already exists (an earlier run's copies are not this drill's to clean up)
 *   3. Lambda Invoke (Event) of the copy function in A/Region-B with the event EventBridge would
 *      have forwarded (RDS-EVENT-0091, or 0169 for a cluster)
 *   4. poll, with capped backoff, until each hop is done, fails, times out or Ctrl-C:
 *        region-copy  A/Region-B  <id without rds:>         available
 *        shared       its restore attribute names Account-B
 *        backup-copy  B/Region-B  <region copy>-<account A> available
 *   5. --restore-test: RestoreDBInstanceFromDBSnapshot of each backup copy into a temporary
 *      instance, wait for "available", then DeleteDBInstance (SkipFinalSnapshot) on every path
 *   6. --cleanup: delete the Region-B copies this drill made
 */
#include "drill_internal.h"
#include "rdsbk/clock.h"
#include "rdsbk/error.h"
#include "rdsbk/log.h"
#include "rdsbk/model.h"
#include "rdsbk/services/lambda.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define S_DEFAULT_TIMEOUT_S 1800
#define S_DEFAULT_CLASS "db.t3.micro"
#define S_SLICE_MS 100

const char *rdsbk_drill_result_name(enum rdsbk_drill_result r) {
    static const char *const names[] = {"pending", "ok",          "failed",
                                        "timeout", "interrupted", "skipped"};
    return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

const char *rdsbk_drill_hop_name(enum rdsbk_drill_hop_id hop) {
    static const char *const names[] = {"invoke", "region-copy", "shared", "backup-copy"};
    return (unsigned)hop < sizeof(names) / sizeof(names[0]) ? names[hop] : "?";
}

/* ---- the run ------------------------------------------------------------------------------ */

/* Polling state of one target. */
struct s_follow {
    int hop;          /* the hop being waited for; RDSBK_HOP_COUNT when done */
    double hop_start; /* when the previous hop finished */
    double next_poll; /* monotonic seconds */
    double delay;     /* current backoff */
    double restore_start;
    double restore_next;
    double restore_delay;
    bool restoring;
};

struct s_run {
    const struct rdsbk_topology *topo;
    const struct rdsbk_drill_options *opts;
    struct rdsbk_drill_clients *clients;
    struct rdsbk_drill_report *report;
    struct s_follow *follow;
    double start;
    double initial_delay;
    double max_delay;
};

static int s_stop_level(const struct s_run *run) {
    return run->opts->stop ? (int)*run->opts->stop : 0;
}

static void s_sleep_slice(void) {
    rdsbk_clock_sleep_ms(S_SLICE_MS);
}

static void s_progress(const struct s_run *run, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void s_progress(const struct s_run *run, const char *fmt, ...) {
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    rdsbk_log_verbose("drill: %s", line);
    if (run->opts->progress)
        run->opts->progress(line, run->opts->payload);
}

static char *s_strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *s_strdup_printf(const char *fmt, ...) {
    va_list ap;
    char *out = NULL;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n >= 0)
        out = malloc((size_t)n + 1);
    if (out) {
        va_start(ap, fmt);
        vsnprintf(out, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return out;
}

/* The last error as a new string (for a hop's message). */
/* The backup account's client in Region-B, or NULL when it cannot be had (the error set). */
static struct rdsbk_client *s_backup_client(struct s_run *run) {
    struct rdsbk_client *client = NULL;

    rdsbk_drill_client(&client, run->clients, run->topo->backup.account, run->topo->backup.region);
    return client;
}

static char *s_error_text(void) {
    const struct rdsbk_error *e = rdsbk_error_last();

    if (e->aws_code[0])
        return s_strdup_printf("%s (%s)", e->message[0] ? e->message : "error", e->aws_code);
    return strdup(e->message[0] ? e->message : "error");
}

void rdsbk_drill_report_free(struct rdsbk_drill_report *r) {
    if (!r)
        return;
    for (size_t i = 0; i < r->n_targets; i++) {
        struct rdsbk_drill_target *t = &r->targets[i];
        free(t->source_region);
        free(t->database);
        free(t->snapshot_id);
        free(t->snapshot_arn);
        free(t->region_copy_id);
        free(t->backup_copy_id);
        for (int h = 0; h < RDSBK_HOP_COUNT; h++)
            free(t->hops[h].message);
        free(t->restore.instance_id);
        free(t->restore.message);
        free(t->error);
    }
    free(r->targets);
    free(r->stack);
    free(r->backup_region);
    free(r->copy_function);
    free(r);
}

static int s_random_id(char out[16]) {
    unsigned char bytes[4];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? read(fd, bytes, sizeof(bytes)) : -1;

    if (fd >= 0)
        close(fd);
    if (got != (ssize_t)sizeof(bytes))
        return rdsbk_error_set(RDSBK_EIO, "/dev/urandom: %s", strerror(errno));
    snprintf(out, 16, "%02x%02x%02x%02x", bytes[0], bytes[1], bytes[2], bytes[3]);
    return 0;
}

/* ---- choosing the snapshots --------------------------------------------------------------- */

static struct rdsbk_drill_target *s_add_target(struct rdsbk_drill_report *r, size_t *cap) {
    if (r->n_targets == *cap) {
        size_t n = *cap ? *cap * 2 : 4;
        struct rdsbk_drill_target *grown = realloc(r->targets, n * sizeof(*grown));
        if (!grown)
            return NULL;
        r->targets = grown;
        *cap = n;
    }
    memset(&r->targets[r->n_targets], 0, sizeof(r->targets[0]));
    return &r->targets[r->n_targets++];
}

/* Fills the target's identity and the copy names from system snapshot `snap` (may have no id). */
static int s_fill_target(struct rdsbk_drill_target *t, const struct rdsbk_source *src,
                         const char *database, enum rdsbk_db_kind kind,
                         const struct rdsbk_rds_snapshot *snap) {
    snprintf(t->account, sizeof(t->account), "%s", src->account);
    t->source_region = strdup(src->region);
    t->database = strdup(database);
    t->kind = kind;
    if (!t->source_region || !t->database)
        return rdsbk_error_oom();
    if (!snap || !snap->id) {
        t->error = s_strdup_printf("no system snapshot of %s in %s/%s", database, src->account,
                                   src->region);
        return t->error ? 0 : rdsbk_error_oom();
    }
    t->snapshot_id = strdup(snap->id);
    t->snapshot_arn = strdup(snap->arn ? snap->arn : "");
    t->region_copy_id = strdup(strncasecmp(snap->id, "rds:", 4) == 0 ? snap->id + 4 : snap->id);
    if (!t->snapshot_id || !t->snapshot_arn || !t->region_copy_id)
        return rdsbk_error_oom();
    t->backup_copy_id = s_strdup_printf("%s-%s", t->region_copy_id, src->account);
    if (!t->backup_copy_id)
        return rdsbk_error_oom();
    if (snap->status && strcmp(snap->status, "available") != 0) {
        t->error =
            s_strdup_printf("system snapshot %s is %s, not available", snap->id, snap->status);
        if (!t->error)
            return rdsbk_error_oom();
    }
    return 0;
}

/* Whether `db` is one of the source's databases of `kind`. */
static bool s_configured(const struct rdsbk_source *src, enum rdsbk_db_kind kind, const char *db) {
    char *const *patterns = kind == RDSBK_DB_CLUSTER ? src->clusters : src->instances;
    size_t n = kind == RDSBK_DB_CLUSTER ? src->n_clusters : src->n_instances;

    for (size_t i = 0; i < n; i++)
        if (rdsbk_db_pattern_match(patterns[i], db))
            return true;
    return false;
}

/* --snapshot ID (identifier or ARN): looked up in each source's Region-A, instances then
 * clusters; it must be a system snapshot of a database the topology lists (the copy function
 * ignores any other, and the drill would only time out). */
static int s_targets_from_id(struct s_run *run, size_t *cap) {
    const struct rdsbk_topology *topo = run->topo;
    const char *want = run->opts->snapshot_id;
    const char *ident = want;
    struct rdsbk_rds_snapshot *snaps = NULL;
    const struct rdsbk_source *found_in = NULL;
    enum rdsbk_db_kind kind = RDSBK_DB_INSTANCE;
    struct rdsbk_drill_target *t;
    size_t n = 0;
    int result = RDSBK_ENOTFOUND;

    if (strncmp(want, "arn:", 4) == 0) {
        /* arn:aws:rds:REGION:ACCOUNT:snapshot:rds:NAME: the identifier keeps its "rds:" */
        const char *res = strstr(want, ":snapshot:");
        if (!res)
            res = strstr(want, ":cluster-snapshot:");
        ident = res ? strchr(res + 1, ':') + 1 : strrchr(want, ':') + 1;
    }
    for (size_t s = 0; s < topo->n_sources && !found_in; s++) {
        const struct rdsbk_source *src = &topo->sources[s];
        struct rdsbk_client *client = NULL;

        result = rdsbk_drill_client(&client, run->clients, src->account, src->region);
        if (result) {
            goto cleanup;
        }
        for (int k = 0; k < 2 && !found_in; k++) {
            struct rdsbk_rds_snapshot_query q = {0};

            kind = k ? RDSBK_DB_CLUSTER : RDSBK_DB_INSTANCE;
            if ((kind == RDSBK_DB_CLUSTER ? src->n_clusters : src->n_instances) == 0)
                continue;
            q.snapshot_id = ident;
            result = kind == RDSBK_DB_CLUSTER
                         ? rdsbk_rds_describe_db_cluster_snapshots(&snaps, &n, client, &q)
                         : rdsbk_rds_describe_db_snapshots(&snaps, &n, client, &q);
            if (result == 0 && n > 0)
                found_in = src;
            else if (result == 0 || result == RDSBK_ENOTFOUND)
                result = RDSBK_ENOTFOUND;
            else
                goto cleanup;
            if (!found_in) {
                rdsbk_rds_snapshots_free(snaps, n);
                snaps = NULL;
                n = 0;
            }
        }
    }
    if (!found_in) {
        result =
            rdsbk_error_set(RDSBK_ENOTFOUND,
                            "snapshot %s was not found in any source Region of the topology", want);
        goto cleanup;
    }
    if (!snaps[0].snapshot_type || strcmp(snaps[0].snapshot_type, "automated") != 0) {
        result = rdsbk_error_set(RDSBK_EINVALID,
                                 "snapshot %s is a %s snapshot, not a system (automated) one: the "
                                 "pipeline copies system snapshots only",
                                 want, snaps[0].snapshot_type ? snaps[0].snapshot_type : "?");
        goto cleanup;
    }
    if (!snaps[0].source_id || !s_configured(found_in, kind, snaps[0].source_id)) {
        result = rdsbk_error_set(RDSBK_EINVALID,
                                 "snapshot %s is of %s, which the topology does not list for "
                                 "%s/%s: the pipeline ignores it",
                                 want, snaps[0].source_id ? snaps[0].source_id : "?",
                                 found_in->account, found_in->region);
        goto cleanup;
    }
    t = s_add_target(run->report, cap);
    result =
        t ? s_fill_target(t, found_in, snaps[0].source_id, kind, &snaps[0]) : rdsbk_error_oom();

cleanup:
    rdsbk_rds_snapshots_free(snaps, n);
    return result;
}

static int s_targets(struct s_run *run) {
    const struct rdsbk_topology *topo = run->topo;
    size_t cap = 0;
    int result = 0;

    if (run->opts->snapshot_id)
        return s_targets_from_id(run, &cap);
    for (size_t s = 0; result == 0 && s < topo->n_sources; s++) {
        struct rdsbk_drill_db *dbs = NULL;
        size_t n = 0;

        result = rdsbk_drill_find_dbs(&dbs, &n, run->clients, &topo->sources[s]);
        for (size_t i = 0; result == 0 && i < n; i++) {
            struct rdsbk_drill_target *t = s_add_target(run->report, &cap);
            result =
                t ? s_fill_target(t, dbs[i].source, dbs[i].database, dbs[i].kind, &dbs[i].newest)
                  : rdsbk_error_oom();
        }
        rdsbk_drill_dbs_free(dbs, n);
    }
    return result;
}

/* ---- looking at the hops ------------------------------------------------------------------ */

/* The status of snapshot `id` of `kind` seen by `client`: 0 and *status_out (caller frees),
 * RDSBK_ENOTFOUND, or another error. */
static int s_snapshot_status(char **status_out, struct rdsbk_client *client,
                             enum rdsbk_db_kind kind, const char *id) {
    struct rdsbk_rds_snapshot_query q = {0};
    struct rdsbk_rds_snapshot *snaps = NULL;
    size_t n = 0;
    int rc;

    *status_out = NULL;
    q.snapshot_id = id;
    rc = kind == RDSBK_DB_CLUSTER ? rdsbk_rds_describe_db_cluster_snapshots(&snaps, &n, client, &q)
                                  : rdsbk_rds_describe_db_snapshots(&snaps, &n, client, &q);
    if (rc == 0 && n == 0)
        rc = RDSBK_ENOTFOUND;
    if (rc == 0) {
        *status_out = strdup(snaps[0].status ? snaps[0].status : "");
        if (!*status_out)
            rc = rdsbk_error_oom();
    }
    rdsbk_rds_snapshots_free(snaps, n);
    return rc;
}

/* Whether the A/Region-B copy's restore attribute names Account-B: 0 and *yes, or an error. */
static int s_is_shared(bool *yes, struct rdsbk_client *client, enum rdsbk_db_kind kind,
                       const char *id, const char *account) {
    char **values = NULL;
    size_t n = 0;
    int rc;

    *yes = false;
    rc = kind == RDSBK_DB_CLUSTER
             ? rdsbk_rds_describe_db_cluster_snapshot_attributes(&values, &n, client, id, "restore")
             : rdsbk_rds_describe_db_snapshot_attributes(&values, &n, client, id, "restore");
    for (size_t i = 0; rc == 0 && i < n; i++)
        *yes |= strcmp(values[i], account) == 0;
    rdsbk_strings_free(values, n);
    return rc;
}

/* One look at hop `hop` of target `t`: 1 done, 0 not yet, negative: failed (message set in the
 * hop). */
static int s_check_hop(struct s_run *run, struct rdsbk_drill_target *t, int hop) {
    const struct rdsbk_topology *topo = run->topo;
    struct rdsbk_client *client;
    char *status = NULL;
    const char *id;
    bool shared = false;
    int rc;

    rc = rdsbk_drill_client(&client, run->clients,
                            hop == RDSBK_HOP_BACKUP_COPY ? topo->backup.account : t->account,
                            topo->backup.region);
    if (rc) {
        t->hops[hop].message = s_error_text();
        return RDSBK_ERROR;
    }
    if (hop == RDSBK_HOP_SHARED) {
        rc = s_is_shared(&shared, client, t->kind, t->region_copy_id, topo->backup.account);
        if (rc == 0)
            return shared ? 1 : 0;
    } else {
        id = hop == RDSBK_HOP_REGION_COPY ? t->region_copy_id : t->backup_copy_id;
        rc = s_snapshot_status(&status, client, t->kind, id);
        if (rc == 0) {
            int done = strcmp(status, "available") == 0 ? 1 : 0;
            if (strcmp(status, "failed") == 0 || strcmp(status, "error") == 0) {
                t->hops[hop].message = s_strdup_printf("snapshot %s is %s", id, status);
                done = RDSBK_ERROR;
            }
            free(status);
            return done;
        }
    }
    if (rc == RDSBK_ENOTFOUND)
        return 0;
    if (rc == RDSBK_ETHROTTLED || rc == RDSBK_EIO || rc == RDSBK_ETIMEOUT) {
        rdsbk_log_warn("drill: %s (will look again)", rdsbk_error_last()->message);
        return 0;
    }
    t->hops[hop].message = s_error_text();
    return rc;
}

/* Which hops are there before the drill begins. */
static void s_note_existing(struct s_run *run, struct rdsbk_drill_target *t) {
    for (int hop = RDSBK_HOP_REGION_COPY; hop < RDSBK_HOP_COUNT; hop++) {
        int rc = s_check_hop(run, t, hop);
        free(t->hops[hop].message);
        t->hops[hop].message = NULL;
        t->hops[hop].existed = rc == 1;
        if (rc != 1)
            break;
    }
}

/* ---- invoking the copy function ----------------------------------------------------------- */

static void s_iso_time(char *out, size_t n, time_t when, bool millis) {
    struct tm tm;

    gmtime_r(&when, &tm);
    if (millis)
        strftime(out, n, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    else
        strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* An RDS event as EventBridge delivers it. */
struct s_rds_event {
    const char *event_id; /* RDS-EVENT-0091 ... */
    const char *message;
    const char *category;
    const char *account;
    const char *region;
    const char *arn;        /* SourceArn */
    const char *identifier; /* SourceIdentifier */
};

static char *s_event(const struct s_rds_event *in, enum rdsbk_db_kind kind, const char *drill_id) {
    bool cluster = kind == RDSBK_DB_CLUSTER;
    cJSON *ev = cJSON_CreateObject();
    cJSON *detail = cJSON_CreateObject();
    cJSON *resources = cJSON_CreateArray();
    cJSON *categories = cJSON_CreateArray();
    char now[40];
    char now_ms[40];
    char id[64];
    char *text = NULL;

    if (!ev || !detail || !resources || !categories)
        goto cleanup;
    s_iso_time(now, sizeof(now), time(NULL), false);
    s_iso_time(now_ms, sizeof(now_ms), time(NULL), true);
    snprintf(id, sizeof(id), "rdsbk-drill-%s", drill_id);
    cJSON_AddStringToObject(ev, "version", "0");
    cJSON_AddStringToObject(ev, "id", id);
    cJSON_AddStringToObject(ev, "detail-type",
                            cluster ? "RDS DB Cluster Snapshot Event" : "RDS DB Snapshot Event");
    cJSON_AddStringToObject(ev, "source", "aws.rds");
    cJSON_AddStringToObject(ev, "account", in->account);
    cJSON_AddStringToObject(ev, "time", now);
    cJSON_AddStringToObject(ev, "region", in->region);
    cJSON_AddItemToArray(resources, cJSON_CreateString(in->arn));
    cJSON_AddItemToObject(ev, "resources", resources);
    resources = NULL;
    cJSON_AddItemToArray(categories, cJSON_CreateString(in->category));
    cJSON_AddItemToObject(detail, "EventCategories", categories);
    categories = NULL;
    cJSON_AddStringToObject(detail, "SourceType", cluster ? "CLUSTER_SNAPSHOT" : "SNAPSHOT");
    cJSON_AddStringToObject(detail, "SourceArn", in->arn);
    cJSON_AddStringToObject(detail, "Date", now_ms);
    cJSON_AddStringToObject(detail, "Message", in->message);
    cJSON_AddStringToObject(detail, "SourceIdentifier", in->identifier);
    cJSON_AddStringToObject(detail, "EventID", in->event_id);
    cJSON_AddItemToObject(ev, "detail", detail);
    detail = NULL;
    text = cJSON_PrintUnformatted(ev);

cleanup:
    cJSON_Delete(ev);
    cJSON_Delete(detail);
    cJSON_Delete(resources);
    cJSON_Delete(categories);
    return text;
}

/* Lambda Invoke (Event) of `function` in A/Region-B with `event`. */
static int s_invoke_with(struct s_run *run, const struct rdsbk_drill_target *t,
                         const char *function, const struct s_rds_event *in) {
    struct rdsbk_lambda_invoke_result res;
    struct rdsbk_client *client;
    char *event = NULL;
    int result;

    memset(&res, 0, sizeof(res));
    result = rdsbk_drill_client(&client, run->clients, t->account, run->topo->backup.region);
    if (result)
        goto cleanup;
    event = s_event(in, t->kind, run->report->drill_id);
    if (!event) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    result = rdsbk_lambda_invoke(&res, client, function, "Event", event, strlen(event));
    if (result == 0 && res.status_code != 202)
        result = rdsbk_error_set(RDSBK_ERROR, "Invoke of %s answered %ld, not 202", function,
                                 res.status_code);

cleanup:
    rdsbk_lambda_invoke_result_clean_up(&res);
    free(event);
    return result;
}

/* Invokes the copy function with the event EventBridge forwards from Region-A for a new system
 * snapshot (what templates/lambda/copy_snapshot.py reads: source, detail-type, detail.EventID
 * and SourceArn). A snapshot whose Region-B copy is already there but never reached the backup
 * account (a hop that was broken then) gets its share step re-driven too: the copy function
 * does nothing for a copy that exists, and RDS-EVENT-0060 fires only once. */
static int s_invoke(struct s_run *run, struct rdsbk_drill_target *t) {
    bool cluster = t->kind == RDSBK_DB_CLUSTER;
    struct s_rds_event created = {cluster ? "RDS-EVENT-0169" : "RDS-EVENT-0091",
                                  cluster ? "Automated cluster snapshot created"
                                          : "Automated snapshot created",
                                  cluster ? "backup" : "creation",
                                  t->account,
                                  t->source_region,
                                  t->snapshot_arn,
                                  t->snapshot_id};
    double t0 = rdsbk_clock_now();
    char *share_fn = NULL;
    char *copy_arn = NULL;
    int result = s_invoke_with(run, t, run->report->copy_function, &created);

    if (result == 0 && t->hops[RDSBK_HOP_REGION_COPY].existed &&
        !t->hops[RDSBK_HOP_BACKUP_COPY].existed) {
        struct s_rds_event copied = {"RDS-EVENT-0060", "Finished copy of snapshot", "notification",
                                     t->account,       run->topo->backup.region,    NULL,
                                     t->region_copy_id};
        share_fn = rdsbk_model_name(run->topo->stack, "share", 64);
        copy_arn = s_strdup_printf("arn:%s:rds:%s:%s:%s:%s",
                                   rdsbk_region_partition(run->topo->backup.region),
                                   run->topo->backup.region, t->account,
                                   cluster ? "cluster-snapshot" : "snapshot", t->region_copy_id);
        if (!share_fn || !copy_arn) {
            result = rdsbk_error_oom();
            goto cleanup;
        }
        copied.arn = copy_arn;
        s_progress(run,
                   "%s: the Region-B copy %s is there but not in the backup account: "
                   "re-driving %s with RDS-EVENT-0060",
                   t->database, t->region_copy_id, share_fn);
        result = s_invoke_with(run, t, share_fn, &copied);
    }

cleanup:
    t->hops[RDSBK_HOP_INVOKE].seconds = rdsbk_clock_now() - t0;
    if (result) {
        t->hops[RDSBK_HOP_INVOKE].result = RDSBK_DRILL_FAILED;
        t->hops[RDSBK_HOP_INVOKE].message = s_error_text();
    } else {
        t->hops[RDSBK_HOP_INVOKE].result = RDSBK_DRILL_OK;
    }
    free(share_fn);
    free(copy_arn);
    return result;
}

/* ---- following the hops ------------------------------------------------------------------- */

static void s_finish_hop(struct s_run *run, size_t i, enum rdsbk_drill_result result, double now) {
    struct rdsbk_drill_target *t = &run->report->targets[i];
    struct s_follow *f = &run->follow[i];
    struct rdsbk_drill_hop *h = &t->hops[f->hop];
    char took[16];

    h->result = result;
    h->seconds = now - f->hop_start;
    rdsbk_duration_format(took, sizeof(took), (long long)(h->seconds + 0.5));
    if (result == RDSBK_DRILL_OK)
        s_progress(run, "%s: %s done after %.1fs%s", t->database, rdsbk_drill_hop_name(f->hop),
                   h->seconds, h->existed ? " (was there before the drill)" : "");
    else
        s_progress(run, "%s: %s %s after %s%s%s", t->database, rdsbk_drill_hop_name(f->hop),
                   rdsbk_drill_result_name(result), took, h->message ? ": " : "",
                   h->message ? h->message : "");
    if (result != RDSBK_DRILL_OK) {
        for (int k = f->hop + 1; k < RDSBK_HOP_COUNT; k++)
            t->hops[k].result = RDSBK_DRILL_SKIPPED;
        f->hop = RDSBK_HOP_COUNT;
        return;
    }
    f->hop++;
    f->hop_start = now;
    f->next_poll = now;
    f->delay = run->initial_delay;
}

static bool s_any_pending(const struct s_run *run) {
    for (size_t i = 0; i < run->report->n_targets; i++)
        if (run->follow[i].hop < RDSBK_HOP_COUNT)
            return true;
    return false;
}

static void s_follow_hops(struct s_run *run) {
    double deadline = run->start + (double)run->opts->timeout_s;

    while (s_any_pending(run)) {
        double now = rdsbk_clock_now();
        enum rdsbk_drill_result end = RDSBK_DRILL_PENDING;

        if (s_stop_level(run) > 0)
            end = RDSBK_DRILL_INTERRUPTED;
        else if (now >= deadline)
            end = RDSBK_DRILL_TIMEOUT;
        for (size_t i = 0; i < run->report->n_targets; i++) {
            struct s_follow *f = &run->follow[i];
            int rc;

            if (f->hop >= RDSBK_HOP_COUNT)
                continue;
            if (end != RDSBK_DRILL_PENDING) {
                s_finish_hop(run, i, end, now);
                continue;
            }
            if (now < f->next_poll)
                continue;
            rc = s_check_hop(run, &run->report->targets[i], f->hop);
            now = rdsbk_clock_now();
            if (rc < 0) {
                s_finish_hop(run, i, RDSBK_DRILL_FAILED, now);
            } else if (rc == 1) {
                s_finish_hop(run, i, RDSBK_DRILL_OK, now);
            } else {
                f->delay = f->delay * 1.5 > run->max_delay ? run->max_delay : f->delay * 1.5;
                f->next_poll = now + f->delay;
            }
        }
        if (s_any_pending(run))
            s_sleep_slice();
    }
}

/* ---- the restore test --------------------------------------------------------------------- */

/* Statuses from which an instance will not become available. */
static bool s_restore_failed(const char *status) {
    static const char *const bad[] = {"failed",
                                      "incompatible-restore",
                                      "incompatible-parameters",
                                      "incompatible-network",
                                      "incompatible-option-group",
                                      "inaccessible-encryption-credentials",
                                      "inaccessible-encryption-credentials-recoverable",
                                      "restore-error",
                                      "storage-full",
                                      "deleting"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (strcmp(status, bad[i]) == 0)
            return true;
    return false;
}

/* rdsbk-<stack>-drill-<id>[-<n>], a valid DB identifier (no "--", no trailing '-'). */
static char *s_instance_name(const struct s_run *run, size_t n_restores, size_t index) {
    char *name = n_restores > 1 ? s_strdup_printf("rdsbk-%s-drill-%s-%zu", run->topo->stack,
                                                  run->report->drill_id, index + 1)
                                : s_strdup_printf("rdsbk-%s-drill-%s", run->topo->stack,
                                                  run->report->drill_id);
    char *w = name;

    if (!name)
        return NULL;
    for (const char *r = name; *r; r++) {
        if (*r == '-' && w > name && w[-1] == '-')
            continue;
        *w++ = *r;
    }
    *w = '\0';
    return name;
}

static int s_start_restore(struct s_run *run, size_t i, size_t n_restores, size_t index) {
    struct rdsbk_drill_target *t = &run->report->targets[i];
    struct rdsbk_client *client = s_backup_client(run);
    struct rdsbk_rds_restore_input in;
    struct rdsbk_tag tags[2];
    int rc;

    if (!client) {
        t->restore.result = RDSBK_DRILL_FAILED;
        t->restore.message = s_error_text();
        return 0;
    }
    t->restore.instance_id = s_instance_name(run, n_restores, index);
    if (!t->restore.instance_id)
        return rdsbk_error_oom();
    tags[0].key = "rdsbk:drill";
    tags[0].value = run->report->drill_id;
    tags[1].key = "rdsbk:stack";
    tags[1].value = run->topo->stack;
    memset(&in, 0, sizeof(in));
    in.instance_id = t->restore.instance_id;
    in.snapshot_id = t->backup_copy_id;
    in.instance_class = run->opts->instance_class ? run->opts->instance_class : S_DEFAULT_CLASS;
    in.subnet_group = run->opts->subnet_group;
    in.publicly_accessible = false;
    in.set_publicly_accessible = true;
    in.tags = tags;
    in.n_tags = 2;
    run->follow[i].restore_start = rdsbk_clock_now();
    rc = rdsbk_rds_restore_db_instance_from_db_snapshot(NULL, client, &in);
    if (rc) {
        t->restore.result = RDSBK_DRILL_FAILED;
        t->restore.message = s_error_text();
        /* nothing was created: nothing to delete */
        free(t->restore.instance_id);
        t->restore.instance_id = NULL;
        s_progress(run, "%s: restore refused: %s", t->database, t->restore.message);
        return 0;
    }
    s_progress(run, "%s: restoring %s into %s (%s)", t->database, t->backup_copy_id, in.instance_id,
               in.instance_class);
    run->follow[i].restoring = true;
    run->follow[i].restore_next = rdsbk_clock_now();
    run->follow[i].restore_delay = run->initial_delay;
    return 0;
}

/* One look at a restoring instance: 1 available, 0 not yet, -1 failed (message set). */
static int s_check_restore(struct s_run *run, struct rdsbk_drill_target *t) {
    struct rdsbk_client *client = s_backup_client(run);
    struct rdsbk_rds_instance *inst = NULL;
    size_t n = 0;
    int rc;
    int done = 0;

    if (!client)
        return 0;
    rc = rdsbk_rds_describe_db_instances(&inst, &n, client, t->restore.instance_id);
    if (rc == 0 && n > 0 && inst[0].status) {
        if (strcmp(inst[0].status, "available") == 0) {
            done = 1;
        } else if (s_restore_failed(inst[0].status)) {
            t->restore.message =
                s_strdup_printf("instance %s is %s", t->restore.instance_id, inst[0].status);
            done = -1;
        }
    } else if (rc && rc != RDSBK_ENOTFOUND && rc != RDSBK_ETHROTTLED && rc != RDSBK_EIO &&
               rc != RDSBK_ETIMEOUT) {
        t->restore.message = s_error_text();
        done = -1;
    }
    rdsbk_rds_instances_free(inst, n);
    return done;
}

static void s_wait_restores(struct s_run *run) {
    double deadline = rdsbk_clock_now() + (double)run->opts->timeout_s;
    bool pending = true;

    while (pending) {
        double now = rdsbk_clock_now();
        enum rdsbk_drill_result end = RDSBK_DRILL_PENDING;

        pending = false;
        if (s_stop_level(run) > 0)
            end = RDSBK_DRILL_INTERRUPTED;
        else if (now >= deadline)
            end = RDSBK_DRILL_TIMEOUT;
        for (size_t i = 0; i < run->report->n_targets; i++) {
            struct rdsbk_drill_target *t = &run->report->targets[i];
            struct s_follow *f = &run->follow[i];
            int rc;

            if (!f->restoring)
                continue;
            if (end != RDSBK_DRILL_PENDING) {
                t->restore.result = end;
                t->restore.seconds = now - f->restore_start;
                f->restoring = false;
                continue;
            }
            if (now < f->restore_next) {
                pending = true;
                continue;
            }
            rc = s_check_restore(run, t);
            now = rdsbk_clock_now();
            if (rc != 0) {
                t->restore.result = rc == 1 ? RDSBK_DRILL_OK : RDSBK_DRILL_FAILED;
                t->restore.seconds = now - f->restore_start;
                f->restoring = false;
                s_progress(run, "%s: restored instance %s %s after %.1fs", t->database,
                           t->restore.instance_id,
                           rc == 1 ? "available" : rdsbk_drill_result_name(t->restore.result),
                           t->restore.seconds);
                continue;
            }
            f->restore_delay =
                f->restore_delay * 1.5 > run->max_delay ? run->max_delay : f->restore_delay * 1.5;
            f->restore_next = now + f->restore_delay;
            pending = true;
        }
        if (pending)
            s_sleep_slice();
    }
}

/* Deletes the restored instance, waiting while RDS refuses because it is still being created;
 * gives up at the deadline or on a second Ctrl-C (then report->leftover). */
static void s_delete_instance(struct s_run *run, struct rdsbk_drill_target *t) {
    struct rdsbk_client *client = s_backup_client(run);
    double deadline = rdsbk_clock_now() + (double)run->opts->timeout_s;
    double delay = run->initial_delay;

    while (client) {
        int rc = rdsbk_rds_delete_db_instance(client, t->restore.instance_id, true, NULL, true);
        const char *code = rdsbk_error_last()->aws_code;

        if (rc == 0 || rc == RDSBK_ENOTFOUND) {
            t->restore.deleted = true;
            s_progress(run, "%s: deleted the restored instance %s", t->database,
                       t->restore.instance_id);
            return;
        }
        if (strcmp(code, "InvalidDBInstanceState") != 0 && rc != RDSBK_ETHROTTLED &&
            rc != RDSBK_EIO && rc != RDSBK_ETIMEOUT)
            break;
        /* still creating (or modifying): it can only be deleted once RDS lets go of it */
        s_progress(run, "%s: %s cannot be deleted yet (%s); waiting", t->database,
                   t->restore.instance_id, code[0] ? code : rdsbk_error_last()->message);
        for (double until = rdsbk_clock_now() + delay;
             s_stop_level(run) < 2 && rdsbk_clock_now() < until;)
            s_sleep_slice();
        if (s_stop_level(run) >= 2 || rdsbk_clock_now() >= deadline)
            break;
        delay = delay * 1.5 > run->max_delay ? run->max_delay : delay * 1.5;
    }
    if (!t->restore.message)
        t->restore.message = s_error_text();
    run->report->leftover = true;
}

static int s_restore_tests(struct s_run *run) {
    size_t n_restores = 0;
    size_t index = 0;
    int result = 0;

    for (size_t i = 0; i < run->report->n_targets; i++) {
        struct rdsbk_drill_target *t = &run->report->targets[i];
        t->restore.result = RDSBK_DRILL_SKIPPED;
        if (!run->opts->restore_test)
            continue;
        if (t->hops[RDSBK_HOP_BACKUP_COPY].result != RDSBK_DRILL_OK) {
            t->restore.message = strdup("the backup copy did not arrive");
        } else if (t->kind == RDSBK_DB_CLUSTER) {
            t->restore.message = strdup("restoring Aurora cluster snapshots is not implemented");
        } else {
            t->restore.result = RDSBK_DRILL_PENDING;
            n_restores++;
        }
    }
    for (size_t i = 0; result == 0 && i < run->report->n_targets; i++) {
        if (run->report->targets[i].restore.result != RDSBK_DRILL_PENDING)
            continue;
        if (s_stop_level(run) > 0) {
            run->report->targets[i].restore.result = RDSBK_DRILL_INTERRUPTED;
            continue;
        }
        result = s_start_restore(run, i, n_restores, index++);
    }
    s_wait_restores(run);
    /* always: every instance started is deleted, whatever happened above */
    for (size_t i = 0; i < run->report->n_targets; i++) {
        struct rdsbk_drill_target *t = &run->report->targets[i];
        if (t->restore.instance_id)
            s_delete_instance(run, t);
    }
    return result;
}

/* ---- cleanup ------------------------------------------------------------------------------ */

static bool s_delete_copy(struct s_run *run, struct rdsbk_drill_target *t, const char *account,
                          const char *id) {
    struct rdsbk_client *client = NULL;
    int rc;

    if (rdsbk_drill_client(&client, run->clients, account, run->topo->backup.region))
        return false;
    rc = t->kind == RDSBK_DB_CLUSTER ? rdsbk_rds_delete_db_cluster_snapshot(client, id)
                                     : rdsbk_rds_delete_db_snapshot(client, id);
    if (rc == 0) {
        s_progress(run, "%s: deleted %s in %s/%s", t->database, id, account,
                   run->topo->backup.region);
        return true;
    }
    if (rc != RDSBK_ENOTFOUND)
        rdsbk_log_warn("drill: could not delete %s in %s/%s: %s", id, account,
                       run->topo->backup.region, rdsbk_error_last()->message);
    return false;
}

static void s_cleanup_copies(struct s_run *run) {
    for (size_t i = 0; i < run->report->n_targets; i++) {
        struct rdsbk_drill_target *t = &run->report->targets[i];

        if (!t->snapshot_id || t->hops[RDSBK_HOP_INVOKE].result != RDSBK_DRILL_OK)
            continue;
        /* the backup copy first: it is made from the Region-B copy */
        if (!t->hops[RDSBK_HOP_BACKUP_COPY].existed)
            t->cleaned_backup_copy =
                s_delete_copy(run, t, run->topo->backup.account, t->backup_copy_id);
        if (!t->hops[RDSBK_HOP_REGION_COPY].existed)
            t->cleaned_region_copy = s_delete_copy(run, t, t->account, t->region_copy_id);
    }
}

/* ---- main --------------------------------------------------------------------------------- */

static bool s_target_ok(const struct s_run *run, const struct rdsbk_drill_target *t) {
    if (t->error)
        return false;
    for (int h = 0; h < RDSBK_HOP_COUNT; h++)
        if (t->hops[h].result != RDSBK_DRILL_OK)
            return false;
    if (run->opts->restore_test && t->kind == RDSBK_DB_INSTANCE &&
        (t->restore.result != RDSBK_DRILL_OK || !t->restore.deleted))
        return false;
    return true;
}

static int s_prepare(struct s_run *run) {
    struct rdsbk_drill_report *r = run->report;
    int result = s_random_id(r->drill_id);

    if (result)
        return result;
    r->stack = strdup(run->topo->stack);
    r->backup_region = strdup(run->topo->backup.region);
    r->copy_function = rdsbk_model_name(run->topo->stack, "copy", 64);
    snprintf(r->backup_account, sizeof(r->backup_account), "%s", run->topo->backup.account);
    if (!r->stack || !r->backup_region || !r->copy_function)
        return rdsbk_error_oom();
    result = rdsbk_drill_clients_new(&run->clients, run->topo);
    if (result == 0)
        result = s_targets(run);
    if (result == 0 && r->n_targets == 0)
        result = rdsbk_error_set(RDSBK_ENOTFOUND, "the topology names no database to drill");
    if (result == 0) {
        run->follow = calloc(r->n_targets, sizeof(*run->follow));
        if (!run->follow)
            result = rdsbk_error_oom();
    }
    return result;
}

int rdsbk_drill_run(struct rdsbk_drill_report **out, const struct rdsbk_topology *topo,
                    const struct rdsbk_drill_options *opts) {
    struct rdsbk_drill_options defaults;
    struct s_run run;
    int result;

    *out = NULL;
    defaults = *opts;
    if (defaults.timeout_s <= 0)
        defaults.timeout_s = S_DEFAULT_TIMEOUT_S;
    memset(&run, 0, sizeof(run));
    run.topo = topo;
    run.opts = &defaults;
    run.start = rdsbk_clock_now();
    run.initial_delay = (opts->poll_initial_ms > 0 ? (double)opts->poll_initial_ms : 500.0) / 1e3;
    run.max_delay = (opts->poll_max_ms > 0 ? (double)opts->poll_max_ms : 20000.0) / 1e3;
    if (run.max_delay < run.initial_delay)
        run.max_delay = run.initial_delay;
    run.report = calloc(1, sizeof(*run.report));
    if (!run.report) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    result = s_prepare(&run);
    if (result)
        goto cleanup;

    /* 2, 3: what is there already, then the invocations */
    for (size_t i = 0; i < run.report->n_targets; i++) {
        struct rdsbk_drill_target *t = &run.report->targets[i];
        struct s_follow *f = &run.follow[i];

        f->hop = RDSBK_HOP_COUNT;
        if (t->error || s_stop_level(&run) > 0) {
            for (int h = 0; h < RDSBK_HOP_COUNT; h++)
                t->hops[h].result = t->error ? RDSBK_DRILL_SKIPPED : RDSBK_DRILL_INTERRUPTED;
            if (t->error)
                s_progress(&run, "%s: %s", t->database, t->error);
            continue;
        }
        s_note_existing(&run, t);
        if (s_invoke(&run, t)) {
            for (int h = RDSBK_HOP_REGION_COPY; h < RDSBK_HOP_COUNT; h++)
                t->hops[h].result = RDSBK_DRILL_SKIPPED;
            s_progress(&run, "%s: invoking %s failed: %s", t->database, run.report->copy_function,
                       t->hops[RDSBK_HOP_INVOKE].message);
            continue;
        }
        s_progress(&run, "%s: invoked %s with %s (%s)", t->database, run.report->copy_function,
                   t->snapshot_id,
                   t->kind == RDSBK_DB_CLUSTER ? "RDS-EVENT-0169" : "RDS-EVENT-0091");
        f->hop = RDSBK_HOP_REGION_COPY;
        f->hop_start = rdsbk_clock_now();
        f->next_poll = f->hop_start;
        f->delay = run.initial_delay;
    }

    /* 4 */
    s_follow_hops(&run);
    for (size_t i = 0; i < run.report->n_targets; i++) {
        struct rdsbk_drill_target *t = &run.report->targets[i];
        for (int h = 0; h < RDSBK_HOP_COUNT; h++)
            t->total_s += t->hops[h].result == RDSBK_DRILL_OK ? t->hops[h].seconds : 0;
    }

    /* 5, 6: both run on every path from here, including a timeout or Ctrl-C */
    result = s_restore_tests(&run);
    if (opts->cleanup)
        s_cleanup_copies(&run);
    run.report->total_s = rdsbk_clock_now() - run.start;
    run.report->ok = result == 0;
    for (size_t i = 0; i < run.report->n_targets; i++)
        run.report->ok &= s_target_ok(&run, &run.report->targets[i]);
    if (result == 0) {
        *out = run.report;
        run.report = NULL;
    }

cleanup:
    free(run.follow);
    rdsbk_drill_clients_free(run.clients);
    rdsbk_drill_report_free(run.report);
    return result;
}
