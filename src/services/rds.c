/*
 * RDS (awsQuery): instance and cluster snapshots (described, copied, shared, deleted), the tags of
 * any RDS resource, and the instances a restore drill creates. The two snapshot kinds differ only
 * in names: struct s_kind holds each one's operations and the members it names its own way.
 */
#include "rdsbk/services/rds.h"
#include "rdsbk/error.h"
#include "services/svc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const struct rdsbk_svc_query_api s_api = {"rds", "2014-10-31", NULL};

/* ---- snapshots ---- */

#define S_SNAP(m) offsetof(struct rdsbk_rds_snapshot, m)

/* The members both snapshot shapes name alike. */
static const struct rdsbk_field s_snapshot_fields[] = {
    RDSBK_FIELD(STR, "Status", S_SNAP(status)),
    RDSBK_FIELD(STR, "SnapshotType", S_SNAP(snapshot_type)),
    RDSBK_FIELD(STR, "Engine", S_SNAP(engine)),
    RDSBK_FIELD(STR, "KmsKeyId", S_SNAP(kms_key_id)),
    RDSBK_FIELD(STR, "SourceRegion", S_SNAP(source_region)),
    RDSBK_FIELD_N(TAGS, "TagList", S_SNAP(tags), S_SNAP(n_tags), "Tag", NULL),
    RDSBK_FIELD(INT, "PercentProgress", S_SNAP(percent_progress)),
    RDSBK_FIELD(TIME, "SnapshotCreateTime", S_SNAP(create_time)),
    RDSBK_FIELD_END,
};
static const struct rdsbk_shape s_snapshot = {s_snapshot_fields, sizeof(struct rdsbk_rds_snapshot),
                                              NULL};

/* The members each shape names its own way: DBSnapshot, then DBClusterSnapshot. */
static const struct rdsbk_field s_instance_snapshot_fields[] = {
    RDSBK_FIELD(STR, "DBSnapshotIdentifier", S_SNAP(id)),
    RDSBK_FIELD(STR, "DBSnapshotArn", S_SNAP(arn)),
    RDSBK_FIELD(STR, "DBInstanceIdentifier", S_SNAP(source_id)),
    RDSBK_FIELD(STR, "SourceDBSnapshotIdentifier", S_SNAP(source_snapshot)),
    RDSBK_FIELD(BOOL, "Encrypted", S_SNAP(encrypted)),
    RDSBK_FIELD_END,
};
static const struct rdsbk_shape s_instance_snapshot = {
    s_instance_snapshot_fields, sizeof(struct rdsbk_rds_snapshot), &s_snapshot};

static const struct rdsbk_field s_cluster_snapshot_fields[] = {
    RDSBK_FIELD(STR, "DBClusterSnapshotIdentifier", S_SNAP(id)),
    RDSBK_FIELD(STR, "DBClusterSnapshotArn", S_SNAP(arn)),
    RDSBK_FIELD(STR, "DBClusterIdentifier", S_SNAP(source_id)),
    RDSBK_FIELD(STR, "SourceDBClusterSnapshotArn", S_SNAP(source_snapshot)),
    RDSBK_FIELD(BOOL, "StorageEncrypted", S_SNAP(encrypted)),
    RDSBK_FIELD_END,
};
static const struct rdsbk_shape s_cluster_snapshot = {
    s_cluster_snapshot_fields, sizeof(struct rdsbk_rds_snapshot), &s_snapshot};

/* What a snapshot query sends besides the kind's own names and the filters. */
#define S_QUERY(m) offsetof(struct rdsbk_rds_snapshot_query, m)
static const struct rdsbk_field s_query_input[] = {
    RDSBK_FIELD(STR, "SnapshotType", S_QUERY(snapshot_type)),
    RDSBK_FIELD(TRUE, "IncludeShared", S_QUERY(include_shared)),
    RDSBK_FIELD_END,
};

/* What a copy sends after its source and target (which each kind names its own way). */
#define S_COPY(m) offsetof(struct rdsbk_rds_copy_input, m)
static const struct rdsbk_field s_copy_input[] = {
    RDSBK_FIELD(STR, "KmsKeyId", S_COPY(kms_key_id)),
    RDSBK_FIELD(STR, "PreSignedUrl", S_COPY(pre_signed_url)),
    RDSBK_FIELD(TRUE, "CopyTags", S_COPY(copy_tags)),
    RDSBK_FIELD_N(TAGS, "Tags", S_COPY(tags), S_COPY(n_tags), "Tag", NULL),
    RDSBK_FIELD_END,
};

