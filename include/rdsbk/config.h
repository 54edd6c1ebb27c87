#ifndef RDSBK_CONFIG_H
#define RDSBK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The topology file (version 1), parsed and validated. Every string is owned by the topology and
 * freed by rdsbk_topology_free. Defaults are filled in by rdsbk_topology_load.
 */

#define RDSBK_ACCOUNT_LEN 12

/* Limits on what a topology file may be: far above any real topology (a few hundred nodes, five
 * levels), far below what makes validation slow. */
#define RDSBK_MAX_TOPOLOGY_BYTES (1024 * 1024)
#define RDSBK_MAX_YAML_NODES 100000 /* after alias expansion: an alias counts what it names */
#define RDSBK_MAX_YAML_DEPTH 32

/* Where a value came from, for error messages (1-based). */
struct rdsbk_pos {
    int line;
    int col;
};

struct rdsbk_tag {
    char *key;
    char *value;
};

/* RDS's manual snapshot quotas of one account and Region (100 each unless raised): DB snapshots
 * and DB cluster snapshots count apart. */
struct rdsbk_snapshot_quotas {
    int manual_snapshots;
    int manual_cluster_snapshots;
};

/*
 * A source: an account in a Region-A (sources[] with account:), or every account of an AWS
 * Organizations OU in some Regions (sources[] with ou:, kept apart in topology->ou_sources): the
 * tool deploys the source side of the pipeline there as a CloudFormation StackSet with
 * service-managed permissions, which gives it to accounts that join the OU later, too.
 */
struct rdsbk_source {
    /* the account; for an OU source the one that administers its StackSet (admin_account: the
     * organisation's management account), whose credentials profile and role_arn
     * give */
    char account[RDSBK_ACCOUNT_LEN + 1];
    char *region;   /* Region-A; NULL for an OU source */
    char *ou;       /* an OU source's OU ("ou-..."), else NULL */
    char **regions; /* an OU source's Regions-A */
    size_t n_regions;
    char *code_bucket; /* an OU source's: the S3 bucket in Region-B its functions' code goes to */
    /* an OU source's: the role `status` assumes in each of its accounts (with the credentials of
     * profile) to read their snapshots; NULL: status shows the StackSet's instances alone */
    char *member_role;
    char *profile;    /* NULL: AWS_PROFILE, then the default chain */
    char *role_arn;   /* NULL: none assumed */
    char **instances; /* DB instance ids; a trailing '*' means prefix */
    size_t n_instances;
    char **clusters; /* Aurora DB cluster ids; a trailing '*' means prefix */
    size_t n_clusters;
    char **kms_keys; /* customer-managed keys (ARNs in Region-A) its snapshots are encrypted with */
    size_t n_kms_keys;
    /* database pattern (key) -> option group of Region-B (value) that copies of its snapshots
     * need (Oracle or SQL Server TDE, a non-default option group), in file order */
    struct rdsbk_tag *option_groups;
    size_t n_option_groups;
    struct rdsbk_snapshot_quotas quotas; /* of the account in Region-B, where its copies are */
    struct rdsbk_pos pos;
};

struct rdsbk_backup {
    char account[RDSBK_ACCOUNT_LEN + 1];
    char *region; /* Region-B */
    char *profile;
    char *role_arn;
    /* Characters its default event bus's policy may hold (one statement per source account):
     * EventBridge's "Event bus policy size" quota, 10,240 unless raised. */
    int bus_policy_quota;
    /* The AWS Organizations organisation ("o-...") whose accounts are the sources, or NULL. Set,
     * the backup side admits the organisation (aws:PrincipalOrgID) and the stack's role names
     * instead of each source account: adding one changes nothing in the backup account. */
    char *organization_id;
    /* organization: true: the organisation is the backup account's own, read from AWS
     * (organizations:DescribeOrganization) by the commands that call AWS, which set
     * organization_id (rdsbk_cli_resolve_organization) */
    bool organization;
    struct rdsbk_snapshot_quotas quotas; /* in Region-B, where the backup copies are */
    struct rdsbk_pos pos;
};

struct rdsbk_key_settings {
    char *alias;              /* default "alias/rdsbk-<stack>" */
    bool multi_region;        /* default true */
    int deletion_window_days; /* 7..30, default 30 */
    bool prevent_destroy;     /* default false */
};

struct rdsbk_function_settings {
    char *runtime;          /* default "python3.13" */
    int timeout_seconds;    /* 1..900, default 60 */
    int memory_mb;          /* 128..10240, default 128 */
    int log_retention_days; /* of their log groups, one of CloudWatch Logs' values, default 30 */
};

/* What the pipeline keeps of its copies; each database's newest `keep_last` available copies at
 * each hop stay whatever their age. */
struct rdsbk_retention {
    int backup_days;       /* Account-B copies younger than this stay (default 7) */
    int intermediate_days; /* Account-A/Region-B copies likewise, once shared (default 1) */
    int keep_last;         /* default 1 */
};

/* Where the pipeline reports what fails (alerts:). Without sns_topic_arn the stack makes a topic
 * rdsbk-<stack>-alerts in the backup account and Region-B. */
struct rdsbk_alerts {
    char **emails; /* subscribed to the topic by email */
    size_t n_emails;
    char *sns_topic_arn; /* the user's topic (in the backup account and Region-B), or NULL */
    struct rdsbk_pos sns_topic_pos;
    long long max_age_s; /* a database whose newest backup copy is older is reported (26h) */
};

/* Endpoint overrides; NULL where the topology sets none. */
struct rdsbk_endpoints {
    char *default_url;
    char *sts;
    char *iam;
    char *kms;
    char *events;
    char *lambda;
    char *rds;
    char *logs;
    char *sns;
    char *sqs;
    char *s3;
    char *cloudformation;
    char *organizations;
};

