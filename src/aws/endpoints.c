/*
 * Where each AWS service is reached and which Region its requests are signed for: the services
 * and partitions we know, the overrides of the topology and of the environment, and the checks
 * every endpoint URL passes.
 */
#include "rdsbk/endpoints.h"

#include "aws/url.h"
#include "rdsbk/buf.h"
#include "rdsbk/config.h"
#include "rdsbk/error.h"
#include "rdsbk/str.h"

#include <curl/curl.h>

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct s_service {
    const char *name;   /* our name, also the endpoint prefix */
    const char *env_id; /* the SDK service id, upper-cased, spaces as '_' */
    size_t override;    /* where struct rdsbk_endpoints holds the topology's URL for it */
} s_services[] = {
    {"sts", "STS", offsetof(struct rdsbk_endpoints, sts)},
    {"iam", "IAM", offsetof(struct rdsbk_endpoints, iam)},
    {"kms", "KMS", offsetof(struct rdsbk_endpoints, kms)},
    {"events", "EVENTBRIDGE", offsetof(struct rdsbk_endpoints, events)},
    {"lambda", "LAMBDA", offsetof(struct rdsbk_endpoints, lambda)},
    {"rds", "RDS", offsetof(struct rdsbk_endpoints, rds)},
    {"logs", "CLOUDWATCH_LOGS", offsetof(struct rdsbk_endpoints, logs)},
    {"sns", "SNS", offsetof(struct rdsbk_endpoints, sns)},
    {"sqs", "SQS", offsetof(struct rdsbk_endpoints, sqs)},
    {"s3", "S3", offsetof(struct rdsbk_endpoints, s3)},
    {"cloudformation", "CLOUDFORMATION", offsetof(struct rdsbk_endpoints, cloudformation)},
    {"organizations", "ORGANIZATIONS", offsetof(struct rdsbk_endpoints, organizations)},
};

#define S_N_SERVICES (sizeof(s_services) / sizeof(s_services[0]))

