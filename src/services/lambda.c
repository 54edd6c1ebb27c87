/*
 * Lambda (restJson1): functions (/2015-03-31/functions/<name>...), their code, configuration,
 * resource policy and invocation, and tags (/2017-03-31/tags/<arn>). Function replies go back to
 * the caller as cJSON; an invocation's payload as bytes.
 */
#include "rdsbk/services/lambda.h"
#include "rdsbk/error.h"
#include "rdsbk/str.h"
#include "services/svc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define S_FUNCTIONS "/2015-03-31/functions/"
#define S_TAGS "/2017-03-31/tags/"

/* The configuration members CreateFunction and UpdateFunctionConfiguration share (Environment
 * apart: a map under "Variables"). */
#define S_FUNCTION(m) offsetof(struct rdsbk_lambda_function_input, m)
static const struct rdsbk_field s_configuration_input[] = {
    RDSBK_FIELD(STR, "Role", S_FUNCTION(role)),
    RDSBK_FIELD(STR, "Handler", S_FUNCTION(handler)),
    RDSBK_FIELD(STR, "Runtime", S_FUNCTION(runtime)),
    RDSBK_FIELD(STR, "Description", S_FUNCTION(description)),
    RDSBK_FIELD(INT, "Timeout", S_FUNCTION(timeout)),
    RDSBK_FIELD(INT, "MemorySize", S_FUNCTION(memory_size)),
    RDSBK_FIELD_END,
};

/* Sends a prepared request (cleaned up here) unless `rc` is already an error; *reply is the
 * caller's to clean up whatever the outcome. */
static int s_exchange(struct rdsbk_rest_reply *reply, struct rdsbk_client *client,
                      struct rdsbk_rest *r, int rc) {
    struct rdsbk_service_ctx ctx;

    memset(reply, 0, sizeof(*reply));
    if (rc == 0)
        rc = rdsbk_client_service_ctx(&ctx, client, "lambda");
    if (rc == 0)
        rc = rdsbk_rest_send(reply, &ctx, r);
    rdsbk_rest_clean_up(r);
    return rc;
}

/* The same for a JSON reply: *out (may be NULL) receives it (an empty object when the reply has
 * none). */
static int s_send(cJSON **out, struct rdsbk_client *client, struct rdsbk_rest *r, int rc) {
    struct rdsbk_rest_reply reply;

    if (out)
        *out = NULL;
    rc = s_exchange(&reply, client, r, rc);
    if (rc == 0 && out) {
        *out = reply.json ? reply.json : cJSON_CreateObject();
        reply.json = NULL;
        if (!*out)
            rc = rdsbk_error_oom();
    }
    rdsbk_rest_reply_clean_up(&reply);
    return rc;
}

/* <method> /2015-03-31/functions/<name><suffix> */
static int s_function(struct rdsbk_rest *r, const char *method, const char *op, const char *name,
                      const char *suffix) {
    int rc = rdsbk_rest_init(r, method, op);

    if (rc == 0)
        rc = rdsbk_rest_path(r, S_FUNCTIONS);
    if (rc == 0)
        rc = rdsbk_rest_label(r, name, false);
    if (rc == 0 && suffix)
        rc = rdsbk_rest_path(r, suffix);
    return rc;
}

/* <method> /2017-03-31/tags/<arn> */
static int s_tags_path(struct rdsbk_rest *r, const char *method, const char *op, const char *arn) {
    int rc = rdsbk_rest_init(r, method, op);

    if (rc == 0)
        rc = rdsbk_rest_path(r, S_TAGS);
    if (rc == 0)
        rc = rdsbk_rest_label(r, arn, false);
    return rc;
}

/* <method> /2015-03-31/functions/<name><suffix> with the JSON `body` (deleted here), unless `rc`
 * is already an error; *out as for s_send. */
static int s_function_json(cJSON **out, struct rdsbk_client *client, const char *method,
                           const char *op, const char *name, const char *suffix, cJSON *body,
                           int rc) {
    struct rdsbk_rest r = {0};

    if (rc == 0)
        rc = s_function(&r, method, op, name, suffix);
    if (rc == 0)
        rc = rdsbk_rest_json(&r, body);
    cJSON_Delete(body);
    return s_send(out, client, &r, rc);
}

/* {"DeadLetterConfig": {"TargetArn": arn}} when there is one or it is to be sent anyway (""
 * removes it). */
static int s_dead_letter(cJSON *body, const struct rdsbk_lambda_function_input *in) {
    cJSON *dlq;

    if (!in->dead_letter_arn && !in->send_dead_letter)
        return 0;
    dlq = cJSON_CreateObject();
    if (!dlq ||
        rdsbk_json_add_str(dlq, "TargetArn", in->dead_letter_arn ? in->dead_letter_arn : "")) {
        cJSON_Delete(dlq);
        return rdsbk_error_oom();
    }
    return rdsbk_json_add(body, "DeadLetterConfig", dlq);
}

/* The function's configuration: the table, the dead-letter queue, then {"Environment":
 * {"Variables": {...}}} when there are variables or they are to be sent even empty. */
