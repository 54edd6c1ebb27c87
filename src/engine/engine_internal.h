#ifndef RDSBK_ENGINE_INTERNAL_H
#define RDSBK_ENGINE_INTERNAL_H

/*
 * What the engine's files share (src/engine only). A run goes:
 *
 *   open (engine.c, accounts.c) -> compute: changes.c -> refresh.c -> decide.c
 *     -> checks.c -> [confirm] -> execute (apply.c, saver.c) -> close
 *
 * and reports through the callbacks of its options (rdsbk_engine_emit).
 */

#include "rdsbk/client.h"
#include "rdsbk/engine.h"
#include "rdsbk/model.h"
#include "rdsbk/pool.h"
#include "rdsbk/resource.h"
#include "rdsbk/state.h"

#include <pthread.h>
#include <stdbool.h>

/* One resource of the plan: desired, in the state, or both. */
struct rdsbk_change {
    char *address;
    enum rdsbk_resource_type type;
    char account[RDSBK_ACCOUNT_LEN + 1];
    char *region;
    char *name;
    char *id;                          /* from the state or the refresh */
    const struct rdsbk_resource *res;  /* desired; NULL when only the state has it, or destroy */
    const struct rdsbk_resource *node; /* the graph's resource even on destroy; NULL when only
                                          the state has it */
    const cJSON *hint;                 /* the graph's attributes even on destroy (borrowed), to
                                          find a resource by name and for the tool's settings */
    /* The state's attributes (NULL when not in the state), borrowed from e->state: valid until
     * this change itself is recorded at apply, after which nothing reads it. */
    const cJSON *prior;
    cJSON *actual;  /* what AWS has (refresh), NULL when it does not exist */
    bool read;      /* `actual` was read from AWS, not taken from the state */
    cJSON *desired; /* desired with the references known so far resolved */
    int unknown;    /* references in `desired` not known before apply */
    bool in_state;
    enum rdsbk_action action;
    bool taken_along; /* deleted by its container's deletion: no call of its own, recorded once
                         that deletion succeeded */
    bool kept;        /* destroy --keep-key leaves it as it is: no action */
    char forces[64];  /* the attribute that forces a replacement */
    cJSON *changed;   /* names of the attributes that differ (an array) */
    size_t *deps;     /* indices of changes this one waits for at apply */
    size_t n_deps;
    char **state_deps; /* dependencies to record in the state */
    size_t n_state_deps;
};

/* Clients per account and Region, created once per run (rdsbk/client_set.h). */
struct rdsbk_client_set;

struct rdsbk_engine {
    const struct rdsbk_topology *topo;
    const struct rdsbk_engine_options *opts;
    struct rdsbk_graph *graph;
    struct rdsbk_state *state;
    struct rdsbk_state_store *store; /* where the state lives; locked while the run is open */
    struct rdsbk_http *http;
    struct rdsbk_client_set *clients;
    struct rdsbk_change *changes; /* sorted by address */
    size_t n_changes;
    int *group_of; /* per change: its --parallelism group (a service in an account) */
    int n_groups;
    pthread_mutex_t state_lock; /* guards `state` in memory during apply */
    struct rdsbk_saver *saver;  /* the state writer while apply runs (saver.c) */
    pthread_mutex_t event_lock; /* one event at a time */
    bool mutexes_ready;
    bool destroy;       /* the run destroys the stack */
    int forced_threads; /* RDSBK_MAX_THREADS, read once; 0: by the stack's size */
};

/* ---- engine.c: the run ---- */

/* Opens the run: lock, state, graph, clients, account checks. `operation` names it in the lock. */
int rdsbk_engine_open(struct rdsbk_engine *e, const struct rdsbk_topology *topo,
                      const struct rdsbk_engine_options *opts, const char *operation,
                      bool need_state);
void rdsbk_engine_close(struct rdsbk_engine *e);

/* Builds the change list (desired + state), refreshes it from AWS, decides the actions and checks
 * them against what AWS holds beyond the stack. `destroy`: every resource is to be deleted. */
int rdsbk_engine_compute(struct rdsbk_engine *e, bool destroy);

/* Hands `ev` to the event callback, one event at a time. */
void rdsbk_engine_emit(struct rdsbk_engine *e, const struct rdsbk_engine_event *ev);

/* Emits a PROGRESS event for change `c`. */
void rdsbk_engine_progress(struct rdsbk_engine *e, const struct rdsbk_change *c,
                           enum rdsbk_progress_step step, const char *id, double seconds,
                           const char *detail);

/* Emits the PLAN event (the plan as the front end sees it). Returns 0 or RDSBK_ENOMEM. */
int rdsbk_engine_emit_plan(struct rdsbk_engine *e);

/* The counts of the plan's actions. */
struct rdsbk_plan_counts rdsbk_engine_count(const struct rdsbk_engine *e);

/* The most threads (requests in flight) the run's pools may use: RDSBK_MAX_THREADS, or from the
 * size of the stack. */
int rdsbk_engine_max_threads(const struct rdsbk_engine *e);

/* *out = the client for an account and Region (borrowed). Returns 0 or the error. */
int rdsbk_engine_client(struct rdsbk_client **out, struct rdsbk_engine *e, const char *account,
                        const char *region);

/* Fills `ref` for calling a resource type's operations on `c`; `attributes` is borrowed. */
void rdsbk_engine_ref(struct rdsbk_resource_ref *ref, const struct rdsbk_engine *e,
                      const struct rdsbk_change *c, const cJSON *attributes);

/* Runs `fn` over the n_changes changes through the pool, each change in its --parallelism group,
 * the run's thread cap, `deps`/`n_deps`/`calls` per change (any may be NULL), stopping at the
 * first failure unless `keep_going`. *results_out (caller frees) has a result per change. */
