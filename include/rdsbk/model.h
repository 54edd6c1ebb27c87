#ifndef RDSBK_MODEL_H
#define RDSBK_MODEL_H

#include "rdsbk/config.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/*
 * The desired resource graph: every resource of the pipeline for a topology, derived without any
 * I/O. A resource's desired attributes are a cJSON object; string values may hold references to
 * other resources' attributes that are only known once those exist, written `${ADDRESS#attr}`
 * (e.g. `${backup.kms_key.shared#arn}`); the engine resolves them (rdsbk_model_resolve).
 */

enum rdsbk_resource_type {
    RDSBK_RT_IAM_ROLE,
    RDSBK_RT_IAM_ROLE_POLICY,
    RDSBK_RT_KMS_KEY,
    RDSBK_RT_KMS_ALIAS,
    RDSBK_RT_EVENTS_RULE,
    RDSBK_RT_EVENTS_TARGET,
    RDSBK_RT_EVENTS_PERMISSION,
    RDSBK_RT_LAMBDA_FUNCTION,
    RDSBK_RT_LAMBDA_PERMISSION,
    RDSBK_RT_LOGS_LOG_GROUP,
    RDSBK_RT_EVENTS_BUS,
    RDSBK_RT_SNS_TOPIC,
    RDSBK_RT_SNS_SUBSCRIPTION,
    RDSBK_RT_SQS_QUEUE,
    RDSBK_RT_CFN_STACK_SET,
    RDSBK_RT_COUNT
};

/* "iam_role", "kms_key", ...; NULL for an unknown type. */
const char *rdsbk_resource_type_name(enum rdsbk_resource_type type);
/* The type for a name, or -1. */
int rdsbk_resource_type_from_name(const char *name);

/* Which credentials act on a resource. */
enum rdsbk_side { RDSBK_SIDE_SOURCE, RDSBK_SIDE_BACKUP };

struct rdsbk_resource {
    char *address; /* unique, stable: "source[111111111111/eu-central-1].events_rule.forward" */
    enum rdsbk_resource_type type;
    char account[RDSBK_ACCOUNT_LEN + 1];
    char *region;   /* the Region its API calls go to (IAM: Region-B, signing is global) */
    char *name;     /* the AWS name (role, rule, function, alias, statement id, target id) */
    cJSON *desired; /* desired attributes, owned */
    char **deps;    /* addresses this resource needs to exist first */
    size_t n_deps;
};

/*
 * The manual snapshots of one kind the pipeline keeps in one account and Region at steady state:
 * each database's copies of the last `per_database` days (retention days + 1, or keep_last when
 * larger), against RDS's quota there. A database pattern (billing-*) counts as one database.
 */
struct rdsbk_snapshot_estimate {
    char account[RDSBK_ACCOUNT_LEN + 1];
    const char *region;     /* Region-B: the graph's */
    const char *quota_name; /* RDS's: "ManualSnapshots" or "ManualClusterSnapshots" */
    const char *setting;    /* the retention setting of the copies: "retention.backup_days", ... */
    const char *quota_setting; /* where a raised quota is declared */
    int databases;
    int per_database;
    int quota;
};

struct rdsbk_graph {
    char *stack;
    char *partition;
    char *region;                     /* Region-B */
    struct rdsbk_resource *resources; /* sorted by address */
    size_t n_resources;
    int bus_policy_quota;                      /* the topology's backup.bus_policy_quota */
    struct rdsbk_snapshot_estimate *snapshots; /* each source account, then the backup account */
    size_t n_snapshots;
};

/*
 * Builds the graph of `topo`. Returns 0 and *out (free with rdsbk_graph_free), or RDSBK_ENOMEM /
 * RDSBK_EINVALID (a template that does not parse: a build defect) with the error set.
 */
int rdsbk_model_build(struct rdsbk_graph **out, const struct rdsbk_topology *topo);

/*
 * The topology as one account of OU source `ou` sees it: `topo` with the OU's Regions as its
 * sources, all in `account` (the names of its copies, the databases it has, as in the OU's
 * template). It borrows everything but its sources from `topo`, which must outlive it. Free with
 * rdsbk_model_view_free. 0 or RDSBK_ENOMEM.
 */
int rdsbk_model_member_view(struct rdsbk_topology **out, const struct rdsbk_topology *topo,
                            const struct rdsbk_source *ou, const char *account);
void rdsbk_model_view_free(struct rdsbk_topology *view);

