#ifndef RDSBK_CREDENTIALS_H
#define RDSBK_CREDENTIALS_H

#include "rdsbk/aws.h"
#include "rdsbk/protocol.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * Credentials for one account, resolved the way the AWS CLI (botocore) resolves them. With P the
 * explicit profile (the topology's `profile`), else AWS_DEFAULT_PROFILE, else AWS_PROFILE
 * (botocore's order), else "default":
 *
 *   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
 *      (skipped when a profile is given explicitly, as `aws --profile` does)
 *   2. profile P with role_arn (config or credentials file): STS AssumeRole with the credentials
 *      of source_profile (recursively, loops refused; a profile may name itself when it holds
 *      keys) or of credential_source (Environment, Ec2InstanceMetadata, EcsContainer)
 *   3. web identity: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE [+ AWS_ROLE_SESSION_NAME], else
 *      the profile's role_arn + web_identity_token_file: STS AssumeRoleWithWebIdentity (unsigned)
 *   (IAM Identity Center / SSO profiles are refused with a message: their token cache is not
 *   read; `credential_process = aws configure export-credentials --format process` bridges them)
 *   4. static keys of P in the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
 *      ~/.aws/credentials; sections "[name]")
 *   5. credential_process of P: its stdout is JSON {"Version": 1, "AccessKeyId", ...}
 *   6. static keys of P in the config file (AWS_CONFIG_FILE, else ~/.aws/config; sections
 *      "[profile name]" and "[default]")
 *   7. container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (http://169.254.170.2<uri>)
 *      or AWS_CONTAINER_CREDENTIALS_FULL_URI (https, or http to loopback / the ECS/EKS agent
 *      addresses), with AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or _TOKEN as Authorization
 *   8. EC2 instance metadata, IMDSv2 (PUT /latest/api/token, then GET the role's credentials) at
 *      AWS_EC2_METADATA_SERVICE_ENDPOINT or http://169.254.169.254; skipped when
 *      AWS_EC2_METADATA_DISABLED=true
 *
 * A profile named explicitly or through the environment must exist. When the options carry a
 * role_arn (the topology's), it is assumed on top of whatever the chain found, with the session
 * name given. The environment and the files are read when credentials are first asked for.
 *
 * Temporary credentials are cached and fetched again when less than
 * RDSBK_CREDENTIALS_REFRESH_SECONDS remain; a provider is thread-safe.
 */

#define RDSBK_CREDENTIALS_REFRESH_SECONDS 600

struct rdsbk_credentials_options {
    const char *profile;                     /* explicit profile, or NULL */
    const char *region;                      /* Region of the STS calls; NULL: us-east-1 */
    const struct rdsbk_endpoints *endpoints; /* overrides (STS); may be NULL */
    struct rdsbk_http *http;                 /* transport, borrowed; must outlive the provider */
    const char *role_arn;                    /* assumed on top, or NULL */
    const char *session_name;                /* for role_arn, e.g. "rdsbk-<stack>" */
    const char *external_id;                 /* for role_arn, or NULL */
    rdsbk_aws_send_fn send;                  /* STS test hook; NULL: rdsbk_aws_send */
};

struct rdsbk_credentials_provider;

/* Creates a provider (copies the options' strings; nothing is read yet). Returns 0 and *out (free
 * with rdsbk_credentials_provider_free) or RDSBK_ENOMEM. */
int rdsbk_credentials_provider_new(struct rdsbk_credentials_provider **out,
                                   const struct rdsbk_credentials_options *opts);

/* Frees the provider and wipes the cached secrets; NULL is a no-op. */
void rdsbk_credentials_provider_free(struct rdsbk_credentials_provider *provider);

/*
 * A `rdsbk_credentials_fn`: `payload` is a struct rdsbk_credentials_provider *. Fills `out` with a
 * copy of current credentials (the caller cleans it up), resolving the chain on first use and
 * refreshing temporary credentials near their expiry. Returns 0, or RDSBK_EAUTH (nothing found, a
 * profile missing or malformed, a source failing, STS refusing), RDSBK_EINVALID (bad
 * configuration), RDSBK_EIO, RDSBK_ENOMEM, with the error set.
 */
int rdsbk_credentials_provider_get(struct rdsbk_credentials *out, void *payload);

/* Where the credentials come from, for messages ("profile prod", "environment", "role
 * arn:aws:iam::1:role/x via profile prod"); "unresolved" before the first successful get.
 * Borrowed, valid while the provider lives and until the next get. */
const char *rdsbk_credentials_provider_describe(const struct rdsbk_credentials_provider *provider);

/* How many times temporary credentials were fetched (chain resolution included); for tests and
 * --debug. */
unsigned rdsbk_credentials_provider_fetches(const struct rdsbk_credentials_provider *provider);

/* ---- pieces, exposed for tests ---- */

/* One section of a shared file; keys lower-cased. */
struct rdsbk_ini_entry {
    char *key;
    char *value;
};

struct rdsbk_ini_section {
    char *name; /* profile name ("default", "prod"); "profile " prefix already removed */
    struct rdsbk_ini_entry *entries;
    size_t n_entries;
};

struct rdsbk_ini {
    struct rdsbk_ini_section *sections;
    size_t n_sections;
};

/* Parses a shared file's text. `is_config`: sections are "[profile x]" / "[default]" (others,
 * such as "[sso-session x]", are skipped); else "[x]". A later section of the same name merges
 * into the earlier one. Returns 0 or RDSBK_ENOMEM. Free with rdsbk_ini_clean_up. */
int rdsbk_ini_parse(struct rdsbk_ini *out, const char *text, bool is_config);

/* Reads and parses a file; a missing file gives an empty result. Returns 0, RDSBK_EIO or
 * RDSBK_ENOMEM. */
int rdsbk_ini_load(struct rdsbk_ini *out, const char *path, bool is_config);

void rdsbk_ini_clean_up(struct rdsbk_ini *ini);

/* The section `name`, or NULL. Borrowed. */
const struct rdsbk_ini_section *rdsbk_ini_section(const struct rdsbk_ini *ini, const char *name);

/* The value of `key` in `section` (NULL section allowed), or NULL. Borrowed. */
const char *rdsbk_ini_get(const struct rdsbk_ini_section *section, const char *key);

/* Parses credential_process output (JSON Version 1). Returns 0 and `out`, or RDSBK_EAUTH. */
int rdsbk_credentials_parse_process_output(struct rdsbk_credentials *out, const char *json);

#endif
