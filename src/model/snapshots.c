/*
 * How many manual snapshots retention keeps, at steady state, in each account and Region the
 * pipeline copies into, against RDS's quotas there (100 DB snapshots and 100 DB cluster
 * snapshots per account and Region unless raised). Every day adds a copy of each database at each
 * hop and retention deletes those past its days, so a database holds max(days + 1, keep_last)
 * copies at a hop: a source account's Region-B holds its databases' intermediate copies, the
 * backup account's Region-B the backup copies of every source's databases.
 */
#include "model_internal.h"

#include "rdsbk/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_max(int a, int b) {
    return a > b ? a : b;
}

/* The estimate of `kind` (0: DB snapshots, 1: cluster snapshots) in `account`, or a new one. */
static struct rdsbk_snapshot_estimate *s_place(struct rdsbk_graph *g, const char *account,
                                               int kind) {
    static const char *const names[] = {"ManualSnapshots", "ManualClusterSnapshots"};
    struct rdsbk_snapshot_estimate *e;

    for (size_t i = 0; i < g->n_snapshots; i++) {
        e = &g->snapshots[i];
        if (strcmp(e->account, account) == 0 && e->quota_name == names[kind])
            return e;
    }
    e = &g->snapshots[g->n_snapshots++];
    memset(e, 0, sizeof(*e));
    snprintf(e->account, sizeof(e->account), "%s", account);
    e->region = g->region;
    e->quota_name = names[kind];
    return e;
}

/* Counts `dbs` databases of `kind` kept `per_database` days in `account`, under `quota`. */
static void s_count(struct rdsbk_graph *g, const char *account, int kind, size_t dbs,
                    int per_database, const char *setting, int quota, const char *quota_setting) {
    struct rdsbk_snapshot_estimate *e;

    if (dbs == 0)
        return;
    e = s_place(g, account, kind);
    e->databases += (int)dbs;
    e->per_database = per_database;
    e->setting = setting;
    if (quota >= e->quota) { /* sources of one account: the largest quota any declares */
        e->quota = quota;
        e->quota_setting = quota_setting;
    }
}

int rdsbk_model_estimate_snapshots(struct rdsbk_graph *g, const struct rdsbk_topology *t) {
    const struct rdsbk_retention *r = &t->retention;
    int intermediate = s_max(r->intermediate_days + 1, r->keep_last);
    int backup = s_max(r->backup_days + 1, r->keep_last);
    const struct rdsbk_snapshot_quotas *bq = &t->backup.quotas;

    /* at most two kinds in each source account and in the backup account */
    g->snapshots = calloc(2 * (t->n_sources + 1), sizeof(*g->snapshots));
    if (!g->snapshots)
        return rdsbk_error_oom();
    for (size_t i = 0; i < t->n_sources; i++) {
        const struct rdsbk_source *s = &t->sources[i];
        const char *at = "sources[].manual_snapshot_quota";
        const char *cat = "sources[].manual_cluster_snapshot_quota";
        s_count(g, s->account, 0, s->n_instances, intermediate, "retention.intermediate_days",
                s->quotas.manual_snapshots, at);
        s_count(g, s->account, 1, s->n_clusters, intermediate, "retention.intermediate_days",
                s->quotas.manual_cluster_snapshots, cat);
    }
    for (size_t i = 0; i < t->n_sources; i++) {
        const struct rdsbk_source *s = &t->sources[i];
        s_count(g, t->backup.account, 0, s->n_instances, backup, "retention.backup_days",
                bq->manual_snapshots, "backup.manual_snapshot_quota");
        s_count(g, t->backup.account, 1, s->n_clusters, backup, "retention.backup_days",
                bq->manual_cluster_snapshots, "backup.manual_cluster_snapshot_quota");
    }
    return 0;
}
