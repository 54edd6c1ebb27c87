/*
 * SNS (awsQuery): topics, their attributes and tags, and their subscriptions. Each reply struct is
 * a table of where its members are in the XML, each input struct one of the members it sends;
 * services/svc.c sends, reads and pages (NextToken). GetTopicAttributes' map is read into a JSON
 * object (rdsbk_xml_path_map).
 */
#include "rdsbk/services/sns.h"
#include "rdsbk/error.h"
#include "services/svc.h"

#include <stddef.h>
#include <stdlib.h>

static const struct rdsbk_svc_query_api s_api = {"sns", "2010-03-31", "NextToken"};

/* ---- the structs of the replies ---- */

#define S_SUB(m) offsetof(struct rdsbk_sns_subscription, m)
static const struct rdsbk_field s_subscription_fields[] = {
    RDSBK_FIELD(STR, "SubscriptionArn", S_SUB(arn)), RDSBK_FIELD(STR, "Owner", S_SUB(owner)),
    RDSBK_FIELD(STR, "Protocol", S_SUB(protocol)),   RDSBK_FIELD(STR, "Endpoint", S_SUB(endpoint)),
    RDSBK_FIELD(STR, "TopicArn", S_SUB(topic_arn)),  RDSBK_FIELD_END,
};
static const struct rdsbk_shape s_subscription = {s_subscription_fields,
                                                  sizeof(struct rdsbk_sns_subscription), NULL};

/* One string of the Result alone, into a char *: a new topic's or subscription's ARN. */
static const struct rdsbk_field s_topic_arn_fields[] = {
    RDSBK_FIELD(STR, "TopicArn", 0),
    RDSBK_FIELD_END,
};
static const struct rdsbk_shape s_topic_arn = {s_topic_arn_fields, sizeof(char *), NULL};

static const struct rdsbk_field s_subscription_arn_fields[] = {
    RDSBK_FIELD(STR, "SubscriptionArn", 0),
    RDSBK_FIELD_END,
};
static const struct rdsbk_shape s_subscription_arn = {s_subscription_arn_fields, sizeof(char *),
                                                      NULL};

/* ---- the structs of the requests ---- */

#define S_CREATE_TOPIC(m) offsetof(struct rdsbk_sns_create_topic_input, m)
static const struct rdsbk_field s_create_topic_input[] = {
    RDSBK_FIELD(STR, "Name", S_CREATE_TOPIC(name)),
    RDSBK_FIELD_N(TAGS, "Tags", S_CREATE_TOPIC(tags), S_CREATE_TOPIC(n_tags), NULL, NULL),
    RDSBK_FIELD_END,
};

/* TagResource / UntagResource: the topic and its tags, or the keys of the tags to remove. */
struct s_resource_tags {
    const char *arn;
    const struct rdsbk_tag *tags;
    const char *const *keys;
    size_t n;
};
#define S_RESOURCE_TAGS(m) offsetof(struct s_resource_tags, m)
static const struct rdsbk_field s_tag_resource_input[] = {
    RDSBK_FIELD(STR, "ResourceArn", S_RESOURCE_TAGS(arn)),
    RDSBK_FIELD_N(TAGS, "Tags", S_RESOURCE_TAGS(tags), S_RESOURCE_TAGS(n), NULL, NULL),
    RDSBK_FIELD_END,
};
static const struct rdsbk_field s_untag_resource_input[] = {
    RDSBK_FIELD(STR, "ResourceArn", S_RESOURCE_TAGS(arn)),
    RDSBK_FIELD_N(LIST, "TagKeys", S_RESOURCE_TAGS(keys), S_RESOURCE_TAGS(n), "member", NULL),
    RDSBK_FIELD_END,
};

/* ---- topics ---- */

int rdsbk_sns_create_topic(char **arn_out, struct rdsbk_client *client,
                           const struct rdsbk_sns_create_topic_input *in) {
    static const struct rdsbk_svc_query_op op = {.api = &s_api,
                                                 .action = "CreateTopic",
                                                 .input = s_create_topic_input,
                                                 .shape = &s_topic_arn};

    return rdsbk_svc_query_string(arn_out, client, &op, NULL, in, "TopicArn");
}

int rdsbk_sns_delete_topic(struct rdsbk_client *client, const char *topic_arn) {
    const struct rdsbk_arg args[] = {{"TopicArn", topic_arn}, {NULL, NULL}};

    return rdsbk_svc_query_simple(client, &s_api, "DeleteTopic", args);
}

