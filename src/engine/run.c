/*
 * plan, apply and destroy from start to end: open the run, compute the plan, show it (the PLAN
 * event), check it, ask, execute, close.
 */
#include "engine_internal.h"

#include "rdsbk/error.h"

#include <string.h>

static void s_emit_path(struct rdsbk_engine *e, enum rdsbk_event_type type, const char *path) {
    struct rdsbk_engine_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.type = type;
    ev.path = path;
    rdsbk_engine_emit(e, &ev);
}

/* Tells what destroy --keep-key leaves, of what exists. */
static void s_emit_kept(struct rdsbk_engine *e) {
    for (size_t i = 0; i < e->n_changes; i++) {
        const struct rdsbk_change *c = &e->changes[i];
        struct rdsbk_engine_event ev;

        if (!c->kept || (!c->actual && !c->in_state))
            continue;
        memset(&ev, 0, sizeof(ev));
        ev.type = RDSBK_EVENT_KEPT;
        ev.address = c->address;
        ev.name = c->id ? c->id : c->name;
        rdsbk_engine_emit(e, &ev);
    }
}

static bool s_has_changes(const struct rdsbk_engine *e) {
    struct rdsbk_plan_counts n = rdsbk_engine_count(e);
    return rdsbk_plan_counts_any(&n);
}

int rdsbk_engine_plan(bool *has_changes_out, const struct rdsbk_topology *topo,
                      const struct rdsbk_engine_options *opts) {
    struct rdsbk_engine e;
    int rc;

    *has_changes_out = false;
    rc = rdsbk_engine_open(&e, topo, opts, "plan", false);
    if (rc == 0)
        rc = rdsbk_engine_compute(&e, false);
    if (rc == 0)
        rc = rdsbk_engine_emit_plan(&e);
    if (rc == 0 && opts->plan_out) {
        rc = rdsbk_planfile_write(&e, opts->plan_out);
        if (rc == 0)
            s_emit_path(&e, RDSBK_EVENT_PLAN_SAVED, opts->plan_out);
    }
    if (rc == 0)
        *has_changes_out = s_has_changes(&e);
    rdsbk_engine_close(&e);
    return rc;
}

/* Asks the front end before the first change; nothing to ask with auto_approve or a saved plan. */
static int s_confirm(const struct rdsbk_engine *e, const char *question) {
    const struct rdsbk_engine_callbacks *cb = &e->opts->callbacks;

    if (e->opts->auto_approve || e->opts->plan_in)
        return 0;
    if (!cb->confirm)
        return rdsbk_error_set(RDSBK_EUSAGE,
                               "%s needs a confirmation nobody can give; pass "
                               "--auto-approve",
                               question);
    return cb->confirm(question, cb->payload);
}

/* Confirms and executes the plan, when it changes anything. */
static int s_carry_out(struct rdsbk_engine *e, const char *question) {
    int rc = 0;

    if (s_has_changes(e)) {
        rc = s_confirm(e, question);
        if (rc == 0)
            rc = rdsbk_engine_execute(e);
    }
    return rc;
}

int rdsbk_engine_apply(const struct rdsbk_topology *topo, const struct rdsbk_engine_options *opts) {
    struct rdsbk_engine e;
    int rc;

    rc = rdsbk_engine_open(&e, topo, opts, "apply", false);
    if (rc == 0)
        rc = rdsbk_engine_compute(&e, false);
    if (rc == 0 && opts->plan_in)
        rc = rdsbk_planfile_check(&e, opts->plan_in);
    if (rc == 0 && !opts->plan_in)
        rc = rdsbk_engine_emit_plan(&e);
    if (rc == 0)
        rc = rdsbk_engine_check_key(&e, NULL); /* a replaced key is a deleted key */
    if (rc == 0)
        rc = s_carry_out(&e, "apply these changes");
    rdsbk_engine_close(&e);
    return rc;
}

int rdsbk_engine_destroy(const struct rdsbk_topology *topo,
                         const struct rdsbk_engine_options *opts) {
    struct rdsbk_key_guard *guard = NULL;
    struct rdsbk_engine e;
    int rc;

    if (opts->keep_key && opts->force_key_deletion)
        return rdsbk_error_set(RDSBK_EUSAGE, "--keep-key and --force-key-deletion contradict "
                                             "each other: choose one");
    rc = rdsbk_engine_open(&e, topo, opts, "destroy", false);
    if (rc == 0 && !opts->discover && e.state->loaded_serial < 0) {
        s_emit_path(&e, RDSBK_EVENT_NO_STATE, rdsbk_state_store_name(e.store));
        rdsbk_engine_close(&e);
        return 0;
    }
    if (rc == 0)
        rc = rdsbk_engine_key_guard_start(&guard, &e);
    if (rc == 0)
        rc = rdsbk_engine_compute(&e, true);
    if (rc == 0)
        rc = rdsbk_engine_emit_plan(&e);
    if (rc == 0)
        rc = rdsbk_engine_check_key(&e, guard);
    rdsbk_engine_key_guard_free(guard); /* joins the reads when the run stopped before the check */
    if (rc == 0)
        s_emit_kept(&e);
    if (rc == 0)
        rc = s_carry_out(&e, "destroy every resource of the stack");
    rdsbk_engine_close(&e);
    return rc;
}
