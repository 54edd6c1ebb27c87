/* The desired graph: which resources, their names, dependencies and policies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rdsbk/config.h"
#include "rdsbk/error.h"
#include "rdsbk/model.h"
#include "test_fan_in_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct rdsbk_graph *s_graph(const char *example) {
    struct rdsbk_diagnostics d;
    struct rdsbk_topology *t = NULL;
    struct rdsbk_graph *g = NULL;
    char path[512];

    snprintf(path, sizeof(path), "%s/examples/%s", RDSBK_SOURCE_DIR, example);
    assert_int_equal(rdsbk_topology_load(&t, &d, path), 0);
    assert_int_equal(rdsbk_model_build(&g, t), 0);
    rdsbk_topology_free(t);
    return g;
}

static const char *const s_basic_addresses[] = {
    "account[111111111111].events_rule.copy",
    "account[111111111111].events_rule.copy_sweep",
    "account[111111111111].events_rule.share",
    "account[111111111111].events_rule.sweep",
    "account[111111111111].events_rule.to_backup",
    "account[111111111111].events_target.copy",
    "account[111111111111].events_target.copy_sweep",
    "account[111111111111].events_target.share",
    "account[111111111111].events_target.sweep",
    "account[111111111111].events_target.to_backup",
    "account[111111111111].iam_role.copy",
    "account[111111111111].iam_role.events",
    "account[111111111111].iam_role.share",
    "account[111111111111].iam_role_policy.copy",
    "account[111111111111].iam_role_policy.copy_alerts",
    "account[111111111111].iam_role_policy.events",
    "account[111111111111].iam_role_policy.share",
    "account[111111111111].iam_role_policy.share_alerts",
    "account[111111111111].lambda_function.copy",
    "account[111111111111].lambda_function.share",
    "account[111111111111].lambda_permission.copy",
    "account[111111111111].lambda_permission.copy_sweep",
    "account[111111111111].lambda_permission.share",
    "account[111111111111].lambda_permission.sweep",
    "account[111111111111].logs_log_group.copy",
    "account[111111111111].logs_log_group.share",
    "account[111111111111].sqs_queue.copy",
    "account[111111111111].sqs_queue.share",
    "backup.events_bus.bus",
    "backup.events_rule.backup_copy",
    "backup.events_rule.prune",
    "backup.events_target.backup_copy",
    "backup.events_target.prune",
    "backup.iam_role.backup_copy",
    "backup.iam_role_policy.backup_copy",
    "backup.iam_role_policy.backup_copy_alerts",
    "backup.kms_alias.shared",
    "backup.kms_key.shared",
    "backup.lambda_function.backup_copy",
    "backup.lambda_permission.backup_copy",
    "backup.lambda_permission.prune",
    "backup.logs_log_group.backup_copy",
    "backup.sns_topic.alerts",
    "backup.sqs_queue.backup_copy",
    "source[111111111111/eu-central-1].events_rule.forward",
    "source[111111111111/eu-central-1].events_target.forward",
};

static void test_basic_resources(void **state) {
    struct rdsbk_graph *g = s_graph("basic.yaml");
    size_t n = sizeof(s_basic_addresses) / sizeof(s_basic_addresses[0]);
    (void)state;

    for (size_t i = 0; i < g->n_resources; i++)
        if (i >= n || strcmp(g->resources[i].address, s_basic_addresses[i]) != 0)
            fail_msg("resource %zu is %s, expected %s", i, g->resources[i].address,
                     i < n ? s_basic_addresses[i] : "(none)");
    assert_int_equal(g->n_resources, n);
    rdsbk_graph_free(g);
}

/* A graph by hand: a cycle and a dependency outside the graph are refused, a chain is ordered. */
static void test_order_refuses_cycles(void **state) {
    char *a_deps[] = {"c"}, *b_deps[] = {"a"}, *c_deps[] = {"b"}, *x_deps[] = {"nowhere"};
    struct rdsbk_resource r[3];
    struct rdsbk_graph g = {.resources = r, .n_resources = 3};
    size_t *order = NULL;
    (void)state;

    memset(r, 0, sizeof(r));
    r[0].address = "a";
    r[1].address = "b";
    r[2].address = "c";
    r[0].deps = a_deps; /* a needs c, b needs a, c needs b */
    r[1].deps = b_deps;
    r[2].deps = c_deps;
    r[0].n_deps = r[1].n_deps = r[2].n_deps = 1;
    assert_int_equal(rdsbk_graph_topo_order(&order, &g), RDSBK_EINVALID);
    assert_string_equal(rdsbk_error_last()->message, "the resource graph has a cycle");
    assert_null(order);

    r[0].n_deps = 0; /* a, then b, then c */
    assert_int_equal(rdsbk_graph_topo_order(&order, &g), 0);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[1], 1);
    assert_int_equal(order[2], 2);
    free(order);

    r[1].deps = x_deps;
    assert_int_equal(rdsbk_graph_topo_order(&order, &g), RDSBK_EINVALID);
    assert_string_equal(rdsbk_error_last()->message,
                        "b depends on nowhere, which is not in the graph");
}

