/*
 * Executing a plan: every change runs as soon as the changes it waits for are done, up to
 * --parallelism at once per account and service; the state follows every change (see the writer
 * below), so a run that stops (an error, SIGKILL) is continued by the next one from where it was.
 */
#include "engine_internal.h"
#include "rdsbk/clock.h"
#include "rdsbk/pool.h"
#include "rdsbk/error.h"
#include "rdsbk/log.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void s_progress(struct rdsbk_engine *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void s_progress(struct rdsbk_engine *e, const char *fmt, ...) {
    va_list ap;
    /* with --json, stdout is the machine document: progress goes to stderr */
    FILE *out = e->opts->json ? stderr : stdout;

    pthread_mutex_lock(&e->out_lock);
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
    fflush(out);
    pthread_mutex_unlock(&e->out_lock);
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

/*
 * The state on disk follows the state in memory through one writer thread, so that no change
 * waits on the disk before the changes that depend on it can start. The writer saves whenever
 * something changed, at most every S_SAVE_INTERVAL_MS; a run that is killed loses at most the
 * records of that interval, and the next plan adopts those resources by name (refresh). The end of
 * the run always saves, and a failed write fails the changes recorded after it.
 */
#define S_SAVE_INTERVAL_MS 100

struct rdsbk_saver {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct rdsbk_engine *e;
    long dirty;  /* changes recorded in memory */
    long saved;  /* changes known to be on disk */
    double last; /* when the last write ended (monotonic seconds) */
    bool stop;
    int rc; /* a write failed: the error, kept in `err` */
    struct rdsbk_error err;
};

