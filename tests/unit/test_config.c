/* The topology loader and its value checks. Whole-file error messages are covered by
 * tests/topologies (through the binary); this file checks the parsed values and the checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config/validate.h"
#include "rdsbk/json_util.h"
#include "rdsbk/buf.h"
#include "rdsbk/config.h"
#include "rdsbk/error.h"
#include "rdsbk/str.h"
#include "test_fan_in_text.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct rdsbk_topology *s_parse(const char *text, struct rdsbk_diagnostics *diags) {
    struct rdsbk_topology *t = NULL;
    rdsbk_topology_parse(&t, diags, "t.yaml", text, strlen(text));
    return t;
}

static void test_defaults_and_shorthand(void **state) {
    struct rdsbk_diagnostics d;
    struct rdsbk_topology *t = s_parse("version: 1\n"
                                       "stack: s1\n"
                                       "source:\n"
                                       "  account: 012345678901\n"
                                       "  region: eu-central-1\n"
                                       "  instances: db-a\n"
                                       "backup: {account: '222222222222', region: eu-west-1}\n"
                                       "tags: {zeta: '1', alpha: two}\n",
                                       &d);
    (void)state;
    assert_non_null(t);
    assert_int_equal(d.count, 0);
    assert_int_equal(t->n_sources, 1);
    /* unquoted, the account keeps its leading zero: it is read as text, never as a number */
    assert_string_equal(t->sources[0].account, "012345678901");
    assert_int_equal(t->sources[0].n_instances, 1);
    assert_string_equal(t->sources[0].instances[0], "db-a");
    assert_string_equal(t->key.alias, "alias/rdsbk-s1");
    assert_true(t->key.multi_region);
    assert_int_equal(t->key.deletion_window_days, 30);
    assert_false(t->key.prevent_destroy);
    assert_string_equal(t->functions.runtime, "python3.13");
    assert_int_equal(t->functions.timeout_seconds, 60);
    assert_int_equal(t->functions.memory_mb, 128);
    assert_int_equal(t->functions.log_retention_days, 30);
    assert_int_equal(t->retention.backup_days, 7);
    assert_int_equal(t->retention.intermediate_days, 1);
    assert_int_equal(t->retention.keep_last, 1);
    assert_int_equal(t->backup.quotas.manual_snapshots, 100);
    assert_int_equal(t->backup.quotas.manual_cluster_snapshots, 100);
    assert_int_equal(t->sources[0].quotas.manual_snapshots, 100);
    assert_int_equal(t->n_tags, 2);
    assert_string_equal(t->tags[0].key, "alpha"); /* sorted */
    assert_string_equal(t->tags[1].value, "1");
    assert_null(t->endpoints.default_url);
    rdsbk_topology_free(t);
    rdsbk_diagnostics_clean_up(&d);
}

/* Endpoint overrides per service, S3's included, and in the topology's JSON form. */
static void test_endpoints(void **state) {
    struct rdsbk_diagnostics d;
    struct rdsbk_topology *t = s_parse("version: 1\n"
                                       "stack: s1\n"
                                       "source: {account: '111111111111', region: eu-central-1, "
                                       "instances: [db-a]}\n"
                                       "backup: {account: '222222222222', region: eu-west-1}\n"
                                       "endpoints:\n"
                                       "  default: http://127.0.0.1:4566\n"
                                       "  s3: http://s3.localhost:4566\n"
                                       "  sns: http://127.0.0.1:4567\n",
                                       &d);
    cJSON *json;
    char *text;
    (void)state;
    assert_non_null(t);
    assert_string_equal(t->endpoints.default_url, "http://127.0.0.1:4566");
    assert_string_equal(t->endpoints.s3, "http://s3.localhost:4566");
    assert_string_equal(t->endpoints.sns, "http://127.0.0.1:4567");
    assert_null(t->endpoints.kms);
    text = rdsbk_topology_to_json(t);
    json = cJSON_Parse(text);
    assert_string_equal(rdsbk_json_str(cJSON_GetObjectItem(json, "endpoints"), "s3"),
                        "http://s3.localhost:4566");
    cJSON_Delete(json);
    free(text);
    rdsbk_topology_free(t);
    rdsbk_diagnostics_clean_up(&d);
}

