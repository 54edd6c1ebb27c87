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

#define S_TYPE "kms_alias"

/* The attributes, from a ListAliases entry. */
static const struct rdsbk_res_attr s_attrs[] = {
    {"name", "AliasName", RDSBK_RES_STR, 0},
    {"target_key_id", "TargetKeyId", RDSBK_RES_STR, 0},
    {"arn", "AliasArn", RDSBK_RES_STR, 0},
    {NULL, NULL, RDSBK_RES_STR, 0},
};

static int s_read(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    const char *name = rdsbk_res_name(ref);
    cJSON *aliases = NULL;
    const cJSON *found;
    cJSON *out = NULL;
    int rc;

    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(rdsbk_kms_list_aliases(&aliases, client, NULL));
    found = rdsbk_res_find(aliases, "AliasName", name);
    if (!found) {
        rc = rdsbk_error_set(RDSBK_ENOTFOUND, "KMS alias %s does not exist", name);
        goto cleanup;
    }
    out = cJSON_CreateObject();
    RDSBK_CHECK_ALLOC(out);
    RDSBK_TRY(rdsbk_res_add_attrs(out, found, s_attrs, "kms:ListAliases"));
    rc = rdsbk_res_found(actual_out, id_out, &out, name);

cleanup:
    cJSON_Delete(aliases);
    cJSON_Delete(out);
    return rc;
}

/* The alias's ARN is its name under the key's account and Region, as ListAliases reports it. */
static int s_written(cJSON **actual_out, char **id_out, const struct rdsbk_resource_ref *ref,
                     const cJSON *desired, const char *name) {
    char *arn = NULL;
    int rc = rdsbk_strfmt(&arn, "arn:%s:kms:%s:%s:%s", rdsbk_partition_of_region(ref->region),
                          ref->region, ref->account, name);

    if (rc == 0)
        rc = rdsbk_res_written(actual_out, id_out, desired, name, "arn", arn);
    free(arn);
    return rc;
}

static int s_create(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    const char *name = NULL;
    const char *target = NULL;
    int rc;

    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(rdsbk_res_require(&name, desired, "name", S_TYPE));
    RDSBK_TRY(rdsbk_res_require(&target, desired, "target_key_id", S_TYPE));
    RDSBK_TRY(rdsbk_kms_create_alias(client, name, target));
    rdsbk_log_verbose("created KMS alias %s -> %s", name, target);
    rc = s_written(actual_out, id_out, ref, desired, name);

cleanup:
    return rc;
}

static int s_update(cJSON **actual_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired,
                    const cJSON *actual) {
    const char *name = rdsbk_res_name(ref);
    const char *target = NULL;
    int rc;

    *actual_out = NULL;
    RDSBK_TRY(rdsbk_res_require(&target, desired, "target_key_id", S_TYPE));
    if (rdsbk_res_changed(desired, actual, "target_key_id"))
        RDSBK_TRY(rdsbk_kms_update_alias(client, name, target));
    rc = s_written(actual_out, NULL, ref, desired, name);

cleanup:
    return rc;
}

static int s_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    return rdsbk_kms_delete_alias(client, rdsbk_res_name(ref));
}

static const char *const s_force_new[] = {"name", NULL};

const struct rdsbk_resource_ops rdsbk_res_kms_alias_ops = {
    .type = RDSBK_RT_KMS_ALIAS,
    .read = s_read,
    .create = s_create,
    .update = s_update,
    .remove = s_remove,
    .read_calls = 1,
    .write_calls = 1,
    .force_new = s_force_new,
    .no_diff = rdsbk_res_no_keys,
    .service = "kms",
    .backups_need_it = true,
};
