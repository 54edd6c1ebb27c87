/*
 * AWS's size quotas on the documents of the resource graph. Documents grow with the sources and
 * their databases, and AWS enforces its quotas when they are written: past one, a write fails
 * half-way through an apply, so the build refuses the pipeline first, naming the document.
 */
#include "rdsbk/error.h"
#include "rdsbk/json_util.h"
#include "rdsbk/model.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Sizes as stored (compact JSON; IAM does not count whitespace either), each reference (the key's
 * ARN, known at apply) counted at S_REF_MAX, longer than what it stands for. A source's copy role
 * names four snapshot patterns per database of that source (about 290 characters a database,
 * each pattern with the exact stamp: about 31 databases), the backup-copy role two per database
 * of every source (about 166: about 48 databases in all).
 */
#define S_REF_MAX 128

struct s_quota {
    enum rdsbk_resource_type type;
    const char *attribute;
    bool variables; /* a Lambda environment: its keys and values, not its JSON */
    size_t max;
    const char *what;
    const char *hint;
};

static const struct s_quota s_quotas[] = {
    {RDSBK_RT_IAM_ROLE_POLICY, "policy", false, 10240, "IAM allows a role's inline policies",
     "list the databases with fewer, broader patterns (billing-*), or split the sources between "
     "stacks"},
    {RDSBK_RT_EVENTS_RULE, "event_pattern", false, 4096, "EventBridge allows an event pattern",
     "list the databases with fewer, broader patterns (billing-*)"},
    {RDSBK_RT_LAMBDA_FUNCTION, "environment", true, 4096,
     "Lambda allows a function's environment variables",
     "list the databases with fewer, broader patterns (billing-*), or split the sources between "
     "stacks"},
    {RDSBK_RT_KMS_KEY, "policy", false, 32768, "KMS allows a key policy",
     "split the sources between stacks"},
};

/* Characters of `text`, each ${...} reference counted at S_REF_MAX. */
static size_t s_stored_size(const char *text) {
    size_t size = strlen(text);
    const char *open = text;

    while ((open = strstr(open, "${")) != NULL) {
        const char *close = strchr(open, '}');
        if (!close)
            break;
        size = size - (size_t)(close + 1 - open) + S_REF_MAX;
        open = close + 1;
    }
    return size;
}

/* The size of r's document `q->attribute` as stored, in *size_out. */
static int s_size(size_t *size_out, const struct rdsbk_resource *r, const struct s_quota *q) {
    const cJSON *doc = cJSON_GetObjectItemCaseSensitive(r->desired, q->attribute);
    char *text = NULL;
    int rc = 0;

    *size_out = 0;
    if (!doc)
        return 0;
    if (q->variables) {
        const cJSON *v;
        cJSON_ArrayForEach(v, doc) {
            *size_out +=
                strlen(v->string) + (cJSON_IsString(v) ? s_stored_size(v->valuestring) : 0);
        }
        return 0;
    }
    RDSBK_TRY(rdsbk_json_text(&text, doc));
    *size_out = s_stored_size(text);

cleanup:
    free(text);
    return rc;
}

/* Whether `a` and `b` are inline policies of one role: IAM's quota is on a role's inline
 * policies together. */
static bool s_same_role(const struct rdsbk_resource *a, const struct rdsbk_resource *b) {
    const char *role_a = cJSON_GetStringValue(cJSON_GetObjectItem(a->desired, "role_name"));
    const char *role_b = cJSON_GetStringValue(cJSON_GetObjectItem(b->desired, "role_name"));

    return a != b && a->type == RDSBK_RT_IAM_ROLE_POLICY && b->type == RDSBK_RT_IAM_ROLE_POLICY &&
           role_a && role_b && strcmp(a->account, b->account) == 0 && strcmp(role_a, role_b) == 0;
}

/* Adds to *others the sizes of the inline policies of the role of resource `at` that are its
 * neighbours in direction `step` (+1 or -1) within its scope: a role's policies are all in one
 * scope, "<scope>.iam_role_policy.", next to each other in the graph, which is sorted by
 * address. */
static int s_add_siblings(size_t *others, const struct rdsbk_graph *g, size_t at, size_t scope,
                          const struct s_quota *q, long step) {
    const struct rdsbk_resource *r = &g->resources[at];
    int rc = 0;

    for (long i = (long)at + step; i >= 0 && (size_t)i < g->n_resources &&
                                   strncmp(g->resources[i].address, r->address, scope) == 0;
         i += step) {
        size_t one;
        if (!s_same_role(r, &g->resources[i]))
            continue;
        RDSBK_TRY(s_size(&one, &g->resources[i], q));
        *others += one;
    }

cleanup:
    return rc;
}

