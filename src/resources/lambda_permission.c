/*
 * lambda_permission {function_name, statement_id, action, principal, source_arn}: one statement
 * of a function's resource policy. The id is "<function>/<statement id>". Read back from
 * GetPolicy: action, principal (the Service, or the AWS principal as written), source_arn (from
 * Condition ArnLike AWS:SourceArn). Statements cannot be changed in place: an update removes the
 * old one and adds the new one.
 */
#include "resources_internal.h"

#include "rdsbk/error.h"
#include "rdsbk/log.h"
#include "rdsbk/services/lambda.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_TYPE "lambda_permission"

/* The function and statement id of `ref` (copies, caller frees). */
static int s_names(char **function_out, char **sid_out, const struct rdsbk_resource_ref *ref) {
    return rdsbk_res_inner_names(function_out, sid_out, ref, '/', "function_name", "statement_id",
                                 false, S_TYPE);
}

/* The member of `obj` whose name matches `key` ignoring case (condition keys are case-insensitive
 * in IAM: AWS writes "AWS:SourceArn"). Borrowed. */
static const cJSON *s_get_nocase(const cJSON *obj, const char *key) {
    const cJSON *it;
    const cJSON *found = NULL;

    cJSON_ArrayForEach(it, obj) {
        if (!found && it->string && strcasecmp(it->string, key) == 0)
            found = it;
    }
    return found;
}

static const char *s_principal(const cJSON *statement) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(statement, "Principal");
    const char *found = rdsbk_json_str(p, "Service");

    if (cJSON_IsString(p))
        found = p->valuestring;
    else if (!found)
        found = rdsbk_json_str(p, "AWS");
    return found;
}

static int s_fetch_policy(char **text_out, struct rdsbk_client *client, const char *function) {
    return rdsbk_lambda_get_policy(text_out, client, function);
}

static int s_read(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    char *function = NULL;
    char *sid = NULL;
    char *key = NULL;
    char *text = NULL;
    char *id = NULL;
    cJSON *policy = NULL;
    cJSON *out = NULL;
    const cJSON *found = NULL;
    const cJSON *st;
    const cJSON *source_arn;
    int result;

    *actual_out = NULL;
    if (id_out)
        *id_out = NULL;
    result = s_names(&function, &sid, ref);
    if (result == 0)
        result =
            rdsbk_strfmt(&key, "%s/%s/lambda:GetPolicy/%s", ref->account, ref->region, function);
    /* no function, or a function without a policy: either way the statement is not there */
    if (result == 0)
        result = rdsbk_res_memo_text(&text, ref->memo, s_fetch_policy, client, function, key);
    if (result == 0)
        result = rdsbk_json_parse(&policy, text, "lambda:GetPolicy");
    if (result)
        goto cleanup;
    cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(policy, "Statement")) {
        const char *s = rdsbk_json_str(st, "Sid");
        if (s && strcmp(s, sid) == 0)
            found = st;
    }
    if (!found) {
        result = rdsbk_error_set(RDSBK_ENOTFOUND, "Lambda function %s has no statement %s",
                                 function, sid);
        goto cleanup;
    }
    source_arn =
        s_get_nocase(s_get_nocase(cJSON_GetObjectItemCaseSensitive(found, "Condition"), "ArnLike"),
                     "AWS:SourceArn");
    out = cJSON_CreateObject();
    result = out ? rdsbk_strfmt(&id, "%s/%s", function, sid) : rdsbk_error_oom();
    if (result == 0)
        result = rdsbk_json_add_str(out, "function_name", function);
    if (result == 0)
        result = rdsbk_json_add_str(out, "statement_id", sid);
    if (result == 0)
        result = rdsbk_json_add_str(out, "action", rdsbk_json_str(found, "Action"));
    if (result == 0)
        result = rdsbk_json_add_str(out, "principal", s_principal(found));
    if (result == 0 && cJSON_IsString(source_arn))
        result = rdsbk_json_add_str(out, "source_arn", source_arn->valuestring);
    if (result == 0)
        result = rdsbk_res_set_id(id_out, id);
    if (result)
        goto cleanup;
    *actual_out = out;
    out = NULL;

cleanup:
    free(function);
    free(sid);
    free(key);
    free(text);
    free(id);
    cJSON_Delete(policy);
    cJSON_Delete(out);
    return result;
}

static int s_add(struct rdsbk_client *client, const cJSON *desired, char **id_out) {
    struct rdsbk_lambda_add_permission_input in = {0};
    int result;

    *id_out = NULL;
    result = rdsbk_res_require(&in.function_name, desired, "function_name", S_TYPE);
    if (result == 0)
        result = rdsbk_res_require(&in.statement_id, desired, "statement_id", S_TYPE);
    if (result == 0)
        result = rdsbk_res_require(&in.action, desired, "action", S_TYPE);
    if (result == 0)
        result = rdsbk_res_require(&in.principal, desired, "principal", S_TYPE);
    in.source_arn = rdsbk_json_str(desired, "source_arn");
    if (result == 0)
        result = rdsbk_lambda_add_permission(client, &in);
    if (result == 0) {
        rdsbk_log_verbose("Lambda function %s lets %s %s", in.function_name, in.principal,
                          in.action);
        result = rdsbk_strfmt(id_out, "%s/%s", in.function_name, in.statement_id);
    }
    return result;
}

static int s_create(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    char *id = NULL;
    int result;

    *actual_out = NULL;
    if (id_out)
        *id_out = NULL;
    (void)ref;
    result = s_add(client, desired, &id);
    if (result == 0)
        result = rdsbk_res_written(actual_out, id_out, desired, id, NULL, NULL);
    free(id);
    return result;
}

static int s_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    char *function = NULL;
    char *sid = NULL;
    int result = s_names(&function, &sid, ref);

    if (result == 0)
        result = rdsbk_lambda_remove_permission(client, function, sid);
    /* the function gone, or the statement: RDSBK_ENOTFOUND either way */
    free(function);
    free(sid);
    return result;
}

static int s_update(cJSON **actual_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired,
                    const cJSON *actual) {
    char *id = NULL;
    int result;

    (void)actual;
    *actual_out = NULL;
    result = rdsbk_resource_remove(client, ref); /* gone already will do */
    if (result == 0)
        result = s_add(client, desired, &id);
    if (result == 0)
        result = rdsbk_res_written(actual_out, NULL, desired, id, NULL, NULL);
    free(id);
    return result;
}

static const char *const s_force_new[] = {NULL};
static const char *const s_no_diff[] = {NULL};

const struct rdsbk_resource_ops rdsbk_res_lambda_permission_ops = {
    .type = RDSBK_RT_LAMBDA_PERMISSION,
    .read = s_read,
    .create = s_create,
    .update = s_update,
    .remove = s_remove,
    .read_calls = 1,
    .write_calls = 1,
    .force_new = s_force_new,
    .no_diff = s_no_diff,
    .service = "lambda",
    .contained = true,
    .container = RDSBK_RT_LAMBDA_FUNCTION,
    .deleted_with_container = true,
};
