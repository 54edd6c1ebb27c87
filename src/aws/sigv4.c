/*
 * SigV4 (curl's lib/http_aws_sigv4.c and aws-c-auth's aws_signing.c follow the same pipeline):
 *   1. canonical request   METHOD \n URI \n QUERY \n HEADERS \n SIGNED-HEADERS \n PAYLOAD-HASH
 *   2. string to sign      ALGORITHM \n DATE \n SCOPE \n HEX(SHA256(canonical request))
 *   3. signing key         HMAC chain over date, Region, service, "aws4_request"
 *   4. signature           HEX(HMAC(key, string to sign)) -> Authorization header
 *
 * S3 ("s3") differs in two places, as botocore's S3SigV4Auth does: the URI is the path as sent
 * (neither normalised nor encoded again), and the payload hash travels as x-amz-content-sha256
 * (added and signed; its value is the hash line of the canonical request).
 */
#include "rdsbk/sigv4.h"

#include "aws/url.h"
#include "rdsbk/error.h"
#include "rdsbk/protocol.h"
#include "rdsbk/str.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_ALGORITHM "AWS4-HMAC-SHA256"
#define S_CONTENT_SHA256 "X-Amz-Content-SHA256"

/* Headers left unsigned: libcurl, proxies or load balancers may add or rewrite them. */
static const char *const s_unsigned_headers[] = {"authorization", "user-agent", "expect",
                                                 "x-amzn-trace-id"};

static const char s_hex[] = "0123456789abcdef";

/* Percent-decoding; a '%' not followed by two hex digits stays literal. '+' stays '+'. */
static int s_uri_decode(struct rdsbk_buf *out, const char *s, size_t len) {
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < len; i++) {
        if (s[i] == '%' && i + 2 < len && isxdigit((unsigned char)s[i + 1]) &&
            isxdigit((unsigned char)s[i + 2])) {
            char hex[3] = {s[i + 1], s[i + 2], '\0'};
            rc = rdsbk_buf_addc(out, (char)strtol(hex, NULL, 16));
            i += 2;
        } else {
            rc = rdsbk_buf_addc(out, s[i]);
        }
    }
    return rc;
}

static void s_to_hex(char *out, const unsigned char *bytes, size_t len) {
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = s_hex[bytes[i] >> 4];
        out[2 * i + 1] = s_hex[bytes[i] & 15];
    }
    out[2 * len] = '\0';
}

/*
 * SHA-256 and HMAC-SHA256 as OpenSSL 3 fetched them once. EVP_sha256() and HMAC() look the
 * algorithm up by name on every call, under a lock all threads share: with 128 threads signing
 * at once, 102 of the 137 samples of the digests were the lookup, and signing fell from 381
 * samples to 282 without it (perf, 10 sources' destroy). The HMAC context has its digest set and
 * no key; each use copies it.
 */
static pthread_once_t s_crypto_once = PTHREAD_ONCE_INIT;
static EVP_MD *s_sha256;
static EVP_MAC_CTX *s_hmac_sha256;

static void s_crypto_init(void) {
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
                           OSSL_PARAM_construct_end()};

    s_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    s_hmac_sha256 = mac ? EVP_MAC_CTX_new(mac) : NULL;
    if (s_hmac_sha256 && !EVP_MAC_CTX_set_params(s_hmac_sha256, params)) {
        EVP_MAC_CTX_free(s_hmac_sha256);
        s_hmac_sha256 = NULL;
    }
    EVP_MAC_free(mac); /* the context holds its own reference */
}

static int s_sha256_hex(char hex_out[65], const void *data, size_t len) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;

    pthread_once(&s_crypto_once, s_crypto_init);
    if (!s_sha256 || !EVP_Digest(data, len, md, &md_len, s_sha256, NULL) || md_len != 32)
        return rdsbk_error_set(RDSBK_ERROR, "SHA-256 failed");
    s_to_hex(hex_out, md, 32);
    return 0;
}

static int s_hmac(unsigned char out[32], const void *key, size_t key_len, const void *data,
                  size_t len) {
    EVP_MAC_CTX *ctx;
    size_t out_len = 0;
    bool ok;

    pthread_once(&s_crypto_once, s_crypto_init);
    ctx = s_hmac_sha256 ? EVP_MAC_CTX_dup(s_hmac_sha256) : NULL;
    ok = ctx && EVP_MAC_init(ctx, key, key_len, NULL) && EVP_MAC_update(ctx, data, len) &&
         EVP_MAC_final(ctx, out, &out_len, 32) && out_len == 32;
    EVP_MAC_CTX_free(ctx);
    return ok ? 0 : rdsbk_error_set(RDSBK_ERROR, "HMAC-SHA256 failed");
}

