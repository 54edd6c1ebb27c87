/*
 * events_rule {name, description, state, event_pattern or schedule_expression, tags} (+ "arn" when
 * read), on the default event bus. The id is the rule name. PutRule creates and replaces; tags go
 * through TagResource/UntagResource because PutRule only applies them to a new rule.
 */
#include "resources_internal.h"

#include "rdsbk/error.h"
#include "rdsbk/log.h"
#include "rdsbk/services/events.h"

#include <stdlib.h>
#include <string.h>

#define S_TYPE "events_rule"

static const char *s_name(const struct rdsbk_resource_ref *ref) {
    return ref->id && *ref->id ? ref->id : ref->name;
}

static int s_read(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    cJSON *rule = NULL;
    cJSON *pattern = NULL;
    cJSON *out = NULL;
    struct rdsbk_tag *tags = NULL;
    size_t n_tags = 0;
    const char *arn;
    int result;

    *actual_out = NULL;
    if (id_out)
        *id_out = NULL;
    result = rdsbk_events_describe_rule(&rule, client, s_name(ref), NULL);
    if (result)
        goto cleanup;
    arn = rdsbk_json_str(rule, "Arn");
    /* a rule has a pattern, a schedule, or both */
    if (rdsbk_json_str(rule, "EventPattern"))
        result = rdsbk_json_parse(&pattern, rdsbk_json_str(rule, "EventPattern"),
                                  "events:DescribeRule EventPattern");
    if (result == 0)
        result = rdsbk_events_list_tags_for_resource(&tags, &n_tags, client, arn);
    if (result)
        goto cleanup;
    out = cJSON_CreateObject();
    result = out ? 0 : rdsbk_error_oom();
    if (result == 0)
        result = rdsbk_json_add_str(out, "name", rdsbk_json_str(rule, "Name"));
    if (result == 0)
        result = rdsbk_json_add_str(out, "description", rdsbk_json_str(rule, "Description"));
    if (result == 0)
        result = rdsbk_json_add_str(out, "state", rdsbk_json_str(rule, "State"));
    if (result == 0 && pattern) {
        result = rdsbk_json_add(out, "event_pattern", pattern);
        pattern = NULL;
    }
    if (result == 0 && rdsbk_json_str(rule, "ScheduleExpression"))
        result = rdsbk_json_add_str(out, "schedule_expression",
                                    rdsbk_json_str(rule, "ScheduleExpression"));
    if (result == 0)
        result = rdsbk_json_add(out, "tags", rdsbk_res_tags_to_json(tags, n_tags));
    if (result == 0)
        result = rdsbk_json_add_str(out, "arn", arn);
    if (result == 0)
        result = rdsbk_res_set_id(id_out, rdsbk_json_str(rule, "Name"));
    if (result)
        goto cleanup;
    *actual_out = out;
    out = NULL;

cleanup:
    cJSON_Delete(rule);
    cJSON_Delete(pattern);
    cJSON_Delete(out);
    rdsbk_aws_tags_free(tags, n_tags);
    return result;
}

/* PutRule with the desired name, pattern, state and description; tags only when `with_tags`.
 * *arn_out (may be NULL; caller frees) receives the rule's ARN. */
static int s_put(char **arn_out, struct rdsbk_client *client, const cJSON *desired,
                 bool with_tags) {
    struct rdsbk_events_put_rule_input in = {0};
    struct rdsbk_tag *tags = NULL;
    size_t n_tags = 0;
    char *pattern = NULL;
    int result;

    result = rdsbk_res_require(&in.name, desired, "name", S_TYPE);
    if (result)
        goto cleanup;
    if (cJSON_GetObjectItemCaseSensitive(desired, "event_pattern")) {
        result =
            rdsbk_json_text(&pattern, cJSON_GetObjectItemCaseSensitive(desired, "event_pattern"));
        if (result)
            goto cleanup;
    }
    if (with_tags) {
        result = rdsbk_res_tags_from_json(&tags, &n_tags, cJSON_GetObjectItem(desired, "tags"));
        if (result)
            goto cleanup;
    }
    in.event_pattern = pattern;
    in.schedule_expression = rdsbk_json_str(desired, "schedule_expression");
    in.state = rdsbk_json_str(desired, "state");
    in.description = rdsbk_json_str(desired, "description");
    in.tags = tags;
    in.n_tags = n_tags;
    result = rdsbk_events_put_rule(arn_out, client, &in);

cleanup:
    free(pattern);
    rdsbk_aws_tags_free(tags, n_tags);
    return result;
}

