#ifndef RDSBK_SERVICES_SVC_H
#define RDSBK_SERVICES_SVC_H

/*
 * Helpers shared by the service modules (src/services only): for each protocol, one call and one
 * listing that follows every page, over the tables of fields of rdsbk/protocol.h. A service module
 * describes its operations; these send them through the client and read the replies.
 */

#include "rdsbk/client.h"
#include "rdsbk/json_util.h"

/* More pages than any of our listings can have: a service that keeps paging is broken. */
#define RDSBK_SVC_MAX_PAGES 10000

/* ---- awsQuery (IAM, RDS, SNS, SQS) ---- */

/* An awsQuery service: its name for the client ("iam"), its API version ("2010-05-08") and the
 * member its listings page by, in the request and in the reply (NULL: "Marker", with IAM's
 * IsTruncated, rdsbk_query_next_marker; SNS: "NextToken"). */
struct rdsbk_svc_query_api {
    const char *service;
    const char *version;
    const char *token;
};

/* One awsQuery operation: what its request takes from an input struct and what is read of its
 * reply. */
struct rdsbk_svc_query_op {
    const struct rdsbk_svc_query_api *api;
    const char *action;              /* "CreateRole" */
    const struct rdsbk_field *input; /* the members it sends from `in`, or NULL */
    const char *output; /* the element of the Result read into `out` ("Role"; NULL: the Result
                           itself); for a listing, the list ("Roles") */
    const char *item;   /* a listing: the element of each item ("DBSnapshot"; NULL: "member") */
    const struct rdsbk_shape *shape; /* how `output` or each item is read; NULL: nothing is */
};

/* Sends `q`, built by hand, to `service` through the client: *reply (the caller cleans it up) as
 * rdsbk_query_send gives it. */
int rdsbk_svc_query_send(struct rdsbk_query_reply *reply, struct rdsbk_client *client,
                         const char *service, const struct rdsbk_query *q);

/* Starts `q` for `op`: its action and version, the string arguments `args` (NULL, or ended by
 * {NULL, NULL}), then the members op->input describes of `in`. Returns 0 or RDSBK_ENOMEM; `q` is
 * to be cleaned up whatever the outcome (rdsbk_svc_query_finish does). */
int rdsbk_svc_query_start(struct rdsbk_query *q, const struct rdsbk_svc_query_op *op,
                          const struct rdsbk_arg *args, const void *in);

/* Sends `q` unless `rc` is already an error (its builder's), then reads op->output of the reply
 * into `out` by op->shape; `out` NULL reads nothing. An absent op->output is RDSBK_EINVALID
 * ("<service>: no <output> in the reply"). Cleans `q` up; on failure `out` is zeroed. Returns the
 * first error. */
int rdsbk_svc_query_finish(void *out, struct rdsbk_client *client,
                           const struct rdsbk_svc_query_op *op, struct rdsbk_query *q, int rc);

/* rdsbk_svc_query_start, then sends the request through `ctx` and hands its reply over as it is,
 * for a Result no table reads (*reply is the caller's to clean up, whatever the outcome). */
int rdsbk_svc_query_reply_at(struct rdsbk_query_reply *reply, const struct rdsbk_service_ctx *ctx,
                             const struct rdsbk_svc_query_op *op, const struct rdsbk_arg *args,
                             const void *in);

/* The same through the client's context for op->api->service. */
int rdsbk_svc_query_reply(struct rdsbk_query_reply *reply, struct rdsbk_client *client,
                          const struct rdsbk_svc_query_op *op, const struct rdsbk_arg *args,
                          const void *in);

/* rdsbk_svc_query_start and rdsbk_svc_query_finish in one. */
int rdsbk_svc_query_call(void *out, struct rdsbk_client *client,
                         const struct rdsbk_svc_query_op *op, const struct rdsbk_arg *args,
                         const void *in);

/* `action` of `api` with the arguments `args` (NULL, or ended by {NULL, NULL}); nothing of the
 * reply is read. */
int rdsbk_svc_query_simple(struct rdsbk_client *client, const struct rdsbk_svc_query_api *api,
                           const char *action, const struct rdsbk_arg *args);

/* rdsbk_svc_query_call for an `op` whose shape reads one string of the Result into *out (caller
 * frees), which the reply must carry: RDSBK_EINVALID ("<service>:<action>: no <what> in the
 * reply") when it does not, *out NULL. */
int rdsbk_svc_query_string(char **out, struct rdsbk_client *client,
                           const struct rdsbk_svc_query_op *op, const struct rdsbk_arg *args,
                           const void *in, const char *what);

/*
 * An awsQuery listing, all pages: sends `q` (unless `rc` is already an error), with the marker
 * (op->api->token, or "Marker") added from the second page on, until a reply has no next one
 * (rdsbk_query_next_token, or rdsbk_query_next_marker), reading
 * each op->item of the list op->output of every page by op->shape into *out (an array, allocated
 * even when empty, that the caller frees with rdsbk_shape_free_array). A marker handed back
 * unchanged, or more than RDSBK_SVC_MAX_PAGES pages, is an error. Cleans `q` up; on failure *out
 * is empty.
 */
