/*
 * The S3 client (src/services/s3.c over restXml) against the local emulator: objects written,
 * read and deleted with and without conditions, the 409 of racing conditional writes retried,
 * SSE-S3 and SSE-KMS, keys of any bytes, both addressing styles as the emulator saw them (its
 * request log's Host and path), versioning, a bucket of another Region; and on every request the
 * body's SHA-256 as x-amz-content-sha256, never UNSIGNED-PAYLOAD.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "emu_harness.h"

#include "rdsbk/error.h"
#include "rdsbk/json_util.h"
#include "rdsbk/log.h"
#include "rdsbk/services/kms.h"
#include "rdsbk/services/s3.h"

#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REGION "eu-west-1"
#define BUCKET "rdsbk-state-test"

static struct {
    struct emu_harness *emu;
    struct rdsbk_http *http;          /* for the clients made here */
    struct rdsbk_client *path;        /* the harness's: http://127.0.0.1:PORT, path-style */
    struct rdsbk_client *virtual;     /* endpoints.s3 http://s3.localhost:PORT, virtual-hosted */
    char port[16];                    /* of the emulator, for expected Host headers */
    struct rdsbk_endpoints endpoints; /* the virtual client's */
} s_g;

/* ---- fixtures ------------------------------------------------------------------------------ */

static int s_group_setup(void **state) {
    static char s3_url[64];
    struct rdsbk_client_options o = {0};
    const char *colon;

    (void)state;
    if (getenv("RDSBK_TEST_DEBUG"))
        rdsbk_log_set_level(RDSBK_LOG_DEBUG);
    /* retries (409, 503) in milliseconds, not seconds */
    setenv("RDSBK_RETRY_BASE_DELAY_MS", "10", 1);
    setenv("RDSBK_RETRY_MAX_ATTEMPTS", "4", 1);
    unsetenv("AWS_S3_FORCE_PATH_STYLE");
    unsetenv("AWS_ENDPOINT_URL_S3");
    if (emu_harness_start(&s_g.emu, NULL) != 0 || rdsbk_http_new(&s_g.http, NULL) != 0)
        return -1;
    colon = strrchr(emu_harness_url(s_g.emu), ':');
    snprintf(s_g.port, sizeof(s_g.port), "%s", colon + 1);
    snprintf(s3_url, sizeof(s3_url), "http://s3.localhost:%s", s_g.port);
    s_g.endpoints.default_url = (char *)emu_harness_url(s_g.emu);
    s_g.endpoints.s3 = s3_url;
    o.region = REGION;
    o.profile = EMU_ACCOUNT_A;
    o.endpoints = &s_g.endpoints;
    o.http = s_g.http;
    if (emu_harness_client(&s_g.path, s_g.emu, EMU_ACCOUNT_A, REGION) != 0 ||
        rdsbk_client_new(&s_g.virtual, &o) != 0) {
        fprintf(stderr, "client: %s\n", rdsbk_error_last()->message);
        return -1;
    }
    return 0;
}

static int s_group_teardown(void **state) {
    (void)state;
    rdsbk_client_free(s_g.path);
    rdsbk_client_free(s_g.virtual);
    rdsbk_http_free(s_g.http);
    emu_harness_stop(s_g.emu);
    return 0;
}

/* Every case starts from an empty emulator with the bucket BUCKET in REGION. */
static int s_setup(void **state) {
    (void)state;
    unsetenv("AWS_S3_FORCE_PATH_STYLE");
    if (emu_harness_reset(s_g.emu) != 0)
        return -1;
    if (rdsbk_s3_create_bucket(s_g.path, BUCKET) != 0) {
        fprintf(stderr, "CreateBucket: %s\n", rdsbk_error_last()->message);
        return -1;
    }
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------------- */

#define S_OK(call)                                                                                 \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != 0)                                                                              \
            fail_msg("%s: %d %s (%s)", #call, rc_, rdsbk_error_last()->message,                    \
                     rdsbk_error_last()->aws_code);                                                \
    } while (0)

/* The last error: its code `rc`, HTTP status and AWS code. */
static void s_expect_error(int got, int rc, int status, const char *aws_code) {
    const struct rdsbk_error *e = rdsbk_error_last();

    if (got != rc || e->http_status != status || strcmp(e->aws_code, aws_code) != 0)
        fail_msg("expected %d HTTP %d %s, got %d HTTP %d %s: %s", rc, status, aws_code, got,
                 e->http_status, e->aws_code, e->message);
}

