/*
 * The calls and listings every service module makes (services/svc.h): an operation described by
 * tables is sent through the client's context for its service and its reply read back; listings
 * follow the Marker of awsQuery and the tokens of JSON replies to the last page.
 */
#include "services/svc.h"
#include "rdsbk/aws_error.h"
#include "rdsbk/error.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- awsQuery ---- */

int rdsbk_svc_query_send(struct rdsbk_query_reply *reply, struct rdsbk_client *client,
                         const char *service, const struct rdsbk_query *q) {
    struct rdsbk_service_ctx ctx;
    int rc = rdsbk_client_service_ctx(&ctx, client, service);

    memset(reply, 0, sizeof(*reply));
    return rc ? rc : rdsbk_query_send(reply, &ctx, q);
}

int rdsbk_svc_query_start(struct rdsbk_query *q, const struct rdsbk_svc_query_op *op,
                          const struct rdsbk_arg *args, const void *in) {
    int rc = rdsbk_query_init(q, op->action, op->api->version);

    if (rc == 0)
        rc = rdsbk_query_add_args(q, args);
    if (rc == 0)
        rc = rdsbk_query_add_fields(q, op->input, in);
    return rc;
}

int rdsbk_svc_query_finish(void *out, struct rdsbk_client *client,
                           const struct rdsbk_svc_query_op *op, struct rdsbk_query *q, int rc) {
    struct rdsbk_query_reply reply = {0};
    const xmlNode *node;

    assert(!out || op->shape);
    if (out)
        memset(out, 0, op->shape->size);
    RDSBK_TRY(rc);
    RDSBK_TRY(rdsbk_svc_query_send(&reply, client, op->api->service, q));
    if (!out)
        goto cleanup;
    node = op->output ? rdsbk_xml_path(reply.result, op->output) : reply.result;
    if (op->output && !node) {
        rc =
            rdsbk_error_set(RDSBK_EINVALID, "%s: no %s in the reply", op->api->service, op->output);
        goto cleanup;
    }
    rc = rdsbk_xml_read(out, node, op->shape);

cleanup:
    if (rc && out)
        rdsbk_shape_clean_up(out, op->shape);
    rdsbk_query_reply_clean_up(&reply);
    rdsbk_query_clean_up(q);
    return rc;
}

int rdsbk_svc_query_call(void *out, struct rdsbk_client *client,
                         const struct rdsbk_svc_query_op *op, const struct rdsbk_arg *args,
                         const void *in) {
    struct rdsbk_query q;
    int rc = rdsbk_svc_query_start(&q, op, args, in);

    return rdsbk_svc_query_finish(out, client, op, &q, rc);
}

int rdsbk_svc_query_simple(struct rdsbk_client *client, const struct rdsbk_svc_query_api *api,
                           const char *action, const struct rdsbk_arg *args) {
    const struct rdsbk_svc_query_op op = {.api = api, .action = action};

    return rdsbk_svc_query_call(NULL, client, &op, args, NULL);
}

int rdsbk_svc_query_string(char **out, struct rdsbk_client *client,
                           const struct rdsbk_svc_query_op *op, const struct rdsbk_arg *args,
                           const void *in, const char *what) {
    int rc = rdsbk_svc_query_call(out, client, op, args, in);

    if (rc == 0 && !*out)
        rc = rdsbk_error_set(RDSBK_EINVALID, "%s:%s: no %s in the reply", op->api->service,
                             op->action, what);
    return rc;
}

int rdsbk_svc_query_reply_at(struct rdsbk_query_reply *reply, const struct rdsbk_service_ctx *ctx,
                             const struct rdsbk_svc_query_op *op, const struct rdsbk_arg *args,
                             const void *in) {
    struct rdsbk_query q;
    int rc = rdsbk_svc_query_start(&q, op, args, in);

    memset(reply, 0, sizeof(*reply));
    if (rc == 0)
        rc = rdsbk_query_send(reply, ctx, &q);
    rdsbk_query_clean_up(&q);
    return rc;
}

