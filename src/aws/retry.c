#include "rdsbk/aws_error.h"
#include "rdsbk/backoff.h"
#include "rdsbk/clock.h"
#include "rdsbk/error.h"
#include "rdsbk/http.h"
#include "rdsbk/log.h"
#include "rdsbk/sigv4.h"

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
 * Retryable: throttling and transient AWS error codes and HTTP 500/502/503/504
 * (rdsbk_aws_error_is_retryable_for), and transport failures RDSBK_EIO (refused, reset, DNS)
 * and RDSBK_ETIMEOUT. Nothing else: a 400 ValidationException or AccessDenied is tried once.
 * Each attempt is signed anew with credentials fetched anew, so a refreshing provider can
 * replace expiring ones and X-Amz-Date stays within the 5-minute window.
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

    for (size_t i = 0; code && i < sizeof(codes) / sizeof(codes[0]); i++)
        if (strcmp(code, codes[i]) == 0)
            return true;
    return false;
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

int rdsbk_aws_send(struct rdsbk_http_response *resp, struct rdsbk_http *http,
                   struct rdsbk_http_request *req, const struct rdsbk_signing *signing,
                   const char *operation) {
    const struct rdsbk_http_options *opts = rdsbk_http_options_of(http);
    struct rdsbk_aws_error err = {0};
    char host[256];
    char path[512];
    const char *op = operation ? operation : "?";
    int result = RDSBK_ERROR;

    memset(resp, 0, sizeof(*resp));
    if (!signing || !signing->get_credentials || !req->method || !req->url) {
        result = rdsbk_error_set(RDSBK_EINVALID, "%s: no credentials provider, method or URL", op);
        goto cleanup;
    }
    s_host_path(host, sizeof(host), path, sizeof(path), req->url);
    for (int attempt = 1;; attempt++) {
        struct rdsbk_credentials creds = {0};
        char reason[192];
        long long t0;
        long elapsed;
        long delay;
        long offset = atomic_load(&s_clock_offset_s);
        bool retryable;
        bool skewed = false;

        rdsbk_http_response_clean_up(resp);
        rdsbk_aws_error_clean_up(&err);
        s_last_attempts = attempt;

        /* 1. fresh credentials, 2. a fresh signature */
        result = signing->get_credentials(&creds, signing->payload);
        if (result == 0)
            result = rdsbk_sigv4_sign(req, &creds, signing->region, signing->service,
                                      time(NULL) + offset);
        rdsbk_credentials_clean_up(&creds);
        if (result)
            goto cleanup;

        /* 3. one attempt */
        t0 = rdsbk_clock_now_ms();
        result = rdsbk_http_send(resp, http, req);
        elapsed = (long)(rdsbk_clock_now_ms() - t0);

        if (result == 0 && resp->status >= 200 && resp->status < 300) {
            const char *rid = rdsbk_http_response_header(resp, "x-amzn-RequestId");
            if (!rid)
                rid = rdsbk_http_response_header(resp, "x-amz-request-id");
            rdsbk_log_debug("aws %s %s %s%s -> %ld in %ld ms, attempt %d, request id %s", op,
                            req->method, host, path, resp->status, elapsed, attempt,
                            rid ? rid : "-");
            goto cleanup;
        }
        if (result == 0) {
            result = rdsbk_aws_error_parse(&err, resp);
            if (result)
                goto cleanup;
            s_redact_token(err.message, req);
            rdsbk_log_debug("aws %s %s %s%s -> %ld %s in %ld ms, attempt %d, request id %s", op,
                            req->method, host, path, resp->status, err.code, elapsed, attempt,
                            err.request_id ? err.request_id : "-");
            skewed = s_correct_skew(resp, err.code, offset);
            retryable =
                skewed || rdsbk_aws_error_is_retryable_for(signing->service, err.status, err.code);
            result =
                rdsbk_error_set_aws(rdsbk_aws_error_to_code(err.status, err.code), (int)err.status,
                                    err.code, err.request_id, err.message ? err.message : err.code);
            snprintf(reason, sizeof(reason), "HTTP %ld %s", err.status, err.code);
        } else {
            rdsbk_log_debug("aws %s %s %s%s -> failed in %ld ms, attempt %d: %s", op, req->method,
                            host, path, elapsed, attempt, rdsbk_error_last()->message);
            retryable = result == RDSBK_EIO || result == RDSBK_ETIMEOUT;
            snprintf(reason, sizeof(reason), "%.180s", rdsbk_error_last()->message);
        }
        if (!retryable || attempt >= opts->max_attempts)
            goto cleanup; /* the error of this attempt stands; an error reply stays in resp */

        delay = skewed ? 0 : rdsbk_retry_backoff_ms(opts, attempt);
        rdsbk_log_debug("aws %s: retry %d of %d in %ld ms after %s", op, attempt + 1,
                        opts->max_attempts, delay, reason);
        rdsbk_clock_sleep_ms(delay);
    }

cleanup:
    rdsbk_aws_error_clean_up(&err);
    return result;
}
