/*
 * CloudFormation StackSets (awsQuery): the requests built member by member (Parameters.member.N,
 * DeploymentTargets.OrganizationalUnitIds.member.N, OperationPreferences.RegionOrder.member.N),
 * the replies read by path. botocore's cloudformation/2010-05-15 model names them.
 */
#include "rdsbk/services/cloudformation.h"
#include "rdsbk/buf.h"
#include "rdsbk/error.h"
#include "rdsbk/str.h"
#include "services/svc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const struct rdsbk_svc_query_api s_api = {"cloudformation", "2010-05-15", "NextToken"};

void rdsbk_cfn_stack_set_clean_up(struct rdsbk_cfn_stack_set *set) {
    free(set->status);
    free(set->arn);
    free(set->template_body);
    cJSON_Delete(set->parameters);
    rdsbk_aws_tags_free(set->tags, set->n_tags);
    free(set->ou);
    memset(set, 0, sizeof(*set));
}

/* The text at `path` below `m`, "" when absent. */
static const char *s_text(const xmlNode *m, const char *path) {
    const char *t = rdsbk_xml_path_text(m, path);

    return t ? t : "";
}

/* Sends `q` (cleaned up) unless `rc` is an error; *reply the caller's to clean up. */
static int s_send(struct rdsbk_query_reply *reply, struct rdsbk_client *client,
                  struct rdsbk_query *q, int rc) {
    memset(reply, 0, sizeof(*reply));
    if (rc == 0)
        rc = rdsbk_svc_query_send(reply, client, s_api.service, q);
    rdsbk_query_clean_up(q);
    return rc;
}

/* The operation id of `reply` into *out; RDSBK_EINVALID when it has none. */
static int s_operation_id(char **out, const struct rdsbk_query_reply *reply, const char *action) {
    int rc = rdsbk_xml_path_dup(out, reply->result, "OperationId");

    if (rc == 0 && !*out)
        rc = rdsbk_error_set(RDSBK_EINVALID, "cloudformation:%s: no OperationId in the reply",
                             action);
    return rc;
}

/* Regions.member.N, and the same order as OperationPreferences (one Region after the other). */
static int s_add_regions(struct rdsbk_query *q, const char *const *regions, size_t n) {
    int rc;

    RDSBK_TRY(rdsbk_query_add_list(q, "Regions", "member", regions, n));
    RDSBK_TRY(rdsbk_query_add_list(q, "OperationPreferences.RegionOrder", "member", regions, n));
    RDSBK_TRY(rdsbk_query_add(q, "OperationPreferences.RegionConcurrencyType", "SEQUENTIAL"));
    rc = rdsbk_query_add(q, "OperationPreferences.FailureToleranceCount", "0");

cleanup:
    return rc;
}

/* The members CreateStackSet and UpdateStackSet share. */
static int s_add_stack_set(struct rdsbk_query *q, const struct rdsbk_cfn_stack_set_input *in) {
    int rc;

    RDSBK_TRY(rdsbk_query_add(q, "StackSetName", in->name));
    RDSBK_TRY(rdsbk_query_add(q, "Description", in->description));
    RDSBK_TRY(rdsbk_query_add(q, "TemplateBody", in->template_body));
    for (size_t i = 0; i < in->n_parameters; i++) {
        RDSBK_TRY(rdsbk_query_addf(q, in->parameters[i].key, "Parameters.member.%zu.ParameterKey",
                                   i + 1));
        RDSBK_TRY(rdsbk_query_addf(q, in->parameters[i].value,
                                   "Parameters.member.%zu.ParameterValue", i + 1));
    }
    RDSBK_TRY(rdsbk_query_add(q, "Capabilities.member.1", "CAPABILITY_NAMED_IAM"));
    RDSBK_TRY(rdsbk_query_add_tags(q, "Tags", "member", in->tags, in->n_tags));
    RDSBK_TRY(rdsbk_query_add(q, "PermissionModel", "SERVICE_MANAGED"));
    RDSBK_TRY(rdsbk_query_add(q, "AutoDeployment.Enabled", "true"));
    RDSBK_TRY(rdsbk_query_add(q, "AutoDeployment.RetainStacksOnAccountRemoval", "false"));
    rc = rdsbk_query_add(q, "CallAs", "SELF");

cleanup:
    return rc;
}

int rdsbk_cfn_create_stack_set(struct rdsbk_client *client,
                               const struct rdsbk_cfn_stack_set_input *in) {
    struct rdsbk_query q;
    struct rdsbk_query_reply reply;
    int rc = rdsbk_query_init(&q, "CreateStackSet", s_api.version);

    if (rc == 0)
        rc = s_add_stack_set(&q, in);
    rc = s_send(&reply, client, &q, rc);
    rdsbk_query_reply_clean_up(&reply);
    return rc;
}

