/*
 * events_permission {statement_id, principal, action}: one statement of the default event bus's
 * resource policy (PutPermission / RemovePermission). The id is the statement id. Read back from
 * DescribeEventBus's Policy: the principal as the account id ("arn:aws:iam::A:root" -> "A") or
 * "*", the action as written.
 *
 * The pipeline no longer makes these (the backup account's bus is the stack's own, events_bus,
 * its policy written whole); the type remains so that a state written before deletes them.
 */
#include "resources_internal.h"

#include "rdsbk/error.h"
#include "rdsbk/log.h"
#include "rdsbk/services/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_TYPE "events_permission"

static const char *s_sid(const struct rdsbk_resource_ref *ref) {
    const char *sid = rdsbk_json_str(ref->attributes, "statement_id");

    if (ref->id && *ref->id)
        sid = ref->id;
    return sid ? sid : ref->name;
}

/* "arn:<partition>:iam::<account>:root" -> "<account>" into `out`; anything else as is. */
static void s_principal_account(char *out, size_t size, const char *principal) {
    const char *p = principal;
    size_t n;

    if (strncmp(p, "arn:", 4) == 0) {
        const char *iam = strstr(p, ":iam::");
        const char *root = iam ? strstr(iam + 6, ":root") : NULL;
        if (root && root[5] == '\0') {
            n = (size_t)(root - (iam + 6));
            if (n >= size)
                n = size - 1;
            memcpy(out, iam + 6, n);
            out[n] = '\0';
            return;
        }
    }
    snprintf(out, size, "%s", p);
}

/* The principal of a policy statement as PutPermission takes it ("*" or an account id). */
static void s_statement_principal(char *out, size_t size, const cJSON *statement) {
    const cJSON *principal = cJSON_GetObjectItemCaseSensitive(statement, "Principal");
    const cJSON *aws = cJSON_GetObjectItemCaseSensitive(principal, "AWS");

    out[0] = '\0';
    if (cJSON_IsString(principal))
        s_principal_account(out, size, principal->valuestring);
    else if (cJSON_IsArray(aws) && cJSON_IsString(cJSON_GetArrayItem(aws, 0)))
        s_principal_account(out, size, cJSON_GetArrayItem(aws, 0)->valuestring);
    else if (cJSON_IsString(aws))
        s_principal_account(out, size, aws->valuestring);
}

/* The default bus's policy document; RDSBK_ENOTFOUND when it has none. */
static int s_fetch_bus_policy(char **text_out, struct rdsbk_client *client, const char *bus_name) {
    cJSON *bus = NULL;
    const char *policy;
    int rc;

    RDSBK_TRY(rdsbk_events_describe_event_bus(&bus, client, bus_name));
    policy = rdsbk_json_str(bus, "Policy");
    if (!policy) {
        rc = rdsbk_error_set(RDSBK_ENOTFOUND, "the default event bus has no policy");
        goto cleanup;
    }
    rc = rdsbk_strdup_into(text_out, policy);

cleanup:
    cJSON_Delete(bus);
    return rc;
}

/* The policy of the default event bus in ref's account and Region, through ref->memo (fetched
 * once for all the statements of a refresh); *text_out (caller frees) NULL when it has none. */
static int s_bus_policy(char **text_out, struct rdsbk_client *client,
                        const struct rdsbk_resource_ref *ref) {
    char *key = NULL;
    int rc;

    *text_out = NULL;
    RDSBK_TRY(
        rdsbk_strfmt(&key, "%s/%s/events:DescribeEventBus/default", ref->account, ref->region));
    rc = rdsbk_res_memo_text(text_out, ref->memo, s_fetch_bus_policy, client, NULL, key);
    if (rc == RDSBK_ENOTFOUND) {
        /* no policy: NULL, as documented */
        rdsbk_error_clear();
        rc = 0;
    }

cleanup:
    free(key);
    return rc;
}

static int s_read(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    const char *sid = s_sid(ref);
    char *text = NULL;
    cJSON *policy = NULL;
    const cJSON *found;
    const cJSON *action;
    cJSON *out = NULL;
    char principal[160];
    int rc;

    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(s_bus_policy(&text, client, ref));
    if (!text) {
        rc = rdsbk_error_set(RDSBK_ENOTFOUND, "the default event bus has no policy");
        goto cleanup;
    }
    RDSBK_TRY(rdsbk_json_parse(&policy, text, "events:DescribeEventBus Policy"));
    found = rdsbk_res_find(cJSON_GetObjectItemCaseSensitive(policy, "Statement"), "Sid", sid);
    if (!found) {
        rc = rdsbk_error_set(RDSBK_ENOTFOUND, "the default event bus has no statement %s", sid);
        goto cleanup;
    }
    s_statement_principal(principal, sizeof(principal), found);
    action = cJSON_GetObjectItemCaseSensitive(found, "Action");
    if (cJSON_IsArray(action) && cJSON_GetArraySize(action) == 1)
        action = cJSON_GetArrayItem(action, 0);
    out = cJSON_CreateObject();
    RDSBK_CHECK_ALLOC(out);
    RDSBK_TRY(rdsbk_json_add_str(out, "statement_id", sid));
    RDSBK_TRY(rdsbk_json_add_str(out, "principal", principal));
    RDSBK_TRY(rdsbk_json_add(out, "action", cJSON_Duplicate(action, true)));
    rc = rdsbk_res_found(actual_out, id_out, &out, sid);

cleanup:
    free(text);
    cJSON_Delete(policy);
    cJSON_Delete(out);
    return rc;
}

/* PutPermission; an update replaces the statement whole (rdsbk_res_replace). */
static int s_create(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    struct rdsbk_events_put_permission_input in = {0};
    int rc;

    (void)ref;
    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(rdsbk_res_require(&in.statement_id, desired, "statement_id", S_TYPE));
    RDSBK_TRY(rdsbk_res_require(&in.principal, desired, "principal", S_TYPE));
    RDSBK_TRY(rdsbk_res_require(&in.action, desired, "action", S_TYPE));
    RDSBK_TRY(rdsbk_events_put_permission(client, &in));
    rdsbk_log_verbose("event bus admits %s (%s, statement %s)", in.principal, in.action,
                      in.statement_id);
    rc = rdsbk_res_written(actual_out, id_out, desired, in.statement_id, NULL, NULL);

cleanup:
    return rc;
}

static int s_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    return rdsbk_events_remove_permission(client, s_sid(ref), NULL, false);
}

static const char *const s_force_new[] = {"statement_id", NULL};

const struct rdsbk_resource_ops rdsbk_res_events_permission_ops = {
    .type = RDSBK_RT_EVENTS_PERMISSION,
    .read = s_read,
    .create = s_create,
    .update = rdsbk_res_replace,
    .remove = s_remove,
    .read_calls = 1,
    .write_calls = 1,
    .force_new = s_force_new,
    .no_diff = rdsbk_res_no_keys,
    .service = "events",
};
