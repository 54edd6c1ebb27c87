/*
 * restJson1 (Lambda), and the REST request restXml shares (rest_xml.c):
 *
 *   <METHOD> /2015-03-31/functions/<label, URI-encoded>/policy?Qualifier=x HTTP/1.1
 *   X-Amz-Invocation-Type: Event                  (members bound to headers)
 *   Content-Type: application/json
 *
 *   {"Member": value, ...}                        (members bound to the body)
 *
 * Success is any 2xx (Lambda: 200, 201 Created, 202 Accepted, 204 No Content).
 */
#include "protocol_internal.h"
#include "rdsbk/error.h"
#include "rdsbk/protocol.h"
#include "rdsbk/str.h"

#include <stdlib.h>
#include <string.h>

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

/* Whether the `len` bytes at `seg` are a dot segment, "." or "..". */
static bool s_dot_segment(const char *seg, size_t len) {
    return (len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.');
}

/* A greedy label: each '/'-separated segment encoded, dot segments as %2E. */
static int s_greedy_label(struct rdsbk_buf *out, const char *value) {
    int rc = 0;

    for (const char *seg = value; rc == 0; seg++) {
        size_t len = strcspn(seg, "/");

        if (s_dot_segment(seg, len))
            rc = rdsbk_buf_adds(out, len == 1 ? "%2E" : "%2E%2E");
        else
            rc = rdsbk_protocol_uri_encode(out, seg, len, false);
        seg += len;
        if (rc || *seg == '\0')
            break;
        rc = rdsbk_buf_addc(out, '/');
    }
    return rc;
}

int rdsbk_rest_label(struct rdsbk_rest *r, const char *value, bool greedy) {
    if (greedy)
        return s_greedy_label(&r->path, value);
    return rdsbk_protocol_uri_encode(&r->path, value, strlen(value), false);
}

int rdsbk_rest_query(struct rdsbk_rest *r, const char *name, const char *value) {
    if (!value)
        return 0;
    return rdsbk_protocol_add_pair(&r->query, rdsbk_buf_len(&r->query) ? "&" : "", name, value);
}

int rdsbk_rest_header(struct rdsbk_rest *r, const char *name, const char *value) {
    return value ? rdsbk_protocol_add_header(&r->headers, &r->n_headers, name, value) : 0;
}

int rdsbk_rest_body(struct rdsbk_rest *r, const void *data, size_t len, const char *content_type) {
    char *ct = NULL;
    int rc;

    RDSBK_TRY(rdsbk_strdup_into(&ct, content_type));
    free(r->content_type);
    r->content_type = ct;
    rdsbk_buf_reset(&r->body);
    rc = rdsbk_buf_add(&r->body, data, len);

cleanup:
    return rc;
}

int rdsbk_rest_json(struct rdsbk_rest *r, const cJSON *body) {
    char *json = cJSON_PrintUnformatted(body);
    int rc;

    RDSBK_CHECK_ALLOC(json);
    rc = rdsbk_rest_body(r, json, strlen(json), "application/json");

cleanup:
    free(json);
    return rc;
}

int rdsbk_rest_build(struct rdsbk_http_request *out, const struct rdsbk_service_ctx *ctx,
                     const struct rdsbk_rest *r) {
    int rc;

    memset(out, 0, sizeof(*out));
    /* <endpoint><path>[?<query>] */
    RDSBK_TRY(rdsbk_protocol_request_init(out, r->method, ctx->endpoint,
                                          rdsbk_buf_len(&r->path) ? rdsbk_buf_cstr(&r->path) : "/",
                                          rdsbk_buf_cstr(&r->query)));
    for (size_t i = 0; i < r->n_headers; i++)
        RDSBK_TRY(rdsbk_http_request_add_header(out, r->headers[i].name, r->headers[i].value));
    if (r->content_type)
        RDSBK_TRY(rdsbk_protocol_request_body(out, r->content_type, rdsbk_buf_cstr(&r->body),
                                              rdsbk_buf_len(&r->body)));

cleanup:
    if (rc)
        rdsbk_http_request_clean_up(out);
    return rc;
}

void rdsbk_rest_reply_clean_up(struct rdsbk_rest_reply *reply) {
    rdsbk_http_response_clean_up(&reply->resp);
    cJSON_Delete(reply->json);
    xmlFreeDoc(reply->xml);
    memset(reply, 0, sizeof(*reply));
}

const char *rdsbk_rest_reply_header(const struct rdsbk_rest_reply *reply, const char *name) {
    return rdsbk_http_response_header(&reply->resp, name);
}

int rdsbk_rest_send(struct rdsbk_rest_reply *reply, const struct rdsbk_service_ctx *ctx,
                    const struct rdsbk_rest *r) {
    struct rdsbk_http_request req = {0};
    const struct rdsbk_buf *body = &reply->resp.body;
    int rc;

    memset(reply, 0, sizeof(*reply));
    RDSBK_TRY(rdsbk_rest_build(&req, ctx, r));
    rc = rdsbk_protocol_send(&reply->resp, ctx, &req, r->operation);
    reply->status = reply->resp.status;
    if (rc && r->xml)
        rc = rdsbk_rest_xml_error(rc, &reply->resp, ctx->signing.region);
    if (rc || r->raw_reply)
        goto cleanup;
    /* the body is JSON (or XML) whatever the Content-Type says (Lambda sometimes sends none,
     * other AWS-compatible servers text/plain), as botocore reads it */
    if (r->xml)
        rc = rdsbk_rest_xml_reply(&reply->xml, body, ctx->signing.service, r->operation);
    else
        rc = rdsbk_protocol_json_reply(&reply->json, body, ctx->signing.service, r->operation);

cleanup:
    if (rc) { /* the error reply's status, headers and body stay; nothing parsed does */
        cJSON_Delete(reply->json);
        reply->json = NULL;
        xmlFreeDoc(reply->xml);
        reply->xml = NULL;
    }
    rdsbk_http_request_clean_up(&req);
    return rc;
}