static void *s_saver_main(void *arg) {
    struct rdsbk_saver *sv = arg;
    struct rdsbk_engine *e = sv->e;

    pthread_mutex_lock(&sv->lock);
    for (;;) {
        long target;
        long serial = 0;
        char *text;
        int rc;

        while (sv->saved == sv->dirty && !sv->stop)
            pthread_cond_wait(&sv->wake, &sv->lock);
        if (sv->saved == sv->dirty)
            break; /* stopped with nothing left: the run ends */
        while (!sv->stop && rdsbk_clock_now() < sv->last + S_SAVE_INTERVAL_MS / 1000.0) {
            double until = sv->last + S_SAVE_INTERVAL_MS / 1000.0;
            struct timespec ts = {(time_t)until, (long)((until - (double)(time_t)until) * 1e9)};
            pthread_cond_timedwait(&sv->wake, &sv->lock, &ts);
        }
        target = sv->dirty; /* every change counted here is in the state already */
        pthread_mutex_unlock(&sv->lock);

        pthread_mutex_lock(&e->state_lock);
        text = rdsbk_state_render(e->state, &serial);
        pthread_mutex_unlock(&e->state_lock);
        rc = text ? rdsbk_state_write(e->state, e->opts->state_path, text, serial) : RDSBK_ENOMEM;
        free(text);

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

static int s_saver_start(struct rdsbk_saver *sv, struct rdsbk_engine *e) {
    pthread_condattr_t attr;

    memset(sv, 0, sizeof(*sv));
    sv->e = e;
    pthread_mutex_init(&sv->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&sv->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&sv->thread, NULL, s_saver_main, sv) != 0) {
        pthread_cond_destroy(&sv->wake);
        pthread_mutex_destroy(&sv->lock);
        return rdsbk_error_set(RDSBK_ERROR, "cannot start the state writer thread");
    }
    e->saver = sv;
    return 0;
}

/* Stops the writer and saves what it had not written yet. Returns 0 or the write's error. */
static int s_saver_finish(struct rdsbk_saver *sv, struct rdsbk_engine *e) {
    int rc = 0;

    pthread_mutex_lock(&sv->lock);
    sv->stop = true;
    pthread_cond_signal(&sv->wake);
    pthread_mutex_unlock(&sv->lock);
    pthread_join(sv->thread, NULL);
    e->saver = NULL;
    if (sv->saved != sv->dirty) /* a write failed: one more try, and its error is the answer */
        rc = rdsbk_state_save(e->state, e->opts->state_path);
    pthread_cond_destroy(&sv->wake);
    pthread_mutex_destroy(&sv->lock);
    return rc;
}

/* Records a change in the state in memory and tells the writer. Returns 0, or the error of a
 * failed write, which stops the run. */
static int s_record(struct rdsbk_engine *e, struct rdsbk_change *c, const cJSON *actual,
                    const char *id) {
    struct rdsbk_saver *sv = e->saver;
    cJSON *attrs = NULL;
    int rc;

    if (actual) {
        attrs = s_state_attributes(c, actual);
        if (!attrs)
            return rdsbk_error_oom();
    }
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

/* References are resolved from the state, where every dependency now is. */
static const char *s_state_lookup(const char *address, const char *attr, void *payload) {
    struct rdsbk_engine *e = payload;
    const struct rdsbk_state_resource *r;
    const cJSON *v;
    const char *value = NULL;

    pthread_mutex_lock(&e->state_lock);
    r = rdsbk_state_find(e->state, address);
    v = r ? cJSON_GetObjectItemCaseSensitive(r->attributes, attr) : NULL;
    if (cJSON_IsString(v))
        value = v->valuestring; /* attributes of a resource another task depends on do not
                                   change while this task runs */
    pthread_mutex_unlock(&e->state_lock);
    return value;
}

static int s_delete(struct rdsbk_engine *e, struct rdsbk_change *c, struct rdsbk_client *client) {
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(c->type);
    struct rdsbk_resource_ref ref;
    const cJSON *known = c->prior ? c->prior : c->actual;
    cJSON *attrs = known ? cJSON_Duplicate(known, 1) : cJSON_CreateObject();
    int rc;

    if (!attrs)
        return rdsbk_error_oom();
    /* the tool's own settings (a key's deletion window) come from the topology when the state
     * does not have them: a resource found by name */
    for (const char *const *k = ops->no_diff; c->hint && k && *k; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->hint, *k);
        if (v && !cJSON_GetObjectItemCaseSensitive(attrs, *k))
            cJSON_AddItemToObject(attrs, *k, cJSON_Duplicate(v, 1));
    }
    rdsbk_engine_ref(&ref, e, c, attrs);
    rc = rdsbk_resource_remove(client, &ref);
    cJSON_Delete(attrs);
    return rc;
}

/*
 * A create refused because the resource exists: its first attempt took effect but the reply was
 * lost (the transport retried), or it appeared since the refresh. Either way it is ours by name:
 * read it and bring it to the desired attributes instead of failing the run.
 */
static int s_adopt_on_conflict(cJSON **after, char **id, struct rdsbk_engine *e,
                               struct rdsbk_change *c, struct rdsbk_client *client,
                               struct rdsbk_resource_ref *ref, const cJSON *desired) {
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(c->type);
    cJSON *existing = NULL;
    int rc;

    s_progress(e, "%s: already exists (%s); adopting it", c->address,
               rdsbk_error_last()->aws_code[0] ? rdsbk_error_last()->aws_code : "conflict");
    rdsbk_error_clear();
    ref->id = NULL;
    rc = ops->read(&existing, id, client, ref);
    if (!rc && rdsbk_engine_matches(c->type, desired, existing)) {
        *after = existing; /* the lost create did exactly what was asked */
        existing = NULL;
    } else if (!rc) {
        rc = ops->update(after, client, ref, desired, existing);
    }
    cJSON_Delete(existing);
    return rc;
}

/* A change carried out and recorded: what it was and what it found are in the state now, and
 * the plan was printed before apply began. Its trees go (about 0.5 MB off a 50-source apply's
 * peak). */
static void s_done_with(struct rdsbk_change *c) {
    cJSON_Delete(c->actual);
    c->actual = NULL;
    cJSON_Delete(c->desired);
    c->desired = NULL;
}

static int s_run(size_t i, void *payload) {
    struct rdsbk_engine *e = payload;
    struct rdsbk_change *c = &e->changes[i];
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(c->type);
    struct rdsbk_client *client = NULL;
    struct rdsbk_resource_ref ref;
    cJSON *desired = NULL;
    cJSON *after = NULL;
    char *id = NULL;
    const char *verb = NULL;
    double start = rdsbk_clock_now();
    int unknown = 0;
    int rc = 0;

    if (c->action == RDSBK_ACTION_NOOP)
        return 0;
    if (c->action == RDSBK_ACTION_ADOPT) {
        rc = s_record(e, c, c->actual, NULL);
        if (!rc)
            s_progress(e, "%s: Adopted into the state [id=%s]", c->address, c->id ? c->id : "");
        return rc;
    }
    if (c->action == RDSBK_ACTION_FORGET) {
        rc = s_record(e, c, NULL, NULL);
        if (!rc)
            s_progress(e, "%s: Removed from the state (it no longer exists)", c->address);
        return rc;
    }
    if (c->taken_along) {
        rc = s_record(e, c, NULL, NULL);
        if (!rc)
            s_progress(e, "%s: Destroyed with the resource it belongs to", c->address);
        s_done_with(c);
        return rc;
    }
    rc = rdsbk_engine_client(&client, e, c->account, c->region);
    if (rc)
        return rc;

    if (c->action == RDSBK_ACTION_DELETE || c->action == RDSBK_ACTION_REPLACE) {
        s_progress(e, "%s: Destroying... [id=%s]", c->address, c->id ? c->id : c->name);
        rc = s_delete(e, c, client);
        if (rc)
            goto cleanup;
        rc = s_record(e, c, NULL, NULL);
        if (rc)
            goto cleanup;
        s_progress(e, "%s: Destruction complete after %.1fs", c->address,
                   rdsbk_clock_now() - start);
        if (c->action == RDSBK_ACTION_DELETE) {
            s_done_with(c);
            goto cleanup;
        }
        free(c->id);
        c->id = NULL;
    }

    desired = rdsbk_model_resolve(c->res->desired, s_state_lookup, e, &unknown);
    if (!desired) {
        rc = rdsbk_error_oom();
        goto cleanup;
    }
    if (unknown) {
        rc = rdsbk_error_set(RDSBK_ERROR, "%s: a value it refers to is still unknown", c->address);
        goto cleanup;
    }
    rdsbk_engine_ref(&ref, e, c, desired);
    if (c->action == RDSBK_ACTION_UPDATE) {
        verb = "Modifications";
        s_progress(e, "%s: Modifying... [id=%s]", c->address, c->id ? c->id : c->name);
        rc = ops->update(&after, client, &ref, desired, c->actual);
    } else {
        verb = "Creation";
        s_progress(e, "%s: Creating...", c->address);
        rc = ops->create(&after, &id, client, &ref, desired);
        if (rc == RDSBK_ECONFLICT)
            rc = s_adopt_on_conflict(&after, &id, e, c, client, &ref, desired);
    }
    if (rc)
        goto cleanup;
    cJSON_Delete(c->desired);
    c->desired = desired;
    desired = NULL;
    rc = s_record(e, c, after, id);
    if (rc)
        goto cleanup;
    s_progress(e, "%s: %s complete after %.1fs [id=%s]", c->address, verb,
               rdsbk_clock_now() - start,
               id      ? id
               : c->id ? c->id
                       : c->name);
    s_done_with(c);

cleanup:
    if (rc)
        s_progress(e, "%s: failed: %s", c->address, rdsbk_error_last()->message);
    cJSON_Delete(desired);
    cJSON_Delete(after);
    free(id);
    return rc;
}

/*
 * Ctrl-C or SIGTERM (a cancelled CI job) while the changes run: no new change starts, the running
 * ones finish and are recorded, and the state is saved, so nothing is left half-done. A second
 * signal has the default effect (SA_RESETHAND): it stops at once.
 */
static volatile sig_atomic_t s_interrupted;

static void s_on_interrupt(int sig) {
    static const char msg[] = "\nInterrupted: no new change starts; waiting for the running ones, "
                              "then saving the state (interrupt again to stop at once)\n";
    (void)sig;
    s_interrupted = 1;
    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
        s_interrupted = 1; /* nothing to do about it in a handler */
}

static void s_catch_interrupts(struct sigaction *old_int, struct sigaction *old_term) {
    struct sigaction sa;

    s_interrupted = 0;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = s_on_interrupt;
    sa.sa_flags = SA_RESETHAND | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, old_int);
    sigaction(SIGTERM, &sa, old_term);
}

