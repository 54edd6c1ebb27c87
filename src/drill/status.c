/*
 * status: for every configured database, the newest snapshot at each of the pipeline's three
 * places, read with one DescribeDB[Cluster]Snapshots listing per place and kind:
 *
 *   A/Region-A  automated  rds:<db>-<stamp>        (per source)
 *   A/Region-B  manual     <db>-<stamp>            (per source account, shared by its sources)
 *   B/Region-B  manual     <db>-<stamp>-<A>        (once)
 */
#include "drill_internal.h"
#include "rdsbk/error.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A listing of one place and kind. */
struct s_listing {
    char account[RDSBK_ACCOUNT_LEN + 1];
    enum rdsbk_db_kind kind;
    struct rdsbk_rds_snapshot *snaps;
    size_t n;
};

struct s_run {
    const struct rdsbk_topology *topo;
    struct rdsbk_drill_clients *clients;
    struct s_listing **listings; /* A/Region-B per account and kind, and B (stable pointers) */
    size_t n_listings;
    struct rdsbk_status_report *report;
    size_t cap_rows;
};

void rdsbk_status_report_free(struct rdsbk_status_report *r) {
    if (!r)
        return;
    for (size_t i = 0; i < r->n_rows; i++) {
        struct rdsbk_status_row *row = &r->rows[i];
        struct rdsbk_status_snapshot *s[] = {&row->source, &row->region_copy, &row->backup_copy};
        free(row->region);
        free(row->database);
        for (size_t k = 0; k < 3; k++) {
            free(s[k]->id);
            free(s[k]->status);
        }
    }
    free(r->rows);
    free(r->stack);
    free(r->backup_region);
    free(r);
}

bool rdsbk_status_row_fresh(const struct rdsbk_status_row *row, time_t now, long long max_age_s) {
    if (row->backup_available_time == 0)
        return false;
    return max_age_s <= 0 || (long long)(now - row->backup_available_time) <= max_age_s;
}

/* The manual snapshots of `kind` in `account`/`region`, listed once per run. */
static int s_listing(const struct s_listing **out, struct s_run *run, const char *account,
                     const char *region, enum rdsbk_db_kind kind) {
    struct rdsbk_rds_snapshot_query q = {0};
    struct rdsbk_client *client;
    struct s_listing **grown;
    struct s_listing *l;
    int rc;

    *out = NULL;
    for (size_t i = 0; i < run->n_listings; i++) {
        if (strcmp(run->listings[i]->account, account) == 0 && run->listings[i]->kind == kind) {
            *out = run->listings[i];
            return 0;
        }
    }
    rc = rdsbk_drill_client(&client, run->clients, account, region);
    if (rc)
        return rc;
    grown = realloc(run->listings, (run->n_listings + 1) * sizeof(*grown));
    if (!grown)
        return rdsbk_error_oom();
    run->listings = grown;
    l = calloc(1, sizeof(*l));
    if (!l)
        return rdsbk_error_oom();
    snprintf(l->account, sizeof(l->account), "%s", account);
    l->kind = kind;
    q.snapshot_type = "manual";
    rc = kind == RDSBK_DB_CLUSTER
             ? rdsbk_rds_describe_db_cluster_snapshots(&l->snaps, &l->n, client, &q)
             : rdsbk_rds_describe_db_snapshots(&l->snaps, &l->n, client, &q);
    if (rc) {
        free(l);
        return rc;
    }
    run->listings[run->n_listings++] = l;
    *out = l;
    return 0;
}

static int s_set(struct rdsbk_status_snapshot *dst, const struct rdsbk_rds_snapshot *src) {
    dst->id = strdup(src->id);
    dst->status = strdup(src->status ? src->status : "");
    dst->create_time = src->create_time;
    return dst->id && dst->status ? 0 : rdsbk_error_oom();
}

static bool s_newer(const struct rdsbk_rds_snapshot *cand, const struct rdsbk_rds_snapshot *have) {
    return !have || cand->create_time > have->create_time ||
           (cand->create_time == have->create_time && strcmp(cand->id, have->id) > 0);
}

/* The stamp of a pipeline name, "" when it has none. */
static void s_stamp(char out[17], const char *id) {
    struct rdsbk_snapshot_name name;

    out[0] = '\0';
    if (id && rdsbk_snapshot_name_parse(&name, id) == 0)
        memcpy(out, name.stamp, 17);
}

static void s_decide(struct rdsbk_status_row *row, time_t now) {
    char src_stamp[17];
    char reg_stamp[17];
    char bak_stamp[17];

    s_stamp(src_stamp, row->source.id);
    s_stamp(reg_stamp, row->region_copy.id);
    s_stamp(bak_stamp, row->backup_copy.id);
    row->lag_s = -1;
    if (!row->source.id && !row->backup_copy.id) {
        row->state = "no-snapshot";
        return;
    }
    if (!row->source.id) {
        /* system snapshots expired, the backup stays: report it by its age alone */
        row->state = strcmp(row->backup_copy.status, "available") == 0 ? "ok" : "copying";
        return;
    }
    if (strcmp(src_stamp, bak_stamp) == 0) {
        if (strcmp(row->backup_copy.status, "available") == 0) {
            row->state = "ok";
            row->lag_s = (long long)(row->backup_copy.create_time - row->source.create_time);
            if (row->lag_s < 0)
                row->lag_s = 0;
        } else {
            row->state = "copying";
            row->lag_s = (long long)(now - row->source.create_time);
        }
        return;
    }
    /* the newest system snapshot has no backup copy yet: on its way, or the pipeline is stuck */
    if (!row->backup_copy.id)
        row->state = "missing";
    else if (src_stamp[0] && strcmp(src_stamp, reg_stamp) == 0)
        row->state = "copying";
    else
        row->state = "behind";
    row->lag_s = (long long)(now - row->source.create_time);
}

