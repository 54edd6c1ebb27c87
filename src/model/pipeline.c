/*
 * Topology -> desired resource graph. The pipeline of one stack:
 *
 *   source[A/RA]    rule forward (0091/0169 of the listed databases) -> target: A's bus in RB
 *   account[A] (RB) rule copy      -> target: λ copy          (+ invoke permission)
 *                   rule share     -> target: λ share         (+ invoke permission)
 *                   rule sweep     -> target: λ share         (+ invoke permission): shares what
 *                                     was missed, deletes copies past retention
 *                   rule to_backup -> target: B's bus "bus" in RB
 *                   roles copy, share (Lambda) and events (forwarding), each with an inline policy
 *   backup (B/RB)   KMS key + alias, the bus "bus" (the stack's own: its policy admits the
 *                   source accounts' "snapshot shared" events, and nothing else),
 *                   rule backup_copy on "bus" -> target: λ backup-copy (+ invoke permission)
 *                   rule prune       -> target: λ backup-copy (+ invoke permission): deletes
 *                                       backup copies past retention
 *   each λ          its log group /aws/lambda/<function>, with the stack's retention
 *
 * N sources share the backup side; sources of one account in several Regions share that
 * account's Region-B side. Each piece of the pipeline is one function below, named for it.
 */
#include "rdsbk/buf.h"
#include "rdsbk/cfn.h"
#include "rdsbk/error.h"
#include "rdsbk/json_util.h"
#include "rdsbk/lambda_pkg.h"
#include "rdsbk/model.h"
#include "rdsbk/str.h"
#include "model_internal.h"
#include "template_json.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_KEY_ADDR "backup.kms_key.shared"
#define S_KEY_ARN "${" S_KEY_ADDR "#arn}"

const char *const rdsbk_model_purposes[] = {
    "copy",         "copy-sweep",         "share", "events", "forward", "to-backup",
    "sweep",        "backup-copy",        "prune", "bus",    "alerts",  "copy-failed",
    "share-failed", "backup-copy-failed", NULL};

/* A function's dead-letter queue keeps a message as long as SQS allows (14 days): the function's
 * next scheduled run reports it within half an hour, unless it cannot run at all. */
#define S_FAILURE_QUEUE_RETENTION_S 1209600

/* The RDS event ids the pipeline listens to. */
static const char *const s_created_events[] = {"RDS-EVENT-0091",  /* automated snapshot created */
                                               "RDS-EVENT-0169"}; /* automated cluster snapshot */
/* A cross-Region copy finished; it fires in the destination Region. AWS documents no separate
 * cluster id for it; cluster copies are announced with the same id and the cluster detail-type. */
static const char *const s_copied_events[] = {"RDS-EVENT-0060"};
static const char *const s_detail_types[] = {"RDS DB Snapshot Event",
                                             "RDS DB Cluster Snapshot Event"};

/*
 * The graph being built. Its error is sticky: the first failure is kept (its code and message)
 * and no resource is added after it, so that the pieces below read as lists of what they build;
 * what fails afterwards, often for want of what failed first, cannot replace the message.
 */
struct s_builder {
    const struct rdsbk_topology *topo; /* the view the graph is built from (rdsbk_model_view) */
    const struct rdsbk_topology *orig; /* the topology itself, with its OU sources */
    struct rdsbk_graph *g;
    size_t cap;         /* of g->resources */
    const char *p;      /* partition */
    const char *rb;     /* Region-B */
    const char *b;      /* the backup account */
    char *event_source; /* "rdsbk.<stack>": the source of our "snapshot shared" events */
    /* the source side of the stand-ins of OU sources is built too (a template's graph); in the
     * graph of a topology, the StackSet of each OU source builds it in the OU's accounts */
    bool stand_ins;
    int rc;
    struct rdsbk_error error;
};

/*
 * Where a piece of the pipeline lives: its resources' addresses are "<scope>.<type>.<key>", their
 * AWS names "rdsbk-<stack>-<purpose>" (a function's package is named for its purpose too), and
 * they are in `account`; its rule is on the default event bus, or on the stack's bus of purpose
 * `bus`.
 */
struct s_place {
    const char *scope;
    const char *key;
    const char *account;
    const char *purpose;
    const char *bus;
};

/* The purpose and address of the stack's bus in the backup account, which the source accounts
 * forward their "snapshot shared" events to. */
#define S_BUS "bus"
/* The purpose of the stack's alert topic (unless the topology names one: alerts.sns_topic_arn). */
#define S_ALERTS "alerts"
#define S_BACKUP_BUS_ADDR "backup.events_bus." S_BUS

/* ---- the sticky error, and values that record their own failure -------------------------- */

/* Records `rc` (its error set by whoever detected it) when it is the first failure. */
static void s_fail(struct s_builder *bd, int rc) {
    if (rc && !bd->rc) {
        bd->rc = rc;
        rdsbk_error_save(&bd->error);
    }
}

/* `p`, recording "out of memory" when it is NULL. */
static void *s_alloc(struct s_builder *bd, void *p) {
    if (!p)
        s_fail(bd, rdsbk_error_oom());
    return p;
}

/* A new formatted string (caller frees), or NULL with the failure recorded. */
static char *s_fmt(struct s_builder *bd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *s_fmt(struct s_builder *bd, const char *fmt, ...) {
    va_list ap;
    char *out;

    va_start(ap, fmt);
    s_fail(bd, rdsbk_vstrfmt(&out, fmt, ap));
    va_end(ap);
    return out;
}

static char *s_strdup(struct s_builder *bd, const char *s) {
    return s_alloc(bd, strdup(s));
}

/* "rdsbk-<stack>-<purpose>", shortened to fit (caller frees). */
static char *s_name(struct s_builder *bd, const char *purpose) {
    return s_alloc(bd, rdsbk_model_name(bd->topo->stack, purpose, RDSBK_MODEL_NAME_MAX));
}

static char *s_addr(struct s_builder *bd, const struct s_place *pl, enum rdsbk_resource_type type) {
    return s_fmt(bd, "%s.%s.%s", pl->scope, rdsbk_resource_type_name(type), pl->key);
}

/* The ARN of the IAM role, Lambda function or EventBridge rule of `pl` (in Region-B); a rule on
 * a custom bus has the bus's name in its ARN. */
static char *s_arn(struct s_builder *bd, const struct s_place *pl, enum rdsbk_resource_type type) {
    char *name = s_name(bd, pl->purpose);
    char *bus = pl->bus ? s_name(bd, pl->bus) : NULL;
    char *arn = NULL;

    if (name && type == RDSBK_RT_IAM_ROLE)
        arn = s_fmt(bd, "arn:%s:iam::%s:role/%s", bd->p, pl->account, name);
    else if (name && type == RDSBK_RT_LAMBDA_FUNCTION)
        arn = s_fmt(bd, "arn:%s:lambda:%s:%s:function:%s", bd->p, bd->rb, pl->account, name);
    else if (name && bus)
        arn = s_fmt(bd, "arn:%s:events:%s:%s:rule/%s/%s", bd->p, bd->rb, pl->account, bus, name);
    else if (name && !pl->bus)
        arn = s_fmt(bd, "arn:%s:events:%s:%s:rule/%s", bd->p, bd->rb, pl->account, name);
    free(name);
    free(bus);
    return arn;
}

/* The default event bus of `account` in Region-B. */
static char *s_bus_arn(struct s_builder *bd, const char *account) {
    return s_fmt(bd, "arn:%s:events:%s:%s:event-bus/default", bd->p, bd->rb, account);
}

/* The backup account's bus of the stack. */
static char *s_backup_bus_arn(struct s_builder *bd) {
    char *name = s_name(bd, S_BUS);
    char *arn =
        name ? s_fmt(bd, "arn:%s:events:%s:%s:event-bus/%s", bd->p, bd->rb, bd->b, name) : NULL;

    free(name);
    return arn;
}

/* ---- JSON -------------------------------------------------------------------------------- */

static cJSON *s_object(struct s_builder *bd) {
    return s_alloc(bd, cJSON_CreateObject());
}

static cJSON *s_array(struct s_builder *bd) {
    return s_alloc(bd, cJSON_CreateArray());
}

static cJSON *s_dup(struct s_builder *bd, const cJSON *value) {
    return s_alloc(bd, cJSON_Duplicate(value, 1));
}

/* A cJSON string of `s` (taken over; NULL: its failure is recorded). */
static cJSON *s_string_owned(struct s_builder *bd, char *s) {
    cJSON *v = s ? s_alloc(bd, cJSON_CreateString(s)) : NULL;

    free(s);
    return v;
}

/* Adds `item` (taken over; NULL counts as out of memory) under `key`. */
static void s_add(struct s_builder *bd, cJSON *obj, const char *key, cJSON *item) {
    s_fail(bd, rdsbk_json_add(obj, key, item));
}

static void s_add_str(struct s_builder *bd, cJSON *obj, const char *key, const char *value) {
    s_fail(bd, rdsbk_json_add_str(obj, key, value));
}

/* Adds `value` (taken over; NULL: its failure is recorded) under `key`. */
static void s_add_owned(struct s_builder *bd, cJSON *obj, const char *key, char *value) {
    if (value)
        s_add_str(bd, obj, key, value);
    free(value);
}

static void s_add_num(struct s_builder *bd, cJSON *obj, const char *key, double value) {
    s_fail(bd, rdsbk_json_add_num(obj, key, value));
}

/* Adds the strings of `arr` joined by commas under `key` (the functions' list settings). */
static void s_add_joined(struct s_builder *bd, cJSON *obj, const char *key, const cJSON *arr) {
    struct rdsbk_buf joined = RDSBK_BUF_INIT;
    const cJSON *it;
    int rc = 0;

    cJSON_ArrayForEach(it, arr) {
        if (!rc)
            rc = rdsbk_buf_printf(&joined, "%s%s", rdsbk_buf_len(&joined) ? "," : "",
                                  it->valuestring);
    }
    s_fail(bd, rc);
    s_add_str(bd, obj, key, rdsbk_buf_cstr(&joined));
    rdsbk_buf_clean_up(&joined);
}

/* Appends `item` (taken over; NULL counts as out of memory) to `arr`. */
static void s_push(struct s_builder *bd, cJSON *arr, cJSON *item) {
    if (!item || !cJSON_AddItemToArray(arr, item)) {
        cJSON_Delete(item);
        s_fail(bd, rdsbk_error_oom());
    }
}

/* Appends the string `s` (taken over; NULL: its failure is recorded). */
static void s_push_owned(struct s_builder *bd, cJSON *arr, char *s) {
    if (s)
        s_push(bd, arr, cJSON_CreateString(s));
    free(s);
}

static bool s_array_has(const cJSON *arr, const char *s) {
    const cJSON *it;

    cJSON_ArrayForEach(it, arr) {
        if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0)
            return true;
    }
    return false;
}

