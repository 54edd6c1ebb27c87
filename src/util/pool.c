/*
 * The task pool: a dependency-counting scheduler. Each task keeps the number of its dependencies
 * still unfinished; when that reaches zero it joins the ready queue of its group (a service in an
 * account). Workers take, among the groups below their limit, the ready task with the most calls
 * left on the longest chain from it to the end (critical path first), so that with more ready
 * work than slots the long chains start early and the run ends with the critical path, not behind
 * it. A group's own backlog is a chain too: the calls it has not started, divided by its limit,
 * are the rounds it needs at least, so a group with many short tasks (the backup account's
 * statement for each of 50 sources) is not left to the end behind the others' longer chains.
 *
 * Everything is under one mutex; a task's own work runs outside it. A finishing task wakes only
 * the waiting workers that can start a task beside its own, never all of them, and once every
 * task has started the idle workers end without waiting for the run's end.
 */
#include "rdsbk/pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct s_group {
    size_t *heap; /* ready tasks, a max-heap on (height, -index) */
    size_t n_ready;
    int running;
    size_t backlog; /* the calls of its tasks not started yet, ready or not */
};

struct s_pool {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct rdsbk_task_result *results;
    size_t n;
    size_t *waiting_on; /* per task: dependencies not yet finished */
    size_t *dependents; /* CSR: the tasks waiting for task i are dependents[first[i]..first[i+1]) */
    size_t *first;
    size_t *height; /* per task: the calls on the longest chain from it to the end */
    const unsigned *calls;
    const int *group_of;
    struct s_group *groups;
    int n_groups;
    const volatile sig_atomic_t *cancel;
    int limit;
    int running;
    size_t unstarted;    /* tasks not taken yet, ready or not */
    size_t first_failed; /* the lowest index of a failed task (n: none), its error below */
    struct rdsbk_error first_error;
    bool stop;
    bool done;
    bool keep_going;
    rdsbk_task_fn fn;
    void *payload;
};

static int s_group(const struct s_pool *p, size_t task) {
    return p->group_of ? p->group_of[task] : 0;
}

/* Heap order: the higher chain first; between equals, the lower index (plan order). */
static bool s_before(const struct s_pool *p, size_t a, size_t b) {
    return p->height[a] != p->height[b] ? p->height[a] > p->height[b] : a < b;
}

static void s_push(struct s_pool *p, size_t task) {
    struct s_group *g = &p->groups[s_group(p, task)];
    size_t i = g->n_ready++;

    while (i > 0 && s_before(p, task, g->heap[(i - 1) / 2])) {
        g->heap[i] = g->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    g->heap[i] = task;
}

static size_t s_pop(struct s_pool *p, struct s_group *g) {
    size_t top = g->heap[0];
    size_t last = g->heap[--g->n_ready];
    size_t i = 0;

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= g->n_ready)
            break;
        if (c + 1 < g->n_ready && s_before(p, g->heap[c + 1], g->heap[c]))
            c++;
        if (!s_before(p, g->heap[c], last))
            break;
        g->heap[i] = g->heap[c];
        i = c;
    }
    if (g->n_ready)
        g->heap[i] = last;
    return top;
}

static unsigned s_calls(const struct s_pool *p, size_t task) {
    return p->calls ? p->calls[task] : 1;
}

/* The rounds of calls a group needs at least from now: its next chain, or its backlog at its
 * limit when that is longer. */
static size_t s_urgency(const struct s_pool *p, const struct s_group *g) {
    size_t rounds = (g->backlog + (size_t)p->limit - 1) / (size_t)p->limit;
    return rounds > p->height[g->heap[0]] ? rounds : p->height[g->heap[0]];
}

/* Under the lock: the best ready task of a group below its limit, taken off its queue; n when
 * there is none. */
static size_t s_take(struct s_pool *p) {
    struct s_group *best = NULL;
    size_t best_urgency = 0;
    size_t task;

    if (p->stop || (p->cancel && *p->cancel))
        return p->n;
    for (int gi = 0; gi < p->n_groups; gi++) {
        struct s_group *g = &p->groups[gi];
        size_t urgency;
        if (!g->n_ready || g->running >= p->limit)
            continue;
        urgency = s_urgency(p, g);
        if (!best || urgency > best_urgency ||
            (urgency == best_urgency && s_before(p, g->heap[0], best->heap[0]))) {
            best = g;
            best_urgency = urgency;
        }
    }
    if (!best)
        return p->n;
    best->running++;
    p->running++;
    p->unstarted--;
    task = s_pop(p, best);
    best->backlog -= s_calls(p, task);
    return task;
}

/* Under the lock: the ready tasks that could start now, each group's up to its limit. */
static size_t s_startable(const struct s_pool *p) {
    size_t n = 0;

    for (int gi = 0; gi < p->n_groups; gi++) {
        const struct s_group *g = &p->groups[gi];
        if (g->running < p->limit)
            n += g->n_ready < (size_t)(p->limit - g->running) ? g->n_ready
                                                              : (size_t)(p->limit - g->running);
    }
    return n;
}

