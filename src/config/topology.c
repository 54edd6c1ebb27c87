/*
 * The topology file, version 1: YAML -> struct rdsbk_topology, validated. Every problem in a file
 * is reported in one run as `FILE:LINE:COL: error: PATH: message`, PATH naming the value
 * (`sources[1].account`).
 */
#include "rdsbk/clock.h"
#include "rdsbk/config.h"
#include "rdsbk/error.h"
#include "rdsbk/services/s3.h"
#include "rdsbk/state.h"
#include "rdsbk/str.h"
#include "unique.h"
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
#include <time.h>

#define RDSBK_TOPOLOGY_VERSION 1
#define RDSBK_MAX_TAGS 49 /* AWS allows 50 per resource; rdsbk:stack takes one */
/* EventBridge's default "Event bus policy size" quota, in characters. */
#define S_BUS_POLICY_QUOTA 10240
/* RDS's default "Manual DB snapshots" and "Manual DB cluster snapshots" quotas. */
#define S_SNAPSHOT_QUOTA 100
#define S_SNAPSHOT_QUOTA_MAX 100000
/* Far past what AWS's quotas let one pipeline hold (about 50 source accounts on a default bus
 * policy, about 67 databases in the backup-copy role's policy: README), far below what makes
 * building and measuring its documents slow. */
#define S_MAX_SOURCES 500
/* alerts.max_age: a day of automated snapshots and two hours to copy them by default; at least
 * two sweep periods, at most 90 days */
#define S_MAX_AGE_DEFAULT_S (26LL * 3600)
#define S_MAX_AGE_MIN_S 3600L
#define S_MAX_AGE_MAX_S (90L * 86400)
#define S_MAX_DATABASES 1000
/* The functions' default runtime: current in Lambda (deprecation 2029-06-30), accepted by the
 * bundled emulator, and the handlers run on it. */
#define S_RUNTIME "python3.13"

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

/* `items` (of `count` elements of `size` bytes) with room for one more, or NULL after recording
 * out-of-memory (`items` is then unchanged). The room doubles at each power of two, so that n
 * additions cost O(n) even where realloc always copies (as under ASan); only this function may
 * grow such an array. */
