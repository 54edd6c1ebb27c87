#ifndef RDSBK_AWS_H
#define RDSBK_AWS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/*
 * Types shared by the pieces of the AWS client: the signer (sigv4.h), credential providers
 * (credentials.h), the HTTP transport (http.h) and the protocol modules.
 */

/* A set of AWS credentials. Owned by whoever holds it; release with rdsbk_credentials_clean_up,
 * which wipes the secret and the token. */
struct rdsbk_credentials {
    char *access_key_id;
    char *secret_access_key; /* secret: never logged, never written to state */
    char *session_token;     /* NULL for long-term keys; secret */
    time_t expiration;       /* 0 when the credentials do not expire */
};

void rdsbk_credentials_clean_up(struct rdsbk_credentials *creds);

/* Deep copy; returns 0 or RDSBK_ENOMEM (dst then holds nothing). */
int rdsbk_credentials_copy(struct rdsbk_credentials *dst, const struct rdsbk_credentials *src);

struct rdsbk_header {
    char *name;
    char *value;
};

/*
 * An HTTP request as the protocol modules build it and the signer signs it. All strings are owned
 * by the request; rdsbk_http_request_clean_up frees them.
 */
struct rdsbk_http_request {
    char *method; /* "GET", "POST", ... */
    char *url;    /* absolute: scheme://host[:port]/path[?query], path and query already encoded */
    struct rdsbk_header *headers;
    size_t n_headers;
    unsigned char *body;
    size_t body_len;
    /* Send it on a new connection. For a call that is not idempotent (KMS CreateKey): libcurl
     * sends a request again by itself when the reused connection it went on turns out closed
     * with nothing received, which is also what a reply lost after the change was made looks
     * like; on a new connection that failure comes back, and the retry is ours and counted. */
    bool fresh_connection;
};

void rdsbk_http_request_clean_up(struct rdsbk_http_request *req);

/* Appends a header (copies name and value). Returns 0 or RDSBK_ENOMEM. */
int rdsbk_http_request_add_header(struct rdsbk_http_request *req, const char *name,
                                  const char *value);

/* The value of the first header named `name` (case-insensitive), or NULL. Borrowed. */
const char *rdsbk_http_request_header(const struct rdsbk_http_request *req, const char *name);

#endif
