#include "rdsbk/services/iam.h"
#include "rdsbk/error.h"
#include "services/svc.h"

#include <stdlib.h>
#include <string.h>

#define S_VERSION "2010-05-08"

static int s_send(struct rdsbk_query_reply *reply, struct rdsbk_client *client,
                  const struct rdsbk_query *q) {
    return rdsbk_svc_query_send(reply, client, "iam", q);
}

static int s_simple(struct rdsbk_client *client, struct rdsbk_query *q, int rc) {
    return rdsbk_svc_query_simple(client, "iam", q, rc);
}

/* A URL-encoded policy document at `path`, decoded; NULL when absent. */
static int s_document(char **out, const xmlNode *from, const char *path) {
    const char *text = rdsbk_xml_path_text(from, path);

    *out = NULL;
    return text ? rdsbk_protocol_uri_decode(out, text, false) : 0;
}

void rdsbk_iam_role_clean_up(struct rdsbk_iam_role *role) {
    free(role->name);
    free(role->arn);
    free(role->role_id);
    free(role->path);
    free(role->description);
    free(role->assume_role_policy);
    rdsbk_aws_tags_free(role->tags, role->n_tags);
    memset(role, 0, sizeof(*role));
}

void rdsbk_iam_roles_free(struct rdsbk_iam_role *roles, size_t n) {
    if (!roles)
        return;
    for (size_t i = 0; i < n; i++)
        rdsbk_iam_role_clean_up(&roles[i]);
    free(roles);
}

static int s_parse_role(struct rdsbk_iam_role *out, const xmlNode *role) {
    int rc;

    memset(out, 0, sizeof(*out));
    if (!role)
        return rdsbk_error_set(RDSBK_EINVALID, "iam: no Role in the reply");
    rc = rdsbk_xml_path_dup(&out->name, role, "RoleName");
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->arn, role, "Arn");
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->role_id, role, "RoleId");
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->path, role, "Path");
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->description, role, "Description");
    if (rc == 0)
        rc = s_document(&out->assume_role_policy, role, "AssumeRolePolicyDocument");
    if (rc == 0)
        rc = rdsbk_xml_path_tags(&out->tags, &out->n_tags, role, "Tags", NULL);
    out->max_session_duration = (int)rdsbk_xml_path_int(role, "MaxSessionDuration", 0);
    out->create_date = rdsbk_xml_path_time(role, "CreateDate");
    if (rc)
        rdsbk_iam_role_clean_up(out);
    return rc;
}

int rdsbk_iam_create_role(struct rdsbk_iam_role *out, struct rdsbk_client *client,
                          const struct rdsbk_iam_create_role_input *in) {
    struct rdsbk_query q = {0};
    struct rdsbk_query_reply reply = {0};
    int result;

    if (out)
        memset(out, 0, sizeof(*out));
    result = rdsbk_query_init(&q, "CreateRole", S_VERSION);
    if (result == 0)
        result = rdsbk_query_add(&q, "RoleName", in->name);
    if (result == 0)
        result = rdsbk_query_add(&q, "Path", in->path);
    if (result == 0)
        result = rdsbk_query_add(&q, "AssumeRolePolicyDocument", in->assume_role_policy);
    if (result == 0)
        result = rdsbk_query_add(&q, "Description", in->description);
    if (result == 0 && in->max_session_duration > 0)
        result = rdsbk_query_add_int(&q, "MaxSessionDuration", in->max_session_duration);
    if (result == 0)
        result = rdsbk_query_add_tags(&q, "Tags", NULL, in->tags, in->n_tags);
    if (result == 0)
        result = s_send(&reply, client, &q);
    if (result == 0 && out)
        result = s_parse_role(out, rdsbk_xml_child(reply.result, "Role"));
    rdsbk_query_reply_clean_up(&reply);
    rdsbk_query_clean_up(&q);
    return result;
}

