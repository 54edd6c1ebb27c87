#include "rdsbk/services/events.h"
#include "rdsbk/error.h"
#include "services/svc.h"

#include <stdlib.h>
#include <string.h>

#define S_PREFIX "AWSEvents"

/* Calls `op` with `input` (consumed); *out (may be NULL) receives the reply. */
static int s_call(cJSON **out, struct rdsbk_client *client, const char *op, cJSON *input, int rc) {
    return rdsbk_svc_json_call(out, client, "events", S_PREFIX, op, input, rc);
}

static int s_paginate(cJSON **out, struct rdsbk_client *client, const char *op, cJSON *input,
                      const char *list_field, int rc) {
    struct rdsbk_service_ctx ctx;

    *out = NULL;
    if (rc == 0 && !input)
        rc = rdsbk_error_oom();
    if (rc == 0)
        rc = rdsbk_client_service_ctx(&ctx, client, "events");
    if (rc == 0)
        rc = rdsbk_svc_json_paginate(out, &ctx, S_PREFIX, op, input, "NextToken", "NextToken",
                                     list_field);
    cJSON_Delete(input);
    return rc;
}

/* {"<name_field>": name, "EventBusName": bus} */
static cJSON *s_named(const char *name_field, const char *name, const char *bus, int *rc) {
    cJSON *in = cJSON_CreateObject();

    *rc = 0;
    if (in)
        *rc = rdsbk_json_add_opt_str(in, name_field, name);
    if (in && *rc == 0)
        *rc = rdsbk_json_add_opt_str(in, "EventBusName", bus);
    return in;
}

int rdsbk_events_put_rule(char **rule_arn_out, struct rdsbk_client *client,
                          const struct rdsbk_events_put_rule_input *in) {
    cJSON *reply = NULL;
    int rc;
    cJSON *input = s_named("Name", in->name, in->bus, &rc);

    if (rule_arn_out)
        *rule_arn_out = NULL;
    if (input && rc == 0)
        rc = rdsbk_json_add_opt_str(input, "EventPattern", in->event_pattern);
    if (input && rc == 0)
        rc = rdsbk_json_add_opt_str(input, "ScheduleExpression", in->schedule_expression);
    if (input && rc == 0)
        rc = rdsbk_json_add_opt_str(input, "State", in->state);
    if (input && rc == 0)
        rc = rdsbk_json_add_opt_str(input, "Description", in->description);
    if (input && rc == 0)
        rc = rdsbk_json_add_opt_str(input, "RoleArn", in->role_arn);
    if (input && rc == 0 && in->n_tags)
        rc = rdsbk_json_add(input, "Tags",
                            rdsbk_json_tags_list(in->tags, in->n_tags, "Key", "Value"));
    rc = s_call(&reply, client, "PutRule", input, rc);
    if (rc == 0 && rule_arn_out)
        rc = rdsbk_json_dup_str(rule_arn_out, reply, "RuleArn");
    cJSON_Delete(reply);
    return rc;
}

int rdsbk_events_describe_rule(cJSON **out, struct rdsbk_client *client, const char *name,
                               const char *bus) {
    int rc;
    cJSON *input = s_named("Name", name, bus, &rc);

    return s_call(out, client, "DescribeRule", input, rc);
}

int rdsbk_events_delete_rule(struct rdsbk_client *client, const char *name, const char *bus,
                             bool force) {
    int rc;
    cJSON *input = s_named("Name", name, bus, &rc);

    if (input && rc == 0 && force)
        rc = rdsbk_json_add(input, "Force", cJSON_CreateTrue());
    return s_call(NULL, client, "DeleteRule", input, rc);
}

int rdsbk_events_list_rules(cJSON **rules_out, struct rdsbk_client *client, const char *name_prefix,
                            const char *bus) {
    int rc;
    cJSON *input = s_named("NamePrefix", name_prefix, bus, &rc);

    return s_paginate(rules_out, client, "ListRules", input, "Rules", rc);
}

int rdsbk_events_put_targets(struct rdsbk_client *client, const char *rule, const char *bus,
                             const cJSON *targets) {
    cJSON *reply = NULL;
    int rc;
    cJSON *input = s_named("Rule", rule, bus, &rc);

    if (input && rc == 0)
        rc = rdsbk_json_add(input, "Targets", cJSON_Duplicate(targets, true));
    rc = s_call(&reply, client, "PutTargets", input, rc);
    if (rc == 0)
        rc = rdsbk_svc_json_failed_entries(reply, "FailedEntries", "events:PutTargets");
    cJSON_Delete(reply);
    return rc;
}

