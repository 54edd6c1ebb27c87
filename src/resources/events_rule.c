/*
 * events_rule {name, event_bus?, description, state, event_pattern or schedule_expression, tags}
 * (+ "arn" when read): a rule on the default event bus, or on the custom bus `event_bus` (a rule
 * that moves between buses is another rule: force_new). The id is the rule name. PutRule creates
 * and replaces; tags go through TagResource/UntagResource because PutRule only applies them to a
 * new rule.
 */
#include "resources_internal.h"

#include "rdsbk/error.h"
#include "rdsbk/log.h"
#include "rdsbk/services/events.h"

#include <stdlib.h>
#include <string.h>

#define S_TYPE "events_rule"

static const struct rdsbk_res_tagging s_tagging = {S_TYPE, rdsbk_events_list_tags_for_resource,
                                                   rdsbk_events_untag_resource,
                                                   rdsbk_events_tag_resource};

/* The attributes from DescribeRule, but the tags and the ARN; a rule has a pattern, a schedule,
 * or both. */
static const struct rdsbk_res_attr s_attrs[] = {
    {"name", "Name", RDSBK_RES_STR, 0},
    {"description", "Description", RDSBK_RES_STR, 0},
    {"state", "State", RDSBK_RES_STR, 0},
    {"event_pattern", "EventPattern", RDSBK_RES_OPT_JSON, 0},
    {"schedule_expression", "ScheduleExpression", RDSBK_RES_OPT_STR, 0},
    {NULL, NULL, RDSBK_RES_STR, 0},
};

/* The custom bus of a rule (of its desired or last known attributes), or NULL: the default bus. */
const char *rdsbk_res_event_bus(const cJSON *attributes) {
    return rdsbk_json_str(attributes, "event_bus");
}

/* What PutRule sets, besides the name and the tags. */
static const char *const s_put_keys[] = {"event_pattern", "schedule_expression", "state",
                                         "description", NULL};

static int s_read(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    cJSON *rule = NULL;
    cJSON *out = NULL;
    const char *arn;
    const char *bus;
    int rc;

    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(rdsbk_events_describe_rule(&rule, client, rdsbk_res_name(ref),
                                         rdsbk_res_event_bus(ref->attributes)));
    arn = rdsbk_json_str(rule, "Arn");
    bus = rdsbk_json_str(rule, "EventBusName");
    out = cJSON_CreateObject();
    RDSBK_CHECK_ALLOC(out);
    RDSBK_TRY(rdsbk_res_add_attrs(out, rule, s_attrs, "events:DescribeRule"));
    if (bus && strcmp(bus, "default") != 0)
        RDSBK_TRY(rdsbk_json_add_str(out, "event_bus", bus));
    RDSBK_TRY(rdsbk_res_add_listed_tags(out, client, arn, &s_tagging));
    RDSBK_TRY(rdsbk_json_add_str(out, "arn", arn));
    rc = rdsbk_res_found(actual_out, id_out, &out, rdsbk_json_str(rule, "Name"));

cleanup:
    cJSON_Delete(rule);
    cJSON_Delete(out);
    return rc;
}

/* PutRule with the desired name, pattern, state and description; tags only when `with_tags`.
 * *arn_out (may be NULL; caller frees) receives the rule's ARN. */
static int s_put(char **arn_out, struct rdsbk_client *client, const cJSON *desired,
                 bool with_tags) {
    const cJSON *pattern = cJSON_GetObjectItemCaseSensitive(desired, "event_pattern");
    struct rdsbk_events_put_rule_input in = {0};
    struct rdsbk_tag *tags = NULL;
    size_t n_tags = 0;
    char *pattern_text = NULL;
    int rc;

    RDSBK_TRY(rdsbk_res_require(&in.name, desired, "name", S_TYPE));
    if (pattern)
        RDSBK_TRY(rdsbk_json_text(&pattern_text, pattern));
    if (with_tags)
        RDSBK_TRY(rdsbk_res_tags_from_json(&tags, &n_tags, cJSON_GetObjectItem(desired, "tags")));
    in.event_pattern = pattern_text;
    in.schedule_expression = rdsbk_json_str(desired, "schedule_expression");
    in.state = rdsbk_json_str(desired, "state");
    in.description = rdsbk_json_str(desired, "description");
    in.bus = rdsbk_res_event_bus(desired);
    in.tags = tags;
    in.n_tags = n_tags;
    rc = rdsbk_events_put_rule(arn_out, client, &in);

cleanup:
    free(pattern_text);
    rdsbk_aws_tags_free(tags, n_tags);
    return rc;
}