int rdsbk_iam_get_role(struct rdsbk_iam_role *out, struct rdsbk_client *client, const char *name) {
    struct rdsbk_query q = {0};
    struct rdsbk_query_reply reply = {0};
    int result;

    memset(out, 0, sizeof(*out));
    result = rdsbk_query_init(&q, "GetRole", S_VERSION);
    if (result == 0)
        result = rdsbk_query_add(&q, "RoleName", name);
    if (result == 0)
        result = s_send(&reply, client, &q);
    if (result == 0)
        result = s_parse_role(out, rdsbk_xml_child(reply.result, "Role"));
    rdsbk_query_reply_clean_up(&reply);
    rdsbk_query_clean_up(&q);
    return result;
}

int rdsbk_iam_delete_role(struct rdsbk_client *client, const char *name) {
    struct rdsbk_query q = {0};
    int rc = rdsbk_query_init(&q, "DeleteRole", S_VERSION);

    if (rc == 0)
        rc = rdsbk_query_add(&q, "RoleName", name);
    return s_simple(client, &q, rc);
}

int rdsbk_iam_update_assume_role_policy(struct rdsbk_client *client, const char *role,
                                        const char *policy) {
    struct rdsbk_query q = {0};
    int rc = rdsbk_query_init(&q, "UpdateAssumeRolePolicy", S_VERSION);

    if (rc == 0)
        rc = rdsbk_query_add(&q, "RoleName", role);
    if (rc == 0)
        rc = rdsbk_query_add(&q, "PolicyDocument", policy);
    return s_simple(client, &q, rc);
}

/*
 * Paging over IAM's Marker / IsTruncated: `page` is called for each reply's Result element.
 */
typedef int (*s_page_fn)(const xmlNode *result, void *payload);

static int s_paginate(struct rdsbk_client *client, const char *action, const char *name1,
                      const char *value1, s_page_fn page, void *payload) {
    char *marker = NULL;
    int pages = 0;
    int result = 0;

    do {
        struct rdsbk_query q = {0};
        struct rdsbk_query_reply reply = {0};
        char *next = NULL;

        result = rdsbk_query_init(&q, action, S_VERSION);
        if (result == 0 && name1)
            result = rdsbk_query_add(&q, name1, value1);
        if (result == 0)
            result = rdsbk_query_add(&q, "Marker", marker);
        if (result == 0)
            result = s_send(&reply, client, &q);
        if (result == 0)
            result = page(reply.result, payload);
        if (result == 0)
            result = rdsbk_query_next_marker(&next, reply.result);
        rdsbk_query_reply_clean_up(&reply);
        rdsbk_query_clean_up(&q);
        /* A service handing back the marker it was given would page forever. */
        if (result == 0 && next &&
            ((marker && strcmp(marker, next) == 0) || ++pages >= RDSBK_SVC_MAX_PAGES))
            result = rdsbk_error_set(RDSBK_ERROR, "iam:%s: pagination does not end", action);
        free(marker);
        marker = next;
    } while (result == 0 && marker);
    free(marker);
    return result;
}

/* Growing arrays of items, for the list calls. */
static int s_grow(void **items, size_t *cap, size_t n, size_t size) {
    void *grown;

    if (n < *cap)
        return 0;
    grown = realloc(*items, (*cap ? *cap * 2 : 8) * size);
    if (!grown)
        return rdsbk_error_oom();
    *items = grown;
    *cap = *cap ? *cap * 2 : 8;
    memset((char *)grown + n * size, 0, (*cap - n) * size);
    return 0;
}

struct s_roles {
    struct rdsbk_iam_role *items;
    size_t n;
    size_t cap;
};

static int s_roles_page(const xmlNode *result, void *payload) {
    struct s_roles *acc = payload;
    xmlNodePtr list = rdsbk_xml_child(result, "Roles");

    for (xmlNodePtr m = rdsbk_xml_child(list, "member"); m; m = rdsbk_xml_next(m, "member")) {
        int rc = s_grow((void **)&acc->items, &acc->cap, acc->n, sizeof(*acc->items));
        if (rc == 0)
            rc = s_parse_role(&acc->items[acc->n], m);
        if (rc)
            return rc;
        acc->n++;
    }
    return 0;
}