/* 0, or RDSBK_EINVALID (RDSBK_ENOMEM) with the error set: the document of resource `at`, with
 * the other inline policies of its role for a role policy. */
static int s_check_size(const struct rdsbk_graph *g, size_t at, const struct s_quota *q) {
    const struct rdsbk_resource *r = &g->resources[at];
    const char *type = strstr(r->address, ".iam_role_policy.");
    size_t size = 0;
    size_t others = 0;
    int rc;

    RDSBK_TRY(s_size(&size, r, q));
    if (r->type == RDSBK_RT_IAM_ROLE_POLICY && type) {
        size_t scope = (size_t)(type - r->address) + strlen(".iam_role_policy.");
        RDSBK_TRY(s_add_siblings(&others, g, at, scope, q, -1));
        RDSBK_TRY(s_add_siblings(&others, g, at, scope, q, +1));
    }
    if (size + others > q->max)
        rc = rdsbk_error_set(
            RDSBK_EINVALID, "%s: its %s would be %zu characters%s; %s %zu at most: %s", r->address,
            q->attribute, size + others, others ? " with the role's other inline policies" : "",
            q->what, q->max, q->hint);

cleanup:
    return rc;
}

/*
 * The stack's bus in the backup account admits every source account in one statement, an
 * account's root ARN a principal ("arn:aws:iam::<account>:root", 33 characters with its quotes
 * and comma): about 300 source accounts under EventBridge's default "Event bus policy size" of
 * 10,240 (adjustable: backup.bus_policy_quota). The policy is the stack's alone: no other
 * statement shares the quota.
 */
static int s_check_bus_policy(const struct rdsbk_graph *g, const struct rdsbk_resource *r) {
    const cJSON *policy = cJSON_GetObjectItemCaseSensitive(r->desired, "policy");
    const cJSON *statement = cJSON_GetArrayItem(cJSON_GetObjectItem(policy, "Statement"), 0);
    const cJSON *roots = cJSON_GetObjectItem(cJSON_GetObjectItem(statement, "Principal"), "AWS");
    char *text = NULL;
    size_t size;
    int rc;

    RDSBK_TRY(rdsbk_json_text(&text, policy));
    size = s_stored_size(text);
    if (size > (size_t)g->bus_policy_quota)
        rc = rdsbk_error_set(
            RDSBK_EINVALID,
            "%s: %d source accounts make the backup account's event bus policy %zu characters; "
            "EventBridge's \"Event bus policy size\" is %d: raise it in Service Quotas and set "
            "backup.bus_policy_quota, or split the sources between stacks",
            r->address, cJSON_IsArray(roots) ? cJSON_GetArraySize(roots) : 1, size,
            g->bus_policy_quota);

cleanup:
    free(text);
    return rc;
}

/* Retention's manual snapshots within RDS's quota in each place (the first one past it named). */
static int s_check_snapshots(const struct rdsbk_graph *g) {
    for (size_t i = 0; i < g->n_snapshots; i++) {
        const struct rdsbk_snapshot_estimate *e = &g->snapshots[i];
        int estimate = e->databases * e->per_database;

        if (estimate > e->quota)
            return rdsbk_error_set(
                RDSBK_EINVALID,
                "account %s in %s: retention would keep about %d manual snapshots (%d databases "
                "x %d, from %s and retention.keep_last), past RDS's %s quota of %d: keep fewer "
                "days, or raise the quota in Service Quotas and declare it as %s",
                e->account, e->region, estimate, e->databases, e->per_database, e->setting,
                e->quota_name, e->quota, e->quota_setting);
    }
    return 0;
}

int rdsbk_model_check_quotas(const struct rdsbk_graph *g) {
    int rc = 0;

    for (size_t i = 0; i < g->n_resources; i++)
        for (size_t k = 0; k < sizeof(s_quotas) / sizeof(s_quotas[0]); k++)
            if (g->resources[i].type == s_quotas[k].type)
                RDSBK_TRY(s_check_size(g, i, &s_quotas[k]));
    for (size_t i = 0; i < g->n_resources; i++)
        if (g->resources[i].type == RDSBK_RT_EVENTS_BUS)
            RDSBK_TRY(s_check_bus_policy(g, &g->resources[i]));
    rc = s_check_snapshots(g);

cleanup:
    return rc;
}
