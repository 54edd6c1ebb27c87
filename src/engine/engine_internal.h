#ifndef RDSBK_ENGINE_INTERNAL_H
#define RDSBK_ENGINE_INTERNAL_H

#include "rdsbk/client.h"
#include "rdsbk/engine.h"
#include "rdsbk/model.h"
#include "rdsbk/resource.h"
#include "rdsbk/state.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

enum rdsbk_action {
    RDSBK_ACTION_NOOP,
    RDSBK_ACTION_CREATE,
    RDSBK_ACTION_UPDATE,
    RDSBK_ACTION_REPLACE,
    RDSBK_ACTION_DELETE,
    RDSBK_ACTION_ADOPT,  /* exists under our name but not in the state: record it, no API call */
    RDSBK_ACTION_FORGET, /* in the state but gone from AWS and no longer wanted: drop it */
};

const char *rdsbk_action_name(enum rdsbk_action action);

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
    cJSON *desired; /* desired with the references known so far resolved */
    int unknown;    /* references in `desired` not known before apply */
    bool in_state;
    enum rdsbk_action action;
    bool taken_along; /* deleted by its container's deletion (a function takes its permissions
                         along): no call of its own, recorded once that deletion succeeded */
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
    struct rdsbk_state_lock *lock;
    struct rdsbk_http *http;
    struct rdsbk_client_set *clients;
    struct rdsbk_change *changes; /* sorted by address */
    size_t n_changes;
    int *group_of; /* per change: its --parallelism group (a service in an account) */
    int n_groups;
    pthread_mutex_t state_lock; /* guards `state` in memory during apply */
    struct rdsbk_saver *saver;  /* the state writer while apply runs (apply.c) */
    pthread_mutex_t out_lock;   /* one progress line at a time */
    bool state_ready;           /* mutexes initialised */
    bool destroy;               /* the run destroys the stack */
    int forced_threads;         /* RDSBK_MAX_THREADS, read once; 0: by the stack's size */
};

/* Opens the run: lock, state, graph, clients, account checks. `operation` names it in the lock. */
int rdsbk_engine_open(struct rdsbk_engine *e, const struct rdsbk_topology *topo,
                      const struct rdsbk_engine_options *opts, const char *operation,
                      bool need_state);
void rdsbk_engine_close(struct rdsbk_engine *e);

/* Builds the change list (desired + state), refreshes it from AWS and decides the actions.
 * `destroy`: every resource is to be deleted. */
int rdsbk_engine_compute(struct rdsbk_engine *e, bool destroy);

/* The most threads (requests in flight) the run's pools may use: RDSBK_MAX_THREADS, or from the
 * size of the stack. */
int rdsbk_engine_max_threads(const struct rdsbk_engine *e);

/* *out = the client for an account and Region (borrowed). Returns 0 or the error. */
int rdsbk_engine_client(struct rdsbk_client **out, struct rdsbk_engine *e, const char *account,
                        const char *region);

/* Fills `ref` for calling a resource type's operations on `c`; `attributes` is borrowed. */
void rdsbk_engine_ref(struct rdsbk_resource_ref *ref, const struct rdsbk_engine *e,
                      const struct rdsbk_change *c, const cJSON *attributes);

/* Whether `actual` has every desired attribute of a resource of `type` (the tool's own settings
 * aside), by the semantic comparison of canon.h. */
bool rdsbk_engine_matches(enum rdsbk_resource_type type, const cJSON *desired, const cJSON *actual);

/* Counts of a plan. */
struct rdsbk_plan_counts {
    int add, change, destroy, adopt, forget;
};
struct rdsbk_plan_counts rdsbk_engine_count(const struct rdsbk_engine *e);

/* Renders the plan as text (stdout) or JSON. */
void rdsbk_engine_print_plan(const struct rdsbk_engine *e, FILE *out, bool destroy);
char *rdsbk_engine_plan_json(const struct rdsbk_engine *e);

/* Executes the actions; prints progress; the state follows the changes (apply.c's writer). */
int rdsbk_engine_execute(struct rdsbk_engine *e);

/* Saved plans (plan --out / apply FILE). */
int rdsbk_planfile_write(const struct rdsbk_engine *e, const char *path);
int rdsbk_planfile_check(const struct rdsbk_engine *e, const char *path);

/* The SHA-256 (hex) of the topology file as read, for saved plans. */
int rdsbk_engine_topology_digest(char out[65], const char *path);

#endif
