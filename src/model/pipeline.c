/*
 * Topology -> desired resource graph. The pipeline of one stack:
 *
 *   source[A/RA]    rule forward (0091/0169 of the listed databases) -> target: A's bus in RB
 *   account[A] (RB) rule copy      -> target: λ copy          (+ invoke permission)
 *                   rule share     -> target: λ share         (+ invoke permission)
 *                   rule to_backup -> target: B's bus in RB
 *                   roles copy, share (Lambda) and events (forwarding), each with an inline policy
 *   backup (B/RB)   KMS key + alias, bus permission per source account,
 *                   rule backup_copy -> target: λ backup-copy (+ invoke permission), its role
 *
 * N sources share the backup side; sources of one account in several Regions share that
 * account's Region-B side.
 */
#include "rdsbk/error.h"
#include "rdsbk/lambda_pkg.h"
#include "rdsbk/model.h"
#include "template_json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_NAME_MAX 64 /* IAM role, Lambda function and EventBridge rule names */

/* The RDS event ids the pipeline listens to. */
static const char *const s_created_events[] = {"RDS-EVENT-0091",  /* automated snapshot created */
                                               "RDS-EVENT-0169"}; /* automated cluster snapshot */
/* A cross-Region copy finished; it fires in the destination Region. AWS documents no separate
 * cluster id for it; cluster copies are announced with the same id and the cluster detail-type. */
static const char *const s_copied_events[] = {"RDS-EVENT-0060"};
static const char *const s_detail_types[] = {"RDS DB Snapshot Event",
                                             "RDS DB Cluster Snapshot Event"};

struct s_builder {
    const struct rdsbk_topology *topo;
    struct rdsbk_graph *g;
    size_t cap;
    int oom;
    const char *p; /* partition */
    const char *rb;
    const char *b;
};

/* ---- small helpers ---------------------------------------------------------------------- */