int rdsbk_cfn_update_stack_set(char **operation_id, struct rdsbk_client *client,
                               const struct rdsbk_cfn_stack_set_input *in,
                               const char *const *regions, size_t n_regions) {
    struct rdsbk_query q;
    struct rdsbk_query_reply reply;
    int rc = rdsbk_query_init(&q, "UpdateStackSet", s_api.version);

    *operation_id = NULL;
    if (rc == 0)
        rc = s_add_stack_set(&q, in);
    if (rc == 0) {
        rc = rdsbk_query_add_list(&q, "OperationPreferences.RegionOrder", "member", regions,
                                  n_regions);
        if (rc == 0)
            rc = rdsbk_query_add(&q, "OperationPreferences.RegionConcurrencyType", "SEQUENTIAL");
    }
    rc = s_send(&reply, client, &q, rc);
    if (rc == 0)
        rc = s_operation_id(operation_id, &reply, "UpdateStackSet");
    rdsbk_query_reply_clean_up(&reply);
    return rc;
}

int rdsbk_cfn_describe_stack_set(struct rdsbk_cfn_stack_set *out, struct rdsbk_client *client,
                                 const char *name) {
    struct rdsbk_query q;
    struct rdsbk_query_reply reply;
    const xmlNode *set;
    int rc = rdsbk_query_init(&q, "DescribeStackSet", s_api.version);

    memset(out, 0, sizeof(*out));
    if (rc == 0)
        rc = rdsbk_query_add(&q, "StackSetName", name);
    if (rc == 0)
        rc = rdsbk_query_add(&q, "CallAs", "SELF");
    RDSBK_TRY(s_send(&reply, client, &q, rc));
    set = rdsbk_xml_path(reply.result, "StackSet");
    if (!set) {
        rc = rdsbk_error_set(RDSBK_EINVALID, "cloudformation:DescribeStackSet: no StackSet in "
                                             "the reply");
        goto cleanup;
    }
    RDSBK_TRY(rdsbk_xml_path_dup(&out->status, set, "Status"));
    RDSBK_TRY(rdsbk_xml_path_dup(&out->arn, set, "StackSetARN"));
    RDSBK_TRY(rdsbk_xml_path_dup(&out->template_body, set, "TemplateBody"));
    RDSBK_TRY(rdsbk_xml_path_map(&out->parameters, set, "Parameters", "member", "ParameterKey",
                                 "ParameterValue"));
    RDSBK_TRY(rdsbk_xml_path_tags(&out->tags, &out->n_tags, set, "Tags", NULL));
    RDSBK_TRY(rdsbk_xml_path_dup(&out->ou, set, "OrganizationalUnitIds/member"));
    if (out->status && strcmp(out->status, "DELETED") == 0)
        rc = rdsbk_error_set(RDSBK_ENOTFOUND, "cloudformation: stack set %s is deleted", name);

cleanup:
    if (rc)
        rdsbk_cfn_stack_set_clean_up(out);
    rdsbk_query_reply_clean_up(&reply);
    return rc;
}

int rdsbk_cfn_delete_stack_set(struct rdsbk_client *client, const char *name) {
    const struct rdsbk_arg args[] = {{"StackSetName", name}, {"CallAs", "SELF"}, {NULL, NULL}};

    return rdsbk_svc_query_simple(client, &s_api, "DeleteStackSet", args);
}

int rdsbk_cfn_stack_instances(char **operation_id, struct rdsbk_client *client, bool create,
                              const char *name, const char *ou, const char *const *regions,
                              size_t n_regions) {
    const char *action = create ? "CreateStackInstances" : "DeleteStackInstances";
    struct rdsbk_query q;
    struct rdsbk_query_reply reply;
    int rc = rdsbk_query_init(&q, action, s_api.version);

    *operation_id = NULL;
    if (rc == 0)
        rc = rdsbk_query_add(&q, "StackSetName", name);
    if (rc == 0)
        rc = rdsbk_query_add(&q, "DeploymentTargets.OrganizationalUnitIds.member.1", ou);
    if (rc == 0)
        rc = s_add_regions(&q, regions, n_regions);
    if (rc == 0 && !create)
        rc = rdsbk_query_add(&q, "RetainStacks", "false");
    if (rc == 0)
        rc = rdsbk_query_add(&q, "CallAs", "SELF");
    rc = s_send(&reply, client, &q, rc);
    if (rc == 0)
        rc = s_operation_id(operation_id, &reply, action);
    rdsbk_query_reply_clean_up(&reply);
    return rc;
}

/* A summary of ListStackInstances, and the key of each member in the objects the listing gives. */
struct s_instance {
    char *members[6];
};
static const char *const s_instance_keys[] = {"account", "region",          "ou",
                                              "status",  "detailed_status", "reason"};
