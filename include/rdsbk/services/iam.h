#ifndef RDSBK_SERVICES_IAM_H
#define RDSBK_SERVICES_IAM_H

#include "rdsbk/client.h"

#include <stdbool.h>
#include <time.h>

/*
 * IAM (awsQuery, API version 2010-05-08; global: the client signs for us-east-1 in the aws
 * partition). Policy documents go in as JSON text and come back URL-decoded (IAM returns them
 * percent-encoded). Errors: NoSuchEntity -> RDSBK_ENOTFOUND, EntityAlreadyExists ->
 * RDSBK_ECONFLICT, others as rdsbk_aws_send maps them; the AWS code stays in rdsbk_error_last().
 * Every `out` struct is the caller's; free it with its _clean_up / _free.
 *
 * Every call returns 0, or a negative rdsbk_error_code with the error set (rdsbk_error_last()
 * keeps the AWS code, HTTP status and request id); on failure its out parameters hold nothing
 * (NULL / zeroed). List calls follow every page and return everything. Nothing is retained
 * between calls; calls on one client may run in parallel.
 */

struct rdsbk_iam_role {
    char *name;
    char *arn;
    char *role_id;
    char *path;
    char *description;        /* NULL when none */
    char *assume_role_policy; /* decoded JSON; NULL when the reply omits it (ListRoles has it) */
    int max_session_duration;
    time_t create_date;
    struct rdsbk_tag *tags; /* GetRole returns them; ListRoles does not */
    size_t n_tags;
};

void rdsbk_iam_role_clean_up(struct rdsbk_iam_role *role);
void rdsbk_iam_roles_free(struct rdsbk_iam_role *roles, size_t n);

struct rdsbk_iam_create_role_input {
    const char *name;               /* required */
    const char *path;               /* NULL: "/" */
    const char *assume_role_policy; /* JSON, required */
    const char *description;
    int max_session_duration; /* 0: default */
    const struct rdsbk_tag *tags;
    size_t n_tags;
};

/* CreateRole. `out` may be NULL. */
int rdsbk_iam_create_role(struct rdsbk_iam_role *out, struct rdsbk_client *client,
                          const struct rdsbk_iam_create_role_input *in);
/* GetRole (tags included). RDSBK_ENOTFOUND when absent. */
int rdsbk_iam_get_role(struct rdsbk_iam_role *out, struct rdsbk_client *client, const char *name);
int rdsbk_iam_delete_role(struct rdsbk_client *client, const char *name);
int rdsbk_iam_update_assume_role_policy(struct rdsbk_client *client, const char *role,
                                        const char *policy);
/* UpdateRole with a new description (NULL: none is sent, the description stays). */
int rdsbk_iam_update_role_description(struct rdsbk_client *client, const char *role,
                                      const char *description);
/* ListRoles, all pages, filtered by path prefix (NULL: all). */
int rdsbk_iam_list_roles(struct rdsbk_iam_role **out, size_t *n_out, struct rdsbk_client *client,
                         const char *path_prefix);

/* Inline policies. */
int rdsbk_iam_put_role_policy(struct rdsbk_client *client, const char *role,
                              const char *policy_name, const char *document);
/* *document_out: the decoded JSON (caller frees). */
int rdsbk_iam_get_role_policy(char **document_out, struct rdsbk_client *client, const char *role,
                              const char *policy_name);
int rdsbk_iam_delete_role_policy(struct rdsbk_client *client, const char *role,
                                 const char *policy_name);
/* All pages; free with rdsbk_strings_free. */
int rdsbk_iam_list_role_policies(char ***names_out, size_t *n_out, struct rdsbk_client *client,
                                 const char *role);

/* Managed policies attached to a role. */
struct rdsbk_iam_attached_policy {
    char *name;
    char *arn;
};

void rdsbk_iam_attached_policies_free(struct rdsbk_iam_attached_policy *p, size_t n);
int rdsbk_iam_list_attached_role_policies(struct rdsbk_iam_attached_policy **out, size_t *n_out,
                                          struct rdsbk_client *client, const char *role);
int rdsbk_iam_attach_role_policy(struct rdsbk_client *client, const char *role,
                                 const char *policy_arn);
int rdsbk_iam_detach_role_policy(struct rdsbk_client *client, const char *role,
                                 const char *policy_arn);

/* Customer managed policies. */
struct rdsbk_iam_policy {
    char *name;
    char *arn;
    char *policy_id;
    char *path;
    char *default_version_id;
    char *description;
    int attachment_count;
    time_t create_date;
    time_t update_date;
};

void rdsbk_iam_policy_clean_up(struct rdsbk_iam_policy *policy);

struct rdsbk_iam_create_policy_input {
    const char *name;     /* required */
    const char *path;     /* NULL: "/" */
    const char *document; /* JSON, required */
    const char *description;
    const struct rdsbk_tag *tags;
    size_t n_tags;
};

/* `out` may be NULL. */
int rdsbk_iam_create_policy(struct rdsbk_iam_policy *out, struct rdsbk_client *client,
                            const struct rdsbk_iam_create_policy_input *in);
int rdsbk_iam_get_policy(struct rdsbk_iam_policy *out, struct rdsbk_client *client,
                         const char *policy_arn);
int rdsbk_iam_delete_policy(struct rdsbk_client *client, const char *policy_arn);

struct rdsbk_iam_policy_version {
    char *version_id;
    char *document; /* decoded JSON; NULL from ListPolicyVersions */
    bool is_default;
    time_t create_date;
};

void rdsbk_iam_policy_versions_free(struct rdsbk_iam_policy_version *v, size_t n);

/* *version_id_out (may be NULL; caller frees) receives the new version's id. */
int rdsbk_iam_create_policy_version(char **version_id_out, struct rdsbk_client *client,
                                    const char *policy_arn, const char *document,
                                    bool set_as_default);
/* GetPolicyVersion: the decoded document of one version (caller frees). */
int rdsbk_iam_get_policy_version(char **document_out, struct rdsbk_client *client,
                                 const char *policy_arn, const char *version_id);
int rdsbk_iam_list_policy_versions(struct rdsbk_iam_policy_version **out, size_t *n_out,
                                   struct rdsbk_client *client, const char *policy_arn);
int rdsbk_iam_delete_policy_version(struct rdsbk_client *client, const char *policy_arn,
                                    const char *version_id);

/* Role tags. */
int rdsbk_iam_tag_role(struct rdsbk_client *client, const char *role, const struct rdsbk_tag *tags,
                       size_t n);
int rdsbk_iam_untag_role(struct rdsbk_client *client, const char *role, const char *const *keys,
                         size_t n);
/* All pages; free with rdsbk_aws_tags_free. */
int rdsbk_iam_list_role_tags(struct rdsbk_tag **out, size_t *n_out, struct rdsbk_client *client,
                             const char *role);

#endif
