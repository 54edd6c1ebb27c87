#ifndef RDSBK_HTTP_H
#define RDSBK_HTTP_H

#include "rdsbk/aws.h"
#include "rdsbk/buf.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * The HTTP transport (libcurl) and the signed, retrying AWS call built on it.
 */

/* A response. Owned by the caller; rdsbk_http_response_clean_up frees everything. Header names
 * and values are as received (values trimmed). */
struct rdsbk_http_response {
    long status;
    struct rdsbk_header *headers;
    size_t n_headers;
    struct rdsbk_buf body;
};

/* Frees the headers and body and zeroes the struct; safe on a zeroed struct. */
void rdsbk_http_response_clean_up(struct rdsbk_http_response *resp);

/* The value of the first header named `name` (case-insensitive), or NULL. Borrowed from resp. */
const char *rdsbk_http_response_header(const struct rdsbk_http_response *resp, const char *name);

/*
 * Options; a 0 field takes the default:
 *   connect_timeout_ms 10000, timeout_ms 60000 (whole attempt),
 *   max_attempts 8 (first try included), base_delay_ms 1000, max_delay_ms 20000,
 *   max_body_bytes 64 MiB.
 * Retry delay before attempt n+1 (n >= 1): uniform in [0, min(max_delay, base_delay * 2^(n-1))]
 * (the SDKs' standard mode, full jitter; more attempts than the SDKs' default 3 because
 * provisioning bursts of IAM/Lambda/EventBridge calls are throttled often).
 */
struct rdsbk_http_options {
    long connect_timeout_ms;
    long timeout_ms;
    int max_attempts;
    long base_delay_ms;
    long max_delay_ms;
    size_t max_body_bytes;
};

/* Thread-safe; one per process; shares connections, DNS and TLS sessions between threads. Each
 * thread uses its own easy handle, reused across calls. */
struct rdsbk_http;

/* Creates the transport (calls curl_global_init once). Returns 0 and *out (free with
 * rdsbk_http_free), or RDSBK_ENOMEM / RDSBK_ERROR with the error set. `opts` may be NULL. */
int rdsbk_http_new(struct rdsbk_http **out, const struct rdsbk_http_options *opts);

/* Frees the transport; NULL is a no-op. Every thread must have finished its calls. */
void rdsbk_http_free(struct rdsbk_http *http);

/* The effective options (defaults filled in). Borrowed. */
const struct rdsbk_http_options *rdsbk_http_options_of(const struct rdsbk_http *http);

/*
 * One attempt, unsigned, no retry. Sends `req` as is plus `User-Agent:
 * rdsbk-provision/<RDSBK_VERSION>`; TLS peer and host verification are always on; proxies come
 * from the environment (http_proxy, https_proxy, no_proxy).
 * Returns 0 when an HTTP response arrived (any status; `resp` filled, clean it up), else:
 *   RDSBK_EIO      transient network failure (refused, reset, DNS, send/receive): retryable
 *   RDSBK_ETIMEOUT connect or total timeout: retryable
 *   RDSBK_ERROR    permanent transport failure (TLS verification, bad URL): not retryable
 *   RDSBK_ENOMEM   out of memory or the body exceeded max_body_bytes
 *   RDSBK_EINVALID a request without a method or URL
 * with the error set. `resp` must be zeroed on entry; on failure it holds nothing.
 */
int rdsbk_http_send(struct rdsbk_http_response *resp, struct rdsbk_http *http,
                    const struct rdsbk_http_request *req);

/*
 * Replaces the transport under rdsbk_http_send (tests, the emulator): `fn` gets each request and
 * fills the response with the same return conventions. NULL restores libcurl. Not thread-safe:
 * call before any request.
 */
typedef int (*rdsbk_http_transport_fn)(struct rdsbk_http_response *resp,
                                       const struct rdsbk_http_request *req, void *payload);
void rdsbk_http_set_transport(struct rdsbk_http *http, rdsbk_http_transport_fn fn, void *payload);

/* Where fresh credentials come from on every attempt (refreshing providers plug in here). Fills
 * `out` (the caller cleans it up) and returns 0, or a negative code with the error set. */
typedef int (*rdsbk_credentials_fn)(struct rdsbk_credentials *out, void *payload);

struct rdsbk_signing {
    const char *region; /* the signing Region (rdsbk_endpoint_resolve's signing_region_out) */
    const char *service;
    rdsbk_credentials_fn get_credentials;
    void *payload;
};

/*
 * Signs (anew for each attempt, with fresh credentials) and sends with retries: standard retry
 * mode, full jitter, retrying only what rdsbk_aws_error_is_retryable accepts and transport
 * failures RDSBK_EIO / RDSBK_ETIMEOUT; a refusal for clock skew is sent again at once, signed
 * with AWS's time (rdsbk_aws_clock_offset_s). Each retry is logged at debug level (operation,
 * attempt, reason, delay) and each attempt gets one --debug line (method, host, path, status,
 * duration, request id, AWS error code; never credentials, signatures or bodies).
 *
 * Returns:
 *   0 on a 2xx reply (in `resp`);
 *   on an AWS error reply (non-2xx), the code of rdsbk_aws_error_to_code with
 *     rdsbk_error_set_aws(status, AWS code, request id, message), the reply left in `resp`;
 *   on a transport failure, the last rdsbk_http_send code (resp empty);
 *   a credentials provider's or the signer's code.
 * `resp` must be zeroed on entry and is the caller's to clean up in every case. `req` is modified
 * (signing headers). `operation` is only for log lines (e.g. "iam:CreateRole").
 */
int rdsbk_aws_send(struct rdsbk_http_response *resp, struct rdsbk_http *http,
                   struct rdsbk_http_request *req, const struct rdsbk_signing *signing,
                   const char *operation);

/* The seconds rdsbk_aws_send adds to the local clock to sign: 0, or AWS's clock minus ours once a
 * refusal for clock skew showed it. */
long rdsbk_aws_clock_offset_s(void);

/* How many attempts the calling thread's last rdsbk_aws_send made: 1 when it was not retried.
 * A create that is not idempotent (KMS CreateKey) checks it: a retry may have created twice. */
int rdsbk_aws_last_attempts(void);

#endif