#define S_INSTANCE(i) offsetof(struct s_instance, members) + (i) * sizeof(char *)
static const struct rdsbk_field s_instance_fields[] = {
    RDSBK_FIELD(TEXT, "Account", S_INSTANCE(0)),
    RDSBK_FIELD(TEXT, "Region", S_INSTANCE(1)),
    RDSBK_FIELD(TEXT, "OrganizationalUnitId", S_INSTANCE(2)),
    RDSBK_FIELD(TEXT, "Status", S_INSTANCE(3)),
    RDSBK_FIELD(TEXT, "StackInstanceStatus/DetailedStatus", S_INSTANCE(4)),
    RDSBK_FIELD(TEXT, "StatusReason", S_INSTANCE(5)),
    RDSBK_FIELD_END,
};
static const struct rdsbk_shape s_instance_shape = {s_instance_fields, sizeof(struct s_instance),
                                                    NULL};

int rdsbk_cfn_list_stack_instances(cJSON **out, struct rdsbk_client *client, const char *name) {
    static const struct rdsbk_svc_query_op op = {.api = &s_api,
                                                 .action = "ListStackInstances",
                                                 .output = "Summaries",
                                                 .shape = &s_instance_shape};
    const struct rdsbk_arg args[] = {{"StackSetName", name}, {"CallAs", "SELF"}, {NULL, NULL}};
    struct rdsbk_items items;
    struct rdsbk_query q;
    cJSON *list = NULL;
    int rc = rdsbk_svc_query_start(&q, &op, args, NULL);

    *out = NULL;
    RDSBK_TRY(rdsbk_svc_query_list(&items, client, &op, &q, rc));
    RDSBK_CHECK_ALLOC(list = cJSON_CreateArray());
    for (size_t i = 0; i < items.n; i++) {
        const struct s_instance *in = (const struct s_instance *)items.data + i;
        cJSON *o = cJSON_CreateObject();

        RDSBK_CHECK_ALLOC(o);
        cJSON_AddItemToArray(list, o);
        for (size_t k = 0; k < sizeof(s_instance_keys) / sizeof(s_instance_keys[0]); k++)
            RDSBK_TRY(rdsbk_json_add_str(o, s_instance_keys[k], in->members[k]));
    }
    *out = list;
    list = NULL;

cleanup:
    rdsbk_items_free(&items, &s_instance_shape);
    cJSON_Delete(list);
    return rc;
}

int rdsbk_cfn_operation_status(char **status, char **reason, struct rdsbk_client *client,
                               const char *name, const char *operation_id) {
    const struct rdsbk_arg args[] = {
        {"StackSetName", name}, {"OperationId", operation_id}, {"CallAs", "SELF"}, {NULL, NULL}};
    static const struct rdsbk_svc_query_op op = {.api = &s_api,
                                                 .action = "DescribeStackSetOperation"};
    struct rdsbk_query_reply reply;
    int rc;

    *status = *reason = NULL;
    RDSBK_TRY(rdsbk_svc_query_reply(&reply, client, &op, args, NULL));
    RDSBK_TRY(rdsbk_xml_path_dup(status, reply.result, "StackSetOperation/Status"));
    RDSBK_TRY(rdsbk_xml_path_dup(reason, reply.result, "StackSetOperation/StatusReason"));
    if (!*status)
        rc = rdsbk_error_set(RDSBK_EINVALID, "cloudformation:DescribeStackSetOperation: no "
                                             "Status in the reply");

cleanup:
    if (rc) {
        free(*status);
        free(*reason);
        *status = *reason = NULL;
    }
    rdsbk_query_reply_clean_up(&reply);
    return rc;
}

int rdsbk_cfn_operation_failures(char **out, struct rdsbk_client *client, const char *name,
                                 const char *operation_id) {
    const struct rdsbk_arg args[] = {
        {"StackSetName", name}, {"OperationId", operation_id}, {"CallAs", "SELF"}, {NULL, NULL}};
    static const struct rdsbk_svc_query_op op = {.api = &s_api,
                                                 .action = "ListStackSetOperationResults"};
    struct rdsbk_query_reply reply;
    struct rdsbk_buf text = RDSBK_BUF_INIT;
    int rc;

    *out = NULL;
    RDSBK_TRY(rdsbk_svc_query_reply(&reply, client, &op, args, NULL));
    for (const xmlNode *m = rdsbk_xml_child(rdsbk_xml_path(reply.result, "Summaries"), "member"); m;
         m = rdsbk_xml_next(m, "member")) {
        const char *status = rdsbk_xml_path_text(m, "Status");
        if (status && strcmp(status, "SUCCEEDED") == 0)
            continue;
        RDSBK_TRY(rdsbk_buf_printf(&text, "%s%s/%s: %s", rdsbk_buf_len(&text) ? "; " : "",
                                   s_text(m, "Account"), s_text(m, "Region"),
                                   s_text(m, "StatusReason")));
    }
    *out = rdsbk_buf_detach(&text);
    if (!*out)
        rc = rdsbk_error_oom();

cleanup:
    rdsbk_buf_clean_up(&text);
    rdsbk_query_reply_clean_up(&reply);
    return rc;
}
