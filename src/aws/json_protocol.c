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
 * rdsbk_aws_send. Also the JSON forms of tags and request members, which restJson1 shares.
 */
#include "protocol_internal.h"
#include "rdsbk/error.h"
#include "rdsbk/json_util.h"
#include "rdsbk/protocol.h"
#include "rdsbk/str.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* POST <endpoint>/ with the target header and the JSON of `input` ({} when NULL). */
static int s_build(struct rdsbk_http_request *req, const struct rdsbk_service_ctx *ctx,
                   const char *target_prefix, const char *operation, const cJSON *input) {
    char *json = input ? cJSON_PrintUnformatted(input) : strdup("{}");
    char *target = NULL;
    int rc;

    RDSBK_CHECK_ALLOC(json);
    RDSBK_TRY(rdsbk_strfmt(&target, "%s.%s", target_prefix, operation));
    RDSBK_TRY(rdsbk_protocol_request_init(req, "POST", ctx->endpoint, "/", NULL));
    RDSBK_TRY(rdsbk_protocol_request_body(req, "application/x-amz-json-1.1", json, strlen(json)));
    rc = rdsbk_http_request_add_header(req, "X-Amz-Target", target);

cleanup:
    free(target);
    free(json);
    return rc;
}

int rdsbk_protocol_json_reply(cJSON **out, const struct rdsbk_buf *body, const char *service,
                              const char *operation) {
    size_t len;
    const char *text = rdsbk_protocol_reply_text(&len, body);

    *out = NULL;
    if (len == 0)
        return 0;
    *out = cJSON_ParseWithLength(text, len);
    if (cJSON_IsNull(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return 0;
    }
    if (cJSON_IsObject(*out))
        return 0;
    cJSON_Delete(*out);
    *out = NULL;
    return rdsbk_error_set(RDSBK_EINVALID, "%s:%s: the reply is not a JSON object", service,
                           operation);
}

int rdsbk_json_call(cJSON **out, const struct rdsbk_service_ctx *ctx, const char *target_prefix,
                    const char *operation, const cJSON *input) {
    struct rdsbk_http_request req = {0};
    struct rdsbk_http_response resp = {0};
    cJSON *reply = NULL;
    int rc;

    *out = NULL;
    RDSBK_TRY(s_build(&req, ctx, target_prefix, operation, input));
    RDSBK_TRY(rdsbk_protocol_send(&resp, ctx, &req, operation));
    RDSBK_TRY(rdsbk_protocol_json_reply(&reply, &resp.body, ctx->signing.service, operation));
    if (!reply)
        reply = cJSON_CreateObject();
    RDSBK_CHECK_ALLOC(reply);
    *out = reply;
    reply = NULL;

cleanup:
    cJSON_Delete(reply);
    rdsbk_http_request_clean_up(&req);
    rdsbk_http_response_clean_up(&resp);
    return rc;
}

int rdsbk_json_next_token(char **out, const cJSON *reply, const char *field) {
    const char *token = rdsbk_json_str(reply, field);

    return rdsbk_strdup_into(out, token && *token ? token : NULL);
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

/* Appends the tag {key, value} (value NULL: "") to `items`. */
static int s_push_tag(struct rdsbk_items *items, const char *key, const char *value) {
    struct rdsbk_tag *tag;
    int rc;

    RDSBK_TRY(rdsbk_items_push((void **)&tag, items, sizeof(*tag)));
    RDSBK_TRY(rdsbk_strdup_into(&tag->key, key));
    rc = rdsbk_strdup_into(&tag->value, value ? value : "");

cleanup:
    return rc;
}

int rdsbk_json_tags_parse(struct rdsbk_tag **out, size_t *n_out, const cJSON *json,
                          const char *key_field, const char *value_field) {
    struct rdsbk_items items = {0};
    const cJSON *item;
    int rc;

    RDSBK_TRY(rdsbk_items_alloc(&items, sizeof(struct rdsbk_tag)));
    cJSON_ArrayForEach(item, json) {
        /* a map {"k": "v"}, or a list [{"<key_field>": "k", "<value_field>": "v"}] */
        bool map = cJSON_IsObject(json);
        const char *key = map ? item->string : rdsbk_json_str(item, key_field);
        const char *value = map ? (cJSON_IsString(item) ? item->valuestring : NULL)
                                : rdsbk_json_str(item, value_field);
        if (key)
            RDSBK_TRY(s_push_tag(&items, key, value));
    }

cleanup:
    if (rc)
        rdsbk_items_free(&items, &rdsbk_tag_shape);
    *out = items.data;
    *n_out = items.n;
    return rc;
}

static int s_add_field(cJSON *obj, const struct rdsbk_field *f, const void *in) {
    const struct rdsbk_tag *tags;
    size_t n;

    switch (f->kind) {
    case RDSBK_FIELD_STR:
        return rdsbk_json_add_opt_str(obj, f->name, RDSBK_FIELD_IN(const char *, in, f->offset));
    case RDSBK_FIELD_INT:
        if (RDSBK_FIELD_IN(int, in, f->offset) <= 0)
            return 0;
        return rdsbk_json_add_num(obj, f->name, RDSBK_FIELD_IN(int, in, f->offset));
    case RDSBK_FIELD_TRUE:
        return RDSBK_FIELD_IN(bool, in, f->offset)
                   ? rdsbk_json_add(obj, f->name, cJSON_CreateTrue())
                   : 0;
    case RDSBK_FIELD_TAGS:
        tags = RDSBK_FIELD_IN(const struct rdsbk_tag *, in, f->offset);
        n = RDSBK_FIELD_IN(size_t, in, f->n_offset);
        if (n == 0)
            return 0;
        if (!f->member)
            return rdsbk_json_add(obj, f->name, rdsbk_json_tags_map(tags, n));
        return rdsbk_json_add(obj, f->name, rdsbk_json_tags_list(tags, n, f->member, f->value));
    default:
        assert(!"not a field an awsJson request can send");
        return RDSBK_ERROR;
    }
}

int rdsbk_json_add_fields(cJSON *obj, const struct rdsbk_field *fields, const void *in) {
    int rc = 0;

    for (const struct rdsbk_field *f = fields; f && f->name && rc == 0; f++)
        rc = s_add_field(obj, f, in);
    return rc;
}

int rdsbk_json_add_args(cJSON *obj, const struct rdsbk_arg *args) {
    int rc = 0;

    for (const struct rdsbk_arg *a = args; a && a->name && rc == 0; a++)
        rc = rdsbk_json_add_opt_str(obj, a->name, a->value);
    return rc;
}
