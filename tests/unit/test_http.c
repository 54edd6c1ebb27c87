/*
 * The transport and the retrying signed call against real local servers
 * (tests/aws/script_server.py on 127.0.0.1, plain and TLS): scripted failures, attempt counts
 * seen by the server, backoff timings, timeouts, body cap, User-Agent, proxies from the
 * environment, TLS verification, threads, and --debug lines that must not leak secrets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "aws/http_private.h"
#include "rdsbk/clock.h"
#include "rdsbk/error.h"
#include "rdsbk/http.h"
#include "rdsbk/log.h"

#include <cjson/cJSON.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SERVER_SCRIPT RDSBK_SOURCE_DIR "/tests/aws/script_server.py"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY-h1test"
#define TOKEN "FQoGZXIvYXdzEXAMPLE-session-token-h1test-0123456789"

struct server {
    pid_t pid;
    int port;
};

static struct server s_plain;
static struct server s_tls;
static int s_creds_calls;
/* For the control calls (/__script, /__log): default options, so the log fits the body cap. */
static struct rdsbk_http *s_control;
static bool s_tls_up;

static int s_start(struct server *srv, bool tls) {
    int fds[2];
    FILE *out;
    char line[64];

    if (pipe(fds) != 0)
        return -1;
    srv->pid = fork();
    if (srv->pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(RDSBK_PYTHON, RDSBK_PYTHON, SERVER_SCRIPT, tls ? "--tls" : NULL, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    out = fdopen(fds[0], "r");
    if (!out || !fgets(line, sizeof(line), out) || sscanf(line, "PORT %d", &srv->port) != 1) {
        if (out)
            fclose(out);
        return -1;
    }
    fclose(out);
    return 0;
}

static void s_stop(struct server *srv) {
    if (srv->pid > 0) {
        kill(srv->pid, SIGTERM);
        waitpid(srv->pid, NULL, 0);
        srv->pid = 0;
    }
}

static int s_group_setup(void **state) {
    (void)state;
    /* these tests talk to 127.0.0.1 directly; an inherited proxy must not intercept them */
    unsetenv("http_proxy");
    unsetenv("HTTP_PROXY");
    unsetenv("https_proxy");
    unsetenv("HTTPS_PROXY");
    unsetenv("all_proxy");
    unsetenv("ALL_PROXY");
    if (rdsbk_http_new(&s_control, NULL) != 0)
        return -1;
    if (s_start(&s_plain, false) != 0) {
        print_error("cannot start %s with %s\n", SERVER_SCRIPT, RDSBK_PYTHON);
        return -1;
    }
    /* the TLS server needs the openssl command for its throwaway certificate */
    s_tls_up = s_start(&s_tls, true) == 0;
    return 0;
}

static int s_group_teardown(void **state) {
    (void)state;
    s_stop(&s_plain);
    s_stop(&s_tls);
    rdsbk_http_free(s_control);
    return 0;
}

static void s_url(char *out, size_t size, const struct server *srv, const char *path) {
    snprintf(out, size, "%s://127.0.0.1:%d%s", srv == &s_tls ? "https" : "http", srv->port, path);
}

static void s_request(struct rdsbk_http_request *req, const char *method, const char *url,
                      const char *body) {
    memset(req, 0, sizeof(*req));
    req->method = strdup(method);
    req->url = strdup(url);
    if (body) {
        req->body = (unsigned char *)strdup(body);
        req->body_len = strlen(body);
    }
}

/* Replaces the server's script (and clears its log) through our own transport. */
static void s_script(struct rdsbk_http *http, const char *json) {
    struct rdsbk_http_request req;
    struct rdsbk_http_response resp;
    char url[128];
    s_url(url, sizeof(url), &s_plain, "/__script");
    (void)http;
    s_request(&req, "POST", url, json);
    assert_int_equal(rdsbk_http_send(&resp, s_control, &req), 0);
    assert_int_equal(resp.status, 200);
    rdsbk_http_response_clean_up(&resp);
    rdsbk_http_request_clean_up(&req);
}

/* The requests the server saw since the last script (caller cJSON_Deletes). */
static cJSON *s_log(struct rdsbk_http *http) {
    struct rdsbk_http_request req;
    struct rdsbk_http_response resp;
    char url[128];
    cJSON *root;
    cJSON *list;
    s_url(url, sizeof(url), &s_plain, "/__log");
    (void)http;
    s_request(&req, "GET", url, NULL);
    assert_int_equal(rdsbk_http_send(&resp, s_control, &req), 0);
    root = cJSON_Parse(resp.body.ptr);
    assert_non_null(root);
    list = cJSON_DetachItemFromObject(root, "requests");
    cJSON_Delete(root);
    rdsbk_http_response_clean_up(&resp);
    rdsbk_http_request_clean_up(&req);
    return list;
}

static const char *s_logged_header(const cJSON *entry, const char *name) {
    const cJSON *h;
    cJSON_ArrayForEach(h, cJSON_GetObjectItem(entry, "headers")) {
        if (strcasecmp(cJSON_GetArrayItem(h, 0)->valuestring, name) == 0)
            return cJSON_GetArrayItem(h, 1)->valuestring;
    }
    return NULL;
}

static int s_creds(struct rdsbk_credentials *out, void *payload) {
    (void)payload;
    memset(out, 0, sizeof(*out));
    s_creds_calls++;
    out->access_key_id = strdup("AKIDH1TESTEXAMPLE");
    out->secret_access_key = strdup(SECRET);
    out->session_token = strdup(TOKEN);
    return 0;
}

static const struct rdsbk_signing s_signing = {"eu-west-1", "sts", s_creds, NULL};

/* Captures stderr (where rdsbk_log writes) into a temporary file. */
struct capture {
    int saved;
    FILE *file;
};

static void s_capture_start(struct capture *c) {
    fflush(stderr);
    c->file = tmpfile();
    assert_non_null(c->file);
    c->saved = dup(STDERR_FILENO);
    dup2(fileno(c->file), STDERR_FILENO);
}

static char *s_capture_end(struct capture *c) {
    long len;
    char *text;
    fflush(stderr);
    dup2(c->saved, STDERR_FILENO);
    close(c->saved);
    len = ftell(c->file);
    text = calloc(1, (size_t)len + 1);
    fseek(c->file, 0, SEEK_SET);
    if (fread(text, 1, (size_t)len, c->file) != (size_t)len)
        text[0] = '\0';
    fclose(c->file);
    return text;
}

static struct rdsbk_http *s_http(long timeout_ms, int attempts, long base, long max) {
    struct rdsbk_http_options o = {0};
    struct rdsbk_http *http = NULL;
    o.connect_timeout_ms = 2000;
    o.timeout_ms = timeout_ms;
    o.max_attempts = attempts;
    o.base_delay_ms = base;
    o.max_delay_ms = max;
    o.max_body_bytes = 1024;
    assert_int_equal(rdsbk_http_new(&http, &o), 0);
    return http;
}

/*
 * 503, 500, throttling (JSON and XML), a reset connection, a hang past the timeout, then success:
 * seven attempts seen by the server; each pause between them at least the logged delay, each
 * logged delay inside the envelope min(max, base * 2^(n-1)).
 */
static void test_scripted_failures(void **state) {
    struct rdsbk_http *http = s_http(400, 8, 60, 150);
    struct rdsbk_http_request req;
    struct rdsbk_http_response resp;
    struct capture cap;
    char url[128];
    char *err_text;
    cJSON *log;
    const char *p;
    long delays[8] = {0};
    int n_delays = 0;
    int rc;
    (void)state;

    s_script(http, "[{\"status\":503,\"body\":\"<html>busy</html>\"},"
                   "{\"status\":500,\"body\":\"{\\\"__type\\\":\\\"InternalFailure\\\"}\"},"
                   "{\"status\":400,\"body\":\"{\\\"__type\\\":\\\"ThrottlingException\\\"}\"},"
                   "{\"status\":400,\"headers\":{\"Connection\":\"close\"},"
                   "\"body\":\"<ErrorResponse><Error><Code>Throttling</Code>"
                   "</Error></ErrorResponse>\"},"
                   "{\"action\":\"reset\"},"
                   "{\"action\":\"hang\",\"seconds\":1.5},"
                   "{\"status\":200,\"headers\":{\"x-amzn-RequestId\":\"req-ok\"},"
                   "\"body\":\"<GetCallerIdentityResponse/>\"}]");
    s_url(url, sizeof(url), &s_plain, "/");
    s_request(&req, "POST", url, "Action=GetCallerIdentity&Version=2011-06-15");
    rdsbk_log_set_level(RDSBK_LOG_DEBUG);
    s_capture_start(&cap);
    rc = rdsbk_aws_send(&resp, http, &req, &s_signing, "sts:GetCallerIdentity");
    err_text = s_capture_end(&cap);
    rdsbk_log_set_level(RDSBK_LOG_QUIET);
    if (rc != 0)
        fail_msg("rc %d: %s\n%s", rc, rdsbk_error_last()->message, err_text);
    assert_int_equal(resp.status, 200);
    assert_string_equal(rdsbk_http_response_header(&resp, "X-Amzn-RequestId"), "req-ok");
    assert_string_equal(resp.body.ptr, "<GetCallerIdentityResponse/>");

    /* the delays we chose, from the retry lines */
    for (p = strstr(err_text, ": retry "); p; p = strstr(p + 1, ": retry ")) {
        int next;
        int max;
        long d;
        assert_int_equal(sscanf(p, ": retry %d of %d in %ld ms", &next, &max, &d), 3);
        assert_int_equal(next, n_delays + 2);
        assert_int_equal(max, 8);
        delays[n_delays++] = d;
    }
    assert_int_equal(n_delays, 6);
    for (int i = 0; i < n_delays; i++) {
        long cap_ms = 60L << i;
        cap_ms = cap_ms > 150 ? 150 : cap_ms;
        if (delays[i] < 0 || delays[i] > cap_ms)
            fail_msg("delay %d: %ld ms outside [0, %ld]", i + 1, delays[i], cap_ms);
    }
    assert_non_null(strstr(err_text, "after HTTP 503 HTTP 503"));
    assert_non_null(strstr(err_text, "after HTTP 500 InternalFailure"));
    assert_non_null(strstr(err_text, "after HTTP 400 ThrottlingException"));
    assert_non_null(strstr(err_text, "after HTTP 400 Throttling"));

    /* what the server saw: 7 attempts, spaced by at least the delays */
    log = s_log(http);
    assert_int_equal(cJSON_GetArraySize(log), 7);
    for (int i = 1; i < 7; i++) {
        double gap_ms = 1000.0 * (cJSON_GetArrayItem(log, i)->child->valuedouble -
                                  cJSON_GetArrayItem(log, i - 1)->child->valuedouble);
        /* the attempt after the hang also waited for the 400 ms timeout */
        double floor_ms = (double)delays[i - 1] + (i == 6 ? 400.0 : 0.0);
        double ceiling_ms = (double)delays[i - 1] + (i == 6 ? 400.0 : 0.0) + 400.0;
        /* 30 ms for the server's own scheduling of the earlier arrival */
        if (gap_ms < floor_ms - 30.0 || gap_ms > ceiling_ms)
            fail_msg("gap before attempt %d: %.1f ms, expected [%.0f, %.0f]", i + 1, gap_ms,
                     floor_ms, ceiling_ms);
    }
    cJSON_Delete(log);
    free(err_text);
    rdsbk_http_response_clean_up(&resp);
    rdsbk_http_request_clean_up(&req);
    rdsbk_http_free(http);
}

static const struct {
    const char *script;
    int rc;
    const char *aws_code;
    int attempts;
} s_once[] = {
    {"[{\"status\":400,\"headers\":{\"x-amzn-RequestId\":\"r-val\"},\"body\":\"{\\\"__type\\\":"
     "\\\"ValidationException\\\",\\\"message\\\":\\\"bad input\\\"}\"}]",
     RDSBK_EINVALID, "ValidationException", 1},
    {"[{\"status\":403,\"body\":\"<ErrorResponse><Error><Code>AccessDenied</Code><Message>not "
     "allowed</Message></Error><RequestId>r-ad</RequestId></ErrorResponse>\"}]",
     RDSBK_EAUTH, "AccessDenied", 1},
    {"[{\"status\":503},{\"status\":503},{\"status\":503},{\"status\":200}]", RDSBK_ERROR,
     "HTTP 503", 3},
    {"[{\"status\":400,\"body\":\"{\\\"__type\\\":\\\"ThrottlingException\\\"}\"},"
     "{\"status\":400,\"body\":\"{\\\"__type\\\":\\\"ThrottlingException\\\"}\"},"
     "{\"status\":400,\"body\":\"{\\\"__type\\\":\\\"ThrottlingException\\\"}\"}]",
     RDSBK_ETHROTTLED, "ThrottlingException", 3},
};

/* Non-retryable errors are tried exactly once; retryable ones max_attempts times. */
static void test_attempt_counts(void **state) {
    struct rdsbk_http *http = s_http(2000, 3, 1, 5);
    char url[128];
    (void)state;
    s_url(url, sizeof(url), &s_plain, "/");
    for (size_t i = 0; i < sizeof(s_once) / sizeof(s_once[0]); i++) {
        struct rdsbk_http_request req;
        struct rdsbk_http_response resp;
        cJSON *log;
        int rc;
        s_script(http, s_once[i].script);
        s_request(&req, "POST", url, "Action=GetCallerIdentity&Version=2011-06-15");
        s_creds_calls = 0;
        rc = rdsbk_aws_send(&resp, http, &req, &s_signing, "sts:GetCallerIdentity");
        assert_int_equal(rc, s_once[i].rc);
        assert_string_equal(rdsbk_error_last()->aws_code, s_once[i].aws_code);
        log = s_log(http);
        assert_int_equal(cJSON_GetArraySize(log), s_once[i].attempts);
        assert_int_equal(s_creds_calls, s_once[i].attempts);
        cJSON_Delete(log);
        assert_true(resp.status >= 400);
        rdsbk_http_response_clean_up(&resp);
        rdsbk_http_request_clean_up(&req);
    }
    rdsbk_http_free(http);
}

/* Connection refused is retried, then reported as RDSBK_EIO. */
static void test_connection_refused(void **state) {
    struct rdsbk_http *http = s_http(2000, 3, 1, 5);
    struct rdsbk_http_request req;
    struct rdsbk_http_response resp;
    struct sockaddr_in addr = {0};
    socklen_t len = sizeof(addr);
    char url[128];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    (void)state;

    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    close(fd); /* nothing listens there now */
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ntohs(addr.sin_port));
    s_request(&req, "GET", url, NULL);
    s_creds_calls = 0;
    assert_int_equal(rdsbk_aws_send(&resp, http, &req, &s_signing, "sts:Test"), RDSBK_EIO);
    assert_int_equal(s_creds_calls, 3);
    assert_int_equal(resp.status, 0);
    rdsbk_http_response_clean_up(&resp);
    rdsbk_http_request_clean_up(&req);
    rdsbk_http_free(http);
}

/* A signed call at debug level: one line per attempt with method, host, path, status, duration,
 * request id and AWS code, and no secret key, token, signature or body bytes anywhere. */
static void test_debug_lines_leak_nothing(void **state) {
    struct rdsbk_http *http = s_http(2000, 3, 1, 5);
    struct rdsbk_http_request req;
    struct rdsbk_http_response resp;
    struct capture cap;
    char url[128];
    char host[64];
    char *text;
    cJSON *log;
    (void)state;

    s_script(http, "[{\"status\":400,\"headers\":{\"x-amzn-RequestId\":\"rid-1\"},\"body\":"
                   "\"{\\\"__type\\\":\\\"ThrottlingException\\\"}\"},"
                   "{\"status\":200,\"headers\":{\"x-amzn-RequestId\":\"rid-2\"},"
                   "\"body\":\"reply-body-bytes\"}]");
    s_url(url, sizeof(url), &s_plain, "/some/path?Action=X");
    s_request(&req, "POST", url, "Action=GetCallerIdentity&BodyMarker=request-body-bytes");
    rdsbk_log_set_level(RDSBK_LOG_DEBUG);
    s_capture_start(&cap);
    assert_int_equal(rdsbk_aws_send(&resp, http, &req, &s_signing, "sts:GetCallerIdentity"), 0);
    text = s_capture_end(&cap);
    rdsbk_log_set_level(RDSBK_LOG_QUIET);

    snprintf(host, sizeof(host), "127.0.0.1:%d", s_plain.port);
    assert_non_null(strstr(text, "debug: aws sts:GetCallerIdentity POST"));
    assert_non_null(strstr(text, host));
    assert_non_null(strstr(text, "/some/path"));
    assert_non_null(strstr(text, "-> 400 ThrottlingException in "));
    assert_non_null(strstr(text, "request id rid-1"));
    assert_non_null(strstr(text, "-> 200 in "));
    assert_non_null(strstr(text, "request id rid-2"));
    assert_non_null(strstr(text, " ms"));
    /* nothing secret */
    assert_null(strstr(text, SECRET));
    assert_null(strstr(text, "wJalrXUtnFEMI"));
    assert_null(strstr(text, TOKEN));
    assert_null(strstr(text, "FQoGZXIvYXdz"));
    assert_null(strstr(text, "Signature="));
    assert_null(strstr(text, "AWS4-HMAC-SHA256"));
    assert_null(strstr(text, "Authorization"));
    assert_null(strstr(text, "request-body-bytes"));
    assert_null(strstr(text, "reply-body-bytes"));

    /* ...although they were on the wire */
    log = s_log(http);
    assert_int_equal(cJSON_GetArraySize(log), 2);
    assert_string_equal(s_logged_header(cJSON_GetArrayItem(log, 1), "X-Amz-Security-Token"), TOKEN);
    assert_non_null(
        strstr(s_logged_header(cJSON_GetArrayItem(log, 1), "Authorization"), "Signature="));
    cJSON_Delete(log);
    free(text);
    rdsbk_http_response_clean_up(&resp);
    rdsbk_http_request_clean_up(&req);
    rdsbk_http_free(http);
}

/* Methods, bodies, User-Agent, no Expect, empty header values, captured response headers. */
static void test_wire_details(void **state) {
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "HEAD"};
    struct rdsbk_http *http = s_http(2000, 1, 1, 1);
    char url[128];
    char big[1500];
    cJSON *log;
    (void)state;

    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    s_script(http, "[{\"status\":201,\"headers\":{\"X-Reply\":\"  padded  \"},\"body\":\"ok\"}]");
    s_url(url, sizeof(url), &s_plain, "/2015-03-31/functions/f%3Aprod?Qualifier=%24LATEST");
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        struct rdsbk_http_request req;
        struct rdsbk_http_response resp;
        bool with_body = strcmp(methods[i], "POST") == 0 || strcmp(methods[i], "PUT") == 0;
        s_request(&req, methods[i], url, with_body ? big : NULL);
        assert_int_equal(rdsbk_http_request_add_header(&req, "X-Empty", ""), 0);
        assert_int_equal(rdsbk_http_send(&resp, http, &req), 0);
        assert_int_equal(resp.status, i == 0 ? 201 : 200);
        if (i == 0) {
            assert_string_equal(rdsbk_http_response_header(&resp, "x-reply"), "padded");
            assert_string_equal(resp.body.ptr, "ok");
        }
        rdsbk_http_response_clean_up(&resp);
        rdsbk_http_request_clean_up(&req);
    }
    log = s_log(http);
    assert_int_equal(cJSON_GetArraySize(log), 5);
    for (int i = 0; i < 5; i++) {
        const cJSON *e = cJSON_GetArrayItem(log, i);
        bool with_body = i == 1 || i == 2;
        assert_string_equal(cJSON_GetObjectItem(e, "method")->valuestring, methods[i]);
        assert_string_equal(cJSON_GetObjectItem(e, "path")->valuestring,
                            "/2015-03-31/functions/f%3Aprod?Qualifier=%24LATEST");
        assert_string_equal(s_logged_header(e, "User-Agent"), "rdsbk-provision/" RDSBK_VERSION);
        assert_null(s_logged_header(e, "Expect"));
        assert_string_equal(s_logged_header(e, "X-Empty"), "");
        assert_int_equal(cJSON_GetObjectItem(e, "body_len")->valueint,
                         with_body ? (int)strlen(big) : 0);
    }
    cJSON_Delete(log);
    rdsbk_http_free(http);
}

