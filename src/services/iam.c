/*
 * IAM (awsQuery): roles, their inline and attached policies and their tags, customer managed
 * policies and their versions. Each reply struct is a table of where its members are in the XML,
 * each input struct one of the members it sends; services/svc.c sends, reads and pages.
 */
#include "rdsbk/services/iam.h"
#include "rdsbk/error.h"
#include "services/svc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const struct rdsbk_svc_query_api s_api = {"iam", "2010-05-08", NULL};

/* ---- the structs of the replies ---- */

#define S_ROLE(m) offsetof(struct rdsbk_iam_role, m)
static const struct rdsbk_field s_role_fields[] = {
    RDSBK_FIELD(STR, "RoleName", S_ROLE(name)),
    RDSBK_FIELD(STR, "Arn", S_ROLE(arn)),
    RDSBK_FIELD(STR, "RoleId", S_ROLE(role_id)),
    RDSBK_FIELD(STR, "Path", S_ROLE(path)),
    RDSBK_FIELD(STR, "Description", S_ROLE(description)),
    RDSBK_FIELD(DOC, "AssumeRolePolicyDocument", S_ROLE(assume_role_policy)),
    RDSBK_FIELD_N(TAGS, "Tags", S_ROLE(tags), S_ROLE(n_tags), NULL, NULL),
    RDSBK_FIELD(INT, "MaxSessionDuration", S_ROLE(max_session_duration)),
    RDSBK_FIELD(TIME, "CreateDate", S_ROLE(create_date)),
    RDSBK_FIELD_END,
};
static const struct rdsbk_shape s_role = {s_role_fields, sizeof(struct rdsbk_iam_role), NULL};

#define S_POLICY(m) offsetof(struct rdsbk_iam_policy, m)
static const struct rdsbk_field s_policy_fields[] = {
    RDSBK_FIELD(STR, "PolicyName", S_POLICY(name)),
    RDSBK_FIELD(STR, "Arn", S_POLICY(arn)),
    RDSBK_FIELD(STR, "PolicyId", S_POLICY(policy_id)),
    RDSBK_FIELD(STR, "Path", S_POLICY(path)),
    RDSBK_FIELD(STR, "DefaultVersionId", S_POLICY(default_version_id)),
    RDSBK_FIELD(STR, "Description", S_POLICY(description)),
    RDSBK_FIELD(INT, "AttachmentCount", S_POLICY(attachment_count)),
    RDSBK_FIELD(TIME, "CreateDate", S_POLICY(create_date)),
    RDSBK_FIELD(TIME, "UpdateDate", S_POLICY(update_date)),
    RDSBK_FIELD_END,
};
static const struct rdsbk_shape s_policy = {s_policy_fields, sizeof(struct rdsbk_iam_policy), NULL};

#define S_ATTACHED(m) offsetof(struct rdsbk_iam_attached_policy, m)
static const struct rdsbk_field s_attached_fields[] = {
    RDSBK_FIELD(STR, "PolicyName", S_ATTACHED(name)),
    RDSBK_FIELD(STR, "PolicyArn", S_ATTACHED(arn)),
    RDSBK_FIELD_END,
};
static const struct rdsbk_shape s_attached = {s_attached_fields,
                                              sizeof(struct rdsbk_iam_attached_policy), NULL};

#define S_VERSION(m) offsetof(struct rdsbk_iam_policy_version, m)
static const struct rdsbk_field s_version_fields[] = {
    RDSBK_FIELD(STR, "VersionId", S_VERSION(version_id)),
    RDSBK_FIELD(DOC, "Document", S_VERSION(document)),
    RDSBK_FIELD(BOOL, "IsDefaultVersion", S_VERSION(is_default)),
    RDSBK_FIELD(TIME, "CreateDate", S_VERSION(create_date)),
    RDSBK_FIELD_END,
};
static const struct rdsbk_shape s_version = {s_version_fields,
                                             sizeof(struct rdsbk_iam_policy_version), NULL};

