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

static const char *s_name(const struct rdsbk_resource_ref *ref) {
    return ref->id && *ref->id ? ref->id : ref->name;
}

/* UpdateRole with a new description (the service module has no call for it). */
static int s_update_description(struct rdsbk_client *client, const char *role,
                                const char *description) {
    struct rdsbk_service_ctx ctx;
    struct rdsbk_query q = {0};
    struct rdsbk_query_reply reply = {0};
    int result;

    result = rdsbk_client_service_ctx(&ctx, client, "iam");
    if (result == 0)
        result = rdsbk_query_init(&q, "UpdateRole", "2010-05-08");
    if (result == 0)
        result = rdsbk_query_add(&q, "RoleName", role);
    if (result == 0)
        result = rdsbk_query_add(&q, "Description", description);
    if (result == 0)
        result = rdsbk_query_send(&reply, &ctx, &q);
    rdsbk_query_reply_clean_up(&reply);
    rdsbk_query_clean_up(&q);
    return result;
}

static int s_read(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    struct rdsbk_iam_role role = {0};
    struct rdsbk_tag *tags = NULL;
    size_t n_tags = 0;
    cJSON *out = NULL;
    cJSON *trust = NULL;
    int result;

    *actual_out = NULL;
    if (id_out)
        *id_out = NULL;
    result = rdsbk_iam_get_role(&role, client, s_name(ref));
    if (result)
        goto cleanup;
    /* GetRole carries the tags on AWS; ask separately when a reply comes without them */
    if (role.n_tags == 0) {
        result = rdsbk_iam_list_role_tags(&tags, &n_tags, client, role.name);
        if (result)
            goto cleanup;
    }
    result = rdsbk_json_parse(&trust, role.assume_role_policy, "iam:GetRole trust policy");
    if (result)
        goto cleanup;
    out = cJSON_CreateObject();
    if (!out) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    result = rdsbk_json_add_str(out, "name", role.name);
    if (result == 0)
        result = rdsbk_json_add_str(out, "path", role.path ? role.path : "/");
    if (result == 0)
        result = rdsbk_json_add_str(out, "description", role.description);
    if (result == 0) {
        result = rdsbk_json_add(out, "assume_role_policy", trust);
        trust = NULL;
    }
    if (result == 0)
        result = rdsbk_json_add(out, "tags",
                                role.n_tags ? rdsbk_res_tags_to_json(role.tags, role.n_tags)
                                            : rdsbk_res_tags_to_json(tags, n_tags));
    if (result == 0)
        result = rdsbk_json_add_str(out, "arn", role.arn);
    if (result == 0)
        result = rdsbk_res_set_id(id_out, role.name);
    if (result)
        goto cleanup;
    *actual_out = out;
    out = NULL;

cleanup:
    cJSON_Delete(out);
    cJSON_Delete(trust);
    rdsbk_aws_tags_free(tags, n_tags);
    rdsbk_iam_role_clean_up(&role);
    return result;
}

static int s_create(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    struct rdsbk_iam_create_role_input in = {0};
    struct rdsbk_iam_role created = {0};
    struct rdsbk_tag *tags = NULL;
    size_t n_tags = 0;
    char *trust = NULL;
    int result;

    *actual_out = NULL;
    if (id_out)
        *id_out = NULL;
    result = rdsbk_res_require(&in.name, desired, "name", S_TYPE);
    if (result)
        goto cleanup;
    result =
        rdsbk_json_text(&trust, cJSON_GetObjectItemCaseSensitive(desired, "assume_role_policy"));
    if (result)
        goto cleanup;
    result = rdsbk_res_tags_from_json(&tags, &n_tags, cJSON_GetObjectItem(desired, "tags"));
    if (result)
        goto cleanup;
    in.path = rdsbk_json_str(desired, "path");
    in.description = rdsbk_json_str(desired, "description");
    in.assume_role_policy = trust;
    in.tags = tags;
    in.n_tags = n_tags;
    result = rdsbk_iam_create_role(&created, client, &in);
    if (result)
        goto cleanup;
    rdsbk_log_verbose("created IAM role %s", in.name);
    result = rdsbk_res_written(actual_out, id_out, desired, in.name, "arn", created.arn);

cleanup:
    rdsbk_iam_role_clean_up(&created);
    free(trust);
    rdsbk_aws_tags_free(tags, n_tags);
    return result;
}

