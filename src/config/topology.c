/*
 * The topology file, version 1: YAML -> struct rdsbk_topology, validated. Every problem in a file
 * is reported in one run as `FILE:LINE:COL: error: PATH: message`, PATH naming the value
 * (`sources[1].account`).
 */
#include "rdsbk/config.h"
#include "rdsbk/error.h"
#include "validate.h"
#include "yaml_walk.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RDSBK_TOPOLOGY_VERSION 1
#define RDSBK_MAX_FILE_SIZE (1024 * 1024)
#define RDSBK_MAX_TAGS 49 /* AWS allows 50 per resource; rdsbk:stack takes one */
/* EventBridge's default "Event bus policy size" quota, in characters. */
#define S_BUS_POLICY_QUOTA 10240

/* What a handler writes into, with the path of the mapping it walks for messages. */
struct s_ctx {
    struct rdsbk_topology *topo;
    struct rdsbk_source *source; /* while walking a source */
    char path[64];
    int seen_sources; /* `sources:` present */
    int seen_source;  /* `source:` present */
    int seen_backup;  /* `backup:` present */
    int seen_version; /* `version:` present */
    int seen_stack;   /* `stack:` present */
    int seen_account; /* within a source or backup mapping */
    int seen_region;  /* within a source or backup mapping */
    int bad;          /* the current source or backup is already known to be invalid */
    struct rdsbk_pos backup_pos;
};

static char *s_strdup(struct rdsbk_yaml_walk *w, const char *s) {
    char *p = strdup(s);
    if (!p)
        w->oom = 1;
    return p;
}

/* Stores a copy of a string value in `*slot` after `check` (may be NULL) accepts it. */
static void s_set_string(struct rdsbk_yaml_walk *w, const yaml_node_t *value, const char *what,
                         char **slot, const char *(*check)(const char *)) {
    const char *v = rdsbk_yaml_scalar(w, value, what);
    const char *problem;

    if (!v)
        return;
    problem = check ? check(v) : NULL;
    if (problem) {
        rdsbk_yaml_error(w, value, "%s: '%s' %s", what, v, problem);
        return;
    }
    free(*slot);
    *slot = s_strdup(w, v);
}

static void s_path(char *out, size_t size, const struct s_ctx *c, const char *key) {
    if (c->path[0])
        snprintf(out, size, "%s.%s", c->path, key);
    else
        snprintf(out, size, "%s", key);
}

/* ---- sources and backup ---------------------------------------------------------------- */

static void s_account(struct rdsbk_yaml_walk *w, const yaml_node_t *key, const yaml_node_t *value,
                      void *payload) {
    struct s_ctx *c = payload;
    char what[96];
    const char *v;
    char *dst = c->source ? c->source->account : c->topo->backup.account;

    (void)key;
    c->seen_account = 1;
    s_path(what, sizeof(what), c, "account");
    v = rdsbk_yaml_scalar(w, value, what);
    if (!v) {
        c->bad = 1;
        return;
    }
    if (!rdsbk_valid_account(v)) {
        rdsbk_yaml_error(w, value, "%s: '%s' is not a 12-digit AWS account id", what, v);
        c->bad = 1;
        return;
    }
    memcpy(dst, v, RDSBK_ACCOUNT_LEN + 1);
}

static void s_region(struct rdsbk_yaml_walk *w, const yaml_node_t *key, const yaml_node_t *value,
                     void *payload) {
    struct s_ctx *c = payload;
    char what[96];
    char **slot = c->source ? &c->source->region : &c->topo->backup.region;

    (void)key;
    c->seen_region = 1;
    s_path(what, sizeof(what), c, "region");
    s_set_string(w, value, what, slot, rdsbk_check_region);
    if (!*slot)
        c->bad = 1;
}

static void s_profile(struct rdsbk_yaml_walk *w, const yaml_node_t *key, const yaml_node_t *value,
                      void *payload) {
    struct s_ctx *c = payload;
    char what[96];

    (void)key;
    s_path(what, sizeof(what), c, "profile");
    s_set_string(w, value, what, c->source ? &c->source->profile : &c->topo->backup.profile,
                 rdsbk_check_profile);
}

