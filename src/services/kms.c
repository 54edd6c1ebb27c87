#include "rdsbk/services/kms.h"
#include "rdsbk/error.h"
#include "services/svc.h"

#include <stdlib.h>
#include <string.h>

#define S_PREFIX "TrentService"

/* Calls `op` with `input` (consumed); *out (may be NULL) receives the reply. */
static int s_call(cJSON **out, struct rdsbk_client *client, const char *op, cJSON *input, int rc) {
    return rdsbk_svc_json_call(out, client, "kms", S_PREFIX, op, input, rc);
}

/* {"KeyId": key_id} */
static cJSON *s_key_input(const char *key_id, int *rc) {
    cJSON *in = cJSON_CreateObject();

    *rc = in ? rdsbk_json_add_opt_str(in, "KeyId", key_id) : 0;
    return in;
}

static int s_key_metadata(cJSON **out, cJSON *reply, const char *op, int rc) {
    if (out)
        *out = NULL;
    if (rc == 0 && out)
        rc = rdsbk_svc_json_take(out, reply, "KeyMetadata", op);
    cJSON_Delete(reply);
    return rc;
}

int rdsbk_kms_create_key(cJSON **key_metadata_out, struct rdsbk_client *client,
                         const struct rdsbk_kms_create_key_input *in) {
    cJSON *input = cJSON_CreateObject();
    cJSON *reply = NULL;
    int rc = 0;

    if (key_metadata_out)
        *key_metadata_out = NULL;
    if (input) {
        rc = rdsbk_json_add_opt_str(input, "Policy", in->policy);
        if (rc == 0)
            rc = rdsbk_json_add_opt_str(input, "Description", in->description);
        if (rc == 0 && in->multi_region)
            rc = rdsbk_json_add(input, "MultiRegion", cJSON_CreateTrue());
        if (rc == 0 && in->bypass_policy_lockout_safety_check)
            rc = rdsbk_json_add(input, "BypassPolicyLockoutSafetyCheck", cJSON_CreateTrue());
        if (rc == 0 && in->n_tags)
            rc = rdsbk_json_add(input, "Tags",
                                rdsbk_json_tags_list(in->tags, in->n_tags, "TagKey", "TagValue"));
    }
    rc = rdsbk_svc_json_call_fresh(&reply, client, "kms", S_PREFIX, "CreateKey", input, rc);
    return s_key_metadata(key_metadata_out, reply, "kms:CreateKey", rc);
}

int rdsbk_kms_describe_key(cJSON **key_metadata_out, struct rdsbk_client *client,
                           const char *key_id) {
    cJSON *reply = NULL;
    int rc;
    cJSON *input = s_key_input(key_id, &rc);

    rc = s_call(&reply, client, "DescribeKey", input, rc);
    return s_key_metadata(key_metadata_out, reply, "kms:DescribeKey", rc);
}

int rdsbk_kms_get_key_policy(char **policy_out, struct rdsbk_client *client, const char *key_id) {
    cJSON *reply = NULL;
    int rc;
    cJSON *input = s_key_input(key_id, &rc);

    *policy_out = NULL;
    if (input && rc == 0)
        rc = rdsbk_json_add_opt_str(input, "PolicyName", "default");
    rc = s_call(&reply, client, "GetKeyPolicy", input, rc);
    if (rc == 0)
        rc = rdsbk_json_dup_str(policy_out, reply, "Policy");
    if (rc == 0 && !*policy_out)
        rc = rdsbk_error_set(RDSBK_EINVALID, "kms:GetKeyPolicy: no Policy in the reply");
    cJSON_Delete(reply);
    return rc;
}

int rdsbk_kms_put_key_policy(struct rdsbk_client *client, const char *key_id, const char *policy,
                             bool bypass_policy_lockout_safety_check) {
    int rc;
    cJSON *input = s_key_input(key_id, &rc);

    if (input && rc == 0)
        rc = rdsbk_json_add_opt_str(input, "PolicyName", "default");
    if (input && rc == 0)
        rc = rdsbk_json_add_opt_str(input, "Policy", policy);
    if (input && rc == 0 && bypass_policy_lockout_safety_check)
        rc = rdsbk_json_add(input, "BypassPolicyLockoutSafetyCheck", cJSON_CreateTrue());
    return s_call(NULL, client, "PutKeyPolicy", input, rc);
}

