#include "rdsbk/services/sts.h"
#include "rdsbk/error.h"

#include <stdlib.h>
#include <string.h>

#define S_VERSION "2011-06-15"

void rdsbk_sts_identity_clean_up(struct rdsbk_sts_identity *id) {
    free(id->account);
    free(id->arn);
    free(id->user_id);
    memset(id, 0, sizeof(*id));
}

int rdsbk_sts_get_caller_identity_at(struct rdsbk_sts_identity *out,
                                     const struct rdsbk_service_ctx *ctx) {
    struct rdsbk_query q = {0};
    struct rdsbk_query_reply reply = {0};
    int result;

    memset(out, 0, sizeof(*out));
    result = rdsbk_query_init(&q, "GetCallerIdentity", S_VERSION);
    if (result)
        goto cleanup;
    result = rdsbk_query_send(&reply, ctx, &q);
    if (result)
        goto cleanup;
    if (!rdsbk_xml_child(reply.result, "Account")) {
        result = rdsbk_error_set(RDSBK_EINVALID, "sts:GetCallerIdentity: no Account in the reply");
        goto cleanup;
    }
    result = rdsbk_xml_path_dup(&out->account, reply.result, "Account");
    if (result == 0)
        result = rdsbk_xml_path_dup(&out->arn, reply.result, "Arn");
    if (result == 0)
        result = rdsbk_xml_path_dup(&out->user_id, reply.result, "UserId");

cleanup:
    if (result)
        rdsbk_sts_identity_clean_up(out);
    rdsbk_query_reply_clean_up(&reply);
    rdsbk_query_clean_up(&q);
    return result;
}

int rdsbk_sts_get_caller_identity(struct rdsbk_sts_identity *out, struct rdsbk_client *client) {
    struct rdsbk_service_ctx ctx;
    int rc = rdsbk_client_service_ctx(&ctx, client, "sts");

    if (rc)
        return rc;
    return rdsbk_sts_get_caller_identity_at(out, &ctx);
}

/* <Credentials><AccessKeyId/><SecretAccessKey/><SessionToken/><Expiration/></Credentials> and
 * <AssumedRoleUser><Arn/></AssumedRoleUser> under the Result element. */
static int s_parse_credentials(struct rdsbk_credentials *out, char **arn_out, const char *op,
                               const xmlNode *result) {
    xmlNodePtr creds = rdsbk_xml_child(result, "Credentials");
    int rc;

    memset(out, 0, sizeof(*out));
    if (arn_out)
        *arn_out = NULL;
    if (!creds || !rdsbk_xml_child(creds, "AccessKeyId") ||
        !rdsbk_xml_child(creds, "SecretAccessKey"))
        return rdsbk_error_set(RDSBK_EAUTH, "sts:%s: no credentials in the reply", op);
    rc = rdsbk_xml_path_dup(&out->access_key_id, creds, "AccessKeyId");
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->secret_access_key, creds, "SecretAccessKey");
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->session_token, creds, "SessionToken");
    out->expiration = rdsbk_xml_path_time(creds, "Expiration");
    if (rc == 0 && arn_out)
        rc = rdsbk_xml_path_dup(arn_out, result, "AssumedRoleUser/Arn");
    if (rc)
        rdsbk_credentials_clean_up(out);
    return rc;
}

int rdsbk_sts_assume_role_at(struct rdsbk_credentials *out, char **assumed_arn_out,
                             const struct rdsbk_service_ctx *ctx,
                             const struct rdsbk_sts_assume_role_input *in) {
    struct rdsbk_query q = {0};
    struct rdsbk_query_reply reply = {0};
    int result;

    memset(out, 0, sizeof(*out));
    if (assumed_arn_out)
        *assumed_arn_out = NULL;
    result = rdsbk_query_init(&q, "AssumeRole", S_VERSION);
    if (result == 0)
        result = rdsbk_query_add(&q, "RoleArn", in->role_arn);
    if (result == 0)
        result = rdsbk_query_add(&q, "RoleSessionName", in->session_name);
    if (result == 0)
        result = rdsbk_query_add(&q, "ExternalId", in->external_id);
    if (result == 0 && in->duration_seconds > 0)
        result = rdsbk_query_add_int(&q, "DurationSeconds", in->duration_seconds);
    if (result)
        goto cleanup;
    result = rdsbk_query_send(&reply, ctx, &q);
    if (result)
        goto cleanup;
    result = s_parse_credentials(out, assumed_arn_out, "AssumeRole", reply.result);

cleanup:
    rdsbk_xml_wipe(reply.result);
    rdsbk_query_reply_clean_up(&reply);
    rdsbk_query_clean_up(&q);
    return result;
}

int rdsbk_sts_assume_role(struct rdsbk_credentials *out, char **assumed_arn_out,
                          struct rdsbk_client *client,
                          const struct rdsbk_sts_assume_role_input *in) {
    struct rdsbk_service_ctx ctx;
    int rc = rdsbk_client_service_ctx(&ctx, client, "sts");

    if (rc)
        return rc;
    return rdsbk_sts_assume_role_at(out, assumed_arn_out, &ctx, in);
}

int rdsbk_sts_assume_role_with_web_identity_at(struct rdsbk_credentials *out,
                                               char **assumed_arn_out,
                                               const struct rdsbk_service_ctx *ctx,
                                               const char *role_arn, const char *session_name,
                                               const char *token) {
    struct rdsbk_query q = {0};
    struct rdsbk_query_reply reply = {0};
    int result;

    memset(out, 0, sizeof(*out));
    if (assumed_arn_out)
        *assumed_arn_out = NULL;
    result = rdsbk_query_init(&q, "AssumeRoleWithWebIdentity", S_VERSION);
    if (result == 0)
        result = rdsbk_query_add(&q, "RoleArn", role_arn);
    if (result == 0)
        result = rdsbk_query_add(&q, "RoleSessionName", session_name);
    if (result == 0)
        result = rdsbk_query_add(&q, "WebIdentityToken", token);
    if (result)
        goto cleanup;
    result = rdsbk_query_send(&reply, ctx, &q);
    if (result)
        goto cleanup;
    result = s_parse_credentials(out, assumed_arn_out, "AssumeRoleWithWebIdentity", reply.result);

cleanup:
    rdsbk_xml_wipe(reply.result);
    rdsbk_query_reply_clean_up(&reply);
    rdsbk_query_clean_up(&q);
    return result;
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
