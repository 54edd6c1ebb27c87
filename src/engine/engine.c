/*
 * A run of the engine: lock and load the state, build the desired graph, make a client per account
 * and Region, prove each account's credentials, then (compute) merge desired and state, refresh
 * from AWS in parallel and decide an action per resource.
 */
#include "canon.h"
#include "engine_internal.h"
#include "rdsbk/pool.h"
#include "rdsbk/client_set.h"
#include "rdsbk/env.h"
#include "rdsbk/error.h"
#include "rdsbk/str.h"
#include "rdsbk/http.h"
#include "rdsbk/log.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

const char *rdsbk_action_name(enum rdsbk_action action) {
    static const char *const names[] = {"no-op",  "create", "update", "replace",
                                        "delete", "adopt",  "forget"};
    return (unsigned)action < sizeof(names) / sizeof(names[0]) ? names[action] : "?";
}

/* ---- clients ---------------------------------------------------------------------------- */

/* Accounts the topology no longer names (a removed source) are reached as the state remembers;
 * an account neither knows gets the default credentials chain. */
static bool s_remembered_account(const char *account, const char **profile, const char **role_arn,
                                 void *payload) {
    const struct rdsbk_engine *e = payload;
    const cJSON *remembered = cJSON_GetObjectItemCaseSensitive(e->state->accounts, account);

    *profile = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(remembered, "profile"));
    *role_arn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(remembered, "role_arn"));
    return true;
}

/* Records in the state how to reach every account the topology names. */
static int s_remember_accounts(struct rdsbk_engine *e) {
    const struct rdsbk_topology *t = e->topo;

    for (size_t i = 0; i <= t->n_sources; i++) {
        const char *account = i < t->n_sources ? t->sources[i].account : t->backup.account;
        const char *profile;
        const char *role_arn;
        cJSON *o = cJSON_CreateObject();

        if (!o)
            return rdsbk_error_oom();
        rdsbk_topology_account(t, account, &profile, &role_arn);
        if (profile)
            cJSON_AddStringToObject(o, "profile", profile);
        if (role_arn)
            cJSON_AddStringToObject(o, "role_arn", role_arn);
        cJSON_DeleteItemFromObjectCaseSensitive(e->state->accounts, account);
        cJSON_AddItemToObject(e->state->accounts, account, o);
    }
    return 0;
}

int rdsbk_engine_client(struct rdsbk_client **out, struct rdsbk_engine *e, const char *account,
                        const char *region) {
    return rdsbk_client_set_get(out, e->clients, account, region);
}

/* ---- account checks --------------------------------------------------------------------- */

struct s_verify {
    struct rdsbk_engine *e;
    const char **accounts;
    bool removed; /* accounts only the state still has resources in (removed sources) */
};

static int s_verify_one(size_t i, void *payload) {
    struct s_verify *v = payload;
    const char *account = v->accounts[i];
    struct rdsbk_client *client = NULL;
    char found[13];
    int rc = rdsbk_engine_client(&client, v->e, account, v->e->topo->backup.region);

    if (rc)
        return rc;
    if (!v->removed)
        return rdsbk_client_verify_account(client, account, NULL);
    /* The names of a source's resources are the same in every source account: with credentials
     * for another account, its removal would delete that account's pipeline. */
    rc = rdsbk_client_verify_account(client, NULL, found);
    if (rc == 0 && strcmp(found, account) != 0)
        rc = rdsbk_error_set(
            RDSBK_EAUTH,
            "the state has resources in account %s, which the topology no longer names, and "
            "reaches it with %s, which belongs to account %s: fix that profile, or forget "
            "those resources with `state rm`",
            account, rdsbk_credentials_provider_describe(rdsbk_client_credentials(client)), found);
    return rc;
}

/* STS GetCallerIdentity for each account, in parallel: the credentials are theirs. */
static int s_verify_accounts(struct rdsbk_engine *e, const char **accounts, size_t n,
                             bool removed) {
    struct rdsbk_task_result *results = calloc(n ? n : 1, sizeof(*results));
    struct s_verify v = {e, accounts, removed};
    struct rdsbk_pool_tasks tasks = {0};
    int *own = results ? rdsbk_pool_own_groups(n) : NULL;
    int rc;

    tasks.n = n;
    tasks.group_of = own;
    tasks.n_groups = (int)n;
    rc = own ? rdsbk_pool_run(results, &tasks, e->opts->parallelism, false, s_verify_one, &v)
             : rdsbk_error_oom();
    free(own);
    free(results);
    return rc;
}