static char *s_fmt(struct s_builder *bd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *s_fmt(struct s_builder *bd, const char *fmt, ...) {
    va_list ap;
    char *out = NULL;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n >= 0)
        out = malloc((size_t)n + 1);
    if (!out) {
        bd->oom = 1;
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(out, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return out;
}

static void s_add_str(struct s_builder *bd, cJSON *obj, const char *key, const char *value) {
    if (!value || !cJSON_AddStringToObject(obj, key, value))
        bd->oom = 1;
}

/* Adds `value` (taken over; NULL marks out of memory) under `key`. */
static void s_add_owned(struct s_builder *bd, cJSON *obj, const char *key, char *value) {
    s_add_str(bd, obj, key, value);
    free(value);
}

/* Adds the strings of `arr` joined by commas under `key` (the functions' list settings). */
static void s_add_joined(struct s_builder *bd, cJSON *obj, const char *key, const cJSON *arr) {
    struct rdsbk_buf joined = RDSBK_BUF_INIT;
    const cJSON *it;
    int rc = 0;

    cJSON_ArrayForEach(it, arr) {
        if (joined.len)
            rc |= rdsbk_buf_addc(&joined, ',');
        rc |= rdsbk_buf_adds(&joined, it->valuestring);
    }
    if (rc)
        bd->oom = 1;
    s_add_str(bd, obj, key, rdsbk_buf_cstr(&joined));
    rdsbk_buf_clean_up(&joined);
}

/* Adds a string to an array, taking ownership of `s` (NULL marks out of memory). */
static void s_push_owned(struct s_builder *bd, cJSON *arr, char *s) {
    cJSON *item = s ? cJSON_CreateString(s) : NULL;
    free(s);
    if (!item || !cJSON_AddItemToArray(arr, item)) {
        cJSON_Delete(item);
        bd->oom = 1;
    }
}

static bool s_array_has(const cJSON *arr, const char *s) {
    const cJSON *it;
    cJSON_ArrayForEach(it,
                       arr) if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0) return true;
    return false;
}

/* Adds `s` unless present (owned). */
static void s_push_unique(struct s_builder *bd, cJSON *arr, char *s) {
    if (s && s_array_has(arr, s)) {
        free(s);
        return;
    }
    s_push_owned(bd, arr, s);
}

static cJSON *s_strings(struct s_builder *bd, const char *const *items, size_t n) {
    cJSON *arr = cJSON_CreateArray();
    if (!arr) {
        bd->oom = 1;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        s_push_owned(bd, arr, strdup(items[i]));
    return arr;
}

/* The snapshot-name glob of a database pattern: "orders-db" -> "orders-db-*" (automated snapshot
 * names are <db>-<date>), "billing-*" -> "billing-*", "*" -> "*". */
static char *s_glob(struct s_builder *bd, const char *db) {
    size_t n = strlen(db);
    if (n && db[n - 1] == '*')
        return s_fmt(bd, "%s", db);
    return s_fmt(bd, "%s-*", db);
}

static cJSON *s_tags(struct s_builder *bd) {
    cJSON *tags = cJSON_CreateObject();
    if (!tags) {
        bd->oom = 1;
        return NULL;
    }
    for (size_t i = 0; i < bd->topo->n_tags; i++)
        s_add_str(bd, tags, bd->topo->tags[i].key, bd->topo->tags[i].value);
    s_add_str(bd, tags, "rdsbk:stack", bd->topo->stack);
    return tags;
}

/* Appends a resource; `desired` is taken over. Dependencies follow as NULL-terminated varargs. */
static struct rdsbk_resource *s_resource(struct s_builder *bd, char *address,
                                         enum rdsbk_resource_type type, const char *account,
                                         const char *region, char *name, cJSON *desired, ...) {
    struct rdsbk_graph *g = bd->g;
    struct rdsbk_resource *r;
    va_list ap;
    const char *dep;

    if (!address || !name || !desired || bd->oom)
        goto fail;
    if (g->n_resources == bd->cap) {
        size_t cap = bd->cap ? bd->cap * 2 : 64;
        struct rdsbk_resource *grown = realloc(g->resources, cap * sizeof(*grown));
        if (!grown)
            goto fail;
        g->resources = grown;
        bd->cap = cap;
    }
    r = &g->resources[g->n_resources];
    memset(r, 0, sizeof(*r));
    r->address = address;
    r->type = type;
    snprintf(r->account, sizeof(r->account), "%s", account);
    r->region = strdup(region);
    r->name = name;
    r->desired = desired;
    g->n_resources++;
    if (!r->region)
        bd->oom = 1;
    va_start(ap, desired);
    while ((dep = va_arg(ap, const char *)) != NULL) {
        char **grown = realloc(r->deps, (r->n_deps + 1) * sizeof(*grown));
        if (grown) {
            r->deps = grown;
            r->deps[r->n_deps] = strdup(dep);
        }
        if (!grown || !r->deps[r->n_deps]) {
            bd->oom = 1;
            break;
        }
        r->n_deps++;
    }
    va_end(ap);
    return r;

fail:
    bd->oom = 1;
    free(address);
    free(name);
    cJSON_Delete(desired);
    return NULL;
}

/* ---- resource kinds --------------------------------------------------------------------- */

static void s_role(struct s_builder *bd, const char *scope, const char *key, const char *account,
                   const char *purpose, const char *trust_template, const char *description) {
    cJSON *d = cJSON_CreateObject();
    char *name = rdsbk_model_name(bd->topo->stack, purpose, S_NAME_MAX);

    if (!d || !name) {
        bd->oom = 1;
        cJSON_Delete(d);
        free(name);
        return;
    }
    s_add_str(bd, d, "name", name);
    s_add_str(bd, d, "path", "/");
    s_add_str(bd, d, "description", description);
    if (!cJSON_AddItemToObject(d, "assume_role_policy",
                               rdsbk_template_json(trust_template, NULL, 0)))
        bd->oom = 1;
    if (!cJSON_AddItemToObject(d, "tags", s_tags(bd)))
        bd->oom = 1;
    s_resource(bd, s_fmt(bd, "%s.iam_role.%s", scope, key), RDSBK_RT_IAM_ROLE, account, bd->rb,
               name, d, NULL);
}

static void s_role_policy(struct s_builder *bd, const char *scope, const char *key,
                          const char *account, const char *purpose, cJSON *policy,
                          const char *extra_dep) {
    cJSON *d = cJSON_CreateObject();
    char *role = rdsbk_model_name(bd->topo->stack, purpose, S_NAME_MAX);
    char *role_addr = s_fmt(bd, "%s.iam_role.%s", scope, key);

    if (!d || !role || !policy) {
        bd->oom = 1;
        cJSON_Delete(d);
        cJSON_Delete(policy);
        free(role);
        free(role_addr);
        return;
    }
    s_add_str(bd, d, "role_name", role);
    s_add_str(bd, d, "policy_name", "rdsbk");
    cJSON_AddItemToObject(d, "policy", policy);
    s_resource(bd, s_fmt(bd, "%s.iam_role_policy.%s", scope, key), RDSBK_RT_IAM_ROLE_POLICY,
               account, bd->rb, role, d, role_addr, extra_dep, NULL);
    free(role_addr);
}

static cJSON *s_log_groups(struct s_builder *bd, const char *account, const char *function) {
    cJSON *arr = cJSON_CreateArray();
    if (!arr) {
        bd->oom = 1;
        return NULL;
    }
    s_push_owned(
        bd, arr,
        s_fmt(bd, "arn:%s:logs:%s:%s:log-group:/aws/lambda/%s", bd->p, bd->rb, account, function));
    s_push_owned(bd, arr,
                 s_fmt(bd, "arn:%s:logs:%s:%s:log-group:/aws/lambda/%s:*", bd->p, bd->rb, account,
                       function));
    return arr;
}

static void s_function(struct s_builder *bd, const char *scope, const char *key,
                       const char *account, const char *purpose, const char *package,
                       cJSON *environment, const char *key_dep) {
    cJSON *d = cJSON_CreateObject();
    char *name = rdsbk_model_name(bd->topo->stack, purpose, S_NAME_MAX);
    char *role = rdsbk_model_name(bd->topo->stack, purpose, S_NAME_MAX);
    char *role_addr = s_fmt(bd, "%s.iam_role.%s", scope, key);
    char *policy_addr = s_fmt(bd, "%s.iam_role_policy.%s", scope, key);
    char sha[RDSBK_CODE_SHA256_LEN + 1];

    if (!d || !name || !role || !environment || rdsbk_lambda_package_cached(NULL, sha, package)) {
        bd->oom = 1;
        cJSON_Delete(d);
        cJSON_Delete(environment);
        free(name);
        goto cleanup;
    }
    s_add_str(bd, d, "name", name);
    s_add_str(bd, d, "package", package);
    s_add_str(bd, d, "code_sha256", sha);
    s_add_str(bd, d, "runtime", bd->topo->functions.runtime);
    s_add_str(bd, d, "handler", rdsbk_lambda_handler(package));
    {
        char *role_arn = s_fmt(bd, "arn:%s:iam::%s:role/%s", bd->p, account, role);
        s_add_str(bd, d, "role_arn", role_arn);
        free(role_arn);
    }
    cJSON_AddNumberToObject(d, "timeout", bd->topo->functions.timeout_seconds);
    cJSON_AddNumberToObject(d, "memory_size", bd->topo->functions.memory_mb);
    cJSON_AddItemToObject(d, "environment", environment);
    if (!cJSON_AddItemToObject(d, "tags", s_tags(bd)))
        bd->oom = 1;
    s_resource(bd, s_fmt(bd, "%s.lambda_function.%s", scope, key), RDSBK_RT_LAMBDA_FUNCTION,
               account, bd->rb, name, d, role_addr, policy_addr, key_dep, NULL);

cleanup:
    free(role);
    free(role_addr);
    free(policy_addr);
}

static cJSON *s_env(struct s_builder *bd) {
    cJSON *e = cJSON_CreateObject();
    if (!e) {
        bd->oom = 1;
        return NULL;
    }
    s_add_str(bd, e, "RDSBK_STACK", bd->topo->stack);
    s_add_str(bd, e, "RDSBK_TARGET_REGION", bd->rb);
    s_add_str(bd, e, "RDSBK_BACKUP_ACCOUNT", bd->b);
    return e;
}

/* A rule matching `pattern` (taken over), or when `pattern` is NULL one running on `schedule`. */
static void s_rule(struct s_builder *bd, const char *scope, const char *key, const char *account,
                   const char *region, const char *purpose, const char *description, cJSON *pattern,
                   const char *schedule) {
    cJSON *d = cJSON_CreateObject();
    char *name = rdsbk_model_name(bd->topo->stack, purpose, S_NAME_MAX);

    if (!d || !name || (!pattern && !schedule)) {
        bd->oom = 1;
        cJSON_Delete(d);
        cJSON_Delete(pattern);
        free(name);
        return;
    }
    s_add_str(bd, d, "name", name);
    s_add_str(bd, d, "description", description);
    s_add_str(bd, d, "state", "ENABLED");
    if (pattern)
        cJSON_AddItemToObject(d, "event_pattern", pattern);
    else
        s_add_str(bd, d, "schedule_expression", schedule);
    if (!cJSON_AddItemToObject(d, "tags", s_tags(bd)))
        bd->oom = 1;
    s_resource(bd, s_fmt(bd, "%s.events_rule.%s", scope, key), RDSBK_RT_EVENTS_RULE, account,
               region, name, d, NULL);
}

/* A target of rule `key` in `scope`; `role_arn` NULL for a Lambda target; `input` (taken over,
 * may be NULL) a constant event instead of the matched one. Extra deps follow. */
static void s_target(struct s_builder *bd, const char *scope, const char *key, const char *account,
                     const char *region, const char *purpose, char *arn, char *role_arn,
                     cJSON *input, const char *dep1, const char *dep2, const char *dep3) {
    cJSON *d = cJSON_CreateObject();
    char *rule = rdsbk_model_name(bd->topo->stack, purpose, S_NAME_MAX);
    char *rule_addr = s_fmt(bd, "%s.events_rule.%s", scope, key);
    char *name = s_fmt(bd, "%s", "rdsbk");

    if (!d || !rule || !arn || !rule_addr) {
        bd->oom = 1;
        cJSON_Delete(d);
        free(name);
        goto cleanup;
    }
    s_add_str(bd, d, "rule", rule);
    s_add_str(bd, d, "target_id", "rdsbk");
    s_add_str(bd, d, "arn", arn);
    if (role_arn)
        s_add_str(bd, d, "role_arn", role_arn);
    if (input) {
        cJSON_AddItemToObject(d, "input", input);
        input = NULL;
    }
    s_resource(bd, s_fmt(bd, "%s.events_target.%s", scope, key), RDSBK_RT_EVENTS_TARGET, account,
               region, name, d, rule_addr, dep1, dep2, dep3, NULL);

cleanup:
    cJSON_Delete(input);
    free(rule);
    free(rule_addr);
    free(arn);
    free(role_arn);
}

/* Lets rule `rule_purpose` invoke function `fn_key` (its address key in `scope`) under statement
 * `statement`; the resource's address key is `key`. */
static void s_invoke_permission(struct s_builder *bd, const char *scope, const char *key,
                                const char *account, const char *fn_key, const char *fn_purpose,
                                const char *rule_purpose, const char *statement) {
    cJSON *d = cJSON_CreateObject();
    char *function = rdsbk_model_name(bd->topo->stack, fn_purpose, S_NAME_MAX);
    char *rule = rdsbk_model_name(bd->topo->stack, rule_purpose, S_NAME_MAX);
    char *fn_addr = s_fmt(bd, "%s.lambda_function.%s", scope, fn_key);
    char *rule_arn = NULL;

    if (!d || !function || !rule || !fn_addr) {
        bd->oom = 1;
        cJSON_Delete(d);
        goto cleanup;
    }
    rule_arn = s_fmt(bd, "arn:%s:events:%s:%s:rule/%s", bd->p, bd->rb, account, rule);
    s_add_str(bd, d, "function_name", function);
    s_add_str(bd, d, "statement_id", statement);
    s_add_str(bd, d, "action", "lambda:InvokeFunction");
    s_add_str(bd, d, "principal", "events.amazonaws.com");
    s_add_str(bd, d, "source_arn", rule_arn);
    s_resource(bd, s_fmt(bd, "%s.lambda_permission.%s", scope, key), RDSBK_RT_LAMBDA_PERMISSION,
               account, bd->rb, s_fmt(bd, "%s", statement), d, fn_addr, NULL);

cleanup:
    free(function);
    free(rule);
    free(fn_addr);
    free(rule_arn);
}

/* {"source": ["aws.rds"], "detail-type": [...], "detail": {"EventID": ids, "SourceArn": [
 * {"wildcard": ...}, ...]}} */
static cJSON *s_rds_pattern(struct s_builder *bd, const char *const *ids, size_t n_ids,
                            cJSON *wildcards) {
    static const char *const rds[] = {"aws.rds"};
    cJSON *p = cJSON_CreateObject();
    cJSON *detail = cJSON_CreateObject();
    cJSON *arns = cJSON_CreateArray();
    const cJSON *w;

    if (!p || !detail || !arns || !wildcards) {
        bd->oom = 1;
        cJSON_Delete(p);
        cJSON_Delete(detail);
        cJSON_Delete(arns);
        cJSON_Delete(wildcards);
        return NULL;
    }
    cJSON_ArrayForEach(w, wildcards) {
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddStringToObject(o, "wildcard", w->valuestring))
            bd->oom = 1;
        cJSON_AddItemToArray(arns, o);
    }
    cJSON_Delete(wildcards);
    cJSON_AddItemToObject(p, "source", s_strings(bd, rds, 1));
    cJSON_AddItemToObject(p, "detail-type", s_strings(bd, s_detail_types, 2));
    cJSON_AddItemToObject(detail, "EventID", s_strings(bd, ids, n_ids));
    cJSON_AddItemToObject(detail, "SourceArn", arns);
    cJSON_AddItemToObject(p, "detail", detail);
    return p;
}

/* ARN globs of the system snapshots of `s` (Region-A), or of their copies in `region` when
 * `copies` (no "rds:" and in Region-B). */
static void s_snapshot_globs(struct s_builder *bd, cJSON *out, const struct rdsbk_source *s,
                             const char *account, const char *region, bool copies) {
    const char *sys = copies ? "" : "rds:";

    for (size_t i = 0; i < s->n_instances; i++) {
        char *glob = s_glob(bd, s->instances[i]);
        s_push_unique(bd, out,
                      s_fmt(bd, "arn:%s:rds:%s:%s:snapshot:%s%s", bd->p, region, account, sys,
                            glob ? glob : ""));
        free(glob);
    }
    for (size_t i = 0; i < s->n_clusters; i++) {
        char *glob = s_glob(bd, s->clusters[i]);
        s_push_unique(bd, out,
                      s_fmt(bd, "arn:%s:rds:%s:%s:cluster-snapshot:%s%s", bd->p, region, account,
                            sys, glob ? glob : ""));
        free(glob);
    }
}

static cJSON *s_custom_pattern(struct s_builder *bd, cJSON *accounts) {
    cJSON *p = cJSON_CreateObject();
    char *source = s_fmt(bd, "rdsbk.%s", bd->topo->stack);
    const char *types[] = {RDSBK_EVENT_DETAIL_TYPE};
    cJSON *src = cJSON_CreateArray();

    if (!p || !source || !src || !accounts) {
        bd->oom = 1;
        cJSON_Delete(p);
        cJSON_Delete(src);
        cJSON_Delete(accounts);
        free(source);
        return NULL;
    }
    s_push_owned(bd, src, source);
    cJSON_AddItemToObject(p, "source", src);
    cJSON_AddItemToObject(p, "detail-type", s_strings(bd, types, 1));
    cJSON_AddItemToObject(p, "account", accounts);
    return p;
}

/* ---- the pipeline ----------------------------------------------------------------------- */

#define S_KEY_ADDR "backup.kms_key.shared"
#define S_KEY_ARN "${" S_KEY_ADDR "#arn}"

/* Sources of `account`, joined: database patterns as comma lists and snapshot globs. */
static void s_account_side(struct s_builder *bd, const char *account) {
    const struct rdsbk_topology *t = bd->topo;
    char scope[64];
    cJSON *system_globs = cJSON_CreateArray();
    cJSON *copy_globs = cJSON_CreateArray();
    cJSON *copy_resources = cJSON_CreateArray();
    cJSON *instances = cJSON_CreateArray();
    cJSON *clusters = cJSON_CreateArray();
    char *copy_fn = rdsbk_model_name(t->stack, "copy", S_NAME_MAX);
    char *share_fn = rdsbk_model_name(t->stack, "share", S_NAME_MAX);
    char *events_role = rdsbk_model_name(t->stack, "events", S_NAME_MAX);
    cJSON *env;

    snprintf(scope, sizeof(scope), "account[%s]", account);
    if (!system_globs || !copy_globs || !copy_resources || !instances || !clusters || !copy_fn ||
        !share_fn || !events_role) {
        bd->oom = 1;
        goto cleanup;
    }
    for (size_t i = 0; i < t->n_sources; i++) {
        const struct rdsbk_source *s = &t->sources[i];
        if (strcmp(s->account, account) != 0)
            continue;
        s_snapshot_globs(bd, system_globs, s, account, s->region, false);
        s_snapshot_globs(bd, copy_globs, s, account, bd->rb, true);
        for (size_t j = 0; j < s->n_instances; j++)
            s_push_unique(bd, instances, strdup(s->instances[j]));
        for (size_t j = 0; j < s->n_clusters; j++)
            s_push_unique(bd, clusters, strdup(s->clusters[j]));
    }
    {
        const cJSON *it;
        cJSON_ArrayForEach(it, system_globs)
            s_push_owned(bd, copy_resources, strdup(it->valuestring));
        cJSON_ArrayForEach(it, copy_globs)
            s_push_owned(bd, copy_resources, strdup(it->valuestring));
    }

    /* 1. roles: copy and share (Lambda), events (forwarding to buses) */
    s_role(bd, scope, "copy", account, "copy", "policies/lambda-trust.json",
           "rdsbk: copies system snapshots into Region-B");
    s_role(bd, scope, "share", account, "share", "policies/lambda-trust.json",
           "rdsbk: shares Region-B copies with the backup account");
    s_role(bd, scope, "events", account, "events", "policies/events-trust.json",
           "rdsbk: forwards snapshot events to Region-B and the backup account");
    {
        cJSON *logs = s_log_groups(bd, account, copy_fn);
        cJSON *key = cJSON_CreateString(S_KEY_ARN);
        const struct rdsbk_tvar vars[] = {
            {"copy_resource_arns", copy_resources}, {"key_arn", key}, {"log_group_arns", logs}};
        s_role_policy(bd, scope, "copy", account, "copy",
                      rdsbk_template_json("policies/copy-role.json", vars, 3), S_KEY_ADDR);
        cJSON_Delete(logs);
        cJSON_Delete(key);
    }
    {
        cJSON *logs = s_log_groups(bd, account, share_fn);
        cJSON *bus = cJSON_CreateString("");
        char *bus_arn = s_fmt(bd, "arn:%s:events:%s:%s:event-bus/default", bd->p, bd->rb, account);
        if (bus_arn)
            cJSON_SetValuestring(bus, bus_arn);
        free(bus_arn);
        /* listing (the sweep) is authorised on the account's snapshots as a whole */
        cJSON *list = cJSON_CreateArray();
        s_push_owned(bd, list, s_fmt(bd, "arn:%s:rds:%s:%s:snapshot:*", bd->p, bd->rb, account));
        s_push_owned(bd, list,
                     s_fmt(bd, "arn:%s:rds:%s:%s:cluster-snapshot:*", bd->p, bd->rb, account));
        const struct rdsbk_tvar vars[] = {{"copy_arns", copy_globs},
                                          {"own_bus_arn", bus},
                                          {"log_group_arns", logs},
                                          {"list_arns", list}};
        s_role_policy(bd, scope, "share", account, "share",
                      rdsbk_template_json("policies/share-role.json", vars, 4), NULL);
        cJSON_Delete(logs);
        cJSON_Delete(bus);
        cJSON_Delete(list);
    }
    {
        cJSON *buses = cJSON_CreateArray();
        s_push_owned(bd, buses,
                     s_fmt(bd, "arn:%s:events:%s:%s:event-bus/default", bd->p, bd->rb, account));
        s_push_owned(bd, buses,
                     s_fmt(bd, "arn:%s:events:%s:%s:event-bus/default", bd->p, bd->rb, bd->b));
        const struct rdsbk_tvar vars[] = {{"forward_bus_arns", buses}};
        s_role_policy(bd, scope, "events", account, "events",
                      rdsbk_template_json("policies/events-forward-role.json", vars, 1), NULL);
        cJSON_Delete(buses);
    }

    /* 2. functions copy and share */
    env = s_env(bd);
    s_add_str(bd, env, "RDSBK_KMS_KEY_ARN", S_KEY_ARN);
    s_add_joined(bd, env, "RDSBK_DB_INSTANCES", instances);
    s_add_joined(bd, env, "RDSBK_DB_CLUSTERS", clusters);
    s_function(bd, scope, "copy", account, "copy", "copy", env, S_KEY_ADDR);
    env = s_env(bd);
    s_add_owned(bd, env, "RDSBK_EVENT_SOURCE", s_fmt(bd, "rdsbk.%s", t->stack));
    s_add_str(bd, env, "RDSBK_EVENT_DETAIL_TYPE", RDSBK_EVENT_DETAIL_TYPE);
    s_function(bd, scope, "share", account, "share", "share", env, NULL);
    s_invoke_permission(bd, scope, "copy", account, "copy", "copy", "copy", "rdsbk-events");
    s_invoke_permission(bd, scope, "share", account, "share", "share", "share", "rdsbk-events");
    s_invoke_permission(bd, scope, "sweep", account, "share", "share", "sweep", "rdsbk-sweep");

    /* 3. rules in Region-B: copy (forwarded creation events), share (copy finished),
     *    to_backup (our "snapshot shared" event) */
    s_rule(bd, scope, "copy", account, bd->rb, "copy",
           "rdsbk: system snapshot created (forwarded from Region-A) -> copy into Region-B",
           s_rds_pattern(bd, s_created_events, 2, cJSON_Duplicate(system_globs, 1)), NULL);
    s_rule(bd, scope, "share", account, bd->rb, "share",
           "rdsbk: copy into Region-B finished -> share with the backup account",
           s_rds_pattern(bd, s_copied_events, 1, cJSON_Duplicate(copy_globs, 1)), NULL);
    {
        cJSON *accounts = cJSON_CreateArray();
        s_push_owned(bd, accounts, strdup(account));
        s_rule(bd, scope, "to_backup", account, bd->rb, "to-backup",
               "rdsbk: snapshot shared -> forward to the backup account",
               s_custom_pattern(bd, accounts), NULL);
    }
    {
        char *fn_addr = s_fmt(bd, "%s.lambda_function.copy", scope);
        char *perm_addr = s_fmt(bd, "%s.lambda_permission.copy", scope);
        s_target(bd, scope, "copy", account, bd->rb, "copy",
                 s_fmt(bd, "arn:%s:lambda:%s:%s:function:%s", bd->p, bd->rb, account, copy_fn),
                 NULL, NULL, fn_addr, perm_addr, NULL);
        free(fn_addr);
        free(perm_addr);
        fn_addr = s_fmt(bd, "%s.lambda_function.share", scope);
        perm_addr = s_fmt(bd, "%s.lambda_permission.share", scope);
        s_target(bd, scope, "share", account, bd->rb, "share",
                 s_fmt(bd, "arn:%s:lambda:%s:%s:function:%s", bd->p, bd->rb, account, share_fn),
                 NULL, NULL, fn_addr, perm_addr, NULL);
        free(fn_addr);
        free(perm_addr);
    }
    /* 4. the sweep: RDS documents no copy-finished event for cluster snapshots, and events are
     *    best-effort, so every half hour the share function looks for copies still unshared */
    s_rule(bd, scope, "sweep", account, bd->rb, "sweep",
           "rdsbk: every 30 minutes, share copies whose copy-finished event never came", NULL,
           "rate(30 minutes)");
    {
        char *fn_addr = s_fmt(bd, "%s.lambda_function.share", scope);
        char *perm_addr = s_fmt(bd, "%s.lambda_permission.sweep", scope);
        cJSON *input = cJSON_CreateObject();
        if (input)
            s_add_str(bd, input, "rdsbk", "sweep");
        s_target(bd, scope, "sweep", account, bd->rb, "sweep",
                 s_fmt(bd, "arn:%s:lambda:%s:%s:function:%s", bd->p, bd->rb, account, share_fn),
                 NULL, input, fn_addr, perm_addr, NULL);
        free(fn_addr);
        free(perm_addr);
    }
    {
        char *role_addr = s_fmt(bd, "%s.iam_role_policy.events", scope);
        char *perm_addr = s_fmt(bd, "backup.events_permission[%s]", account);
        s_target(bd, scope, "to_backup", account, bd->rb, "to-backup",
                 s_fmt(bd, "arn:%s:events:%s:%s:event-bus/default", bd->p, bd->rb, bd->b),
                 s_fmt(bd, "arn:%s:iam::%s:role/%s", bd->p, account, events_role), NULL, role_addr,
                 perm_addr, NULL);
        free(role_addr);
        free(perm_addr);
    }

cleanup:
    cJSON_Delete(system_globs);
    cJSON_Delete(copy_globs);
    cJSON_Delete(copy_resources);
    cJSON_Delete(instances);
    cJSON_Delete(clusters);
    free(copy_fn);
    free(share_fn);
    free(events_role);
}

/* The forwarding rule of one source, in its own Region-A. */
static void s_source_side(struct s_builder *bd, const struct rdsbk_source *s) {
    char scope[64];
    cJSON *globs = cJSON_CreateArray();
    char *events_role = rdsbk_model_name(bd->topo->stack, "events", S_NAME_MAX);
    char *role_addr = NULL;
    char *next_hop = NULL;

    if (!globs || !events_role) {
        bd->oom = 1;
        cJSON_Delete(globs);
        free(events_role);
        return;
    }
    snprintf(scope, sizeof(scope), "source[%s/%s]", s->account, s->region);
    s_snapshot_globs(bd, globs, s, s->account, s->region, false);
    s_rule(bd, scope, "forward", s->account, s->region, "forward",
           "rdsbk: system snapshot created -> forward to Region-B",
           s_rds_pattern(bd, s_created_events, 2, globs), NULL);
    role_addr = s_fmt(bd, "account[%s].iam_role_policy.events", s->account);
    /* Forwarding starts only once the Region-B side can take the event. */
    next_hop = s_fmt(bd, "account[%s].events_target.copy", s->account);
    s_target(bd, scope, "forward", s->account, s->region, "forward",
             s_fmt(bd, "arn:%s:events:%s:%s:event-bus/default", bd->p, bd->rb, s->account),
             s_fmt(bd, "arn:%s:iam::%s:role/%s", bd->p, s->account, events_role), NULL, role_addr,
             next_hop, NULL);
    free(role_addr);
    free(next_hop);
    free(events_role);
}

static void s_backup_side(struct s_builder *bd, cJSON *accounts) {
    const struct rdsbk_topology *t = bd->topo;
    cJSON *copy_roles = cJSON_CreateArray();
    cJSON *copy_resources = cJSON_CreateArray();
    char *copy_role = rdsbk_model_name(t->stack, "copy", S_NAME_MAX);
    char *backup_fn = rdsbk_model_name(t->stack, "backup-copy", S_NAME_MAX);
    cJSON *d;
    const cJSON *acct;

    if (!copy_roles || !copy_resources || !copy_role || !backup_fn) {
        bd->oom = 1;
        goto cleanup;
    }
    cJSON_ArrayForEach(acct, accounts) {
        s_push_owned(bd, copy_roles,
                     s_fmt(bd, "arn:%s:iam::%s:role/%s", bd->p, acct->valuestring, copy_role));
    }
    for (size_t i = 0; i < t->n_sources; i++) {
        /* shared copies in A/Region-B, and the backup copies made of them in B/Region-B */
        s_snapshot_globs(bd, copy_resources, &t->sources[i], t->sources[i].account, bd->rb, true);
        s_snapshot_globs(bd, copy_resources, &t->sources[i], bd->b, bd->rb, true);
    }

    /* 1. the shared key: its policy names the source accounts' copy roles, which must exist */
    d = cJSON_CreateObject();
    if (!d) {
        bd->oom = 1;
        goto cleanup;
    }
    {
        char *root = s_fmt(bd, "arn:%s:iam::%s:root", bd->p, bd->b);
        char *id = s_fmt(bd, "rdsbk-%s", t->stack);
        cJSON *root_v = cJSON_CreateString(root ? root : "");
        cJSON *id_v = cJSON_CreateString(id ? id : "");
        const struct rdsbk_tvar vars[] = {
            {"backup_root_arn", root_v}, {"copy_role_arns", copy_roles}, {"key_policy_id", id_v}};
        char *desc = s_fmt(bd, "rdsbk %s: encrypts the backup copies of RDS snapshots", t->stack);
        s_add_str(bd, d, "description", desc);
        cJSON_AddBoolToObject(d, "multi_region", t->key.multi_region);
        cJSON_AddItemToObject(d, "policy",
                              rdsbk_template_json("policies/key-policy.json", vars, 3));
        cJSON_AddNumberToObject(d, "deletion_window_days", t->key.deletion_window_days);
        cJSON_AddBoolToObject(d, "prevent_destroy", t->key.prevent_destroy);
        if (!cJSON_AddItemToObject(d, "tags", s_tags(bd)))
            bd->oom = 1;
        free(root);
        free(id);
        free(desc);
        cJSON_Delete(root_v);
        cJSON_Delete(id_v);
    }
    {
        struct rdsbk_resource *key =
            s_resource(bd, s_fmt(bd, "%s", S_KEY_ADDR), RDSBK_RT_KMS_KEY, bd->b, bd->rb,
                       s_fmt(bd, "%s", t->key.alias), d, NULL);
        cJSON_ArrayForEach(acct, accounts) {
            char *dep = s_fmt(bd, "account[%s].iam_role.copy", acct->valuestring);
            char **grown =
                key && dep ? realloc(key->deps, (key->n_deps + 1) * sizeof(*grown)) : NULL;
            if (!grown) {
                bd->oom = 1;
                free(dep);
                break;
            }
            key->deps = grown;
            key->deps[key->n_deps++] = dep;
        }
    }
    d = cJSON_CreateObject();
    if (d) {
        s_add_str(bd, d, "name", t->key.alias);
        s_add_str(bd, d, "target_key_id", "${" S_KEY_ADDR "#key_id}");
    }
    s_resource(bd, s_fmt(bd, "backup.kms_alias.shared"), RDSBK_RT_KMS_ALIAS, bd->b, bd->rb,
               s_fmt(bd, "%s", t->key.alias), d, S_KEY_ADDR, NULL);

    /* 2. the bus admits each source account */
    cJSON_ArrayForEach(acct, accounts) {
        d = cJSON_CreateObject();
        char *sid = s_fmt(bd, "rdsbk-%s-%s", t->stack, acct->valuestring);
        if (d) {
            s_add_str(bd, d, "statement_id", sid);
            s_add_str(bd, d, "principal", acct->valuestring);
            s_add_str(bd, d, "action", "events:PutEvents");
        }
        s_resource(bd, s_fmt(bd, "backup.events_permission[%s]", acct->valuestring),
                   RDSBK_RT_EVENTS_PERMISSION, bd->b, bd->rb, sid, d, NULL);
    }

    /* 3. backup-copy: role, function, rule, permission, target */
    s_role(bd, "backup", "backup_copy", bd->b, "backup-copy", "policies/lambda-trust.json",
           "rdsbk: copies shared snapshots into the backup account");
    {
        cJSON *logs = s_log_groups(bd, bd->b, backup_fn);
        cJSON *key = cJSON_CreateString(S_KEY_ARN);
        const struct rdsbk_tvar vars[] = {{"backup_copy_resource_arns", copy_resources},
                                          {"key_arn", key},
                                          {"log_group_arns", logs}};
        s_role_policy(bd, "backup", "backup_copy", bd->b, "backup-copy",
                      rdsbk_template_json("policies/backup-copy-role.json", vars, 3), S_KEY_ADDR);
        cJSON_Delete(logs);
        cJSON_Delete(key);
    }
    {
        cJSON *env = s_env(bd);
        s_add_str(bd, env, "RDSBK_KMS_KEY_ARN", S_KEY_ARN);
        s_add_joined(bd, env, "RDSBK_SOURCE_ACCOUNTS", accounts);
        s_add_owned(bd, env, "RDSBK_EVENT_SOURCE", s_fmt(bd, "rdsbk.%s", t->stack));
        s_add_str(bd, env, "RDSBK_EVENT_DETAIL_TYPE", RDSBK_EVENT_DETAIL_TYPE);
        s_function(bd, "backup", "backup_copy", bd->b, "backup-copy", "backup-copy", env,
                   S_KEY_ADDR);
    }
    s_invoke_permission(bd, "backup", "backup_copy", bd->b, "backup_copy", "backup-copy",
                        "backup-copy", "rdsbk-events");
    s_rule(bd, "backup", "backup_copy", bd->b, bd->rb, "backup-copy",
           "rdsbk: snapshot shared by a source account -> copy into the backup account",
           s_custom_pattern(bd, cJSON_Duplicate(accounts, 1)), NULL);
    s_target(bd, "backup", "backup_copy", bd->b, bd->rb, "backup-copy",
             s_fmt(bd, "arn:%s:lambda:%s:%s:function:%s", bd->p, bd->rb, bd->b, backup_fn), NULL,
             NULL, "backup.lambda_function.backup_copy", "backup.lambda_permission.backup_copy",
             NULL);

cleanup:
    cJSON_Delete(copy_roles);
    cJSON_Delete(copy_resources);
    free(copy_role);
    free(backup_fn);
}

static int s_cmp_resource(const void *a, const void *b) {
    return strcmp(((const struct rdsbk_resource *)a)->address,
                  ((const struct rdsbk_resource *)b)->address);
}

int rdsbk_model_build(struct rdsbk_graph **out, const struct rdsbk_topology *topo) {
    struct s_builder bd;
    cJSON *accounts = NULL;
    const cJSON *acct;
    int result = RDSBK_ERROR;

    *out = NULL;
    rdsbk_error_clear();
    memset(&bd, 0, sizeof(bd));
    bd.topo = topo;
    bd.g = calloc(1, sizeof(*bd.g));
    accounts = cJSON_CreateArray();
    if (!bd.g || !accounts) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    bd.g->stack = strdup(topo->stack);
    bd.g->partition = strdup(rdsbk_region_partition(topo->backup.region));
    bd.g->bus_policy_quota = topo->backup.bus_policy_quota;
    bd.p = bd.g->partition;
    bd.rb = topo->backup.region;
    bd.b = topo->backup.account;
    for (size_t i = 0; i < topo->n_sources; i++)
        s_push_unique(&bd, accounts, strdup(topo->sources[i].account));

    cJSON_ArrayForEach(acct, accounts) s_account_side(&bd, acct->valuestring);
    for (size_t i = 0; i < topo->n_sources; i++)
        s_source_side(&bd, &topo->sources[i]);
    s_backup_side(&bd, accounts);

    if (bd.oom || !bd.g->stack || !bd.g->partition) {
        result = rdsbk_error_last()->code ? rdsbk_error_last()->code : RDSBK_ENOMEM;
        if (!rdsbk_error_last()->code)
            rdsbk_error_oom();
        goto cleanup;
    }
    qsort(bd.g->resources, bd.g->n_resources, sizeof(*bd.g->resources), s_cmp_resource);
    *out = bd.g;
    bd.g = NULL;
    result = 0;

cleanup:
    cJSON_Delete(accounts);
    rdsbk_graph_free(bd.g);
    return result;
}