static void test_all_errors_in_one_run(void **state) {
    struct rdsbk_diagnostics d;
    struct rdsbk_topology *t = s_parse("version: 1\n"
                                       "stack: BAD\n"
                                       "sources:\n"
                                       "  - account: '1'\n"
                                       "    region: nowhere\n"
                                       "    instances: [ok]\n"
                                       "backup: {account: '222222222222', region: eu-west-1}\n",
                                       &d);
    (void)state;
    assert_null(t);
    assert_int_equal(d.count, 3);
    assert_int_equal(d.items[0].pos.line, 2);
    assert_int_equal(d.items[0].pos.col, 8);
    assert_int_equal(d.items[1].pos.line, 4);
    assert_int_equal(d.items[2].pos.line, 5);
    assert_non_null(strstr(d.items[1].message, "12-digit"));
    rdsbk_diagnostics_clean_up(&d);
}

static void test_fan_in_example(void **state) {
    struct rdsbk_diagnostics d;
    struct rdsbk_topology *t = NULL;
    int rc = rdsbk_topology_load(&t, &d, RDSBK_SOURCE_DIR "/examples/fan-in.yaml");
    (void)state;
    assert_int_equal(rc, 0);
    assert_int_equal(t->n_sources, 3);
    assert_string_equal(t->sources[1].role_arn, "arn:aws:iam::333333333333:role/rdsbk-deployer");
    assert_string_equal(t->sources[2].region, "ap-southeast-2");
    assert_int_equal(t->key.deletion_window_days, 7);
    rdsbk_topology_free(t);
}

static void test_missing_file(void **state) {
    struct rdsbk_diagnostics d;
    struct rdsbk_topology *t = NULL;
    (void)state;
    assert_int_not_equal(rdsbk_topology_load(&t, &d, "/nonexistent/rdsbk.yaml"), 0);
    assert_null(t);
    assert_int_equal(d.count, 0);
}

static const struct {
    const char *value;
    int valid;
} s_regions[] = {
    {"eu-west-1", 1},    {"us-gov-west-1", 1},
    {"cn-north-1", 1},   {"ap-southeast-2", 1},
    {"il-central-1", 1}, {"me-south-1", 1},
    {"eu-west", 0},      {"EU-WEST-1", 0},
    {"eu-west-01", 0},   {"e-west-1", 0},
    {"eu-we-1", 0},      {"eu-west-1x", 0},
    {"eu-west-1 ", 0},   {"", 0},
};

static void test_regions(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(s_regions) / sizeof(s_regions[0]); i++) {
        int ok = rdsbk_check_region(s_regions[i].value) == NULL;
        if (ok != s_regions[i].valid)
            fail_msg("region '%s': expected %s", s_regions[i].value,
                     s_regions[i].valid ? "valid" : "invalid");
    }
    assert_string_equal(rdsbk_region_partition("cn-northwest-1"), "aws-cn");
    assert_string_equal(rdsbk_region_partition("us-gov-east-1"), "aws-us-gov");
    assert_string_equal(rdsbk_region_partition("us-east-1"), "aws");
}

static const struct {
    const char *value;
    int valid;
} s_dbs[] = {
    {"orders-db", 1},
    {"billing-*", 1},
    {"*", 1},
    {"a", 1},
    {"orders-", 0},
    {"-orders", 0},
    {"1db", 0},
    {"a--b", 0},
    {"a_b", 0},
    {"a*b", 0},
    {"**", 0},
    {"", 0},
    {"a23456789012345678901234567890123456789012345678901234567890123", 1},
    {"a234567890123456789012345678901234567890123456789012345678901234", 0},
};

static void test_db_patterns(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(s_dbs) / sizeof(s_dbs[0]); i++) {
        int ok = rdsbk_check_db_pattern(s_dbs[i].value) == NULL;
        if (ok != s_dbs[i].valid)
            fail_msg("db '%s': expected %s", s_dbs[i].value, s_dbs[i].valid ? "valid" : "invalid");
    }
}

