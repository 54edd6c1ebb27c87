/*
 * A run of the engine from open to close: lock and load the state (its store: a file or S3),
 * build the desired graph, make a client per account and Region and prove each account's
 * credentials (accounts.c); compute the plan (changes.c, refresh.c, decide.c, checks.c); and what
 * every part shares: the events the run emits, the plan as the front end sees it, the clients,
 * the thread cap and the task pool.
 */
#include "engine_internal.h"

#include "rdsbk/client_set.h"
#include "rdsbk/env.h"
#include "rdsbk/error.h"
#include "rdsbk/http.h"

#include <stdlib.h>
#include <string.h>

const char *rdsbk_action_name(enum rdsbk_action action) {
    static const char *const names[] = {"no-op",  "create", "update", "replace",
                                        "delete", "adopt",  "forget"};
    return (unsigned)action < sizeof(names) / sizeof(names[0]) ? names[action] : "?";
}

void rdsbk_plan_counts_add(struct rdsbk_plan_counts *n, enum rdsbk_action action) {
    /* what each action adds to {add, change, destroy, adopt, forget} */
    static const struct rdsbk_plan_counts weight[] = {
        [RDSBK_ACTION_CREATE] = {1, 0, 0, 0, 0},  [RDSBK_ACTION_UPDATE] = {0, 1, 0, 0, 0},
        [RDSBK_ACTION_REPLACE] = {1, 0, 1, 0, 0}, [RDSBK_ACTION_DELETE] = {0, 0, 1, 0, 0},
        [RDSBK_ACTION_ADOPT] = {0, 0, 0, 1, 0},   [RDSBK_ACTION_FORGET] = {0, 0, 0, 0, 1},
    };
    const struct rdsbk_plan_counts *w = &weight[action];

    n->add += w->add;
    n->change += w->change;
    n->destroy += w->destroy;
    n->adopt += w->adopt;
    n->forget += w->forget;
}

bool rdsbk_plan_counts_any(const struct rdsbk_plan_counts *n) {
    return n->add || n->change || n->destroy || n->adopt || n->forget;
}

struct rdsbk_plan_counts rdsbk_engine_count(const struct rdsbk_engine *e) {
    struct rdsbk_plan_counts n = {0, 0, 0, 0, 0};

    for (size_t i = 0; i < e->n_changes; i++)
        rdsbk_plan_counts_add(&n, e->changes[i].action);
    return n;
}

/* ---- events ------------------------------------------------------------------------------ */

void rdsbk_engine_emit(struct rdsbk_engine *e, const struct rdsbk_engine_event *ev) {
    const struct rdsbk_engine_callbacks *cb = &e->opts->callbacks;

    if (!cb->event)
        return;
    pthread_mutex_lock(&e->event_lock);
    cb->event(ev, cb->payload);
    pthread_mutex_unlock(&e->event_lock);
}

void rdsbk_engine_progress(struct rdsbk_engine *e, const struct rdsbk_change *c,
                           enum rdsbk_progress_step step, const char *id, double seconds,
                           const char *detail) {
    struct rdsbk_engine_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.type = RDSBK_EVENT_PROGRESS;
    ev.step = step;
    ev.action = c->action;
    ev.address = c->address;
    ev.id = id;
    ev.seconds = seconds;
    ev.detail = detail;
    rdsbk_engine_emit(e, &ev);
}

int rdsbk_engine_emit_plan(struct rdsbk_engine *e) {
    struct rdsbk_plan_change *view = calloc(e->n_changes ? e->n_changes : 1, sizeof(*view));
    struct rdsbk_plan plan;
    struct rdsbk_engine_event ev;

    if (!view)
        return rdsbk_error_oom();
    for (size_t i = 0; i < e->n_changes; i++) {
        const struct rdsbk_change *c = &e->changes[i];
        view[i].address = c->address;
        view[i].type = c->type;
        view[i].action = c->action;
        view[i].account = c->account;
        view[i].region = c->region;
        view[i].name = c->name ? c->name : "";
        view[i].before = c->actual;
        view[i].after = c->desired;
        view[i].changed = c->changed;
        view[i].forces = c->forces;
    }
    memset(&plan, 0, sizeof(plan));
    plan.stack = e->topo->stack;
    plan.lineage = e->state->lineage;
    plan.serial = e->state->serial;
    plan.destroy = e->destroy;
    plan.n_resources = e->graph->n_resources;
    plan.counts = rdsbk_engine_count(e);
    plan.changes = view;
    plan.n_changes = e->n_changes;
    memset(&ev, 0, sizeof(ev));
    ev.type = RDSBK_EVENT_PLAN;
    ev.plan = &plan;
    ev.destroy = e->destroy;
    rdsbk_engine_emit(e, &ev);
    free(view);
    return 0;
}

