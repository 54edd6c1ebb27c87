/*
 * The change list: the desired graph and the state, both sorted by address, merged into one
 * change per resource that either has; and the --parallelism group of each change, from what its
 * type says of the API it calls.
 */
#include "engine_internal.h"

#include "rdsbk/error.h"
#include "rdsbk/json_util.h"
#include "rdsbk/str.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rdsbk_change *rdsbk_engine_find(const struct rdsbk_engine *e, const char *address) {
    return rdsbk_sorted_find(e->changes, e->n_changes, sizeof(*e->changes),
                             offsetof(struct rdsbk_change, address), address);
}

int rdsbk_engine_container_type(enum rdsbk_resource_type type) {
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(type);

    return ops->contained ? (int)ops->container : -1;
}

/*
 * The --parallelism groups. AWS throttles each service's API per account, and a regional
 * service's per Region too: an account's IAM calls share a group, its EventBridge calls in one
 * Region another, its Lambda calls a third, so one account's roles, rules and functions go side
 * by side and sources in different accounts do not slow each other down.
 */
static void s_throttle_key(char *key, size_t size, const struct rdsbk_change *c) {
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(c->type);

    snprintf(key, size, "%s %s %s", c->account, ops->service, ops->global ? "" : c->region);
}

static int s_group_by_throttle(struct rdsbk_engine *e) {
    size_t n = e->n_changes ? e->n_changes : 1;
    char(*keys)[128] = calloc(n, sizeof(*keys));
    char key[sizeof(*keys)];

    e->group_of = calloc(n, sizeof(*e->group_of));
    if (!keys || !e->group_of) {
        free(keys);
        return rdsbk_error_oom();
    }
    e->n_groups = 0;
    for (size_t i = 0; i < e->n_changes; i++) {
        int g = 0;
        s_throttle_key(key, sizeof(key), &e->changes[i]);
        while (g < e->n_groups && strcmp(keys[g], key) != 0)
            g++;
        if (g == e->n_groups)
            memcpy(keys[e->n_groups++], key, sizeof(key));
        e->group_of[i] = g;
    }
    free(keys);
    return 0;
}

/* Whether a destroy leaves resources of `type` (destroy --keep-key). */
static bool s_kept(const struct rdsbk_engine *e, enum rdsbk_resource_type type) {
    return e->opts->keep_key && rdsbk_resource_ops(type)->backups_need_it;
}

/* A change for the graph's resource `r`; on destroy nothing of it is desired (what destroy
 * --keep-key leaves is kept as it is, see rdsbk_change.kept). */
static int s_from_graph(struct rdsbk_change *c, const struct rdsbk_resource *r, bool destroy) {
    int rc;

    c->res = destroy ? NULL : r;
    c->node = r;
    c->hint = r->desired;
    c->type = r->type;
    snprintf(c->account, sizeof(c->account), "%s", r->account);
    rc = rdsbk_strdup_into(&c->address, r->address);
    if (rc == 0)
        rc = rdsbk_strdup_into(&c->region, r->region);
    if (rc == 0)
        rc = rdsbk_strdup_into(&c->name, r->name);
    return rc;
}

/* What the state records of the change; `only_state`: the graph has no such resource, so the
 * state says everything (its name kept in the attributes, or its id). */
static int s_from_state(struct rdsbk_change *c, const struct rdsbk_state_resource *s,
                        bool only_state) {
    int type = rdsbk_resource_type_from_name(s->type);
    int rc = 0;

    if (type < 0)
        return rdsbk_error_set(RDSBK_EINVALID, "%s: unknown resource type '%s' in the state",
                               s->address, s->type);
    c->in_state = true;
    c->prior = s->attributes;
    if (only_state) {
        const char *name = rdsbk_json_str(s->attributes, "name");
        c->type = (enum rdsbk_resource_type)type;
        snprintf(c->account, sizeof(c->account), "%s", s->account);
        rc = rdsbk_strdup_into(&c->address, s->address);
        if (rc == 0)
            rc = rdsbk_strdup_into(&c->region, s->region);
        if (rc == 0)
            rc = rdsbk_strdup_into(&c->name, name ? name : s->id);
    }
    if (rc == 0)
        rc = rdsbk_strdup_into(&c->id, s->id && s->id[0] ? s->id : NULL);
    return rc;
}

int rdsbk_engine_build_changes(struct rdsbk_engine *e, bool destroy) {
    const struct rdsbk_graph *g = e->graph;
    const struct rdsbk_state *st = e->state;
    size_t cap = g->n_resources + st->n_resources;
    size_t i = 0;
    size_t j = 0;
    int rc = 0;

    e->changes = calloc(cap ? cap : 1, sizeof(*e->changes));
    if (!e->changes)
        return rdsbk_error_oom();
    while (rc == 0 && (i < g->n_resources || j < st->n_resources)) {
        const struct rdsbk_resource *r = i < g->n_resources ? &g->resources[i] : NULL;
        const struct rdsbk_state_resource *s = j < st->n_resources ? &st->resources[j] : NULL;
        struct rdsbk_change *c = &e->changes[e->n_changes++];
        int cmp = !r ? 1 : !s ? -1 : strcmp(r->address, s->address);

        if (cmp <= 0 && r) {
            rc = s_from_graph(c, r, destroy);
            i++;
        }
        if (rc == 0 && cmp >= 0 && s) {
            rc = s_from_state(c, s, cmp > 0);
            j++;
        }
        c->kept = destroy && s_kept(e, c->type);
    }
    return rc ? rc : s_group_by_throttle(e);
}
