/*
 * kms_key {description, multi_region, policy, tags, deletion_window_days, prevent_destroy}
 * (+ "arn" and "key_id" when read). The id is the key id.
 *
 * A key pending deletion is gone as far as the pipeline is concerned: `read` answers
 * RDSBK_ENOTFOUND for it and adoption skips it (a destroyed stack of the same name leaves such
 * keys behind for 7..30 days). deletion_window_days and prevent_destroy are settings of the tool,
 * not of AWS: `read` carries them over from the last known attributes, `remove` uses the window.
 */
#include "resources_internal.h"

#include "rdsbk/error.h"
#include "rdsbk/http.h"
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

static const struct rdsbk_res_tagging s_tagging = {
    S_TYPE, rdsbk_kms_list_resource_tags, rdsbk_kms_untag_resource, rdsbk_kms_tag_resource};

/* The id in a key's metadata ("" when AWS left it out). Borrowed. */
static const char *s_key_id(const cJSON *meta) {
    const char *id = rdsbk_json_str(meta, "KeyId");
    return id ? id : "";
}

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
 * more on a first apply or a destroy --discover. `skip` (NULL: none) is not read. *tagged_out a
 * bool per key (caller frees). Returns 0 or RDSBK_ENOMEM.
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

static int s_tagged_keys(bool **tagged_out, struct rdsbk_client *client, const cJSON *keys,
                         const char *stack, const char *skip) {
    size_t n = (size_t)cJSON_GetArraySize(keys);
    struct s_scan sc = {client, stack, skip, NULL, NULL};
    struct rdsbk_task_result *results = calloc(n ? n : 1, sizeof(*results));
    const cJSON *k;
    size_t i = 0;
    int rc = 0;

    *tagged_out = NULL;
    sc.keys = calloc(n ? n : 1, sizeof(*sc.keys));
    sc.tagged = calloc(n ? n : 1, sizeof(*sc.tagged));
    RDSBK_CHECK_ALLOC(results);
    RDSBK_CHECK_ALLOC(sc.keys);
    RDSBK_CHECK_ALLOC(sc.tagged);
    cJSON_ArrayForEach(k, keys) {
        sc.keys[i++] = k;
    }
    rdsbk_pool_run(results, &(struct rdsbk_pool_tasks){.n = n}, S_SCAN_THREADS, true, s_scan_one,
                   &sc); /* a read that fails counts as untagged: nothing fails */
    *tagged_out = sc.tagged;
    sc.tagged = NULL;

cleanup:
    free(results);
    free(sc.keys);
    free(sc.tagged);
    return rc;
}

/* The metadata of a live key (not pending deletion) with id `key_id`; RDSBK_ENOTFOUND otherwise. */
static int s_describe_live(cJSON **meta_out, struct rdsbk_client *client, const char *key_id) {
    int rc = rdsbk_kms_describe_key(meta_out, client, key_id);

    if (rc == 0 && s_pending_deletion(*meta_out)) {
        rc = rdsbk_error_set(RDSBK_ENOTFOUND, "KMS key %s is pending deletion", key_id);
        cJSON_Delete(*meta_out);
        *meta_out = NULL;
    }
    return rc;
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
    int rc = RDSBK_ENOTFOUND;

    *meta_out = NULL;
    if (ref->name && strncmp(ref->name, "alias/", 6) == 0)
        rc = s_describe_live(&meta, client, ref->name);
    if (rc == 0 && !s_tagged_for(client, rdsbk_json_str(meta, "KeyId"), ref->stack))
        rc = RDSBK_ENOTFOUND;
    if (rc == 0) {
        *meta_out = meta;
        meta = NULL;
    }
    cJSON_Delete(meta);
    return rc;
}

/* The newest live key among the `keys` that `tagged` marks (NULL: none; caller deletes), and how
 * many are live. Keys that cannot be described are passed over. */