static void s_role_arn(struct rdsbk_yaml_walk *w, const yaml_node_t *key, const yaml_node_t *value,
                       void *payload) {
    struct s_ctx *c = payload;
    char what[96];

    (void)key;
    s_path(what, sizeof(what), c, "role_arn");
    s_set_string(w, value, what, c->source ? &c->source->role_arn : &c->topo->backup.role_arn,
                 rdsbk_check_role_arn);
}

/* A list of DB identifiers (a single string is accepted as a one-element list). */
static void s_db_list(struct rdsbk_yaml_walk *w, const yaml_node_t *value, const char *what,
                      char ***items, size_t *count) {
    const yaml_node_item_t *item;
    const yaml_node_item_t *end;
    int single;

    if (value->type == YAML_SCALAR_NODE && rdsbk_yaml_is_null(value))
        return;
    single = value->type == YAML_SCALAR_NODE;
    if (!single && value->type != YAML_SEQUENCE_NODE) {
        rdsbk_yaml_error(w, value, "%s: must be a list of identifiers", what);
        return;
    }
    item = single ? NULL : value->data.sequence.items.start;
    end = single ? NULL : value->data.sequence.items.top;
    for (int i = 0; single ? i < 1 : item < end; i++) {
        const yaml_node_t *n = single ? value : rdsbk_yaml_node(w, *item++);
        char item_what[128];
        const char *v;
        const char *problem;
        char **grown;

        if (!n)
            continue;
        snprintf(item_what, sizeof(item_what), "%s[%d]", what, i);
        v = rdsbk_yaml_scalar(w, n, item_what);
        if (!v)
            continue;
        problem = rdsbk_check_db_pattern(v);
        if (problem) {
            rdsbk_yaml_error(w, n, "%s: '%s' %s", item_what, v, problem);
            continue;
        }
        for (size_t j = 0; j < *count; j++) {
            if (strcmp((*items)[j], v) == 0) {
                rdsbk_yaml_error(w, n, "%s: '%s' is listed twice", item_what, v);
                v = NULL;
                break;
            }
        }
        if (!v)
            continue;
        grown = realloc(*items, (*count + 1) * sizeof(*grown));
        if (!grown) {
            w->oom = 1;
            return;
        }
        *items = grown;
        (*items)[*count] = s_strdup(w, v);
        if ((*items)[*count])
            (*count)++;
    }
}

static void s_instances(struct rdsbk_yaml_walk *w, const yaml_node_t *key, const yaml_node_t *value,
                        void *payload) {
    struct s_ctx *c = payload;
    char what[96];

    (void)key;
    s_path(what, sizeof(what), c, "instances");
    s_db_list(w, value, what, &c->source->instances, &c->source->n_instances);
}

static void s_clusters(struct rdsbk_yaml_walk *w, const yaml_node_t *key, const yaml_node_t *value,
                       void *payload) {
    struct s_ctx *c = payload;
    char what[96];

    (void)key;
    s_path(what, sizeof(what), c, "clusters");
    s_db_list(w, value, what, &c->source->clusters, &c->source->n_clusters);
}

static const struct rdsbk_yaml_field s_source_fields[] = {{"account", s_account},
                                                          {"region", s_region},
                                                          {"profile", s_profile},
                                                          {"role_arn", s_role_arn},
                                                          {"instances", s_instances},
                                                          {"clusters", s_clusters},
                                                          {NULL, NULL}};

static void s_bus_policy_quota(struct rdsbk_yaml_walk *w, const yaml_node_t *key,
                               const yaml_node_t *value, void *payload) {
    struct s_ctx *c = payload;

    (void)key;
    rdsbk_yaml_int(w, value, "backup.bus_policy_quota", S_BUS_POLICY_QUOTA, 1048576,
                   &c->topo->backup.bus_policy_quota);
}

