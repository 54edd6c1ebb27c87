#ifndef RDSBK_TEST_PROTOCOL_FAKE_H
#define RDSBK_TEST_PROTOCOL_FAKE_H

/*
 * A fake AWS for unit tests, plugged in under rdsbk_http_send (rdsbk_http_set_transport): it
 * records every request that reaches the wire (signed by the real rdsbk_aws_send) and answers
 * with canned replies, in order. Header-only so that each test executable can include it.
 */

#include "rdsbk/buf.h"
#include "rdsbk/client.h"
#include "rdsbk/error.h"
#include "rdsbk/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FAKE_MAX 16

struct fake_reply {
    long status;
    const char *content_type; /* NULL: none */
    const char *body;
    const char *header_name; /* one extra header, or NULL */
    const char *header_value;
};

struct fake_request {
    char method[16];
    char url[1024];
    struct rdsbk_buf headers; /* "name: value\n" each, as sent */
    struct rdsbk_buf body;
};

struct fake_aws {
    struct fake_reply replies[FAKE_MAX];
    size_t n_replies;
    size_t next;
    struct fake_request requests[FAKE_MAX];
    size_t n_requests;
};

static inline void fake_reset(struct fake_aws *f) {
    for (size_t i = 0; i < f->n_requests; i++) {
        rdsbk_buf_clean_up(&f->requests[i].headers);
        rdsbk_buf_clean_up(&f->requests[i].body);
    }
    memset(f, 0, sizeof(*f));
}

static inline void fake_push(struct fake_aws *f, long status, const char *content_type,
                             const char *body) {
    struct fake_reply r = {status, content_type, body, NULL, NULL};
    f->replies[f->n_replies++] = r;
}

/* A canned reply with one extra header (`name` NULL: none). */
static inline void fake_push_header(struct fake_aws *f, long status, const char *content_type,
                                    const char *body, const char *name, const char *value) {
    struct fake_reply r = {status, content_type, body, name, value};
    f->replies[f->n_replies++] = r;
}

static inline int fake_transport(struct rdsbk_http_response *resp,
                                 const struct rdsbk_http_request *req, void *payload) {
    struct fake_aws *f = payload;
    struct fake_request *rec;
    const struct fake_reply *r;

    if (f->n_requests >= FAKE_MAX || f->next >= f->n_replies)
        return rdsbk_error_set(RDSBK_EIO, "fake: no canned reply left");
    rec = &f->requests[f->n_requests++];
    snprintf(rec->method, sizeof(rec->method), "%s", req->method);
    snprintf(rec->url, sizeof(rec->url), "%s", req->url);
    for (size_t i = 0; i < req->n_headers; i++)
        rdsbk_buf_printf(&rec->headers, "%s: %s\n", req->headers[i].name, req->headers[i].value);
    rdsbk_buf_add(&rec->body, req->body ? (const char *)req->body : "", req->body_len);
    r = &f->replies[f->next++];
    memset(resp, 0, sizeof(*resp));
    resp->status = r->status;
    resp->headers = calloc(2, sizeof(*resp->headers));
    if (r->content_type) {
        resp->headers[resp->n_headers].name = strdup("Content-Type");
        resp->headers[resp->n_headers++].value = strdup(r->content_type);
    }
    if (r->header_name) {
        resp->headers[resp->n_headers].name = strdup(r->header_name);
        resp->headers[resp->n_headers++].value = strdup(r->header_value);
    }
    rdsbk_buf_adds(&resp->body, r->body ? r->body : "");
    return 0;
}

/* The value of header `name` in a recorded request ("" when absent); a static buffer. */
static inline const char *fake_header(const struct fake_request *rec, const char *name) {
    static char value[2048];
    const char *p = rdsbk_buf_cstr(&rec->headers);
    size_t n = strlen(name);

    value[0] = '\0';
    while (*p) {
        const char *eol = strchr(p, '\n');
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            snprintf(value, sizeof(value), "%.*s", (int)(eol - p - n - 2), p + n + 2);
            break;
        }
        p = eol + 1;
    }
    return value;
}

static inline int fake_static_credentials(struct rdsbk_credentials *out, void *payload) {
    struct rdsbk_credentials src = {(char *)"AKIDEXAMPLE",
                                    (char *)"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL, 0};
    (void)payload;
    return rdsbk_credentials_copy(out, &src);
}

#endif
