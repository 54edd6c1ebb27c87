/*
 * Checks of a computed plan against what AWS holds beyond the stack's own resources, made before
 * any write: the backup bus's policy with the statements of other stacks must fit its quota, and
 * the shared key is not deleted while backup copies are encrypted with it. These are facts of the
 * pipeline, not of a resource type: the one place in the engine that names types.
 */
#include "engine_internal.h"

#include "rdsbk/error.h"
#include "rdsbk/json_util.h"
#include "rdsbk/services/rds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the backup bus's policy quota ------------------------------------------------------- */

/* Whether `sid` is the statement of one of this run's bus permissions (desired or recorded). */
static bool s_bus_statement_ours(const struct rdsbk_engine *e, const char *sid) {
    for (size_t i = 0; i < e->n_changes; i++)
        if (e->changes[i].type == RDSBK_RT_EVENTS_PERMISSION && e->changes[i].name &&
            strcmp(e->changes[i].name, sid) == 0)
            return true;
    return false;
}

/* The characters the statements of others take in `policy` (the bus's, as read), each with the
 * comma before it; *others_out their number. */
static int s_foreign_statements(size_t *size_out, size_t *others_out, const struct rdsbk_engine *e,
                                const cJSON *policy, size_t ours) {
    const cJSON *st;

    *size_out = 0;
    *others_out = 0;
    cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(policy, "Statement")) {
        const char *sid = rdsbk_json_str(st, "Sid");
        char *one = NULL;
        int rc;

        if (sid && s_bus_statement_ours(e, sid))
            continue; /* counted as it will be, or deleted */
        rc = rdsbk_json_text(&one, st);
        if (rc)
            return rc;
        *size_out += (ours + (*others_out)++ > 0) + strlen(one);
        free(one);
    }
    return 0;
}

/*
 * The build checks that this stack's statements on the backup bus fit EventBridge's policy
 * quota by themselves, but other stacks, or hands, may hold statements on the same bus, and a
 * PutPermission past the quota fails half-way through an apply. When the run adds statements,
 * the policy as the refresh read it (through its memo: no call of its own) is measured with the
 * statements of others and all of this stack's.
 */
int rdsbk_engine_check_bus_growth(struct rdsbk_engine *e, struct rdsbk_res_memo *memo) {
    const struct rdsbk_change *bus = NULL;
    struct rdsbk_resource_ref ref;
    struct rdsbk_client *client = NULL;
    size_t ours = 0;
    size_t size = rdsbk_model_bus_policy_size(e->graph, &ours);
    size_t foreign = 0;
    size_t others = 0;
    char *text = NULL;
    cJSON *policy = NULL;
    int rc;

    for (size_t i = 0; i < e->n_changes; i++) {
        const struct rdsbk_change *c = &e->changes[i];
        if (c->type == RDSBK_RT_EVENTS_PERMISSION && c->res && !c->actual)
            bus = c; /* a statement to add */
    }
    if (!bus || rdsbk_engine_client(&client, e, bus->account, bus->region) != 0)
        return 0;
    rdsbk_engine_ref(&ref, e, bus, bus->res->desired);
    ref.memo = memo;
    RDSBK_TRY(rdsbk_res_bus_policy(&text, client, &ref));
    if (text)
        RDSBK_TRY(rdsbk_json_parse(&policy, text, "the backup event bus's policy"));
    RDSBK_TRY(s_foreign_statements(&foreign, &others, e, policy, ours));
    size += foreign;
    if (size > (size_t)e->graph->bus_policy_quota)
        rc = rdsbk_error_set(RDSBK_EINVALID,
                             "the backup account's event bus policy would be %zu characters with "
                             "the %zu statement(s) of other stacks or hands already there and "
                             "this stack's %zu: EventBridge's \"Event bus policy size\" is %d; "
                             "raise it in Service Quotas and set backup.bus_policy_quota, or "
                             "remove statements no longer needed",
                             size, others, ours, e->graph->bus_policy_quota);

cleanup:
    free(text);
    cJSON_Delete(policy);
    return rc;
}

/* ---- the key guard ----------------------------------------------------------------------- */

/* Snapshots in Region-B encrypted with the key, per account: the DB snapshots and the cluster
 * snapshots of every account, all read in parallel (task 2i: account i's DB snapshots, 2i + 1 its
 * cluster snapshots). */
