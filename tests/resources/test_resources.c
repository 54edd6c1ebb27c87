/*
 * The resource types against the local emulator, with the desired attributes the model builds
 * for examples/local.yaml (A = 111111111111, B = 222222222222, Region-B eu-west-1), and those
 * written here for what it does not make (a statement of the default bus, the alert topic and a
 * subscription to it, a function's dead-letter queue).
 *
 * For every type: read before create is RDSBK_ENOTFOUND; create returns exactly the desired
 * attributes (JSON compared with nothing normalised but key order; "arn"/"key_id" are extra,
 * "package" is not readable); read by id and read by name without an id (adoption) return the
 * same; each updatable attribute changed alone shows in update's result and in a fresh read
 * ("url" of a queue is extra too);
 * delete makes read RDSBK_ENOTFOUND, and a second delete through rdsbk_resource_remove succeeds
 * (a type's own remove reports the resource gone: test_remove_missing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "emu_harness.h"

#include "rdsbk/config.h"
#include "rdsbk/error.h"
#include "rdsbk/json_util.h"
#include "rdsbk/lambda_pkg.h"
#include "rdsbk/log.h"
#include "rdsbk/model.h"
#include "rdsbk/resource.h"
#include "rdsbk/services/iam.h"
#include "rdsbk/services/kms.h"
#include "rdsbk/services/sns.h"
#include "rdsbk/services/sqs.h"
#include "engine/engine_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RB "eu-west-1"
#define A EMU_ACCOUNT_A
#define B EMU_ACCOUNT_B
#define FAKE_KEY_ARN "arn:aws:kms:eu-west-1:222222222222:key/0b0e7c4e-6f00-4a55-9b8e-000000000001"

static struct {
    struct emu_harness *emu;
    struct rdsbk_graph *graph;
    struct rdsbk_client *a; /* account A in Region-B */
    struct rdsbk_client *b; /* account B in Region-B */
    /* A statement of the default bus, as a state written before the stack had a bus of its own
     * holds (the graph no longer makes them; their type deletes them). */
    struct rdsbk_resource legacy_statement;
    /* The stack's alert topic and an email subscription to it (issue 19), as these cases write
     * them, looked up before the graph's: the model's own may name principals that would have
     * to exist first. */
    struct rdsbk_resource alerts_topic;
    struct rdsbk_resource alerts_subscription;
    /* A dead-letter queue of the copy function, as these cases write it until the model makes
     * one. */
    struct rdsbk_resource dlq;
} s_g;

#define S_LEGACY_STATEMENT "backup.events_permission[111111111111]"
#define S_ALERTS_TOPIC "backup.sns_topic.alerts"
#define S_ALERTS_SUBSCRIPTION "backup.sns_subscription[ops@example.com]"
#define S_TOPIC_ARN "arn:aws:sns:" RB ":" B ":rdsbk-local-demo-alerts"
#define S_RULE_ARN "arn:aws:events:" RB ":" B ":rule/rdsbk-local-demo-bus/rdsbk-local-demo-alerts"
#define S_DLQ "account[111111111111].sqs_queue.copy_dlq"
#define S_DLQ_NAME "rdsbk-local-demo-copy-dlq"
#define S_DLQ_ARN "arn:aws:sqs:" RB ":" A ":" S_DLQ_NAME

/* ---- fixtures ------------------------------------------------------------------------------ */

static int s_group_setup(long propagation_ms) {
    static const char *fault_args[] = {
        "--fault-rate", NULL, "--fault-kinds", "throttle,500,503", "--seed", "7", NULL};
    struct emu_harness_options o = {0};
    struct rdsbk_diagnostics d = {0};
    struct rdsbk_topology *t = NULL;
    char path[512];

    memset(&s_g, 0, sizeof(s_g));
    if (getenv("RDSBK_TEST_DEBUG"))
        rdsbk_log_set_level(RDSBK_LOG_DEBUG);
    snprintf(path, sizeof(path), "%s/examples/local.yaml", RDSBK_SOURCE_DIR);
    if (rdsbk_topology_load(&t, &d, path) != 0 || rdsbk_model_build(&s_g.graph, t) != 0) {
        fprintf(stderr, "cannot build the graph of %s: %s\n", path, rdsbk_error_last()->message);
        rdsbk_diagnostics_clean_up(&d);
        rdsbk_topology_free(t);
        return -1;
    }
    rdsbk_diagnostics_clean_up(&d);
    rdsbk_topology_free(t);
    s_g.legacy_statement = (struct rdsbk_resource){
        .address = S_LEGACY_STATEMENT,
        .type = RDSBK_RT_EVENTS_PERMISSION,
        .account = B,
        .region = RB,
        .name = "rdsbk-local-demo-" A,
        .desired = cJSON_Parse("{\"statement_id\": \"rdsbk-local-demo-" A "\", \"principal\": "
                               "\"" A "\", \"action\": \"events:PutEvents\"}"),
    };
    s_g.alerts_topic = (struct rdsbk_resource){
        .address = S_ALERTS_TOPIC,
        .type = RDSBK_RT_SNS_TOPIC,
        .account = B,
        .region = RB,
        .name = "rdsbk-local-demo-alerts",
        .desired = cJSON_Parse(
            "{\"name\": \"rdsbk-local-demo-alerts\", \"policy\": {\"Version\": \"2012-10-17\", "
            "\"Statement\": [{\"Sid\": \"EventsPublish\", \"Effect\": \"Allow\", \"Principal\": "
            "{\"Service\": \"events.amazonaws.com\"}, \"Action\": \"sns:Publish\", \"Resource\": "
            "\"" S_TOPIC_ARN "\", \"Condition\": {\"ArnEquals\": {\"aws:SourceArn\": "
            "\"" S_RULE_ARN "\"}}}]}, \"tags\": {\"purpose\": \"demo\", \"rdsbk:stack\": "
            "\"local-demo\"}}"),
    };
    s_g.alerts_subscription = (struct rdsbk_resource){
        .address = S_ALERTS_SUBSCRIPTION,
        .type = RDSBK_RT_SNS_SUBSCRIPTION,
        .account = B,
        .region = RB,
        .name = "ops@example.com",
        .desired = cJSON_Parse("{\"topic_arn\": \"" S_TOPIC_ARN "\", \"protocol\": \"email\", "
                               "\"endpoint\": \"ops@example.com\"}"),
    };
    s_g.dlq = (struct rdsbk_resource){
        .address = S_DLQ,
        .type = RDSBK_RT_SQS_QUEUE,
        .account = A,
        .region = RB,
        .name = S_DLQ_NAME,
        .desired = cJSON_Parse(
            "{\"name\": \"" S_DLQ_NAME "\", \"message_retention_seconds\": 1209600, "
            "\"visibility_timeout_seconds\": 30, \"sqs_managed_sse\": true, \"policy\": "
            "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"OwnerOnly\", \"Effect\": "
            "\"Allow\", \"Principal\": {\"AWS\": \"arn:aws:iam::" A ":root\"}, \"Action\": "
            "\"sqs:SendMessage\", \"Resource\": \"" S_DLQ_ARN "\"}]}, \"tags\": {\"purpose\": "
            "\"demo\", \"rdsbk:stack\": \"local-demo\"}}"),
    };
    o.iam_propagation_ms = propagation_ms;
    o.sqs_name_reuse_wait_s = 60; /* as AWS: test_sqs_queue_deleted_recently */
    /* RDSBK_TEST_FAULT_RATE=0.05: the same cases through throttling and 5xx answers (by hand;
     * slower, as every fault costs a retry delay) */
    fault_args[1] = getenv("RDSBK_TEST_FAULT_RATE");
    if (fault_args[1] && *fault_args[1])
        o.extra_args = fault_args;
    if (emu_harness_start(&s_g.emu, &o) != 0)
        return -1;
    if (emu_harness_client(&s_g.a, s_g.emu, A, RB) != 0 ||
        emu_harness_client(&s_g.b, s_g.emu, B, RB) != 0) {
        fprintf(stderr, "client: %s\n", rdsbk_error_last()->message);
        return -1;
    }
    return 0;
}

static int s_setup_plain(void **state) {
    (void)state;
    return s_group_setup(0);
}

static int s_setup_propagation(void **state) {
    (void)state;
    return s_group_setup(1500);
}

static int s_teardown(void **state) {
    (void)state;
    rdsbk_client_free(s_g.a);
    rdsbk_client_free(s_g.b);
    emu_harness_stop(s_g.emu);
    rdsbk_graph_free(s_g.graph);
    cJSON_Delete(s_g.legacy_statement.desired);
    cJSON_Delete(s_g.alerts_topic.desired);
    cJSON_Delete(s_g.alerts_subscription.desired);
    cJSON_Delete(s_g.dlq.desired);
    memset(&s_g, 0, sizeof(s_g));
    return 0;
}

static int s_reset(void **state) {
    (void)state;
    return emu_harness_reset(s_g.emu);
}

/* ---- helpers ------------------------------------------------------------------------------- */