int rdsbk_events_remove_targets(struct rdsbk_client *client, const char *rule, const char *bus,
                                const char *const *ids, size_t n, bool force) {
    cJSON *reply = NULL;
    int rc;
    cJSON *input = s_named("Rule", rule, bus, &rc);

    if (input && rc == 0)
        rc = rdsbk_json_add_strs(input, "Ids", ids, n);
    if (input && rc == 0 && force)
        rc = rdsbk_json_add(input, "Force", cJSON_CreateTrue());
    rc = s_call(&reply, client, "RemoveTargets", input, rc);
    if (rc == 0)
        rc = rdsbk_svc_json_failed_entries(reply, "FailedEntries", "events:RemoveTargets");
    cJSON_Delete(reply);
    return rc;
}

int rdsbk_events_list_targets_by_rule(cJSON **targets_out, struct rdsbk_client *client,
                                      const char *rule, const char *bus) {
    int rc;
    cJSON *input = s_named("Rule", rule, bus, &rc);

    return s_paginate(targets_out, client, "ListTargetsByRule", input, "Targets", rc);
}

int rdsbk_events_put_permission(struct rdsbk_client *client,
                                const struct rdsbk_events_put_permission_input *in) {
    int rc;
    cJSON *input = s_named("StatementId", in->statement_id, in->bus, &rc);

    if (input && rc == 0)
        rc = rdsbk_json_add_opt_str(input, "Policy", in->policy);
    if (input && rc == 0)
        rc = rdsbk_json_add_opt_str(input, "Principal", in->principal);
    if (input && rc == 0)
        rc = rdsbk_json_add_opt_str(input, "Action", in->action);
    if (input && rc == 0 && in->condition)
        rc = rdsbk_json_add(input, "Condition", cJSON_Duplicate(in->condition, true));
    return s_call(NULL, client, "PutPermission", input, rc);
}

int rdsbk_events_remove_permission(struct rdsbk_client *client, const char *statement_id,
                                   const char *bus, bool remove_all) {
    int rc;
    cJSON *input = s_named("StatementId", statement_id, bus, &rc);

    if (input && rc == 0 && remove_all)
        rc = rdsbk_json_add(input, "RemoveAllPermissions", cJSON_CreateTrue());
    return s_call(NULL, client, "RemovePermission", input, rc);
}

int rdsbk_events_describe_event_bus(cJSON **out, struct rdsbk_client *client, const char *bus) {
    cJSON *input = cJSON_CreateObject();
    int rc = input ? rdsbk_json_add_opt_str(input, "Name", bus) : 0;

    return s_call(out, client, "DescribeEventBus", input, rc);
}

int rdsbk_events_put_events(cJSON **out, struct rdsbk_client *client, const cJSON *entries) {
    cJSON *input = cJSON_CreateObject();
    cJSON *reply = NULL;
    int rc = 0;

    if (out)
        *out = NULL;
    if (input)
        rc = rdsbk_json_add(input, "Entries", cJSON_Duplicate(entries, true));
    rc = s_call(&reply, client, "PutEvents", input, rc);
    if (rc == 0)
        rc = rdsbk_svc_json_failed_entries(reply, "Entries", "events:PutEvents");
    if (rc == 0 && out) {
        *out = reply;
        reply = NULL;
    }
    cJSON_Delete(reply);
    return rc;
}

int rdsbk_events_test_event_pattern(bool *matches, struct rdsbk_client *client, const char *pattern,
                                    const char *event) {
    cJSON *input = cJSON_CreateObject();
    cJSON *reply = NULL;
    const cJSON *result;
    int rc = 0;

    *matches = false;
    if (input)
        rc = rdsbk_json_add_opt_str(input, "EventPattern", pattern);
    if (input && rc == 0)
        rc = rdsbk_json_add_opt_str(input, "Event", event);
    rc = s_call(&reply, client, "TestEventPattern", input, rc);
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
    int rc;
    cJSON *input = s_named("ResourceARN", arn, NULL, &rc);

    if (input && rc == 0)
        rc = rdsbk_json_add(input, "Tags", rdsbk_json_tags_list(tags, n, "Key", "Value"));
    return s_call(NULL, client, "TagResource", input, rc);
}

int rdsbk_events_untag_resource(struct rdsbk_client *client, const char *arn,
                                const char *const *keys, size_t n) {
    int rc;
    cJSON *input = s_named("ResourceARN", arn, NULL, &rc);

    if (input && rc == 0)
        rc = rdsbk_json_add_strs(input, "TagKeys", keys, n);
    return s_call(NULL, client, "UntagResource", input, rc);
}

int rdsbk_events_list_tags_for_resource(struct rdsbk_tag **out, size_t *n_out,
                                        struct rdsbk_client *client, const char *arn) {
    cJSON *reply = NULL;
    int rc;
    cJSON *input = s_named("ResourceARN", arn, NULL, &rc);

    *out = NULL;
    *n_out = 0;
    rc = s_call(&reply, client, "ListTagsForResource", input, rc);
    if (rc == 0)
        rc = rdsbk_json_tags_parse(out, n_out, cJSON_GetObjectItemCaseSensitive(reply, "Tags"),
                                   "Key", "Value");
    cJSON_Delete(reply);
    return rc;
}
