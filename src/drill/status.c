/*
 * status: for every configured database, the newest snapshot at each of the pipeline's three
 * places, read with one DescribeDB[Cluster]Snapshots listing per place and kind:
 *
 *   A/Region-A  automated  rds:<db>-<stamp>        (per source)
 *   A/Region-B  manual     <db>-<stamp>            (per source account, shared by its sources)
 *   B/Region-B  manual     <db>-<stamp>-<A>        (once)
 *
 * and the manual snapshot quotas of the places that hold the pipeline's copies (each source
 * account and the backup account, in Region-B), one DescribeAccountAttributes per account.
 */
#include "drill_internal.h"
#include "rdsbk/error.h"
#include "rdsbk/json_util.h"
#include "rdsbk/services/cloudformation.h"
#include "rdsbk/services/kms.h"
#include "rdsbk/str.h"

#include <cjson/cJSON.h>
#include <limits.h>
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

/* A key the sources' snapshots are encrypted with, described once per run. */
struct s_key_seen {
    char *arn;
    bool customer; /* KeyManager CUSTOMER */
};

struct s_run {
    const struct rdsbk_topology *topo;
    struct rdsbk_drill_clients clients;
    struct s_listing **listings; /* A/Region-B per account and kind, and B (stable pointers) */
    size_t n_listings;
    struct s_key_seen *keys;
    size_t n_keys;
    struct rdsbk_status_report *report;
};

