/*
 * The accounts of a run: how each is reached (the topology's profile or role, or, for an account
 * the topology no longer names, what the state remembers), and the proof, before anything is
 * read or written, that those credentials belong to that account.
 */
#include "engine_internal.h"

#include "rdsbk/client_set.h"
#include "rdsbk/error.h"

#include <stdlib.h>
#include <string.h>

bool rdsbk_engine_remembered_account(const char *account, const char **profile,
                                     const char **role_arn, void *payload) {
    const struct rdsbk_engine *e = payload;
    const cJSON *remembered = cJSON_GetObjectItemCaseSensitive(e->state->accounts, account);

    *profile = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(remembered, "profile"));
    *role_arn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(remembered, "role_arn"));
    return true;
}

int rdsbk_engine_remember_accounts(struct rdsbk_engine *e) {
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

int rdsbk_engine_verify_topology_accounts(void *payload) {
    struct rdsbk_engine *e = payload;
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

/* Those the state still has resources in and the topology no longer names (a removed source, a
 * former backup account): their resources are about to be deleted there. They come after the
 * topology's in one list. */
int rdsbk_engine_verify_removed_accounts(struct rdsbk_engine *e) {
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
