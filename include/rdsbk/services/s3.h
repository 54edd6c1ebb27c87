#ifndef RDSBK_SERVICES_S3_H
#define RDSBK_SERVICES_S3_H

#include "rdsbk/buf.h"
#include "rdsbk/client.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * Amazon S3 (restXml, API 2006-03-01): the objects of one bucket, read and written with
 * conditions, as a remote state store keeps its files; and the bucket calls that set one up.
 *
 * Addressing: virtual-hosted (https://<bucket>.s3.<region>.amazonaws.com/<key>) or path-style
 * (<endpoint>/<bucket>/<key>), as rdsbk_endpoint_resolve and rdsbk_endpoint_s3_bucket decide
 * (AWS_ENDPOINT_URL_S3, endpoints.s3, AWS_S3_FORCE_PATH_STYLE). A key is any UTF-8 of 1 to 1,024
 * bytes; each of its '/'-separated segments is URI-encoded, '/' kept. Requests are signed for the
 * client's Region with S3's SigV4 rules: X-Amz-Content-SHA256 is always the body's SHA-256, never
 * UNSIGNED-PAYLOAD, so S3 refuses a body changed on the way.
 *
 * ETags are returned as S3 sends them, quoted ("\"9b2cf535f27731c974343645a3985328\""); pass
 * them back as they came (If-Match).
 *
 * Every call returns 0, or a negative rdsbk_error_code with the error set (rdsbk_error_last()
 * keeps the AWS code, HTTP status and request id); on failure its out parameters hold nothing.
 *   RDSBK_ENOTFOUND  404: NoSuchKey, NoSuchBucket, NoSuchVersion, or NotFound (a HEAD reply has
 *                    no body to name what is missing); also 400 KMS.NotFoundException, a KMS key
 *                    S3 cannot find (rdsbk_error_last()->aws_code tells them apart)
 *   RDSBK_ECONFLICT  412 PreconditionFailed: a conditional write whose condition did not hold
 *                    (rdsbk_s3_precondition_failed); also a 409 ConditionalRequestConflict still
 *                    answered after every retry (two conditional writes racing)
 *   RDSBK_EAUTH      403: AccessDenied (S3 answers it rather than 404 to a caller without
 *                    s3:ListBucket), KMS refusals, signature and credential errors
 *   RDSBK_EINVALID   400s; 301 PermanentRedirect: the bucket is in another Region than the
 *                    client's (the message names it; rdsbk_s3_head_bucket tells which)
 * 409 ConditionalRequestConflict, 503 SlowDown, 500 InternalError and 400 RequestTimeout are
 * retried first (rdsbk_aws_send). Nothing is retained between calls; calls on one client may run
 * in parallel.
 */

/* How rdsbk_s3_put_object writes; all zero: unconditionally, SSE-S3, application/octet-stream. */
struct rdsbk_s3_put {
    const char *if_match;       /* only over the current object of this ETag (If-Match) */
    bool if_none_match_star;    /* only when the key has no current object (If-None-Match: *) */
    const char *sse_kms_key_id; /* NULL: SSE-S3 (x-amz-server-side-encryption: AES256); else
                                   aws:kms with this key id, key ARN, alias name or alias ARN */
    const char *content_type;   /* NULL: application/octet-stream */
};

/* GetObject: the object's bytes replace the contents of `body_out` (an initialised buffer, its
 * size cap applies) and *etag_out (may be NULL; the caller frees) its ETag. RDSBK_ENOTFOUND when
 * the key has no current object. */
int rdsbk_s3_get_object(struct rdsbk_buf *body_out, char **etag_out, struct rdsbk_client *client,
                        const char *bucket, const char *key);

/* HeadObject: *etag_out (the caller frees) the current object's ETag. RDSBK_ENOTFOUND when there
 * is none (aws_code "NotFound"). */
int rdsbk_s3_head_object(char **etag_out, struct rdsbk_client *client, const char *bucket,
                         const char *key);

/*
 * PutObject of `len` bytes at `body` (NULL when `len` is 0) as `opts` says (NULL: the defaults);
 * *etag_out (may be NULL; the caller frees) the new object's ETag.
 * A conditional write (if_match or if_none_match_star) whose condition does not hold returns
 * RDSBK_ECONFLICT with HTTP status 412 and code PreconditionFailed, and changes nothing;
 * if_match over a key without an object is RDSBK_ENOTFOUND (404 NoSuchKey); both conditions at
 * once are RDSBK_EINVALID (S3 refuses them, 501). A conditional write goes on a new connection,
 * and when it was retried (a reply lost or refused on the way) and then meets 412, the object is
 * read back: holding exactly these bytes, it is this call's own earlier attempt, and the call
 * returns 0 with its ETag.
 */
int rdsbk_s3_put_object(char **etag_out, struct rdsbk_client *client, const char *bucket,
                        const char *key, const void *body, size_t len,
                        const struct rdsbk_s3_put *opts);

/* Whether `rc`, from rdsbk_s3_put_object or rdsbk_s3_delete_object, is a condition that did not
 * hold (412 PreconditionFailed), rather than a write still racing another one after the retries
 * (409, also RDSBK_ECONFLICT). Reads rdsbk_error_last(): ask right after the call. */
bool rdsbk_s3_precondition_failed(int rc);

/* DeleteObject, with If-Match when `if_match` is not NULL (an ETag, or "*": any current object).
 * Unconditional, it succeeds whether or not the key had an object (S3's 204); with If-Match,
 * another ETag is RDSBK_ECONFLICT (412) and no current object RDSBK_ENOTFOUND (404 NoSuchKey),
 * which is also what a retry finds after a lost reply to the delete that succeeded: gone either
 * way. On a versioned bucket it leaves a delete marker. */
int rdsbk_s3_delete_object(struct rdsbk_client *client, const char *bucket, const char *key,
                           const char *if_match);

/* GetBucketVersioning: *status_out (the caller frees) "Enabled", "Suspended", or "" for a bucket
 * never versioned. */
int rdsbk_s3_get_bucket_versioning(char **status_out, struct rdsbk_client *client,
                                   const char *bucket);

/* PutBucketVersioning: Enabled, or Suspended when `enabled` is false (with the Content-MD5 S3
 * requires of it). */
int rdsbk_s3_put_bucket_versioning(struct rdsbk_client *client, const char *bucket, bool enabled);

/* HeadBucket: *region_out (the caller frees) the bucket's Region (x-amz-bucket-region), whether
 * or not it is the client's: S3 answers a bucket of another Region with 301 and that header, and
 * this call returns 0 then too; compare with rdsbk_client_region to report a wrong Region.
 * RDSBK_ENOTFOUND when there is no such bucket, RDSBK_EAUTH when it is not the caller's to list. */
int rdsbk_s3_head_bucket(char **region_out, struct rdsbk_client *client, const char *bucket);

/* CreateBucket in the client's Region (LocationConstraint unless it is us-east-1). A bucket the
 * caller owns already is RDSBK_ECONFLICT (409 BucketAlreadyOwnedByYou; us-east-1 answers 200),
 * another account's RDSBK_ECONFLICT (409 BucketAlreadyExists). */
int rdsbk_s3_create_bucket(struct rdsbk_client *client, const char *bucket);

/*
 * NULL when `bucket` is a general purpose bucket name S3 accepts (S3 User Guide, "General purpose
 * bucket naming rules"): 3-63 lower-case letters, digits, dots and hyphens, a letter or digit at
 * each end, no two dots in a row, not an IP address, none of the reserved prefixes (xn--,
 * sthree-, amzn-s3-demo-) or suffixes (-s3alias, --ol-s3, .mrap, --x-s3, --table-s3); else a
 * phrase saying what is wrong ("has upper-case letters").
 */
const char *rdsbk_s3_check_bucket_name(const char *bucket);

#endif
