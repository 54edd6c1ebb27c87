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
    return *out ? 0 : rdsbk_error_oom();
}

cJSON *rdsbk_json_tags_map(const struct rdsbk_tag *tags, size_t n) {
    cJSON *map = cJSON_CreateObject();

    for (size_t i = 0; map && i < n; i++)
        if (!cJSON_AddStringToObject(map, tags[i].key, tags[i].value ? tags[i].value : "")) {
            cJSON_Delete(map);
            map = NULL;
        }
    if (!map)
        rdsbk_error_oom();
    return map;
}

cJSON *rdsbk_json_tags_list(const struct rdsbk_tag *tags, size_t n, const char *key_field,
                            const char *value_field) {
    cJSON *list = cJSON_CreateArray();

    for (size_t i = 0; list && i < n; i++) {
        cJSON *tag = cJSON_CreateObject();
        if (!tag || !cJSON_AddItemToArray(list, tag) ||
            !cJSON_AddStringToObject(tag, key_field, tags[i].key) ||
            !cJSON_AddStringToObject(tag, value_field, tags[i].value ? tags[i].value : "")) {
            cJSON_Delete(list);
            list = NULL;
        }
    }
    if (!list)
        rdsbk_error_oom();
    return list;
}

int rdsbk_json_tags_parse(struct rdsbk_tag **out, size_t *n_out, const cJSON *json,
                          const char *key_field, const char *value_field) {
    struct rdsbk_tag *tags = NULL;
    size_t n = 0;
    const cJSON *item;
    int result = RDSBK_ENOMEM;

    *out = NULL;
    *n_out = 0;
    tags = calloc((size_t)cJSON_GetArraySize(json) + 1, sizeof(*tags));
    if (!tags)
        goto cleanup;
    cJSON_ArrayForEach(item, json) {
        const char *k;
        const cJSON *v;
        if (cJSON_IsObject(json)) {
            k = item->string;
            v = item;
        } else {
            const cJSON *kj = cJSON_GetObjectItemCaseSensitive(item, key_field);
            k = cJSON_IsString(kj) ? kj->valuestring : NULL;
            v = cJSON_GetObjectItemCaseSensitive(item, value_field);
        }
        if (!k)
            continue;
        tags[n].key = strdup(k);
        tags[n].value = strdup(cJSON_IsString(v) ? v->valuestring : "");
        n++;
        if (!tags[n - 1].key || !tags[n - 1].value)
            goto cleanup;
    }
    *out = tags;
    *n_out = n;
    tags = NULL;
    result = 0;

cleanup:
    if (result)
        rdsbk_error_set(result, "out of memory");
    rdsbk_aws_tags_free(tags, n);
    return result;
}
