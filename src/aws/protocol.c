/*
 * What the protocols share: percent- and base64 encoding, AWS timestamps, the mapping of
 * "not found" and "already exists" codes, reply bodies' text, and sending through the service
 * context.
 */
#include "rdsbk/protocol.h"
#include "protocol_internal.h"
#include "rdsbk/aws_error.h"
#include "rdsbk/error.h"
#include "rdsbk/str.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool s_unreserved(unsigned char c) {
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

int rdsbk_protocol_uri_encode(struct rdsbk_buf *out, const char *s, size_t len, bool keep_slash) {
    static const char hex[] = "0123456789ABCDEF";
    int rc = 0;

    for (size_t i = 0; i < len && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        if (s_unreserved(c) || (keep_slash && c == '/')) {
            rc = rdsbk_buf_addc(out, (char)c);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = rdsbk_buf_add(out, esc, 3);
        }
    }
    return rc;
}

/* The value of a hex digit, or -1. */
static int s_hexval(char c) {
    static const char digits[] = "0123456789abcdef";
    const char *at = c ? strchr(digits, tolower((unsigned char)c)) : NULL;

    return at ? (int)(at - digits) : -1;
}

int rdsbk_protocol_uri_decode(char **out, const char *s, bool plus_is_space) {
    size_t len = strlen(s);
    char *decoded = malloc(len + 1);
    size_t o = 0;
    int rc = 0;

    *out = NULL;
    RDSBK_CHECK_ALLOC(decoded);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            int hi = i + 2 < len ? s_hexval(s[i + 1]) : -1;
            int lo = hi >= 0 ? s_hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                rc = rdsbk_error_set(RDSBK_EINVALID, "malformed percent-encoding in a document");
                goto cleanup;
            }
            decoded[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            decoded[o++] = plus_is_space && s[i] == '+' ? ' ' : s[i];
        }
    }
    decoded[o] = '\0';
    *out = decoded;
    decoded = NULL;

cleanup:
    free(decoded);
    return rc;
}

int rdsbk_protocol_add_pair(struct rdsbk_buf *out, const char *sep, const char *name,
                            const char *value) {
    int rc;

    RDSBK_TRY(rdsbk_buf_adds(out, sep));
    RDSBK_TRY(rdsbk_protocol_uri_encode(out, name, strlen(name), false));
    RDSBK_TRY(rdsbk_buf_addc(out, '='));
    RDSBK_TRY(rdsbk_protocol_uri_encode(out, value, strlen(value), false));

cleanup:
    return rc;
}

/* Input bytes encoded at a time: a multiple of 3, so that only the last piece is padded. */
#define S_B64_PIECE 3072

/* OpenSSL's encoder, a piece at a time through a buffer on the stack. */
int rdsbk_protocol_base64_encode(struct rdsbk_buf *out, const void *data, size_t len) {
    const unsigned char *p = data;
    unsigned char piece[S_B64_PIECE / 3 * 4 + 1];
    int rc = rdsbk_buf_reserve(out, (len + 2) / 3 * 4 + 1);

    /* An empty blob still makes the buffer a valid (empty) string. */
    if (rc == 0)
        rc = rdsbk_buf_add(out, "", 0);
    for (size_t i = 0; i < len && rc == 0; i += S_B64_PIECE) {
        size_t n = len - i < S_B64_PIECE ? len - i : S_B64_PIECE;
        int written = EVP_EncodeBlock(piece, p + i, (int)n);

        rc = rdsbk_buf_add(out, piece, (size_t)written);
    }
    return rc;
}

/* The value of a base64 digit, or -1. */
static int s_b64_value(char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

int rdsbk_protocol_base64_decode(struct rdsbk_buf *out, const char *s) {
    unsigned v = 0;
    int bits = 0;
    int pad = 0;
    int rc = rdsbk_buf_add(out, "", 0);

    for (; *s && rc == 0; s++) {
        int digit;
        if (isspace((unsigned char)*s))
            continue;
        if (*s == '=') {
            pad++;
            continue;
        }
        digit = s_b64_value(*s);
        if (digit < 0 || pad)
            return rdsbk_error_set(RDSBK_EINVALID, "invalid base64");
        v = (v << 6) | (unsigned)digit;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            rc = rdsbk_buf_addc(out, (char)((v >> bits) & 0xff));
        }
    }
    return rc;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's algorithm). */
static long long s_days_from_civil(long long y, unsigned m, unsigned d) {
    long long era;
    unsigned yoe;
    unsigned doy;
    unsigned doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static int s_parse_iso8601(double *out, const char *s) {
    int y;
    int mo;
    int d;
    int h;
    int mi;
    int sec;
    int n = 0;
    double frac = 0;
    long offset = 0;
    const char *p;

    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n == 0)
        return RDSBK_EINVALID;
    p = s + n;
    if (*p == '.') {
        double scale = 0.1;
        for (p++; isdigit((unsigned char)*p); p++) {
            frac += (*p - '0') * scale;
            scale /= 10;
        }
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh = 0;
        int om = 0;
        int sign = *p == '-' ? -1 : 1;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) == 2)
            p += 1 + n;
        else if (sscanf(p + 1, "%2d%2d%n", &oh, &om, &n) == 2)
            p += 1 + n;
        else
            return RDSBK_EINVALID;
        offset = sign * (oh * 3600L + om * 60L);
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return RDSBK_EINVALID;
    *out = (double)(s_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400LL + h * 3600LL +
                    mi * 60LL + sec - offset) +
           frac;
    return 0;
}