int rdsbk_svc_query_list(struct rdsbk_items *out, struct rdsbk_client *client,
                         const struct rdsbk_svc_query_op *op, struct rdsbk_query *q, int rc);

/* ---- awsJson (KMS, EventBridge) and the JSON replies restJson shares ---- */

/* An awsJson service: its name for the client, its X-Amz-Target prefix, the members it pages with
 * (the request's page token and the reply's next one) and those of its tags. */
struct rdsbk_svc_json_api {
    const char *service;   /* "kms" */
    const char *prefix;    /* "TrentService" */
    const char *token_in;  /* "Marker", "NextToken" */
    const char *token_out; /* "NextMarker", "NextToken" */
    const char *tag_key;   /* "TagKey", "Key" */
    const char *tag_value; /* "TagValue", "Value" */
};

/* awsJson: calls `prefix`.`op` of `service` with `input` (consumed, NULL meaning out of memory)
 * unless `rc` is already an error; *out (may be NULL) receives the reply. */
int rdsbk_svc_json_call(cJSON **out, struct rdsbk_client *client, const char *service,
                        const char *prefix, const char *op, cJSON *input, int rc);

/* The same for a call that is not idempotent: on a new connection, so that a lost reply comes
 * back as a failure to retry and count, not as libcurl's own resend (rdsbk_http_request). */
int rdsbk_svc_json_call_fresh(cJSON **out, struct rdsbk_client *client, const char *service,
                              const char *prefix, const char *op, cJSON *input, int rc);

/*
 * awsJson pagination: calls `operation` with `input` (the caller's; its `token_in` member is set
 * per page and removed afterwards) until the reply has no `token_out`, appending the items of the
 * reply's array `list_field` to *out (a new cJSON array the caller deletes). As
 * rdsbk_svc_json_pages.
 */
int rdsbk_svc_json_paginate(cJSON **out, const struct rdsbk_service_ctx *ctx, const char *prefix,
                            const char *operation, cJSON *input, const char *token_in,
                            const char *token_out, const char *list_field);

/* A listing of `api`: rdsbk_svc_json_paginate of `op` through the client, with `input` consumed
 * (NULL meaning out of memory) unless `rc` is already an error. */
int rdsbk_svc_json_list(cJSON **out, struct rdsbk_client *client,
                        const struct rdsbk_svc_json_api *api, const char *op, cJSON *input, int rc,
                        const char *list_field);

/* TagResource: {"<id->name>": id->value, "Tags": [{"<tag_key>": k, "<tag_value>": v}, ...]}. */
int rdsbk_svc_json_tag(struct rdsbk_client *client, const struct rdsbk_svc_json_api *api,
                       const struct rdsbk_arg *id, const struct rdsbk_tag *tags, size_t n);

/* UntagResource: {"<id->name>": id->value, "TagKeys": [k, ...]}. */
int rdsbk_svc_json_untag(struct rdsbk_client *client, const struct rdsbk_svc_json_api *api,
                         const struct rdsbk_arg *id, const char *const *keys, size_t n);

/* The tags in the list `tags` of a reply ({"<tag_key>": k, "<tag_value>": v} each) as a new array
 * (rdsbk_aws_tags_free). */
int rdsbk_svc_json_tags(struct rdsbk_tag **out, size_t *n_out, const struct rdsbk_svc_json_api *api,
                        const cJSON *tags);

/* Fetches one page of a JSON listing: *reply_out (the caller deletes it) answers the request for
 * the page that `token` names (NULL: the first). */
typedef int (*rdsbk_svc_json_page_fn)(cJSON **reply_out, const char *token, void *payload);

/*
 * JSON pagination, awsJson and restJson alike: calls `page` with each next token (the reply's
 * string member `token_out`) until a reply has none, moving the items of each reply's array
 * `list_field` into *out (a new cJSON array the caller deletes). A token handed back unchanged, or
 * more than RDSBK_SVC_MAX_PAGES pages, is an error ("<what>: pagination does not end").
 */
int rdsbk_svc_json_pages(cJSON **out, rdsbk_svc_json_page_fn page, void *payload,
                         const char *token_out, const char *list_field, const char *what);

/* *out = a new request object: the string members `args`, then the members `fields` describes
 * of `in` (either may be NULL). Returns 0 or RDSBK_ENOMEM (*out NULL). */
int rdsbk_svc_json_input(cJSON **out, const struct rdsbk_arg *args,
                         const struct rdsbk_field *fields, const void *in);

/* Detaches member `name` from `obj` into *out; RDSBK_EINVALID (naming `op`) when absent. */
int rdsbk_svc_json_take(cJSON **out, cJSON *obj, const char *name, const char *op);

/* *out = a copy of the string member `name` the reply must carry; RDSBK_EINVALID ("<op>: no
 * <name> in the reply") when absent. */
int rdsbk_svc_json_take_str(char **out, const cJSON *reply, const char *name, const char *op);

/* Checks a batch reply (FailedEntryCount + an array of entries with ErrorCode / ErrorMessage):
 * returns 0, or the mapped error of the first failed entry with the AWS code set. */
int rdsbk_svc_json_failed_entries(const cJSON *reply, const char *entries_field,
                                  const char *operation);

#endif
