/* src/util: the task pool and jobs, the sorted search, formatted strings, the backoff, the clock,
 * the buffer's accessors and the cJSON helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rdsbk/backoff.h"
#include "rdsbk/buf.h"
#include "rdsbk/clock.h"
#include "rdsbk/error.h"
#include "rdsbk/json_util.h"
#include "rdsbk/log.h"
#include "rdsbk/pool.h"
#include "rdsbk/str.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- pool ---- */

struct s_trace {
    pthread_mutex_t lock;
    size_t order[16];
    size_t n;
    int fail_task; /* -1: none */
    int slow_task; /* -1: none; it takes 150 ms, the others 20 */
    int running;
    int max_running;
};

/* An empty trace; `fail_task` fails (-1: none). */
static void s_trace_reset(struct s_trace *t, int fail_task) {
    memset(t, 0, sizeof(*t));
    pthread_mutex_init(&t->lock, NULL);
    t->fail_task = fail_task;
    t->slow_task = -1;
}

static int s_task(size_t task, void *payload) {
    struct s_trace *t = payload;
    pthread_mutex_lock(&t->lock);
    t->running++;
    if (t->running > t->max_running)
        t->max_running = t->running;
    pthread_mutex_unlock(&t->lock);
    usleep((int)task == t->slow_task ? 150000 : 20000);
    pthread_mutex_lock(&t->lock);
    t->running--;
    t->order[t->n++] = task;
    pthread_mutex_unlock(&t->lock);
    if ((int)task == t->fail_task)
        return rdsbk_error_set(RDSBK_ECONFLICT, "task %zu failed", task);
    return 0;
}

static size_t s_pos(const struct s_trace *t, size_t task) {
    for (size_t i = 0; i < t->n; i++)
        if (t->order[i] == task)
            return i;
    return 99;
}

static void test_pool_order_and_failure(void **state) {
    /* 0 <- 1 <- 3, 0 <- 2 <- 3, 4 independent */
    size_t d1[] = {0}, d2[] = {0}, d3[] = {1, 2};
    size_t *deps[] = {NULL, d1, d2, d3, NULL};
    size_t n_deps[] = {0, 1, 1, 2, 0};
    struct rdsbk_task_result results[5];
    struct s_trace t;
    int rc;
    (void)state;

    s_trace_reset(&t, -1);
    rc = rdsbk_pool_run(results, &(struct rdsbk_pool_tasks){.n = 5, .deps = deps, .n_deps = n_deps},
                        4, false, s_task, &t);
    assert_int_equal(rc, 0);
    assert_int_equal(t.n, 5);
    assert_true(s_pos(&t, 0) < s_pos(&t, 1));
    assert_true(s_pos(&t, 0) < s_pos(&t, 2));
    assert_true(s_pos(&t, 1) < s_pos(&t, 3));
    assert_true(s_pos(&t, 2) < s_pos(&t, 3));
    assert_true(t.max_running >= 2); /* 0 and 4 run together */

    /* a failure of 1 skips 3 (which needs it) and returns 1's error */
    s_trace_reset(&t, 1);
    rc = rdsbk_pool_run(results, &(struct rdsbk_pool_tasks){.n = 5, .deps = deps, .n_deps = n_deps},
                        1, false, s_task, &t);
    assert_int_equal(rc, RDSBK_ECONFLICT);
    assert_string_equal(rdsbk_error_last()->message, "task 1 failed");
    assert_int_equal(results[1].status, RDSBK_TASK_FAILED);
    assert_int_equal(results[3].status, RDSBK_TASK_SKIPPED);

    /* keep_going: independent tasks all run even after a failure */
    s_trace_reset(&t, 0);
    rc = rdsbk_pool_run(results, &(struct rdsbk_pool_tasks){.n = 5}, 2, true, s_task, &t);
    assert_int_equal(rc, RDSBK_ECONFLICT);
    assert_int_equal(t.n, 5);

    /* keep_going with dependencies: what waits for the failed task is skipped, the rest runs */
    s_trace_reset(&t, 2);
    rc = rdsbk_pool_run(results, &(struct rdsbk_pool_tasks){.n = 5, .deps = deps, .n_deps = n_deps},
                        2, true, s_task, &t);
    assert_int_equal(rc, RDSBK_ECONFLICT);
    assert_int_equal(t.n, 4);
    assert_int_equal(results[1].status, RDSBK_TASK_OK);
    assert_int_equal(results[2].status, RDSBK_TASK_FAILED);
    assert_int_equal(results[3].status, RDSBK_TASK_SKIPPED);
    assert_int_equal(results[4].status, RDSBK_TASK_OK);
}