static void test_body_cap_and_timeout(void **state) {
    struct rdsbk_http *http = s_http(300, 1, 1, 1);
    struct rdsbk_http_request req;
    struct rdsbk_http_response resp;
    char url[128];
    char script[3000];
    long long t0;
    (void)state;

    /* 2000 bytes against a 1024-byte cap */
    snprintf(script, sizeof(script),
             "[{\"status\":200,\"body\":\"%0*d\"},{\"action\":\"hang\","
             "\"seconds\":1.0}]",
             2000, 0);
    s_script(http, script);
    s_url(url, sizeof(url), &s_plain, "/");
    s_request(&req, "GET", url, NULL);
    assert_int_equal(rdsbk_http_send(&resp, http, &req), RDSBK_ENOMEM);
    assert_non_null(strstr(rdsbk_error_last()->message, "cap"));
    assert_int_equal(resp.body.len, 0);
    t0 = rdsbk_clock_now_ms();
    assert_int_equal(rdsbk_http_send(&resp, http, &req), RDSBK_ETIMEOUT);
    assert_true(rdsbk_clock_now_ms() - t0 >= 290);
    assert_true(rdsbk_clock_now_ms() - t0 < 1000);
    rdsbk_http_request_clean_up(&req);
    rdsbk_http_free(http);
}