/* Every dependency exists, the order puts dependencies first, names fit AWS's 64 characters. */
static void test_order_and_names(void **state) {
    const char *examples[] = {"basic.yaml", "fan-in.yaml", "local.yaml"};
    (void)state;

    for (size_t e = 0; e < 3; e++) {
        struct rdsbk_graph *g = s_graph(examples[e]);
        size_t *order = NULL;
        size_t *pos = calloc(g->n_resources, sizeof(*pos));
        assert_int_equal(rdsbk_graph_topo_order(&order, g), 0);
        for (size_t i = 0; i < g->n_resources; i++)
            pos[order[i]] = i;
        for (size_t i = 0; i < g->n_resources; i++) {
            const struct rdsbk_resource *r = &g->resources[i];
            assert_true(strlen(r->name) <= 64);
            for (size_t d = 0; d < r->n_deps; d++) {
                const struct rdsbk_resource *dep = rdsbk_graph_find(g, r->deps[d]);
                assert_non_null(dep);
                assert_true(pos[dep - g->resources] < pos[i]);
            }
        }
        free(order);
        free(pos);
        rdsbk_graph_free(g);
    }
}

static void test_fan_in_shares_backup_side(void **state) {
    struct rdsbk_graph *g = s_graph("fan-in.yaml");
    const struct rdsbk_resource *key = rdsbk_graph_find(g, "backup.kms_key.shared");
    const cJSON *stmts;
    const cJSON *principals;
    const cJSON *pattern;
    (void)state;

    /* 3 accounts x 28 + 3 sources x 2 + backup 14 + its bus and alert topic */
    assert_int_equal(g->n_resources, 3 * 28 + 3 * 2 + 14 + 2);
    assert_non_null(key);
    assert_int_equal(key->n_deps, 3); /* the copy role of each source account */
    stmts = cJSON_GetObjectItem(cJSON_GetObjectItem(key->desired, "policy"), "Statement");
    principals =
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(stmts, 1), "Principal"), "AWS");
    assert_int_equal(cJSON_GetArraySize(principals), 3);
    assert_string_equal(cJSON_GetArrayItem(principals, 1)->valuestring,
                        "arn:aws:iam::333333333333:role/rdsbk-fleet-dr-copy");
    pattern = cJSON_GetObjectItem(rdsbk_graph_find(g, "backup.events_rule.backup_copy")->desired,
                                  "event_pattern");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(pattern, "account")), 3);
    rdsbk_graph_free(g);
}

/* The backup account's bus is the stack's own: one statement admits every source account's
 * "snapshot shared" events and nothing else; the backup-copy rule is on it, the source accounts'
 * to_backup rules forward to it, and its policy is measured against EventBridge's quota. */
