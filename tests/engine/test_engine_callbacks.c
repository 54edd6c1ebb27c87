/*
 * The engine as a library, driven through its callbacks against the local emulator: what it
 * reports (the plan, each change's progress, the outcome), how it asks before changing anything,
 * and how it stops when told to. No output is read: the engine prints nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "emu_harness.h"
#include "rdsbk/config.h"
#include "rdsbk/engine.h"
#include "rdsbk/error.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What one run reported. */
struct s_record {
    int events[RDSBK_EVENT_KEPT + 1];
    int steps[RDSBK_STEP_FAILED + 1];
    struct rdsbk_plan_counts planned;
    size_t plan_changes;
    bool plan_destroy;
    struct rdsbk_plan_counts done;
    int failed, skipped;
    int key_days;
    char order[64]; /* the event types in order, one letter each (A + type), repeats folded */
    int confirms;
    int confirm_answer; /* what the confirm callback answers */
};

static struct {
    struct emu_harness *emu;
    char dir[PATH_MAX - 64];
    char topology[PATH_MAX];
    char state[PATH_MAX];
    struct rdsbk_topology *topo;
} s_g;

static void s_on_event(const struct rdsbk_engine_event *ev, void *payload) {
    struct s_record *r = payload;
    size_t len = strlen(r->order);
    char letter = (char)('A' + ev->type);

    r->events[ev->type]++;
    if ((len == 0 || r->order[len - 1] != letter) && len + 1 < sizeof(r->order))
        r->order[len] = letter;
    switch (ev->type) {
    case RDSBK_EVENT_PLAN:
        r->planned = ev->plan->counts;
        r->plan_changes = ev->plan->n_changes;
        r->plan_destroy = ev->plan->destroy;
        break;
    case RDSBK_EVENT_PROGRESS:
        r->steps[ev->step]++;
        break;
    case RDSBK_EVENT_KEY_DELETION:
        r->key_days = ev->days;
        break;
    case RDSBK_EVENT_APPLIED:
    case RDSBK_EVENT_APPLY_FAILED:
        r->done = ev->done;
        r->failed = ev->failed;
        r->skipped = ev->skipped;
        break;
    default:
        break;
    }
}

static int s_confirm(const char *question, void *payload) {
    struct s_record *r = payload;

    r->confirms++;
    assert_non_null(strstr(question, "apply these changes"));
    return r->confirm_answer ? rdsbk_error_set(r->confirm_answer, "declined") : 0;
}

static struct rdsbk_engine_options s_options(struct s_record *r) {
    struct rdsbk_engine_options o;

    memset(&o, 0, sizeof(o));
    memset(r, 0, sizeof(*r));
    o.state_path = s_g.state;
    o.parallelism = 10;
    o.refresh = true;
    o.callbacks.event = s_on_event;
    o.callbacks.confirm = s_confirm;
    o.callbacks.payload = r;
    return o;
}

static size_t s_resources_in_emulator(void) {
    cJSON *inv = emu_harness_inventory(s_g.emu);
    size_t n = (size_t)cJSON_GetArraySize(inv);

    cJSON_Delete(inv);
    return n;
}

static int s_setup(void **state) {
    struct rdsbk_diagnostics diags = {0};
    FILE *f;

    (void)state;
    if (emu_harness_start(&s_g.emu, NULL) != 0)
        return -1;
    snprintf(s_g.dir, sizeof(s_g.dir), "/tmp/rdsbk-engine-cb.XXXXXX");
    if (!mkdtemp(s_g.dir))
        return -1;
    snprintf(s_g.topology, sizeof(s_g.topology), "%s/rdsbk.yaml", s_g.dir);
    snprintf(s_g.state, sizeof(s_g.state), "%s/rdsbk.state.json", s_g.dir);
    f = fopen(s_g.topology, "w");
    if (!f)
        return -1;
    fprintf(f,
            "version: 1\nstack: cb\nsource:\n  account: \"%s\"\n  region: eu-central-1\n"
            "  profile: \"%s\"\n  instances: [orders-db]\nbackup:\n  account: \"%s\"\n"
            "  region: eu-west-1\n  profile: \"%s\"\nkey:\n  deletion_window_days: 7\n"
            "endpoints:\n  default: %s\n",
            EMU_ACCOUNT_A, EMU_ACCOUNT_A, EMU_ACCOUNT_B, EMU_ACCOUNT_B, emu_harness_url(s_g.emu));
    fclose(f);
    if (rdsbk_topology_load(&s_g.topo, &diags, s_g.topology) != 0) {
        rdsbk_diagnostics_clean_up(&diags);
        return -1;
    }
    return 0;
}

static int s_teardown(void **state) {
    char path[PATH_MAX + 16];

    (void)state;
    rdsbk_topology_free(s_g.topo);
    emu_harness_stop(s_g.emu);
    unlink(s_g.topology);
    unlink(s_g.state);
    snprintf(path, sizeof(path), "%s.backup", s_g.state);
    unlink(path);
    snprintf(path, sizeof(path), "%s.lock", s_g.state);
    unlink(path);
    rmdir(s_g.dir);
    return 0;
}