/* http_proxy from the environment is honoured (libcurl's default). */
static void test_proxy_from_environment(void **state) {
    struct rdsbk_http *http = s_http(2000, 1, 1, 1);
    struct rdsbk_http_request req;
    struct rdsbk_http_response resp;
    char proxy[64];
    cJSON *log;
    (void)state;

    s_script(http, "[]");
    snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", s_plain.port);
    setenv("http_proxy", proxy, 1);
    s_request(&req, "GET", "http://rdsbk-proxy-test.invalid/via-proxy", NULL);
    assert_int_equal(rdsbk_http_send(&resp, http, &req), 0);
    unsetenv("http_proxy");
    assert_int_equal(resp.status, 200);
    log = s_log(http);
    assert_int_equal(cJSON_GetArraySize(log), 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(log, 0), "path")->valuestring,
                        "http://rdsbk-proxy-test.invalid/via-proxy");
    cJSON_Delete(log);
    rdsbk_http_response_clean_up(&resp);
    rdsbk_http_request_clean_up(&req);
    rdsbk_http_free(http);
}

/* A self-signed certificate is refused, and that is not retried. */
static void test_tls_verification(void **state) {
    struct rdsbk_http *http = s_http(5000, 3, 1, 5);
    struct rdsbk_http_request req;
    struct rdsbk_http_response resp;
    char url[128];
    (void)state;

    if (!s_tls_up) {
        print_message("SKIP: the TLS test server did not start (no openssl command?)\n");
        rdsbk_http_free(http);
        skip();
    }
    s_url(url, sizeof(url), &s_tls, "/");
    s_request(&req, "GET", url, NULL);
    assert_int_equal(rdsbk_http_send(&resp, http, &req), RDSBK_ERROR);
    assert_int_equal(resp.status, 0);
    s_creds_calls = 0;
    assert_int_equal(rdsbk_aws_send(&resp, http, &req, &s_signing, "sts:Test"), RDSBK_ERROR);
    assert_int_equal(s_creds_calls, 1);
    rdsbk_http_response_clean_up(&resp);
    rdsbk_http_request_clean_up(&req);
    rdsbk_http_free(http);
}

