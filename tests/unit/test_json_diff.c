/* JSON documents in a plan: indented values and structural changes (src/cli/json_diff.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cli/json_diff.h"

#include <stdlib.h>
#include <string.h>

/* The text of rdsbk_json_diff_change of two JSON documents (margin 0, no colour). */
static char *s_change(const char *before, const char *after) {
    struct rdsbk_buf b = RDSBK_BUF_INIT;
    cJSON *x = before ? cJSON_Parse(before) : NULL;
    cJSON *y = cJSON_Parse(after);

    assert_non_null(y);
    assert_int_equal(rdsbk_json_diff_change(&b, x, y, 0, NULL), 0);
    cJSON_Delete(x);
    cJSON_Delete(y);
    return rdsbk_buf_detach(&b);
}

static char *s_render(const char *doc) {
    struct rdsbk_buf b = RDSBK_BUF_INIT;
    cJSON *v = cJSON_Parse(doc);

    assert_non_null(v);
    assert_int_equal(rdsbk_json_diff_value(&b, v, 2), 0);
    cJSON_Delete(v);
    return rdsbk_buf_detach(&b);
}

static void test_value_indented(void **state) {
    char *text = s_render("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                          "\"Resource\":\"${backup.kms_key.shared#arn}\"}],\"Empty\":[]}");
    (void)state;

    assert_string_equal(text, "{\n"
                              "        \"Version\": \"2012-10-17\",\n"
                              "        \"Statement\": [\n"
                              "            {\n"
                              "                \"Effect\": \"Allow\",\n"
                              "                \"Resource\": (known after apply),\n"
                              "            },\n"
                              "        ],\n"
                              "        \"Empty\": [],\n"
                              "    }\n");
    free(text);
    text = s_render("42");
    assert_string_equal(text, "42\n");
    free(text);
}

/* One ARN added to a statement's Resource list: one added line, the rest folded. */
static void test_added_element_is_one_line(void **state) {
    char *text = s_change(
        "{\"Version\":\"1\",\"Statement\":[{\"Sid\":\"A\",\"Resource\":[\"r1\",\"r2\"]},"
        "{\"Sid\":\"B\",\"Resource\":\"x\"}]}",
        "{\"Version\":\"1\",\"Statement\":[{\"Sid\":\"A\",\"Resource\":[\"r1\",\"new\",\"r2\"]},"
        "{\"Sid\":\"B\",\"Resource\":\"x\"}]}");
    (void)state;

    assert_string_equal(text, "{\n"
                              "    ~ \"Statement\": [\n"
                              "        ~ {\n"
                              "            ~ \"Resource\": [\n"
                              "                  # (1 unchanged element hidden)\n"
                              "                + \"new\",\n"
                              "                  # (1 unchanged element hidden)\n"
                              "              ],\n"
                              "              # (1 unchanged attribute hidden)\n"
                              "          },\n"
                              "          # (1 unchanged element hidden)\n"
                              "      ],\n"
                              "      # (1 unchanged attribute hidden)\n"
                              "  }\n");
    free(text);
}

/* Members are matched by key: another order is no change; removed and changed ones show. */
static void test_members_by_key(void **state) {
    char *text =
        s_change("{\"a\":1,\"b\":{\"x\":true},\"gone\":\"g\"}", "{\"b\":{\"x\":false},\"a\":1}");
    (void)state;

    assert_string_equal(text, "{\n"
                              "    ~ \"b\": {\n"
                              "        ~ \"x\": true -> false,\n"
                              "      },\n"
                              "    - \"gone\": \"g\",\n"
                              "      # (1 unchanged attribute hidden)\n"
                              "  }\n");
    free(text);
}

/* Scalars, and a document that was none, stay on one line; a changed kind is old -> new. */
static void test_scalars_one_line(void **state) {
    char *text = s_change("60", "90");
    (void)state;

    assert_string_equal(text, "60 -> 90\n");
    free(text);
    text = s_change(NULL, "{\"a\":1}");
    assert_string_equal(text, "(none) -> {\"a\":1}\n");
    free(text);
    text = s_change("[\"a\"]", "[\"b\",\"a\",\"c\"]");
    assert_string_equal(text, "[\n"
                              "    + \"b\",\n"
                              "      # (1 unchanged element hidden)\n"
                              "    + \"c\",\n"
                              "  ]\n");
    free(text);
}

/* Nothing a terminal would obey reaches it, even from a document read from AWS. */
static void test_escaped(void **state) {
    char *text = s_change("{\"k\":\"a\"}", "{\"k\":\"\\u001b]0;owned\\u0007 \\u202e\"}");
    (void)state;

    assert_null(strchr(text, '\033'));
    assert_null(strstr(text, "\xe2\x80\xae"));
    free(text);
}

static void test_list_paths(void **state) {
    cJSON *b = cJSON_Parse("{\"S\":[{\"R\":[\"r1\",\"r2\"]},{\"R\":\"x\"}],\"old\":1,\"v\":1}");
    cJSON *a = cJSON_Parse("{\"S\":[{\"R\":[\"r1\",\"new\",\"r2\"]},{\"R\":\"x\"}],\"v\":2}");
    cJSON *list = rdsbk_json_diff_list(b, a);
    char *text = cJSON_PrintUnformatted(list);
    (void)state;

    assert_string_equal(text, "[{\"path\":\"S[0].R[1]\",\"action\":\"add\",\"after\":\"new\"},"
                              "{\"path\":\"v\",\"action\":\"change\",\"before\":1,\"after\":2},"
                              "{\"path\":\"old\",\"action\":\"remove\",\"before\":1}]");
    cJSON_free(text);
    cJSON_Delete(list);
    list = rdsbk_json_diff_list(b, b);
    assert_int_equal(cJSON_GetArraySize(list), 0);
    cJSON_Delete(list);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

/* Arrays too long to align are shown as removed and added, not an error. */
static void test_long_arrays(void **state) {
    cJSON *b = cJSON_CreateArray();
    cJSON *a = cJSON_CreateArray();
    struct rdsbk_buf buf = RDSBK_BUF_INIT;
    (void)state;

    for (int i = 0; i < 600; i++) {
        cJSON_AddItemToArray(b, cJSON_CreateNumber(i));
        cJSON_AddItemToArray(a, cJSON_CreateNumber(i + (i == 599)));
    }
    assert_int_equal(rdsbk_json_diff_change(&buf, b, a, 0, NULL), 0);
    assert_non_null(strstr(rdsbk_buf_cstr(&buf), "- 599,"));
    assert_non_null(strstr(rdsbk_buf_cstr(&buf), "+ 600,"));
    rdsbk_buf_clean_up(&buf);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_indented), cmocka_unit_test(test_added_element_is_one_line),
        cmocka_unit_test(test_members_by_key), cmocka_unit_test(test_scalars_one_line),
        cmocka_unit_test(test_escaped),        cmocka_unit_test(test_list_paths),
        cmocka_unit_test(test_long_arrays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
