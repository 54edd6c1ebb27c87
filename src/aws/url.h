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

/*
 * An absolute URL as libcurl, which sends the requests, reads it. Strings are the caller's, freed
 * by rdsbk_url_curl_clean_up; `host` has no IPv6 brackets; `url` is the URL as libcurl writes it
 * back, what to send so that the request goes where the checks looked.
 */
struct rdsbk_url_curl {
    char *scheme; /* lower case */
    char *host;
    char *url;
    bool has_userinfo; /* a user name, password or login options, even empty */
    bool has_zone;     /* an IPv6 zone id (%25eth0) */
};

/* Parses `url` with libcurl's URL API (curl_url). Returns 0 or RDSBK_EINVALID (libcurl's reason
 * set; the URL is not repeated, it may hold a password). */
int rdsbk_url_curl_parse(struct rdsbk_url_curl *out, const char *url);

void rdsbk_url_curl_clean_up(struct rdsbk_url_curl *u);

/* Whether `host` (no brackets) is a loopback address as Python's ipaddress module reads it
 * (botocore's test): four decimal octets without leading zeros in 127.0.0.0/8, or an IPv6
 * address equal to ::1. Names, and numbers libcurl would also take (127.1, 0x7f.0.0.1), are not. */
bool rdsbk_url_is_loopback_ip(const char *host);

/* Whether hosts `a` and `b` (no brackets) are one: the same IP address however written, or the
 * same name, case ignored. */
bool rdsbk_url_same_host(const char *a, const char *b);

#endif
