#ifndef RDSBK_SERVICES_RDS_H
#define RDSBK_SERVICES_RDS_H

#include "rdsbk/client.h"

#include <stdbool.h>
#include <time.h>

/*
 * RDS (awsQuery, API version 2014-10-31). Instance snapshots and Aurora cluster snapshots share
 * one struct; the _cluster_ calls fill it from the DBClusterSnapshot shape. Errors:
 * DBSnapshotNotFound, DBClusterSnapshotNotFoundFault, DBInstanceNotFound -> RDSBK_ENOTFOUND;
 * DBSnapshotAlreadyExists, DBClusterSnapshotAlreadyExistsFault -> RDSBK_ECONFLICT.
 *
 * Every call returns 0, or a negative rdsbk_error_code with the error set (rdsbk_error_last()
 * keeps the AWS code, HTTP status and request id); on failure its out parameters hold nothing
 * (NULL / zeroed). List calls follow every page and return everything. Nothing is retained
 * between calls; calls on one client may run in parallel.
 */

struct rdsbk_rds_snapshot {
    char *id;            /* DBSnapshotIdentifier / DBClusterSnapshotIdentifier */
    char *arn;           /* DBSnapshotArn / DBClusterSnapshotArn */
    char *source_id;     /* DBInstanceIdentifier / DBClusterIdentifier */
    char *status;        /* "available", "creating", "copying" ... */
    char *snapshot_type; /* "automated", "manual", "shared", ... */
    char *engine;
    char *kms_key_id;
    char *source_region;   /* instance snapshots copied from another Region */
    char *source_snapshot; /* SourceDBSnapshotIdentifier / SourceDBClusterSnapshotArn */
    bool encrypted;        /* Encrypted / StorageEncrypted */
    int percent_progress;
    time_t create_time;
    struct rdsbk_tag *tags;
    size_t n_tags;
};

void rdsbk_rds_snapshot_clean_up(struct rdsbk_rds_snapshot *s);
void rdsbk_rds_snapshots_free(struct rdsbk_rds_snapshot *s, size_t n);

struct rdsbk_rds_filter {
    const char *name; /* e.g. "db-instance-id", "snapshot-type" */
    const char *const *values;
    size_t n_values;
};

struct rdsbk_rds_snapshot_query {
    const char *source_id;     /* DBInstanceIdentifier / DBClusterIdentifier, or NULL */
    const char *snapshot_id;   /* or NULL */
    const char *snapshot_type; /* "automated", "manual", "shared", ... or NULL */
    bool include_shared;
    const struct rdsbk_rds_filter *filters;
    size_t n_filters;
};

/* DescribeDBSnapshots / DescribeDBClusterSnapshots, all pages. `q` may be NULL. */
int rdsbk_rds_describe_db_snapshots(struct rdsbk_rds_snapshot **out, size_t *n_out,
                                    struct rdsbk_client *client,
                                    const struct rdsbk_rds_snapshot_query *q);
int rdsbk_rds_describe_db_cluster_snapshots(struct rdsbk_rds_snapshot **out, size_t *n_out,
                                            struct rdsbk_client *client,
                                            const struct rdsbk_rds_snapshot_query *q);

struct rdsbk_rds_copy_input {
    const char *source_id; /* identifier, or ARN for a snapshot in another Region / account */
    const char *target_id;
    const char *kms_key_id;
    const char *pre_signed_url; /* only GovCloud needs one; NULL elsewhere */
    bool copy_tags;
    const struct rdsbk_tag *tags;
    size_t n_tags;
};

/* CopyDBSnapshot / CopyDBClusterSnapshot; `out` (may be NULL) the new snapshot. */
int rdsbk_rds_copy_db_snapshot(struct rdsbk_rds_snapshot *out, struct rdsbk_client *client,
                               const struct rdsbk_rds_copy_input *in);
int rdsbk_rds_copy_db_cluster_snapshot(struct rdsbk_rds_snapshot *out, struct rdsbk_client *client,
                                       const struct rdsbk_rds_copy_input *in);

/* DescribeDB[Cluster]SnapshotAttributes: the values of `attribute` ("restore": the accounts the
 * snapshot is shared with); free with rdsbk_strings_free. */
