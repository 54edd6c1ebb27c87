#ifndef RDSBK_SIGV4_H
#define RDSBK_SIGV4_H

#include "rdsbk/aws.h"
#include "rdsbk/buf.h"

#include <time.h>

/*
 * AWS Signature Version 4, header form. Every service but S3: the canonical URI is the URL's path
 * normalised (no "." or ".." segments, no empty segments) and percent-encoded again, so a path
 * that the request already holds encoded ("%20") is signed encoded twice ("%2520"); the payload
 * is hashed and the hash is not sent (no x-amz-content-sha256).
 *
 * S3 (service "s3", botocore's S3SigV4Auth): the canonical URI is the path exactly as the URL
 * holds it (already encoded once, never normalised: "a//b/../c" is signed as such), and the hex
 * SHA-256 of the body is sent as X-Amz-Content-SHA256, signed, and is the payload line. The hash
 * is always computed: never UNSIGNED-PAYLOAD.
 *
 * Headers never signed (a proxy or libcurl may change them): User-Agent, Expect, X-Amzn-Trace-Id,
 * Authorization. Every other header of the request is signed.
 */

/*
 * Signs `req` in place for `service`/`region` at time `now`: removes any previous Authorization,
 * X-Amz-Date and X-Amz-Security-Token (so a retry can sign the same request again), adds Host
 * when absent (the URL's host, with the port unless it is the scheme's default), X-Amz-Date,
 * X-Amz-Security-Token when creds->session_token is set (signed), for "s3" X-Amz-Content-SHA256
 * (replacing any the request had), and Authorization. Returns 0,
 * RDSBK_EAUTH (no access key or secret), RDSBK_EINVALID (unparsable URL, no Region or service) or
 * RDSBK_ENOMEM, with the error set. The derived
 * signing key is wiped before returning.
 */
int rdsbk_sigv4_sign(struct rdsbk_http_request *req, const struct rdsbk_credentials *creds,
                     const char *region, const char *service, time_t now);

/*
 * The stages, callable alone for tests. Each returns 0 or a negative code with the error set;
 * outputs go to caller-owned buffers (appended to; pass empty ones).
 */

/* The canonical request of `req` as it stands (it must already carry the headers to sign, e.g.
 * X-Amz-Date; Host is derived from the URL when the request has none). Also writes the
 * SignedHeaders list ("host;x-amz-date") to `signed_headers_out`. */
int rdsbk_sigv4_canonical_request(struct rdsbk_buf *out, struct rdsbk_buf *signed_headers_out,
                                  const struct rdsbk_http_request *req);

/* The same with S3's rules: the URI as the URL holds it ("/" when it has none), and the payload
 * line the request's X-Amz-Content-SHA256 (the body's hash when it has none). */
int rdsbk_sigv4_canonical_request_s3(struct rdsbk_buf *out, struct rdsbk_buf *signed_headers_out,
                                     const struct rdsbk_http_request *req);

/* "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256 of canonical_request>". `scope` is
 * "<date8>/<region>/<service>/aws4_request". */
int rdsbk_sigv4_string_to_sign(struct rdsbk_buf *out, const char *amz_date, const char *scope,
                               const char *canonical_request);

/* HMAC chain "AWS4"+secret -> date8 -> region -> service -> "aws4_request". The caller must wipe
 * `key_out` (OPENSSL_cleanse) when done. */
int rdsbk_sigv4_signing_key(unsigned char key_out[32], const char *secret, const char *date8,
                            const char *region, const char *service);

/* Lower-case hex HMAC-SHA256(key, string_to_sign), NUL-terminated. */
int rdsbk_sigv4_signature(char hex_out[65], const unsigned char key[32],
                          const char *string_to_sign);

/* Formats `now` (UTC) as "YYYYMMDDTHHMMSSZ" into amz_date_out. Returns 0 or RDSBK_EINVALID. */
int rdsbk_sigv4_amz_date(char amz_date_out[17], time_t now);

#endif