static int s_configuration(cJSON *body, const struct rdsbk_lambda_function_input *in) {
    cJSON *env = NULL;
    int rc;

    RDSBK_TRY(rdsbk_json_add_fields(body, s_configuration_input, in));
    RDSBK_TRY(s_dead_letter(body, in));
    if (!in->n_environment && !in->send_environment)
        goto cleanup;
    env = cJSON_CreateObject();
    RDSBK_CHECK_ALLOC(env);
    RDSBK_TRY(
        rdsbk_json_add(env, "Variables", rdsbk_json_tags_map(in->environment, in->n_environment)));
    rc = rdsbk_json_add(body, "Environment", env);
    env = NULL;

cleanup:
    cJSON_Delete(env);
    return rc;
}

/* {"ZipFile": base64} */
static int s_zip(cJSON *body, const unsigned char *zip, size_t len) {
    struct rdsbk_buf b64 = RDSBK_BUF_INIT;
    int rc = rdsbk_protocol_base64_encode(&b64, zip, len);

    if (rc == 0)
        rc = rdsbk_json_add_str(body, "ZipFile", rdsbk_buf_cstr(&b64));
    rdsbk_buf_clean_up(&b64);
    return rc;
}

int rdsbk_lambda_create_function(cJSON **out, struct rdsbk_client *client,
                                 const struct rdsbk_lambda_function_input *in) {
    const struct rdsbk_arg args[] = {{"FunctionName", in->name}, {NULL, NULL}};
    struct rdsbk_rest r;
    cJSON *body = NULL;
    cJSON *code = NULL;
    int rc;

    RDSBK_TRY(rdsbk_rest_init(&r, "POST", "CreateFunction"));
    RDSBK_TRY(rdsbk_rest_path(&r, "/2015-03-31/functions"));
    RDSBK_TRY(rdsbk_svc_json_input(&body, args, NULL, NULL));
    RDSBK_TRY(s_configuration(body, in));
    code = cJSON_CreateObject();
    RDSBK_TRY(rdsbk_json_add(body, "Code", code));
    RDSBK_TRY(s_zip(code, in->zip, in->zip_len));
    if (in->n_tags)
        RDSBK_TRY(rdsbk_json_add(body, "Tags", rdsbk_json_tags_map(in->tags, in->n_tags)));
    rc = rdsbk_rest_json(&r, body);

cleanup:
    cJSON_Delete(body);
    return s_send(out, client, &r, rc);
}

int rdsbk_lambda_get_function(cJSON **out, struct rdsbk_client *client, const char *name) {
    struct rdsbk_rest r;
    int rc = s_function(&r, "GET", "GetFunction", name, NULL);

    return s_send(out, client, &r, rc);
}

int rdsbk_lambda_get_function_configuration(cJSON **out, struct rdsbk_client *client,
                                            const char *name) {
    struct rdsbk_rest r;
    int rc = s_function(&r, "GET", "GetFunctionConfiguration", name, "/configuration");

    return s_send(out, client, &r, rc);
}

int rdsbk_lambda_update_function_code(cJSON **out, struct rdsbk_client *client, const char *name,
                                      const unsigned char *zip, size_t zip_len) {
    cJSON *body = NULL;
    int rc = rdsbk_svc_json_input(&body, NULL, NULL, NULL);

    if (rc == 0)
        rc = s_zip(body, zip, zip_len);
    return s_function_json(out, client, "PUT", "UpdateFunctionCode", name, "/code", body, rc);
}

int rdsbk_lambda_update_function_configuration(cJSON **out, struct rdsbk_client *client,
                                               const struct rdsbk_lambda_function_input *in) {
    cJSON *body = NULL;
    int rc = rdsbk_svc_json_input(&body, NULL, NULL, NULL);

    if (rc == 0)
        rc = s_configuration(body, in);
    return s_function_json(out, client, "PUT", "UpdateFunctionConfiguration", in->name,
                           "/configuration", body, rc);
}

int rdsbk_lambda_delete_function(struct rdsbk_client *client, const char *name) {
    struct rdsbk_rest r;
    int rc = s_function(&r, "DELETE", "DeleteFunction", name, NULL);

    return s_send(NULL, client, &r, rc);
}

int rdsbk_lambda_add_permission(struct rdsbk_client *client,
                                const struct rdsbk_lambda_add_permission_input *in) {
    const struct rdsbk_arg args[] = {
        {"StatementId", in->statement_id},     {"Action", in->action},
        {"Principal", in->principal},          {"SourceArn", in->source_arn},
        {"SourceAccount", in->source_account}, {NULL, NULL}};
    cJSON *body = NULL;
    int rc = rdsbk_svc_json_input(&body, args, NULL, NULL);

    return s_function_json(NULL, client, "POST", "AddPermission", in->function_name, "/policy",
                           body, rc);
}

int rdsbk_lambda_remove_permission(struct rdsbk_client *client, const char *function_name,
                                   const char *statement_id) {
    struct rdsbk_rest r;
    int rc = s_function(&r, "DELETE", "RemovePermission", function_name, "/policy/");

    if (rc == 0)
        rc = rdsbk_rest_label(&r, statement_id, false);
    return s_send(NULL, client, &r, rc);
}

