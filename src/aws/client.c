#include "rdsbk/client.h"
#include "rdsbk/endpoints.h"
#include "rdsbk/error.h"
#include "rdsbk/services/sts.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_services[] = {"sts", "iam", "kms", "events", "lambda", "rds"};
#define S_N_SERVICES (sizeof(s_services) / sizeof(s_services[0]))

/* The credentials provider, shared by the clients of one account in several Regions. */
struct s_shared_creds {
    pthread_mutex_t lock;
    unsigned refs;
    struct rdsbk_credentials_provider *provider;
};

struct rdsbk_client {
    char *region;
    struct rdsbk_http *http;
    rdsbk_aws_send_fn send;
    char *urls[S_N_SERVICES];
    const char *signing_regions[S_N_SERVICES]; /* static, or borrowed from `region` */
    struct s_shared_creds *creds;
    /* Kept to derive clients for other Regions. */
    struct rdsbk_endpoints endpoints;
};

static int s_dup(char **out, const char *s) {
    *out = NULL;
    if (!s)
        return 0;
    *out = strdup(s);
    return *out ? 0 : RDSBK_ENOMEM;
}

static void s_endpoints_clean_up(struct rdsbk_endpoints *e) {
    free(e->default_url);
    free(e->sts);
    free(e->iam);
    free(e->kms);
    free(e->events);
    free(e->lambda);
    free(e->rds);
    memset(e, 0, sizeof(*e));
}

static int s_endpoints_copy(struct rdsbk_endpoints *dst, const struct rdsbk_endpoints *src) {
    memset(dst, 0, sizeof(*dst));
    if (!src)
        return 0;
    if (s_dup(&dst->default_url, src->default_url) || s_dup(&dst->sts, src->sts) ||
        s_dup(&dst->iam, src->iam) || s_dup(&dst->kms, src->kms) ||
        s_dup(&dst->events, src->events) || s_dup(&dst->lambda, src->lambda) ||
        s_dup(&dst->rds, src->rds)) {
        s_endpoints_clean_up(dst);
        return rdsbk_error_oom();
    }
    return 0;
}

static void s_shared_release(struct s_shared_creds *shared) {
    unsigned left;

    if (!shared)
        return;
    pthread_mutex_lock(&shared->lock);
    left = --shared->refs;
    pthread_mutex_unlock(&shared->lock);
    if (left)
        return;
    rdsbk_credentials_provider_free(shared->provider);
    pthread_mutex_destroy(&shared->lock);
    free(shared);
}

/* Everything but the credentials: Region, transport, endpoints. */
static int s_client_base(struct rdsbk_client **out, const char *region,
                         const struct rdsbk_endpoints *endpoints, struct rdsbk_http *http,
                         rdsbk_aws_send_fn send) {
    struct rdsbk_client *c = calloc(1, sizeof(*c));
    int result = RDSBK_ENOMEM;

    *out = NULL;
    if (!c)
        return rdsbk_error_oom();
    if (!region || !*region) {
        result = rdsbk_error_set(RDSBK_EINVALID, "a client needs a Region");
        goto cleanup;
    }
    c->http = http;
    c->send = send;
    if (s_dup(&c->region, region)) {
        rdsbk_error_set(result, "out of memory");
        goto cleanup;
    }
    result = s_endpoints_copy(&c->endpoints, endpoints);
    for (size_t i = 0; i < S_N_SERVICES && result == 0; i++)
        result = rdsbk_endpoint_resolve(&c->urls[i], &c->signing_regions[i], endpoints,
                                        s_services[i], c->region);
    if (result)
        goto cleanup;
    *out = c;
    c = NULL;

cleanup:
    rdsbk_client_free(c);
    return result;
}

int rdsbk_client_new(struct rdsbk_client **out, const struct rdsbk_client_options *opts) {
    struct rdsbk_credentials_options copts = {0};
    struct rdsbk_client *c = NULL;
    int result;

    *out = NULL;
    result = s_client_base(&c, opts->region, opts->endpoints, opts->http, opts->send);
    if (result)
        goto cleanup;
    c->creds = calloc(1, sizeof(*c->creds));
    if (!c->creds) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    pthread_mutex_init(&c->creds->lock, NULL);
    c->creds->refs = 1;
    copts.profile = opts->profile;
    copts.region = opts->region;
    copts.endpoints = opts->endpoints;
    copts.http = opts->http;
    copts.role_arn = opts->role_arn;
    copts.session_name = opts->session_name ? opts->session_name : "rdsbk";
    copts.send = opts->send;
    result = rdsbk_credentials_provider_new(&c->creds->provider, &copts);
    if (result)
        goto cleanup;
    *out = c;
    c = NULL;

cleanup:
    rdsbk_client_free(c);
    return result;
}

int rdsbk_client_new_for_region(struct rdsbk_client **out, const struct rdsbk_client *base,
                                const char *region) {
    struct rdsbk_client *c = NULL;
    int result;

    *out = NULL;
    result = s_client_base(&c, region, &base->endpoints, base->http, base->send);
    if (result)
        return result;
    pthread_mutex_lock(&base->creds->lock);
    base->creds->refs++;
    pthread_mutex_unlock(&base->creds->lock);
    c->creds = base->creds;
    *out = c;
    return 0;
}

void rdsbk_client_free(struct rdsbk_client *c) {
    if (!c)
        return;
    s_shared_release(c->creds);
    for (size_t i = 0; i < S_N_SERVICES; i++)
        free(c->urls[i]);
    s_endpoints_clean_up(&c->endpoints);
    free(c->region);
    free(c);
}

const char *rdsbk_client_region(const struct rdsbk_client *c) {
    return c->region;
}

struct rdsbk_credentials_provider *rdsbk_client_credentials(const struct rdsbk_client *c) {
    return c->creds->provider;
}

int rdsbk_client_service_ctx(struct rdsbk_service_ctx *ctx, const struct rdsbk_client *c,
                             const char *service) {
    memset(ctx, 0, sizeof(*ctx));
    for (size_t i = 0; i < S_N_SERVICES; i++) {
        if (strcmp(s_services[i], service) != 0)
            continue;
        ctx->http = c->http;
        ctx->endpoint = c->urls[i];
        ctx->signing.region = c->signing_regions[i];
        ctx->signing.service = s_services[i];
        ctx->signing.get_credentials = rdsbk_credentials_provider_get;
        ctx->signing.payload = c->creds->provider;
        ctx->send = c->send;
        return 0;
    }
    return rdsbk_error_set(RDSBK_EINVALID, "unknown service %s", service);
}

int rdsbk_client_verify_account(struct rdsbk_client *c, const char *expected_account,
                                char *account_out) {
    struct rdsbk_sts_identity id = {0};
    int result;

    if (account_out)
        account_out[0] = '\0';
    result = rdsbk_sts_get_caller_identity(&id, c);
    if (result)
        goto cleanup;
    if (account_out)
        snprintf(account_out, 13, "%s", id.account);
    if (expected_account && strcmp(id.account, expected_account) != 0)
        result = rdsbk_error_set(RDSBK_EAUTH,
                                 "credentials for %s belong to account %s, but the topology names "
                                 "%s",
                                 rdsbk_credentials_provider_describe(c->creds->provider),
                                 id.account, expected_account);

cleanup:
    rdsbk_sts_identity_clean_up(&id);
    return result;
}