/* Appends `s` (taken over) unless present. */
static void s_push_unique(struct s_builder *bd, cJSON *arr, char *s) {
    if (s && s_array_has(arr, s)) {
        free(s);
        return;
    }
    s_push_owned(bd, arr, s);
}

/* A template variable whose value the variable owns (struct rdsbk_tvar borrows). */
struct s_var {
    const char *name;
    cJSON *value;
};

#define S_MAX_VARS 5

/* The template at `path`, its `n` variables substituted and then freed. */
static cJSON *s_template(struct s_builder *bd, const char *path, struct s_var *vars, size_t n) {
    struct rdsbk_tvar tvars[S_MAX_VARS] = {{NULL, NULL}};
    cJSON *doc = NULL;
    bool complete = true;

    assert(n <= S_MAX_VARS);
    for (size_t i = 0; i < n; i++) {
        tvars[i].name = vars[i].name;
        tvars[i].value = vars[i].value;
        complete = complete && vars[i].value; /* a missing one: its failure is recorded */
    }
    if (complete)
        s_fail(bd, rdsbk_template_json(&doc, path, tvars, n));
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(vars[i].value);
    return doc;
}

/* The topology's tags and rdsbk:stack, which every taggable resource carries. */
static cJSON *s_tags(struct s_builder *bd) {
    cJSON *tags = s_object(bd);

    for (size_t i = 0; i < bd->topo->n_tags; i++)
        s_add_str(bd, tags, bd->topo->tags[i].key, bd->topo->tags[i].value);
    s_add_str(bd, tags, "rdsbk:stack", bd->topo->stack);
    return tags;
}

/* ---- resources --------------------------------------------------------------------------- */

/* Appends a resource; `address`, `name` and `desired` are taken over. Returns it (valid until the
 * next resource is added), or NULL, everything freed, once the build has failed. */
static struct rdsbk_resource *s_resource(struct s_builder *bd, char *address,
                                         enum rdsbk_resource_type type, const char *account,
                                         const char *region, char *name, cJSON *desired) {
    struct rdsbk_graph *g = bd->g;
    struct rdsbk_resource *r;

    if (!bd->rc && g->n_resources == bd->cap) {
        size_t cap = bd->cap ? bd->cap * 2 : 64;
        struct rdsbk_resource *grown = s_alloc(bd, realloc(g->resources, cap * sizeof(*grown)));
        if (grown) {
            g->resources = grown;
            bd->cap = cap;
        }
    }
    if (bd->rc) {
        free(address);
        free(name);
        cJSON_Delete(desired);
        return NULL;
    }
    r = &g->resources[g->n_resources++];
    memset(r, 0, sizeof(*r));
    r->address = address;
    r->type = type;
    snprintf(r->account, sizeof(r->account), "%s", account);
    r->region = s_strdup(bd, region);
    r->name = name;
    r->desired = desired;
    return r;
}

/* Resource `type` of `pl`, in `region`. */
static struct rdsbk_resource *s_resource_of(struct s_builder *bd, const struct s_place *pl,
                                            enum rdsbk_resource_type type, const char *region,
                                            char *name, cJSON *desired) {
    return s_resource(bd, s_addr(bd, pl, type), type, pl->account, region, name, desired);
}

/* Makes `r` (NULL once the build has failed) depend on `address` (taken over). */
static void s_depend(struct s_builder *bd, struct rdsbk_resource *r, char *address) {
    char **grown = NULL;

    if (r && address)
        grown = s_alloc(bd, realloc(r->deps, (r->n_deps + 1) * sizeof(*grown)));
    if (!grown) {
        free(address);
        return;
    }
    r->deps = grown;
    r->deps[r->n_deps++] = address;
}

/* The role of `pl`, which only `trust` (taken over) lets assume it. */
static void s_role(struct s_builder *bd, const struct s_place *pl, cJSON *trust,
                   const char *description) {
    cJSON *d = s_object(bd);
    char *name = s_name(bd, pl->purpose);

    s_add_str(bd, d, "name", name);
    s_add_str(bd, d, "path", "/");
    s_add_str(bd, d, "description", description);
    s_add(bd, d, "assume_role_policy", trust);
    s_add(bd, d, "tags", s_tags(bd));
    s_resource_of(bd, pl, RDSBK_RT_IAM_ROLE, bd->rb, name, d);
}

/* The inline policy `policy_name` (taken over) of the role of `pl`, at `address` (taken over;
 * NULL: the place's); `key_dep` (may be NULL) what it names that must exist first. */
static void s_role_policy(struct s_builder *bd, const struct s_place *pl, char *address,
                          const char *policy_name, cJSON *policy, const char *key_dep) {
    cJSON *d = s_object(bd);
    char *role = s_name(bd, pl->purpose);
    struct rdsbk_resource *r;

    s_add_str(bd, d, "role_name", role);
    s_add_str(bd, d, "policy_name", policy_name);
    s_add(bd, d, "policy", policy);
    r = s_resource(bd, address ? address : s_addr(bd, pl, RDSBK_RT_IAM_ROLE_POLICY),
                   RDSBK_RT_IAM_ROLE_POLICY, pl->account, bd->rb, role, d);
    s_depend(bd, r, s_addr(bd, pl, RDSBK_RT_IAM_ROLE));
    if (key_dep)
        s_depend(bd, r, s_strdup(bd, key_dep));
}

/* The topic the functions report permanent failures to: the user's (alerts.sns_topic_arn), or the
 * stack's in the backup account. */
static char *s_alert_topic_arn(struct s_builder *bd) {
    char *name;
    char *arn;

    if (bd->topo->alerts.sns_topic_arn)
        return s_strdup(bd, bd->topo->alerts.sns_topic_arn);
    name = s_name(bd, S_ALERTS);
    arn = name ? s_fmt(bd, "arn:%s:sns:%s:%s:%s", bd->p, bd->rb, bd->b, name) : NULL;
    free(name);
    return arn;
}

/* The address of the alerts policy of the role of `pl`: "<scope>.iam_role_policy.<key>_alerts". */
static char *s_alerts_policy_addr(struct s_builder *bd, const struct s_place *pl) {
    return s_fmt(bd, "%s.%s.%s_alerts", pl->scope,
                 rdsbk_resource_type_name(RDSBK_RT_IAM_ROLE_POLICY), pl->key);
}

/* The log groups a function of `pl` writes to. */
static cJSON *s_log_groups(struct s_builder *bd, const struct s_place *pl) {
    cJSON *arr = s_array(bd);
    char *name = s_name(bd, pl->purpose);

    if (name) {
        s_push_owned(bd, arr,
                     s_fmt(bd, "arn:%s:logs:%s:%s:log-group:/aws/lambda/%s", bd->p, bd->rb,
                           pl->account, name));
        s_push_owned(bd, arr,
                     s_fmt(bd, "arn:%s:logs:%s:%s:log-group:/aws/lambda/%s:*", bd->p, bd->rb,
                           pl->account, name));
    }
    free(name);
    return arr;
}

/* The name of the dead-letter queue of the function of `pl`: "rdsbk-<stack>-<purpose>-failed". */
static char *s_failure_queue_name(struct s_builder *bd, const struct s_place *pl) {
    char *purpose = s_fmt(bd, "%s-failed", pl->purpose);
    char *name = purpose ? s_name(bd, purpose) : NULL;

    free(purpose);
    return name;
}

