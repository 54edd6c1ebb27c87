/*
 * Deciding: the action of every change, from what it should be and what AWS has (a pure function
 * of the two, in the manner of Terraform's getAction), in dependency order so that references see
 * their target's action; then the order apply must keep (the edges between changes).
 */
#include "canon.h"
#include "engine_internal.h"

#include "rdsbk/error.h"
#include "rdsbk/json_util.h"
#include "rdsbk/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool s_listed(const char *const *list, const char *name) {
    for (; list && *list; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

/* References resolve to what the referenced resource has now, unless apply will (re)create it. */
static const char *s_lookup(const char *address, const char *attr, void *payload) {
    struct rdsbk_engine *e = payload;
    const struct rdsbk_change *c = rdsbk_engine_find(e, address);

    if (!c || !c->actual || c->action == RDSBK_ACTION_CREATE || c->action == RDSBK_ACTION_REPLACE)
        return NULL;
    return rdsbk_json_str(c->actual, attr);
}

static bool s_has_reference(const cJSON *v) {
    char *text = cJSON_PrintUnformatted(v);
    bool found = text && strstr(text, "${") && strchr(text, '#');
    free(text);
    return found;
}

bool rdsbk_engine_matches(enum rdsbk_resource_type type, const cJSON *desired,
                          const cJSON *actual) {
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(type);
    const cJSON *attr;

    cJSON_ArrayForEach(attr, desired) {
        if (!s_listed(ops->no_diff, attr->string) &&
            !rdsbk_canon_equal(attr, cJSON_GetObjectItemCaseSensitive(actual, attr->string)))
            return false;
    }
    return true;
}

/* Lists in c->changed the attributes that differ, and the first that forces a replacement. */
static int s_diff(struct rdsbk_change *c) {
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(c->type);
    const cJSON *attr;

    cJSON_ArrayForEach(attr, c->desired) {
        const cJSON *have = cJSON_GetObjectItemCaseSensitive(c->actual, attr->string);
        cJSON *name;

        if (s_listed(ops->no_diff, attr->string))
            continue;
        if (!s_has_reference(attr) && rdsbk_canon_equal(attr, have))
            continue;
        name = cJSON_CreateString(attr->string);
        if (!name || !cJSON_AddItemToArray(c->changed, name)) {
            cJSON_Delete(name);
            return rdsbk_error_oom();
        }
        if (s_listed(ops->force_new, attr->string) && !c->forces[0])
            snprintf(c->forces, sizeof(c->forces), "%s", attr->string);
    }
    return 0;
}

static int s_decide(struct rdsbk_engine *e, struct rdsbk_change *c) {
    int rc;

    c->changed = cJSON_CreateArray();
    if (!c->changed)
        return rdsbk_error_oom();
    if (c->kept) {
        c->action = RDSBK_ACTION_NOOP;
        return 0;
    }
    if (!c->res) {
        c->action = c->actual     ? RDSBK_ACTION_DELETE
                    : c->in_state ? RDSBK_ACTION_FORGET
                                  : RDSBK_ACTION_NOOP;
        return 0;
    }
    c->desired = rdsbk_model_resolve(c->res->desired, s_lookup, e, &c->unknown);
    if (!c->desired)
        return rdsbk_error_oom();
    if (!c->actual) {
        c->action = RDSBK_ACTION_CREATE;
        return 0;
    }
    rc = s_diff(c);
    if (rc)
        return rc;
    if (c->forces[0])
        c->action = RDSBK_ACTION_REPLACE;
    else if (cJSON_GetArraySize(c->changed) > 0)
        c->action = RDSBK_ACTION_UPDATE;
    else
        c->action = c->in_state ? RDSBK_ACTION_NOOP : RDSBK_ACTION_ADOPT;
    return 0;
}

static bool s_goes(const struct rdsbk_change *c) {
    return c->action == RDSBK_ACTION_DELETE || c->action == RDSBK_ACTION_FORGET;
}

/* Whether `c` is deleted by its container's deletion in this run (its type says whether its
 * container takes it along), so that it needs no call of its own. (A rule refuses deletion while
 * it has targets, a role while it has inline policies: those go first, with calls of their own.) */
static bool s_taken_along(const struct rdsbk_change *c, const struct rdsbk_change *container) {
    return c->action == RDSBK_ACTION_DELETE && container->action == RDSBK_ACTION_DELETE &&
           rdsbk_resource_ops(c->type)->deleted_with_container &&
           rdsbk_engine_container_type(c->type) == (int)container->type;
}

/*
 * Calls `fn` for each apply-time edge "`waiter` runs after `first`". What is created or updated
 * waits for everything it refers to. Deletions wait only where AWS needs an order: a contained
 * resource goes before its container (DeleteRule refuses while the rule has targets, DeleteRole
 * while the role has inline policies); one its container takes along is recorded after that
 * container's deletion. Everything else goes side by side: AWS lets a key be scheduled for
 * deletion while its policy names roles, a role be deleted while a function or a target uses it,
 * a policy name a key that is gone.
 */
static void s_edges(struct rdsbk_engine *e, void (*fn)(struct rdsbk_engine *, size_t, size_t)) {
    for (size_t i = 0; i < e->n_changes; i++) {
        struct rdsbk_change *c = &e->changes[i];
        int container = rdsbk_engine_container_type(c->type);

        for (size_t d = 0; d < c->n_state_deps; d++) {
            struct rdsbk_change *dep = rdsbk_engine_find(e, c->state_deps[d]);
            size_t j = dep ? (size_t)(dep - e->changes) : 0;
            if (!dep)
                continue;
            if (!s_goes(c))
                fn(e, i, j); /* created or updated after what it needs */
            else if (c->taken_along && container == (int)dep->type)
                fn(e, i, j); /* recorded once its container took it along */
            else if (s_goes(dep) && container == (int)dep->type)
                fn(e, j, i); /* a container goes after what it contains */
        }
    }
}

static void s_count_edge(struct rdsbk_engine *e, size_t waiter, size_t first) {
    (void)first;
    e->changes[waiter].n_deps++;
}

static void s_add_edge(struct rdsbk_engine *e, size_t waiter, size_t first) {
    e->changes[waiter].deps[e->changes[waiter].n_deps++] = first;
}

/* The dependencies each change records in the state: the graph's, or the state's for what the
 * topology no longer has; a destroy of what the state lacks (--discover) goes by the graph's. */
static int s_copy_state_deps(struct rdsbk_engine *e, struct rdsbk_change *c) {
    const struct rdsbk_state_resource *s = rdsbk_state_find(e->state, c->address);
    const struct rdsbk_resource *r = c->res ? c->res : s ? NULL : c->node;
    char *const *deps = r ? r->deps : s ? s->deps : NULL;
    size_t n = r ? r->n_deps : s ? s->n_deps : 0;

    c->state_deps = calloc(n ? n : 1, sizeof(*c->state_deps));
    if (!c->state_deps)
        return rdsbk_error_oom();
    for (size_t d = 0; d < n; d++) {
        int rc = rdsbk_strdup_into(&c->state_deps[c->n_state_deps], deps[d]);
        if (rc)
            return rc;
        c->n_state_deps++;
    }
    return 0;
}

/* Apply-time dependencies: creates and updates after what they need; deletes after what needs
 * them is deleted. Counted first, so each list is allocated at its size. */
static int s_link(struct rdsbk_engine *e) {
    for (size_t i = 0; i < e->n_changes; i++) {
        int rc = s_copy_state_deps(e, &e->changes[i]);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < e->n_changes; i++) {
        struct rdsbk_change *c = &e->changes[i];
        for (size_t d = 0; d < c->n_state_deps && !c->taken_along; d++) {
            const struct rdsbk_change *dep = rdsbk_engine_find(e, c->state_deps[d]);
            c->taken_along = dep && s_taken_along(c, dep);
        }
    }
    s_edges(e, s_count_edge);
    for (size_t i = 0; i < e->n_changes; i++) {
        struct rdsbk_change *c = &e->changes[i];
        c->deps = calloc(c->n_deps ? c->n_deps : 1, sizeof(*c->deps));
        if (!c->deps)
            return rdsbk_error_oom();
        c->n_deps = 0;
    }
    s_edges(e, s_add_edge);
    return 0;
}

int rdsbk_engine_decide(struct rdsbk_engine *e) {
    size_t *order = NULL;
    int rc = rdsbk_graph_topo_order(&order, e->graph);

    /* the graph's resources in dependency order, so that references see their target's action;
     * then what only the state has */
    for (size_t k = 0; rc == 0 && k < e->graph->n_resources; k++)
        rc = s_decide(e, rdsbk_engine_find(e, e->graph->resources[order[k]].address));
    for (size_t i = 0; rc == 0 && i < e->n_changes; i++)
        if (!e->changes[i].changed)
            rc = s_decide(e, &e->changes[i]);
    if (rc == 0)
        rc = s_link(e);
    free(order);
    return rc;
}
