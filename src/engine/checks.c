/*
 * Checks of a computed plan against what AWS holds beyond the stack's own resources, made before
 * any write: the state names only the stack's own resources, and the shared key is not deleted
 * while backup copies are encrypted with it. These are facts of the pipeline, not of a resource
 * type: the one place in the engine that names types.
 */
#include "engine_internal.h"

#include "rdsbk/error.h"
#include "rdsbk/json_util.h"
#include "rdsbk/services/kms.h"
#include "rdsbk/services/rds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the state is not authority ---------------------------------------------------------- */

#define S_STACK_TAG "rdsbk:stack"

/* Where the purpose ends in what follows "rdsbk-<stack>-" in an id of `type`: at a '/' or ':' of
 * a composite id; a topic's or a queue's ARN ends with its name; a subscription's id goes on after
 * its topic's name with ":<uuid>" or "|<protocol>|<endpoint>" (sns_subscription.c). */
static const char *s_purpose_ends(enum rdsbk_resource_type type) {
    switch (type) {
    case RDSBK_RT_SNS_TOPIC:
    case RDSBK_RT_SQS_QUEUE:
        return "";
    case RDSBK_RT_SNS_SUBSCRIPTION:
        return ":|";
    default:
        return "/:";
    }
}

/* Whether `rest`, what follows "rdsbk-<stack>-" in an id, is one of the pipeline's purposes, or for
 * a statement of the default bus (as a state written before the stack had a bus of its own holds
 * them) a source account: not the rest of a longer stack's name ("rdsbk-t1-x-copy" is not stack
 * t1's). */
static bool s_purpose_ours(enum rdsbk_resource_type type, const char *rest) {
    size_t len = strcspn(rest, s_purpose_ends(type));

    if (type == RDSBK_RT_EVENTS_PERMISSION)
        return len == RDSBK_ACCOUNT_LEN && strspn(rest, "0123456789") == len;
    if (type == RDSBK_RT_CFN_STACK_SET) /* named for its OU: "ou-" and the OU's id */
        return strncmp(rest, "ou-", 3) == 0 && strspn(rest + 3, "abcdefghijklmnopqrstuvwxyz"
                                                                "0123456789-") == strlen(rest + 3);
    for (size_t i = 0; rdsbk_model_purposes[i]; i++)
        if (strlen(rdsbk_model_purposes[i]) == len &&
            strncmp(rest, rdsbk_model_purposes[i], len) == 0)
            return true;
    return false;
}

/* What follows "arn:<partition>:<service>:<region>:<account>:" in an SNS or SQS id (a topic's or
 * a queue's name, and a subscription's after it); an id that is no such ARN (a name, when the
 * state has no id) as it is. Borrowed from `id`. */
static const char *s_arn_resource(const char *id) {
    const char *p = id;

    if (strncmp(id, "arn:", 4) != 0)
        return id;
    for (int field = 0; p && field < 5; field++) {
        p = strchr(p, ':');
        p = p ? p + 1 : NULL;
    }
    return p ? p : id;
}

bool rdsbk_engine_named_ours(enum rdsbk_resource_type type, const char *id, const char *stack,
                             const char *key_alias) {
    size_t len = strlen(stack);

    switch (type) {
    case RDSBK_RT_KMS_KEY:
        return true;
    case RDSBK_RT_KMS_ALIAS:
        return (key_alias && strcmp(id, key_alias) == 0) ||
               (strncmp(id, "alias/rdsbk-", 12) == 0 && strcmp(id + 12, stack) == 0);
    case RDSBK_RT_LOGS_LOG_GROUP:
        if (strncmp(id, "/aws/lambda/", 12) != 0)
            return false;
        id += 12;
        break;
    case RDSBK_RT_SNS_TOPIC:
    case RDSBK_RT_SNS_SUBSCRIPTION:
    case RDSBK_RT_SQS_QUEUE:
        /* by the name of the topic or queue, in its ARN */
        id = s_arn_resource(id);
        break;
    default:
        break;
    }
    if (strncmp(id, "rdsbk-", 6) != 0 || strncmp(id + 6, stack, len) != 0 || id[6 + len] != '-')
        return false;
    return s_purpose_ours(type, id + 6 + len + 1);
}

/* Whether the id the state gives `c` (its name when it has none) is one the stack's naming
 * gives: rdsbk_engine_named_ours. */
static bool s_named_ours(const struct rdsbk_engine *e, const struct rdsbk_change *c) {
    const char *id = c->id && *c->id ? c->id : c->name ? c->name : ""; /* by name: no id */

    return rdsbk_engine_named_ours(c->type, id, e->topo->stack, e->topo->key.alias);
}

