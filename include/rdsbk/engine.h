#ifndef RDSBK_ENGINE_H
#define RDSBK_ENGINE_H

#include "rdsbk/config.h"
#include "rdsbk/model.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * plan, apply and destroy: the topology's desired graph against the state and what exists in AWS.
 * The engine neither prints nor reads: everything it has to say goes to the callbacks of its
 * options as events, and a front end (src/cli) renders them; it asks for confirmation through a
 * callback too. Each entry point returns 0 or a negative code with the error set.
 */

/* What a plan does with one resource. */
enum rdsbk_action {
    RDSBK_ACTION_NOOP,
    RDSBK_ACTION_CREATE,
    RDSBK_ACTION_UPDATE,
    RDSBK_ACTION_REPLACE,
    RDSBK_ACTION_DELETE,
    RDSBK_ACTION_ADOPT,  /* exists under our name but not in the state: record it, no API call */
    RDSBK_ACTION_FORGET, /* in the state but gone from AWS and no longer wanted: drop it */
};

/* "no-op", "create", ...; "?" for an unknown action. */
const char *rdsbk_action_name(enum rdsbk_action action);

/* How many resources a plan adds, changes... (a replacement counts as an add and a destroy), or
 * how many an apply did. */
struct rdsbk_plan_counts {
    int add, change, destroy, adopt, forget;
};

/* Adds one resource's action to `counts`. */
void rdsbk_plan_counts_add(struct rdsbk_plan_counts *counts, enum rdsbk_action action);

/* Whether the counts hold any change at all. */
bool rdsbk_plan_counts_any(const struct rdsbk_plan_counts *counts);

/* One resource of a plan, as a front end shows it. */
struct rdsbk_plan_change {
    const char *address;
    enum rdsbk_resource_type type;
    enum rdsbk_action action;
    const char *account;
    const char *region;
    const char *name;     /* "" when not known */
    const cJSON *before;  /* what AWS has; NULL when it does not exist */
    const cJSON *after;   /* the desired attributes, references resolved where known; NULL on
                             delete */
    const cJSON *changed; /* the names of the attributes that differ (an array) */
    const char *forces;   /* the attribute that forces the replacement; "" when none */
};

/* A computed plan. Everything in it is borrowed from the engine for the duration of the event. */
struct rdsbk_plan {
    const char *stack;
    const char *lineage;
    long serial;
    bool destroy;       /* the plan of a destroy */
    size_t n_resources; /* the resources the topology describes */
    struct rdsbk_plan_counts counts;
    const struct rdsbk_plan_change *changes; /* by address; no-ops included */
    size_t n_changes;
};

enum rdsbk_event_type {
    RDSBK_EVENT_PLAN,            /* the plan is computed: `plan` */
    RDSBK_EVENT_PLAN_SAVED,      /* plan --out saved it: `path` */
    RDSBK_EVENT_NO_STATE,        /* destroy without a state file at `path`: nothing to do */
    RDSBK_EVENT_KEY_DELETION,    /* the shared key `name` will be scheduled for deletion: `date`
                                    (YYYY-MM-DD, UTC), in `days` */
    RDSBK_EVENT_CHANGES_BEGIN,   /* the changes start: from here until CHANGES_END the run honours
                                    the options' `cancel` flag (a front end catches Ctrl-C now) */
    RDSBK_EVENT_PROGRESS,        /* a change's step: `step`, `action`, `address`, `id`, `seconds`,
                                    `detail` */
    RDSBK_EVENT_CHANGES_END,     /* the changes stopped (all done, failed or cancelled) */
    RDSBK_EVENT_STATE_NOT_SAVED, /* the state on disk is behind AWS: `detail` says why */
    RDSBK_EVENT_APPLIED,         /* every change succeeded: `done` (and `destroy`) */
    RDSBK_EVENT_APPLY_FAILED,    /* `done` before the error, `failed` and `skipped` changes; the
                                    error is set */
    RDSBK_EVENT_KEPT, /* destroy --keep-key leaves `address` (`name`) in place, in the state */
};

