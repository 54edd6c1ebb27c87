/* rdsbk_aws_send's retry policy over a canned transport (rdsbk_http_set_transport): which
 * replies are retried, how often, with fresh credentials and signatures, and the backoff
 * envelope. The same against a real local server is in test_http.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "aws/http_private.h"
#include "rdsbk/aws_error.h"
#include "rdsbk/error.h"
#include "rdsbk/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct step {
    int rc; /* transport result; 0 = reply */
    long status;
    const char *header; /* "Name: value" or NULL */
    const char *body;
};

struct fake {
    const struct step *steps;
    size_t n_steps;
    size_t calls;
    char tokens[16][32];
    int authz_count[16];
    int creds_calls;
    int creds_fail;
};

static int s_transport(struct rdsbk_http_response *resp, const struct rdsbk_http_request *req,
                       void *payload) {
    struct fake *f = payload;
    const struct step *s;
    const char *tok = rdsbk_http_request_header(req, "X-Amz-Security-Token");
    int authz = 0;

    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, "Authorization") == 0)
            authz++;
    if (f->calls < 16) {
        snprintf(f->tokens[f->calls], sizeof(f->tokens[0]), "%s", tok ? tok : "");
        f->authz_count[f->calls] = authz;
    }
    s = f->calls < f->n_steps ? &f->steps[f->calls] : NULL;
    f->calls++;
    if (!s) {
        resp->status = 200;
        return rdsbk_buf_adds(&resp->body, "{}");
    }
    if (s->rc)
        return rdsbk_error_set(s->rc, "scripted transport failure %d", s->rc);
    resp->status = s->status;
    if (s->header) {
        const char *colon = strchr(s->header, ':');
        resp->headers = calloc(1, sizeof(*resp->headers));
        resp->headers[0].name = strndup(s->header, (size_t)(colon - s->header));
        resp->headers[0].value = strdup(colon + 2);
        resp->n_headers = 1;
    }
    return rdsbk_buf_adds(&resp->body, s->body ? s->body : "");
}

static int s_creds(struct rdsbk_credentials *out, void *payload) {
    struct fake *f = payload;
    char token[32];

    memset(out, 0, sizeof(*out));
    f->creds_calls++;
    if (f->creds_fail)
        return rdsbk_error_set(RDSBK_EAUTH, "no credentials (scripted)");
    snprintf(token, sizeof(token), "token-%d", f->creds_calls);
    out->access_key_id = strdup("AKIDEXAMPLE");
    out->secret_access_key = strdup("SECRETEXAMPLE");
    out->session_token = strdup(token);
    return 0;
}

static int s_call(struct fake *f, const char *service, int max_attempts,
                  struct rdsbk_http_response *resp) {
    struct rdsbk_http_options opts = {0};
    struct rdsbk_http *http = NULL;
    struct rdsbk_http_request req = {0};
    struct rdsbk_signing signing = {"eu-west-1", service, s_creds, f};
    int rc;

    opts.max_attempts = max_attempts;
    opts.base_delay_ms = 1;
    opts.max_delay_ms = 2;
    opts.max_body_bytes = 4096;
    assert_int_equal(rdsbk_http_new(&http, &opts), 0);
    rdsbk_http_set_transport(http, s_transport, f);
    req.method = strdup("POST");
    req.url = strdup("https://kms.eu-west-1.amazonaws.com/");
    assert_int_equal(rdsbk_http_request_add_header(&req, "X-Amz-Target", "TrentService.ListKeys"),
                     0);
    rc = rdsbk_aws_send(resp, http, &req, &signing, "kms:ListKeys");
    rdsbk_http_request_clean_up(&req);
    rdsbk_http_free(http);
    return rc;
}

static void test_retries_until_success(void **state) {
    static const struct step steps[] = {
        {0, 503, NULL, "<html>unavailable</html>"},
        {0, 500, NULL, "{\"__type\":\"InternalFailure\"}"},
        {0, 400, NULL, "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}"},
        {0, 400, NULL,
         "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
         "</ErrorResponse>"},
        {RDSBK_EIO, 0, NULL, NULL},
        {RDSBK_ETIMEOUT, 0, NULL, NULL},
        {0, 502, NULL, ""},
        {0, 504, NULL, ""},
        {0, 400, NULL, "{\"__type\":\"RequestTimeoutException\"}"},
        {0, 200, "x-amzn-RequestId: ok-1", "{\"Keys\":[]}"},
    };
    struct fake f = {steps, sizeof(steps) / sizeof(steps[0]), 0, {{0}}, {0}, 0, 0};
    struct rdsbk_http_response resp;
    (void)state;

    assert_int_equal(s_call(&f, "kms", 10, &resp), 0);
    assert_int_equal(f.calls, 10);
    assert_int_equal(f.creds_calls, 10);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body.ptr, "{\"Keys\":[]}");
    /* every attempt signed once, with that attempt's credentials */
    for (int i = 0; i < 10; i++) {
        char expected[32];
        snprintf(expected, sizeof(expected), "token-%d", i + 1);
        assert_string_equal(f.tokens[i], expected);
        assert_int_equal(f.authz_count[i], 1);
    }
    rdsbk_http_response_clean_up(&resp);
}

