/*
 * The stored state follows the state in memory through one writer thread, so that no change
 * waits on the disk (or S3) before the changes that depend on it can start. The writer saves
 * whenever something changed, at most once per the store's interval (100 ms for a file,
 * RDSBK_STATE_S3_SAVE_INTERVAL_MS for S3, where each write is a PutObject); a run that is killed
 * loses at most the records of that interval, and the next plan adopts those resources by name
 * (refresh). The end of the run always saves, and a failed write fails the changes recorded after
 * it. When the last save to a remote store fails too, the state is kept in a local file, named in
 * the error, so that nothing the run did is lost.
 */
#include "engine_internal.h"

#include "rdsbk/clock.h"
#include "rdsbk/error.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct rdsbk_saver {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct rdsbk_engine *e;
    long dirty;      /* changes recorded in memory */
    long saved;      /* changes known to be on disk */
    double last;     /* when the last write ended (monotonic seconds) */
    double interval; /* seconds between two writes at least */
    bool stop;
    int rc; /* a write failed: the error, kept in `err` */
    struct rdsbk_error err;
};

/* Waits, with sv->lock held, until there is something to save and the interval since the last
 * write has passed; false when the run ends with nothing left to save. */
static bool s_wait_for_work(struct rdsbk_saver *sv) {
    while (sv->saved == sv->dirty && !sv->stop)
        pthread_cond_wait(&sv->wake, &sv->lock);
    if (sv->saved == sv->dirty)
        return false;
    while (!sv->stop && rdsbk_clock_now() < sv->last + sv->interval) {
        double until = sv->last + sv->interval;
        struct timespec ts = {(time_t)until, (long)((until - (double)(time_t)until) * 1e9)};
        pthread_cond_timedwait(&sv->wake, &sv->lock, &ts);
    }
    return true;
}

/* Writes the state as it is in memory now. */
static int s_write(struct rdsbk_engine *e) {
    long serial = 0;
    char *text;
    int rc;

    pthread_mutex_lock(&e->state_lock);
    text = rdsbk_state_render(e->state, &serial);
    pthread_mutex_unlock(&e->state_lock);
    rc = text ? rdsbk_state_store_write(e->store, e->state, text, serial) : RDSBK_ENOMEM;
    free(text);
    return rc;
}

static void *s_saver_main(void *arg) {
    struct rdsbk_saver *sv = arg;

    pthread_mutex_lock(&sv->lock);
    while (s_wait_for_work(sv)) {
        long target = sv->dirty; /* every change counted here is in the state already */
        int rc;

        pthread_mutex_unlock(&sv->lock);
        rc = s_write(sv->e);
        pthread_mutex_lock(&sv->lock);
        sv->last = rdsbk_clock_now();
        if (rc) {
            sv->rc = rc;
            rdsbk_error_save(&sv->err);
            break;
        }
        sv->saved = target;
    }
    pthread_mutex_unlock(&sv->lock);
    return NULL;
}

int rdsbk_saver_start(struct rdsbk_saver **out, struct rdsbk_engine *e) {
    struct rdsbk_saver *sv = calloc(1, sizeof(*sv));
    pthread_condattr_t attr;

    *out = NULL;
    if (!sv)
        return rdsbk_error_oom();
    sv->e = e;
    sv->interval = rdsbk_state_store_save_interval_ms(e->store) / 1000.0;
    pthread_mutex_init(&sv->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&sv->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&sv->thread, NULL, s_saver_main, sv) != 0) {
        pthread_cond_destroy(&sv->wake);
        pthread_mutex_destroy(&sv->lock);
        free(sv);
        return rdsbk_error_set(RDSBK_ERROR, "cannot start the state writer thread");
    }
    e->saver = sv;
    *out = sv;
    return 0;
}

/* The last save to a remote store failed (refused: the state there changed; or S3 could not be
 * reached): the state goes to a local file, and the error says where and what to do. */
