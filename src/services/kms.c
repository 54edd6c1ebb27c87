/*
 * KMS (awsJson1.1, TrentService): keys, their policy, description, aliases and tags, and their
 * scheduled deletion. Requests are the key's id and a few named members; structured replies go
 * back to the caller as cJSON.
 */
#include "rdsbk/services/kms.h"
#include "rdsbk/error.h"
#include "services/svc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const struct rdsbk_svc_json_api s_api = {
    .service = "kms",
    .prefix = "TrentService",
    .token_in = "Marker", /* KMS pages with Marker in, NextMarker out */
    .token_out = "NextMarker",
    .tag_key = "TagKey",
    .tag_value = "TagValue",
};

/* `op` with `input` (consumed) unless `rc` is already an error; *out (may be NULL) the reply. */
static int s_send(cJSON **out, struct rdsbk_client *client, const char *op, cJSON *input, int rc) {
    return rdsbk_svc_json_call(out, client, s_api.service, s_api.prefix, op, input, rc);
}

#define S_CREATE(m) offsetof(struct rdsbk_kms_create_key_input, m)
static const struct rdsbk_field s_create_key_input[] = {
    RDSBK_FIELD(STR, "Policy", S_CREATE(policy)),
    RDSBK_FIELD(STR, "Description", S_CREATE(description)),
    RDSBK_FIELD(TRUE, "MultiRegion", S_CREATE(multi_region)),
    RDSBK_FIELD(TRUE, "BypassPolicyLockoutSafetyCheck",
                S_CREATE(bypass_policy_lockout_safety_check)),
    RDSBK_FIELD_N(TAGS, "Tags", S_CREATE(tags), S_CREATE(n_tags), "TagKey", "TagValue"),
    RDSBK_FIELD_END,
};

/* `op` with the string members `args`; *out (may be NULL) receives the reply. */
static int s_call(cJSON **out, struct rdsbk_client *client, const char *op,
                  const struct rdsbk_arg *args) {
    cJSON *input = NULL;
    int rc = rdsbk_svc_json_input(&input, args, NULL, NULL);

    return s_send(out, client, op, input, rc);
}

/* The KeyMetadata of a reply (deleted here) into *out (may be NULL: nothing kept). */
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
    cJSON *input = NULL;
    cJSON *reply = NULL;
    int rc = rdsbk_svc_json_input(&input, NULL, s_create_key_input, in);

    rc = rdsbk_svc_json_call_fresh(&reply, client, s_api.service, s_api.prefix, "CreateKey", input,
                                   rc);
    return s_key_metadata(key_metadata_out, reply, "kms:CreateKey", rc);
}

int rdsbk_kms_describe_key(cJSON **key_metadata_out, struct rdsbk_client *client,
                           const char *key_id) {
    const struct rdsbk_arg args[] = {{"KeyId", key_id}, {NULL, NULL}};
    cJSON *reply = NULL;
    int rc = s_call(&reply, client, "DescribeKey", args);

    return s_key_metadata(key_metadata_out, reply, "kms:DescribeKey", rc);
}

int rdsbk_kms_get_key_policy(char **policy_out, struct rdsbk_client *client, const char *key_id) {
    const struct rdsbk_arg args[] = {{"KeyId", key_id}, {"PolicyName", "default"}, {NULL, NULL}};
    cJSON *reply = NULL;
    int rc = s_call(&reply, client, "GetKeyPolicy", args);

    *policy_out = NULL;
    if (rc == 0)
        rc = rdsbk_svc_json_take_str(policy_out, reply, "Policy", "kms:GetKeyPolicy");
    cJSON_Delete(reply);
    return rc;
}

int rdsbk_kms_put_key_policy(struct rdsbk_client *client, const char *key_id, const char *policy,
                             bool bypass_policy_lockout_safety_check) {
    const struct rdsbk_arg args[] = {
        {"KeyId", key_id}, {"PolicyName", "default"}, {"Policy", policy}, {NULL, NULL}};
    cJSON *input = NULL;
    int rc = rdsbk_svc_json_input(&input, args, NULL, NULL);

    if (rc == 0 && bypass_policy_lockout_safety_check)
        rc = rdsbk_json_add(input, "BypassPolicyLockoutSafetyCheck", cJSON_CreateTrue());
    return s_send(NULL, client, "PutKeyPolicy", input, rc);
}

