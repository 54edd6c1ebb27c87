/* Splitting absolute URLs into their parts, in place; see url.h. */
#include "aws/url.h"

#include "rdsbk/error.h"

#include <ctype.h>
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
