/*
 * sqs_queue {name, message_retention_seconds, visibility_timeout_seconds, sqs_managed_sse, policy,
 * tags} (+ "arn" and "url" when read): a standard SQS queue, a function's dead-letter queue. The
 * id is the queue's ARN, arn:<partition>:sqs:<region>:<account>:<name>, which the ref's account,
 * Region and name make without a call; every other call names the queue by its URL, which
 * GetQueueUrl gives for the name (read, update and delete start with it).
 *
 * The settings are attributes of SQS, strings on the wire; s_attrs says which attribute each is
 * and how it reads and writes: seconds as numbers, SqsManagedSseEnabled as a boolean (a queue
 * that does not report it reads false), the policy as a parsed document (absent when the queue
 * has none; not desired: left as it is, like sns_topic's). Create sends them and the tags in one
 * CreateQueue; update sets each changed one with a SetQueueAttributes of its own.
 *
 * SQS refuses a name deleted less than 60 s ago (QueueDeletedRecently; botocore's model: "you
 * must wait at least 60 seconds"), which a destroy and apply in a row meet: create says so once
 * and tries again with backoff for up to 70 s. DeleteQueue of a missing queue, and GetQueueUrl
 * before it, answer AWS.SimpleQueueService.NonExistentQueue: RDSBK_ENOTFOUND.
 */
#include "resources_internal.h"

#include "rdsbk/error.h"
#include "rdsbk/log.h"
#include "rdsbk/services/sqs.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define S_TYPE "sqs_queue"
/* The 60 s SQS keeps a deleted name (botocore's sqs model, CreateQueue and DeleteQueue: "you must
 * wait at least 60 seconds"), and a margin. */
#define S_DELETED_RECENTLY_MS 70000L

static const struct rdsbk_res_tagging s_tagging = {S_TYPE, rdsbk_sqs_list_queue_tags,
                                                   rdsbk_sqs_untag_queue, rdsbk_sqs_tag_queue};

/* How a setting of the model is an attribute of SQS. */
enum s_kind {
    S_SECONDS, /* a number; SQS: its decimal text */
    S_BOOL,    /* true or false; SQS: "true" or "false" */
    S_DOC,     /* a JSON document; SQS: its text */
};

static const struct s_attr {
    const char *key;  /* the model's */
    const char *name; /* SQS's */
    enum s_kind kind;
} s_attrs[] = {
    {"message_retention_seconds", "MessageRetentionPeriod", S_SECONDS},
    {"visibility_timeout_seconds", "VisibilityTimeout", S_SECONDS},
    {"sqs_managed_sse", "SqsManagedSseEnabled", S_BOOL},
    {"policy", "Policy", S_DOC},
    {NULL, NULL, S_SECONDS},
};

/* ---- the settings, both ways ---- */

/* Adds setting `a` as SQS reports it in `attributes` (GetQueueAttributes'); a number or a policy
 * SQS does not report is left out. A number that is none: RDSBK_EINVALID. */
static int s_read_attr(cJSON *out, const cJSON *attributes, const struct s_attr *a) {
    const char *text = rdsbk_json_str(attributes, a->name);
    char *end = NULL;
    long v;

    if (a->kind == S_BOOL)
        return rdsbk_json_add(out, a->key, cJSON_CreateBool(text && strcmp(text, "true") == 0));
    if (!text || !*text)
        return 0;
    if (a->kind == S_DOC)
        return rdsbk_res_add_parsed(out, a->key, text, "sqs:GetQueueAttributes Policy");
    errno = 0;
    v = strtol(text, &end, 10);
    if (errno || *end || v < 0 || v > INT_MAX)
        return rdsbk_error_set(RDSBK_EINVALID, "sqs:GetQueueAttributes: %s is \"%s\"", a->name,
                               text);
    return rdsbk_json_add_num(out, a->key, (double)v);
}

/* *out (caller frees) the text SQS takes for the desired value of `a`, NULL when `desired` has
 * none. A value of another JSON type: RDSBK_EINVALID. */