static char *s_failure_queue_arn(struct s_builder *bd, const struct s_place *pl) {
    char *name = s_failure_queue_name(bd, pl);
    char *arn = name ? s_fmt(bd, "arn:%s:sqs:%s:%s:%s", bd->p, bd->rb, pl->account, name) : NULL;

    free(name);
    return arn;
}

/* The dead-letter queue of the function of `pl`, in its account and Region-B: the invocations
 * Lambda gives up on, which the function's next scheduled run reports (encrypted by SQS). */
static void s_failure_queue(struct s_builder *bd, const struct s_place *pl) {
    cJSON *d = s_object(bd);
    char *name = s_failure_queue_name(bd, pl);

    s_add_str(bd, d, "name", name);
    s_add_num(bd, d, "message_retention_seconds", S_FAILURE_QUEUE_RETENTION_S);
    s_add(bd, d, "sqs_managed_sse", s_alloc(bd, cJSON_CreateTrue()));
    s_add(bd, d, "tags", s_tags(bd));
    s_resource_of(bd, pl, RDSBK_RT_SQS_QUEUE, bd->rb, name, d);
}

/* The role of `pl` may publish to the alert topic, write and read its log group (the record of
 * what failed and what was reported) and use its dead-letter queue, by a policy of its own
 * ("rdsbk-alerts"): a function whose working policy is lost or broken can still report it. */
static void s_alerts_policy(struct s_builder *bd, const struct s_place *pl) {
    struct s_var vars[] = {{"alert_topic_arn", s_string_owned(bd, s_alert_topic_arn(bd))},
                           {"log_group_arns", s_log_groups(bd, pl)},
                           {"failure_queue_arn", s_string_owned(bd, s_failure_queue_arn(bd, pl))}};

    s_role_policy(bd, pl, s_alerts_policy_addr(bd, pl), "rdsbk-alerts",
                  s_template(bd, "policies/alerts-role.json", vars, 3), NULL);
}

/* The log group of the function of `pl`: the stack's, so that it expires and goes with it. */
static void s_log_group(struct s_builder *bd, const struct s_place *pl) {
    cJSON *d = s_object(bd);
    char *function = s_name(bd, pl->purpose);
    char *name = function ? s_fmt(bd, "/aws/lambda/%s", function) : NULL;

    s_add_str(bd, d, "name", name);
    s_add_num(bd, d, "retention_in_days", bd->topo->functions.log_retention_days);
    s_add(bd, d, "tags", s_tags(bd));
    s_resource_of(bd, pl, RDSBK_RT_LOGS_LOG_GROUP, bd->rb, name, d);
    free(function);
}

/* The function of `pl` with its `environment` (taken over), run by the role of `pl`, writing to
 * its log group. */
static void s_function(struct s_builder *bd, const struct s_place *pl, cJSON *environment,
                       const char *key_dep) {
    const struct rdsbk_function_settings *settings = &bd->topo->functions;
    cJSON *d = s_object(bd);
    char *name = s_name(bd, pl->purpose);
    char sha[RDSBK_CODE_SHA256_LEN + 1];
    struct rdsbk_resource *r;

    s_fail(bd, rdsbk_lambda_package_cached(NULL, sha, pl->purpose));
    s_add_str(bd, d, "name", name);
    s_add_str(bd, d, "package", pl->purpose);
    s_add_str(bd, d, "code_sha256", sha);
    s_add_str(bd, d, "runtime", settings->runtime);
    s_add_str(bd, d, "handler", rdsbk_lambda_handler(pl->purpose));
    s_add_owned(bd, d, "role_arn", s_arn(bd, pl, RDSBK_RT_IAM_ROLE));
    s_add_num(bd, d, "timeout", settings->timeout_seconds);
    s_add_num(bd, d, "memory_size", settings->memory_mb);
    s_add_owned(bd, environment, "RDSBK_FAILURE_QUEUE", s_failure_queue_name(bd, pl));
    s_add(bd, d, "environment", environment);
    s_add_owned(bd, d, "dead_letter_arn", s_failure_queue_arn(bd, pl));
    s_add(bd, d, "tags", s_tags(bd));
    r = s_resource_of(bd, pl, RDSBK_RT_LAMBDA_FUNCTION, bd->rb, name, d);
    s_depend(bd, r, s_addr(bd, pl, RDSBK_RT_IAM_ROLE));
    s_depend(bd, r, s_addr(bd, pl, RDSBK_RT_IAM_ROLE_POLICY));
    s_depend(bd, r, s_alerts_policy_addr(bd, pl));
    s_depend(bd, r, s_addr(bd, pl, RDSBK_RT_LOGS_LOG_GROUP));
    s_depend(bd, r, s_addr(bd, pl, RDSBK_RT_SQS_QUEUE));
    if (key_dep)
        s_depend(bd, r, s_strdup(bd, key_dep));
}

/* The settings every function reads from its environment. */
static cJSON *s_env(struct s_builder *bd) {
    cJSON *e = s_object(bd);

    s_add_str(bd, e, "RDSBK_STACK", bd->topo->stack);
    s_add_str(bd, e, "RDSBK_TARGET_REGION", bd->rb);
    s_add_str(bd, e, "RDSBK_BACKUP_ACCOUNT", bd->b);
    return e;
}

/* What a function that deletes copies past `days` keeps (RDSBK_KEEP_LAST: the newest available
 * ones of each database, whatever their age). */
static void s_add_retention(struct s_builder *bd, cJSON *env, int days) {
    s_add_owned(bd, env, "RDSBK_RETENTION_DAYS", s_fmt(bd, "%d", days));
    s_add_owned(bd, env, "RDSBK_KEEP_LAST", s_fmt(bd, "%d", bd->topo->retention.keep_last));
}

/* What a function that sends or receives our "snapshot shared" events needs to know of them. */
static void s_add_event_source(struct s_builder *bd, cJSON *env) {
    s_add_str(bd, env, "RDSBK_EVENT_SOURCE", bd->event_source);
    s_add_str(bd, env, "RDSBK_EVENT_DETAIL_TYPE", RDSBK_EVENT_DETAIL_TYPE);
}

/* The rule of `pl` in `region`, matching `pattern` (taken over) or, when `schedule` is given,
 * running on it. */
static void s_rule(struct s_builder *bd, const struct s_place *pl, const char *region,
                   const char *description, cJSON *pattern, const char *schedule) {
    cJSON *d = s_object(bd);
    char *name = s_name(bd, pl->purpose);
    struct rdsbk_resource *r;

    s_add_str(bd, d, "name", name);
    if (pl->bus)
        s_add_owned(bd, d, "event_bus", s_name(bd, pl->bus));
    s_add_str(bd, d, "description", description);
    s_add_str(bd, d, "state", "ENABLED");
    if (schedule)
        s_add_str(bd, d, "schedule_expression", schedule);
    else
        s_add(bd, d, "event_pattern", pattern);
    s_add(bd, d, "tags", s_tags(bd));
    r = s_resource_of(bd, pl, RDSBK_RT_EVENTS_RULE, region, name, d);
    if (pl->bus)
        s_depend(bd, r, s_strdup(bd, S_BACKUP_BUS_ADDR));
}

/* The target of the rule of `pl` (in `region`), which gets the matched event as it is (a
 * scheduled rule's carries the time the functions take as "now"). `arn` and `role_arn` (NULL for
 * a Lambda target: the function's permission admits the rule) are taken over. */
static struct rdsbk_resource *s_target(struct s_builder *bd, const struct s_place *pl,
                                       const char *region, char *arn, char *role_arn) {
    cJSON *d = s_object(bd);
    struct rdsbk_resource *r;

    s_add_owned(bd, d, "rule", s_name(bd, pl->purpose));
    if (pl->bus)
        s_add_owned(bd, d, "event_bus", s_name(bd, pl->bus));
    s_add_str(bd, d, "target_id", "rdsbk");
    s_add_owned(bd, d, "arn", arn);
    if (role_arn)
        s_add_owned(bd, d, "role_arn", role_arn);
    r = s_resource_of(bd, pl, RDSBK_RT_EVENTS_TARGET, region, s_strdup(bd, "rdsbk"), d);
    s_depend(bd, r, s_addr(bd, pl, RDSBK_RT_EVENTS_RULE));
    return r;
}

/* The rule of `rule` invokes the function of `fn`, once the rule's permission exists. */
static void s_lambda_target(struct s_builder *bd, const struct s_place *rule,
                            const struct s_place *fn) {
    struct rdsbk_resource *r =
        s_target(bd, rule, bd->rb, s_arn(bd, fn, RDSBK_RT_LAMBDA_FUNCTION), NULL);

    s_depend(bd, r, s_addr(bd, fn, RDSBK_RT_LAMBDA_FUNCTION));
    s_depend(bd, r, s_addr(bd, rule, RDSBK_RT_LAMBDA_PERMISSION));
}

/* The rule of `pl` (in `region`) sends its events on to the bus `bus_arn` (taken over) in
 * Region-B, through the account's events role, once `ready` (taken over) can take them. */
