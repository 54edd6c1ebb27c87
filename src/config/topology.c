/*
 * The topology file, version 1: YAML -> struct rdsbk_topology, validated. Every problem in a file
 * is reported in one run as `FILE:LINE:COL: error: PATH: message`, PATH naming the value
 * (`sources[1].account`).
 */
#include "rdsbk/config.h"
#include "rdsbk/error.h"
#include "rdsbk/str.h"
#include "validate.h"
#include "yaml_walk.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RDSBK_TOPOLOGY_VERSION 1
#define RDSBK_MAX_FILE_SIZE (1024 * 1024)
#define RDSBK_MAX_TAGS 49 /* AWS allows 50 per resource; rdsbk:stack takes one */
/* EventBridge's default "Event bus policy size" quota, in characters. */
#define S_BUS_POLICY_QUOTA 10240
/* RDS's default "Manual DB snapshots" and "Manual DB cluster snapshots" quotas. */
#define S_SNAPSHOT_QUOTA 100
#define S_SNAPSHOT_QUOTA_MAX 100000

/* What a handler writes into, with the path of the mapping it walks for messages. */
struct s_ctx {
    struct rdsbk_topology *topo;
    struct rdsbk_source *source; /* while walking a source */
    void *base; /* what the mapping's settings are in: the topology, a source or the backup */
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

/* The path of `key` in the mapping being walked, for messages: "sources[1].account". */
static void s_path(char *out, size_t size, const struct s_ctx *c, const char *key) {
    if (c->path[0])
        snprintf(out, size, "%s.%s", c->path, key);
    else
        snprintf(out, size, "%s", key);
}

/* The member at `offset` of `base`: of what a mapping fills (struct s_ctx's base). */
static void *s_at(void *base, size_t offset) {
    return (char *)base + offset;
}

/* ---- settings: plain values, described in the tables of the mappings --------------------- */

enum s_kind { S_KIND_STRING, S_KIND_INT, S_KIND_BOOL };

/* A plain value, at `offset` in what its mapping fills: a string that `check` accepts (NULL: any),
 * a whole number in [min, max], or true or false. */
struct s_setting {
    enum s_kind kind;
    size_t offset;
    long min;
    long max;
    const char *(*check)(const char *);
};

static void s_setting(struct rdsbk_yaml_walk *w, const struct rdsbk_yaml_field *field,
                      const yaml_node_t *value, void *payload) {
    const struct s_ctx *c = payload;
    const struct s_setting *s = field->data;
    char what[96];

    s_path(what, sizeof(what), c, field->name);
    switch (s->kind) {
    case S_KIND_STRING:
        s_set_string(w, value, what, s_at(c->base, s->offset), s->check);
        break;
    case S_KIND_INT:
        rdsbk_yaml_int(w, value, what, s->min, s->max, s_at(c->base, s->offset));
        break;
    case S_KIND_BOOL:
        rdsbk_yaml_bool(w, value, what, s_at(c->base, s->offset));
        break;
    }
}

/* A field of a mapping table for the setting `member` of `type`. */
#define S_SETTING(type, name, member, kind, min, max, check)                                       \
    {                                                                                              \
        name, s_setting, &(const struct s_setting) {                                               \
            kind, offsetof(type, member), min, max, check                                          \
        }                                                                                          \
    }
#define S_STRING(type, name, member, check)                                                        \
    S_SETTING(type, name, member, S_KIND_STRING, 0, 0, check)
#define S_INT(type, name, member, min, max)                                                        \
    S_SETTING(type, name, member, S_KIND_INT, min, max, NULL)
#define S_BOOL(type, name, member) S_SETTING(type, name, member, S_KIND_BOOL, 0, 0, NULL)

/* A mapping of settings of the topology itself (key:, functions:, ...); `field->data` is its
 * table. */
static void s_section(struct rdsbk_yaml_walk *w, const struct rdsbk_yaml_field *field,
                      const yaml_node_t *value, void *payload) {
    struct s_ctx sc = *(const struct s_ctx *)payload;

    snprintf(sc.path, sizeof(sc.path), "%s", field->name);
    rdsbk_yaml_mapping(w, value, field->name, field->data, &sc);
}

static const struct rdsbk_yaml_field s_key_fields[] = {
    S_STRING(struct rdsbk_topology, "alias", key.alias, rdsbk_check_key_alias),
    S_BOOL(struct rdsbk_topology, "multi_region", key.multi_region),
    S_INT(struct rdsbk_topology, "deletion_window_days", key.deletion_window_days, 7, 30),
    S_BOOL(struct rdsbk_topology, "prevent_destroy", key.prevent_destroy),
    {NULL, NULL, NULL}};

/* functions.log_retention_days: one of the retentions CloudWatch Logs accepts. */
static void s_log_retention(struct rdsbk_yaml_walk *w, const struct rdsbk_yaml_field *field,
                            const yaml_node_t *value, void *payload) {
    static const int allowed[] = {1,   3,   5,   7,   14,   30,   60,   90,   120,  150,  180,
                                  365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653};
    const struct s_ctx *c = payload;
    int days;

    (void)field;
    if (!rdsbk_yaml_int(w, value, "functions.log_retention_days", 1, 3653, &days))
        return;
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
        if (allowed[i] == days) {
            c->topo->functions.log_retention_days = days;
            return;
        }
    }
    rdsbk_yaml_error(w, value,
                     "functions.log_retention_days: %d is not a retention CloudWatch Logs "
                     "accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, "
                     "1096, 1827, 2192, 2557, 2922, 3288 or 3653)",
                     days);
}