static int s_parse_http_date(double *out, const char *s) {
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char wday[4];
    char mon[4];
    int d;
    int y;
    int h;
    int mi;
    int sec;
    const char *m;

    if (sscanf(s, "%3s, %d %3s %d %d:%d:%d GMT", wday, &d, mon, &y, &h, &mi, &sec) != 7)
        return RDSBK_EINVALID;
    m = strstr(months, mon);
    if (!m || (m - months) % 3 != 0)
        return RDSBK_EINVALID;
    *out = (double)(s_days_from_civil(y, (unsigned)((m - months) / 3 + 1), (unsigned)d) * 86400LL +
                    h * 3600LL + mi * 60LL + sec);
    return 0;
}

int rdsbk_protocol_parse_time(double *out, const char *s) {
    char *end = NULL;
    double v;

    if (!s || !*s)
        return RDSBK_EINVALID;
    if (s_parse_iso8601(out, s) == 0)
        return 0;
    if (s_parse_http_date(out, s) == 0)
        return 0;
    v = strtod(s, &end);
    if (end && *end == '\0' && isfinite(v)) {
        *out = v;
        return 0;
    }
    return RDSBK_EINVALID;
}

void rdsbk_protocol_format_time(char *out, size_t size, time_t t) {
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static bool s_ends_with(const char *s, const char *suffix) {
    size_t ls = strlen(s);
    size_t lx = strlen(suffix);
    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/* AWS spells "not found" and "already exists" in many ways; these cover the six services. */
static bool s_is_not_found(const char *code) {
    return strcmp(code, "NoSuchEntity") == 0 || s_ends_with(code, "NotFound") ||
           s_ends_with(code, "NotFoundFault") || s_ends_with(code, "NotFoundException");
}

static bool s_is_conflict(const char *code) {
    return strcmp(code, "EntityAlreadyExists") == 0 || s_ends_with(code, "AlreadyExists") ||
           s_ends_with(code, "AlreadyExistsFault") || s_ends_with(code, "AlreadyExistsException") ||
           strcmp(code, "ResourceConflictException") == 0;
}

int rdsbk_protocol_map_error(int rc) {
    struct rdsbk_error err;
    int mapped = rc;

    if (rc >= 0)
        return rc;
    rdsbk_error_save(&err);
    if (err.aws_code[0] == '\0')
        return rc;
    if (s_is_not_found(err.aws_code))
        mapped = RDSBK_ENOTFOUND;
    else if (s_is_conflict(err.aws_code))
        mapped = RDSBK_ECONFLICT;
    if (mapped != rc) {
        err.code = mapped;
        rdsbk_error_restore(&err);
    }
    return mapped;
}

const char *rdsbk_protocol_reply_text(size_t *len_out, const struct rdsbk_buf *body) {
    const char *text = rdsbk_buf_cstr(body);
    size_t skip = strspn(text, " \t\r\n");

    *len_out = rdsbk_buf_len(body) - skip;
    return text + skip;
}

/* One unsigned attempt (STS AssumeRoleWithWebIdentity), with the AWS error parsed as
 * rdsbk_aws_send would. */
static int s_send_unsigned(struct rdsbk_http_response *resp, struct rdsbk_http *http,
                           struct rdsbk_http_request *req) {
    struct rdsbk_aws_error err = {0};
    int rc;

    rc = rdsbk_http_send(resp, http, req);
    if (rc < 0 || (resp->status >= 200 && resp->status < 300))
        return rc;
    rc = rdsbk_aws_error_parse(&err, resp);
    if (rc < 0)
        return rc;
    rc = rdsbk_error_set_aws(rdsbk_aws_error_to_code(resp->status, err.code), (int)resp->status,
                             err.code, err.request_id, err.message ? err.message : err.code);
    rdsbk_aws_error_clean_up(&err);
    return rc;
}

int rdsbk_protocol_send(struct rdsbk_http_response *resp, const struct rdsbk_service_ctx *ctx,
                        struct rdsbk_http_request *req, const char *operation) {
    char *name = NULL;
    int rc;

    req->fresh_connection = ctx->fresh_connection;
    RDSBK_TRY(rdsbk_strfmt(&name, "%s:%s", ctx->signing.service, operation));
    if (ctx->send)
        rc = ctx->send(resp, ctx->http, req, &ctx->signing, name);
    else if (!ctx->signing.get_credentials)
        rc = s_send_unsigned(resp, ctx->http, req);
    else
        rc = rdsbk_aws_send(resp, ctx->http, req, &ctx->signing, name);
    rc = rdsbk_protocol_map_error(rc);

cleanup:
    free(name);
    return rc;
}