void rdsbk_status_report_free(struct rdsbk_status_report *r) {
    if (!r)
        return;
    for (size_t i = 0; i < r->n_rows; i++) {
        struct rdsbk_status_row *row = &r->rows[i];
        struct rdsbk_status_snapshot *s[] = {&row->source, &row->region_copy, &row->backup_copy};
        free(row->region);
        free(row->database);
        free(row->undeclared_key);
        for (size_t k = 0; k < 3; k++) {
            free(s[k]->id);
            free(s[k]->status);
        }
    }
    for (size_t i = 0; i < r->n_quotas; i++) {
        free(r->quotas[i].region);
        free(r->quotas[i].error);
    }
    for (size_t i = 0; i < r->n_instances; i++) {
        struct rdsbk_status_instance *in = &r->instances[i];
        free(in->ou);
        free(in->stack_set);
        free(in->region);
        free(in->status);
        free(in->detailed_status);
        free(in->reason);
        free(in->read_error);
    }
    free(r->instances);
    rdsbk_status_failures_free(r);
    free(r->quotas);
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

/* What the run read once for all rows: the listings and the keys it described. */
static void s_listings_free(struct s_run *run) {
    for (size_t i = 0; i < run->n_listings; i++) {
        rdsbk_rds_snapshots_free(run->listings[i]->snaps, run->listings[i]->n);
        free(run->listings[i]);
    }
    free(run->listings);
    for (size_t i = 0; i < run->n_keys; i++)
        free(run->keys[i].arn);
    free(run->keys);
}

/* The manual snapshots of `kind` in `account`/`region`, listed once per run. */
static int s_listing(const struct s_listing **out, struct s_run *run, const char *account,
                     const char *region, enum rdsbk_db_kind kind) {
    struct rdsbk_rds_snapshot_query q = {.snapshot_type = "manual"};
    struct rdsbk_client *client = NULL;
    struct s_listing **grown;
    struct s_listing *l = NULL;
    int rc;

    *out = NULL;
    for (size_t i = 0; i < run->n_listings; i++) {
        if (strcmp(run->listings[i]->account, account) == 0 && run->listings[i]->kind == kind) {
            *out = run->listings[i];
            return 0;
        }
    }
    RDSBK_TRY(rdsbk_drill_client(&client, &run->clients, account, region));
    grown = realloc(run->listings, (run->n_listings + 1) * sizeof(*grown));
    RDSBK_CHECK_ALLOC(grown);
    run->listings = grown;
    l = calloc(1, sizeof(*l));
    RDSBK_CHECK_ALLOC(l);
    snprintf(l->account, sizeof(l->account), "%s", account);
    l->kind = kind;
    RDSBK_TRY(rdsbk_drill_describe_snapshots(&l->snaps, &l->n, client, kind, &q));
    run->listings[run->n_listings++] = l;
    *out = l;
    l = NULL;

cleanup:
    free(l);
    return rc;
}

/* Copies snapshot `src` (NULL: none was found) into `dst`. */
static int s_set(struct rdsbk_status_snapshot *dst, const struct rdsbk_rds_snapshot *src) {
    int rc;

    if (!src)
        return 0;
    dst->create_time = src->create_time;
    dst->encrypted = src->encrypted;
    rc = rdsbk_strdup_into(&dst->id, src->id);
    if (rc == 0)
        rc = rdsbk_strdup_into(&dst->status, src->status ? src->status : "");
    return rc;
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

/* A new row of the report for `db`, with its identity. */
static int s_new_row(struct rdsbk_status_row **out, struct s_run *run,
                     const struct rdsbk_drill_db *db) {
    struct rdsbk_status_report *r = run->report;
    struct rdsbk_status_row *grown = realloc(r->rows, (r->n_rows + 1) * sizeof(*grown));
    struct rdsbk_status_row *row;
    int rc;

    *out = NULL;
    if (!grown)
        return rdsbk_error_oom();
    r->rows = grown;
    row = memset(&grown[r->n_rows++], 0, sizeof(*row));
    snprintf(row->account, sizeof(row->account), "%s", db->source->account);
    row->kind = db->kind;
    rc = rdsbk_strdup_into(&row->region, db->source->region);
    if (rc == 0)
        rc = rdsbk_strdup_into(&row->database, db->database);
    *out = row;
    return rc;
}

/* The newest Region-B copy of `db` in `l`, or NULL. */
static const struct rdsbk_rds_snapshot *
s_newest_region_copy(const struct s_listing *l, const struct rdsbk_drill_db *db, const char *base) {
    const struct rdsbk_rds_snapshot *best = NULL;

    for (size_t i = 0; i < l->n; i++) {
        const struct rdsbk_rds_snapshot *s = &l->snaps[i];
        if (rdsbk_drill_is_region_copy(s, base, db->source->account, db->source->region) &&
            rdsbk_drill_newer(s, best))
            best = s;
    }
    return best;
}

/* The newest backup copy of `db` in `l`, or NULL; and in *available_time the creation of the
 * newest available one (0: none). */
static const struct rdsbk_rds_snapshot *s_newest_backup_copy(time_t *available_time,
                                                             const struct s_listing *l,
                                                             const struct rdsbk_drill_db *db,
                                                             const char *base) {
    const struct rdsbk_rds_snapshot *best = NULL;

    *available_time = 0;
    for (size_t i = 0; i < l->n; i++) {
        const struct rdsbk_rds_snapshot *s = &l->snaps[i];
        if (!rdsbk_drill_is_backup_copy(s, base, db->source->account))
            continue;
        if (rdsbk_drill_newer(s, best))
            best = s;
        if (s->status && strcmp(s->status, "available") == 0 && s->create_time > *available_time)
            *available_time = s->create_time;
    }
    return best;
}

/* Whether `key` is one the copy role cannot use: a customer-managed key (DescribeKey in the
 * snapshot's account and Region) that the source's kms_keys does not name. A key that cannot be
 * described is not judged. */
static bool s_key_undeclared(struct s_run *run, const struct rdsbk_drill_db *db, const char *key) {
    struct rdsbk_client *client = NULL;
    struct s_key_seen *grown;
    cJSON *meta = NULL;
    bool customer = false;

    for (size_t k = 0; k < db->source->n_kms_keys; k++)
        if (strcmp(db->source->kms_keys[k], key) == 0)
            return false;
    for (size_t k = 0; k < run->n_keys; k++)
        if (strcmp(run->keys[k].arn, key) == 0)
            return run->keys[k].customer;
    if (rdsbk_drill_client(&client, &run->clients, db->source->account, db->source->region) == 0 &&
        rdsbk_kms_describe_key(&meta, client, key) == 0)
        customer = rdsbk_json_str(meta, "KeyManager") &&
                   strcmp(rdsbk_json_str(meta, "KeyManager"), "CUSTOMER") == 0;
    else
        rdsbk_error_clear();
    cJSON_Delete(meta);
    grown = realloc(run->keys, (run->n_keys + 1) * sizeof(*grown));
    if (grown) { /* else described again next time */
        run->keys = grown;
        grown[run->n_keys].arn = strdup(key);
        grown[run->n_keys].customer = customer;
        run->n_keys += grown[run->n_keys].arn != NULL;
    }
    return customer;
}

/* The row of `db`: its newest snapshot at each of the three places, and what they say. */
static int s_row(struct s_run *run, const struct rdsbk_drill_db *db) {
    const struct rdsbk_topology *t = run->topo;
    const struct s_listing *region_b = NULL;
    const struct s_listing *backup = NULL;
    struct rdsbk_status_row *row = NULL;
    char base[RDSBK_COPY_BASE_MAX + 1];
    int rc;

    RDSBK_TRY(s_new_row(&row, run, db));
    RDSBK_TRY(s_set(&row->source, db->newest.id ? &db->newest : NULL));
    RDSBK_TRY(s_listing(&region_b, run, db->source->account, t->backup.region, db->kind));
    RDSBK_TRY(s_listing(&backup, run, t->backup.account, t->backup.region, db->kind));
    rdsbk_drill_copy_base(base, t, db->source, db->kind, db->database);
    RDSBK_TRY(s_set(&row->region_copy, s_newest_region_copy(region_b, db, base)));
    RDSBK_TRY(s_set(&row->backup_copy,
                    s_newest_backup_copy(&row->backup_available_time, backup, db, base)));
    s_decide(row, run->report->now);
    if (db->newest.kms_key_id && s_key_undeclared(run, db, db->newest.kms_key_id))
        RDSBK_TRY(rdsbk_strdup_into(&row->undeclared_key, db->newest.kms_key_id));

cleanup:
    return rc;
}

/* ---- quotas ---- */

/* The quotas status reports, in the order AWS lists them. */
static const char *const s_quota_names[] = {"ManualSnapshots", "ManualClusterSnapshots"};
#define S_N_QUOTAS (sizeof(s_quota_names) / sizeof(s_quota_names[0]))

int rdsbk_status_quota_percent(const struct rdsbk_status_quota *q) {
    long long percent;

    if (q->used < 0 || q->max < 0)
        return -1;
    if (q->max == 0)
        return 100;
    if (q->used > LLONG_MAX / 100)
        return INT_MAX;
    percent = q->used * 100 / q->max;
    return percent > INT_MAX ? INT_MAX : (int)percent;
}

bool rdsbk_status_quota_high(const struct rdsbk_status_quota *q) {
    return rdsbk_status_quota_percent(q) >= RDSBK_STATUS_QUOTA_WARN_PERCENT;
}

/* Appends the rows of `account`'s quotas in Region-B, unknown until read. */
static int s_quota_rows(struct rdsbk_status_report *r, const char *account, bool backup) {
    struct rdsbk_status_quota *grown =
        realloc(r->quotas, (r->n_quotas + S_N_QUOTAS) * sizeof(*grown));
    int rc = 0;

    if (!grown)
        return rdsbk_error_oom();
    r->quotas = grown;
    for (size_t i = 0; i < S_N_QUOTAS; i++) {
        struct rdsbk_status_quota *q = memset(&grown[r->n_quotas++], 0, sizeof(*q));
        snprintf(q->account, sizeof(q->account), "%s", account);
        q->name = s_quota_names[i];
        q->backup = backup;
        q->used = -1;
        q->max = -1;
        if (rc == 0)
            rc = rdsbk_strdup_into(&q->region, r->backup_region);
    }
    return rc;
}

/* Fills the rows `q` of one place from its DescribeAccountAttributes quotas; a quota the reply
 * does not list stays unknown. */
static int s_quota_values(struct rdsbk_status_quota *q, const struct rdsbk_rds_account_quota *aws,
                          size_t n) {
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < S_N_QUOTAS; i++) {
        size_t k = 0;
        while (k < n && (!aws[k].name || strcmp(aws[k].name, q[i].name) != 0))
            k++;
        if (k == n) {
            rc = rdsbk_strfmt(&q[i].error, "DescribeAccountAttributes does not list %s", q[i].name);
            continue;
        }
        q[i].used = aws[k].used;
        q[i].max = aws[k].max;
    }
    return rc;
}

/* Marks the rows `q` of one place unknown because of the AWS error `e`, told as the CLI tells
 * errors: "<message> (<AWS code>, request id <id>)". */
static int s_quota_unknown(struct rdsbk_status_quota *q, const struct rdsbk_error *e) {
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < S_N_QUOTAS; i++)
        rc = rdsbk_strfmt(&q[i].error, "%s (%s%s%s)", e->message,
                          e->aws_code[0] ? e->aws_code : "not allowed",
                          e->request_id[0] ? ", request id " : "", e->request_id);
    return rc;
}

