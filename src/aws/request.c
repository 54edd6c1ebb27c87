/*
 * The HTTP request the protocols build and the signer signs (rdsbk/aws.h), and the credentials
 * that sign it: their copies and their wiping clean-up.
 */
#include "protocol_internal.h"
#include "rdsbk/aws.h"
#include "rdsbk/error.h"
#include "rdsbk/str.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void s_free_secure(char *s) {
    if (s) {
        volatile char *p = s;
        while (*p)
            *p++ = 0;
        free(s);
    }
}

void rdsbk_credentials_clean_up(struct rdsbk_credentials *creds) {
    free(creds->access_key_id);
    s_free_secure(creds->secret_access_key);
    s_free_secure(creds->session_token);
    memset(creds, 0, sizeof(*creds));
}

int rdsbk_credentials_copy(struct rdsbk_credentials *dst, const struct rdsbk_credentials *src) {
    memset(dst, 0, sizeof(*dst));
    dst->expiration = src->expiration;
    if (rdsbk_strdup_into(&dst->access_key_id, src->access_key_id) ||
        rdsbk_strdup_into(&dst->secret_access_key, src->secret_access_key) ||
        rdsbk_strdup_into(&dst->session_token, src->session_token)) {
        rdsbk_credentials_clean_up(dst);
        return RDSBK_ENOMEM;
    }
    return 0;
}

void rdsbk_http_request_clean_up(struct rdsbk_http_request *req) {
    free(req->method);
    free(req->url);
    for (size_t i = 0; i < req->n_headers; i++) {
        free(req->headers[i].name);
        /* Authorization and X-Amz-Security-Token carry secrets-derived values. */
        s_free_secure(req->headers[i].value);
    }
    free(req->headers);
    free(req->body);
    memset(req, 0, sizeof(*req));
}

int rdsbk_protocol_add_header(struct rdsbk_header **headers, size_t *n, const char *name,
                              const char *value) {
    struct rdsbk_header *grown = realloc(*headers, (*n + 1) * sizeof(*grown));
    struct rdsbk_header h = {NULL, NULL};
    int rc;

    RDSBK_CHECK_ALLOC(grown);
    *headers = grown;
    RDSBK_TRY(rdsbk_strdup_into(&h.name, name));
    RDSBK_TRY(rdsbk_strdup_into(&h.value, value));
    grown[(*n)++] = h;
    h.name = NULL;
    h.value = NULL;

cleanup:
    free(h.name);
    free(h.value);
    return rc;
}

int rdsbk_http_request_add_header(struct rdsbk_http_request *req, const char *name,
                                  const char *value) {
    return rdsbk_protocol_add_header(&req->headers, &req->n_headers, name, value);
}

const char *rdsbk_http_request_header(const struct rdsbk_http_request *req, const char *name) {
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

int rdsbk_protocol_request_init(struct rdsbk_http_request *req, const char *method,
                                const char *endpoint, const char *path, const char *query) {
    int rc;

    RDSBK_TRY(rdsbk_strdup_into(&req->method, method));
    if (query && *query)
        rc = rdsbk_strfmt(&req->url, "%s%s?%s", endpoint, path, query);
    else
        rc = rdsbk_strfmt(&req->url, "%s%s", endpoint, path);

cleanup:
    return rc;
}

int rdsbk_protocol_request_body(struct rdsbk_http_request *req, const char *content_type,
                                const void *body, size_t len) {
    int rc;

    req->body = malloc(len ? len : 1);
    RDSBK_CHECK_ALLOC(req->body);
    if (len)
        memcpy(req->body, body, len);
    req->body_len = len;
    rc = rdsbk_http_request_add_header(req, "Content-Type", content_type);

cleanup:
    return rc;
}
