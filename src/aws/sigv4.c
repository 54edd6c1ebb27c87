#include "rdsbk/sigv4.h"

#include "aws/url.h"
#include "rdsbk/error.h"

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

/*
 * SigV4 for every service but S3 (curl's lib/http_aws_sigv4.c and aws-c-auth's aws_signing.c
 * follow the same pipeline):
 *   1. canonical request   METHOD \n URI \n QUERY \n HEADERS \n SIGNED-HEADERS \n HEX(SHA256(body))
 *   2. string to sign      ALGORITHM \n DATE \n SCOPE \n HEX(SHA256(canonical request))
 *   3. signing key         HMAC chain over date, Region, service, "aws4_request"
 *   4. signature           HEX(HMAC(key, string to sign)) -> Authorization header
 */

#define S_ALGORITHM "AWS4-HMAC-SHA256"

/* Headers left unsigned: libcurl, proxies or load balancers may add or rewrite them. */
static const char *const s_unsigned_headers[] = {"authorization", "user-agent", "expect",
                                                 "x-amzn-trace-id"};

static const char s_hex[] = "0123456789abcdef";
static const char s_hex_upper[] = "0123456789ABCDEF";

static bool s_is_unreserved(unsigned char c) {
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

/* RFC 3986 percent-encoding of every byte but the unreserved ones (and '/' when keep_slash). */
static int s_uri_encode(struct rdsbk_buf *out, const char *s, size_t len, bool keep_slash) {
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char enc[3];
        int rc;
        if (s_is_unreserved(c) || (keep_slash && c == '/')) {
            rc = rdsbk_buf_addc(out, (char)c);
        } else {
            enc[0] = '%';
            enc[1] = s_hex_upper[c >> 4];
            enc[2] = s_hex_upper[c & 15];
            rc = rdsbk_buf_add(out, enc, 3);
        }
        if (rc)
            return rc;
    }
    return 0;
}