/* The quotas of `account` in Region-B, read once per account with the client its listings use;
 * a refusal leaves them unknown. */
static int s_place_quotas(struct s_run *run, const char *account, bool backup) {
    struct rdsbk_status_report *r = run->report;
    struct rdsbk_rds_account_quota *aws = NULL;
    struct rdsbk_client *client = NULL;
    size_t n = 0;
    size_t first = r->n_quotas;
    int rc;

    for (size_t i = 0; i < r->n_quotas; i++)
        if (strcmp(r->quotas[i].account, account) == 0)
            return 0;
    RDSBK_TRY(s_quota_rows(r, account, backup));
    RDSBK_TRY(rdsbk_drill_client(&client, &run->clients, account, r->backup_region));
    rc = rdsbk_rds_describe_account_attributes(&aws, &n, client);
    if (rc == RDSBK_EAUTH) {
        rc = s_quota_unknown(&r->quotas[first], rdsbk_error_last());
        if (rc == 0)
            rdsbk_error_clear();
    } else if (rc == 0) {
        rc = s_quota_values(&r->quotas[first], aws, n);
    }

cleanup:
    rdsbk_rds_account_quotas_free(aws, n);
    return rc;
}

/* ---- OU sources ---- */

/* Appends the instance `i` (of ListStackInstances) of set `name` of `ou`. */
static int s_instance(struct rdsbk_status_report *r, const struct rdsbk_source *ou,
                      const char *name, const cJSON *i) {
    struct rdsbk_status_instance *grown =
        realloc(r->instances, (r->n_instances + 1) * sizeof(*grown));
    struct rdsbk_status_instance *in;
    int rc;

    RDSBK_CHECK_ALLOC(grown);
    r->instances = grown;
    in = memset(&grown[r->n_instances++], 0, sizeof(*in));
    snprintf(in->account, sizeof(in->account), "%s", rdsbk_json_str(i, "account"));
    RDSBK_TRY(rdsbk_strdup_into(&in->ou, ou->ou));
    RDSBK_TRY(rdsbk_strdup_into(&in->stack_set, name));
    RDSBK_TRY(rdsbk_json_dup_str(&in->region, i, "region"));
    RDSBK_TRY(rdsbk_json_dup_str(&in->status, i, "status"));
    RDSBK_TRY(rdsbk_json_dup_str(&in->detailed_status, i, "detailed_status"));
    rc = rdsbk_json_dup_str(&in->reason, i, "reason");

cleanup:
    return rc;
}