/* ModifyDB[Cluster]SnapshotAttribute's lists. Empty lists are left out: "ValuesToAdd=" would be
 * an empty value, not "no change". */
struct s_attribute_change {
    const char *const *add;
    size_t n_add;
    const char *const *remove;
    size_t n_remove;
};
#define S_CHANGE(m) offsetof(struct s_attribute_change, m)
static const struct rdsbk_field s_attribute_change_input[] = {
    RDSBK_FIELD_N(OPT_LIST, "ValuesToAdd", S_CHANGE(add), S_CHANGE(n_add), "AttributeValue", NULL),
    RDSBK_FIELD_N(OPT_LIST, "ValuesToRemove", S_CHANGE(remove), S_CHANGE(n_remove),
                  "AttributeValue", NULL),
    RDSBK_FIELD_END,
};

/* The two kinds of snapshot: the members they name their own way in requests, and their
 * operations. */
struct s_kind {
    const char *id;          /* DBSnapshotIdentifier */
    const char *source_id;   /* DBInstanceIdentifier */
    const char *copy_source; /* SourceDBSnapshotIdentifier */
    const char *copy_target; /* TargetDBSnapshotIdentifier */
    struct rdsbk_svc_query_op describe, copy, remove, attributes, modify;
};

static const struct s_kind s_instance = {
    .id = "DBSnapshotIdentifier",
    .source_id = "DBInstanceIdentifier",
    .copy_source = "SourceDBSnapshotIdentifier",
    .copy_target = "TargetDBSnapshotIdentifier",
    .describe = {.api = &s_api,
                 .action = "DescribeDBSnapshots",
                 .input = s_query_input,
                 .output = "DBSnapshots",
                 .item = "DBSnapshot",
                 .shape = &s_instance_snapshot},
    .copy = {.api = &s_api,
             .action = "CopyDBSnapshot",
             .input = s_copy_input,
             .output = "DBSnapshot",
             .shape = &s_instance_snapshot},
    .remove = {.api = &s_api, .action = "DeleteDBSnapshot"},
    /* the list of attributes, and each attribute */
    .attributes = {.api = &s_api,
                   .action = "DescribeDBSnapshotAttributes",
                   .output = "DBSnapshotAttributesResult/DBSnapshotAttributes",
                   .item = "DBSnapshotAttribute"},
    .modify = {.api = &s_api,
               .action = "ModifyDBSnapshotAttribute",
               .input = s_attribute_change_input},
};

static const struct s_kind s_cluster = {
    .id = "DBClusterSnapshotIdentifier",
    .source_id = "DBClusterIdentifier",
    .copy_source = "SourceDBClusterSnapshotIdentifier",
    .copy_target = "TargetDBClusterSnapshotIdentifier",
    .describe = {.api = &s_api,
                 .action = "DescribeDBClusterSnapshots",
                 .input = s_query_input,
                 .output = "DBClusterSnapshots",
                 .item = "DBClusterSnapshot",
                 .shape = &s_cluster_snapshot},
    .copy = {.api = &s_api,
             .action = "CopyDBClusterSnapshot",
             .input = s_copy_input,
             .output = "DBClusterSnapshot",
             .shape = &s_cluster_snapshot},
    .remove = {.api = &s_api, .action = "DeleteDBClusterSnapshot"},
    .attributes = {.api = &s_api,
                   .action = "DescribeDBClusterSnapshotAttributes",
                   .output = "DBClusterSnapshotAttributesResult/DBClusterSnapshotAttributes",
                   .item = "DBClusterSnapshotAttribute"},
    .modify = {.api = &s_api,
               .action = "ModifyDBClusterSnapshotAttribute",
               .input = s_attribute_change_input},
};

void rdsbk_rds_snapshot_clean_up(struct rdsbk_rds_snapshot *s) {
    /* Both shapes fill the same members. */
    rdsbk_shape_clean_up(s, &s_instance_snapshot);
}

void rdsbk_rds_snapshots_free(struct rdsbk_rds_snapshot *s, size_t n) {
    rdsbk_shape_free_array(s, n, &s_instance_snapshot);
}