static const struct rdsbk_yaml_field s_backup_fields[] = {{"account", s_account},
                                                          {"region", s_region},
                                                          {"profile", s_profile},
                                                          {"role_arn", s_role_arn},
                                                          {"bus_policy_quota", s_bus_policy_quota},
                                                          {NULL, NULL}};

static void s_one_source(struct rdsbk_yaml_walk *w, struct s_ctx *c, const yaml_node_t *node,
                         const char *path) {
    struct rdsbk_topology *t = c->topo;
    struct rdsbk_source *grown;
    struct rdsbk_source *s;
    struct s_ctx sc = *c;

    grown = realloc(t->sources, (t->n_sources + 1) * sizeof(*grown));
    if (!grown) {
        w->oom = 1;
        return;
    }
    t->sources = grown;
    s = &t->sources[t->n_sources++];
    memset(s, 0, sizeof(*s));
    s->pos = rdsbk_yaml_pos(node);

    sc.source = s;
    sc.seen_account = sc.seen_region = sc.bad = 0;
    snprintf(sc.path, sizeof(sc.path), "%s", path);
    if (!rdsbk_yaml_mapping(w, node, path, s_source_fields, &sc))
        return;
    if (!sc.seen_account)
        rdsbk_yaml_error(w, node, "%s: 'account' is required", path);
    if (!sc.seen_region)
        rdsbk_yaml_error(w, node, "%s: 'region' is required", path);
    if (s->n_instances == 0 && s->n_clusters == 0)
        rdsbk_yaml_error(w, node,
                         "%s: no databases: list at least one of 'instances' or "
                         "'clusters'",
                         path);
    if (s->role_arn && s->account[0] && !rdsbk_arn_in_account(s->role_arn, s->account))
        rdsbk_yaml_error(w, node, "%s: role_arn belongs to another account than %s", path,
                         s->account);
}

static void s_sources(struct rdsbk_yaml_walk *w, const yaml_node_t *key, const yaml_node_t *value,
                      void *payload) {
    struct s_ctx *c = payload;
    yaml_node_item_t *item;
    int i = 0;

    (void)key;
    c->seen_sources = 1;
    if (value->type != YAML_SEQUENCE_NODE) {
        rdsbk_yaml_error(w, value,
                         "sources: must be a list of mappings (or use 'source:' for one)");
        return;
    }
    if (value->data.sequence.items.start == value->data.sequence.items.top) {
        rdsbk_yaml_error(w, value, "sources: must list at least one source");
        return;
    }
    for (item = value->data.sequence.items.start; item < value->data.sequence.items.top; item++) {
        yaml_node_t *n = rdsbk_yaml_node(w, *item);
        char path[32];

        snprintf(path, sizeof(path), "sources[%d]", i++);
        if (n)
            s_one_source(w, c, n, path);
    }
}

static void s_source(struct rdsbk_yaml_walk *w, const yaml_node_t *key, const yaml_node_t *value,
                     void *payload) {
    struct s_ctx *c = payload;

    (void)key;
    c->seen_source = 1;
    s_one_source(w, c, value, "source");
}

static void s_backup(struct rdsbk_yaml_walk *w, const yaml_node_t *key, const yaml_node_t *value,
                     void *payload) {
    struct s_ctx *c = payload;
    struct s_ctx bc = *c;

    (void)key;
    c->seen_backup = 1;
    c->topo->backup.pos = rdsbk_yaml_pos(value);
    bc.source = NULL;
    bc.seen_account = bc.seen_region = 0;
    snprintf(bc.path, sizeof(bc.path), "backup");
    if (!rdsbk_yaml_mapping(w, value, "backup", s_backup_fields, &bc))
        return;
    if (!bc.seen_account)
        rdsbk_yaml_error(w, value, "backup: 'account' is required");
    if (!bc.seen_region)
        rdsbk_yaml_error(w, value, "backup: 'region' is required");
    if (c->topo->backup.role_arn && c->topo->backup.account[0] &&
        !rdsbk_arn_in_account(c->topo->backup.role_arn, c->topo->backup.account))
        rdsbk_yaml_error(w, value, "backup: role_arn belongs to another account than %s",
                         c->topo->backup.account);
}