static const char *s_lookup(const char *address, const char *attr, void *payload) {
    (void)payload;
    if (strcmp(address, "backup.kms_key.shared") == 0 && strcmp(attr, "arn") == 0)
        return FAKE_KEY_ARN;
    return NULL;
}

static const struct rdsbk_resource *s_resource(const char *address) {
    const struct rdsbk_resource *r = NULL;

    if (strcmp(address, S_ALERTS_TOPIC) == 0)
        r = &s_g.alerts_topic;
    else if (strcmp(address, S_ALERTS_SUBSCRIPTION) == 0)
        r = &s_g.alerts_subscription;
    else if (strcmp(address, S_DLQ) == 0)
        r = &s_g.dlq;
    else
        r = rdsbk_graph_find(s_g.graph, address);
    if (!r && strcmp(address, S_LEGACY_STATEMENT) == 0)
        r = &s_g.legacy_statement;
    if (!r)
        fail_msg("no resource %s in the graph", address);
    return r;
}

/* The model's desired attributes of `address`, references resolved. Caller deletes. */
static cJSON *s_desired(const char *address) {
    int unknown = -1;
    cJSON *d = rdsbk_model_resolve(s_resource(address)->desired, s_lookup, NULL, &unknown);

    assert_non_null(d);
    assert_int_equal(unknown, 0);
    return d;
}

static void s_ref(struct rdsbk_resource_ref *ref, const char *address, const cJSON *attributes,
                  const char *id) {
    const struct rdsbk_resource *r = s_resource(address);

    memset(ref, 0, sizeof(*ref));
    ref->type = r->type;
    ref->account = r->account;
    ref->region = r->region;
    ref->name = r->name;
    ref->id = id;
    ref->stack = s_g.graph->stack;
    ref->attributes = attributes;
}

static void s_print_mismatch(const char *what, const cJSON *got, const cJSON *want) {
    char *g = cJSON_Print(got);
    char *w = cJSON_Print(want);
    fprintf(stderr, "%s: got\n%s\nwanted\n%s\n", what, g ? g : "(null)", w ? w : "(null)");
    cJSON_free(g);
    cJSON_free(w);
}

/* `actual` is exactly `desired`, but for what read adds ("arn", "key_id", "url" when not desired)
 * and what it cannot read ("package"). */
static void s_assert_matches(const char *what, const cJSON *actual, const cJSON *desired) {
    static const char *const extra[] = {"arn", "key_id", "url"};
    cJSON *a = cJSON_Duplicate(actual, true);
    cJSON *d = cJSON_Duplicate(desired, true);
    bool same;

    assert_non_null(a);
    assert_non_null(d);
    for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
        if (!cJSON_HasObjectItem(desired, extra[i]))
            cJSON_DeleteItemFromObjectCaseSensitive(a, extra[i]);
    cJSON_DeleteItemFromObjectCaseSensitive(d, "package");
    same = cJSON_Compare(a, d, true);
    if (!same)
        s_print_mismatch(what, a, d);
    cJSON_Delete(a);
    cJSON_Delete(d);
    assert_true(same);
}

static void s_expect_ok(int rc, const char *what) {
    if (rc != 0)
        fail_msg("%s: %d %s (%s)", what, rc, rdsbk_error_last()->message,
                 rdsbk_error_last()->aws_code);
}

static void s_expect_not_found(struct rdsbk_client *c, const struct rdsbk_resource_ref *ref,
                               const char *what) {
    cJSON *actual = NULL;
    char *id = NULL;
    int rc = rdsbk_resource_ops(ref->type)->read(&actual, &id, c, ref);

    if (rc != RDSBK_ENOTFOUND)
        fail_msg("%s: read gave %d (%s), not RDSBK_ENOTFOUND", what, rc,
                 rdsbk_error_last()->message);
    assert_null(actual);
    assert_null(id);
}

/* Creates `address` with `desired` (borrowed); returns the attributes and the id (caller's). */
static cJSON *s_create(char **id_out, struct rdsbk_client *c, const char *address,
                       const cJSON *desired) {
    struct rdsbk_resource_ref ref;
    cJSON *actual = NULL;

    s_ref(&ref, address, desired, NULL);
    s_expect_ok(rdsbk_resource_ops(ref.type)->create(&actual, id_out, c, &ref, desired), address);
    assert_non_null(actual);
    assert_non_null(*id_out);
    return actual;
}

typedef void (*s_change_fn)(cJSON *desired);

struct s_change {
    const char *what;
    s_change_fn apply;
};

/* The whole life of one resource: see the top of the file. Takes `desired` over. */
static void s_lifecycle(struct rdsbk_client *c, const char *address, cJSON *desired,
                        const struct s_change *changes, size_t n_changes) {
    struct rdsbk_resource_ref ref;
    const struct rdsbk_resource_ops *ops;
    cJSON *actual = NULL;
    cJSON *again = NULL;
    char *id = NULL;
    char *id2 = NULL;

    s_ref(&ref, address, desired, NULL);
    ops = rdsbk_resource_ops(ref.type);
    assert_non_null(ops);
    assert_int_equal(ops->type, ref.type);
    s_expect_not_found(c, &ref, "before create");

    /* create, then read by id and by name */
    actual = s_create(&id, c, address, desired);
    s_assert_matches("create", actual, desired);
    ref.id = id;
    s_expect_ok(ops->read(&again, &id2, c, &ref), "read by id");
    s_assert_matches("read by id", again, desired);
    assert_string_equal(id2, id);
    cJSON_Delete(again);
    free(id2);
    again = NULL;
    id2 = NULL;
    ref.id = NULL;
    s_expect_ok(ops->read(&again, &id2, c, &ref), "read without an id");
    s_assert_matches("read without an id", again, desired);
    assert_string_equal(id2, id);
    cJSON_Delete(again);
    free(id2);
    again = NULL;
    id2 = NULL;

    /* each change alone */
    for (size_t i = 0; i < n_changes; i++) {
        cJSON *next = cJSON_Duplicate(desired, true);
        cJSON *after = NULL;
        changes[i].apply(next);
        assert_false(cJSON_Compare(next, desired, true));
        s_ref(&ref, address, desired, id);
        s_expect_ok(ops->update(&after, c, &ref, next, actual), changes[i].what);
        s_assert_matches(changes[i].what, after, next);
        s_ref(&ref, address, next, id);
        s_expect_ok(ops->read(&again, &id2, c, &ref), changes[i].what);
        s_assert_matches(changes[i].what, again, next);
        cJSON_Delete(again);
        free(id2);
        again = NULL;
        id2 = NULL;
        cJSON_Delete(actual);
        cJSON_Delete(desired);
        actual = after;
        desired = next;
    }

    /* delete, twice */
    s_ref(&ref, address, desired, id);
    s_expect_ok(ops->remove(c, &ref), "delete");
    s_expect_not_found(c, &ref, "after delete (by id)");
    ref.id = NULL;
    s_expect_not_found(c, &ref, "after delete (by name)");
    ref.id = id;
    s_expect_ok(rdsbk_resource_remove(c, &ref), "delete again");

    cJSON_Delete(actual);
    cJSON_Delete(desired);
    free(id);
}

static void s_set_str(cJSON *obj, const char *key, const char *value) {
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    assert_non_null(cJSON_AddStringToObject(obj, key, value));
}

static void s_set_num(cJSON *obj, const char *key, double value) {
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    assert_non_null(cJSON_AddNumberToObject(obj, key, value));
}

/* tags: one added, "purpose" changed, none removed -> then the next change removes one */
static void s_change_tags(cJSON *d) {
    cJSON *tags = cJSON_GetObjectItem(d, "tags");
    s_set_str(tags, "purpose", "changed");
    s_set_str(tags, "owner", "team-a");
}

static void s_drop_tag(cJSON *d) {
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItem(d, "tags"), "purpose");
}

static void s_change_description(cJSON *d) {
    s_set_str(d, "description", "rdsbk: a changed description");
}

/* Creates a resource of the graph that a test needs to exist first. */
static void s_prerequisite(struct rdsbk_client *c, const char *address) {
    cJSON *d = s_desired(address);
    char *id = NULL;
    cJSON *actual = s_create(&id, c, address, d);
    cJSON_Delete(actual);
    cJSON_Delete(d);
    free(id);
}

static long s_ms_since(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (long)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* How many logged requests had `operation`; *first_status_out the status of the first. */
static int s_count_requests(const char *operation, int *first_status_out, int *last_status_out) {
    cJSON *log = emu_harness_requests(s_g.emu);
    const cJSON *r;
    int n = 0;

    assert_non_null(log);
    cJSON_ArrayForEach(r, log) {
        const cJSON *op = cJSON_GetObjectItem(r, "operation");
        int status = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(r, "status"));
        if (!cJSON_IsString(op) || strcmp(op->valuestring, operation) != 0)
            continue;
        if (n == 0 && first_status_out)
            *first_status_out = status;
        if (last_status_out)
            *last_status_out = status;
        n++;
    }
    cJSON_Delete(log);
    return n;
}