int rdsbk_rds_describe_db_snapshot_attributes(char ***values_out, size_t *n_out,
                                              struct rdsbk_client *client, const char *snapshot_id,
                                              const char *attribute);
int rdsbk_rds_describe_db_cluster_snapshot_attributes(char ***values_out, size_t *n_out,
                                                      struct rdsbk_client *client,
                                                      const char *snapshot_id,
                                                      const char *attribute);
/* ModifyDB[Cluster]SnapshotAttribute: adds / removes values (either list may be empty). */
int rdsbk_rds_modify_db_snapshot_attribute(struct rdsbk_client *client, const char *snapshot_id,
                                           const char *attribute, const char *const *add,
                                           size_t n_add, const char *const *remove,
                                           size_t n_remove);
int rdsbk_rds_modify_db_cluster_snapshot_attribute(struct rdsbk_client *client,
                                                   const char *snapshot_id, const char *attribute,
                                                   const char *const *add, size_t n_add,
                                                   const char *const *remove, size_t n_remove);

int rdsbk_rds_delete_db_snapshot(struct rdsbk_client *client, const char *snapshot_id);
int rdsbk_rds_delete_db_cluster_snapshot(struct rdsbk_client *client, const char *snapshot_id);

/* One quota of the account in the client's Region (DescribeAccountAttributes' AccountQuota). */
struct rdsbk_rds_account_quota {
    char *name;     /* AccountQuotaName: "ManualSnapshots", "ManualClusterSnapshots", ... */
    long long used; /* Used (a Long in the model); 0 when absent or malformed */
    long long max;  /* Max; 0 when absent or malformed */
};

void rdsbk_rds_account_quotas_free(struct rdsbk_rds_account_quota *q, size_t n);

/* DescribeAccountAttributes: every quota of the account in the client's Region, in the reply's
 * order (the call takes no parameters and does not page). *out is the caller's, freed with
 * rdsbk_rds_account_quotas_free. Needs rds:DescribeAccountAttributes; a refusal is RDSBK_EAUTH. */
int rdsbk_rds_describe_account_attributes(struct rdsbk_rds_account_quota **out, size_t *n_out,
                                          struct rdsbk_client *client);

/* Tags of any RDS resource ARN; free with rdsbk_aws_tags_free. */
int rdsbk_rds_list_tags_for_resource(struct rdsbk_tag **out, size_t *n_out,
                                     struct rdsbk_client *client, const char *arn);
int rdsbk_rds_add_tags_to_resource(struct rdsbk_client *client, const char *arn,
                                   const struct rdsbk_tag *tags, size_t n);

struct rdsbk_rds_instance {
    char *id;
    char *arn;
    char *status;
    char *engine;
    char *instance_class;
    char *endpoint_address; /* NULL until available */
    int endpoint_port;
    char *kms_key_id;
    bool encrypted;
};

void rdsbk_rds_instance_clean_up(struct rdsbk_rds_instance *i);
void rdsbk_rds_instances_free(struct rdsbk_rds_instance *i, size_t n);

struct rdsbk_rds_restore_input {
    const char *instance_id; /* required */
    const char *snapshot_id; /* required (identifier or ARN) */
    const char *instance_class;
    const char *subnet_group;
    const char *const *vpc_security_group_ids;
    size_t n_vpc_security_group_ids;
    bool publicly_accessible; /* sent only when set_publicly_accessible */
    bool set_publicly_accessible;
    const struct rdsbk_tag *tags;
    size_t n_tags;
};

/* RestoreDBInstanceFromDBSnapshot; `out` (may be NULL) the new instance. */
int rdsbk_rds_restore_db_instance_from_db_snapshot(struct rdsbk_rds_instance *out,
                                                   struct rdsbk_client *client,
                                                   const struct rdsbk_rds_restore_input *in);
/* DescribeDBInstances, all pages (`instance_id` NULL: all). */
int rdsbk_rds_describe_db_instances(struct rdsbk_rds_instance **out, size_t *n_out,
                                    struct rdsbk_client *client, const char *instance_id);
/* DeleteDBInstance; with skip_final_snapshot false a final_snapshot_id is required. */
int rdsbk_rds_delete_db_instance(struct rdsbk_client *client, const char *instance_id,
                                 bool skip_final_snapshot, const char *final_snapshot_id,
                                 bool delete_automated_backups);

#endif
