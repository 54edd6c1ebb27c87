/* src/engine: the semantic comparison of attribute values (canon.c) and the names the state is
 * checked by (checks.c). The engine as a whole is tested through its callbacks in
 * tests/engine/test_engine_callbacks.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine/canon.h"
#include "engine/engine_internal.h"

#include <stdlib.h>

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

/* The purposes below are the pipeline's (rdsbk_model_purposes): "bus", "copy". */
#define TOPIC "arn:aws:sns:eu-west-1:222222222222:rdsbk-t1-bus"

static const struct {
    enum rdsbk_resource_type type;
    const char *id;
    bool ours;
} s_named[] = {
    {RDSBK_RT_IAM_ROLE, "rdsbk-t1-copy", true},
    {RDSBK_RT_IAM_ROLE, "rdsbk-t1-x-copy", false}, /* stack t1-x's */
    {RDSBK_RT_IAM_ROLE, "payroll-admin", false},
    {RDSBK_RT_LOGS_LOG_GROUP, "/aws/lambda/rdsbk-t1-copy", true},
    {RDSBK_RT_KMS_ALIAS, "alias/rdsbk-t1", true},
    {RDSBK_RT_KMS_ALIAS, "alias/team-key", true}, /* the topology's */
    {RDSBK_RT_KMS_ALIAS, "alias/rdsbk-t1-x", false},
    /* a topic by its ARN's name; nothing after it */
    {RDSBK_RT_SNS_TOPIC, TOPIC, true},
    {RDSBK_RT_SNS_TOPIC, "arn:aws-cn:sns:cn-north-1:222222222222:rdsbk-t1-bus", true},
    {RDSBK_RT_SNS_TOPIC, "arn:aws:sns:eu-west-1:222222222222:rdsbk-t1-x-bus", false},
    {RDSBK_RT_SNS_TOPIC, "arn:aws:sns:eu-west-1:222222222222:alerts", false},
    {RDSBK_RT_SNS_TOPIC, TOPIC ":0b0e7c4e-6f00-4a55-9b8e-000000000001", false},
    {RDSBK_RT_SNS_TOPIC, TOPIC "x", false},
    {RDSBK_RT_SNS_TOPIC, "rdsbk-t1-bus", true}, /* a state without an id: the name */
    {RDSBK_RT_SNS_TOPIC, "arn:aws:sns:rdsbk-t1-bus", false},
    /* a queue by its ARN's name, as a topic */
    {RDSBK_RT_SQS_QUEUE, "arn:aws:sqs:eu-west-1:111111111111:rdsbk-t1-copy", true},
    {RDSBK_RT_SQS_QUEUE, "arn:aws:sqs:eu-west-1:111111111111:rdsbk-t1-x-copy", false},
    {RDSBK_RT_SQS_QUEUE, "arn:aws:sqs:eu-west-1:111111111111:payroll-dlq", false},
    {RDSBK_RT_SQS_QUEUE, "rdsbk-t1-copy", true}, /* a state without an id: the name */
    /* a subscription by its topic's: its ARN, or the id of one pending confirmation */
    {RDSBK_RT_SNS_SUBSCRIPTION, TOPIC ":0b0e7c4e-6f00-4a55-9b8e-000000000001", true},
    {RDSBK_RT_SNS_SUBSCRIPTION, TOPIC "|email|ops@example.com", true},
    {RDSBK_RT_SNS_SUBSCRIPTION,
     "arn:aws:sns:eu-west-1:222222222222:rdsbk-t1-x-bus|email|ops@example.com", false},
    {RDSBK_RT_SNS_SUBSCRIPTION, "arn:aws:sns:eu-west-1:222222222222:ops:1234", false},
    {RDSBK_RT_SNS_SUBSCRIPTION, "ops@example.com", false},
};

static void test_named_ours(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(s_named) / sizeof(s_named[0]); i++)
        if (rdsbk_engine_named_ours(s_named[i].type, s_named[i].id, "t1", "alias/team-key") !=
            s_named[i].ours)
            fail_msg("%s \"%s\" should%s be stack t1's", rdsbk_resource_type_name(s_named[i].type),
                     s_named[i].id, s_named[i].ours ? "" : " not");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canon_equivalences),
        cmocka_unit_test(test_named_ours),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