static struct rdsbk_status_row *s_new_row(struct s_run *run) {
    struct rdsbk_status_report *r = run->report;

    if (r->n_rows == run->cap_rows) {
        size_t cap = run->cap_rows ? run->cap_rows * 2 : 8;
        struct rdsbk_status_row *grown = realloc(r->rows, cap * sizeof(*grown));
        if (!grown)
            return NULL;
        r->rows = grown;
        run->cap_rows = cap;
    }
    memset(&r->rows[r->n_rows], 0, sizeof(r->rows[0]));
    return &r->rows[r->n_rows++];
}

static int s_row(struct s_run *run, const struct rdsbk_drill_db *db) {
    const struct rdsbk_source *src = db->source;
    const struct rdsbk_topology *t = run->topo;
    const struct s_listing *region_b = NULL;
    const struct s_listing *backup = NULL;
    const struct rdsbk_rds_snapshot *best_region = NULL;
    const struct rdsbk_rds_snapshot *best_backup = NULL;
    struct rdsbk_status_row *row = s_new_row(run);
    int rc;

    if (!row)
        return rdsbk_error_oom();
    snprintf(row->account, sizeof(row->account), "%s", src->account);
    row->region = strdup(src->region);
    row->database = strdup(db->database);
    row->kind = db->kind;
    if (!row->region || !row->database)
        return rdsbk_error_oom();
    if (db->newest.id) {
        rc = s_set(&row->source, &db->newest);
        if (rc)
            return rc;
    }
    rc = s_listing(&region_b, run, src->account, t->backup.region, db->kind);
    if (rc == 0)
        rc = s_listing(&backup, run, t->backup.account, t->backup.region, db->kind);
    if (rc)
        return rc;
    for (size_t i = 0; i < region_b->n; i++) {
        const struct rdsbk_rds_snapshot *s = &region_b->snaps[i];
        if (rdsbk_drill_is_region_copy(s, db->database, src->account, src->region) &&
            s_newer(s, best_region))
            best_region = s;
    }
    for (size_t i = 0; i < backup->n; i++) {
        const struct rdsbk_rds_snapshot *s = &backup->snaps[i];
        if (!rdsbk_drill_is_backup_copy(s, db->database, src->account))
            continue;
        if (s_newer(s, best_backup))
            best_backup = s;
        if (s->status && strcmp(s->status, "available") == 0 &&
            s->create_time > row->backup_available_time)
            row->backup_available_time = s->create_time;
    }
    if (best_region) {
        rc = s_set(&row->region_copy, best_region);
        if (rc)
            return rc;
    }
    if (best_backup) {
        rc = s_set(&row->backup_copy, best_backup);
        if (rc)
            return rc;
    }
    s_decide(row, run->report->now);
    return 0;
}

int rdsbk_status_collect(struct rdsbk_status_report **out, const struct rdsbk_topology *topo) {
    struct s_run run;
    struct rdsbk_drill_db *dbs = NULL;
    size_t n_dbs = 0;
    int result;

    *out = NULL;
    memset(&run, 0, sizeof(run));
    run.topo = topo;
    run.report = calloc(1, sizeof(*run.report));
    if (!run.report) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    run.report->now = time(NULL);
    run.report->stack = strdup(topo->stack);
    run.report->backup_region = strdup(topo->backup.region);
    snprintf(run.report->backup_account, sizeof(run.report->backup_account), "%s",
             topo->backup.account);
    if (!run.report->stack || !run.report->backup_region) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    result = rdsbk_drill_clients_new(&run.clients, topo);
    for (size_t s = 0; result == 0 && s < topo->n_sources; s++) {
        result = rdsbk_drill_find_dbs(&dbs, &n_dbs, run.clients, &topo->sources[s]);
        for (size_t i = 0; result == 0 && i < n_dbs; i++)
            result = s_row(&run, &dbs[i]);
        rdsbk_drill_dbs_free(dbs, n_dbs);
        dbs = NULL;
        n_dbs = 0;
    }
    if (result)
        goto cleanup;
    *out = run.report;
    run.report = NULL;

cleanup:
    for (size_t i = 0; i < run.n_listings; i++) {
        rdsbk_rds_snapshots_free(run.listings[i]->snaps, run.listings[i]->n);
        free(run.listings[i]);
    }
    free(run.listings);
    rdsbk_drill_clients_free(run.clients);
    rdsbk_status_report_free(run.report);
    return result;
}