int rdsbk_svc_query_reply(struct rdsbk_query_reply *reply, struct rdsbk_client *client,
                          const struct rdsbk_svc_query_op *op, const struct rdsbk_arg *args,
                          const void *in) {
    struct rdsbk_service_ctx ctx;
    int rc = rdsbk_client_service_ctx(&ctx, client, op->api->service);

    memset(reply, 0, sizeof(*reply));
    return rc ? rc : rdsbk_svc_query_reply_at(reply, &ctx, op, args, in);
}

/* The marker of the page after the one `result` holds (NULL: the last page), as `api` pages. */
static int s_next_marker(char **out, const struct rdsbk_svc_query_api *api, const xmlNode *result) {
    return api->token ? rdsbk_query_next_token(out, result, api->token)
                      : rdsbk_query_next_marker(out, result);
}

/* Reads the items of one page's Result into the listing's array. */
static int s_read_page(struct rdsbk_items *items, const struct rdsbk_svc_query_op *op,
                       const xmlNode *result) {
    return rdsbk_xml_read_list(items, result, op->output, op->item, op->shape);
}

int rdsbk_svc_query_list(struct rdsbk_items *out, struct rdsbk_client *client,
                         const struct rdsbk_svc_query_op *op, struct rdsbk_query *q, int rc) {
    struct rdsbk_query_reply reply = {0};
    size_t fixed = rdsbk_buf_len(&q->body); /* the members every page sends */
    char *marker = NULL;                    /* the one this page was asked for */
    char *next = NULL;
    int pages = 0;

    memset(out, 0, sizeof(*out));
    RDSBK_TRY(rc);
    for (;;) {
        RDSBK_TRY(rdsbk_query_add(q, op->api->token ? op->api->token : "Marker", marker));
        RDSBK_TRY(rdsbk_svc_query_send(&reply, client, op->api->service, q));
        RDSBK_TRY(s_read_page(out, op, reply.result));
        RDSBK_TRY(s_next_marker(&next, op->api, reply.result));
        rdsbk_query_reply_clean_up(&reply);
        rdsbk_buf_truncate(&q->body, fixed);
        if (!next)
            break;
        /* A service handing back the marker it was given would page forever. */
        if ((marker && strcmp(marker, next) == 0) || ++pages >= RDSBK_SVC_MAX_PAGES) {
            rc = rdsbk_error_set(RDSBK_ERROR, "%s:%s: pagination does not end", op->api->service,
                                 op->action);
            goto cleanup;
        }
        free(marker);
        marker = next;
        next = NULL;
    }

cleanup:
    if (rc)
        rdsbk_items_free(out, op->shape);
    rdsbk_query_reply_clean_up(&reply);
    rdsbk_query_clean_up(q);
    free(marker);
    free(next);
    return rc;
}

/* ---- awsJson ---- */

static int s_json_call(cJSON **out, struct rdsbk_client *client, const char *service,
                       const char *prefix, const char *op, cJSON *input, int rc,
                       bool fresh_connection) {
    struct rdsbk_service_ctx ctx;
    cJSON *reply = NULL;

    if (out)
        *out = NULL;
    RDSBK_TRY(rc);
    RDSBK_CHECK_ALLOC(input);
    RDSBK_TRY(rdsbk_client_service_ctx(&ctx, client, service));
    ctx.fresh_connection = fresh_connection;
    RDSBK_TRY(rdsbk_json_call(&reply, &ctx, prefix, op, input));
    if (out) {
        *out = reply;
        reply = NULL;
    }

cleanup:
    cJSON_Delete(input);
    cJSON_Delete(reply);
    return rc;
}

int rdsbk_svc_json_call(cJSON **out, struct rdsbk_client *client, const char *service,
                        const char *prefix, const char *op, cJSON *input, int rc) {
    return s_json_call(out, client, service, prefix, op, input, rc, false);
}