/* ---- iam_role ------------------------------------------------------------------------------ */

static void s_trust_events(cJSON *d) {
    cJSON *st = cJSON_GetArrayItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(d, "assume_role_policy"), "Statement"), 0);
    s_set_str(cJSON_GetObjectItem(st, "Principal"), "Service", "events.amazonaws.com");
}

static void test_iam_role(void **state) {
    static const struct s_change changes[] = {{"description", s_change_description},
                                              {"assume_role_policy", s_trust_events},
                                              {"tags added and changed", s_change_tags},
                                              {"tag removed", s_drop_tag}};
    (void)state;
    s_lifecycle(s_g.a, "account[111111111111].iam_role.copy",
                s_desired("account[111111111111].iam_role.copy"), changes,
                sizeof(changes) / sizeof(changes[0]));
}

/* AWS refuses DeleteRole while policies are attached or inline: delete takes them off first. */
static void test_iam_role_delete_with_policies(void **state) {
    const char *role_addr = "account[111111111111].iam_role.share";
    cJSON *d = s_desired(role_addr);
    struct rdsbk_iam_create_policy_input pin = {0};
    struct rdsbk_iam_policy policy = {0};
    struct rdsbk_resource_ref ref;
    char **names = NULL;
    size_t n_names = 0;
    (void)state;

    s_prerequisite(s_g.a, role_addr);
    s_prerequisite(s_g.a, "account[111111111111].iam_role_policy.share");
    pin.name = "rdsbk-test-managed";
    pin.document = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                   "\"Action\":\"s3:ListAllMyBuckets\",\"Resource\":\"*\"}]}";
    s_expect_ok(rdsbk_iam_create_policy(&policy, s_g.a, &pin), "CreatePolicy");
    s_expect_ok(rdsbk_iam_attach_role_policy(s_g.a, "rdsbk-local-demo-share", policy.arn),
                "AttachRolePolicy");
    s_expect_ok(rdsbk_iam_list_role_policies(&names, &n_names, s_g.a, "rdsbk-local-demo-share"),
                "ListRolePolicies");
    assert_int_equal(n_names, 1);
    rdsbk_strings_free(names, n_names);

    s_ref(&ref, role_addr, d, "rdsbk-local-demo-share");
    s_expect_ok(rdsbk_resource_ops(RDSBK_RT_IAM_ROLE)->remove(s_g.a, &ref), "delete role");
    s_expect_not_found(s_g.a, &ref, "role after delete");
    /* the managed policy stays (it is not ours to delete), detached */
    rdsbk_iam_policy_clean_up(&policy);
    s_expect_ok(
        rdsbk_iam_get_policy(&policy, s_g.a, "arn:aws:iam::111111111111:policy/rdsbk-test-managed"),
        "GetPolicy");
    assert_int_equal(policy.attachment_count, 0);
    rdsbk_iam_policy_clean_up(&policy);
    cJSON_Delete(d);
}

/* ---- iam_role_policy ----------------------------------------------------------------------- */

static void s_policy_fewer_actions(cJSON *d) {
    cJSON *st =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "policy"), "Statement"), 0);
    cJSON_DeleteItemFromArray(cJSON_GetObjectItem(st, "Action"), 0);
}

static void test_iam_role_policy(void **state) {
    static const struct s_change changes[] = {{"policy", s_policy_fewer_actions}};
    const char *addr = "account[111111111111].iam_role_policy.share";
    struct rdsbk_resource_ref ref;
    cJSON *d = s_desired(addr);
    (void)state;

    /* no role: not found, and deleting is success */
    s_ref(&ref, addr, d, NULL);
    s_expect_not_found(s_g.a, &ref, "policy of a missing role");
    s_expect_ok(rdsbk_resource_remove(s_g.a, &ref), "delete the policy of a missing role");
    s_prerequisite(s_g.a, "account[111111111111].iam_role.share");
    s_lifecycle(s_g.a, addr, d, changes, 1);
}

/* ---- kms_key ------------------------------------------------------------------------------- */

static void s_key_policy_smaller(cJSON *d) {
    cJSON_DeleteItemFromArray(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "policy"), "Statement"),
                              2);
}

static void s_key_description(cJSON *d) {
    s_set_str(d, "description", "rdsbk local-demo: a changed description");
}

struct s_late_role {
    struct timespec delay;
};

/* Creates the copy role the key policy names after a delay, as IAM propagation would. */
static void *s_create_role_later(void *arg) {
    struct s_late_role *late = arg;
    cJSON *d = s_desired("account[111111111111].iam_role.copy");
    struct rdsbk_resource_ref ref;
    cJSON *actual = NULL;
    char *id = NULL;
    int rc;

    nanosleep(&late->delay, NULL);
    s_ref(&ref, "account[111111111111].iam_role.copy", d, NULL);
    rc = rdsbk_resource_ops(RDSBK_RT_IAM_ROLE)->create(&actual, &id, s_g.a, &ref, d);
    if (rc != 0)
        fprintf(stderr, "late role: %d %s\n", rc, rdsbk_error_last()->message);
    cJSON_Delete(actual);
    cJSON_Delete(d);
    free(id);
    return NULL;
}

/* CreateKey is refused (MalformedPolicyDocumentException) while a principal of the key policy is
 * unknown to IAM; create retries until it is known. */
static void test_kms_key_waits_for_principals(void **state) {
    const char *addr = "backup.kms_key.shared";
    struct s_late_role late = {{1, 200 * 1000000L}};
    struct timespec t0;
    pthread_t thread;
    cJSON *d = s_desired(addr);
    cJSON *actual;
    char *id = NULL;
    int first = 0;
    int last = 0;
    (void)state;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(pthread_create(&thread, NULL, s_create_role_later, &late), 0);
    actual = s_create(&id, s_g.b, addr, d);
    pthread_join(thread, NULL);
    s_assert_matches("create after the role appeared", actual, d);
    assert_true(s_ms_since(&t0) >= 1200);
    assert_true(s_count_requests("CreateKey", &first, &last) >= 2);
    assert_int_equal(first, 400);
    assert_int_equal(last, 200);
    cJSON_Delete(actual);
    cJSON_Delete(d);
    free(id);
}

static void test_kms_key(void **state) {
    static const struct s_change changes[] = {{"description", s_key_description},
                                              {"policy", s_key_policy_smaller},
                                              {"tags added and changed", s_change_tags},
                                              {"tag removed", s_drop_tag}};
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(RDSBK_RT_KMS_KEY);
    (void)state;

    assert_non_null(ops->no_diff);
    assert_string_equal(ops->no_diff[0], "deletion_window_days");
    assert_string_equal(ops->force_new[0], "multi_region");
    s_prerequisite(s_g.a, "account[111111111111].iam_role.copy");
    s_lifecycle(s_g.b, "backup.kms_key.shared", s_desired("backup.kms_key.shared"), changes,
                sizeof(changes) / sizeof(changes[0]));
}

/* A key pending deletion reads as not found and is not adopted; the stack's next key is. The
 * window is the desired deletion_window_days. */
static void test_kms_key_pending_deletion(void **state) {
    const char *addr = "backup.kms_key.shared";
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(RDSBK_RT_KMS_KEY);
    struct rdsbk_resource_ref ref;
    cJSON *d = s_desired(addr);
    cJSON *first;
    cJSON *second;
    cJSON *adopted = NULL;
    cJSON *meta = NULL;
    char *old_id = NULL;
    char *new_id = NULL;
    char *adopted_id = NULL;
    (void)state;

    s_prerequisite(s_g.a, "account[111111111111].iam_role.copy");
    first = s_create(&old_id, s_g.b, addr, d);
    s_ref(&ref, addr, d, old_id);
    s_expect_ok(ops->remove(s_g.b, &ref), "schedule deletion");
    s_expect_ok(rdsbk_kms_describe_key(&meta, s_g.b, old_id), "DescribeKey");
    assert_string_equal(cJSON_GetObjectItem(meta, "KeyState")->valuestring, "PendingDeletion");
    assert_int_equal(cJSON_GetObjectItem(meta, "PendingDeletionWindowInDays")->valueint,
                     cJSON_GetObjectItem(d, "deletion_window_days")->valueint);
    cJSON_Delete(meta);
    s_expect_not_found(s_g.b, &ref, "pending deletion, by id");
    ref.id = NULL;
    s_expect_not_found(s_g.b, &ref, "pending deletion, adoption");
    ref.id = old_id;
    s_expect_ok(ops->remove(s_g.b, &ref), "delete a key already pending deletion");

    second = s_create(&new_id, s_g.b, addr, d);
    assert_string_not_equal(new_id, old_id);
    ref.id = NULL;
    s_expect_ok(ops->read(&adopted, &adopted_id, s_g.b, &ref), "adopt");
    assert_string_equal(adopted_id, new_id);
    s_assert_matches("adopted", adopted, d);

    /* deleting a key already pending deletion (a retry whose first reply was lost) still takes
     * the stack's other live keys along: here the second one is such a twin */
    ref.id = old_id;
    s_expect_ok(ops->remove(s_g.b, &ref), "delete a pending key again, with a live twin");
    s_expect_ok(rdsbk_kms_describe_key(&meta, s_g.b, new_id), "DescribeKey of the twin");
    assert_string_equal(cJSON_GetObjectItem(meta, "KeyState")->valuestring, "PendingDeletion");
    cJSON_Delete(meta);

    cJSON_Delete(first);
    cJSON_Delete(second);
    cJSON_Delete(adopted);
    cJSON_Delete(d);
    free(old_id);
    free(new_id);
    free(adopted_id);
}