static void test_other_checks(void **state) {
    (void)state;
    assert_true(rdsbk_valid_account("000000000001"));
    assert_false(rdsbk_valid_account("00000000001"));
    assert_false(rdsbk_valid_account("0000000000012"));
    assert_false(rdsbk_valid_account("00000000000a"));
    assert_null(rdsbk_check_role_arn("arn:aws:iam::111111111111:role/path/deployer"));
    assert_null(rdsbk_check_role_arn("arn:aws-cn:iam::111111111111:role/x"));
    assert_non_null(rdsbk_check_role_arn("arn:aws:iam::111111111111:user/x"));
    assert_non_null(rdsbk_check_role_arn("arn:aws:iam::11111111111:role/x"));
    assert_non_null(rdsbk_check_role_arn("arn:aws:iam::111111111111:role/"));
    assert_non_null(rdsbk_check_role_arn("arn:aws:iam::111111111111:role/a b"));
    assert_true(rdsbk_arn_in_account("arn:aws:iam::111111111111:role/x", "111111111111"));
    assert_false(rdsbk_arn_in_account("arn:aws:iam::111111111112:role/x", "111111111111"));
    assert_null(rdsbk_check_key_alias("alias/rdsbk-x_1/y"));
    assert_non_null(rdsbk_check_key_alias("alias/aws/rds"));
    assert_non_null(rdsbk_check_key_alias("alias/"));
    assert_non_null(rdsbk_check_key_alias("rdsbk"));
    assert_null(rdsbk_check_endpoint_url("http://127.0.0.1:4566"));
    assert_null(rdsbk_check_endpoint_url("https://kms.eu-west-1.amazonaws.com/"));
    assert_non_null(rdsbk_check_endpoint_url("ftp://x"));
    assert_non_null(rdsbk_check_endpoint_url("http://"));
    assert_non_null(rdsbk_check_endpoint_url("http://user:pw@host/"));
    assert_null(rdsbk_check_stack("a"));
    assert_null(rdsbk_check_stack("orders-dr-2024-abcdefghi"));
    assert_non_null(rdsbk_check_stack("orders-dr-2024-abcdefghij"));
    assert_non_null(rdsbk_check_stack("9a"));
    assert_null(rdsbk_check_tag_key("cost center:a/b=c+d-e@f"));
    assert_non_null(rdsbk_check_tag_key("AWS:x"));
    assert_null(rdsbk_check_tag_value(""));
    assert_null(rdsbk_check_runtime("python3.12"));
    assert_non_null(rdsbk_check_runtime("nodejs20.x"));
}

/* RDS stores DB identifiers in lower case; the pipeline's event patterns and IAM ARNs are
 * case-sensitive: a mixed-case id is used in lower case, with a warning at its place. */
static void test_mixed_case_identifiers(void **state) {
    struct rdsbk_diagnostics d;
    struct rdsbk_topology *t =
        s_parse("version: 1\nstack: s1\n"
                "source: {account: '111111111111', region: eu-central-1,\n"
                "         instances: [Orders-DB, billing-db], clusters: [\"Aurora-*\"]}\n"
                "backup: {account: '222222222222', region: eu-west-1}\n",
                &d);
    (void)state;
    assert_non_null(t);
    assert_int_equal(d.errors, 0);
    assert_string_equal(t->sources[0].instances[0], "orders-db");
    assert_string_equal(t->sources[0].instances[1], "billing-db");
    assert_string_equal(t->sources[0].clusters[0], "aurora-*");
    assert_int_equal(d.count, 2);
    assert_int_equal(d.items[0].severity, RDSBK_SEVERITY_WARNING);
    assert_int_equal(d.items[0].pos.line, 4);
    assert_int_equal(d.items[0].pos.col, 22);
    assert_non_null(strstr(d.items[0].message, "'Orders-DB' is read as 'orders-db'"));
    assert_int_equal(d.items[1].pos.col, 57);
    rdsbk_topology_free(t);
    rdsbk_diagnostics_clean_up(&d);

    /* the same database twice, in two cases: listed twice */
    t = s_parse("version: 1\nstack: s1\n"
                "source: {account: '111111111111', region: eu-central-1,\n"
                "         instances: [orders-db, Orders-DB]}\n"
                "backup: {account: '222222222222', region: eu-west-1}\n",
                &d);
    assert_null(t);
    assert_int_equal(d.errors, 1);
    assert_int_equal(d.count, 2);
    assert_int_equal(d.items[1].severity, RDSBK_SEVERITY_ERROR);
    assert_non_null(strstr(d.items[1].message, "'orders-db' is listed twice"));
    rdsbk_diagnostics_clean_up(&d);
}

