#include "rdsbk/error.h"
#include "rdsbk/protocol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * awsJson1.1:
 *
 *   POST / HTTP/1.1
 *   Content-Type: application/x-amz-json-1.1
 *   X-Amz-Target: <TargetPrefix>.<Operation>     (TrentService.CreateKey, AWSEvents.PutRule)
 *
 *   {"Member": value, ...}
 *
 * The reply is a JSON object (possibly empty); errors carry "__type" and are parsed by
 * rdsbk_aws_send.
 */

static int s_build(struct rdsbk_http_request *req, const struct rdsbk_service_ctx *ctx,
                   const char *target, const cJSON *input) {
    struct rdsbk_buf url = RDSBK_BUF_INIT;
    char *json = NULL;
    int result = RDSBK_ENOMEM;

    json = input ? cJSON_PrintUnformatted(input) : strdup("{}");
    if (!json || rdsbk_buf_printf(&url, "%s/", ctx->endpoint))
        goto cleanup;
    req->method = strdup("POST");
    req->url = rdsbk_buf_detach(&url);
    if (!req->method || !req->url)
        goto cleanup;
    req->body_len = strlen(json);
    req->body = (unsigned char *)json;
    json = NULL;
    if (rdsbk_http_request_add_header(req, "Content-Type", "application/x-amz-json-1.1") ||
        rdsbk_http_request_add_header(req, "X-Amz-Target", target))
        goto cleanup;
    result = 0;

cleanup:
    if (result)
        rdsbk_error_set(result, "out of memory");
    free(json);
    rdsbk_buf_clean_up(&url);
    return result;
}

int rdsbk_json_call(cJSON **out, const struct rdsbk_service_ctx *ctx, const char *target_prefix,
                    const char *operation, const cJSON *input) {
    struct rdsbk_http_request req = {0};
    struct rdsbk_http_response resp = {0};
    char target[256];
    char op_name[256];
    cJSON *reply = NULL;
    int result;

    *out = NULL;
    snprintf(target, sizeof(target), "%s.%s", target_prefix, operation);
    snprintf(op_name, sizeof(op_name), "%s:%s", ctx->signing.service, operation);
    result = s_build(&req, ctx, target, input);
    if (result)
        goto cleanup;
    result = rdsbk_protocol_send(&resp, ctx, &req, op_name);
    if (result)
        goto cleanup;
    if (resp.body.len == 0)
        reply = cJSON_CreateObject();
    else
        reply = cJSON_ParseWithLength(resp.body.ptr, resp.body.len);
    if (!reply || !cJSON_IsObject(reply)) {
        result = rdsbk_error_set(RDSBK_EINVALID, "%s: the reply is not a JSON object", op_name);
        goto cleanup;
    }
    *out = reply;
    reply = NULL;

cleanup:
    cJSON_Delete(reply);
    rdsbk_http_request_clean_up(&req);
    rdsbk_http_response_clean_up(&resp);
    return result;
}

int rdsbk_json_next_token(char **out, const cJSON *reply, const char *field) {
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(reply, field);

    *out = NULL;
    if (!cJSON_IsString(token) || !token->valuestring[0])
        return 0;
    *out = strdup(token->valuestring);
    return *out ? 0 : rdsbk_error_set(RDSBK_ENOMEM, "out of memory");
}