static void s_bus_target(struct s_builder *bd, const struct s_place *pl, const char *region,
                         char *bus_arn, char *ready) {
    const struct s_place events = {NULL, "events", pl->account, "events", NULL};
    struct rdsbk_resource *r =
        s_target(bd, pl, region, bus_arn, s_arn(bd, &events, RDSBK_RT_IAM_ROLE));

    s_depend(bd, r, s_fmt(bd, "account[%s].iam_role_policy.events", pl->account));
    s_depend(bd, r, ready);
}

/* Lets the rule of `rule` invoke the function of `fn` under `statement`; the permission's address
 * key is the rule's. */
static void s_invoke_permission(struct s_builder *bd, const struct s_place *rule,
                                const struct s_place *fn, const char *statement) {
    cJSON *d = s_object(bd);
    struct rdsbk_resource *r;

    s_add_owned(bd, d, "function_name", s_name(bd, fn->purpose));
    s_add_str(bd, d, "statement_id", statement);
    s_add_str(bd, d, "action", "lambda:InvokeFunction");
    s_add_str(bd, d, "principal", "events.amazonaws.com");
    s_add_owned(bd, d, "source_arn", s_arn(bd, rule, RDSBK_RT_EVENTS_RULE));
    r = s_resource_of(bd, rule, RDSBK_RT_LAMBDA_PERMISSION, bd->rb, s_strdup(bd, statement), d);
    s_depend(bd, r, s_addr(bd, fn, RDSBK_RT_LAMBDA_FUNCTION));
}

/* A Lambda function and what runs it: its role (Lambda's to assume) with an inline policy, the
 * function, a rule in Region-B that invokes it, the rule's target and the invoke permission. */
struct s_lambda {
    const char *role_description;
    cJSON *policy;       /* taken over */
    cJSON *environment;  /* taken over */
    const char *key_dep; /* the key the policy and the function use (must exist first), or NULL */
    const char *rule_description;
    cJSON *pattern; /* the rule's, taken over */
};

static void s_lambda_function(struct s_builder *bd, const struct s_place *pl,
                              const struct s_lambda *fn) {
    struct s_var trust[] = {{"account", s_string_owned(bd, s_strdup(bd, pl->account))}};

    s_role(bd, pl, s_template(bd, "policies/lambda-trust.json", trust, 1), fn->role_description);
    s_role_policy(bd, pl, NULL, "rdsbk", fn->policy, fn->key_dep);
    s_alerts_policy(bd, pl);
    s_log_group(bd, pl);
    s_failure_queue(bd, pl);
    s_add_owned(bd, fn->environment, "RDSBK_ALERT_TOPIC_ARN", s_alert_topic_arn(bd));
    s_function(bd, pl, fn->environment, fn->key_dep);
    s_invoke_permission(bd, pl, pl, "rdsbk-events");
    s_rule(bd, pl, bd->rb, fn->rule_description, fn->pattern, NULL);
    s_lambda_target(bd, pl, pl);
}

/* The rule of `schedule` (in Region-B) runs the function of `fn` on `expression`. */
static void s_scheduled(struct s_builder *bd, const struct s_place *schedule,
                        const struct s_place *fn, const char *expression, const char *description) {
    char *statement = s_fmt(bd, "rdsbk-%s", schedule->key);

    if (statement)
        s_invoke_permission(bd, schedule, fn, statement);
    free(statement);
    s_rule(bd, schedule, bd->rb, description, NULL, expression);
    s_lambda_target(bd, schedule, fn);
}

/* ---- documents --------------------------------------------------------------------------- */

/* {"source": ["aws.rds"], "detail-type": [...], "detail": {"EventID": ids, "SourceArn": [
 * {"wildcard": glob}, ...]}} */
static cJSON *s_rds_pattern(struct s_builder *bd, const char *const *ids, size_t n_ids,
                            const cJSON *globs) {
    static const char *const rds[] = {"aws.rds"};
    cJSON *p = s_object(bd);
    cJSON *detail = s_object(bd);
    cJSON *arns = s_array(bd);
    const cJSON *glob;

    cJSON_ArrayForEach(glob, globs) {
        cJSON *o = s_object(bd);
        s_add_str(bd, o, "wildcard", glob->valuestring);
        s_push(bd, arns, o);
    }
    s_fail(bd, rdsbk_json_add_strs(p, "source", rds, 1));
    s_fail(bd, rdsbk_json_add_strs(p, "detail-type", s_detail_types, 2));
    s_fail(bd, rdsbk_json_add_strs(detail, "EventID", ids, n_ids));
    s_add(bd, detail, "SourceArn", arns);
    s_add(bd, p, "detail", detail);
    return p;
}

/* Our "snapshot shared" events from `accounts` (taken over; NULL: from any account the bus
 * admits). */
static cJSON *s_shared_pattern(struct s_builder *bd, cJSON *accounts) {
    static const char *const types[] = {RDSBK_EVENT_DETAIL_TYPE};
    const char *const source[] = {bd->event_source};
    cJSON *p = s_object(bd);

    s_fail(bd, rdsbk_json_add_strs(p, "source", source, 1));
    s_fail(bd, rdsbk_json_add_strs(p, "detail-type", types, 1));
    if (accounts)
        s_add(bd, p, "account", accounts);
    return p;
}

/* What follows a database's name in its snapshots' names: "-<stamp>", where automated snapshot
 * names and the pipeline's copies put "-YYYY-MM-DD-HH-MM" (a backup copy adds "-<account>").
 * EventBridge's wildcard knows `*` only: "-*", which also matches a longer name of the same
 * prefix (orders-db-staging-...), whose events the functions ignore. IAM's `?` matches one
 * character: a grant covers that database's snapshots only. */
#define S_EVENT_STAMP "-*"
#define S_IAM_STAMP "-\?\?\?\?-\?\?-\?\?-\?\?-\?\?"

/* What stands for database pattern `db` in a snapshot's name, without a pattern's '*': `db`
 * itself in a system snapshot's name; in a copy's, its base (rdsbk_copy_base), and for a pattern
 * the part of its prefix that every copy's base keeps (a long name's keeps the first
 * RDSBK_COPY_BASE_MAX - 7 characters, less a Region code). `region`: the copies carry it. */
static void s_copy_part(char *out, size_t size, const char *db, bool copies, bool glob,
                        const char *region) {
    int len = (int)(strlen(db) - (glob ? 1 : 0));

    if (copies && !glob)
        rdsbk_copy_base(out, db, region);
    else
        snprintf(out, size, "%.*s",
                 copies && len > RDSBK_COPY_BASE_MAX - 7 ? RDSBK_COPY_BASE_MAX - 7 : len, db);
}

/* ARN patterns of the system snapshots of `s` (in Region-A), or of their copies in `region` when
 * `copies` (no "rds:" and in Region-B): for EventBridge (`suffix` NULL: "-*") or for IAM (the
 * exact stamp, then `suffix`, "" or a backup copy's "-<account>"). A database "orders-db" has
 * snapshots "orders-db-<stamp>"; a pattern "billing-*" keeps its glob. */
static void s_snapshot_globs(struct s_builder *bd, cJSON *out, const struct rdsbk_source *s,
                             const char *account, const char *region, bool copies,
                             const char *suffix) {
    const struct {
        const char *kind;
        char *const *dbs;
        size_t n;
    } lists[] = {{"snapshot", s->instances, s->n_instances},
                 {"cluster-snapshot", s->clusters, s->n_clusters}};

    for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
        for (size_t i = 0; i < lists[l].n; i++) {
            const char *db = lists[l].dbs[i];
            bool glob = db[0] && db[strlen(db) - 1] == '*';
            char name[RDSBK_COPY_BASE_MAX + 64];
            bool named = copies && rdsbk_model_region_named(bd->topo, s, l == 1, db);

            s_copy_part(name, sizeof(name), db, copies, glob, named ? s->region : NULL);
            s_push_unique(bd, out,
                          s_fmt(bd, "arn:%s:rds:%s:%s:%s:%s%s%s%s", bd->p, region, account,
                                lists[l].kind, copies ? "" : "rds:", name,
                                glob     ? "*"
                                : suffix ? S_IAM_STAMP
                                         : S_EVENT_STAMP,
                                glob || !suffix ? "" : suffix));
        }
    }
}

/* The snapshots of `account` in Region-B as a whole: what listing them is authorised on, and
 * deleting those tagged as the stack's (retention). */
static cJSON *s_list_arns(struct s_builder *bd, const char *account) {
    cJSON *arns = s_array(bd);

    s_push_owned(bd, arns, s_fmt(bd, "arn:%s:rds:%s:%s:snapshot:*", bd->p, bd->rb, account));
    s_push_owned(bd, arns,
                 s_fmt(bd, "arn:%s:rds:%s:%s:cluster-snapshot:*", bd->p, bd->rb, account));
    return arns;
}

/* ---- one source account's Region-B side --------------------------------------------------- */

/* The sources of one account, joined: what the pieces of its Region-B side are made of. */
struct s_account {
    const char *id;
    char scope[64];      /* "account[<id>]" */
    cJSON *system_globs; /* its sources' system snapshots, each in its Region-A (EventBridge) */
    cJSON *copy_globs;   /* their copies in Region-B (EventBridge), the ARN's Region left open */
    cJSON *system_arns;  /* the same for IAM */
    cJSON *copy_arns;
    cJSON *instances; /* the database patterns, each once */
    cJSON *clusters;
};