/* The steps of one change, in the order they happen. */
enum rdsbk_progress_step {
    RDSBK_STEP_ADOPTED,     /* recorded in the state as found (`id`) */
    RDSBK_STEP_FORGOTTEN,   /* dropped from the state: it no longer exists */
    RDSBK_STEP_TAKEN_ALONG, /* deleted with the resource it belongs to */
    RDSBK_STEP_DESTROYING,  /* `id`: the id or the name */
    RDSBK_STEP_DESTROYED,   /* after `seconds` */
    RDSBK_STEP_UPDATING,    /* `id` */
    RDSBK_STEP_CREATING,
    RDSBK_STEP_EXISTS, /* a create found it already there (`detail`: AWS's code) and adopts
                          it instead */
    RDSBK_STEP_DONE,   /* created or updated (`action` says which) after `seconds`, `id` */
    RDSBK_STEP_FAILED, /* `detail`: the error message */
};

struct rdsbk_engine_event {
    enum rdsbk_event_type type;
    const struct rdsbk_plan *plan;
    enum rdsbk_progress_step step;
    enum rdsbk_action action;
    const char *address;
    const char *id;
    const char *name;
    const char *path;
    const char *detail;
    const char *date;
    double seconds;
    int days;
    bool destroy;
    struct rdsbk_plan_counts done;
    int failed;
    int skipped;
};

struct rdsbk_engine_callbacks {
    /* Everything the run has to say. Never called from two threads at once; the event and what
     * it points to are borrowed for the call. NULL: the run is silent. */
    void (*event)(const struct rdsbk_engine_event *event, void *payload);
    /* Asked once before apply or destroy changes anything (not with auto_approve, nor for a saved
     * plan), `question` as "apply these changes": 0 to go on, or a negative code with the error
     * set to stop with nothing changed. NULL: the run refuses to go on without auto_approve. */
    int (*confirm)(const char *question, void *payload);
    void *payload;
};

struct rdsbk_engine_options {
    const char *state_path;  /* where the state lives: a file, or s3://BUCKET/KEY (the
                                topology's state: settings reach it; rdsbk/state.h) */
    int parallelism;         /* concurrent AWS operations; default 10 */
    int lock_timeout_s;      /* wait this long for the state lock; 0: fail at once */
    bool auto_approve;       /* apply/destroy: no confirmation */
    bool refresh;            /* read AWS (default true); false: trust the state */
    bool refresh_known;      /* destroy --refresh: read what the state records too; by default
                                destroy trusts it and reads only what it does not record */
    const char *plan_out;    /* plan --out FILE */
    const char *plan_in;     /* apply FILE: execute a saved plan */
    bool discover;           /* destroy --discover: find the stack's resources without a state */
    bool force_key_deletion; /* destroy: schedule the key's deletion despite prevent_destroy or
                                snapshots still encrypted with it */
    bool keep_key;           /* destroy: leave what the backups need to be restored (the shared
                                key and its alias; rdsbk_resource_ops.backups_need_it) */
    /* Set (by a signal handler, say) while the changes run: no new change starts, the running
     * ones finish and are recorded, the state is saved. NULL: never. */
    const volatile sig_atomic_t *cancel;
    struct rdsbk_engine_callbacks callbacks;
};

/* Plans; *has_changes_out tells whether apply would change anything. */
int rdsbk_engine_plan(bool *has_changes_out, const struct rdsbk_topology *topo,
                      const struct rdsbk_engine_options *opts);

int rdsbk_engine_apply(const struct rdsbk_topology *topo, const struct rdsbk_engine_options *opts);

int rdsbk_engine_destroy(const struct rdsbk_topology *topo,
                         const struct rdsbk_engine_options *opts);

#endif
