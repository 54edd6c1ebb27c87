#ifndef RDSBK_GENERATE_H
#define RDSBK_GENERATE_H

#include "rdsbk/config.h"

/*
 * Writes under `dir`, for review and audit, everything the tool would create for `topo`:
 *
 *   resources.json                    the graph: address, type, account, region, name, deps
 *   functions/<package>.zip           each function's code, byte for byte what is deployed
 *   functions/<address>.json          each function's configuration (runtime, role, env, ...)
 *   iam/<address>.trust.json          each role's trust policy
 *   iam/<address>.policy.json         each role's inline policy
 *   kms/key-policy.json               the shared key's policy
 *   events/bus-policy.json            the backup account's bus policy statements
 *   events/<address>.pattern.json     each rule's event pattern
 *   events/<address>.target.json      each target
 *
 * Addresses are used as file names with '/' replaced by '_'. Values only known once created (the
 * key's ARN) appear as `${ADDRESS#attr}`. The same topology always gives identical files.
 * Returns 0, or a negative code with the error set (the directory may then be incomplete).
 */
int rdsbk_generate(const struct rdsbk_topology *topo, const char *dir);

/*
 * Writes under `dir` the pipeline as CloudFormation (rdsbk/cfn.h):
 *
 *   backup.template.json                the backup side
 *   source-<ou>.template.json           the source side of each OU source (its StackSet's)
 *   source-<account>.template.json      that of each source account
 *   code/rdsbk/<stack>/<package>-<sha>.zip   the functions' zips, under the S3 keys the templates
 *                                        name (upload code/ to the CodeBucket as it is)
 *
 * Only in organisation mode (backup.organization_id; else RDSBK_EINVALID saying why): otherwise
 * the key policy names the source accounts' copy roles, which must exist before the key and use
 * it after. `code_bucket` (NULL: none) is the CodeBucket parameter's default. The same topology
 * always gives identical files. Returns 0, or a negative code with the error set.
 */
int rdsbk_export_cloudformation(const struct rdsbk_topology *topo, const char *dir,
                                const char *code_bucket);

#endif
