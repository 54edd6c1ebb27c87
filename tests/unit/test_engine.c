/* src/engine: the semantic comparison of attribute values (canon.c). The engine as a whole is
 * tested through its callbacks in tests/engine/test_engine_callbacks.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine/canon.h"

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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canon_equivalences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
