#ifndef RDSBK_SERVICES_SNS_H
#define RDSBK_SERVICES_SNS_H

#include "rdsbk/client.h"
#include "rdsbk/config.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/*
 * SNS (awsQuery, API version 2010-03-31): standard topics, their attributes (the topic policy
 * among them) and tags, and their subscriptions. Topics are named by their ARN. Errors: NotFound
 * (a topic or subscription) and ResourceNotFound (the tagging calls) -> RDSBK_ENOTFOUND,
 * InvalidParameter -> RDSBK_EINVALID, AuthorizationError -> RDSBK_EAUTH, Throttled ->
 * RDSBK_ETHROTTLED; the AWS code stays in rdsbk_error_last().
 *
 * Every call returns 0, or a negative rdsbk_error_code with the error set (rdsbk_error_last()
 * keeps the AWS code, HTTP status and request id); on failure its out parameters hold nothing
 * (NULL / zeroed). List calls follow every page and return everything. Nothing is retained
 * between calls; calls on one client may run in parallel.
 */

struct rdsbk_sns_create_topic_input {
    const char *name; /* required */
    const struct rdsbk_tag *tags;
    size_t n_tags;
};

/* CreateTopic (a standard topic; no attributes: SetTopicAttributes sets them): *arn_out the
 * topic's ARN (caller frees). SNS answers the existing topic for a name it has with the same
 * tags, and refuses one with other tags (InvalidParameter). */
int rdsbk_sns_create_topic(char **arn_out, struct rdsbk_client *client,
                           const struct rdsbk_sns_create_topic_input *in);

/* DeleteTopic, which deletes its subscriptions too. A topic that does not exist is no error on
 * AWS: 0. */
int rdsbk_sns_delete_topic(struct rdsbk_client *client, const char *topic_arn);

/* GetTopicAttributes: *attributes_out a new object of the Attributes map, {"Policy": "<JSON
 * text>", "Owner": "...", "TopicArn": "...", ...}, values as strings (caller deletes).
 * RDSBK_ENOTFOUND when the topic does not exist. */
int rdsbk_sns_get_topic_attributes(cJSON **attributes_out, struct rdsbk_client *client,
                                   const char *topic_arn);

/* SetTopicAttributes of one attribute ("Policy": the policy document as JSON text). */
int rdsbk_sns_set_topic_attribute(struct rdsbk_client *client, const char *topic_arn,
                                  const char *name, const char *value);

/* Subscribe with ReturnSubscriptionArn: *arn_out (caller frees) the subscription's ARN, even for
 * one pending confirmation (an email address confirms by a link SNS mails it; without
 * ReturnSubscriptionArn SNS answers "pending confirmation" instead). An endpoint already
 * subscribed gets the subscription it has. */
int rdsbk_sns_subscribe(char **arn_out, struct rdsbk_client *client, const char *topic_arn,
                        const char *protocol, const char *endpoint);

/* Unsubscribe. RDSBK_ENOTFOUND when the subscription does not exist; a subscription pending
 * confirmation cannot be deleted (InvalidParameter, "... pending confirmation": RDSBK_EINVALID),
 * SNS deletes it when it is not confirmed in time (48 hours), or with its topic. */
int rdsbk_sns_unsubscribe(struct rdsbk_client *client, const char *subscription_arn);

/* What ListSubscriptionsByTopic gives as the ARN of a subscription pending confirmation. */
#define RDSBK_SNS_PENDING "PendingConfirmation"

struct rdsbk_sns_subscription {
    char *arn; /* RDSBK_SNS_PENDING while pending confirmation */
    char *owner;
    char *protocol;
    char *endpoint;
    char *topic_arn;
};

/* Frees an array of subscriptions (NULL is fine). */
void rdsbk_sns_subscriptions_free(struct rdsbk_sns_subscription *subs, size_t n);

/* ListSubscriptionsByTopic, every page (NextToken): a new array the caller frees with
 * rdsbk_sns_subscriptions_free. RDSBK_ENOTFOUND when the topic does not exist. */
int rdsbk_sns_list_subscriptions_by_topic(struct rdsbk_sns_subscription **out, size_t *n_out,
                                          struct rdsbk_client *client, const char *topic_arn);

/* A topic's tags: TagResource, UntagResource, ListTagsForResource (a new array the caller frees
 * with rdsbk_aws_tags_free). RDSBK_ENOTFOUND when the topic does not exist. */
int rdsbk_sns_tag_resource(struct rdsbk_client *client, const char *arn,
                           const struct rdsbk_tag *tags, size_t n);
int rdsbk_sns_untag_resource(struct rdsbk_client *client, const char *arn, const char *const *keys,
                             size_t n);
int rdsbk_sns_list_tags_for_resource(struct rdsbk_tag **out, size_t *n_out,
                                     struct rdsbk_client *client, const char *arn);

#endif
