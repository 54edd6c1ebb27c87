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
#include "rdsbk/backoff.h"
#include "rdsbk/clock.h"
#include "rdsbk/endpoints.h"
#include "rdsbk/error.h"
#include "rdsbk/json_util.h"
#include "rdsbk/log.h"
#include "rdsbk/model.h"
#include "rdsbk/services/lambda.h"
#include "rdsbk/str.h"

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

/* Looking at AWS until something is done: when to look next, and the backoff between looks. */
struct s_poll {
    double next; /* monotonic seconds */
    struct rdsbk_backoff backoff;
};

/* Polling state of one target. */
struct s_follow {
    int hop;          /* the hop being waited for; RDSBK_HOP_COUNT when done */
    double hop_start; /* when the previous hop finished */
    struct s_poll poll;
    double restore_start;
    struct s_poll restore_poll;
    bool restoring;
};

struct s_run {
    const struct rdsbk_topology *topo;
    const struct rdsbk_drill_options *opts;
    struct rdsbk_drill_clients clients;
    struct rdsbk_drill_report *report;
    struct s_follow *follow;
    double start;
    long initial_ms; /* the polls' first delay ... */
    long max_ms;     /* ... and their longest */
};

static int s_stop_level(const struct s_run *run) {
    return run->opts->stop ? (int)*run->opts->stop : 0;
}

static void s_sleep_slice(void) {
    rdsbk_clock_sleep_ms(S_SLICE_MS);
}

/* Starts looking at `now`: at once, then after delays that grow x1.5 up to the maximum, from 1.5
 * times the initial delay (the first delay grows before it is waited, as it always has). */
static void s_poll_start(struct s_poll *p, const struct s_run *run, double now) {
    p->next = now;
    rdsbk_backoff_init(&p->backoff, run->initial_ms * 3 / 2, run->max_ms, 1.5, 0);
}

