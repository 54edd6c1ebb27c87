/*
 * sns_topic {name, policy, tags} (+ "arn" when read): a standard SNS topic and its access policy,
 * written whole (SetTopicAttributes Policy). The id is the topic's ARN,
 * arn:<partition>:sns:<region>:<account>:<name>, which the ref's account, Region and name make
 * without a call: a read by name is a read of that ARN. Every topic has a policy (AWS gives one
 * made without it a default policy for its own account), read as it is; a reply without one reads
 * without "policy".
 *
 * SNS refuses a policy naming an IAM principal it does not know yet ("Invalid parameter: Policy
 * Error: PrincipalNotFound"), as a role just created may be until IAM has propagated it: the
 * write is retried. DeleteTopic takes the topic's subscriptions along, and answers success for a
 * topic that does not exist (a read after it is RDSBK_ENOTFOUND).
 */
#include "resources_internal.h"

#include "rdsbk/error.h"
#include "rdsbk/log.h"
#include "rdsbk/services/sns.h"

#include <stdlib.h>
#include <string.h>

#define S_TYPE "sns_topic"
/* As kms_key.c's: AWS documents "a few minutes" at most for IAM to propagate a new principal,
 * usually seconds. */
#define S_POLICY_RETRY_MS 60000L

static const struct rdsbk_res_tagging s_tagging = {
    S_TYPE, rdsbk_sns_list_tags_for_resource, rdsbk_sns_untag_resource, rdsbk_sns_tag_resource};

/* The topic's ARN (caller frees): the state's id, else the one ref's account, Region and name
 * make. */
static int s_topic_arn(char **out, const struct rdsbk_resource_ref *ref) {
    return rdsbk_res_regional_arn(out, ref, "sns", "a topic");
}

static int s_read(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    cJSON *attributes = NULL;
    cJSON *out = NULL;
    char *arn = NULL;
    const char *policy;
    int rc;

    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(s_topic_arn(&arn, ref));
    RDSBK_TRY(rdsbk_sns_get_topic_attributes(&attributes, client, arn));
    policy = rdsbk_json_str(attributes, "Policy");
    out = cJSON_CreateObject();
    RDSBK_CHECK_ALLOC(out);
    RDSBK_TRY(rdsbk_json_add_str(out, "name", strrchr(arn, ':') + 1));
    if (policy)
        RDSBK_TRY(rdsbk_res_add_parsed(out, "policy", policy, "sns:GetTopicAttributes Policy"));
    RDSBK_TRY(rdsbk_res_add_listed_tags(out, client, arn, &s_tagging));
    RDSBK_TRY(rdsbk_json_add_str(out, "arn", arn));
    rc = rdsbk_res_found(actual_out, id_out, &out, arn);

cleanup:
    cJSON_Delete(attributes);
    cJSON_Delete(out);
    free(arn);
    return rc;
}

static bool s_policy_not_ready(int rc) {
    return rc == RDSBK_EINVALID && rdsbk_res_aws_error_is("InvalidParameter", "PrincipalNotFound");
}

/* SetTopicAttributes Policy with the desired policy, whole (none desired: nothing is written),
 * again while a principal it names has not propagated in IAM. */
static int s_put_policy(struct rdsbk_client *client, const char *arn, const cJSON *desired) {
    const cJSON *doc = cJSON_GetObjectItemCaseSensitive(desired, "policy");
    struct rdsbk_backoff b;
    char *policy = NULL;
    int rc = 0;

    if (!doc)
        return 0;
    RDSBK_TRY(rdsbk_json_text(&policy, doc));
    rdsbk_backoff_init(&b, 1000, 8000, 2.0, S_POLICY_RETRY_MS);
    for (;;) {
        rc = rdsbk_sns_set_topic_attribute(client, arn, "Policy", policy);
        if (!s_policy_not_ready(rc) ||
            !rdsbk_res_backoff_wait(&b,
                                    "sns:SetTopicAttributes Policy of %s refused (%s); a "
                                    "principal of the policy may not have propagated in IAM yet",
                                    arn, rdsbk_error_last()->message))
            break;
    }
    if (rc == 0)
        rdsbk_log_verbose("wrote the policy of SNS topic %s", arn);

cleanup:
    free(policy);
    return rc;
}

static int s_create(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    struct rdsbk_sns_create_topic_input in = {0};
    struct rdsbk_tag *tags = NULL;
    char *arn = NULL;
    int rc;

    (void)ref;
    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(rdsbk_res_require(&in.name, desired, "name", S_TYPE));
    RDSBK_TRY(rdsbk_res_tags_from_json(&tags, &in.n_tags, cJSON_GetObjectItem(desired, "tags")));
    in.tags = tags;
    RDSBK_TRY(rdsbk_sns_create_topic(&arn, client, &in));
    rdsbk_log_verbose("created SNS topic %s", arn);
    RDSBK_TRY(s_put_policy(client, arn, desired));
    rc = rdsbk_res_written(actual_out, id_out, desired, arn, "arn", arn);

cleanup:
    rdsbk_aws_tags_free(tags, in.n_tags);
    free(arn);
    return rc;
}

static int s_update(cJSON **actual_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired,
                    const cJSON *actual) {
    char *arn = NULL;
    int rc;

    *actual_out = NULL;
    RDSBK_TRY(s_topic_arn(&arn, ref));
    if (rdsbk_res_changed(desired, actual, "policy"))
        RDSBK_TRY(s_put_policy(client, arn, desired));
    RDSBK_TRY(rdsbk_res_update_tags(client, arn, desired, actual, &s_tagging));
    rc = rdsbk_res_written(actual_out, NULL, desired, arn, "arn", arn);

cleanup:
    free(arn);
    return rc;
}

static int s_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    char *arn = NULL;
    int rc;

    RDSBK_TRY(s_topic_arn(&arn, ref));
    rc = rdsbk_sns_delete_topic(client, arn);

cleanup:
    free(arn);
    return rc;
}

static const char *const s_force_new[] = {"name", NULL};

const struct rdsbk_resource_ops rdsbk_res_sns_topic_ops = {
    .type = RDSBK_RT_SNS_TOPIC,
    .read = s_read,
    .create = s_create,
    .update = s_update,
    .remove = s_remove,
    .read_calls = 2,
    .write_calls = 2,
    .force_new = s_force_new,
    .no_diff = rdsbk_res_no_keys,
    .service = "sns",
};
