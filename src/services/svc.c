#include "services/svc.h"
#include "rdsbk/aws_error.h"
#include "rdsbk/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rdsbk_svc_json_take(cJSON **out, cJSON *obj, const char *name, const char *op) {
    *out = cJSON_DetachItemFromObjectCaseSensitive(obj, name);
    if (!*out)
        return rdsbk_error_set(RDSBK_EINVALID, "%s: no %s in the reply", op, name);
    return 0;
}

int rdsbk_svc_json_paginate(cJSON **out, const struct rdsbk_service_ctx *ctx, const char *prefix,
                            const char *operation, cJSON *input, const char *token_in,
                            const char *token_out, const char *list_field) {
    cJSON *acc = cJSON_CreateArray();
    char *token = NULL;
    char *sent = NULL; /* the token of the page just asked for */
    int pages = 0;
    int result = acc ? 0 : rdsbk_error_oom();

    *out = NULL;
    while (result == 0) {
        cJSON *reply = NULL;
        cJSON *items;

        cJSON_DeleteItemFromObjectCaseSensitive(input, token_in);
        result = rdsbk_json_add_opt_str(input, token_in, token);
        free(sent);
        sent = token;
        token = NULL;
        if (result == 0)
            result = rdsbk_json_call(&reply, ctx, prefix, operation, input);
        if (result == 0) {
            items = cJSON_GetObjectItemCaseSensitive(reply, list_field);
            /* Move each item across (detach from the front). */
            while (cJSON_IsArray(items) && items->child)
                cJSON_AddItemToArray(acc, cJSON_DetachItemViaPointer(items, items->child));
            result = rdsbk_json_next_token(&token, reply, token_out);
        }
        cJSON_Delete(reply);
        if (result || !token)
            break;
        /* A service handing back the token it was given would page forever. */
        if ((sent && strcmp(sent, token) == 0) || ++pages >= RDSBK_SVC_MAX_PAGES)
            result = rdsbk_error_set(RDSBK_ERROR, "%s: pagination does not end", operation);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(input, token_in);
    free(token);
    free(sent);
    if (result == 0) {
        *out = acc;
        acc = NULL;
    }
    cJSON_Delete(acc);
    return result;
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
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "ErrorCode");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "ErrorMessage");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "TargetId");
        if (!cJSON_IsString(code))
            continue;
        snprintf(message, sizeof(message), "%s: %d failed entr%s; first%s%s: %s: %s", operation,
                 count->valueint, count->valueint == 1 ? "y" : "ies",
                 cJSON_IsString(id) ? " target " : "", cJSON_IsString(id) ? id->valuestring : "",
                 code->valuestring, cJSON_IsString(msg) ? msg->valuestring : "");
        return rdsbk_protocol_map_error(
            rdsbk_error_set_aws(rdsbk_aws_error_to_code(400, code->valuestring), 200,
                                code->valuestring, NULL, message));
    }
    return rdsbk_error_set(RDSBK_ERROR, "%s: %d failed entries", operation, count->valueint);
}

int rdsbk_svc_query_send(struct rdsbk_query_reply *reply, struct rdsbk_client *client,
                         const char *service, const struct rdsbk_query *q) {
    struct rdsbk_service_ctx ctx;
    int rc = rdsbk_client_service_ctx(&ctx, client, service);

    memset(reply, 0, sizeof(*reply));
    if (rc)
        return rc;
    return rdsbk_query_send(reply, &ctx, q);
}

int rdsbk_svc_query_simple(struct rdsbk_client *client, const char *service, struct rdsbk_query *q,
                           int rc) {
    struct rdsbk_query_reply reply = {0};

    if (rc == 0)
        rc = rdsbk_svc_query_send(&reply, client, service, q);
    rdsbk_query_reply_clean_up(&reply);
    rdsbk_query_clean_up(q);
    return rc;
}

static int s_json_call(cJSON **out, struct rdsbk_client *client, const char *service,
                       const char *prefix, const char *op, cJSON *input, int rc,
                       bool fresh_connection) {
    struct rdsbk_service_ctx ctx;
    cJSON *reply = NULL;

    if (out)
        *out = NULL;
    if (rc == 0 && !input)
        rc = rdsbk_error_oom();
    if (rc == 0)
        rc = rdsbk_client_service_ctx(&ctx, client, service);
    if (rc == 0) {
        ctx.fresh_connection = fresh_connection;
        rc = rdsbk_json_call(&reply, &ctx, prefix, op, input);
    }
    cJSON_Delete(input);
    if (rc == 0 && out)
        *out = reply;
    else
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