/* Adds `account` to the n accounts in `list` unless it is there. */
static void s_add_account(const char **list, size_t *n, const char *account) {
    for (size_t j = 0; j < *n; j++)
        if (strcmp(list[j], account) == 0)
            return;
    list[(*n)++] = account;
}

/* Adds the accounts the topology names, the backup account first. */
static void s_add_topology_accounts(const char **list, size_t *n, const struct rdsbk_topology *t) {
    s_add_account(list, n, t->backup.account);
    for (size_t i = 0; i < t->n_sources; i++)
        s_add_account(list, n, t->sources[i].account);
}

/* Before anything else, the accounts the topology names. */
static int s_verify_topology_accounts(struct rdsbk_engine *e) {
    const char **accounts = calloc(e->topo->n_sources + 1, sizeof(*accounts));
    size_t n = 0;
    int rc;

    if (!accounts)
        return rdsbk_error_oom();
    s_add_topology_accounts(accounts, &n, e->topo);
    rc = s_verify_accounts(e, accounts, n, false);
    free(accounts);
    return rc;
}

/* Then those the state still has resources in and the topology no longer names (a removed
 * source, a former backup account): their resources are about to be deleted there. They come
 * after the topology's in one list. */
static int s_verify_removed_accounts(struct rdsbk_engine *e) {
    const struct rdsbk_state *st = e->state;
    const char **accounts = calloc(e->topo->n_sources + 1 + st->n_resources, sizeof(*accounts));
    size_t named = 0;
    size_t n;
    int rc = 0;

    if (!accounts)
        return rdsbk_error_oom();
    s_add_topology_accounts(accounts, &named, e->topo);
    n = named;
    for (size_t i = 0; i < st->n_resources; i++)
        s_add_account(accounts, &n, st->resources[i].account);
    if (n > named)
        rc = s_verify_accounts(e, accounts + named, n - named, true);
    free(accounts);
    return rc;
}

/* ---- open / close ----------------------------------------------------------------------- */

static int s_verify_job(void *e) {
    return s_verify_topology_accounts(e);
}

/*
 * The check of the accounts the topology names (GetCallerIdentity for each, a round of calls)
 * needs only the topology. It goes out first, and the state and the model are made while it is
 * answered: 20-30 ms of CPU at 50 sources. Accounts only the state still has resources in are
 * reached as it remembers them, so they are checked once it is loaded (a round more, only when a
 * source was removed).
 */
int rdsbk_engine_open(struct rdsbk_engine *e, const struct rdsbk_topology *topo,
                      const struct rdsbk_engine_options *opts, const char *operation,
                      bool need_state) {
    struct rdsbk_job verify = {0};
    int verify_rc;
    int rc;

    memset(e, 0, sizeof(*e));
    e->topo = topo;
    e->opts = opts;
    pthread_mutex_init(&e->state_lock, NULL);
    pthread_mutex_init(&e->out_lock, NULL);
    e->state_ready = true;
    e->forced_threads = (int)rdsbk_env_positive("RDSBK_MAX_THREADS", RDSBK_POOL_MAX_THREADS);

    rc = rdsbk_state_lock(&e->lock, opts->state_path, operation, opts->lock_timeout_s);
    if (rc)
        return rc;
    rc = rdsbk_http_new(&e->http, NULL);
    if (rc)
        return rc;
    rc = rdsbk_client_set_new(&e->clients, topo, e->http, s_remembered_account, e);
    if (rc)
        return rc;
    rdsbk_job_start(&verify, s_verify_job, e);

    rc = rdsbk_state_load(&e->state, opts->state_path, topo->stack);
    if (rc == RDSBK_ENOTFOUND && !need_state)
        rc = rdsbk_state_new(&e->state, topo->stack);
    if (!rc)
        rc = s_remember_accounts(e);
    if (!rc)
        rc = rdsbk_model_build(&e->graph, topo);
    verify_rc = rdsbk_job_join(&verify);
    if (!rc && verify_rc) { /* the opening's own error comes first */
        rdsbk_error_restore(&verify.error);
        rc = verify_rc;
    }
    if (!rc)
        rc = s_verify_removed_accounts(e);
    return rc;
}