int rdsbk_lambda_get_policy(char **policy_out, struct rdsbk_client *client,
                            const char *function_name) {
    struct rdsbk_rest r;
    cJSON *reply = NULL;
    int rc = s_function(&r, "GET", "GetPolicy", function_name, "/policy");

    *policy_out = NULL;
    rc = s_send(&reply, client, &r, rc);
    if (rc == 0)
        rc = rdsbk_svc_json_take_str(policy_out, reply, "Policy", "lambda:GetPolicy");
    cJSON_Delete(reply);
    return rc;
}

void rdsbk_lambda_invoke_result_clean_up(struct rdsbk_lambda_invoke_result *res) {
    free(res->function_error);
    free(res->log_result);
    rdsbk_buf_clean_up(&res->payload);
    memset(res, 0, sizeof(*res));
}

/* A copy of the reply header `name`, NULL when absent or empty. */
static int s_dup_header(char **out, const struct rdsbk_rest_reply *reply, const char *name) {
    const char *v = rdsbk_rest_reply_header(reply, name);

    return rdsbk_strdup_into(out, v && *v ? v : NULL);
}

int rdsbk_lambda_invoke(struct rdsbk_lambda_invoke_result *out, struct rdsbk_client *client,
                        const char *function_name, const char *invocation_type, const char *payload,
                        size_t payload_len) {
    struct rdsbk_rest r;
    struct rdsbk_rest_reply reply;
    const struct rdsbk_buf *body = &reply.resp.body;
    int rc = s_function(&r, "POST", "Invoke", function_name, "/invocations");

    memset(out, 0, sizeof(*out));
    /* The payload is the function's, whatever it holds. */
    r.raw_reply = true;
    if (rc == 0)
        rc = rdsbk_rest_header(&r, "X-Amz-Invocation-Type",
                               invocation_type ? invocation_type : "RequestResponse");
    if (rc == 0)
        rc = rdsbk_rest_body(&r, payload ? payload : "", payload ? payload_len : 0,
                             "application/json");
    RDSBK_TRY(s_exchange(&reply, client, &r, rc));
    out->status_code = reply.status;
    RDSBK_TRY(s_dup_header(&out->function_error, &reply, "X-Amz-Function-Error"));
    RDSBK_TRY(s_dup_header(&out->log_result, &reply, "X-Amz-Log-Result"));
    rc = rdsbk_buf_add(&out->payload, rdsbk_buf_cstr(body), rdsbk_buf_len(body));

cleanup:
    if (rc)
        rdsbk_lambda_invoke_result_clean_up(out);
    rdsbk_rest_reply_clean_up(&reply);
    return rc;
}

/* One page of ListFunctions: GET /2015-03-31/functions/[?Marker=<token>]. */
static int s_functions_page(cJSON **reply_out, const char *token, void *payload) {
    struct rdsbk_rest r;
    int rc = rdsbk_rest_init(&r, "GET", "ListFunctions");

    if (rc == 0)
        rc = rdsbk_rest_path(&r, S_FUNCTIONS);
    if (rc == 0)
        rc = rdsbk_rest_query(&r, "Marker", token);
    return s_send(reply_out, payload, &r, rc);
}

int rdsbk_lambda_list_functions(cJSON **functions_out, struct rdsbk_client *client) {
    return rdsbk_svc_json_pages(functions_out, s_functions_page, client, "NextMarker", "Functions",
                                "lambda:ListFunctions");
}

int rdsbk_lambda_tag_resource(struct rdsbk_client *client, const char *arn,
                              const struct rdsbk_tag *tags, size_t n) {
    struct rdsbk_rest r;
    cJSON *body = cJSON_CreateObject();
    int rc = s_tags_path(&r, "POST", "TagResource", arn);

    RDSBK_CHECK_ALLOC(body);
    RDSBK_TRY(rc);
    RDSBK_TRY(rdsbk_json_add(body, "Tags", rdsbk_json_tags_map(tags, n)));
    rc = rdsbk_rest_json(&r, body);

cleanup:
    cJSON_Delete(body);
    return s_send(NULL, client, &r, rc);
}

int rdsbk_lambda_untag_resource(struct rdsbk_client *client, const char *arn,
                                const char *const *keys, size_t n) {
    struct rdsbk_rest r;
    int rc = s_tags_path(&r, "DELETE", "UntagResource", arn);

    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = rdsbk_rest_query(&r, "tagKeys", keys[i]);
    return s_send(NULL, client, &r, rc);
}

int rdsbk_lambda_list_tags(struct rdsbk_tag **out, size_t *n_out, struct rdsbk_client *client,
                           const char *arn) {
    struct rdsbk_rest r;
    cJSON *reply = NULL;
    int rc = s_tags_path(&r, "GET", "ListTags", arn);

    *out = NULL;
    *n_out = 0;
    rc = s_send(&reply, client, &r, rc);
    if (rc == 0)
        rc = rdsbk_json_tags_parse(out, n_out, cJSON_GetObjectItemCaseSensitive(reply, "Tags"),
                                   NULL, NULL);
    cJSON_Delete(reply);
    return rc;
}