static void test_backup_bus(void **state) {
    static const char bus_arn[] =
        "arn:aws:events:eu-west-1:222222222222:event-bus/rdsbk-fleet-dr-bus";
    struct rdsbk_graph *g = s_graph("fan-in.yaml");
    const struct rdsbk_resource *bus = rdsbk_graph_find(g, "backup.events_bus.bus");
    const struct rdsbk_resource *rule = rdsbk_graph_find(g, "backup.events_rule.backup_copy");
    const cJSON *policy = cJSON_GetObjectItem(bus->desired, "policy");
    const cJSON *st = cJSON_GetArrayItem(cJSON_GetObjectItem(policy, "Statement"), 0);
    const cJSON *cond = cJSON_GetObjectItem(st, "Condition");
    char *text = cJSON_PrintUnformatted(policy);
    int size = (int)strlen(text);
    (void)state;

    assert_string_equal(bus->name, "rdsbk-fleet-dr-bus");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(policy, "Statement")), 1);
    assert_int_equal(
        cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(st, "Principal"), "AWS")), 3);
    assert_string_equal(cJSON_GetObjectItem(st, "Resource")->valuestring, bus_arn);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cond, "ForAllValues:StringEquals"), "events:source")
            ->valuestring,
        "rdsbk.fleet-dr");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cond, "StringEquals"), "events:detail-type")
            ->valuestring,
        RDSBK_EVENT_DETAIL_TYPE);
    assert_string_equal(cJSON_GetObjectItem(rule->desired, "event_bus")->valuestring,
                        "rdsbk-fleet-dr-bus");
    assert_string_equal(rule->deps[0], "backup.events_bus.bus");
    assert_string_equal(
        cJSON_GetObjectItem(rdsbk_graph_find(g, "backup.lambda_permission.backup_copy")->desired,
                            "source_arn")
            ->valuestring,
        "arn:aws:events:eu-west-1:222222222222:rule/rdsbk-fleet-dr-bus/rdsbk-fleet-dr-backup-copy");
    assert_string_equal(
        cJSON_GetObjectItem(
            rdsbk_graph_find(g, "account[333333333333].events_target.to_backup")->desired, "arn")
            ->valuestring,
        bus_arn);
    assert_null(cJSON_GetObjectItem(rdsbk_graph_find(g, "backup.events_rule.prune")->desired,
                                    "event_bus")); /* a schedule: the default bus only */

    g->bus_policy_quota = size; /* the policy as stored, compact */
    assert_int_equal(rdsbk_model_check_quotas(g), 0);
    g->bus_policy_quota = size - 1;
    assert_int_equal(rdsbk_model_check_quotas(g), RDSBK_EINVALID);
    assert_non_null(strstr(rdsbk_error_last()->message,
                           "backup.events_bus.bus: 3 source accounts make the backup account's "
                           "event bus policy"));
    free(text);
    rdsbk_graph_free(g);
}

/* The graph of a topology text (it must parse and build). */
static struct rdsbk_graph *s_graph_text(const char *text) {
    struct rdsbk_diagnostics d;
    struct rdsbk_topology *t = NULL;
    struct rdsbk_graph *g = NULL;

    assert_int_equal(rdsbk_topology_parse(&t, &d, "t.yaml", text, strlen(text)), 0);
    rdsbk_diagnostics_clean_up(&d);
    assert_int_equal(rdsbk_model_build(&g, t), 0);
    rdsbk_topology_free(t);
    return g;
}

#define S_ALERTS_TOPOLOGY                                                                          \
    "version: 1\nstack: s1\nsources:\n  - account: '111111111111'\n    region: eu-central-1\n"     \
    "    instances: [orders-db]\nbackup:\n  account: '222222222222'\n  region: eu-west-1\n"

/* alerts.max_age reaches the backup-copy function, whose sweep reports by it: 26 hours unless
 * the topology says otherwise. */
static void test_alerts_max_age(void **state) {
    static const struct {
        const char *extra;
        const char *seconds;
    } cases[] = {{"", "93600"},
                 {"alerts:\n  max_age: 2d\n", "172800"},
                 {"alerts:\n  max_age: 1h30m\n", "5400"}};
    char text[1024];
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rdsbk_graph *g;
        const struct rdsbk_resource *fn;

        snprintf(text, sizeof(text), "%s%s", S_ALERTS_TOPOLOGY, cases[i].extra);
        g = s_graph_text(text);
        fn = rdsbk_graph_find(g, "backup.lambda_function.backup_copy");
        assert_non_null(fn);
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(fn->desired, "environment"),
                                                "RDSBK_ALERT_MAX_AGE_S")
                                ->valuestring,
                            cases[i].seconds);
        rdsbk_graph_free(g);
    }
}

/* Alerts: the stack's topic admits exactly the functions' roles, which each may publish by a
 * policy of their own; emails are subscribed; with alerts.sns_topic_arn the user's topic takes
 * the subscriptions and the functions' reports, and the stack makes none. */