/* "\"<hex MD5 of s>\"": the ETag of an SSE-S3 object. */
static void s_md5_etag(char out[35], const char *s) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    assert_int_equal(EVP_Digest(s, strlen(s), md, &n, EVP_md5(), NULL), 1);
    out[0] = '"';
    for (unsigned int i = 0; i < n; i++)
        snprintf(out + 1 + 2 * i, 3, "%02x", md[i]);
    snprintf(out + 1 + 2 * n, 2, "\"");
}

static void s_put(char **etag_out, struct rdsbk_client *c, const char *key, const char *body,
                  const struct rdsbk_s3_put *opts) {
    S_OK(rdsbk_s3_put_object(etag_out, c, BUCKET, key, body, strlen(body), opts));
}

/* The object at `key` holds `expected`, with ETag `etag` (NULL: not checked). */
static void s_expect_object(struct rdsbk_client *c, const char *key, const char *expected,
                            const char *etag) {
    struct rdsbk_buf body = RDSBK_BUF_INIT;
    char *got_etag = NULL;
    char *head_etag = NULL;

    S_OK(rdsbk_s3_get_object(&body, &got_etag, c, BUCKET, key));
    assert_int_equal(rdsbk_buf_len(&body), strlen(expected));
    assert_memory_equal(rdsbk_buf_cstr(&body), expected, strlen(expected));
    S_OK(rdsbk_s3_head_object(&head_etag, c, BUCKET, key));
    assert_string_equal(head_etag, got_etag);
    if (etag)
        assert_string_equal(got_etag, etag);
    free(got_etag);
    free(head_etag);
    rdsbk_buf_clean_up(&body);
}

/* The S3 entries of the emulator's request log (caller deletes). */
static cJSON *s_s3_requests(void) {
    cJSON *all = emu_harness_requests(s_g.emu);
    cJSON *s3 = cJSON_CreateArray();
    cJSON *e;

    assert_non_null(all);
    cJSON_ArrayForEach(e, all) {
        const char *service = rdsbk_json_str(e, "service");
        if (service && strcmp(service, "s3") == 0)
            cJSON_AddItemToArray(s3, cJSON_Duplicate(e, 1));
    }
    cJSON_Delete(all);
    return s3;
}

/* The number of logged S3 requests of `operation` that ended in `error` (NULL: succeeded). */
static int s_count(const cJSON *requests, const char *operation, const char *error) {
    const cJSON *e;
    int n = 0;

    cJSON_ArrayForEach(e, requests) {
        const char *op = rdsbk_json_str(e, "operation");
        const char *err = rdsbk_json_str(e, "error");
        if (op && strcmp(op, operation) == 0 &&
            (error ? err && strcmp(err, error) == 0 : err == NULL))
            n++;
    }
    return n;
}

/* No S3 request so far was sent with UNSIGNED-PAYLOAD; every one said how it was sent. */
static void s_expect_signed_payloads(void) {
    cJSON *requests = s_s3_requests();
    const cJSON *e;

    assert_true(cJSON_GetArraySize(requests) > 0);
    cJSON_ArrayForEach(e, requests) {
        const cJSON *flag = cJSON_GetObjectItemCaseSensitive(e, "unsigned_payload");
        if (!cJSON_IsFalse(flag))
            fail_msg("%s: unsigned_payload is not false", rdsbk_json_str(e, "operation"));
    }
    cJSON_Delete(requests);
}

/* The emulator's view of the bucket's objects (GET /_emu/s3/objects): the current object of
 * `key`, or NULL. The caller deletes *all_out. */
static const cJSON *s_emu_object(cJSON **all_out, const char *key) {
    const cJSON *o;

    assert_int_equal(
        emu_harness_control(all_out, s_g.emu, "GET", "/_emu/s3/objects?bucket=" BUCKET, NULL), 200);
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(*all_out, "objects")) {
        if (strcmp(rdsbk_json_str(o, "key"), key) == 0 &&
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "is_latest")))
            return o;
    }
    return NULL;
}

/* ---- cases --------------------------------------------------------------------------------- */

