#ifndef RDSBK_POOL_H
#define RDSBK_POOL_H

#include "rdsbk/error.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/* The threads whatever the groups and limits (the caller may ask for fewer): each waits on one
 * request at a time and costs memory while it does (its stack, a curl handle, the request and
 * reply in flight; bench/RESULTS.md), and three file descriptors (a socket, and the socket pair
 * libcurl wakes its poll with), 768 of the 1,024 a process usually may have. */
#define RDSBK_POOL_MAX_THREADS 256

/*
 * Runs tasks 0..n-1 on threads, each only after the tasks it depends on have succeeded, at most
 * `parallelism` at once in each group (what AWS throttles together: a service in an account).
 * Ready tasks start longest chain first (a
 * group's calls not started, at its limit, count as a chain too). After a failure no new task
 * starts (running ones finish); tasks that did not run are marked skipped. Deterministic in what
 * runs, not in interleaving.
 */
typedef int (*rdsbk_task_fn)(size_t task, void *payload);

enum rdsbk_task_status { RDSBK_TASK_PENDING, RDSBK_TASK_OK, RDSBK_TASK_FAILED, RDSBK_TASK_SKIPPED };

struct rdsbk_task_result {
    enum rdsbk_task_status status;
};

/* The tasks and how they relate; only `n` is required. */
struct rdsbk_pool_tasks {
    size_t n;
    size_t *const *deps;   /* per task: the tasks it waits for (NULL: none) */
    const size_t *n_deps;  /* per task: how many */
    const unsigned *calls; /* per task: its calls one after the other (NULL: 1 each); ready tasks
                              start longest remaining chain of calls first; tasks of 0 calls
                              end at once and get no thread of their own */
    const int *group_of;   /* per task: its group in 0..n_groups-1 (NULL: one group for all) */
    int n_groups;
    int max_threads; /* at most this many threads (0, or more than RDSBK_POOL_MAX_THREADS: that) */
    /* When it becomes non-zero (a signal handler sets it), no new task starts: the running ones
     * finish, the rest are skipped. NULL: never. */
    const volatile sig_atomic_t *cancel;
};

/*
 * `results` has tasks->n entries, filled in. `keep_going`: a failure does not stop other
 * independent tasks (refresh reads everything). Returns 0 when every task succeeded; otherwise the
 * code of the failed task with the lowest index, whose error it restores on the calling thread.
 */
int rdsbk_pool_run(struct rdsbk_task_result *results, const struct rdsbk_pool_tasks *tasks,
                   int parallelism, bool keep_going, rdsbk_task_fn fn, void *payload);

/* A group_of array putting each of n tasks in a group of its own (tasks that are one account
 * each), for rdsbk_pool_run with n_groups = n. Caller frees; NULL on ENOMEM (error set). */
int *rdsbk_pool_own_groups(size_t n);

/*
 * One function run on a thread of its own while the caller goes on (reads that can go out
 * before the caller needs them). Zero-initialised, a job was never started and joins as 0.
 */
typedef int (*rdsbk_job_fn)(void *payload);

struct rdsbk_job {
    rdsbk_job_fn fn;
    void *payload;
    pthread_t thread;
    bool pending; /* started, not joined yet */
    bool threaded;
    int rc; /* fn's result, once joined */
    struct rdsbk_error
        error; /* fn's error when rc != 0: rdsbk_error_restore makes it the caller's */
};

/* Starts fn(payload) on a thread; when no thread can start, it runs in rdsbk_job_join. */
void rdsbk_job_start(struct rdsbk_job *job, rdsbk_job_fn fn, void *payload);

/* Waits for the job (once; later calls return the same) and returns its result. The caller's own
 * error is left as it was. */
int rdsbk_job_join(struct rdsbk_job *job);

#endif