static void s_account_init(struct s_builder *bd, struct s_account *a, const char *id) {
    const struct rdsbk_topology *t = bd->topo;

    a->id = id;
    snprintf(a->scope, sizeof(a->scope), "account[%s]", id);
    a->system_globs = s_array(bd);
    a->copy_globs = s_array(bd);
    a->system_arns = s_array(bd);
    a->copy_arns = s_array(bd);
    a->instances = s_array(bd);
    a->clusters = s_array(bd);
    for (size_t i = 0; i < t->n_sources; i++) {
        const struct rdsbk_source *s = &t->sources[i];
        if (strcmp(s->account, id) != 0)
            continue;
        s_snapshot_globs(bd, a->system_globs, s, id, s->region, false, NULL);
        /* any Region: RDS-EVENT-0060 may name the copy in an ARN of the source's Region, and
         * the rule in Region-B sees only Region-B's events anyway */
        s_snapshot_globs(bd, a->copy_globs, s, id, "*", true, NULL);
        s_snapshot_globs(bd, a->system_arns, s, id, s->region, false, "");
        s_snapshot_globs(bd, a->copy_arns, s, id, bd->rb, true, "");
        for (size_t j = 0; j < s->n_instances; j++)
            s_push_unique(bd, a->instances, s_strdup(bd, s->instances[j]));
        for (size_t j = 0; j < s->n_clusters; j++)
            s_push_unique(bd, a->clusters, s_strdup(bd, s->clusters[j]));
    }
}

static void s_account_clean_up(struct s_account *a) {
    cJSON_Delete(a->system_globs);
    cJSON_Delete(a->copy_globs);
    cJSON_Delete(a->system_arns);
    cJSON_Delete(a->copy_arns);
    cJSON_Delete(a->instances);
    cJSON_Delete(a->clusters);
}

/* The role EventBridge forwards with: to the account's own bus in Region-B (from Region-A), and
 * on to the stack's bus in the backup account. */
static void s_events_role(struct s_builder *bd, const struct s_account *a) {
    const struct s_place events = {a->scope, "events", a->id, "events", NULL};
    struct s_var vars[] = {{"forward_bus_arns", s_array(bd)}};
    struct s_var trust[] = {{"account", s_string_owned(bd, s_strdup(bd, a->id))},
                            {"rule_arns", s_array(bd)}};
    char *forward = s_name(bd, "forward");

    /* the rules that forward with it: each source's in its Region-A, and to_backup */
    for (size_t i = 0; forward && i < bd->topo->n_sources; i++)
        if (strcmp(bd->topo->sources[i].account, a->id) == 0)
            s_push_unique(bd, trust[1].value,
                          s_fmt(bd, "arn:%s:events:%s:%s:rule/%s", bd->p,
                                bd->topo->sources[i].region, a->id, forward));
    free(forward);
    s_push_owned(bd, trust[1].value,
                 s_arn(bd, &(const struct s_place){NULL, NULL, a->id, "to-backup", NULL},
                       RDSBK_RT_EVENTS_RULE));
    s_push_owned(bd, vars[0].value, s_bus_arn(bd, a->id));
    s_push_owned(bd, vars[0].value, s_backup_bus_arn(bd));
    s_role(bd, &events, s_template(bd, "policies/events-trust.json", trust, 2),
           "rdsbk: forwards snapshot events to Region-B and the backup account");
    s_role_policy(bd, &events, NULL, "rdsbk",
                  s_template(bd, "policies/events-forward-role.json", vars, 1), NULL);
}

/* The option groups the sources of `a` name (sources[].option_groups): the copy function's
 * RDSBK_OPTION_GROUPS ("<Region-A>/<pattern>=<group>,...") into `env`, and the groups' ARNs in
 * Region-B, which CopyDBSnapshot is authorised on too, into `arns`. */
static void s_option_groups(struct s_builder *bd, const struct s_account *a, cJSON *env,
                            cJSON *arns) {
    struct rdsbk_buf list = RDSBK_BUF_INIT;
    int rc = 0;

    for (size_t i = 0; i < bd->topo->n_sources; i++) {
        const struct rdsbk_source *s = &bd->topo->sources[i];
        for (size_t k = 0; !rc && strcmp(s->account, a->id) == 0 && k < s->n_option_groups; k++) {
            const struct rdsbk_tag *og = &s->option_groups[k];
            rc = rdsbk_buf_printf(&list, "%s%s/%s=%s", rdsbk_buf_len(&list) ? "," : "", s->region,
                                  og->key, og->value);
            if (arns)
                s_push_unique(bd, arns,
                              s_fmt(bd, "arn:%s:rds:%s:%s:og:%s", bd->p, bd->rb, a->id, og->value));
        }
    }
    s_fail(bd, rc);
    if (env && rdsbk_buf_len(&list))
        s_add_str(bd, env, "RDSBK_OPTION_GROUPS", rdsbk_buf_cstr(&list));
    rdsbk_buf_clean_up(&list);
}

/* The databases of the sources of `a` as the copy function reads them, under `key` in `env`:
 * "<Region-A>/<instance|cluster>/<pattern>,...". RDSBK_DATABASES: all of them (which snapshots
 * are the stack's, in which Region: the event path checks, the sweep lists them);
 * RDSBK_REGION_NAMED (`region_named`): those whose copies carry their Region's code
 * (rdsbk_model_region_named), absent when none do. */
static void s_database_list(struct s_builder *bd, const struct s_account *a, cJSON *env,
                            const char *key, bool region_named) {
    struct rdsbk_buf list = RDSBK_BUF_INIT;
    int rc = 0;

    for (size_t i = 0; i < bd->topo->n_sources; i++) {
        const struct rdsbk_source *s = &bd->topo->sources[i];
        for (size_t k = 0;
             !rc && strcmp(s->account, a->id) == 0 && k < s->n_instances + s->n_clusters; k++) {
            bool cluster = k >= s->n_instances;
            const char *db = cluster ? s->clusters[k - s->n_instances] : s->instances[k];
            if (!region_named || rdsbk_model_region_named(bd->topo, s, cluster, db))
                rc = rdsbk_buf_printf(&list, "%s%s/%s/%s", rdsbk_buf_len(&list) ? "," : "",
                                      s->region, cluster ? "cluster" : "instance", db);
        }
    }
    s_fail(bd, rc);
    if (rdsbk_buf_len(&list) || !region_named)
        s_add_str(bd, env, key, rdsbk_buf_cstr(&list));
    rdsbk_buf_clean_up(&list);
}

/* The snapshots of the sources of `a`, in each of their Regions-A and in Region-B: what the copy
 * function's sweep lists (to find snapshots without a copy, and copies in flight). */
static cJSON *s_copy_list_arns(struct s_builder *bd, const struct s_account *a) {
    cJSON *arns = s_list_arns(bd, a->id);

    for (size_t i = 0; i < bd->topo->n_sources; i++) {
        const struct rdsbk_source *s = &bd->topo->sources[i];
        if (strcmp(s->account, a->id) != 0)
            continue;
        s_push_unique(bd, arns, s_fmt(bd, "arn:%s:rds:%s:%s:snapshot:*", bd->p, s->region, a->id));
        s_push_unique(bd, arns,
                      s_fmt(bd, "arn:%s:rds:%s:%s:cluster-snapshot:*", bd->p, s->region, a->id));
    }
    return arns;
}

/* The customer-managed keys the sources of `a` declare (sources[].kms_keys), each once. */
static cJSON *s_source_keys(struct s_builder *bd, const struct s_account *a) {
    cJSON *keys = s_array(bd);

    for (size_t i = 0; i < bd->topo->n_sources; i++) {
        const struct rdsbk_source *s = &bd->topo->sources[i];
        for (size_t k = 0; strcmp(s->account, a->id) == 0 && k < s->n_kms_keys; k++)
            s_push_unique(bd, keys, s_strdup(bd, s->kms_keys[k]));
    }
    return keys;
}

/* Appends the statements of `template` to `policy` when its one variable `var` (taken over) is a
 * non-empty array: statements a topology setting adds. */
static void s_append_statements(struct s_builder *bd, cJSON *policy, const char *template,
                                struct s_var *var) {
    cJSON *more = NULL;
    const cJSON *it;

    if (cJSON_GetArraySize(var->value) > 0)
        more = s_template(bd, template, var, 1);
    else
        cJSON_Delete(var->value);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(more, "Statement")) {
        s_push(bd, cJSON_GetObjectItem(policy, "Statement"), s_dup(bd, it));
    }
    cJSON_Delete(more);
}

