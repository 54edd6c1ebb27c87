#include "rdsbk/endpoints.h"

#include "aws/url.h"
#include "rdsbk/config.h"
#include "rdsbk/error.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct s_service {
    const char *name;   /* our name, also the endpoint prefix */
    const char *env_id; /* the SDK service id, upper-cased, spaces as '_' */
};

static const struct s_service s_services[] = {
    {"sts", "STS"},       {"iam", "IAM"}, {"kms", "KMS"}, {"events", "EVENTBRIDGE"},
    {"lambda", "LAMBDA"}, {"rds", "RDS"},
};

/* The topology's per-service override, or NULL. */
static const char *s_topology_url(const struct rdsbk_endpoints *e, const char *service) {
    if (strcmp(service, "sts") == 0)
        return e->sts;
    if (strcmp(service, "iam") == 0)
        return e->iam;
    if (strcmp(service, "kms") == 0)
        return e->kms;
    if (strcmp(service, "events") == 0)
        return e->events;
    if (strcmp(service, "lambda") == 0)
        return e->lambda;
    if (strcmp(service, "rds") == 0)
        return e->rds;
    return NULL;
}

const char *rdsbk_partition_of_region(const char *region) {
    if (region && strncmp(region, "cn-", 3) == 0)
        return "aws-cn";
    if (region && strncmp(region, "us-gov-", 7) == 0)
        return "aws-us-gov";
    return "aws";
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

static bool s_is_loopback(const struct rdsbk_url_parts *u) {
    unsigned long octet = 0;
    int dots = 0;
    int digits = 0;

    if (u->host_ipv6)
        return u->host_len == 3 && memcmp(u->host, "::1", 3) == 0;
    if (u->host_len == 9 && strncasecmp(u->host, "localhost", 9) == 0)
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
    int result;

    if (!url || !*url) {
        result = rdsbk_error_set(RDSBK_EINVALID, "empty endpoint URL");
        goto cleanup;
    }
    result = rdsbk_url_split(&u, url);
    if (result)
        goto cleanup;
    https = u.scheme_len == 5 && strncasecmp(u.scheme, "https", 5) == 0;
    if (!https && !(u.scheme_len == 4 && strncasecmp(u.scheme, "http", 4) == 0)) {
        result = rdsbk_error_set(RDSBK_EINVALID, "endpoint %s: only https:// is allowed", url);
        goto cleanup;
    }
    if (u.has_userinfo || u.query || u.has_fragment) {
        result = rdsbk_error_set(RDSBK_EINVALID,
                                 "endpoint %s: user info, query and fragment are not allowed", url);
        goto cleanup;
    }
    if (!s_valid_hostname(&u)) {
        result = rdsbk_error_set(RDSBK_EINVALID, "endpoint %s: invalid host name", url);
        goto cleanup;
    }
    if (!https && !s_is_loopback(&u)) {
        result = rdsbk_error_set(RDSBK_EINVALID,
                                 "endpoint %s: plain http:// is allowed only to a loopback host "
                                 "(127.0.0.0/8, ::1, localhost); use https://",
                                 url);
        goto cleanup;
    }
    result = 0;

cleanup:
    return result;
}

/* Copies an override URL without its trailing slashes and checks it. */
static int s_take_override(char **url_out, const char *url, const char *origin) {
    char copy[sizeof(rdsbk_error_last()->message)];
    size_t len = strlen(url);
    char *taken = NULL;
    int result;

    while (len > 0 && url[len - 1] == '/')
        len--;
    taken = strndup(url, len);
    if (!taken) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    result = rdsbk_endpoint_check_url(taken);
    if (result) {
        snprintf(copy, sizeof(copy), "%s", rdsbk_error_last()->message);
        rdsbk_error_set(result, "%s (from %s)", copy, origin);
        goto cleanup;
    }
    *url_out = taken;
    taken = NULL;

cleanup:
    free(taken);
    return result;
}

/* AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true turns the environment's endpoint URLs off, as in the
 * SDKs (the topology's, being explicit in the file, still apply). */
static bool s_ignore_env_endpoints(void) {
    const char *v = getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    return v && strcasecmp(v, "true") == 0;
}

int rdsbk_endpoint_resolve(char **url_out, const char **signing_region_out,
                           const struct rdsbk_endpoints *topology_overrides, const char *service,
                           const char *region) {
    const struct s_service *svc = NULL;
    const char *partition;
    const char *override = NULL;
    char origin[96] = "";
    char env_name[64];
    int result;

    *url_out = NULL;
    *signing_region_out = NULL;
    for (size_t i = 0; service && i < sizeof(s_services) / sizeof(s_services[0]); i++)
        if (strcmp(s_services[i].name, service) == 0)
            svc = &s_services[i];
    if (!svc) {
        result = rdsbk_error_set(RDSBK_EINVALID, "unknown service \"%s\"", service ? service : "");
        goto cleanup;
    }
    if (!s_valid_region(region)) {
        result = rdsbk_error_set(RDSBK_EINVALID, "invalid Region \"%s\"", region ? region : "");
        goto cleanup;
    }
    partition = rdsbk_partition_of_region(region);

    /* IAM is global: one endpoint per partition, signed for the partition's home Region. */
    if (strcmp(service, "iam") == 0) {
        if (strcmp(partition, "aws-cn") == 0)
            *signing_region_out = "cn-north-1";
        else if (strcmp(partition, "aws-us-gov") == 0)
            *signing_region_out = "us-gov-west-1";
        else
            *signing_region_out = "us-east-1";
    } else {
        *signing_region_out = region;
    }

    /* 1-2: the topology, per service then its default */
    if (topology_overrides) {
        const char *per = s_topology_url(topology_overrides, service);
        if (per && *per) {
            override = per;
            snprintf(origin, sizeof(origin), "the topology's endpoints.%s", service);
        } else if (topology_overrides->default_url && *topology_overrides->default_url) {
            override = topology_overrides->default_url;
            snprintf(origin, sizeof(origin), "the topology's endpoints.default");
        }
    }
    /* 3-4: the environment, per service then global */
    if (!override && !s_ignore_env_endpoints()) {
        snprintf(env_name, sizeof(env_name), "AWS_ENDPOINT_URL_%s", svc->env_id);
        override = getenv(env_name);
        if (override && *override) {
            snprintf(origin, sizeof(origin), "%s", env_name);
        } else {
            override = getenv("AWS_ENDPOINT_URL");
            if (override && *override)
                snprintf(origin, sizeof(origin), "AWS_ENDPOINT_URL");
            else
                override = NULL;
        }
    }
    if (override) {
        result = s_take_override(url_out, override, origin);
        goto cleanup;
    }

    /* 5: the partition default */
    {
        char url[160];
        const char *suffix =
            strcmp(partition, "aws-cn") == 0 ? "amazonaws.com.cn" : "amazonaws.com";
        if (strcmp(service, "iam") == 0) {
            if (strcmp(partition, "aws-cn") == 0)
                snprintf(url, sizeof(url), "https://iam.cn-north-1.amazonaws.com.cn");
            else if (strcmp(partition, "aws-us-gov") == 0)
                snprintf(url, sizeof(url), "https://iam.us-gov.amazonaws.com");
            else
                snprintf(url, sizeof(url), "https://iam.amazonaws.com");
        } else {
            snprintf(url, sizeof(url), "https://%s.%s.%s", service, region, suffix);
        }
        *url_out = strdup(url);
        if (!*url_out) {
            result = rdsbk_error_oom();
            goto cleanup;
        }
    }
    result = 0;

cleanup:
    if (result)
        *signing_region_out = NULL;
    return result;
}