/* The first failure in task order is the one returned, whatever order they failed in. */
static int s_fail_all(size_t task, void *payload) {
    (void)payload;
    usleep(task == 3 ? 1000 : 30000); /* 3 fails first */
    return rdsbk_error_set(RDSBK_EINVALID, "task %zu failed", task);
}

static void test_pool_first_failure_by_index(void **state) {
    struct rdsbk_task_result results[5];
    int rc;
    (void)state;

    rc = rdsbk_pool_run(results, &(struct rdsbk_pool_tasks){.n = 5}, 5, true, s_fail_all, NULL);
    assert_int_equal(rc, RDSBK_EINVALID);
    assert_string_equal(rdsbk_error_last()->message, "task 0 failed");
}

/* Groups: at most `parallelism` at once in each group, the groups side by side. */
struct s_groups {
    pthread_mutex_t lock;
    const int *group_of;
    int running[2];
    int max_running[2];
    int total;
    int max_total;
};

static int s_group_task(size_t task, void *payload) {
    struct s_groups *g = payload;
    int grp = g->group_of[task];

    pthread_mutex_lock(&g->lock);
    g->running[grp]++;
    g->total++;
    if (g->running[grp] > g->max_running[grp])
        g->max_running[grp] = g->running[grp];
    if (g->total > g->max_total)
        g->max_total = g->total;
    pthread_mutex_unlock(&g->lock);
    usleep(20000);
    pthread_mutex_lock(&g->lock);
    g->running[grp]--;
    g->total--;
    pthread_mutex_unlock(&g->lock);
    return 0;
}

static void test_pool_limit_per_group(void **state) {
    const int group_of[] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1};
    struct rdsbk_task_result results[12];
    struct s_groups g;
    (void)state;

    memset(&g, 0, sizeof(g));
    pthread_mutex_init(&g.lock, NULL);
    g.group_of = group_of;
    assert_int_equal(
        rdsbk_pool_run(results,
                       &(struct rdsbk_pool_tasks){.n = 12, .group_of = group_of, .n_groups = 2}, 2,
                       false, s_group_task, &g),
        0);
    assert_int_equal(g.max_running[0], 2);
    assert_int_equal(g.max_running[1], 2);
    assert_int_equal(g.max_total, 4);
    for (size_t i = 0; i < 12; i++)
        assert_int_equal(results[i].status, RDSBK_TASK_OK);
}

/* With one slot, the task with the longest chain behind it starts first. */
static void test_pool_longest_chain_first(void **state) {
    /* 0, 1, 2 independent; 3 <- 4 <- 5 a chain */
    size_t d4[] = {3}, d5[] = {4};
    size_t *deps[] = {NULL, NULL, NULL, NULL, d4, d5};
    size_t n_deps[] = {0, 0, 0, 0, 1, 1};
    struct rdsbk_task_result results[6];
    struct s_trace t;
    int *own;
    (void)state;

    s_trace_reset(&t, -1);
    assert_int_equal(
        rdsbk_pool_run(results, &(struct rdsbk_pool_tasks){.n = 6, .deps = deps, .n_deps = n_deps},
                       1, false, s_task, &t),
        0);
    assert_int_equal(t.n, 6);
    assert_int_equal(t.order[0], 3);
    assert_int_equal(t.order[1], 4); /* 4 has one task behind it, 0..2 none */
    assert_int_equal(t.order[2], 0); /* then, all equal, plan order */
    assert_int_equal(t.order[5], 5);

    /* counted in calls: a task of 3 calls before a chain of two 1-call tasks */
    {
        const unsigned calls[] = {1, 1, 1, 1, 1, 3};
        size_t d1[] = {0};
        size_t *chain[] = {NULL, d1, NULL, NULL, NULL, NULL};
        size_t n_chain[] = {0, 1, 0, 0, 0, 0};
        s_trace_reset(&t, -1);
        assert_int_equal(
            rdsbk_pool_run(results,
                           &(struct rdsbk_pool_tasks){
                               .n = 6, .deps = chain, .n_deps = n_chain, .calls = calls},
                           1, false, s_task, &t),
            0);
        assert_int_equal(t.order[0], 5);
        assert_int_equal(t.order[1], 0);
        assert_int_equal(t.order[2], 1);
    }

    /* one group per task: all six at once even with a limit of 1 */
    own = rdsbk_pool_own_groups(6);
    assert_non_null(own);
    s_trace_reset(&t, -1);
    assert_int_equal(
        rdsbk_pool_run(results, &(struct rdsbk_pool_tasks){.n = 6, .group_of = own, .n_groups = 6},
                       1, false, s_task, &t),
        0);
    assert_int_equal(t.max_running, 6);

    /* the caller's cap on threads holds whatever the groups allow */
    s_trace_reset(&t, -1);
    assert_int_equal(rdsbk_pool_run(results,
                                    &(struct rdsbk_pool_tasks){
                                        .n = 6, .group_of = own, .n_groups = 6, .max_threads = 2},
                                    1, false, s_task, &t),
                     0);
    assert_int_equal(t.max_running, 2);
    assert_int_equal(t.n, 6);

    /* threads only for the tasks that make calls: the others end at once */
    {
        const unsigned calls[] = {0, 0, 0, 0, 1, 1};
        s_trace_reset(&t, -1);
        assert_int_equal(rdsbk_pool_run(results,
                                        &(struct rdsbk_pool_tasks){
                                            .n = 6, .calls = calls, .group_of = own, .n_groups = 6},
                                        1, false, s_task, &t),
                         0);
        assert_int_equal(t.max_running, 2);
        assert_int_equal(t.n, 6);
    }
    free(own);
}

