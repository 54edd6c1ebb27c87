#include "rdsbk/aws.h"
#include "rdsbk/error.h"

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

static int s_dup(char **out, const char *s) {
    *out = NULL;
    if (!s)
        return 0;
    *out = strdup(s);
    return *out ? 0 : -1;
}

int rdsbk_credentials_copy(struct rdsbk_credentials *dst, const struct rdsbk_credentials *src) {
    memset(dst, 0, sizeof(*dst));
    dst->expiration = src->expiration;
    if (s_dup(&dst->access_key_id, src->access_key_id) ||
        s_dup(&dst->secret_access_key, src->secret_access_key) ||
        s_dup(&dst->session_token, src->session_token)) {
        rdsbk_credentials_clean_up(dst);
        return rdsbk_error_oom();
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

int rdsbk_http_request_add_header(struct rdsbk_http_request *req, const char *name,
                                  const char *value) {
    struct rdsbk_header *h = realloc(req->headers, (req->n_headers + 1) * sizeof(*h));
    char *n;
    char *v;

    if (!h)
        return rdsbk_error_oom();
    req->headers = h;
    n = strdup(name);
    v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return rdsbk_error_oom();
    }
    req->headers[req->n_headers].name = n;
    req->headers[req->n_headers].value = v;
    req->n_headers++;
    return 0;
}

const char *rdsbk_http_request_header(const struct rdsbk_http_request *req, const char *name) {
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}