static void s_change_clean_up(struct rdsbk_change *c) {
    free(c->address);
    free(c->region);
    free(c->name);
    free(c->id);
    cJSON_Delete(c->actual);
    cJSON_Delete(c->desired);
    cJSON_Delete(c->changed);
    free(c->deps);
    for (size_t i = 0; i < c->n_state_deps; i++)
        free(c->state_deps[i]);
    free(c->state_deps);
}

void rdsbk_engine_close(struct rdsbk_engine *e) {
    for (size_t i = 0; i < e->n_changes; i++)
        s_change_clean_up(&e->changes[i]);
    free(e->changes);
    free(e->group_of);
    rdsbk_client_set_free(e->clients);
    rdsbk_http_free(e->http);
    rdsbk_graph_free(e->graph);
    rdsbk_state_free(e->state);
    rdsbk_state_unlock(e->lock);
    if (e->state_ready) {
        pthread_mutex_destroy(&e->state_lock);
        pthread_mutex_destroy(&e->out_lock);
    }
    memset(e, 0, sizeof(*e));
}

/*
 * Memory bounds the requests in flight, and the stack's size bounds the memory. The peaks
 * measured over apply, no-op plan, apply after a change and destroy (bench/RESULTS.md) come to
 * about 11 MB whatever the stack (the shared libraries, the process's fixed part), 13 KB per
 * resource (its state, plan and desired attributes) and 64 KB per thread in flight (a stack, a
 * curl handle and its receive buffer, a request and its reply): 21.7 MB for 228 resources (10
 * sources) with 128 threads, 28.9 MB for 1,108 (50 sources) with 64 and 31.9 MB with 128. The
 * threads get what is left of 31 MB, 1 MB under the 32 MB the benchmark allows: 128 up to 945
 * resources (42 sources), 94 for 50 sources, never fewer than 64. RDSBK_MAX_THREADS sets the
 * number instead (1 to RDSBK_POOL_MAX_THREADS), for a machine with less memory or more.
 */
#define S_DEFAULT_MAX_THREADS 128

int rdsbk_engine_max_threads(const struct rdsbk_engine *e) {
    size_t resources = e->graph ? e->graph->n_resources : 0;
    long threads;

    if (e->forced_threads > 0)
        return e->forced_threads;
    if (e->state && e->state->n_resources > resources)
        resources = e->state->n_resources;
    threads = (20L * 1024 - 13L * (long)resources) / 64; /* KB: (31 MB - 11 MB) left */
    if (threads < 64)
        return 64;
    return threads > S_DEFAULT_MAX_THREADS ? S_DEFAULT_MAX_THREADS : (int)threads;
}

/* ---- the change list -------------------------------------------------------------------- */

static struct rdsbk_change *s_find_change(const struct rdsbk_engine *e, const char *address) {
    return rdsbk_sorted_find(e->changes, e->n_changes, sizeof(*e->changes),
                             offsetof(struct rdsbk_change, address), address);
}

static int s_dup_into(char **dst, const char *src) {
    *dst = src ? strdup(src) : NULL;
    return src && !*dst ? -1 : 0;
}

/*
 * The --parallelism groups. AWS throttles each service's API per account, and a regional
 * service's per Region too: an account's IAM calls share a group, its EventBridge calls in one
 * Region another, its Lambda calls a third, so one account's roles, rules and functions go side
 * by side and sources in different accounts do not slow each other down.
 */
static void s_throttle_key(char *key, size_t size, const struct rdsbk_change *c) {
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(c->type);

    snprintf(key, size, "%s %s %s", c->account, ops->service, ops->global ? "" : c->region);
}

static int s_group_by_throttle(struct rdsbk_engine *e) {
    size_t n = e->n_changes ? e->n_changes : 1;
    char(*keys)[128] = calloc(n, sizeof(*keys));
    char key[sizeof(*keys)];

    e->group_of = calloc(n, sizeof(*e->group_of));
    if (!keys || !e->group_of) {
        free(keys);
        return rdsbk_error_oom();
    }
    e->n_groups = 0;
    for (size_t i = 0; i < e->n_changes; i++) {
        int g = 0;
        s_throttle_key(key, sizeof(key), &e->changes[i]);
        while (g < e->n_groups && strcmp(keys[g], key) != 0)
            g++;
        if (g == e->n_groups)
            memcpy(keys[e->n_groups++], key, sizeof(key));
        e->group_of[i] = g;
    }
    free(keys);
    return 0;
}

