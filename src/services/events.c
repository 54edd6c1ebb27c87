/*
 * EventBridge (awsJson1.1, AWSEvents): rules and their targets, the event bus's permissions, test
 * events and tags. Requests are named members, most on a given bus; structured replies go back to
 * the caller as cJSON. Batch calls report per-entry failures as errors.
 */
#include "rdsbk/services/events.h"
#include "rdsbk/error.h"
#include "services/svc.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct rdsbk_svc_json_api s_api = {
    .service = "events",
    .prefix = "AWSEvents",
    .token_in = "NextToken",
    .token_out = "NextToken",
    .tag_key = "Key",
    .tag_value = "Value",
};

/* `op` with `input` (consumed) unless `rc` is already an error; *out (may be NULL) the reply. */
static int s_send(cJSON **out, struct rdsbk_client *client, const char *op, cJSON *input, int rc) {
    return rdsbk_svc_json_call(out, client, s_api.service, s_api.prefix, op, input, rc);
}

#define S_RULE(m) offsetof(struct rdsbk_events_put_rule_input, m)
static const struct rdsbk_field s_put_rule_input[] = {
    RDSBK_FIELD(STR, "Name", S_RULE(name)),
    RDSBK_FIELD(STR, "EventBusName", S_RULE(bus)),
    RDSBK_FIELD(STR, "EventPattern", S_RULE(event_pattern)),
    RDSBK_FIELD(STR, "ScheduleExpression", S_RULE(schedule_expression)),
    RDSBK_FIELD(STR, "State", S_RULE(state)),
    RDSBK_FIELD(STR, "Description", S_RULE(description)),
    RDSBK_FIELD(STR, "RoleArn", S_RULE(role_arn)),
    RDSBK_FIELD_N(TAGS, "Tags", S_RULE(tags), S_RULE(n_tags), "Key", "Value"),
    RDSBK_FIELD_END,
};

/* `op` with the string members `args` and, unless NULL, the member `flag` set to true; *out (may
 * be NULL) receives the reply. */
static int s_call(cJSON **out, struct rdsbk_client *client, const char *op,
                  const struct rdsbk_arg *args, const char *flag) {
    cJSON *input = NULL;
    int rc = rdsbk_svc_json_input(&input, args, NULL, NULL);

    if (rc == 0 && flag)
        rc = rdsbk_json_add(input, flag, cJSON_CreateTrue());
    return s_send(out, client, op, input, rc);
}

/* A batch call: `op` with `input` (consumed unless `rc` is an error already), a failed entry of
 * the reply's `entries_field` an error; *out (may be NULL) receives the reply. */
static int s_batch(cJSON **out, struct rdsbk_client *client, const char *op, cJSON *input, int rc,
                   const char *entries_field) {
    cJSON *reply = NULL;
    char what[128];

    if (out)
        *out = NULL;
    snprintf(what, sizeof(what), "events:%s", op);
    rc = s_send(&reply, client, op, input, rc);
    if (rc == 0)
        rc = rdsbk_svc_json_failed_entries(reply, entries_field, what);
    if (rc == 0 && out) {
        *out = reply;
        reply = NULL;
    }
    cJSON_Delete(reply);
    return rc;
}

/* A listing of `op` with the string members `args`, all pages. */
static int s_list(cJSON **out, struct rdsbk_client *client, const char *op,
                  const struct rdsbk_arg *args, const char *list_field) {
    cJSON *input = NULL;
    int rc = rdsbk_svc_json_input(&input, args, NULL, NULL);

    return rdsbk_svc_json_list(out, client, &s_api, op, input, rc, list_field);
}

int rdsbk_events_put_rule(char **rule_arn_out, struct rdsbk_client *client,
                          const struct rdsbk_events_put_rule_input *in) {
    cJSON *input = NULL;
    cJSON *reply = NULL;
    int rc = rdsbk_svc_json_input(&input, NULL, s_put_rule_input, in);

    if (rule_arn_out)
        *rule_arn_out = NULL;
    rc = s_send(&reply, client, "PutRule", input, rc);
    if (rc == 0 && rule_arn_out)
        rc = rdsbk_json_dup_str(rule_arn_out, reply, "RuleArn");
    cJSON_Delete(reply);
    return rc;
}

