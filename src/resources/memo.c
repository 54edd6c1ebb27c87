/*
 * Reads shared by several resources during one refresh: every statement of the event bus policy
 * is a resource, and so is every statement of a Lambda function's policy, but one
 * DescribeEventBus or GetPolicy answers for all of them. The first resource to ask fetches; the
 * others asking for the same document wait for that fetch and get its answer (the text, or the
 * same error). Entries are few (one per bus and per function with permissions): a list will do.
 */
#include "resources_internal.h"

#include "rdsbk/error.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct s_entry {
    struct s_entry *next;
    char *key;
    bool done;
    int rc;
    char *text;               /* when done and rc == 0 */
    struct rdsbk_error error; /* when done and rc != 0 */
};

struct rdsbk_res_memo {
    pthread_mutex_t lock;
    pthread_cond_t done;
    struct s_entry *entries;
};

struct rdsbk_res_memo *rdsbk_res_memo_new(void) {
    struct rdsbk_res_memo *memo = calloc(1, sizeof(*memo));

    if (!memo) {
        rdsbk_error_oom();
        return NULL;
    }
    pthread_mutex_init(&memo->lock, NULL);
    pthread_cond_init(&memo->done, NULL);
    return memo;
}

void rdsbk_res_memo_free(struct rdsbk_res_memo *memo) {
    if (!memo)
        return;
    while (memo->entries) {
        struct s_entry *next = memo->entries->next;
        free(memo->entries->key);
        free(memo->entries->text);
        free(memo->entries);
        memo->entries = next;
    }
    pthread_cond_destroy(&memo->done);
    pthread_mutex_destroy(&memo->lock);
    free(memo);
}

/* The answer of a finished entry, as the fetch gave it: a copy of the text, or its error. */
static int s_answer(char **text_out, const struct s_entry *e) {
    if (e->rc) {
        rdsbk_error_restore(&e->error);
        return e->rc;
    }
    *text_out = strdup(e->text);
    return *text_out ? 0 : rdsbk_error_oom();
}

/* A new entry for `key`, not done yet (caller frees); NULL when out of memory. */
static struct s_entry *s_entry_new(const char *key) {
    struct s_entry *e = calloc(1, sizeof(*e));

    if (e)
        e->key = strdup(key);
    if (e && !e->key) {
        free(e);
        e = NULL;
    }
    return e;
}

/* The entry of `key`, added (and *added_out true) when there is none yet; NULL when out of
 * memory. Under the lock. */
static struct s_entry *s_entry_of(bool *added_out, struct rdsbk_res_memo *memo, const char *key) {
    struct s_entry *e = memo->entries;

    while (e && strcmp(e->key, key) != 0)
        e = e->next;
    *added_out = !e;
    if (!e) {
        e = s_entry_new(key);
        if (e) {
            e->next = memo->entries;
            memo->entries = e;
        }
    }
    return e;
}

/* Fetches the document of a new entry, without the lock (readers of other documents go on
 * meanwhile), and wakes those waiting for it. Called and returns under the lock. */
static void s_fill(struct rdsbk_res_memo *memo, struct s_entry *e, rdsbk_res_fetch_fn fetch,
                   struct rdsbk_client *client, const char *what) {
    int rc;

    pthread_mutex_unlock(&memo->lock);
    rc = fetch(&e->text, client, what);
    pthread_mutex_lock(&memo->lock);
    e->rc = rc;
    if (rc)
        rdsbk_error_save(&e->error);
    e->done = true;
    pthread_cond_broadcast(&memo->done);
}

int rdsbk_res_memo_text(char **text_out, struct rdsbk_res_memo *memo, rdsbk_res_fetch_fn fetch,
                        struct rdsbk_client *client, const char *what, const char *key) {
    struct s_entry *e;
    bool added = false;
    int rc;

    *text_out = NULL;
    if (!memo)
        return fetch(text_out, client, what);
    pthread_mutex_lock(&memo->lock);
    e = s_entry_of(&added, memo, key);
    if (!e) {
        rc = rdsbk_error_oom();
    } else {
        if (added)
            s_fill(memo, e, fetch, client, what);
        while (!e->done)
            pthread_cond_wait(&memo->done, &memo->lock);
        rc = s_answer(text_out, e);
    }
    pthread_mutex_unlock(&memo->lock);
    return rc;
}