/* Put, get, head, delete; then the key is gone for get and head alike. */
static void test_round_trip(void **state) {
    struct rdsbk_buf body = RDSBK_BUF_INIT;
    char md5[35];
    char *etag = NULL;
    char *none = (char *)"sentinel";
    (void)state;

    s_put(&etag, s_g.path, "state/rdsbk.state.json", "{\"serial\": 1}", NULL);
    s_md5_etag(md5, "{\"serial\": 1}");
    assert_string_equal(etag, md5);
    s_expect_object(s_g.path, "state/rdsbk.state.json", "{\"serial\": 1}", md5);
    /* an empty object */
    S_OK(rdsbk_s3_put_object(NULL, s_g.path, BUCKET, "empty", NULL, 0, NULL));
    s_expect_object(s_g.path, "empty", "", NULL);

    S_OK(rdsbk_s3_delete_object(s_g.path, BUCKET, "state/rdsbk.state.json", NULL));
    s_expect_error(rdsbk_s3_get_object(&body, NULL, s_g.path, BUCKET, "state/rdsbk.state.json"),
                   RDSBK_ENOTFOUND, 404, "NoSuchKey");
    assert_int_equal(rdsbk_buf_len(&body), 0);
    /* HEAD's 404 has no body: named by its status */
    s_expect_error(rdsbk_s3_head_object(&none, s_g.path, BUCKET, "state/rdsbk.state.json"),
                   RDSBK_ENOTFOUND, 404, "NotFound");
    assert_null(none);
    /* a delete of what is not there is S3's 204 */
    S_OK(rdsbk_s3_delete_object(s_g.path, BUCKET, "state/rdsbk.state.json", NULL));
    /* no bucket */
    s_expect_error(rdsbk_s3_get_object(&body, NULL, s_g.path, "rdsbk-no-such-bucket", "k"),
                   RDSBK_ENOTFOUND, 404, "NoSuchBucket");
    assert_int_equal(rdsbk_s3_get_object(&body, NULL, s_g.path, BUCKET, ""), RDSBK_EINVALID);
    free(etag);
    rdsbk_buf_clean_up(&body);
    s_expect_signed_payloads();
}

/* If-None-Match: * creates once; the second is 412, distinguishable, and changes nothing. */
static void test_if_none_match(void **state) {
    struct rdsbk_s3_put create = {.if_none_match_star = true};
    char *etag = NULL;
    int rc;
    (void)state;

    s_put(&etag, s_g.path, "lock", "holder-1", &create);
    rc = rdsbk_s3_put_object(NULL, s_g.path, BUCKET, "lock", "holder-2", 8, &create);
    s_expect_error(rc, RDSBK_ECONFLICT, 412, "PreconditionFailed");
    assert_true(rdsbk_s3_precondition_failed(rc));
    s_expect_object(s_g.path, "lock", "holder-1", etag);
    /* both conditions at once: refused before sending (S3 answers 501) */
    create.if_match = etag;
    assert_int_equal(rdsbk_s3_put_object(NULL, s_g.path, BUCKET, "lock", "x", 1, &create),
                     RDSBK_EINVALID);
    free(etag);
}

/* If-Match: over the current ETag only; a stale one is 412; no object is 404. Deletes alike. */
static void test_if_match(void **state) {
    struct rdsbk_s3_put over = {0};
    char *e1 = NULL;
    char *e2 = NULL;
    int rc;
    (void)state;

    s_put(&e1, s_g.path, "state.json", "{\"serial\": 1}", NULL);
    over.if_match = e1;
    s_put(&e2, s_g.path, "state.json", "{\"serial\": 2}", &over);
    assert_string_not_equal(e1, e2);
    rc = rdsbk_s3_put_object(NULL, s_g.path, BUCKET, "state.json", "{\"serial\": 3}", 13, &over);
    s_expect_error(rc, RDSBK_ECONFLICT, 412, "PreconditionFailed");
    assert_true(rdsbk_s3_precondition_failed(rc));
    s_expect_object(s_g.path, "state.json", "{\"serial\": 2}", e2);
    /* no object to match */
    s_expect_error(rdsbk_s3_put_object(NULL, s_g.path, BUCKET, "nothing-here", "x", 1, &over),
                   RDSBK_ENOTFOUND, 404, "NoSuchKey");

    rc = rdsbk_s3_delete_object(s_g.path, BUCKET, "state.json", e1);
    s_expect_error(rc, RDSBK_ECONFLICT, 412, "PreconditionFailed");
    assert_true(rdsbk_s3_precondition_failed(rc));
    S_OK(rdsbk_s3_delete_object(s_g.path, BUCKET, "state.json", e2));
    s_expect_error(rdsbk_s3_delete_object(s_g.path, BUCKET, "state.json", "*"), RDSBK_ENOTFOUND,
                   404, "NoSuchKey");
    free(e1);
    free(e2);
}