/* The rdsbk:stack tag of what was read of `c`, or NULL. */
static const char *s_stack_tag(const struct rdsbk_change *c) {
    return c->read
               ? rdsbk_json_str(cJSON_GetObjectItemCaseSensitive(c->actual, "tags"), S_STACK_TAG)
               : NULL;
}

int rdsbk_engine_check_ownership(const struct rdsbk_engine *e) {
    for (size_t i = 0; i < e->n_changes; i++) {
        const struct rdsbk_change *c = &e->changes[i];
        const char *tag = s_stack_tag(c);

        if (!c->in_state || c->action == RDSBK_ACTION_NOOP || c->action == RDSBK_ACTION_FORGET ||
            c->action == RDSBK_ACTION_CREATE || c->kept)
            continue;
        if (!s_named_ours(e, c))
            return rdsbk_error_set(RDSBK_EINVALID,
                                   "%s: the state names %s \"%s\" in %s, which is not named as "
                                   "stack %s names its resources: refusing to change or delete "
                                   "it. Is the state file another stack's, or edited? (`state rm "
                                   "%s` forgets it without touching AWS)",
                                   c->address, rdsbk_resource_type_name(c->type),
                                   c->id ? c->id : "", c->account, e->topo->stack, c->address);
        if (tag && strcmp(tag, e->topo->stack) != 0)
            return rdsbk_error_set(RDSBK_EINVALID,
                                   "%s: %s \"%s\" in %s is tagged %s=%s, not %s: refusing to "
                                   "change or delete another stack's resource",
                                   c->address, rdsbk_resource_type_name(c->type),
                                   c->id ? c->id : "", c->account, S_STACK_TAG, tag,
                                   e->topo->stack);
    }
    return 0;
}

/* ---- the key guard ----------------------------------------------------------------------- */

/* Snapshots in Region-B encrypted with the key, per account: the DB snapshots and the cluster
 * snapshots of every account, all read in parallel (task 2i: account i's DB snapshots, 2i + 1 its
 * cluster snapshots). */
struct s_key_use {
    struct rdsbk_engine *e;
    const char *key_arn;
    const char **accounts;
    int *counts;
    char (*examples)[512];
};

static int s_count_encrypted(size_t task, void *payload) {
    struct s_key_use *u = payload;
    size_t i = task / 2;
    struct rdsbk_client *client = NULL;
    struct rdsbk_rds_snapshot_query q = {NULL, NULL, "manual", false, NULL, 0};
    struct rdsbk_rds_snapshot *snaps = NULL;
    size_t n = 0;
    int rc = rdsbk_engine_client(&client, u->e, u->accounts[i], u->e->topo->backup.region);

    if (rc)
        return rc;
    rc = task % 2 ? rdsbk_rds_describe_db_cluster_snapshots(&snaps, &n, client, &q)
                  : rdsbk_rds_describe_db_snapshots(&snaps, &n, client, &q);
    for (size_t k = 0; !rc && k < n; k++) {
        if (!snaps[k].kms_key_id || strcmp(snaps[k].kms_key_id, u->key_arn) != 0)
            continue;
        if (!u->counts[task]++)
            snprintf(u->examples[task], sizeof(u->examples[task]), "%s",
                     snaps[k].arn ? snaps[k].arn : snaps[k].id);
    }
    rdsbk_rds_snapshots_free(snaps, n);
    return rc;
}

/* How many snapshots of the topology's accounts in Region-B the key encrypts; one of them.
 * `threads` > 0: at most that many reads at once (alongside other work), else up to
 * --parallelism per account. */
static int s_key_in_use(int *count, char *example, size_t example_size, struct rdsbk_engine *e,
                        const char *key_arn, int threads) {
    size_t n = e->topo->n_sources + 1;
    const char **accounts = calloc(n, sizeof(*accounts));
    int *counts = calloc(2 * n, sizeof(*counts));
    char(*examples)[512] = calloc(2 * n, sizeof(*examples));
    struct rdsbk_task_result *results = calloc(2 * n, sizeof(*results));
    struct s_key_use u = {e, key_arn, accounts, counts, examples};
    struct rdsbk_pool_tasks tasks = {0};
    int *own = NULL;
    int rc;

    *count = 0;
    RDSBK_CHECK_ALLOC(accounts && counts && examples && results);
    for (size_t i = 0; i < e->topo->n_sources; i++)
        accounts[i] = e->topo->sources[i].account;
    accounts[n - 1] = e->topo->backup.account;
    tasks.n = 2 * n;
    tasks.max_threads = rdsbk_engine_max_threads(e);
    if (threads <= 0) {
        /* every read its own group: all at once, each account well under its --parallelism */
        own = rdsbk_pool_own_groups(2 * n);
        RDSBK_CHECK_ALLOC(own);
        tasks.group_of = own;
        tasks.n_groups = (int)(2 * n);
        threads = e->opts->parallelism;
    }
    RDSBK_TRY(rdsbk_pool_run(results, &tasks, threads, false, s_count_encrypted, &u));
    for (size_t i = 0; i < 2 * n; i++) {
        if (counts[i] && !*count)
            snprintf(example, example_size, "%s", examples[i]);
        *count += counts[i];
    }

cleanup:
    free(own);
    free(accounts);
    free(counts);
    free(examples);
    free(results);
    return rc;
}