struct s_key_use {
    struct rdsbk_engine *e;
    const char *key_arn;
    const char **accounts;
    int *counts;
    char (*examples)[512];
};

static int s_count_encrypted(size_t task, void *payload) {
    struct s_key_use *u = payload;
    size_t i = task / 2;
    struct rdsbk_client *client = NULL;
    struct rdsbk_rds_snapshot_query q = {NULL, NULL, "manual", false, NULL, 0};
    struct rdsbk_rds_snapshot *snaps = NULL;
    size_t n = 0;
    int rc = rdsbk_engine_client(&client, u->e, u->accounts[i], u->e->topo->backup.region);

    if (rc)
        return rc;
    rc = task % 2 ? rdsbk_rds_describe_db_cluster_snapshots(&snaps, &n, client, &q)
                  : rdsbk_rds_describe_db_snapshots(&snaps, &n, client, &q);
    for (size_t k = 0; !rc && k < n; k++) {
        if (!snaps[k].kms_key_id || strcmp(snaps[k].kms_key_id, u->key_arn) != 0)
            continue;
        if (!u->counts[task]++)
            snprintf(u->examples[task], sizeof(u->examples[task]), "%s",
                     snaps[k].arn ? snaps[k].arn : snaps[k].id);
    }
    rdsbk_rds_snapshots_free(snaps, n);
    return rc;
}

/* How many snapshots of the topology's accounts in Region-B the key encrypts; one of them.
 * `threads` > 0: at most that many reads at once (alongside other work), else up to
 * --parallelism per account. */
static int s_key_in_use(int *count, char *example, size_t example_size, struct rdsbk_engine *e,
                        const char *key_arn, int threads) {
    size_t n = e->topo->n_sources + 1;
    const char **accounts = calloc(n, sizeof(*accounts));
    int *counts = calloc(2 * n, sizeof(*counts));
    char(*examples)[512] = calloc(2 * n, sizeof(*examples));
    struct rdsbk_task_result *results = calloc(2 * n, sizeof(*results));
    struct s_key_use u = {e, key_arn, accounts, counts, examples};
    struct rdsbk_pool_tasks tasks = {0};
    int *own = NULL;
    int rc;

    *count = 0;
    RDSBK_CHECK_ALLOC(accounts && counts && examples && results);
    for (size_t i = 0; i < e->topo->n_sources; i++)
        accounts[i] = e->topo->sources[i].account;
    accounts[n - 1] = e->topo->backup.account;
    tasks.n = 2 * n;
    tasks.max_threads = rdsbk_engine_max_threads(e);
    if (threads <= 0) {
        /* every read its own group: all at once, each account well under its --parallelism */
        own = rdsbk_pool_own_groups(2 * n);
        RDSBK_CHECK_ALLOC(own);
        tasks.group_of = own;
        tasks.n_groups = (int)(2 * n);
        threads = e->opts->parallelism;
    }
    RDSBK_TRY(rdsbk_pool_run(results, &tasks, threads, false, s_count_encrypted, &u));
    for (size_t i = 0; i < 2 * n; i++) {
        if (counts[i] && !*count)
            snprintf(example, example_size, "%s", examples[i]);
        *count += counts[i];
    }

cleanup:
    free(own);
    free(accounts);
    free(counts);
    free(examples);
    free(results);
    return rc;
}

/*
 * The key guard's reads made while destroy refreshes, for the key the state records: they are
 * known to be needed and take a round of calls that would otherwise come between the refresh and
 * the first deletion. Beside a refresh of everything (--refresh) at most S_GUARD_THREADS at once;
 * otherwise the refresh reads only what the state lacks, and they all go at once.
 */
#define S_GUARD_THREADS 8

struct rdsbk_key_guard {
    struct rdsbk_engine *e;
    struct rdsbk_job job;
    char key_arn[2048];
    int count;
    char example[512];
};

static int s_guard_reads(void *arg) {
    struct rdsbk_key_guard *g = arg;

    return s_key_in_use(&g->count, g->example, sizeof(g->example), g->e, g->key_arn,
                        g->e->opts->refresh_known ? S_GUARD_THREADS : 0);
}