static void s_keep_errored(struct rdsbk_engine *e, int rc) {
    struct rdsbk_error err;
    char *path = NULL;

    rdsbk_error_save(&err);
    if (rdsbk_state_keep_errored(&path, e->state, e->topo->path ? e->topo->path : "rdsbk.yaml") ==
        0)
        rdsbk_error_set(rc,
                        "%s; this run's state is kept in %s: compare it with 'rdsbk-provision "
                        "state pull', and if it is right, 'rdsbk-provision state push --force "
                        "%s'",
                        err.message, path, path);
    else
        rdsbk_error_restore(&err);
    free(path);
}

int rdsbk_saver_finish(struct rdsbk_saver *sv, struct rdsbk_engine *e) {
    int rc = 0;

    pthread_mutex_lock(&sv->lock);
    sv->stop = true;
    pthread_cond_signal(&sv->wake);
    pthread_mutex_unlock(&sv->lock);
    pthread_join(sv->thread, NULL);
    e->saver = NULL;
    if (sv->saved != sv->dirty) /* a write failed: one more try, and its error is the answer */
        rc = rdsbk_state_store_save(e->store, e->state);
    if (rc && rdsbk_state_store_remote(e->store))
        s_keep_errored(e, rc);
    pthread_cond_destroy(&sv->wake);
    pthread_mutex_destroy(&sv->lock);
    free(sv);
    return rc;
}

/* What the state keeps of a resource: what AWS reported, plus the tool's own settings. */
static cJSON *s_state_attributes(const struct rdsbk_change *c, const cJSON *actual) {
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(c->type);
    cJSON *attrs = cJSON_Duplicate(actual, 1);

    if (!attrs)
        return NULL;
    for (const char *const *k = ops->no_diff; c->desired && k && *k; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->desired, *k);
        if (v) {
            cJSON_DeleteItemFromObjectCaseSensitive(attrs, *k);
            cJSON_AddItemToObject(attrs, *k, cJSON_Duplicate(v, 1));
        }
    }
    /* the name is kept so a resource dropped from the topology can still be deleted */
    if (!cJSON_GetObjectItemCaseSensitive(attrs, "name") && c->name)
        cJSON_AddStringToObject(attrs, "name", c->name);
    return attrs;
}

/* Puts the change into the state in memory, or takes it out (`attrs` NULL). */
static int s_put(struct rdsbk_engine *e, const struct rdsbk_change *c, cJSON *attrs,
                 const char *id) {
    int rc;

    pthread_mutex_lock(&e->state_lock);
    if (attrs) {
        rc = rdsbk_state_put(e->state, c->address, rdsbk_resource_type_name(c->type), c->account,
                             c->region, id ? id : c->id, attrs, c->state_deps, c->n_state_deps);
    } else {
        rc = rdsbk_state_remove(e->state, c->address);
        if (rc == RDSBK_ENOTFOUND)
            rc = 0;
    }
    pthread_mutex_unlock(&e->state_lock);
    return rc;
}

int rdsbk_saver_record(struct rdsbk_engine *e, struct rdsbk_change *c, const cJSON *actual,
                       const char *id) {
    struct rdsbk_saver *sv = e->saver;
    cJSON *attrs = NULL;
    int rc;

    if (actual) {
        attrs = s_state_attributes(c, actual);
        if (!attrs)
            return rdsbk_error_oom();
    }
    rc = s_put(e, c, attrs, id);
    cJSON_Delete(attrs);
    if (rc)
        return rc;

    pthread_mutex_lock(&sv->lock);
    rc = sv->rc;
    if (rc)
        rdsbk_error_restore(&sv->err);
    else if (sv->dirty == sv->saved) /* the writer waits for a change; otherwise for its time */
        pthread_cond_signal(&sv->wake);
    sv->dirty++;
    pthread_mutex_unlock(&sv->lock);
    return rc;
}
