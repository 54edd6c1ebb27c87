#ifndef RDSBK_RESOURCES_INTERNAL_H
#define RDSBK_RESOURCES_INTERNAL_H

/*
 * Helpers shared by the resource types (src/resources only): attribute access, what a read,
 * create or update hands back (common.c), the names of a resource that lives inside another
 * (inner.c), tags as the {"k": "v"} object of the model (tags.c), bounded waits with backoff,
 * and the memo of a refresh (memo.c).
 *
 * A type's `remove` reports a resource that is already gone as RDSBK_ENOTFOUND, like `read`: only
 * rdsbk_resource_remove (registry.c) counts that as deleted.
 */

#include "rdsbk/backoff.h"
#include "rdsbk/config.h"
#include "rdsbk/json_util.h"
#include "rdsbk/str.h"
#include "rdsbk/resource.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* The operations of each type (one per src/resources/<type>.c), gathered by registry.c. */
extern const struct rdsbk_resource_ops rdsbk_res_iam_role_ops;
extern const struct rdsbk_resource_ops rdsbk_res_iam_role_policy_ops;
extern const struct rdsbk_resource_ops rdsbk_res_kms_key_ops;
extern const struct rdsbk_resource_ops rdsbk_res_kms_alias_ops;
extern const struct rdsbk_resource_ops rdsbk_res_events_rule_ops;
extern const struct rdsbk_resource_ops rdsbk_res_events_target_ops;
extern const struct rdsbk_resource_ops rdsbk_res_events_permission_ops;
extern const struct rdsbk_resource_ops rdsbk_res_lambda_function_ops;
extern const struct rdsbk_resource_ops rdsbk_res_lambda_permission_ops;
extern const struct rdsbk_resource_ops rdsbk_res_logs_log_group_ops;
extern const struct rdsbk_resource_ops rdsbk_res_events_bus_ops;
extern const struct rdsbk_resource_ops rdsbk_res_sns_topic_ops;
extern const struct rdsbk_resource_ops rdsbk_res_sns_subscription_ops;
extern const struct rdsbk_resource_ops rdsbk_res_sqs_queue_ops;
extern const struct rdsbk_resource_ops rdsbk_res_cfn_stack_set_ops;

/* The custom event bus `event_bus` of a rule's or target's attributes (desired or last known),
 * or NULL for the default bus (events_rule.c). Borrowed. */
const char *rdsbk_res_event_bus(const cJSON *attributes);

/* ---- attributes (common.c) ---- */

/* No attribute names: the force_new or no_diff of a type that has none. */
extern const char *const rdsbk_res_no_keys[];

/* The AWS name of a resource whose id is its name (a role, a rule, a function, an alias): the id
 * when known, else ref->name. Borrowed. */
const char *rdsbk_res_name(const struct rdsbk_resource_ref *ref);

/* The ARN (caller frees) of a resource whose ARN ends with its name, an SNS topic or an SQS queue
 * of `service`: the state's id, else arn:<partition>:<service>:<region>:<account>:<name> that
 * the ref's Region, account and name make, without a call. An id that is no ARN ending in a name
 * is RDSBK_EINVALID naming the type and `what` ("topic"). */
int rdsbk_res_regional_arn(char **out, const struct rdsbk_resource_ref *ref, const char *service,
                           const char *what);

/* Like rdsbk_json_str, but a missing or empty value is RDSBK_EINVALID naming `type` and `key`. */
int rdsbk_res_require(const char **out, const cJSON *obj, const char *key, const char *type);

/* True when `key` differs between `desired` and `actual` (absent on one side counts). */
bool rdsbk_res_changed(const cJSON *desired, const cJSON *actual, const char *key);

/* True when any of the NULL-terminated `keys` differs (rdsbk_res_changed). */
bool rdsbk_res_any_changed(const cJSON *desired, const cJSON *actual, const char *const *keys);

/* The element of `array` whose string member `member` is `value` (the last, should AWS list one
 * twice), or NULL (also for a NULL `value`). Borrowed from `array`. */
const cJSON *rdsbk_res_find(const cJSON *array, const char *member, const char *value);

/* Adds `key`: the JSON document `text` read back from AWS, parsed (RDSBK_EINVALID naming `what`
 * when it does not parse). Returns 0 or the error. */
int rdsbk_res_add_parsed(cJSON *out, const char *key, const char *text, const char *what);