/* After a look at `now` that found nothing done yet: the next look, one delay later. */
static void s_poll_again(struct s_poll *p, double now) {
    p->next = now + (double)rdsbk_backoff_next_ms(&p->backoff) / 1e3;
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

/* *out = the backup account's client in Region-B. */
static int s_backup_client(struct rdsbk_client **out, struct s_run *run) {
    return rdsbk_drill_client(out, &run->clients, run->topo->backup.account,
                              run->topo->backup.region);
}

/* The last error as a new string (for a hop's message), NULL when out of memory. */
static char *s_error_text(void) {
    const struct rdsbk_error *e = rdsbk_error_last();
    char *text = NULL;

    if (e->aws_code[0])
        rdsbk_strfmt(&text, "%s (%s)", e->message[0] ? e->message : "error", e->aws_code);
    else
        rdsbk_strdup_into(&text, e->message[0] ? e->message : "error");
    return text;
}

static void s_target_clean_up(struct rdsbk_drill_target *t) {
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

void rdsbk_drill_report_free(struct rdsbk_drill_report *r) {
    if (!r)
        return;
    for (size_t i = 0; i < r->n_targets; i++)
        s_target_clean_up(&r->targets[i]);
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

/* Fills the target's identity and the copy names from system snapshot `snap` (may have no id). */
static int s_fill_target(struct rdsbk_drill_target *t, const struct rdsbk_topology *topo,
                         const struct rdsbk_source *src, const char *database,
                         enum rdsbk_db_kind kind, const struct rdsbk_rds_snapshot *snap) {
    bool named = rdsbk_model_region_named(topo, src, kind == RDSBK_DB_CLUSTER, database);
    char name[RDSBK_COPY_BASE_MAX + 32];
    int rc;

    snprintf(t->account, sizeof(t->account), "%s", src->account);
    t->kind = kind;
    RDSBK_TRY(rdsbk_strdup_into(&t->source_region, src->region));
    RDSBK_TRY(rdsbk_strdup_into(&t->database, database));
    if (!snap || !snap->id) {
        rc = rdsbk_strfmt(&t->error, "no system snapshot of %s in %s/%s", database, src->account,
                          src->region);
        goto cleanup;
    }
    RDSBK_TRY(rdsbk_strdup_into(&t->snapshot_id, snap->id));
    RDSBK_TRY(rdsbk_strdup_into(&t->snapshot_arn, snap->arn ? snap->arn : ""));
    if (rdsbk_copy_name(name, sizeof(name), snap->id, named ? src->region : NULL) == 0)
        RDSBK_TRY(rdsbk_strdup_into(&t->region_copy_id, name)); /* as the copy function names it */
    else
        RDSBK_TRY(rdsbk_strdup_into(
            &t->region_copy_id, strncasecmp(snap->id, "rds:", 4) == 0 ? snap->id + 4 : snap->id));
    RDSBK_TRY(rdsbk_strfmt(&t->backup_copy_id, "%s-%s", t->region_copy_id, src->account));
    if (snap->status && strcmp(snap->status, "available") != 0)
        rc = rdsbk_strfmt(&t->error, "system snapshot %s is %s, not available", snap->id,
                          snap->status);

cleanup:
    return rc;
}

/* A new target of the report, for system snapshot `snap` of `database` (s_fill_target). */
static int s_add_target(struct s_run *run, const struct rdsbk_source *src, const char *database,
                        enum rdsbk_db_kind kind, const struct rdsbk_rds_snapshot *snap) {
    struct rdsbk_drill_report *r = run->report;
    struct rdsbk_drill_target *grown = realloc(r->targets, (r->n_targets + 1) * sizeof(*grown));

    if (!grown)
        return rdsbk_error_oom();
    r->targets = grown;
    memset(&grown[r->n_targets], 0, sizeof(*grown));
    return s_fill_target(&grown[r->n_targets++], run->topo, src, database, kind, snap);
}

/* Whether `db` is one of the source's databases of `kind`. */
static bool s_configured(const struct rdsbk_source *src, enum rdsbk_db_kind kind, const char *db) {
    char *const *patterns;
    size_t n = rdsbk_drill_patterns(&patterns, src, kind);

    for (size_t i = 0; i < n; i++)
        if (rdsbk_db_pattern_match(patterns[i], db))
            return true;
    return false;
}

/* The identifier --snapshot names: itself, or the end of an ARN. */
static const char *s_snapshot_ident(const char *want) {
    const char *res;

    if (strncmp(want, "arn:", 4) != 0)
        return want;
    /* arn:aws:rds:REGION:ACCOUNT:snapshot:rds:NAME: the identifier keeps its "rds:" */
    res = strstr(want, ":snapshot:");
    if (!res)
        res = strstr(want, ":cluster-snapshot:");
    return res ? strchr(res + 1, ':') + 1 : strrchr(want, ':') + 1;
}

/* Snapshot `ident` in the Region-A of `src`, instances then clusters (the kinds it has): 0 and
 * *snaps (*n 0: not there) of *kind, or an error other than not-found. */
static int s_find_in_source(struct rdsbk_rds_snapshot **snaps, size_t *n, enum rdsbk_db_kind *kind,
                            struct s_run *run, const struct rdsbk_source *src, const char *ident) {
    static const enum rdsbk_db_kind kinds[] = {RDSBK_DB_INSTANCE, RDSBK_DB_CLUSTER};
    struct rdsbk_rds_snapshot_query q = {.snapshot_id = ident};
    struct rdsbk_client *client = NULL;
    int rc = rdsbk_drill_client(&client, &run->clients, src->account, src->region);

    for (size_t k = 0; rc == 0 && *n == 0 && k < 2; k++) {
        *kind = kinds[k];
        if (rdsbk_drill_patterns(NULL, src, *kind) == 0)
            continue;
        rc = rdsbk_drill_describe_snapshots(snaps, n, client, *kind, &q);
        if (rc == RDSBK_ENOTFOUND)
            rc = 0;
        if (rc == 0 && *n == 0) {
            rdsbk_rds_snapshots_free(*snaps, 0);
            *snaps = NULL;
        }
    }
    return rc;
}

/* The pipeline copies the system snapshots of the databases the topology lists: any other would
 * only time out. */
static int s_check_chosen(const struct rdsbk_rds_snapshot *snap, const struct rdsbk_source *src,
                          enum rdsbk_db_kind kind, const char *want) {
    if (!snap->snapshot_type || strcmp(snap->snapshot_type, "automated") != 0)
        return rdsbk_error_set(RDSBK_EINVALID,
                               "snapshot %s is a %s snapshot, not a system (automated) one: the "
                               "pipeline copies system snapshots only",
                               want, snap->snapshot_type ? snap->snapshot_type : "?");
    if (!snap->source_id || !s_configured(src, kind, snap->source_id))
        return rdsbk_error_set(RDSBK_EINVALID,
                               "snapshot %s is of %s, which the topology does not list for "
                               "%s/%s: the pipeline ignores it",
                               want, snap->source_id ? snap->source_id : "?", src->account,
                               src->region);
    return 0;
}

/* --snapshot ID (identifier or ARN): looked up in each source's Region-A; it must be a system
 * snapshot of a database the topology lists (s_check_chosen). */
static int s_targets_from_id(struct s_run *run) {
    const char *want = run->opts->snapshot_id;
    const char *ident = s_snapshot_ident(want);
    const struct rdsbk_source *src = NULL;
    struct rdsbk_rds_snapshot *snaps = NULL;
    enum rdsbk_db_kind kind = RDSBK_DB_INSTANCE;
    size_t n = 0;
    int rc = 0;

    for (size_t s = 0; rc == 0 && n == 0 && s < run->topo->n_sources; s++) {
        src = &run->topo->sources[s];
        rc = s_find_in_source(&snaps, &n, &kind, run, src, ident);
    }
    if (rc == 0 && n == 0)
        rc =
            rdsbk_error_set(RDSBK_ENOTFOUND,
                            "snapshot %s was not found in any source Region of the topology", want);
    if (rc)
        goto cleanup;
    RDSBK_TRY(s_check_chosen(&snaps[0], src, kind, want));
    rc = s_add_target(run, src, snaps[0].source_id, kind, &snaps[0]);

cleanup:
    rdsbk_rds_snapshots_free(snaps, n);
    return rc;
}

static int s_targets(struct s_run *run) {
    const struct rdsbk_topology *topo = run->topo;
    int rc = 0;

    if (run->opts->snapshot_id)
        return s_targets_from_id(run);
    for (size_t s = 0; rc == 0 && s < topo->n_sources; s++) {
        struct rdsbk_drill_db *dbs = NULL;
        size_t n = 0;

        rc = rdsbk_drill_find_dbs(&dbs, &n, &run->clients, &topo->sources[s]);
        for (size_t i = 0; rc == 0 && i < n; i++)
            rc = s_add_target(run, dbs[i].source, dbs[i].database, dbs[i].kind, &dbs[i].newest);
        rdsbk_drill_dbs_free(dbs, n);
    }
    return rc;
}

/* ---- looking at the hops ------------------------------------------------------------------ */

/* Whether the copy `id` of `kind` seen by `client` is there: *done 1 available, 0 not yet,
 * RDSBK_ERROR failed (*message set). Returns 0, RDSBK_ENOTFOUND, or another error. */
static int s_copy_done(int *done, char **message, struct rdsbk_client *client,
                       enum rdsbk_db_kind kind, const char *id) {
    struct rdsbk_rds_snapshot_query q = {.snapshot_id = id};
    struct rdsbk_rds_snapshot *snaps = NULL;
    const char *status;
    size_t n = 0;
    int rc;

    *done = 0;
    rc = rdsbk_drill_describe_snapshots(&snaps, &n, client, kind, &q);
    if (rc == 0 && n == 0)
        rc = RDSBK_ENOTFOUND;
    if (rc == 0) {
        status = snaps[0].status ? snaps[0].status : "";
        *done = strcmp(status, "available") == 0 ? 1 : 0;
        if (strcmp(status, "failed") == 0 || strcmp(status, "error") == 0) {
            rdsbk_strfmt(message, "snapshot %s is %s", id, status);
            *done = RDSBK_ERROR;
        }
    }
    rdsbk_rds_snapshots_free(snaps, n);
    return rc;
}

/* Whether the A/Region-B copy's restore attribute names Account-B: *done 1 or 0. */
static int s_is_shared(int *done, struct rdsbk_client *client, enum rdsbk_db_kind kind,
                       const char *id, const char *account) {
    char **values = NULL;
    size_t n = 0;
    int rc;

    *done = 0;
    rc = kind == RDSBK_DB_CLUSTER
             ? rdsbk_rds_describe_db_cluster_snapshot_attributes(&values, &n, client, id, "restore")
             : rdsbk_rds_describe_db_snapshot_attributes(&values, &n, client, id, "restore");
    for (size_t i = 0; rc == 0 && i < n; i++)
        *done |= strcmp(values[i], account) == 0;
    rdsbk_strings_free(values, n);
    return rc;
}

/* One look at hop `hop` of target `t`: 1 done, 0 not yet (not there yet, or a transient failure
 * to look), negative: failed (message set in the hop). */
static int s_check_hop(struct s_run *run, struct rdsbk_drill_target *t, int hop) {
    const struct rdsbk_topology *topo = run->topo;
    const char *account = hop == RDSBK_HOP_BACKUP_COPY ? topo->backup.account : t->account;
    struct rdsbk_client *client = NULL;
    int done = 0;
    int rc = rdsbk_drill_client(&client, &run->clients, account, topo->backup.region);

    if (rc) {
        t->hops[hop].message = s_error_text();
        return RDSBK_ERROR;
    }
    if (hop == RDSBK_HOP_SHARED)
        rc = s_is_shared(&done, client, t->kind, t->region_copy_id, topo->backup.account);
    else
        rc = s_copy_done(&done, &t->hops[hop].message, client, t->kind,
                         hop == RDSBK_HOP_REGION_COPY ? t->region_copy_id : t->backup_copy_id);
    if (rc == 0)
        return done;
    if (rc == RDSBK_ENOTFOUND)
        return 0;
    if (rdsbk_error_is_transient(rc)) {
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

/* Adds the `n` string members `members` (key, value) to `obj`, in order. */
static int s_add_members(cJSON *obj, const char *const (*members)[2], size_t n) {
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = rdsbk_json_add_str(obj, members[i][0], members[i][1]);
    return rc;
}

/* *out = the text of the event `in` about a snapshot of `kind`. */
static int s_event(char **out, const struct s_rds_event *in, enum rdsbk_db_kind kind,
                   const char *drill_id) {
    bool cluster = kind == RDSBK_DB_CLUSTER;
    cJSON *ev = cJSON_CreateObject();
    cJSON *detail = cJSON_CreateObject();
    char now[40];
    char now_ms[40];
    char id[64];
    const char *const head[][2] = {
        {"version", "0"},
        {"id", id},
        {"detail-type", cluster ? "RDS DB Cluster Snapshot Event" : "RDS DB Snapshot Event"},
        {"source", "aws.rds"},
        {"account", in->account},
        {"time", now},
        {"region", in->region},
    };
    const char *const details[][2] = {
        {"SourceType", cluster ? "CLUSTER_SNAPSHOT" : "SNAPSHOT"},
        {"SourceArn", in->arn},
        {"Date", now_ms},
        {"Message", in->message},
        {"SourceIdentifier", in->identifier},
        {"EventID", in->event_id},
    };
    cJSON *taken;
    int rc;

    *out = NULL;
    RDSBK_CHECK_ALLOC(ev);
    RDSBK_CHECK_ALLOC(detail);
    s_iso_time(now, sizeof(now), time(NULL), false);
    s_iso_time(now_ms, sizeof(now_ms), time(NULL), true);
    snprintf(id, sizeof(id), "rdsbk-drill-%s", drill_id);
    RDSBK_TRY(s_add_members(ev, head, sizeof(head) / sizeof(head[0])));
    RDSBK_TRY(rdsbk_json_add_strs(ev, "resources", &in->arn, 1));
    RDSBK_TRY(rdsbk_json_add_strs(detail, "EventCategories", &in->category, 1));
    RDSBK_TRY(s_add_members(detail, details, sizeof(details) / sizeof(details[0])));
    taken = detail; /* rdsbk_json_add takes it over */
    detail = NULL;
    RDSBK_TRY(rdsbk_json_add(ev, "detail", taken));
    rc = rdsbk_json_text(out, ev);

cleanup:
    cJSON_Delete(ev);
    cJSON_Delete(detail);
    return rc;
}

/* Lambda Invoke (Event) of `function` in A/Region-B with `event`. */
static int s_invoke_with(struct s_run *run, const struct rdsbk_drill_target *t,
                         const char *function, const struct s_rds_event *in) {
    struct rdsbk_lambda_invoke_result res = {0};
    struct rdsbk_client *client = NULL;
    char *event = NULL;
    int rc;

    RDSBK_TRY(rdsbk_drill_client(&client, &run->clients, t->account, run->topo->backup.region));
    RDSBK_TRY(s_event(&event, in, t->kind, run->report->drill_id));
    RDSBK_TRY(rdsbk_lambda_invoke(&res, client, function, "Event", event, strlen(event)));
    if (res.status_code != 202)
        rc = rdsbk_error_set(RDSBK_ERROR, "Invoke of %s answered %ld, not 202", function,
                             res.status_code);

cleanup:
    rdsbk_lambda_invoke_result_clean_up(&res);
    free(event);
    return rc;
}

/* A snapshot whose Region-B copy is already there but never reached the backup account (a hop
 * that was broken then) gets its share step re-driven: the copy function does nothing for a copy
 * that exists, and RDS-EVENT-0060 fires only once. */
static int s_redrive_share(struct s_run *run, const struct rdsbk_drill_target *t) {
    const char *region = run->topo->backup.region;
    struct s_rds_event copied = {
        "RDS-EVENT-0060", "Finished copy of snapshot", "notification", t->account, region, NULL,
        t->region_copy_id};
    char *share_fn = rdsbk_model_name(run->topo->stack, "share", 64);
    char *copy_arn = NULL;
    int rc;

    RDSBK_CHECK_ALLOC(share_fn);
    RDSBK_TRY(rdsbk_strfmt(
        &copy_arn, "arn:%s:rds:%s:%s:%s:%s", rdsbk_partition_of_region(region), region, t->account,
        t->kind == RDSBK_DB_CLUSTER ? "cluster-snapshot" : "snapshot", t->region_copy_id));
    copied.arn = copy_arn;
    s_progress(run,
               "%s: the Region-B copy %s is there but not in the backup account: "
               "re-driving %s with RDS-EVENT-0060",
               t->database, t->region_copy_id, share_fn);
    rc = s_invoke_with(run, t, share_fn, &copied);

cleanup:
    free(share_fn);
    free(copy_arn);
    return rc;
}

/* Invokes the copy function with the event EventBridge forwards from Region-A for a new system
 * snapshot (what templates/lambda/copy_snapshot.py reads: source, detail-type, detail.EventID
 * and SourceArn), then re-drives the share step where it is wanted (s_redrive_share). */
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
    struct rdsbk_drill_hop *h = &t->hops[RDSBK_HOP_INVOKE];
    double t0 = rdsbk_clock_now();
    int rc = s_invoke_with(run, t, run->report->copy_function, &created);

    if (rc == 0 && t->hops[RDSBK_HOP_REGION_COPY].existed &&
        !t->hops[RDSBK_HOP_BACKUP_COPY].existed)
        rc = s_redrive_share(run, t);
    h->seconds = rdsbk_clock_now() - t0;
    h->result = rc ? RDSBK_DRILL_FAILED : RDSBK_DRILL_OK;
    if (rc)
        h->message = s_error_text();
    return rc;
}

/* ---- polling ------------------------------------------------------------------------------ */

/*
 * One pass's turn of target `i` in s_poll_all: `end` is RDSBK_DRILL_PENDING, or the timeout or
 * interruption that ends every wait; *now is the time, which a look at AWS moves on. Returns
 * whether the target is still waited for.
 */
typedef bool (*s_turn_fn)(struct s_run *run, size_t i, enum rdsbk_drill_result end, double *now);

/* Gives every target its turn, a slice apart, until none is waited for; from `deadline` on, or
 * once a stop is asked for, the turns end the waits. */
static void s_poll_all(struct s_run *run, double deadline, s_turn_fn turn) {
    bool pending = true;

    while (pending) {
        double now = rdsbk_clock_now();
        enum rdsbk_drill_result end = RDSBK_DRILL_PENDING;

        if (s_stop_level(run) > 0)
            end = RDSBK_DRILL_INTERRUPTED;
        else if (now >= deadline)
            end = RDSBK_DRILL_TIMEOUT;
        pending = false;
        for (size_t i = 0; i < run->report->n_targets; i++)
            if (turn(run, i, end, &now))
                pending = true;
        if (pending)
            s_sleep_slice();
    }
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
    s_poll_start(&f->poll, run, now);
}

/* The turn of a target following its hops (s_turn_fn). */
static bool s_hop_turn(struct s_run *run, size_t i, enum rdsbk_drill_result end, double *now) {
    struct s_follow *f = &run->follow[i];
    int rc;

    if (f->hop >= RDSBK_HOP_COUNT)
        return false;
    if (end != RDSBK_DRILL_PENDING) {
        s_finish_hop(run, i, end, *now);
    } else if (*now >= f->poll.next) {
        rc = s_check_hop(run, &run->report->targets[i], f->hop);
        *now = rdsbk_clock_now();
        if (rc < 0)
            s_finish_hop(run, i, RDSBK_DRILL_FAILED, *now);
        else if (rc == 1)
            s_finish_hop(run, i, RDSBK_DRILL_OK, *now);
        else
            s_poll_again(&f->poll, *now);
    }
    return f->hop < RDSBK_HOP_COUNT;
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

    return rdsbk_str_in(status, bad, sizeof(bad) / sizeof(bad[0]));
}

/* *out = rdsbk-<stack>-drill-<id>[-<n>], a valid DB identifier (no "--", no trailing '-'). */
static int s_instance_name(char **out, const struct s_run *run, size_t n_restores, size_t index) {
    const char *stack = run->topo->stack;
    const char *id = run->report->drill_id;
    int rc = n_restores > 1 ? rdsbk_strfmt(out, "rdsbk-%s-drill-%s-%zu", stack, id, index + 1)
                            : rdsbk_strfmt(out, "rdsbk-%s-drill-%s", stack, id);
    char *w = *out;

    if (rc)
        return rc;
    for (const char *r = *out; *r; r++) {
        if (*r == '-' && w > *out && w[-1] == '-')
            continue;
        *w++ = *r;
    }
    *w = '\0';
    return 0;
}

static int s_start_restore(struct s_run *run, size_t i, size_t n_restores, size_t index) {
    struct rdsbk_drill_target *t = &run->report->targets[i];
    struct s_follow *f = &run->follow[i];
    struct rdsbk_tag tags[] = {{"rdsbk:drill", run->report->drill_id},
                               {"rdsbk:stack", run->topo->stack}};
    struct rdsbk_rds_restore_input in = {
        .snapshot_id = t->backup_copy_id,
        .instance_class = run->opts->instance_class ? run->opts->instance_class : S_DEFAULT_CLASS,
        .subnet_group = run->opts->subnet_group,
        .publicly_accessible = false,
        .set_publicly_accessible = true,
        .tags = tags,
        .n_tags = sizeof(tags) / sizeof(tags[0]),
    };
    struct rdsbk_client *client = NULL;
    int rc;

    if (s_backup_client(&client, run)) {
        t->restore.result = RDSBK_DRILL_FAILED;
        t->restore.message = s_error_text();
        return 0;
    }
    rc = s_instance_name(&t->restore.instance_id, run, n_restores, index);
    if (rc)
        return rc;
    in.instance_id = t->restore.instance_id;
    f->restore_start = rdsbk_clock_now();
    if (rdsbk_rds_restore_db_instance_from_db_snapshot(NULL, client, &in)) {
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
    f->restoring = true;
    s_poll_start(&f->restore_poll, run, rdsbk_clock_now());
    return 0;
}

/* One look at a restoring instance: 1 available, 0 not yet (or a transient failure to look), -1
 * failed (message set). */
static int s_check_restore(struct s_run *run, struct rdsbk_drill_target *t) {
    struct rdsbk_client *client = NULL;
    struct rdsbk_rds_instance *inst = NULL;
    size_t n = 0;
    int done = 0;
    int rc;

    if (s_backup_client(&client, run))
        return 0;
    rc = rdsbk_rds_describe_db_instances(&inst, &n, client, t->restore.instance_id);
    if (rc == 0 && n > 0 && inst[0].status) {
        if (strcmp(inst[0].status, "available") == 0) {
            done = 1;
        } else if (s_restore_failed(inst[0].status)) {
            rdsbk_strfmt(&t->restore.message, "instance %s is %s", t->restore.instance_id,
                         inst[0].status);
            done = -1;
        }
    } else if (rc && rc != RDSBK_ENOTFOUND && !rdsbk_error_is_transient(rc)) {
        t->restore.message = s_error_text();
        done = -1;
    }
    rdsbk_rds_instances_free(inst, n);
    return done;
}

/* The restore of `t` ended with `result` at `now`. */
static void s_end_restore(struct rdsbk_drill_target *t, struct s_follow *f,
                          enum rdsbk_drill_result result, double now) {
    t->restore.result = result;
    t->restore.seconds = now - f->restore_start;
    f->restoring = false;
}

/* The turn of a target whose restore is waited for (s_turn_fn). */
static bool s_restore_turn(struct s_run *run, size_t i, enum rdsbk_drill_result end, double *now) {
    struct rdsbk_drill_target *t = &run->report->targets[i];
    struct s_follow *f = &run->follow[i];
    int rc;

    if (!f->restoring)
        return false;
    if (end != RDSBK_DRILL_PENDING) {
        s_end_restore(t, f, end, *now);
        return false;
    }
    if (*now < f->restore_poll.next)
        return true;
    rc = s_check_restore(run, t);
    *now = rdsbk_clock_now();
    if (rc == 0) {
        s_poll_again(&f->restore_poll, *now);
        return true;
    }
    s_end_restore(t, f, rc == 1 ? RDSBK_DRILL_OK : RDSBK_DRILL_FAILED, *now);
    s_progress(run, "%s: restored instance %s %s after %.1fs", t->database, t->restore.instance_id,
               rc == 1 ? "available" : rdsbk_drill_result_name(t->restore.result),
               t->restore.seconds);
    return false;
}

/* DeleteDBInstance of the restored instance, again while RDS refuses because it is still being
 * created (or cannot be asked), until the deadline or a second Ctrl-C. Whether it went. */
static bool s_delete_retrying(struct s_run *run, struct rdsbk_drill_target *t,
                              struct rdsbk_client *client) {
    double deadline = rdsbk_clock_now() + (double)run->opts->timeout_s;
    struct rdsbk_backoff backoff;

    rdsbk_backoff_init(&backoff, run->initial_ms, run->max_ms, 1.5, 0);
    for (;;) {
        int rc = rdsbk_rds_delete_db_instance(client, t->restore.instance_id, true, NULL, true);
        const char *code = rdsbk_error_last()->aws_code;
        double until;

        if (rc == 0 || rc == RDSBK_ENOTFOUND)
            return true;
        if (strcmp(code, "InvalidDBInstanceState") != 0 && !rdsbk_error_is_transient(rc))
            return false;
        /* still creating (or modifying): it can only be deleted once RDS lets go of it */
        s_progress(run, "%s: %s cannot be deleted yet (%s); waiting", t->database,
                   t->restore.instance_id, code[0] ? code : rdsbk_error_last()->message);
        until = rdsbk_clock_now() + (double)rdsbk_backoff_next_ms(&backoff) / 1e3;
        while (s_stop_level(run) < 2 && rdsbk_clock_now() < until)
            s_sleep_slice();
        if (s_stop_level(run) >= 2 || rdsbk_clock_now() >= deadline)
            return false;
    }
}

/* Deletes the restored instance (s_delete_retrying); one that could not be deleted is a leftover
 * of the report. */
static void s_delete_instance(struct s_run *run, struct rdsbk_drill_target *t) {
    struct rdsbk_client *client = NULL;

    if (s_backup_client(&client, run) == 0 && s_delete_retrying(run, t, client)) {
        t->restore.deleted = true;
        s_progress(run, "%s: deleted the restored instance %s", t->database,
                   t->restore.instance_id);
        return;
    }
    if (!t->restore.message)
        t->restore.message = s_error_text();
    run->report->leftover = true;
}

/* Which targets a restore test is for (PENDING), and why not for the others; returns how many. */
static size_t s_plan_restores(struct s_run *run) {
    size_t n_restores = 0;

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
    return n_restores;
}

static int s_restore_tests(struct s_run *run) {
    size_t n_restores = s_plan_restores(run);
    size_t index = 0;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < run->report->n_targets; i++) {
        if (run->report->targets[i].restore.result != RDSBK_DRILL_PENDING)
            continue;
        if (s_stop_level(run) > 0) {
            run->report->targets[i].restore.result = RDSBK_DRILL_INTERRUPTED;
            continue;
        }
        rc = s_start_restore(run, i, n_restores, index++);
    }
    s_poll_all(run, rdsbk_clock_now() + (double)run->opts->timeout_s, s_restore_turn);
    /* always: every instance started is deleted, whatever happened above */
    for (size_t i = 0; i < run->report->n_targets; i++) {
        struct rdsbk_drill_target *t = &run->report->targets[i];
        if (t->restore.instance_id)
            s_delete_instance(run, t);
    }
    return rc;
}

/* ---- cleanup ------------------------------------------------------------------------------ */

static bool s_delete_copy(struct s_run *run, struct rdsbk_drill_target *t, const char *account,
                          const char *id) {
    struct rdsbk_client *client = NULL;
    int rc;

    if (rdsbk_drill_client(&client, &run->clients, account, run->topo->backup.region))
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

/* The report's header, the clients, the targets and their polling state. */
static int s_prepare(struct s_run *run) {
    struct rdsbk_drill_report *r = run->report;
    int rc;

    RDSBK_TRY(s_random_id(r->drill_id));
    RDSBK_TRY(rdsbk_strdup_into(&r->stack, run->topo->stack));
    RDSBK_TRY(rdsbk_strdup_into(&r->backup_region, run->topo->backup.region));
    r->copy_function = rdsbk_model_name(run->topo->stack, "copy", 64);
    RDSBK_CHECK_ALLOC(r->copy_function);
    snprintf(r->backup_account, sizeof(r->backup_account), "%s", run->topo->backup.account);
    RDSBK_TRY(rdsbk_drill_clients_init(&run->clients, run->topo));
    RDSBK_TRY(s_targets(run));
    if (r->n_targets == 0) {
        rc = rdsbk_error_set(RDSBK_ENOTFOUND, "the topology names no database to drill");
        goto cleanup;
    }
    run->follow = calloc(r->n_targets, sizeof(*run->follow));
    RDSBK_CHECK_ALLOC(run->follow);

cleanup:
    return rc;
}

/* 2, 3: what is there already, then the invocations; the targets invoked wait for their
 * region-copy hop. */
static void s_start_targets(struct s_run *run) {
    for (size_t i = 0; i < run->report->n_targets; i++) {
        struct rdsbk_drill_target *t = &run->report->targets[i];
        struct s_follow *f = &run->follow[i];

        f->hop = RDSBK_HOP_COUNT;
        if (t->error || s_stop_level(run) > 0) {
            for (int h = 0; h < RDSBK_HOP_COUNT; h++)
                t->hops[h].result = t->error ? RDSBK_DRILL_SKIPPED : RDSBK_DRILL_INTERRUPTED;
            if (t->error)
                s_progress(run, "%s: %s", t->database, t->error);
            continue;
        }
        s_note_existing(run, t);
        if (s_invoke(run, t)) {
            for (int h = RDSBK_HOP_REGION_COPY; h < RDSBK_HOP_COUNT; h++)
                t->hops[h].result = RDSBK_DRILL_SKIPPED;
            s_progress(run, "%s: invoking %s failed: %s", t->database, run->report->copy_function,
                       t->hops[RDSBK_HOP_INVOKE].message);
            continue;
        }
        s_progress(run, "%s: invoked %s with %s (%s)", t->database, run->report->copy_function,
                   t->snapshot_id,
                   t->kind == RDSBK_DB_CLUSTER ? "RDS-EVENT-0169" : "RDS-EVENT-0091");
        f->hop = RDSBK_HOP_REGION_COPY;
        f->hop_start = rdsbk_clock_now();
        s_poll_start(&f->poll, run, f->hop_start);
    }
}

/* 4, then each target's time through the hops that went through. */
static void s_follow_hops(struct s_run *run) {
    s_poll_all(run, run->start + (double)run->opts->timeout_s, s_hop_turn);
    for (size_t i = 0; i < run->report->n_targets; i++) {
        struct rdsbk_drill_target *t = &run->report->targets[i];
        for (int h = 0; h < RDSBK_HOP_COUNT; h++)
            t->total_s += t->hops[h].result == RDSBK_DRILL_OK ? t->hops[h].seconds : 0;
    }
}

int rdsbk_drill_run(struct rdsbk_drill_report **out, const struct rdsbk_topology *topo,
                    const struct rdsbk_drill_options *opts) {
    struct rdsbk_drill_options defaults = *opts;
    struct s_run run = {.topo = topo, .opts = &defaults};
    int rc;

    *out = NULL;
    if (defaults.timeout_s <= 0)
        defaults.timeout_s = S_DEFAULT_TIMEOUT_S;
    run.start = rdsbk_clock_now();
    run.initial_ms = opts->poll_initial_ms > 0 ? opts->poll_initial_ms : 500;
    run.max_ms = opts->poll_max_ms > 0 ? opts->poll_max_ms : 20000;
    if (run.max_ms < run.initial_ms)
        run.max_ms = run.initial_ms;
    run.report = calloc(1, sizeof(*run.report));
    RDSBK_CHECK_ALLOC(run.report);
    RDSBK_TRY(s_prepare(&run));
    s_start_targets(&run);
    s_follow_hops(&run);
    /* 5, 6: both run on every path from here, including a timeout or Ctrl-C */
    rc = s_restore_tests(&run);
    if (opts->cleanup)
        s_cleanup_copies(&run);
    run.report->total_s = rdsbk_clock_now() - run.start;
    run.report->ok = rc == 0;
    for (size_t i = 0; i < run.report->n_targets; i++)
        run.report->ok &= s_target_ok(&run, &run.report->targets[i]);
    if (rc == 0) {
        *out = run.report;
        run.report = NULL;
    }

cleanup:
    free(run.follow);
    rdsbk_drill_clients_clean_up(&run.clients);
    rdsbk_drill_report_free(run.report);
    return rc;
}