/* Warnings are capped apart from errors: a file with many need not hide its error. */
static void test_warnings_never_hide_errors(void **state) {
    struct rdsbk_diagnostics d;
    char *text = s_fan_in_text(1, 1, "");
    char *ids = calloc(1, 16 * 60 + 64);
    char *edited;
    size_t n = 0;
    (void)state;

    for (int i = 0; i < 60; i++)
        n += (size_t)sprintf(ids + n, "%sDb-%d", i ? ", " : "", i);
    assert_int_equal(rdsbk_strfmt(&edited, "%s\nsource2: x\n", text), 0);
    free(text);
    text = strstr(edited, "instances: [db]");
    assert_non_null(text);
    assert_int_equal(rdsbk_strfmt(&text, "%.*sinstances: [%s]%s", (int)(text - edited), edited, ids,
                                  text + strlen("instances: [db]")),
                     0);
    assert_null(s_parse(text, &d));
    assert_int_equal(d.errors, 1);
    assert_int_equal(d.count, RDSBK_MAX_DIAGNOSTICS + 1);
    assert_int_equal(d.more, 10);
    assert_int_equal(d.items[d.count - 1].severity, RDSBK_SEVERITY_ERROR);
    assert_non_null(strstr(d.items[d.count - 1].message, "unknown key 'source2'"));
    rdsbk_diagnostics_clean_up(&d);
    free(text);
    free(edited);
    free(ids);
}

/* Lambda's Python runtimes: python3.9 .. python3.14 accepted, the deprecated ones warned about
 * from their deprecation day, python3.13 by default. */
static void test_runtimes(void **state) {
    struct rdsbk_diagnostics d;
    struct rdsbk_topology *t;
    (void)state;

    assert_null(rdsbk_check_runtime("python3.9"));
    assert_null(rdsbk_check_runtime("python3.14"));
    assert_non_null(rdsbk_check_runtime("python3.8"));
    assert_non_null(rdsbk_check_runtime("python3.15"));
    assert_string_equal(rdsbk_runtime_deprecated("python3.9", "2026-12-06"), "2025-12-15");
    assert_null(rdsbk_runtime_deprecated("python3.10", "2026-10-30"));
    assert_string_equal(rdsbk_runtime_deprecated("python3.10", "2026-10-31"), "2026-10-31");
    assert_null(rdsbk_runtime_deprecated("python3.11", "2026-12-06"));
    assert_null(rdsbk_runtime_deprecated("python3.13", "2028-12-31"));
    assert_null(rdsbk_runtime_deprecated("nodejs20.x", "2099-01-01"));

    t = s_parse("version: 1\nstack: s1\n"
                "source: {account: '111111111111', region: eu-central-1, instances: [db]}\n"
                "backup: {account: '222222222222', region: eu-west-1}\n"
                "functions: {runtime: python3.9}\n",
                &d);
    assert_non_null(t);
    assert_string_equal(t->functions.runtime, "python3.9");
    assert_int_equal(d.count, 1);
    assert_int_equal(d.items[0].severity, RDSBK_SEVERITY_WARNING);
    assert_int_equal(d.items[0].pos.line, 5);
    assert_non_null(strstr(d.items[0].message, "deprecated python3.9 on 2025-12-15"));
    rdsbk_topology_free(t);
    rdsbk_diagnostics_clean_up(&d);
}