struct worker {
    struct rdsbk_http *http;
    int ok;
};

static void *s_worker(void *arg) {
    struct worker *w = arg;
    char url[128];
    s_url(url, sizeof(url), &s_plain, "/threads");
    for (int i = 0; i < 8; i++) {
        struct rdsbk_http_request req;
        struct rdsbk_http_response resp;
        s_request(&req, "POST", url, "Action=GetCallerIdentity");
        if (rdsbk_aws_send(&resp, w->http, &req, &s_signing, "sts:GetCallerIdentity") == 0 &&
            resp.status == 200)
            w->ok++;
        rdsbk_http_response_clean_up(&resp);
        rdsbk_http_request_clean_up(&req);
    }
    return NULL;
}

/* Runs four workers at once, each on a thread of its own, and waits for all of them. */
static void s_run_together(struct rdsbk_http *http, struct worker w[4]) {
    pthread_t t[4];

    for (int i = 0; i < 4; i++) {
        w[i].http = http;
        w[i].ok = 0;
        assert_int_equal(pthread_create(&t[i], NULL, s_worker, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
}

/* One transport, four threads at once, their easy handles over the shared DNS/TLS caches. */
static void test_threads(void **state) {
    struct rdsbk_http *http = s_http(5000, 2, 1, 5);
    struct worker w[4];
    cJSON *log;
    (void)state;

    s_script(http, "[]");
    s_run_together(http, w);
    for (int i = 0; i < 4; i++)
        assert_int_equal(w[i].ok, 8);
    log = s_log(http);
    assert_int_equal(cJSON_GetArraySize(log), 32);
    cJSON_Delete(log);
    rdsbk_http_free(http);
}

/* The distinct connections (client ports) that carried the logged requests. */
static int s_connections(const cJSON *log) {
    int ports[64];
    int n = 0;
    const cJSON *entry;

    cJSON_ArrayForEach(entry, log) {
        int port = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(entry, "peer_port"));
        bool seen = false;
        for (int i = 0; i < n; i++)
            seen = seen || ports[i] == port;
        if (!seen && n < 64)
            ports[n++] = port;
    }
    return n;
}

/* Runs a worker on a thread of its own and waits for it: the next one starts after it ended. */
static void s_run_alone(struct worker *w) {
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, s_worker, w), 0);
    pthread_join(t, NULL);
}