/* ---- kms_alias ----------------------------------------------------------------------------- */

static char s_second_key[64];

static void s_alias_retarget(cJSON *d) {
    s_set_str(d, "target_key_id", s_second_key);
}

static void test_kms_alias(void **state) {
    static const struct s_change changes[] = {{"target_key_id", s_alias_retarget}};
    struct rdsbk_kms_create_key_input in = {0};
    cJSON *k1 = NULL;
    cJSON *k2 = NULL;
    cJSON *d = cJSON_CreateObject();
    (void)state;

    in.description = "alias test";
    s_expect_ok(rdsbk_kms_create_key(&k1, s_g.b, &in), "CreateKey 1");
    s_expect_ok(rdsbk_kms_create_key(&k2, s_g.b, &in), "CreateKey 2");
    snprintf(s_second_key, sizeof(s_second_key), "%s",
             cJSON_GetObjectItem(k2, "KeyId")->valuestring);
    cJSON_AddStringToObject(d, "name", s_resource("backup.kms_alias.shared")->name);
    cJSON_AddStringToObject(d, "target_key_id", cJSON_GetObjectItem(k1, "KeyId")->valuestring);
    /* the model's shape, the reference resolved */
    assert_true(
        cJSON_HasObjectItem(s_resource("backup.kms_alias.shared")->desired, "target_key_id"));
    assert_string_equal(s_resource("backup.kms_alias.shared")->name, "alias/rdsbk-local-demo");
    s_lifecycle(s_g.b, "backup.kms_alias.shared", d, changes, 1);
    cJSON_Delete(k1);
    cJSON_Delete(k2);
}

/* ---- events_rule --------------------------------------------------------------------------- */

static void s_rule_disabled(cJSON *d) {
    s_set_str(d, "state", "DISABLED");
}

static void s_rule_pattern(cJSON *d) {
    cJSON *ids = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(d, "event_pattern"), "detail"), "EventID");
    cJSON_AddItemToArray(ids, cJSON_CreateString("RDS-EVENT-0197"));
}

static void test_events_rule(void **state) {
    static const struct s_change changes[] = {{"description", s_change_description},
                                              {"state", s_rule_disabled},
                                              {"event_pattern", s_rule_pattern},
                                              {"tags added and changed", s_change_tags},
                                              {"tag removed", s_drop_tag}};
    (void)state;
    s_lifecycle(s_g.a, "account[111111111111].events_rule.share",
                s_desired("account[111111111111].events_rule.share"), changes,
                sizeof(changes) / sizeof(changes[0]));
}

/* A rule with targets: delete removes them first (EventBridge refuses otherwise). */
static void test_events_rule_delete_with_target(void **state) {
    const char *rule = "account[111111111111].events_rule.to_backup";
    struct rdsbk_resource_ref ref;
    cJSON *d = s_desired(rule);
    (void)state;

    s_prerequisite(s_g.a, rule);
    s_prerequisite(s_g.a, "account[111111111111].events_target.to_backup");
    s_ref(&ref, rule, d, NULL);
    s_expect_ok(rdsbk_resource_ops(RDSBK_RT_EVENTS_RULE)->remove(s_g.a, &ref), "delete rule");
    s_expect_not_found(s_g.a, &ref, "rule after delete");
    cJSON_Delete(d);
}

/* ---- events_target ------------------------------------------------------------------------- */

static void s_target_role(cJSON *d) {
    s_set_str(d, "role_arn", "arn:aws:iam::111111111111:role/another-forwarding-role");
}

static void s_target_lambda(cJSON *d) {
    s_set_str(d, "arn", "arn:aws:lambda:eu-west-1:111111111111:function:rdsbk-local-demo-share");
    cJSON_DeleteItemFromObjectCaseSensitive(d, "role_arn");
}

static void test_events_target(void **state) {
    static const struct s_change changes[] = {{"role_arn", s_target_role},
                                              {"arn (and no role_arn)", s_target_lambda}};
    const char *addr = "account[111111111111].events_target.to_backup";
    struct rdsbk_resource_ref ref;
    cJSON *d = s_desired(addr);
    (void)state;

    s_ref(&ref, addr, d, NULL);
    s_expect_not_found(s_g.a, &ref, "target of a missing rule");
    s_expect_ok(rdsbk_resource_remove(s_g.a, &ref), "delete a target of a missing rule");
    s_prerequisite(s_g.a, "account[111111111111].events_rule.to_backup");
    s_lifecycle(s_g.a, addr, d, changes, 2);
}

/* A failed entry in PutTargets' 200 reply is an error naming its code. */
static void test_events_target_failed_entry(void **state) {
    const char *addr = "account[111111111111].events_target.to_backup";
    struct rdsbk_resource_ref ref;
    cJSON *d = s_desired(addr);
    cJSON *actual = NULL;
    char *id = NULL;
    int rc;
    (void)state;

    s_prerequisite(s_g.a, "account[111111111111].events_rule.to_backup");
    /* the rule's own bus as its target: refused per entry */
    s_set_str(d, "arn", "arn:aws:events:eu-west-1:111111111111:event-bus/default");
    s_ref(&ref, addr, d, NULL);
    rc = rdsbk_resource_ops(RDSBK_RT_EVENTS_TARGET)->create(&actual, &id, s_g.a, &ref, d);
    assert_true(rc < 0);
    assert_null(actual);
    assert_null(id);
    assert_string_equal(rdsbk_error_last()->aws_code, "ValidationException");
    assert_non_null(strstr(rdsbk_error_last()->message, "rdsbk"));
    cJSON_Delete(d);
}

/* ---- events_permission --------------------------------------------------------------------- */

static void s_permission_everyone(cJSON *d) {
    s_set_str(d, "principal", "*");
}

static void s_permission_other_account(cJSON *d) {
    s_set_str(d, "principal", "333333333333");
}

static void test_events_permission(void **state) {
    static const struct s_change changes[] = {{"principal (*)", s_permission_everyone},
                                              {"principal (account)", s_permission_other_account}};
    (void)state;
    s_lifecycle(s_g.b, "backup.events_permission[111111111111]",
                s_desired("backup.events_permission[111111111111]"), changes, 2);
}

/* ---- events_bus, and a rule and target on it ----------------------------------------------- */

/* Another account admitted: the statement's principals, one more. */
static void s_bus_admits_another(cJSON *d) {
    cJSON *st =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "policy"), "Statement"), 0);
    cJSON *roots = cJSON_GetObjectItem(cJSON_GetObjectItem(st, "Principal"), "AWS");

    assert_true(cJSON_IsArray(roots));
    assert_true(cJSON_AddItemToArray(roots, cJSON_CreateString("arn:aws:iam::333333333333:root")));
}

static void test_events_bus(void **state) {
    static const struct s_change changes[] = {{"policy", s_bus_admits_another},
                                              {"tags added and changed", s_change_tags},
                                              {"tag removed", s_drop_tag}};
    (void)state;
    s_lifecycle(s_g.b, "backup.events_bus.bus", s_desired("backup.events_bus.bus"), changes,
                sizeof(changes) / sizeof(changes[0]));
}

/* The backup-copy rule and its target live on the stack's bus: read, changed and deleted
 * there, never on the default bus. */
static void test_events_rule_on_bus(void **state) {
    static const struct s_change rule_changes[] = {{"description", s_change_description},
                                                   {"state", s_rule_disabled},
                                                   {"tags added and changed", s_change_tags}};
    static const struct s_change target_changes[] = {{"arn", s_target_lambda}};
    (void)state;

    s_prerequisite(s_g.b, "backup.events_bus.bus");
    s_lifecycle(s_g.b, "backup.events_rule.backup_copy",
                s_desired("backup.events_rule.backup_copy"), rule_changes,
                sizeof(rule_changes) / sizeof(rule_changes[0]));
    s_prerequisite(s_g.b, "backup.events_rule.backup_copy");
    s_lifecycle(s_g.b, "backup.events_target.backup_copy",
                s_desired("backup.events_target.backup_copy"), target_changes, 1);
}

/* ---- sns_topic and sns_subscription -------------------------------------------------------- */

