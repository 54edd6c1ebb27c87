/*
 * kms_alias {name, target_key_id} (+ "arn" when read). The id is the alias name ("alias/...").
 * KMS has no call that reads one alias: ListAliases and pick it out.
 */
#include "resources_internal.h"

#include "rdsbk/endpoints.h"
#include "rdsbk/error.h"
#include "rdsbk/log.h"
#include "rdsbk/services/kms.h"

#include <stdlib.h>
#include <string.h>

#define S_TYPE "kms_alias"

static const char *s_name(const struct rdsbk_resource_ref *ref) {
    return ref->id && *ref->id ? ref->id : ref->name;
}

static int s_read(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    const char *name = s_name(ref);
    cJSON *aliases = NULL;
    const cJSON *found = NULL;
    const cJSON *a;
    cJSON *out = NULL;
    int result;

    *actual_out = NULL;
    if (id_out)
        *id_out = NULL;
    result = rdsbk_kms_list_aliases(&aliases, client, NULL);
    if (result)
        goto cleanup;
    cJSON_ArrayForEach(a, aliases) {
        const char *n = rdsbk_json_str(a, "AliasName");
        if (n && name && strcmp(n, name) == 0)
            found = a;
    }
    if (!found) {
        result = rdsbk_error_set(RDSBK_ENOTFOUND, "KMS alias %s does not exist", name);
        goto cleanup;
    }
    out = cJSON_CreateObject();
    result = out ? 0 : rdsbk_error_oom();
    if (result == 0)
        result = rdsbk_json_add_str(out, "name", name);
    if (result == 0)
        result = rdsbk_json_add_str(out, "target_key_id", rdsbk_json_str(found, "TargetKeyId"));
    if (result == 0)
        result = rdsbk_json_add_str(out, "arn", rdsbk_json_str(found, "AliasArn"));
    if (result == 0)
        result = rdsbk_res_set_id(id_out, name);
    if (result)
        goto cleanup;
    *actual_out = out;
    out = NULL;

cleanup:
    cJSON_Delete(aliases);
    cJSON_Delete(out);
    return result;
}

/* The alias's ARN is its name under the key's account and Region, as ListAliases reports it. */
static int s_written(cJSON **actual_out, char **id_out, const struct rdsbk_resource_ref *ref,
                     const cJSON *desired, const char *name) {
    char *arn = NULL;
    int result = rdsbk_strfmt(&arn, "arn:%s:kms:%s:%s:%s", rdsbk_partition_of_region(ref->region),
                              ref->region, ref->account, name);

    if (result == 0)
        result = rdsbk_res_written(actual_out, id_out, desired, name, "arn", arn);

    free(arn);
    return result;
}

static int s_create(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    const char *name = NULL;
    const char *target = NULL;
    int result;

    *actual_out = NULL;
    if (id_out)
        *id_out = NULL;
    result = rdsbk_res_require(&name, desired, "name", S_TYPE);
    if (result == 0)
        result = rdsbk_res_require(&target, desired, "target_key_id", S_TYPE);
    if (result == 0)
        result = rdsbk_kms_create_alias(client, name, target);
    if (result)
        return result;
    rdsbk_log_verbose("created KMS alias %s -> %s", name, target);
    return s_written(actual_out, id_out, ref, desired, name);
}

static int s_update(cJSON **actual_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired,
                    const cJSON *actual) {
    const char *name = s_name(ref);
    const char *target = NULL;
    int result;

    *actual_out = NULL;
    result = rdsbk_res_require(&target, desired, "target_key_id", S_TYPE);
    if (result == 0 && rdsbk_res_changed(desired, actual, "target_key_id"))
        result = rdsbk_kms_update_alias(client, name, target);
    if (result)
        return result;
    return s_written(actual_out, NULL, ref, desired, name);
}

static int s_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    int result = rdsbk_kms_delete_alias(client, s_name(ref));

    return result;
}

static const char *const s_force_new[] = {"name", NULL};
static const char *const s_no_diff[] = {NULL};

const struct rdsbk_resource_ops rdsbk_res_kms_alias_ops = {
    .type = RDSBK_RT_KMS_ALIAS,
    .read = s_read,
    .create = s_create,
    .update = s_update,
    .remove = s_remove,
    .read_calls = 1,
    .write_calls = 1,
    .force_new = s_force_new,
    .no_diff = s_no_diff,
    .service = "kms",
};
