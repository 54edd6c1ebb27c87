/* Splitting absolute URLs into their parts, in place, and reading them as libcurl does; see
 * url.h. */
#include "aws/url.h"

#include "rdsbk/error.h"
#include "rdsbk/str.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool s_is_scheme_char(char c) {
    return isalnum((unsigned char)c) || c == '+' || c == '-' || c == '.';
}

/* ":port" from `p` to `end` (after the host) into out->port: 1 to 65535. */
static int s_port(struct rdsbk_url_parts *out, const char *p, const char *end, const char *url) {
    long port = 0;

    if (*p != ':' || p + 1 == end)
        return rdsbk_error_set(RDSBK_EINVALID, "bad port in URL: %s", url);
    for (p++; p < end; p++) {
        if (!isdigit((unsigned char)*p) || port > 65535)
            return rdsbk_error_set(RDSBK_EINVALID, "bad port in URL: %s", url);
        port = port * 10 + (*p - '0');
    }
    if (port < 1 || port > 65535)
        return rdsbk_error_set(RDSBK_EINVALID, "bad port in URL: %s", url);
    out->port = port;
    return 0;
}

/* The authority from `auth` to `end`: [userinfo@]host[:port], the host maybe an [IPv6] one. */
static int s_authority(struct rdsbk_url_parts *out, const char *auth, const char *end,
                       const char *url) {
    const char *host_end;

    /* userinfo ends at the last '@' inside the authority */
    for (const char *q = auth; q < end; q++) {
        if (*q == '@') {
            out->has_userinfo = true;
            auth = q + 1;
        }
    }
    if (auth < end && *auth == '[') {
        const char *close = memchr(auth, ']', (size_t)(end - auth));
        if (!close)
            return rdsbk_error_set(RDSBK_EINVALID, "unterminated IPv6 address in URL: %s", url);
        out->host = auth + 1;
        out->host_len = (size_t)(close - auth - 1);
        out->host_ipv6 = true;
        host_end = close + 1;
    } else {
        const char *colon = memchr(auth, ':', (size_t)(end - auth));
        host_end = colon ? colon : end;
        out->host = auth;
        out->host_len = (size_t)(host_end - auth);
    }
    if (out->host_len == 0)
        return rdsbk_error_set(RDSBK_EINVALID, "URL without a host: %s", url);
    return host_end < end ? s_port(out, host_end, end, url) : 0;
}

int rdsbk_url_split(struct rdsbk_url_parts *out, const char *url) {
    const char *p = url;
    const char *auth;
    int rc;

    memset(out, 0, sizeof(*out));
    out->port = -1;
    out->path = "";
    while (*p && s_is_scheme_char(*p))
        p++;
    if (p == url || strncmp(p, "://", 3) != 0)
        return rdsbk_error_set(RDSBK_EINVALID, "not an absolute URL: %s", url);
    out->scheme = url;
    out->scheme_len = (size_t)(p - url);
    auth = p + 3;
    p = auth + strcspn(auth, "/?#");
    rc = s_authority(out, auth, p, url);
    if (rc)
        return rc;
    if (*p == '/') {
        out->path = p;
        out->path_len = strcspn(p, "?#");
        p += out->path_len;
    }
    if (*p == '?') {
        out->query = p + 1;
        out->query_len = strcspn(p + 1, "#");
        p += 1 + out->query_len;
    }
    out->has_fragment = *p == '#';
    return 0;
}

long rdsbk_url_default_port(const struct rdsbk_url_parts *parts) {
    if (parts->scheme_len == 5 && strncasecmp(parts->scheme, "https", 5) == 0)
        return 443;
    if (parts->scheme_len == 4 && strncasecmp(parts->scheme, "http", 4) == 0)
        return 80;
    return -1;
}

/* *out = a copy of URL part `what` of `u` (`out` NULL: only whether it is there, in *present). */
static int s_curl_part(char **out, bool *present, CURLU *u, CURLUPart what) {
    char *part = NULL;
    CURLUcode got = curl_url_get(u, what, &part, 0);
    int rc = 0;

    if (present)
        *present = got == CURLUE_OK;
    if (got == CURLUE_OUT_OF_MEMORY)
        rc = rdsbk_error_oom();
    else if (got == CURLUE_OK && out)
        rc = rdsbk_strdup_into(out, part);
    curl_free(part);
    return rc;
}

int rdsbk_url_curl_parse(struct rdsbk_url_curl *out, const char *url) {
    CURLU *u = curl_url();
    CURLUcode set;
    bool user, password, options;
    size_t len;
    int rc;

    memset(out, 0, sizeof(*out));
    RDSBK_CHECK_ALLOC(u);
    set = curl_url_set(u, CURLUPART_URL, url, 0);
    if (set != CURLUE_OK) {
        rc = rdsbk_error_set(RDSBK_EINVALID, "not a URL libcurl reads: %s", curl_url_strerror(set));
        goto cleanup;
    }
    RDSBK_TRY(s_curl_part(&out->scheme, NULL, u, CURLUPART_SCHEME));
    RDSBK_TRY(s_curl_part(&out->host, NULL, u, CURLUPART_HOST));
    RDSBK_TRY(s_curl_part(&out->url, NULL, u, CURLUPART_URL));
    RDSBK_TRY(s_curl_part(NULL, &user, u, CURLUPART_USER));
    RDSBK_TRY(s_curl_part(NULL, &password, u, CURLUPART_PASSWORD));
    RDSBK_TRY(s_curl_part(NULL, &options, u, CURLUPART_OPTIONS));
    RDSBK_TRY(s_curl_part(NULL, &out->has_zone, u, CURLUPART_ZONEID));
    out->has_userinfo = user || password || options;
    if (!out->scheme || !out->host || !out->url) {
        rc = rdsbk_error_set(RDSBK_EINVALID, "not an absolute URL with a host");
        goto cleanup;
    }
    len = strlen(out->host);
    if (len >= 2 && out->host[0] == '[' && out->host[len - 1] == ']') {
        memmove(out->host, out->host + 1, len - 2);
        out->host[len - 2] = '\0';
    }

cleanup:
    curl_url_cleanup(u);
    if (rc)
        rdsbk_url_curl_clean_up(out);
    return rc;
}

void rdsbk_url_curl_clean_up(struct rdsbk_url_curl *u) {
    free(u->scheme);
    free(u->host);
    free(u->url);
    memset(u, 0, sizeof(*u));
}

bool rdsbk_url_is_loopback_ip(const char *host) {
    unsigned char addr[16];

    /* glibc's inet_pton takes exactly what Python's ipaddress takes: dotted quads of decimal
     * octets (no leading zeros, no shorthand) and RFC 4291 text */
    if (inet_pton(AF_INET, host, addr) == 1)
        return addr[0] == 127;
    return inet_pton(AF_INET6, host, addr) == 1 && memcmp(addr, &in6addr_loopback, 16) == 0;
}

bool rdsbk_url_same_host(const char *a, const char *b) {
    unsigned char x[16];
    unsigned char y[16];

    if (inet_pton(AF_INET, a, x) == 1)
        return inet_pton(AF_INET, b, y) == 1 && memcmp(x, y, 4) == 0;
    if (inet_pton(AF_INET6, a, x) == 1)
        return inet_pton(AF_INET6, b, y) == 1 && memcmp(x, y, 16) == 0;
    return strcasecmp(a, b) == 0;
}