/* One string of the Result alone, into a char *: a new version's id, a policy document. */
static const struct rdsbk_field s_version_id_fields[] = {
    RDSBK_FIELD(STR, "PolicyVersion/VersionId", 0),
    RDSBK_FIELD_END,
};
static const struct rdsbk_shape s_version_id = {s_version_id_fields, sizeof(char *), NULL};

static const struct rdsbk_field s_role_policy_fields[] = {
    RDSBK_FIELD(DOC, "PolicyDocument", 0),
    RDSBK_FIELD_END,
};
static const struct rdsbk_shape s_role_policy = {s_role_policy_fields, sizeof(char *), NULL};

static const struct rdsbk_field s_version_document_fields[] = {
    RDSBK_FIELD(DOC, "PolicyVersion/Document", 0),
    RDSBK_FIELD_END,
};
static const struct rdsbk_shape s_version_document = {s_version_document_fields, sizeof(char *),
                                                      NULL};

/* ---- the structs of the requests ---- */

#define S_CREATE_ROLE(m) offsetof(struct rdsbk_iam_create_role_input, m)
static const struct rdsbk_field s_create_role_input[] = {
    RDSBK_FIELD(STR, "RoleName", S_CREATE_ROLE(name)),
    RDSBK_FIELD(STR, "Path", S_CREATE_ROLE(path)),
    RDSBK_FIELD(STR, "AssumeRolePolicyDocument", S_CREATE_ROLE(assume_role_policy)),
    RDSBK_FIELD(STR, "Description", S_CREATE_ROLE(description)),
    RDSBK_FIELD(INT, "MaxSessionDuration", S_CREATE_ROLE(max_session_duration)),
    RDSBK_FIELD_N(TAGS, "Tags", S_CREATE_ROLE(tags), S_CREATE_ROLE(n_tags), NULL, NULL),
    RDSBK_FIELD_END,
};

#define S_CREATE_POLICY(m) offsetof(struct rdsbk_iam_create_policy_input, m)
static const struct rdsbk_field s_create_policy_input[] = {
    RDSBK_FIELD(STR, "PolicyName", S_CREATE_POLICY(name)),
    RDSBK_FIELD(STR, "Path", S_CREATE_POLICY(path)),
    RDSBK_FIELD(STR, "PolicyDocument", S_CREATE_POLICY(document)),
    RDSBK_FIELD(STR, "Description", S_CREATE_POLICY(description)),
    RDSBK_FIELD_N(TAGS, "Tags", S_CREATE_POLICY(tags), S_CREATE_POLICY(n_tags), NULL, NULL),
    RDSBK_FIELD_END,
};

/* TagRole / UntagRole: the role and its tags, or the keys of the tags to remove. */
struct s_role_tags {
    const char *role;
    const struct rdsbk_tag *tags;
    const char *const *keys;
    size_t n;
};
#define S_ROLE_TAGS(m) offsetof(struct s_role_tags, m)
static const struct rdsbk_field s_tag_role_input[] = {
    RDSBK_FIELD(STR, "RoleName", S_ROLE_TAGS(role)),
    RDSBK_FIELD_N(TAGS, "Tags", S_ROLE_TAGS(tags), S_ROLE_TAGS(n), NULL, NULL),
    RDSBK_FIELD_END,
};
static const struct rdsbk_field s_untag_role_input[] = {
    RDSBK_FIELD(STR, "RoleName", S_ROLE_TAGS(role)),
    RDSBK_FIELD_N(LIST, "TagKeys", S_ROLE_TAGS(keys), S_ROLE_TAGS(n), "member", NULL),
    RDSBK_FIELD_END,
};

/* CreatePolicyVersion's members. */
struct s_new_version {
    const char *policy_arn;
    const char *document;
    bool set_as_default;
};
#define S_NEW_VERSION(m) offsetof(struct s_new_version, m)
static const struct rdsbk_field s_new_version_input[] = {
    RDSBK_FIELD(STR, "PolicyArn", S_NEW_VERSION(policy_arn)),
    RDSBK_FIELD(STR, "PolicyDocument", S_NEW_VERSION(document)),
    RDSBK_FIELD(BOOL, "SetAsDefault", S_NEW_VERSION(set_as_default)),
    RDSBK_FIELD_END,
};