/*
 * Under the lock: task `t` ended with `rc`; queue what it made ready and wake the workers it
 * needs. Its own worker takes the next task, so one fewer than can start: a worker woken for
 * nothing costs two context switches, and they were most of the pool's (925 of 1,991 in the
 * 10 sources' destroy, perf sched:sched_switch).
 */
static void s_finish(struct s_pool *p, size_t t, int rc) {
    size_t wake;

    p->groups[s_group(p, t)].running--;
    p->running--;
    if (rc) {
        p->results[t].status = RDSBK_TASK_FAILED;
        if (t < p->first_failed) {
            p->first_failed = t;
            rdsbk_error_save(&p->first_error);
            if (!p->first_error.code)
                p->first_error.code = rc;
        }
        if (!p->keep_going)
            p->stop = true;
    } else {
        p->results[t].status = RDSBK_TASK_OK;
        /* a failed task's dependents never become ready: they end up skipped */
        for (size_t k = p->first[t]; k < p->first[t + 1]; k++) {
            size_t d = p->dependents[k];
            if (--p->waiting_on[d] == 0)
                s_push(p, d);
        }
    }
    if (p->running == 0 || p->stop) {
        pthread_cond_broadcast(&p->wake); /* possibly the end: every worker must look */
        return;
    }
    for (wake = s_startable(p); wake > 1; wake--)
        pthread_cond_signal(&p->wake);
}