/* The stack's account too must be the publishing rule's. */
static void s_topic_policy_account(cJSON *d) {
    cJSON *st =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "policy"), "Statement"), 0);
    cJSON *equals = cJSON_AddObjectToObject(cJSON_GetObjectItem(st, "Condition"), "StringEquals");

    assert_non_null(equals);
    assert_non_null(cJSON_AddStringToObject(equals, "aws:SourceAccount", B));
}

static void test_sns_topic(void **state) {
    static const struct s_change changes[] = {{"policy", s_topic_policy_account},
                                              {"tags added and changed", s_change_tags},
                                              {"tag removed", s_drop_tag}};
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(RDSBK_RT_SNS_TOPIC);
    (void)state;

    assert_string_equal(ops->force_new[0], "name");
    s_lifecycle(s_g.b, S_ALERTS_TOPIC, s_desired(S_ALERTS_TOPIC), changes,
                sizeof(changes) / sizeof(changes[0]));
}

/* A topic without a policy of ours has AWS's default one, read as it is. */
static void test_sns_topic_default_policy(void **state) {
    cJSON *d = s_desired(S_ALERTS_TOPIC);
    struct rdsbk_resource_ref ref;
    cJSON *actual = NULL;
    cJSON *read = NULL;
    char *id = NULL;
    char *id2 = NULL;
    (void)state;

    cJSON_DeleteItemFromObjectCaseSensitive(d, "policy");
    actual = s_create(&id, s_g.b, S_ALERTS_TOPIC, d);
    assert_string_equal(id, S_TOPIC_ARN);
    s_ref(&ref, S_ALERTS_TOPIC, d, NULL);
    s_expect_ok(rdsbk_resource_ops(RDSBK_RT_SNS_TOPIC)->read(&read, &id2, s_g.b, &ref), "read");
    assert_string_equal(id2, S_TOPIC_ARN);
    assert_string_equal(rdsbk_json_str(cJSON_GetObjectItem(read, "policy"), "Id"),
                        "__default_policy_ID");
    cJSON_Delete(actual);
    cJSON_Delete(read);
    cJSON_Delete(d);
    free(id);
    free(id2);
}

/* The listing of a subscription: its ARN ("PendingConfirmation" while pending) and its id. */
static void s_read_subscription(char **id_out, const char *id, const char *arn) {
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(RDSBK_RT_SNS_SUBSCRIPTION);
    cJSON *d = s_desired(S_ALERTS_SUBSCRIPTION);
    struct rdsbk_resource_ref ref;
    cJSON *actual = NULL;

    s_ref(&ref, S_ALERTS_SUBSCRIPTION, d, id);
    s_expect_ok(ops->read(&actual, id_out, s_g.b, &ref), id ? id : "read without an id");
    s_assert_matches("read", actual, d);
    assert_string_equal(rdsbk_json_str(actual, "arn"), arn);
    cJSON_Delete(actual);
    cJSON_Delete(d);
}

static void s_confirm(const char *arn) {
    cJSON *body = cJSON_CreateObject();

    assert_non_null(cJSON_AddStringToObject(body, "subscription_arn", arn));
    assert_int_equal(emu_harness_control(NULL, s_g.emu, "POST", "/_emu/sns/confirm", body), 200);
    cJSON_Delete(body);
}

/* How many subscriptions the alert topic has (SNS lists pending ones too). */
static size_t s_subscriptions(void) {
    struct rdsbk_sns_subscription *subs = NULL;
    size_t n = 0;

    s_expect_ok(rdsbk_sns_list_subscriptions_by_topic(&subs, &n, s_g.b, S_TOPIC_ARN),
                "ListSubscriptionsByTopic");
    rdsbk_sns_subscriptions_free(subs, n);
    return n;
}

/*
 * An email subscription: pending confirmation, read by its ARN and, found by its endpoint, with
 * the composite id; removing it leaves it (SNS refuses) and succeeds; confirmed, it reads with its
 * ARN and is removed. Without its topic it is not found.
 */
static void test_sns_subscription(void **state) {
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(RDSBK_RT_SNS_SUBSCRIPTION);
    const char *composite = S_TOPIC_ARN "|email|ops@example.com";
    cJSON *d = s_desired(S_ALERTS_SUBSCRIPTION);
    struct rdsbk_resource_ref ref;
    cJSON *actual = NULL;
    char *arn = NULL;
    char *id = NULL;
    (void)state;

    assert_true(ops->contained && ops->deleted_with_container);
    assert_int_equal(ops->container, RDSBK_RT_SNS_TOPIC);
    s_ref(&ref, S_ALERTS_SUBSCRIPTION, d, NULL);
    s_expect_not_found(s_g.b, &ref, "subscription to a missing topic");
    s_expect_ok(rdsbk_resource_remove(s_g.b, &ref), "delete a subscription to a missing topic");
    s_prerequisite(s_g.b, S_ALERTS_TOPIC);
    s_expect_not_found(s_g.b, &ref, "before create");

    /* pending: Subscribe gave its ARN, the listing does not */
    actual = s_create(&arn, s_g.b, S_ALERTS_SUBSCRIPTION, d);
    s_assert_matches("create", actual, d);
    assert_true(strncmp(arn, S_TOPIC_ARN ":", strlen(S_TOPIC_ARN) + 1) == 0);
    assert_string_equal(rdsbk_json_str(actual, "arn"), arn);
    s_read_subscription(&id, arn, RDSBK_SNS_PENDING);
    assert_string_equal(id, arn);
    free(id);
    s_read_subscription(&id, NULL, RDSBK_SNS_PENDING);
    assert_string_equal(id, composite);
    free(id);
    s_read_subscription(&id, composite, RDSBK_SNS_PENDING);
    assert_string_equal(id, composite);
    free(id);
    s_ref(&ref, S_ALERTS_SUBSCRIPTION, d, arn);
    s_expect_ok(ops->remove(s_g.b, &ref), "delete while pending (by ARN)");
    ref.id = composite;
    s_expect_ok(ops->remove(s_g.b, &ref), "delete while pending (composite id)");
    assert_int_equal(s_subscriptions(), 1);

    /* confirmed: its ARN, whatever the id */
    s_confirm(arn);
    s_read_subscription(&id, composite, arn);
    assert_string_equal(id, arn);
    free(id);
    s_read_subscription(&id, NULL, arn);
    assert_string_equal(id, arn);
    free(id);
    s_expect_ok(ops->remove(s_g.b, &ref), "delete (composite id)");
    assert_int_equal(s_subscriptions(), 0);
    s_expect_not_found(s_g.b, &ref, "after delete (composite id)");
    ref.id = arn;
    s_expect_not_found(s_g.b, &ref, "after delete (by ARN)");
    assert_int_equal(ops->remove(s_g.b, &ref), RDSBK_ENOTFOUND);
    s_expect_ok(rdsbk_resource_remove(s_g.b, &ref), "delete again");

    /* the topic takes its subscriptions along */
    cJSON_Delete(actual);
    free(arn);
    actual = s_create(&arn, s_g.b, S_ALERTS_SUBSCRIPTION, d);
    s_ref(&ref, S_ALERTS_TOPIC, s_g.alerts_topic.desired, NULL);
    s_expect_ok(rdsbk_resource_ops(RDSBK_RT_SNS_TOPIC)->remove(s_g.b, &ref), "delete the topic");
    s_ref(&ref, S_ALERTS_SUBSCRIPTION, d, arn);
    s_expect_not_found(s_g.b, &ref, "subscription of a deleted topic");
    assert_int_equal(ops->remove(s_g.b, &ref), RDSBK_ENOTFOUND);
    cJSON_Delete(actual);
    cJSON_Delete(d);
    free(arn);
}

/* The listing follows every page (SNS: 100 subscriptions a page, NextToken), and a subscription
 * is found on whichever it is. */
static void test_sns_subscription_pages(void **state) {
    cJSON *d = s_desired(S_ALERTS_SUBSCRIPTION);
    cJSON *actual;
    char *arn = NULL;
    char *id = NULL;
    char endpoint[64];
    (void)state;

    s_prerequisite(s_g.b, S_ALERTS_TOPIC);
    for (int i = 0; i < 120; i++) {
        snprintf(endpoint, sizeof(endpoint), "dba-%03d@example.com", i);
        s_expect_ok(rdsbk_sns_subscribe(&arn, s_g.b, S_TOPIC_ARN, "email", endpoint), endpoint);
        free(arn);
    }
    assert_int_equal(s_subscriptions(), 120);
    actual = s_create(&arn, s_g.b, S_ALERTS_SUBSCRIPTION, d);
    assert_int_equal(s_subscriptions(), 121);
    s_confirm(arn);
    s_read_subscription(&id, NULL, arn);
    assert_string_equal(id, arn);
    cJSON_Delete(actual);
    cJSON_Delete(d);
    free(arn);
    free(id);
}

/* ---- sqs_queue ----------------------------------------------------------------------------- */

static void s_queue_retention(cJSON *d) {
    s_set_num(d, "message_retention_seconds", 345600);
}

