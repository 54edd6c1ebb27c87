#ifndef RDSBK_RESOURCE_H
#define RDSBK_RESOURCE_H

#include "rdsbk/client.h"
#include "rdsbk/model.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

/*
 * One implementation per resource type (src/resources/<type>.c): how to read, create, update and
 * delete it through the AWS API. The engine decides what to do; these functions only do it.
 *
 * Attributes are cJSON objects with the keys of the desired attributes the model builds (see
 * src/model/pipeline.c): `read` returns the live values under the same keys and in the same
 * shapes (policies and patterns as parsed JSON objects, tags as a {"k": "v"} object, numbers as
 * numbers), plus "arn" (and "key_id" for keys) so that other resources can refer to them. Keys
 * the type cannot read back (a Lambda function's "package") are simply absent.
 *
 * Every function returns 0 or a negative code with the error set (rdsbk/error.h); RDSBK_ENOTFOUND
 * from `read` means the resource does not exist. Implementations are called from several threads
 * at once, on different resources.
 */

/* What a resource is, as far as the AWS API needs to know. */
struct rdsbk_resource_ref {
    enum rdsbk_resource_type type;
    const char *account;
    const char *region;
    const char *name; /* the AWS name (role, rule, function, alias, statement id, target id) */
    const char *id;   /* the id from the state, NULL when not known (look up by name) */
    const char *stack;
    /* The last known attributes (from the state, or the desired ones when not in the state): a
     * target's rule, a permission's function, a role policy's role. Borrowed, never NULL. */
    const cJSON *attributes;
    /* Reads shared by the resources of one refresh (a policy with a statement per resource);
     * NULL: every read asks AWS. Borrowed. */
    struct rdsbk_res_memo *memo;
};

/*
 * A memo of the documents several resources read (the event bus policy, a function's policy),
 * for the duration of one refresh: each is fetched once, by the first read that needs it, and
 * other reads of it, even in parallel, share that answer. Only for reads with nothing written in
 * between. rdsbk_res_memo_new returns NULL on ENOMEM (error set).
 */
struct rdsbk_res_memo;
struct rdsbk_res_memo *rdsbk_res_memo_new(void);
void rdsbk_res_memo_free(struct rdsbk_res_memo *memo);

struct rdsbk_resource_ops {
    enum rdsbk_resource_type type;

    /* Reads the resource; *actual_out is the caller's (cJSON_Delete). `*id_out` (caller frees)
     * receives the id to keep in the state. RDSBK_ENOTFOUND when it does not exist (for a KMS
     * key: also when it is pending deletion). */
    int (*read)(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                const struct rdsbk_resource_ref *ref);

    /* Creates it with `desired` (references resolved). Waits until it is usable (a Lambda
     * function Active). Returns its attributes as `read` would, and its id, without reading it
     * back: the desired attributes it set, plus what AWS computed from the write's reply. */
    int (*create)(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref, const cJSON *desired);

    /* Changes what differs between `actual` and `desired` in place (never called for attributes
     * listed in force_new). Returns the attributes after the change. */
    int (*update)(cJSON **actual_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref, const cJSON *desired, const cJSON *actual);

    /* Deletes it (a KMS key: schedules its deletion with the "deletion_window_days" attribute).
     * RDSBK_ENOTFOUND when it no longer exists: rdsbk_resource_remove counts that as done. */
    int (*remove)(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref);

    /* The calls `read` makes one after the other (DescribeKey, GetKeyPolicy, ListResourceTags:
     * 3), and those a create, update or delete usually makes (CreateFunction and the State poll:
     * 2); the engine starts the longest first. */
    unsigned read_calls;
    unsigned write_calls;

    /* Attributes whose change forces replacement; NULL-terminated. */
    const char *const *force_new;
    /* Desired attributes that are not compared (settings of the tool, not of AWS). */
    const char *const *no_diff;
    /* What a read gives beyond the desired attributes that a plan shows with a change of it (a
     * StackSet's instances: where the change will go); NULL-terminated, or NULL: nothing. */
    const char *const *shown;

    /* What the engine needs to know of the type, so that it never names one. */

    /* The service whose API the type calls ("iam", "events"): AWS throttles each per account, and
     * per Region unless the service is `global`; the engine's --parallelism groups follow. */
    const char *service;
    bool global;

    /* A resource that lives inside another (a role's inline policy in its role, a rule's target in
     * its rule, a statement of a function's policy in its function) is `contained` in a resource
     * of type `container`: it cannot exist without it, so it is read only once its container was
     * found, and deleted before its container is. */
    bool contained;
    enum rdsbk_resource_type container;
    /* Deleting the container deletes it too (a function takes its permissions along): deleted in
     * the same run, it needs no call of its own. */
    bool deleted_with_container;

    /* What a destroy plan says when it deletes one (NULL: nothing). */
    const char *delete_warning;
    /* The backups cannot be restored without it (the shared key, and its alias that names it):
     * destroy --keep-key leaves it, enabled and in the state, for a later apply to reuse. */
    bool backups_need_it;
};

/* The implementation for a type; never NULL for a valid type. */
const struct rdsbk_resource_ops *rdsbk_resource_ops(enum rdsbk_resource_type type);

/* Deletes a resource through its type's `remove`: what no longer exists counts as deleted (0, the
 * error cleared). Returns 0 or the error of the call. */
int rdsbk_resource_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref);

#endif