/* ---- calls ---- */

/* `action` with the arguments `args`, its Result's `output` read into `out` by `shape`. */
static int s_get(void *out, struct rdsbk_client *client, const char *action,
                 const struct rdsbk_arg *args, const char *output,
                 const struct rdsbk_shape *shape) {
    const struct rdsbk_svc_query_op op = {
        .api = &s_api, .action = action, .output = output, .shape = shape};

    return rdsbk_svc_query_call(out, client, &op, args, NULL);
}

/* A listing of `action` with the arguments `args`: every item of `list` read by `shape`. */
static int s_list(struct rdsbk_items *out, struct rdsbk_client *client, const char *action,
                  const struct rdsbk_arg *args, const char *list, const struct rdsbk_shape *shape) {
    const struct rdsbk_svc_query_op op = {
        .api = &s_api, .action = action, .output = list, .shape = shape};
    struct rdsbk_query q;
    int rc = rdsbk_svc_query_start(&q, &op, args, NULL);

    return rdsbk_svc_query_list(out, client, &op, &q, rc);
}

/* A policy document the reply must carry (`op` reads it from the Result into *out). */
static int s_document(char **out, struct rdsbk_client *client, const struct rdsbk_svc_query_op *op,
                      const struct rdsbk_arg *args, const char *what) {
    int rc = rdsbk_svc_query_call(out, client, op, args, NULL);

    if (rc == 0 && !*out)
        rc = rdsbk_error_set(RDSBK_EINVALID, "iam:%s: no %s", op->action, what);
    return rc;
}

/* ---- roles ---- */

void rdsbk_iam_role_clean_up(struct rdsbk_iam_role *role) {
    rdsbk_shape_clean_up(role, &s_role);
}

void rdsbk_iam_roles_free(struct rdsbk_iam_role *roles, size_t n) {
    rdsbk_shape_free_array(roles, n, &s_role);
}

int rdsbk_iam_create_role(struct rdsbk_iam_role *out, struct rdsbk_client *client,
                          const struct rdsbk_iam_create_role_input *in) {
    static const struct rdsbk_svc_query_op op = {.api = &s_api,
                                                 .action = "CreateRole",
                                                 .input = s_create_role_input,
                                                 .output = "Role",
                                                 .shape = &s_role};

    return rdsbk_svc_query_call(out, client, &op, NULL, in);
}

int rdsbk_iam_get_role(struct rdsbk_iam_role *out, struct rdsbk_client *client, const char *name) {
    const struct rdsbk_arg args[] = {{"RoleName", name}, {NULL, NULL}};

    return s_get(out, client, "GetRole", args, "Role", &s_role);
}

int rdsbk_iam_delete_role(struct rdsbk_client *client, const char *name) {
    const struct rdsbk_arg args[] = {{"RoleName", name}, {NULL, NULL}};

    return rdsbk_svc_query_simple(client, &s_api, "DeleteRole", args);
}

int rdsbk_iam_update_assume_role_policy(struct rdsbk_client *client, const char *role,
                                        const char *policy) {
    const struct rdsbk_arg args[] = {{"RoleName", role}, {"PolicyDocument", policy}, {NULL, NULL}};

    return rdsbk_svc_query_simple(client, &s_api, "UpdateAssumeRolePolicy", args);
}

int rdsbk_iam_update_role_description(struct rdsbk_client *client, const char *role,
                                      const char *description) {
    const struct rdsbk_arg args[] = {
        {"RoleName", role}, {"Description", description}, {NULL, NULL}};

    return rdsbk_svc_query_simple(client, &s_api, "UpdateRole", args);
}

int rdsbk_iam_list_roles(struct rdsbk_iam_role **out, size_t *n_out, struct rdsbk_client *client,
                         const char *path_prefix) {
    const struct rdsbk_arg args[] = {{"PathPrefix", path_prefix}, {NULL, NULL}};
    struct rdsbk_items roles;
    int rc = s_list(&roles, client, "ListRoles", args, "Roles", &s_role);

    *out = roles.data;
    *n_out = roles.n;
    return rc;
}