/* ---- key, functions, retention ---------------------------------------------------------- */

static void s_key_alias(struct rdsbk_yaml_walk *w, const yaml_node_t *key, const yaml_node_t *value,
                        void *payload) {
    struct s_ctx *c = payload;

    (void)key;
    s_set_string(w, value, "key.alias", &c->topo->key.alias, rdsbk_check_key_alias);
}

static void s_key_multi_region(struct rdsbk_yaml_walk *w, const yaml_node_t *key,
                               const yaml_node_t *value, void *payload) {
    struct s_ctx *c = payload;

    (void)key;
    rdsbk_yaml_bool(w, value, "key.multi_region", &c->topo->key.multi_region);
}

static void s_key_window(struct rdsbk_yaml_walk *w, const yaml_node_t *key,
                         const yaml_node_t *value, void *payload) {
    struct s_ctx *c = payload;

    (void)key;
    rdsbk_yaml_int(w, value, "key.deletion_window_days", 7, 30, &c->topo->key.deletion_window_days);
}

static void s_key_prevent(struct rdsbk_yaml_walk *w, const yaml_node_t *key,
                          const yaml_node_t *value, void *payload) {
    struct s_ctx *c = payload;

    (void)key;
    rdsbk_yaml_bool(w, value, "key.prevent_destroy", &c->topo->key.prevent_destroy);
}

static const struct rdsbk_yaml_field s_key_fields[] = {{"alias", s_key_alias},
                                                       {"multi_region", s_key_multi_region},
                                                       {"deletion_window_days", s_key_window},
                                                       {"prevent_destroy", s_key_prevent},
                                                       {NULL, NULL}};

static void s_key(struct rdsbk_yaml_walk *w, const yaml_node_t *key, const yaml_node_t *value,
                  void *payload) {
    (void)key;
    rdsbk_yaml_mapping(w, value, "key", s_key_fields, payload);
}

static void s_fn_runtime(struct rdsbk_yaml_walk *w, const yaml_node_t *key,
                         const yaml_node_t *value, void *payload) {
    struct s_ctx *c = payload;

    (void)key;
    s_set_string(w, value, "functions.runtime", &c->topo->functions.runtime, rdsbk_check_runtime);
}

static void s_fn_timeout(struct rdsbk_yaml_walk *w, const yaml_node_t *key,
                         const yaml_node_t *value, void *payload) {
    struct s_ctx *c = payload;

    (void)key;
    rdsbk_yaml_int(w, value, "functions.timeout_seconds", 1, 900,
                   &c->topo->functions.timeout_seconds);
}

static void s_fn_memory(struct rdsbk_yaml_walk *w, const yaml_node_t *key, const yaml_node_t *value,
                        void *payload) {
    struct s_ctx *c = payload;

    (void)key;
    rdsbk_yaml_int(w, value, "functions.memory_mb", 128, 10240, &c->topo->functions.memory_mb);
}

static const struct rdsbk_yaml_field s_function_fields[] = {{"runtime", s_fn_runtime},
                                                            {"timeout_seconds", s_fn_timeout},
                                                            {"memory_mb", s_fn_memory},
                                                            {NULL, NULL}};

static void s_functions(struct rdsbk_yaml_walk *w, const yaml_node_t *key, const yaml_node_t *value,
                        void *payload) {
    (void)key;
    rdsbk_yaml_mapping(w, value, "functions", s_function_fields, payload);
}

static void s_ret_backup(struct rdsbk_yaml_walk *w, const yaml_node_t *key,
                         const yaml_node_t *value, void *payload) {
    struct s_ctx *c = payload;

    (void)key;
    rdsbk_yaml_int(w, value, "retention.backup_days", 0, 36500, &c->topo->retention.backup_days);
}

static void s_ret_intermediate(struct rdsbk_yaml_walk *w, const yaml_node_t *key,
                               const yaml_node_t *value, void *payload) {
    struct s_ctx *c = payload;

    (void)key;
    rdsbk_yaml_int(w, value, "retention.intermediate_days", 0, 36500,
                   &c->topo->retention.intermediate_days);
}