/* Where the stack's state lives when it is in S3 (`state:`, rdsbk/state.h); all NULL when the
 * topology has no state: mapping (the state is then a file, or what --state names). */
struct rdsbk_state_settings {
    char *bucket;     /* the user's bucket (never created by the tool) */
    char *key;        /* the state object; its lock is KEY.lock */
    char *region;     /* the bucket's Region; NULL: AWS_REGION, AWS_DEFAULT_REGION, else Region-B */
    char *profile;    /* NULL: AWS_PROFILE, then the default chain */
    char *role_arn;   /* assumed on top (session rdsbk-<stack>); NULL: none */
    char *kms_key_id; /* SSE-KMS with this key (id, ARN, alias or alias ARN); NULL: SSE-S3 */
};

struct rdsbk_topology {
    char *path; /* the file it was read from */
    int version;
    char *stack;
    struct rdsbk_source *sources;
    size_t n_sources;
    struct rdsbk_source *ou_sources; /* the sources that name an OU, in file order */
    size_t n_ou_sources;
    struct rdsbk_backup backup;
    struct rdsbk_key_settings key;
    struct rdsbk_function_settings functions;
    struct rdsbk_retention retention;
    struct rdsbk_alerts alerts;
    struct rdsbk_tag *tags; /* sorted by key */
    size_t n_tags;
    struct rdsbk_endpoints endpoints;
    struct rdsbk_state_settings state;
};

/* An error makes the topology invalid; a warning (a value used otherwise than written, a
 * deprecated runtime) does not. */
enum rdsbk_severity { RDSBK_SEVERITY_ERROR, RDSBK_SEVERITY_WARNING };

/* One problem found while loading: `file:line:col: error: message` or `warning: file:line:col:
 * message` when printed. The message is safe to print on a terminal (rdsbk_str_escape_terminal). */
struct rdsbk_diagnostic {
    struct rdsbk_pos pos;
    enum rdsbk_severity severity;
    char message[512];
};

/* How many problems of each severity a load keeps, the first ones in file order: a hostile file
 * can have a problem every few bytes, and nobody reads the 2,000th. */
#define RDSBK_MAX_DIAGNOSTICS 50

struct rdsbk_diagnostics {
    struct rdsbk_diagnostic *items; /* in file order (by position, then as found) */
    size_t count;                   /* at most RDSBK_MAX_DIAGNOSTICS errors and as many warnings */
    size_t more;                    /* problems found beyond those kept */
    size_t errors; /* errors found, kept or not: the topology is invalid when there is one */
};

void rdsbk_diagnostics_clean_up(struct rdsbk_diagnostics *diags);

/*
 * Reads and validates the topology at `path`. On success returns 0 and `*out` (free with
 * rdsbk_topology_free); `diags` may then hold warnings. When the file cannot be read returns
 * RDSBK_EIO with the error set. When it is invalid returns RDSBK_EINVALID and fills `diags` with
 * the first RDSBK_MAX_DIAGNOSTICS errors (and warnings) in file order and the count of the others.
 * Clean `diags` up in every case. A file over 1 MiB, or whose YAML holds more
 * than RDSBK_MAX_YAML_NODES nodes once its aliases are expanded, or nests deeper than
 * RDSBK_MAX_YAML_DEPTH, is refused before it is walked.
 */
int rdsbk_topology_load(struct rdsbk_topology **out, struct rdsbk_diagnostics *diags,
                        const char *path);

/* The same from a string (`name` is used in messages). */
int rdsbk_topology_parse(struct rdsbk_topology **out, struct rdsbk_diagnostics *diags,
                         const char *name, const char *text, size_t len);

void rdsbk_topology_free(struct rdsbk_topology *topo);

/* Called with the path of each key of the topology file (rdsbk_topology_each_key). */
typedef void (*rdsbk_topology_key_fn)(const char *path, void *payload);

/*
 * Calls `fn` with the path of every key the parser accepts: the top-level keys ("version",
 * "tags"), then those of each mapping under its key ("key.alias", "endpoints.s3"), a source's as
 * "sources[].account" (`source:`, its shorthand, has the same). Read from the parser's own
 * tables, so that a key added there is listed: the test that holds rdsbk-topology(5) to the
 * parser uses it. Allocates nothing.
 */
void rdsbk_topology_each_key(rdsbk_topology_key_fn fn, void *payload);

/* The normalised topology, defaults filled in, as JSON text (caller frees). NULL on ENOMEM. */
char *rdsbk_topology_to_json(const struct rdsbk_topology *topo);

/*
 * Checks of single values, as the parser makes them (src/config/validate.c), for what asks for
 * them elsewhere (`init`). Each rdsbk_check_* returns NULL when `s` is valid, or a static phrase
 * saying what is wrong, to follow the value in a message ("'eu-west' is not a Region name like
 * eu-west-1").
 */
/* Whether `s` is a 12-digit account id. */
bool rdsbk_valid_account(const char *s);
/* A Region name: <area>-[gov-]<direction>-<n> (eu-west-1, us-gov-east-1). */
const char *rdsbk_check_region(const char *s);
/* A stack name: ^[a-z][a-z0-9-]{0,23}$. */
const char *rdsbk_check_stack(const char *s);
/* A DB instance or cluster identifier (RDS's rules), or a prefix of one followed by '*'. */
const char *rdsbk_check_db_pattern(const char *s);

/* The partition of a Region: "aws", "aws-cn" or "aws-us-gov" (rdsbk_partition_of_region). */
const char *rdsbk_region_partition(const char *region);

#endif