static cJSON *s_copy_policy(struct s_builder *bd, const struct s_account *a) {
    struct s_var vars[] = {{"copy_resource_arns", s_dup(bd, a->system_arns)},
                           {"key_arn", s_string_owned(bd, s_strdup(bd, S_KEY_ARN))},
                           {"list_arns", s_copy_list_arns(bd, a)}};
    struct s_var keys = {"source_key_arns", s_source_keys(bd, a)};
    struct s_var groups = {"option_group_arns", s_array(bd)};
    const cJSON *it;
    cJSON *policy;

    cJSON_ArrayForEach(it, a->copy_arns)
        s_push_owned(bd, vars[0].value, s_strdup(bd, it->valuestring));
    policy = s_template(bd, "policies/copy-role.json", vars, 3);
    /* a cross-Region copy reads the source snapshot with its key: those the sources name */
    s_append_statements(bd, policy, "policies/copy-role-source-keys.json", &keys);
    /* and a copy of a database with a non-default option group names one of Region-B */
    s_option_groups(bd, a, NULL, groups.value);
    s_append_statements(bd, policy, "policies/copy-role-option-groups.json", &groups);
    return policy;
}

/* The copy function: a source's system snapshot was created (the event forwarded from Region-A),
 * and is copied into Region-B, encrypted with the shared key. */
static void s_copy_function(struct s_builder *bd, const struct s_account *a) {
    const struct s_place copy = {a->scope, "copy", a->id, "copy", NULL};
    const struct s_lambda fn = {
        .role_description = "rdsbk: copies system snapshots into Region-B",
        .policy = s_copy_policy(bd, a),
        .environment = s_env(bd),
        .key_dep = S_KEY_ADDR,
        .rule_description =
            "rdsbk: system snapshot created (forwarded from Region-A) -> copy into Region-B",
        .pattern = s_rds_pattern(bd, s_created_events, 2, a->system_globs),
    };

    s_add_str(bd, fn.environment, "RDSBK_KMS_KEY_ARN", S_KEY_ARN);
    s_database_list(bd, a, fn.environment, "RDSBK_DATABASES", false);
    s_option_groups(bd, a, fn.environment, NULL);
    s_database_list(bd, a, fn.environment, "RDSBK_REGION_NAMED", true);
    /* the sweep copies only what retention would not delete again at once */
    s_add_retention(bd, fn.environment, bd->topo->retention.intermediate_days);
    s_lambda_function(bd, &copy, &fn);
}

/* The copy sweep: events are best-effort and a copy refused for the cross-Region copy limit is
 * left for later, so every half hour the copy function copies the sources' system snapshots that
 * have no copy in Region-B yet, as many as the limit leaves room for. */
static void s_copy_sweep(struct s_builder *bd, const struct s_account *a) {
    const struct s_place sweep = {a->scope, "copy_sweep", a->id, "copy-sweep", NULL};
    const struct s_place copy = {a->scope, "copy", a->id, "copy", NULL};

    s_scheduled(bd, &sweep, &copy, "rate(30 minutes)",
                "rdsbk: every 30 minutes, copy system snapshots whose event never came or whose "
                "copy had to wait for the cross-Region copy limit");
}

static cJSON *s_share_policy(struct s_builder *bd, const struct s_account *a) {
    struct s_var vars[] = {{"copy_arns", s_dup(bd, a->copy_arns)},
                           {"own_bus_arn", s_string_owned(bd, s_bus_arn(bd, a->id))},
                           {"list_arns", s_list_arns(bd, a->id)},
                           {"stack", s_string_owned(bd, s_strdup(bd, bd->topo->stack))}};

    return s_template(bd, "policies/share-role.json", vars, 4);
}

/* The share function: a copy into Region-B finished, and is shared with the backup account,
 * which hears of it by our "snapshot shared" event. */
static void s_share_function(struct s_builder *bd, const struct s_account *a) {
    const struct s_place share = {a->scope, "share", a->id, "share", NULL};
    const struct s_lambda fn = {
        .role_description = "rdsbk: shares Region-B copies with the backup account",
        .policy = s_share_policy(bd, a),
        .environment = s_env(bd),
        .rule_description = "rdsbk: copy into Region-B finished -> share with the backup account",
        .pattern = s_rds_pattern(bd, s_copied_events, 1, a->copy_globs),
    };

    s_add_event_source(bd, fn.environment);
    s_add_retention(bd, fn.environment, bd->topo->retention.intermediate_days);
    s_lambda_function(bd, &share, &fn);
}

/* The sweep: RDS documents no copy-finished event for cluster snapshots, and events are
 * best-effort, so every half hour the share function looks for copies still unshared; then it
 * deletes the copies past retention. */
static void s_sweep(struct s_builder *bd, const struct s_account *a) {
    const struct s_place sweep = {a->scope, "sweep", a->id, "sweep", NULL};
    const struct s_place share = {a->scope, "share", a->id, "share", NULL};

    s_scheduled(bd, &sweep, &share, "rate(30 minutes)",
                "rdsbk: every 30 minutes, share copies whose copy-finished event never came, "
                "delete copies past retention");
}

/* Our "snapshot shared" events go on to the stack's bus in the backup account, once it exists and
 * admits this account. */
static void s_to_backup(struct s_builder *bd, const struct s_account *a) {
    const struct s_place to_backup = {a->scope, "to_backup", a->id, "to-backup", NULL};

    s_rule(bd, &to_backup, bd->rb, "rdsbk: snapshot shared -> forward to the backup account",
           s_shared_pattern(bd, s_alloc(bd, cJSON_CreateStringArray(&a->id, 1))), NULL);
    s_bus_target(bd, &to_backup, bd->rb, s_backup_bus_arn(bd), s_strdup(bd, S_BACKUP_BUS_ADDR));
}

/* The Region-B side of one source account, shared by its sources in every Region-A. */
static void s_account_side(struct s_builder *bd, const char *id) {
    struct s_account a;

    s_account_init(bd, &a, id);
    s_events_role(bd, &a);
    s_copy_function(bd, &a);
    s_copy_sweep(bd, &a);
    s_share_function(bd, &a);
    s_sweep(bd, &a);
    s_to_backup(bd, &a);
    s_account_clean_up(&a);
}

/* The forwarding rule of one source, in its own Region-A: creation events of its databases' system
 * snapshots go to the account's bus in Region-B. */
static void s_forward(struct s_builder *bd, const struct rdsbk_source *s) {
    char scope[64];
    const struct s_place forward = {scope, "forward", s->account, "forward", NULL};
    cJSON *globs = s_array(bd);

    snprintf(scope, sizeof(scope), "source[%s/%s]", s->account, s->region);
    s_snapshot_globs(bd, globs, s, s->account, s->region, false, NULL);
    s_rule(bd, &forward, s->region, "rdsbk: system snapshot created -> forward to Region-B",
           s_rds_pattern(bd, s_created_events, 2, globs), NULL);
    /* Forwarding starts only once the Region-B side can take the event. */
    s_bus_target(bd, &forward, s->region, s_bus_arn(bd, s->account),
                 s_fmt(bd, "account[%s].events_target.copy", s->account));
    cJSON_Delete(globs);
}

/* ---- the backup side --------------------------------------------------------------------- */

/* The ARN pattern of the stack's role of `purpose` in every account of the organisation. */
static char *s_org_role_pattern(struct s_builder *bd, const char *purpose) {
    char *name = s_name(bd, purpose);
    char *arn = name ? s_fmt(bd, "arn:%s:iam::*:role/%s", bd->p, name) : NULL;

    free(name);
    return arn;
}

/* The organisation the sources are accounts of (backup.organization_id), or NULL. */
static cJSON *s_org_id(struct s_builder *bd) {
    return s_string_owned(bd, s_strdup(bd, bd->topo->backup.organization_id));
}

/* The shared key: its policy names the source accounts' copy roles, which must exist; in an
 * organisation, the stack's copy role of any of its accounts. */
static void s_key(struct s_builder *bd, const cJSON *accounts) {
    const struct rdsbk_key_settings *key = &bd->topo->key;
    bool org = bd->topo->backup.organization_id != NULL;
    struct s_var vars[] = {
        {"backup_root_arn", s_string_owned(bd, s_fmt(bd, "arn:%s:iam::%s:root", bd->p, bd->b))},
        {"key_policy_id", s_string_owned(bd, s_fmt(bd, "rdsbk-%s", bd->topo->stack))},
        {"copy_role_arns", NULL},
        {"organization_id", NULL}};
    cJSON *d = s_object(bd);
    const cJSON *acct;
    struct rdsbk_resource *r;

    if (org) {
        vars[2] =
            (struct s_var){"copy_role_pattern", s_string_owned(bd, s_org_role_pattern(bd, "copy"))};
        vars[3].value = s_org_id(bd);
    } else {
        vars[2].value = s_array(bd);
        cJSON_ArrayForEach(acct, accounts) {
            const struct s_place copy = {NULL, "copy", acct->valuestring, "copy", NULL};
            s_push_owned(bd, vars[2].value, s_arn(bd, &copy, RDSBK_RT_IAM_ROLE));
        }
    }
    s_add_owned(
        bd, d, "description",
        s_fmt(bd, "rdsbk %s: encrypts the backup copies of RDS snapshots", bd->topo->stack));
    s_add(bd, d, "multi_region", cJSON_CreateBool(key->multi_region));
    s_add(bd, d, "policy",
          s_template(bd, org ? "policies/key-policy-org.json" : "policies/key-policy.json", vars,
                     org ? 4 : 3));
    s_add_num(bd, d, "deletion_window_days", key->deletion_window_days);
    s_add(bd, d, "prevent_destroy", cJSON_CreateBool(key->prevent_destroy));
    s_add(bd, d, "tags", s_tags(bd));
    r = s_resource(bd, s_strdup(bd, S_KEY_ADDR), RDSBK_RT_KMS_KEY, bd->b, bd->rb,
                   s_strdup(bd, key->alias), d);
    cJSON_ArrayForEach(acct, (org ? NULL : accounts)) {
        s_depend(bd, r, s_fmt(bd, "account[%s].iam_role.copy", acct->valuestring));
    }
}