static void s_queue_visibility(cJSON *d) {
    s_set_num(d, "visibility_timeout_seconds", 90);
}

static void s_queue_sse_off(cJSON *d) {
    cJSON_DeleteItemFromObjectCaseSensitive(d, "sqs_managed_sse");
    assert_non_null(cJSON_AddFalseToObject(d, "sqs_managed_sse"));
}

static void s_queue_policy(cJSON *d) {
    cJSON *st =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "policy"), "Statement"), 0);

    s_set_str(st, "Action", "sqs:ReceiveMessage");
}

static void test_sqs_queue(void **state) {
    static const struct s_change changes[] = {
        {"message_retention_seconds", s_queue_retention},
        {"visibility_timeout_seconds", s_queue_visibility},
        {"sqs_managed_sse", s_queue_sse_off},
        {"policy", s_queue_policy},
        {"tags added and changed", s_change_tags},
        {"tag removed", s_drop_tag},
    };
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(RDSBK_RT_SQS_QUEUE);
    (void)state;

    assert_string_equal(ops->force_new[0], "name");
    assert_null(ops->force_new[1]);
    assert_string_equal(ops->service, "sqs");
    s_lifecycle(s_g.a, S_DLQ, s_desired(S_DLQ), changes, sizeof(changes) / sizeof(changes[0]));
}

/* The queue as the service module sees it: its ARN among the attributes, its tags. */
static void s_check_queue_calls(const char *url) {
    struct rdsbk_tag *tags = NULL;
    cJSON *attributes = NULL;
    size_t n = 0;

    s_expect_ok(rdsbk_sqs_get_queue_attributes(&attributes, s_g.a, url), "GetQueueAttributes");
    assert_string_equal(rdsbk_json_str(attributes, "QueueArn"), S_DLQ_ARN);
    assert_string_equal(rdsbk_json_str(attributes, "MessageRetentionPeriod"), "1209600");
    cJSON_Delete(attributes);
    s_expect_ok(rdsbk_sqs_list_queue_tags(&tags, &n, s_g.a, url), "ListQueueTags");
    assert_int_equal(n, 2);
    rdsbk_aws_tags_free(tags, n);
}

/*
 * Changed by hand (SetQueueAttributes), a setting reads as it is now, and the engine's comparison
 * of the desired and the actual attributes (what plan diffs) sees it: a shorter retention, no
 * visibility timeout, SSE turned off, the policy removed. Update puts each back.
 */
static void test_sqs_queue_drift(void **state) {
    static const struct {
        const char *name;  /* SQS's attribute */
        const char *value; /* set by hand */
        const char *key;   /* the model's */
        const char *reads; /* JSON; NULL: absent */
    } drifts[] = {
        {"MessageRetentionPeriod", "60", "message_retention_seconds", "60"},
        {"VisibilityTimeout", "0", "visibility_timeout_seconds", "0"},
        {"SqsManagedSseEnabled", "false", "sqs_managed_sse", "false"},
        {"Policy", "", "policy", NULL},
    };
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(RDSBK_RT_SQS_QUEUE);
    cJSON *d = s_desired(S_DLQ);
    struct rdsbk_resource_ref ref;
    char url[256];
    cJSON *actual;
    char *id = NULL;
    (void)state;

    actual = s_create(&id, s_g.a, S_DLQ, d);
    snprintf(url, sizeof(url), "%s/%s/%s", emu_harness_url(s_g.emu), A, S_DLQ_NAME);
    assert_string_equal(rdsbk_json_str(actual, "url"), url);
    assert_string_equal(id, S_DLQ_ARN);
    assert_true(rdsbk_engine_matches(RDSBK_RT_SQS_QUEUE, d, actual));
    s_check_queue_calls(url);
    s_ref(&ref, S_DLQ, d, id);
    for (size_t i = 0; i < sizeof(drifts) / sizeof(drifts[0]); i++) {
        cJSON *want = drifts[i].reads ? cJSON_Parse(drifts[i].reads) : NULL;
        cJSON *drifted = NULL;
        cJSON *after = NULL;
        cJSON *again = NULL;
        char *id2 = NULL;

        s_expect_ok(rdsbk_sqs_set_queue_attribute(s_g.a, url, drifts[i].name, drifts[i].value),
                    drifts[i].name);
        s_expect_ok(ops->read(&drifted, &id2, s_g.a, &ref), "read after the drift");
        assert_string_equal(id2, S_DLQ_ARN);
        if (want)
            assert_true(cJSON_Compare(cJSON_GetObjectItem(drifted, drifts[i].key), want, true));
        else
            assert_null(cJSON_GetObjectItem(drifted, drifts[i].key));
        if (rdsbk_engine_matches(RDSBK_RT_SQS_QUEUE, d, drifted))
            fail_msg("%s set by hand: no difference seen", drifts[i].name);
        s_expect_ok(ops->update(&after, s_g.a, &ref, d, drifted), "update");
        s_expect_ok(ops->read(&again, NULL, s_g.a, &ref), "read after the update");
        s_assert_matches(drifts[i].name, again, d);
        assert_true(rdsbk_engine_matches(RDSBK_RT_SQS_QUEUE, d, again));
        cJSON_Delete(want);
        cJSON_Delete(drifted);
        cJSON_Delete(after);
        cJSON_Delete(again);
        free(id2);
    }
    cJSON_Delete(actual);
    cJSON_Delete(d);
    free(id);
}

/*
 * SQS refuses a name deleted less than 60 s ago (QueueDeletedRecently); create says so and tries
 * again with backoff. The emulator counts the 60 s in AWS time, which the test moves on by 59 s:
 * the name is free a second later, and the second or third CreateQueue makes the queue.
 */
static void test_sqs_queue_deleted_recently(void **state) {
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(RDSBK_RT_SQS_QUEUE);
    cJSON *d = s_desired(S_DLQ);
    cJSON *advance = cJSON_CreateObject();
    struct rdsbk_resource_ref ref;
    struct timespec t0;
    cJSON *actual;
    char *id = NULL;
    int first = 0;
    int last = 0;
    (void)state;

    actual = s_create(&id, s_g.a, S_DLQ, d);
    s_ref(&ref, S_DLQ, d, id);
    s_expect_ok(ops->remove(s_g.a, &ref), "delete");
    cJSON_Delete(actual);
    free(id);
    assert_non_null(cJSON_AddNumberToObject(advance, "advance_s", 59));
    assert_int_equal(emu_harness_control(NULL, s_g.emu, "POST", "/_emu/clock", advance), 200);
    assert_int_equal(emu_harness_clear_requests(s_g.emu), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    actual = s_create(&id, s_g.a, S_DLQ, d);
    s_assert_matches("create once the name is free", actual, d);
    assert_true(s_ms_since(&t0) >= 1000);
    assert_true(s_count_requests("CreateQueue", &first, &last) >= 2);
    assert_int_equal(first, 400);
    assert_int_equal(last, 200);
    cJSON_Delete(advance);
    cJSON_Delete(actual);
    cJSON_Delete(d);
    free(id);
}

/* What SQS refuses is refused, with its code, and nothing is made: a name longer than 80
 * characters or with other characters than letters, digits, '-' and '_'; a retention under a
 * minute; a visibility timeout over 12 hours. A setting of the wrong type is refused before any
 * call. */
static void test_sqs_queue_invalid(void **state) {
    static const struct {
        const char *key;
        const char *value; /* JSON */
        const char *aws_code;
    } cases[] = {
        {"name",
         "\"rdsbk-local-demo-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"",
         "InvalidParameterValue"},
        {"name", "\"rdsbk-local-demo.dlq\"", "InvalidParameterValue"},
        {"message_retention_seconds", "59", "InvalidAttributeValue"},
        {"visibility_timeout_seconds", "43201", "InvalidAttributeValue"},
        {"sqs_managed_sse", "\"yes\"", ""},
    };
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(RDSBK_RT_SQS_QUEUE);
    struct rdsbk_resource_ref ref;
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *d = s_desired(S_DLQ);
        cJSON *actual = NULL;
        char *id = NULL;
        int rc;

        cJSON_DeleteItemFromObjectCaseSensitive(d, cases[i].key);
        assert_true(cJSON_AddItemToObject(d, cases[i].key, cJSON_Parse(cases[i].value)));
        s_ref(&ref, S_DLQ, d, NULL);
        rdsbk_error_clear();
        rc = ops->create(&actual, &id, s_g.a, &ref, d);
        if (rc != RDSBK_EINVALID || strcmp(rdsbk_error_last()->aws_code, cases[i].aws_code) != 0)
            fail_msg("%s %s: %d %s (%s)", cases[i].key, cases[i].value, rc,
                     rdsbk_error_last()->message, rdsbk_error_last()->aws_code);
        assert_null(actual);
        assert_null(id);
        cJSON_Delete(d);
    }
    assert_int_equal(s_count_requests("CreateQueue", NULL, NULL), 4);
    s_ref(&ref, S_DLQ, s_g.dlq.desired, NULL);
    s_expect_not_found(s_g.a, &ref, "after the refusals");
}