/* Filters.Filter.N.Name / Filters.Filter.N.Values.Value.M */
static int s_add_filters(struct rdsbk_query *q, const struct rdsbk_rds_filter *f, size_t n) {
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = rdsbk_query_addf(q, f[i].name, "Filters.Filter.%zu.Name", i + 1);
        for (size_t j = 0; rc == 0 && j < f[i].n_values; j++)
            rc = rdsbk_query_addf(q, f[i].values[j], "Filters.Filter.%zu.Values.Value.%zu", i + 1,
                                  j + 1);
    }
    return rc;
}

static int s_describe_snapshots(struct rdsbk_rds_snapshot **out, size_t *n_out,
                                struct rdsbk_client *client,
                                const struct rdsbk_rds_snapshot_query *sq, const struct s_kind *k) {
    static const struct rdsbk_rds_snapshot_query none = {0};
    const struct rdsbk_rds_snapshot_query *in = sq ? sq : &none;
    const struct rdsbk_arg args[] = {
        {k->source_id, in->source_id}, {k->id, in->snapshot_id}, {NULL, NULL}};
    struct rdsbk_items snapshots;
    struct rdsbk_query q;
    int rc = rdsbk_svc_query_start(&q, &k->describe, args, in);

    if (rc == 0)
        rc = s_add_filters(&q, in->filters, in->n_filters);
    rc = rdsbk_svc_query_list(&snapshots, client, &k->describe, &q, rc);
    *out = snapshots.data;
    *n_out = snapshots.n;
    return rc;
}

int rdsbk_rds_describe_db_snapshots(struct rdsbk_rds_snapshot **out, size_t *n_out,
                                    struct rdsbk_client *client,
                                    const struct rdsbk_rds_snapshot_query *q) {
    return s_describe_snapshots(out, n_out, client, q, &s_instance);
}

int rdsbk_rds_describe_db_cluster_snapshots(struct rdsbk_rds_snapshot **out, size_t *n_out,
                                            struct rdsbk_client *client,
                                            const struct rdsbk_rds_snapshot_query *q) {
    return s_describe_snapshots(out, n_out, client, q, &s_cluster);
}

static int s_copy(struct rdsbk_rds_snapshot *out, struct rdsbk_client *client,
                  const struct rdsbk_rds_copy_input *in, const struct s_kind *k) {
    const struct rdsbk_arg args[] = {
        {k->copy_source, in->source_id}, {k->copy_target, in->target_id}, {NULL, NULL}};

    return rdsbk_svc_query_call(out, client, &k->copy, args, in);
}

int rdsbk_rds_copy_db_snapshot(struct rdsbk_rds_snapshot *out, struct rdsbk_client *client,
                               const struct rdsbk_rds_copy_input *in) {
    return s_copy(out, client, in, &s_instance);
}

int rdsbk_rds_copy_db_cluster_snapshot(struct rdsbk_rds_snapshot *out, struct rdsbk_client *client,
                                       const struct rdsbk_rds_copy_input *in) {
    return s_copy(out, client, in, &s_cluster);
}

/* The element of `attribute` in a DescribeDB[Cluster]SnapshotAttributes Result, or NULL. */
static const xmlNode *s_find_attribute(const xmlNode *result, const struct rdsbk_svc_query_op *op,
                                       const char *attribute) {
    xmlNodePtr list = rdsbk_xml_path(result, op->output);

    for (xmlNodePtr a = rdsbk_xml_child(list, op->item); a; a = rdsbk_xml_next(a, op->item)) {
        const char *name = rdsbk_xml_path_text(a, "AttributeName");
        if (strcmp(name ? name : "", attribute) == 0)
            return a;
    }
    return NULL;
}

static int s_describe_attributes(char ***values_out, size_t *n_out, struct rdsbk_client *client,
                                 const char *snapshot_id, const char *attribute,
                                 const struct s_kind *k) {
    const struct rdsbk_arg args[] = {{k->id, snapshot_id}, {NULL, NULL}};
    struct rdsbk_query_reply reply;
    int rc = rdsbk_svc_query_reply(&reply, client, &k->attributes, args, NULL);

    *values_out = NULL;
    *n_out = 0;
    /* An absent attribute is an empty list. */
    if (rc == 0)
        rc = rdsbk_xml_path_strings(values_out, n_out,
                                    s_find_attribute(reply.result, &k->attributes, attribute),
                                    "AttributeValues", "AttributeValue");
    rdsbk_query_reply_clean_up(&reply);
    return rc;
}