/* Merges the graph and the state (both sorted by address) into e->changes. */
static int s_build_changes(struct rdsbk_engine *e, bool destroy) {
    const struct rdsbk_graph *g = e->graph;
    const struct rdsbk_state *st = e->state;
    size_t cap = g->n_resources + st->n_resources;
    size_t i = 0;
    size_t j = 0;

    e->changes = calloc(cap ? cap : 1, sizeof(*e->changes));
    if (!e->changes)
        return rdsbk_error_oom();
    while (i < g->n_resources || j < st->n_resources) {
        const struct rdsbk_resource *r = i < g->n_resources ? &g->resources[i] : NULL;
        const struct rdsbk_state_resource *s = j < st->n_resources ? &st->resources[j] : NULL;
        struct rdsbk_change *c = &e->changes[e->n_changes];
        int cmp = !r ? 1 : !s ? -1 : strcmp(r->address, s->address);
        int oom = 0;

        if (cmp <= 0 && r) {
            c->res = destroy ? NULL : r;
            c->node = r;
            c->hint = r->desired;
            c->type = r->type;
            snprintf(c->account, sizeof(c->account), "%s", r->account);
            oom |= s_dup_into(&c->address, r->address) | s_dup_into(&c->region, r->region) |
                   s_dup_into(&c->name, r->name);
            i++;
        }
        if (cmp >= 0 && s) {
            int type = rdsbk_resource_type_from_name(s->type);
            if (type < 0) {
                return rdsbk_error_set(RDSBK_EINVALID,
                                       "%s: unknown resource type '%s' in the "
                                       "state",
                                       s->address, s->type);
            }
            c->in_state = true;
            c->prior = s->attributes;
            if (cmp > 0) {
                const cJSON *name = cJSON_GetObjectItem(s->attributes, "name");
                c->type = (enum rdsbk_resource_type)type;
                snprintf(c->account, sizeof(c->account), "%s", s->account);
                oom |= s_dup_into(&c->address, s->address) | s_dup_into(&c->region, s->region);
                oom |= s_dup_into(&c->name, cJSON_IsString(name) ? name->valuestring : s->id);
            }
            oom |= s_dup_into(&c->id, s->id && s->id[0] ? s->id : NULL);
            j++;
        }
        e->n_changes++;
        if (oom)
            return rdsbk_error_oom();
    }
    return s_group_by_throttle(e);
}

/* ---- refresh ---------------------------------------------------------------------------- */

/* The reference a resource's AWS calls need. */
void rdsbk_engine_ref(struct rdsbk_resource_ref *ref, const struct rdsbk_engine *e,
                      const struct rdsbk_change *c, const cJSON *attributes) {
    memset(ref, 0, sizeof(*ref));
    ref->type = c->type;
    ref->account = c->account;
    ref->region = c->region;
    ref->name = c->name;
    ref->id = c->id;
    ref->stack = e->topo->stack;
    ref->attributes = attributes;
}

static const cJSON *s_known_attributes(const struct rdsbk_change *c) {
    static cJSON s_empty = {0};
    if (c->prior)
        return c->prior;
    if (c->hint)
        return c->hint;
    s_empty.type = cJSON_Object;
    return &s_empty;
}

/*
 * Resources that live inside another (a role's inline policy, a rule's target, a statement of a
 * function's policy) cannot exist without it. When neither is in the state (the first apply, a
 * new source, destroy --discover), the inner one is read only after the outer one was found:
 * about half the reads of a first apply are not made. In the state, both are read side by side.
 */
static int s_container_type(enum rdsbk_resource_type type) {
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(type);

    return ops->contained ? (int)ops->container : -1;
}

/* The index of the change that contains change `i` and must be read first, or n_changes. */
static size_t s_container(const struct rdsbk_engine *e, size_t i) {
    const struct rdsbk_change *c = &e->changes[i];
    int type = s_container_type(c->type);

    if (type < 0 || c->in_state || !c->node)
        return e->n_changes;
    for (size_t d = 0; d < c->node->n_deps; d++) {
        const struct rdsbk_change *dep = s_find_change(e, c->node->deps[d]);
        if (dep && (int)dep->type == type)
            return (size_t)(dep - e->changes);
    }
    return e->n_changes;
}