/*
 * The key guard's reads made while destroy refreshes, for the key the state records: they are
 * known to be needed and take a round of calls that would otherwise come between the refresh and
 * the first deletion. Beside a refresh of everything (--refresh) at most S_GUARD_THREADS at once;
 * otherwise the refresh reads only what the state lacks, and they all go at once.
 */
#define S_GUARD_THREADS 8

/* What the guard (or a read at the check) finds of a key: the owner its rdsbk:stack tag names
 * ("" for none), and how many backup copies it encrypts (not counted with
 * --force-key-deletion), with one of them. */
struct s_key_facts {
    char owner[256];
    bool gone; /* the key no longer exists */
    int count;
    char example[512];
};

struct rdsbk_key_guard {
    struct rdsbk_engine *e;
    struct rdsbk_job job;
    char key_arn[2048];
    char account[RDSBK_ACCOUNT_LEN + 1];
    char region[64];
    struct s_key_facts facts;
};

/* The key's rdsbk:stack tag, read in `account`/`region`. */
static int s_key_owner(struct s_key_facts *f, struct rdsbk_engine *e, const char *account,
                       const char *region, const char *key_arn) {
    struct rdsbk_client *client = NULL;
    struct rdsbk_tag *tags = NULL;
    size_t n = 0;
    int rc = rdsbk_engine_client(&client, e, account, region);

    if (rc == 0)
        rc = rdsbk_kms_list_resource_tags(&tags, &n, client, key_arn);
    if (rc == RDSBK_ENOTFOUND) {
        rdsbk_error_clear();
        f->gone = true;
        return 0;
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (strcmp(tags[i].key, S_STACK_TAG) == 0)
            snprintf(f->owner, sizeof(f->owner), "%s", tags[i].value);
    rdsbk_aws_tags_free(tags, n);
    return rc;
}

/* The backup copies the key `key_arn` encrypts, unless it is gone or --force-key-deletion;
 * `threads` as for s_key_in_use. */
static int s_key_count(struct s_key_facts *f, struct rdsbk_engine *e, const char *key_arn,
                       int threads) {
    if (f->gone || e->opts->force_key_deletion)
        return 0;
    return s_key_in_use(&f->count, f->example, sizeof(f->example), e, key_arn, threads);
}

/* The facts of the key `key_arn` in `account`/`region`; `threads` as for s_key_in_use. */
static int s_key_facts(struct s_key_facts *f, struct rdsbk_engine *e, const char *account,
                       const char *region, const char *key_arn, int threads) {
    int rc = s_key_owner(f, e, account, region, key_arn);

    return rc ? rc : s_key_count(f, e, key_arn, threads);
}

static int s_guard_reads(void *arg) {
    struct rdsbk_key_guard *g = arg;

    return s_key_facts(&g->facts, g->e, g->account, g->region, g->key_arn,
                       g->e->opts->refresh_known ? S_GUARD_THREADS : 0);
}

int rdsbk_engine_key_guard_start(struct rdsbk_key_guard **out, struct rdsbk_engine *e) {
    *out = NULL;
    if (e->opts->keep_key)
        return 0;
    for (size_t i = 0; i < e->state->n_resources; i++) {
        const struct rdsbk_state_resource *r = &e->state->resources[i];
        const char *arn = rdsbk_json_str(r->attributes, "arn");
        if (rdsbk_resource_type_from_name(r->type) == RDSBK_RT_KMS_KEY && arn &&
            strlen(arn) < sizeof((*out)->key_arn)) {
            *out = calloc(1, sizeof(**out));
            if (!*out)
                return rdsbk_error_oom();
            (*out)->e = e;
            snprintf((*out)->key_arn, sizeof((*out)->key_arn), "%s", arn);
            snprintf((*out)->account, sizeof((*out)->account), "%s", r->account);
            snprintf((*out)->region, sizeof((*out)->region), "%s", r->region);
            rdsbk_job_start(&(*out)->job, s_guard_reads, *out);
            return 0;
        }
    }
    return 0;
}

void rdsbk_engine_key_guard_free(struct rdsbk_key_guard *g) {
    if (!g)
        return;
    rdsbk_job_join(&g->job);
    free(g);
}

/* The facts of the key of `c` (`key_arn`): from the guard's reads when they were made for this
 * key, else read now. */
static int s_key_use(struct s_key_facts *f, struct rdsbk_engine *e, const struct rdsbk_change *c,
                     struct rdsbk_key_guard *guard, const char *key_arn) {
    memset(f, 0, sizeof(*f));
    if (guard && key_arn && strcmp(guard->key_arn, key_arn) == 0) {
        int rc = rdsbk_job_join(&guard->job);
        if (rc) {
            rdsbk_error_restore(&guard->job.error);
            return rc;
        }
        *f = guard->facts;
        return 0;
    }
    if (!key_arn)
        return 0;
    if (c->read) { /* the refresh read the key, its tags with it */
        const char *tag = s_stack_tag(c);
        snprintf(f->owner, sizeof(f->owner), "%s", tag ? tag : "");
        return s_key_count(f, e, key_arn, 0);
    }
    return s_key_facts(f, e, c->account, c->region, key_arn, 0);
}

/* Emits when the key of change `c`, known as `known`, will be gone. */
static void s_announce_deletion(struct rdsbk_engine *e, const struct rdsbk_change *c,
                                const cJSON *known) {
    struct rdsbk_engine_event ev;
    int days = rdsbk_json_int(known, "deletion_window_days", 30);
    time_t when = time(NULL) + (time_t)days * 86400;
    char date[32];

    strftime(date, sizeof(date), "%Y-%m-%d", gmtime(&when));
    memset(&ev, 0, sizeof(ev));
    ev.type = RDSBK_EVENT_KEY_DELETION;
    ev.name = c->id ? c->id : c->name;
    ev.date = date;
    ev.days = days;
    rdsbk_engine_emit(e, &ev);
}

static int s_check_one_key(struct rdsbk_engine *e, const struct rdsbk_change *c,
                           struct rdsbk_key_guard *guard) {
    const cJSON *known = c->prior ? c->prior : c->hint;
    const char *key_arn = rdsbk_json_str(c->actual, "arn");
    struct s_key_facts f;
    int rc;

    if (cJSON_IsTrue(cJSON_GetObjectItem(known, "prevent_destroy")) && !e->opts->force_key_deletion)
        return rdsbk_error_set(RDSBK_EINVALID,
                               "the topology sets key.prevent_destroy: destroy will not "
                               "schedule the deletion of %s; pass --force-key-deletion to "
                               "delete it anyway",
                               c->id ? c->id : c->name);
    rc = s_key_use(&f, e, c, guard, key_arn);
    if (rc)
        return rc;
    if (key_arn && !f.gone && strcmp(f.owner, e->topo->stack) != 0)
        return rdsbk_error_set(RDSBK_EINVALID,
                               "%s: the key %s is tagged %s=%s, not %s: refusing to schedule the "
                               "deletion of a key that is not this stack's. Is the state file "
                               "another stack's, or edited?",
                               c->address, key_arn, S_STACK_TAG, f.owner[0] ? f.owner : "(none)",
                               e->topo->stack);
    if (f.count)
        return rdsbk_error_set(RDSBK_EINVALID,
                               "%d snapshot%s (such as %s) %s encrypted with the shared key "
                               "%s: once the key is deleted they cannot be restored. Delete "
                               "or re-encrypt them first, or pass --force-key-deletion",
                               f.count, f.count == 1 ? "" : "s", f.example,
                               f.count == 1 ? "is" : "are", key_arn);
    s_announce_deletion(e, c, known);
    return 0;
}

int rdsbk_engine_check_key(struct rdsbk_engine *e, struct rdsbk_key_guard *guard) {
    for (size_t i = 0; i < e->n_changes; i++) {
        const struct rdsbk_change *c = &e->changes[i];
        int rc;

        if (c->type != RDSBK_RT_KMS_KEY ||
            (c->action != RDSBK_ACTION_DELETE && c->action != RDSBK_ACTION_REPLACE))
            continue;
        rc = s_check_one_key(e, c, guard);
        if (rc)
            return rc;
    }
    return 0;
}