static cJSON *s_newest_live(int *live_out, struct rdsbk_client *client, const cJSON *keys,
                            const bool *tagged, const char *stack) {
    cJSON *best = NULL;
    const cJSON *k;
    size_t i = 0;

    *live_out = 0;
    cJSON_ArrayForEach(k, keys) {
        const char *id = rdsbk_json_str(k, "KeyId");
        cJSON *meta = NULL;
        if (!tagged[i++])
            continue;
        if (s_describe_live(&meta, client, id) != 0) {
            rdsbk_log_debug("kms: key %s of stack %s is not live: %s", id, stack,
                            rdsbk_error_last()->message);
            rdsbk_error_clear();
            continue;
        }
        (*live_out)++;
        if (!best || cJSON_GetNumberValue(cJSON_GetObjectItem(meta, "CreationDate")) >
                         cJSON_GetNumberValue(cJSON_GetObjectItem(best, "CreationDate"))) {
            cJSON_Delete(best);
            best = meta;
        } else {
            cJSON_Delete(meta);
        }
    }
    return best;
}

static int s_find(cJSON **meta_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    cJSON *keys = NULL;
    cJSON *best = NULL;
    bool *tagged = NULL;
    int candidates = 0;
    int rc;

    *meta_out = NULL;
    if (!ref->stack || !*ref->stack) {
        rc = rdsbk_error_set(RDSBK_ENOTFOUND, "kms_key: no stack to look the key up by");
        goto cleanup;
    }
    rc = s_find_by_alias(&best, client, ref);
    if (rc != RDSBK_ENOTFOUND)
        goto cleanup;
    RDSBK_TRY(rdsbk_kms_list_keys(&keys, client));
    RDSBK_TRY(s_tagged_keys(&tagged, client, keys, ref->stack, NULL));
    best = s_newest_live(&candidates, client, keys, tagged, ref->stack);
    if (!best) {
        rc = rdsbk_error_set(RDSBK_ENOTFOUND, "no live KMS key tagged %s=%s", S_STACK_TAG,
                             ref->stack);
        goto cleanup;
    }
    if (candidates > 1)
        rdsbk_log_warn("%d live KMS keys are tagged %s=%s; adopting the newest, %s", candidates,
                       S_STACK_TAG, ref->stack, rdsbk_json_str(best, "KeyId"));

cleanup:
    if (rc == 0) {
        *meta_out = best;
        best = NULL;
    }
    free(tagged);
    cJSON_Delete(keys);
    cJSON_Delete(best);
    return rc;
}

