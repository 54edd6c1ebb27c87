#include "rdsbk/services/rds.h"
#include "rdsbk/error.h"
#include "services/svc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_VERSION "2014-10-31"

static int s_send(struct rdsbk_query_reply *reply, struct rdsbk_client *client,
                  const struct rdsbk_query *q) {
    return rdsbk_svc_query_send(reply, client, "rds", q);
}

static int s_simple(struct rdsbk_client *client, struct rdsbk_query *q, int rc) {
    return rdsbk_svc_query_simple(client, "rds", q, rc);
}

/* ---- snapshots ---- */

/* The element names of the two snapshot shapes. */
struct s_kind {
    const char *describe;     /* DescribeDBSnapshots */
    const char *list;         /* DBSnapshots */
    const char *item;         /* DBSnapshot */
    const char *id;           /* DBSnapshotIdentifier */
    const char *arn;          /* DBSnapshotArn */
    const char *source_id;    /* DBInstanceIdentifier */
    const char *encrypted;    /* Encrypted */
    const char *source_snap;  /* SourceDBSnapshotIdentifier */
    const char *copy;         /* CopyDBSnapshot */
    const char *copy_source;  /* SourceDBSnapshotIdentifier */
    const char *copy_target;  /* TargetDBSnapshotIdentifier */
    const char *delete_op;    /* DeleteDBSnapshot */
    const char *attrs_op;     /* DescribeDBSnapshotAttributes */
    const char *modify_op;    /* ModifyDBSnapshotAttribute */
    const char *attrs_result; /* DBSnapshotAttributesResult */
    const char *attrs_list;   /* DBSnapshotAttributes */
    const char *attrs_item;   /* DBSnapshotAttribute */
};

static const struct s_kind s_instance = {"DescribeDBSnapshots",
                                         "DBSnapshots",
                                         "DBSnapshot",
                                         "DBSnapshotIdentifier",
                                         "DBSnapshotArn",
                                         "DBInstanceIdentifier",
                                         "Encrypted",
                                         "SourceDBSnapshotIdentifier",
                                         "CopyDBSnapshot",
                                         "SourceDBSnapshotIdentifier",
                                         "TargetDBSnapshotIdentifier",
                                         "DeleteDBSnapshot",
                                         "DescribeDBSnapshotAttributes",
                                         "ModifyDBSnapshotAttribute",
                                         "DBSnapshotAttributesResult",
                                         "DBSnapshotAttributes",
                                         "DBSnapshotAttribute"};

static const struct s_kind s_cluster = {"DescribeDBClusterSnapshots",
                                        "DBClusterSnapshots",
                                        "DBClusterSnapshot",
                                        "DBClusterSnapshotIdentifier",
                                        "DBClusterSnapshotArn",
                                        "DBClusterIdentifier",
                                        "StorageEncrypted",
                                        "SourceDBClusterSnapshotArn",
                                        "CopyDBClusterSnapshot",
                                        "SourceDBClusterSnapshotIdentifier",
                                        "TargetDBClusterSnapshotIdentifier",
                                        "DeleteDBClusterSnapshot",
                                        "DescribeDBClusterSnapshotAttributes",
                                        "ModifyDBClusterSnapshotAttribute",
                                        "DBClusterSnapshotAttributesResult",
                                        "DBClusterSnapshotAttributes",
                                        "DBClusterSnapshotAttribute"};

void rdsbk_rds_snapshot_clean_up(struct rdsbk_rds_snapshot *s) {
    free(s->id);
    free(s->arn);
    free(s->source_id);
    free(s->status);
    free(s->snapshot_type);
    free(s->engine);
    free(s->kms_key_id);
    free(s->source_region);
    free(s->source_snapshot);
    rdsbk_aws_tags_free(s->tags, s->n_tags);
    memset(s, 0, sizeof(*s));
}

void rdsbk_rds_snapshots_free(struct rdsbk_rds_snapshot *s, size_t n) {
    if (!s)
        return;
    for (size_t i = 0; i < n; i++)
        rdsbk_rds_snapshot_clean_up(&s[i]);
    free(s);
}