static const struct rdsbk_yaml_field s_retention_fields[] = {
    {"backup_days", s_ret_backup}, {"intermediate_days", s_ret_intermediate}, {NULL, NULL}};

static void s_retention(struct rdsbk_yaml_walk *w, const yaml_node_t *key, const yaml_node_t *value,
                        void *payload) {
    (void)key;
    rdsbk_yaml_mapping(w, value, "retention", s_retention_fields, payload);
}

/* ---- tags and endpoints ----------------------------------------------------------------- */

static int s_tag_cmp(const void *a, const void *b) {
    return strcmp(((const struct rdsbk_tag *)a)->key, ((const struct rdsbk_tag *)b)->key);
}

static void s_tags(struct rdsbk_yaml_walk *w, const yaml_node_t *key, const yaml_node_t *value,
                   void *payload) {
    struct s_ctx *c = payload;
    struct rdsbk_topology *t = c->topo;
    yaml_node_pair_t *pair;

    (void)key;
    if (value->type == YAML_SCALAR_NODE && rdsbk_yaml_is_null(value))
        return;
    if (value->type != YAML_MAPPING_NODE) {
        rdsbk_yaml_error(w, value, "tags: must be a mapping of key: value");
        return;
    }
    for (pair = value->data.mapping.pairs.start; pair < value->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = rdsbk_yaml_node(w, pair->key);
        yaml_node_t *v = rdsbk_yaml_node(w, pair->value);
        const char *ks;
        const char *vs;
        const char *problem;
        struct rdsbk_tag *grown;
        int dup = 0;

        if (!k || !v)
            continue;
        ks = rdsbk_yaml_scalar(w, k, "tag key");
        if (!ks)
            continue;
        if (v->type == YAML_SCALAR_NODE && rdsbk_yaml_is_null(v))
            vs = "";
        else
            vs = rdsbk_yaml_scalar(w, v, "tag value");
        if (!vs)
            continue;
        problem = rdsbk_check_tag_key(ks);
        if (problem) {
            rdsbk_yaml_error(w, k, "tags: key '%s' %s", ks, problem);
            continue;
        }
        problem = rdsbk_check_tag_value(vs);
        if (problem) {
            rdsbk_yaml_error(w, v, "tags.%s: value %s", ks, problem);
            continue;
        }
        for (size_t i = 0; i < t->n_tags; i++)
            dup |= strcmp(t->tags[i].key, ks) == 0;
        if (dup) {
            rdsbk_yaml_error(w, k, "tags: duplicate key '%s'", ks);
            continue;
        }
        if (t->n_tags == RDSBK_MAX_TAGS) {
            rdsbk_yaml_error(w, k, "tags: at most %d tags (AWS allows 50; rdsbk:stack is one)",
                             RDSBK_MAX_TAGS);
            return;
        }
        grown = realloc(t->tags, (t->n_tags + 1) * sizeof(*grown));
        if (!grown) {
            w->oom = 1;
            return;
        }
        t->tags = grown;
        t->tags[t->n_tags].key = s_strdup(w, ks);
        t->tags[t->n_tags].value = s_strdup(w, vs);
        t->n_tags++;
    }
    if (t->n_tags > 1)
        qsort(t->tags, t->n_tags, sizeof(*t->tags), s_tag_cmp);
}

#define S_ENDPOINT(field)                                                                          \
    static void s_ep_##field(struct rdsbk_yaml_walk *w, const yaml_node_t *key,                    \
                             const yaml_node_t *value, void *payload) {                            \
        struct s_ctx *c = payload;                                                                 \
        (void)key;                                                                                 \
        s_set_string(w, value, "endpoints." #field, &c->topo->endpoints.field,                     \
                     rdsbk_check_endpoint_url);                                                    \
    }
S_ENDPOINT(sts)
S_ENDPOINT(iam)
S_ENDPOINT(kms)
S_ENDPOINT(events)
S_ENDPOINT(lambda)
S_ENDPOINT(rds)

