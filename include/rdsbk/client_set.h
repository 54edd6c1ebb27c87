#ifndef RDSBK_CLIENT_SET_H
#define RDSBK_CLIENT_SET_H

#include "rdsbk/client.h"
#include "rdsbk/config.h"

#include <stdbool.h>

/*
 * The clients of one topology's accounts: one per account and Region, made on first use from the
 * topology's profile, role_arn and endpoints (session rdsbk-<stack>); the Regions of one account
 * share its credentials provider. Thread-safe. Used by the engine and by status/drill.
 */
struct rdsbk_client_set;

/* How to reach an account the topology does not name (the engine remembers removed sources'
 * accounts in the state). Returns false when it does not know the account either. */
typedef bool (*rdsbk_account_fallback_fn)(const char *account, const char **profile,
                                          const char **role_arn, void *payload);

/* `topo` and `http` are borrowed and must outlive the set; `fallback` may be NULL. Returns 0 and
 * *out (free with rdsbk_client_set_free) or RDSBK_ENOMEM. */
int rdsbk_client_set_new(struct rdsbk_client_set **out, const struct rdsbk_topology *topo,
                         struct rdsbk_http *http, rdsbk_account_fallback_fn fallback,
                         void *payload);

/* Frees every client; NULL is a no-op. */
void rdsbk_client_set_free(struct rdsbk_client_set *set);

/* *out = the client for `account` in `region` (borrowed from the set). Returns 0, or the error of
 * making it (bad endpoint, credentials that cannot be set up, RDSBK_ENOMEM). */
int rdsbk_client_set_get(struct rdsbk_client **out, struct rdsbk_client_set *set,
                         const char *account, const char *region);

/* The profile and role_arn the topology gives `account` (the backup, else the first source naming
 * it, else the first OU source administered from it); false when it names no such account. */
bool rdsbk_topology_account(const struct rdsbk_topology *topo, const char *account,
                            const char **profile, const char **role_arn);

#endif