struct s_refresh {
    struct rdsbk_engine *e;
    const size_t *container;     /* per change: s_container */
    struct rdsbk_res_memo *memo; /* policies read once for all their statements */
};

/*
 * What the state records is taken as it is, not read: by plan --no-refresh (which reads nothing
 * else either), and by destroy unless --refresh. Destroy deletes it anyway, and a deletion of
 * what is already gone succeeds, so a read would only make the plan exact at the price of one
 * call per resource (half of destroy's calls). What the state does not record is still read:
 * destroy must find what a killed run created and did not record.
 */
static bool s_trusts_state(const struct rdsbk_engine *e) {
    return !e->opts->refresh || (e->destroy && !e->opts->refresh_known);
}

static int s_refresh_one(size_t i, void *payload) {
    const struct s_refresh *r = payload;
    struct rdsbk_engine *e = r->e;
    struct rdsbk_change *c = &e->changes[i];
    struct rdsbk_client *client = NULL;
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(c->type);
    struct rdsbk_resource_ref ref;
    char *id = NULL;
    int rc;

    if (c->prior && s_trusts_state(e))
        return 0; /* taken from the state by s_refresh */
    if (r->container[i] < e->n_changes && !e->changes[r->container[i]].actual) {
        c->actual = NULL; /* its container does not exist: neither does it */
        return 0;
    }
    rc = rdsbk_engine_client(&client, e, c->account, c->region);
    if (rc)
        return rc;
    rdsbk_engine_ref(&ref, e, c, s_known_attributes(c));
    ref.memo = r->memo;
    rc = ops->read(&c->actual, &id, client, &ref);
    if (rc == RDSBK_ENOTFOUND) {
        c->actual = NULL;
        return 0;
    }
    if (rc)
        return rc;
    if (id) {
        free(c->id);
        c->id = id;
    }
    return 0;
}

/* Whether `sid` is the statement of one of this run's bus permissions (desired or recorded). */
static bool s_bus_statement_ours(const struct rdsbk_engine *e, const char *sid) {
    for (size_t i = 0; i < e->n_changes; i++)
        if (e->changes[i].type == RDSBK_RT_EVENTS_PERMISSION && e->changes[i].name &&
            strcmp(e->changes[i].name, sid) == 0)
            return true;
    return false;
}

/*
 * The build checks that this stack's statements on the backup bus fit EventBridge's policy
 * quota by themselves, but other stacks, or hands, may hold statements on the same bus, and a
 * PutPermission past the quota fails half-way through an apply. When the run adds statements,
 * the policy as the refresh read it (through its memo: no call of its own) is measured with the
 * statements of others and all of this stack's.
 */
static int s_check_bus_growth(struct rdsbk_engine *e, struct rdsbk_res_memo *memo) {
    const struct rdsbk_change *bus = NULL;
    struct rdsbk_resource_ref ref;
    struct rdsbk_client *client = NULL;
    size_t ours = 0;
    size_t size = rdsbk_model_bus_policy_size(e->graph, &ours);
    size_t others = 0;
    char *text = NULL;
    cJSON *policy = NULL;
    const cJSON *st;
    int rc;

    for (size_t i = 0; i < e->n_changes; i++) {
        const struct rdsbk_change *c = &e->changes[i];
        if (c->type == RDSBK_RT_EVENTS_PERMISSION && c->res && !c->actual)
            bus = c; /* a statement to add */
    }
    if (!bus || rdsbk_engine_client(&client, e, bus->account, bus->region) != 0)
        return 0;
    rdsbk_engine_ref(&ref, e, bus, bus->res->desired);
    ref.memo = memo;
    rc = rdsbk_res_bus_policy(&text, client, &ref);
    if (rc == 0 && text && !(policy = cJSON_Parse(text)))
        rc = rdsbk_error_set(RDSBK_EINVALID, "the backup event bus's policy is not JSON");
    cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(policy, "Statement")) {
        const char *sid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "Sid"));
        char *one;

        if (sid && s_bus_statement_ours(e, sid))
            continue; /* counted as it will be, or deleted */
        if (!(one = cJSON_PrintUnformatted(st))) {
            rc = rdsbk_error_oom();
            break;
        }
        size += (ours + others++ > 0) + strlen(one);
        free(one);
    }
    if (rc == 0 && size > (size_t)e->graph->bus_policy_quota)
        rc = rdsbk_error_set(RDSBK_EINVALID,
                             "the backup account's event bus policy would be %zu characters with "
                             "the %zu statement(s) of other stacks or hands already there and "
                             "this stack's %zu: EventBridge's \"Event bus policy size\" is %d; "
                             "raise it in Service Quotas and set backup.bus_policy_quota, or "
                             "remove statements no longer needed",
                             size, others, ours, e->graph->bus_policy_quota);
    free(text);
    cJSON_Delete(policy);
    return rc;
}

