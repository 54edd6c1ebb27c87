#ifndef RDSBK_LAMBDA_PKG_H
#define RDSBK_LAMBDA_PKG_H

#include <stddef.h>

#include "rdsbk/buf.h"

/*
 * The pipeline's three Lambda functions, packaged from the handler sources embedded from
 * templates/lambda/ (include/rdsbk/templates.h). Each zip holds the function's handler module and
 * the shared helper rdsbk_common.py at its root, written by the deterministic zip writer
 * (include/rdsbk/zip.h), so the same binary always produces the same bytes and CodeSha256.
 *
 * Function names are "copy", "share" and "backup-copy". The handlers are configured only through
 * environment variables (RDSBK_STACK, RDSBK_TARGET_REGION, RDSBK_KMS_KEY_ARN, RDSBK_BACKUP_ACCOUNT,
 * RDSBK_SOURCE_ACCOUNTS, RDSBK_EVENT_SOURCE, RDSBK_EVENT_DETAIL_TYPE, RDSBK_DB_INSTANCES,
 * RDSBK_DB_CLUSTERS); the code itself is the same for every stack.
 */

/* Length of a CodeSha256 string (base64 of 32 bytes) without its terminator. */
#define RDSBK_CODE_SHA256_LEN 44

/*
 * The Lambda Handler setting for `function` ("copy_snapshot.handler", "share.handler",
 * "backup_copy.handler"), or NULL for an unknown function. Static storage.
 *
 * The copy handler's module is copy_snapshot.py, not copy.py: a module named "copy" shadows the
 * standard library's copy module, which botocore imports, and the function could not even start.
 */
const char *rdsbk_lambda_handler(const char *function);

/* The Lambda runtime the handlers are written for ("python3.12"). Static storage. */
const char *rdsbk_lambda_runtime(void);

/*
 * Builds the deployment zip of `function` into `zip_out` (initialised by the caller, contents
 * replaced) and writes its CodeSha256 (NUL-terminated) to `code_sha256_out`. Returns 0;
 * RDSBK_EINVALID for an unknown function; RDSBK_ENOTFOUND when a template is missing from the
 * binary; RDSBK_ENOMEM or RDSBK_ERROR from the zip writer. On error `zip_out` is empty and
 * `code_sha256_out` is "".
 */
int rdsbk_lambda_package(struct rdsbk_buf *zip_out, char code_sha256_out[RDSBK_CODE_SHA256_LEN + 1],
                         const char *function);

/*
 * rdsbk_lambda_package, each package built once per process and copied from then on (it is the
 * same bytes every time). `zip_out` may be NULL when only the CodeSha256 is wanted. Thread-safe.
 */
int rdsbk_lambda_package_cached(struct rdsbk_buf *zip_out,
                                char code_sha256_out[RDSBK_CODE_SHA256_LEN + 1],
                                const char *function);

/*
 * CodeSha256 of any bytes as Lambda reports it: base64 (with padding) of their SHA-256. Writes a
 * NUL-terminated string. Returns 0, or RDSBK_ERROR when OpenSSL fails (out is then "").
 */
int rdsbk_lambda_code_sha256(char out[RDSBK_CODE_SHA256_LEN + 1], const void *data, size_t len);

#endif