int rdsbk_rds_describe_db_snapshot_attributes(char ***values_out, size_t *n_out,
                                              struct rdsbk_client *client, const char *snapshot_id,
                                              const char *attribute) {
    return s_describe_attributes(values_out, n_out, client, snapshot_id, attribute, &s_instance);
}

int rdsbk_rds_describe_db_cluster_snapshot_attributes(char ***values_out, size_t *n_out,
                                                      struct rdsbk_client *client,
                                                      const char *snapshot_id,
                                                      const char *attribute) {
    return s_describe_attributes(values_out, n_out, client, snapshot_id, attribute, &s_cluster);
}

static int s_modify_attribute(struct rdsbk_client *client, const char *snapshot_id,
                              const char *attribute, const struct s_attribute_change *change,
                              const struct s_kind *k) {
    const struct rdsbk_arg args[] = {
        {k->id, snapshot_id}, {"AttributeName", attribute}, {NULL, NULL}};

    return rdsbk_svc_query_call(NULL, client, &k->modify, args, change);
}

int rdsbk_rds_modify_db_snapshot_attribute(struct rdsbk_client *client, const char *snapshot_id,
                                           const char *attribute, const char *const *add,
                                           size_t n_add, const char *const *remove,
                                           size_t n_remove) {
    const struct s_attribute_change change = {add, n_add, remove, n_remove};

    return s_modify_attribute(client, snapshot_id, attribute, &change, &s_instance);
}

int rdsbk_rds_modify_db_cluster_snapshot_attribute(struct rdsbk_client *client,
                                                   const char *snapshot_id, const char *attribute,
                                                   const char *const *add, size_t n_add,
                                                   const char *const *remove, size_t n_remove) {
    const struct s_attribute_change change = {add, n_add, remove, n_remove};

    return s_modify_attribute(client, snapshot_id, attribute, &change, &s_cluster);
}

static int s_delete_snapshot(struct rdsbk_client *client, const char *snapshot_id,
                             const struct s_kind *k) {
    const struct rdsbk_arg args[] = {{k->id, snapshot_id}, {NULL, NULL}};

    return rdsbk_svc_query_call(NULL, client, &k->remove, args, NULL);
}

int rdsbk_rds_delete_db_snapshot(struct rdsbk_client *client, const char *snapshot_id) {
    return s_delete_snapshot(client, snapshot_id, &s_instance);
}

int rdsbk_rds_delete_db_cluster_snapshot(struct rdsbk_client *client, const char *snapshot_id) {
    return s_delete_snapshot(client, snapshot_id, &s_cluster);
}

/* ---- account quotas ---- */

/* The name is read through the table; Used and Max are Longs, which the tables' INT (an int)
 * does not hold, so they are read apart. */
#define S_QUOTA(m) offsetof(struct rdsbk_rds_account_quota, m)
static const struct rdsbk_field s_quota_fields[] = {
    RDSBK_FIELD(STR, "AccountQuotaName", S_QUOTA(name)),
    RDSBK_FIELD_END,
};
static const struct rdsbk_shape s_quota = {s_quota_fields, sizeof(struct rdsbk_rds_account_quota),
                                           NULL};

void rdsbk_rds_account_quotas_free(struct rdsbk_rds_account_quota *q, size_t n) {
    rdsbk_shape_free_array(q, n, &s_quota);
}

int rdsbk_rds_describe_account_attributes(struct rdsbk_rds_account_quota **out, size_t *n_out,
                                          struct rdsbk_client *client) {
    static const struct rdsbk_svc_query_op op = {.api = &s_api,
                                                 .action = "DescribeAccountAttributes",
                                                 .output = "AccountQuotas",
                                                 .item = "AccountQuota",
                                                 .shape = &s_quota};
    struct rdsbk_items quotas = {0};
    struct rdsbk_query_reply reply;
    int rc = rdsbk_svc_query_reply(&reply, client, &op, NULL, NULL);
    xmlNodePtr node = NULL;
    size_t i = 0;

    if (rc == 0)
        rc = rdsbk_xml_read_list(&quotas, reply.result, op.output, op.item, op.shape);
    if (rc == 0)
        node = rdsbk_xml_child(rdsbk_xml_path(reply.result, op.output), op.item);
    /* the same elements in the same order: the numbers of each item read above */
    for (; node && i < quotas.n; node = rdsbk_xml_next(node, op.item), i++) {
        struct rdsbk_rds_account_quota *q = &((struct rdsbk_rds_account_quota *)quotas.data)[i];
        q->used = rdsbk_xml_path_int(node, "Used", 0);
        q->max = rdsbk_xml_path_int(node, "Max", 0);
    }
    rdsbk_query_reply_clean_up(&reply);
    if (rc)
        rdsbk_items_free(&quotas, &s_quota);
    *out = quotas.data;
    *n_out = quotas.n;
    return rc;
}

