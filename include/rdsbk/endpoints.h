#ifndef RDSBK_ENDPOINTS_H
#define RDSBK_ENDPOINTS_H

/*
 * Where each AWS service is reached and which Region its requests are signed for.
 */

struct rdsbk_endpoints; /* config.h: the topology's `endpoints:` overrides */

/* The partition of a Region: "aws-cn" for cn-*, "aws-us-gov" for us-gov-*, else "aws". Never
 * NULL; static string. */
const char *rdsbk_partition_of_region(const char *region);

/*
 * The endpoint URL for `service` ("sts", "iam", "kms", "events", "lambda", "rds", "logs", "sns",
 * "sqs") in `region`. Precedence, first match wins (the AWS SDKs' order, with the topology as the
 * most specific configuration):
 *   1. topology_overrides-><service>
 *   2. topology_overrides->default_url
 *   3. env AWS_ENDPOINT_URL_<SERVICE_ID> (AWS_ENDPOINT_URL_STS, _IAM, _KMS, _EVENTBRIDGE, _LAMBDA,
 *      _RDS, _CLOUDWATCH_LOGS, _SNS, _SQS: the service id upper-cased with spaces as underscores,
 * as the SDKs name them)
 *   4. env AWS_ENDPOINT_URL
 *   5. the partition default: https://<service>.<region>.amazonaws.com(.cn); IAM is global
 *      (https://iam.amazonaws.com, https://iam.cn-north-1.amazonaws.com.cn,
 *      https://iam.us-gov.amazonaws.com); STS is regional.
 * Empty values are ignored; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true turns 3 and 4 off (as in the
 * SDKs). Any URL chosen is checked with rdsbk_endpoint_check_url.
 * On success returns 0, `*url_out` (caller frees, no trailing slash) and `*signing_region_out`
 * (static or borrowed from `region`: us-east-1 for IAM in aws, cn-north-1 / us-gov-west-1 for IAM
 * in aws-cn / aws-us-gov, else `region`). Returns RDSBK_EINVALID (unknown service, bad Region or
 * URL) or RDSBK_ENOMEM with the error set; `*url_out` is then NULL.
 * `topology_overrides` may be NULL.
 */
int rdsbk_endpoint_resolve(char **url_out, const char **signing_region_out,
                           const struct rdsbk_endpoints *topology_overrides, const char *service,
                           const char *region);

/*
 * Checks an endpoint URL: https://host[:port][/path], or http:// only to loopback hosts
 * (127.0.0.0/8, ::1, localhost). No userinfo, query or fragment. Returns 0 or RDSBK_EINVALID with
 * a message. (TLS verification itself can never be turned off.)
 */
int rdsbk_endpoint_check_url(const char *url);

/* Copies the topology's endpoint overrides into `dst` (`src` NULL: none). Returns 0 or
 * RDSBK_ENOMEM (error set; `dst` then holds nothing). Clean up with rdsbk_endpoints_clean_up. */
int rdsbk_endpoints_copy(struct rdsbk_endpoints *dst, const struct rdsbk_endpoints *src);

/* Frees every URL of `e` and zeroes it. */
void rdsbk_endpoints_clean_up(struct rdsbk_endpoints *e);

#endif