int rdsbk_events_describe_rule(cJSON **out, struct rdsbk_client *client, const char *name,
                               const char *bus) {
    const struct rdsbk_arg args[] = {{"Name", name}, {"EventBusName", bus}, {NULL, NULL}};

    return s_call(out, client, "DescribeRule", args, NULL);
}

int rdsbk_events_delete_rule(struct rdsbk_client *client, const char *name, const char *bus,
                             bool force) {
    const struct rdsbk_arg args[] = {{"Name", name}, {"EventBusName", bus}, {NULL, NULL}};

    return s_call(NULL, client, "DeleteRule", args, force ? "Force" : NULL);
}

int rdsbk_events_list_rules(cJSON **rules_out, struct rdsbk_client *client, const char *name_prefix,
                            const char *bus) {
    const struct rdsbk_arg args[] = {
        {"NamePrefix", name_prefix}, {"EventBusName", bus}, {NULL, NULL}};

    return s_list(rules_out, client, "ListRules", args, "Rules");
}

int rdsbk_events_put_targets(struct rdsbk_client *client, const char *rule, const char *bus,
                             const cJSON *targets) {
    const struct rdsbk_arg args[] = {{"Rule", rule}, {"EventBusName", bus}, {NULL, NULL}};
    cJSON *input = NULL;
    int rc = rdsbk_svc_json_input(&input, args, NULL, NULL);

    if (rc == 0)
        rc = rdsbk_json_add(input, "Targets", cJSON_Duplicate(targets, true));
    return s_batch(NULL, client, "PutTargets", input, rc, "FailedEntries");
}

int rdsbk_events_remove_targets(struct rdsbk_client *client, const char *rule, const char *bus,
                                const char *const *ids, size_t n, bool force) {
    const struct rdsbk_arg args[] = {{"Rule", rule}, {"EventBusName", bus}, {NULL, NULL}};
    cJSON *input = NULL;
    int rc = rdsbk_svc_json_input(&input, args, NULL, NULL);

    if (rc == 0)
        rc = rdsbk_json_add_strs(input, "Ids", ids, n);
    if (rc == 0 && force)
        rc = rdsbk_json_add(input, "Force", cJSON_CreateTrue());
    return s_batch(NULL, client, "RemoveTargets", input, rc, "FailedEntries");
}

int rdsbk_events_list_targets_by_rule(cJSON **targets_out, struct rdsbk_client *client,
                                      const char *rule, const char *bus) {
    const struct rdsbk_arg args[] = {{"Rule", rule}, {"EventBusName", bus}, {NULL, NULL}};

    return s_list(targets_out, client, "ListTargetsByRule", args, "Targets");
}

int rdsbk_events_put_permission(struct rdsbk_client *client,
                                const struct rdsbk_events_put_permission_input *in) {
    const struct rdsbk_arg args[] = {
        {"StatementId", in->statement_id}, {"EventBusName", in->bus}, {"Policy", in->policy},
        {"Principal", in->principal},      {"Action", in->action},    {NULL, NULL}};
    cJSON *input = NULL;
    int rc = rdsbk_svc_json_input(&input, args, NULL, NULL);

    if (rc == 0 && in->condition)
        rc = rdsbk_json_add(input, "Condition", cJSON_Duplicate(in->condition, true));
    return s_send(NULL, client, "PutPermission", input, rc);
}

int rdsbk_events_remove_permission(struct rdsbk_client *client, const char *statement_id,
                                   const char *bus, bool remove_all) {
    const struct rdsbk_arg args[] = {
        {"StatementId", statement_id}, {"EventBusName", bus}, {NULL, NULL}};

    return s_call(NULL, client, "RemovePermission", args,
                  remove_all ? "RemoveAllPermissions" : NULL);
}