/* ---- lambda_function ----------------------------------------------------------------------- */

static void s_fn_timeout(cJSON *d) {
    s_set_num(d, "timeout", 90);
}

static void s_fn_memory(cJSON *d) {
    s_set_num(d, "memory_size", 256);
}

static void s_fn_environment(cJSON *d) {
    s_set_str(cJSON_GetObjectItem(d, "environment"), "RDSBK_EXTRA", "1");
}

/* Another role, and with it the dead-letter queue that role may send to. */
static void s_fn_role(cJSON *d) {
    s_set_str(d, "role_arn", "arn:aws:iam::111111111111:role/rdsbk-local-demo-copy");
    s_set_str(d, "dead_letter_arn",
              "arn:aws:sqs:eu-west-1:111111111111:rdsbk-local-demo-copy-failed");
}

/* New code: the copy package, its handler and CodeSha256. */
static void s_fn_code(cJSON *d) {
    struct rdsbk_buf zip = RDSBK_BUF_INIT;
    char sha[RDSBK_CODE_SHA256_LEN + 1];

    assert_int_equal(rdsbk_lambda_package(&zip, sha, "copy"), 0);
    rdsbk_buf_clean_up(&zip);
    s_set_str(d, "package", "copy");
    s_set_str(d, "code_sha256", sha);
    s_set_str(d, "handler", rdsbk_lambda_handler("copy"));
}

/* What the function of `key` (copy, share) of account A needs before it is created: its role,
 * its dead-letter queue and the policy that lets the role send to it (Lambda checks that). */
static void s_function_prerequisites(const char *key) {
    static const char *const types[] = {"iam_role", "sqs_queue", "iam_role_policy"};
    char address[128];

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        snprintf(address, sizeof(address), "account[111111111111].%s.%s%s", types[i], key,
                 i == 2 ? "_alerts" : "");
        s_prerequisite(s_g.a, address);
    }
}

static void test_lambda_function(void **state) {
    static const struct s_change changes[] = {{"timeout", s_fn_timeout},
                                              {"memory_size", s_fn_memory},
                                              {"environment", s_fn_environment},
                                              {"role_arn", s_fn_role},
                                              {"code", s_fn_code},
                                              {"tags added and changed", s_change_tags},
                                              {"tag removed", s_drop_tag}};
    const char *addr = "account[111111111111].lambda_function.share";
    struct rdsbk_buf zip = RDSBK_BUF_INIT;
    char sha[RDSBK_CODE_SHA256_LEN + 1];
    cJSON *d = s_desired(addr);
    cJSON *actual;
    char *id = NULL;
    (void)state;

    s_function_prerequisites("share");
    s_function_prerequisites("copy");

    /* CodeSha256 as Lambda reports it is the package's */
    assert_int_equal(rdsbk_lambda_package(&zip, sha, "share"), 0);
    rdsbk_buf_clean_up(&zip);
    actual = s_create(&id, s_g.a, addr, d);
    assert_string_equal(cJSON_GetObjectItem(actual, "code_sha256")->valuestring, sha);
    assert_string_equal(cJSON_GetObjectItem(d, "code_sha256")->valuestring, sha);
    {
        struct rdsbk_resource_ref ref;
        s_ref(&ref, addr, d, id);
        s_expect_ok(rdsbk_resource_ops(RDSBK_RT_LAMBDA_FUNCTION)->remove(s_g.a, &ref), "delete");
    }
    cJSON_Delete(actual);
    free(id);

    s_lifecycle(s_g.a, addr, d, changes, sizeof(changes) / sizeof(changes[0]));
}

/* ---- lambda_permission --------------------------------------------------------------------- */

static void s_perm_source(cJSON *d) {
    s_set_str(d, "source_arn", "arn:aws:events:eu-west-1:111111111111:rule/another-rule");
}

static void test_lambda_permission(void **state) {
    static const struct s_change changes[] = {{"source_arn", s_perm_source}};
    const char *addr = "account[111111111111].lambda_permission.share";
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(RDSBK_RT_LAMBDA_PERMISSION);
    struct rdsbk_resource_ref ref;
    cJSON *d = s_desired(addr);
    cJSON *fn = NULL;
    (void)state;

    assert_null(ops->force_new[0]);
    /* no function: not found, delete is success */
    s_ref(&ref, addr, d, NULL);
    s_expect_not_found(s_g.a, &ref, "permission of a missing function");
    s_expect_ok(rdsbk_resource_remove(s_g.a, &ref), "delete the permission of a missing function");

    s_function_prerequisites("share");
    fn = s_desired("account[111111111111].lambda_function.share");
    {
        char *id = NULL;
        cJSON *actual = s_create(&id, s_g.a, "account[111111111111].lambda_function.share", fn);
        cJSON_Delete(actual);
        free(id);
    }
    /* a function without any policy: not found either */
    s_expect_not_found(s_g.a, &ref, "permission of a function without a policy");
    s_lifecycle(s_g.a, addr, d, changes, 1);
    cJSON_Delete(fn);
}

/* ---- several resources at once, as the engine's parallel apply calls them ----------------- */

struct s_job {
    const char *address;
    struct rdsbk_client *client;
    cJSON *desired;
    int rc;          /* first failure, 0 when all went well */
    bool matched;    /* create's and read's attributes were the desired ones */
    char what[1100]; /* where it failed and the thread's error */
};

static bool s_same_attrs(const cJSON *actual, const cJSON *desired) {
    cJSON *a = cJSON_Duplicate(actual, true);
    bool same;

    if (!cJSON_HasObjectItem(desired, "arn"))
        cJSON_DeleteItemFromObjectCaseSensitive(a, "arn");
    same = cJSON_Compare(a, desired, true);
    cJSON_Delete(a);
    return same;
}

/* create, read, delete, read; no cmocka asserts off the main thread */
static void *s_job_run(void *arg) {
    struct s_job *job = arg;
    struct rdsbk_resource_ref ref;
    const struct rdsbk_resource_ops *ops;
    cJSON *actual = NULL;
    cJSON *again = NULL;
    char *id = NULL;
    char *id2 = NULL;
    const char *step = "create";

    s_ref(&ref, job->address, job->desired, NULL);
    ops = rdsbk_resource_ops(ref.type);
    job->rc = ops->create(&actual, &id, job->client, &ref, job->desired);
    if (job->rc == 0) {
        step = "read";
        ref.id = id;
        job->rc = ops->read(&again, &id2, job->client, &ref);
    }
    job->matched = job->rc == 0 && s_same_attrs(actual, job->desired) &&
                   s_same_attrs(again, job->desired) && strcmp(id, id2) == 0;
    if (job->rc == 0) {
        step = "delete";
        job->rc = ops->remove(job->client, &ref);
    }
    if (job->rc == 0) {
        cJSON_Delete(again);
        free(id2);
        again = NULL;
        id2 = NULL;
        step = "read after delete";
        job->rc = ops->read(&again, &id2, job->client, &ref) == RDSBK_ENOTFOUND ? 0 : -100;
    }
    if (job->rc)
        snprintf(job->what, sizeof(job->what), "%s %s: %d %s", job->address, step, job->rc,
                 rdsbk_error_last()->message);
    cJSON_Delete(actual);
    cJSON_Delete(again);
    free(id);
    free(id2);
    return NULL;
}

static void test_parallel(void **state) {
    struct s_job jobs[] = {
        {"account[111111111111].iam_role.copy", NULL, NULL, 0, false, ""},
        {"account[111111111111].iam_role.share", NULL, NULL, 0, false, ""},
        {"account[111111111111].iam_role.events", NULL, NULL, 0, false, ""},
        {"account[111111111111].events_rule.copy", NULL, NULL, 0, false, ""},
        {"account[111111111111].events_rule.share", NULL, NULL, 0, false, ""},
        {"backup.events_permission[111111111111]", NULL, NULL, 0, false, ""},
    };
    const size_t n = sizeof(jobs) / sizeof(jobs[0]);
    pthread_t threads[sizeof(jobs) / sizeof(jobs[0])];
    (void)state;

    for (size_t i = 0; i < n; i++) {
        jobs[i].desired = s_desired(jobs[i].address);
        jobs[i].client = strncmp(jobs[i].address, "backup.", 7) == 0 ? s_g.b : s_g.a;
    }
    for (size_t i = 0; i < n; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, s_job_run, &jobs[i]), 0);
    for (size_t i = 0; i < n; i++)
        pthread_join(threads[i], NULL);
    for (size_t i = 0; i < n; i++) {
        if (jobs[i].rc)
            fail_msg("%s", jobs[i].what);
        if (!jobs[i].matched)
            fail_msg("%s: attributes differ from the desired ones", jobs[i].address);
        cJSON_Delete(jobs[i].desired);
    }
    /* nothing left behind */
    {
        cJSON *inventory = emu_harness_inventory(s_g.emu);
        assert_non_null(inventory);
        if (cJSON_GetArraySize(inventory) != 0)
            s_print_mismatch("inventory after delete", inventory, NULL);
        assert_int_equal(cJSON_GetArraySize(inventory), 0);
        cJSON_Delete(inventory);
    }
}

