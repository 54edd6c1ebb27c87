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

static const struct rdsbk_res_inner s_inner = {S_TYPE, '/', "function_name", "statement_id", false};

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

static int s_read(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    struct rdsbk_res_names names;
    char *key = NULL;
    char *text = NULL;
    cJSON *policy = NULL;
    cJSON *out = NULL;
    const cJSON *found;
    const cJSON *source_arn;
    int rc;

    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(rdsbk_res_names_of(&names, ref, &s_inner));
    RDSBK_TRY(
        rdsbk_strfmt(&key, "%s/%s/lambda:GetPolicy/%s", ref->account, ref->region, names.outer));
    /* no function, or a function without a policy: either way the statement is not there */
    RDSBK_TRY(
        rdsbk_res_memo_text(&text, ref->memo, rdsbk_lambda_get_policy, client, names.outer, key));
    RDSBK_TRY(rdsbk_json_parse(&policy, text, "lambda:GetPolicy"));
    found =
        rdsbk_res_find(cJSON_GetObjectItemCaseSensitive(policy, "Statement"), "Sid", names.inner);
    if (!found) {
        rc = rdsbk_error_set(RDSBK_ENOTFOUND, "Lambda function %s has no statement %s", names.outer,
                             names.inner);
        goto cleanup;
    }
    source_arn =
        s_get_nocase(s_get_nocase(cJSON_GetObjectItemCaseSensitive(found, "Condition"), "ArnLike"),
                     "AWS:SourceArn");
    RDSBK_TRY(rdsbk_res_names_attrs(&out, &names, &s_inner));
    RDSBK_TRY(rdsbk_json_add_str(out, "action", rdsbk_json_str(found, "Action")));
    RDSBK_TRY(rdsbk_json_add_str(out, "principal", s_principal(found)));
    if (cJSON_IsString(source_arn))
        RDSBK_TRY(rdsbk_json_add_str(out, "source_arn", source_arn->valuestring));
    rc = rdsbk_res_found(actual_out, id_out, &out, names.id);

cleanup:
    rdsbk_res_names_clean_up(&names);
    free(key);
    free(text);
    cJSON_Delete(policy);
    cJSON_Delete(out);
    return rc;
}

/* AddPermission; an update replaces the statement whole (rdsbk_res_replace). */
static int s_create(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    struct rdsbk_lambda_add_permission_input in = {0};
    int rc;

    (void)ref;
    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(rdsbk_res_inner_require(&in.function_name, &in.statement_id, desired, &s_inner));
    RDSBK_TRY(rdsbk_res_require(&in.action, desired, "action", S_TYPE));
    RDSBK_TRY(rdsbk_res_require(&in.principal, desired, "principal", S_TYPE));
    in.source_arn = rdsbk_json_str(desired, "source_arn");
    RDSBK_TRY(rdsbk_lambda_add_permission(client, &in));
    rdsbk_log_verbose("Lambda function %s lets %s %s", in.function_name, in.principal, in.action);
    rc = rdsbk_res_inner_written(actual_out, id_out, desired, &s_inner);

cleanup:
    return rc;
}

static int s_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    /* the function gone, or the statement: RDSBK_ENOTFOUND either way */
    return rdsbk_res_inner_remove(client, ref, &s_inner, rdsbk_lambda_remove_permission);
}

const struct rdsbk_resource_ops rdsbk_res_lambda_permission_ops = {
    .type = RDSBK_RT_LAMBDA_PERMISSION,
    .read = s_read,
    .create = s_create,
    .update = rdsbk_res_replace,
    .remove = s_remove,
    .read_calls = 1,
    .write_calls = 1,
    .force_new = rdsbk_res_no_keys,
    .no_diff = rdsbk_res_no_keys,
    .service = "lambda",
    .contained = true,
    .container = RDSBK_RT_LAMBDA_FUNCTION,
    .deleted_with_container = true,
};