int rdsbk_iam_list_roles(struct rdsbk_iam_role **out, size_t *n_out, struct rdsbk_client *client,
                         const char *path_prefix) {
    struct s_roles acc = {0};
    int rc = s_paginate(client, "ListRoles", path_prefix ? "PathPrefix" : NULL, path_prefix,
                        s_roles_page, &acc);

    *out = NULL;
    *n_out = 0;
    if (rc) {
        rdsbk_iam_roles_free(acc.items, acc.n);
        return rc;
    }
    *out = acc.items;
    *n_out = acc.n;
    return 0;
}

int rdsbk_iam_put_role_policy(struct rdsbk_client *client, const char *role,
                              const char *policy_name, const char *document) {
    struct rdsbk_query q = {0};
    int rc = rdsbk_query_init(&q, "PutRolePolicy", S_VERSION);

    if (rc == 0)
        rc = rdsbk_query_add(&q, "RoleName", role);
    if (rc == 0)
        rc = rdsbk_query_add(&q, "PolicyName", policy_name);
    if (rc == 0)
        rc = rdsbk_query_add(&q, "PolicyDocument", document);
    return s_simple(client, &q, rc);
}

int rdsbk_iam_get_role_policy(char **document_out, struct rdsbk_client *client, const char *role,
                              const char *policy_name) {
    struct rdsbk_query q = {0};
    struct rdsbk_query_reply reply = {0};
    int result;

    *document_out = NULL;
    result = rdsbk_query_init(&q, "GetRolePolicy", S_VERSION);
    if (result == 0)
        result = rdsbk_query_add(&q, "RoleName", role);
    if (result == 0)
        result = rdsbk_query_add(&q, "PolicyName", policy_name);
    if (result == 0)
        result = s_send(&reply, client, &q);
    if (result == 0)
        result = s_document(document_out, reply.result, "PolicyDocument");
    if (result == 0 && !*document_out)
        result = rdsbk_error_set(RDSBK_EINVALID, "iam:GetRolePolicy: no PolicyDocument");
    rdsbk_query_reply_clean_up(&reply);
    rdsbk_query_clean_up(&q);
    return result;
}

int rdsbk_iam_delete_role_policy(struct rdsbk_client *client, const char *role,
                                 const char *policy_name) {
    struct rdsbk_query q = {0};
    int rc = rdsbk_query_init(&q, "DeleteRolePolicy", S_VERSION);

    if (rc == 0)
        rc = rdsbk_query_add(&q, "RoleName", role);
    if (rc == 0)
        rc = rdsbk_query_add(&q, "PolicyName", policy_name);
    return s_simple(client, &q, rc);
}

struct s_names {
    char **items;
    size_t n;
    size_t cap;
};

static int s_names_page(const xmlNode *result, void *payload) {
    struct s_names *acc = payload;
    xmlNodePtr list = rdsbk_xml_child(result, "PolicyNames");

    for (xmlNodePtr m = rdsbk_xml_child(list, "member"); m; m = rdsbk_xml_next(m, "member")) {
        /* one spare slot for the NULL terminator */
        int rc = s_grow((void **)&acc->items, &acc->cap, acc->n + 1, sizeof(*acc->items));
        if (rc)
            return rc;
        acc->items[acc->n] = strdup(rdsbk_xml_text(m));
        if (!acc->items[acc->n])
            return rdsbk_error_oom();
        acc->n++;
    }
    return 0;
}

int rdsbk_iam_list_role_policies(char ***names_out, size_t *n_out, struct rdsbk_client *client,
                                 const char *role) {
    struct s_names acc = {0};
    int rc = s_paginate(client, "ListRolePolicies", "RoleName", role, s_names_page, &acc);

    *names_out = NULL;
    *n_out = 0;
    if (rc == 0 && !acc.items)
        rc = s_grow((void **)&acc.items, &acc.cap, 0, sizeof(*acc.items));
    if (rc) {
        rdsbk_strings_free(acc.items, acc.n);
        return rc;
    }
    *names_out = acc.items;
    *n_out = acc.n;
    return 0;
}

void rdsbk_iam_attached_policies_free(struct rdsbk_iam_attached_policy *p, size_t n) {
    if (!p)
        return;
    for (size_t i = 0; i < n; i++) {
        free(p[i].name);
        free(p[i].arn);
    }
    free(p);
}

struct s_attached {
    struct rdsbk_iam_attached_policy *items;
    size_t n;
    size_t cap;
};