static int s_refresh(struct rdsbk_engine *e) {
    size_t n = e->n_changes ? e->n_changes : 1;
    struct rdsbk_task_result *results = NULL;
    size_t *container = NULL;
    size_t **deps = NULL;
    size_t *n_deps = NULL;
    unsigned *calls = NULL; /* per change: the calls of its read, so that long reads start first */
    struct rdsbk_pool_tasks tasks = {0};
    struct s_refresh r = {e, NULL, NULL};
    int rc;

    if (s_trusts_state(e)) {
        for (size_t i = 0; i < e->n_changes; i++) {
            struct rdsbk_change *c = &e->changes[i];
            if (c->prior && !(c->actual = cJSON_Duplicate(c->prior, 1)))
                return rdsbk_error_oom();
        }
    }
    if (!e->opts->refresh)
        return 0;
    results = calloc(n, sizeof(*results));
    container = calloc(n, sizeof(*container));
    deps = calloc(n, sizeof(*deps));
    n_deps = calloc(n, sizeof(*n_deps));
    calls = calloc(n, sizeof(*calls));
    r.memo = rdsbk_res_memo_new();
    if (!results || !container || !deps || !n_deps || !calls || !r.memo) {
        rc = rdsbk_error_oom();
        goto cleanup;
    }
    for (size_t i = 0; i < e->n_changes; i++) {
        calls[i] = e->changes[i].actual ? 0 : rdsbk_resource_ops(e->changes[i].type)->read_calls;
        container[i] = s_container(e, i);
        if (container[i] < e->n_changes) {
            deps[i] = &container[i];
            n_deps[i] = 1;
        }
    }
    r.container = container;
    tasks.n = e->n_changes;
    tasks.deps = deps;
    tasks.n_deps = n_deps;
    tasks.calls = calls;
    tasks.group_of = e->group_of;
    tasks.n_groups = e->n_groups;
    tasks.max_threads = rdsbk_engine_max_threads(e);
    rc = rdsbk_pool_run(results, &tasks, e->opts->parallelism, true, s_refresh_one, &r);
    for (size_t i = 0; rc && i < e->n_changes; i++) {
        if (results[i].status == RDSBK_TASK_FAILED) {
            /* the pool restored this task's error, the first failure in change order */
            struct rdsbk_error err;
            char message[sizeof(err.message) + 512];
            rdsbk_error_save(&err);
            snprintf(message, sizeof(message), "reading %s: %s", e->changes[i].address,
                     err.message);
            rc = rdsbk_error_set_aws(err.code, err.http_status, err.aws_code, err.request_id,
                                     message);
            break;
        }
    }

    if (rc == 0 && !e->destroy)
        rc = s_check_bus_growth(e, r.memo);

cleanup:
    rdsbk_res_memo_free(r.memo);
    free(results);
    free(container);
    free(deps);
    free(n_deps);
    free(calls);
    return rc;
}

/* ---- actions ---------------------------------------------------------------------------- */

