#ifndef RDSBK_DRILL_H
#define RDSBK_DRILL_H

#include "rdsbk/clock.h"
#include "rdsbk/config.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/*
 * Proving that the backups arrive: `status` (where the newest copy of each database is) and
 * `drill` (push one system snapshot through the pipeline, hop by hop, optionally restore it).
 * Both read AWS only through the service modules (rds, lambda) with one client per account and
 * Region built from the topology (profile, role_arn, endpoints), each account proven once with
 * STS GetCallerIdentity.
 *
 * Naming the pipeline uses (templates/lambda/ handlers):
 *   system snapshot   Account-A/Region-A  rds:<db>-YYYY-MM-DD-HH-MM
 *   Region-B copy     Account-A/Region-B  <db>-YYYY-MM-DD-HH-MM        tag rdsbk:source-snapshot
 *   backup copy       Account-B/Region-B  <db>-YYYY-MM-DD-HH-MM-<A>    tag rdsbk:source-account
 */

/* ---- small pure helpers ------------------------------------------------------------------ */

/* A DB identifier pattern of the topology: an exact name or a prefix with a trailing '*'.
 * Case-insensitive, as RDS identifiers are. */
bool rdsbk_db_pattern_match(const char *pattern, const char *db);

/* An identifier the pipeline makes, split: "[rds:]<db>-YYYY-MM-DD-HH-MM[-<12-digit account>]". */
struct rdsbk_snapshot_name {
    bool automated;   /* "rds:" prefix */
    char db[64];      /* lower-case */
    char stamp[17];   /* YYYY-MM-DD-HH-MM */
    char account[13]; /* "" unless the backup form */
};

/* Returns 0 and fills `out`, or RDSBK_EINVALID (no error set: "not one of ours") when `id` does
 * not have that shape. */
int rdsbk_snapshot_name_parse(struct rdsbk_snapshot_name *out, const char *id);

/* ---- status ------------------------------------------------------------------------------ */

enum rdsbk_db_kind { RDSBK_DB_INSTANCE, RDSBK_DB_CLUSTER };

/* One snapshot found for a hop; id NULL when none was found. */
struct rdsbk_status_snapshot {
    char *id;
    char *status;
    time_t create_time;
    bool encrypted; /* Encrypted / StorageEncrypted: false for an unencrypted Aurora cluster's */
};

struct rdsbk_status_row {
    char account[RDSBK_ACCOUNT_LEN + 1]; /* Account-A */
    char *region;                        /* Region-A */
    char *database;                      /* a DB identifier, or an unmatched prefix pattern */
    enum rdsbk_db_kind kind;
    struct rdsbk_status_snapshot source;      /* newest system snapshot, A/Region-A */
    struct rdsbk_status_snapshot region_copy; /* newest copy, A/Region-B */
    struct rdsbk_status_snapshot backup_copy; /* newest copy, B/Region-B */
    time_t backup_available_time; /* creation of the newest *available* backup copy, 0: none */
    long long lag_s;              /* see rdsbk_status_collect; -1 when unknown */
    const char *state;            /* static: "ok", "copying", "behind", "missing", "no-snapshot" */
    /* The customer-managed key the newest system snapshot is encrypted with when the source's
     * kms_keys does not name it (the copy role cannot read the snapshot), else NULL. */
    char *undeclared_key;
};

/* How full a manual snapshot quota may get before status warns, in percent of its maximum. */
#define RDSBK_STATUS_QUOTA_WARN_PERCENT 80

/* One manual snapshot quota of one account in the Region the pipeline writes its copies to (RDS
 * DescribeAccountAttributes). */
struct rdsbk_status_quota {
    char account[RDSBK_ACCOUNT_LEN + 1];
    char *region;     /* Region-B */
    const char *name; /* static: "ManualSnapshots" or "ManualClusterSnapshots" */
    bool backup;      /* the backup account (its copies are kept retention.backup_days) */
    long long used;   /* -1 when unknown */
    long long max;    /* -1 when unknown */
    char *error;      /* why it is unknown (the call was refused, or the reply lacks it), or NULL */
};

/* How far back status reads the failures the pipeline's functions logged. */
#define RDSBK_STATUS_FAILURE_DAYS 7

/* The newest failure the pipeline's functions logged for one hop of one database (or, without a
 * database, one snapshot or listing) in the last RDSBK_STATUS_FAILURE_DAYS: the error lines
 * ("result": "error") of their log groups. */
struct rdsbk_status_failure {
    char account[RDSBK_ACCOUNT_LEN + 1];        /* where it failed: the function's account */
    char source_account[RDSBK_ACCOUNT_LEN + 1]; /* the database's (Account-A) */
    char *region;                               /* the function's: Region-B */
    char *hop;      /* copy, share, backup-copy, backup-age (the line's "action") */
    char *database; /* as the line names it (an identifier or a copy's base), or NULL */
    char *source;   /* what failed: the snapshot's ARN, or what else the line names */
    char *error_code;
    char *message;
    time_t time;
    int count;     /* error lines of this hop and database in the window */
    bool resolved; /* a backup copy of the database became available after it */
};