static int s_attached_page(const xmlNode *result, void *payload) {
    struct s_attached *acc = payload;
    xmlNodePtr list = rdsbk_xml_child(result, "AttachedPolicies");

    for (xmlNodePtr m = rdsbk_xml_child(list, "member"); m; m = rdsbk_xml_next(m, "member")) {
        struct rdsbk_iam_attached_policy *p;
        int rc = s_grow((void **)&acc->items, &acc->cap, acc->n, sizeof(*acc->items));
        if (rc)
            return rc;
        p = &acc->items[acc->n++];
        rc = rdsbk_xml_path_dup(&p->name, m, "PolicyName");
        if (rc == 0)
            rc = rdsbk_xml_path_dup(&p->arn, m, "PolicyArn");
        if (rc)
            return rc;
    }
    return 0;
}

int rdsbk_iam_list_attached_role_policies(struct rdsbk_iam_attached_policy **out, size_t *n_out,
                                          struct rdsbk_client *client, const char *role) {
    struct s_attached acc = {0};
    int rc =
        s_paginate(client, "ListAttachedRolePolicies", "RoleName", role, s_attached_page, &acc);

    *out = NULL;
    *n_out = 0;
    if (rc) {
        rdsbk_iam_attached_policies_free(acc.items, acc.n);
        return rc;
    }
    *out = acc.items;
    *n_out = acc.n;
    return 0;
}

static int s_role_policy_arn(struct rdsbk_client *client, const char *action, const char *role,
                             const char *policy_arn) {
    struct rdsbk_query q = {0};
    int rc = rdsbk_query_init(&q, action, S_VERSION);

    if (rc == 0)
        rc = rdsbk_query_add(&q, "RoleName", role);
    if (rc == 0)
        rc = rdsbk_query_add(&q, "PolicyArn", policy_arn);
    return s_simple(client, &q, rc);
}

int rdsbk_iam_attach_role_policy(struct rdsbk_client *client, const char *role,
                                 const char *policy_arn) {
    return s_role_policy_arn(client, "AttachRolePolicy", role, policy_arn);
}

int rdsbk_iam_detach_role_policy(struct rdsbk_client *client, const char *role,
                                 const char *policy_arn) {
    return s_role_policy_arn(client, "DetachRolePolicy", role, policy_arn);
}

void rdsbk_iam_policy_clean_up(struct rdsbk_iam_policy *p) {
    free(p->name);
    free(p->arn);
    free(p->policy_id);
    free(p->path);
    free(p->default_version_id);
    free(p->description);
    memset(p, 0, sizeof(*p));
}

static int s_parse_policy(struct rdsbk_iam_policy *out, const xmlNode *p) {
    int rc;

    memset(out, 0, sizeof(*out));
    if (!p)
        return rdsbk_error_set(RDSBK_EINVALID, "iam: no Policy in the reply");
    rc = rdsbk_xml_path_dup(&out->name, p, "PolicyName");
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->arn, p, "Arn");
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->policy_id, p, "PolicyId");
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->path, p, "Path");
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->default_version_id, p, "DefaultVersionId");
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->description, p, "Description");
    out->attachment_count = (int)rdsbk_xml_path_int(p, "AttachmentCount", 0);
    out->create_date = rdsbk_xml_path_time(p, "CreateDate");
    out->update_date = rdsbk_xml_path_time(p, "UpdateDate");
    if (rc)
        rdsbk_iam_policy_clean_up(out);
    return rc;
}

int rdsbk_iam_create_policy(struct rdsbk_iam_policy *out, struct rdsbk_client *client,
                            const struct rdsbk_iam_create_policy_input *in) {
    struct rdsbk_query q = {0};
    struct rdsbk_query_reply reply = {0};
    int result;

    if (out)
        memset(out, 0, sizeof(*out));
    result = rdsbk_query_init(&q, "CreatePolicy", S_VERSION);
    if (result == 0)
        result = rdsbk_query_add(&q, "PolicyName", in->name);
    if (result == 0)
        result = rdsbk_query_add(&q, "Path", in->path);
    if (result == 0)
        result = rdsbk_query_add(&q, "PolicyDocument", in->document);
    if (result == 0)
        result = rdsbk_query_add(&q, "Description", in->description);
    if (result == 0)
        result = rdsbk_query_add_tags(&q, "Tags", NULL, in->tags, in->n_tags);
    if (result == 0)
        result = s_send(&reply, client, &q);
    if (result == 0 && out)
        result = s_parse_policy(out, rdsbk_xml_child(reply.result, "Policy"));
    rdsbk_query_reply_clean_up(&reply);
    rdsbk_query_clean_up(&q);
    return result;
}

