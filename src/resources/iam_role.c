/*
 * iam_role {name, path, description, assume_role_policy, tags} (+ "arn" when read). The id is the
 * role name. Deleting a role first removes what AWS refuses to delete it with: inline policies
 * (DeleteRolePolicy) and attached managed policies (DetachRolePolicy).
 */
#include "resources_internal.h"

#include "rdsbk/error.h"
#include "rdsbk/log.h"
#include "rdsbk/services/iam.h"

#include <stdlib.h>
#include <string.h>

#define S_TYPE "iam_role"

static const struct rdsbk_res_tagging s_tagging = {S_TYPE, rdsbk_iam_list_role_tags,
                                                   rdsbk_iam_untag_role, rdsbk_iam_tag_role};

static int s_read(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    struct rdsbk_iam_role role = {0};
    struct rdsbk_tag *tags = NULL;
    size_t n_tags = 0;
    cJSON *out = NULL;
    int rc;

    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(rdsbk_iam_get_role(&role, client, rdsbk_res_name(ref)));
    /* GetRole carries the tags on AWS; ask separately when a reply comes without them */
    if (role.n_tags == 0)
        RDSBK_TRY(rdsbk_iam_list_role_tags(&tags, &n_tags, client, role.name));
    out = cJSON_CreateObject();
    RDSBK_CHECK_ALLOC(out);
    RDSBK_TRY(rdsbk_json_add_str(out, "name", role.name));
    RDSBK_TRY(rdsbk_json_add_str(out, "path", role.path ? role.path : "/"));
    RDSBK_TRY(rdsbk_json_add_str(out, "description", role.description));
    RDSBK_TRY(rdsbk_res_add_parsed(out, "assume_role_policy", role.assume_role_policy,
                                   "iam:GetRole trust policy"));
    RDSBK_TRY(role.n_tags ? rdsbk_res_add_tags(out, role.tags, role.n_tags)
                          : rdsbk_res_add_tags(out, tags, n_tags));
    RDSBK_TRY(rdsbk_json_add_str(out, "arn", role.arn));
    rc = rdsbk_res_found(actual_out, id_out, &out, role.name);

cleanup:
    cJSON_Delete(out);
    rdsbk_aws_tags_free(tags, n_tags);
    rdsbk_iam_role_clean_up(&role);
    return rc;
}

static int s_create(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    struct rdsbk_iam_create_role_input in = {0};
    struct rdsbk_iam_role created = {0};
    struct rdsbk_tag *tags = NULL;
    size_t n_tags = 0;
    char *trust = NULL;
    int rc;

    (void)ref;
    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(rdsbk_res_require(&in.name, desired, "name", S_TYPE));
    RDSBK_TRY(
        rdsbk_json_text(&trust, cJSON_GetObjectItemCaseSensitive(desired, "assume_role_policy")));
    RDSBK_TRY(rdsbk_res_tags_from_json(&tags, &n_tags, cJSON_GetObjectItem(desired, "tags")));
    in.path = rdsbk_json_str(desired, "path");
    in.description = rdsbk_json_str(desired, "description");
    in.assume_role_policy = trust;
    in.tags = tags;
    in.n_tags = n_tags;
    RDSBK_TRY(rdsbk_iam_create_role(&created, client, &in));
    rdsbk_log_verbose("created IAM role %s", in.name);
    rc = rdsbk_res_written(actual_out, id_out, desired, in.name, "arn", created.arn);

cleanup:
    rdsbk_iam_role_clean_up(&created);
    free(trust);
    rdsbk_aws_tags_free(tags, n_tags);
    return rc;
}

static int s_update(cJSON **actual_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired,
                    const cJSON *actual) {
    const char *name = rdsbk_res_name(ref);
    const char *description = rdsbk_json_str(desired, "description");
    char *trust = NULL;
    int rc;

    *actual_out = NULL;
    if (rdsbk_res_changed(desired, actual, "assume_role_policy")) {
        RDSBK_TRY(rdsbk_json_text(&trust,
                                  cJSON_GetObjectItemCaseSensitive(desired, "assume_role_policy")));
        RDSBK_TRY(rdsbk_iam_update_assume_role_policy(client, name, trust));
    }
    if (rdsbk_res_changed(desired, actual, "description"))
        RDSBK_TRY(rdsbk_iam_update_role_description(client, name, description ? description : ""));
    RDSBK_TRY(rdsbk_res_update_tags(client, name, desired, actual, &s_tagging));
    rc = rdsbk_res_written(actual_out, NULL, desired, name, "arn", rdsbk_json_str(actual, "arn"));

cleanup:
    free(trust);
    return rc;
}

/* A policy gone meanwhile (deleted, detached) is as good as removed: the others still go. */
static int s_unless_gone(int rc) {
    return rc == RDSBK_ENOTFOUND ? 0 : rc;
}

/* Inline policies deleted, managed ones detached: AWS refuses DeleteRole otherwise. */
static int s_empty_role(struct rdsbk_client *client, const char *name) {
    char **names = NULL;
    size_t n_names = 0;
    struct rdsbk_iam_attached_policy *attached = NULL;
    size_t n_attached = 0;
    int rc;

    RDSBK_TRY(rdsbk_iam_list_role_policies(&names, &n_names, client, name));
    for (size_t i = 0; i < n_names; i++)
        RDSBK_TRY(s_unless_gone(rdsbk_iam_delete_role_policy(client, name, names[i])));
    RDSBK_TRY(rdsbk_iam_list_attached_role_policies(&attached, &n_attached, client, name));
    for (size_t i = 0; i < n_attached; i++)
        RDSBK_TRY(s_unless_gone(rdsbk_iam_detach_role_policy(client, name, attached[i].arn)));

cleanup:
    rdsbk_strings_free(names, n_names);
    rdsbk_iam_attached_policies_free(attached, n_attached);
    return rc;
}

/*
 * Our inline policies are resources of their own, deleted before the role, so the first
 * DeleteRole normally succeeds; when IAM refuses (DeleteConflict: policies someone else put or
 * attached), the role is emptied and deleted again.
 */
static int s_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    const char *name = rdsbk_res_name(ref);
    int rc = rdsbk_iam_delete_role(client, name);

    if (rc && rdsbk_res_aws_error_is("DeleteConflict", NULL)) {
        rdsbk_log_verbose("IAM role %s has policies besides ours: removing them", name);
        rc = s_empty_role(client, name);
        if (rc == 0)
            rc = rdsbk_iam_delete_role(client, name);
    }
    return rc;
}

static const char *const s_force_new[] = {"name", "path", NULL};

const struct rdsbk_resource_ops rdsbk_res_iam_role_ops = {
    .type = RDSBK_RT_IAM_ROLE,
    .read = s_read,
    .create = s_create,
    .update = s_update,
    .remove = s_remove,
    .read_calls = 1,
    .write_calls = 1,
    .force_new = s_force_new,
    .no_diff = rdsbk_res_no_keys,
    .service = "iam",
    .global = true,
};
