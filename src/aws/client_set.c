/* The clients of one topology's accounts, one per account and Region, made on first use. */
#include "rdsbk/client_set.h"
#include "rdsbk/error.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct s_entry {
    char account[RDSBK_ACCOUNT_LEN + 1];
    char *region;
    struct rdsbk_client *client;
};

struct rdsbk_client_set {
    const struct rdsbk_topology *topo;
    struct rdsbk_http *http;
    rdsbk_account_fallback_fn fallback;
    void *payload;
    struct s_entry *entries;
    size_t n;
    pthread_mutex_t lock;
};

bool rdsbk_topology_account(const struct rdsbk_topology *t, const char *account,
                            const char **profile, const char **role_arn) {
    *profile = NULL;
    *role_arn = NULL;
    if (strcmp(account, t->backup.account) == 0) {
        *profile = t->backup.profile;
        *role_arn = t->backup.role_arn;
        return true;
    }
    for (size_t i = 0; i < t->n_sources + t->n_ou_sources; i++) {
        /* an OU source's account is the one that administers its StackSet */
        const struct rdsbk_source *s =
            i < t->n_sources ? &t->sources[i] : &t->ou_sources[i - t->n_sources];
        if (strcmp(s->account, account) == 0) {
            *profile = s->profile;
            *role_arn = s->role_arn;
            return true;
        }
    }
    return false;
}

int rdsbk_client_set_new(struct rdsbk_client_set **out, const struct rdsbk_topology *topo,
                         struct rdsbk_http *http, rdsbk_account_fallback_fn fallback,
                         void *payload) {
    struct rdsbk_client_set *set = calloc(1, sizeof(*set));

    *out = NULL;
    if (!set)
        return rdsbk_error_oom();
    set->topo = topo;
    set->http = http;
    set->fallback = fallback;
    set->payload = payload;
    pthread_mutex_init(&set->lock, NULL);
    *out = set;
    return 0;
}

void rdsbk_client_set_free(struct rdsbk_client_set *set) {
    if (!set)
        return;
    /* Regional clients share their base's credentials provider; freeing in reverse creation
     * order releases the base last. */
    for (size_t i = set->n; i > 0; i--) {
        rdsbk_client_free(set->entries[i - 1].client);
        free(set->entries[i - 1].region);
    }
    free(set->entries);
    pthread_mutex_destroy(&set->lock);
    free(set);
}

/* Under the lock: a new client, sharing the credentials of a known Region of the account. */
static int s_new_client(struct rdsbk_client **out, struct rdsbk_client_set *set,
                        const char *account, const char *region) {
    struct rdsbk_client_options o;
    char session[64];

    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->entries[i].account, account) == 0)
            return rdsbk_client_new_for_region(out, set->entries[i].client, region);
    memset(&o, 0, sizeof(o));
    if (!rdsbk_topology_account(set->topo, account, &o.profile, &o.role_arn) &&
        !(set->fallback && set->fallback(account, &o.profile, &o.role_arn, set->payload)))
        return rdsbk_error_set(RDSBK_EINVALID, "account %s is not in the topology", account);
    snprintf(session, sizeof(session), "rdsbk-%s", set->topo->stack);
    o.region = region;
    o.session_name = session;
    o.endpoints = &set->topo->endpoints;
    o.http = set->http;
    return rdsbk_client_new(out, &o);
}

int rdsbk_client_set_get(struct rdsbk_client **out, struct rdsbk_client_set *set,
                         const char *account, const char *region) {
    struct rdsbk_client *client = NULL;
    struct s_entry *grown;
    int rc = 0;

    pthread_mutex_lock(&set->lock);
    for (size_t i = 0; i < set->n; i++) {
        if (strcmp(set->entries[i].account, account) == 0 &&
            strcmp(set->entries[i].region, region) == 0) {
            client = set->entries[i].client;
            goto cleanup;
        }
    }
    rc = s_new_client(&client, set, account, region);
    if (rc)
        goto cleanup;
    grown = realloc(set->entries, (set->n + 1) * sizeof(*grown));
    if (grown) {
        set->entries = grown;
        grown[set->n].region = strdup(region);
    }
    if (!grown || !grown[set->n].region) {
        rdsbk_client_free(client);
        client = NULL;
        rc = rdsbk_error_oom();
        goto cleanup;
    }
    snprintf(set->entries[set->n].account, sizeof(set->entries[set->n].account), "%s", account);
    set->entries[set->n].client = client;
    set->n++;

cleanup:
    pthread_mutex_unlock(&set->lock);
    *out = client;
    return rc;
}
