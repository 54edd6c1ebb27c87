/*
 * Clients: one account in one Region, with every service's endpoint resolved and a credentials
 * provider that the clients of the account's other Regions share.
 */
#include "rdsbk/client.h"
#include "rdsbk/endpoints.h"
#include "rdsbk/error.h"
#include "rdsbk/services/sts.h"
#include "rdsbk/str.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_services[] = {
    "sts",  "iam", "kms", "events", "lambda",         "rds",
    "logs", "sns", "sqs", "s3",     "cloudformation", "organizations"};
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

static int s_shared_new(struct s_shared_creds **out, const struct rdsbk_client_options *opts) {
    struct rdsbk_credentials_options copts = {
        .profile = opts->profile,
        .region = opts->region,
        .endpoints = opts->endpoints,
        .http = opts->http,
        .role_arn = opts->role_arn,
        .session_name = opts->session_name ? opts->session_name : "rdsbk",
        .send = opts->send,
    };
    struct s_shared_creds *shared = calloc(1, sizeof(*shared));
    int rc;

    *out = NULL;
    if (!shared)
        return rdsbk_error_oom();
    rc = rdsbk_credentials_provider_new(&shared->provider, &copts);
    if (rc) {
        free(shared);
        return rc;
    }
    pthread_mutex_init(&shared->lock, NULL);
    shared->refs = 1;
    *out = shared;
    return 0;
}

static struct s_shared_creds *s_shared_ref(struct s_shared_creds *shared) {
    pthread_mutex_lock(&shared->lock);
    shared->refs++;
    pthread_mutex_unlock(&shared->lock);
    return shared;
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

/* A client for `opts`: with a new credentials provider, or sharing `shared` (NULL: a new one). */
static int s_client_new(struct rdsbk_client **out, const struct rdsbk_client_options *opts,
                        struct s_shared_creds *shared) {
    struct rdsbk_client *c = calloc(1, sizeof(*c));
    int rc;

    *out = NULL;
    RDSBK_CHECK_ALLOC(c);
    if (!opts->region || !*opts->region) {
        rc = rdsbk_error_set(RDSBK_EINVALID, "a client needs a Region");
        goto cleanup;
    }
    c->http = opts->http;
    c->send = opts->send;
    RDSBK_TRY(rdsbk_strdup_into(&c->region, opts->region));
    RDSBK_TRY(rdsbk_endpoints_copy(&c->endpoints, opts->endpoints));
    for (size_t i = 0; i < S_N_SERVICES; i++)
        RDSBK_TRY(rdsbk_endpoint_resolve(&c->urls[i], &c->signing_regions[i], opts->endpoints,
                                         s_services[i], c->region));
    if (shared)
        c->creds = s_shared_ref(shared);
    else
        RDSBK_TRY(s_shared_new(&c->creds, opts));
    *out = c;
    c = NULL;

cleanup:
    rdsbk_client_free(c);
    return rc;
}

int rdsbk_client_new(struct rdsbk_client **out, const struct rdsbk_client_options *opts) {
    return s_client_new(out, opts, NULL);
}

int rdsbk_client_new_for_region(struct rdsbk_client **out, const struct rdsbk_client *base,
                                const char *region) {
    struct rdsbk_client_options opts = {
        .region = region, .endpoints = &base->endpoints, .http = base->http, .send = base->send};

    return s_client_new(out, &opts, base->creds);
}

void rdsbk_client_free(struct rdsbk_client *c) {
    if (!c)
        return;
    s_shared_release(c->creds);
    for (size_t i = 0; i < S_N_SERVICES; i++)
        free(c->urls[i]);
    rdsbk_endpoints_clean_up(&c->endpoints);
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
        *ctx = (struct rdsbk_service_ctx){
            .http = c->http,
            .endpoint = c->urls[i],
            .signing = {.region = c->signing_regions[i],
                        .service = s_services[i],
                        .get_credentials = rdsbk_credentials_provider_get,
                        .payload = c->creds->provider},
            .send = c->send,
        };
        return 0;
    }
    return rdsbk_error_set(RDSBK_EINVALID, "unknown service %s", service);
}

int rdsbk_client_verify_account(struct rdsbk_client *c, const char *expected_account,
                                char *account_out) {
    struct rdsbk_sts_identity id = {0};
    int rc;

    if (account_out)
        account_out[0] = '\0';
    RDSBK_TRY(rdsbk_sts_get_caller_identity(&id, c));
    if (account_out)
        snprintf(account_out, 13, "%s", id.account);
    if (expected_account && strcmp(id.account, expected_account) != 0)
        rc = rdsbk_error_set(RDSBK_EAUTH,
                             "credentials for %s belong to account %s, but the topology names "
                             "%s",
                             rdsbk_credentials_provider_describe(c->creds->provider), id.account,
                             expected_account);

cleanup:
    rdsbk_sts_identity_clean_up(&id);
    return rc;
}
