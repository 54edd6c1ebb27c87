/*
 * events_permission {statement_id, principal, action}: one statement of the default event bus's
 * resource policy (PutPermission / RemovePermission). The id is the statement id. Read back from
 * DescribeEventBus's Policy: the principal as the account id ("arn:aws:iam::A:root" -> "A") or
 * "*", the action as written.
 */
#include "resources_internal.h"

#include "rdsbk/error.h"
#include "rdsbk/log.h"
#include "rdsbk/services/events.h"

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
    int result = rdsbk_events_describe_event_bus(&bus, client, bus_name);

    if (result == 0 && !rdsbk_json_str(bus, "Policy"))
        result = rdsbk_error_set(RDSBK_ENOTFOUND, "the default event bus has no policy");
    if (result == 0) {
        *text_out = strdup(rdsbk_json_str(bus, "Policy"));
        if (!*text_out)
            result = rdsbk_error_oom();
    }
    cJSON_Delete(bus);
    return result;
}

int rdsbk_res_bus_policy(char **text_out, struct rdsbk_client *client,
                         const struct rdsbk_resource_ref *ref) {
    char *key = NULL;
    int result =
        rdsbk_strfmt(&key, "%s/%s/events:DescribeEventBus/default", ref->account, ref->region);

    if (result == 0)
        result = rdsbk_res_memo_text(text_out, ref->memo, s_fetch_bus_policy, client, NULL, key);

    free(key);
    if (result == RDSBK_ENOTFOUND) {
        rdsbk_error_clear();
        *text_out = NULL;
        result = 0;
    }
    return result;
}

static int s_read(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    const char *sid = s_sid(ref);
    char *text = NULL;
    cJSON *policy = NULL;
    const cJSON *found = NULL;
    const cJSON *st;
    const cJSON *action;
    cJSON *out = NULL;
    char principal[160];
    int result;

    *actual_out = NULL;
    if (id_out)
        *id_out = NULL;
    result = rdsbk_res_bus_policy(&text, client, ref);
    if (result == 0 && !text)
        result = rdsbk_error_set(RDSBK_ENOTFOUND, "the default event bus has no policy");
    if (result == 0)
        result = rdsbk_json_parse(&policy, text, "events:DescribeEventBus Policy");
    if (result)
        goto cleanup;
    cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(policy, "Statement")) {
        const char *s = rdsbk_json_str(st, "Sid");
        if (s && sid && strcmp(s, sid) == 0)
            found = st;
    }
    if (!found) {
        result = rdsbk_error_set(RDSBK_ENOTFOUND, "the default event bus has no statement %s", sid);
        goto cleanup;
    }
    s_statement_principal(principal, sizeof(principal), found);
    action = cJSON_GetObjectItemCaseSensitive(found, "Action");
    if (cJSON_IsArray(action) && cJSON_GetArraySize(action) == 1)
        action = cJSON_GetArrayItem(action, 0);
    out = cJSON_CreateObject();
    result = out ? 0 : rdsbk_error_oom();
    if (result == 0)
        result = rdsbk_json_add_str(out, "statement_id", sid);
    if (result == 0)
        result = rdsbk_json_add_str(out, "principal", principal);
    if (result == 0)
        result = rdsbk_json_add(out, "action", cJSON_Duplicate(action, true));
    if (result == 0)
        result = rdsbk_res_set_id(id_out, sid);
    if (result)
        goto cleanup;
    *actual_out = out;
    out = NULL;

cleanup:
    free(text);
    cJSON_Delete(policy);
    cJSON_Delete(out);
    return result;
}

static int s_put(struct rdsbk_client *client, const cJSON *desired) {
    struct rdsbk_events_put_permission_input in = {0};
    int result;

    result = rdsbk_res_require(&in.statement_id, desired, "statement_id", S_TYPE);
    if (result == 0)
        result = rdsbk_res_require(&in.principal, desired, "principal", S_TYPE);
    if (result == 0)
        result = rdsbk_res_require(&in.action, desired, "action", S_TYPE);
    if (result == 0)
        result = rdsbk_events_put_permission(client, &in);
    if (result == 0)
        rdsbk_log_verbose("event bus admits %s (%s, statement %s)", in.principal, in.action,
                          in.statement_id);
    return result;
}

static int s_create(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    int result;

    *actual_out = NULL;
    if (id_out)
        *id_out = NULL;
    (void)ref;
    result = s_put(client, desired);
    if (result)
        return result;
    return rdsbk_res_written(actual_out, id_out, desired, rdsbk_json_str(desired, "statement_id"),
                             NULL, NULL);
}

static int s_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    int result = rdsbk_events_remove_permission(client, s_sid(ref), NULL, false);

    return result;
}

/* A statement is replaced whole: remove the old one, put the new one. */
static int s_update(cJSON **actual_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired,
                    const cJSON *actual) {
    int result;

    (void)actual;
    *actual_out = NULL;
    result = rdsbk_resource_remove(client, ref); /* gone already will do */
    if (result == 0)
        result = s_put(client, desired);
    if (result)
        return result;
    return rdsbk_res_written(actual_out, NULL, desired, rdsbk_json_str(desired, "statement_id"),
                             NULL, NULL);
}

static const char *const s_force_new[] = {"statement_id", NULL};
static const char *const s_no_diff[] = {NULL};

const struct rdsbk_resource_ops rdsbk_res_events_permission_ops = {
    .type = RDSBK_RT_EVENTS_PERMISSION,
    .read = s_read,
    .create = s_create,
    .update = s_update,
    .remove = s_remove,
    .read_calls = 1,
    .write_calls = 1,
    .force_new = s_force_new,
    .no_diff = s_no_diff,
    .service = "events",
};