static void s_ep_default(struct rdsbk_yaml_walk *w, const yaml_node_t *key,
                         const yaml_node_t *value, void *payload) {
    struct s_ctx *c = payload;

    (void)key;
    s_set_string(w, value, "endpoints.default", &c->topo->endpoints.default_url,
                 rdsbk_check_endpoint_url);
}

static const struct rdsbk_yaml_field s_endpoint_fields[] = {
    {"default", s_ep_default}, {"sts", s_ep_sts},       {"iam", s_ep_iam}, {"kms", s_ep_kms},
    {"events", s_ep_events},   {"lambda", s_ep_lambda}, {"rds", s_ep_rds}, {NULL, NULL}};

static void s_endpoints(struct rdsbk_yaml_walk *w, const yaml_node_t *key, const yaml_node_t *value,
                        void *payload) {
    (void)key;
    rdsbk_yaml_mapping(w, value, "endpoints", s_endpoint_fields, payload);
}

/* ---- top level -------------------------------------------------------------------------- */

static void s_version(struct rdsbk_yaml_walk *w, const yaml_node_t *key, const yaml_node_t *value,
                      void *payload) {
    struct s_ctx *c = payload;
    int v;

    (void)key;
    c->seen_version = 1;
    if (!rdsbk_yaml_int(w, value, "version", 0, 1000000, &v))
        return;
    if (v != RDSBK_TOPOLOGY_VERSION) {
        rdsbk_yaml_error(w, value,
                         "version %d is not supported (this rdsbk-provision reads "
                         "version %d)",
                         v, RDSBK_TOPOLOGY_VERSION);
        return;
    }
    c->topo->version = v;
}

static void s_stack(struct rdsbk_yaml_walk *w, const yaml_node_t *key, const yaml_node_t *value,
                    void *payload) {
    struct s_ctx *c = payload;

    (void)key;
    c->seen_stack = 1;
    s_set_string(w, value, "stack", &c->topo->stack, rdsbk_check_stack);
}

static const struct rdsbk_yaml_field s_top_fields[] = {{"version", s_version},
                                                       {"stack", s_stack},
                                                       {"sources", s_sources},
                                                       {"source", s_source},
                                                       {"backup", s_backup},
                                                       {"key", s_key},
                                                       {"functions", s_functions},
                                                       {"retention", s_retention},
                                                       {"tags", s_tags},
                                                       {"endpoints", s_endpoints},
                                                       {NULL, NULL}};

/* Checks that need the whole file: relations between sources and the backup account. */
static void s_cross_checks(struct rdsbk_yaml_walk *w, const struct rdsbk_topology *t,
                           int shorthand) {
    const struct rdsbk_backup *b = &t->backup;

    for (size_t i = 0; i < t->n_sources; i++) {
        const struct rdsbk_source *s = &t->sources[i];
        char path[32];

        if (shorthand)
            snprintf(path, sizeof(path), "source");
        else
            snprintf(path, sizeof(path), "sources[%zu]", i);
        if (s->account[0] && b->account[0] && strcmp(s->account, b->account) == 0)
            rdsbk_yaml_error_at(w, s->pos,
                                "%s: account %s is also the backup account; the backup account "
                                "must be a different account",
                                path, s->account);
        if (s->region && b->region && strcmp(s->region, b->region) == 0)
            rdsbk_yaml_error_at(w, s->pos,
                                "%s: region %s is the backup Region (Region-B); a source must be "
                                "in another Region",
                                path, s->region);
        if (s->region && b->region &&
            strcmp(rdsbk_region_partition(s->region), rdsbk_region_partition(b->region)) != 0)
            rdsbk_yaml_error_at(w, s->pos,
                                "%s: region %s is in partition %s but the backup Region %s is in "
                                "%s; copies cannot cross partitions",
                                path, s->region, rdsbk_region_partition(s->region), b->region,
                                rdsbk_region_partition(b->region));
        for (size_t j = 0; j < i; j++) {
            const struct rdsbk_source *o = &t->sources[j];
            if (s->account[0] && s->region && o->region && strcmp(s->account, o->account) == 0 &&
                strcmp(s->region, o->region) == 0)
                rdsbk_yaml_error_at(w, s->pos,
                                    "%s: duplicate source %s/%s (already sources[%zu]); list its "
                                    "databases in one source",
                                    path, s->account, s->region, j);
        }
    }
}

