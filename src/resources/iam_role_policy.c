/*
 * iam_role_policy {role_name, policy_name, policy}: an inline policy of a role. The id is
 * "<role>:<policy>" (as Terraform writes it); without one, the role and policy names come from the
 * last known attributes. A missing role reads as RDSBK_ENOTFOUND, like a missing policy.
 */
#include "resources_internal.h"

#include "rdsbk/error.h"
#include "rdsbk/log.h"
#include "rdsbk/services/iam.h"

#include <stdlib.h>

static const struct rdsbk_res_inner s_inner = {"iam_role_policy", ':', "role_name", "policy_name",
                                               true};

static int s_read(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    struct rdsbk_res_names names;
    char *document = NULL;
    cJSON *out = NULL;
    int rc;

    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(rdsbk_res_names_of(&names, ref, &s_inner));
    RDSBK_TRY(rdsbk_iam_get_role_policy(&document, client, names.outer, names.inner));
    RDSBK_TRY(rdsbk_res_names_attrs(&out, &names, &s_inner));
    RDSBK_TRY(rdsbk_res_add_parsed(out, "policy", document, "iam:GetRolePolicy"));
    rc = rdsbk_res_found(actual_out, id_out, &out, names.id);

cleanup:
    rdsbk_res_names_clean_up(&names);
    free(document);
    cJSON_Delete(out);
    return rc;
}

/* PutRolePolicy creates and replaces alike: an update writes it again (rdsbk_res_rewrite). */
static int s_create(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    const char *role = NULL;
    const char *policy_name = NULL;
    char *document = NULL;
    int rc;

    (void)ref;
    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(rdsbk_res_inner_require(&role, &policy_name, desired, &s_inner));
    RDSBK_TRY(rdsbk_json_text(&document, cJSON_GetObjectItemCaseSensitive(desired, "policy")));
    RDSBK_TRY(rdsbk_iam_put_role_policy(client, role, policy_name, document));
    rdsbk_log_verbose("put inline policy %s of IAM role %s", policy_name, role);
    rc = rdsbk_res_inner_written(actual_out, id_out, desired, &s_inner);

cleanup:
    free(document);
    return rc;
}

static int s_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    return rdsbk_res_inner_remove(client, ref, &s_inner, rdsbk_iam_delete_role_policy);
}

static const char *const s_force_new[] = {"role_name", "policy_name", NULL};

const struct rdsbk_resource_ops rdsbk_res_iam_role_policy_ops = {
    .type = RDSBK_RT_IAM_ROLE_POLICY,
    .read = s_read,
    .create = s_create,
    .update = rdsbk_res_rewrite,
    .remove = s_remove,
    .read_calls = 1,
    .write_calls = 1,
    .force_new = s_force_new,
    .no_diff = rdsbk_res_no_keys,
    .service = "iam",
    .global = true,
    .contained = true,
    .container = RDSBK_RT_IAM_ROLE,
};
