/*
 * events_target {rule, target_id, arn, role_arn?, input?}: one target of a rule on the default bus.
 * The id is "<rule>/<target_id>" ('/' cannot occur in a rule name). Without an id the rule comes
 * from the last known attributes and the target id from them or from the ref's name.
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

/* The rule and target id of `ref` (copies, caller frees). */
static int s_names(char **rule_out, char **target_out, const struct rdsbk_resource_ref *ref) {
    return rdsbk_res_inner_names(rule_out, target_out, ref, '/', "rule", "target_id", false,
                                 S_TYPE);
}

static int s_read(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    char *rule = NULL;
    char *target_id = NULL;
    char *id = NULL;
    cJSON *targets = NULL;
    const cJSON *found = NULL;
    const cJSON *t;
    cJSON *out = NULL;
    int result;

    *actual_out = NULL;
    if (id_out)
        *id_out = NULL;
    result = s_names(&rule, &target_id, ref);
    if (result == 0)
        result = rdsbk_events_list_targets_by_rule(&targets, client, rule, NULL);
    if (result)
        goto cleanup;
    cJSON_ArrayForEach(t, targets) {
        const char *tid = rdsbk_json_str(t, "Id");
        if (tid && strcmp(tid, target_id) == 0)
            found = t;
    }
    if (!found) {
        result = rdsbk_error_set(RDSBK_ENOTFOUND, "rule %s has no target %s", rule, target_id);
        goto cleanup;
    }
    out = cJSON_CreateObject();
    result = out ? rdsbk_strfmt(&id, "%s/%s", rule, target_id) : rdsbk_error_oom();
    if (result == 0)
        result = rdsbk_json_add_str(out, "rule", rule);
    if (result == 0)
        result = rdsbk_json_add_str(out, "target_id", target_id);
    if (result == 0)
        result = rdsbk_json_add_str(out, "arn", rdsbk_json_str(found, "Arn"));
    if (result == 0 && rdsbk_json_str(found, "RoleArn"))
        result = rdsbk_json_add_str(out, "role_arn", rdsbk_json_str(found, "RoleArn"));
    if (result == 0 && rdsbk_json_str(found, "Input")) {
        cJSON *input = NULL;
        result = rdsbk_json_parse(&input, rdsbk_json_str(found, "Input"),
                                  "events:ListTargetsByRule Input");
        if (result == 0)
            result = rdsbk_json_add(out, "input", input);
    }
    if (result == 0)
        result = rdsbk_res_set_id(id_out, id);
    if (result)
        goto cleanup;
    *actual_out = out;
    out = NULL;

cleanup:
    free(rule);
    free(target_id);
    free(id);
    cJSON_Delete(targets);
    cJSON_Delete(out);
    return result;
}

/* A refusal that a bus policy still propagating explains. */
static bool s_not_admitted_yet(int rc) {
    const struct rdsbk_error *err = rdsbk_error_last();

    return rc != 0 && (strncmp(err->aws_code, "AccessDenied", 12) == 0 ||
                       strstr(err->message, "does not allow") != NULL ||
                       strstr(err->message, "not authorized") != NULL);
}

/* PutTargets creates and replaces alike. */
static int s_put(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                 const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    const char *rule = NULL;
    const char *target_id = NULL;
    const char *arn = NULL;
    const char *role_arn = rdsbk_json_str(desired, "role_arn");
    struct rdsbk_backoff b;
    cJSON *targets = cJSON_CreateArray();
    cJSON *target = cJSON_CreateObject();
    char *id = NULL;
    int result;

    *actual_out = NULL;
    if (id_out)
        *id_out = NULL;
    if (!targets || !target || !cJSON_AddItemToArray(targets, target)) {
        cJSON_Delete(target);
        result = rdsbk_error_oom();
        goto cleanup;
    }
    result = rdsbk_res_require(&rule, desired, "rule", S_TYPE);
    if (result == 0)
        result = rdsbk_res_require(&target_id, desired, "target_id", S_TYPE);
    if (result == 0)
        result = rdsbk_res_require(&arn, desired, "arn", S_TYPE);
    if (result == 0)
        result = rdsbk_json_add_str(target, "Id", target_id);
    if (result == 0)
        result = rdsbk_json_add_str(target, "Arn", arn);
    if (result == 0 && role_arn && *role_arn)
        result = rdsbk_json_add_str(target, "RoleArn", role_arn);
    if (result == 0 && cJSON_GetObjectItemCaseSensitive(desired, "input")) {
        /* a constant event for the target instead of the matched one (the sweep) */
        char *input = NULL;
        result = rdsbk_json_text(&input, cJSON_GetObjectItemCaseSensitive(desired, "input"));
        if (result == 0)
            result = rdsbk_json_add_str(target, "Input", input);
        free(input);
    }
    if (result)
        goto cleanup;
    rdsbk_backoff_init(&b, 1000, 8000, 2.0, S_PERMISSION_RETRY_MS);
    for (;;) {
        result = rdsbk_events_put_targets(client, rule, NULL, targets);
        if (!s_not_admitted_yet(result) ||
            !rdsbk_res_backoff_wait(&b,
                                    "events:PutTargets %s/%s refused (%s); the destination may "
                                    "not admit us yet",
                                    rule, target_id, rdsbk_error_last()->message))
            break;
    }
    if (result)
        goto cleanup;
    rdsbk_log_verbose("put target %s of EventBridge rule %s -> %s", target_id, rule, arn);
    result = rdsbk_strfmt(&id, "%s/%s", rule, target_id);
    if (result == 0)
        result = rdsbk_res_written(actual_out, id_out, desired, id, NULL, NULL);

cleanup:
    cJSON_Delete(targets);
    free(id);
    return result;
}

static int s_create(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    return s_put(actual_out, id_out, client, ref, desired);
}

static int s_update(cJSON **actual_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired,
                    const cJSON *actual) {
    (void)actual;
    return s_put(actual_out, NULL, client, ref, desired);
}

static int s_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    char *rule = NULL;
    char *target_id = NULL;
    int result = s_names(&rule, &target_id, ref);

    if (result == 0) {
        const char *ids[] = {target_id};
        result = rdsbk_events_remove_targets(client, rule, NULL, ids, 1, false);
    }
    /* a rule gone took its targets along: RDSBK_ENOTFOUND */
    free(rule);
    free(target_id);
    return result;
}

static const char *const s_force_new[] = {"rule", "target_id", NULL};
static const char *const s_no_diff[] = {NULL};

const struct rdsbk_resource_ops rdsbk_res_events_target_ops = {
    .type = RDSBK_RT_EVENTS_TARGET,
    .read = s_read,
    .create = s_create,
    .update = s_update,
    .remove = s_remove,
    .read_calls = 1,
    .write_calls = 1,
    .force_new = s_force_new,
    .no_diff = s_no_diff,
    .service = "events",
    .contained = true,
    .container = RDSBK_RT_EVENTS_RULE,
};