static const struct {
    const char *name;
    const char *service;
    struct step step;
    int expected_rc;
    const char *aws_code;
} s_once[] = {
    {"ValidationException",
     "kms",
     {0, 400, "x-amzn-RequestId: r-1", "{\"__type\":\"ValidationException\",\"message\":\"bad\"}"},
     RDSBK_EINVALID,
     "ValidationException"},
    {"AccessDenied (query)",
     "iam",
     {0, 403, NULL,
      "<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error><RequestId>r-2"
      "</RequestId></ErrorResponse>"},
     RDSBK_EAUTH,
     "AccessDenied"},
    {"NoSuchEntity",
     "iam",
     {0, 404, NULL, "<ErrorResponse><Error><Code>NoSuchEntity</Code></Error></ErrorResponse>"},
     RDSBK_ENOTFOUND,
     "NoSuchEntity"},
    {"ResourceConflictException",
     "lambda",
     {0, 409, "X-Amzn-ErrorType: ResourceConflictException", "{\"message\":\"exists\"}"},
     RDSBK_ECONFLICT,
     "ResourceConflictException"},
    {"EventBridge LimitExceededException is a quota",
     "events",
     {0, 400, NULL, "{\"__type\":\"LimitExceededException\"}"},
     RDSBK_ETHROTTLED,
     "LimitExceededException"},
    {"HTTP 501", "kms", {0, 501, NULL, ""}, RDSBK_ERROR, "HTTP 501"},
    {"HTTP 429 without a code", "kms", {0, 429, NULL, ""}, RDSBK_EINVALID, "HTTP 429"},
    {"permanent transport failure", "kms", {RDSBK_ERROR, 0, NULL, NULL}, RDSBK_ERROR, ""},
};

static void test_not_retried(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(s_once) / sizeof(s_once[0]); i++) {
        struct fake f = {&s_once[i].step, 1, 0, {{0}}, {0}, 0, 0};
        struct rdsbk_http_response resp;
        int rc = s_call(&f, s_once[i].service, 5, &resp);
        if (rc != s_once[i].expected_rc || f.calls != 1)
            fail_msg("%s: rc %d after %zu attempts", s_once[i].name, rc, f.calls);
        assert_string_equal(rdsbk_error_last()->aws_code, s_once[i].aws_code);
        if (s_once[i].step.rc == 0) {
            /* the reply stays for the caller */
            assert_int_equal(resp.status, s_once[i].step.status);
            assert_int_equal(rdsbk_error_last()->http_status, (int)s_once[i].step.status);
        } else {
            assert_int_equal(resp.status, 0);
        }
        rdsbk_http_response_clean_up(&resp);
    }
}

static void test_request_id_kept(void **state) {
    struct fake f = {&s_once[0].step, 1, 0, {{0}}, {0}, 0, 0};
    struct rdsbk_http_response resp;
    (void)state;
    assert_int_equal(s_call(&f, "kms", 3, &resp), RDSBK_EINVALID);
    assert_string_equal(rdsbk_error_last()->request_id, "r-1");
    assert_string_equal(rdsbk_error_last()->message, "bad");
    rdsbk_http_response_clean_up(&resp);
}