/* Where the run of `s` that starts at `i` ends: at the next `sep`, or at `len`. */
static size_t s_until(const char *s, size_t len, size_t i, char sep) {
    const char *p = memchr(s + i, sep, len - i);

    return p ? (size_t)(p - s) : len;
}

/* One segment of a path: `len` bytes at `start`. */
struct s_segment {
    const char *start;
    size_t len;
};

/* The segments of `path` with the empty and "." ones dropped and ".." applied; `seg` has room for
 * len/2 + 1 of them. */
static size_t s_segments(struct s_segment *seg, const char *path, size_t len) {
    size_t n = 0;

    for (size_t start = 0, end; start < len; start = end + 1) {
        const char *p = path + start;
        size_t l;

        end = s_until(path, len, start, '/');
        l = end - start;
        if (l == 2 && p[0] == '.' && p[1] == '.') {
            if (n > 0)
                n--;
        } else if (l > 0 && !(l == 1 && p[0] == '.')) {
            seg[n++] = (struct s_segment){p, l};
        }
    }
    return n;
}

/*
 * Canonical URI: the path with empty and "." segments dropped and ".." applied (RFC 3986
 * 5.2.4, plus AWS's removal of duplicate slashes), a trailing slash kept, then every byte but the
 * unreserved ones and '/' percent-encoded. An already-encoded path is thus encoded twice.
 */
static int s_canonical_uri(struct rdsbk_buf *out, const char *path, size_t len) {
    struct s_segment *seg = NULL;
    size_t n;
    int rc = 0;

    if (len == 0)
        return rdsbk_buf_addc(out, '/');
    seg = calloc(len / 2 + 2, sizeof(*seg));
    RDSBK_CHECK_ALLOC(seg);
    n = s_segments(seg, path, len);
    if (path[0] == '/')
        RDSBK_TRY(rdsbk_buf_addc(out, '/'));
    for (size_t k = 0; k < n; k++) {
        if (k > 0)
            RDSBK_TRY(rdsbk_buf_addc(out, '/'));
        RDSBK_TRY(rdsbk_protocol_uri_encode(out, seg[k].start, seg[k].len, false));
    }
    if (n > 0 && path[len - 1] == '/')
        RDSBK_TRY(rdsbk_buf_addc(out, '/'));

cleanup:
    free(seg);
    return rc;
}

/* S3's canonical URI: the path as the URL holds it, "/" when it has none. */
static int s_canonical_uri_s3(struct rdsbk_buf *out, const char *path, size_t len) {
    return len ? rdsbk_buf_add(out, path, len) : rdsbk_buf_addc(out, '/');
}

struct s_pair {
    char *key; /* encoded */
    char *value;
    size_t order; /* original position: a stable sort for headers */
};

static int s_pair_cmp(const void *a, const void *b) {
    const struct s_pair *x = a;
    const struct s_pair *y = b;
    int c = strcmp(x->key, y->key);
    if (c == 0)
        c = strcmp(x->value, y->value);
    return c;
}

static int s_header_cmp(const void *a, const void *b) {
    const struct s_pair *x = a;
    const struct s_pair *y = b;
    int c = strcmp(x->key, y->key);
    if (c == 0)
        c = x->order < y->order ? -1 : x->order > y->order;
    return c;
}

/* Frees `n` pairs, wiping the values (a header's may be the session token). */
static void s_pairs_free(struct s_pair *pairs, size_t n) {
    for (size_t i = 0; pairs && i < n; i++) {
        free(pairs[i].key);
        if (pairs[i].value) {
            OPENSSL_cleanse(pairs[i].value, strlen(pairs[i].value));
            free(pairs[i].value);
        }
    }
    free(pairs);
}

