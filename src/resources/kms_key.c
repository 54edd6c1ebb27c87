/*
 * kms_key {description, multi_region, policy, tags, deletion_window_days, prevent_destroy}
 * (+ "arn" and "key_id" when read). The id is the key id.
 *
 * A key pending deletion is gone as far as the pipeline is concerned: `read` answers
 * RDSBK_ENOTFOUND for it and adoption skips it (a destroyed stack of the same name leaves such
 * keys behind for 7..30 days). deletion_window_days and prevent_destroy are settings of the tool,
 * not of AWS: `read` carries them over from the last known attributes, `remove` uses the window.
 */
#include "rdsbk/http.h"
#include "resources_internal.h"

#include "rdsbk/error.h"
#include "rdsbk/log.h"
#include "rdsbk/pool.h"
#include "rdsbk/services/kms.h"

#include <stdlib.h>
#include <string.h>

#define S_TYPE "kms_key"
#define S_STACK_TAG "rdsbk:stack"
/* A new IAM principal named in a key policy is refused (MalformedPolicyDocumentException) until
 * IAM has propagated it; AWS documents "a few minutes" at most, usually seconds. */
#define S_POLICY_RETRY_MS 60000L

static bool s_pending_deletion(const cJSON *meta) {
    const char *state = rdsbk_json_str(meta, "KeyState");
    return state &&
           (strcmp(state, "PendingDeletion") == 0 || strcmp(state, "PendingReplicaDeletion") == 0);
}

/* Does key `key_id` carry the tag rdsbk:stack=<stack>? Errors (an AWS managed key we may not
 * read, a key deleted meanwhile) count as no. */
static bool s_tagged_for(struct rdsbk_client *client, const char *key_id, const char *stack) {
    struct rdsbk_tag *tags = NULL;
    size_t n = 0;
    bool found = false;

    if (rdsbk_kms_list_resource_tags(&tags, &n, client, key_id) != 0) {
        rdsbk_log_debug("kms: skipping key %s: %s", key_id, rdsbk_error_last()->message);
        rdsbk_error_clear();
    }
    for (size_t i = 0; i < n && !found; i++)
        found = strcmp(tags[i].key, S_STACK_TAG) == 0 && strcmp(tags[i].value, stack) == 0;
    rdsbk_aws_tags_free(tags, n);
    return found;
}

/*
 * Which of the account's keys (a ListKeys reply) carry the tag rdsbk:stack=<stack>: a call per
 * key, up to S_SCAN_THREADS at once. An account holds a key per AWS service that encrypts
 * something for it besides its own keys; one after another, their reads would put a second or
 * more on a first apply or a destroy --discover. `skip` (NULL: none) is not read. Returns a bool
 * per key (caller frees), NULL on ENOMEM (error set).
 */
#define S_SCAN_THREADS 8

struct s_scan {
    struct rdsbk_client *client;
    const char *stack;
    const char *skip;
    const cJSON **keys;
    bool *tagged;
};

static int s_scan_one(size_t i, void *payload) {
    const struct s_scan *sc = payload;
    const char *id = rdsbk_json_str(sc->keys[i], "KeyId");

    sc->tagged[i] =
        id && !(sc->skip && strcmp(id, sc->skip) == 0) && s_tagged_for(sc->client, id, sc->stack);
    return 0;
}

static bool *s_tagged_keys(struct rdsbk_client *client, const cJSON *keys, const char *stack,
                           const char *skip) {
    size_t n = (size_t)cJSON_GetArraySize(keys);
    struct s_scan sc = {client, stack, skip, NULL, NULL};
    struct rdsbk_task_result *results = calloc(n ? n : 1, sizeof(*results));
    const cJSON *k;
    size_t i = 0;

    sc.keys = calloc(n ? n : 1, sizeof(*sc.keys));
    sc.tagged = calloc(n ? n : 1, sizeof(*sc.tagged));
    if (!results || !sc.keys || !sc.tagged) {
        free(sc.tagged);
        sc.tagged = NULL;
        rdsbk_error_oom();
        goto cleanup;
    }
    cJSON_ArrayForEach(k, keys) {
        sc.keys[i++] = k;
    }
    rdsbk_pool_run(results, &(struct rdsbk_pool_tasks){.n = n}, S_SCAN_THREADS, true, s_scan_one,
                   &sc); /* a read that fails counts as untagged: nothing fails */

cleanup:
    free(results);
    free(sc.keys);
    return sc.tagged;
}