/* ---- registry ------------------------------------------------------------------------------ */

/*
 * A type's remove reports a resource that is already gone as RDSBK_ENOTFOUND (EventBridge's
 * DeleteRule does not tell, as on AWS: 0); rdsbk_resource_remove counts it as deleted, the error
 * cleared. Nothing exists: the emulator was just reset.
 */
static void test_remove_missing(void **state) {
    static const struct {
        const char *address;
        const char *id; /* NULL: found by name */
        int rc;         /* of the type's remove */
    } cases[] = {
        {"account[111111111111].iam_role.copy", NULL, RDSBK_ENOTFOUND},
        {"account[111111111111].iam_role_policy.share", NULL, RDSBK_ENOTFOUND},
        {"backup.kms_key.shared", NULL, RDSBK_ENOTFOUND},
        {"backup.kms_key.shared", "0b0e7c4e-6f00-4a55-9b8e-000000000001", RDSBK_ENOTFOUND},
        {"backup.kms_alias.shared", NULL, RDSBK_ENOTFOUND},
        {"account[111111111111].events_rule.share", NULL, 0},
        {"account[111111111111].events_target.to_backup", NULL, RDSBK_ENOTFOUND},
        {"backup.events_permission[111111111111]", NULL, RDSBK_ENOTFOUND},
        {"backup.events_bus.bus", NULL, 0}, /* DeleteEventBus does not tell, as on AWS */
        {"backup.events_rule.backup_copy", NULL, RDSBK_ENOTFOUND}, /* on a bus that is not */
        {"account[111111111111].lambda_function.share", NULL, RDSBK_ENOTFOUND},
        {"account[111111111111].lambda_permission.share", NULL, RDSBK_ENOTFOUND},
        {S_ALERTS_TOPIC, NULL, 0}, /* DeleteTopic does not tell, as on AWS */
        {S_ALERTS_TOPIC, S_TOPIC_ARN, 0},
        {S_ALERTS_SUBSCRIPTION, NULL, RDSBK_ENOTFOUND}, /* to a topic that is not */
        {S_ALERTS_SUBSCRIPTION, S_TOPIC_ARN ":0b0e7c4e-6f00-4a55-9b8e-000000000001",
         RDSBK_ENOTFOUND},
        {S_ALERTS_SUBSCRIPTION, S_TOPIC_ARN "|email|ops@example.com", RDSBK_ENOTFOUND},
        {S_DLQ, NULL, RDSBK_ENOTFOUND}, /* GetQueueUrl: NonExistentQueue */
        {S_DLQ, S_DLQ_ARN, RDSBK_ENOTFOUND},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *address = cases[i].address;
        struct rdsbk_client *c = strncmp(address, "backup.", 7) == 0 ? s_g.b : s_g.a;
        struct rdsbk_resource_ref ref;
        int rc;

        /* the model's attributes as the state would have them; only the names matter here */
        s_ref(&ref, address, s_resource(address)->desired, cases[i].id);
        rc = rdsbk_resource_ops(ref.type)->remove(c, &ref);
        if (rc != cases[i].rc)
            fail_msg("%s: remove gave %d (%s), not %d", address, rc, rdsbk_error_last()->message,
                     cases[i].rc);
        s_expect_ok(rdsbk_resource_remove(c, &ref), address);
        assert_int_equal(rdsbk_error_last()->code, 0);
    }
}

static void test_registry(void **state) {
    (void)state;
    for (int t = 0; t < RDSBK_RT_COUNT; t++) {
        const struct rdsbk_resource_ops *ops = rdsbk_resource_ops((enum rdsbk_resource_type)t);
        assert_non_null(ops);
        assert_int_equal(ops->type, t);
        assert_non_null(ops->read);
        assert_non_null(ops->create);
        assert_non_null(ops->update);
        assert_non_null(ops->remove);
        assert_non_null(ops->force_new);
        assert_non_null(ops->no_diff);
    }
}

/* ---- with IAM propagation: a new role is not assumable for 1.5 s --------------------------- */

static void test_lambda_waits_for_role(void **state) {
    const char *addr = "account[111111111111].lambda_function.share";
    struct timespec t0;
    cJSON *d = s_desired(addr);
    cJSON *actual;
    char *id = NULL;
    int first = 0;
    int last = 0;
    int attempts;
    (void)state;

    s_function_prerequisites("share");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    actual = s_create(&id, s_g.a, addr, d);
    s_assert_matches("create after the role propagated", actual, d);
    assert_true(s_ms_since(&t0) >= 1000);
    attempts = s_count_requests("CreateFunction", &first, &last);
    assert_true(attempts >= 2);
    assert_int_equal(first, 400);
    assert_int_equal(last, 201);
    cJSON_Delete(actual);
    cJSON_Delete(d);
    free(id);
}

/* SNS refuses a topic policy naming a role IAM has not propagated yet (PrincipalNotFound); create
 * writes it again until it is known. */
static void test_sns_topic_waits_for_principals(void **state) {
    const char *role_addr = "account[111111111111].iam_role.copy";
    cJSON *role_desired = s_desired(role_addr);
    cJSON *d = s_desired(S_ALERTS_TOPIC);
    cJSON *st =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "policy"), "Statement"), 0);
    cJSON *role;
    cJSON *actual;
    struct timespec t0;
    char *role_id = NULL;
    char *id = NULL;
    int first = 0;
    int last = 0;
    (void)state;

    role = s_create(&role_id, s_g.a, role_addr, role_desired);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cJSON_DeleteItemFromObjectCaseSensitive(st, "Principal");
    assert_non_null(cJSON_AddObjectToObject(st, "Principal"));
    assert_non_null(cJSON_AddStringToObject(cJSON_GetObjectItem(st, "Principal"), "AWS",
                                            rdsbk_json_str(role, "arn")));
    actual = s_create(&id, s_g.b, S_ALERTS_TOPIC, d);
    s_assert_matches("create once the role propagated", actual, d);
    assert_true(s_ms_since(&t0) >= 1000);
    assert_true(s_count_requests("SetTopicAttributes", &first, &last) >= 2);
    assert_int_equal(first, 400);
    assert_int_equal(last, 200);
    cJSON_Delete(role);
    cJSON_Delete(role_desired);
    cJSON_Delete(actual);
    cJSON_Delete(d);
    free(role_id);
    free(id);
}

int main(void) {
    const struct CMUnitTest plain[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test_setup(test_remove_missing, s_reset),
        cmocka_unit_test_setup(test_iam_role, s_reset),
        cmocka_unit_test_setup(test_iam_role_delete_with_policies, s_reset),
        cmocka_unit_test_setup(test_iam_role_policy, s_reset),
        cmocka_unit_test_setup(test_kms_key, s_reset),
        cmocka_unit_test_setup(test_kms_key_waits_for_principals, s_reset),
        cmocka_unit_test_setup(test_kms_key_pending_deletion, s_reset),
        cmocka_unit_test_setup(test_kms_alias, s_reset),
        cmocka_unit_test_setup(test_events_rule, s_reset),
        cmocka_unit_test_setup(test_events_rule_delete_with_target, s_reset),
        cmocka_unit_test_setup(test_events_target, s_reset),
        cmocka_unit_test_setup(test_events_target_failed_entry, s_reset),
        cmocka_unit_test_setup(test_events_permission, s_reset),
        cmocka_unit_test_setup(test_events_bus, s_reset),
        cmocka_unit_test_setup(test_events_rule_on_bus, s_reset),
        cmocka_unit_test_setup(test_sns_topic, s_reset),
        cmocka_unit_test_setup(test_sns_topic_default_policy, s_reset),
        cmocka_unit_test_setup(test_sns_subscription, s_reset),
        cmocka_unit_test_setup(test_sns_subscription_pages, s_reset),
        cmocka_unit_test_setup(test_sqs_queue, s_reset),
        cmocka_unit_test_setup(test_sqs_queue_drift, s_reset),
        cmocka_unit_test_setup(test_sqs_queue_deleted_recently, s_reset),
        cmocka_unit_test_setup(test_sqs_queue_invalid, s_reset),
        cmocka_unit_test_setup(test_lambda_function, s_reset),
        cmocka_unit_test_setup(test_lambda_permission, s_reset),
        cmocka_unit_test_setup(test_parallel, s_reset),
    };
    const struct CMUnitTest propagation[] = {
        cmocka_unit_test_setup(test_lambda_waits_for_role, s_reset),
        cmocka_unit_test_setup(test_sns_topic_waits_for_principals, s_reset),
    };
    int failed = cmocka_run_group_tests_name("resources", plain, s_setup_plain, s_teardown);
    failed += cmocka_run_group_tests_name("resources_iam_propagation", propagation,
                                          s_setup_propagation, s_teardown);
    return failed;
}