/*
 * A group with many short tasks is not left behind the other groups' longer chains: when the
 * threads run out (64 for 220 tasks), its backlog at its limit (100 calls at 10: 10 rounds)
 * outweighs their chains of 2, so its first 10 tasks are among the first to start. The tasks
 * wait until every thread has one, so what started first is what the scheduler chose, not how
 * the threads raced.
 */
enum { S_GATE_THREADS = 64 };

struct s_gate {
    pthread_mutex_t lock;
    pthread_cond_t all_in;
    const int *group_of;
    int started;
    int first_wave_busy; /* tasks of group 0 among the first S_GATE_THREADS */
};

static int s_gate_task(size_t task, void *payload) {
    struct s_gate *g = payload;
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&g->lock);
    if (g->started < S_GATE_THREADS && g->group_of[task] == 0)
        g->first_wave_busy++;
    if (++g->started == S_GATE_THREADS)
        pthread_cond_broadcast(&g->all_in);
    while (g->started < S_GATE_THREADS && pthread_cond_timedwait(&g->all_in, &g->lock, &until) == 0)
        ;
    pthread_mutex_unlock(&g->lock);
    return 0;
}

static void test_pool_busy_group_not_last(void **state) {
    enum { BUSY = 100, CHAINS = 60, N = BUSY + 2 * CHAINS };
    static int group_of[N];
    static size_t heads[CHAINS];
    static size_t *deps[N];
    static size_t n_deps[N];
    struct rdsbk_task_result results[N];
    struct s_gate g;
    (void)state;

    /* tasks 0..99: group 0, independent; then 60 groups with a chain of two each */
    for (size_t i = 0; i < BUSY; i++)
        group_of[i] = 0;
    for (size_t c = 0; c < CHAINS; c++) {
        size_t head = BUSY + 2 * c;
        group_of[head] = group_of[head + 1] = (int)c + 1;
        heads[c] = head;
        deps[head + 1] = &heads[c];
        n_deps[head + 1] = 1;
    }
    memset(&g, 0, sizeof(g));
    pthread_mutex_init(&g.lock, NULL);
    pthread_cond_init(&g.all_in, NULL);
    g.group_of = group_of;
    assert_int_equal(rdsbk_pool_run(results,
                                    &(struct rdsbk_pool_tasks){.n = N,
                                                               .deps = deps,
                                                               .n_deps = n_deps,
                                                               .group_of = group_of,
                                                               .n_groups = CHAINS + 1,
                                                               .max_threads = S_GATE_THREADS},
                                    10, false, s_gate_task, &g),
                     0);
    assert_int_equal(g.started, N);
    assert_int_equal(g.first_wave_busy, 10); /* by chains alone: 4 (after the 60 heads) */
    pthread_cond_destroy(&g.all_in);
    pthread_mutex_destroy(&g.lock);
}