/* How `read` turns a member of an AWS reply into an attribute (rdsbk_res_add_attrs). */
enum rdsbk_res_kind {
    RDSBK_RES_STR,      /* a string; "" when absent */
    RDSBK_RES_OPT_STR,  /* a string; no attribute when absent */
    RDSBK_RES_OPT_JSON, /* a JSON document as text, parsed; no attribute when absent */
    RDSBK_RES_BOOL,     /* true or false; false when absent */
    RDSBK_RES_INT,      /* a number; `dflt` (AWS's default) when absent */
    RDSBK_RES_OBJECT,   /* an object, copied; {} when absent */
};

struct rdsbk_res_attr {
    const char *key;    /* the attribute; NULL ends a table */
    const char *member; /* its member in the reply; "A.B" is member B of member A */
    enum rdsbk_res_kind kind;
    int dflt;
};

/* Adds to `out`, in the order of the table `attrs` (ended by a NULL key), the attributes read
 * from `reply`; `call` names the reply when a document does not parse ("<call> <member>").
 * Returns 0, RDSBK_ENOMEM or RDSBK_EINVALID. */
int rdsbk_res_add_attrs(cJSON *out, const cJSON *reply, const struct rdsbk_res_attr *attrs,
                        const char *call);

/* *id_out = strdup(id) (id_out may be NULL: nothing). Returns 0 or RDSBK_ENOMEM. */
int rdsbk_res_set_id(char **id_out, const char *id);

/* NULL in the outputs of a read or create (id_out may be NULL), before anything can fail. */
void rdsbk_res_outs_init(cJSON **actual_out, char **id_out);

/* The end of a read: `id` (copied) into *id_out, then *attrs handed over to *actual_out and set
 * to NULL. On failure (RDSBK_ENOMEM) nothing is handed over and *attrs is still the caller's. */
int rdsbk_res_found(cJSON **actual_out, char **id_out, cJSON **attrs, const char *id);

/*
 * What a create or update leaves in AWS, without reading it back (a read after every write
 * doubled the calls on the critical path): the desired attributes, which the write has just set,
 * plus the one member AWS computed (`key`, e.g. "arn", with `value`; NULL: none), and the id for
 * the state (id_out may be NULL). The next plan reads the resource anyway, and shows anything
 * that differs as drift. Same ownership as rdsbk_resource_ops.create.
 */
int rdsbk_res_written(cJSON **actual_out, char **id_out, const cJSON *desired, const char *id,
                      const char *key, const char *value);

/*
 * Updates for the types whose write replaces the whole resource, for their ops' `update` (the
 * type is ref->type): rdsbk_res_rewrite writes it again with the type's `create` (PutRolePolicy,
 * PutTargets create and replace alike); rdsbk_res_replace, for what cannot be written over (a
 * statement of a resource policy), first removes the old one (already gone will do).
 */
int rdsbk_res_rewrite(cJSON **actual_out, struct rdsbk_client *client,
                      const struct rdsbk_resource_ref *ref, const cJSON *desired,
                      const cJSON *actual);
int rdsbk_res_replace(cJSON **actual_out, struct rdsbk_client *client,
                      const struct rdsbk_resource_ref *ref, const cJSON *desired,
                      const cJSON *actual);

/* True when the last error's AWS code is `code` (and, when `fragment` is not NULL, its message
 * contains `fragment`). */
bool rdsbk_res_aws_error_is(const char *code, const char *fragment);

/* A wait for AWS (rdsbk/backoff.h, doubling, with a budget): sleeps the next delay and logs why
 * ("<printf of fmt>: attempt N in X ms"); false, without sleeping or logging, once the budget is
 * spent. */