#define S_BUS(m) offsetof(struct rdsbk_events_create_event_bus_input, m)
static const struct rdsbk_field s_create_event_bus_input[] = {
    RDSBK_FIELD(STR, "Name", S_BUS(name)),
    RDSBK_FIELD_N(TAGS, "Tags", S_BUS(tags), S_BUS(n_tags), "Key", "Value"),
    RDSBK_FIELD_END,
};

int rdsbk_events_create_event_bus(char **arn_out, struct rdsbk_client *client,
                                  const struct rdsbk_events_create_event_bus_input *in) {
    cJSON *input = NULL;
    cJSON *reply = NULL;
    int rc = rdsbk_svc_json_input(&input, NULL, s_create_event_bus_input, in);

    *arn_out = NULL;
    rc = s_send(&reply, client, "CreateEventBus", input, rc);
    if (rc == 0)
        rc = rdsbk_svc_json_take_str(arn_out, reply, "EventBusArn", "events:CreateEventBus");
    cJSON_Delete(reply);
    return rc;
}

int rdsbk_events_delete_event_bus(struct rdsbk_client *client, const char *name) {
    const struct rdsbk_arg args[] = {{"Name", name}, {NULL, NULL}};

    return s_call(NULL, client, "DeleteEventBus", args, NULL);
}

int rdsbk_events_describe_event_bus(cJSON **out, struct rdsbk_client *client, const char *bus) {
    const struct rdsbk_arg args[] = {{"Name", bus}, {NULL, NULL}};

    return s_call(out, client, "DescribeEventBus", args, NULL);
}

int rdsbk_events_put_events(cJSON **out, struct rdsbk_client *client, const cJSON *entries) {
    cJSON *input = NULL;
    int rc = rdsbk_svc_json_input(&input, NULL, NULL, NULL);

    if (rc == 0)
        rc = rdsbk_json_add(input, "Entries", cJSON_Duplicate(entries, true));
    return s_batch(out, client, "PutEvents", input, rc, "Entries");
}

int rdsbk_events_test_event_pattern(bool *matches, struct rdsbk_client *client, const char *pattern,
                                    const char *event) {
    const struct rdsbk_arg args[] = {{"EventPattern", pattern}, {"Event", event}, {NULL, NULL}};
    cJSON *reply = NULL;
    const cJSON *result;
    int rc = s_call(&reply, client, "TestEventPattern", args, NULL);

    *matches = false;
    result = cJSON_GetObjectItemCaseSensitive(reply, "Result");
    if (rc == 0 && !cJSON_IsBool(result))
        rc = rdsbk_error_set(RDSBK_EINVALID, "events:TestEventPattern: no Result in the reply");
    if (rc == 0)
        *matches = cJSON_IsTrue(result);
    cJSON_Delete(reply);
    return rc;
}

int rdsbk_events_tag_resource(struct rdsbk_client *client, const char *arn,
                              const struct rdsbk_tag *tags, size_t n) {
    const struct rdsbk_arg id = {"ResourceARN", arn};

    return rdsbk_svc_json_tag(client, &s_api, &id, tags, n);
}

int rdsbk_events_untag_resource(struct rdsbk_client *client, const char *arn,
                                const char *const *keys, size_t n) {
    const struct rdsbk_arg id = {"ResourceARN", arn};

    return rdsbk_svc_json_untag(client, &s_api, &id, keys, n);
}

int rdsbk_events_list_tags_for_resource(struct rdsbk_tag **out, size_t *n_out,
                                        struct rdsbk_client *client, const char *arn) {
    const struct rdsbk_arg args[] = {{"ResourceARN", arn}, {NULL, NULL}};
    cJSON *reply = NULL;
    int rc = s_call(&reply, client, "ListTagsForResource", args, NULL);

    *out = NULL;
    *n_out = 0;
    if (rc == 0)
        rc = rdsbk_svc_json_tags(out, n_out, &s_api,
                                 cJSON_GetObjectItemCaseSensitive(reply, "Tags"));
    cJSON_Delete(reply);
    return rc;
}