/* A task that makes five ready, while another still runs, wakes workers for all five. */
static void test_pool_wakes_for_every_ready_task(void **state) {
    size_t d[] = {0};
    size_t *deps[] = {NULL, d, d, d, d, d, NULL};
    size_t n_deps[] = {0, 1, 1, 1, 1, 1, 0};
    struct rdsbk_task_result results[7];
    struct s_trace t;
    (void)state;

    s_trace_reset(&t, -1);
    t.slow_task = 6; /* the run goes on while 0 finishes */
    assert_int_equal(
        rdsbk_pool_run(results, &(struct rdsbk_pool_tasks){.n = 7, .deps = deps, .n_deps = n_deps},
                       7, false, s_task, &t),
        0);
    assert_int_equal(t.n, 7);
    assert_int_equal(t.order[0], 0);
    assert_int_equal(t.order[6], 6);
    assert_int_equal(t.max_running, 6); /* 2 if only the finishing worker went on */
}

/* The threads of the process, from /proc/self/task; -1 when it cannot be read. */
static int s_threads(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    fclose(f);
    return n;
}

struct s_last {
    pthread_mutex_t lock;
    int quick_done;
    int threads_at_end; /* seen by the long task once the quick ones are long done */
};

static int s_last_task(size_t task, void *payload) {
    struct s_last *l = payload;

    if (task != 5) {
        pthread_mutex_lock(&l->lock);
        l->quick_done++;
        pthread_mutex_unlock(&l->lock);
        return 0;
    }
    for (int i = 0; i < 500; i++) {
        int done;
        pthread_mutex_lock(&l->lock);
        done = l->quick_done;
        pthread_mutex_unlock(&l->lock);
        if (done == 5)
            break;
        usleep(1000);
    }
    usleep(100000); /* the idle workers' exits have long been through */
    l->threads_at_end = s_threads();
    return 0;
}

/* Once every task has its worker, the idle ones end at once, not when the run ends. */
static void test_pool_idle_workers_end_early(void **state) {
    struct rdsbk_task_result results[6];
    struct s_last l;
    int before = s_threads();
    (void)state;

    if (before < 0)
        skip();
    memset(&l, 0, sizeof(l));
    pthread_mutex_init(&l.lock, NULL);
    assert_int_equal(
        rdsbk_pool_run(results, &(struct rdsbk_pool_tasks){.n = 6}, 6, false, s_last_task, &l), 0);
    assert_int_equal(l.quick_done, 5);
    assert_int_equal(l.threads_at_end, before + 1); /* before + 6 when they waited for the end */
    pthread_mutex_destroy(&l.lock);
}

static int s_failing_job(void *payload) {
    (*(int *)payload)++;
    return rdsbk_error_set(RDSBK_ECONFLICT, "the job failed");
}

/* A job's result and error are its own: the caller's error stays, a second join repeats it. */
static void test_job_result_and_error(void **state) {
    struct rdsbk_job never = {0};
    struct rdsbk_job job;
    int runs = 0;
    (void)state;

    assert_int_equal(rdsbk_job_join(&never), 0);
    rdsbk_error_set(RDSBK_ENOTFOUND, "the caller's");
    rdsbk_job_start(&job, s_failing_job, &runs);
    assert_int_equal(rdsbk_job_join(&job), RDSBK_ECONFLICT);
    assert_int_equal(rdsbk_job_join(&job), RDSBK_ECONFLICT);
    assert_int_equal(runs, 1);
    assert_string_equal(job.error.message, "the job failed");
    assert_string_equal(rdsbk_error_last()->message, "the caller's");
    rdsbk_error_restore(&job.error);
    assert_int_equal(rdsbk_error_last()->code, RDSBK_ECONFLICT);
    rdsbk_error_clear();
}

/* ---- str ---- */

struct s_named {
    int value;
    const char *name;
};

