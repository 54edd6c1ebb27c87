/*
 * events_target {rule, event_bus?, target_id, arn, role_arn?, input?}: one target of a rule on the
 * default bus, or on the custom bus `event_bus`. The id is "<rule>/<target_id>" ('/' cannot occur
 * in a rule name); the bus comes from the last known attributes. Without an id the rule comes
 * from them too, and the target id from them or from the ref's name.
 *
 * PutTargets answers 200 with per-entry failures; the service module turns the first into an
 * error. A target on another account's bus is refused until that bus's policy admits us, which
 * may still be propagating right after its PutPermission: such refusals are retried.
 */
#include "resources_internal.h"

#include "rdsbk/error.h"
#include "rdsbk/log.h"
#include "rdsbk/services/events.h"

#include <stdlib.h>
#include <string.h>

#define S_TYPE "events_target"
#define S_PERMISSION_RETRY_MS 30000L

static const struct rdsbk_res_inner s_inner = {S_TYPE, '/', "rule", "target_id", false};

/* The attributes from a ListTargetsByRule entry, but the names. */
static const struct rdsbk_res_attr s_attrs[] = {
    {"arn", "Arn", RDSBK_RES_STR, 0},
    {"role_arn", "RoleArn", RDSBK_RES_OPT_STR, 0},
    {"input", "Input", RDSBK_RES_OPT_JSON, 0},
    {NULL, NULL, RDSBK_RES_STR, 0},
};

static int s_read(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    const char *bus = rdsbk_res_event_bus(ref->attributes);
    struct rdsbk_res_names names;
    cJSON *targets = NULL;
    const cJSON *found;
    cJSON *out = NULL;
    int rc;

    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(rdsbk_res_names_of(&names, ref, &s_inner));
    RDSBK_TRY(rdsbk_events_list_targets_by_rule(&targets, client, names.outer, bus));
    found = rdsbk_res_find(targets, "Id", names.inner);
    if (!found) {
        rc = rdsbk_error_set(RDSBK_ENOTFOUND, "rule %s has no target %s", names.outer, names.inner);
        goto cleanup;
    }
    RDSBK_TRY(rdsbk_res_names_attrs(&out, &names, &s_inner));
    if (bus)
        RDSBK_TRY(rdsbk_json_add_str(out, "event_bus", bus));
    RDSBK_TRY(rdsbk_res_add_attrs(out, found, s_attrs, "events:ListTargetsByRule"));
    rc = rdsbk_res_found(actual_out, id_out, &out, names.id);

cleanup:
    rdsbk_res_names_clean_up(&names);
    cJSON_Delete(targets);
    cJSON_Delete(out);
    return rc;
}

/* A refusal that a bus policy still propagating explains. */
static bool s_not_admitted_yet(int rc) {
    const struct rdsbk_error *err = rdsbk_error_last();

    return rc != 0 && (strncmp(err->aws_code, "AccessDenied", 12) == 0 ||
                       strstr(err->message, "does not allow") != NULL ||
                       strstr(err->message, "not authorized") != NULL);
}

/* The PutTargets list of the desired target `target_id`: [{Id, Arn, RoleArn?, Input?}] (caller
 * deletes). */
static int s_targets(cJSON **targets_out, const char *target_id, const cJSON *desired) {
    const char *role_arn = rdsbk_json_str(desired, "role_arn");
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(desired, "input");
    const char *arn = NULL;
    char *input_text = NULL;
    cJSON *targets = cJSON_CreateArray();
    cJSON *entry = cJSON_CreateObject();
    int rc;

    *targets_out = NULL;
    RDSBK_CHECK_ALLOC(targets);
    RDSBK_CHECK_ALLOC(entry);
    RDSBK_TRY(rdsbk_res_require(&arn, desired, "arn", S_TYPE));
    RDSBK_TRY(rdsbk_json_add_str(entry, "Id", target_id));
    RDSBK_TRY(rdsbk_json_add_str(entry, "Arn", arn));
    if (role_arn && *role_arn)
        RDSBK_TRY(rdsbk_json_add_str(entry, "RoleArn", role_arn));
    if (input) {
        /* a constant event for the target instead of the matched one (the sweep) */
        RDSBK_TRY(rdsbk_json_text(&input_text, input));
        RDSBK_TRY(rdsbk_json_add_str(entry, "Input", input_text));
    }
    if (!cJSON_AddItemToArray(targets, entry)) {
        rc = rdsbk_error_oom();
        goto cleanup;
    }
    entry = NULL;
    *targets_out = targets;
    targets = NULL;

cleanup:
    free(input_text);
    cJSON_Delete(entry);
    cJSON_Delete(targets);
    return rc;
}

/* PutTargets creates and replaces alike: an update writes it again (rdsbk_res_rewrite). */
static int s_create(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    const char *rule = NULL;
    const char *target_id = NULL;
    struct rdsbk_backoff b;
    cJSON *targets = NULL;
    int rc;

    (void)ref;
    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(rdsbk_res_inner_require(&rule, &target_id, desired, &s_inner));
    RDSBK_TRY(s_targets(&targets, target_id, desired));
    rdsbk_backoff_init(&b, 1000, 8000, 2.0, S_PERMISSION_RETRY_MS);
    for (;;) {
        rc = rdsbk_events_put_targets(client, rule, rdsbk_res_event_bus(desired), targets);
        if (!s_not_admitted_yet(rc) ||
            !rdsbk_res_backoff_wait(&b,
                                    "events:PutTargets %s/%s refused (%s); the destination may "
                                    "not admit us yet",
                                    rule, target_id, rdsbk_error_last()->message))
            break;
    }
    if (rc)
        goto cleanup;
    rdsbk_log_verbose("put target %s of EventBridge rule %s -> %s", target_id, rule,
                      rdsbk_json_str(desired, "arn"));
    rc = rdsbk_res_inner_written(actual_out, id_out, desired, &s_inner);

cleanup:
    cJSON_Delete(targets);
    return rc;
}

static int s_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    struct rdsbk_res_names names;
    const char *ids[1];
    int rc;

    RDSBK_TRY(rdsbk_res_names_of(&names, ref, &s_inner));
    ids[0] = names.inner;
    /* a rule gone took its targets along: RDSBK_ENOTFOUND */
    rc = rdsbk_events_remove_targets(client, names.outer, rdsbk_res_event_bus(ref->attributes), ids,
                                     1, false);

cleanup:
    rdsbk_res_names_clean_up(&names);
    return rc;
}

static const char *const s_force_new[] = {"rule", "event_bus", "target_id", NULL};

const struct rdsbk_resource_ops rdsbk_res_events_target_ops = {
    .type = RDSBK_RT_EVENTS_TARGET,
    .read = s_read,
    .create = s_create,
    .update = rdsbk_res_rewrite,
    .remove = s_remove,
    .read_calls = 1,
    .write_calls = 1,
    .force_new = s_force_new,
    .no_diff = rdsbk_res_no_keys,
    .service = "events",
    .contained = true,
    .container = RDSBK_RT_EVENTS_RULE,
};
