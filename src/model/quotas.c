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

/* 0, or RDSBK_EINVALID (RDSBK_ENOMEM) with the error set. */
static int s_check_size(const struct rdsbk_resource *r, const struct s_quota *q) {
    const cJSON *doc = cJSON_GetObjectItemCaseSensitive(r->desired, q->attribute);
    char *text = NULL;
    size_t size = 0;
    int rc = 0;

    if (!doc)
        return 0;
    if (q->variables) {
        const cJSON *v;
        cJSON_ArrayForEach(v, doc) {
            size += strlen(v->string) + (cJSON_IsString(v) ? s_stored_size(v->valuestring) : 0);
        }
    } else {
        RDSBK_TRY(rdsbk_json_text(&text, doc));
        size = s_stored_size(text);
    }
    if (size > q->max)
        rc = rdsbk_error_set(RDSBK_EINVALID,
                             "%s: its %s would be %zu characters; %s %zu at most: %s", r->address,
                             q->attribute, size, q->what, q->max, q->hint);

cleanup:
    free(text);
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
                RDSBK_TRY(s_check_size(&g->resources[i], &s_quotas[k]));
    for (size_t i = 0; i < g->n_resources; i++)
        if (g->resources[i].type == RDSBK_RT_EVENTS_BUS)
            RDSBK_TRY(s_check_bus_policy(g, &g->resources[i]));
    rc = s_check_snapshots(g);

cleanup:
    return rc;
}
