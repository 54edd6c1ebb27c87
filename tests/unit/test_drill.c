/* status / drill: the pure parts (durations, the pipeline's snapshot names, which copy belongs to
 * which database). The AWS side is covered end to end by tests/drill/test_drill.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <string.h>

#include "drill/drill_internal.h"
#include "rdsbk/error.h"

static const struct {
    const char *text;
    long long seconds; /* -1: invalid */
} s_durations[] = {
    {"26h", 26 * 3600},
    {"90m", 90 * 60},
    {"2d", 2 * 86400},
    {"45s", 45},
    {"45", 45},
    {"1h30m", 5400},
    {"1d2h3m4s", 86400 + 7200 + 180 + 4},
    {"0", -1},
    {"0h", -1},
    {"", -1},
    {"h", -1},
    {"26x", -1},
    {"-5m", -1},
    {"1h30", -1},
    {"5 m", -1},
    {"99999999999d", -1},
    {"4000d", -1},
};

static void test_duration_parse(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(s_durations) / sizeof(s_durations[0]); i++) {
        long long got = 12345;
        int rc = rdsbk_duration_parse(&got, s_durations[i].text);
        if (s_durations[i].seconds < 0) {
            if (rc != RDSBK_EINVALID)
                fail_msg("'%s' should be refused", s_durations[i].text);
            assert_int_equal(got, 0);
            assert_true(strlen(rdsbk_error_last()->message) > 0);
        } else {
            if (rc != 0)
                fail_msg("'%s': %s", s_durations[i].text, rdsbk_error_last()->message);
            assert_int_equal(got, s_durations[i].seconds);
        }
    }
}

static void test_duration_format(void **state) {
    static const struct {
        long long s;
        const char *text;
    } cases[] = {{-1, "-"},
                 {0, "0s"},
                 {59, "59s"},
                 {60, "1m00s"},
                 {3599, "59m59s"},
                 {3600, "1h00m"},
                 {26 * 3600 + 300, "1d02h"},
                 {93784, "1d02h"},
                 {7 * 3600 + 5 * 60, "7h05m"}};
    char out[16];
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(rdsbk_duration_format(out, sizeof(out), cases[i].s), cases[i].text);
}

static void test_pattern_match(void **state) {
    (void)state;
    assert_true(rdsbk_db_pattern_match("orders-db", "orders-db"));
    assert_true(rdsbk_db_pattern_match("Orders-DB", "orders-db"));
    assert_false(rdsbk_db_pattern_match("orders-db", "orders-db2"));
    assert_true(rdsbk_db_pattern_match("billing-*", "billing-eu"));
    assert_true(rdsbk_db_pattern_match("billing-*", "billing-"));
    assert_false(rdsbk_db_pattern_match("billing-*", "billin"));
    assert_true(rdsbk_db_pattern_match("*", "anything"));
}

static const struct {
    const char *id;
    int ok;
    int automated;
    const char *db;
    const char *stamp;
    const char *account;
} s_names[] = {
    {"rds:orders-db-2026-11-28-01-34", 1, 1, "orders-db", "2026-11-28-01-34", ""},
    {"orders-db-2026-11-28-01-34", 1, 0, "orders-db", "2026-11-28-01-34", ""},
    {"orders-db-2026-11-28-01-34-111111111111", 1, 0, "orders-db", "2026-11-28-01-34",
     "111111111111"},
    {"RDS:Orders-2026-11-28-01-34", 1, 1, "orders", "2026-11-28-01-34", ""},
    /* a database whose name ends in digits is not mistaken for the backup form */
    {"db-111111111111-2026-11-28-01-34", 1, 0, "db-111111111111", "2026-11-28-01-34", ""},
    {"a-2026-11-28-01-34", 1, 0, "a", "2026-11-28-01-34", ""},
    {"-2026-11-28-01-34", 0, 0, "", "", ""},
    {"2026-11-28-01-34", 0, 0, "", "", ""},
    {"orders-db-2026-11-28-0134", 0, 0, "", "", ""},
    {"orders-db-2026-11-28-01-34-11111111111", 0, 0, "", "", ""},
    {"rds:orders-db-2026-11-28-01-34-111111111111", 0, 0, "", "", ""},
    {"my-manual-snapshot", 0, 0, "", "", ""},
    {"", 0, 0, "", "", ""},
};

static void test_snapshot_names(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(s_names) / sizeof(s_names[0]); i++) {
        struct rdsbk_snapshot_name n;
        int rc = rdsbk_snapshot_name_parse(&n, s_names[i].id);
        if ((rc == 0) != s_names[i].ok)
            fail_msg("'%s': expected %s", s_names[i].id, s_names[i].ok ? "a match" : "no match");
        assert_int_equal(n.automated, s_names[i].automated);
        assert_string_equal(n.db, s_names[i].db);
        assert_string_equal(n.stamp, s_names[i].stamp);
        assert_string_equal(n.account, s_names[i].account);
    }
    assert_int_equal(rdsbk_snapshot_name_parse(&(struct rdsbk_snapshot_name){0}, NULL),
                     RDSBK_EINVALID);
}