static void s_defaults(struct rdsbk_yaml_walk *w, struct rdsbk_topology *t) {
    char alias[64];

    if (!t->key.alias && t->stack) {
        snprintf(alias, sizeof(alias), "alias/rdsbk-%s", t->stack);
        t->key.alias = s_strdup(w, alias);
    }
    if (!t->functions.runtime)
        t->functions.runtime = s_strdup(w, "python3.12");
}

static int s_diag_cmp(const void *a, const void *b) {
    const struct rdsbk_diagnostic *x = a;
    const struct rdsbk_diagnostic *y = b;

    if (x->pos.line != y->pos.line)
        return x->pos.line < y->pos.line ? -1 : 1;
    if (x->pos.col != y->pos.col)
        return x->pos.col < y->pos.col ? -1 : 1;
    return 0;
}

/* Insertion sort: stable, so two messages at one position keep the order they were found in. */
static void s_sort_diagnostics(struct rdsbk_diagnostics *d) {
    for (size_t i = 1; i < d->count; i++) {
        struct rdsbk_diagnostic tmp = d->items[i];
        size_t j = i;
        while (j > 0 && s_diag_cmp(&d->items[j - 1], &tmp) > 0) {
            d->items[j] = d->items[j - 1];
            j--;
        }
        d->items[j] = tmp;
    }
}

static struct rdsbk_topology *s_new_topology(const char *name) {
    struct rdsbk_topology *t = calloc(1, sizeof(*t));

    if (!t)
        return NULL;
    t->path = strdup(name);
    if (!t->path) {
        free(t);
        return NULL;
    }
    t->key.multi_region = true;
    t->key.deletion_window_days = 30;
    t->functions.timeout_seconds = 60;
    t->functions.memory_mb = 128;
    t->backup.bus_policy_quota = S_BUS_POLICY_QUOTA;
    return t;
}

static void s_parse_document(struct rdsbk_yaml_walk *w, struct s_ctx *c, yaml_document_t *doc) {
    yaml_node_t *root = yaml_document_get_root_node(doc);
    struct rdsbk_pos top = {1, 1};

    if (!root || (root->type == YAML_SCALAR_NODE && rdsbk_yaml_is_null(root))) {
        rdsbk_yaml_error_at(w, top, "the file is empty; see examples/basic.yaml for a topology");
        return;
    }
    if (!rdsbk_yaml_mapping(w, root, "the topology", s_top_fields, c))
        return;
    if (!c->seen_version)
        rdsbk_yaml_error(w, root, "'version' is required (version: 1)");
    if (!c->seen_stack)
        rdsbk_yaml_error(w, root, "'stack' is required");
    if (c->seen_source && c->seen_sources)
        rdsbk_yaml_error(w, root, "use either 'source' or 'sources', not both");
    else if (!c->seen_source && !c->seen_sources)
        rdsbk_yaml_error(w, root, "'sources' is required: at least one Account-A/Region-A");
    if (!c->seen_backup)
        rdsbk_yaml_error(w, root, "'backup' is required: the backup account and Region-B");
    s_cross_checks(w, c->topo, c->seen_source && !c->seen_sources);
}