int rdsbk_svc_json_call_fresh(cJSON **out, struct rdsbk_client *client, const char *service,
                              const char *prefix, const char *op, cJSON *input, int rc) {
    return s_json_call(out, client, service, prefix, op, input, rc, true);
}

int rdsbk_svc_json_tag(struct rdsbk_client *client, const struct rdsbk_svc_json_api *api,
                       const struct rdsbk_arg *id, const struct rdsbk_tag *tags, size_t n) {
    const struct rdsbk_arg args[] = {*id, {NULL, NULL}};
    cJSON *input = NULL;
    int rc = rdsbk_svc_json_input(&input, args, NULL, NULL);

    if (rc == 0)
        rc = rdsbk_json_add(input, "Tags",
                            rdsbk_json_tags_list(tags, n, api->tag_key, api->tag_value));
    return rdsbk_svc_json_call(NULL, client, api->service, api->prefix, "TagResource", input, rc);
}

int rdsbk_svc_json_untag(struct rdsbk_client *client, const struct rdsbk_svc_json_api *api,
                         const struct rdsbk_arg *id, const char *const *keys, size_t n) {
    const struct rdsbk_arg args[] = {*id, {NULL, NULL}};
    cJSON *input = NULL;
    int rc = rdsbk_svc_json_input(&input, args, NULL, NULL);

    if (rc == 0)
        rc = rdsbk_json_add_strs(input, "TagKeys", keys, n);
    return rdsbk_svc_json_call(NULL, client, api->service, api->prefix, "UntagResource", input, rc);
}

int rdsbk_svc_json_tags(struct rdsbk_tag **out, size_t *n_out, const struct rdsbk_svc_json_api *api,
                        const cJSON *tags) {
    return rdsbk_json_tags_parse(out, n_out, tags, api->tag_key, api->tag_value);
}

/* What fetching an awsJson page needs. */
struct s_json_page {
    const struct rdsbk_service_ctx *ctx;
    const char *prefix;
    const char *op;
    cJSON *input;
    const char *token_in;
};

/* The input with this page's token (and no other), sent. */
static int s_json_page(cJSON **reply_out, const char *token, void *payload) {
    const struct s_json_page *p = payload;
    int rc;

    *reply_out = NULL;
    cJSON_DeleteItemFromObjectCaseSensitive(p->input, p->token_in);
    rc = rdsbk_json_add_opt_str(p->input, p->token_in, token);
    return rc ? rc : rdsbk_json_call(reply_out, p->ctx, p->prefix, p->op, p->input);
}

int rdsbk_svc_json_paginate(cJSON **out, const struct rdsbk_service_ctx *ctx, const char *prefix,
                            const char *operation, cJSON *input, const char *token_in,
                            const char *token_out, const char *list_field) {
    struct s_json_page page = {ctx, prefix, operation, input, token_in};
    int rc = rdsbk_svc_json_pages(out, s_json_page, &page, token_out, list_field, operation);

    /* The input is handed back as it came. */
    cJSON_DeleteItemFromObjectCaseSensitive(input, token_in);
    return rc;
}

int rdsbk_svc_json_list(cJSON **out, struct rdsbk_client *client,
                        const struct rdsbk_svc_json_api *api, const char *op, cJSON *input, int rc,
                        const char *list_field) {
    struct rdsbk_service_ctx ctx;

    *out = NULL;
    RDSBK_TRY(rc);
    RDSBK_CHECK_ALLOC(input);
    RDSBK_TRY(rdsbk_client_service_ctx(&ctx, client, api->service));
    rc = rdsbk_svc_json_paginate(out, &ctx, api->prefix, op, input, api->token_in, api->token_out,
                                 list_field);

cleanup:
    cJSON_Delete(input);
    return rc;
}

