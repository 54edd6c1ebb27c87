/*
 * SQS (awsQuery): queues, their attributes and tags. SQS's maps and lists are flattened, with
 * names of their own: Attribute.N.Name / Attribute.N.Value, Tag.N.Key / Tag.N.Value,
 * TagKey.N, AttributeName.N, in the request, and in the Result <Attribute><Name/><Value/>
 * </Attribute> and <Tag><Key/><Value/></Tag> with no element around them (botocore's
 * sqs/2012-11-05 model: "flattened": true). services/svc.c sends and reads.
 */
#include "rdsbk/services/sqs.h"
#include "rdsbk/error.h"
#include "services/svc.h"

#include <stddef.h>
#include <stdlib.h>

static const struct rdsbk_svc_query_api s_api = {"sqs", "2012-11-05", NULL};

/* ---- the structs of the replies ---- */

/* The queue's URL, the one string of CreateQueue's and GetQueueUrl's Result, into a char *. */
static const struct rdsbk_field s_queue_url_fields[] = {
    RDSBK_FIELD(STR, "QueueUrl", 0),
    RDSBK_FIELD_END,
};
static const struct rdsbk_shape s_queue_url = {s_queue_url_fields, sizeof(char *), NULL};

/* ---- the structs of the requests ---- */

#define S_CREATE_QUEUE(m) offsetof(struct rdsbk_sqs_create_queue_input, m)
static const struct rdsbk_field s_create_queue_input[] = {
    RDSBK_FIELD(STR, "QueueName", S_CREATE_QUEUE(name)),
    RDSBK_FIELD_N(TAGS, "Tag", S_CREATE_QUEUE(tags), S_CREATE_QUEUE(n_tags), "", NULL),
    RDSBK_FIELD_END,
};

/* TagQueue / UntagQueue: the queue and its tags, or the keys of the tags to remove. */
struct s_queue_tags {
    const char *url;
    const struct rdsbk_tag *tags;
    const char *const *keys;
    size_t n;
};
#define S_QUEUE_TAGS(m) offsetof(struct s_queue_tags, m)
static const struct rdsbk_field s_tag_queue_input[] = {
    RDSBK_FIELD(STR, "QueueUrl", S_QUEUE_TAGS(url)),
    RDSBK_FIELD_N(TAGS, "Tag", S_QUEUE_TAGS(tags), S_QUEUE_TAGS(n), "", NULL),
    RDSBK_FIELD_END,
};
static const struct rdsbk_field s_untag_queue_input[] = {
    RDSBK_FIELD(STR, "QueueUrl", S_QUEUE_TAGS(url)),
    RDSBK_FIELD_N(LIST, "TagKey", S_QUEUE_TAGS(keys), S_QUEUE_TAGS(n), "", NULL),
    RDSBK_FIELD_END,
};

/* Attribute.N.Name / Attribute.N.Value of each member of `attributes` (NULL: none), which must
 * all be strings. */
static int s_add_attributes(struct rdsbk_query *q, const cJSON *attributes) {
    const cJSON *a;
    size_t i = 0;
    int rc = 0;

    cJSON_ArrayForEach(a, attributes) {
        if (!cJSON_IsString(a)) {
            rc = rdsbk_error_set(RDSBK_EINVALID, "sqs: queue attribute %s is not a string",
                                 a->string);
            goto cleanup;
        }
        i++;
        RDSBK_TRY(rdsbk_query_addf(q, a->string, "Attribute.%zu.Name", i));
        RDSBK_TRY(rdsbk_query_addf(q, a->valuestring, "Attribute.%zu.Value", i));
    }

cleanup:
    return rc;
}

/* ---- queues ---- */

