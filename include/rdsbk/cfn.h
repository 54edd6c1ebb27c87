#ifndef RDSBK_CFN_H
#define RDSBK_CFN_H

#include "rdsbk/config.h"

#include <cjson/cJSON.h>

/*
 * CloudFormation templates of the pipeline, derived from the model's graph (so that a template
 * and apply build the same resources, named alike): the source side of one source, and the
 * backup side. `export --format cloudformation` writes them; the StackSet of an OU source deploys
 * the source side's to every account of the OU.
 *
 * A source template is deployed in each account where it is an AWS::AccountId, in Region-B first
 * (the roles, functions, queues, log groups and the rules of Region-B: condition InBackupRegion)
 * and then in each Region-A (the forwarding rule of that Region: condition In<Region>). It takes
 * the parameters SharedKeyArn (the backup side's key) and CodeBucket (where the function zips are,
 * in Region-B, at rdsbk_cfn_code_key: the functions' code is above the 51,200 bytes a template
 * body may be, and is two modules where an inline ZipFile is one). The backup template takes
 * CodeBucket. Neither needs capabilities beyond CAPABILITY_NAMED_IAM.
 *
 * Every function returns 0 or a negative code with the error set; *out is the caller's.
 */

/* The template of the source side of `source` (an OU source of `topo`, or an account source: its
 * account's side, every Region-A of it), the CodeBucket parameter's default `code_bucket` (NULL:
 * none). */
int rdsbk_cfn_source_template(cJSON **out, const struct rdsbk_topology *topo,
                              const struct rdsbk_source *source, const char *code_bucket);

/* The template of the backup side of `topo`. */
int rdsbk_cfn_backup_template(cJSON **out, const struct rdsbk_topology *topo,
                              const char *code_bucket);

/* *out (caller frees) the S3 key of function package `package` ("copy", "share",
 * "backup-copy"): "rdsbk/<stack>/<package>-<CodeSha256 as base64url>.zip", a new key whenever
 * the code changes. */
int rdsbk_cfn_code_key(char **out, const char *stack, const char *package);

#endif
