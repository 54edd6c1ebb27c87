#ifndef RDSBK_AWS_URL_H
#define RDSBK_AWS_URL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Splitting absolute URLs (private to src/aws). Every part points into the parsed string; none is
 * NUL-terminated. The parts live as long as that string.
 */
struct rdsbk_url_parts {
    const char *scheme; /* "https" */
    size_t scheme_len;
    bool has_userinfo;
    const char *host; /* without IPv6 brackets */
    size_t host_len;
    bool host_ipv6;   /* was written as [..] */
    long port;        /* -1 when absent */
    const char *path; /* "" when absent; starts with '/' otherwise */
    size_t path_len;
    const char *query; /* after '?', before '#'; NULL when there is no '?' */
    size_t query_len;
    bool has_fragment;
};

/* Splits scheme://[userinfo@]host[:port][/path][?query][#fragment]. Returns 0 or RDSBK_EINVALID
 * with the error set. */
int rdsbk_url_split(struct rdsbk_url_parts *out, const char *url);

/* The scheme's default port (443 https, 80 http) or -1. */
long rdsbk_url_default_port(const struct rdsbk_url_parts *parts);

#endif