int rdsbk_svc_json_pages(cJSON **out, rdsbk_svc_json_page_fn page, void *payload,
                         const char *token_out, const char *list_field, const char *what) {
    cJSON *acc = cJSON_CreateArray();
    cJSON *reply = NULL;
    char *token = NULL; /* the token of the page asked for */
    char *next = NULL;
    int pages = 0;
    int rc;

    *out = NULL;
    RDSBK_CHECK_ALLOC(acc);
    for (;;) {
        cJSON *items;

        RDSBK_TRY(page(&reply, token, payload));
        items = cJSON_GetObjectItemCaseSensitive(reply, list_field);
        /* Move each item across (detach from the front). */
        while (cJSON_IsArray(items) && items->child)
            cJSON_AddItemToArray(acc, cJSON_DetachItemViaPointer(items, items->child));
        RDSBK_TRY(rdsbk_json_next_token(&next, reply, token_out));
        cJSON_Delete(reply);
        reply = NULL;
        if (!next)
            break;
        /* A service handing back the token it was given would page forever. */
        if ((token && strcmp(token, next) == 0) || ++pages >= RDSBK_SVC_MAX_PAGES) {
            rc = rdsbk_error_set(RDSBK_ERROR, "%s: pagination does not end", what);
            goto cleanup;
        }
        free(token);
        token = next;
        next = NULL;
    }
    *out = acc;
    acc = NULL;

cleanup:
    cJSON_Delete(acc);
    cJSON_Delete(reply);
    free(token);
    free(next);
    return rc;
}

int rdsbk_svc_json_input(cJSON **out, const struct rdsbk_arg *args,
                         const struct rdsbk_field *fields, const void *in) {
    cJSON *input = cJSON_CreateObject();
    int rc;

    *out = NULL;
    RDSBK_CHECK_ALLOC(input);
    RDSBK_TRY(rdsbk_json_add_args(input, args));
    RDSBK_TRY(rdsbk_json_add_fields(input, fields, in));
    *out = input;
    input = NULL;

cleanup:
    cJSON_Delete(input);
    return rc;
}

int rdsbk_svc_json_take(cJSON **out, cJSON *obj, const char *name, const char *op) {
    *out = cJSON_DetachItemFromObjectCaseSensitive(obj, name);
    if (!*out)
        return rdsbk_error_set(RDSBK_EINVALID, "%s: no %s in the reply", op, name);
    return 0;
}

int rdsbk_svc_json_take_str(char **out, const cJSON *reply, const char *name, const char *op) {
    int rc = rdsbk_json_dup_str(out, reply, name);

    if (rc == 0 && !*out)
        rc = rdsbk_error_set(RDSBK_EINVALID, "%s: no %s in the reply", op, name);
    return rc;
}

int rdsbk_svc_json_failed_entries(const cJSON *reply, const char *entries_field,
                                  const char *operation) {
    const cJSON *count = cJSON_GetObjectItemCaseSensitive(reply, "FailedEntryCount");
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(reply, entries_field);
    const cJSON *e;
    char message[512];

    if (!cJSON_IsNumber(count) || count->valuedouble <= 0)
        return 0;
    cJSON_ArrayForEach(e, entries) {
        const char *code = rdsbk_json_str(e, "ErrorCode");
        const char *msg = rdsbk_json_str(e, "ErrorMessage");
        const char *id = rdsbk_json_str(e, "TargetId");
        if (!code)
            continue;
        snprintf(message, sizeof(message), "%s: %d failed entr%s; first%s%s: %s: %s", operation,
                 count->valueint, count->valueint == 1 ? "y" : "ies", id ? " target " : "",
                 id ? id : "", code, msg ? msg : "");
        return rdsbk_protocol_map_error(
            rdsbk_error_set_aws(rdsbk_aws_error_to_code(400, code), 200, code, NULL, message));
    }
    return rdsbk_error_set(RDSBK_ERROR, "%s: %d failed entries", operation, count->valueint);
}