/* The rows of `account` of `ou`, read through the OU's member_role, as the OU's template sees the
 * account (rdsbk_model_member_view). A role that cannot be assumed: RDSBK_EAUTH. */
static int s_member_rows(struct s_run *run, const struct rdsbk_source *ou, const char *account) {
    const struct rdsbk_topology *topo = run->topo;
    struct rdsbk_topology *view = NULL;
    struct rdsbk_drill_db *dbs = NULL;
    size_t n_dbs = 0;
    int rc;

    RDSBK_TRY(rdsbk_drill_add_member(&run->clients, ou, account));
    RDSBK_TRY(rdsbk_model_member_view(&view, topo, ou, account));
    run->topo = view;
    for (size_t s = 0; rc == 0 && s < view->n_sources; s++) {
        rc = rdsbk_drill_find_dbs(&dbs, &n_dbs, &run->clients, &view->sources[s]);
        for (size_t i = 0; rc == 0 && i < n_dbs; i++)
            rc = s_row(run, &dbs[i]);
        rdsbk_drill_dbs_free(dbs, n_dbs);
        dbs = NULL;
    }
    run->topo = topo;

cleanup:
    rdsbk_model_view_free(view);
    return rc;
}

/* Notes in each instance of `account` why its databases were not read. */
static int s_unread_member(struct rdsbk_status_report *r, size_t first, const char *account,
                           const struct rdsbk_error *why) {
    int rc = 0;

    for (size_t i = first; rc == 0 && i < r->n_instances; i++)
        if (strcmp(r->instances[i].account, account) == 0 && !r->instances[i].read_error)
            rc = rdsbk_strdup_into(&r->instances[i].read_error, why->message);
    return rc;
}

