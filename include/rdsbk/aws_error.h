#ifndef RDSBK_AWS_ERROR_H
#define RDSBK_AWS_ERROR_H

#include "rdsbk/http.h"

#include <stdbool.h>

/*
 * Error replies of the four protocols, normalised.
 */

/* All strings owned by the struct (NULL when absent); rdsbk_aws_error_clean_up frees them. */
struct rdsbk_aws_error {
    char *code;       /* e.g. "AccessDenied", "ResourceNotFoundException" */
    char *message;    /* the server's message */
    char *request_id; /* x-amzn-RequestId / x-amz-request-id / <RequestId> */
    long status;
};

/*
 * Parses the error reply in `resp`, any protocol:
 *   - JSON body (awsJson1.1, restJson1): `__type` or `code` / `Code`; `message` / `Message`;
 *     a `namespace#` prefix and a `:http://...` suffix are stripped from the code;
 *   - header X-Amzn-ErrorType (same stripping), preferred over the body for restJson1;
 *   - XML: <ErrorResponse><Error><Code>/<Message></Error><RequestId> (awsQuery) and
 *     <Response><Errors><Error><Code>/<Message></Error></Errors><RequestID> (EC2 style), and a
 *     bare <Error><Code>/<Message>/<RequestId> (restXml: S3).
 * Request id from the x-amzn-RequestId or x-amz-request-id header, else the body.
 * When no code is found, `code` is derived from the status ("HTTP 503").
 * Returns 0 (out filled; clean up) or RDSBK_ENOMEM (out holds nothing).
 */
int rdsbk_aws_error_parse(struct rdsbk_aws_error *out, const struct rdsbk_http_response *resp);

/* Frees the strings and zeroes the struct. */
void rdsbk_aws_error_clean_up(struct rdsbk_aws_error *err);

/* True for throttling codes and transient failures (HTTP 500/502/503/504, timeouts), the list of
 * the SDKs' standard retry mode. */
bool rdsbk_aws_error_is_retryable(long status, const char *code);

/* The same for a given service (our names: "sts", "iam", "kms", "events", "lambda", "rds", "s3",
 * ...): EventBridge's LimitExceededException is a resource quota, not a rate limit, and is not
 * retried (IAM's quota error is "LimitExceeded", which no list contains); S3's 409
 * ConditionalRequestConflict (two conditional writes racing) is retried. rdsbk_aws_send uses
 * this. */
bool rdsbk_aws_error_is_retryable_for(const char *service, long status, const char *code);

/* True when `code` is a throttling code (subset of the retryable ones). */
bool rdsbk_aws_error_is_throttling(const char *code);

/*
 * The rdsbk error code for an AWS error reply:
 *   throttling codes                         -> RDSBK_ETHROTTLED
 *   *NotFound*, NoSuch*, AWS.SimpleQueueService.NonExistentQueue, 404 -> RDSBK_ENOTFOUND
 *   *AlreadyExists*, EntityAlreadyExists, ResourceConflictException, ConflictException,
 *   ResourceInUseException, PreconditionFailed (S3's conditional writes), 409, 412
 *                                            -> RDSBK_ECONFLICT
 *   AccessDenied*, UnrecognizedClient, InvalidClientTokenId, SignatureDoesNotMatch,
 *   ExpiredToken*, InvalidSignatureException, IncompleteSignature, MissingAuthenticationToken,
 *   AuthFailure, UnauthorizedOperation, 401, 403                -> RDSBK_EAUTH
 *   Validation*, InvalidParameter*, MalformedPolicyDocument*, InvalidInput, PermanentRedirect
 *   (S3: the bucket is in another Region), other 4xx -> RDSBK_EINVALID
 *   anything else (5xx ...)                  -> RDSBK_ERROR
 */
int rdsbk_aws_error_to_code(long status, const char *code);

#endif