int rdsbk_kms_update_key_description(struct rdsbk_client *client, const char *key_id,
                                     const char *description) {
    /* NULL goes as "", as the kms_key resource has always sent it. */
    const struct rdsbk_arg args[] = {{"KeyId", key_id ? key_id : ""},
                                     {"Description", description ? description : ""},
                                     {NULL, NULL}};

    return s_call(NULL, client, "UpdateKeyDescription", args);
}

static int s_alias(struct rdsbk_client *client, const char *op, const char *alias,
                   const char *target) {
    const struct rdsbk_arg args[] = {{"AliasName", alias}, {"TargetKeyId", target}, {NULL, NULL}};

    return s_call(NULL, client, op, args);
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

/* A listing of `op` for the key `key_id` (NULL: every one), all pages. */
static int s_list(cJSON **out, struct rdsbk_client *client, const char *op, const char *key_id,
                  const char *list_field) {
    const struct rdsbk_arg args[] = {{"KeyId", key_id}, {NULL, NULL}};
    cJSON *input = NULL;
    int rc = rdsbk_svc_json_input(&input, args, NULL, NULL);

    return rdsbk_svc_json_list(out, client, &s_api, op, input, rc, list_field);
}

int rdsbk_kms_list_aliases(cJSON **aliases_out, struct rdsbk_client *client, const char *key_id) {
    return s_list(aliases_out, client, "ListAliases", key_id, "Aliases");
}

int rdsbk_kms_tag_resource(struct rdsbk_client *client, const char *key_id,
                           const struct rdsbk_tag *tags, size_t n) {
    const struct rdsbk_arg id = {"KeyId", key_id};

    return rdsbk_svc_json_tag(client, &s_api, &id, tags, n);
}

int rdsbk_kms_untag_resource(struct rdsbk_client *client, const char *key_id,
                             const char *const *keys, size_t n) {
    const struct rdsbk_arg id = {"KeyId", key_id};

    return rdsbk_svc_json_untag(client, &s_api, &id, keys, n);
}

int rdsbk_kms_list_resource_tags(struct rdsbk_tag **out, size_t *n_out, struct rdsbk_client *client,
                                 const char *key_id) {
    cJSON *tags = NULL;
    int rc = s_list(&tags, client, "ListResourceTags", key_id, "Tags");

    *out = NULL;
    *n_out = 0;
    if (rc == 0)
        rc = rdsbk_svc_json_tags(out, n_out, &s_api, tags);
    cJSON_Delete(tags);
    return rc;
}

int rdsbk_kms_schedule_key_deletion(time_t *deletion_date_out, struct rdsbk_client *client,
                                    const char *key_id, int pending_window_days) {
    const struct rdsbk_arg args[] = {{"KeyId", key_id}, {NULL, NULL}};
    cJSON *input = NULL;
    cJSON *reply = NULL;
    const cJSON *date;
    int rc = rdsbk_svc_json_input(&input, args, NULL, NULL);

    if (deletion_date_out)
        *deletion_date_out = 0;
    if (rc == 0 && pending_window_days > 0)
        rc = rdsbk_json_add_num(input, "PendingWindowInDays", pending_window_days);
    rc = s_send(&reply, client, "ScheduleKeyDeletion", input, rc);
    date = cJSON_GetObjectItemCaseSensitive(reply, "DeletionDate");
    if (rc == 0 && deletion_date_out && cJSON_IsNumber(date))
        *deletion_date_out = (time_t)date->valuedouble;
    cJSON_Delete(reply);
    return rc;
}

int rdsbk_kms_cancel_key_deletion(struct rdsbk_client *client, const char *key_id) {
    const struct rdsbk_arg args[] = {{"KeyId", key_id}, {NULL, NULL}};

    return s_call(NULL, client, "CancelKeyDeletion", args);
}

int rdsbk_kms_list_keys(cJSON **keys_out, struct rdsbk_client *client) {
    return s_list(keys_out, client, "ListKeys", NULL, "Keys");
}