/* Easy handles are lent per request: threads that come one after another (the stages of a run)
 * go on with the same connection, and parallel threads hold no more connections than requests
 * were in flight. */
static void test_connections_outlive_threads(void **state) {
    struct rdsbk_http *http = s_http(5000, 2, 1, 5);
    struct worker w[4];
    cJSON *log;
    (void)state;

    s_script(http, "[]");
    for (int i = 0; i < 3; i++) {
        w[i].http = http;
        w[i].ok = 0;
        s_run_alone(&w[i]);
        assert_int_equal(w[i].ok, 8);
    }
    log = s_log(http);
    assert_int_equal(cJSON_GetArraySize(log), 24);
    assert_int_equal(s_connections(log), 1);
    cJSON_Delete(log);

    s_script(http, "[]");
    s_run_together(http, w);
    log = s_log(http);
    assert_int_equal(cJSON_GetArraySize(log), 32);
    assert_true(s_connections(log) <= 4);
    cJSON_Delete(log);
    rdsbk_http_free(http);
}

/*
 * A reset on a reused connection before any reply is sent again by libcurl itself, unseen by the
 * attempt count: harmless for what a repeat cannot double, not for KMS CreateKey. A request
 * marked fresh_connection goes on a new connection, so the same reset comes back as RDSBK_EIO
 * (ours to retry and count), after one request on the server.
 */