static void test_alerts(void **state) {
    static const char topic[] = "arn:aws:sns:eu-west-1:222222222222:rdsbk-s1-alerts";
    static const char theirs[] = "arn:aws:sns:eu-west-1:222222222222:ops";
    struct rdsbk_graph *g =
        s_graph_text(S_ALERTS_TOPOLOGY "alerts:\n  emails: [ops@example.com]\n");
    const struct rdsbk_resource *r = rdsbk_graph_find(g, "backup.sns_topic.alerts");
    const cJSON *st = cJSON_GetArrayItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(r->desired, "policy"), "Statement"), 0);
    const cJSON *roles = cJSON_GetObjectItem(cJSON_GetObjectItem(st, "Principal"), "AWS");
    const cJSON *env;
    (void)state;

    assert_string_equal(cJSON_GetObjectItem(st, "Resource")->valuestring, topic);
    assert_int_equal(cJSON_GetArraySize(roles), 3);
    assert_string_equal(cJSON_GetArrayItem(roles, 2)->valuestring,
                        "arn:aws:iam::222222222222:role/rdsbk-s1-backup-copy");
    assert_int_equal(r->n_deps, 3); /* the roles it names */
    r = rdsbk_graph_find(g, "backup.sns_subscription[ops@example.com]");
    assert_string_equal(cJSON_GetObjectItem(r->desired, "topic_arn")->valuestring, topic);
    assert_string_equal(cJSON_GetObjectItem(r->desired, "protocol")->valuestring, "email");
    r = rdsbk_graph_find(g, "account[111111111111].iam_role_policy.copy_alerts");
    assert_string_equal(cJSON_GetObjectItem(r->desired, "policy_name")->valuestring,
                        "rdsbk-alerts");
    env = cJSON_GetObjectItem(
        rdsbk_graph_find(g, "account[111111111111].lambda_function.copy")->desired, "environment");
    assert_string_equal(cJSON_GetObjectItem(env, "RDSBK_ALERT_TOPIC_ARN")->valuestring, topic);
    rdsbk_graph_free(g);

    g = s_graph_text(S_ALERTS_TOPOLOGY "alerts:\n  emails: [ops@example.com]\n"
                                       "  sns_topic_arn: arn:aws:sns:eu-west-1:222222222222:ops\n");
    assert_null(rdsbk_graph_find(g, "backup.sns_topic.alerts"));
    r = rdsbk_graph_find(g, "backup.sns_subscription[ops@example.com]");
    assert_string_equal(cJSON_GetObjectItem(r->desired, "topic_arn")->valuestring, theirs);
    assert_int_equal(r->n_deps, 0);
    env = cJSON_GetObjectItem(rdsbk_graph_find(g, "backup.lambda_function.backup_copy")->desired,
                              "environment");
    assert_string_equal(cJSON_GetObjectItem(env, "RDSBK_ALERT_TOPIC_ARN")->valuestring, theirs);
    rdsbk_graph_free(g);
}

/* IAM's quota is on a role's inline policies together: the alerts policy counts with the
 * working one. */
static void test_role_policies_count_together(void **state) {
    struct rdsbk_graph *g = s_graph("basic.yaml");
    struct rdsbk_resource *alerts = NULL;
    cJSON *padding;
    (void)state;

    for (size_t i = 0; i < g->n_resources; i++)
        if (strcmp(g->resources[i].address, "account[111111111111].iam_role_policy.copy_alerts") ==
            0)
            alerts = &g->resources[i];
    assert_non_null(alerts);
    assert_int_equal(rdsbk_model_check_quotas(g), 0);
    /* the alerts policy alone far under 10,240, but not with the copy policy beside it */
    padding = cJSON_CreateString("");
    assert_non_null(padding);
    {
        char text[9000];
        memset(text, 'x', sizeof(text) - 1);
        text[sizeof(text) - 1] = '\0';
        cJSON_SetValuestring(padding, text);
    }
    cJSON_AddItemToObject(cJSON_GetObjectItem(alerts->desired, "policy"), "Id", padding);
    assert_int_equal(rdsbk_model_check_quotas(g), RDSBK_EINVALID);
    assert_non_null(strstr(rdsbk_error_last()->message,
                           "characters with the role's other inline policies; IAM allows"));
    rdsbk_graph_free(g);
}

static const char *s_lookup(const char *address, const char *attr, void *payload) {
    (void)payload;
    if (strcmp(address, "backup.kms_key.shared") == 0 && strcmp(attr, "arn") == 0)
        return "arn:aws:kms:eu-west-1:222222222222:key/k1";
    return NULL;
}