static int s_parse_snapshot(struct rdsbk_rds_snapshot *out, const xmlNode *node,
                            const struct s_kind *k) {
    int rc;

    memset(out, 0, sizeof(*out));
    if (!node)
        return rdsbk_error_set(RDSBK_EINVALID, "rds: no %s in the reply", k->item);
    rc = rdsbk_xml_path_dup(&out->id, node, k->id);
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->arn, node, k->arn);
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->source_id, node, k->source_id);
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->status, node, "Status");
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->snapshot_type, node, "SnapshotType");
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->engine, node, "Engine");
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->kms_key_id, node, "KmsKeyId");
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->source_region, node, "SourceRegion");
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->source_snapshot, node, k->source_snap);
    if (rc == 0)
        rc = rdsbk_xml_path_tags(&out->tags, &out->n_tags, node, "TagList", "Tag");
    out->encrypted = rdsbk_xml_path_bool(node, k->encrypted, false);
    out->percent_progress = (int)rdsbk_xml_path_int(node, "PercentProgress", 0);
    out->create_time = rdsbk_xml_path_time(node, "SnapshotCreateTime");
    if (rc)
        rdsbk_rds_snapshot_clean_up(out);
    return rc;
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
    struct rdsbk_rds_snapshot *items = NULL;
    size_t n = 0;
    size_t cap = 0;
    char *marker = NULL;
    int pages = 0;
    int result = 0;

    *out = NULL;
    *n_out = 0;
    do {
        struct rdsbk_query q = {0};
        struct rdsbk_query_reply reply = {0};
        xmlNodePtr list;

        result = rdsbk_query_init(&q, k->describe, S_VERSION);
        if (result == 0 && sq) {
            result = rdsbk_query_add(&q, k->source_id, sq->source_id);
            if (result == 0)
                result = rdsbk_query_add(&q, k->id, sq->snapshot_id);
            if (result == 0)
                result = rdsbk_query_add(&q, "SnapshotType", sq->snapshot_type);
            if (result == 0 && sq->include_shared)
                result = rdsbk_query_add_bool(&q, "IncludeShared", true);
            if (result == 0)
                result = s_add_filters(&q, sq->filters, sq->n_filters);
        }
        if (result == 0)
            result = rdsbk_query_add(&q, "Marker", marker);
        free(marker);
        marker = NULL;
        if (result == 0)
            result = s_send(&reply, client, &q);
        list = rdsbk_xml_child(reply.result, k->list);
        for (xmlNodePtr m = rdsbk_xml_child(list, k->item); result == 0 && m;
             m = rdsbk_xml_next(m, k->item)) {
            if (n == cap) {
                struct rdsbk_rds_snapshot *grown =
                    realloc(items, (cap ? cap * 2 : 8) * sizeof(*items));
                if (!grown) {
                    result = rdsbk_error_oom();
                    break;
                }
                items = grown;
                cap = cap ? cap * 2 : 8;
            }
            result = s_parse_snapshot(&items[n], m, k);
            if (result == 0)
                n++;
        }
        if (result == 0)
            result = rdsbk_query_next_marker(&marker, reply.result);
        rdsbk_query_reply_clean_up(&reply);
        rdsbk_query_clean_up(&q);
        if (result == 0 && marker && ++pages >= RDSBK_SVC_MAX_PAGES)
            result = rdsbk_error_set(RDSBK_ERROR, "rds: pagination does not end");
    } while (result == 0 && marker);
    free(marker);
    if (result == 0 && !items) {
        items = calloc(1, sizeof(*items));
        if (!items)
            result = rdsbk_error_oom();
    }
    if (result) {
        rdsbk_rds_snapshots_free(items, n);
        return result;
    }
    *out = items;
    *n_out = n;
    return 0;
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
    struct rdsbk_query q = {0};
    struct rdsbk_query_reply reply = {0};
    int result;

    if (out)
        memset(out, 0, sizeof(*out));
    result = rdsbk_query_init(&q, k->copy, S_VERSION);
    if (result == 0)
        result = rdsbk_query_add(&q, k->copy_source, in->source_id);
    if (result == 0)
        result = rdsbk_query_add(&q, k->copy_target, in->target_id);
    if (result == 0)
        result = rdsbk_query_add(&q, "KmsKeyId", in->kms_key_id);
    if (result == 0)
        result = rdsbk_query_add(&q, "PreSignedUrl", in->pre_signed_url);
    if (result == 0 && in->copy_tags)
        result = rdsbk_query_add_bool(&q, "CopyTags", true);
    if (result == 0)
        result = rdsbk_query_add_tags(&q, "Tags", "Tag", in->tags, in->n_tags);
    if (result == 0)
        result = s_send(&reply, client, &q);
    if (result == 0 && out)
        result = s_parse_snapshot(out, rdsbk_xml_child(reply.result, k->item), k);
    rdsbk_query_reply_clean_up(&reply);
    rdsbk_query_clean_up(&q);
    return result;
}