/* Decodes then re-encodes one query component into a new string. */
static int s_normalise_component(char **out, const char *s, size_t len) {
    struct rdsbk_buf raw = RDSBK_BUF_INIT;
    struct rdsbk_buf enc = RDSBK_BUF_INIT;
    int rc;

    *out = NULL;
    RDSBK_TRY(s_uri_decode(&raw, s, len));
    RDSBK_TRY(rdsbk_protocol_uri_encode(&enc, rdsbk_buf_cstr(&raw), rdsbk_buf_len(&raw), false));
    *out = rdsbk_buf_detach(&enc);
    RDSBK_CHECK_ALLOC(*out);

cleanup:
    rdsbk_buf_clean_up(&raw);
    rdsbk_buf_clean_up(&enc);
    return rc;
}

/* One "name[=value]" parameter of `len` bytes: both sides normalised, a missing value empty. */
static int s_query_pair(struct s_pair *out, const char *param, size_t len) {
    const char *eq = memchr(param, '=', len);
    size_t key_len = eq ? (size_t)(eq - param) : len;
    int rc = s_normalise_component(&out->key, param, key_len);

    if (rc == 0)
        rc = s_normalise_component(&out->value, eq ? eq + 1 : "", eq ? len - key_len - 1 : 0);
    return rc;
}

/*
 * Canonical query string: each name and value decoded and encoded again (RFC 3986, so any
 * encoding the URL used becomes the canonical one), a name without '=' gets an empty value,
 * pairs sorted by encoded name then encoded value, joined with '&'.
 */
static int s_canonical_query(struct rdsbk_buf *out, const char *query, size_t len) {
    struct s_pair *pairs = NULL;
    size_t n = 0;
    size_t max = 1;
    int rc = 0;

    if (!query || len == 0)
        return 0;
    for (size_t k = 0; k < len; k++)
        if (query[k] == '&')
            max++;
    pairs = calloc(max, sizeof(*pairs));
    RDSBK_CHECK_ALLOC(pairs);
    for (size_t start = 0, end; start < len; start = end + 1) {
        end = s_until(query, len, start, '&');
        if (end == start)
            continue; /* "a=1&&b=2": no parameter between the separators */
        /* counted before it is made, so that cleanup frees a half-made pair */
        RDSBK_TRY(s_query_pair(&pairs[n++], query + start, end - start));
    }
    qsort(pairs, n, sizeof(*pairs), s_pair_cmp);
    for (size_t k = 0; k < n; k++)
        RDSBK_TRY(rdsbk_buf_printf(out, "%s%s=%s", k ? "&" : "", pairs[k].key, pairs[k].value));

cleanup:
    s_pairs_free(pairs, n);
    return rc;
}

static bool s_is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Trimall: leading and trailing white space removed, inner runs (line breaks of a folded value
 * included) turned into one space. */
static char *s_trimall(const char *v) {
    size_t len = strlen(v);
    char *out = malloc(len + 1);
    size_t o = 0;
    bool pending_space = false;

    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (s_is_space(v[i])) {
            pending_space = o > 0;
            continue;
        }
        if (pending_space)
            out[o++] = ' ';
        pending_space = false;
        out[o++] = v[i];
    }
    out[o] = '\0';
    return out;
}

static bool s_is_unsigned_header(const char *name) {
    for (size_t i = 0; i < sizeof(s_unsigned_headers) / sizeof(s_unsigned_headers[0]); i++)
        if (strcasecmp(name, s_unsigned_headers[i]) == 0)
            return true;
    return false;
}

/* The Host header value for a URL: lower-case host, brackets for IPv6, the port unless it is the
 * scheme's default. */
static int s_host_value(struct rdsbk_buf *out, const struct rdsbk_url_parts *u) {
    int rc = 0;

    if (u->host_ipv6)
        rc = rdsbk_buf_addc(out, '[');
    for (size_t i = 0; rc == 0 && i < u->host_len; i++)
        rc = rdsbk_buf_addc(out, (char)tolower((unsigned char)u->host[i]));
    if (rc == 0 && u->host_ipv6)
        rc = rdsbk_buf_addc(out, ']');
    if (rc == 0 && u->port >= 0 && u->port != rdsbk_url_default_port(u))
        rc = rdsbk_buf_printf(out, ":%ld", u->port);
    return rc;
}