static const struct rdsbk_yaml_field s_function_fields[] = {
    S_STRING(struct rdsbk_topology, "runtime", functions.runtime, rdsbk_check_runtime),
    S_INT(struct rdsbk_topology, "timeout_seconds", functions.timeout_seconds, 1, 900),
    S_INT(struct rdsbk_topology, "memory_mb", functions.memory_mb, 128, 10240),
    {"log_retention_days", s_log_retention, NULL},
    {NULL, NULL, NULL}};

static const struct rdsbk_yaml_field s_retention_fields[] = {
    S_INT(struct rdsbk_topology, "backup_days", retention.backup_days, 0, 36500),
    S_INT(struct rdsbk_topology, "intermediate_days", retention.intermediate_days, 0, 36500),
    S_INT(struct rdsbk_topology, "keep_last", retention.keep_last, 1, 1000),
    {NULL, NULL, NULL}};

/* A declared (raised) manual snapshot quota of the account, in Region-B. */
#define S_SNAPSHOT_QUOTA_FIELDS(type)                                                              \
    S_INT(type, "manual_snapshot_quota", quotas.manual_snapshots, 1, S_SNAPSHOT_QUOTA_MAX),        \
        S_INT(type, "manual_cluster_snapshot_quota", quotas.manual_cluster_snapshots, 1,           \
              S_SNAPSHOT_QUOTA_MAX)

#define S_ENDPOINT(name, member)                                                                   \
    S_STRING(struct rdsbk_topology, name, endpoints.member, rdsbk_check_endpoint_url)

static const struct rdsbk_yaml_field s_endpoint_fields[] = {S_ENDPOINT("default", default_url),
                                                            S_ENDPOINT("sts", sts),
                                                            S_ENDPOINT("iam", iam),
                                                            S_ENDPOINT("kms", kms),
                                                            S_ENDPOINT("events", events),
                                                            S_ENDPOINT("lambda", lambda),
                                                            S_ENDPOINT("rds", rds),
                                                            S_ENDPOINT("logs", logs),
                                                            {NULL, NULL, NULL}};

/* ---- sources and backup ---------------------------------------------------------------- */