/* ---- clients, references, threads, tasks ------------------------------------------------ */

int rdsbk_engine_client(struct rdsbk_client **out, struct rdsbk_engine *e, const char *account,
                        const char *region) {
    return rdsbk_client_set_get(out, e->clients, account, region);
}

void rdsbk_engine_ref(struct rdsbk_resource_ref *ref, const struct rdsbk_engine *e,
                      const struct rdsbk_change *c, const cJSON *attributes) {
    memset(ref, 0, sizeof(*ref));
    ref->type = c->type;
    ref->account = c->account;
    ref->region = c->region;
    ref->name = c->name;
    ref->id = c->id;
    ref->stack = e->topo->stack;
    ref->attributes = attributes;
}

/*
 * Memory bounds the requests in flight, and the stack's size bounds the memory: a fixed part, a
 * part per resource (its state, plan and desired attributes) and a part per thread in flight (a
 * stack, a curl handle and its receive buffer, a request and its reply), fitted to the peaks in
 * bench/RESULTS.md ("Past the memory"). The threads get what the budget leaves, between
 * S_MIN_THREADS and S_DEFAULT_MAX_THREADS; RDSBK_MAX_THREADS sets the number instead (1 to
 * RDSBK_POOL_MAX_THREADS), for a machine with less memory or more.
 */
#define S_MEMORY_BUDGET_KB (20L * 1024) /* 31 MB (the benchmark allows 32) less 11 MB fixed */
#define S_RESOURCE_KB 13L
#define S_THREAD_KB 64L
#define S_MIN_THREADS 64
#define S_DEFAULT_MAX_THREADS 128

int rdsbk_engine_max_threads(const struct rdsbk_engine *e) {
    size_t resources = e->graph ? e->graph->n_resources : 0;
    long threads;

    if (e->forced_threads > 0)
        return e->forced_threads;
    if (e->state && e->state->n_resources > resources)
        resources = e->state->n_resources;
    threads = (S_MEMORY_BUDGET_KB - S_RESOURCE_KB * (long)resources) / S_THREAD_KB;
    if (threads < S_MIN_THREADS)
        return S_MIN_THREADS;
    return threads > S_DEFAULT_MAX_THREADS ? S_DEFAULT_MAX_THREADS : (int)threads;
}

int rdsbk_engine_run_tasks(struct rdsbk_task_result **results_out, struct rdsbk_engine *e,
                           size_t *const *deps, const size_t *n_deps, const unsigned *calls,
                           bool keep_going, rdsbk_task_fn fn, void *payload) {
    struct rdsbk_pool_tasks tasks = {.n = e->n_changes,
                                     .deps = deps,
                                     .n_deps = n_deps,
                                     .calls = calls,
                                     .group_of = e->group_of,
                                     .n_groups = e->n_groups,
                                     .max_threads = rdsbk_engine_max_threads(e),
                                     .cancel = e->opts->cancel};

    *results_out = calloc(e->n_changes ? e->n_changes : 1, sizeof(**results_out));
    if (!*results_out)
        return rdsbk_error_oom();
    return rdsbk_pool_run(*results_out, &tasks, e->opts->parallelism, keep_going, fn, payload);
}

/* ---- open / close ----------------------------------------------------------------------- */

