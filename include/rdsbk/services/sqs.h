#ifndef RDSBK_SERVICES_SQS_H
#define RDSBK_SERVICES_SQS_H

#include "rdsbk/client.h"
#include "rdsbk/config.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/*
 * SQS (awsQuery, API version 2012-11-05): standard queues, their attributes and tags. A queue is
 * named by its URL (GetQueueUrl or CreateQueue give it) in every call but those two; its
 * attributes travel as SQS names them ("MessageRetentionPeriod", "Policy", ...), every value a
 * string. Errors: AWS.SimpleQueueService.NonExistentQueue (a name or URL of no queue) ->
 * RDSBK_ENOTFOUND; QueueAlreadyExists (the name, with other attributes) -> RDSBK_ECONFLICT;
 * AWS.SimpleQueueService.QueueDeletedRecently (a name deleted less than 60 s ago),
 * InvalidParameterValue, InvalidAttributeName, InvalidAttributeValue -> RDSBK_EINVALID;
 * AccessDenied -> RDSBK_EAUTH; the AWS code stays in rdsbk_error_last().
 *
 * Every call returns 0, or a negative rdsbk_error_code with the error set (rdsbk_error_last()
 * keeps the AWS code, HTTP status and request id); on failure its out parameters hold nothing
 * (NULL / zeroed). Nothing is retained between calls; calls on one client may run in parallel.
 */

struct rdsbk_sqs_create_queue_input {
    const char *name;        /* required: 1-80 of A-Z a-z 0-9 - _ */
    const cJSON *attributes; /* {"VisibilityTimeout": "30", ...}, string values; NULL: none */
    const struct rdsbk_tag *tags;
    size_t n_tags;
};

/* CreateQueue (a standard queue) with its attributes and tags in one call: *url_out the queue's
 * URL (caller frees). SQS answers the existing queue for a name it has with the same attributes
 * (tags are not compared), and QueueAlreadyExists (RDSBK_ECONFLICT) for one with other values;
 * a name deleted less than 60 s ago is refused with QueueDeletedRecently (RDSBK_EINVALID). An
 * attribute value that is not a string is RDSBK_EINVALID before anything is sent. */
int rdsbk_sqs_create_queue(char **url_out, struct rdsbk_client *client,
                           const struct rdsbk_sqs_create_queue_input *in);

/* GetQueueUrl of the caller's queue `name` in the client's Region: *url_out (caller frees).
 * RDSBK_ENOTFOUND when there is none. */
int rdsbk_sqs_get_queue_url(char **url_out, struct rdsbk_client *client, const char *name);

/* DeleteQueue, messages and all. RDSBK_ENOTFOUND when the queue does not exist. On AWS the
 * deletion takes up to 60 s, during which calls naming the queue may still succeed, and its name
 * can be used again only 60 s after it (botocore's model, DeleteQueue). */
int rdsbk_sqs_delete_queue(struct rdsbk_client *client, const char *url);

/* GetQueueAttributes All: *attributes_out a new object {"QueueArn": "...", "VisibilityTimeout":
 * "30", "Policy": "<JSON text>", ...} of every attribute the queue has, values as strings
 * (caller deletes); an attribute that is not set (a policy) is absent. RDSBK_ENOTFOUND when the
 * queue does not exist. */
int rdsbk_sqs_get_queue_attributes(cJSON **attributes_out, struct rdsbk_client *client,
                                   const char *url);

/* SetQueueAttributes of one attribute ("" removes a Policy). On AWS a change takes up to 60 s to
 * propagate, 15 minutes for MessageRetentionPeriod (botocore's model): a read right after may
 * still see the old value. */
int rdsbk_sqs_set_queue_attribute(struct rdsbk_client *client, const char *url, const char *name,
                                  const char *value);

/* A queue's tags: TagQueue, UntagQueue, ListQueueTags (a new array the caller frees with
 * rdsbk_aws_tags_free). RDSBK_ENOTFOUND when the queue does not exist. */
int rdsbk_sqs_tag_queue(struct rdsbk_client *client, const char *url, const struct rdsbk_tag *tags,
                        size_t n);
int rdsbk_sqs_untag_queue(struct rdsbk_client *client, const char *url, const char *const *keys,
                          size_t n);
int rdsbk_sqs_list_queue_tags(struct rdsbk_tag **out, size_t *n_out, struct rdsbk_client *client,
                              const char *url);

#endif