static int s_hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decoding; a '%' not followed by two hex digits stays literal. '+' stays '+'. */
static int s_uri_decode(struct rdsbk_buf *out, const char *s, size_t len) {
    for (size_t i = 0; i < len; i++) {
        int rc;
        if (s[i] == '%' && i + 2 < len && s_hex_value(s[i + 1]) >= 0 &&
            s_hex_value(s[i + 2]) >= 0) {
            rc = rdsbk_buf_addc(out, (char)(s_hex_value(s[i + 1]) * 16 + s_hex_value(s[i + 2])));
            i += 2;
        } else {
            rc = rdsbk_buf_addc(out, s[i]);
        }
        if (rc)
            return rc;
    }
    return 0;
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

/*
 * Canonical URI: the path with empty and "." segments dropped and ".." applied (RFC 3986
 * 5.2.4, plus AWS's removal of duplicate slashes), a trailing slash kept, then every byte but the
 * unreserved ones and '/' percent-encoded. An already-encoded path is thus encoded twice.
 */
static int s_canonical_uri(struct rdsbk_buf *out, const char *path, size_t len) {
    const char **seg = NULL;
    size_t *seg_len = NULL;
    size_t n = 0;
    size_t i = 0;
    int result = RDSBK_ENOMEM;

    if (len == 0) {
        result = rdsbk_buf_addc(out, '/');
        goto cleanup;
    }
    /* at most len/2 + 1 segments */
    seg = calloc(len / 2 + 2, sizeof(*seg));
    seg_len = calloc(len / 2 + 2, sizeof(*seg_len));
    if (!seg || !seg_len) {
        rdsbk_error_oom();
        goto cleanup;
    }
    while (i < len) {
        size_t start = i;
        size_t l;
        while (i < len && path[i] != '/')
            i++;
        l = i - start;
        if (l == 2 && path[start] == '.' && path[start + 1] == '.') {
            if (n > 0)
                n--;
        } else if (l > 0 && !(l == 1 && path[start] == '.')) {
            seg[n] = path + start;
            seg_len[n] = l;
            n++;
        }
        i++; /* the '/' */
    }
    if (path[0] == '/') {
        result = rdsbk_buf_addc(out, '/');
        if (result)
            goto cleanup;
    }
    for (size_t k = 0; k < n; k++) {
        if (k > 0) {
            result = rdsbk_buf_addc(out, '/');
            if (result)
                goto cleanup;
        }
        result = s_uri_encode(out, seg[k], seg_len[k], false);
        if (result)
            goto cleanup;
    }
    if (n > 0 && path[len - 1] == '/') {
        result = rdsbk_buf_addc(out, '/');
        if (result)
            goto cleanup;
    }
    result = 0;

cleanup:
    free(seg);
    free(seg_len);
    return result;
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

static void s_pairs_free(struct s_pair *pairs, size_t n) {
    for (size_t i = 0; pairs && i < n; i++) {
        free(pairs[i].key);
        free(pairs[i].value);
    }
    free(pairs);
}

/* Decodes then re-encodes one query component into a new string. */
static int s_normalise_component(char **out, const char *s, size_t len) {
    struct rdsbk_buf raw = RDSBK_BUF_INIT;
    struct rdsbk_buf enc = RDSBK_BUF_INIT;
    int result;

    *out = NULL;
    result = s_uri_decode(&raw, s, len);
    if (result)
        goto cleanup;
    result = s_uri_encode(&enc, raw.ptr ? raw.ptr : "", raw.len, false);
    if (result)
        goto cleanup;
    *out = rdsbk_buf_detach(&enc);
    if (!*out)
        result = rdsbk_error_oom();

cleanup:
    rdsbk_buf_clean_up(&raw);
    rdsbk_buf_clean_up(&enc);
    return result;
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
    size_t i = 0;
    int result = 0;

    if (!query || len == 0)
        goto cleanup;
    for (size_t k = 0; k < len; k++)
        if (query[k] == '&')
            max++;
    pairs = calloc(max, sizeof(*pairs));
    if (!pairs) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    while (i < len) {
        size_t start = i;
        const char *eq;
        size_t key_len;
        size_t l;
        while (i < len && query[i] != '&')
            i++;
        l = i - start;
        i++;
        if (l == 0)
            continue; /* "a=1&&b=2": no parameter between the separators */
        eq = memchr(query + start, '=', l);
        key_len = eq ? (size_t)(eq - (query + start)) : l;
        result = s_normalise_component(&pairs[n].key, query + start, key_len);
        if (result)
            goto cleanup;
        result = s_normalise_component(&pairs[n].value, eq ? eq + 1 : "", eq ? l - key_len - 1 : 0);
        n++; /* counted now so that cleanup frees a half-built pair */
        if (result)
            goto cleanup;
    }
    qsort(pairs, n, sizeof(*pairs), s_pair_cmp);
    for (size_t k = 0; k < n; k++) {
        result = rdsbk_buf_printf(out, "%s%s=%s", k ? "&" : "", pairs[k].key, pairs[k].value);
        if (result)
            goto cleanup;
    }

cleanup:
    s_pairs_free(pairs, n);
    return result;
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

static bool s_is_unsigned_header(const char *lower_name) {
    for (size_t i = 0; i < sizeof(s_unsigned_headers) / sizeof(s_unsigned_headers[0]); i++)
        if (strcmp(lower_name, s_unsigned_headers[i]) == 0)
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

/* Canonical headers (sorted by lower-case name, duplicates joined with ',' in request order,
 * each line ending in '\n') and the signed-headers list. */
static int s_canonical_headers(struct rdsbk_buf *out, struct rdsbk_buf *signed_out,
                               const struct rdsbk_http_request *req,
                               const struct rdsbk_url_parts *u) {
    struct s_pair *h = NULL;
    struct rdsbk_buf host = RDSBK_BUF_INIT;
    size_t n = 0;
    bool have_host = false;
    int result = RDSBK_ENOMEM;

    h = calloc(req->n_headers + 1, sizeof(*h));
    if (!h) {
        rdsbk_error_oom();
        goto cleanup;
    }
    for (size_t i = 0; i < req->n_headers; i++) {
        char *name = strdup(req->headers[i].name);
        if (!name) {
            rdsbk_error_oom();
            goto cleanup;
        }
        for (char *p = name; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (s_is_unsigned_header(name)) {
            free(name);
            continue;
        }
        if (strcmp(name, "host") == 0)
            have_host = true;
        h[n].key = name;
        h[n].order = i;
        h[n].value = s_trimall(req->headers[i].value ? req->headers[i].value : "");
        n++;
        if (!h[n - 1].value) {
            rdsbk_error_oom();
            goto cleanup;
        }
    }
    if (!have_host) {
        result = s_host_value(&host, u);
        if (result)
            goto cleanup;
        h[n].key = strdup("host");
        h[n].value = rdsbk_buf_detach(&host);
        h[n].order = req->n_headers;
        n++;
        if (!h[n - 1].key || !h[n - 1].value) {
            result = rdsbk_error_oom();
            goto cleanup;
        }
    }
    qsort(h, n, sizeof(*h), s_header_cmp);
    for (size_t i = 0; i < n; i++) {
        bool first = i == 0 || strcmp(h[i].key, h[i - 1].key) != 0;
        bool last = i + 1 == n || strcmp(h[i].key, h[i + 1].key) != 0;
        if (first) {
            result = rdsbk_buf_printf(out, "%s:", h[i].key);
            if (result == 0 && signed_out)
                result = rdsbk_buf_printf(signed_out, "%s%s", i ? ";" : "", h[i].key);
        } else {
            result = rdsbk_buf_addc(out, ',');
        }
        if (result == 0)
            result = rdsbk_buf_adds(out, h[i].value);
        if (result == 0 && last)
            result = rdsbk_buf_addc(out, '\n');
        if (result)
            goto cleanup;
    }
    result = 0;

cleanup:
    for (size_t i = 0; h && i < n; i++) {
        free(h[i].key);
        if (h[i].value) {
            /* values may be the session token */
            OPENSSL_cleanse(h[i].value, strlen(h[i].value));
            free(h[i].value);
        }
    }
    free(h);
    rdsbk_buf_clean_up(&host);
    return result;
}

int rdsbk_sigv4_canonical_request(struct rdsbk_buf *out, struct rdsbk_buf *signed_headers_out,
                                  const struct rdsbk_http_request *req) {
    struct rdsbk_url_parts u;
    struct rdsbk_buf signed_headers = RDSBK_BUF_INIT;
    char payload_hash[65];
    int result;

    if (!req->method || !req->url) {
        result = rdsbk_error_set(RDSBK_EINVALID, "request without a method or URL");
        goto cleanup;
    }
    result = rdsbk_url_split(&u, req->url);
    if (result)
        goto cleanup;
    result = s_sha256_hex(payload_hash, req->body ? (const void *)req->body : "", req->body_len);
    if (result)
        goto cleanup;

    /* HTTPRequestMethod */
    result = rdsbk_buf_printf(out, "%s\n", req->method);
    /* CanonicalURI */
    if (result == 0)
        result = s_canonical_uri(out, u.path, u.path_len);
    if (result == 0)
        result = rdsbk_buf_addc(out, '\n');
    /* CanonicalQueryString */
    if (result == 0)
        result = s_canonical_query(out, u.query, u.query_len);
    if (result == 0)
        result = rdsbk_buf_addc(out, '\n');
    /* CanonicalHeaders, each line ending in \n, then the blank separator line */
    if (result == 0)
        result = s_canonical_headers(out, &signed_headers, req, &u);
    if (result == 0)
        result = rdsbk_buf_addc(out, '\n');
    /* SignedHeaders */
    if (result == 0)
        result = rdsbk_buf_printf(out, "%s\n", rdsbk_buf_cstr(&signed_headers));
    /* HexEncode(Hash(RequestPayload)) */
    if (result == 0)
        result = rdsbk_buf_adds(out, payload_hash);
    if (result == 0 && signed_headers_out)
        result = rdsbk_buf_adds(signed_headers_out, rdsbk_buf_cstr(&signed_headers));

cleanup:
    rdsbk_buf_clean_up(&signed_headers);
    return result;
}

int rdsbk_sigv4_string_to_sign(struct rdsbk_buf *out, const char *amz_date, const char *scope,
                               const char *canonical_request) {
    char hash[65];
    int result;

    result = s_sha256_hex(hash, canonical_request, strlen(canonical_request));
    if (result == 0)
        result = rdsbk_buf_printf(out, S_ALGORITHM "\n%s\n%s\n%s", amz_date, scope, hash);
    return result;
}

int rdsbk_sigv4_signing_key(unsigned char key_out[32], const char *secret, const char *date8,
                            const char *region, const char *service) {
    struct rdsbk_buf k_secret = RDSBK_BUF_INIT;
    unsigned char k_date[32];
    unsigned char k_region[32];
    unsigned char k_service[32];
    int result;

    result = rdsbk_buf_printf(&k_secret, "AWS4%s", secret);
    if (result)
        goto cleanup;
    result = s_hmac(k_date, k_secret.ptr, k_secret.len, date8, strlen(date8));
    if (result == 0)
        result = s_hmac(k_region, k_date, 32, region, strlen(region));
    if (result == 0)
        result = s_hmac(k_service, k_region, 32, service, strlen(service));
    if (result == 0)
        result = s_hmac(key_out, k_service, 32, "aws4_request", 12);

cleanup:
    rdsbk_buf_clean_up_secure(&k_secret);
    OPENSSL_cleanse(k_date, sizeof(k_date));
    OPENSSL_cleanse(k_region, sizeof(k_region));
    OPENSSL_cleanse(k_service, sizeof(k_service));
    return result;
}

int rdsbk_sigv4_signature(char hex_out[65], const unsigned char key[32],
                          const char *string_to_sign) {
    unsigned char mac[32];
    int result;

    result = s_hmac(mac, key, 32, string_to_sign, strlen(string_to_sign));
    if (result == 0)
        s_to_hex(hex_out, mac, 32);
    OPENSSL_cleanse(mac, sizeof(mac));
    return result;
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

int rdsbk_sigv4_sign(struct rdsbk_http_request *req, const struct rdsbk_credentials *creds,
                     const char *region, const char *service, time_t now) {
    struct rdsbk_buf creq = RDSBK_BUF_INIT;
    struct rdsbk_buf signed_headers = RDSBK_BUF_INIT;
    struct rdsbk_buf sts = RDSBK_BUF_INIT;
    struct rdsbk_buf host = RDSBK_BUF_INIT;
    struct rdsbk_buf authz = RDSBK_BUF_INIT;
    struct rdsbk_url_parts u;
    unsigned char key[32];
    char amz_date[17];
    char date8[9];
    char scope[256];
    char signature[65];
    int result;

    memset(key, 0, sizeof(key));
    memset(signature, 0, sizeof(signature));
    if (!creds || !creds->access_key_id || !creds->secret_access_key || !*creds->access_key_id ||
        !*creds->secret_access_key) {
        result = rdsbk_error_set(RDSBK_EAUTH, "no credentials to sign the request with");
        goto cleanup;
    }
    if (!region || !*region || !service || !*service || !req->url) {
        result = rdsbk_error_set(RDSBK_EINVALID, "signing needs a Region, a service and a URL");
        goto cleanup;
    }
    result = rdsbk_url_split(&u, req->url);
    if (result)
        goto cleanup;
    result = rdsbk_sigv4_amz_date(amz_date, now);
    if (result)
        goto cleanup;
    memcpy(date8, amz_date, 8);
    date8[8] = '\0';
    if ((size_t)snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", date8, region, service) >=
        sizeof(scope)) {
        result = rdsbk_error_set(RDSBK_EINVALID, "Region or service name too long");
        goto cleanup;
    }

    /* A retry signs the same request again: drop what the previous signing added. */
    s_remove_header(req, "Authorization");
    s_remove_header(req, "X-Amz-Date");
    s_remove_header(req, "X-Amz-Security-Token");
    if (!rdsbk_http_request_header(req, "Host")) {
        result = s_host_value(&host, &u);
        if (result == 0)
            result = rdsbk_http_request_add_header(req, "Host", rdsbk_buf_cstr(&host));
        if (result)
            goto cleanup;
    }
    result = rdsbk_http_request_add_header(req, "X-Amz-Date", amz_date);
    if (result == 0 && creds->session_token && *creds->session_token)
        result = rdsbk_http_request_add_header(req, "X-Amz-Security-Token", creds->session_token);
    if (result)
        goto cleanup;

    result = rdsbk_sigv4_canonical_request(&creq, &signed_headers, req);
    if (result == 0)
        result = rdsbk_sigv4_string_to_sign(&sts, amz_date, scope, creq.ptr);
    if (result == 0)
        result = rdsbk_sigv4_signing_key(key, creds->secret_access_key, date8, region, service);
    if (result == 0)
        result = rdsbk_sigv4_signature(signature, key, sts.ptr);
    if (result == 0)
        result = rdsbk_buf_printf(
            &authz, S_ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s",
            creds->access_key_id, scope, rdsbk_buf_cstr(&signed_headers), signature);
    if (result == 0)
        result = rdsbk_http_request_add_header(req, "Authorization", authz.ptr);

cleanup:
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(signature, sizeof(signature));
    rdsbk_buf_clean_up_secure(&creq);
    rdsbk_buf_clean_up(&signed_headers);
    rdsbk_buf_clean_up(&sts);
    rdsbk_buf_clean_up(&host);
    rdsbk_buf_clean_up_secure(&authz);
    return result;
}