/* The instances of the StackSet of `ou`, and with a member_role its accounts' rows. */
static int s_ou(struct s_run *run, const struct rdsbk_source *ou) {
    struct rdsbk_status_report *r = run->report;
    struct rdsbk_client *client = NULL;
    cJSON *instances = NULL;
    char *name = NULL;
    size_t first = r->n_instances;
    const cJSON *i;
    int rc;

    RDSBK_CHECK_ALLOC(name = rdsbk_model_stack_set_name(run->topo->stack, ou->ou));
    RDSBK_TRY(rdsbk_drill_client(&client, &run->clients, ou->account, r->backup_region));
    rc = rdsbk_cfn_list_stack_instances(&instances, client, name);
    if (rc == RDSBK_ENOTFOUND) { /* not applied: no instances */
        rdsbk_error_clear();
        rc = 0;
    }
    RDSBK_TRY(rc);
    cJSON_ArrayForEach(i, instances) {
        RDSBK_TRY(s_instance(r, ou, name, i));
    }
    for (size_t k = first; ou->member_role && k < r->n_instances; k++) {
        bool seen = false;
        for (size_t j = first; j < k; j++)
            seen = seen || strcmp(r->instances[j].account, r->instances[k].account) == 0;
        if (seen)
            continue;
        rc = s_member_rows(run, ou, r->instances[k].account);
        /* its quotas in Region-B too, which validate cannot estimate for an OU's accounts */
        if (rc == 0)
            rc = s_place_quotas(run, r->instances[k].account, false);
        if (rc == RDSBK_EAUTH) {
            RDSBK_TRY(s_unread_member(r, first, r->instances[k].account, rdsbk_error_last()));
            rdsbk_error_clear();
            rc = 0;
        }
        RDSBK_TRY(rc);
    }

cleanup:
    cJSON_Delete(instances);
    free(name);
    return rc;
}

/* The report's header, before any row. */
static int s_report_new(struct rdsbk_status_report **out, const struct rdsbk_topology *topo) {
    struct rdsbk_status_report *r = calloc(1, sizeof(*r));
    int rc;

    *out = NULL;
    RDSBK_CHECK_ALLOC(r);
    r->now = time(NULL);
    snprintf(r->backup_account, sizeof(r->backup_account), "%s", topo->backup.account);
    RDSBK_TRY(rdsbk_strdup_into(&r->stack, topo->stack));
    RDSBK_TRY(rdsbk_strdup_into(&r->backup_region, topo->backup.region));
    *out = r;
    r = NULL;

cleanup:
    rdsbk_status_report_free(r);
    return rc;
}

int rdsbk_status_collect(struct rdsbk_status_report **out, const struct rdsbk_topology *topo) {
    struct s_run run = {.topo = topo};
    int rc;

    *out = NULL;
    RDSBK_TRY(s_report_new(&run.report, topo));
    RDSBK_TRY(rdsbk_drill_clients_init(&run.clients, topo));
    for (size_t s = 0; s < topo->n_sources; s++) {
        struct rdsbk_drill_db *dbs = NULL;
        size_t n_dbs = 0;

        rc = rdsbk_drill_find_dbs(&dbs, &n_dbs, &run.clients, &topo->sources[s]);
        for (size_t i = 0; rc == 0 && i < n_dbs; i++)
            rc = s_row(&run, &dbs[i]);
        rdsbk_drill_dbs_free(dbs, n_dbs);
        if (rc)
            goto cleanup;
    }
    for (size_t s = 0; s < topo->n_sources; s++)
        RDSBK_TRY(s_place_quotas(&run, topo->sources[s].account, false));
    for (size_t s = 0; s < topo->n_ou_sources; s++)
        RDSBK_TRY(s_ou(&run, &topo->ou_sources[s]));
    RDSBK_TRY(s_place_quotas(&run, topo->backup.account, true));
    RDSBK_TRY(rdsbk_status_failures(run.report, topo, &run.clients));
    *out = run.report;
    run.report = NULL;

cleanup:
    s_listings_free(&run);
    rdsbk_drill_clients_clean_up(&run.clients);
    rdsbk_status_report_free(run.report);
    return rc;
}