static void test_fresh_connection_for_what_is_not_idempotent(void **state) {
    struct rdsbk_http *http = s_http(2000, 1, 1, 5);
    struct rdsbk_http_request req;
    struct rdsbk_http_response resp;
    char url[128];
    cJSON *log;
    int port;
    (void)state;

    s_script(http, "[{\"status\":200},{\"action\":\"reset\"},{\"status\":200},"
                   "{\"action\":\"reset\"}]");
    s_url(url, sizeof(url), &s_plain, "/");
    for (int i = 0; i < 3; i++) {
        int rc;
        memset(&resp, 0, sizeof(resp));
        s_request(&req, "POST", url, "Action=CreateKey");
        req.fresh_connection = i == 2;
        rc = rdsbk_http_send(&resp, http, &req);
        if (i < 2) {
            assert_int_equal(rc, 0); /* the second: reset, then sent again by libcurl */
            assert_int_equal(resp.status, 200);
        } else {
            assert_int_equal(rc, RDSBK_EIO);
        }
        rdsbk_http_response_clean_up(&resp);
        rdsbk_http_request_clean_up(&req);
    }
    log = s_log(http);
    assert_int_equal(cJSON_GetArraySize(log), 4);
    port = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(log, 0), "peer_port"));
    assert_int_equal(
        (int)cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(log, 1), "peer_port")),
        port);
    assert_int_not_equal(
        (int)cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(log, 3), "peer_port")),
        (int)cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(log, 2), "peer_port")));
    cJSON_Delete(log);
    rdsbk_http_free(http);
}