int rdsbk_topology_parse(struct rdsbk_topology **out, struct rdsbk_diagnostics *diags,
                         const char *name, const char *text, size_t len) {
    yaml_parser_t parser;
    yaml_document_t doc;
    struct rdsbk_yaml_walk w = {0};
    struct s_ctx c;
    struct rdsbk_topology *t = NULL;
    int parser_ready = 0;
    int doc_ready = 0;
    int result = RDSBK_ERROR;

    *out = NULL;
    memset(diags, 0, sizeof(*diags));
    memset(&c, 0, sizeof(c));
    w.diags = diags;

    t = s_new_topology(name);
    if (!t || !yaml_parser_initialize(&parser)) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    parser_ready = 1;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        struct rdsbk_pos pos = {(int)parser.problem_mark.line + 1,
                                (int)parser.problem_mark.column + 1};
        if (parser.error == YAML_MEMORY_ERROR) {
            result = rdsbk_error_oom();
            goto cleanup;
        }
        rdsbk_yaml_error_at(&w, pos, "invalid YAML: %s%s%s",
                            parser.problem ? parser.problem : "syntax error",
                            parser.context ? " " : "", parser.context ? parser.context : "");
        result = RDSBK_EINVALID;
        goto cleanup;
    }
    doc_ready = 1;
    w.doc = &doc;
    c.topo = t;
    s_parse_document(&w, &c, &doc);
    s_defaults(&w, t);
    if (w.oom) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    if (diags->count) {
        result = rdsbk_error_set(RDSBK_EINVALID, "%s: %zu error%s in the topology", name,
                                 diags->count, diags->count == 1 ? "" : "s");
        goto cleanup;
    }
    *out = t;
    t = NULL;
    result = 0;

cleanup:
    s_sort_diagnostics(diags);
    if (doc_ready)
        yaml_document_delete(&doc);
    if (parser_ready)
        yaml_parser_delete(&parser);
    rdsbk_topology_free(t);
    return result;
}

int rdsbk_topology_load(struct rdsbk_topology **out, struct rdsbk_diagnostics *diags,
                        const char *path) {
    FILE *f = NULL;
    char *text = NULL;
    size_t len = 0;
    int result = RDSBK_ERROR;

    *out = NULL;
    memset(diags, 0, sizeof(*diags));
    f = fopen(path, "rb");
    if (!f) {
        result = rdsbk_error_set(RDSBK_EIO, "%s: %s", path, strerror(errno));
        goto cleanup;
    }
    text = malloc(RDSBK_MAX_FILE_SIZE + 1);
    if (!text) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    len = fread(text, 1, RDSBK_MAX_FILE_SIZE + 1, f);
    if (ferror(f)) {
        result = rdsbk_error_set(RDSBK_EIO, "%s: %s", path, strerror(errno));
        goto cleanup;
    }
    if (len > RDSBK_MAX_FILE_SIZE) {
        result = rdsbk_error_set(RDSBK_EINVALID, "%s: larger than %d bytes; not a topology", path,
                                 RDSBK_MAX_FILE_SIZE);
        goto cleanup;
    }
    result = rdsbk_topology_parse(out, diags, path, text, len);

cleanup:
    free(text);
    if (f)
        fclose(f);
    return result;
}

static void s_free_list(char **items, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
}

void rdsbk_topology_free(struct rdsbk_topology *t) {
    if (!t)
        return;
    for (size_t i = 0; i < t->n_sources; i++) {
        struct rdsbk_source *s = &t->sources[i];
        free(s->region);
        free(s->profile);
        free(s->role_arn);
        s_free_list(s->instances, s->n_instances);
        s_free_list(s->clusters, s->n_clusters);
    }
    free(t->sources);
    free(t->backup.region);
    free(t->backup.profile);
    free(t->backup.role_arn);
    free(t->key.alias);
    free(t->functions.runtime);
    for (size_t i = 0; i < t->n_tags; i++) {
        free(t->tags[i].key);
        free(t->tags[i].value);
    }
    free(t->tags);
    free(t->endpoints.default_url);
    free(t->endpoints.sts);
    free(t->endpoints.iam);
    free(t->endpoints.kms);
    free(t->endpoints.events);
    free(t->endpoints.lambda);
    free(t->endpoints.rds);
    free(t->stack);
    free(t->path);
    free(t);
}

void rdsbk_diagnostics_clean_up(struct rdsbk_diagnostics *diags) {
    free(diags->items);
    diags->items = NULL;
    diags->count = 0;
}