/* The metadata of a live key (not pending deletion) with id `key_id`; RDSBK_ENOTFOUND otherwise. */
static int s_describe_live(cJSON **meta_out, struct rdsbk_client *client, const char *key_id) {
    int result = rdsbk_kms_describe_key(meta_out, client, key_id);

    if (result == 0 && s_pending_deletion(*meta_out)) {
        result = rdsbk_error_set(RDSBK_ENOTFOUND, "KMS key %s is pending deletion", key_id);
        cJSON_Delete(*meta_out);
        *meta_out = NULL;
    }
    return result;
}

/*
 * Adoption (no id in the state, e.g. after a crash between CreateKey and the state write): the
 * stack's key is a live key tagged rdsbk:stack=<stack>. The key the alias `ref->name` points to
 * is tried first; otherwise every key of the account and Region is looked at, and among several
 * candidates the newest wins (with a warning: the others are left alone).
 */
static int s_find_by_alias(cJSON **meta_out, struct rdsbk_client *client,
                           const struct rdsbk_resource_ref *ref) {
    cJSON *meta = NULL;
    int result = RDSBK_ENOTFOUND;

    *meta_out = NULL;
    if (ref->name && strncmp(ref->name, "alias/", 6) == 0)
        result = s_describe_live(&meta, client, ref->name);
    if (result == 0 && !s_tagged_for(client, rdsbk_json_str(meta, "KeyId"), ref->stack))
        result = RDSBK_ENOTFOUND;
    if (result == 0) {
        *meta_out = meta;
        meta = NULL;
    }
    cJSON_Delete(meta);
    return result;
}

static int s_find(cJSON **meta_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    cJSON *keys = NULL;
    cJSON *best = NULL;
    bool *tagged = NULL;
    const cJSON *k;
    size_t i = 0;
    int candidates = 0;
    int result;

    *meta_out = NULL;
    if (!ref->stack || !*ref->stack) {
        result = rdsbk_error_set(RDSBK_ENOTFOUND, "kms_key: no stack to look the key up by");
        goto cleanup;
    }
    result = s_find_by_alias(&best, client, ref);
    if (result != RDSBK_ENOTFOUND)
        goto cleanup;
    result = rdsbk_kms_list_keys(&keys, client);
    if (result)
        goto cleanup;
    tagged = s_tagged_keys(client, keys, ref->stack, NULL);
    if (!tagged) {
        result = RDSBK_ENOMEM;
        goto cleanup;
    }
    cJSON_ArrayForEach(k, keys) {
        const char *id = rdsbk_json_str(k, "KeyId");
        cJSON *meta = NULL;
        if (!tagged[i++])
            continue;
        if (s_describe_live(&meta, client, id) != 0) {
            rdsbk_log_debug("kms: key %s of stack %s is not live: %s", id, ref->stack,
                            rdsbk_error_last()->message);
            rdsbk_error_clear();
            continue;
        }
        candidates++;
        if (!best || cJSON_GetNumberValue(cJSON_GetObjectItem(meta, "CreationDate")) >
                         cJSON_GetNumberValue(cJSON_GetObjectItem(best, "CreationDate"))) {
            cJSON_Delete(best);
            best = meta;
        } else {
            cJSON_Delete(meta);
        }
    }
    if (!best) {
        result = rdsbk_error_set(RDSBK_ENOTFOUND, "no live KMS key tagged %s=%s", S_STACK_TAG,
                                 ref->stack);
        goto cleanup;
    }
    if (candidates > 1)
        rdsbk_log_warn("%d live KMS keys are tagged %s=%s; adopting the newest, %s", candidates,
                       S_STACK_TAG, ref->stack, rdsbk_json_str(best, "KeyId"));
    result = 0;

cleanup:
    if (result == 0) {
        *meta_out = best;
        best = NULL;
    }
    free(tagged);
    cJSON_Delete(keys);
    cJSON_Delete(best);
    return result;
}