/* ---- inline policies ---- */

int rdsbk_iam_put_role_policy(struct rdsbk_client *client, const char *role,
                              const char *policy_name, const char *document) {
    const struct rdsbk_arg args[] = {{"RoleName", role},
                                     {"PolicyName", policy_name},
                                     {"PolicyDocument", document},
                                     {NULL, NULL}};

    return rdsbk_svc_query_simple(client, &s_api, "PutRolePolicy", args);
}

int rdsbk_iam_get_role_policy(char **document_out, struct rdsbk_client *client, const char *role,
                              const char *policy_name) {
    static const struct rdsbk_svc_query_op op = {
        .api = &s_api, .action = "GetRolePolicy", .shape = &s_role_policy};
    const struct rdsbk_arg args[] = {{"RoleName", role}, {"PolicyName", policy_name}, {NULL, NULL}};

    return s_document(document_out, client, &op, args, "PolicyDocument");
}

int rdsbk_iam_delete_role_policy(struct rdsbk_client *client, const char *role,
                                 const char *policy_name) {
    const struct rdsbk_arg args[] = {{"RoleName", role}, {"PolicyName", policy_name}, {NULL, NULL}};

    return rdsbk_svc_query_simple(client, &s_api, "DeleteRolePolicy", args);
}

int rdsbk_iam_list_role_policies(char ***names_out, size_t *n_out, struct rdsbk_client *client,
                                 const char *role) {
    const struct rdsbk_arg args[] = {{"RoleName", role}, {NULL, NULL}};
    struct rdsbk_items names;
    int rc = s_list(&names, client, "ListRolePolicies", args, "PolicyNames", &rdsbk_string_shape);

    *names_out = names.data;
    *n_out = names.n;
    return rc;
}

/* ---- managed policies attached to a role ---- */

void rdsbk_iam_attached_policies_free(struct rdsbk_iam_attached_policy *p, size_t n) {
    rdsbk_shape_free_array(p, n, &s_attached);
}

int rdsbk_iam_list_attached_role_policies(struct rdsbk_iam_attached_policy **out, size_t *n_out,
                                          struct rdsbk_client *client, const char *role) {
    const struct rdsbk_arg args[] = {{"RoleName", role}, {NULL, NULL}};
    struct rdsbk_items attached;
    int rc = s_list(&attached, client, "ListAttachedRolePolicies", args, "AttachedPolicies",
                    &s_attached);

    *out = attached.data;
    *n_out = attached.n;
    return rc;
}

int rdsbk_iam_attach_role_policy(struct rdsbk_client *client, const char *role,
                                 const char *policy_arn) {
    const struct rdsbk_arg args[] = {{"RoleName", role}, {"PolicyArn", policy_arn}, {NULL, NULL}};

    return rdsbk_svc_query_simple(client, &s_api, "AttachRolePolicy", args);
}

int rdsbk_iam_detach_role_policy(struct rdsbk_client *client, const char *role,
                                 const char *policy_arn) {
    const struct rdsbk_arg args[] = {{"RoleName", role}, {"PolicyArn", policy_arn}, {NULL, NULL}};

    return rdsbk_svc_query_simple(client, &s_api, "DetachRolePolicy", args);
}

/* ---- customer managed policies ---- */

void rdsbk_iam_policy_clean_up(struct rdsbk_iam_policy *p) {
    rdsbk_shape_clean_up(p, &s_policy);
}

int rdsbk_iam_create_policy(struct rdsbk_iam_policy *out, struct rdsbk_client *client,
                            const struct rdsbk_iam_create_policy_input *in) {
    static const struct rdsbk_svc_query_op op = {.api = &s_api,
                                                 .action = "CreatePolicy",
                                                 .input = s_create_policy_input,
                                                 .output = "Policy",
                                                 .shape = &s_policy};

    return rdsbk_svc_query_call(out, client, &op, NULL, in);
}