int rdsbk_rds_copy_db_snapshot(struct rdsbk_rds_snapshot *out, struct rdsbk_client *client,
                               const struct rdsbk_rds_copy_input *in) {
    return s_copy(out, client, in, &s_instance);
}

int rdsbk_rds_copy_db_cluster_snapshot(struct rdsbk_rds_snapshot *out, struct rdsbk_client *client,
                                       const struct rdsbk_rds_copy_input *in) {
    return s_copy(out, client, in, &s_cluster);
}

static int s_describe_attributes(char ***values_out, size_t *n_out, struct rdsbk_client *client,
                                 const char *snapshot_id, const char *attribute,
                                 const struct s_kind *k) {
    struct rdsbk_query q = {0};
    struct rdsbk_query_reply reply = {0};
    xmlNodePtr found = NULL;
    int result;

    *values_out = NULL;
    *n_out = 0;
    result = rdsbk_query_init(&q, k->attrs_op, S_VERSION);
    if (result == 0)
        result = rdsbk_query_add(&q, k->id, snapshot_id);
    if (result == 0)
        result = s_send(&reply, client, &q);
    if (result == 0) {
        xmlNodePtr list =
            rdsbk_xml_child(rdsbk_xml_child(reply.result, k->attrs_result), k->attrs_list);
        for (xmlNodePtr a = rdsbk_xml_child(list, k->attrs_item); a && !found;
             a = rdsbk_xml_next(a, k->attrs_item))
            if (strcmp(rdsbk_xml_path_text(a, "AttributeName")
                           ? rdsbk_xml_path_text(a, "AttributeName")
                           : "",
                       attribute) == 0)
                found = a;
        /* An absent attribute is an empty list. */
        result =
            rdsbk_xml_path_strings(values_out, n_out, found, "AttributeValues", "AttributeValue");
    }
    rdsbk_query_reply_clean_up(&reply);
    rdsbk_query_clean_up(&q);
    return result;
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
                              const char *attribute, const char *const *add, size_t n_add,
                              const char *const *remove, size_t n_remove, const struct s_kind *k) {
    struct rdsbk_query q = {0};
    int rc = rdsbk_query_init(&q, k->modify_op, S_VERSION);

    if (rc == 0)
        rc = rdsbk_query_add(&q, k->id, snapshot_id);
    if (rc == 0)
        rc = rdsbk_query_add(&q, "AttributeName", attribute);
    /* Empty lists are left out: "ValuesToAdd=" would be an empty value, not "no change". */
    if (rc == 0 && n_add)
        rc = rdsbk_query_add_list(&q, "ValuesToAdd", "AttributeValue", add, n_add);
    if (rc == 0 && n_remove)
        rc = rdsbk_query_add_list(&q, "ValuesToRemove", "AttributeValue", remove, n_remove);
    return s_simple(client, &q, rc);
}

int rdsbk_rds_modify_db_snapshot_attribute(struct rdsbk_client *client, const char *snapshot_id,
                                           const char *attribute, const char *const *add,
                                           size_t n_add, const char *const *remove,
                                           size_t n_remove) {
    return s_modify_attribute(client, snapshot_id, attribute, add, n_add, remove, n_remove,
                              &s_instance);
}

int rdsbk_rds_modify_db_cluster_snapshot_attribute(struct rdsbk_client *client,
                                                   const char *snapshot_id, const char *attribute,
                                                   const char *const *add, size_t n_add,
                                                   const char *const *remove, size_t n_remove) {
    return s_modify_attribute(client, snapshot_id, attribute, add, n_add, remove, n_remove,
                              &s_cluster);
}

static int s_delete_snapshot(struct rdsbk_client *client, const char *snapshot_id,
                             const struct s_kind *k) {
    struct rdsbk_query q = {0};
    int rc = rdsbk_query_init(&q, k->delete_op, S_VERSION);

    if (rc == 0)
        rc = rdsbk_query_add(&q, k->id, snapshot_id);
    return s_simple(client, &q, rc);
}

