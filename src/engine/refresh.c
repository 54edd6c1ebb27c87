/*
 * The refresh: what AWS has of every change, read in parallel (up to --parallelism per account
 * and service, long reads first), into c->actual; or what the state records, where the run
 * trusts it.
 */
#include "engine_internal.h"

#include "rdsbk/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cJSON *s_known_attributes(const struct rdsbk_change *c) {
    static cJSON s_empty = {0};
    if (c->prior)
        return c->prior;
    if (c->hint)
        return c->hint;
    s_empty.type = cJSON_Object;
    return &s_empty;
}

/*
 * Resources that live inside another (rdsbk_resource_ops.contained) cannot exist without it.
 * When neither is in the state (the first apply, a new source, destroy --discover), the inner one
 * is read only after the outer one was found: about half the reads of a first apply are not
 * made. In the state, both are read side by side. The index of the change that contains change
 * `i` and must be read first, or n_changes.
 */
static size_t s_container(const struct rdsbk_engine *e, size_t i) {
    const struct rdsbk_change *c = &e->changes[i];
    int type = rdsbk_engine_container_type(c->type);

    if (type < 0 || c->in_state || !c->node)
        return e->n_changes;
    for (size_t d = 0; d < c->node->n_deps; d++) {
        const struct rdsbk_change *dep = rdsbk_engine_find(e, c->node->deps[d]);
        if (dep && (int)dep->type == type)
            return (size_t)(dep - e->changes);
    }
    return e->n_changes;
}

struct s_refresh {
    struct rdsbk_engine *e;
    const size_t *container;     /* per change: s_container */
    struct rdsbk_res_memo *memo; /* policies read once for all their statements */
};

/*
 * What the state records is taken as it is, not read: by plan --no-refresh (which reads nothing
 * else either), and by destroy unless --refresh. Destroy deletes it anyway, and a deletion of
 * what is already gone succeeds, so a read would only make the plan exact at the price of one
 * call per resource (half of destroy's calls). What the state does not record is still read:
 * destroy must find what a killed run created and did not record.
 */
static bool s_trusts_state(const struct rdsbk_engine *e) {
    return !e->opts->refresh || (e->destroy && !e->opts->refresh_known);
}

static int s_refresh_one(size_t i, void *payload) {
    const struct s_refresh *r = payload;
    struct rdsbk_engine *e = r->e;
    struct rdsbk_change *c = &e->changes[i];
    struct rdsbk_client *client = NULL;
    struct rdsbk_resource_ref ref;
    char *id = NULL;
    int rc;

    if (c->prior && s_trusts_state(e))
        return 0; /* taken from the state by rdsbk_engine_refresh */
    if (r->container[i] < e->n_changes && !e->changes[r->container[i]].actual) {
        c->actual = NULL; /* its container does not exist: neither does it */
        return 0;
    }
    rc = rdsbk_engine_client(&client, e, c->account, c->region);
    if (rc)
        return rc;
    rdsbk_engine_ref(&ref, e, c, s_known_attributes(c));
    ref.memo = r->memo;
    rc = rdsbk_resource_ops(c->type)->read(&c->actual, &id, client, &ref);
    if (rc == RDSBK_ENOTFOUND) {
        rdsbk_error_clear();
        c->actual = NULL;
        return 0;
    }
    if (rc == 0 && id) {
        free(c->id);
        c->id = id;
    }
    c->read = rc == 0;
    return rc;
}

/* The failed read that stops the refresh (the first in change order), named in its error. */
static int s_read_failed(const struct rdsbk_engine *e, const struct rdsbk_task_result *results) {
    for (size_t i = 0; i < e->n_changes; i++) {
        if (results[i].status == RDSBK_TASK_FAILED) {
            /* the pool restored this task's error, the first failure in change order */
            struct rdsbk_error err;
            char message[sizeof(err.message) + 512];
            rdsbk_error_save(&err);
            snprintf(message, sizeof(message), "reading %s: %s", e->changes[i].address,
                     err.message);
            return rdsbk_error_set_aws(err.code, err.http_status, err.aws_code, err.request_id,
                                       message);
        }
    }
    return rdsbk_error_code();
}

int rdsbk_engine_refresh(struct rdsbk_engine *e, struct rdsbk_res_memo *memo) {
    size_t n = e->n_changes ? e->n_changes : 1;
    struct rdsbk_task_result *results = NULL;
    size_t *container = NULL;
    size_t **deps = NULL;
    size_t *n_deps = NULL;
    unsigned *calls = NULL; /* per change: the calls of its read, so that long reads start first */
    struct s_refresh r = {e, NULL, memo};
    int rc = 0;

    for (size_t i = 0; s_trusts_state(e) && i < e->n_changes; i++) {
        struct rdsbk_change *c = &e->changes[i];
        if (c->prior && !(c->actual = cJSON_Duplicate(c->prior, 1)))
            return rdsbk_error_oom();
    }
    if (!e->opts->refresh)
        return 0;
    container = calloc(n, sizeof(*container));
    deps = calloc(n, sizeof(*deps));
    n_deps = calloc(n, sizeof(*n_deps));
    calls = calloc(n, sizeof(*calls));
    RDSBK_CHECK_ALLOC(container && deps && n_deps && calls);
    for (size_t i = 0; i < e->n_changes; i++) {
        calls[i] = e->changes[i].actual ? 0 : rdsbk_resource_ops(e->changes[i].type)->read_calls;
        container[i] = s_container(e, i);
        if (container[i] < e->n_changes) {
            deps[i] = &container[i];
            n_deps[i] = 1;
        }
    }
    r.container = container;
    rc = rdsbk_engine_run_tasks(&results, e, deps, n_deps, calls, true, s_refresh_one, &r);
    if (rc && results)
        rc = s_read_failed(e, results);

cleanup:
    free(results);
    free(container);
    free(deps);
    free(n_deps);
    free(calls);
    return rc;
}
