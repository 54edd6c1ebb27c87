#ifndef RDSBK_SERVICES_SVC_H
#define RDSBK_SERVICES_SVC_H

/* Helpers shared by the service modules (src/services only). */

#include "rdsbk/client.h"
#include "rdsbk/json_util.h"

/* awsQuery: sends `q` to `service` ("iam", "rds") through the client. *reply is the caller's
 * (rdsbk_query_reply_clean_up) whatever the outcome. */
int rdsbk_svc_query_send(struct rdsbk_query_reply *reply, struct rdsbk_client *client,
                         const char *service, const struct rdsbk_query *q);

/* awsQuery, a call whose reply carries nothing the caller needs: sends `q` unless `rc` is already
 * an error (the builder's), then cleans `q` up. Returns the first error. */
int rdsbk_svc_query_simple(struct rdsbk_client *client, const char *service, struct rdsbk_query *q,
                           int rc);

/* awsJson: calls `prefix`.`op` of `service` with `input` (consumed, NULL meaning out of memory)
 * unless `rc` is already an error; *out (may be NULL) receives the reply. */
int rdsbk_svc_json_call(cJSON **out, struct rdsbk_client *client, const char *service,
                        const char *prefix, const char *op, cJSON *input, int rc);

/* The same for a call that is not idempotent: on a new connection, so that a lost reply comes
 * back as a failure to retry and count, not as libcurl's own resend (rdsbk_http_request). */
int rdsbk_svc_json_call_fresh(cJSON **out, struct rdsbk_client *client, const char *service,
                              const char *prefix, const char *op, cJSON *input, int rc);

/* More pages than any of our listings can have: a service that keeps paging is broken. */
#define RDSBK_SVC_MAX_PAGES 10000

/* Detaches member `name` from `obj` into *out; RDSBK_EINVALID (naming `op`) when absent. */
int rdsbk_svc_json_take(cJSON **out, cJSON *obj, const char *name, const char *op);

/*
 * awsJson pagination: calls `operation` with `input` (the caller's; its `token_in` member is set
 * per page and removed afterwards) until the reply has no `token_out`, appending the items of the
 * reply's array `list_field` to *out (a new cJSON array the caller deletes).
 */
int rdsbk_svc_json_paginate(cJSON **out, const struct rdsbk_service_ctx *ctx, const char *prefix,
                            const char *operation, cJSON *input, const char *token_in,
                            const char *token_out, const char *list_field);

/* Checks a batch reply (FailedEntryCount + an array of entries with ErrorCode / ErrorMessage):
 * returns 0, or the mapped error of the first failed entry with the AWS code set. */
int rdsbk_svc_json_failed_entries(const cJSON *reply, const char *entries_field,
                                  const char *operation);

#endif
