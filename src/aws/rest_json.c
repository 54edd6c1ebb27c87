#include "rdsbk/error.h"
#include "rdsbk/protocol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * restJson1 (Lambda):
 *
 *   <METHOD> /2015-03-31/functions/<label, URI-encoded>/policy?Qualifier=x HTTP/1.1
 *   X-Amz-Invocation-Type: Event                  (members bound to headers)
 *   Content-Type: application/json
 *
 *   {"Member": value, ...}                        (members bound to the body)
 *
 * Success is any 2xx (Lambda: 200, 201 Created, 202 Accepted, 204 No Content).
 */

int rdsbk_rest_init(struct rdsbk_rest *r, const char *method, const char *operation) {
    memset(r, 0, sizeof(*r));
    r->method = strdup(method);
    r->operation = strdup(operation);
    if (!r->method || !r->operation) {
        rdsbk_rest_clean_up(r);
        return rdsbk_error_oom();
    }
    return 0;
}

void rdsbk_rest_clean_up(struct rdsbk_rest *r) {
    free(r->method);
    free(r->operation);
    rdsbk_buf_clean_up(&r->path);
    rdsbk_buf_clean_up(&r->query);
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    rdsbk_buf_clean_up(&r->body);
    free(r->content_type);
    memset(r, 0, sizeof(*r));
}

int rdsbk_rest_path(struct rdsbk_rest *r, const char *literal) {
    return rdsbk_buf_adds(&r->path, literal);
}

int rdsbk_rest_label(struct rdsbk_rest *r, const char *value, bool greedy) {
    return rdsbk_protocol_uri_encode(&r->path, value, strlen(value), greedy);
}

int rdsbk_rest_query(struct rdsbk_rest *r, const char *name, const char *value) {
    int rc = 0;

    if (!value)
        return 0;
    if (r->query.len)
        rc = rdsbk_buf_addc(&r->query, '&');
    if (rc == 0)
        rc = rdsbk_protocol_uri_encode(&r->query, name, strlen(name), false);
    if (rc == 0)
        rc = rdsbk_buf_addc(&r->query, '=');
    if (rc == 0)
        rc = rdsbk_protocol_uri_encode(&r->query, value, strlen(value), false);
    return rc;
}

int rdsbk_rest_header(struct rdsbk_rest *r, const char *name, const char *value) {
    struct rdsbk_header *grown;
    char *n;
    char *v;

    if (!value)
        return 0;
    grown = realloc(r->headers, (r->n_headers + 1) * sizeof(*grown));
    if (!grown)
        return rdsbk_error_oom();
    r->headers = grown;
    n = strdup(name);
    v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return rdsbk_error_oom();
    }
    r->headers[r->n_headers].name = n;
    r->headers[r->n_headers].value = v;
    r->n_headers++;
    return 0;
}

int rdsbk_rest_body(struct rdsbk_rest *r, const void *data, size_t len, const char *content_type) {
    char *ct = strdup(content_type);

    if (!ct)
        return rdsbk_error_oom();
    free(r->content_type);
    r->content_type = ct;
    rdsbk_buf_reset(&r->body);
    return rdsbk_buf_add(&r->body, data, len);
}

int rdsbk_rest_json(struct rdsbk_rest *r, const cJSON *body) {
    char *json = cJSON_PrintUnformatted(body);
    int rc;

    if (!json)
        return rdsbk_error_oom();
    rc = rdsbk_rest_body(r, json, strlen(json), "application/json");
    free(json);
    return rc;
}

int rdsbk_rest_build(struct rdsbk_http_request *out, const struct rdsbk_service_ctx *ctx,
                     const struct rdsbk_rest *r) {
    struct rdsbk_buf url = RDSBK_BUF_INIT;
    int result = RDSBK_ENOMEM;

    memset(out, 0, sizeof(*out));
    /* <endpoint><path>[?<query>] */
    if (rdsbk_buf_printf(&url, "%s%s", ctx->endpoint, r->path.len ? r->path.ptr : "/"))
        goto cleanup;
    if (r->query.len && rdsbk_buf_printf(&url, "?%s", r->query.ptr))
        goto cleanup;
    out->method = strdup(r->method);
    out->url = rdsbk_buf_detach(&url);
    if (!out->method || !out->url)
        goto cleanup;
    for (size_t i = 0; i < r->n_headers; i++)
        if (rdsbk_http_request_add_header(out, r->headers[i].name, r->headers[i].value))
            goto cleanup;
    if (r->content_type) {
        if (rdsbk_http_request_add_header(out, "Content-Type", r->content_type))
            goto cleanup;
        out->body = malloc(r->body.len ? r->body.len : 1);
        if (!out->body)
            goto cleanup;
        if (r->body.len)
            memcpy(out->body, r->body.ptr, r->body.len);
        out->body_len = r->body.len;
    }
    result = 0;

cleanup:
    if (result) {
        rdsbk_error_set(result, "out of memory");
        rdsbk_http_request_clean_up(out);
    }
    rdsbk_buf_clean_up(&url);
    return result;
}

void rdsbk_rest_reply_clean_up(struct rdsbk_rest_reply *reply) {
    rdsbk_http_response_clean_up(&reply->resp);
    cJSON_Delete(reply->json);
    memset(reply, 0, sizeof(*reply));
}

const char *rdsbk_rest_reply_header(const struct rdsbk_rest_reply *reply, const char *name) {
    return rdsbk_http_response_header(&reply->resp, name);
}

static bool s_is_json(const struct rdsbk_http_response *resp) {
    const char *ct = rdsbk_http_response_header(resp, "Content-Type");
    size_t i = 0;

    if (ct && strstr(ct, "json"))
        return true;
    /* Lambda sometimes omits the content type; a body opening with '{' is JSON. */
    while (i < resp->body.len && (resp->body.ptr[i] == ' ' || resp->body.ptr[i] == '\n'))
        i++;
    return !ct && i < resp->body.len && resp->body.ptr[i] == '{';
}

int rdsbk_rest_send(struct rdsbk_rest_reply *reply, const struct rdsbk_service_ctx *ctx,
                    const struct rdsbk_rest *r) {
    struct rdsbk_http_request req = {0};
    char operation[256];
    int result;

    memset(reply, 0, sizeof(*reply));
    result = rdsbk_rest_build(&req, ctx, r);
    if (result)
        goto cleanup;
    snprintf(operation, sizeof(operation), "%s:%s", ctx->signing.service, r->operation);
    result = rdsbk_protocol_send(&reply->resp, ctx, &req, operation);
    reply->status = reply->resp.status;
    if (result)
        goto cleanup;
    if (!r->raw_reply && reply->resp.body.len && s_is_json(&reply->resp)) {
        reply->json = cJSON_ParseWithLength(reply->resp.body.ptr, reply->resp.body.len);
        if (!reply->json) {
            result = rdsbk_error_set(RDSBK_EINVALID, "%s: malformed JSON in the reply", operation);
            goto cleanup;
        }
    }

cleanup:
    if (result)
        rdsbk_rest_reply_clean_up(reply);
    rdsbk_http_request_clean_up(&req);
    return result;
}