int rdsbk_iam_get_policy(struct rdsbk_iam_policy *out, struct rdsbk_client *client,
                         const char *policy_arn) {
    const struct rdsbk_arg args[] = {{"PolicyArn", policy_arn}, {NULL, NULL}};

    return s_get(out, client, "GetPolicy", args, "Policy", &s_policy);
}

int rdsbk_iam_delete_policy(struct rdsbk_client *client, const char *policy_arn) {
    const struct rdsbk_arg args[] = {{"PolicyArn", policy_arn}, {NULL, NULL}};

    return rdsbk_svc_query_simple(client, &s_api, "DeletePolicy", args);
}

/* ---- policy versions ---- */

void rdsbk_iam_policy_versions_free(struct rdsbk_iam_policy_version *v, size_t n) {
    rdsbk_shape_free_array(v, n, &s_version);
}

int rdsbk_iam_create_policy_version(char **version_id_out, struct rdsbk_client *client,
                                    const char *policy_arn, const char *document,
                                    bool set_as_default) {
    static const struct rdsbk_svc_query_op op = {.api = &s_api,
                                                 .action = "CreatePolicyVersion",
                                                 .input = s_new_version_input,
                                                 .shape = &s_version_id};
    const struct s_new_version in = {policy_arn, document, set_as_default};

    return rdsbk_svc_query_call(version_id_out, client, &op, NULL, &in);
}

int rdsbk_iam_get_policy_version(char **document_out, struct rdsbk_client *client,
                                 const char *policy_arn, const char *version_id) {
    static const struct rdsbk_svc_query_op op = {
        .api = &s_api, .action = "GetPolicyVersion", .shape = &s_version_document};
    const struct rdsbk_arg args[] = {
        {"PolicyArn", policy_arn}, {"VersionId", version_id}, {NULL, NULL}};

    return s_document(document_out, client, &op, args, "Document");
}

int rdsbk_iam_list_policy_versions(struct rdsbk_iam_policy_version **out, size_t *n_out,
                                   struct rdsbk_client *client, const char *policy_arn) {
    const struct rdsbk_arg args[] = {{"PolicyArn", policy_arn}, {NULL, NULL}};
    struct rdsbk_items versions;
    int rc = s_list(&versions, client, "ListPolicyVersions", args, "Versions", &s_version);

    *out = versions.data;
    *n_out = versions.n;
    return rc;
}

int rdsbk_iam_delete_policy_version(struct rdsbk_client *client, const char *policy_arn,
                                    const char *version_id) {
    const struct rdsbk_arg args[] = {
        {"PolicyArn", policy_arn}, {"VersionId", version_id}, {NULL, NULL}};

    return rdsbk_svc_query_simple(client, &s_api, "DeletePolicyVersion", args);
}

/* ---- role tags ---- */

int rdsbk_iam_tag_role(struct rdsbk_client *client, const char *role, const struct rdsbk_tag *tags,
                       size_t n) {
    static const struct rdsbk_svc_query_op op = {
        .api = &s_api, .action = "TagRole", .input = s_tag_role_input};
    const struct s_role_tags in = {role, tags, NULL, n};

    return rdsbk_svc_query_call(NULL, client, &op, NULL, &in);
}

int rdsbk_iam_untag_role(struct rdsbk_client *client, const char *role, const char *const *keys,
                         size_t n) {
    static const struct rdsbk_svc_query_op op = {
        .api = &s_api, .action = "UntagRole", .input = s_untag_role_input};
    const struct s_role_tags in = {role, NULL, keys, n};

    return rdsbk_svc_query_call(NULL, client, &op, NULL, &in);
}

int rdsbk_iam_list_role_tags(struct rdsbk_tag **out, size_t *n_out, struct rdsbk_client *client,
                             const char *role) {
    const struct rdsbk_arg args[] = {{"RoleName", role}, {NULL, NULL}};
    struct rdsbk_items tags;
    int rc = s_list(&tags, client, "ListRoleTags", args, "Tags", &rdsbk_tag_shape);

    *out = tags.data;
    *n_out = tags.n;
    return rc;
}