/* A log group status could not read (the failures there are unknown). */
struct rdsbk_status_unread {
    char account[RDSBK_ACCOUNT_LEN + 1];
    char *log_group;
    char *error;
};

/* One stack instance of the StackSet of an OU source: the pipeline in one of its accounts and
 * Regions. */
struct rdsbk_status_instance {
    char *ou;
    char *stack_set;
    char account[RDSBK_ACCOUNT_LEN + 1];
    char *region;
    char *status;          /* CURRENT, OUTDATED, INOPERABLE */
    char *detailed_status; /* SUCCEEDED, FAILED, RUNNING, PENDING, CANCELLED, ... */
    char *reason;          /* "" when none */
    /* why the account's databases were not read (its member_role could not be assumed), or
     * NULL: read, or not asked (no member_role) */
    char *read_error;
};

struct rdsbk_status_report {
    char *stack;
    char backup_account[RDSBK_ACCOUNT_LEN + 1];
    char *backup_region;
    time_t now;
    struct rdsbk_status_row *rows; /* in topology order: sources, instances, then clusters */
    size_t n_rows;
    /* each source account once in topology order, then each account of an OU source read
     * through its member_role, then the backup account; for each, the quotas
     * in the order AWS lists them (ManualSnapshots, ManualClusterSnapshots) */
    struct rdsbk_status_quota *quotas;
    size_t n_quotas;
    struct rdsbk_status_failure *failures; /* newest first */
    size_t n_failures;
    struct rdsbk_status_unread *unread;
    size_t n_unread;
    /* the StackSet instances of each OU source, in topology order; its accounts' databases are
     * rows too when the OU source has a member_role */
    struct rdsbk_status_instance *instances;
    size_t n_instances;
};

/*
 * Reads, for every configured database of every source (a prefix pattern expands to the
 * databases found in Region-A's automated snapshots; one that matches none becomes a row of its
 * own with nothing found), the newest system snapshot, the newest Region-B copy and the newest
 * backup copy. Copies are recognised by the pipeline's names (above) and, where present, by the
 * tags rdsbk:source-snapshot / rdsbk:source-account. State and lag:
 *   ok        the backup copy of the newest system snapshot is available;
 *             lag = its creation - the system snapshot's creation
 *   copying   the newest system snapshot is on its way (lag = now - its creation)
 *   behind    the newest backup copy is of an older system snapshot (lag = now - newest's)
 *   missing   no backup copy at all (lag = now - the newest system snapshot's creation)
 *   no-snapshot  no system snapshot and no backup copy (lag -1)
 * Then, with the same credentials, the manual snapshot quotas (ManualSnapshots,
 * ManualClusterSnapshots: used and max) of every place the pipeline writes copies to: each source
 * account in Region-B and the backup account in Region-B. A DescribeAccountAttributes refused as
 * not allowed (RDSBK_EAUTH) leaves that place's quotas unknown (used and max -1, the reason in
 * `error`) instead of failing the report.
 * Then the failures the functions logged (struct rdsbk_status_failure): FilterLogEvents on each
 * function's log group (copy and share in each source account, backup-copy in the backup account,
 * Region-B); a group that is missing holds none, one that cannot be read is listed in `unread`.
 * For an OU source: the instances of its StackSet (ListStackInstances, with the credentials of
 * its admin_account; a set not found has none), and with a member_role the rows of every account
 * they are in and their quotas in Region-B, read through that role; an account where it cannot be
 * assumed (RDSBK_EAUTH) keeps the reason in its instances' read_error. Failures are not read in
 * OU accounts.
 * Returns 0 and *out (free with rdsbk_status_report_free) or the first AWS error (error set).
 */
int rdsbk_status_collect(struct rdsbk_status_report **out, const struct rdsbk_topology *topo);

void rdsbk_status_report_free(struct rdsbk_status_report *report);

/* True when the row's newest available backup copy is younger than `max_age_s` (<= 0: any age,
 * then only a missing copy counts). */
bool rdsbk_status_row_fresh(const struct rdsbk_status_row *row, time_t now, long long max_age_s);

/* The percentage of its maximum a known quota uses (rounded down; 100 for a maximum of 0), or -1
 * when it is unknown. */
int rdsbk_status_quota_percent(const struct rdsbk_status_quota *q);

/* Whether a known quota is used to RDSBK_STATUS_QUOTA_WARN_PERCENT or more of its maximum. */
bool rdsbk_status_quota_high(const struct rdsbk_status_quota *q);