static int s_write_value(char **out, const cJSON *desired, const struct s_attr *a) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(desired, a->key);
    bool fits = a->kind == S_SECONDS ? cJSON_IsNumber(v)
                : a->kind == S_BOOL  ? cJSON_IsBool(v)
                                     : cJSON_IsObject(v);

    *out = NULL;
    if (!v)
        return 0;
    if (!fits)
        return rdsbk_error_set(RDSBK_EINVALID, "%s: attribute \"%s\" has the wrong type", S_TYPE,
                               a->key);
    if (a->kind == S_SECONDS)
        return rdsbk_strfmt(out, "%d", v->valueint);
    if (a->kind == S_BOOL)
        return rdsbk_strdup_into(out, cJSON_IsTrue(v) ? "true" : "false");
    return rdsbk_json_text(out, v);
}

/* *out a new object (caller deletes) of the SQS attributes the desired settings make. */
static int s_sqs_attributes(cJSON **out, const cJSON *desired) {
    cJSON *attributes = cJSON_CreateObject();
    char *text = NULL;
    int rc = 0;

    *out = NULL;
    RDSBK_CHECK_ALLOC(attributes);
    for (const struct s_attr *a = s_attrs; a->key; a++) {
        RDSBK_TRY(s_write_value(&text, desired, a));
        if (text)
            RDSBK_TRY(rdsbk_json_add_str(attributes, a->name, text));
        free(text);
        text = NULL;
    }
    *out = attributes;
    attributes = NULL;

cleanup:
    free(text);
    cJSON_Delete(attributes);
    return rc;
}

/* SetQueueAttributes of each desired setting that differs from `actual`, one call each (a value
 * SQS refuses is named by its call). */
static int s_update_attributes(struct rdsbk_client *client, const char *url, const cJSON *desired,
                               const cJSON *actual) {
    char *text = NULL;
    int rc = 0;

    for (const struct s_attr *a = s_attrs; a->key; a++) {
        if (!rdsbk_res_changed(desired, actual, a->key))
            continue;
        RDSBK_TRY(s_write_value(&text, desired, a));
        if (!text)
            continue; /* not desired (a policy): left as it is */
        RDSBK_TRY(rdsbk_sqs_set_queue_attribute(client, url, a->name, text));
        rdsbk_log_verbose("set %s of SQS queue %s", a->name, url);
        free(text);
        text = NULL;
    }

cleanup:
    free(text);
    return rc;
}

/* ---- calls ---- */

/* *arn_out the queue's ARN (its id) and *url_out its URL (GetQueueUrl of the name the ARN ends
 * with), both the caller's. RDSBK_ENOTFOUND when there is no such queue; on error both NULL. */
static int s_locate(char **arn_out, char **url_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref) {
    int rc;

    *url_out = NULL;
    RDSBK_TRY(rdsbk_res_regional_arn(arn_out, ref, "sqs", "a queue"));
    rc = rdsbk_sqs_get_queue_url(url_out, client, strrchr(*arn_out, ':') + 1);

cleanup:
    if (rc) {
        free(*arn_out);
        *arn_out = NULL;
    }
    return rc;
}

/* rdsbk_res_written, with the queue's URL as well as its ARN. */
static int s_written(cJSON **actual_out, char **id_out, const cJSON *desired, const char *arn,
                     const char *url) {
    cJSON *with_url = cJSON_Duplicate(desired, 1);
    int rc;

    *actual_out = NULL;
    RDSBK_CHECK_ALLOC(with_url);
    RDSBK_TRY(rdsbk_json_add_str(with_url, "url", url));
    rc = rdsbk_res_written(actual_out, id_out, with_url, arn, "arn", arn);

cleanup:
    cJSON_Delete(with_url);
    return rc;
}

static int s_read(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    cJSON *attributes = NULL;
    cJSON *out = NULL;
    char *arn = NULL;
    char *url = NULL;
    int rc;

    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(s_locate(&arn, &url, client, ref));
    RDSBK_TRY(rdsbk_sqs_get_queue_attributes(&attributes, client, url));
    out = cJSON_CreateObject();
    RDSBK_CHECK_ALLOC(out);
    RDSBK_TRY(rdsbk_json_add_str(out, "name", strrchr(arn, ':') + 1));
    for (const struct s_attr *a = s_attrs; a->key; a++)
        RDSBK_TRY(s_read_attr(out, attributes, a));
    RDSBK_TRY(rdsbk_res_add_listed_tags(out, client, url, &s_tagging));
    RDSBK_TRY(rdsbk_json_add_str(out, "arn", arn));
    RDSBK_TRY(rdsbk_json_add_str(out, "url", url));
    rc = rdsbk_res_found(actual_out, id_out, &out, arn);

cleanup:
    cJSON_Delete(attributes);
    cJSON_Delete(out);
    free(arn);
    free(url);
    return rc;
}