/*
 * Checks the documents the graph writes against AWS's size quotas (past one, a write would fail
 * half-way through an apply), then the manual snapshots retention keeps against RDS's quotas
 * (past one, copies would fail for good some days later). Returns 0, or RDSBK_EINVALID naming the
 * first document or place past its quota (RDSBK_ENOMEM) with the error set. Plan, apply,
 * generate and validate check; destroy, which writes none, does not.
 */
int rdsbk_model_check_quotas(const struct rdsbk_graph *graph);

void rdsbk_graph_free(struct rdsbk_graph *graph);

/* The resource at `address`, or NULL. Borrowed. */
const struct rdsbk_resource *rdsbk_graph_find(const struct rdsbk_graph *graph, const char *address);

/*
 * Orders resource indices so that every resource comes after its dependencies. Returns 0 and
 * *order_out (caller frees, n_resources entries), or RDSBK_EINVALID on a cycle or a dependency on
 * an address not in the graph.
 */
int rdsbk_graph_topo_order(size_t **order_out, const struct rdsbk_graph *graph);

/*
 * Resolves `${ADDRESS#attr}` references in a copy of `value`: `lookup` returns the current value
 * of ADDRESS's attribute `attr` (a string owned by the callee) or NULL when it is not known yet.
 * Returns the copy (caller frees with cJSON_Delete) and sets *unknown_out to the number of
 * references left unresolved (they stay as written). NULL on ENOMEM.
 */
typedef const char *(*rdsbk_model_lookup_fn)(const char *address, const char *attr, void *payload);
cJSON *rdsbk_model_resolve(const cJSON *value, rdsbk_model_lookup_fn lookup, void *payload,
                           int *unknown_out);

/* The longest name AWS allows an IAM role, a Lambda function and an EventBridge rule: the `max`
 * of rdsbk_model_name for the pipeline's names. */
#define RDSBK_MODEL_NAME_MAX 64

/* Resource names: "rdsbk-<stack>-<purpose>", shortened deterministically (a hash suffix) when
 * longer than `max`. Caller frees. */
char *rdsbk_model_name(const char *stack, const char *purpose, size_t max);

/* The StackSet of OU source `ou` (an OU id): rdsbk-<stack>-<ou>, which CloudFormation's 128
 * characters always hold. Caller frees; NULL on ENOMEM. */
char *rdsbk_model_stack_set_name(const char *stack, const char *ou);

/*
 * The part of a copy's name that stands for database `db` (templates/lambda/rdsbk_common.py,
 * copy_base, is the same rule): `db` in lower case, then "-<code of `region`>" when `region` is
 * given (eu-central-1: euc1, ap-southeast-2: apse2; see rdsbk_model_region_named); when that is
 * longer than RDSBK_COPY_BASE_MAX, the database's first characters (a trailing '-' dropped), '-'
 * and 6 hex digits of its SHA-256 stand for it. A backup copy's name,
 * "<base>-YYYY-MM-DD-HH-MM-<account>", then fits the 63 characters RDS allows a DB cluster
 * snapshot for every valid identifier.
 */
#define RDSBK_COPY_BASE_MAX 33
void rdsbk_copy_base(char out[RDSBK_COPY_BASE_MAX + 1], const char *db, const char *region);

/* The name of the Region-B copy of automated snapshot `id` ("rds:<db>-<stamp>"):
 * "<base>-<stamp>", `region` as for rdsbk_copy_base. Returns 0, or RDSBK_EINVALID (no error set)
 * when `id` is not such a name. */
int rdsbk_copy_name(char *out, size_t size, const char *id, const char *region);

/* Whether the copies of database (or pattern) `db` of source `s` (`cluster`: of its clusters)
 * carry its Region in their names: when another Region-A of the same account lists a database
 * (or pattern) that can be the same, whose copies would otherwise take the same names in
 * Region-B. */
bool rdsbk_model_region_named(const struct rdsbk_topology *t, const struct rdsbk_source *s,
                              bool cluster, const char *db);

/* Every purpose the pipeline names a resource for ("rdsbk-<stack>-<purpose>"), NULL-terminated:
 * what tells a name of stack "t1" ("rdsbk-t1-copy") from one of stack "t1-x" ("rdsbk-t1-x-copy").
 */
extern const char *const rdsbk_model_purposes[];

/* Values the Lambda functions read from their environment, also used by `generate`. */
#define RDSBK_EVENT_DETAIL_TYPE "RDS Snapshot Shared"

#endif
