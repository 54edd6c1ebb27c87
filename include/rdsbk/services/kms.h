#ifndef RDSBK_SERVICES_KMS_H
#define RDSBK_SERVICES_KMS_H

#include "rdsbk/client.h"

#include <stdbool.h>
#include <time.h>

/*
 * KMS (awsJson1.1, X-Amz-Target: TrentService.<Op>). Replies that carry structures come back as
 * cJSON objects the caller deletes (cJSON_Delete), shaped as the API documents them (e.g.
 * KeyMetadata: KeyId, Arn, KeyState, MultiRegion, DeletionDate...). Key policies go in and out as
 * JSON text. Errors: NotFoundException -> RDSBK_ENOTFOUND, AlreadyExistsException ->
 * RDSBK_ECONFLICT; a key pending deletion answers KMSInvalidStateException (RDSBK_EINVALID).
 *
 * Every call returns 0, or a negative rdsbk_error_code with the error set (rdsbk_error_last()
 * keeps the AWS code, HTTP status and request id); on failure its out parameters hold nothing
 * (NULL / zeroed). List calls follow every page and return everything. Nothing is retained
 * between calls; calls on one client may run in parallel.
 */

struct rdsbk_kms_create_key_input {
    const char *policy; /* JSON; NULL: the default key policy */
    const char *description;
    bool multi_region;
    const struct rdsbk_tag *tags;
    size_t n_tags;
    bool bypass_policy_lockout_safety_check;
};

/* CreateKey: *key_metadata_out is the KeyMetadata object (may be NULL to ignore). */
int rdsbk_kms_create_key(cJSON **key_metadata_out, struct rdsbk_client *client,
                         const struct rdsbk_kms_create_key_input *in);
/* DescribeKey (key id, ARN or alias name): the KeyMetadata object. */
int rdsbk_kms_describe_key(cJSON **key_metadata_out, struct rdsbk_client *client,
                           const char *key_id);
/* GetKeyPolicy ("default"): the policy JSON text (caller frees). */
int rdsbk_kms_get_key_policy(char **policy_out, struct rdsbk_client *client, const char *key_id);
int rdsbk_kms_put_key_policy(struct rdsbk_client *client, const char *key_id, const char *policy,
                             bool bypass_policy_lockout_safety_check);
/* UpdateKeyDescription (NULL: sent as "", the description emptied). */
int rdsbk_kms_update_key_description(struct rdsbk_client *client, const char *key_id,
                                     const char *description);

int rdsbk_kms_create_alias(struct rdsbk_client *client, const char *alias_name,
                           const char *target_key_id);
int rdsbk_kms_update_alias(struct rdsbk_client *client, const char *alias_name,
                           const char *target_key_id);
int rdsbk_kms_delete_alias(struct rdsbk_client *client, const char *alias_name);
/* ListAliases, all pages (key_id NULL: every alias of the account and Region): a cJSON array of
 * {AliasName, AliasArn, TargetKeyId, ...}. */
int rdsbk_kms_list_aliases(cJSON **aliases_out, struct rdsbk_client *client, const char *key_id);

/* Tags (TagKey/TagValue on the wire). */
int rdsbk_kms_tag_resource(struct rdsbk_client *client, const char *key_id,
                           const struct rdsbk_tag *tags, size_t n);
int rdsbk_kms_untag_resource(struct rdsbk_client *client, const char *key_id,
                             const char *const *keys, size_t n);
/* All pages; free with rdsbk_aws_tags_free. */
int rdsbk_kms_list_resource_tags(struct rdsbk_tag **out, size_t *n_out, struct rdsbk_client *client,
                                 const char *key_id);

/* ScheduleKeyDeletion with a 7..30 day window; *deletion_date_out (may be NULL) the date. */
int rdsbk_kms_schedule_key_deletion(time_t *deletion_date_out, struct rdsbk_client *client,
                                    const char *key_id, int pending_window_days);
int rdsbk_kms_cancel_key_deletion(struct rdsbk_client *client, const char *key_id);
/* ListKeys, all pages: a cJSON array of {KeyId, KeyArn}. */
int rdsbk_kms_list_keys(cJSON **keys_out, struct rdsbk_client *client);

#endif
