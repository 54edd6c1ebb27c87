#include "pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct s_pool {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    struct rdsbk_task_result *results;
    size_t n;
    size_t *const *deps;
    const size_t *n_deps;
    char *started;
    size_t finished; /* tasks no longer pending or running */
    bool stop;
    bool keep_going;
    rdsbk_task_fn fn;
    void *payload;
};

/* Under the lock: the next task whose dependencies all succeeded, marking skipped the ones that
 * can never run. Returns n when none is ready now. */
static size_t s_next(struct s_pool *p) {
    for (size_t i = 0; i < p->n; i++) {
        bool ready = true;
        bool doomed = p->stop;

        if (p->started[i])
            continue;
        for (size_t d = 0; d < (p->n_deps ? p->n_deps[i] : 0); d++) {
            enum rdsbk_task_status st = p->results[p->deps[i][d]].status;
            if (st == RDSBK_TASK_FAILED || st == RDSBK_TASK_SKIPPED)
                doomed = true;
            else if (st != RDSBK_TASK_OK)
                ready = false;
        }
        if (doomed) {
            p->started[i] = 1;
            p->results[i].status = RDSBK_TASK_SKIPPED;
            p->finished++;
            pthread_cond_broadcast(&p->changed);
            continue;
        }
        if (ready)
            return i;
    }
    return p->n;
}

static void *s_worker(void *arg) {
    struct s_pool *p = arg;

    pthread_mutex_lock(&p->lock);
    while (p->finished < p->n) {
        size_t task = s_next(p);
        int rc;

        if (task == p->n) {
            if (p->finished < p->n)
                pthread_cond_wait(&p->changed, &p->lock);
            continue;
        }
        p->started[task] = 1;
        pthread_mutex_unlock(&p->lock);

        rdsbk_error_clear();
        rc = p->fn(task, p->payload);

        pthread_mutex_lock(&p->lock);
        if (rc) {
            p->results[task].status = RDSBK_TASK_FAILED;
            rdsbk_error_save(&p->results[task].error);
            if (!p->results[task].error.code)
                p->results[task].error.code = rc;
            if (!p->keep_going)
                p->stop = true;
        } else {
            p->results[task].status = RDSBK_TASK_OK;
        }
        p->finished++;
        pthread_cond_broadcast(&p->changed);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int rdsbk_pool_run(struct rdsbk_task_result *results, size_t n, size_t *const *deps,
                   const size_t *n_deps, int parallelism, bool keep_going, rdsbk_task_fn fn,
                   void *payload) {
    struct s_pool p;
    pthread_t *threads = NULL;
    int n_threads;
    int started = 0;
    int result = 0;

    memset(results, 0, n * sizeof(*results));
    if (n == 0)
        return 0;
    memset(&p, 0, sizeof(p));
    p.results = results;
    p.n = n;
    p.deps = deps;
    p.n_deps = n_deps;
    p.keep_going = keep_going;
    p.fn = fn;
    p.payload = payload;
    p.started = calloc(n, 1);
    n_threads = parallelism < 1 ? 1 : parallelism;
    if ((size_t)n_threads > n)
        n_threads = (int)n;
    threads = calloc((size_t)n_threads, sizeof(*threads));
    if (!p.started || !threads) {
        free(p.started);
        free(threads);
        return rdsbk_error_set(RDSBK_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.changed, NULL);
    for (int i = 0; i < n_threads; i++)
        if (pthread_create(&threads[i], NULL, s_worker, &p) == 0)
            started++;
    if (started == 0)
        s_worker(&p); /* no thread could start: run everything here */
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    pthread_cond_destroy(&p.changed);
    pthread_mutex_destroy(&p.lock);
    free(p.started);
    free(threads);

    for (size_t i = 0; i < n; i++) {
        if (results[i].status == RDSBK_TASK_FAILED) {
            rdsbk_error_restore(&results[i].error);
            result = results[i].error.code;
            break;
        }
    }
    return result;
}
