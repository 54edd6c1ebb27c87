/* Signed AWS calls with retries, and the clock offset they sign with. */
#include "rdsbk/aws_error.h"
#include "rdsbk/backoff.h"
#include "rdsbk/clock.h"
#include "rdsbk/error.h"
#include "rdsbk/http.h"
#include "rdsbk/log.h"
#include "rdsbk/sigv4.h"
#include "rdsbk/str.h"

#include "aws/http_private.h"
#include "aws/url.h"

#include <curl/curl.h>

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/*
 * Signed calls with the AWS SDKs' "standard" retry mode:
 *
 *   attempt 1 -> error? -> retryable? -> sleep U[0, min(max_delay, base * 2^0)] -> attempt 2
 *             -> ...                  -> sleep U[0, min(max_delay, base * 2^(n-1))] -> attempt n+1
 *
 * Retryable: throttling and transient AWS error codes and HTTP 500/502/503/504, and S3's 409
 * ConditionalRequestConflict (rdsbk_aws_error_is_retryable_for), and transport failures RDSBK_EIO
 * (refused, reset, DNS) and RDSBK_ETIMEOUT (rdsbk_error_is_transient). Nothing else: a 400
 * ValidationException or AccessDenied is tried once. Each attempt is signed anew with credentials
 * fetched anew, so a refreshing provider can replace expiring ones and X-Amz-Date stays within the
 * 5-minute window.
 */

/*
 * Clock skew. AWS refuses a signature more than 5 minutes from its own clock (SignatureDoesNotMatch
 * "Signature expired", InvalidSignatureException, RequestTimeTooSkewed, ...): a virtual machine
 * back from sleep, a container without NTP. As the AWS SDKs for Java, Go and JavaScript do, such a
 * refusal whose reply is dated more than 4 minutes from the local clock sets an offset that every
 * later signature adds (the Date header's second is precision enough for a 5-minute window), and
 * the request goes again at once; a warning says so, once.
 */
#define S_SKEW_MIN_S 240

static atomic_long s_clock_offset_s;
static atomic_flag s_skew_warned = ATOMIC_FLAG_INIT;

static bool s_is_skew_code(const char *code) {
    static const char *const codes[] = {"RequestTimeTooSkewed",  "RequestExpired",
                                        "RequestInTheFuture",    "InvalidSignatureException",
                                        "SignatureDoesNotMatch", "AuthFailure"};

    return rdsbk_str_in(code, codes, sizeof(codes) / sizeof(codes[0]));
}

/* After a refusal signed with `offset` seconds: whether the reply's date shows a skew that a new
 * offset corrects (then set). */
static bool s_correct_skew(const struct rdsbk_http_response *resp, const char *code, long offset) {
    const char *date = rdsbk_http_response_header(resp, "Date");
    time_t server = date ? curl_getdate(date, NULL) : -1;
    long skew;

    if (!s_is_skew_code(code) || server < 0)
        return false;
    skew = (long)(server - time(NULL));
    if (labs(skew - offset) <= S_SKEW_MIN_S)
        return false; /* signed with AWS's time already: not a matter of the clock */
    atomic_store(&s_clock_offset_s, skew);
    if (!atomic_flag_test_and_set(&s_skew_warned))
        rdsbk_log_warn("the local clock is %ld s %s AWS's (the Date of its replies): requests are "
                       "signed with AWS's time; set the system clock (NTP)",
                       labs(skew), skew > 0 ? "behind" : "ahead of");
    return true;
}

long rdsbk_aws_clock_offset_s(void) {
    return atomic_load(&s_clock_offset_s);
}

/* How many attempts the calling thread's last rdsbk_aws_send made. */
static _Thread_local int s_last_attempts;

int rdsbk_aws_last_attempts(void) {
    return s_last_attempts;
}

