#ifndef RDSBK_ENDPOINTS_H
#define RDSBK_ENDPOINTS_H

#include <stdbool.h>

/*
 * Where each AWS service is reached and which Region its requests are signed for.
 */

struct rdsbk_endpoints; /* config.h: the topology's `endpoints:` overrides */

/* The partition of a Region: "aws-cn" for cn-*, "aws-us-gov" for us-gov-*, else "aws". Never
 * NULL; static string. */
const char *rdsbk_partition_of_region(const char *region);

/*
 * The endpoint URL for `service` ("sts", "iam", "kms", "events", "lambda", "rds", "logs", "sns",
 * "sqs", "s3") in `region`. Precedence, first match wins (the AWS SDKs' order, with the topology as
 * the most specific configuration):
 *   1. topology_overrides-><service>
 *   2. topology_overrides->default_url
 *   3. env AWS_ENDPOINT_URL_<SERVICE_ID> (AWS_ENDPOINT_URL_STS, _IAM, _KMS, _EVENTBRIDGE, _LAMBDA,
 *      _RDS, _CLOUDWATCH_LOGS, _SNS, _SQS, _S3: the service id upper-cased with spaces as
 *      underscores, as the SDKs name them)
 *   4. env AWS_ENDPOINT_URL
 *   5. the partition default: https://<service>.<region>.amazonaws.com(.cn); IAM is global
 *      (https://iam.amazonaws.com, https://iam.cn-north-1.amazonaws.com.cn,
 *      https://iam.us-gov.amazonaws.com); STS is regional; S3 is
 *      https://s3.<region>.amazonaws.com(.cn), us-east-1 included (s3.us-east-1.amazonaws.com, as
 *      the SDKs' S3 endpoint rules give it), before a bucket is put in it
 *      (rdsbk_endpoint_s3_bucket).
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
 * (127.0.0.0/8, ::1, localhost, and <name>.localhost with libcurl 7.85.0 or later, which resolves
 * those to loopback itself). No userinfo, query or fragment. Returns 0 or RDSBK_EINVALID with a
 * message. (TLS verification itself can never be turned off.)
 */
int rdsbk_endpoint_check_url(const char *url);

/*
 * How S3 requests for `bucket` are addressed at `endpoint` (rdsbk_endpoint_resolve's URL for
 * "s3", no trailing slash):
 *   virtual-hosted: *url_out "<scheme>://<bucket>.<host>[:<port>][<path>]" and *path_style_out
 *                   false; an object is <url>/<key>, the bucket itself <url>/
 *   path-style:     *url_out a copy of `endpoint` and *path_style_out true; an object is
 *                   <url>/<bucket>/<key>, the bucket itself <url>/<bucket>
 * Virtual-hosted unless (path-style then):
 *   - env AWS_S3_FORCE_PATH_STYLE is "true" (any case) or "1" (this tool's switch: botocore
 *     configures it only as `s3.addressing_style = path` in the config file);
 *   - the endpoint's host is an IP address (the SDKs' S3 endpoint rules: a custom endpoint that
 *     isIp is addressed path-style), e.g. http://127.0.0.1:4566;
 *   - the bucket name is not one DNS label of 3-63 lower-case letters, digits and hyphens with a
 *     letter or digit at each end: a name with dots would not match the *.s3.<region>
 *     certificate (botocore's check_dns_name refuses dots too).
 * E.g. https://s3.eu-west-1.amazonaws.com and "b" give https://b.s3.eu-west-1.amazonaws.com;
 * http://s3.localhost:4566 gives http://b.s3.localhost:4566. Returns 0, RDSBK_EINVALID (an
 * unparsable endpoint) or RDSBK_ENOMEM with the error set; *url_out is the caller's to free
 * (NULL on failure).
 */
int rdsbk_endpoint_s3_bucket(char **url_out, bool *path_style_out, const char *endpoint,
                             const char *bucket);

/* Copies the topology's endpoint overrides into `dst` (`src` NULL: none). Returns 0 or
 * RDSBK_ENOMEM (error set; `dst` then holds nothing). Clean up with rdsbk_endpoints_clean_up. */
int rdsbk_endpoints_copy(struct rdsbk_endpoints *dst, const struct rdsbk_endpoints *src);

/* Frees every URL of `e` and zeroes it. */
void rdsbk_endpoints_clean_up(struct rdsbk_endpoints *e);

#endif