/* IAM and Organizations are global: one endpoint per partition, signed for its home Region. */
static const struct s_partition {
    const char *name;
    const char *region_prefix; /* the Regions it holds; "" for the default partition, last */
    const char *dns_suffix;
    const char *iam_url;
    const char *iam_region;
    const char *organizations_url;
    const char *organizations_region;
} s_partitions[] = {
    {"aws-cn", "cn-", "amazonaws.com.cn", "https://iam.cn-north-1.amazonaws.com.cn", "cn-north-1",
     "https://organizations.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"},
    {"aws-us-gov", "us-gov-", "amazonaws.com", "https://iam.us-gov.amazonaws.com", "us-gov-west-1",
     "https://organizations.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
    {"aws", "", "amazonaws.com", "https://iam.amazonaws.com", "us-east-1",
     "https://organizations.us-east-1.amazonaws.com", "us-east-1"},
};

/* The topology's URL at byte `offset` of `e` (a char * member); NULL when unset. */
static char **s_url_at(const struct rdsbk_endpoints *e, size_t offset) {
    return (char **)((const char *)e + offset);
}

static const struct s_service *s_service(const char *name) {
    for (size_t i = 0; name && i < S_N_SERVICES; i++)
        if (strcmp(s_services[i].name, name) == 0)
            return &s_services[i];
    return NULL;
}

static const struct s_partition *s_partition(const char *region) {
    const struct s_partition *p = s_partitions;

    /* the last one, the default partition, has no prefix */
    while (p->region_prefix[0] &&
           !(region && strncmp(region, p->region_prefix, strlen(p->region_prefix)) == 0))
        p++;
    return p;
}

const char *rdsbk_partition_of_region(const char *region) {
    return s_partition(region)->name;
}

int rdsbk_endpoints_copy(struct rdsbk_endpoints *dst, const struct rdsbk_endpoints *src) {
    int rc;

    memset(dst, 0, sizeof(*dst));
    if (!src)
        return 0;
    rc = rdsbk_strdup_into(&dst->default_url, src->default_url);
    for (size_t i = 0; rc == 0 && i < S_N_SERVICES; i++)
        rc = rdsbk_strdup_into(s_url_at(dst, s_services[i].override),
                               *s_url_at(src, s_services[i].override));
    if (rc)
        rdsbk_endpoints_clean_up(dst);
    return rc;
}

void rdsbk_endpoints_clean_up(struct rdsbk_endpoints *e) {
    free(e->default_url);
    for (size_t i = 0; i < S_N_SERVICES; i++)
        free(*s_url_at(e, s_services[i].override));
    memset(e, 0, sizeof(*e));
}

static bool s_valid_region(const char *region) {
    size_t n = 0;

    if (!region || !*region || region[0] == '-')
        return false;
    for (; region[n]; n++)
        if (!(islower((unsigned char)region[n]) || isdigit((unsigned char)region[n]) ||
              region[n] == '-'))
            return false;
    return n <= 32;
}

/* libcurl 7.85.0 and later resolve every <name>.localhost to loopback themselves, never asking
 * a resolver (curl PR #9296, as RFC 6761 6.3 asks); "localhost" alone since 7.78.0. */
#define S_CURL_LOCALHOST_NAMES 0x075500

/* "localhost", or "<name>.localhost" when libcurl keeps such names on loopback. */
static bool s_is_localhost_name(const char *host, size_t len) {
    static const char suffix[] = ".localhost";
    const size_t n = sizeof(suffix) - 1;

    if (len == 9 && strncasecmp(host, "localhost", 9) == 0)
        return true;
    return len > n && strncasecmp(host + len - n, suffix, n) == 0 &&
           curl_version_info(CURLVERSION_NOW)->version_num >= S_CURL_LOCALHOST_NAMES;
}

static bool s_is_loopback(const struct rdsbk_url_parts *u) {
    unsigned long octet = 0;
    int dots = 0;
    int digits = 0;

    if (u->host_ipv6)
        return u->host_len == 3 && memcmp(u->host, "::1", 3) == 0;
    if (s_is_localhost_name(u->host, u->host_len))
        return true;
    /* 127.0.0.0/8, four decimal octets */
    if (u->host_len < 4 || memcmp(u->host, "127.", 4) != 0)
        return false;
    for (size_t i = 0; i < u->host_len; i++) {
        char c = u->host[i];
        if (c == '.') {
            if (digits == 0)
                return false;
            dots++;
            octet = 0;
            digits = 0;
        } else if (isdigit((unsigned char)c)) {
            octet = octet * 10 + (unsigned long)(c - '0');
            digits++;
            if (octet > 255 || digits > 3)
                return false;
        } else {
            return false;
        }
    }
    return dots == 3 && digits > 0;
}

static bool s_valid_hostname(const struct rdsbk_url_parts *u) {
    if (u->host_ipv6) {
        for (size_t i = 0; i < u->host_len; i++)
            if (!isxdigit((unsigned char)u->host[i]) && u->host[i] != ':' && u->host[i] != '.')
                return false;
        return true;
    }
    for (size_t i = 0; i < u->host_len; i++)
        if (!isalnum((unsigned char)u->host[i]) && u->host[i] != '-' && u->host[i] != '.')
            return false;
    return true;
}

int rdsbk_endpoint_check_url(const char *url) {
    struct rdsbk_url_parts u;
    bool https;
    int rc;

    if (!url || !*url)
        return rdsbk_error_set(RDSBK_EINVALID, "empty endpoint URL");
    rc = rdsbk_url_split(&u, url);
    if (rc)
        return rc;
    https = u.scheme_len == 5 && strncasecmp(u.scheme, "https", 5) == 0;
    if (!https && !(u.scheme_len == 4 && strncasecmp(u.scheme, "http", 4) == 0))
        return rdsbk_error_set(RDSBK_EINVALID, "endpoint %s: only https:// is allowed", url);
    if (u.has_userinfo || u.query || u.has_fragment)
        return rdsbk_error_set(RDSBK_EINVALID,
                               "endpoint %s: user info, query and fragment are not allowed", url);
    if (!s_valid_hostname(&u))
        return rdsbk_error_set(RDSBK_EINVALID, "endpoint %s: invalid host name", url);
    if (!https && !s_is_loopback(&u))
        return rdsbk_error_set(RDSBK_EINVALID,
                               "endpoint %s: plain http:// is allowed only to a loopback host "
                               "(127.0.0.0/8, ::1, localhost, *.localhost); use https://",
                               url);
    return 0;
}

/* Copies an override URL without its trailing slashes and checks it. */
static int s_take_override(char **url_out, const char *url, const char *origin) {
    char copy[sizeof(rdsbk_error_last()->message)];
    size_t len = strlen(url);
    char *taken = NULL;
    int rc;

    while (len > 0 && url[len - 1] == '/')
        len--;
    taken = strndup(url, len);
    RDSBK_CHECK_ALLOC(taken);
    rc = rdsbk_endpoint_check_url(taken);
    if (rc) {
        snprintf(copy, sizeof(copy), "%s", rdsbk_error_last()->message);
        rdsbk_error_set(rc, "%s (from %s)", copy, origin);
        goto cleanup;
    }
    *url_out = taken;
    taken = NULL;

cleanup:
    free(taken);
    return rc;
}

/* AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true turns the environment's endpoint URLs off, as in the
 * SDKs (the topology's, being explicit in the file, still apply). */
static bool s_ignore_env_endpoints(void) {
    const char *v = getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    return v && strcasecmp(v, "true") == 0;
}

/* Steps 1 to 4 of rdsbk_endpoint_resolve: the override URL for `svc`, or NULL; `origin` says
 * where it comes from, for messages. */
static const char *s_override(char *origin, size_t size, const struct rdsbk_endpoints *topology,
                              const struct s_service *svc) {
    const char *url = topology ? *s_url_at(topology, svc->override) : NULL;
    char env_name[64];

    /* 1-2: the topology, per service then its default */
    if (url && *url) {
        snprintf(origin, size, "the topology's endpoints.%s", svc->name);
        return url;
    }
    if (topology && topology->default_url && *topology->default_url) {
        snprintf(origin, size, "the topology's endpoints.default");
        return topology->default_url;
    }
    /* 3-4: the environment, per service then global */
    if (s_ignore_env_endpoints())
        return NULL;
    snprintf(env_name, sizeof(env_name), "AWS_ENDPOINT_URL_%s", svc->env_id);
    url = getenv(env_name);
    if (!url || !*url) {
        snprintf(env_name, sizeof(env_name), "AWS_ENDPOINT_URL");
        url = getenv(env_name);
    }
    if (!url || !*url)
        return NULL;
    snprintf(origin, size, "%s", env_name);
    return url;
}

int rdsbk_endpoint_resolve(char **url_out, const char **signing_region_out,
                           const struct rdsbk_endpoints *topology_overrides, const char *service,
                           const char *region) {
    const struct s_service *svc = s_service(service);
    const struct s_partition *partition = s_partition(region);
    bool iam = svc && strcmp(svc->name, "iam") == 0;
    bool organizations = svc && strcmp(svc->name, "organizations") == 0;
    const char *override;
    char origin[96];
    int rc;

    *url_out = NULL;
    *signing_region_out = NULL;
    if (!svc)
        return rdsbk_error_set(RDSBK_EINVALID, "unknown service \"%s\"", service ? service : "");
    if (!s_valid_region(region))
        return rdsbk_error_set(RDSBK_EINVALID, "invalid Region \"%s\"", region ? region : "");
    override = s_override(origin, sizeof(origin), topology_overrides, svc);
    if (override)
        rc = s_take_override(url_out, override, origin);
    else if (iam) /* 5: the partition default */
        rc = rdsbk_strdup_into(url_out, partition->iam_url);
    else if (organizations)
        rc = rdsbk_strdup_into(url_out, partition->organizations_url);
    else
        rc = rdsbk_strfmt(url_out, "https://%s.%s.%s", service, region, partition->dns_suffix);
    if (rc == 0)
        *signing_region_out = iam             ? partition->iam_region
                              : organizations ? partition->organizations_region
                                              : region;
    return rc;
}

/* ---- S3 addressing ---- */

/* AWS_S3_FORCE_PATH_STYLE "true" (any case) or "1". */
static bool s_force_path_style(void) {
    const char *v = getenv("AWS_S3_FORCE_PATH_STYLE");

    return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* An IPv4 address written as four dotted numbers (IPv6 hosts are flagged by the parser). */
static bool s_is_ipv4(const char *host, size_t len) {
    int dots = 0;

    for (size_t i = 0; i < len; i++) {
        if (host[i] == '.')
            dots++;
        else if (!isdigit((unsigned char)host[i]))
            return false;
    }
    return dots == 3;
}

/* A bucket name virtual hosting can carry: one DNS label of 3 to 63 lower-case letters, digits
 * and hyphens, a letter or digit at each end. No dots: a TLS wildcard certificate
 * (*.s3.<region>.amazonaws.com) covers one label, and botocore's check_dns_name refuses them. */
static bool s_virtual_hostable(const char *bucket) {
    size_t n = strlen(bucket);

    if (n < 3 || n > 63 || bucket[0] == '-' || bucket[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)bucket[i]) && !isdigit((unsigned char)bucket[i]) &&
            bucket[i] != '-')
            return false;
    return true;
}

/* <scheme>://<bucket>.<host>[:<port>]<path> */
static int s_virtual_url(char **url_out, const struct rdsbk_url_parts *u, const char *bucket) {
    struct rdsbk_buf url = RDSBK_BUF_INIT;
    int rc;

    RDSBK_TRY(rdsbk_buf_printf(&url, "%.*s://%s.%.*s", (int)u->scheme_len, u->scheme, bucket,
                               (int)u->host_len, u->host));
    if (u->port >= 0)
        RDSBK_TRY(rdsbk_buf_printf(&url, ":%ld", u->port));
    RDSBK_TRY(rdsbk_buf_add(&url, u->path, u->path_len));
    *url_out = rdsbk_buf_detach(&url);
    RDSBK_CHECK_ALLOC(*url_out);

cleanup:
    rdsbk_buf_clean_up(&url);
    return rc;
}

int rdsbk_endpoint_s3_bucket(char **url_out, bool *path_style_out, const char *endpoint,
                             const char *bucket) {
    struct rdsbk_url_parts u;
    int rc;

    *url_out = NULL;
    *path_style_out = true;
    RDSBK_TRY(rdsbk_url_split(&u, endpoint));
    if (s_force_path_style() || u.host_ipv6 || s_is_ipv4(u.host, u.host_len) ||
        !s_virtual_hostable(bucket)) {
        rc = rdsbk_strdup_into(url_out, endpoint);
        goto cleanup;
    }
    *path_style_out = false;
    rc = s_virtual_url(url_out, &u, bucket);

cleanup:
    return rc;
}