static void *s_room(struct rdsbk_yaml_walk *w, void *items, size_t count, size_t size) {
    void *grown;

    if (count & (count - 1))
        return items; /* not 0 or a power of two: there is room */
    grown = realloc(items, (count ? 2 * count : 1) * size);
    if (!grown)
        w->oom = 1;
    return grown;
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

enum s_kind { S_KIND_STRING, S_KIND_INT, S_KIND_BOOL, S_KIND_DURATION };

/* A plain value, at `offset` in what its mapping fills: a string that `check` accepts (NULL: any),
 * a whole number in [min, max] (an int), true or false, or a duration ("26h") of [min, max]
 * seconds (a long long). */
struct s_setting {
    enum s_kind kind;
    size_t offset;
    long min;
    long max;
    const char *(*check)(const char *);
};

static void s_set_duration(struct rdsbk_yaml_walk *w, const yaml_node_t *value, const char *what,
                           const struct s_setting *s, long long *slot) {
    const char *v = rdsbk_yaml_scalar(w, value, what);
    char low[16];
    char high[16];
    long long seconds;

    if (!v)
        return;
    if (rdsbk_duration_parse(&seconds, v)) {
        rdsbk_yaml_error(w, value, "%s: %s", what, rdsbk_error_last()->message);
        return;
    }
    if (seconds < s->min || seconds > s->max) {
        rdsbk_yaml_error(w, value, "%s: '%s' is not between %s and %s", what, v,
                         rdsbk_duration_format(low, sizeof(low), s->min),
                         rdsbk_duration_format(high, sizeof(high), s->max));
        return;
    }
    *slot = seconds;
}

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
    case S_KIND_DURATION:
        s_set_duration(w, value, what, s, s_at(c->base, s->offset));
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
#define S_DURATION(type, name, member, min, max)                                                   \
    S_SETTING(type, name, member, S_KIND_DURATION, min, max, NULL)

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

/* functions.runtime: a Python runtime Lambda accepts; a deprecated one with a warning (today's
 * date, UTC, against Lambda's deprecation dates). */
static void s_runtime(struct rdsbk_yaml_walk *w, const struct rdsbk_yaml_field *field,
                      const yaml_node_t *value, void *payload) {
    const struct s_ctx *c = payload;
    char **slot = &c->topo->functions.runtime;
    const char *since;
    char today[16];
    time_t now = time(NULL);
    struct tm tm;

    (void)field;
    s_set_string(w, value, "functions.runtime", slot, rdsbk_check_runtime);
    if (!*slot || !gmtime_r(&now, &tm) || !strftime(today, sizeof(today), "%Y-%m-%d", &tm))
        return;
    since = rdsbk_runtime_deprecated(*slot, today);
    if (since)
        rdsbk_yaml_warning(w, value,
                           "functions.runtime: Lambda deprecated %s on %s (no security patches "
                           "since; creating and then updating functions on it will be refused): "
                           "use %s",
                           *slot, since, S_RUNTIME);
}

static const struct rdsbk_yaml_field s_function_fields[] = {
    {"runtime", s_runtime, NULL},
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

static const struct rdsbk_yaml_field s_endpoint_fields[] = {
    S_ENDPOINT("default", default_url),
    S_ENDPOINT("sts", sts),
    S_ENDPOINT("iam", iam),
    S_ENDPOINT("kms", kms),
    S_ENDPOINT("events", events),
    S_ENDPOINT("lambda", lambda),
    S_ENDPOINT("rds", rds),
    S_ENDPOINT("logs", logs),
    S_ENDPOINT("sns", sns),
    S_ENDPOINT("sqs", sqs),
    S_ENDPOINT("s3", s3),
    S_ENDPOINT("cloudformation", cloudformation),
    S_ENDPOINT("organizations", organizations),
    {NULL, NULL, NULL}};

/* state: where the state lives in S3. The command line's --state s3://BUCKET/KEY wins over bucket
 * and key; the rest applies to either. */
static const struct rdsbk_yaml_field s_state_fields[] = {
    S_STRING(struct rdsbk_topology, "bucket", state.bucket, rdsbk_s3_check_bucket_name),
    S_STRING(struct rdsbk_topology, "key", state.key, rdsbk_state_check_s3_key),
    S_STRING(struct rdsbk_topology, "region", state.region, rdsbk_check_region),
    S_STRING(struct rdsbk_topology, "profile", state.profile, rdsbk_check_profile),
    S_STRING(struct rdsbk_topology, "role_arn", state.role_arn, rdsbk_check_role_arn),
    S_STRING(struct rdsbk_topology, "kms_key_id", state.kms_key_id, rdsbk_check_kms_key_id),
    {NULL, NULL, NULL}};

/* The state: mapping: its settings, and both a bucket and a key (a state: without them would
 * leave the state where it was, silently). */
static void s_state(struct rdsbk_yaml_walk *w, const struct rdsbk_yaml_field *field,
                    const yaml_node_t *value, void *payload) {
    const struct s_ctx *c = payload;
    const struct rdsbk_state_settings *st = &c->topo->state;
    size_t errors = w->diags->errors;

    s_section(w, field, value, payload);
    if (w->diags->errors == errors && (!st->bucket || !st->key))
        rdsbk_yaml_error(w, value,
                         "state: needs a bucket and a key (the state is then "
                         "s3://BUCKET/KEY)");
}

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

/* Where a source's list of DB identifiers (or key ARNs) goes: `items` and `count` in struct
 * rdsbk_source, each item as `check` accepts it, in lower case when `lower` (identifiers). */
struct s_db_list {
    size_t items;
    size_t count;
    const char *(*check)(const char *);
    const char *noun; /* of the items, for messages */
    bool lower;
};

/* An identifier of a list being read, with where it stands for messages. */
struct s_db_entry {
    char *id;
    const yaml_node_t *node;
    int number; /* in the list */
};

/* A copy of identifier `v` (node `n`, `what` for messages) in lower case, with a warning when that
 * changed it: RDS stores identifiers in lower case (Orders-DB is orders-db there), while the
 * pipeline's event patterns and IAM ARNs compare case by case, so a mixed-case id would match
 * nothing. NULL after recording out-of-memory. */
static char *s_lower(struct rdsbk_yaml_walk *w, const yaml_node_t *n, const char *what,
                     const char *v) {
    char *id = s_strdup(w, v);
    bool changed = false;

    for (char *p = id; p && *p; p++) {
        changed |= *p >= 'A' && *p <= 'Z';
        *p = (char)tolower((unsigned char)*p);
    }
    if (changed)
        rdsbk_yaml_warning(w, n,
                           "%s: '%s' is read as '%s': RDS stores identifiers in lower case, and "
                           "the pipeline's event patterns and IAM ARNs are case-sensitive",
                           what, v, id);
    return id;
}

/* Appends the item of node `n` (number `i` of the list `what`) to `*entries` unless `list`'s
 * check refuses it (recorded). */
static void s_db_entry(struct rdsbk_yaml_walk *w, const yaml_node_t *n, const char *what, int i,
                       const struct s_db_list *list, struct s_db_entry **entries, size_t *count) {
    char item_what[128];
    const char *v;
    const char *problem;
    struct s_db_entry *grown;

    snprintf(item_what, sizeof(item_what), "%s[%d]", what, i);
    v = rdsbk_yaml_scalar(w, n, item_what);
    if (!v)
        return;
    problem = list->check(v);
    if (problem) {
        rdsbk_yaml_error(w, n, "%s: '%s' %s", item_what, v, problem);
        return;
    }
    grown = s_room(w, *entries, *count, sizeof(*grown));
    if (!grown)
        return;
    *entries = grown;
    grown[*count] =
        (struct s_db_entry){list->lower ? s_lower(w, n, item_what, v) : s_strdup(w, v), n, i};
    if (grown[*count].id)
        (*count)++;
}

/* Moves the identifiers of `entries` to the source's list, each once: a repeat is reported at its
 * place (found by sorting, not by comparing every pair). */
static void s_db_keep(struct rdsbk_yaml_walk *w, const char *what, struct s_db_entry *entries,
                      size_t n, char ***items, size_t *count) {
    const char **ids;
    size_t *first;
    char **grown;

    if (n == 0)
        return;
    ids = malloc(n * sizeof(*ids));
    first = malloc(n * sizeof(*first));
    grown = realloc(*items, (*count + n) * sizeof(*grown));
    for (size_t i = 0; ids && i < n; i++)
        ids[i] = entries[i].id;
    if (grown)
        *items = grown;
    if (!ids || !first || !grown || rdsbk_first_equal(first, ids, n) != 0)
        w->oom = 1;
    for (size_t i = 0; i < n; i++) {
        if (!w->oom && first[i] == i) {
            (*items)[(*count)++] = entries[i].id;
            continue;
        }
        if (!w->oom)
            rdsbk_yaml_error(w, entries[i].node, "%s[%d]: '%s' is listed twice", what,
                             entries[i].number, entries[i].id);
        free(entries[i].id);
    }
    free(ids);
    free(first);
}

/* A list of DB identifiers (a single string is accepted as a one-element list). */
static void s_db_list(struct rdsbk_yaml_walk *w, const struct rdsbk_yaml_field *field,
                      const yaml_node_t *value, void *payload) {
    const struct s_ctx *c = payload;
    const struct s_db_list *list = field->data;
    bool single = value->type == YAML_SCALAR_NODE;
    const yaml_node_item_t *item = NULL;
    struct s_db_entry *entries = NULL;
    size_t n = 0;
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
    for (int i = 0; !w->oom && (single ? i < 1 : item < value->data.sequence.items.top); i++) {
        const yaml_node_t *node = single ? value : rdsbk_yaml_node(w, *item++);

        if (node)
            s_db_entry(w, node, what, i, list, &entries, &n);
    }
    s_db_keep(w, what, entries, n, s_at(c->base, list->items), s_at(c->base, list->count));
    free(entries);
}

#define S_LIST(type, name, member, count, check, noun, lower)                                      \
    {                                                                                              \
        name, s_db_list, &(const struct s_db_list) {                                               \
            offsetof(type, member), offsetof(type, count), check, noun, lower                      \
        }                                                                                          \
    }
#define S_DB_LIST(name, member, check, noun, lower)                                                \
    S_LIST(struct rdsbk_source, name, member, n_##member, check, noun, lower)

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
    for (size_t i = 0; i < s->n_option_groups; i++) {
        if (strcmp(s->option_groups[i].key, pattern) == 0) {
            rdsbk_yaml_error(w, k, "%s: '%s' is listed twice", what, pattern);
            return;
        }
    }
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
    S_DB_LIST("instances", instances, rdsbk_check_db_pattern, "identifiers", true),
    S_DB_LIST("clusters", clusters, rdsbk_check_db_pattern, "identifiers", true),
    S_DB_LIST("kms_keys", kms_keys, rdsbk_check_kms_key_arn, "KMS key ARNs", false),
    {"option_groups", s_option_groups, NULL},
    S_SNAPSHOT_QUOTA_FIELDS(struct rdsbk_source),
    {NULL, NULL, NULL}};

/* A source that names an OU: its accounts in `regions`, through a StackSet administered from
 * `admin_account` (whose credentials profile and role_arn give), the functions' code in
 * `code_bucket`. A customer-managed source key is an account's own: such databases are listed in
 * an account source. */
/* A key of account sources in a source that names an OU: refused, saying why (`field->data`). */
static void s_not_with_ou(struct rdsbk_yaml_walk *w, const struct rdsbk_yaml_field *field,
                          const yaml_node_t *value, void *payload) {
    const struct s_ctx *c = payload;

    (void)value;
    rdsbk_yaml_error(w, value, "%s.%s: not with 'ou': %s", c->path, field->name,
                     (const char *)field->data);
}

/* Why an OU source has no quota settings: validate's estimate cannot count accounts it does not
 * know, so such a setting would change nothing. */
#define S_OU_QUOTAS                                                                                \
    "validate cannot count an OU's accounts; status reads their quotas through member_role"

static const struct rdsbk_yaml_field s_ou_source_fields[] = {
    S_STRING(struct rdsbk_source, "ou", ou, rdsbk_check_ou_id),
    S_LIST(struct rdsbk_source, "regions", regions, n_regions, rdsbk_check_region, "Regions",
           false),
    {"admin_account", s_account, NULL},
    S_STRING(struct rdsbk_source, "code_bucket", code_bucket, rdsbk_s3_check_bucket_name),
    S_STRING(struct rdsbk_source, "member_role", member_role, rdsbk_check_role_name),
    S_STRING(struct rdsbk_source, "profile", profile, rdsbk_check_profile),
    S_STRING(struct rdsbk_source, "role_arn", role_arn, rdsbk_check_role_arn),
    S_DB_LIST("instances", instances, rdsbk_check_db_pattern, "identifiers", true),
    S_DB_LIST("clusters", clusters, rdsbk_check_db_pattern, "identifiers", true),
    {"option_groups", s_option_groups, NULL},
    {"account", s_not_with_ou,
     "the OU's accounts are the sources (admin_account administers its StackSet)"},
    {"region", s_not_with_ou, "its Regions-A are 'regions'"},
    {"manual_snapshot_quota", s_not_with_ou, S_OU_QUOTAS},
    {"manual_cluster_snapshot_quota", s_not_with_ou, S_OU_QUOTAS},
    {"kms_keys", s_not_with_ou,
     "a customer-managed key is one account's: list its databases in an account source"},
    {NULL, NULL, NULL}};

static const struct rdsbk_yaml_field s_backup_fields[] = {
    {"account", s_account, NULL},
    {"region", s_region, NULL},
    S_STRING(struct rdsbk_backup, "profile", profile, rdsbk_check_profile),
    S_STRING(struct rdsbk_backup, "role_arn", role_arn, rdsbk_check_role_arn),
    S_INT(struct rdsbk_backup, "bus_policy_quota", bus_policy_quota, S_BUS_POLICY_QUOTA, 1048576),
    S_STRING(struct rdsbk_backup, "organization_id", organization_id, rdsbk_check_organization_id),
    S_BOOL(struct rdsbk_backup, "organization", organization),
    S_SNAPSHOT_QUOTA_FIELDS(struct rdsbk_backup),
    {NULL, NULL, NULL}};

/* The value of key `key` in the mapping `node`, or NULL. */
static const yaml_node_t *s_value_of(struct rdsbk_yaml_walk *w, const yaml_node_t *node,
                                     const char *key) {
    if (node->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        const yaml_node_t *k = rdsbk_yaml_node(w, pair->key);
        if (k && k->type == YAML_SCALAR_NODE &&
            strcmp((const char *)k->data.scalar.value, key) == 0)
            return rdsbk_yaml_node(w, pair->value);
    }
    return NULL;
}

static bool s_has_key(struct rdsbk_yaml_walk *w, const yaml_node_t *node, const char *key) {
    return s_value_of(w, node, key) != NULL;
}

/* Walks the source `node` (at `path`) with `fields` into a new source at the end of `*sources`;
 * *sc_out is the walk's context (what it saw). NULL when out of memory or not a mapping. */
static struct rdsbk_source *s_walk_source(struct rdsbk_yaml_walk *w, const struct s_ctx *c,
                                          const yaml_node_t *node, const char *path,
                                          const struct rdsbk_yaml_field *fields,
                                          struct rdsbk_source **sources, size_t *n,
                                          struct s_ctx *sc_out) {
    struct rdsbk_source *grown = s_room(w, *sources, *n, sizeof(*grown));
    struct rdsbk_source *s;

    if (!grown)
        return NULL;
    *sources = grown;
    s = memset(&grown[(*n)++], 0, sizeof(*s));
    s->pos = rdsbk_yaml_pos(node);
    s->quotas = (struct rdsbk_snapshot_quotas){S_SNAPSHOT_QUOTA, S_SNAPSHOT_QUOTA};
    *sc_out = *c;
    sc_out->source = s;
    sc_out->base = s;
    sc_out->seen_account = sc_out->seen_region = sc_out->bad = 0;
    snprintf(sc_out->path, sizeof(sc_out->path), "%s", path);
    return rdsbk_yaml_mapping(w, node, path, fields, sc_out) ? s : NULL;
}

/* What every source needs: a database, and its role in its account. */
static void s_source_checks(struct rdsbk_yaml_walk *w, const yaml_node_t *node, const char *path,
                            const struct rdsbk_source *s) {
    if (s->n_instances == 0 && s->n_clusters == 0)
        rdsbk_yaml_error(w, node,
                         "%s: no databases: list at least one of 'instances' or "
                         "'clusters'",
                         path);
    if (s->role_arn && s->account[0] && !rdsbk_arn_in_account(s->role_arn, s->account))
        rdsbk_yaml_error(w, node, "%s: role_arn belongs to another account than %s", path,
                         s->account);
}

/* A source that names an OU (`ou:`). */
static void s_one_ou_source(struct rdsbk_yaml_walk *w, struct s_ctx *c, const yaml_node_t *node,
                            const char *path) {
    struct rdsbk_topology *t = c->topo;
    struct s_ctx sc;
    struct rdsbk_source *s =
        s_walk_source(w, c, node, path, s_ou_source_fields, &t->ou_sources, &t->n_ou_sources, &sc);
    const yaml_node_t *regions;

    if (!s)
        return;
    regions = s_value_of(w, node, "regions");
    if (!regions)
        rdsbk_yaml_error(w, node,
                         "%s: 'regions' is required with 'ou': the Regions-A of its "
                         "accounts' databases",
                         path);
    else if (s->n_regions == 0 &&
             (rdsbk_yaml_is_null(regions) ||
              (regions->type == YAML_SEQUENCE_NODE &&
               regions->data.sequence.items.start == regions->data.sequence.items.top)))
        rdsbk_yaml_error(w, regions, "%s.regions: must list at least one Region", path);
    if (!sc.seen_account)
        rdsbk_yaml_error(w, node,
                         "%s: 'admin_account' is required with 'ou': the organisation's "
                         "management account, which administers its StackSet",
                         path);
    if (!s_has_key(w, node, "code_bucket"))
        rdsbk_yaml_error(w, node,
                         "%s: 'code_bucket' is required with 'ou': an S3 bucket in Region-B "
                         "that the OU's accounts may read, for the functions' code",
                         path);
    s_source_checks(w, node, path, s);
}

static void s_one_source(struct rdsbk_yaml_walk *w, struct s_ctx *c, const yaml_node_t *node,
                         const char *path) {
    struct rdsbk_topology *t = c->topo;
    struct s_ctx sc;
    struct rdsbk_source *s;

    if (s_has_key(w, node, "ou")) {
        s_one_ou_source(w, c, node, path);
        return;
    }
    s = s_walk_source(w, c, node, path, s_source_fields, &t->sources, &t->n_sources, &sc);
    if (!s)
        return;
    if (!sc.seen_account)
        rdsbk_yaml_error(w, node, "%s: 'account' is required", path);
    if (!sc.seen_region)
        rdsbk_yaml_error(w, node, "%s: 'region' is required", path);
    s_source_checks(w, node, path, s);
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
    if (b->organization && b->organization_id)
        rdsbk_yaml_error(w, value,
                         "backup: use organization_id or organization: true, not both (true "
                         "reads the id from AWS)");
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

/* The character AWS refuses in `s`, for a message: " (not U+XXXX)", or "". */
static const char *s_refused(char *out, size_t size, const char *s) {
    long cp = rdsbk_tag_refused_char(s);

    if (cp < 0)
        return "";
    snprintf(out, size, " (not U+%04lX)", (unsigned long)cp);
    return out;
}

/* Whether tag key `ks` (node `k`) and value `vs` (node `v`) are what AWS accepts: lengths, the
 * reserved prefixes, the characters of its tag pattern. Records what is wrong. */
static bool s_tag_valid(struct rdsbk_yaml_walk *w, const yaml_node_t *k, const yaml_node_t *v,
                        const char *ks, const char *vs) {
    const char *problem = rdsbk_check_tag_key(ks);
    char refused[32];

    if (problem) {
        rdsbk_yaml_error(w, k, "tags: key '%s' %s%s", ks, problem,
                         s_refused(refused, sizeof(refused), ks));
        return false;
    }
    problem = rdsbk_check_tag_value(vs);
    if (problem) {
        rdsbk_yaml_error(w, v, "tags.%s: value '%s' %s%s", ks, vs, problem,
                         s_refused(refused, sizeof(refused), vs));
        return false;
    }
    return true;
}

/* Adds the tag of key node `k` and value node `v` when both are valid; false when no more tags
 * may be added. */
static bool s_tag(struct rdsbk_yaml_walk *w, struct rdsbk_topology *t, const yaml_node_t *k,
                  const yaml_node_t *v) {
    const char *ks = rdsbk_yaml_scalar(w, k, "tag key");
    const char *vs = NULL;
    struct rdsbk_tag *grown;
    char *key;
    char *val;

    if (ks)
        vs = v->type == YAML_SCALAR_NODE && rdsbk_yaml_is_null(v)
                 ? ""
                 : rdsbk_yaml_scalar(w, v, "tag value");
    if (!ks || !vs)
        return true;
    if (!s_tag_valid(w, k, v, ks, vs))
        return true;
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

/* alerts.sns_topic_arn: where it is, for the check that it is in the backup account and
 * Region-B (s_cross_checks), which needs the backup: mapping, wherever that is in the file. */
static void s_alerts_topic(struct rdsbk_yaml_walk *w, const struct rdsbk_yaml_field *field,
                           const yaml_node_t *value, void *payload) {
    const struct s_ctx *c = payload;

    (void)field;
    s_set_string(w, value, "alerts.sns_topic_arn", &c->topo->alerts.sns_topic_arn,
                 rdsbk_check_sns_topic_arn);
    c->topo->alerts.sns_topic_pos = rdsbk_yaml_pos(value);
}

static const struct rdsbk_yaml_field s_alerts_fields[] = {
    S_LIST(struct rdsbk_topology, "emails", alerts.emails, alerts.n_emails, rdsbk_check_email,
           "email addresses", false),
    {"sns_topic_arn", s_alerts_topic, NULL},
    S_DURATION(struct rdsbk_topology, "max_age", alerts.max_age_s, S_MAX_AGE_MIN_S,
               S_MAX_AGE_MAX_S),
    {NULL, NULL, NULL}};

static const struct rdsbk_yaml_field s_top_fields[] = {{"version", s_version, NULL},
                                                       {"stack", s_stack, NULL},
                                                       {"sources", s_sources, NULL},
                                                       {"source", s_source, NULL},
                                                       {"backup", s_backup, NULL},
                                                       {"key", s_section, s_key_fields},
                                                       {"functions", s_section, s_function_fields},
                                                       {"retention", s_section, s_retention_fields},
                                                       {"alerts", s_section, s_alerts_fields},
                                                       {"tags", s_tags, NULL},
                                                       {"endpoints", s_section, s_endpoint_fields},
                                                       {"state", s_state, s_state_fields},
                                                       {NULL, NULL, NULL}};

/* Sources listed twice (one account and Region), each reported once, naming the first: found by
 * sorting "account/region", not by comparing every pair. */
static void s_duplicate_sources(struct rdsbk_yaml_walk *w, const struct rdsbk_topology *t) {
    size_t n = t->n_sources;
    char **keys = calloc(n ? n : 1, sizeof(*keys));
    size_t *first = malloc((n ? n : 1) * sizeof(*first));

    for (size_t i = 0; keys && !w->oom && i < n; i++) {
        const struct rdsbk_source *s = &t->sources[i];
        if (s->account[0] && s->region &&
            rdsbk_strfmt(&keys[i], "%s/%s", s->account, s->region) != 0)
            w->oom = 1;
    }
    if (!keys || !first || w->oom || rdsbk_first_equal(first, (const char *const *)keys, n) != 0)
        w->oom = 1;
    for (size_t i = 0; !w->oom && i < n; i++)
        if (first[i] != i)
            rdsbk_yaml_error_at(w, t->sources[i].pos,
                                "sources[%zu]: duplicate source %s (already sources[%zu]); list "
                                "its databases in one source",
                                i, keys[i], first[i]);
    rdsbk_strs_free(keys, n);
    free(first);
}

/* The path of source `i` in messages: "source" for the shorthand, "sources[i]" otherwise. */
static void s_source_path(char *out, size_t size, int shorthand, size_t i) {
    if (shorthand)
        snprintf(out, size, "source");
    else
        snprintf(out, size, "sources[%zu]", i);
}

/* At most S_MAX_SOURCES sources and S_MAX_DATABASES identifiers in all. */
static void s_check_counts(struct rdsbk_yaml_walk *w, const struct rdsbk_topology *t,
                           int shorthand) {
    size_t dbs = 0;
    char path[32];

    if (t->n_sources > S_MAX_SOURCES)
        rdsbk_yaml_error_at(w, t->sources[S_MAX_SOURCES].pos,
                            "sources[%d]: more than %d sources (the backup account's event bus "
                            "admits about 50 source accounts unless its policy quota is "
                            "raised); split the sources between stacks",
                            S_MAX_SOURCES, S_MAX_SOURCES);
    for (size_t i = 0; i < t->n_sources && dbs <= S_MAX_DATABASES; i++) {
        dbs += t->sources[i].n_instances + t->sources[i].n_clusters;
        s_source_path(path, sizeof(path), shorthand, i);
        if (dbs > S_MAX_DATABASES)
            rdsbk_yaml_error_at(w, t->sources[i].pos,
                                "%s: with its databases the topology names more than %d (the "
                                "pipeline's IAM policies hold about 67): use fewer, broader "
                                "patterns (billing-*), or split the sources between stacks",
                                path, S_MAX_DATABASES);
    }
}

/* The user's alert topic is the backup account's, in Region-B: the functions publish to it with
 * the topic's policy admitting them, and a topic of another Region is not one SNS reaches from
 * there. */
static void s_check_alerts_topic(struct rdsbk_yaml_walk *w, const struct rdsbk_topology *t) {
    const char *arn = t->alerts.sns_topic_arn;
    char want[128];

    if (!arn || !t->backup.region || !t->backup.account[0])
        return;
    snprintf(want, sizeof(want), "arn:%s:sns:%s:%s:", rdsbk_region_partition(t->backup.region),
             t->backup.region, t->backup.account);
    if (strncmp(arn, want, strlen(want)) != 0)
        rdsbk_yaml_error_at(w, t->alerts.sns_topic_pos,
                            "alerts.sns_topic_arn: %s is not a topic of the backup account %s in "
                            "Region-B %s (%s...)",
                            arn, t->backup.account, t->backup.region, want);
}

/* Checks that need the whole file: relations between sources and the backup account. */
/* OU sources: the backup side must admit the organisation, their Regions be Regions-A of Region-B's
 * partition, each OU named once. */
static void s_ou_cross_checks(struct rdsbk_yaml_walk *w, const struct rdsbk_topology *t) {
    const struct rdsbk_backup *b = &t->backup;

    for (size_t i = 0; i < t->n_ou_sources; i++) {
        const struct rdsbk_source *s = &t->ou_sources[i];

        if (!s->ou)
            continue;
        if (!b->organization_id && !b->organization)
            rdsbk_yaml_error_at(w, s->pos,
                                "sources: ou %s needs backup.organization_id (or "
                                "backup.organization: true): the backup side must admit the "
                                "organisation's accounts, which the tool does not list",
                                s->ou);
        for (size_t k = 0; b->region && k < s->n_regions; k++) {
            if (strcmp(s->regions[k], b->region) == 0)
                rdsbk_yaml_error_at(w, s->pos,
                                    "sources: ou %s: region %s is the backup Region (Region-B); "
                                    "a source must be in another Region",
                                    s->ou, s->regions[k]);
            else if (strcmp(rdsbk_region_partition(s->regions[k]),
                            rdsbk_region_partition(b->region)) != 0)
                rdsbk_yaml_error_at(w, s->pos,
                                    "sources: ou %s: region %s is in another partition than the "
                                    "backup Region %s; copies cannot cross partitions",
                                    s->ou, s->regions[k], b->region);
        }
        for (size_t j = 0; j < i; j++)
            if (t->ou_sources[j].ou && strcmp(t->ou_sources[j].ou, s->ou) == 0)
                rdsbk_yaml_error_at(w, s->pos,
                                    "sources: ou %s is listed twice; list its databases in one "
                                    "source",
                                    s->ou);
    }
}

static void s_cross_checks(struct rdsbk_yaml_walk *w, const struct rdsbk_topology *t,
                           int shorthand) {
    const struct rdsbk_backup *b = &t->backup;

    for (size_t i = 0; i < t->n_sources; i++) {
        const struct rdsbk_source *s = &t->sources[i];
        char path[32];

        s_source_path(path, sizeof(path), shorthand, i);
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
    }
    s_ou_cross_checks(w, t);
    s_duplicate_sources(w, t);
    s_check_counts(w, t, shorthand);
    s_check_alerts_topic(w, t);
}

static void s_defaults(struct rdsbk_yaml_walk *w, struct rdsbk_topology *t) {
    char alias[64];

    if (!t->key.alias && t->stack) {
        snprintf(alias, sizeof(alias), "alias/rdsbk-%s", t->stack);
        t->key.alias = s_strdup(w, alias);
    }
    if (!t->functions.runtime)
        t->functions.runtime = s_strdup(w, S_RUNTIME);
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
    t->alerts.max_age_s = S_MAX_AGE_DEFAULT_S;
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
    if (len > RDSBK_MAX_TOPOLOGY_BYTES)
        return rdsbk_error_set(RDSBK_EINVALID,
                               "%s: larger than %d bytes (1 MiB), the most a topology may be", name,
                               RDSBK_MAX_TOPOLOGY_BYTES);
    RDSBK_TRY(s_new_topology(&t, name));
    RDSBK_TRY(rdsbk_yaml_load(&doc, &w, text, len));
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
    if (diags->errors) {
        rc = rdsbk_error_set(RDSBK_EINVALID, "%s: %zu error%s in the topology", name, diags->errors,
                             diags->errors == 1 ? "" : "s");
        goto cleanup;
    }
    *out = t;
    t = NULL;

cleanup:
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
    /* one byte more than the limit: rdsbk_topology_parse refuses what is longer */
    text = malloc(RDSBK_MAX_TOPOLOGY_BYTES + 1);
    RDSBK_CHECK_ALLOC(text);
    len = fread(text, 1, RDSBK_MAX_TOPOLOGY_BYTES + 1, f);
    if (ferror(f)) {
        rc = rdsbk_error_set(RDSBK_EIO, "%s: %s", path, strerror(errno));
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
    free(s->ou);
    rdsbk_strs_free(s->regions, s->n_regions);
    free(s->code_bucket);
    free(s->member_role);
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
    for (size_t i = 0; i < t->n_ou_sources; i++)
        s_source_clean_up(&t->ou_sources[i]);
    free(t->ou_sources);
    free(t->backup.region);
    free(t->functions.runtime);
    rdsbk_strs_free(t->alerts.emails, t->alerts.n_emails);
    free(t->alerts.sns_topic_arn); /* set by its own handler, not a setting of a table */
    s_free_settings(&t->backup, s_backup_fields);
    s_free_settings(t, s_top_fields);
    s_free_settings(t, s_state_fields);
    for (size_t i = 0; i < t->n_tags; i++) {
        free(t->tags[i].key);
        free(t->tags[i].value);
    }
    free(t->tags);
    free(t->stack);
    free(t->path);
    free(t);
}

/* The keys of `fields` as PREFIX.NAME. */
static void s_each_key_of(const char *prefix, const struct rdsbk_yaml_field *fields,
                          rdsbk_topology_key_fn fn, void *payload) {
    char path[128];

    for (const struct rdsbk_yaml_field *f = fields; f->name; f++) {
        if (f->fn == s_not_with_ou) /* refused there, named by the table that accepts it */
            continue;
        snprintf(path, sizeof(path), "%s.%s", prefix, f->name);
        fn(path, payload);
    }
}

void rdsbk_topology_each_key(rdsbk_topology_key_fn fn, void *payload) {
    for (const struct rdsbk_yaml_field *f = s_top_fields; f->name; f++) {
        fn(f->name, payload);
        /* the sections' tables hang off their key; sources and backup have handlers of their own */
        if (f->fn == s_section || f->fn == s_state)
            s_each_key_of(f->name, f->data, fn, payload);
        else if (f->fn == s_sources) {
            s_each_key_of("sources[]", s_source_fields, fn, payload);
            s_each_key_of("sources[]", s_ou_source_fields, fn, payload);
        } else if (f->fn == s_backup)
            s_each_key_of("backup", s_backup_fields, fn, payload);
    }
}

void rdsbk_diagnostics_clean_up(struct rdsbk_diagnostics *diags) {
    free(diags->items);
    diags->items = NULL;
    diags->count = 0;
}
