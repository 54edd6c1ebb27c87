/*
 * iam_role_policy {role_name, policy_name, policy}: an inline policy of a role. The id is
 * "<role>:<policy>" (as Terraform writes it); without one, the role and policy names come from the
 * last known attributes. A missing role reads as RDSBK_ENOTFOUND, like a missing policy.
 */
#include "resources_internal.h"

#include "rdsbk/error.h"
#include "rdsbk/log.h"
#include "rdsbk/services/iam.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_TYPE "iam_role_policy"

/* The role and policy names of `ref` (copies, caller frees). */
static int s_names(char **role_out, char **policy_out, const struct rdsbk_resource_ref *ref) {
    return rdsbk_res_inner_names(role_out, policy_out, ref, ':', "role_name", "policy_name", true,
                                 S_TYPE);
}

static int s_read(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    char *role = NULL;
    char *policy_name = NULL;
    char *document = NULL;
    cJSON *policy = NULL;
    cJSON *out = NULL;
    char *id = NULL;
    int result;

    *actual_out = NULL;
    if (id_out)
        *id_out = NULL;
    result = s_names(&role, &policy_name, ref);
    if (result == 0)
        result = rdsbk_iam_get_role_policy(&document, client, role, policy_name);
    if (result == 0)
        result = rdsbk_json_parse(&policy, document, "iam:GetRolePolicy");
    if (result)
        goto cleanup;
    out = cJSON_CreateObject();
    result = out ? rdsbk_strfmt(&id, "%s:%s", role, policy_name) : rdsbk_error_oom();
    if (result == 0)
        result = rdsbk_json_add_str(out, "role_name", role);
    if (result == 0)
        result = rdsbk_json_add_str(out, "policy_name", policy_name);
    if (result == 0) {
        result = rdsbk_json_add(out, "policy", policy);
        policy = NULL;
    }
    if (result == 0)
        result = rdsbk_res_set_id(id_out, id);
    if (result)
        goto cleanup;
    *actual_out = out;
    out = NULL;

cleanup:
    free(role);
    free(policy_name);
    free(document);
    free(id);
    cJSON_Delete(policy);
    cJSON_Delete(out);
    return result;
}

/* PutRolePolicy creates and replaces alike. */
static int s_put(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                 const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    const char *role = NULL;
    const char *policy_name = NULL;
    char *document = NULL;
    char *id = NULL;
    int result;

    *actual_out = NULL;
    if (id_out)
        *id_out = NULL;
    result = rdsbk_res_require(&role, desired, "role_name", S_TYPE);
    if (result == 0)
        result = rdsbk_res_require(&policy_name, desired, "policy_name", S_TYPE);
    if (result)
        goto cleanup;
    result = rdsbk_json_text(&document, cJSON_GetObjectItemCaseSensitive(desired, "policy"));
    if (result == 0)
        result = rdsbk_strfmt(&id, "%s:%s", role, policy_name);
    if (result == 0)
        result = rdsbk_iam_put_role_policy(client, role, policy_name, document);
    if (result)
        goto cleanup;
    rdsbk_log_verbose("put inline policy %s of IAM role %s", policy_name, role);
    result = rdsbk_res_written(actual_out, id_out, desired, id, NULL, NULL);

cleanup:
    free(document);
    free(id);
    return result;
}

static int s_create(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    return s_put(actual_out, id_out, client, ref, desired);
}

static int s_update(cJSON **actual_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired,
                    const cJSON *actual) {
    (void)actual;
    return s_put(actual_out, NULL, client, ref, desired);
}

static int s_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    char *role = NULL;
    char *policy_name = NULL;
    int result = s_names(&role, &policy_name, ref);

    if (result == 0)
        result = rdsbk_iam_delete_role_policy(client, role, policy_name);
    free(role);
    free(policy_name);
    return result;
}

static const char *const s_force_new[] = {"role_name", "policy_name", NULL};
static const char *const s_no_diff[] = {NULL};

const struct rdsbk_resource_ops rdsbk_res_iam_role_policy_ops = {
    .type = RDSBK_RT_IAM_ROLE_POLICY,
    .read = s_read,
    .create = s_create,
    .update = s_update,
    .remove = s_remove,
    .read_calls = 1,
    .write_calls = 1,
    .force_new = s_force_new,
    .no_diff = s_no_diff,
    .service = "iam",
    .global = true,
    .contained = true,
    .container = RDSBK_RT_IAM_ROLE,
};