/* POST /_emu/s3/conflicts {bucket, key, count}: the next `count` conditional writes to the key
 * answer 409 ConditionalRequestConflict. */
static void s_inject_conflicts(const char *key, int count) {
    cJSON *body = cJSON_CreateObject();

    cJSON_AddStringToObject(body, "bucket", BUCKET);
    cJSON_AddStringToObject(body, "key", key);
    cJSON_AddNumberToObject(body, "count", count);
    assert_int_equal(emu_harness_control(NULL, s_g.emu, "POST", "/_emu/s3/conflicts", body), 200);
    cJSON_Delete(body);
}

/* 409 ConditionalRequestConflict is retried until the write goes through; one that outlasts
 * every attempt is RDSBK_ECONFLICT, but not a failed precondition. */
static void test_conflict_retried(void **state) {
    struct rdsbk_s3_put create = {.if_none_match_star = true};
    cJSON *requests;
    char *etag = NULL;
    int rc;
    (void)state;

    s_inject_conflicts("lock", 2);
    s_put(&etag, s_g.path, "lock", "holder-1", &create);
    requests = s_s3_requests();
    assert_int_equal(s_count(requests, "PutObject", "ConditionalRequestConflict"), 2);
    assert_int_equal(s_count(requests, "PutObject", NULL), 1);
    cJSON_Delete(requests);
    s_expect_object(s_g.path, "lock", "holder-1", etag);

    /* a delete with If-Match is retried the same way */
    s_inject_conflicts("lock", 1);
    S_OK(rdsbk_s3_delete_object(s_g.path, BUCKET, "lock", etag));

    /* more conflicts than attempts (RDSBK_RETRY_MAX_ATTEMPTS=4) */
    s_inject_conflicts("lock", 10);
    rc = rdsbk_s3_put_object(NULL, s_g.path, BUCKET, "lock", "holder-2", 8, &create);
    s_expect_error(rc, RDSBK_ECONFLICT, 409, "ConditionalRequestConflict");
    assert_false(rdsbk_s3_precondition_failed(rc));
    s_inject_conflicts("lock", 0);
    free(etag);
}

/* SSE-S3 by default (x-amz-server-side-encryption: AES256); SSE-KMS with a key of the account. */
static void test_encryption(void **state) {
    struct rdsbk_kms_create_key_input in = {.description = "rdsbk state"};
    struct rdsbk_s3_put kms = {.content_type = "application/json"};
    cJSON *meta = NULL;
    cJSON *all = NULL;
    const cJSON *o;
    char *etag = NULL;
    (void)state;

    s_put(NULL, s_g.path, "sse-s3", "plain", NULL);
    o = s_emu_object(&all, "sse-s3");
    assert_non_null(o);
    assert_string_equal(rdsbk_json_str(o, "sse"), "AES256");
    assert_string_equal(rdsbk_json_str(o, "content_type"), "application/octet-stream");
    cJSON_Delete(all);

    S_OK(rdsbk_kms_create_key(&meta, s_g.path, &in));
    kms.sse_kms_key_id = rdsbk_json_str(meta, "Arn");
    s_put(&etag, s_g.path, "sse-kms", "{\"secret\": true}", &kms);
    o = s_emu_object(&all, "sse-kms");
    assert_non_null(o);
    assert_string_equal(rdsbk_json_str(o, "sse"), "aws:kms");
    assert_string_equal(rdsbk_json_str(o, "kms_key"), rdsbk_json_str(meta, "Arn"));
    assert_string_equal(rdsbk_json_str(o, "content_type"), "application/json");
    cJSON_Delete(all);
    s_expect_object(s_g.path, "sse-kms", "{\"secret\": true}", etag);
    /* a key id S3 cannot find in KMS */
    kms.sse_kms_key_id = "alias/rdsbk-no-such-key";
    assert_int_not_equal(rdsbk_s3_put_object(NULL, s_g.path, BUCKET, "k", "x", 1, &kms), 0);
    assert_string_equal(rdsbk_error_last()->aws_code, "KMS.NotFoundException");
    free(etag);
    cJSON_Delete(meta);
}

