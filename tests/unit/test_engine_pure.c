/* The engine's pure parts: semantic comparison and the task pool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine/canon.h"
#include "engine/pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *a;
    const char *b;
    int equal;
} s_cases[] = {
    /* key order */
    {"{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}", 1},
    /* a one-element list equals its element (IAM Action, Resource, Statement) */
    {"{\"Action\":\"kms:Decrypt\"}", "{\"Action\":[\"kms:Decrypt\"]}", 1},
    {"{\"Statement\":{\"Effect\":\"Allow\"}}", "{\"Statement\":[{\"Effect\":\"Allow\"}]}", 1},
    /* lists as sets */
    {"[\"b\",\"a\",\"c\"]", "[\"c\",\"b\",\"a\"]", 1},
    {"[\"a\",\"b\"]", "[\"a\",\"b\",\"c\"]", 0},
    {"[\"a\",\"a\"]", "[\"a\"]", 0},
    /* condition values: true == "true" */
    {"{\"Bool\":{\"kms:GrantIsForAWSResource\":true}}",
     "{\"Bool\":{\"kms:GrantIsForAWSResource\":\"true\"}}", 1},
    {"{\"Bool\":{\"x\":false}}", "{\"Bool\":{\"x\":\"true\"}}", 0},
    /* numeric matcher operands keep their order */
    {"{\"n\":[{\"numeric\":[\">\",0,\"<\",5]}]}", "{\"n\":[{\"numeric\":[\">\",0,\"<\",5]}]}", 1},
    {"{\"n\":[{\"numeric\":[\">\",0,\"<\",5]}]}", "{\"n\":[{\"numeric\":[\"<\",0,\">\",5]}]}", 0},
    /* strings exactly */
    {"\"Abc\"", "\"abc\"", 0},
    {"60", "60.0", 1},
    {"60", "61", 0},
    {"{\"a\":null}", "{}", 0},
    /* nested statements in another order */
    {"{\"Statement\":[{\"Sid\":\"A\",\"Action\":[\"x\",\"y\"]},{\"Sid\":\"B\"}]}",
     "{\"Statement\":[{\"Sid\":\"B\"},{\"Action\":[\"y\",\"x\"],\"Sid\":\"A\"}]}", 1},
};

static void test_canon_equivalences(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(s_cases) / sizeof(s_cases[0]); i++) {
        cJSON *a = cJSON_Parse(s_cases[i].a);
        cJSON *b = cJSON_Parse(s_cases[i].b);
        assert_non_null(a);
        assert_non_null(b);
        if (rdsbk_canon_equal(a, b) != (bool)s_cases[i].equal)
            fail_msg("case %zu: %s vs %s should be %s", i, s_cases[i].a, s_cases[i].b,
                     s_cases[i].equal ? "equal" : "different");
        cJSON_Delete(a);
        cJSON_Delete(b);
    }
    assert_true(rdsbk_canon_equal(NULL, NULL));
}

/* ---- pool ---- */

struct s_trace {
    pthread_mutex_t lock;
    size_t order[16];
    size_t n;
    int fail_task; /* -1: none */
    int running;
    int max_running;
};

static int s_task(size_t task, void *payload) {
    struct s_trace *t = payload;
    pthread_mutex_lock(&t->lock);
    t->running++;
    if (t->running > t->max_running)
        t->max_running = t->running;
    pthread_mutex_unlock(&t->lock);
    usleep(20000);
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

    memset(&t, 0, sizeof(t));
    pthread_mutex_init(&t.lock, NULL);
    t.fail_task = -1;
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
    memset(&t, 0, sizeof(t));
    pthread_mutex_init(&t.lock, NULL);
    t.fail_task = 1;
    rc = rdsbk_pool_run(results, &(struct rdsbk_pool_tasks){.n = 5, .deps = deps, .n_deps = n_deps},
                        1, false, s_task, &t);
    assert_int_equal(rc, RDSBK_ECONFLICT);
    assert_string_equal(rdsbk_error_last()->message, "task 1 failed");
    assert_int_equal(results[1].status, RDSBK_TASK_FAILED);
    assert_int_equal(results[3].status, RDSBK_TASK_SKIPPED);

    /* keep_going: independent tasks all run even after a failure */
    memset(&t, 0, sizeof(t));
    pthread_mutex_init(&t.lock, NULL);
    t.fail_task = 0;
    rc = rdsbk_pool_run(results, &(struct rdsbk_pool_tasks){.n = 5}, 2, true, s_task, &t);
    assert_int_equal(rc, RDSBK_ECONFLICT);
    assert_int_equal(t.n, 5);

    /* keep_going with dependencies: what waits for the failed task is skipped, the rest runs */
    memset(&t, 0, sizeof(t));
    pthread_mutex_init(&t.lock, NULL);
    t.fail_task = 2;
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

    memset(&t, 0, sizeof(t));
    pthread_mutex_init(&t.lock, NULL);
    t.fail_task = -1;
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
        memset(&t, 0, sizeof(t));
        pthread_mutex_init(&t.lock, NULL);
        t.fail_task = -1;
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
    memset(&t, 0, sizeof(t));
    pthread_mutex_init(&t.lock, NULL);
    t.fail_task = -1;
    assert_int_equal(
        rdsbk_pool_run(results, &(struct rdsbk_pool_tasks){.n = 6, .group_of = own, .n_groups = 6},
                       1, false, s_task, &t),
        0);
    assert_int_equal(t.max_running, 6);
    free(own);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canon_equivalences),
        cmocka_unit_test(test_pool_order_and_failure),
        cmocka_unit_test(test_pool_first_failure_by_index),
        cmocka_unit_test(test_pool_limit_per_group),
        cmocka_unit_test(test_pool_longest_chain_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