static void s_account(struct rdsbk_yaml_walk *w, const struct rdsbk_yaml_field *field,
                      const yaml_node_t *value, void *payload) {
    struct s_ctx *c = payload;
    char what[96];
    const char *v;
    char *dst = c->source ? c->source->account : c->topo->backup.account;

    c->seen_account = 1;
    s_path(what, sizeof(what), c, field->name);
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

static void s_region(struct rdsbk_yaml_walk *w, const struct rdsbk_yaml_field *field,
                     const yaml_node_t *value, void *payload) {
    struct s_ctx *c = payload;
    char what[96];
    char **slot = c->source ? &c->source->region : &c->topo->backup.region;

    c->seen_region = 1;
    s_path(what, sizeof(what), c, field->name);
    s_set_string(w, value, what, slot, rdsbk_check_region);
    if (!*slot)
        c->bad = 1;
}

/* Adds DB identifier `v` (node `n`, `what` for messages) to the list unless it is bad or listed. */
static void s_db_item(struct rdsbk_yaml_walk *w, const yaml_node_t *n, const char *what,
                      char ***items, size_t *count, const char *(*check)(const char *)) {
    const char *v = rdsbk_yaml_scalar(w, n, what);
    const char *problem;
    char **grown;

    if (!v)
        return;
    problem = check(v);
    if (problem) {
        rdsbk_yaml_error(w, n, "%s: '%s' %s", what, v, problem);
        return;
    }
    for (size_t j = 0; j < *count; j++) {
        if (strcmp((*items)[j], v) == 0) {
            rdsbk_yaml_error(w, n, "%s: '%s' is listed twice", what, v);
            return;
        }
    }
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

/* Where a source's list of DB identifiers (or key ARNs) goes: `items` and `count` in struct
 * rdsbk_source, each item as `check` accepts it. */
struct s_db_list {
    size_t items;
    size_t count;
    const char *(*check)(const char *);
    const char *noun; /* of the items, for messages */
};

/* A list of DB identifiers or key ARNs (a single string is accepted as a one-element list). */
static void s_db_list(struct rdsbk_yaml_walk *w, const struct rdsbk_yaml_field *field,
                      const yaml_node_t *value, void *payload) {
    const struct s_ctx *c = payload;
    const struct s_db_list *list = field->data;
    bool single = value->type == YAML_SCALAR_NODE;
    const yaml_node_item_t *item = NULL;
    char what[96];

    s_path(what, sizeof(what), c, field->name);
    if (single && rdsbk_yaml_is_null(value))
        return;
    if (!single && value->type != YAML_SEQUENCE_NODE) {
        rdsbk_yaml_error(w, value, "%s: must be a list of %s", what, list->noun);
        return;
    }
    if (!single)
        item = value->data.sequence.items.start;
    for (int i = 0; single ? i < 1 : item < value->data.sequence.items.top; i++) {
        const yaml_node_t *n = single ? value : rdsbk_yaml_node(w, *item++);
        char item_what[128];

        snprintf(item_what, sizeof(item_what), "%s[%d]", what, i);
        if (n)
            s_db_item(w, n, item_what, s_at(c->base, list->items), s_at(c->base, list->count),
                      list->check);
        if (w->oom)
            return;
    }
}

#define S_DB_LIST(name, member, check, noun)                                                       \
    {                                                                                              \
        name, s_db_list, &(const struct s_db_list) {                                               \
            offsetof(struct rdsbk_source, member), offsetof(struct rdsbk_source, n_##member),      \
                check, noun                                                                        \
        }                                                                                          \
    }

/* One option_groups entry of the source being walked: a database pattern and an option group. */
static void s_option_group(struct rdsbk_yaml_walk *w, struct rdsbk_source *s, const char *what,
                           const yaml_node_t *k, const yaml_node_t *v) {
    const char *pattern = rdsbk_yaml_scalar(w, k, what);
    const char *group = pattern ? rdsbk_yaml_scalar(w, v, what) : NULL;
    const char *problem = NULL;
    struct rdsbk_tag *grown;

    if (!group)
        return;
    if ((problem = rdsbk_check_db_pattern(pattern)) != NULL)
        rdsbk_yaml_error(w, k, "%s: '%s' %s", what, pattern, problem);
    else if ((problem = rdsbk_check_option_group(group)) != NULL)
        rdsbk_yaml_error(w, v, "%s.%s: '%s' %s", what, pattern, group, problem);
    if (problem)
        return;
    grown = realloc(s->option_groups, (s->n_option_groups + 1) * sizeof(*grown));
    if (!grown) {
        w->oom = 1;
        return;
    }
    s->option_groups = grown;
    grown[s->n_option_groups].key = s_strdup(w, pattern);
    grown[s->n_option_groups].value = s_strdup(w, group);
    s->n_option_groups++;
}

/* sources[].option_groups: {database pattern: option group of Region-B}. */
static void s_option_groups(struct rdsbk_yaml_walk *w, const struct rdsbk_yaml_field *field,
                            const yaml_node_t *value, void *payload) {
    const struct s_ctx *c = payload;
    char what[96];

    s_path(what, sizeof(what), c, field->name);
    if (value->type == YAML_SCALAR_NODE && rdsbk_yaml_is_null(value))
        return;
    if (value->type != YAML_MAPPING_NODE) {
        rdsbk_yaml_error(w, value, "%s: must be a mapping of database: option group", what);
        return;
    }
    for (yaml_node_pair_t *pair = value->data.mapping.pairs.start;
         pair < value->data.mapping.pairs.top && !w->oom; pair++) {
        const yaml_node_t *k = rdsbk_yaml_node(w, pair->key);
        const yaml_node_t *v = rdsbk_yaml_node(w, pair->value);
        if (k && v)
            s_option_group(w, c->source, what, k, v);
    }
}

static const struct rdsbk_yaml_field s_source_fields[] = {
    {"account", s_account, NULL},
    {"region", s_region, NULL},
    S_STRING(struct rdsbk_source, "profile", profile, rdsbk_check_profile),
    S_STRING(struct rdsbk_source, "role_arn", role_arn, rdsbk_check_role_arn),
    S_DB_LIST("instances", instances, rdsbk_check_db_pattern, "identifiers"),
    S_DB_LIST("clusters", clusters, rdsbk_check_db_pattern, "identifiers"),
    S_DB_LIST("kms_keys", kms_keys, rdsbk_check_kms_key_arn, "KMS key ARNs"),
    {"option_groups", s_option_groups, NULL},
    S_SNAPSHOT_QUOTA_FIELDS(struct rdsbk_source),
    {NULL, NULL, NULL}};

static const struct rdsbk_yaml_field s_backup_fields[] = {
    {"account", s_account, NULL},
    {"region", s_region, NULL},
    S_STRING(struct rdsbk_backup, "profile", profile, rdsbk_check_profile),
    S_STRING(struct rdsbk_backup, "role_arn", role_arn, rdsbk_check_role_arn),
    S_INT(struct rdsbk_backup, "bus_policy_quota", bus_policy_quota, S_BUS_POLICY_QUOTA, 1048576),
    S_SNAPSHOT_QUOTA_FIELDS(struct rdsbk_backup),
    {NULL, NULL, NULL}};

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
    s->quotas = (struct rdsbk_snapshot_quotas){S_SNAPSHOT_QUOTA, S_SNAPSHOT_QUOTA};

    sc.source = s;
    sc.base = s;
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
    for (size_t k = 0; s->region && k < s->n_kms_keys; k++) {
        /* arn:<partition>:kms:<region>:... : a snapshot's key is in the snapshot's Region */
        const char *region = strchr(strchr(s->kms_keys[k] + 4, ':') + 1, ':') + 1;
        if (strncmp(region, s->region, strlen(s->region)) != 0 || region[strlen(s->region)] != ':')
            rdsbk_yaml_error(w, node,
                             "%s: kms_keys: %s is not in the source's Region %s: its snapshots "
                             "are encrypted with keys of their own Region",
                             path, s->kms_keys[k], s->region);
    }
}

static void s_sources(struct rdsbk_yaml_walk *w, const struct rdsbk_yaml_field *field,
                      const yaml_node_t *value, void *payload) {
    struct s_ctx *c = payload;
    yaml_node_item_t *item;
    int i = 0;

    (void)field;
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

static void s_source(struct rdsbk_yaml_walk *w, const struct rdsbk_yaml_field *field,
                     const yaml_node_t *value, void *payload) {
    struct s_ctx *c = payload;

    c->seen_source = 1;
    s_one_source(w, c, value, field->name);
}

static void s_backup(struct rdsbk_yaml_walk *w, const struct rdsbk_yaml_field *field,
                     const yaml_node_t *value, void *payload) {
    struct s_ctx *c = payload;
    struct s_ctx bc = *c;
    const struct rdsbk_backup *b = &c->topo->backup;

    (void)field;
    c->seen_backup = 1;
    c->topo->backup.pos = rdsbk_yaml_pos(value);
    bc.source = NULL;
    bc.base = &c->topo->backup;
    bc.seen_account = bc.seen_region = 0;
    snprintf(bc.path, sizeof(bc.path), "backup");
    if (!rdsbk_yaml_mapping(w, value, "backup", s_backup_fields, &bc))
        return;
    if (!bc.seen_account)
        rdsbk_yaml_error(w, value, "backup: 'account' is required");
    if (!bc.seen_region)
        rdsbk_yaml_error(w, value, "backup: 'region' is required");
    if (b->role_arn && b->account[0] && !rdsbk_arn_in_account(b->role_arn, b->account))
        rdsbk_yaml_error(w, value, "backup: role_arn belongs to another account than %s",
                         b->account);
}

/* ---- tags ------------------------------------------------------------------------------- */

static int s_tag_cmp(const void *a, const void *b) {
    return strcmp(((const struct rdsbk_tag *)a)->key, ((const struct rdsbk_tag *)b)->key);
}

static bool s_has_tag(const struct rdsbk_topology *t, const char *key) {
    for (size_t i = 0; i < t->n_tags; i++)
        if (strcmp(t->tags[i].key, key) == 0)
            return true;
    return false;
}

/* Adds the tag of key node `k` and value node `v` when both are valid; false when no more tags
 * may be added. */
static bool s_tag(struct rdsbk_yaml_walk *w, struct rdsbk_topology *t, const yaml_node_t *k,
                  const yaml_node_t *v) {
    const char *ks = rdsbk_yaml_scalar(w, k, "tag key");
    const char *vs = NULL;
    const char *problem;
    struct rdsbk_tag *grown;
    char *key;
    char *val;

    if (ks)
        vs = v->type == YAML_SCALAR_NODE && rdsbk_yaml_is_null(v)
                 ? ""
                 : rdsbk_yaml_scalar(w, v, "tag value");
    if (!ks || !vs)
        return true;
    problem = rdsbk_check_tag_key(ks);
    if (problem) {
        rdsbk_yaml_error(w, k, "tags: key '%s' %s", ks, problem);
        return true;
    }
    problem = rdsbk_check_tag_value(vs);
    if (problem) {
        rdsbk_yaml_error(w, v, "tags.%s: value %s", ks, problem);
        return true;
    }
    if (s_has_tag(t, ks)) {
        rdsbk_yaml_error(w, k, "tags: duplicate key '%s'", ks);
        return true;
    }
    if (t->n_tags == RDSBK_MAX_TAGS) {
        rdsbk_yaml_error(w, k, "tags: at most %d tags (AWS allows 50; rdsbk:stack is one)",
                         RDSBK_MAX_TAGS);
        return false;
    }
    grown = realloc(t->tags, (t->n_tags + 1) * sizeof(*grown));
    if (!grown) {
        w->oom = 1;
        return false;
    }
    t->tags = grown;
    key = s_strdup(w, ks);
    val = s_strdup(w, vs);
    if (!key || !val) {
        free(key);
        free(val);
        return false;
    }
    t->tags[t->n_tags++] = (struct rdsbk_tag){key, val};
    return true;
}

static void s_tags(struct rdsbk_yaml_walk *w, const struct rdsbk_yaml_field *field,
                   const yaml_node_t *value, void *payload) {
    struct s_ctx *c = payload;
    struct rdsbk_topology *t = c->topo;
    yaml_node_pair_t *pair;

    (void)field;
    if (value->type == YAML_SCALAR_NODE && rdsbk_yaml_is_null(value))
        return;
    if (value->type != YAML_MAPPING_NODE) {
        rdsbk_yaml_error(w, value, "tags: must be a mapping of key: value");
        return;
    }
    for (pair = value->data.mapping.pairs.start; pair < value->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = rdsbk_yaml_node(w, pair->key);
        yaml_node_t *v = rdsbk_yaml_node(w, pair->value);

        if (k && v && !s_tag(w, t, k, v))
            break;
    }
    if (t->n_tags > 1)
        qsort(t->tags, t->n_tags, sizeof(*t->tags), s_tag_cmp);
}

/* ---- top level -------------------------------------------------------------------------- */

static void s_version(struct rdsbk_yaml_walk *w, const struct rdsbk_yaml_field *field,
                      const yaml_node_t *value, void *payload) {
    struct s_ctx *c = payload;
    int v;

    c->seen_version = 1;
    if (!rdsbk_yaml_int(w, value, field->name, 0, 1000000, &v))
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

static void s_stack(struct rdsbk_yaml_walk *w, const struct rdsbk_yaml_field *field,
                    const yaml_node_t *value, void *payload) {
    struct s_ctx *c = payload;

    c->seen_stack = 1;
    s_set_string(w, value, field->name, &c->topo->stack, rdsbk_check_stack);
}

static const struct rdsbk_yaml_field s_top_fields[] = {{"version", s_version, NULL},
                                                       {"stack", s_stack, NULL},
                                                       {"sources", s_sources, NULL},
                                                       {"source", s_source, NULL},
                                                       {"backup", s_backup, NULL},
                                                       {"key", s_section, s_key_fields},
                                                       {"functions", s_section, s_function_fields},
                                                       {"retention", s_section, s_retention_fields},
                                                       {"tags", s_tags, NULL},
                                                       {"endpoints", s_section, s_endpoint_fields},
                                                       {NULL, NULL, NULL}};

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

static int s_new_topology(struct rdsbk_topology **out, const char *name) {
    struct rdsbk_topology *t = calloc(1, sizeof(*t));
    int rc;

    *out = NULL;
    RDSBK_CHECK_ALLOC(t);
    RDSBK_TRY(rdsbk_strdup_into(&t->path, name));
    t->key.multi_region = true;
    t->key.deletion_window_days = 30;
    t->functions.timeout_seconds = 60;
    t->functions.memory_mb = 128;
    t->functions.log_retention_days = 30;
    t->retention.backup_days = 7;
    t->retention.intermediate_days = 1;
    t->retention.keep_last = 1;
    t->backup.bus_policy_quota = S_BUS_POLICY_QUOTA;
    t->backup.quotas = (struct rdsbk_snapshot_quotas){S_SNAPSHOT_QUOTA, S_SNAPSHOT_QUOTA};
    *out = t;
    t = NULL;

cleanup:
    rdsbk_topology_free(t);
    return rc;
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

/* Loads the YAML of `text` into *doc (the caller deletes it); RDSBK_EINVALID with a diagnostic
 * when it is not YAML. */
static int s_load_yaml(yaml_document_t *doc, struct rdsbk_yaml_walk *w, const char *text,
                       size_t len) {
    yaml_parser_t parser;
    int rc = 0;

    if (!yaml_parser_initialize(&parser))
        return rdsbk_error_oom();
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, doc)) {
        struct rdsbk_pos pos = {(int)parser.problem_mark.line + 1,
                                (int)parser.problem_mark.column + 1};
        if (parser.error == YAML_MEMORY_ERROR) {
            rc = rdsbk_error_oom();
        } else {
            rdsbk_yaml_error_at(w, pos, "invalid YAML: %s%s%s",
                                parser.problem ? parser.problem : "syntax error",
                                parser.context ? " " : "", parser.context ? parser.context : "");
            rc = RDSBK_EINVALID;
        }
    }
    yaml_parser_delete(&parser);
    return rc;
}

int rdsbk_topology_parse(struct rdsbk_topology **out, struct rdsbk_diagnostics *diags,
                         const char *name, const char *text, size_t len) {
    yaml_document_t doc;
    struct rdsbk_yaml_walk w = {0};
    struct s_ctx c;
    struct rdsbk_topology *t = NULL;
    bool doc_ready = false;
    int rc;

    *out = NULL;
    memset(diags, 0, sizeof(*diags));
    w.diags = diags;
    RDSBK_TRY(s_new_topology(&t, name));
    RDSBK_TRY(s_load_yaml(&doc, &w, text, len));
    doc_ready = true;
    w.doc = &doc;
    memset(&c, 0, sizeof(c));
    c.topo = t;
    c.base = t;
    s_parse_document(&w, &c, &doc);
    s_defaults(&w, t);
    if (w.oom) {
        rc = rdsbk_error_oom();
        goto cleanup;
    }
    if (diags->count) {
        rc = rdsbk_error_set(RDSBK_EINVALID, "%s: %zu error%s in the topology", name, diags->count,
                             diags->count == 1 ? "" : "s");
        goto cleanup;
    }
    *out = t;
    t = NULL;

cleanup:
    s_sort_diagnostics(diags);
    if (doc_ready)
        yaml_document_delete(&doc);
    rdsbk_topology_free(t);
    return rc;
}

int rdsbk_topology_load(struct rdsbk_topology **out, struct rdsbk_diagnostics *diags,
                        const char *path) {
    FILE *f = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    memset(diags, 0, sizeof(*diags));
    f = fopen(path, "rb");
    if (!f) {
        rc = rdsbk_error_set(RDSBK_EIO, "%s: %s", path, strerror(errno));
        goto cleanup;
    }
    text = malloc(RDSBK_MAX_FILE_SIZE + 1);
    RDSBK_CHECK_ALLOC(text);
    len = fread(text, 1, RDSBK_MAX_FILE_SIZE + 1, f);
    if (ferror(f)) {
        rc = rdsbk_error_set(RDSBK_EIO, "%s: %s", path, strerror(errno));
        goto cleanup;
    }
    if (len > RDSBK_MAX_FILE_SIZE) {
        rc = rdsbk_error_set(RDSBK_EINVALID, "%s: larger than %d bytes; not a topology", path,
                             RDSBK_MAX_FILE_SIZE);
        goto cleanup;
    }
    rc = rdsbk_topology_parse(out, diags, path, text, len);

cleanup:
    free(text);
    if (f)
        fclose(f);
    return rc;
}

static void s_source_clean_up(struct rdsbk_source *s) {
    free(s->region);
    free(s->profile);
    free(s->role_arn);
    rdsbk_strs_free(s->instances, s->n_instances);
    rdsbk_strs_free(s->clusters, s->n_clusters);
    rdsbk_strs_free(s->kms_keys, s->n_kms_keys);
    for (size_t k = 0; k < s->n_option_groups; k++) {
        free(s->option_groups[k].key);
        free(s->option_groups[k].value);
    }
    free(s->option_groups);
}

/* Frees every string setting of the mapping `fields` in `base`, and of its sections. */
static void s_free_settings(void *base, const struct rdsbk_yaml_field *fields) {
    for (const struct rdsbk_yaml_field *f = fields; f->name; f++) {
        const struct s_setting *s = f->data;
        char **string =
            f->fn == s_setting && s->kind == S_KIND_STRING ? s_at(base, s->offset) : NULL;

        if (f->fn == s_section)
            s_free_settings(base, f->data);
        else if (string)
            free(*string);
    }
}

void rdsbk_topology_free(struct rdsbk_topology *t) {
    if (!t)
        return;
    for (size_t i = 0; i < t->n_sources; i++)
        s_source_clean_up(&t->sources[i]);
    free(t->sources);
    free(t->backup.region);
    s_free_settings(&t->backup, s_backup_fields);
    s_free_settings(t, s_top_fields);
    for (size_t i = 0; i < t->n_tags; i++) {
        free(t->tags[i].key);
        free(t->tags[i].value);
    }
    free(t->tags);
    free(t->stack);
    free(t->path);
    free(t);
}

void rdsbk_diagnostics_clean_up(struct rdsbk_diagnostics *diags) {
    free(diags->items);
    diags->items = NULL;
    diags->count = 0;
}