/*
 * The check of the accounts the topology names (GetCallerIdentity for each, a round of calls)
 * needs only the topology. It goes out first, and the state and the model are made while it is
 * answered. Accounts only the state still has resources in are reached as it remembers them, so
 * they are checked once it is loaded (a round more, only when a source was removed).
 */
int rdsbk_engine_open(struct rdsbk_engine *e, const struct rdsbk_topology *topo,
                      const struct rdsbk_engine_options *opts, const char *operation,
                      bool need_state) {
    struct rdsbk_job verify = {0};
    int verify_rc;
    int rc;

    memset(e, 0, sizeof(*e));
    e->topo = topo;
    e->opts = opts;
    pthread_mutex_init(&e->state_lock, NULL);
    pthread_mutex_init(&e->event_lock, NULL);
    e->mutexes_ready = true;
    e->forced_threads = (int)rdsbk_env_positive("RDSBK_MAX_THREADS", RDSBK_POOL_MAX_THREADS);

    rc = rdsbk_state_store_open(&e->store, opts->state_path, topo);
    if (rc == 0)
        rc = rdsbk_state_store_lock(e->store, operation, opts->lock_timeout_s);
    if (rc == 0)
        rc = rdsbk_http_new(&e->http, NULL);
    if (rc == 0)
        rc = rdsbk_client_set_new(&e->clients, topo, e->http, rdsbk_engine_remembered_account, e);
    if (rc)
        return rc;
    rdsbk_job_start(&verify, rdsbk_engine_verify_topology_accounts, e);

    rc = rdsbk_state_store_load(&e->state, e->store, topo->stack);
    if (rc == RDSBK_ENOTFOUND && !need_state)
        rc = rdsbk_state_new(&e->state, topo->stack);
    if (rc == 0)
        rc = rdsbk_engine_remember_accounts(e);
    if (rc == 0)
        rc = rdsbk_model_build(&e->graph, topo);
    verify_rc = rdsbk_job_join(&verify);
    if (rc == 0 && verify_rc) { /* the opening's own error comes first */
        rdsbk_error_restore(&verify.error);
        rc = verify_rc;
    }
    if (rc == 0)
        rc = rdsbk_engine_verify_removed_accounts(e);
    return rc;
}

static void s_change_clean_up(struct rdsbk_change *c) {
    free(c->address);
    free(c->region);
    free(c->name);
    free(c->id);
    cJSON_Delete(c->actual);
    cJSON_Delete(c->desired);
    cJSON_Delete(c->changed);
    free(c->deps);
    for (size_t i = 0; i < c->n_state_deps; i++)
        free(c->state_deps[i]);
    free(c->state_deps);
}

void rdsbk_engine_close(struct rdsbk_engine *e) {
    for (size_t i = 0; i < e->n_changes; i++)
        s_change_clean_up(&e->changes[i]);
    free(e->changes);
    free(e->group_of);
    rdsbk_client_set_free(e->clients);
    rdsbk_http_free(e->http);
    rdsbk_graph_free(e->graph);
    rdsbk_state_free(e->state);
    rdsbk_state_store_free(e->store); /* and its lock */
    if (e->mutexes_ready) {
        pthread_mutex_destroy(&e->state_lock);
        pthread_mutex_destroy(&e->event_lock);
    }
    memset(e, 0, sizeof(*e));
}

/* ---- compute ---------------------------------------------------------------------------- */

int rdsbk_engine_compute(struct rdsbk_engine *e, bool destroy) {
    struct rdsbk_res_memo *memo = NULL;
    int rc;

    e->destroy = destroy;
    rc = destroy ? 0 : rdsbk_model_check_quotas(e->graph); /* destroy writes no document */
    if (rc == 0)
        rc = rdsbk_engine_build_changes(e, destroy);
    if (rc)
        return rc;
    memo = rdsbk_res_memo_new();
    if (!memo)
        return rdsbk_error_oom();
    rc = rdsbk_engine_refresh(e, memo);
    rdsbk_res_memo_free(memo);
    if (rc == 0)
        rc = rdsbk_engine_decide(e);
    if (rc == 0)
        rc = rdsbk_engine_check_ownership(e);
    return rc;
}