static int s_update(cJSON **actual_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired,
                    const cJSON *actual) {
    const char *name = s_name(ref);
    struct rdsbk_tag *set = NULL;
    size_t n_set = 0;
    char **rm = NULL;
    size_t n_rm = 0;
    char *trust = NULL;
    int result = 0;

    *actual_out = NULL;
    if (rdsbk_res_changed(desired, actual, "assume_role_policy")) {
        result = rdsbk_json_text(&trust,
                                 cJSON_GetObjectItemCaseSensitive(desired, "assume_role_policy"));
        if (result == 0)
            result = rdsbk_iam_update_assume_role_policy(client, name, trust);
        if (result)
            goto cleanup;
    }
    if (rdsbk_res_changed(desired, actual, "description")) {
        const char *d = rdsbk_json_str(desired, "description");
        result = s_update_description(client, name, d ? d : "");
        if (result)
            goto cleanup;
    }
    result = rdsbk_res_tags_diff(&set, &n_set, &rm, &n_rm, cJSON_GetObjectItem(desired, "tags"),
                                 cJSON_GetObjectItem(actual, "tags"));
    if (result == 0 && n_rm)
        result = rdsbk_iam_untag_role(client, name, (const char *const *)rm, n_rm);
    if (result == 0 && n_set)
        result = rdsbk_iam_tag_role(client, name, set, n_set);
    if (result)
        goto cleanup;
    result =
        rdsbk_res_written(actual_out, NULL, desired, name, "arn", rdsbk_json_str(actual, "arn"));

cleanup:
    free(trust);
    rdsbk_aws_tags_free(set, n_set);
    rdsbk_strings_free(rm, n_rm);
    return result;
}

/* Inline policies deleted, managed ones detached: AWS refuses DeleteRole otherwise. */
static int s_empty_role(struct rdsbk_client *client, const char *name) {
    char **names = NULL;
    size_t n_names = 0;
    struct rdsbk_iam_attached_policy *attached = NULL;
    size_t n_attached = 0;
    int result;

    result = rdsbk_iam_list_role_policies(&names, &n_names, client, name);
    for (size_t i = 0; result == 0 && i < n_names; i++) {
        result = rdsbk_iam_delete_role_policy(client, name, names[i]);
        if (result == RDSBK_ENOTFOUND)
            result = 0;
    }
    if (result == 0)
        result = rdsbk_iam_list_attached_role_policies(&attached, &n_attached, client, name);
    for (size_t i = 0; result == 0 && i < n_attached; i++) {
        result = rdsbk_iam_detach_role_policy(client, name, attached[i].arn);
        if (result == RDSBK_ENOTFOUND)
            result = 0;
    }
    rdsbk_strings_free(names, n_names);
    rdsbk_iam_attached_policies_free(attached, n_attached);
    return result;
}

/*
 * Our inline policies are resources of their own, deleted before the role, so the first
 * DeleteRole normally succeeds; when IAM refuses (DeleteConflict: policies someone else put or
 * attached), the role is emptied and deleted again.
 */
static int s_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    const char *name = s_name(ref);
    int result = rdsbk_iam_delete_role(client, name);

    if (result && rdsbk_res_aws_error_is("DeleteConflict", NULL)) {
        rdsbk_log_verbose("IAM role %s has policies besides ours: removing them", name);
        result = s_empty_role(client, name);
        if (result == 0)
            result = rdsbk_iam_delete_role(client, name);
    }
    return result;
}

static const char *const s_force_new[] = {"name", "path", NULL};
static const char *const s_no_diff[] = {NULL};

const struct rdsbk_resource_ops rdsbk_res_iam_role_ops = {
    .type = RDSBK_RT_IAM_ROLE,
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
};