/* ---- drill ------------------------------------------------------------------------------- */

enum rdsbk_drill_result {
    RDSBK_DRILL_PENDING,
    RDSBK_DRILL_OK,
    RDSBK_DRILL_FAILED,
    RDSBK_DRILL_TIMEOUT,
    RDSBK_DRILL_INTERRUPTED,
    RDSBK_DRILL_SKIPPED
};

/* "pending", "ok", "failed", "timeout", "interrupted", "skipped". */
const char *rdsbk_drill_result_name(enum rdsbk_drill_result r);

/* The hops followed for each snapshot, in order. */
enum rdsbk_drill_hop_id {
    RDSBK_HOP_INVOKE,      /* Lambda Invoke (Event) of the copy function accepted */
    RDSBK_HOP_REGION_COPY, /* A/Region-B copy available */
    RDSBK_HOP_SHARED,      /* its restore attribute names Account-B */
    RDSBK_HOP_BACKUP_COPY, /* B/Region-B copy available */
    RDSBK_HOP_COUNT
};

/* "invoke", "region-copy", "shared", "backup-copy". */
const char *rdsbk_drill_hop_name(enum rdsbk_drill_hop_id hop);

struct rdsbk_drill_hop {
    enum rdsbk_drill_result result;
    double seconds; /* since the previous hop finished (the first: since the drill began) */
    bool existed;   /* already there when the drill began (made by an earlier run) */
    char *message;  /* why it failed, or NULL */
};

struct rdsbk_drill_restore {
    enum rdsbk_drill_result result; /* SKIPPED when not asked or not possible */
    char *instance_id;              /* NULL when no restore was started */
    double seconds;                 /* restore call to available */
    bool deleted;                   /* DeleteDBInstance accepted */
    char *message;
};

struct rdsbk_drill_target {
    char account[RDSBK_ACCOUNT_LEN + 1];
    char *source_region;
    char *database;
    enum rdsbk_db_kind kind;
    char *snapshot_id; /* the system snapshot, NULL when none was found */
    char *snapshot_arn;
    char *region_copy_id; /* A/Region-B */
    char *backup_copy_id; /* B/Region-B */
    struct rdsbk_drill_hop hops[RDSBK_HOP_COUNT];
    double total_s;
    struct rdsbk_drill_restore restore;
    bool cleaned_region_copy; /* --cleanup deleted it */
    bool cleaned_backup_copy;
    char *error; /* a problem before the hops (no snapshot, invoke refused), or NULL */
};

struct rdsbk_drill_report {
    char drill_id[16]; /* random hex, tagged rdsbk:drill on what the drill creates */
    char *stack;
    char backup_account[RDSBK_ACCOUNT_LEN + 1];
    char *backup_region;
    char *copy_function;
    struct rdsbk_drill_target *targets;
    size_t n_targets;
    double total_s;
    bool ok;       /* every hop, and every restore asked for, succeeded */
    bool leftover; /* a restored instance could not be deleted (printed in bold) */
};

/* Progress lines (one sentence, no newline) for people; `payload` is the options' payload. */
typedef void (*rdsbk_drill_progress_fn)(const char *line, void *payload);

struct rdsbk_drill_options {
    const char *snapshot_id;    /* NULL: the newest system snapshot of every database */
    long long timeout_s;        /* following the hops; and again for the restore (default 1800) */
    bool restore_test;          /* restore the backup copy into a temporary instance */
    const char *instance_class; /* NULL: db.t3.micro */
    const char *subnet_group;   /* DB subnet group of the restore; NULL: the default VPC */
    bool cleanup;               /* delete the copies this drill made (both Region-B copies) */
    long poll_initial_ms;       /* 0: 500; polling backs off x1.5 per poll ... */
    long poll_max_ms;           /* ... up to this (0: 20000) */
    /* Set by the caller's SIGINT/SIGTERM handler: 1 stops the drill (cleanup still runs), 2 or
     * more also abandons waiting in the cleanup (a leftover is then reported). May be NULL. */
    volatile sig_atomic_t *stop;
    rdsbk_drill_progress_fn progress; /* may be NULL */
    void *payload;
};

/*
 * Runs the drill. Returns 0 with *out filled (report->ok tells whether the drill passed) even
 * when hops fail; a negative code (error set) only when the drill could not start at all (bad
 * credentials, --snapshot not found, out of memory), with *out NULL. The restored instance is
 * deleted on every path that started one; one that could not be deleted is printed in bold on
 * stderr with the command that deletes it (report->leftover). Free with
 * rdsbk_drill_report_free.
 */
int rdsbk_drill_run(struct rdsbk_drill_report **out, const struct rdsbk_topology *topo,
                    const struct rdsbk_drill_options *opts);

void rdsbk_drill_report_free(struct rdsbk_drill_report *report);

#endif