int rdsbk_sns_get_topic_attributes(cJSON **attributes_out, struct rdsbk_client *client,
                                   const char *topic_arn) {
    static const struct rdsbk_svc_query_op op = {.api = &s_api, .action = "GetTopicAttributes"};
    const struct rdsbk_arg args[] = {{"TopicArn", topic_arn}, {NULL, NULL}};
    struct rdsbk_query_reply reply;
    int rc;

    *attributes_out = NULL;
    RDSBK_TRY(rdsbk_svc_query_reply(&reply, client, &op, args, NULL));
    if (!rdsbk_xml_child(reply.result, "Attributes")) {
        rc = rdsbk_error_set(RDSBK_EINVALID, "sns:GetTopicAttributes: no Attributes in the reply");
        goto cleanup;
    }
    rc = rdsbk_xml_path_map(attributes_out, reply.result, "Attributes", NULL, NULL, NULL);

cleanup:
    rdsbk_query_reply_clean_up(&reply);
    return rc;
}

int rdsbk_sns_set_topic_attribute(struct rdsbk_client *client, const char *topic_arn,
                                  const char *name, const char *value) {
    const struct rdsbk_arg args[] = {
        {"TopicArn", topic_arn}, {"AttributeName", name}, {"AttributeValue", value}, {NULL, NULL}};

    return rdsbk_svc_query_simple(client, &s_api, "SetTopicAttributes", args);
}

/* ---- subscriptions ---- */

int rdsbk_sns_subscribe(char **arn_out, struct rdsbk_client *client, const char *topic_arn,
                        const char *protocol, const char *endpoint) {
    static const struct rdsbk_svc_query_op op = {
        .api = &s_api, .action = "Subscribe", .shape = &s_subscription_arn};
    const struct rdsbk_arg args[] = {{"TopicArn", topic_arn},
                                     {"Protocol", protocol},
                                     {"Endpoint", endpoint},
                                     {"ReturnSubscriptionArn", "true"},
                                     {NULL, NULL}};

    return rdsbk_svc_query_string(arn_out, client, &op, args, NULL, "SubscriptionArn");
}

int rdsbk_sns_unsubscribe(struct rdsbk_client *client, const char *subscription_arn) {
    const struct rdsbk_arg args[] = {{"SubscriptionArn", subscription_arn}, {NULL, NULL}};

    return rdsbk_svc_query_simple(client, &s_api, "Unsubscribe", args);
}

void rdsbk_sns_subscriptions_free(struct rdsbk_sns_subscription *subs, size_t n) {
    rdsbk_shape_free_array(subs, n, &s_subscription);
}

int rdsbk_sns_list_subscriptions_by_topic(struct rdsbk_sns_subscription **out, size_t *n_out,
                                          struct rdsbk_client *client, const char *topic_arn) {
    static const struct rdsbk_svc_query_op op = {.api = &s_api,
                                                 .action = "ListSubscriptionsByTopic",
                                                 .output = "Subscriptions",
                                                 .shape = &s_subscription};
    const struct rdsbk_arg args[] = {{"TopicArn", topic_arn}, {NULL, NULL}};
    struct rdsbk_items subs;
    struct rdsbk_query q;
    int rc = rdsbk_svc_query_start(&q, &op, args, NULL);

    rc = rdsbk_svc_query_list(&subs, client, &op, &q, rc);
    *out = subs.data;
    *n_out = subs.n;
    return rc;
}

/* ---- tags ---- */

int rdsbk_sns_tag_resource(struct rdsbk_client *client, const char *arn,
                           const struct rdsbk_tag *tags, size_t n) {
    static const struct rdsbk_svc_query_op op = {
        .api = &s_api, .action = "TagResource", .input = s_tag_resource_input};
    const struct s_resource_tags in = {arn, tags, NULL, n};

    return rdsbk_svc_query_call(NULL, client, &op, NULL, &in);
}

int rdsbk_sns_untag_resource(struct rdsbk_client *client, const char *arn, const char *const *keys,
                             size_t n) {
    static const struct rdsbk_svc_query_op op = {
        .api = &s_api, .action = "UntagResource", .input = s_untag_resource_input};
    const struct s_resource_tags in = {arn, NULL, keys, n};

    return rdsbk_svc_query_call(NULL, client, &op, NULL, &in);
}

int rdsbk_sns_list_tags_for_resource(struct rdsbk_tag **out, size_t *n_out,
                                     struct rdsbk_client *client, const char *arn) {
    static const struct rdsbk_svc_query_op op = {.api = &s_api, .action = "ListTagsForResource"};
    const struct rdsbk_arg args[] = {{"ResourceArn", arn}, {NULL, NULL}};
    struct rdsbk_query_reply reply;
    int rc;

    *out = NULL;
    *n_out = 0;
    RDSBK_TRY(rdsbk_svc_query_reply(&reply, client, &op, args, NULL));
    rc = rdsbk_xml_path_tags(out, n_out, reply.result, "Tags", NULL);

cleanup:
    rdsbk_query_reply_clean_up(&reply);
    return rc;
}