static void s_key_alias(struct s_builder *bd) {
    const char *alias = bd->topo->key.alias;
    cJSON *d = s_object(bd);
    struct rdsbk_resource *r;

    s_add_str(bd, d, "name", alias);
    s_add_str(bd, d, "target_key_id", "${" S_KEY_ADDR "#key_id}");
    r = s_resource(bd, s_strdup(bd, "backup.kms_alias.shared"), RDSBK_RT_KMS_ALIAS, bd->b, bd->rb,
                   s_strdup(bd, alias), d);
    s_depend(bd, r, s_strdup(bd, S_KEY_ADDR));
}

/* The stack's bus in the backup account: its policy admits the source accounts' "snapshot
 * shared" events (the stack's source and detail-type), no other event of theirs; in an
 * organisation, those of any of its accounts, in one statement. */
static void s_backup_bus(struct s_builder *bd, const cJSON *accounts) {
    bool org = bd->topo->backup.organization_id != NULL;
    struct s_var vars[] = {
        {"bus_arn", s_string_owned(bd, s_backup_bus_arn(bd))},
        {"event_source", s_string_owned(bd, s_strdup(bd, bd->event_source))},
        {"detail_type", s_string_owned(bd, s_strdup(bd, RDSBK_EVENT_DETAIL_TYPE))},
        {org ? "organization_id" : "source_root_arns", org ? s_org_id(bd) : s_array(bd)}};
    cJSON *d = s_object(bd);
    char *name = s_name(bd, S_BUS);
    const cJSON *acct;

    cJSON_ArrayForEach(acct, (org ? NULL : accounts)) {
        s_push_owned(bd, vars[3].value, s_fmt(bd, "arn:%s:iam::%s:root", bd->p, acct->valuestring));
    }
    s_add_str(bd, d, "name", name);
    s_add(bd, d, "policy",
          s_template(
              bd, org ? "policies/backup-bus-policy-org.json" : "policies/backup-bus-policy.json",
              vars, 4));
    s_add(bd, d, "tags", s_tags(bd));
    s_resource(bd, s_strdup(bd, S_BACKUP_BUS_ADDR), RDSBK_RT_EVENTS_BUS, bd->b, bd->rb, name, d);
}

/* The account the backup side names for source `s`: its own, or "*" in an organisation (any of
 * its accounts: the backup side does not change when one joins). */
static const char *s_source_account(const struct s_builder *bd, const struct rdsbk_source *s) {
    return bd->topo->backup.organization_id ? "*" : s->account;
}

static cJSON *s_backup_copy_policy(struct s_builder *bd) {
    const struct rdsbk_topology *t = bd->topo;
    struct s_var vars[] = {{"backup_copy_resource_arns", s_array(bd)},
                           {"key_arn", s_string_owned(bd, s_strdup(bd, S_KEY_ARN))},
                           {"list_arns", s_list_arns(bd, bd->b)},
                           {"stack", s_string_owned(bd, s_strdup(bd, t->stack))}};

    for (size_t i = 0; i < t->n_sources; i++) {
        /* shared copies in A/Region-B, and the backup copies made of them in B/Region-B, whose
         * names end with the source account (in an organisation: any of its accounts) */
        const char *account = s_source_account(bd, &t->sources[i]);
        char suffix[RDSBK_ACCOUNT_LEN + 2];

        snprintf(suffix, sizeof(suffix), "-%s", account[0] == '*' ? "????????????" : account);
        s_snapshot_globs(bd, vars[0].value, &t->sources[i], account, bd->rb, true, "");
        s_snapshot_globs(bd, vars[0].value, &t->sources[i], bd->b, bd->rb, true, suffix);
    }
    return s_template(bd, "policies/backup-copy-role.json", vars, 4);
}

/* RDSBK_SHARED_GLOBS of the backup-copy function: the copies in the source accounts' Region-B
 * that it copies, "<account>:<snapshot|cluster-snapshot>:<name glob>,..." (the glob as IAM's:
 * '?' one character, '*' any), so that its sweep tries only the stack's among the snapshots
 * shared with it. */
static void s_shared_globs(struct s_builder *bd, cJSON *env) {
    const struct rdsbk_topology *t = bd->topo;
    char *prefix = s_fmt(bd, "arn:%s:rds:%s:", bd->p, bd->rb);
    cJSON *arns = s_array(bd);
    cJSON *globs = s_array(bd);
    const cJSON *it;

    for (size_t i = 0; i < t->n_sources; i++)
        s_snapshot_globs(bd, arns, &t->sources[i], s_source_account(bd, &t->sources[i]), bd->rb,
                         true, "");
    cJSON_ArrayForEach(it, arns) {
        if (prefix && strncmp(it->valuestring, prefix, strlen(prefix)) == 0)
            s_push_owned(bd, globs, s_strdup(bd, it->valuestring + strlen(prefix)));
    }
    s_add_joined(bd, env, "RDSBK_SHARED_GLOBS", globs);
    cJSON_Delete(arns);
    cJSON_Delete(globs);
    free(prefix);
}

/* The backup-copy function: a source account shared a copy, which is copied into the backup
 * account, encrypted with the shared key. In an organisation, from any of its accounts: the bus
 * admits none other, and the source accounts are "*" to the function. */
static void s_backup_copy_function(struct s_builder *bd, const cJSON *accounts) {
    const struct s_place backup_copy = {"backup", "backup_copy", bd->b, "backup-copy", S_BUS};
    bool org = bd->topo->backup.organization_id != NULL;
    cJSON *any = org ? s_alloc(bd, cJSON_CreateStringArray((const char *[]){"*"}, 1)) : NULL;
    const struct s_lambda fn = {
        .role_description = "rdsbk: copies shared snapshots into the backup account",
        .policy = s_backup_copy_policy(bd),
        .environment = s_env(bd),
        .key_dep = S_KEY_ADDR,
        .rule_description =
            "rdsbk: snapshot shared by a source account -> copy into the backup account",
        .pattern = s_shared_pattern(bd, org ? NULL : s_dup(bd, accounts)),
    };

    s_add_str(bd, fn.environment, "RDSBK_KMS_KEY_ARN", S_KEY_ARN);
    s_add_joined(bd, fn.environment, "RDSBK_SOURCE_ACCOUNTS", org ? any : accounts);
    cJSON_Delete(any);
    s_add_event_source(bd, fn.environment);
    s_add_retention(bd, fn.environment, bd->topo->retention.backup_days);
    s_shared_globs(bd, fn.environment);
    /* its sweep reports a database whose newest backup copy is older than alerts.max_age */
    s_add_owned(bd, fn.environment, "RDSBK_ALERT_MAX_AGE_S",
                s_fmt(bd, "%lld", bd->topo->alerts.max_age_s));
    s_lambda_function(bd, &backup_copy, &fn);
}

/* Every half hour the backup-copy function copies the snapshots shared with it whose "snapshot
 * shared" event never came, then deletes the backup copies past retention. */
static void s_prune(struct s_builder *bd) {
    const struct s_place prune = {"backup", "prune", bd->b, "prune", NULL};
    const struct s_place backup_copy = {"backup", "backup_copy", bd->b, "backup-copy", NULL};

    s_scheduled(bd, &prune, &backup_copy, "rate(30 minutes)",
                "rdsbk: every 30 minutes, copy shared snapshots whose announcement never came, "
                "delete backup copies past retention");
}

/* The stack's alert topic in the backup account, whose policy admits the functions' roles (which
 * must exist first: SNS checks a policy's principals). */