/* A plan reports the plan and nothing else, and asks nothing. */
static void test_plan_reports_the_plan(void **state) {
    struct s_record r;
    struct rdsbk_engine_options o = s_options(&r);
    bool changes = false;

    (void)state;
    assert_int_equal(rdsbk_engine_plan(&changes, s_g.topo, &o), 0);
    assert_true(changes);
    assert_string_equal(r.order, "A"); /* PLAN only */
    assert_true(r.planned.add > 10);
    assert_int_equal(r.planned.change + r.planned.destroy, 0);
    assert_int_equal(r.plan_changes, (size_t)r.planned.add);
    assert_false(r.plan_destroy);
    assert_int_equal(r.confirms, 0);
    assert_int_equal(s_resources_in_emulator(), 0);
}

/* Declined, apply stops after the plan with the callback's error, nothing written. */
static void test_apply_declined_changes_nothing(void **state) {
    struct s_record r;
    struct rdsbk_engine_options o = s_options(&r);

    (void)state;
    r.confirm_answer = RDSBK_EUSAGE;
    assert_int_equal(rdsbk_engine_apply(s_g.topo, &o), RDSBK_EUSAGE);
    assert_int_equal(r.confirms, 1);
    assert_string_equal(r.order, "A");
    assert_int_equal(s_resources_in_emulator(), 0);
    assert_int_equal(access(s_g.state, F_OK), -1); /* no state written either */
}

/* Without a way to confirm and without auto_approve, the engine refuses on its own. */
static void test_apply_without_confirm_refuses(void **state) {
    struct s_record r;
    struct rdsbk_engine_options o = s_options(&r);

    (void)state;
    o.callbacks.confirm = NULL;
    assert_int_equal(rdsbk_engine_apply(s_g.topo, &o), RDSBK_EUSAGE);
    assert_non_null(strstr(rdsbk_error_last()->message, "--auto-approve"));
    assert_int_equal(s_resources_in_emulator(), 0);
}

/* Cancelled before the first change: none starts, every change counts as not attempted. */
static void test_apply_cancelled_starts_nothing(void **state) {
    static volatile sig_atomic_t cancel = 1;
    struct s_record r;
    struct rdsbk_engine_options o = s_options(&r);

    (void)state;
    o.cancel = &cancel;
    assert_int_equal(rdsbk_engine_apply(s_g.topo, &o), RDSBK_EINTERRUPTED);
    /* PLAN, CHANGES_BEGIN, CHANGES_END, APPLY_FAILED: no PROGRESS */
    assert_string_equal(r.order, "AEGJ");
    assert_int_equal(r.skipped, r.planned.add);
    assert_int_equal(r.done.add, 0);
    assert_int_equal(s_resources_in_emulator(), 0);
}

/* Confirmed, every change reports its steps in order and the outcome adds up to the plan. */
static void test_apply_reports_each_change(void **state) {
    struct s_record r;
    struct rdsbk_engine_options o = s_options(&r);
    bool changes = true;

    (void)state;
    assert_int_equal(rdsbk_engine_apply(s_g.topo, &o), 0);
    assert_int_equal(r.confirms, 1);
    assert_string_equal(r.order, "AEFGI"); /* PLAN, BEGIN, PROGRESS..., END, APPLIED */
    assert_int_equal(r.steps[RDSBK_STEP_CREATING], r.planned.add);
    assert_int_equal(r.steps[RDSBK_STEP_DONE], r.planned.add);
    assert_int_equal(r.steps[RDSBK_STEP_FAILED], 0);
    assert_int_equal(r.done.add, r.planned.add);
    assert_true(s_resources_in_emulator() > 0);

    o = s_options(&r);
    assert_int_equal(rdsbk_engine_plan(&changes, s_g.topo, &o), 0);
    assert_false(changes);
    assert_false(rdsbk_plan_counts_any(&r.planned));
}

/* Destroy with auto_approve asks nothing, announces the key's deletion and removes the rest. */
static void test_destroy_announces_the_key(void **state) {
    struct s_record r;
    struct rdsbk_engine_options o = s_options(&r);

    (void)state;
    o.auto_approve = true;
    assert_int_equal(rdsbk_engine_destroy(s_g.topo, &o), 0);
    assert_int_equal(r.confirms, 0);
    assert_true(r.plan_destroy);
    assert_int_equal(r.events[RDSBK_EVENT_KEY_DELETION], 1);
    assert_int_equal(r.key_days, 7);
    assert_int_equal(r.done.destroy, r.planned.destroy);
    assert_int_equal(r.events[RDSBK_EVENT_APPLIED], 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_reports_the_plan),
        cmocka_unit_test(test_apply_declined_changes_nothing),
        cmocka_unit_test(test_apply_without_confirm_refuses),
        cmocka_unit_test(test_apply_cancelled_starts_nothing),
        cmocka_unit_test(test_apply_reports_each_change),
        cmocka_unit_test(test_destroy_announces_the_key),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