int rdsbk_rds_delete_db_snapshot(struct rdsbk_client *client, const char *snapshot_id) {
    return s_delete_snapshot(client, snapshot_id, &s_instance);
}

int rdsbk_rds_delete_db_cluster_snapshot(struct rdsbk_client *client, const char *snapshot_id) {
    return s_delete_snapshot(client, snapshot_id, &s_cluster);
}

/* ---- tags ---- */

int rdsbk_rds_list_tags_for_resource(struct rdsbk_tag **out, size_t *n_out,
                                     struct rdsbk_client *client, const char *arn) {
    struct rdsbk_query q = {0};
    struct rdsbk_query_reply reply = {0};
    int result;

    *out = NULL;
    *n_out = 0;
    result = rdsbk_query_init(&q, "ListTagsForResource", S_VERSION);
    if (result == 0)
        result = rdsbk_query_add(&q, "ResourceName", arn);
    if (result == 0)
        result = s_send(&reply, client, &q);
    if (result == 0)
        result = rdsbk_xml_path_tags(out, n_out, reply.result, "TagList", "Tag");
    rdsbk_query_reply_clean_up(&reply);
    rdsbk_query_clean_up(&q);
    return result;
}

int rdsbk_rds_add_tags_to_resource(struct rdsbk_client *client, const char *arn,
                                   const struct rdsbk_tag *tags, size_t n) {
    struct rdsbk_query q = {0};
    int rc = rdsbk_query_init(&q, "AddTagsToResource", S_VERSION);

    if (rc == 0)
        rc = rdsbk_query_add(&q, "ResourceName", arn);
    if (rc == 0)
        rc = rdsbk_query_add_tags(&q, "Tags", "Tag", tags, n);
    return s_simple(client, &q, rc);
}

/* ---- instances ---- */

void rdsbk_rds_instance_clean_up(struct rdsbk_rds_instance *i) {
    free(i->id);
    free(i->arn);
    free(i->status);
    free(i->engine);
    free(i->instance_class);
    free(i->endpoint_address);
    free(i->kms_key_id);
    memset(i, 0, sizeof(*i));
}

void rdsbk_rds_instances_free(struct rdsbk_rds_instance *i, size_t n) {
    if (!i)
        return;
    for (size_t j = 0; j < n; j++)
        rdsbk_rds_instance_clean_up(&i[j]);
    free(i);
}

static int s_parse_instance(struct rdsbk_rds_instance *out, const xmlNode *node) {
    int rc;

    memset(out, 0, sizeof(*out));
    if (!node)
        return rdsbk_error_set(RDSBK_EINVALID, "rds: no DBInstance in the reply");
    rc = rdsbk_xml_path_dup(&out->id, node, "DBInstanceIdentifier");
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->arn, node, "DBInstanceArn");
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->status, node, "DBInstanceStatus");
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->engine, node, "Engine");
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->instance_class, node, "DBInstanceClass");
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->endpoint_address, node, "Endpoint/Address");
    if (rc == 0)
        rc = rdsbk_xml_path_dup(&out->kms_key_id, node, "KmsKeyId");
    out->endpoint_port = (int)rdsbk_xml_path_int(node, "Endpoint/Port", 0);
    out->encrypted = rdsbk_xml_path_bool(node, "StorageEncrypted", false);
    if (rc)
        rdsbk_rds_instance_clean_up(out);
    return rc;
}

