/* What the state store decides without the network: S3 locations (bucket rules, the key), the
 * lock's document and how a lock is told, the choice of backend. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rdsbk/config.h"
#include "rdsbk/error.h"
#include "rdsbk/services/s3.h"
#include "rdsbk/state.h"
#include "state/state_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* s3://BUCKET/KEY: what is accepted, and what the refusal says. */
static void test_s3_url_parse(void **state) {
    static const struct {
        const char *url;
        const char *bucket; /* NULL: refused */
        const char *key;    /* or, when refused, a part of the message */
    } cases[] = {
        {"s3://my-bucket/rdsbk/orders-dr.state.json", "my-bucket", "rdsbk/orders-dr.state.json"},
        {"s3://a.b.c/k", "a.b.c", "k"},
        {"s3://abc/dir/sub/state", "abc", "dir/sub/state"},
        {"s3://abc/caf\xc3\xa9 state.json", "abc", "caf\xc3\xa9 state.json"},
        {"s3://abc/a//b", "abc", "a//b"},
        {"s3://my-bucket", NULL, "names no key"},
        {"s3://my-bucket/", NULL, "the key is empty"},
        {"s3:///key", NULL, "is not 3 to 63 characters long"},
        {"s3://ab/key", NULL, "is not 3 to 63 characters long"},
        {"s3://My-Bucket/key", NULL, "has upper-case letters"},
        {"s3://my_bucket/key", NULL, "has a character other than"},
        {"s3://-bucket/key", NULL, "does not begin and end with a letter or a digit"},
        {"s3://bucket./key", NULL, "does not begin and end"},
        {"s3://my..bucket/key", NULL, "has two dots in a row"},
        {"s3://192.168.5.4/key", NULL, "is formatted as an IP address"},
        {"s3://xn--bucket/key", NULL, "begins with a prefix S3 reserves"},
        {"s3://sthree-x/key", NULL, "begins with a prefix S3 reserves"},
        {"s3://amzn-s3-demo-bucket/key", NULL, "begins with a prefix S3 reserves"},
        {"s3://bucket-s3alias/key", NULL, "ends with a suffix S3 reserves"},
        {"s3://bucket--ol-s3/key", NULL, "ends with a suffix S3 reserves"},
        {"s3://bucket.mrap/key", NULL, "ends with a suffix S3 reserves"},
        {"s3://bucket--x-s3/key", NULL, "ends with a suffix S3 reserves"},
        {"s3://bucket--table-s3/key", NULL, "ends with a suffix S3 reserves"},
        {"s3://bucket/dir/", NULL, "ends with '/'"},
        {"s3://bucket/a\tb", NULL, "has a control character"},
        {"s3://bucket/\xc3\x28", NULL, "is not UTF-8"},
        {"s3://bucket/\xc0\xaf", NULL, "is not UTF-8"}, /* an overlong '/' */
        {"S3://bucket/key", NULL, "is not an S3 location"},
        {"https://bucket/key", NULL, "is not an S3 location"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *bucket = NULL;
        char *key = NULL;
        int rc = rdsbk_state_s3_url_parse(&bucket, &key, cases[i].url);

        if (cases[i].bucket) {
            if (rc)
                fail_msg("case %zu (%s): %s", i, cases[i].url, rdsbk_error_last()->message);
            assert_string_equal(bucket, cases[i].bucket);
            assert_string_equal(key, cases[i].key);
        } else {
            assert_int_equal(rc, RDSBK_EINVALID);
            assert_null(bucket);
            assert_null(key);
            if (!strstr(rdsbk_error_last()->message, cases[i].key))
                fail_msg("case %zu (%s): %s", i, cases[i].url, rdsbk_error_last()->message);
        }
        free(bucket);
        free(key);
    }
}

/* The longest key leaves room for KEY.lock and KEY.migrated within S3's 1,024 bytes. */
static void test_s3_key_length(void **state) {
    char key[RDSBK_STATE_S3_MAX_KEY + 2];
    (void)state;

    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    assert_non_null(rdsbk_state_check_s3_key(key)); /* 1,016 bytes */
    key[RDSBK_STATE_S3_MAX_KEY] = '\0';
    assert_null(rdsbk_state_check_s3_key(key));
    assert_true(strlen(key) + strlen(".migrated") <= 1024);
    assert_non_null(rdsbk_state_check_s3_key(""));
}

static void test_bucket_names(void **state) {
    char longest[64];
    (void)state;

    memset(longest, 'a', 63);
    longest[63] = '\0';
    assert_null(rdsbk_s3_check_bucket_name(longest));
    assert_null(rdsbk_s3_check_bucket_name("abc"));
    assert_null(rdsbk_s3_check_bucket_name("1-2.3"));
    assert_null(rdsbk_s3_check_bucket_name("192.168.5.4x")); /* not an address */
    assert_null(rdsbk_s3_check_bucket_name("my-sthree-bucket"));
    assert_non_null(rdsbk_s3_check_bucket_name("1.2.3.4"));
    assert_non_null(rdsbk_s3_check_bucket_name("sthree-configurator"));
}

/* The location decides the backend; no network is used to open either. */
static void test_open_chooses_backend(void **state) {
    struct rdsbk_topology topo;
    struct rdsbk_state_store *store = NULL;
    (void)state;

    memset(&topo, 0, sizeof(topo));
    topo.stack = "s1";
    topo.backup.region = "eu-west-1";
    assert_true(rdsbk_state_location_is_s3("s3://b"));
    assert_false(rdsbk_state_location_is_s3("states/s3://b"));
    assert_int_equal(rdsbk_state_store_open(&store, "/tmp/x.state.json", &topo), 0);
    assert_false(rdsbk_state_store_remote(store));
    assert_int_equal(rdsbk_state_store_save_interval_ms(store), 100);
    assert_string_equal(rdsbk_state_store_name(store), "/tmp/x.state.json");
    rdsbk_state_store_free(store);
    assert_int_equal(rdsbk_state_store_open(&store, "s3://my-bucket/a/b.json", &topo), 0);
    assert_true(rdsbk_state_store_remote(store));
    assert_int_equal(rdsbk_state_store_save_interval_ms(store), RDSBK_STATE_S3_SAVE_INTERVAL_MS);
    assert_string_equal(rdsbk_state_store_name(store), "s3://my-bucket/a/b.json");
    rdsbk_state_store_free(store);
    store = NULL;
    assert_int_equal(rdsbk_state_store_open(&store, "s3://my-bucket", &topo), RDSBK_EINVALID);
    assert_null(store);
    rdsbk_state_store_free(NULL);
}

/* A lock's document: this tool's is read back whole; anything else is refused, naming it. */
static void test_lock_document(void **state) {
    static const struct {
        const char *text;
        const char *problem; /* NULL: accepted */
    } cases[] = {
        {"{\"holder\": \"ci\", \"pid\": 4242, \"host\": \"runner-7\", \"time\": "
         "\"2026-01-02T03:04:05Z\", \"operation\": \"apply\", \"id\": "
         "\"0e6f2c1a-8d0b-4c9e-9f7a-3b2d1c0e9f8a\", \"identity\": "
         "\"arn:aws:sts::222222222222:assumed-role/ci/x\"}",
         NULL},
        {"{\"pid\": 1, \"host\": \"h\"}", NULL},
        {"", "does not hold a lock this tool made"},
        {"not json", "does not hold a lock this tool made"},
        {"[1, 2]", "does not hold a lock this tool made"},
        {"{\"holder\": \"ci\", \"host\": \"h\"}", "does not hold a lock this tool made"},
        {"{\"pid\": \"12\", \"host\": \"h\"}", "does not hold a lock this tool made"},
        {"{\"pid\": 1.5, \"host\": \"h\"}", "does not hold a lock this tool made"},
        {"{\"pid\": -3, \"host\": \"h\"}", "does not hold a lock this tool made"},
        {"{\"pid\": 12, \"host\": 7}", "does not hold a lock this tool made"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rdsbk_state_lock_info info;
        int rc = rdsbk_state_lock_info_parse(&info, cases[i].text, strlen(cases[i].text),
                                             "s3://b/k.lock");

        if (!cases[i].problem) {
            if (rc)
                fail_msg("case %zu: %s", i, rdsbk_error_last()->message);
            continue;
        }
        assert_int_equal(rc, RDSBK_EINVALID);
        if (!strstr(rdsbk_error_last()->message, cases[i].problem) ||
            !strstr(rdsbk_error_last()->message, "s3://b/k.lock") ||
            !strstr(rdsbk_error_last()->message, "state unlock"))
            fail_msg("case %zu: %s", i, rdsbk_error_last()->message);
    }
}

/* Ours round-trips; the refusal names the holder as the local lock's does, and its age when it
 * is older than a run lasts. */
static void test_lock_round_trip_and_refusal(void **state) {
    struct rdsbk_state_lock_info mine;
    struct rdsbk_state_lock_info back;
    struct rdsbk_state_lock_info other;
    const char *text = "{\"holder\": \"ci\", \"pid\": 4242, \"host\": \"runner-7\", \"time\": "
                       "\"2026-01-02T03:04:05Z\", \"operation\": \"apply\", \"identity\": "
                       "\"arn:aws:iam::222222222222:user/ci\"}";
    time_t taken = 1767323045; /* 2026-01-02T03:04:05Z */
    char *json = NULL;
    char who[768];
    (void)state;

    assert_int_equal(rdsbk_state_lock_info_mine(&mine, "state rm"), 0);
    assert_int_equal(strlen(mine.id), 36);
    assert_int_equal(mine.pid, (long)getpid());
    assert_int_equal(rdsbk_state_lock_info_json(&json, &mine), 0);
    assert_int_equal(rdsbk_state_lock_info_parse(&back, json, strlen(json), "x"), 0);
    assert_memory_equal(&back, &mine, sizeof(mine));
    assert_false(rdsbk_state_lock_info_stale(&back)); /* this very process runs */
    assert_in_range(rdsbk_state_lock_info_age(&back, time(NULL)), 0, 5);
    free(json);

    assert_int_equal(rdsbk_state_lock_info_parse(&other, text, strlen(text), "x"), 0);
    assert_false(rdsbk_state_lock_info_stale(&other)); /* another host: cannot be told */
    assert_int_equal(rdsbk_state_lock_info_age(&other, taken + 90), 90);
    assert_string_equal(rdsbk_state_lock_info_describe(who, sizeof(who), &other),
                        "ci (pid 4242 on runner-7, apply since 2026-01-02T03:04:05Z, as "
                        "arn:aws:iam::222222222222:user/ci)");

    assert_int_equal(rdsbk_state_locked_error(&other, "s3://b/k.lock", taken + 600), RDSBK_ELOCKED);
    assert_string_equal(rdsbk_error_last()->message,
                        "the state is locked by ci (pid 4242 on runner-7, apply since "
                        "2026-01-02T03:04:05Z, as arn:aws:iam::222222222222:user/ci); wait for it, "
                        "or if that run is gone, 'rdsbk-provision state unlock' (lock: "
                        "s3://b/k.lock)");
    assert_int_equal(rdsbk_state_locked_error(&other, "s3://b/k.lock", taken + 2 * 3600 + 300),
                     RDSBK_ELOCKED);
    assert_non_null(strstr(rdsbk_error_last()->message,
                           "(lock: s3://b/k.lock; taken 2h05m ago, longer than a run lasts)"));
    assert_int_equal(rdsbk_state_locked_error(NULL, "p.lock", taken), RDSBK_ELOCKED);
    assert_non_null(strstr(rdsbk_error_last()->message, "locked by another run (pid 0 on ?"));

    snprintf(other.time, sizeof(other.time), "yesterday");
    assert_int_equal(rdsbk_state_lock_info_age(&other, taken), -1);
}

/* A lock of this host whose process is gone is stale (taken over, as the local lock's is). */
static void test_lock_stale(void **state) {
    struct rdsbk_state_lock_info info;
    pid_t child;
    (void)state;

    assert_int_equal(rdsbk_state_lock_info_mine(&info, "apply"), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(0);
    assert_int_equal(waitpid(child, NULL, 0), child);
    info.pid = (long)child;
    assert_true(rdsbk_state_lock_info_stale(&info));
    snprintf(info.host, sizeof(info.host), "elsewhere");
    assert_false(rdsbk_state_lock_info_stale(&info));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s3_url_parse),  cmocka_unit_test(test_s3_key_length),
        cmocka_unit_test(test_bucket_names),  cmocka_unit_test(test_open_chooses_backend),
        cmocka_unit_test(test_lock_document), cmocka_unit_test(test_lock_round_trip_and_refusal),
        cmocka_unit_test(test_lock_stale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
