#ifndef RDSBK_RESOURCES_INTERNAL_H
#define RDSBK_RESOURCES_INTERNAL_H

/*
 * Helpers shared by the resource types (src/resources only): attribute access, tags as the
 * {"k": "v"} object of the model, JSON text in and out, bounded waits with backoff, and the
 * attributes every create and update reports.
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

/* Like rdsbk_json_str, but a missing or empty value is RDSBK_EINVALID naming `type` and `key`. */
int rdsbk_res_require(const char **out, const cJSON *obj, const char *key, const char *type);

/* True when `key` differs between `desired` and `actual` (absent on one side counts). */
bool rdsbk_res_changed(const cJSON *desired, const cJSON *actual, const char *key);

/*
 * The two names of a resource that lives inside another (a rule's target, a function's statement,
 * a role's inline policy): from its id "<outer><sep><inner>" when it has one, else from the
 * attributes `outer_key` and `inner_key` of ref->attributes, the missing one of them taken from
 * ref->name (the inner one, or the outer one with `name_is_outer`). Copies the caller frees;
 * RDSBK_EINVALID naming `type` when a name is missing.
 */
int rdsbk_res_inner_names(char **outer_out, char **inner_out, const struct rdsbk_resource_ref *ref,
                          char sep, const char *outer_key, const char *inner_key,
                          bool name_is_outer, const char *type);

/* *id_out = strdup(id) (id_out may be NULL: nothing). Returns 0 or RDSBK_ENOMEM. */
int rdsbk_res_set_id(char **id_out, const char *id);

/* ---- tags: the model's {"k": "v"} object <-> struct rdsbk_tag arrays ---- */

/* The tags of a {"k": "v"} object (NULL or absent: none) as a new array the caller frees with
 * rdsbk_aws_tags_free. Returns 0 or RDSBK_ENOMEM. */
int rdsbk_res_tags_from_json(struct rdsbk_tag **out, size_t *n_out, const cJSON *tags);

/* A new {"k": "v"} object of `tags` (NULL on ENOMEM, error set). */
cJSON *rdsbk_res_tags_to_json(const struct rdsbk_tag *tags, size_t n);

/* What to change so that the live tags `actual` become `desired` (both {"k": "v"} objects, NULL
 * meaning none): *set_out the tags to add or change (rdsbk_aws_tags_free), *remove_out the keys to
 * remove (rdsbk_strings_free). Returns 0 or RDSBK_ENOMEM. */
int rdsbk_res_tags_diff(struct rdsbk_tag **set_out, size_t *n_set, char ***remove_out,
                        size_t *n_remove, const cJSON *desired, const cJSON *actual);

/* ---- waiting ---- */

/* A wait for AWS (rdsbk/backoff.h, doubling, with a budget): sleeps the next delay and logs why
 * ("<printf of fmt>: attempt N in X ms"); false, without sleeping or logging, once the budget is
 * spent. */
bool rdsbk_res_backoff_wait(struct rdsbk_backoff *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * What a create or update leaves in AWS, without reading it back (a read after every write
 * doubled the calls on the critical path): the desired attributes, which the write has just set,
 * plus the one member AWS computed (`key`, e.g. "arn", with `value`; NULL: none), and the id for
 * the state (id_out may be NULL). The next plan reads the resource anyway, and shows anything
 * that differs as drift. Same ownership as rdsbk_resource_ops.create.
 */
int rdsbk_res_written(cJSON **actual_out, char **id_out, const cJSON *desired, const char *id,
                      const char *key, const char *value);

/* Fetches a document as text (caller frees) for rdsbk_res_memo_text; `what` names it for AWS. */
typedef int (*rdsbk_res_fetch_fn)(char **text_out, struct rdsbk_client *client, const char *what);

/* The document `key` (unique across accounts and Regions: "<account>/<region>/<call>/<what>"):
 * fetched with fetch(client, what) by the first caller, shared with the others; each gets its
 * own copy (caller frees) or the fetch's error. With `memo` NULL, simply fetches. */
int rdsbk_res_memo_text(char **text_out, struct rdsbk_res_memo *memo, rdsbk_res_fetch_fn fetch,
                        struct rdsbk_client *client, const char *what, const char *key);

/* True when the last error's AWS code is `code` (and, when `fragment` is not NULL, its message
 * contains `fragment`). */
bool rdsbk_res_aws_error_is(const char *code, const char *fragment);

#endif