int rdsbk_iam_get_policy(struct rdsbk_iam_policy *out, struct rdsbk_client *client,
                         const char *policy_arn) {
    struct rdsbk_query q = {0};
    struct rdsbk_query_reply reply = {0};
    int result;

    memset(out, 0, sizeof(*out));
    result = rdsbk_query_init(&q, "GetPolicy", S_VERSION);
    if (result == 0)
        result = rdsbk_query_add(&q, "PolicyArn", policy_arn);
    if (result == 0)
        result = s_send(&reply, client, &q);
    if (result == 0)
        result = s_parse_policy(out, rdsbk_xml_child(reply.result, "Policy"));
    rdsbk_query_reply_clean_up(&reply);
    rdsbk_query_clean_up(&q);
    return result;
}

int rdsbk_iam_delete_policy(struct rdsbk_client *client, const char *policy_arn) {
    struct rdsbk_query q = {0};
    int rc = rdsbk_query_init(&q, "DeletePolicy", S_VERSION);

    if (rc == 0)
        rc = rdsbk_query_add(&q, "PolicyArn", policy_arn);
    return s_simple(client, &q, rc);
}

void rdsbk_iam_policy_versions_free(struct rdsbk_iam_policy_version *v, size_t n) {
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        free(v[i].version_id);
        free(v[i].document);
    }
    free(v);
}

int rdsbk_iam_create_policy_version(char **version_id_out, struct rdsbk_client *client,
                                    const char *policy_arn, const char *document,
                                    bool set_as_default) {
    struct rdsbk_query q = {0};
    struct rdsbk_query_reply reply = {0};
    int result;

    if (version_id_out)
        *version_id_out = NULL;
    result = rdsbk_query_init(&q, "CreatePolicyVersion", S_VERSION);
    if (result == 0)
        result = rdsbk_query_add(&q, "PolicyArn", policy_arn);
    if (result == 0)
        result = rdsbk_query_add(&q, "PolicyDocument", document);
    if (result == 0)
        result = rdsbk_query_add_bool(&q, "SetAsDefault", set_as_default);
    if (result == 0)
        result = s_send(&reply, client, &q);
    if (result == 0 && version_id_out)
        result = rdsbk_xml_path_dup(version_id_out, reply.result, "PolicyVersion/VersionId");
    rdsbk_query_reply_clean_up(&reply);
    rdsbk_query_clean_up(&q);
    return result;
}

int rdsbk_iam_get_policy_version(char **document_out, struct rdsbk_client *client,
                                 const char *policy_arn, const char *version_id) {
    struct rdsbk_query q = {0};
    struct rdsbk_query_reply reply = {0};
    int result;

    *document_out = NULL;
    result = rdsbk_query_init(&q, "GetPolicyVersion", S_VERSION);
    if (result == 0)
        result = rdsbk_query_add(&q, "PolicyArn", policy_arn);
    if (result == 0)
        result = rdsbk_query_add(&q, "VersionId", version_id);
    if (result == 0)
        result = s_send(&reply, client, &q);
    if (result == 0)
        result = s_document(document_out, reply.result, "PolicyVersion/Document");
    if (result == 0 && !*document_out)
        result = rdsbk_error_set(RDSBK_EINVALID, "iam:GetPolicyVersion: no Document");
    rdsbk_query_reply_clean_up(&reply);
    rdsbk_query_clean_up(&q);
    return result;
}

struct s_versions {
    struct rdsbk_iam_policy_version *items;
    size_t n;
    size_t cap;
};