static int s_read(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    cJSON *meta = NULL;
    cJSON *out = NULL;
    cJSON *policy = NULL;
    char *policy_text = NULL;
    struct rdsbk_tag *tags = NULL;
    size_t n_tags = 0;
    const char *key_id;
    int result;

    *actual_out = NULL;
    if (id_out)
        *id_out = NULL;
    if (ref->id && *ref->id)
        result = s_describe_live(&meta, client, ref->id);
    else
        result = s_find(&meta, client, ref);
    if (result)
        goto cleanup;
    key_id = rdsbk_json_str(meta, "KeyId");
    result = rdsbk_kms_get_key_policy(&policy_text, client, key_id);
    if (result == 0)
        result = rdsbk_json_parse(&policy, policy_text, "kms:GetKeyPolicy");
    if (result == 0)
        result = rdsbk_kms_list_resource_tags(&tags, &n_tags, client, key_id);
    if (result)
        goto cleanup;
    out = cJSON_CreateObject();
    if (!out) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    result = rdsbk_json_add_str(out, "description", rdsbk_json_str(meta, "Description"));
    if (result == 0)
        result = rdsbk_json_add(
            out, "multi_region",
            cJSON_CreateBool(cJSON_IsTrue(cJSON_GetObjectItem(meta, "MultiRegion"))));
    if (result == 0) {
        result = rdsbk_json_add(out, "policy", policy);
        policy = NULL;
    }
    if (result == 0)
        result = rdsbk_json_add(out, "tags", rdsbk_res_tags_to_json(tags, n_tags));
    if (result == 0)
        result = rdsbk_json_copy_member(out, ref->attributes, "deletion_window_days");
    if (result == 0)
        result = rdsbk_json_copy_member(out, ref->attributes, "prevent_destroy");
    if (result == 0)
        result = rdsbk_json_add_str(out, "arn", rdsbk_json_str(meta, "Arn"));
    if (result == 0)
        result = rdsbk_json_add_str(out, "key_id", key_id);
    if (result == 0)
        result = rdsbk_res_set_id(id_out, key_id);
    if (result)
        goto cleanup;
    *actual_out = out;
    out = NULL;

cleanup:
    cJSON_Delete(meta);
    cJSON_Delete(out);
    cJSON_Delete(policy);
    free(policy_text);
    rdsbk_aws_tags_free(tags, n_tags);
    return result;
}

static bool s_policy_not_ready(int rc) {
    return rc == RDSBK_EINVALID && rdsbk_res_aws_error_is("MalformedPolicyDocumentException", NULL);
}

/*
 * CreateKey is not idempotent: when its reply is lost, the transport's retry creates a second key,
 * and the first stays enabled, unknown to the state. (It goes on a new connection, so that the
 * retry is ours and counted, not libcurl's own resend: rdsbk_svc_json_call_fresh.) After a
 * CreateKey that was retried, any other live key tagged for the stack can only be such a twin
 * (adoption found none before the create, and the state lock keeps other runs out): it is
 * scheduled for deletion with the configured window.
 */
static void s_reap_twins(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref,
                         const char *keep, int window) {
    cJSON *keys = NULL;
    bool *tagged = NULL;
    const cJSON *k;
    size_t i = 0;

    if (rdsbk_kms_list_keys(&keys, client) != 0 ||
        !(tagged = s_tagged_keys(client, keys, ref->stack, keep))) {
        rdsbk_log_warn("kms: could not look for twins of key %s: %s", keep,
                       rdsbk_error_last()->message);
        rdsbk_error_clear();
        cJSON_Delete(keys);
        return;
    }
    cJSON_ArrayForEach(k, keys) {
        const char *id = rdsbk_json_str(k, "KeyId");
        cJSON *meta = NULL;
        time_t when = 0;

        if (!tagged[i++])
            continue;
        if (s_describe_live(&meta, client, id) == 0 &&
            rdsbk_kms_schedule_key_deletion(&when, client, id, window) == 0)
            rdsbk_log_warn("kms: another live key of stack %s besides %s (a CreateKey whose reply "
                           "was lost and was retried): scheduled %s for deletion",
                           ref->stack, keep, id);
        rdsbk_error_clear();
        cJSON_Delete(meta);
    }
    free(tagged);
    cJSON_Delete(keys);
}