int rdsbk_engine_execute(struct rdsbk_engine *e) {
    struct rdsbk_task_result *results = calloc(e->n_changes ? e->n_changes : 1, sizeof(*results));
    size_t **deps = calloc(e->n_changes ? e->n_changes : 1, sizeof(*deps));
    size_t *n_deps = calloc(e->n_changes ? e->n_changes : 1, sizeof(*n_deps));
    unsigned *calls = calloc(e->n_changes ? e->n_changes : 1, sizeof(*calls));
    struct rdsbk_plan_counts done = {0, 0, 0, 0, 0};
    struct rdsbk_saver saver;
    int failed = 0;
    int skipped = 0;
    int rc;

    if (!results || !deps || !n_deps || !calls) {
        free(results);
        free(deps);
        free(n_deps);
        free(calls);
        return rdsbk_error_oom();
    }
    for (size_t i = 0; i < e->n_changes; i++) {
        deps[i] = e->changes[i].deps;
        n_deps[i] = e->changes[i].n_deps;
        calls[i] = e->changes[i].action == RDSBK_ACTION_NOOP || e->changes[i].taken_along
                       ? 0
                       : rdsbk_resource_ops(e->changes[i].type)->write_calls;
        /* a change with nothing to do was printed and is not recorded again: what it read goes
         * before the others start (1,007 of 1,108 resources after a one-attribute change) */
        if (e->changes[i].action == RDSBK_ACTION_NOOP)
            s_done_with(&e->changes[i]);
    }
    rc = s_saver_start(&saver, e);
    if (!rc) {
        int save_rc;
        struct rdsbk_pool_tasks tasks = {.n = e->n_changes,
                                         .deps = deps,
                                         .n_deps = n_deps,
                                         .calls = calls,
                                         .group_of = e->group_of,
                                         .n_groups = e->n_groups,
                                         .max_threads = rdsbk_engine_max_threads(e),
                                         .cancel = &s_interrupted};
        struct sigaction old_int;
        struct sigaction old_term;

        s_catch_interrupts(&old_int, &old_term);
        rc = rdsbk_pool_run(results, &tasks, e->opts->parallelism, false, s_run, e);
        save_rc = s_saver_finish(&saver, e);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        if (!rc && s_interrupted)
            rc = rdsbk_error_set(RDSBK_EINTERRUPTED, "interrupted: the changes that had started "
                                                     "finished, the others did not start");
        if (save_rc) {
            /* the state on disk is behind AWS: say so above any other error */
            struct rdsbk_error err;
            rdsbk_error_save(&err);
            fprintf(stderr,
                    "\nThe state could not be saved: %s\nThe next plan finds the resources "
                    "created since by their names and adopts them.\n",
                    err.message);
            rdsbk_error_restore(&err);
            rc = save_rc;
        }
    }
    for (size_t i = 0; i < e->n_changes; i++) {
        const struct rdsbk_change *c = &e->changes[i];
        if (results[i].status == RDSBK_TASK_FAILED)
            failed++;
        if (results[i].status == RDSBK_TASK_SKIPPED && c->action != RDSBK_ACTION_NOOP)
            skipped++;
        if (results[i].status != RDSBK_TASK_OK)
            continue;
        switch (c->action) {
        case RDSBK_ACTION_CREATE:
            done.add++;
            break;
        case RDSBK_ACTION_UPDATE:
            done.change++;
            break;
        case RDSBK_ACTION_REPLACE:
            done.add++;
            done.destroy++;
            break;
        case RDSBK_ACTION_DELETE:
            done.destroy++;
            break;
        default:
            break;
        }
    }
    free(results);
    free(deps);
    free(n_deps);
    free(calls);
    if (rc) {
        struct rdsbk_error err;
        rdsbk_error_save(&err);
        fprintf(stderr,
                "\nApply failed: %d added, %d changed, %d destroyed before the error; %d "
                "change%s failed, %d not attempted.\nThe state records everything that was "
                "done: run apply again to continue from there.\n",
                done.add, done.change, done.destroy, failed, failed == 1 ? "" : "s", skipped);
        rdsbk_error_restore(&err);
        return rc;
    }
    if (!e->opts->json && e->destroy)
        printf("\nDestroy complete! Resources: %d destroyed.\n", done.destroy);
    else if (!e->opts->json)
        printf("\nApply complete! Resources: %d added, %d changed, %d destroyed.\n", done.add,
               done.change, done.destroy);
    return 0;
}
