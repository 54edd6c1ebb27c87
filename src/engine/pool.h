#ifndef RDSBK_ENGINE_POOL_H
#define RDSBK_ENGINE_POOL_H

#include "rdsbk/error.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * Runs tasks 0..n-1 on up to `parallelism` threads, each only after the tasks it depends on have
 * succeeded. After a failure no new task starts (running ones finish); tasks that did not run are
 * marked skipped. Deterministic in what runs, not in interleaving.
 */
typedef int (*rdsbk_task_fn)(size_t task, void *payload);

enum rdsbk_task_status { RDSBK_TASK_PENDING, RDSBK_TASK_OK, RDSBK_TASK_FAILED, RDSBK_TASK_SKIPPED };

struct rdsbk_task_result {
    enum rdsbk_task_status status;
    struct rdsbk_error error; /* the task's error when FAILED */
};

/*
 * `deps[i]` lists the indices task i waits for (`n_deps[i]` of them); both may be NULL for
 * independent tasks. `results` has n entries, filled in. `keep_going`: a failure does not stop
 * other independent tasks (refresh reads everything). Returns 0 when every task succeeded, the
 * first failure's code otherwise (and restores that error on the calling thread).
 */
int rdsbk_pool_run(struct rdsbk_task_result *results, size_t n, size_t *const *deps,
                   const size_t *n_deps, int parallelism, bool keep_going, rdsbk_task_fn fn,
                   void *payload);

#endif