/* AWS's tag pattern ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$, for keys and values alike. */
static const struct {
    const char *value;
    long refused; /* the first character refused, -1: none */
} s_tag_chars[] = {
    {"", -1},
    {"cost center:a/b=c+d-e@f", -1},
    {"caf\xc3\xa9 J\xc3\xb6rg", -1},      /* letters (Ll) */
    {"\xe6\x97\xa5\xe6\x9c\xac", -1},     /* letters (Lo) */
    {"\xd9\xa3\xc2\xb2\xe2\x85\xa0", -1}, /* digits and numbers (Nd, No, Nl) */
    {"a\xc2\xa0\xe3\x80\x80"
     "b",
     -1},                         /* no-break and ideographic spaces (Zs) */
    {"5 \xe2\x82\xac", 0x20AC},   /* a currency sign (Sc) */
    {"data\xe2\x80\xae", 0x202E}, /* a bidirectional override (Cf) */
    {"a\xc2\x9b"
     "31m",
     0x9B},                        /* a C1 control (Cc) */
    {"a\033[2J", 0x1B},            /* ESC */
    {"a\tb", '\t'},                /* tab is a control, not \p{Z} */
    {"\xf0\x9f\x90\x98", 0x1F418}, /* a symbol (So) */
    {"e\xcc\x81", 0x301},          /* a combining accent (Mn) */
    {"{x}", '{'},
    {"a,b", ','},
    {"a\"b", '"'},
};

static void test_tag_characters(void **state) {
    char long_value[2 * 257 + 1] = {0};
    (void)state;

    for (size_t i = 0; i < sizeof(s_tag_chars) / sizeof(s_tag_chars[0]); i++) {
        long refused = rdsbk_tag_refused_char(s_tag_chars[i].value);
        if (refused != s_tag_chars[i].refused)
            fail_msg("tag '%s': refused U+%04lX, expected U+%04lX", s_tag_chars[i].value,
                     (unsigned long)refused, (unsigned long)s_tag_chars[i].refused);
        if ((rdsbk_check_tag_value(s_tag_chars[i].value) == NULL) != (refused < 0))
            fail_msg("tag value '%s': checked otherwise", s_tag_chars[i].value);
    }
    /* lengths in characters: values 0..256, keys 1..128 */
    for (int i = 0; i < 256; i++)
        memcpy(long_value + 2 * i, "\xc3\xa9", 2);
    assert_null(rdsbk_check_tag_value(long_value));
    memcpy(long_value + 2 * 256, "\xc3\xa9", 2);
    assert_non_null(rdsbk_check_tag_value(long_value));
    long_value[2 * 128] = '\0';
    assert_null(rdsbk_check_tag_key(long_value));
    memcpy(long_value + 2 * 128, "\xc3\xa9", 3);
    assert_non_null(rdsbk_check_tag_key(long_value));
    assert_non_null(rdsbk_check_tag_key(""));
    assert_non_null(rdsbk_check_tag_key("team\xe2\x81\xa6"));
}

/* Parses s_fan_in_text(n, 1, extra). */
static struct rdsbk_topology *s_fan_in(int n, const char *extra, struct rdsbk_diagnostics *d) {
    char *text = s_fan_in_text(n, 1, extra);
    struct rdsbk_topology *t = s_parse(text, d);

    free(text);
    return t;
}

/* backup.bus_policy_quota: 10,240 (EventBridge's default) unless raised, never lower. The
 * policy's size is checked on the built pipeline (unit.test_model). */
static void test_bus_policy_quota(void **state) {
    static const struct {
        const char *extra;
        int quota; /* parsed; 0: refused */
    } cases[] = {
        {"", 10240}, {", bus_policy_quota: 20480", 20480}, {", bus_policy_quota: 1024", 0}};
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rdsbk_diagnostics d;
        struct rdsbk_topology *t = s_fan_in(1, cases[i].extra, &d);

        if (cases[i].quota) {
            assert_non_null(t);
            assert_int_equal(d.count, 0);
            assert_int_equal(t->backup.bus_policy_quota, cases[i].quota);
        } else {
            assert_null(t);
            assert_int_equal(d.count, 1);
            assert_non_null(strstr(d.items[0].message, "backup.bus_policy_quota"));
            assert_int_equal(d.items[0].pos.line, 5);
        }
        rdsbk_topology_free(t);
        rdsbk_diagnostics_clean_up(&d);
    }
}