static bool s_listed(const char *const *list, const char *name) {
    for (; list && *list; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

/* References resolve to what the referenced resource has now, unless apply will (re)create it. */
static const char *s_lookup(const char *address, const char *attr, void *payload) {
    struct rdsbk_engine *e = payload;
    const struct rdsbk_change *c = s_find_change(e, address);
    const cJSON *v;

    if (!c || !c->actual || c->action == RDSBK_ACTION_CREATE || c->action == RDSBK_ACTION_REPLACE)
        return NULL;
    v = cJSON_GetObjectItemCaseSensitive(c->actual, attr);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool s_has_reference(const cJSON *v) {
    char *text = cJSON_PrintUnformatted(v);
    bool found = text && strstr(text, "${") && strchr(text, '#');
    free(text);
    return found;
}

bool rdsbk_engine_matches(enum rdsbk_resource_type type, const cJSON *desired,
                          const cJSON *actual) {
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(type);
    const cJSON *attr;

    cJSON_ArrayForEach(attr, desired) {
        if (!s_listed(ops->no_diff, attr->string) &&
            !rdsbk_canon_equal(attr, cJSON_GetObjectItemCaseSensitive(actual, attr->string)))
            return false;
    }
    return true;
}

static int s_decide(struct rdsbk_engine *e, struct rdsbk_change *c) {
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(c->type);
    const cJSON *attr;

    c->changed = cJSON_CreateArray();
    if (!c->changed)
        return rdsbk_error_oom();
    if (!c->res) {
        c->action = c->actual     ? RDSBK_ACTION_DELETE
                    : c->in_state ? RDSBK_ACTION_FORGET
                                  : RDSBK_ACTION_NOOP;
        return 0;
    }
    c->desired = rdsbk_model_resolve(c->res->desired, s_lookup, e, &c->unknown);
    if (!c->desired)
        return rdsbk_error_oom();
    if (!c->actual) {
        c->action = RDSBK_ACTION_CREATE;
        return 0;
    }
    cJSON_ArrayForEach(attr, c->desired) {
        const cJSON *have = cJSON_GetObjectItemCaseSensitive(c->actual, attr->string);
        if (s_listed(ops->no_diff, attr->string))
            continue;
        if (!s_has_reference(attr) && rdsbk_canon_equal(attr, have))
            continue;
        cJSON_AddItemToArray(c->changed, cJSON_CreateString(attr->string));
        if (s_listed(ops->force_new, attr->string) && !c->forces[0])
            snprintf(c->forces, sizeof(c->forces), "%s", attr->string);
    }
    if (c->forces[0])
        c->action = RDSBK_ACTION_REPLACE;
    else if (cJSON_GetArraySize(c->changed) > 0)
        c->action = RDSBK_ACTION_UPDATE;
    else if (!c->in_state)
        c->action = RDSBK_ACTION_ADOPT;
    else
        c->action = RDSBK_ACTION_NOOP;
    return 0;
}

static bool s_goes(const struct rdsbk_change *c) {
    return c->action == RDSBK_ACTION_DELETE || c->action == RDSBK_ACTION_FORGET;
}

/* Deleting a Lambda function deletes its resource policy: a permission deleted in the same run
 * needs no RemovePermission, only its function's deletion. (A rule refuses deletion while it has
 * targets, a role while it has inline policies: those go first, with calls of their own.) */
static bool s_taken_along(const struct rdsbk_change *c, const struct rdsbk_change *container) {
    return c->action == RDSBK_ACTION_DELETE && container->action == RDSBK_ACTION_DELETE &&
           rdsbk_resource_ops(c->type)->deleted_with_container &&
           s_container_type(c->type) == (int)container->type;
}

/*
 * Calls `fn` for each apply-time edge "`waiter` runs after `first`". What is created or updated
 * waits for everything it refers to. Deletions wait only where AWS needs an order: a rule after
 * its targets (DeleteRule refuses while it has any), a role after its inline policies
 * (DeleteConflict); a permission its function takes along is recorded after that function's
 * deletion. Everything else goes side by side: AWS lets a key be scheduled for deletion while its
 * policy names roles, a role be deleted while a function or a target uses it, a policy name a key
 * that is gone.
 */
static void s_edges(struct rdsbk_engine *e, void (*fn)(struct rdsbk_engine *, size_t, size_t)) {
    for (size_t i = 0; i < e->n_changes; i++) {
        struct rdsbk_change *c = &e->changes[i];
        for (size_t d = 0; d < c->n_state_deps; d++) {
            struct rdsbk_change *dep = s_find_change(e, c->state_deps[d]);
            size_t j = dep ? (size_t)(dep - e->changes) : 0;
            if (!dep)
                continue;
            if (!s_goes(c))
                fn(e, i, j); /* created or updated after what it needs */
            else if (c->taken_along && s_container_type(c->type) == (int)dep->type)
                fn(e, i, j); /* recorded once its container took it along */
            else if (s_goes(dep) && s_container_type(c->type) == (int)dep->type)
                fn(e, j, i); /* a container goes after what it contains */
        }
    }
}

static void s_count_edge(struct rdsbk_engine *e, size_t waiter, size_t first) {
    (void)first;
    e->changes[waiter].n_deps++;
}

static void s_add_edge(struct rdsbk_engine *e, size_t waiter, size_t first) {
    e->changes[waiter].deps[e->changes[waiter].n_deps++] = first;
}

/* Apply-time dependencies: creates and updates after what they need; deletes after what needs
 * them is deleted. Counted first, so each list is allocated at its size. */
static int s_link(struct rdsbk_engine *e) {
    for (size_t i = 0; i < e->n_changes; i++) {
        struct rdsbk_change *c = &e->changes[i];
        const struct rdsbk_state_resource *s = rdsbk_state_find(e->state, c->address);
        char *const *deps = c->res ? c->res->deps : s ? s->deps : NULL;
        size_t n = c->res ? c->res->n_deps : s ? s->n_deps : 0;

        c->state_deps = calloc(n ? n : 1, sizeof(*c->state_deps));
        if (!c->state_deps)
            return rdsbk_error_oom();
        for (size_t d = 0; d < n; d++) {
            c->state_deps[c->n_state_deps] = strdup(deps[d]);
            if (!c->state_deps[c->n_state_deps])
                return rdsbk_error_oom();
            c->n_state_deps++;
        }
    }
    for (size_t i = 0; i < e->n_changes; i++) {
        struct rdsbk_change *c = &e->changes[i];
        for (size_t d = 0; d < c->n_state_deps && !c->taken_along; d++) {
            const struct rdsbk_change *dep = s_find_change(e, c->state_deps[d]);
            c->taken_along = dep && s_taken_along(c, dep);
        }
    }
    s_edges(e, s_count_edge);
    for (size_t i = 0; i < e->n_changes; i++) {
        e->changes[i].deps =
            calloc(e->changes[i].n_deps ? e->changes[i].n_deps : 1, sizeof(*e->changes[i].deps));
        if (!e->changes[i].deps)
            return rdsbk_error_oom();
        e->changes[i].n_deps = 0;
    }
    s_edges(e, s_add_edge);
    return 0;
}

int rdsbk_engine_compute(struct rdsbk_engine *e, bool destroy) {
    size_t *order = NULL;
    int rc;

    e->destroy = destroy;
    rc = destroy ? 0 : rdsbk_model_check_quotas(e->graph); /* destroy writes no document */
    if (rc)
        return rc;
    rc = s_build_changes(e, destroy);
    if (rc)
        return rc;
    rc = s_refresh(e);
    if (rc)
        return rc;
    /* decide in dependency order, so references see their target's action */
    rc = rdsbk_graph_topo_order(&order, e->graph);
    if (rc)
        return rc;
    for (size_t k = 0; k < e->graph->n_resources; k++) {
        struct rdsbk_change *c = s_find_change(e, e->graph->resources[order[k]].address);
        rc = s_decide(e, c);
        if (rc)
            goto cleanup;
    }
    for (size_t i = 0; i < e->n_changes; i++) {
        if (!e->changes[i].changed) {
            rc = s_decide(e, &e->changes[i]);
            if (rc)
                goto cleanup;
        }
    }
    rc = s_link(e);

cleanup:
    free(order);
    return rc;
}

struct rdsbk_plan_counts rdsbk_engine_count(const struct rdsbk_engine *e) {
    struct rdsbk_plan_counts n = {0, 0, 0, 0, 0};

    for (size_t i = 0; i < e->n_changes; i++) {
        switch (e->changes[i].action) {
        case RDSBK_ACTION_CREATE:
            n.add++;
            break;
        case RDSBK_ACTION_UPDATE:
            n.change++;
            break;
        case RDSBK_ACTION_REPLACE:
            n.add++;
            n.destroy++;
            break;
        case RDSBK_ACTION_DELETE:
            n.destroy++;
            break;
        case RDSBK_ACTION_ADOPT:
            n.adopt++;
            break;
        case RDSBK_ACTION_FORGET:
            n.forget++;
            break;
        default:
            break;
        }
    }
    return n;
}