static int s_alias(struct rdsbk_client *client, const char *op, const char *alias,
                   const char *target) {
    cJSON *input = cJSON_CreateObject();
    int rc = 0;

    if (input)
        rc = rdsbk_json_add_opt_str(input, "AliasName", alias);
    if (input && rc == 0)
        rc = rdsbk_json_add_opt_str(input, "TargetKeyId", target);
    return s_call(NULL, client, op, input, rc);
}

int rdsbk_kms_create_alias(struct rdsbk_client *client, const char *alias_name,
                           const char *target_key_id) {
    return s_alias(client, "CreateAlias", alias_name, target_key_id);
}

int rdsbk_kms_update_alias(struct rdsbk_client *client, const char *alias_name,
                           const char *target_key_id) {
    return s_alias(client, "UpdateAlias", alias_name, target_key_id);
}

int rdsbk_kms_delete_alias(struct rdsbk_client *client, const char *alias_name) {
    return s_alias(client, "DeleteAlias", alias_name, NULL);
}

/* KMS pages with Marker in, NextMarker out. */
static int s_paginate(cJSON **out, struct rdsbk_client *client, const char *op, cJSON *input,
                      const char *list_field, int rc) {
    struct rdsbk_service_ctx ctx;

    *out = NULL;
    if (rc == 0 && !input)
        rc = rdsbk_error_oom();
    if (rc == 0)
        rc = rdsbk_client_service_ctx(&ctx, client, "kms");
    if (rc == 0)
        rc = rdsbk_svc_json_paginate(out, &ctx, S_PREFIX, op, input, "Marker", "NextMarker",
                                     list_field);
    cJSON_Delete(input);
    return rc;
}

int rdsbk_kms_list_aliases(cJSON **aliases_out, struct rdsbk_client *client, const char *key_id) {
    int rc;
    cJSON *input = s_key_input(key_id, &rc);

    return s_paginate(aliases_out, client, "ListAliases", input, "Aliases", rc);
}

int rdsbk_kms_tag_resource(struct rdsbk_client *client, const char *key_id,
                           const struct rdsbk_tag *tags, size_t n) {
    int rc;
    cJSON *input = s_key_input(key_id, &rc);

    if (input && rc == 0)
        rc = rdsbk_json_add(input, "Tags", rdsbk_json_tags_list(tags, n, "TagKey", "TagValue"));
    return s_call(NULL, client, "TagResource", input, rc);
}

int rdsbk_kms_untag_resource(struct rdsbk_client *client, const char *key_id,
                             const char *const *keys, size_t n) {
    int rc;
    cJSON *input = s_key_input(key_id, &rc);

    if (input && rc == 0)
        rc = rdsbk_json_add_strs(input, "TagKeys", keys, n);
    return s_call(NULL, client, "UntagResource", input, rc);
}

int rdsbk_kms_list_resource_tags(struct rdsbk_tag **out, size_t *n_out, struct rdsbk_client *client,
                                 const char *key_id) {
    cJSON *tags = NULL;
    int rc;
    cJSON *input = s_key_input(key_id, &rc);

    *out = NULL;
    *n_out = 0;
    rc = s_paginate(&tags, client, "ListResourceTags", input, "Tags", rc);
    if (rc == 0)
        rc = rdsbk_json_tags_parse(out, n_out, tags, "TagKey", "TagValue");
    cJSON_Delete(tags);
    return rc;
}

int rdsbk_kms_schedule_key_deletion(time_t *deletion_date_out, struct rdsbk_client *client,
                                    const char *key_id, int pending_window_days) {
    cJSON *reply = NULL;
    const cJSON *date;
    int rc;
    cJSON *input = s_key_input(key_id, &rc);

    if (deletion_date_out)
        *deletion_date_out = 0;
    if (input && rc == 0 && pending_window_days > 0)
        rc = rdsbk_json_add(input, "PendingWindowInDays", cJSON_CreateNumber(pending_window_days));
    rc = s_call(&reply, client, "ScheduleKeyDeletion", input, rc);
    date = cJSON_GetObjectItemCaseSensitive(reply, "DeletionDate");
    if (rc == 0 && deletion_date_out && cJSON_IsNumber(date))
        *deletion_date_out = (time_t)date->valuedouble;
    cJSON_Delete(reply);
    return rc;
}

int rdsbk_kms_cancel_key_deletion(struct rdsbk_client *client, const char *key_id) {
    int rc;
    cJSON *input = s_key_input(key_id, &rc);

    return s_call(NULL, client, "CancelKeyDeletion", input, rc);
}

int rdsbk_kms_list_keys(cJSON **keys_out, struct rdsbk_client *client) {
    return s_paginate(keys_out, client, "ListKeys", cJSON_CreateObject(), "Keys", 0);
}