/* A header to sign: the name lower-cased, the value trimmed (s_trimall). */
static int s_header_pair(struct s_pair *out, const char *name, const char *value, size_t order) {
    out->key = strdup(name);
    out->value = s_trimall(value ? value : "");
    out->order = order;
    if (!out->key || !out->value)
        return rdsbk_error_oom();
    for (char *p = out->key; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return 0;
}

/* Appends the headers of `req` to sign to `h` (room for all and one more; *n counts them), and a
 * Host made from the URL when the request has none. */
static int s_headers_to_sign(struct s_pair *h, size_t *n, const struct rdsbk_http_request *req,
                             const struct rdsbk_url_parts *u) {
    struct rdsbk_buf host = RDSBK_BUF_INIT;
    bool have_host = false;
    int rc = 0;

    for (size_t i = 0; i < req->n_headers; i++) {
        if (s_is_unsigned_header(req->headers[i].name))
            continue;
        have_host = have_host || strcasecmp(req->headers[i].name, "host") == 0;
        RDSBK_TRY(s_header_pair(&h[(*n)++], req->headers[i].name, req->headers[i].value, i));
    }
    if (!have_host) {
        RDSBK_TRY(s_host_value(&host, u));
        RDSBK_TRY(s_header_pair(&h[(*n)++], "host", rdsbk_buf_cstr(&host), req->n_headers));
    }

cleanup:
    rdsbk_buf_clean_up(&host);
    return rc;
}

/* Canonical headers (sorted by lower-case name, duplicates joined with ',' in request order,
 * each line ending in '\n') and the signed-headers list. */
static int s_canonical_headers(struct rdsbk_buf *out, struct rdsbk_buf *signed_out,
                               const struct rdsbk_http_request *req,
                               const struct rdsbk_url_parts *u) {
    struct s_pair *h = calloc(req->n_headers + 1, sizeof(*h));
    size_t n = 0;
    int rc;

    RDSBK_CHECK_ALLOC(h);
    RDSBK_TRY(s_headers_to_sign(h, &n, req, u));
    qsort(h, n, sizeof(*h), s_header_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || strcmp(h[i].key, h[i - 1].key) != 0) {
            RDSBK_TRY(rdsbk_buf_printf(out, "%s:", h[i].key));
            RDSBK_TRY(rdsbk_buf_printf(signed_out, "%s%s", i ? ";" : "", h[i].key));
        } else {
            RDSBK_TRY(rdsbk_buf_addc(out, ','));
        }
        RDSBK_TRY(rdsbk_buf_adds(out, h[i].value));
        if (i + 1 == n || strcmp(h[i].key, h[i + 1].key) != 0)
            RDSBK_TRY(rdsbk_buf_addc(out, '\n'));
    }

cleanup:
    s_pairs_free(h, n);
    return rc;
}

/* The hex SHA-256 of the request's body. */
static int s_body_sha256(char hex_out[65], const struct rdsbk_http_request *req) {
    return s_sha256_hex(hex_out, req->body ? (const void *)req->body : "", req->body_len);
}

static int s_canonical_request(struct rdsbk_buf *out, struct rdsbk_buf *signed_headers_out,
                               const struct rdsbk_http_request *req, bool s3) {
    struct rdsbk_url_parts u;
    struct rdsbk_buf signed_headers = RDSBK_BUF_INIT;
    /* S3 checks the body against the x-amz-content-sha256 sent, and signs that value */
    const char *sent_hash = s3 ? rdsbk_http_request_header(req, S_CONTENT_SHA256) : NULL;
    char payload_hash[65] = "";
    int rc;

    if (!req->method || !req->url) {
        rc = rdsbk_error_set(RDSBK_EINVALID, "request without a method or URL");
        goto cleanup;
    }
    RDSBK_TRY(rdsbk_url_split(&u, req->url));
    if (!sent_hash)
        RDSBK_TRY(s_body_sha256(payload_hash, req));
    /* HTTPRequestMethod */
    RDSBK_TRY(rdsbk_buf_printf(out, "%s\n", req->method));
    /* CanonicalURI */
    if (s3)
        RDSBK_TRY(s_canonical_uri_s3(out, u.path, u.path_len));
    else
        RDSBK_TRY(s_canonical_uri(out, u.path, u.path_len));
    RDSBK_TRY(rdsbk_buf_addc(out, '\n'));
    /* CanonicalQueryString */
    RDSBK_TRY(s_canonical_query(out, u.query, u.query_len));
    RDSBK_TRY(rdsbk_buf_addc(out, '\n'));
    /* CanonicalHeaders, each line ending in \n, then the blank separator line */
    RDSBK_TRY(s_canonical_headers(out, &signed_headers, req, &u));
    RDSBK_TRY(rdsbk_buf_addc(out, '\n'));
    /* SignedHeaders */
    RDSBK_TRY(rdsbk_buf_printf(out, "%s\n", rdsbk_buf_cstr(&signed_headers)));
    /* HexEncode(Hash(RequestPayload)), or S3's x-amz-content-sha256 */
    RDSBK_TRY(rdsbk_buf_adds(out, sent_hash ? sent_hash : payload_hash));
    if (signed_headers_out)
        rc = rdsbk_buf_adds(signed_headers_out, rdsbk_buf_cstr(&signed_headers));

cleanup:
    rdsbk_buf_clean_up(&signed_headers);
    return rc;
}