/* X-Amz-Date of a logged request, as seconds since the epoch. */
static time_t s_amz_time(const cJSON *entry) {
    const char *v = s_logged_header(entry, "X-Amz-Date");
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    assert_non_null(v);
    assert_int_equal(sscanf(v, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec),
                     6);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

/*
 * A refusal for clock skew, dated 10 minutes ahead of the local clock, is sent again at once
 * signed 10 minutes later, and so is every later request; the same refusal dated now is a wrong
 * signature, tried once; dated now while the offset is set, it takes the offset back.
 */
static void test_clock_skew_is_corrected(void **state) {
#define S_REFUSAL                                                                                  \
    "\"body\":\"<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>"       \
    "<Message>Signature expired</Message></Error></ErrorResponse>\""
    static const struct {
        const char *script;
        int rc;
        int requests;
        long offset; /* after the call */
    } cases[] = {
        {"[{\"status\":403," S_REFUSAL "}]", RDSBK_EAUTH, 1, 0},
        {"[{\"status\":403,\"date_offset_s\":600," S_REFUSAL "},{\"status\":200}]", 0, 2, 600},
        {"[{\"status\":200}]", 0, 1, 600},
        {"[{\"status\":403," S_REFUSAL "},{\"status\":200}]", 0, 2, 0},
    };
#undef S_REFUSAL
    struct rdsbk_http *http = s_http(2000, 3, 1, 5);
    char url[128];
    struct capture cap;
    char *warnings;
    (void)state;

    s_url(url, sizeof(url), &s_plain, "/");
    s_capture_start(&cap);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rdsbk_http_request req;
        struct rdsbk_http_response resp;
        time_t before = time(NULL);
        cJSON *log;
        int rc;

        s_script(http, cases[i].script);
        s_request(&req, "POST", url, "Action=GetCallerIdentity&Version=2011-06-15");
        rc = rdsbk_aws_send(&resp, http, &req, &s_signing, "sts:GetCallerIdentity");
        assert_int_equal(rc, cases[i].rc);
        assert_true(labs(rdsbk_aws_clock_offset_s() - cases[i].offset) <= 2);
        log = s_log(http);
        assert_int_equal(cJSON_GetArraySize(log), cases[i].requests);
        /* the last attempt was signed with the offset the call ended with */
        assert_true(
            labs((long)(s_amz_time(cJSON_GetArrayItem(log, cases[i].requests - 1)) - before) -
                 cases[i].offset) <= 3);
        cJSON_Delete(log);
        rdsbk_http_response_clean_up(&resp);
        rdsbk_http_request_clean_up(&req);
    }
    warnings = s_capture_end(&cap);
    assert_non_null(strstr(warnings, "the local clock is 6"));
    assert_non_null(strstr(warnings, " s behind AWS's"));
    assert_null(strstr(strstr(warnings, "the local clock") + 1, "the local clock")); /* once */
    free(warnings);
    rdsbk_http_free(http);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scripted_failures),
        cmocka_unit_test(test_attempt_counts),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_debug_lines_leak_nothing),
        cmocka_unit_test(test_wire_details),
        cmocka_unit_test(test_body_cap_and_timeout),
        cmocka_unit_test(test_proxy_from_environment),
        cmocka_unit_test(test_tls_verification),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_connections_outlive_threads),
        cmocka_unit_test(test_fresh_connection_for_what_is_not_idempotent),
        cmocka_unit_test(test_clock_skew_is_corrected),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