static bool s_deleted_recently(int rc) {
    return rc == RDSBK_EINVALID &&
           rdsbk_res_aws_error_is("AWS.SimpleQueueService.QueueDeletedRecently", NULL);
}

/* CreateQueue, again while SQS refuses the name for having been deleted less than 60 s ago. */
static int s_create_queue(char **url_out, struct rdsbk_client *client,
                          const struct rdsbk_sqs_create_queue_input *in) {
    struct rdsbk_backoff b;
    bool told = false;
    int rc;

    rdsbk_backoff_init(&b, 1000, 10000, 2.0, S_DELETED_RECENTLY_MS);
    for (;;) {
        rc = rdsbk_sqs_create_queue(url_out, client, in);
        if (!s_deleted_recently(rc))
            break;
        if (!told)
            rdsbk_log_warn("SQS queue %s was deleted less than 60 s ago, and SQS refuses its name "
                           "until then: waiting up to %ld s",
                           in->name, S_DELETED_RECENTLY_MS / 1000);
        told = true;
        if (!rdsbk_res_backoff_wait(&b, "sqs:CreateQueue %s: deleted recently", in->name))
            break;
    }
    return rc;
}

static int s_create(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    struct rdsbk_sqs_create_queue_input in = {0};
    struct rdsbk_resource_ref named = *ref;
    struct rdsbk_tag *tags = NULL;
    cJSON *attributes = NULL;
    char *url = NULL;
    char *arn = NULL;
    int rc;

    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(rdsbk_res_require(&in.name, desired, "name", S_TYPE));
    RDSBK_TRY(s_sqs_attributes(&attributes, desired));
    RDSBK_TRY(rdsbk_res_tags_from_json(&tags, &in.n_tags, cJSON_GetObjectItem(desired, "tags")));
    in.attributes = attributes;
    in.tags = tags;
    RDSBK_TRY(s_create_queue(&url, client, &in));
    rdsbk_log_verbose("created SQS queue %s", url);
    /* the ARN of the queue just made: of the desired name, whatever the ref's id says */
    named.id = NULL;
    named.name = in.name;
    RDSBK_TRY(rdsbk_res_regional_arn(&arn, &named, "sqs", "a queue"));
    rc = s_written(actual_out, id_out, desired, arn, url);

cleanup:
    rdsbk_aws_tags_free(tags, in.n_tags);
    cJSON_Delete(attributes);
    free(url);
    free(arn);
    return rc;
}

static int s_update(cJSON **actual_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired,
                    const cJSON *actual) {
    char *arn = NULL;
    char *url = NULL;
    int rc;

    *actual_out = NULL;
    RDSBK_TRY(s_locate(&arn, &url, client, ref));
    RDSBK_TRY(s_update_attributes(client, url, desired, actual));
    RDSBK_TRY(rdsbk_res_update_tags(client, url, desired, actual, &s_tagging));
    rc = s_written(actual_out, NULL, desired, arn, url);

cleanup:
    free(arn);
    free(url);
    return rc;
}

static int s_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    char *arn = NULL;
    char *url = NULL;
    int rc;

    RDSBK_TRY(s_locate(&arn, &url, client, ref));
    rc = rdsbk_sqs_delete_queue(client, url);

cleanup:
    free(arn);
    free(url);
    return rc;
}

static const char *const s_force_new[] = {"name", NULL};

const struct rdsbk_resource_ops rdsbk_res_sqs_queue_ops = {
    .type = RDSBK_RT_SQS_QUEUE,
    .read = s_read,
    .create = s_create,
    .update = s_update,
    .remove = s_remove,
    .read_calls = 3,  /* GetQueueUrl, GetQueueAttributes, ListQueueTags */
    .write_calls = 2, /* GetQueueUrl, then SetQueueAttributes or DeleteQueue; CreateQueue alone */
    .force_new = s_force_new,
    .no_diff = rdsbk_res_no_keys,
    .service = "sqs",
};