int rdsbk_sqs_create_queue(char **url_out, struct rdsbk_client *client,
                           const struct rdsbk_sqs_create_queue_input *in) {
    static const struct rdsbk_svc_query_op op = {.api = &s_api,
                                                 .action = "CreateQueue",
                                                 .input = s_create_queue_input,
                                                 .shape = &s_queue_url};
    struct rdsbk_query q;
    int rc = rdsbk_svc_query_start(&q, &op, NULL, in);

    if (rc == 0)
        rc = s_add_attributes(&q, in->attributes);
    rc = rdsbk_svc_query_finish(url_out, client, &op, &q, rc);
    if (rc == 0 && !*url_out)
        rc = rdsbk_error_set(RDSBK_EINVALID, "sqs:CreateQueue: no QueueUrl in the reply");
    return rc;
}

int rdsbk_sqs_get_queue_url(char **url_out, struct rdsbk_client *client, const char *name) {
    static const struct rdsbk_svc_query_op op = {
        .api = &s_api, .action = "GetQueueUrl", .shape = &s_queue_url};
    const struct rdsbk_arg args[] = {{"QueueName", name}, {NULL, NULL}};

    return rdsbk_svc_query_string(url_out, client, &op, args, NULL, "QueueUrl");
}

int rdsbk_sqs_delete_queue(struct rdsbk_client *client, const char *url) {
    const struct rdsbk_arg args[] = {{"QueueUrl", url}, {NULL, NULL}};

    return rdsbk_svc_query_simple(client, &s_api, "DeleteQueue", args);
}

int rdsbk_sqs_get_queue_attributes(cJSON **attributes_out, struct rdsbk_client *client,
                                   const char *url) {
    static const struct rdsbk_svc_query_op op = {.api = &s_api, .action = "GetQueueAttributes"};
    const struct rdsbk_arg args[] = {{"QueueUrl", url}, {"AttributeName.1", "All"}, {NULL, NULL}};
    struct rdsbk_query_reply reply;
    int rc;

    *attributes_out = NULL;
    RDSBK_TRY(rdsbk_svc_query_reply(&reply, client, &op, args, NULL));
    rc = rdsbk_xml_path_map(attributes_out, reply.result, "", "Attribute", "Name", "Value");

cleanup:
    rdsbk_query_reply_clean_up(&reply);
    return rc;
}

int rdsbk_sqs_set_queue_attribute(struct rdsbk_client *client, const char *url, const char *name,
                                  const char *value) {
    const struct rdsbk_arg args[] = {
        {"QueueUrl", url}, {"Attribute.1.Name", name}, {"Attribute.1.Value", value}, {NULL, NULL}};

    return rdsbk_svc_query_simple(client, &s_api, "SetQueueAttributes", args);
}

/* ---- tags ---- */

int rdsbk_sqs_tag_queue(struct rdsbk_client *client, const char *url, const struct rdsbk_tag *tags,
                        size_t n) {
    static const struct rdsbk_svc_query_op op = {
        .api = &s_api, .action = "TagQueue", .input = s_tag_queue_input};
    const struct s_queue_tags in = {url, tags, NULL, n};

    return rdsbk_svc_query_call(NULL, client, &op, NULL, &in);
}

int rdsbk_sqs_untag_queue(struct rdsbk_client *client, const char *url, const char *const *keys,
                          size_t n) {
    static const struct rdsbk_svc_query_op op = {
        .api = &s_api, .action = "UntagQueue", .input = s_untag_queue_input};
    const struct s_queue_tags in = {url, NULL, keys, n};

    return rdsbk_svc_query_call(NULL, client, &op, NULL, &in);
}

int rdsbk_sqs_list_queue_tags(struct rdsbk_tag **out, size_t *n_out, struct rdsbk_client *client,
                              const char *url) {
    static const struct rdsbk_svc_query_op op = {.api = &s_api, .action = "ListQueueTags"};
    const struct rdsbk_arg args[] = {{"QueueUrl", url}, {NULL, NULL}};
    struct rdsbk_query_reply reply;
    int rc;

    *out = NULL;
    *n_out = 0;
    RDSBK_TRY(rdsbk_svc_query_reply(&reply, client, &op, args, NULL));
    rc = rdsbk_xml_path_tags(out, n_out, reply.result, "", "Tag");

cleanup:
    rdsbk_query_reply_clean_up(&reply);
    return rc;
}