bool rdsbk_res_backoff_wait(struct rdsbk_backoff *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- a resource that lives inside another (inner.c) ---- */

/*
 * A rule's target, a function's statement, a role's inline policy: the attributes `outer_key`
 * (the container) and `inner_key` (it, within the container) name it, and its id joins the two
 * as "<outer><sep><inner>". `name_is_outer`: ref->name names the container, else it.
 */
struct rdsbk_res_inner {
    const char *type; /* for messages */
    char sep;
    const char *outer_key;
    const char *inner_key;
    bool name_is_outer;
};

/* The names of one such resource, and its id; released with rdsbk_res_names_clean_up. */
struct rdsbk_res_names {
    char *outer;
    char *inner;
    char *id;
};

/* The names of `ref`: from its id when it has one, else from the attributes of ref->attributes,
 * the missing one of them taken from ref->name. RDSBK_EINVALID naming the type when a name is
 * missing; on error `out` holds nothing to release. */
int rdsbk_res_names_of(struct rdsbk_res_names *out, const struct rdsbk_resource_ref *ref,
                       const struct rdsbk_res_inner *in);
void rdsbk_res_names_clean_up(struct rdsbk_res_names *names);

/* A new object (the caller's) with the two names, as a read starts its attributes. */
int rdsbk_res_names_attrs(cJSON **out, const struct rdsbk_res_names *names,
                          const struct rdsbk_res_inner *in);

/* The two names of the desired attributes (rdsbk_res_require: missing is RDSBK_EINVALID).
 * Borrowed from `desired`. */
int rdsbk_res_inner_require(const char **outer, const char **inner, const cJSON *desired,
                            const struct rdsbk_res_inner *in);

/* rdsbk_res_written for it: the desired attributes, with the id their names make. */
int rdsbk_res_inner_written(cJSON **actual_out, char **id_out, const cJSON *desired,
                            const struct rdsbk_res_inner *in);

/* Deletes it with remove(client, outer, inner), its names taken from `ref`. */
typedef int (*rdsbk_res_inner_fn)(struct rdsbk_client *client, const char *outer,
                                  const char *inner);
int rdsbk_res_inner_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref,
                           const struct rdsbk_res_inner *in, rdsbk_res_inner_fn remove);

/* ---- tags: the model's {"k": "v"} object <-> struct rdsbk_tag arrays (tags.c) ---- */

/* A service's calls that list and change the tags of a resource, and the type for messages. */
struct rdsbk_res_tagging {
    const char *type;
    int (*list)(struct rdsbk_tag **out, size_t *n_out, struct rdsbk_client *client,
                const char *resource);
    int (*untag)(struct rdsbk_client *client, const char *resource, const char *const *keys,
                 size_t n);
    int (*tag)(struct rdsbk_client *client, const char *resource, const struct rdsbk_tag *tags,
               size_t n);
};

/* The tags of a {"k": "v"} object (NULL or absent: none) as a new array the caller frees with
 * rdsbk_aws_tags_free. Returns 0 or RDSBK_ENOMEM. */
int rdsbk_res_tags_from_json(struct rdsbk_tag **out, size_t *n_out, const cJSON *tags);

/* Adds "tags": the {"k": "v"} object of `tags` (a key repeated: the last value wins). Returns 0 or
 * RDSBK_ENOMEM. */
int rdsbk_res_add_tags(cJSON *out, const struct rdsbk_tag *tags, size_t n);

/* Adds "tags": those calls->list answers for `resource` (its name or ARN). Returns 0 or the
 * error. */
int rdsbk_res_add_listed_tags(cJSON *out, struct rdsbk_client *client, const char *resource,
                              const struct rdsbk_res_tagging *calls);

/* What to change so that the live tags `actual` become `desired` (both {"k": "v"} objects, NULL
 * meaning none): *set_out the tags to add or change (rdsbk_aws_tags_free), *remove_out the keys to
 * remove (rdsbk_strings_free). Returns 0 or RDSBK_ENOMEM. */
int rdsbk_res_tags_diff(struct rdsbk_tag **set_out, size_t *n_set, char ***remove_out,
                        size_t *n_remove, const cJSON *desired, const cJSON *actual);

/* Brings the tags of `resource` (its name or ARN; NULL, RDSBK_EINVALID when there is anything to
 * change) from the "tags" of `actual` to those of `desired`: the keys to remove first, then the
 * tags to set; no call when they are the same. Returns 0 or the error. */
int rdsbk_res_update_tags(struct rdsbk_client *client, const char *resource, const cJSON *desired,
                          const cJSON *actual, const struct rdsbk_res_tagging *calls);

/* ---- the memo of a refresh (memo.c) ---- */

/* Fetches a document as text (caller frees) for rdsbk_res_memo_text; `what` names it for AWS. */
typedef int (*rdsbk_res_fetch_fn)(char **text_out, struct rdsbk_client *client, const char *what);

/* The document `key` (unique across accounts and Regions: "<account>/<region>/<call>/<what>"):
 * fetched with fetch(client, what) by the first caller, shared with the others; each gets its
 * own copy (caller frees) or the fetch's error. With `memo` NULL, simply fetches. */
int rdsbk_res_memo_text(char **text_out, struct rdsbk_res_memo *memo, rdsbk_res_fetch_fn fetch,
                        struct rdsbk_client *client, const char *what, const char *key);

#endif
