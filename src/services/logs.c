/* CloudWatch Logs: the log groups of the pipeline's functions; see rdsbk/services/logs.h. */
#include "rdsbk/services/logs.h"

#include "rdsbk/error.h"
#include "services/svc.h"

#include <stdlib.h>
#include <string.h>

#define S_PREFIX "Logs_20140328"

/* Calls `op` with `input` (consumed) unless `rc` is an error; *out (may be NULL) the reply. */
static int s_call(cJSON **out, struct rdsbk_client *client, const char *op, cJSON *input, int rc) {
    return rdsbk_svc_json_call(out, client, "logs", S_PREFIX, op, input, rc);
}

/* {"<key>": value} */
static cJSON *s_input(const char *key, const char *value, int *rc) {
    cJSON *in = cJSON_CreateObject();

    *rc = in ? rdsbk_json_add_opt_str(in, key, value) : 0;
    return in;
}

int rdsbk_logs_create_log_group(struct rdsbk_client *client, const char *name,
                                const struct rdsbk_tag *tags, size_t n_tags) {
    int rc;
    cJSON *in = s_input("logGroupName", name, &rc);

    if (in && rc == 0 && n_tags)
        rc = rdsbk_json_add(in, "tags", rdsbk_json_tags_map(tags, n_tags));
    return s_call(NULL, client, "CreateLogGroup", in, rc);
}

int rdsbk_logs_delete_log_group(struct rdsbk_client *client, const char *name) {
    int rc;
    cJSON *in = s_input("logGroupName", name, &rc);

    return s_call(NULL, client, "DeleteLogGroup", in, rc);
}

int rdsbk_logs_describe_log_group(cJSON **group_out, struct rdsbk_client *client,
                                  const char *name) {
    struct rdsbk_service_ctx ctx;
    cJSON *groups = NULL;
    cJSON *in = NULL;
    cJSON *g;
    int rc;

    *group_out = NULL;
    in = s_input("logGroupNamePrefix", name, &rc);
    RDSBK_CHECK_ALLOC(in);
    RDSBK_TRY(rc);
    RDSBK_TRY(rdsbk_client_service_ctx(&ctx, client, "logs"));
    RDSBK_TRY(rdsbk_svc_json_paginate(&groups, &ctx, S_PREFIX, "DescribeLogGroups", in, "nextToken",
                                      "nextToken", "logGroups"));
    cJSON_ArrayForEach(g, groups) {
        const char *found = rdsbk_json_str(g, "logGroupName");
        if (found && strcmp(found, name) == 0) {
            *group_out = cJSON_DetachItemViaPointer(groups, g);
            break;
        }
    }
    if (!*group_out)
        rc = rdsbk_error_set(RDSBK_ENOTFOUND, "log group %s does not exist", name);

cleanup:
    cJSON_Delete(in);
    cJSON_Delete(groups);
    return rc;
}

int rdsbk_logs_filter_events(cJSON **events_out, struct rdsbk_client *client, const char *name,
                             const char *filter_pattern, long long start_ms) {
    struct rdsbk_service_ctx ctx;
    cJSON *in = NULL;
    int rc;

    *events_out = NULL;
    in = s_input("logGroupName", name, &rc);
    RDSBK_CHECK_ALLOC(in);
    RDSBK_TRY(rc);
    RDSBK_TRY(rdsbk_json_add_opt_str(in, "filterPattern", filter_pattern));
    RDSBK_TRY(rdsbk_json_add_num(in, "startTime", (double)start_ms));
    RDSBK_TRY(rdsbk_client_service_ctx(&ctx, client, "logs"));
    rc = rdsbk_svc_json_paginate(events_out, &ctx, S_PREFIX, "FilterLogEvents", in, "nextToken",
                                 "nextToken", "events");

cleanup:
    cJSON_Delete(in);
    return rc;
}

int rdsbk_logs_set_retention(struct rdsbk_client *client, const char *name, int days) {
    int rc;
    cJSON *in = s_input("logGroupName", name, &rc);

    if (days <= 0)
        return s_call(NULL, client, "DeleteRetentionPolicy", in, rc);
    if (in && rc == 0)
        rc = rdsbk_json_add_num(in, "retentionInDays", days);
    return s_call(NULL, client, "PutRetentionPolicy", in, rc);
}

int rdsbk_logs_list_tags(struct rdsbk_tag **out, size_t *n_out, struct rdsbk_client *client,
                         const char *arn) {
    cJSON *reply = NULL;
    int rc;
    cJSON *in = s_input("resourceArn", arn, &rc);

    *out = NULL;
    *n_out = 0;
    rc = s_call(&reply, client, "ListTagsForResource", in, rc);
    if (rc == 0)
        rc = rdsbk_json_tags_parse(out, n_out, cJSON_GetObjectItemCaseSensitive(reply, "tags"),
                                   NULL, NULL);
    cJSON_Delete(reply);
    return rc;
}

int rdsbk_logs_tag(struct rdsbk_client *client, const char *arn, const struct rdsbk_tag *tags,
                   size_t n_tags) {
    int rc;
    cJSON *in = s_input("resourceArn", arn, &rc);

    if (in && rc == 0)
        rc = rdsbk_json_add(in, "tags", rdsbk_json_tags_map(tags, n_tags));
    return s_call(NULL, client, "TagResource", in, rc);
}

int rdsbk_logs_untag(struct rdsbk_client *client, const char *arn, const char *const *keys,
                     size_t n_keys) {
    int rc;
    cJSON *in = s_input("resourceArn", arn, &rc);

    if (in && rc == 0)
        rc = rdsbk_json_add_strs(in, "tagKeys", keys, n_keys);
    return s_call(NULL, client, "UntagResource", in, rc);
}
