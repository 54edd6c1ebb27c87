#ifndef RDSBK_CLIENT_H
#define RDSBK_CLIENT_H

#include "rdsbk/config.h"
#include "rdsbk/credentials.h"
#include "rdsbk/protocol.h"

/*
 * A client for one account in one Region: the resolved endpoint of every service, a credentials
 * provider (the AWS CLI chain, plus the topology's role_arn assumed on top) and the shared HTTP
 * transport. Thread-safe once created: service calls may run in parallel on one client.
 */

struct rdsbk_client_options {
    const char *region;                      /* required */
    const char *profile;                     /* topology profile, or NULL */
    const char *role_arn;                    /* topology role_arn, or NULL */
    const char *session_name;                /* for role_arn: "rdsbk-<stack>"; NULL: "rdsbk" */
    const struct rdsbk_endpoints *endpoints; /* topology overrides, may be NULL */
    struct rdsbk_http *http;                 /* shared transport, borrowed */
    rdsbk_aws_send_fn send;                  /* test hook; NULL: rdsbk_aws_send */
};

struct rdsbk_client;

/* Creates a client (copies the options; resolves every endpoint now, fetches no credentials).
 * Returns 0 and *out (free with rdsbk_client_free), RDSBK_EINVALID (bad Region or endpoint URL)
 * or RDSBK_ENOMEM, with the error set. */
int rdsbk_client_new(struct rdsbk_client **out, const struct rdsbk_client_options *opts);

/* A client for the same account and credentials in another Region: the credentials provider is
 * shared (reference-counted), so temporary credentials are fetched once. Same returns as
 * rdsbk_client_new. */
int rdsbk_client_new_for_region(struct rdsbk_client **out, const struct rdsbk_client *base,
                                const char *region);

/* Frees the client; the credentials provider goes with the last client using it. NULL is a
 * no-op. */
void rdsbk_client_free(struct rdsbk_client *client);

/* The client's Region. Borrowed. */
const char *rdsbk_client_region(const struct rdsbk_client *client);

/* The credentials provider (borrowed; valid while the client lives). */
struct rdsbk_credentials_provider *rdsbk_client_credentials(const struct rdsbk_client *client);

/* Fills `ctx` for calling `service` ("sts", "iam", "kms", "events", "lambda", "rds", "logs",
 * "sns", "sqs", "s3"); every pointer in it is borrowed from the client. Returns 0 or RDSBK_EINVALID
 * (unknown service). */
int rdsbk_client_service_ctx(struct rdsbk_service_ctx *ctx, const struct rdsbk_client *client,
                             const char *service);

/* Calls STS GetCallerIdentity and checks the account. Returns 0; RDSBK_EAUTH when the credentials
 * belong to another account ("credentials for profile X belong to account 999..., but the
 * topology names 111..."); or the call's error. `account_out` (may be NULL, >= 13 bytes) receives
 * the account found. */
int rdsbk_client_verify_account(struct rdsbk_client *client, const char *expected_account,
                                char *account_out);

#endif
