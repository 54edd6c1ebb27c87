#include "rdsbk/services/lambda.h"
#include "rdsbk/error.h"
#include "services/svc.h"

#include <stdlib.h>
#include <string.h>

#define S_FUNCTIONS "/2015-03-31/functions/"
#define S_TAGS "/2017-03-31/tags/"

/*
 * Sends a prepared request (cleaned up here); *out (may be NULL) receives the reply's JSON (an
 * empty object when the reply has none).
 */
static int s_send(cJSON **out, struct rdsbk_client *client, struct rdsbk_rest *r, int rc) {
    struct rdsbk_service_ctx ctx;
    struct rdsbk_rest_reply reply = {0};

    if (out)
        *out = NULL;
    if (rc == 0)
        rc = rdsbk_client_service_ctx(&ctx, client, "lambda");
    if (rc == 0)
        rc = rdsbk_rest_send(&reply, &ctx, r);
    if (rc == 0 && out) {
        *out = reply.json ? reply.json : cJSON_CreateObject();
        reply.json = NULL;
        if (!*out)
            rc = rdsbk_error_oom();
    }
    rdsbk_rest_reply_clean_up(&reply);
    rdsbk_rest_clean_up(r);
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

/* The configuration members shared by CreateFunction and UpdateFunctionConfiguration. */
static int s_configuration(cJSON *body, const struct rdsbk_lambda_function_input *in) {
    int rc = rdsbk_json_add_opt_str(body, "Role", in->role);

    if (rc == 0)
        rc = rdsbk_json_add_opt_str(body, "Handler", in->handler);
    if (rc == 0)
        rc = rdsbk_json_add_opt_str(body, "Runtime", in->runtime);
    if (rc == 0)
        rc = rdsbk_json_add_opt_str(body, "Description", in->description);
    if (rc == 0 && in->timeout > 0)
        rc = rdsbk_json_add(body, "Timeout", cJSON_CreateNumber(in->timeout));
    if (rc == 0 && in->memory_size > 0)
        rc = rdsbk_json_add(body, "MemorySize", cJSON_CreateNumber(in->memory_size));
    if (rc == 0 && (in->n_environment || in->send_environment)) {
        cJSON *env = cJSON_CreateObject();
        rc = rdsbk_json_add(body, "Environment", env);
        if (rc == 0)
            rc = rdsbk_json_add(env, "Variables",
                                rdsbk_json_tags_map(in->environment, in->n_environment));
    }
    return rc;
}

/* {"ZipFile": base64} */
static int s_zip(cJSON *body, const unsigned char *zip, size_t len) {
    struct rdsbk_buf b64 = RDSBK_BUF_INIT;
    int rc = rdsbk_protocol_base64_encode(&b64, zip, len);

    if (rc == 0)
        rc = rdsbk_json_add_opt_str(body, "ZipFile", rdsbk_buf_cstr(&b64));
    rdsbk_buf_clean_up(&b64);
    return rc;
}

static int s_json_body(struct rdsbk_rest *r, cJSON *body, int rc) {
    if (rc == 0 && !body)
        rc = rdsbk_error_oom();
    if (rc == 0)
        rc = rdsbk_rest_json(r, body);
    cJSON_Delete(body);
    return rc;
}

int rdsbk_lambda_create_function(cJSON **out, struct rdsbk_client *client,
                                 const struct rdsbk_lambda_function_input *in) {
    struct rdsbk_rest r = {0};
    cJSON *body = cJSON_CreateObject();
    int rc = rdsbk_rest_init(&r, "POST", "CreateFunction");

    if (rc == 0)
        rc = rdsbk_rest_path(&r, "/2015-03-31/functions");
    if (rc == 0 && body)
        rc = rdsbk_json_add_opt_str(body, "FunctionName", in->name);
    if (rc == 0 && body)
        rc = s_configuration(body, in);
    if (rc == 0 && body) {
        cJSON *code = cJSON_CreateObject();
        rc = rdsbk_json_add(body, "Code", code);
        if (rc == 0)
            rc = s_zip(code, in->zip, in->zip_len);
    }
    if (rc == 0 && body && in->n_tags)
        rc = rdsbk_json_add(body, "Tags", rdsbk_json_tags_map(in->tags, in->n_tags));
    rc = s_json_body(&r, body, rc);
    return s_send(out, client, &r, rc);
}

int rdsbk_lambda_get_function(cJSON **out, struct rdsbk_client *client, const char *name) {
    struct rdsbk_rest r = {0};
    int rc = s_function(&r, "GET", "GetFunction", name, NULL);

    return s_send(out, client, &r, rc);
}

int rdsbk_lambda_get_function_configuration(cJSON **out, struct rdsbk_client *client,
                                            const char *name) {
    struct rdsbk_rest r = {0};
    int rc = s_function(&r, "GET", "GetFunctionConfiguration", name, "/configuration");

    return s_send(out, client, &r, rc);
}

int rdsbk_lambda_update_function_code(cJSON **out, struct rdsbk_client *client, const char *name,
                                      const unsigned char *zip, size_t zip_len) {
    struct rdsbk_rest r = {0};
    cJSON *body = cJSON_CreateObject();
    int rc = s_function(&r, "PUT", "UpdateFunctionCode", name, "/code");

    if (rc == 0 && body)
        rc = s_zip(body, zip, zip_len);
    rc = s_json_body(&r, body, rc);
    return s_send(out, client, &r, rc);
}

int rdsbk_lambda_update_function_configuration(cJSON **out, struct rdsbk_client *client,
                                               const struct rdsbk_lambda_function_input *in) {
    struct rdsbk_rest r = {0};
    cJSON *body = cJSON_CreateObject();
    int rc = s_function(&r, "PUT", "UpdateFunctionConfiguration", in->name, "/configuration");

    if (rc == 0 && body)
        rc = s_configuration(body, in);
    rc = s_json_body(&r, body, rc);
    return s_send(out, client, &r, rc);
}

int rdsbk_lambda_delete_function(struct rdsbk_client *client, const char *name) {
    struct rdsbk_rest r = {0};
    int rc = s_function(&r, "DELETE", "DeleteFunction", name, NULL);

    return s_send(NULL, client, &r, rc);
}

int rdsbk_lambda_add_permission(struct rdsbk_client *client,
                                const struct rdsbk_lambda_add_permission_input *in) {
    struct rdsbk_rest r = {0};
    cJSON *body = cJSON_CreateObject();
    int rc = s_function(&r, "POST", "AddPermission", in->function_name, "/policy");

    if (rc == 0 && body)
        rc = rdsbk_json_add_opt_str(body, "StatementId", in->statement_id);
    if (rc == 0 && body)
        rc = rdsbk_json_add_opt_str(body, "Action", in->action);
    if (rc == 0 && body)
        rc = rdsbk_json_add_opt_str(body, "Principal", in->principal);
    if (rc == 0 && body)
        rc = rdsbk_json_add_opt_str(body, "SourceArn", in->source_arn);
    if (rc == 0 && body)
        rc = rdsbk_json_add_opt_str(body, "SourceAccount", in->source_account);
    rc = s_json_body(&r, body, rc);
    return s_send(NULL, client, &r, rc);
}

int rdsbk_lambda_remove_permission(struct rdsbk_client *client, const char *function_name,
                                   const char *statement_id) {
    struct rdsbk_rest r = {0};
    int rc = s_function(&r, "DELETE", "RemovePermission", function_name, "/policy/");

    if (rc == 0)
        rc = rdsbk_rest_label(&r, statement_id, false);
    return s_send(NULL, client, &r, rc);
}

int rdsbk_lambda_get_policy(char **policy_out, struct rdsbk_client *client,
                            const char *function_name) {
    struct rdsbk_rest r = {0};
    cJSON *reply = NULL;
    int rc = s_function(&r, "GET", "GetPolicy", function_name, "/policy");

    *policy_out = NULL;
    rc = s_send(&reply, client, &r, rc);
    if (rc == 0)
        rc = rdsbk_json_dup_str(policy_out, reply, "Policy");
    if (rc == 0 && !*policy_out)
        rc = rdsbk_error_set(RDSBK_EINVALID, "lambda:GetPolicy: no Policy in the reply");
    cJSON_Delete(reply);
    return rc;
}

void rdsbk_lambda_invoke_result_clean_up(struct rdsbk_lambda_invoke_result *res) {
    free(res->function_error);
    free(res->log_result);
    rdsbk_buf_clean_up(&res->payload);
    memset(res, 0, sizeof(*res));
}

static int s_dup_header(char **out, const struct rdsbk_rest_reply *reply, const char *name) {
    const char *v = rdsbk_rest_reply_header(reply, name);

    *out = NULL;
    if (!v || !*v)
        return 0;
    *out = strdup(v);
    return *out ? 0 : rdsbk_error_oom();
}

int rdsbk_lambda_invoke(struct rdsbk_lambda_invoke_result *out, struct rdsbk_client *client,
                        const char *function_name, const char *invocation_type, const char *payload,
                        size_t payload_len) {
    struct rdsbk_service_ctx ctx;
    struct rdsbk_rest r = {0};
    struct rdsbk_rest_reply reply = {0};
    int rc;

    memset(out, 0, sizeof(*out));
    rc = s_function(&r, "POST", "Invoke", function_name, "/invocations");
    /* The payload is the function's, whatever it holds. */
    r.raw_reply = true;
    if (rc == 0)
        rc = rdsbk_rest_header(&r, "X-Amz-Invocation-Type",
                               invocation_type ? invocation_type : "RequestResponse");
    if (rc == 0)
        rc = rdsbk_rest_body(&r, payload ? payload : "", payload ? payload_len : 0,
                             "application/json");
    if (rc == 0)
        rc = rdsbk_client_service_ctx(&ctx, client, "lambda");
    if (rc == 0)
        rc = rdsbk_rest_send(&reply, &ctx, &r);
    if (rc == 0) {
        out->status_code = reply.status;
        rc = s_dup_header(&out->function_error, &reply, "X-Amz-Function-Error");
        if (rc == 0)
            rc = s_dup_header(&out->log_result, &reply, "X-Amz-Log-Result");
        if (rc == 0)
            rc = rdsbk_buf_add(&out->payload, reply.resp.body.ptr ? reply.resp.body.ptr : "",
                               reply.resp.body.len);
    }
    if (rc)
        rdsbk_lambda_invoke_result_clean_up(out);
    rdsbk_rest_reply_clean_up(&reply);
    rdsbk_rest_clean_up(&r);
    return rc;
}

int rdsbk_lambda_list_functions(cJSON **functions_out, struct rdsbk_client *client) {
    cJSON *acc = cJSON_CreateArray();
    char *marker = NULL;
    int pages = 0;
    int rc = acc ? 0 : rdsbk_error_oom();

    *functions_out = NULL;
    while (rc == 0) {
        struct rdsbk_rest r = {0};
        cJSON *reply = NULL;
        cJSON *items;

        rc = rdsbk_rest_init(&r, "GET", "ListFunctions");
        if (rc == 0)
            rc = rdsbk_rest_path(&r, S_FUNCTIONS);
        if (rc == 0)
            rc = rdsbk_rest_query(&r, "Marker", marker);
        rc = s_send(&reply, client, &r, rc);
        free(marker);
        marker = NULL;
        items = cJSON_GetObjectItemCaseSensitive(reply, "Functions");
        while (rc == 0 && cJSON_IsArray(items) && items->child)
            cJSON_AddItemToArray(acc, cJSON_DetachItemViaPointer(items, items->child));
        if (rc == 0)
            rc = rdsbk_json_next_token(&marker, reply, "NextMarker");
        cJSON_Delete(reply);
        if (!marker)
            break;
        if (++pages >= RDSBK_SVC_MAX_PAGES)
            rc = rdsbk_error_set(RDSBK_ERROR, "lambda:ListFunctions: pagination does not end");
    }
    free(marker);
    if (rc) {
        cJSON_Delete(acc);
        return rc;
    }
    *functions_out = acc;
    return 0;
}

static int s_tags_path(struct rdsbk_rest *r, const char *method, const char *op, const char *arn) {
    int rc = rdsbk_rest_init(r, method, op);

    if (rc == 0)
        rc = rdsbk_rest_path(r, S_TAGS);
    if (rc == 0)
        rc = rdsbk_rest_label(r, arn, false);
    return rc;
}

int rdsbk_lambda_tag_resource(struct rdsbk_client *client, const char *arn,
                              const struct rdsbk_tag *tags, size_t n) {
    struct rdsbk_rest r = {0};
    cJSON *body = cJSON_CreateObject();
    int rc = s_tags_path(&r, "POST", "TagResource", arn);

    if (rc == 0 && body)
        rc = rdsbk_json_add(body, "Tags", rdsbk_json_tags_map(tags, n));
    rc = s_json_body(&r, body, rc);
    return s_send(NULL, client, &r, rc);
}

int rdsbk_lambda_untag_resource(struct rdsbk_client *client, const char *arn,
                                const char *const *keys, size_t n) {
    struct rdsbk_rest r = {0};
    int rc = s_tags_path(&r, "DELETE", "UntagResource", arn);

    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = rdsbk_rest_query(&r, "tagKeys", keys[i]);
    return s_send(NULL, client, &r, rc);
}

int rdsbk_lambda_list_tags(struct rdsbk_tag **out, size_t *n_out, struct rdsbk_client *client,
                           const char *arn) {
    struct rdsbk_rest r = {0};
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
