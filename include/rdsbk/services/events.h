#ifndef RDSBK_SERVICES_EVENTS_H
#define RDSBK_SERVICES_EVENTS_H

#include "rdsbk/client.h"

#include <stdbool.h>

/*
 * EventBridge (awsJson1.1, X-Amz-Target: AWSEvents.<Op>). `bus` NULL means the default event
 * bus. Replies with structures come back as cJSON the caller deletes. Errors:
 * ResourceNotFoundException -> RDSBK_ENOTFOUND, ResourceAlreadyExistsException ->
 * RDSBK_ECONFLICT. PutTargets / RemoveTargets / PutEvents report per-entry failures in a 200
 * reply: these come back as RDSBK_ERROR (or the mapped code) naming the first failed entry's code.
 *
 * Every call returns 0, or a negative rdsbk_error_code with the error set (rdsbk_error_last()
 * keeps the AWS code, HTTP status and request id); on failure its out parameters hold nothing
 * (NULL / zeroed). List calls follow every page and return everything. Nothing is retained
 * between calls; calls on one client may run in parallel.
 */

struct rdsbk_events_put_rule_input {
    const char *name; /* required */
    const char *event_pattern;
    const char *schedule_expression;
    const char *state; /* "ENABLED" / "DISABLED"; NULL: the service default (ENABLED) */
    const char *description;
    const char *role_arn;
    const char *bus;
    const struct rdsbk_tag *tags;
    size_t n_tags;
};

/* PutRule (creates or updates); *rule_arn_out (may be NULL) the rule's ARN. */
int rdsbk_events_put_rule(char **rule_arn_out, struct rdsbk_client *client,
                          const struct rdsbk_events_put_rule_input *in);
/* DescribeRule: the reply object (Name, Arn, EventPattern, State, ...). */
int rdsbk_events_describe_rule(cJSON **out, struct rdsbk_client *client, const char *name,
                               const char *bus);
int rdsbk_events_delete_rule(struct rdsbk_client *client, const char *name, const char *bus,
                             bool force);
/* ListRules, all pages: a cJSON array of rule objects. */
int rdsbk_events_list_rules(cJSON **rules_out, struct rdsbk_client *client, const char *name_prefix,
                            const char *bus);

/* PutTargets: `targets` is a cJSON array of {Id, Arn, RoleArn, Input, ...} (borrowed). */
int rdsbk_events_put_targets(struct rdsbk_client *client, const char *rule, const char *bus,
                             const cJSON *targets);
int rdsbk_events_remove_targets(struct rdsbk_client *client, const char *rule, const char *bus,
                                const char *const *ids, size_t n, bool force);
/* ListTargetsByRule, all pages: a cJSON array of target objects. */
int rdsbk_events_list_targets_by_rule(cJSON **targets_out, struct rdsbk_client *client,
                                      const char *rule, const char *bus);

struct rdsbk_events_put_permission_input {
    const char *bus;
    const char *policy; /* a whole bus policy (JSON); or the four fields below */
    const char *statement_id;
    const char *principal;  /* account id or "*" */
    const char *action;     /* "events:PutEvents" */
    const cJSON *condition; /* {"Type","Key","Value"} or NULL; borrowed */
};

int rdsbk_events_put_permission(struct rdsbk_client *client,
                                const struct rdsbk_events_put_permission_input *in);
int rdsbk_events_remove_permission(struct rdsbk_client *client, const char *statement_id,
                                   const char *bus, bool remove_all);
struct rdsbk_events_create_event_bus_input {
    const char *name; /* required; a custom bus: not "default" */
    const struct rdsbk_tag *tags;
    size_t n_tags;
};

/* CreateEventBus: *arn_out the bus's ARN (caller frees). DeleteEventBus: a custom bus only. */
int rdsbk_events_create_event_bus(char **arn_out, struct rdsbk_client *client,
                                  const struct rdsbk_events_create_event_bus_input *in);
int rdsbk_events_delete_event_bus(struct rdsbk_client *client, const char *name);

/* DescribeEventBus (`bus` a name or ARN; NULL: the default bus): {Name, Arn, Policy (JSON text,
 * absent when none)}. */
int rdsbk_events_describe_event_bus(cJSON **out, struct rdsbk_client *client, const char *bus);

/* PutEvents: `entries` a cJSON array of {Source, DetailType, Detail, EventBusName, ...}; *out
 * (may be NULL) the reply (Entries with EventId). */
int rdsbk_events_put_events(cJSON **out, struct rdsbk_client *client, const cJSON *entries);
/* TestEventPattern. */
int rdsbk_events_test_event_pattern(bool *matches, struct rdsbk_client *client, const char *pattern,
                                    const char *event);

int rdsbk_events_tag_resource(struct rdsbk_client *client, const char *arn,
                              const struct rdsbk_tag *tags, size_t n);
int rdsbk_events_untag_resource(struct rdsbk_client *client, const char *arn,
                                const char *const *keys, size_t n);
/* Free with rdsbk_aws_tags_free. */
int rdsbk_events_list_tags_for_resource(struct rdsbk_tag **out, size_t *n_out,
                                        struct rdsbk_client *client, const char *arn);

#endif