static int s_read(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    cJSON *meta = NULL;
    cJSON *out = NULL;
    char *policy = NULL;
    const char *key_id;
    int rc;

    rdsbk_res_outs_init(actual_out, id_out);
    if (ref->id && *ref->id)
        RDSBK_TRY(s_describe_live(&meta, client, ref->id));
    else
        RDSBK_TRY(s_find(&meta, client, ref));
    key_id = rdsbk_json_str(meta, "KeyId");
    RDSBK_TRY(rdsbk_kms_get_key_policy(&policy, client, key_id));
    out = cJSON_CreateObject();
    RDSBK_CHECK_ALLOC(out);
    RDSBK_TRY(rdsbk_json_add_str(out, "description", rdsbk_json_str(meta, "Description")));
    RDSBK_TRY(
        rdsbk_json_add(out, "multi_region",
                       cJSON_CreateBool(cJSON_IsTrue(cJSON_GetObjectItem(meta, "MultiRegion")))));
    RDSBK_TRY(rdsbk_res_add_parsed(out, "policy", policy, "kms:GetKeyPolicy"));
    RDSBK_TRY(rdsbk_res_add_listed_tags(out, client, key_id, &s_tagging));
    RDSBK_TRY(rdsbk_json_copy_member(out, ref->attributes, "deletion_window_days"));
    RDSBK_TRY(rdsbk_json_copy_member(out, ref->attributes, "prevent_destroy"));
    RDSBK_TRY(rdsbk_json_add_str(out, "arn", rdsbk_json_str(meta, "Arn")));
    RDSBK_TRY(rdsbk_json_add_str(out, "key_id", key_id));
    rc = rdsbk_res_found(actual_out, id_out, &out, key_id);

cleanup:
    cJSON_Delete(meta);
    cJSON_Delete(out);
    free(policy);
    return rc;
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
        s_tagged_keys(&tagged, client, keys, ref->stack, keep) != 0) {
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

/* CreateKey, again while a principal of the policy has not propagated in IAM; *retried_out
 * whether the transport retried any of them (see s_reap_twins). */
static int s_create_key(cJSON **meta_out, bool *retried_out, struct rdsbk_client *client,
                        const struct rdsbk_kms_create_key_input *in) {
    struct rdsbk_backoff b;
    int rc;

    *retried_out = false;
    rdsbk_backoff_init(&b, 1000, 8000, 2.0, S_POLICY_RETRY_MS);
    for (;;) {
        rc = rdsbk_kms_create_key(meta_out, client, in);
        *retried_out |= rdsbk_aws_last_attempts() > 1;
        if (!s_policy_not_ready(rc) ||
            !rdsbk_res_backoff_wait(&b,
                                    "kms:CreateKey refused (%s); a principal of the key policy "
                                    "may not have propagated in IAM yet",
                                    rdsbk_error_last()->message))
            break;
    }
    return rc;
}

/* rdsbk_res_written for a key: with its ARN, and its id as "key_id" too. */
static int s_written(cJSON **actual_out, char **id_out, const cJSON *desired, const char *key_id,
                     const char *arn) {
    int rc = rdsbk_res_written(actual_out, id_out, desired, key_id, "arn", arn);

    return rc ? rc : rdsbk_json_add_str(*actual_out, "key_id", key_id);
}

static int s_create(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    struct rdsbk_kms_create_key_input in = {0};
    struct rdsbk_tag *tags = NULL;
    size_t n_tags = 0;
    char *policy = NULL;
    cJSON *meta = NULL;
    char *key_id = NULL;
    bool retried = false;
    int rc;

    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(rdsbk_json_text(&policy, cJSON_GetObjectItemCaseSensitive(desired, "policy")));
    RDSBK_TRY(rdsbk_res_tags_from_json(&tags, &n_tags, cJSON_GetObjectItem(desired, "tags")));
    in.policy = policy;
    in.description = rdsbk_json_str(desired, "description");
    in.multi_region = cJSON_IsTrue(cJSON_GetObjectItem(desired, "multi_region"));
    in.tags = tags;
    in.n_tags = n_tags;
    RDSBK_TRY(s_create_key(&meta, &retried, client, &in));
    RDSBK_TRY(rdsbk_strdup_into(&key_id, s_key_id(meta)));
    rdsbk_log_verbose("created KMS key %s", key_id);
    if (retried)
        s_reap_twins(client, ref, key_id, rdsbk_json_int(desired, "deletion_window_days", 30));
    rc = s_written(actual_out, id_out, desired, key_id, rdsbk_json_str(meta, "Arn"));

cleanup:
    free(policy);
    free(key_id);
    cJSON_Delete(meta);
    rdsbk_aws_tags_free(tags, n_tags);
    return rc;
}

/* PutKeyPolicy, again while a principal of the policy has not propagated in IAM. */
static int s_put_policy(struct rdsbk_client *client, const char *key_id, const char *policy) {
    struct rdsbk_backoff b;
    int rc;

    rdsbk_backoff_init(&b, 1000, 8000, 2.0, S_POLICY_RETRY_MS);
    for (;;) {
        rc = rdsbk_kms_put_key_policy(client, key_id, policy, false);
        if (!s_policy_not_ready(rc) ||
            !rdsbk_res_backoff_wait(&b,
                                    "kms:PutKeyPolicy %s refused (%s); a principal may not "
                                    "have propagated in IAM yet",
                                    key_id, rdsbk_error_last()->message))
            break;
    }
    return rc;
}

static int s_update(cJSON **actual_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired,
                    const cJSON *actual) {
    const char *key_id = rdsbk_json_str(actual, "key_id");
    char *policy = NULL;
    int rc;

    *actual_out = NULL;
    if (!key_id)
        key_id = ref->id;
    if (!key_id || !*key_id) {
        rc = rdsbk_error_set(RDSBK_EINVALID, "kms_key: no key id to update");
        goto cleanup;
    }
    if (rdsbk_res_changed(desired, actual, "policy")) {
        RDSBK_TRY(rdsbk_json_text(&policy, cJSON_GetObjectItemCaseSensitive(desired, "policy")));
        RDSBK_TRY(s_put_policy(client, key_id, policy));
    }
    if (rdsbk_res_changed(desired, actual, "description"))
        RDSBK_TRY(rdsbk_kms_update_key_description(client, key_id,
                                                   rdsbk_json_str(desired, "description")));
    RDSBK_TRY(rdsbk_res_update_tags(client, key_id, desired, actual, &s_tagging));
    rc = s_written(actual_out, NULL, desired, key_id, rdsbk_json_str(actual, "arn"));

cleanup:
    free(policy);
    return rc;
}

/* The id of the key to delete: the state's, or that of the stack's key found by its tag. */
static int s_key_to_remove(char **key_id_out, struct rdsbk_client *client,
                           const struct rdsbk_resource_ref *ref) {
    const char *key_id = ref->id;
    cJSON *meta = NULL;
    int rc;

    *key_id_out = NULL;
    if (!key_id || !*key_id) {
        RDSBK_TRY(s_find(&meta, client, ref));
        key_id = s_key_id(meta);
    }
    rc = rdsbk_strdup_into(key_id_out, key_id);

cleanup:
    cJSON_Delete(meta);
    return rc;
}

/* ScheduleKeyDeletion. A key already pending deletion (an earlier run, or this call's first
 * attempt whose reply was lost) is what we want; any other state is a real refusal. */
static int s_schedule_deletion(struct rdsbk_client *client, const char *key_id, int window) {
    cJSON *meta = NULL;
    time_t when = 0;
    int rc = rdsbk_kms_schedule_key_deletion(&when, client, key_id, window);

    if (rc == RDSBK_EINVALID && rdsbk_res_aws_error_is("KMSInvalidStateException", NULL)) {
        if (rdsbk_kms_describe_key(&meta, client, key_id) == 0 && s_pending_deletion(meta)) {
            rdsbk_error_clear();
            rc = 0;
        } else {
            rc = rdsbk_error_set(RDSBK_EINVALID, "KMS key %s cannot be scheduled for deletion",
                                 key_id);
        }
    }
    cJSON_Delete(meta);
    return rc;
}

static int s_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    int window = rdsbk_json_int(ref->attributes, "deletion_window_days", 30);
    char *key_id = NULL;
    int rc;

    RDSBK_TRY(s_key_to_remove(&key_id, client, ref));
    RDSBK_TRY(s_schedule_deletion(client, key_id, window));
    /* destroy leaves nothing: a twin its create did not reap (the reap itself failed, or a run
     * before CreateKey went on a new connection) goes too, whether this key's deletion was
     * scheduled now or before */
    s_reap_twins(client, ref, key_id, window);
    rdsbk_log_warn("KMS key %s is scheduled for deletion in %d days: backup copies encrypted with "
                   "it become unrestorable once it is deleted (cancel with "
                   "`aws kms cancel-key-deletion --key-id %s`)",
                   key_id, window, key_id);

cleanup:
    free(key_id);
    return rc;
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
    .backups_need_it = true,
};