static void test_gives_up(void **state) {
    static const struct step throttled[] = {
        {0, 400, NULL, "{\"__type\":\"ThrottlingException\"}"},
        {0, 400, NULL, "{\"__type\":\"ThrottlingException\"}"},
        {0, 400, NULL, "{\"__type\":\"ThrottlingException\"}"},
        {0, 400, NULL, "{\"__type\":\"ThrottlingException\"}"},
    };
    static const struct step unavailable[] = {
        {0, 503, NULL, ""}, {0, 503, NULL, ""}, {0, 503, NULL, ""}};
    static const struct step refused[] = {
        {RDSBK_EIO, 0, NULL, NULL}, {RDSBK_EIO, 0, NULL, NULL}, {RDSBK_EIO, 0, NULL, NULL}};
    static const struct step kms_limit[] = {
        {0, 400, NULL, "{\"__type\":\"LimitExceededException\"}"},
        {0, 200, NULL, "{}"},
    };
    struct fake f1 = {throttled, 4, 0, {{0}}, {0}, 0, 0};
    struct fake f2 = {unavailable, 3, 0, {{0}}, {0}, 0, 0};
    struct fake f3 = {refused, 3, 0, {{0}}, {0}, 0, 0};
    struct fake f4 = {kms_limit, 2, 0, {{0}}, {0}, 0, 0};
    struct rdsbk_http_response resp;
    (void)state;

    assert_int_equal(s_call(&f1, "events", 4, &resp), RDSBK_ETHROTTLED);
    assert_int_equal(f1.calls, 4);
    assert_int_equal(resp.status, 400);
    rdsbk_http_response_clean_up(&resp);

    assert_int_equal(s_call(&f2, "kms", 3, &resp), RDSBK_ERROR);
    assert_int_equal(f2.calls, 3);
    assert_int_equal(resp.status, 503);
    assert_int_equal(rdsbk_error_last()->http_status, 503);
    rdsbk_http_response_clean_up(&resp);

    assert_int_equal(s_call(&f3, "kms", 3, &resp), RDSBK_EIO);
    assert_int_equal(f3.calls, 3);
    rdsbk_http_response_clean_up(&resp);

    assert_int_equal(s_call(&f4, "kms", 3, &resp), 0);
    assert_int_equal(f4.calls, 2);
    rdsbk_http_response_clean_up(&resp);
}

static void test_credentials_failure(void **state) {
    struct fake f = {NULL, 0, 0, {{0}}, {0}, 0, 1};
    struct rdsbk_http_response resp;
    (void)state;
    assert_int_equal(s_call(&f, "kms", 3, &resp), RDSBK_EAUTH);
    assert_int_equal(f.calls, 0);
    rdsbk_http_response_clean_up(&resp);
}

static void test_body_cap(void **state) {
    static char big[5000];
    static struct step step = {0, 200, NULL, big};
    struct fake f = {&step, 1, 0, {{0}}, {0}, 0, 0};
    struct rdsbk_http_response resp;
    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    assert_int_equal(s_call(&f, "kms", 3, &resp), RDSBK_ENOMEM);
    assert_int_equal(f.calls, 1);
    assert_int_equal(resp.body.len, 0);
    rdsbk_http_response_clean_up(&resp);
}

/* Full jitter inside the capped exponential envelope: min(max, base * 2^(n-1)). */
static void test_backoff_envelope(void **state) {
    struct rdsbk_http_options opts = {0};
    static const long caps[] = {100, 200, 400, 800, 1000, 1000, 1000};
    (void)state;
    opts.base_delay_ms = 100;
    opts.max_delay_ms = 1000;
    for (int attempt = 1; attempt <= 7; attempt++) {
        long cap = caps[attempt - 1];
        long lo = cap;
        long hi = 0;
        double sum = 0;
        const int n = 4000;
        for (int i = 0; i < n; i++) {
            long d = rdsbk_retry_backoff_ms(&opts, attempt);
            if (d < 0 || d > cap)
                fail_msg("attempt %d: delay %ld outside [0, %ld]", attempt, d, cap);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
            sum += (double)d;
        }
        /* uniform over [0, cap]: both ends reached, mean near the middle */
        assert_true(lo <= cap / 20);
        assert_true(hi >= cap - cap / 20);
        assert_true(sum / n > 0.4 * (double)cap && sum / n < 0.6 * (double)cap);
    }
}

static void test_defaults(void **state) {
    struct rdsbk_http *http = NULL;
    const struct rdsbk_http_options *o;
    (void)state;
    assert_int_equal(rdsbk_http_new(&http, NULL), 0);
    o = rdsbk_http_options_of(http);
    assert_int_equal(o->max_attempts, 8);
    assert_int_equal(o->base_delay_ms, 1000);
    assert_int_equal(o->max_delay_ms, 20000);
    assert_int_equal(o->connect_timeout_ms, 10000);
    assert_int_equal(o->timeout_ms, 60000);
    assert_true(o->max_body_bytes == (size_t)64 * 1024 * 1024);
    rdsbk_http_free(http);
    rdsbk_http_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retries_until_success), cmocka_unit_test(test_not_retried),
        cmocka_unit_test(test_request_id_kept),       cmocka_unit_test(test_gives_up),
        cmocka_unit_test(test_credentials_failure),   cmocka_unit_test(test_body_cap),
        cmocka_unit_test(test_backoff_envelope),      cmocka_unit_test(test_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