static void test_references_resolve(void **state) {
    struct rdsbk_graph *g = s_graph("basic.yaml");
    const struct rdsbk_resource *fn =
        rdsbk_graph_find(g, "account[111111111111].lambda_function.copy");
    const struct rdsbk_resource *alias = rdsbk_graph_find(g, "backup.kms_alias.shared");
    int unknown = -1;
    cJSON *env;
    cJSON *a;
    (void)state;

    env = rdsbk_model_resolve(cJSON_GetObjectItem(fn->desired, "environment"), s_lookup, NULL,
                              &unknown);
    assert_int_equal(unknown, 0);
    assert_string_equal(cJSON_GetObjectItem(env, "RDSBK_KMS_KEY_ARN")->valuestring,
                        "arn:aws:kms:eu-west-1:222222222222:key/k1");
    assert_string_equal(cJSON_GetObjectItem(env, "RDSBK_DATABASES")->valuestring,
                        "eu-central-1/instance/orders-db,eu-central-1/instance/billing-*,"
                        "eu-central-1/cluster/aurora-main");
    assert_string_equal(cJSON_GetObjectItem(env, "RDSBK_TARGET_REGION")->valuestring, "eu-west-1");
    cJSON_Delete(env);
    a = rdsbk_model_resolve(alias->desired, s_lookup, NULL, &unknown);
    assert_int_equal(unknown, 1); /* key_id not known yet */
    assert_string_equal(cJSON_GetObjectItem(a, "target_key_id")->valuestring,
                        "${backup.kms_key.shared#key_id}");
    cJSON_Delete(a);
    rdsbk_graph_free(g);
}

static void test_forward_pattern(void **state) {
    struct rdsbk_graph *g = s_graph("basic.yaml");
    const struct rdsbk_resource *r =
        rdsbk_graph_find(g, "source[111111111111/eu-central-1].events_rule.forward");
    char *text = cJSON_PrintUnformatted(cJSON_GetObjectItem(r->desired, "event_pattern"));
    (void)state;

    assert_string_equal(r->region, "eu-central-1");
    assert_string_equal(
        text, "{\"source\":[\"aws.rds\"],\"detail-type\":[\"RDS DB Snapshot Event\",\"RDS DB "
              "Cluster Snapshot Event\"],\"detail\":{\"EventID\":[\"RDS-EVENT-0091\",\"RDS-EVENT-"
              "0169\"],\"SourceArn\":[{\"wildcard\":\"arn:aws:rds:eu-central-1:111111111111:"
              "snapshot:rds:orders-db-*\"},{\"wildcard\":\"arn:aws:rds:eu-central-1:111111111111:"
              "snapshot:rds:billing-*\"},{\"wildcard\":\"arn:aws:rds:eu-central-1:111111111111:"
              "cluster-snapshot:rds:aurora-main-*\"}]}}");
    free(text);
    rdsbk_graph_free(g);
}

static void test_long_names_shortened(void **state) {
    char *n = rdsbk_model_name("abcdefghijklmnopqrstuvwx", "backup-copy", 32);
    char *again = rdsbk_model_name("abcdefghijklmnopqrstuvwx", "backup-copy", 32);
    char *other = rdsbk_model_name("abcdefghijklmnopqrstuvwx", "backup-copz", 32);
    (void)state;
    assert_int_equal(strlen(n), 32);
    assert_string_equal(n, again);
    assert_string_not_equal(n, other);
    assert_memory_equal(n, "rdsbk-abcdefghijklmnopq", 23);
    free(n);
    free(again);
    free(other);
}

/* Builds the graph of a topology text and checks its quotas: the check's code. */
static int s_check_text(const char *text) {
    struct rdsbk_diagnostics d;
    struct rdsbk_topology *t = NULL;
    struct rdsbk_graph *g = NULL;
    int rc;

    assert_int_equal(rdsbk_topology_parse(&t, &d, "t.yaml", text, strlen(text)), 0);
    assert_int_equal(rdsbk_model_build(&g, t), 0);
    rc = rdsbk_model_check_quotas(g);
    rdsbk_graph_free(g);
    rdsbk_topology_free(t);
    return rc;
}

/* A manual snapshot quota raised far enough for the fan-ins below (their retention's copies). */
#define S_RAISED ", manual_snapshot_quota: 100000"