/* The last logged S3 request: its Host and path. */
static void s_expect_last_request(const char *operation, const char *host, const char *path) {
    cJSON *requests = s_s3_requests();
    const cJSON *last = cJSON_GetArrayItem(requests, cJSON_GetArraySize(requests) - 1);

    assert_non_null(last);
    assert_string_equal(rdsbk_json_str(last, "operation"), operation);
    assert_string_equal(rdsbk_json_str(last, "host"), host);
    assert_string_equal(rdsbk_json_str(last, "path"), path);
    cJSON_Delete(requests);
}

/* Path-style with an IP endpoint; virtual-hosted with http://s3.localhost:PORT; path-style again
 * when forced or when the bucket name has dots. */
static void test_addressing(void **state) {
    char host[96];
    char *region = NULL;
    char *status = NULL;
    (void)state;

    snprintf(host, sizeof(host), "127.0.0.1:%s", s_g.port);
    s_put(NULL, s_g.path, "a/b.json", "1", NULL);
    s_expect_last_request("PutObject", host, "/" BUCKET "/a/b.json");
    S_OK(rdsbk_s3_get_bucket_versioning(&status, s_g.path, BUCKET));
    s_expect_last_request("GetBucketVersioning", host, "/" BUCKET);
    free(status);

    snprintf(host, sizeof(host), BUCKET ".s3.localhost:%s", s_g.port);
    s_put(NULL, s_g.virtual, "a/b.json", "2", NULL);
    s_expect_last_request("PutObject", host, "/a/b.json");
    s_expect_object(s_g.virtual, "a/b.json", "2", NULL);
    s_expect_last_request("HeadObject", host, "/a/b.json");
    S_OK(rdsbk_s3_head_bucket(&region, s_g.virtual, BUCKET));
    assert_string_equal(region, REGION);
    s_expect_last_request("HeadBucket", host, "/");
    free(region);

    setenv("AWS_S3_FORCE_PATH_STYLE", "true", 1);
    snprintf(host, sizeof(host), "s3.localhost:%s", s_g.port);
    s_put(NULL, s_g.virtual, "a/b.json", "3", NULL);
    s_expect_last_request("PutObject", host, "/" BUCKET "/a/b.json");
    unsetenv("AWS_S3_FORCE_PATH_STYLE");

    /* a name with dots is no single DNS label: path-style */
    S_OK(rdsbk_s3_create_bucket(s_g.virtual, "rdsbk.dotted.bucket"));
    S_OK(rdsbk_s3_put_object(NULL, s_g.virtual, "rdsbk.dotted.bucket", "k", "4", 1, NULL));
    s_expect_last_request("PutObject", host, "/rdsbk.dotted.bucket/k");
    s_expect_signed_payloads();
}

/* Keys of any bytes come back as written, through both addressing styles. */
static void test_keys(void **state) {
    static const char *const keys[] = {
        "with space/and+plus.json",   "unicode/日本語/ß€/😀", "deep/a/b/c/d/e/f",
        "reserved !$&'()*,;=:@[]#?%", "dot/./dotdot/../x",   "double//slash/",
        "~tilde_under-score.",
    };
    struct rdsbk_client *clients[] = {s_g.path, s_g.virtual};
    (void)state;

    for (size_t c = 0; c < 2; c++) {
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
            cJSON *all = NULL;
            char body[32];
            snprintf(body, sizeof(body), "body %zu %zu", c, i);
            s_put(NULL, clients[c], keys[i], body, NULL);
            s_expect_object(clients[c], keys[i], body, NULL);
            if (!s_emu_object(&all, keys[i]))
                fail_msg("the emulator holds no object \"%s\"", keys[i]);
            cJSON_Delete(all);
            S_OK(rdsbk_s3_delete_object(clients[c], BUCKET, keys[i], NULL));
        }
    }
    s_expect_signed_payloads();
}

