#ifndef RDSBK_SERVICES_LOGS_H
#define RDSBK_SERVICES_LOGS_H

#include "rdsbk/client.h"
#include "rdsbk/config.h"

#include <cjson/cJSON.h>

/*
 * CloudWatch Logs (awsJson1.1, X-Amz-Target: Logs_20140328.<Op>), the log groups of the
 * pipeline's functions. Errors: ResourceNotFoundException -> RDSBK_ENOTFOUND,
 * ResourceAlreadyExistsException -> RDSBK_ECONFLICT, InvalidParameterException -> RDSBK_EINVALID.
 *
 * Every call returns 0, or a negative rdsbk_error_code with the error set (rdsbk_error_last()
 * keeps the AWS code, HTTP status and request id); on failure its out parameters hold nothing.
 * Nothing is retained between calls; calls on one client may run in parallel.
 */

/* CreateLogGroup with tags (may be none). */
int rdsbk_logs_create_log_group(struct rdsbk_client *client, const char *name,
                                const struct rdsbk_tag *tags, size_t n_tags);

/* DeleteLogGroup. */
int rdsbk_logs_delete_log_group(struct rdsbk_client *client, const char *name);

/* DescribeLogGroups for exactly `name` (the prefix, every page, then the one of that name):
 * *group_out the logGroup object (logGroupName, arn, logGroupArn, retentionInDays when set,
 * creationTime) the caller deletes; RDSBK_ENOTFOUND when there is none. */
int rdsbk_logs_describe_log_group(cJSON **group_out, struct rdsbk_client *client, const char *name);

/* The log events of group `name` from `start_ms` (milliseconds since the epoch) on that match
 * `filter_pattern` (CloudWatch Logs' syntax, e.g. `{ $.result = "error" }`), all pages:
 * *events_out is a new array of FilterLogEvents' event objects (logStreamName, timestamp,
 * message, ...). RDSBK_ENOTFOUND when the group does not exist. */
int rdsbk_logs_filter_events(cJSON **events_out, struct rdsbk_client *client, const char *name,
                             const char *filter_pattern, long long start_ms);

/* PutRetentionPolicy (`days` one of the values AWS allows), or DeleteRetentionPolicy for 0:
 * the events never expire. */
int rdsbk_logs_set_retention(struct rdsbk_client *client, const char *name, int days);

/* ListTagsForResource of a log group's ARN (logGroupArn, without ":*"): a new array the caller
 * frees with rdsbk_aws_tags_free. */
int rdsbk_logs_list_tags(struct rdsbk_tag **out, size_t *n_out, struct rdsbk_client *client,
                         const char *arn);

/* TagResource / UntagResource of a log group's ARN. */
int rdsbk_logs_tag(struct rdsbk_client *client, const char *arn, const struct rdsbk_tag *tags,
                   size_t n_tags);
int rdsbk_logs_untag(struct rdsbk_client *client, const char *arn, const char *const *keys,
                     size_t n_keys);

#endif