/* alerts: emails and the user's topic, which must be the backup account's in Region-B. */
static void test_alerts(void **state) {
    static const char base[] =
        "version: 1\nstack: s\nbackup: {account: '222222222222', region: eu-west-1}\n"
        "source: {account: '111111111111', region: eu-central-1, instances: [db]}\nalerts:\n";
    static const struct {
        const char *alerts;
        const char *problem; /* NULL: valid */
    } cases[] = {
        {"  emails: [ops@example.com, oncall@example.org]\n", NULL},
        {"  sns_topic_arn: arn:aws:sns:eu-west-1:222222222222:ops_alerts-1\n", NULL},
        {"  emails: [ops]\n", "alerts.emails[0]: 'ops' is not an email address"},
        {"  emails: [\"a b@example.com\"]\n", "is not an email address"},
        {"  emails: [ops@example.com, ops@example.com]\n", "is listed twice"},
        {"  sns_topic_arn: arn:aws:sns:eu-west-1:222222222222:ops.fifo\n",
         "is not an SNS topic ARN"},
        {"  sns_topic_arn: arn:aws:sqs:eu-west-1:222222222222:ops\n", "is not an SNS topic ARN"},
        {"  sns_topic_arn: arn:aws:sns:eu-west-1:333333333333:ops\n",
         "is not a topic of the backup account 222222222222 in Region-B eu-west-1"},
        {"  sns_topic_arn: arn:aws:sns:us-east-1:222222222222:ops\n",
         "is not a topic of the backup account"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[1024];
        struct rdsbk_diagnostics d;
        struct rdsbk_topology *t;

        snprintf(text, sizeof(text), "%s%s", base, cases[i].alerts);
        t = s_parse(text, &d);
        if (!cases[i].problem) {
            assert_non_null(t);
            assert_int_equal(d.count, 0);
        } else {
            assert_null(t);
            assert_int_equal(d.count, 1);
            if (!strstr(d.items[0].message, cases[i].problem))
                fail_msg("case %zu: %s", i, d.items[0].message);
            assert_int_equal(d.items[0].pos.line, 6);
        }
        rdsbk_topology_free(t);
        rdsbk_diagnostics_clean_up(&d);
    }
}

/* state: where the state lives in S3: every setting checked, bucket and key required, and in the
 * topology's JSON form. */
static void test_state_section(void **state) {
    static const char *const base = "version: 1\n"
                                    "stack: s1\n"
                                    "source: {account: '111111111111', region: eu-central-1, "
                                    "instances: [db-a]}\n"
                                    "backup: {account: '222222222222', region: eu-west-1}\n"
                                    "state:\n";
    static const struct {
        const char *state;
        const char *problem; /* NULL: accepted */
    } cases[] = {
        {"  bucket: my-states\n  key: rdsbk/s1.json\n", NULL},
        {"  bucket: my-states\n  key: k\n  region: us-east-2\n  profile: ci\n"
         "  role_arn: arn:aws:iam::333333333333:role/state\n"
         "  kms_key_id: arn:aws:kms:us-east-2:333333333333:key/mrk-0123456789abcdef\n",
         NULL},
        {"  bucket: b12\n  key: k\n  kms_key_id: alias/aws/s3\n", NULL},
        {"  bucket: b12\n  key: k\n  kms_key_id: 1234abcd-12ab-34cd-56ef-1234567890ab\n", NULL},
        {"  bucket: b12\n  key: k\n  kms_key_id: arn:aws:kms:eu-west-1:222222222222:alias/st\n",
         NULL},
        {"  bucket: my-states\n", "state: needs a bucket and a key"},
        {"  key: k\n", "state: needs a bucket and a key"},
        {"  bucket: My_States\n  key: k\n", "state.bucket: 'My_States' has upper-case letters"},
        {"  bucket: b12\n  key: dir/\n", "state.key: 'dir/' ends with '/'"},
        {"  bucket: b12\n  key: k\n  region: Mars\n", "state.region: 'Mars'"},
        {"  bucket: b12\n  key: k\n  kms_key_id: 'my key'\n", "state.kms_key_id: 'my key' is not"},
        {"  bucket: b12\n  key: k\n  role_arn: role/x\n", "state.role_arn: 'role/x'"},
        {"  bucket: b12\n  key: k\n  lock_table: t\n", "lock_table"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[1024];
        struct rdsbk_diagnostics d;
        struct rdsbk_topology *t;

        snprintf(text, sizeof(text), "%s%s", base, cases[i].state);
        t = s_parse(text, &d);
        if (!cases[i].problem) {
            if (!t)
                fail_msg("case %zu: %s", i, d.count ? d.items[0].message : "?");
            assert_non_null(t->state.bucket);
            assert_non_null(t->state.key);
        } else {
            assert_null(t);
            assert_true(d.count >= 1);
            if (!strstr(d.items[0].message, cases[i].problem))
                fail_msg("case %zu: %s", i, d.items[0].message);
        }
        if (t && i == 1) {
            char *json_text = rdsbk_topology_to_json(t);
            cJSON *json = cJSON_Parse(json_text);
            cJSON *st = cJSON_GetObjectItem(json, "state");
            assert_string_equal(rdsbk_json_str(st, "bucket"), "my-states");
            assert_string_equal(rdsbk_json_str(st, "region"), "us-east-2");
            assert_string_equal(rdsbk_json_str(st, "profile"), "ci");
            cJSON_Delete(json);
            free(json_text);
        }
        rdsbk_topology_free(t);
        rdsbk_diagnostics_clean_up(&d);
    }
}

/* ---- hostile input: every one refused within a time and memory budget ------------------- */

#define S_BUDGET_SECONDS 2.0
#define S_BUDGET_KB (200 * 1024)
#define S_HEAD                                                                                     \
    "version: 1\nstack: orders-dr\nbackup: {account: '222222222222', region: eu-west-1}\n"
#define S_SOURCE_AT "source: {account: '111111111111', region: eu-central-1, "
#define S_SOURCE S_SOURCE_AT "instances: [db]}\n"

/* A hostile topology: S_HEAD, `head`, `item` n times (%d: its number), `middle`, `item2` n2
 * times, `tail`. A few hundred KB each, all under the 1 MiB limit but the last. */
static const struct {
    const char *name;
    const char *head;
    const char *item;
    int n;
    const char *middle;
    const char *item2;
    int n2;
    const char *tail;
} s_hostile[] = {
    {"2,000 duplicate sources", "sources:\n",
     "  - {account: '111111111111', region: eu-central-1, instances: [db]}\n", 2000, "", "", 0, ""},
    {"40,000 unknown keys in one mapping", S_SOURCE "key:\n", "  k%d: 1\n", 40000, "", "", 0, ""},
    {"40,000 times the same key", S_SOURCE "key:\n", "  multi_region: true\n", 40000, "", "", 0,
     ""},
    {"40,000 identifiers, the last listed twice", S_SOURCE_AT "instances: [db0", ", db%d", 40000,
     ", db1]}\n", "", 0, ""},
    {"60,000 times one identifier", S_SOURCE_AT "instances: [db", ", db", 60000, "]}\n", "", 0, ""},
    {"1,000 aliases of a source of 1,000 aliases of an identifier", "x: &x db\nl: &l [*x", ", *x",
     999, "]\nsources: [&s {account: '111111111111', region: eu-central-1, instances: *l}", ", *s",
     999, "]\n"},
    {"600 sources, each its own account", "sources:\n",
     "  - {account: '111111%d', region: eu-central-1, instances: [db]}\n", 600, "", "", 0, ""},
    {"1,200 databases", S_SOURCE_AT "instances: [db", ", db%d", 1200, "]}\n", "", 0, ""},
    {"12,000 sources with a bad account", "sources:\n",
     "  - {account: 'x%d', region: eu-central-1, instances: [db]}\n", 12000, "", "", 0, ""},
    {"200,000 nested lists", "tags: ", "[", 200000, "", "]", 200000, "\n"},
    {"a billion laughs (10 aliases, 9 levels)",
     "a0: &a0 [db, db, db, db, db, db, db, db, db, db]\n"
     "a1: &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]\n"
     "a2: &a2 [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1]\n"
     "a3: &a3 [*a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2]\n"
     "a4: &a4 [*a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3]\n"
     "a5: &a5 [*a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4]\n"
     "a6: &a6 [*a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5]\n"
     "a7: &a7 [*a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6]\n"
     "a8: &a8 [*a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7]\n" S_SOURCE_AT "instances: *a8}\n",
     "", 0, "", "", 0, ""},
    {"a list that holds itself", S_SOURCE "sources: &r [*r]\n", "", 0, "", "", 0, ""},
    {"1 MiB and a byte", S_SOURCE "#", " ", 1024 * 1024, "\n", "", 0, ""},
};

/* Adds `item` with its "%d" (if any) replaced by `k` in six digits. */
static int s_add_numbered(struct rdsbk_buf *b, const char *item, int k) {
    const char *at = strstr(item, "%d");
    int rc;

    if (!at)
        return rdsbk_buf_adds(b, item);
    rc = rdsbk_buf_add(b, item, (size_t)(at - item));
    rc = rc ? rc : rdsbk_buf_printf(b, "%06d", k);
    return rc ? rc : rdsbk_buf_adds(b, at + 2);
}

static char *s_hostile_text(size_t i) {
    struct rdsbk_buf b = RDSBK_BUF_INIT;
    int rc = rdsbk_buf_adds(&b, S_HEAD);

    rc = rc ? rc : rdsbk_buf_adds(&b, s_hostile[i].head);
    for (int k = 0; !rc && k < s_hostile[i].n; k++)
        rc = s_add_numbered(&b, s_hostile[i].item, k);
    rc = rc ? rc : rdsbk_buf_adds(&b, s_hostile[i].middle);
    for (int k = 0; !rc && k < s_hostile[i].n2; k++)
        rc = rdsbk_buf_adds(&b, s_hostile[i].item2);
    rc = rc ? rc : rdsbk_buf_adds(&b, s_hostile[i].tail);
    assert_int_equal(rc, 0);
    return rdsbk_buf_detach(&b);
}

/* In a child of its own (so that its peak memory is its own): parses `text`; exits 0 when it was
 * refused as invalid with at most RDSBK_MAX_DIAGNOSTICS errors and as many warnings listed. */
static void s_hostile_child(const char *text) {
    struct rdsbk_topology *t = NULL;
    struct rdsbk_diagnostics d;
    int rc;

    alarm(30); /* the code before the limits took minutes: stop there */
    rc = rdsbk_topology_parse(&t, &d, "hostile.yaml", text, strlen(text));
    _exit(rc == RDSBK_EINVALID && !t && d.count <= 2 * RDSBK_MAX_DIAGNOSTICS ? 0 : 1);
}

/* Runs hostile case `i` in a child; false (after saying why) when it was not refused within the
 * budget. */
static bool s_hostile_case(size_t i) {
    char *text = s_hostile_text(i);
    struct timespec t0, t1;
    struct rusage ru;
    int status = 0;
    double seconds;
    pid_t pid;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        s_hostile_child(text);
    assert_int_equal(wait4(pid, &status, 0, &ru), pid);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_message("%-62s %8zu bytes: %6.2f s, %4ld MB%s\n", s_hostile[i].name, strlen(text),
                  seconds, ru.ru_maxrss / 1024,
                  WIFSIGNALED(status)   ? " (killed)"
                  : WEXITSTATUS(status) ? " (not refused)"
                                        : "");
    free(text);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 && seconds <= S_BUDGET_SECONDS &&
           ru.ru_maxrss <= S_BUDGET_KB;
}

static void test_hostile_input_budget(void **state) {
    int failed = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(s_hostile) / sizeof(s_hostile[0]); i++)
        failed += !s_hostile_case(i);
    if (failed)
        fail_msg("%d hostile topologies not refused within %.0f s and %d MB each", failed,
                 S_BUDGET_SECONDS, S_BUDGET_KB / 1024);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_shorthand),
        cmocka_unit_test(test_endpoints),
        cmocka_unit_test(test_state_section),
        cmocka_unit_test(test_all_errors_in_one_run),
        cmocka_unit_test(test_fan_in_example),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_regions),
        cmocka_unit_test(test_db_patterns),
        cmocka_unit_test(test_other_checks),
        cmocka_unit_test(test_tag_characters),
        cmocka_unit_test(test_mixed_case_identifiers),
        cmocka_unit_test(test_warnings_never_hide_errors),
        cmocka_unit_test(test_runtimes),
        cmocka_unit_test(test_bus_policy_quota),
        cmocka_unit_test(test_alerts),
        cmocka_unit_test(test_hostile_input_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