static void test_copy_matching(void **state) {
    struct rdsbk_tag tag_from_ra = {"rdsbk:source-snapshot",
                                    "arn:aws:rds:eu-central-1:111111111111:snapshot:rds:orders-db-"
                                    "2026-11-28-01-34"};
    struct rdsbk_tag tag_from_other = {"rdsbk:source-snapshot",
                                       "arn:aws:rds:us-east-1:111111111111:snapshot:rds:orders-db-"
                                       "2026-11-28-01-34"};
    struct rdsbk_tag tag_account = {"rdsbk:source-account", "111111111111"};
    struct rdsbk_tag tag_other_account = {"rdsbk:source-account", "333333333333"};
    struct rdsbk_rds_snapshot s;
    (void)state;

    memset(&s, 0, sizeof(s));
    s.id = "orders-db-2026-11-28-01-34";
    /* by name alone */
    assert_true(rdsbk_drill_is_region_copy(&s, "orders-db", "111111111111", "eu-central-1"));
    assert_false(rdsbk_drill_is_region_copy(&s, "orders", "111111111111", "eu-central-1"));
    /* the tag names the source: another Region's database of the same name is not this one */
    s.tags = &tag_from_ra;
    s.n_tags = 1;
    assert_true(rdsbk_drill_is_region_copy(&s, "orders-db", "111111111111", "eu-central-1"));
    s.tags = &tag_from_other;
    assert_false(rdsbk_drill_is_region_copy(&s, "orders-db", "111111111111", "eu-central-1"));
    assert_false(rdsbk_drill_is_region_copy(&s, "orders-db", "222222222222", "us-east-1"));
    /* the backup form is not a Region-B copy, and the reverse */
    s.tags = NULL;
    s.n_tags = 0;
    assert_false(rdsbk_drill_is_backup_copy(&s, "orders-db", "111111111111"));
    s.id = "orders-db-2026-11-28-01-34-111111111111";
    assert_false(rdsbk_drill_is_region_copy(&s, "orders-db", "111111111111", "eu-central-1"));
    assert_true(rdsbk_drill_is_backup_copy(&s, "orders-db", "111111111111"));
    assert_false(rdsbk_drill_is_backup_copy(&s, "orders-db", "333333333333"));
    s.tags = &tag_account;
    s.n_tags = 1;
    assert_true(rdsbk_drill_is_backup_copy(&s, "orders-db", "111111111111"));
    s.tags = &tag_other_account;
    assert_false(rdsbk_drill_is_backup_copy(&s, "orders-db", "111111111111"));
    /* automated snapshots are never copies */
    s.tags = NULL;
    s.n_tags = 0;
    s.id = "rds:orders-db-2026-11-28-01-34";
    assert_false(rdsbk_drill_is_region_copy(&s, "orders-db", "111111111111", "eu-central-1"));
    assert_string_equal(
        rdsbk_drill_tag(&(struct rdsbk_rds_snapshot){.tags = &tag_account, .n_tags = 1},
                        "rdsbk:source-account"),
        "111111111111");
}

static void test_names_of_results(void **state) {
    (void)state;
    assert_string_equal(rdsbk_drill_hop_name(RDSBK_HOP_INVOKE), "invoke");
    assert_string_equal(rdsbk_drill_hop_name(RDSBK_HOP_BACKUP_COPY), "backup-copy");
    assert_string_equal(rdsbk_drill_result_name(RDSBK_DRILL_TIMEOUT), "timeout");
    assert_string_equal(rdsbk_drill_result_name((enum rdsbk_drill_result)99), "?");
}

static void test_row_freshness(void **state) {
    struct rdsbk_status_row row;
    (void)state;

    memset(&row, 0, sizeof(row));
    assert_false(rdsbk_status_row_fresh(&row, 1000000, 0)); /* no copy at all */
    row.backup_available_time = 1000000 - 3600;
    assert_true(rdsbk_status_row_fresh(&row, 1000000, 0));
    assert_true(rdsbk_status_row_fresh(&row, 1000000, 3600));
    assert_false(rdsbk_status_row_fresh(&row, 1000000, 3599));
}

static void test_quota_share(void **state) {
    static const struct {
        long long used, max;
        int percent; /* -1: unknown */
        bool high;
    } cases[] = {
        {0, 100, 0, false},
        {79, 100, 79, false},
        {80, 100, 80, true},
        {4, 5, 80, true},
        {399, 500, 79, false},
        {100, 100, 100, true},
        {120, 100, 120, true},
        {0, 0, 100, true},
        {-1, -1, -1, false},
        {3, -1, -1, false},
        {LLONG_MAX, 1, INT_MAX, true},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rdsbk_status_quota q = {.name = "ManualSnapshots"};
        q.used = cases[i].used;
        q.max = cases[i].max;
        if (rdsbk_status_quota_percent(&q) != cases[i].percent ||
            rdsbk_status_quota_high(&q) != cases[i].high)
            fail_msg("%lld of %lld: %d%% %d, expected %d%% %d", q.used, q.max,
                     rdsbk_status_quota_percent(&q), rdsbk_status_quota_high(&q), cases[i].percent,
                     cases[i].high);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_parse), cmocka_unit_test(test_duration_format),
        cmocka_unit_test(test_pattern_match),  cmocka_unit_test(test_snapshot_names),
        cmocka_unit_test(test_copy_matching),  cmocka_unit_test(test_names_of_results),
        cmocka_unit_test(test_row_freshness),  cmocka_unit_test(test_quota_share),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