static void test_sorted_search(void **state) {
    static const struct s_named sorted[] = {{1, "alpha"}, {2, "beta"}, {3, "delta"}, {4, "gamma"}};
    static const struct {
        const char *key;
        bool found;
        size_t index;
    } cases[] = {{"alpha", true, 0}, {"beta", true, 1},     {"gamma", true, 3},
                 {"a", false, 0},    {"charlie", false, 2}, {"zulu", false, 4}};
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool found = !cases[i].found;
        size_t at = rdsbk_sorted_index(&found, sorted, 4, sizeof(sorted[0]),
                                       offsetof(struct s_named, name), cases[i].key);
        const struct s_named *hit = rdsbk_sorted_find(sorted, 4, sizeof(sorted[0]),
                                                      offsetof(struct s_named, name), cases[i].key);
        assert_int_equal(found, cases[i].found);
        assert_int_equal(at, cases[i].index);
        if (cases[i].found)
            assert_int_equal(hit->value, sorted[cases[i].index].value);
        else
            assert_null(hit);
    }
    assert_null(
        rdsbk_sorted_find(sorted, 0, sizeof(sorted[0]), offsetof(struct s_named, name), "alpha"));
}

static void test_strfmt_and_dup(void **state) {
    char *s = NULL;
    (void)state;

    assert_int_equal(rdsbk_strfmt(&s, "%s/%d", "role", 42), 0);
    assert_string_equal(s, "role/42");
    free(s);
    assert_int_equal(rdsbk_strdup_into(&s, NULL), 0);
    assert_null(s);
    assert_int_equal(rdsbk_strdup_into(&s, "x"), 0);
    assert_string_equal(s, "x");
    free(s);
}

/* ---- backoff and clock ---- */

static void test_backoff_sequence(void **state) {
    static const struct {
        long first, max;
        double factor;
        long expected[6];
    } cases[] = {
        {1000, 8000, 2.0, {1000, 2000, 4000, 8000, 8000, 8000}}, /* the resources' waits */
        {500, 20000, 1.5, {500, 750, 1125, 1687, 2531, 3796}},   /* the drill's polls */
        {3000, 2000, 2.0, {2000, 2000, 2000, 2000, 2000, 2000}}, /* the first capped too */
        {0, 0, 0.5, {1, 1, 1, 1, 1, 1}},                         /* nonsense made sane */
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rdsbk_backoff b;
        rdsbk_backoff_init(&b, cases[i].first, cases[i].max, cases[i].factor, 0);
        for (int k = 0; k < 6; k++)
            assert_int_equal(rdsbk_backoff_next_ms(&b), cases[i].expected[k]);
        assert_int_equal(b.attempt, 6);
    }
    for (int k = 0; k < 200; k++) {
        long j = rdsbk_backoff_jitter_ms(100);
        assert_true(j >= 0 && j <= 100);
    }
    assert_int_equal(rdsbk_backoff_jitter_ms(0), 0);
}

/* A budget ends the waits: the last is cut to end at the deadline, then no more. */
static void test_backoff_budget(void **state) {
    struct rdsbk_backoff b;
    double start = rdsbk_clock_now();
    int sleeps = 0;
    (void)state;

    rdsbk_backoff_init(&b, 40, 1000, 2.0, 150);
    while (rdsbk_backoff_sleep(&b, NULL))
        sleeps++;
    /* 40 + 80 = 120 ms, then 30 ms cut short of 160, then the budget is spent */
    assert_int_equal(sleeps, 3);
    assert_true(rdsbk_clock_now() - start >= 0.149);
    assert_true(rdsbk_clock_now() - start < 1.0);
}

/* ---- buf accessors, errors, json helpers ---- */

static void test_buf_accessors(void **state) {
    struct rdsbk_buf b = RDSBK_BUF_INIT;
    (void)state;

    assert_int_equal(rdsbk_buf_len(&b), 0);
    assert_string_equal(rdsbk_buf_cstr(&b), "");
    assert_int_equal(rdsbk_buf_adds(&b, "path///"), 0);
    rdsbk_buf_truncate(&b, 4);
    assert_int_equal(rdsbk_buf_len(&b), 4);
    assert_string_equal(rdsbk_buf_cstr(&b), "path");
    rdsbk_buf_truncate(&b, 10); /* never longer */
    assert_string_equal(rdsbk_buf_cstr(&b), "path");
    rdsbk_buf_clean_up(&b);
}

static int s_check_alloc(void *p) {
    int rc = 0;

    RDSBK_CHECK_ALLOC(p);
    RDSBK_TRY(rdsbk_error_set(RDSBK_ECONFLICT, "second"));
cleanup:
    return rc;
}

