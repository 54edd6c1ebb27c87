#ifndef RDSBK_ENGINE_H
#define RDSBK_ENGINE_H

#include "rdsbk/config.h"

#include <stdbool.h>

/*
 * plan, apply and destroy: the topology's desired graph against the state and what exists in AWS.
 * Each returns 0 or a negative code with the error set (already printed where it matters: a
 * failed apply reports what was done and what failed before returning).
 */
struct rdsbk_engine_options {
    const char *state_path;
    int parallelism;         /* concurrent AWS operations; default 10 */
    int lock_timeout_s;      /* wait this long for the state lock; 0: fail at once */
    bool json;               /* machine output on stdout */
    bool color;              /* ANSI colour in text output */
    bool auto_approve;       /* apply/destroy: no interactive confirmation */
    bool refresh;            /* read AWS (default true); false: trust the state */
    bool refresh_known;      /* destroy --refresh: read what the state records too; by default
                                destroy trusts it and reads only what it does not record */
    const char *plan_out;    /* plan --out FILE */
    const char *plan_in;     /* apply FILE: execute a saved plan */
    bool discover;           /* destroy --discover: find the stack's resources without a state */
    bool force_key_deletion; /* destroy: schedule the key's deletion despite prevent_destroy or
                                snapshots still encrypted with it */
};

/* Plans; *has_changes_out tells whether apply would change anything. */
int rdsbk_engine_plan(const struct rdsbk_topology *topo, const struct rdsbk_engine_options *opts,
                      bool *has_changes_out);

int rdsbk_engine_apply(const struct rdsbk_topology *topo, const struct rdsbk_engine_options *opts);

int rdsbk_engine_destroy(const struct rdsbk_topology *topo,
                         const struct rdsbk_engine_options *opts);

#endif
