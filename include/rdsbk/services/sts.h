#ifndef RDSBK_SERVICES_STS_H
#define RDSBK_SERVICES_STS_H

#include "rdsbk/aws.h"
#include "rdsbk/client.h"

/*
 * STS (awsQuery, API version 2011-06-15). The *_at variants take a service context instead of a
 * client, for the credentials chain (which runs before any client has credentials).
 *
 * Every call returns 0, or a negative rdsbk_error_code with the error set (rdsbk_error_last()
 * keeps the AWS code, HTTP status and request id); on failure its out parameters hold nothing
 * (NULL / zeroed). List calls follow every page and return everything. Nothing is retained
 * between calls; calls on one client may run in parallel.
 */

/* Strings owned by the struct; rdsbk_sts_identity_clean_up frees them. */
struct rdsbk_sts_identity {
    char *account;
    char *arn;
    char *user_id;
};

void rdsbk_sts_identity_clean_up(struct rdsbk_sts_identity *id);

/* GetCallerIdentity. Returns 0 and `out`, or a negative code with the error set. */
int rdsbk_sts_get_caller_identity(struct rdsbk_sts_identity *out, struct rdsbk_client *client);
int rdsbk_sts_get_caller_identity_at(struct rdsbk_sts_identity *out,
                                     const struct rdsbk_service_ctx *ctx);

struct rdsbk_sts_assume_role_input {
    const char *role_arn;     /* required */
    const char *session_name; /* required */
    const char *external_id;  /* or NULL */
    int duration_seconds;     /* 0: the service default (3600) */
};

/* AssumeRole. Returns 0 and `out` (temporary credentials with their expiration; clean up with
 * rdsbk_credentials_clean_up), or a negative code (RDSBK_EAUTH when refused). `assumed_arn_out`
 * (may be NULL) receives the AssumedRoleUser Arn (caller frees). */
int rdsbk_sts_assume_role(struct rdsbk_credentials *out, char **assumed_arn_out,
                          struct rdsbk_client *client,
                          const struct rdsbk_sts_assume_role_input *in);
int rdsbk_sts_assume_role_at(struct rdsbk_credentials *out, char **assumed_arn_out,
                             const struct rdsbk_service_ctx *ctx,
                             const struct rdsbk_sts_assume_role_input *in);

/* AssumeRoleWithWebIdentity; sent unsigned when ctx->signing.get_credentials is NULL (the
 * credentials chain does so). `token` is the OIDC token (secret). */
int rdsbk_sts_assume_role_with_web_identity(struct rdsbk_credentials *out, char **assumed_arn_out,
                                            struct rdsbk_client *client, const char *role_arn,
                                            const char *session_name, const char *token);
int rdsbk_sts_assume_role_with_web_identity_at(struct rdsbk_credentials *out,
                                               char **assumed_arn_out,
                                               const struct rdsbk_service_ctx *ctx,
                                               const char *role_arn, const char *session_name,
                                               const char *token);

#endif