static int s_create(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    char *arn = NULL;
    int result;

    *actual_out = NULL;
    if (id_out)
        *id_out = NULL;
    (void)ref;
    result = s_put(&arn, client, desired, true);
    if (result == 0) {
        rdsbk_log_verbose("created EventBridge rule %s", rdsbk_json_str(desired, "name"));
        result = rdsbk_res_written(actual_out, id_out, desired, rdsbk_json_str(desired, "name"),
                                   "arn", arn);
    }
    free(arn);
    return result;
}

static int s_update(cJSON **actual_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired,
                    const cJSON *actual) {
    const char *arn = rdsbk_json_str(actual, "arn");
    struct rdsbk_tag *set = NULL;
    size_t n_set = 0;
    char **rm = NULL;
    size_t n_rm = 0;
    int result = 0;

    *actual_out = NULL;
    if (rdsbk_res_changed(desired, actual, "event_pattern") ||
        rdsbk_res_changed(desired, actual, "schedule_expression") ||
        rdsbk_res_changed(desired, actual, "state") ||
        rdsbk_res_changed(desired, actual, "description"))
        result = s_put(NULL, client, desired, false);
    if (result == 0)
        result = rdsbk_res_tags_diff(&set, &n_set, &rm, &n_rm, cJSON_GetObjectItem(desired, "tags"),
                                     cJSON_GetObjectItem(actual, "tags"));
    if (result == 0 && (n_rm || n_set) && !arn)
        result = rdsbk_error_set(RDSBK_EINVALID, "%s: no arn to tag", S_TYPE);
    if (result == 0 && n_rm)
        result = rdsbk_events_untag_resource(client, arn, (const char *const *)rm, n_rm);
    if (result == 0 && n_set)
        result = rdsbk_events_tag_resource(client, arn, set, n_set);
    if (result == 0)
        result = rdsbk_res_written(actual_out, NULL, desired, s_name(ref), "arn", arn);
    rdsbk_aws_tags_free(set, n_set);
    rdsbk_strings_free(rm, n_rm);
    return result;
}

/* Removes every target of the rule (RemoveTargets takes at most 100 ids at a time). */
static int s_remove_targets(struct rdsbk_client *client, const char *name) {
    cJSON *targets = NULL;
    const char **ids = NULL;
    size_t n = 0;
    const cJSON *t;
    int result;

    result = rdsbk_events_list_targets_by_rule(&targets, client, name, NULL);
    if (result)
        goto cleanup;
    ids = calloc((size_t)cJSON_GetArraySize(targets) + 1, sizeof(*ids));
    if (!ids) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    cJSON_ArrayForEach(t, targets) {
        const char *id = rdsbk_json_str(t, "Id");
        if (id)
            ids[n++] = id;
    }
    for (size_t i = 0; result == 0 && i < n; i += 100)
        result = rdsbk_events_remove_targets(client, name, NULL, ids + i, n - i > 100 ? 100 : n - i,
                                             false);

cleanup:
    cJSON_Delete(targets);
    free(ids);
    return result;
}

/*
 * EventBridge refuses to delete a rule that has targets. Ours are resources of their own, deleted
 * before the rule, so the first DeleteRule normally succeeds; targets someone else added are
 * removed when it is refused, and the rule deleted again.
 */
static int s_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    const char *name = s_name(ref);
    int result = rdsbk_events_delete_rule(client, name, NULL, false);

    if (result && rdsbk_res_aws_error_is("ValidationException", "has targets")) {
        rdsbk_log_verbose("EventBridge rule %s has targets besides ours: removing them", name);
        result = s_remove_targets(client, name);
        if (result == 0)
            result = rdsbk_events_delete_rule(client, name, NULL, false);
    }
    return result;
}

static const char *const s_force_new[] = {"name", NULL};
static const char *const s_no_diff[] = {NULL};

const struct rdsbk_resource_ops rdsbk_res_events_rule_ops = {
    .type = RDSBK_RT_EVENTS_RULE,
    .read = s_read,
    .create = s_create,
    .update = s_update,
    .remove = s_remove,
    .read_calls = 2,
    .write_calls = 1,
    .force_new = s_force_new,
    .no_diff = s_no_diff,
    .service = "events",
};