static void test_error_helpers(void **state) {
    int x;
    (void)state;

    assert_int_equal(s_check_alloc(NULL), RDSBK_ENOMEM);
    assert_string_equal(rdsbk_error_last()->message, "out of memory");
    assert_int_equal(s_check_alloc(&x), RDSBK_ECONFLICT);
    assert_string_equal(rdsbk_error_last()->message, "second");
    rdsbk_error_clear();
    assert_int_equal(rdsbk_error_code(), RDSBK_ERROR);
    assert_true(rdsbk_error_is_transient(RDSBK_ETHROTTLED));
    assert_true(rdsbk_error_is_transient(RDSBK_EIO));
    assert_true(rdsbk_error_is_transient(RDSBK_ETIMEOUT));
    assert_false(rdsbk_error_is_transient(RDSBK_EAUTH));
    assert_false(rdsbk_error_is_transient(RDSBK_ENOTFOUND));
    assert_false(rdsbk_error_is_transient(0));
}

/* What AWS or a topology says reaches a terminal escaped: no escape sequence, no control, no
 * bidirectional override is obeyed. */
static void test_terminal_escape(void **state) {
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"plain text: 100%", "plain text: 100%"},
        {"two\nlines\r\tand a tab", "two lines  and a tab"},
        {"\033[2J\033]0;owned\007", "\\x1B[2J\\x1B]0;owned\\x07"},
        {"del\x7f", "del\\x7F"},
        {"c1 \xc2\x9b"
         "31m",
         "c1 \\u009B31m"},
        {"evil\xe2\x80\xaetxt.exe", "evil\\u202Etxt.exe"},
        {"\xe2\x81\xa6x\xe2\x81\xa9 \xe2\x80\x8f \xd8\x9c", "\\u2066x\\u2069 \\u200F \\u061C"},
        {"caf\xc3\xa9 \xe2\x82\xac \xe2\x80\x94", "caf\xc3\xa9 \xe2\x82\xac \xe2\x80\x94"},
        /* not UTF-8: a lone 0x9B is CSI on a terminal that reads Latin-1 */
        {"cut \xe2", "cut \\xE2"},
        {"8-bit CSI \x9b"
         "2J",
         "8-bit CSI \\x9B2J"},
        {"overlong \xc0\xaf surrogate \xed\xa0\x80",
         "overlong \\xC0\\xAF surrogate \\xED\\xA0\\x80"},
        {"line\xe2\x80\xa8sep \xe2\x80\xa9", "line\\u2028sep \\u2029"},
        {"4 bytes \xf0\x9f\x90\x98 \xf4\x90\x80\x80",
         "4 bytes \xf0\x9f\x90\x98 \\xF4\\x90\\x80\\x80"},
        {"already \\x1B escaped", "already \\x1B escaped"},
    };
    char out[96];
    char *whole;
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(rdsbk_str_escape_terminal(out, sizeof(out), cases[i].in), cases[i].out);
    /* cut at the size, never in the middle of an escape */
    assert_string_equal(rdsbk_str_escape_terminal(out, 6, "ab\033cd"), "ab");
    /* whole, however long: at most four characters a byte */
    whole = rdsbk_str_escape_terminal_dup("\033\033\xc2\x9b\xe2\x80\xae\x9b");
    assert_string_equal(whole, "\\x1B\\x1B\\u009B\\u202E\\x9B");
    free(whole);
    /* the error slot escapes what it is given, from AWS or from a format */
    rdsbk_error_set_aws(RDSBK_EINVALID, 400, "Bad\033Code", "req\n1",
                        "msg \033[31mred\xe2\x80\xae");
    assert_string_equal(rdsbk_error_last()->message, "msg \\x1B[31mred\\u202E");
    assert_string_equal(rdsbk_error_last()->aws_code, "Bad\\x1BCode");
    assert_string_equal(rdsbk_error_last()->request_id, "req 1");
    rdsbk_error_set(RDSBK_EINVALID, "%s: %s", "topology", "tag \033[0m");
    assert_string_equal(rdsbk_error_last()->message, "topology: tag \\x1B[0m");
    rdsbk_error_clear();
}

