#ifndef RDSBK_DRILL_INTERNAL_H
#define RDSBK_DRILL_INTERNAL_H

/* Shared by status.c and drill.c (src/drill only). */

#include "rdsbk/client.h"
#include "rdsbk/drill.h"
#include "rdsbk/model.h"
#include "rdsbk/services/rds.h"

#define RDSBK_TAG_SOURCE_SNAPSHOT "rdsbk:source-snapshot"
#define RDSBK_TAG_SOURCE_ACCOUNT "rdsbk:source-account"

/* Clients per account and Region for one run: profile and role_arn from the topology, endpoints
 * overrides, one HTTP transport; every account is proven with GetCallerIdentity on first use.
 * Caller-owned (a run holds one): rdsbk_drill_clients_init, then rdsbk_drill_clients_clean_up. */
struct rdsbk_drill_member {
    char account[RDSBK_ACCOUNT_LEN + 1];
    const char *profile; /* borrowed from the topology */
    char *role_arn;
};

struct rdsbk_drill_clients {
    const struct rdsbk_topology *topo;
    struct rdsbk_http *http;
    struct rdsbk_client_set *set;
    char (*verified)[RDSBK_ACCOUNT_LEN + 1]; /* the accounts proven so far */
    size_t n_verified;
    /* accounts of OU sources, reached through their member_role (rdsbk_drill_add_member) */
    struct rdsbk_drill_member *members;
    size_t n_members;
};

/* Returns 0, or an error (set) with `c` holding nothing. `topo` is borrowed and must outlive it. */
int rdsbk_drill_clients_init(struct rdsbk_drill_clients *c, const struct rdsbk_topology *topo);

/* Frees what `c` holds and zeroes it; safe on a zeroed struct. */
void rdsbk_drill_clients_clean_up(struct rdsbk_drill_clients *c);

/* Lets `c` reach `account`, an account of OU source `ou`, by its member_role assumed with the OU
 * source's profile. 0 or RDSBK_ENOMEM. */
int rdsbk_drill_add_member(struct rdsbk_drill_clients *c, const struct rdsbk_source *ou,
                           const char *account);

/* *out = the client of `account` in `region` (borrowed, lives as long as `c`). Returns 0 or the
 * error (unknown account, bad endpoint, credentials of another account). Not thread-safe. */
int rdsbk_drill_client(struct rdsbk_client **out, struct rdsbk_drill_clients *c,
                       const char *account, const char *region);

/* One database of a source and its snapshots in Region-A. */
struct rdsbk_drill_db {
    char *database; /* DB identifier (lower-case), or the unmatched prefix pattern */
    enum rdsbk_db_kind kind;
    const struct rdsbk_source *source; /* borrowed from the topology */
    struct rdsbk_rds_snapshot newest;  /* zeroed (id NULL) when none */
};

void rdsbk_drill_dbs_free(struct rdsbk_drill_db *dbs, size_t n);

/*
 * The configured databases of `source` (exact names, and every database a prefix pattern matches
 * among the automated snapshots of Region-A), each with its newest available... or not yet
 * available system snapshot. Returns 0 and a new array, or the AWS error.
 */
int rdsbk_drill_find_dbs(struct rdsbk_drill_db **out, size_t *n_out,
                         struct rdsbk_drill_clients *clients, const struct rdsbk_source *source);

/* What stands for database `db` of `source` in its copies' names (rdsbk_copy_base, with the
 * source's Region when rdsbk_model_region_named says so). */
void rdsbk_drill_copy_base(char out[RDSBK_COPY_BASE_MAX + 1], const struct rdsbk_topology *topo,
                           const struct rdsbk_source *source, enum rdsbk_db_kind kind,
                           const char *db);

/* Whether snapshot `s` (in A/Region-B) is the pipeline's copy of a system snapshot of the database
 * whose copies' names start with `base` (rdsbk_drill_copy_base), of `account`/`source_region`. */
bool rdsbk_drill_is_region_copy(const struct rdsbk_rds_snapshot *s, const char *base,
                                const char *account, const char *source_region);

/* Whether snapshot `s` (in B/Region-B) is the pipeline's backup copy, of `account`, of the
 * database whose copies' names start with `base`. */
bool rdsbk_drill_is_backup_copy(const struct rdsbk_rds_snapshot *s, const char *base,
                                const char *account);

/* The value of tag `key`, or NULL. Borrowed. */
const char *rdsbk_drill_tag(const struct rdsbk_rds_snapshot *s, const char *key);

/* How many DB identifier patterns of `kind` the topology gives `source`, and *patterns_out
 * (borrowed; may be NULL when only counting). */
size_t rdsbk_drill_patterns(char *const **patterns_out, const struct rdsbk_source *source,
                            enum rdsbk_db_kind kind);

/* DescribeDBSnapshots, or DescribeDBClusterSnapshots for a cluster: the service calls' returns. */
int rdsbk_drill_describe_snapshots(struct rdsbk_rds_snapshot **out, size_t *n_out,
                                   struct rdsbk_client *client, enum rdsbk_db_kind kind,
                                   const struct rdsbk_rds_snapshot_query *q);

/* Whether `cand` is newer than `have` (NULL, or without an id: none yet): made later, or at the
 * same time with the greater id. */
bool rdsbk_drill_newer(const struct rdsbk_rds_snapshot *cand,
                       const struct rdsbk_rds_snapshot *have);

/* Adds to `r` (its rows made) the failures logged by the functions of the stack of `topo`, read
 * with `clients`; see rdsbk_status_collect. Returns 0 or an error that is not about one log
 * group (out of memory, a client that cannot be made). */
int rdsbk_status_failures(struct rdsbk_status_report *r, const struct rdsbk_topology *topo,
                          struct rdsbk_drill_clients *clients);

/* Frees the failures and unread groups of `r` (not `r`). */
void rdsbk_status_failures_free(struct rdsbk_status_report *r);

#endif