int rdsbk_rds_restore_db_instance_from_db_snapshot(struct rdsbk_rds_instance *out,
                                                   struct rdsbk_client *client,
                                                   const struct rdsbk_rds_restore_input *in) {
    struct rdsbk_query q = {0};
    struct rdsbk_query_reply reply = {0};
    int result;

    if (out)
        memset(out, 0, sizeof(*out));
    result = rdsbk_query_init(&q, "RestoreDBInstanceFromDBSnapshot", S_VERSION);
    if (result == 0)
        result = rdsbk_query_add(&q, "DBInstanceIdentifier", in->instance_id);
    if (result == 0)
        result = rdsbk_query_add(&q, "DBSnapshotIdentifier", in->snapshot_id);
    if (result == 0)
        result = rdsbk_query_add(&q, "DBInstanceClass", in->instance_class);
    if (result == 0)
        result = rdsbk_query_add(&q, "DBSubnetGroupName", in->subnet_group);
    if (result == 0 && in->n_vpc_security_group_ids)
        result = rdsbk_query_add_list(&q, "VpcSecurityGroupIds", "VpcSecurityGroupId",
                                      in->vpc_security_group_ids, in->n_vpc_security_group_ids);
    if (result == 0 && in->set_publicly_accessible)
        result = rdsbk_query_add_bool(&q, "PubliclyAccessible", in->publicly_accessible);
    if (result == 0)
        result = rdsbk_query_add_tags(&q, "Tags", "Tag", in->tags, in->n_tags);
    if (result == 0)
        result = s_send(&reply, client, &q);
    if (result == 0 && out)
        result = s_parse_instance(out, rdsbk_xml_child(reply.result, "DBInstance"));
    rdsbk_query_reply_clean_up(&reply);
    rdsbk_query_clean_up(&q);
    return result;
}

int rdsbk_rds_describe_db_instances(struct rdsbk_rds_instance **out, size_t *n_out,
                                    struct rdsbk_client *client, const char *instance_id) {
    struct rdsbk_rds_instance *items = NULL;
    size_t n = 0;
    size_t cap = 0;
    char *marker = NULL;
    int pages = 0;
    int result = 0;

    *out = NULL;
    *n_out = 0;
    do {
        struct rdsbk_query q = {0};
        struct rdsbk_query_reply reply = {0};
        xmlNodePtr list;

        result = rdsbk_query_init(&q, "DescribeDBInstances", S_VERSION);
        if (result == 0)
            result = rdsbk_query_add(&q, "DBInstanceIdentifier", instance_id);
        if (result == 0)
            result = rdsbk_query_add(&q, "Marker", marker);
        free(marker);
        marker = NULL;
        if (result == 0)
            result = s_send(&reply, client, &q);
        list = rdsbk_xml_child(reply.result, "DBInstances");
        for (xmlNodePtr m = rdsbk_xml_child(list, "DBInstance"); result == 0 && m;
             m = rdsbk_xml_next(m, "DBInstance")) {
            if (n == cap) {
                struct rdsbk_rds_instance *grown =
                    realloc(items, (cap ? cap * 2 : 8) * sizeof(*items));
                if (!grown) {
                    result = rdsbk_error_oom();
                    break;
                }
                items = grown;
                cap = cap ? cap * 2 : 8;
            }
            result = s_parse_instance(&items[n], m);
            if (result == 0)
                n++;
        }
        if (result == 0)
            result = rdsbk_query_next_marker(&marker, reply.result);
        rdsbk_query_reply_clean_up(&reply);
        rdsbk_query_clean_up(&q);
        if (result == 0 && marker && ++pages >= RDSBK_SVC_MAX_PAGES)
            result = rdsbk_error_set(RDSBK_ERROR, "rds: pagination does not end");
    } while (result == 0 && marker);
    free(marker);
    if (result == 0 && !items) {
        items = calloc(1, sizeof(*items));
        if (!items)
            result = rdsbk_error_oom();
    }
    if (result) {
        rdsbk_rds_instances_free(items, n);
        return result;
    }
    *out = items;
    *n_out = n;
    return 0;
}

int rdsbk_rds_delete_db_instance(struct rdsbk_client *client, const char *instance_id,
                                 bool skip_final_snapshot, const char *final_snapshot_id,
                                 bool delete_automated_backups) {
    struct rdsbk_query q = {0};
    int rc = rdsbk_query_init(&q, "DeleteDBInstance", S_VERSION);

    if (rc == 0)
        rc = rdsbk_query_add(&q, "DBInstanceIdentifier", instance_id);
    if (rc == 0)
        rc = rdsbk_query_add_bool(&q, "SkipFinalSnapshot", skip_final_snapshot);
    if (rc == 0 && !skip_final_snapshot)
        rc = rdsbk_query_add(&q, "FinalDBSnapshotIdentifier", final_snapshot_id);
    if (rc == 0)
        rc = rdsbk_query_add_bool(&q, "DeleteAutomatedBackups", delete_automated_backups);
    return s_simple(client, &q, rc);
}
