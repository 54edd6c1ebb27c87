#include "aws/url.h"

#include "rdsbk/error.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static bool s_is_scheme_char(char c) {
    return isalnum((unsigned char)c) || c == '+' || c == '-' || c == '.';
}

int rdsbk_url_split(struct rdsbk_url_parts *out, const char *url) {
    const char *p = url;
    const char *auth;
    const char *auth_end;
    const char *at;
    const char *host_end;
    int result = RDSBK_EINVALID;

    memset(out, 0, sizeof(*out));
    out->port = -1;
    out->path = "";
    while (*p && s_is_scheme_char(*p))
        p++;
    if (p == url || strncmp(p, "://", 3) != 0) {
        rdsbk_error_set(RDSBK_EINVALID, "not an absolute URL: %s", url);
        goto cleanup;
    }
    out->scheme = url;
    out->scheme_len = (size_t)(p - url);
    auth = p + 3;
    auth_end = auth + strcspn(auth, "/?#");

    /* userinfo ends at the last '@' inside the authority */
    at = NULL;
    for (const char *q = auth; q < auth_end; q++)
        if (*q == '@')
            at = q;
    if (at) {
        out->has_userinfo = true;
        auth = at + 1;
    }
    if (auth < auth_end && *auth == '[') {
        const char *close = memchr(auth, ']', (size_t)(auth_end - auth));
        if (!close) {
            rdsbk_error_set(RDSBK_EINVALID, "unterminated IPv6 address in URL: %s", url);
            goto cleanup;
        }
        out->host = auth + 1;
        out->host_len = (size_t)(close - auth - 1);
        out->host_ipv6 = true;
        host_end = close + 1;
    } else {
        const char *colon = memchr(auth, ':', (size_t)(auth_end - auth));
        host_end = colon ? colon : auth_end;
        out->host = auth;
        out->host_len = (size_t)(host_end - auth);
    }
    if (out->host_len == 0) {
        rdsbk_error_set(RDSBK_EINVALID, "URL without a host: %s", url);
        goto cleanup;
    }
    if (host_end < auth_end) {
        long port = 0;
        const char *q = host_end;
        if (*q != ':' || q + 1 == auth_end) {
            rdsbk_error_set(RDSBK_EINVALID, "bad port in URL: %s", url);
            goto cleanup;
        }
        for (q++; q < auth_end; q++) {
            if (!isdigit((unsigned char)*q) || port > 65535) {
                rdsbk_error_set(RDSBK_EINVALID, "bad port in URL: %s", url);
                goto cleanup;
            }
            port = port * 10 + (*q - '0');
        }
        if (port < 1 || port > 65535) {
            rdsbk_error_set(RDSBK_EINVALID, "bad port in URL: %s", url);
            goto cleanup;
        }
        out->port = port;
    }

    p = auth_end;
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
    result = 0;

cleanup:
    return result;
}

long rdsbk_url_default_port(const struct rdsbk_url_parts *parts) {
    if (parts->scheme_len == 5 && strncasecmp(parts->scheme, "https", 5) == 0)
        return 443;
    if (parts->scheme_len == 4 && strncasecmp(parts->scheme, "http", 4) == 0)
        return 80;
    return -1;
}