/*
 * Documents past an AWS quota are refused before any AWS call, named. The backup-copy role's
 * inline policy names two snapshot patterns per database of every source, 166 characters a
 * database here: with the role's alerts policy, 46 databases fit, 48 make 10,318 characters,
 * past the 10,240 IAM allows a role's inline policies together. A source's copy rule matches each
 * of its databases' snapshots: 60 databases make a 4,605-character pattern, past the 4,096
 * EventBridge allows.
 */
static void test_documents_within_aws_quotas(void **state) {
    static const struct {
        int sources;
        int databases;
        const char *backup_extra;
        const char *message; /* NULL: within the quotas */
    } cases[] = {
        {23, 2, S_RAISED, NULL},
        {24, 2, S_RAISED,
         "backup.iam_role_policy.backup_copy: its policy would be 10318 characters with the "
         "role's other inline policies; IAM allows a role's inline policies 10240 at most"},
        {50, 1, S_RAISED, NULL},
    };
    char one_source[2048];
    size_t at;
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = s_fan_in_text(cases[i].sources, cases[i].databases, cases[i].backup_extra);
        int rc = s_check_text(text);

        if (cases[i].message) {
            assert_int_equal(rc, RDSBK_EINVALID);
            assert_non_null(strstr(rdsbk_error_last()->message, cases[i].message));
        } else {
            assert_int_equal(rc, 0);
        }
        free(text);
    }

    at = (size_t)snprintf(one_source, sizeof(one_source),
                          "version: 1\nstack: bench\nsource:\n  account: '100000000001'\n"
                          "  region: eu-central-1\n  instances: [db-00");
    for (int i = 1; i < 60; i++)
        at += (size_t)snprintf(one_source + at, sizeof(one_source) - at, ", db-%02d", i);
    snprintf(one_source + at, sizeof(one_source) - at,
             "]\nbackup: {account: '222222222222', region: eu-west-1}\n");
    assert_int_equal(s_check_text(one_source), RDSBK_EINVALID);
    assert_non_null(strstr(rdsbk_error_last()->message,
                           "account[100000000001].events_rule.copy: its event_pattern would be "
                           "4605 characters; EventBridge allows an event pattern 4096 at most"));
}

/* A topology of one source (`instances` and `clusters`), `retention` and `quotas` (YAML flow
 * mapping entries for the backup), checked. */
static int s_check_retention(const char *instances, const char *clusters, const char *retention,
                             const char *quotas) {
    char text[1024];

    snprintf(text, sizeof(text),
             "version: 1\nstack: bench\nsource:\n  account: '100000000001'\n"
             "  region: eu-central-1\n  instances: [%s]\n  clusters: [%s]\nretention: {%s}\n"
             "backup: {account: '222222222222', region: eu-west-1%s}\n",
             instances, clusters, retention, quotas);
    return s_check_text(text);
}

/*
 * What retention keeps must fit RDS's manual snapshot quotas (100 DB snapshots and 100 DB cluster
 * snapshots, counted apart) in each account and Region-B. With the defaults (backup_days 7,
 * intermediate_days 1, keep_last 1) a database holds 8 backup copies and 2 intermediate ones: 12
 * databases fit the backup account, 13 do not until a raised quota is declared.
 */
