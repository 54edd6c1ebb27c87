/*
 * STS (awsQuery): who the caller is, and temporary credentials for a role (AssumeRole,
 * AssumeRoleWithWebIdentity). The *_at calls take a service context rather than a client: the
 * credentials chain calls them before any client has credentials. Credentials in replies are
 * wiped before the reply is freed.
 */
#include "rdsbk/services/sts.h"
#include "rdsbk/error.h"
#include "services/svc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const struct rdsbk_svc_query_api s_api = {"sts", "2011-06-15", NULL};

#define S_IDENTITY(m) offsetof(struct rdsbk_sts_identity, m)
static const struct rdsbk_field s_identity_fields[] = {
    RDSBK_FIELD(STR, "Account", S_IDENTITY(account)),
    RDSBK_FIELD(STR, "Arn", S_IDENTITY(arn)),
    RDSBK_FIELD(STR, "UserId", S_IDENTITY(user_id)),
    RDSBK_FIELD_END,
};
static const struct rdsbk_shape s_identity = {s_identity_fields, sizeof(struct rdsbk_sts_identity),
                                              NULL};

/* <Credentials><AccessKeyId/><SecretAccessKey/><SessionToken/><Expiration/></Credentials> */
#define S_CREDENTIALS(m) offsetof(struct rdsbk_credentials, m)
static const struct rdsbk_field s_credentials_fields[] = {
    RDSBK_FIELD(STR, "AccessKeyId", S_CREDENTIALS(access_key_id)),
    RDSBK_FIELD(STR, "SecretAccessKey", S_CREDENTIALS(secret_access_key)),
    RDSBK_FIELD(STR, "SessionToken", S_CREDENTIALS(session_token)),
    RDSBK_FIELD(TIME, "Expiration", S_CREDENTIALS(expiration)),
    RDSBK_FIELD_END,
};
static const struct rdsbk_shape s_credentials = {s_credentials_fields,
                                                 sizeof(struct rdsbk_credentials), NULL};

#define S_ASSUME(m) offsetof(struct rdsbk_sts_assume_role_input, m)
static const struct rdsbk_field s_assume_role_input[] = {
    RDSBK_FIELD(STR, "RoleArn", S_ASSUME(role_arn)),
    RDSBK_FIELD(STR, "RoleSessionName", S_ASSUME(session_name)),
    RDSBK_FIELD(STR, "ExternalId", S_ASSUME(external_id)),
    RDSBK_FIELD(INT, "DurationSeconds", S_ASSUME(duration_seconds)),
    RDSBK_FIELD_END,
};

void rdsbk_sts_identity_clean_up(struct rdsbk_sts_identity *id) {
    rdsbk_shape_clean_up(id, &s_identity);
}

int rdsbk_sts_get_caller_identity_at(struct rdsbk_sts_identity *out,
                                     const struct rdsbk_service_ctx *ctx) {
    static const struct rdsbk_svc_query_op op = {.api = &s_api, .action = "GetCallerIdentity"};
    struct rdsbk_query_reply reply;
    int rc;

    memset(out, 0, sizeof(*out));
    RDSBK_TRY(rdsbk_svc_query_reply_at(&reply, ctx, &op, NULL, NULL));
    if (!rdsbk_xml_child(reply.result, "Account")) {
        rc = rdsbk_error_set(RDSBK_EINVALID, "sts:GetCallerIdentity: no Account in the reply");
        goto cleanup;
    }
    rc = rdsbk_xml_read(out, reply.result, &s_identity);

cleanup:
    if (rc)
        rdsbk_sts_identity_clean_up(out);
    rdsbk_query_reply_clean_up(&reply);
    return rc;
}

int rdsbk_sts_get_caller_identity(struct rdsbk_sts_identity *out, struct rdsbk_client *client) {
    struct rdsbk_service_ctx ctx;
    int rc = rdsbk_client_service_ctx(&ctx, client, "sts");

    return rc ? rc : rdsbk_sts_get_caller_identity_at(out, &ctx);
}

/* Sends `op` and reads the credentials of its Result, and the AssumedRoleUser Arn into *arn_out
 * (may be NULL). */
static int s_assume(struct rdsbk_credentials *out, char **arn_out,
                    const struct rdsbk_service_ctx *ctx, const struct rdsbk_svc_query_op *op,
                    const struct rdsbk_arg *args, const void *in) {
    struct rdsbk_query_reply reply;
    xmlNodePtr creds;
    int rc;

    memset(out, 0, sizeof(*out));
    if (arn_out)
        *arn_out = NULL;
    RDSBK_TRY(rdsbk_svc_query_reply_at(&reply, ctx, op, args, in));
    creds = rdsbk_xml_child(reply.result, "Credentials");
    if (!rdsbk_xml_child(creds, "AccessKeyId") || !rdsbk_xml_child(creds, "SecretAccessKey")) {
        rc = rdsbk_error_set(RDSBK_EAUTH, "sts:%s: no credentials in the reply", op->action);
        goto cleanup;
    }
    RDSBK_TRY(rdsbk_xml_read(out, creds, &s_credentials));
    if (arn_out)
        rc = rdsbk_xml_path_dup(arn_out, reply.result, "AssumedRoleUser/Arn");

cleanup:
    if (rc)
        rdsbk_credentials_clean_up(out);
    rdsbk_xml_wipe(reply.result);
    rdsbk_query_reply_clean_up(&reply);
    return rc;
}

int rdsbk_sts_assume_role_at(struct rdsbk_credentials *out, char **assumed_arn_out,
                             const struct rdsbk_service_ctx *ctx,
                             const struct rdsbk_sts_assume_role_input *in) {
    static const struct rdsbk_svc_query_op op = {
        .api = &s_api, .action = "AssumeRole", .input = s_assume_role_input};

    return s_assume(out, assumed_arn_out, ctx, &op, NULL, in);
}

int rdsbk_sts_assume_role(struct rdsbk_credentials *out, char **assumed_arn_out,
                          struct rdsbk_client *client,
                          const struct rdsbk_sts_assume_role_input *in) {
    struct rdsbk_service_ctx ctx;
    int rc = rdsbk_client_service_ctx(&ctx, client, "sts");

    return rc ? rc : rdsbk_sts_assume_role_at(out, assumed_arn_out, &ctx, in);
}

int rdsbk_sts_assume_role_with_web_identity_at(struct rdsbk_credentials *out,
                                               char **assumed_arn_out,
                                               const struct rdsbk_service_ctx *ctx,
                                               const char *role_arn, const char *session_name,
                                               const char *token) {
    static const struct rdsbk_svc_query_op op = {.api = &s_api,
                                                 .action = "AssumeRoleWithWebIdentity"};
    const struct rdsbk_arg args[] = {{"RoleArn", role_arn},
                                     {"RoleSessionName", session_name},
                                     {"WebIdentityToken", token},
                                     {NULL, NULL}};

    return s_assume(out, assumed_arn_out, ctx, &op, args, NULL);
}

int rdsbk_sts_assume_role_with_web_identity(struct rdsbk_credentials *out, char **assumed_arn_out,
                                            struct rdsbk_client *client, const char *role_arn,
                                            const char *session_name, const char *token) {
    struct rdsbk_service_ctx ctx;
    int rc = rdsbk_client_service_ctx(&ctx, client, "sts");

    if (rc)
        return rc;
    ctx.signing.get_credentials = NULL;
    ctx.signing.payload = NULL;
    return rdsbk_sts_assume_role_with_web_identity_at(out, assumed_arn_out, &ctx, role_arn,
                                                      session_name, token);
}