/* ---- tags ---- */

/* ListTagsForResource's reply: the tags of a resource. */
struct s_tag_list {
    struct rdsbk_tag *tags;
    size_t n;
};
static const struct rdsbk_field s_tag_list_fields[] = {
    RDSBK_FIELD_N(TAGS, "TagList", offsetof(struct s_tag_list, tags),
                  offsetof(struct s_tag_list, n), "Tag", NULL),
    RDSBK_FIELD_END,
};
static const struct rdsbk_shape s_tag_list = {s_tag_list_fields, sizeof(struct s_tag_list), NULL};

/* AddTagsToResource's members. */
struct s_add_tags {
    const char *arn;
    const struct rdsbk_tag *tags;
    size_t n;
};
static const struct rdsbk_field s_add_tags_input[] = {
    RDSBK_FIELD(STR, "ResourceName", offsetof(struct s_add_tags, arn)),
    RDSBK_FIELD_N(TAGS, "Tags", offsetof(struct s_add_tags, tags), offsetof(struct s_add_tags, n),
                  "Tag", NULL),
    RDSBK_FIELD_END,
};

int rdsbk_rds_list_tags_for_resource(struct rdsbk_tag **out, size_t *n_out,
                                     struct rdsbk_client *client, const char *arn) {
    static const struct rdsbk_svc_query_op op = {
        .api = &s_api, .action = "ListTagsForResource", .shape = &s_tag_list};
    const struct rdsbk_arg args[] = {{"ResourceName", arn}, {NULL, NULL}};
    struct s_tag_list list;
    int rc = rdsbk_svc_query_call(&list, client, &op, args, NULL);

    *out = list.tags;
    *n_out = list.n;
    return rc;
}

int rdsbk_rds_add_tags_to_resource(struct rdsbk_client *client, const char *arn,
                                   const struct rdsbk_tag *tags, size_t n) {
    static const struct rdsbk_svc_query_op op = {
        .api = &s_api, .action = "AddTagsToResource", .input = s_add_tags_input};
    const struct s_add_tags in = {arn, tags, n};

    return rdsbk_svc_query_call(NULL, client, &op, NULL, &in);
}

/* ---- instances ---- */

#define S_INSTANCE(m) offsetof(struct rdsbk_rds_instance, m)
static const struct rdsbk_field s_instance_fields[] = {
    RDSBK_FIELD(STR, "DBInstanceIdentifier", S_INSTANCE(id)),
    RDSBK_FIELD(STR, "DBInstanceArn", S_INSTANCE(arn)),
    RDSBK_FIELD(STR, "DBInstanceStatus", S_INSTANCE(status)),
    RDSBK_FIELD(STR, "Engine", S_INSTANCE(engine)),
    RDSBK_FIELD(STR, "DBInstanceClass", S_INSTANCE(instance_class)),
    RDSBK_FIELD(STR, "Endpoint/Address", S_INSTANCE(endpoint_address)),
    RDSBK_FIELD(STR, "KmsKeyId", S_INSTANCE(kms_key_id)),
    RDSBK_FIELD(INT, "Endpoint/Port", S_INSTANCE(endpoint_port)),
    RDSBK_FIELD(BOOL, "StorageEncrypted", S_INSTANCE(encrypted)),
    RDSBK_FIELD_END,
};
static const struct rdsbk_shape s_instance_shape = {s_instance_fields,
                                                    sizeof(struct rdsbk_rds_instance), NULL};