int rdsbk_engine_key_guard_start(struct rdsbk_key_guard **out, struct rdsbk_engine *e) {
    *out = NULL;
    if (e->opts->force_key_deletion || e->opts->keep_key)
        return 0;
    for (size_t i = 0; i < e->state->n_resources; i++) {
        const struct rdsbk_state_resource *r = &e->state->resources[i];
        const char *arn = rdsbk_json_str(r->attributes, "arn");
        if (rdsbk_resource_type_from_name(r->type) == RDSBK_RT_KMS_KEY && arn &&
            strlen(arn) < sizeof((*out)->key_arn)) {
            *out = calloc(1, sizeof(**out));
            if (!*out)
                return rdsbk_error_oom();
            (*out)->e = e;
            snprintf((*out)->key_arn, sizeof((*out)->key_arn), "%s", arn);
            rdsbk_job_start(&(*out)->job, s_guard_reads, *out);
            return 0;
        }
    }
    return 0;
}

void rdsbk_engine_key_guard_free(struct rdsbk_key_guard *g) {
    if (!g)
        return;
    rdsbk_job_join(&g->job);
    free(g);
}

/* How many backup copies `key_arn` encrypts, and one of them: from the guard's reads when they
 * were made for this key, else read now. */
static int s_key_use(int *count, char *example, size_t size, struct rdsbk_engine *e,
                     struct rdsbk_key_guard *guard, const char *key_arn) {
    *count = 0;
    if (guard && key_arn && strcmp(guard->key_arn, key_arn) == 0) {
        int rc = rdsbk_job_join(&guard->job);
        if (rc) {
            rdsbk_error_restore(&guard->job.error);
            return rc;
        }
        *count = guard->count;
        snprintf(example, size, "%s", guard->example);
        return 0;
    }
    if (!key_arn || e->opts->force_key_deletion)
        return 0;
    return s_key_in_use(count, example, size, e, key_arn, 0);
}

/* Emits when the key of change `c`, known as `known`, will be gone. */
static void s_announce_deletion(struct rdsbk_engine *e, const struct rdsbk_change *c,
                                const cJSON *known) {
    struct rdsbk_engine_event ev;
    int days = rdsbk_json_int(known, "deletion_window_days", 30);
    time_t when = time(NULL) + (time_t)days * 86400;
    char date[32];

    strftime(date, sizeof(date), "%Y-%m-%d", gmtime(&when));
    memset(&ev, 0, sizeof(ev));
    ev.type = RDSBK_EVENT_KEY_DELETION;
    ev.name = c->id ? c->id : c->name;
    ev.date = date;
    ev.days = days;
    rdsbk_engine_emit(e, &ev);
}

static int s_check_one_key(struct rdsbk_engine *e, const struct rdsbk_change *c,
                           struct rdsbk_key_guard *guard) {
    const cJSON *known = c->prior ? c->prior : c->hint;
    const char *key_arn = rdsbk_json_str(c->actual, "arn");
    char example[512] = "";
    int count = 0;
    int rc;

    if (cJSON_IsTrue(cJSON_GetObjectItem(known, "prevent_destroy")) && !e->opts->force_key_deletion)
        return rdsbk_error_set(RDSBK_EINVALID,
                               "the topology sets key.prevent_destroy: destroy will not "
                               "schedule the deletion of %s; pass --force-key-deletion to "
                               "delete it anyway",
                               c->id ? c->id : c->name);
    rc = s_key_use(&count, example, sizeof(example), e, guard, key_arn);
    if (rc)
        return rc;
    if (count)
        return rdsbk_error_set(RDSBK_EINVALID,
                               "%d snapshot%s (such as %s) %s encrypted with the shared key "
                               "%s: once the key is deleted they cannot be restored. Delete "
                               "or re-encrypt them first, or pass --force-key-deletion",
                               count, count == 1 ? "" : "s", example, count == 1 ? "is" : "are",
                               key_arn);
    s_announce_deletion(e, c, known);
    return 0;
}

int rdsbk_engine_check_key(struct rdsbk_engine *e, struct rdsbk_key_guard *guard) {
    for (size_t i = 0; i < e->n_changes; i++) {
        const struct rdsbk_change *c = &e->changes[i];
        int rc;

        if (c->type != RDSBK_RT_KMS_KEY ||
            (c->action != RDSBK_ACTION_DELETE && c->action != RDSBK_ACTION_REPLACE))
            continue;
        rc = s_check_one_key(e, c, guard);
        if (rc)
            return rc;
    }
    return 0;
}