static int s_create(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    struct rdsbk_kms_create_key_input in = {0};
    struct rdsbk_backoff b;
    struct rdsbk_tag *tags = NULL;
    size_t n_tags = 0;
    char *policy = NULL;
    cJSON *meta = NULL;
    char *key_id = NULL;
    bool retried = false;
    int result;

    *actual_out = NULL;
    if (id_out)
        *id_out = NULL;
    result = rdsbk_json_text(&policy, cJSON_GetObjectItemCaseSensitive(desired, "policy"));
    if (result)
        goto cleanup;
    result = rdsbk_res_tags_from_json(&tags, &n_tags, cJSON_GetObjectItem(desired, "tags"));
    if (result)
        goto cleanup;
    in.policy = policy;
    in.description = rdsbk_json_str(desired, "description");
    in.multi_region = cJSON_IsTrue(cJSON_GetObjectItem(desired, "multi_region"));
    in.tags = tags;
    in.n_tags = n_tags;
    rdsbk_backoff_init(&b, 1000, 8000, 2.0, S_POLICY_RETRY_MS);
    for (;;) {
        result = rdsbk_kms_create_key(&meta, client, &in);
        retried |= rdsbk_aws_last_attempts() > 1;
        if (!s_policy_not_ready(result) ||
            !rdsbk_res_backoff_wait(&b,
                                    "kms:CreateKey refused (%s); a principal of the key policy "
                                    "may not have propagated in IAM yet",
                                    rdsbk_error_last()->message))
            break;
    }
    if (result)
        goto cleanup;
    key_id = strdup(rdsbk_json_str(meta, "KeyId") ? rdsbk_json_str(meta, "KeyId") : "");
    if (!key_id) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    rdsbk_log_verbose("created KMS key %s", key_id);
    if (retried)
        s_reap_twins(client, ref, key_id, rdsbk_json_int(desired, "deletion_window_days", 30));
    result =
        rdsbk_res_written(actual_out, id_out, desired, key_id, "arn", rdsbk_json_str(meta, "Arn"));
    if (result == 0)
        result = rdsbk_json_add_str(*actual_out, "key_id", key_id);

cleanup:
    free(policy);
    free(key_id);
    cJSON_Delete(meta);
    rdsbk_aws_tags_free(tags, n_tags);
    return result;
}

/* UpdateKeyDescription (not in the service module). */
static int s_update_description(struct rdsbk_client *client, const char *key_id,
                                const char *description) {
    struct rdsbk_service_ctx ctx;
    cJSON *input = cJSON_CreateObject();
    cJSON *reply = NULL;
    int result = input ? 0 : rdsbk_error_oom();

    if (result == 0)
        result = rdsbk_json_add_str(input, "KeyId", key_id);
    if (result == 0)
        result = rdsbk_json_add_str(input, "Description", description);
    if (result == 0)
        result = rdsbk_client_service_ctx(&ctx, client, "kms");
    if (result == 0)
        result = rdsbk_json_call(&reply, &ctx, "TrentService", "UpdateKeyDescription", input);
    cJSON_Delete(input);
    cJSON_Delete(reply);
    return result;
}

