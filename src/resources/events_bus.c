/*
 * events_bus {name, policy, tags} (+ "arn" when read): a custom event bus and its resource policy,
 * written whole. The backup account receives the stack's "snapshot shared" events on a bus of the
 * stack's own, not on its default bus: a policy written whole can say which events each source
 * account may put (events:source, events:detail-type), which PutPermission's statements cannot,
 * and no other writer of the default bus shares it. The id is the name. Deleting the bus deletes
 * its policy; rules on it are resources of their own, deleted first.
 */
#include "resources_internal.h"

#include "rdsbk/error.h"
#include "rdsbk/log.h"
#include "rdsbk/services/events.h"

#include <stdlib.h>

#define S_TYPE "events_bus"

static const struct rdsbk_res_tagging s_tagging = {S_TYPE, rdsbk_events_list_tags_for_resource,
                                                   rdsbk_events_untag_resource,
                                                   rdsbk_events_tag_resource};

static int s_read(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    const char *name = rdsbk_res_name(ref);
    cJSON *bus = NULL;
    cJSON *out = NULL;
    const char *arn;
    const char *policy;
    int rc;

    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(rdsbk_events_describe_event_bus(&bus, client, name));
    arn = rdsbk_json_str(bus, "Arn");
    policy = rdsbk_json_str(bus, "Policy");
    if (!arn) {
        rc = rdsbk_error_set(RDSBK_EINVALID, "events:DescribeEventBus %s: no Arn in the reply",
                             name);
        goto cleanup;
    }
    out = cJSON_CreateObject();
    RDSBK_CHECK_ALLOC(out);
    RDSBK_TRY(rdsbk_json_add_str(out, "name", name));
    if (policy) /* none: the bus admits its own account only */
        RDSBK_TRY(rdsbk_res_add_parsed(out, "policy", policy, "events:DescribeEventBus Policy"));
    RDSBK_TRY(rdsbk_res_add_listed_tags(out, client, arn, &s_tagging));
    RDSBK_TRY(rdsbk_json_add_str(out, "arn", arn));
    rc = rdsbk_res_found(actual_out, id_out, &out, name);

cleanup:
    cJSON_Delete(bus);
    cJSON_Delete(out);
    return rc;
}

/* PutPermission with the desired policy, whole: it replaces whatever the bus had. */
static int s_put_policy(struct rdsbk_client *client, const char *name, const cJSON *desired) {
    struct rdsbk_events_put_permission_input in = {.bus = name};
    char *policy = NULL;
    int rc;

    RDSBK_TRY(rdsbk_json_text(&policy, cJSON_GetObjectItemCaseSensitive(desired, "policy")));
    in.policy = policy;
    RDSBK_TRY(rdsbk_events_put_permission(client, &in));
    rdsbk_log_verbose("wrote the policy of event bus %s", name);

cleanup:
    free(policy);
    return rc;
}

static int s_create(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    struct rdsbk_events_create_event_bus_input in = {0};
    struct rdsbk_tag *tags = NULL;
    char *arn = NULL;
    int rc;

    (void)ref;
    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(rdsbk_res_require(&in.name, desired, "name", S_TYPE));
    RDSBK_TRY(rdsbk_res_tags_from_json(&tags, &in.n_tags, cJSON_GetObjectItem(desired, "tags")));
    in.tags = tags;
    RDSBK_TRY(rdsbk_events_create_event_bus(&arn, client, &in));
    rdsbk_log_verbose("created event bus %s", in.name);
    RDSBK_TRY(s_put_policy(client, in.name, desired));
    rc = rdsbk_res_written(actual_out, id_out, desired, in.name, "arn", arn);

cleanup:
    rdsbk_aws_tags_free(tags, in.n_tags);
    free(arn);
    return rc;
}

static int s_update(cJSON **actual_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired,
                    const cJSON *actual) {
    const char *name = rdsbk_res_name(ref);
    const char *arn = rdsbk_json_str(actual, "arn");
    int rc = 0;

    *actual_out = NULL;
    if (rdsbk_res_changed(desired, actual, "policy"))
        RDSBK_TRY(s_put_policy(client, name, desired));
    RDSBK_TRY(rdsbk_res_update_tags(client, arn, desired, actual, &s_tagging));
    rc = rdsbk_res_written(actual_out, NULL, desired, name, "arn", arn);

cleanup:
    return rc;
}

static int s_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    return rdsbk_events_delete_event_bus(client, rdsbk_res_name(ref));
}

static const char *const s_force_new[] = {"name", NULL};

const struct rdsbk_resource_ops rdsbk_res_events_bus_ops = {
    .type = RDSBK_RT_EVENTS_BUS,
    .read = s_read,
    .create = s_create,
    .update = s_update,
    .remove = s_remove,
    .read_calls = 2,
    .write_calls = 2,
    .force_new = s_force_new,
    .no_diff = rdsbk_res_no_keys,
    .service = "events",
};