static void test_utf8_decode(void **state) {
    static const struct {
        const char *in;
        size_t len; /* 0: not UTF-8 */
        unsigned cp;
    } cases[] = {
        {"a", 1, 'a'},
        {"\xc3\xa9", 2, 0xE9},
        {"\xe2\x80\xae", 3, 0x202E},
        {"\xf0\x9f\x90\x98", 4, 0x1F418},
        {"\x80", 0, 0},             /* a continuation byte alone */
        {"\xc1\xbf", 0, 0},         /* overlong */
        {"\xe0\x80\xaf", 0, 0},     /* overlong */
        {"\xed\xbf\xbf", 0, 0},     /* a surrogate */
        {"\xf4\x90\x80\x80", 0, 0}, /* past U+10FFFF */
        {"\xe2\x80", 0, 0},         /* cut short */
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned cp = 0;
        assert_int_equal(rdsbk_utf8_decode(&cp, cases[i].in), cases[i].len);
        if (cases[i].len)
            assert_int_equal(cp, cases[i].cp);
    }
}

/* A warning quoting an AWS reply or a file: the line reaches stderr escaped. */
static void test_log_line_escaped(void **state) {
    char path[] = "/tmp/rdsbk-test-log-XXXXXX";
    int fd = mkstemp(path);
    int saved = dup(STDERR_FILENO);
    char text[256] = {0};
    FILE *f;
    (void)state;

    assert_true(fd >= 0 && saved >= 0);
    fflush(stderr);
    dup2(fd, STDERR_FILENO);
    rdsbk_log_warn("key %s: %s", "k\033]0;owned\007", "gone\xe2\x80\xae");
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    f = fdopen(fd, "r");
    assert_non_null(f);
    rewind(f);
    assert_true(fread(text, 1, sizeof(text) - 1, f) > 0);
    fclose(f);
    unlink(path);
    assert_string_equal(text, "warning: key k\\x1B]0;owned\\x07: gone\\u202E\n");
}

static void test_json_helpers(void **state) {
    static const char *const names[] = {"a", "b"};
    cJSON *o = cJSON_CreateObject();
    cJSON *parsed = NULL;
    char *text = NULL;
    char *dup = NULL;
    (void)state;

    assert_int_equal(rdsbk_json_add_str(o, "empty", NULL), 0);
    assert_int_equal(rdsbk_json_add_opt_str(o, "absent", NULL), 0);
    assert_int_equal(rdsbk_json_add_opt_str(o, "present", "p"), 0);
    assert_int_equal(rdsbk_json_add_num(o, "n", 7), 0);
    assert_int_equal(rdsbk_json_add_strs(o, "list", names, 2), 0);
    assert_int_equal(rdsbk_json_add(o, "oom", NULL), RDSBK_ENOMEM);
    assert_int_equal(rdsbk_json_text(&text, o), 0);
    assert_string_equal(text, "{\"empty\":\"\",\"present\":\"p\",\"n\":7,\"list\":[\"a\",\"b\"]}");
    assert_int_equal(rdsbk_json_parse(&parsed, text, "test"), 0);
    assert_string_equal(rdsbk_json_str(parsed, "present"), "p");
    assert_null(rdsbk_json_str(parsed, "n"));
    assert_int_equal(rdsbk_json_int(parsed, "n", 0), 7);
    assert_int_equal(rdsbk_json_int(parsed, "absent", -1), -1);
    assert_int_equal(rdsbk_json_dup_str(&dup, parsed, "present"), 0);
    assert_string_equal(dup, "p");
    cJSON_Delete(parsed);
    assert_int_equal(rdsbk_json_parse(&parsed, "{nope", "the policy"), RDSBK_EINVALID);
    assert_null(parsed);
    free(dup);
    free(text);
    cJSON_Delete(o);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_order_and_failure),
        cmocka_unit_test(test_pool_first_failure_by_index),
        cmocka_unit_test(test_pool_limit_per_group),
        cmocka_unit_test(test_pool_longest_chain_first),
        cmocka_unit_test(test_pool_busy_group_not_last),
        cmocka_unit_test(test_pool_wakes_for_every_ready_task),
        cmocka_unit_test(test_pool_idle_workers_end_early),
        cmocka_unit_test(test_job_result_and_error),
        cmocka_unit_test(test_sorted_search),
        cmocka_unit_test(test_strfmt_and_dup),
        cmocka_unit_test(test_backoff_sequence),
        cmocka_unit_test(test_backoff_budget),
        cmocka_unit_test(test_buf_accessors),
        cmocka_unit_test(test_error_helpers),
        cmocka_unit_test(test_terminal_escape),
        cmocka_unit_test(test_utf8_decode),
        cmocka_unit_test(test_log_line_escaped),
        cmocka_unit_test(test_json_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