static void test_snapshots_within_rds_quotas(void **state) {
    static const char twelve[] = "d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12";
    (void)state;

    assert_int_equal(s_check_retention(twelve, "", "", ""), 0);
    assert_int_equal(s_check_retention(twelve, twelve, "", ""), 0); /* clusters count apart */
    assert_int_equal(
        s_check_retention("d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12", "", "", ""),
        RDSBK_EINVALID);
    assert_string_equal(
        rdsbk_error_last()->message,
        "account 222222222222 in eu-west-1: retention would keep about 104 manual snapshots (13 "
        "databases x 8, from retention.backup_days and retention.keep_last), past RDS's "
        "ManualSnapshots quota of 100: keep fewer days, or raise the quota in Service Quotas and "
        "declare it as backup.manual_snapshot_quota");
    assert_int_equal(s_check_retention("d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12", "",
                                       "", ", manual_snapshot_quota: 104"),
                     0);
    /* the intermediate copies, in the source account; keep_last counts when it is larger */
    assert_int_equal(s_check_retention("", "c1, c2", "intermediate_days: 50", ""), RDSBK_EINVALID);
    assert_non_null(strstr(rdsbk_error_last()->message,
                           "account 100000000001 in eu-west-1: retention would keep about 102 "
                           "manual snapshots (2 databases x 51"));
    assert_non_null(strstr(rdsbk_error_last()->message, "ManualClusterSnapshots quota of 100"));
    /* the backup account's cluster quota is its own setting */
    assert_int_equal(
        s_check_retention("", "c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12", "", ""),
        RDSBK_EINVALID);
    assert_int_equal(s_check_retention("", "c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12",
                                       "", ", manual_cluster_snapshot_quota: 104"),
                     0);
    /* a source declares its account's raised quota; the backup's does not count there */
    assert_int_equal(s_check_text("version: 1\nstack: bench\nsource:\n  account: '100000000001'\n"
                                  "  region: eu-central-1\n  clusters: [c1, c2]\n"
                                  "  manual_cluster_snapshot_quota: 102\n"
                                  "retention: {intermediate_days: 50}\n"
                                  "backup: {account: '222222222222', region: eu-west-1, "
                                  "manual_cluster_snapshot_quota: 1000}\n"),
                     0);
    assert_int_equal(s_check_retention("", "c1, c2", "intermediate_days: 50",
                                       ", manual_cluster_snapshot_quota: 1000"),
                     RDSBK_EINVALID);
    assert_int_equal(s_check_retention("d1, d2", "", "keep_last: 51, backup_days: 0", ""),
                     RDSBK_EINVALID);
    assert_non_null(strstr(rdsbk_error_last()->message, "about 102 manual snapshots (2 databases "
                                                        "x 51"));
}

/* Copies' names fit RDS's 63 characters for every valid identifier; the same vectors are checked
 * against the functions' rule (tests/lambda/test_handlers.py, test_copy_names). */
static void test_copy_names(void **state) {
    static const struct {
        const char *db;
        const char *region;
        const char *base;
    } cases[] = {
        {"orders-db", NULL, "orders-db"},
        {"Orders-DB", NULL, "orders-db"},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
        {"aurora-cluster-for-the-reporting-warehouse-eu", NULL,
         "aurora-cluster-for-the-rep-b4aeb1"},
        {"abcdefghijklmnopqrstuvwxy-z-long-cluster-name-x", NULL,
         "abcdefghijklmnopqrstuvwxy-0a18eb"},
        {"orders-db", "eu-central-1", "orders-db-euc1"},
        {"orders-db", "us-gov-west-1", "orders-db-usgovw1"},
        {"aurora-cluster-for-the-reporting-warehouse-eu", "ap-southeast-2",
         "aurora-cluster-for-t-b4aeb1-apse2"},
    };
    char base[RDSBK_COPY_BASE_MAX + 1];
    char name[128];
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rdsbk_copy_base(base, cases[i].db, cases[i].region);
        assert_string_equal(base, cases[i].base);
    }
    assert_int_equal(rdsbk_copy_name(name, sizeof(name),
                                     "rds:aurora-cluster-for-the-reporting-warehouse-eu-2024-08-"
                                     "13-03-10",
                                     NULL),
                     0);
    assert_string_equal(name, "aurora-cluster-for-the-rep-b4aeb1-2024-08-13-03-10");
    /* the longest backup copy's name: base, stamp and account */
    assert_true(strlen(name) + 13 <= 63);
    assert_int_equal(rdsbk_copy_name(name, sizeof(name), "orders-db-2024-08-13-03-10", NULL),
                     RDSBK_EINVALID);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_resources),
        cmocka_unit_test(test_order_and_names),
        cmocka_unit_test(test_order_refuses_cycles),
        cmocka_unit_test(test_fan_in_shares_backup_side),
        cmocka_unit_test(test_backup_bus),
        cmocka_unit_test(test_alerts),
        cmocka_unit_test(test_alerts_max_age),
        cmocka_unit_test(test_role_policies_count_together),
        cmocka_unit_test(test_references_resolve),
        cmocka_unit_test(test_forward_pattern),
        cmocka_unit_test(test_long_names_shortened),
        cmocka_unit_test(test_documents_within_aws_quotas),
        cmocka_unit_test(test_snapshots_within_rds_quotas),
        cmocka_unit_test(test_copy_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