static void *s_worker(void *arg) {
    struct s_pool *p = arg;

    pthread_mutex_lock(&p->lock);
    while (!p->done) {
        size_t task = s_take(p);
        int rc;

        if (task == p->n) {
            /* nothing to start: the run is over when nothing runs either (what is left waits
             * for a task that failed, or the run stopped) */
            if (p->running == 0) {
                p->done = true;
                pthread_cond_broadcast(&p->wake);
            } else if (p->unstarted == 0) {
                break; /* every task has its worker: this one ends now, not at the join */
            } else {
                pthread_cond_wait(&p->wake, &p->lock);
            }
            continue;
        }
        pthread_mutex_unlock(&p->lock);

        rdsbk_error_clear();
        rc = p->fn(task, p->payload);

        pthread_mutex_lock(&p->lock);
        s_finish(p, task, rc);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* The dependents lists, the counts of unfinished dependencies and the chain heights. */
static int s_build(struct s_pool *p, size_t *const *deps, const size_t *n_deps) {
    size_t n = p->n;
    size_t total = 0;
    size_t *fill = NULL;
    size_t *order = NULL;
    size_t *left = NULL;
    size_t head = 0;
    size_t tail = 0;
    int rc = RDSBK_ENOMEM;

    for (size_t i = 0; i < n; i++)
        total += n_deps ? n_deps[i] : 0;
    p->waiting_on = calloc(n, sizeof(*p->waiting_on));
    p->first = calloc(n + 1, sizeof(*p->first));
    p->dependents = calloc(total ? total : 1, sizeof(*p->dependents));
    p->height = calloc(n, sizeof(*p->height));
    fill = calloc(n, sizeof(*fill));
    order = calloc(n, sizeof(*order));
    left = calloc(n, sizeof(*left));
    if (!p->waiting_on || !p->first || !p->dependents || !p->height || !fill || !order || !left)
        goto cleanup;

    for (size_t i = 0; i < n; i++) {
        p->waiting_on[i] = n_deps ? n_deps[i] : 0;
        for (size_t k = 0; k < p->waiting_on[i]; k++)
            p->first[deps[i][k] + 1]++;
    }
    for (size_t i = 0; i < n; i++)
        p->first[i + 1] += p->first[i];
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < p->waiting_on[i]; k++) {
            size_t d = deps[i][k];
            p->dependents[p->first[d] + fill[d]++] = i;
        }

    /* heights: a topological order (Kahn), then from the last task back to the first */
    for (size_t i = 0; i < n; i++) {
        left[i] = p->waiting_on[i];
        if (left[i] == 0)
            order[tail++] = i;
    }
    while (head < tail) {
        size_t t = order[head++];
        for (size_t k = p->first[t]; k < p->first[t + 1]; k++)
            if (--left[p->dependents[k]] == 0)
                order[tail++] = p->dependents[k];
    }
    while (tail-- > 0) {
        size_t t = order[tail];
        size_t longest = 0;
        for (size_t k = p->first[t]; k < p->first[t + 1]; k++)
            if (p->height[p->dependents[k]] > longest)
                longest = p->height[p->dependents[k]];
        p->height[t] = longest + s_calls(p, t);
    }
    rc = 0;

cleanup:
    free(fill);
    free(order);
    free(left);
    return rc;
}

int rdsbk_pool_run(struct rdsbk_task_result *results, const struct rdsbk_pool_tasks *tasks,
                   int parallelism, bool keep_going, rdsbk_task_fn fn, void *payload) {
    size_t n = tasks->n;
    struct s_pool p;
    size_t *heaps = NULL;
    pthread_t *threads = NULL;
    size_t n_threads;
    size_t busy = 0;
    int started = 0;
    int rc = 0;

    memset(results, 0, n * sizeof(*results));
    if (n == 0)
        return 0;
    memset(&p, 0, sizeof(p));
    p.results = results;
    p.n = n;
    p.first_failed = n;
    p.unstarted = n;
    p.group_of = tasks->n_groups > 1 ? tasks->group_of : NULL;
    p.n_groups = p.group_of ? tasks->n_groups : 1;
    p.limit = parallelism < 1 ? 1 : parallelism;
    p.cancel = tasks->cancel;
    p.keep_going = keep_going;
    p.fn = fn;
    p.payload = payload;
    p.calls = tasks->calls;
    p.groups = calloc((size_t)p.n_groups, sizeof(*p.groups));
    heaps = calloc(n, sizeof(*heaps));
    /* a thread per task that makes calls, at most: the others end at once (a resource the state
     * already knows, a change with nothing to do), and starting 128 threads takes 12-20 ms */
    for (size_t i = 0; i < n; i++)
        busy += s_calls(&p, i) > 0;
    n_threads = (size_t)p.limit * (size_t)p.n_groups;
    if (n_threads > busy)
        n_threads = busy ? busy : 1;
    if (n_threads > RDSBK_POOL_MAX_THREADS)
        n_threads = RDSBK_POOL_MAX_THREADS;
    if (tasks->max_threads > 0 && n_threads > (size_t)tasks->max_threads)
        n_threads = (size_t)tasks->max_threads;
    threads = calloc(n_threads, sizeof(*threads));
    if (!p.groups || !heaps || !threads || s_build(&p, tasks->deps, tasks->n_deps)) {
        rc = rdsbk_error_oom();
        goto cleanup;
    }
    /* each group's heap is a slice of one array, sized by its number of tasks */
    {
        size_t *count = calloc((size_t)p.n_groups, sizeof(*count));
        size_t at = 0;
        if (!count) {
            rc = rdsbk_error_oom();
            goto cleanup;
        }
        for (size_t i = 0; i < n; i++) {
            count[s_group(&p, i)]++;
            p.groups[s_group(&p, i)].backlog += s_calls(&p, i);
        }
        for (int g = 0; g < p.n_groups; g++) {
            p.groups[g].heap = heaps + at;
            at += count[g];
        }
        free(count);
    }
    for (size_t i = 0; i < n; i++)
        if (p.waiting_on[i] == 0)
            s_push(&p, i);

    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.wake, NULL);
    for (size_t i = 0; i < n_threads; i++)
        if (pthread_create(&threads[started], NULL, s_worker, &p) == 0)
            started++;
    if (started == 0)
        s_worker(&p); /* no thread could start: run everything here */
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    pthread_cond_destroy(&p.wake);
    pthread_mutex_destroy(&p.lock);

    for (size_t i = 0; i < n; i++)
        if (results[i].status == RDSBK_TASK_PENDING)
            results[i].status = RDSBK_TASK_SKIPPED;
    if (p.first_failed < n) {
        rdsbk_error_restore(&p.first_error);
        rc = p.first_error.code;
    }

cleanup:
    free(p.groups);
    free(heaps);
    free(threads);
    free(p.waiting_on);
    free(p.first);
    free(p.dependents);
    free(p.height);
    return rc;
}

int *rdsbk_pool_own_groups(size_t n) {
    int *group_of = calloc(n ? n : 1, sizeof(*group_of));

    if (!group_of) {
        rdsbk_error_oom();
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        group_of[i] = (int)i;
    return group_of;
}

/* ---- jobs ------------------------------------------------------------------------------- */

static void *s_job_main(void *arg) {
    struct rdsbk_job *job = arg;

    job->rc = job->fn(job->payload);
    if (job->rc)
        rdsbk_error_save(&job->error);
    return NULL;
}

void rdsbk_job_start(struct rdsbk_job *job, rdsbk_job_fn fn, void *payload) {
    memset(job, 0, sizeof(*job));
    job->fn = fn;
    job->payload = payload;
    job->pending = true;
    job->threaded = pthread_create(&job->thread, NULL, s_job_main, job) == 0;
}

int rdsbk_job_join(struct rdsbk_job *job) {
    if (job->pending && job->threaded) {
        pthread_join(job->thread, NULL);
    } else if (job->pending) {
        struct rdsbk_error mine;
        rdsbk_error_save(&mine); /* the job's error is its own, not the caller's */
        s_job_main(job);
        rdsbk_error_restore(&mine);
    }
    job->pending = false;
    return job->rc;
}