static int s_versions_page(const xmlNode *result, void *payload) {
    struct s_versions *acc = payload;
    xmlNodePtr list = rdsbk_xml_child(result, "Versions");

    for (xmlNodePtr m = rdsbk_xml_child(list, "member"); m; m = rdsbk_xml_next(m, "member")) {
        struct rdsbk_iam_policy_version *v;
        int rc = s_grow((void **)&acc->items, &acc->cap, acc->n, sizeof(*acc->items));
        if (rc)
            return rc;
        v = &acc->items[acc->n++];
        rc = rdsbk_xml_path_dup(&v->version_id, m, "VersionId");
        if (rc == 0)
            rc = s_document(&v->document, m, "Document");
        v->is_default = rdsbk_xml_path_bool(m, "IsDefaultVersion", false);
        v->create_date = rdsbk_xml_path_time(m, "CreateDate");
        if (rc)
            return rc;
    }
    return 0;
}

int rdsbk_iam_list_policy_versions(struct rdsbk_iam_policy_version **out, size_t *n_out,
                                   struct rdsbk_client *client, const char *policy_arn) {
    struct s_versions acc = {0};
    int rc =
        s_paginate(client, "ListPolicyVersions", "PolicyArn", policy_arn, s_versions_page, &acc);

    *out = NULL;
    *n_out = 0;
    if (rc) {
        rdsbk_iam_policy_versions_free(acc.items, acc.n);
        return rc;
    }
    *out = acc.items;
    *n_out = acc.n;
    return 0;
}

int rdsbk_iam_delete_policy_version(struct rdsbk_client *client, const char *policy_arn,
                                    const char *version_id) {
    struct rdsbk_query q = {0};
    int rc = rdsbk_query_init(&q, "DeletePolicyVersion", S_VERSION);

    if (rc == 0)
        rc = rdsbk_query_add(&q, "PolicyArn", policy_arn);
    if (rc == 0)
        rc = rdsbk_query_add(&q, "VersionId", version_id);
    return s_simple(client, &q, rc);
}

int rdsbk_iam_tag_role(struct rdsbk_client *client, const char *role, const struct rdsbk_tag *tags,
                       size_t n) {
    struct rdsbk_query q = {0};
    int rc = rdsbk_query_init(&q, "TagRole", S_VERSION);

    if (rc == 0)
        rc = rdsbk_query_add(&q, "RoleName", role);
    if (rc == 0)
        rc = rdsbk_query_add_tags(&q, "Tags", NULL, tags, n);
    return s_simple(client, &q, rc);
}

int rdsbk_iam_untag_role(struct rdsbk_client *client, const char *role, const char *const *keys,
                         size_t n) {
    struct rdsbk_query q = {0};
    int rc = rdsbk_query_init(&q, "UntagRole", S_VERSION);

    if (rc == 0)
        rc = rdsbk_query_add(&q, "RoleName", role);
    if (rc == 0)
        rc = rdsbk_query_add_list(&q, "TagKeys", "member", keys, n);
    return s_simple(client, &q, rc);
}

struct s_tags {
    struct rdsbk_tag *items;
    size_t n;
    size_t cap;
};

static int s_tags_page(const xmlNode *result, void *payload) {
    struct s_tags *acc = payload;
    struct rdsbk_tag *page = NULL;
    size_t n = 0;
    int rc = rdsbk_xml_path_tags(&page, &n, result, "Tags", NULL);

    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = s_grow((void **)&acc->items, &acc->cap, acc->n, sizeof(*acc->items));
        if (rc == 0) {
            acc->items[acc->n++] = page[i];
            page[i].key = NULL;
            page[i].value = NULL;
        }
    }
    rdsbk_aws_tags_free(page, n);
    return rc;
}

int rdsbk_iam_list_role_tags(struct rdsbk_tag **out, size_t *n_out, struct rdsbk_client *client,
                             const char *role) {
    struct s_tags acc = {0};
    int rc = s_paginate(client, "ListRoleTags", "RoleName", role, s_tags_page, &acc);

    *out = NULL;
    *n_out = 0;
    if (rc == 0 && !acc.items)
        rc = s_grow((void **)&acc.items, &acc.cap, 0, sizeof(*acc.items));
    if (rc) {
        rdsbk_aws_tags_free(acc.items, acc.n);
        return rc;
    }
    *out = acc.items;
    *n_out = acc.n;
    return 0;
}