int rdsbk_sigv4_canonical_request(struct rdsbk_buf *out, struct rdsbk_buf *signed_headers_out,
                                  const struct rdsbk_http_request *req) {
    return s_canonical_request(out, signed_headers_out, req, false);
}

int rdsbk_sigv4_canonical_request_s3(struct rdsbk_buf *out, struct rdsbk_buf *signed_headers_out,
                                     const struct rdsbk_http_request *req) {
    return s_canonical_request(out, signed_headers_out, req, true);
}

int rdsbk_sigv4_string_to_sign(struct rdsbk_buf *out, const char *amz_date, const char *scope,
                               const char *canonical_request) {
    char hash[65];
    int rc = s_sha256_hex(hash, canonical_request, strlen(canonical_request));

    return rc ? rc : rdsbk_buf_printf(out, S_ALGORITHM "\n%s\n%s\n%s", amz_date, scope, hash);
}

int rdsbk_sigv4_signing_key(unsigned char key_out[32], const char *secret, const char *date8,
                            const char *region, const char *service) {
    struct rdsbk_buf k_secret = RDSBK_BUF_INIT;
    unsigned char k_date[32];
    unsigned char k_region[32];
    unsigned char k_service[32];
    int rc;

    RDSBK_TRY(rdsbk_buf_printf(&k_secret, "AWS4%s", secret));
    RDSBK_TRY(
        s_hmac(k_date, rdsbk_buf_cstr(&k_secret), rdsbk_buf_len(&k_secret), date8, strlen(date8)));
    RDSBK_TRY(s_hmac(k_region, k_date, 32, region, strlen(region)));
    RDSBK_TRY(s_hmac(k_service, k_region, 32, service, strlen(service)));
    RDSBK_TRY(s_hmac(key_out, k_service, 32, "aws4_request", 12));

cleanup:
    rdsbk_buf_clean_up_secure(&k_secret);
    OPENSSL_cleanse(k_date, sizeof(k_date));
    OPENSSL_cleanse(k_region, sizeof(k_region));
    OPENSSL_cleanse(k_service, sizeof(k_service));
    return rc;
}

int rdsbk_sigv4_signature(char hex_out[65], const unsigned char key[32],
                          const char *string_to_sign) {
    unsigned char mac[32];
    int rc = s_hmac(mac, key, 32, string_to_sign, strlen(string_to_sign));

    if (rc == 0)
        s_to_hex(hex_out, mac, 32);
    OPENSSL_cleanse(mac, sizeof(mac));
    return rc;
}