static int s_update(cJSON **actual_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired,
                    const cJSON *actual) {
    const char *key_id = rdsbk_json_str(actual, "key_id");
    struct rdsbk_backoff b;
    struct rdsbk_tag *set = NULL;
    size_t n_set = 0;
    char **rm = NULL;
    size_t n_rm = 0;
    char *policy = NULL;
    int result = 0;

    *actual_out = NULL;
    if (!key_id)
        key_id = ref->id;
    if (!key_id || !*key_id) {
        result = rdsbk_error_set(RDSBK_EINVALID, "kms_key: no key id to update");
        goto cleanup;
    }
    if (rdsbk_res_changed(desired, actual, "policy")) {
        result = rdsbk_json_text(&policy, cJSON_GetObjectItemCaseSensitive(desired, "policy"));
        if (result)
            goto cleanup;
        rdsbk_backoff_init(&b, 1000, 8000, 2.0, S_POLICY_RETRY_MS);
        for (;;) {
            result = rdsbk_kms_put_key_policy(client, key_id, policy, false);
            if (!s_policy_not_ready(result) ||
                !rdsbk_res_backoff_wait(&b,
                                        "kms:PutKeyPolicy %s refused (%s); a principal may not "
                                        "have propagated in IAM yet",
                                        key_id, rdsbk_error_last()->message))
                break;
        }
        if (result)
            goto cleanup;
    }
    if (rdsbk_res_changed(desired, actual, "description")) {
        result = s_update_description(client, key_id, rdsbk_json_str(desired, "description"));
        if (result)
            goto cleanup;
    }
    result = rdsbk_res_tags_diff(&set, &n_set, &rm, &n_rm, cJSON_GetObjectItem(desired, "tags"),
                                 cJSON_GetObjectItem(actual, "tags"));
    if (result == 0 && n_rm)
        result = rdsbk_kms_untag_resource(client, key_id, (const char *const *)rm, n_rm);
    if (result == 0 && n_set)
        result = rdsbk_kms_tag_resource(client, key_id, set, n_set);
    if (result)
        goto cleanup;
    result =
        rdsbk_res_written(actual_out, NULL, desired, key_id, "arn", rdsbk_json_str(actual, "arn"));
    if (result == 0)
        result = rdsbk_json_add_str(*actual_out, "key_id", key_id);

cleanup:
    free(policy);
    rdsbk_aws_tags_free(set, n_set);
    rdsbk_strings_free(rm, n_rm);
    return result;
}

static int s_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    int window = rdsbk_json_int(ref->attributes, "deletion_window_days", 30);
    cJSON *meta = NULL;
    char *key_id = NULL;
    time_t when = 0;
    int result;

    if (ref->id && *ref->id) {
        key_id = strdup(ref->id);
    } else {
        result = s_find(&meta, client, ref);
        if (result)
            goto cleanup;
        key_id = strdup(rdsbk_json_str(meta, "KeyId") ? rdsbk_json_str(meta, "KeyId") : "");
    }
    if (!key_id) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    result = rdsbk_kms_schedule_key_deletion(&when, client, key_id, window);
    if (result == RDSBK_EINVALID && rdsbk_res_aws_error_is("KMSInvalidStateException", NULL)) {
        /* already pending deletion (an earlier run, or this call's first attempt whose reply was
         * lost) is what we want; any other state is a real refusal */
        cJSON_Delete(meta);
        meta = NULL;
        if (rdsbk_kms_describe_key(&meta, client, key_id) == 0 && s_pending_deletion(meta)) {
            rdsbk_error_clear();
            result = 0;
        } else {
            result = rdsbk_error_set(RDSBK_EINVALID, "KMS key %s cannot be scheduled for deletion",
                                     key_id);
        }
    }
    if (result)
        goto cleanup;
    /* destroy leaves nothing: a twin its create did not reap (the reap itself failed, or a run
     * before CreateKey went on a new connection) goes too, whether this key's deletion was
     * scheduled now or before */
    s_reap_twins(client, ref, key_id, window);
    rdsbk_log_warn("KMS key %s is scheduled for deletion in %d days: backup copies encrypted with "
                   "it become unrestorable once it is deleted (cancel with "
                   "`aws kms cancel-key-deletion --key-id %s`)",
                   key_id, window, key_id);

cleanup:
    cJSON_Delete(meta);
    free(key_id);
    return result;
}

static const char *const s_force_new[] = {"multi_region", NULL};
static const char *const s_no_diff[] = {"deletion_window_days", "prevent_destroy", NULL};

const struct rdsbk_resource_ops rdsbk_res_kms_key_ops = {
    .type = RDSBK_RT_KMS_KEY,
    .read = s_read,
    .create = s_create,
    .update = s_update,
    .remove = s_remove,
    .read_calls = 3,
    .write_calls = 2,
    .force_new = s_force_new,
    .no_diff = s_no_diff,
    .service = "kms",
    .delete_warning =
        "the shared KMS key will be scheduled for deletion. Backup copies encrypted with it cannot "
        "be restored once it is deleted.",
};