#define S_RESTORE(m) offsetof(struct rdsbk_rds_restore_input, m)
static const struct rdsbk_field s_restore_input[] = {
    RDSBK_FIELD(STR, "DBInstanceIdentifier", S_RESTORE(instance_id)),
    RDSBK_FIELD(STR, "DBSnapshotIdentifier", S_RESTORE(snapshot_id)),
    RDSBK_FIELD(STR, "DBInstanceClass", S_RESTORE(instance_class)),
    RDSBK_FIELD(STR, "DBSubnetGroupName", S_RESTORE(subnet_group)),
    RDSBK_FIELD_N(OPT_LIST, "VpcSecurityGroupIds", S_RESTORE(vpc_security_group_ids),
                  S_RESTORE(n_vpc_security_group_ids), "VpcSecurityGroupId", NULL),
    RDSBK_FIELD_N(BOOL_IF, "PubliclyAccessible", S_RESTORE(publicly_accessible),
                  S_RESTORE(set_publicly_accessible), NULL, NULL),
    RDSBK_FIELD_N(TAGS, "Tags", S_RESTORE(tags), S_RESTORE(n_tags), "Tag", NULL),
    RDSBK_FIELD_END,
};

/* DeleteDBInstance's members (no final snapshot named when it is skipped). */
struct s_delete_instance {
    const char *id;
    bool skip_final_snapshot;
    const char *final_snapshot_id;
    bool delete_automated_backups;
};
#define S_DELETE(m) offsetof(struct s_delete_instance, m)
static const struct rdsbk_field s_delete_instance_input[] = {
    RDSBK_FIELD(STR, "DBInstanceIdentifier", S_DELETE(id)),
    RDSBK_FIELD(BOOL, "SkipFinalSnapshot", S_DELETE(skip_final_snapshot)),
    RDSBK_FIELD(STR, "FinalDBSnapshotIdentifier", S_DELETE(final_snapshot_id)),
    RDSBK_FIELD(BOOL, "DeleteAutomatedBackups", S_DELETE(delete_automated_backups)),
    RDSBK_FIELD_END,
};

void rdsbk_rds_instance_clean_up(struct rdsbk_rds_instance *i) {
    rdsbk_shape_clean_up(i, &s_instance_shape);
}

void rdsbk_rds_instances_free(struct rdsbk_rds_instance *i, size_t n) {
    rdsbk_shape_free_array(i, n, &s_instance_shape);
}

int rdsbk_rds_restore_db_instance_from_db_snapshot(struct rdsbk_rds_instance *out,
                                                   struct rdsbk_client *client,
                                                   const struct rdsbk_rds_restore_input *in) {
    static const struct rdsbk_svc_query_op op = {.api = &s_api,
                                                 .action = "RestoreDBInstanceFromDBSnapshot",
                                                 .input = s_restore_input,
                                                 .output = "DBInstance",
                                                 .shape = &s_instance_shape};

    return rdsbk_svc_query_call(out, client, &op, NULL, in);
}

int rdsbk_rds_describe_db_instances(struct rdsbk_rds_instance **out, size_t *n_out,
                                    struct rdsbk_client *client, const char *instance_id) {
    static const struct rdsbk_svc_query_op op = {.api = &s_api,
                                                 .action = "DescribeDBInstances",
                                                 .output = "DBInstances",
                                                 .item = "DBInstance",
                                                 .shape = &s_instance_shape};
    const struct rdsbk_arg args[] = {{"DBInstanceIdentifier", instance_id}, {NULL, NULL}};
    struct rdsbk_items instances;
    struct rdsbk_query q;
    int rc = rdsbk_svc_query_start(&q, &op, args, NULL);

    rc = rdsbk_svc_query_list(&instances, client, &op, &q, rc);
    *out = instances.data;
    *n_out = instances.n;
    return rc;
}

int rdsbk_rds_delete_db_instance(struct rdsbk_client *client, const char *instance_id,
                                 bool skip_final_snapshot, const char *final_snapshot_id,
                                 bool delete_automated_backups) {
    static const struct rdsbk_svc_query_op op = {
        .api = &s_api, .action = "DeleteDBInstance", .input = s_delete_instance_input};
    const struct s_delete_instance in = {instance_id, skip_final_snapshot,
                                         skip_final_snapshot ? NULL : final_snapshot_id,
                                         delete_automated_backups};

    return rdsbk_svc_query_call(NULL, client, &op, NULL, &in);
}
