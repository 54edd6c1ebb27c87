/*
 * logs_log_group {name, retention_in_days, tags} (+ "arn" when read): a function's CloudWatch
 * Logs group, /aws/lambda/<function>. The stack makes it before the function, so that it has the
 * stack's retention and tags (Lambda would make one that never expires, outside the stack, and
 * destroy would leave it behind). The id is the name; "arn" is the group's ARN without ":*", as
 * the tagging calls want it. A group whose events never expire reads without retention_in_days.
 */
#include "resources_internal.h"

#include "rdsbk/endpoints.h"
#include "rdsbk/error.h"
#include "rdsbk/log.h"
#include "rdsbk/services/logs.h"

#include <stdlib.h>
#include <string.h>

#define S_TYPE "logs_log_group"

static const struct rdsbk_res_tagging s_tagging = {S_TYPE, rdsbk_logs_list_tags, rdsbk_logs_untag,
                                                   rdsbk_logs_tag};

/* The group's ARN without the ":*" DescribeLogGroups' "arn" ends with (older replies have no
 * "logGroupArn"). */
static int s_arn(char **out, const cJSON *group) {
    const char *arn = rdsbk_json_str(group, "logGroupArn");
    const char *star = rdsbk_json_str(group, "arn");
    size_t len;

    *out = NULL;
    if (arn)
        return rdsbk_strdup_into(out, arn);
    if (!star)
        return rdsbk_error_set(RDSBK_EINVALID, "logs:DescribeLogGroups: a group without an ARN");
    len = strlen(star);
    if (len > 2 && strcmp(star + len - 2, ":*") == 0)
        len -= 2;
    *out = strndup(star, len);
    return *out ? 0 : rdsbk_error_oom();
}

static int s_read(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    const char *name = rdsbk_res_name(ref);
    cJSON *group = NULL;
    cJSON *out = NULL;
    char *arn = NULL;
    int rc;

    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(rdsbk_logs_describe_log_group(&group, client, name));
    RDSBK_TRY(s_arn(&arn, group));
    out = cJSON_CreateObject();
    RDSBK_CHECK_ALLOC(out);
    RDSBK_TRY(rdsbk_json_add_str(out, "name", name));
    if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(group, "retentionInDays")))
        RDSBK_TRY(rdsbk_json_add_num(out, "retention_in_days",
                                     rdsbk_json_int(group, "retentionInDays", 0)));
    RDSBK_TRY(rdsbk_res_add_listed_tags(out, client, arn, &s_tagging));
    RDSBK_TRY(rdsbk_json_add_str(out, "arn", arn));
    RDSBK_TRY(rdsbk_res_found(actual_out, id_out, &out, name));

cleanup:
    cJSON_Delete(group);
    cJSON_Delete(out);
    free(arn);
    return rc;
}

/* arn:<partition>:logs:<region>:<account>:log-group:<name> */
static int s_arn_of(char **out, const struct rdsbk_resource_ref *ref, const char *name) {
    return rdsbk_strfmt(out, "arn:%s:logs:%s:%s:log-group:%s",
                        rdsbk_partition_of_region(ref->region), ref->region, ref->account, name);
}

static int s_create(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    const char *name = NULL;
    struct rdsbk_tag *tags = NULL;
    size_t n_tags = 0;
    char *arn = NULL;
    int rc;

    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(rdsbk_res_require(&name, desired, "name", S_TYPE));
    RDSBK_TRY(rdsbk_res_tags_from_json(&tags, &n_tags, cJSON_GetObjectItem(desired, "tags")));
    RDSBK_TRY(rdsbk_logs_create_log_group(client, name, tags, n_tags));
    RDSBK_TRY(
        rdsbk_logs_set_retention(client, name, rdsbk_json_int(desired, "retention_in_days", 0)));
    rdsbk_log_verbose("created log group %s", name);
    RDSBK_TRY(s_arn_of(&arn, ref, name));
    rc = rdsbk_res_written(actual_out, id_out, desired, name, "arn", arn);

cleanup:
    rdsbk_aws_tags_free(tags, n_tags);
    free(arn);
    return rc;
}

static int s_update(cJSON **actual_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired,
                    const cJSON *actual) {
    const char *name = rdsbk_res_name(ref);
    char *arn = NULL;
    int rc = 0;

    *actual_out = NULL;
    if (rdsbk_res_changed(desired, actual, "retention_in_days"))
        RDSBK_TRY(rdsbk_logs_set_retention(client, name,
                                           rdsbk_json_int(desired, "retention_in_days", 0)));
    if (rdsbk_res_changed(desired, actual, "tags")) {
        RDSBK_TRY(s_arn_of(&arn, ref, name));
        RDSBK_TRY(rdsbk_res_update_tags(client, arn, desired, actual, &s_tagging));
    }
    RDSBK_TRY(
        rdsbk_res_written(actual_out, NULL, desired, name, "arn", rdsbk_json_str(actual, "arn")));

cleanup:
    free(arn);
    return rc;
}

static int s_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    return rdsbk_logs_delete_log_group(client, rdsbk_res_name(ref));
}

static const char *const s_force_new[] = {"name", NULL};

const struct rdsbk_resource_ops rdsbk_res_logs_log_group_ops = {
    .type = RDSBK_RT_LOGS_LOG_GROUP,
    .read = s_read,
    .create = s_create,
    .update = s_update,
    .remove = s_remove,
    .read_calls = 2,
    .write_calls = 2,
    .force_new = s_force_new,
    .no_diff = rdsbk_res_no_keys,
    .service = "logs",
};