static int s_create(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    const char *name = rdsbk_json_str(desired, "name");
    char *arn = NULL;
    int rc;

    (void)ref;
    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(s_put(&arn, client, desired, true));
    rdsbk_log_verbose("created EventBridge rule %s", name);
    rc = rdsbk_res_written(actual_out, id_out, desired, name, "arn", arn);

cleanup:
    free(arn);
    return rc;
}

static int s_update(cJSON **actual_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired,
                    const cJSON *actual) {
    const char *arn = rdsbk_json_str(actual, "arn");
    int rc;

    *actual_out = NULL;
    if (rdsbk_res_any_changed(desired, actual, s_put_keys))
        RDSBK_TRY(s_put(NULL, client, desired, false));
    RDSBK_TRY(rdsbk_res_update_tags(client, arn, desired, actual, &s_tagging));
    rc = rdsbk_res_written(actual_out, NULL, desired, rdsbk_res_name(ref), "arn", arn);

cleanup:
    return rc;
}

/* Removes every target of the rule (RemoveTargets takes at most 100 ids at a time). */
static int s_remove_targets(struct rdsbk_client *client, const char *name, const char *bus) {
    cJSON *targets = NULL;
    const char **ids = NULL;
    size_t n = 0;
    const cJSON *t;
    int rc;

    RDSBK_TRY(rdsbk_events_list_targets_by_rule(&targets, client, name, bus));
    ids = calloc((size_t)cJSON_GetArraySize(targets) + 1, sizeof(*ids));
    RDSBK_CHECK_ALLOC(ids);
    cJSON_ArrayForEach(t, targets) {
        const char *id = rdsbk_json_str(t, "Id");
        if (id)
            ids[n++] = id;
    }
    for (size_t i = 0; i < n; i += 100)
        RDSBK_TRY(rdsbk_events_remove_targets(client, name, bus, ids + i, n - i > 100 ? 100 : n - i,
                                              false));

cleanup:
    cJSON_Delete(targets);
    free(ids);
    return rc;
}

/*
 * EventBridge refuses to delete a rule that has targets. Ours are resources of their own, deleted
 * before the rule, so the first DeleteRule normally succeeds; targets someone else added are
 * removed when it is refused, and the rule deleted again.
 */
static int s_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    const char *name = rdsbk_res_name(ref);
    const char *bus = rdsbk_res_event_bus(ref->attributes);
    int rc = rdsbk_events_delete_rule(client, name, bus, false);

    if (rc && rdsbk_res_aws_error_is("ValidationException", "has targets")) {
        rdsbk_log_verbose("EventBridge rule %s has targets besides ours: removing them", name);
        rc = s_remove_targets(client, name, bus);
        if (rc == 0)
            rc = rdsbk_events_delete_rule(client, name, bus, false);
    }
    return rc;
}

static const char *const s_force_new[] = {"name", "event_bus", NULL};

const struct rdsbk_resource_ops rdsbk_res_events_rule_ops = {
    .type = RDSBK_RT_EVENTS_RULE,
    .read = s_read,
    .create = s_create,
    .update = s_update,
    .remove = s_remove,
    .read_calls = 2,
    .write_calls = 1,
    .force_new = s_force_new,
    .no_diff = rdsbk_res_no_keys,
    .service = "events",
    /* a rule on a custom bus (one that depends on an events_bus) is in it: DeleteEventBus
     * refuses while the bus has rules; the default bus holds no resource of ours */
    .contained = true,
    .container = RDSBK_RT_EVENTS_BUS,
};