int rdsbk_sigv4_amz_date(char amz_date_out[17], time_t now) {
    struct tm tm;

    if (!gmtime_r(&now, &tm) || strftime(amz_date_out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
        return rdsbk_error_set(RDSBK_EINVALID, "cannot format the signing time");
    return 0;
}

/* Removes every header named `name` (case-insensitive), wiping the values. */
static void s_remove_header(struct rdsbk_http_request *req, const char *name) {
    size_t o = 0;

    for (size_t i = 0; i < req->n_headers; i++) {
        if (strcasecmp(req->headers[i].name, name) == 0) {
            free(req->headers[i].name);
            if (req->headers[i].value) {
                OPENSSL_cleanse(req->headers[i].value, strlen(req->headers[i].value));
                free(req->headers[i].value);
            }
            continue;
        }
        req->headers[o++] = req->headers[i];
    }
    req->n_headers = o;
}

/* The headers a signature adds, in place of an earlier signature's (a retry signs the same
 * request again): Host when absent, X-Amz-Date, X-Amz-Security-Token with a session token, and
 * for S3 X-Amz-Content-SHA256, the body's hash (never UNSIGNED-PAYLOAD: S3 then checks the body
 * it received against the signed hash). */
static int s_signing_headers(struct rdsbk_http_request *req, const struct rdsbk_url_parts *u,
                             const char *amz_date, const char *token, bool s3) {
    struct rdsbk_buf host = RDSBK_BUF_INIT;
    char payload_hash[65];
    int rc = 0;

    s_remove_header(req, "Authorization");
    s_remove_header(req, "X-Amz-Date");
    s_remove_header(req, "X-Amz-Security-Token");
    if (s3)
        s_remove_header(req, S_CONTENT_SHA256);
    if (!rdsbk_http_request_header(req, "Host")) {
        RDSBK_TRY(s_host_value(&host, u));
        RDSBK_TRY(rdsbk_http_request_add_header(req, "Host", rdsbk_buf_cstr(&host)));
    }
    RDSBK_TRY(rdsbk_http_request_add_header(req, "X-Amz-Date", amz_date));
    if (s3) {
        RDSBK_TRY(s_body_sha256(payload_hash, req));
        RDSBK_TRY(rdsbk_http_request_add_header(req, S_CONTENT_SHA256, payload_hash));
    }
    if (token && *token)
        rc = rdsbk_http_request_add_header(req, "X-Amz-Security-Token", token);

cleanup:
    rdsbk_buf_clean_up(&host);
    return rc;
}

/* The Authorization header of `req` as it stands: stages 1 to 4 of the header comment. */
static int s_authorize(struct rdsbk_http_request *req, const struct rdsbk_credentials *creds,
                       const char *amz_date, const char *scope, const char *region,
                       const char *service, bool s3) {
    struct rdsbk_buf creq = RDSBK_BUF_INIT;
    struct rdsbk_buf signed_headers = RDSBK_BUF_INIT;
    struct rdsbk_buf sts = RDSBK_BUF_INIT;
    struct rdsbk_buf authz = RDSBK_BUF_INIT;
    unsigned char key[32] = {0};
    char signature[65] = {0};
    char date8[9];
    int rc;

    snprintf(date8, sizeof(date8), "%.8s", amz_date);
    RDSBK_TRY(s_canonical_request(&creq, &signed_headers, req, s3));
    RDSBK_TRY(rdsbk_sigv4_string_to_sign(&sts, amz_date, scope, rdsbk_buf_cstr(&creq)));
    RDSBK_TRY(rdsbk_sigv4_signing_key(key, creds->secret_access_key, date8, region, service));
    RDSBK_TRY(rdsbk_sigv4_signature(signature, key, rdsbk_buf_cstr(&sts)));
    RDSBK_TRY(
        rdsbk_buf_printf(&authz, S_ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                         creds->access_key_id, scope, rdsbk_buf_cstr(&signed_headers), signature));
    rc = rdsbk_http_request_add_header(req, "Authorization", rdsbk_buf_cstr(&authz));

cleanup:
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(signature, sizeof(signature));
    rdsbk_buf_clean_up_secure(&creq);
    rdsbk_buf_clean_up(&signed_headers);
    rdsbk_buf_clean_up(&sts);
    rdsbk_buf_clean_up_secure(&authz);
    return rc;
}

int rdsbk_sigv4_sign(struct rdsbk_http_request *req, const struct rdsbk_credentials *creds,
                     const char *region, const char *service, time_t now) {
    struct rdsbk_url_parts u;
    char amz_date[17];
    char scope[256];
    bool s3;
    int rc;

    if (!creds || !creds->access_key_id || !creds->secret_access_key || !*creds->access_key_id ||
        !*creds->secret_access_key)
        return rdsbk_error_set(RDSBK_EAUTH, "no credentials to sign the request with");
    if (!region || !*region || !service || !*service || !req->url)
        return rdsbk_error_set(RDSBK_EINVALID, "signing needs a Region, a service and a URL");
    RDSBK_TRY(rdsbk_url_split(&u, req->url));
    RDSBK_TRY(rdsbk_sigv4_amz_date(amz_date, now));
    if ((size_t)snprintf(scope, sizeof(scope), "%.8s/%s/%s/aws4_request", amz_date, region,
                         service) >= sizeof(scope)) {
        rc = rdsbk_error_set(RDSBK_EINVALID, "Region or service name too long");
        goto cleanup;
    }
    s3 = strcmp(service, "s3") == 0;
    RDSBK_TRY(s_signing_headers(req, &u, amz_date, creds->session_token, s3));
    rc = s_authorize(req, creds, amz_date, scope, region, service, s3);

cleanup:
    return rc;
}