int rdsbk_engine_run_tasks(struct rdsbk_task_result **results_out, struct rdsbk_engine *e,
                           size_t *const *deps, const size_t *n_deps, const unsigned *calls,
                           bool keep_going, rdsbk_task_fn fn, void *payload);

/* ---- accounts.c ---- */

/* Records in the state how to reach every account the topology names. */
int rdsbk_engine_remember_accounts(struct rdsbk_engine *e);

/* The client set's fallback: accounts the topology no longer names are reached as the state
 * remembers them. */
bool rdsbk_engine_remembered_account(const char *account, const char **profile,
                                     const char **role_arn, void *payload);

/* STS GetCallerIdentity for every account the topology names (a job: `e` is the engine). */
int rdsbk_engine_verify_topology_accounts(void *e);

/* The same for the accounts only the state still has resources in (removed sources): they must
 * still be the accounts their resources were made in. */
int rdsbk_engine_verify_removed_accounts(struct rdsbk_engine *e);

/* ---- changes.c ---- */

/* Merges the graph and the state into e->changes (every change `destroy`ed when set), and puts
 * each into its --parallelism group. */
int rdsbk_engine_build_changes(struct rdsbk_engine *e, bool destroy);

/* The change at `address`, or NULL. */
struct rdsbk_change *rdsbk_engine_find(const struct rdsbk_engine *e, const char *address);

/* The type of the resource a change of `type` lives inside, or -1. */
int rdsbk_engine_container_type(enum rdsbk_resource_type type);

/* ---- refresh.c ---- */

/* Reads what AWS has of every change into c->actual (or takes the state's word, see
 * s_trusts_state); `memo` (may be NULL) shares the documents several reads need. */
int rdsbk_engine_refresh(struct rdsbk_engine *e, struct rdsbk_res_memo *memo);

/* ---- decide.c ---- */

/* Decides every change's action, in dependency order, and the apply-time dependencies. */
int rdsbk_engine_decide(struct rdsbk_engine *e);

/* Whether `actual` has every desired attribute of a resource of `type` (the tool's own settings
 * aside), by the semantic comparison of canon.h. */
bool rdsbk_engine_matches(enum rdsbk_resource_type type, const cJSON *desired, const cJSON *actual);

/* ---- checks.c: what AWS holds beyond the stack, before any write ---- */

/* The state is not authority: every resource the plan would change or delete on the state's word
 * must be the stack's by its name (rdsbk-<stack>-...), and, where it was read, not carry another
 * stack's rdsbk:stack tag; the key, whose id says nothing, by its tag (rdsbk_engine_check_key).
 * Returns 0 or RDSBK_EINVALID naming the first resource that is not. */
int rdsbk_engine_check_ownership(const struct rdsbk_engine *e);

/* Whether `id`, a state's id of a resource of `type` (its name when it has none), is one stack
 * `stack` names its resources by: "rdsbk-<stack>-<purpose>..." (a purpose of
 * rdsbk_model_purposes: not a longer stack's name), log groups under "/aws/lambda/", SNS topics
 * and subscriptions by the name of the topic in their ARN (or composite id), SQS queues by the
 * name their ARN ends with; a key alias the topology's `key_alias` (may be NULL) or
 * "alias/rdsbk-<stack>"; a key always (its tag tells). */
bool rdsbk_engine_named_ours(enum rdsbk_resource_type type, const char *id, const char *stack,
                             const char *key_alias);

/* The reads of the key guard, started beside destroy's refresh (rdsbk_engine_key_guard_*). */
struct rdsbk_key_guard;

/* Starts the guard's reads when the state records a key and they will be needed; *out (NULL when
 * none started) is joined and freed by rdsbk_engine_check_key or rdsbk_engine_key_guard_free. */
int rdsbk_engine_key_guard_start(struct rdsbk_key_guard **out, struct rdsbk_engine *e);
void rdsbk_engine_key_guard_free(struct rdsbk_key_guard *guard);

/* A key is scheduled for deletion only when allowed: when it carries the stack's rdsbk:stack tag,
 * not with key.prevent_destroy, and not while backup copies are encrypted with it, unless
 * --force-key-deletion. Emits KEY_DELETION with the date it will be gone. `guard`: the reads made
 * during the refresh (NULL: none). */
int rdsbk_engine_check_key(struct rdsbk_engine *e, struct rdsbk_key_guard *guard);

/* ---- apply.c ---- */

/* Executes the actions; the state follows the changes (saver.c). */
int rdsbk_engine_execute(struct rdsbk_engine *e);

/* ---- saver.c: the state on disk follows the state in memory ---- */

struct rdsbk_saver;

int rdsbk_saver_start(struct rdsbk_saver **out, struct rdsbk_engine *e);

/* Records a change in the state in memory (`actual` NULL: removes it) and tells the writer.
 * Returns 0, or the error of a failed write, which stops the run. */
int rdsbk_saver_record(struct rdsbk_engine *e, struct rdsbk_change *c, const cJSON *actual,
                       const char *id);

/* Stops the writer, saves what it had not written yet and frees it. Returns 0 or the write's
 * error. */
int rdsbk_saver_finish(struct rdsbk_saver *sv, struct rdsbk_engine *e);

/* ---- planfile.c: saved plans (plan --out / apply FILE) ---- */

int rdsbk_planfile_write(const struct rdsbk_engine *e, const char *path);
int rdsbk_planfile_check(const struct rdsbk_engine *e, const char *path);

/* The SHA-256 (hex) of the topology file as read, for saved plans. */
int rdsbk_engine_topology_digest(char out[65], const char *path);

#endif