/* A bucket never versioned: ""; then Enabled and Suspended. */
static void test_versioning(void **state) {
    char *status = NULL;
    (void)state;

    S_OK(rdsbk_s3_get_bucket_versioning(&status, s_g.path, BUCKET));
    assert_string_equal(status, "");
    free(status);
    S_OK(rdsbk_s3_put_bucket_versioning(s_g.path, BUCKET, true));
    S_OK(rdsbk_s3_get_bucket_versioning(&status, s_g.virtual, BUCKET));
    assert_string_equal(status, "Enabled");
    free(status);
    S_OK(rdsbk_s3_put_bucket_versioning(s_g.path, BUCKET, false));
    S_OK(rdsbk_s3_get_bucket_versioning(&status, s_g.path, BUCKET));
    assert_string_equal(status, "Suspended");
    free(status);
    s_expect_error(rdsbk_s3_get_bucket_versioning(&status, s_g.path, "rdsbk-no-such-bucket"),
                   RDSBK_ENOTFOUND, 404, "NoSuchBucket");
    assert_null(status);
}

/* HeadBucket names the Region of a bucket elsewhere; other calls say where it is. */
static void test_other_region(void **state) {
    struct rdsbk_client *frankfurt = NULL;
    struct rdsbk_buf body = RDSBK_BUF_INIT;
    char *region = NULL;
    int rc;
    (void)state;

    S_OK(emu_harness_client(&frankfurt, s_g.emu, EMU_ACCOUNT_A, "eu-central-1"));
    S_OK(rdsbk_s3_create_bucket(frankfurt, "rdsbk-frankfurt"));
    S_OK(rdsbk_s3_head_bucket(&region, s_g.path, "rdsbk-frankfurt"));
    assert_string_equal(region, "eu-central-1");
    free(region);
    S_OK(rdsbk_s3_head_bucket(&region, frankfurt, "rdsbk-frankfurt"));
    assert_string_equal(region, "eu-central-1");
    free(region);

    rc = rdsbk_s3_get_object(&body, NULL, s_g.path, "rdsbk-frankfurt", "k");
    s_expect_error(rc, RDSBK_EINVALID, 301, "PermanentRedirect");
    if (!strstr(rdsbk_error_last()->message, "the bucket is in eu-central-1"))
        fail_msg("no Region in: %s", rdsbk_error_last()->message);
    rc = rdsbk_s3_head_object(&region, s_g.path, "rdsbk-frankfurt", "k");
    s_expect_error(rc, RDSBK_EINVALID, 301, "PermanentRedirect");
    s_expect_error(rdsbk_s3_head_bucket(&region, s_g.path, "rdsbk-no-such-bucket"), RDSBK_ENOTFOUND,
                   404, "NotFound");
    assert_null(region);
    rdsbk_buf_clean_up(&body);
    rdsbk_client_free(frankfurt);
}

/* Account B may not read account A's bucket: 403 AccessDenied. */
static void test_access_denied(void **state) {
    struct rdsbk_client *b = NULL;
    struct rdsbk_buf body = RDSBK_BUF_INIT;
    (void)state;

    s_put(NULL, s_g.path, "k", "v", NULL);
    S_OK(emu_harness_client(&b, s_g.emu, EMU_ACCOUNT_B, REGION));
    s_expect_error(rdsbk_s3_get_object(&body, NULL, b, BUCKET, "k"), RDSBK_EAUTH, 403,
                   "AccessDenied");
    rdsbk_buf_clean_up(&body);
    rdsbk_client_free(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_round_trip, s_setup),
        cmocka_unit_test_setup(test_if_none_match, s_setup),
        cmocka_unit_test_setup(test_if_match, s_setup),
        cmocka_unit_test_setup(test_conflict_retried, s_setup),
        cmocka_unit_test_setup(test_encryption, s_setup),
        cmocka_unit_test_setup(test_addressing, s_setup),
        cmocka_unit_test_setup(test_keys, s_setup),
        cmocka_unit_test_setup(test_versioning, s_setup),
        cmocka_unit_test_setup(test_other_region, s_setup),
        cmocka_unit_test_setup(test_access_denied, s_setup),
    };
    return cmocka_run_group_tests_name("s3", tests, s_group_setup, s_group_teardown);
}