/* Full jitter: uniform in [0, min(max_delay, base * 2^(attempt-1))]. */
long rdsbk_retry_backoff_ms(const struct rdsbk_http_options *o, int attempt) {
    struct rdsbk_backoff b;
    long cap = 0;

    rdsbk_backoff_init(&b, o->base_delay_ms, o->max_delay_ms, 2.0, 0);
    for (int i = 0; i < attempt; i++)
        cap = rdsbk_backoff_next_ms(&b);
    return rdsbk_backoff_jitter_ms(cap);
}

/* "host" and "/path" of the URL, for log lines (never the query). */
static void s_host_path(char *host, size_t host_size, char *path, size_t path_size,
                        const char *url) {
    struct rdsbk_url_parts u;

    if (rdsbk_url_split(&u, url) != 0) {
        snprintf(host, host_size, "?");
        snprintf(path, path_size, "?");
        return;
    }
    if (u.port >= 0)
        snprintf(host, host_size, "%.*s:%ld", (int)u.host_len, u.host, u.port);
    else
        snprintf(host, host_size, "%.*s", (int)u.host_len, u.host);
    snprintf(path, path_size, "%.*s", u.path_len ? (int)u.path_len : 1, u.path_len ? u.path : "/");
}

/*
 * Some AWS endpoints answer a bad signature with a message quoting the canonical request, header
 * values included ("x-amz-security-token:..."): the message goes into the error the user sees,
 * so the session token this request carried is cut out of it first.
 */
static void s_redact_token(char *message, const struct rdsbk_http_request *req) {
    static const char mark[] = "[redacted]";
    const char *token = NULL;
    size_t n;
    char *p;

    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, "X-Amz-Security-Token") == 0)
            token = req->headers[i].value;
    if (!message || !token || !*token)
        return;
    n = strlen(token);
    p = strstr(message, token);
    while (p) {
        if (n < sizeof(mark) - 1) {
            memset(p, '*', n);
            p = strstr(p + n, token);
            continue;
        }
        memcpy(p, mark, sizeof(mark) - 1);
        memmove(p + sizeof(mark) - 1, p + n, strlen(p + n) + 1);
        p = strstr(p + sizeof(mark) - 1, token);
    }
}

/* One rdsbk_aws_send: what its attempts share, and what the last one left. */
struct s_call {
    struct rdsbk_http *http;
    struct rdsbk_http_request *req;
    const struct rdsbk_signing *signing;
    const char *op;             /* for log lines */
    char host[256];             /* for log lines */
    char path[512];             /* for log lines */
    int attempt;                /* 1-based */
    long offset;                /* the clock offset the attempt was signed with */
    long elapsed;               /* milliseconds the attempt took */
    bool skewed;                /* the attempt was refused for a clock skew now corrected */
    struct rdsbk_aws_error err; /* the attempt's error reply */
    char reason[192];           /* why it failed, for the retry's log line */
};

/* 1. fresh credentials, 2. a fresh signature */
static int s_sign(struct s_call *c) {
    struct rdsbk_credentials creds = {0};
    int rc = c->signing->get_credentials(&creds, c->signing->payload);

    if (rc == 0)
        rc = rdsbk_sigv4_sign(c->req, &creds, c->signing->region, c->signing->service,
                              time(NULL) + c->offset);
    rdsbk_credentials_clean_up(&creds);
    return rc;
}

/* A 2xx reply. */
static void s_log_success(const struct s_call *c, const struct rdsbk_http_response *resp) {
    const char *rid = rdsbk_http_response_header(resp, "x-amzn-RequestId");

    if (!rid)
        rid = rdsbk_http_response_header(resp, "x-amz-request-id");
    rdsbk_log_debug("aws %s %s %s%s -> %ld in %ld ms, attempt %d, request id %s", c->op,
                    c->req->method, c->host, c->path, resp->status, c->elapsed, c->attempt,
                    rid ? rid : "-");
}