static void s_alert_topic(struct s_builder *bd, const cJSON *accounts) {
    static const char *const purposes[] = {"copy", "share"};
    const struct s_place backup_copy = {NULL, NULL, bd->b, "backup-copy", NULL};
    bool org = bd->topo->backup.organization_id != NULL;
    struct s_var vars[] = {{"publisher_role_arns", s_array(bd)},
                           {"topic_arn", s_string_owned(bd, s_alert_topic_arn(bd))},
                           {"organization_id", org ? s_org_id(bd) : NULL},
                           {"source_role_patterns", org ? s_array(bd) : NULL}};
    cJSON *d = s_object(bd);
    char *name = s_name(bd, S_ALERTS);
    struct rdsbk_resource *topic;
    const cJSON *acct;

    for (size_t i = 0; org && i < sizeof(purposes) / sizeof(purposes[0]); i++)
        s_push_owned(bd, vars[3].value, s_org_role_pattern(bd, purposes[i]));
    cJSON_ArrayForEach(acct, (org ? NULL : accounts)) {
        for (size_t i = 0; i < sizeof(purposes) / sizeof(purposes[0]); i++) {
            const struct s_place role = {NULL, NULL, acct->valuestring, purposes[i], NULL};
            s_push_owned(bd, vars[0].value, s_arn(bd, &role, RDSBK_RT_IAM_ROLE));
        }
    }
    s_push_owned(bd, vars[0].value, s_arn(bd, &backup_copy, RDSBK_RT_IAM_ROLE));
    s_add_str(bd, d, "name", name);
    s_add(bd, d, "policy",
          s_template(bd,
                     org ? "policies/alerts-topic-policy-org.json"
                         : "policies/alerts-topic-policy.json",
                     vars, org ? 4 : 2));
    s_add(bd, d, "tags", s_tags(bd));
    topic = s_resource(bd, s_fmt(bd, "backup.sns_topic.%s", S_ALERTS), RDSBK_RT_SNS_TOPIC, bd->b,
                       bd->rb, name, d);
    cJSON_ArrayForEach(acct, (org ? NULL : accounts)) {
        s_depend(bd, topic, s_fmt(bd, "account[%s].iam_role.copy", acct->valuestring));
        s_depend(bd, topic, s_fmt(bd, "account[%s].iam_role.share", acct->valuestring));
    }
    s_depend(bd, topic, s_strdup(bd, "backup.iam_role.backup_copy"));
}

/* Where the functions report what fails: the stack's topic unless the topology names its own
 * (alerts.sns_topic_arn), and each alerts.emails address subscribed to it. */
static void s_alerts(struct s_builder *bd, const cJSON *accounts) {
    const struct rdsbk_alerts *alerts = &bd->topo->alerts;

    if (!alerts->sns_topic_arn)
        s_alert_topic(bd, accounts);
    for (size_t i = 0; i < alerts->n_emails; i++) {
        cJSON *d = s_object(bd);
        struct rdsbk_resource *r;

        s_add_owned(bd, d, "topic_arn", s_alert_topic_arn(bd));
        s_add_str(bd, d, "protocol", "email");
        s_add_str(bd, d, "endpoint", alerts->emails[i]);
        r = s_resource(bd, s_fmt(bd, "backup.sns_subscription[%s]", alerts->emails[i]),
                       RDSBK_RT_SNS_SUBSCRIPTION, bd->b, bd->rb, s_strdup(bd, alerts->emails[i]),
                       d);
        if (!alerts->sns_topic_arn)
            s_depend(bd, r, s_fmt(bd, "backup.sns_topic.%s", S_ALERTS));
    }
}

/* ---- OU sources ---------------------------------------------------------------------------- */

/* The source side of OU source `ou` in every account of it: a StackSet of its template in the
 * account that administers it, deployed in Region-B first, then in each Region-A; the functions'
 * code in its code bucket. It needs the backup side its template names: the key (a parameter),
 * the bus and the alert topic. */
static void s_stack_set(struct s_builder *bd, const struct rdsbk_source *ou) {
    static const char *const packages[] = {"copy", "share"};
    cJSON *d = s_object(bd);
    cJSON *params = s_object(bd);
    cJSON *regions = s_array(bd);
    cJSON *keys = s_object(bd);
    cJSON *template = NULL;
    char *key = NULL;
    char *name = s_alloc(bd, rdsbk_model_stack_set_name(bd->topo->stack, ou->ou));
    struct rdsbk_resource *r;

    s_fail(bd, bd->rc ? 0 : rdsbk_cfn_source_template(&template, bd->orig, ou, ou->code_bucket));
    s_add_str(bd, params, "SharedKeyArn", S_KEY_ARN);
    s_add_str(bd, params, "CodeBucket", ou->code_bucket);
    s_push_owned(bd, regions, s_strdup(bd, bd->rb));
    for (size_t i = 0; i < ou->n_regions; i++)
        s_push_owned(bd, regions, s_strdup(bd, ou->regions[i]));
    for (size_t i = 0; i < sizeof(packages) / sizeof(packages[0]) && !bd->rc; i++) {
        s_fail(bd, rdsbk_cfn_code_key(&key, bd->topo->stack, packages[i]));
        s_add_owned(bd, keys, packages[i], key);
    }
    s_add_str(bd, d, "name", name);
    s_add_owned(bd, d, "description",
                s_fmt(bd, "rdsbk %s: the source side of the pipeline in every account of %s",
                      bd->topo->stack, ou->ou));
    s_add(bd, d, "template", s_alloc(bd, template));
    s_add(bd, d, "parameters", params);
    s_add_str(bd, d, "ou", ou->ou);
    s_add(bd, d, "regions", regions);
    s_add_str(bd, d, "code_bucket", ou->code_bucket);
    s_add(bd, d, "code_keys", keys);
    s_add(bd, d, "tags", s_tags(bd));
    r = s_resource(bd, s_fmt(bd, "ou[%s].cfn_stack_set.source", ou->ou), RDSBK_RT_CFN_STACK_SET,
                   ou->account, bd->rb, name, d);
    s_depend(bd, r, s_strdup(bd, S_KEY_ADDR));
    s_depend(bd, r, s_strdup(bd, S_BACKUP_BUS_ADDR));
    if (!bd->topo->alerts.sns_topic_arn)
        s_depend(bd, r, s_fmt(bd, "backup.sns_topic.%s", S_ALERTS));
}

/* ---- the graph --------------------------------------------------------------------------- */

static int s_cmp_resource(const void *a, const void *b) {
    return strcmp(((const struct rdsbk_resource *)a)->address,
                  ((const struct rdsbk_resource *)b)->address);
}

/* Whether the graph has the source side of `s`: an account source's, or a stand-in's in a
 * template's graph. */
static bool s_built_here(const struct s_builder *bd, const struct rdsbk_source *s) {
    return !s->ou || bd->stand_ins;
}

/* Every piece of the pipeline, for the source accounts `accounts`. */
static void s_pipeline(struct s_builder *bd, const cJSON *accounts) {
    const cJSON *acct;

    cJSON_ArrayForEach(acct, accounts) {
        s_account_side(bd, acct->valuestring);
    }
    for (size_t i = 0; i < bd->topo->n_sources; i++)
        if (s_built_here(bd, &bd->topo->sources[i]))
            s_forward(bd, &bd->topo->sources[i]);
    s_key(bd, accounts);
    s_key_alias(bd);
    s_backup_bus(bd, accounts);
    s_backup_copy_function(bd, accounts);
    s_prune(bd);
    s_alerts(bd, accounts);
    for (size_t i = 0; !bd->stand_ins && i < bd->orig->n_ou_sources; i++)
        s_stack_set(bd, &bd->orig->ou_sources[i]);
}

/* The graph of the view of `topo` with `only` (rdsbk_model_view); `only` set, a template's: the
 * stand-ins' source side too. */
static int s_build(struct rdsbk_graph **out, const struct rdsbk_topology *topo,
                   const struct rdsbk_source *only) {
    struct rdsbk_topology *view = NULL;
    struct s_builder bd = {.rb = topo->backup.region, .b = topo->backup.account};
    cJSON *accounts = NULL;
    int rc;

    *out = NULL;
    rdsbk_error_clear();
    RDSBK_TRY(rdsbk_model_view(&view, topo, only));
    bd.topo = view;
    bd.orig = topo;
    bd.stand_ins = only != NULL;
    bd.g = calloc(1, sizeof(*bd.g));
    RDSBK_CHECK_ALLOC(bd.g);
    bd.g->bus_policy_quota = topo->backup.bus_policy_quota;
    RDSBK_TRY(rdsbk_strdup_into(&bd.g->stack, topo->stack));
    RDSBK_TRY(rdsbk_strdup_into(&bd.g->partition, rdsbk_region_partition(topo->backup.region)));
    RDSBK_TRY(rdsbk_strdup_into(&bd.g->region, topo->backup.region));
    RDSBK_TRY(rdsbk_model_estimate_snapshots(bd.g, topo));
    RDSBK_TRY(rdsbk_strfmt(&bd.event_source, "rdsbk.%s", topo->stack));
    bd.p = bd.g->partition;
    accounts = s_array(&bd);
    for (size_t i = 0; i < view->n_sources; i++)
        if (s_built_here(&bd, &view->sources[i]))
            s_push_unique(&bd, accounts, s_strdup(&bd, view->sources[i].account));
    s_pipeline(&bd, accounts);
    if (bd.rc) {
        rdsbk_error_restore(&bd.error);
        rc = bd.rc;
        goto cleanup;
    }
    qsort(bd.g->resources, bd.g->n_resources, sizeof(*bd.g->resources), s_cmp_resource);
    *out = bd.g;
    bd.g = NULL;

cleanup:
    cJSON_Delete(accounts);
    free(bd.event_source);
    rdsbk_graph_free(bd.g);
    rdsbk_model_view_free(view);
    return rc;
}

int rdsbk_model_build(struct rdsbk_graph **out, const struct rdsbk_topology *topo) {
    return s_build(out, topo, NULL);
}

int rdsbk_model_build_source(struct rdsbk_graph **out, const struct rdsbk_topology *topo,
                             const struct rdsbk_source *source) {
    return s_build(out, topo, source);
}