/* An error reply, recorded as the call's error: its code, and *retryable. */
static int s_error_reply(bool *retryable, struct s_call *c,
                         const struct rdsbk_http_response *resp) {
    struct rdsbk_aws_error *err = &c->err;
    int rc = rdsbk_aws_error_parse(err, resp);

    if (rc)
        return rc;
    s_redact_token(err->message, c->req);
    rdsbk_log_debug("aws %s %s %s%s -> %ld %s in %ld ms, attempt %d, request id %s", c->op,
                    c->req->method, c->host, c->path, resp->status, err->code, c->elapsed,
                    c->attempt, err->request_id ? err->request_id : "-");
    c->skewed = s_correct_skew(resp, err->code, c->offset);
    *retryable =
        c->skewed || rdsbk_aws_error_is_retryable_for(c->signing->service, err->status, err->code);
    rc = rdsbk_error_set_aws(rdsbk_aws_error_to_code(err->status, err->code), (int)err->status,
                             err->code, err->request_id, err->message ? err->message : err->code);
    snprintf(c->reason, sizeof(c->reason), "HTTP %ld %s", err->status, err->code);
    return rc;
}

/* A transport failure `rc` (no reply): passed on, with *retryable. */
static int s_transport_failure(bool *retryable, struct s_call *c, int rc) {
    rdsbk_log_debug("aws %s %s %s%s -> failed in %ld ms, attempt %d: %s", c->op, c->req->method,
                    c->host, c->path, c->elapsed, c->attempt, rdsbk_error_last()->message);
    /* rdsbk_error_is_transient counts RDSBK_ETHROTTLED too, which rdsbk_http_send never
     * returns (http.h: a throttle is a reply, judged by its code in s_error_reply): of its
     * failures, RDSBK_EIO and RDSBK_ETIMEOUT are retried, as ever. */
    *retryable = rdsbk_error_is_transient(rc);
    snprintf(c->reason, sizeof(c->reason), "%.180s", rdsbk_error_last()->message);
    return rc;
}

/* One attempt: 0 on a 2xx reply, else its error with *retryable. */
static int s_attempt(bool *retryable, struct rdsbk_http_response *resp, struct s_call *c) {
    long long t0;
    int rc;

    *retryable = false;
    rdsbk_http_response_clean_up(resp);
    rdsbk_aws_error_clean_up(&c->err);
    c->offset = atomic_load(&s_clock_offset_s);
    c->skewed = false;
    rc = s_sign(c);
    if (rc)
        return rc;
    /* 3. one attempt */
    t0 = rdsbk_clock_now_ms();
    rc = rdsbk_http_send(resp, c->http, c->req);
    c->elapsed = (long)(rdsbk_clock_now_ms() - t0);
    if (rc)
        return s_transport_failure(retryable, c, rc);
    if (resp->status < 200 || resp->status >= 300)
        return s_error_reply(retryable, c, resp);
    s_log_success(c, resp);
    return 0;
}

int rdsbk_aws_send(struct rdsbk_http_response *resp, struct rdsbk_http *http,
                   struct rdsbk_http_request *req, const struct rdsbk_signing *signing,
                   const char *operation) {
    const struct rdsbk_http_options *opts = rdsbk_http_options_of(http);
    struct s_call c = {.http = http, .req = req, .signing = signing};
    bool retryable;
    int rc;

    memset(resp, 0, sizeof(*resp));
    c.op = operation ? operation : "?";
    if (!signing || !signing->get_credentials || !req->method || !req->url)
        return rdsbk_error_set(RDSBK_EINVALID, "%s: no credentials provider, method or URL", c.op);
    s_host_path(c.host, sizeof(c.host), c.path, sizeof(c.path), req->url);
    for (c.attempt = 1;; c.attempt++) {
        long delay;

        s_last_attempts = c.attempt;
        rc = s_attempt(&retryable, resp, &c);
        if (rc == 0 || !retryable || c.attempt >= opts->max_attempts)
            break; /* the error of this attempt stands; an error reply stays in resp */
        delay = c.skewed ? 0 : rdsbk_retry_backoff_ms(opts, c.attempt);
        rdsbk_log_debug("aws %s: retry %d of %d in %ld ms after %s", c.op, c.attempt + 1,
                        opts->max_attempts, delay, c.reason);
        rdsbk_clock_sleep_ms(delay);
    }
    rdsbk_aws_error_clean_up(&c.err);
    return rc;
}
