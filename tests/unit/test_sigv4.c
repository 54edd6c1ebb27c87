/* SigV4: the AWS test suite (read from ../shared/testdata), the stages alone, and the rules that
 * the suite does not cover (double encoding of encoded paths, re-signing, session tokens, S3's
 * rules). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "rdsbk/error.h"
#include "rdsbk/sigv4.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define SUITE_DIR RDSBK_SHARED_TESTDATA "/aws-sigv4-testsuite"
/* The suite's fixed inputs (its README): 2015-08-30T12:36:00Z, us-east-1, service "service". */
#define SUITE_TIME ((time_t)1440938160)

static char *s_read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    long len;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        len = ftell(f);
        if (len >= 0 && fseek(f, 0, SEEK_SET) == 0) {
            data = malloc((size_t)len + 1);
            if (data && fread(data, 1, (size_t)len, f) != (size_t)len) {
                free(data);
                data = NULL;
            } else if (data) {
                data[len] = '\0';
            }
        }
    }
    fclose(f);
    return data;
}

/* Parses a suite .req file: request line, headers (a line starting with white space continues the
 * previous value, joined with '\n'), blank line, body. The URL keeps the path exactly as written.
 */
static void s_parse_req(struct rdsbk_http_request *req, char **token_out, const char *text) {
    const char *p = text;
    const char *eol = strchr(p, '\n');
    const char *sp1;
    const char *sp2;
    char *line;
    char host[256] = "";
    char *path;
    size_t url_len;

    memset(req, 0, sizeof(*req));
    *token_out = NULL;
    assert_non_null(eol);
    line = strndup(p, (size_t)(eol - p));
    sp1 = strchr(line, ' ');
    sp2 = strrchr(line, ' ');
    assert_non_null(sp1);
    assert_true(sp2 > sp1);
    req->method = strndup(line, (size_t)(sp1 - line));
    path = strndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
    free(line);
    p = eol + 1;

    while (*p && *p != '\n') {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if ((*p == ' ' || *p == '\t') && req->n_headers > 0) {
            struct rdsbk_header *h = &req->headers[req->n_headers - 1];
            size_t old = strlen(h->value);
            h->value = realloc(h->value, old + len + 2);
            h->value[old] = '\n';
            memcpy(h->value + old + 1, p, len);
            h->value[old + 1 + len] = '\0';
        } else {
            const char *colon = memchr(p, ':', len);
            char *name;
            char *value;
            assert_non_null(colon);
            name = strndup(p, (size_t)(colon - p));
            value = strndup(colon + 1, len - (size_t)(colon + 1 - p));
            assert_int_equal(rdsbk_http_request_add_header(req, name, value), 0);
            if (strcasecmp(name, "Host") == 0)
                snprintf(host, sizeof(host), "%s", value);
            if (strcasecmp(name, "X-Amz-Security-Token") == 0)
                *token_out = strdup(value);
            free(name);
            free(value);
        }
        p = end ? end + 1 : p + len;
    }
    if (*p == '\n') {
        p++;
        req->body_len = strlen(p);
        req->body = (unsigned char *)strdup(p);
    }
    url_len = strlen(host) + strlen(path) + 16;
    req->url = malloc(url_len);
    snprintf(req->url, url_len, "https://%s%s", host, path);
    free(path);
}

static void s_strip_trailing_newlines(char *s) {
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

static int s_cases_run;

/* <dir>/<name>.<ext>, read whole; NULL when unreadable. */
static char *s_read_case_file(const char *dir, const char *name, const char *ext) {
    struct rdsbk_buf path = RDSBK_BUF_INIT;
    char *text;

    assert_int_equal(rdsbk_buf_printf(&path, "%s/%s.%s", dir, name, ext), 0);
    text = s_read_file(path.ptr);
    rdsbk_buf_clean_up(&path);
    return text;
}

static void s_run_case(const char *dir, const char *name) {
    char *req_text;
    char *creq;
    char *sts;
    char *authz;
    char *token = NULL;
    struct rdsbk_http_request req;
    struct rdsbk_credentials creds = {0};
    struct rdsbk_buf my_creq = RDSBK_BUF_INIT;
    struct rdsbk_buf my_sts = RDSBK_BUF_INIT;
    const char *tok_line;

    req_text = s_read_case_file(dir, name, "req");
    creq = s_read_case_file(dir, name, "creq");
    sts = s_read_case_file(dir, name, "sts");
    authz = s_read_case_file(dir, name, "authz");
    assert_non_null(req_text);
    assert_non_null(creq);
    assert_non_null(sts);
    assert_non_null(authz);
    s_strip_trailing_newlines(creq);
    s_strip_trailing_newlines(sts);
    s_strip_trailing_newlines(authz);

    s_parse_req(&req, &token, req_text);
    /* get-vanilla-with-session-token gives its token only in the expected canonical request */
    tok_line = strstr(creq, "\nx-amz-security-token:");
    if (!token && tok_line) {
        const char *v = tok_line + strlen("\nx-amz-security-token:");
        token = strndup(v, strcspn(v, "\n"));
    }
    creds.access_key_id = strdup("AKIDEXAMPLE");
    creds.secret_access_key = strdup("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    creds.session_token = token;

    if (rdsbk_sigv4_sign(&req, &creds, "us-east-1", "service", SUITE_TIME) != 0)
        fail_msg("%s: sign: %s", name, rdsbk_error_last()->message);
    assert_int_equal(rdsbk_sigv4_canonical_request(&my_creq, NULL, &req), 0);
    if (strcmp(my_creq.ptr, creq) != 0) {
        print_error("case %s\n--- expected creq\n%s\n--- got\n%s\n", name, creq, my_creq.ptr);
        fail();
    }
    assert_int_equal(rdsbk_sigv4_string_to_sign(&my_sts, "20150830T123600Z",
                                                "20150830/us-east-1/service/aws4_request",
                                                my_creq.ptr),
                     0);
    if (strcmp(my_sts.ptr, sts) != 0) {
        print_error("case %s\n--- expected sts\n%s\n--- got\n%s\n", name, sts, my_sts.ptr);
        fail();
    }
    if (strcmp(rdsbk_http_request_header(&req, "Authorization"), authz) != 0) {
        print_error("case %s\n--- expected authz\n%s\n--- got\n%s\n", name, authz,
                    rdsbk_http_request_header(&req, "Authorization"));
        fail();
    }
    s_cases_run++;

    rdsbk_credentials_clean_up(&creds);
    rdsbk_http_request_clean_up(&req);
    rdsbk_buf_clean_up(&my_creq);
    rdsbk_buf_clean_up(&my_sts);
    free(req_text);
    free(creq);
    free(sts);
    free(authz);
}

/* A directory holding <its name>.req is a case; any other directory is walked. */
static void s_walk(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        names = realloc(names, (n + 1) * sizeof(*names));
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    for (size_t i = 0; i < n; i++) {
        char sub[4096];
        char req[4200];
        struct stat st;
        snprintf(sub, sizeof(sub), "%s/%s", dir, names[i]);
        if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
            snprintf(req, sizeof(req), "%s/%s.req", sub, names[i]);
            if (stat(req, &st) == 0)
                s_run_case(sub, names[i]);
            else
                s_walk(sub);
        }
        free(names[i]);
    }
    free(names);
}

static void test_aws_suite(void **state) {
    struct stat st;
    (void)state;
    if (stat(SUITE_DIR, &st) != 0) {
        print_message("SKIP: %s is absent; the AWS SigV4 test suite was not run\n", SUITE_DIR);
        skip();
    }
    s_cases_run = 0;
    s_walk(SUITE_DIR);
    print_message("aws-sigv4-testsuite: %d cases passed\n", s_cases_run);
    /* the suite as shipped has 34 cases (some nested); fewer means the walk missed some */
    assert_true(s_cases_run >= 34);
}

/* The example of the AWS documentation ("Examples of how to derive a signing key"). */
static void test_signing_key(void **state) {
    unsigned char key[32];
    char hex[65];
    (void)state;
    assert_int_equal(rdsbk_sigv4_signing_key(key, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                             "20120215", "us-east-1", "iam"),
                     0);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    assert_string_equal(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

static void test_signature_stage(void **state) {
    unsigned char key[32];
    char sig[65];
    (void)state;
    /* get-vanilla: key for 20150830/us-east-1/service and its string to sign */
    assert_int_equal(rdsbk_sigv4_signing_key(key, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                             "20150830", "us-east-1", "service"),
                     0);
    assert_int_equal(rdsbk_sigv4_signature(sig, key,
                                           "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-"
                                           "1/service/aws4_request\nbb579772317eb040ac9ed261061d46c"
                                           "1f17a8133879d6129b6e1c25292927e63"),
                     0);
    assert_string_equal(sig, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

static const struct {
    const char *name;
    const char *url;
    const char *canonical_uri;
    const char *canonical_query;
} s_uri_cases[] = {
    {"empty path", "https://h.example", "/", ""},
    {"root", "https://h.example/", "/", ""},
    {"encoded path is encoded twice", "https://h.example/a%20b/c%2Fd", "/a%2520b/c%252Fd", ""},
    {"reserved characters", "https://h.example/$x:y@z!*'()", "/%24x%3Ay%40z%21%2A%27%28%29", ""},
    {"dot segments", "https://h.example/a/./b/../c/", "/a/c/", ""},
    {"dot-dot above the root", "https://h.example/../../a", "/a", ""},
    {"duplicate slashes", "https://h.example//a///b", "/a/b", ""},
    {"lambda path", "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/f%3Aprod/policy",
     "/2015-03-31/functions/f%253Aprod/policy", ""},
    {"query sorted by key then value", "https://h.example/?b=2&a=2&a=1&A=3", "/",
     "A=3&a=1&a=2&b=2"},
    {"query empty key and value", "https://h.example/?x&y=&=z", "/", "=z&x=&y="},
    {"query re-encoded canonically", "https://h.example/?k%7e=%2a%41+ &s=%2f", "/",
     "k~=%2AA%2B%20&s=%2F"},
    {"query sorted by encoded key", "https://h.example/?a%20b=1&a-b=2&a.b=3&a_b=4&a~b=5", "/",
     "a%20b=1&a-b=2&a.b=3&a_b=4&a~b=5"},
    {"fragment ignored", "https://h.example/p?q=1#frag", "/p", "q=1"},
};

static void test_canonical_uri_and_query(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(s_uri_cases) / sizeof(s_uri_cases[0]); i++) {
        struct rdsbk_http_request req = {0};
        struct rdsbk_buf out = RDSBK_BUF_INIT;
        char expected[1024];
        req.method = strdup("GET");
        req.url = strdup(s_uri_cases[i].url);
        assert_int_equal(rdsbk_http_request_add_header(&req, "Host", "h.example"), 0);
        assert_int_equal(rdsbk_sigv4_canonical_request(&out, NULL, &req), 0);
        snprintf(expected, sizeof(expected), "GET\n%s\n%s\nhost:h.example\n\nhost\n",
                 s_uri_cases[i].canonical_uri, s_uri_cases[i].canonical_query);
        if (strncmp(out.ptr, expected, strlen(expected)) != 0)
            fail_msg("%s: expected\n%s\ngot\n%s", s_uri_cases[i].name, expected, out.ptr);
        rdsbk_buf_clean_up(&out);
        rdsbk_http_request_clean_up(&req);
    }
}

static size_t s_count_headers(const struct rdsbk_http_request *req, const char *name) {
    size_t n = 0;
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            n++;
    return n;
}

/* Signing twice (a retry) replaces the signing headers; a token is added and signed; Host gets
 * the non-default port; User-Agent is not signed; x-amz-content-sha256 is not added. */
static void test_sign_again_and_token(void **state) {
    struct rdsbk_http_request req = {0};
    struct rdsbk_credentials creds = {0};
    const char *authz;
    (void)state;
    req.method = strdup("POST");
    req.url = strdup("http://127.0.0.1:8443/");
    req.body = (unsigned char *)strdup("Action=GetCallerIdentity&Version=2011-06-15");
    req.body_len = strlen((char *)req.body);
    assert_int_equal(
        rdsbk_http_request_add_header(&req, "Content-Type", "application/x-www-form-urlencoded"),
        0);
    assert_int_equal(rdsbk_http_request_add_header(&req, "User-Agent", "x/1"), 0);
    creds.access_key_id = strdup("AKIDEXAMPLE");
    creds.secret_access_key = strdup("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    creds.session_token = strdup("TOKEN1");
    assert_int_equal(rdsbk_sigv4_sign(&req, &creds, "eu-west-1", "sts", SUITE_TIME), 0);
    assert_int_equal(rdsbk_sigv4_sign(&req, &creds, "eu-west-1", "sts", SUITE_TIME + 3600), 0);
    assert_int_equal(s_count_headers(&req, "Authorization"), 1);
    assert_int_equal(s_count_headers(&req, "X-Amz-Date"), 1);
    assert_int_equal(s_count_headers(&req, "X-Amz-Security-Token"), 1);
    assert_int_equal(s_count_headers(&req, "Host"), 1);
    assert_int_equal(s_count_headers(&req, "X-Amz-Content-Sha256"), 0);
    assert_string_equal(rdsbk_http_request_header(&req, "Host"), "127.0.0.1:8443");
    assert_string_equal(rdsbk_http_request_header(&req, "X-Amz-Date"), "20150830T133600Z");
    assert_string_equal(rdsbk_http_request_header(&req, "X-Amz-Security-Token"), "TOKEN1");
    authz = rdsbk_http_request_header(&req, "Authorization");
    assert_non_null(strstr(authz, "Credential=AKIDEXAMPLE/20150830/eu-west-1/sts/aws4_request, "
                                  "SignedHeaders=content-type;host;x-amz-date;x-amz-security-"
                                  "token, Signature="));
    assert_null(strstr(authz, "wJalr"));
    rdsbk_credentials_clean_up(&creds);

    /* without a token the old token header goes away */
    creds.access_key_id = strdup("AKIDEXAMPLE");
    creds.secret_access_key = strdup("secret");
    assert_int_equal(rdsbk_sigv4_sign(&req, &creds, "eu-west-1", "sts", SUITE_TIME), 0);
    assert_int_equal(s_count_headers(&req, "X-Amz-Security-Token"), 0);
    assert_non_null(strstr(rdsbk_http_request_header(&req, "Authorization"),
                           "SignedHeaders=content-type;host;x-amz-date, "));
    rdsbk_credentials_clean_up(&creds);
    rdsbk_http_request_clean_up(&req);
}

/* S3's example of the S3 API Reference ("Signature Calculations for the Authorization Header:
 * Transferring Payload in a Single Chunk", GET Object); botocore 1.29's S3SigV4Auth gives the
 * same signature. */
static void test_s3_example(void **state) {
    struct rdsbk_http_request req = {0};
    struct rdsbk_credentials creds = {0};
    (void)state;
    req.method = strdup("GET");
    req.url = strdup("https://examplebucket.s3.amazonaws.com/test.txt");
    assert_int_equal(rdsbk_http_request_add_header(&req, "Range", "bytes=0-9"), 0);
    creds.access_key_id = strdup("AKIAIOSFODNN7EXAMPLE");
    creds.secret_access_key = strdup("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    /* 2013-05-24T00:00:00Z */
    assert_int_equal(rdsbk_sigv4_sign(&req, &creds, "us-east-1", "s3", (time_t)1369353600), 0);
    assert_string_equal(rdsbk_http_request_header(&req, "X-Amz-Content-SHA256"),
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_string_equal(
        rdsbk_http_request_header(&req, "Authorization"),
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
        "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    rdsbk_credentials_clean_up(&creds);
    rdsbk_http_request_clean_up(&req);
}

/* S3's canonical URI is the path as sent: no normalisation, no second encoding. */
static const struct {
    const char *url;
    const char *canonical_uri;
} s_s3_uri_cases[] = {
    {"https://b.s3.amazonaws.com", "/"},
    {"https://b.s3.amazonaws.com/", "/"},
    {"https://b.s3.amazonaws.com/with%20space/%E6%97%A5.json", "/with%20space/%E6%97%A5.json"},
    {"https://s3.amazonaws.com/b/a/./b/../c//d/", "/b/a/./b/../c//d/"},
    {"https://s3.amazonaws.com/b/%2E/%2E%2E/k", "/b/%2E/%2E%2E/k"},
};

static void test_s3_canonical_request(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(s_s3_uri_cases) / sizeof(s_s3_uri_cases[0]); i++) {
        struct rdsbk_http_request req = {0};
        struct rdsbk_buf out = RDSBK_BUF_INIT;
        char expected[512];
        req.method = strdup("PUT");
        req.url = strdup(s_s3_uri_cases[i].url);
        assert_int_equal(rdsbk_http_request_add_header(&req, "Host", "h"), 0);
        /* the payload line is the hash sent, whatever the body */
        assert_int_equal(rdsbk_http_request_add_header(&req, "x-amz-content-sha256", "abc"), 0);
        assert_int_equal(rdsbk_sigv4_canonical_request_s3(&out, NULL, &req), 0);
        snprintf(expected, sizeof(expected),
                 "PUT\n%s\n\nhost:h\nx-amz-content-sha256:abc\n\nhost;x-amz-content-sha256\nabc",
                 s_s3_uri_cases[i].canonical_uri);
        assert_string_equal(rdsbk_buf_cstr(&out), expected);
        rdsbk_buf_clean_up(&out);
        rdsbk_http_request_clean_up(&req);
    }
}

/* Signing for "s3" sets X-Amz-Content-SHA256 to the body's hash, replacing what was there (a
 * stale hash, UNSIGNED-PAYLOAD), once however often it is signed; other services get none. */
static void test_s3_payload_hash(void **state) {
    struct rdsbk_http_request req = {0};
    struct rdsbk_credentials creds = {0};
    (void)state;
    req.method = strdup("PUT");
    req.url = strdup("http://127.0.0.1:4566/b/k");
    req.body = (unsigned char *)strdup("hello");
    req.body_len = 5;
    assert_int_equal(
        rdsbk_http_request_add_header(&req, "X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD"), 0);
    creds.access_key_id = strdup("AKID");
    creds.secret_access_key = strdup("secret");
    assert_int_equal(rdsbk_sigv4_sign(&req, &creds, "eu-west-1", "s3", SUITE_TIME), 0);
    assert_int_equal(rdsbk_sigv4_sign(&req, &creds, "eu-west-1", "s3", SUITE_TIME + 60), 0);
    assert_int_equal(s_count_headers(&req, "X-Amz-Content-SHA256"), 1);
    assert_string_equal(rdsbk_http_request_header(&req, "X-Amz-Content-SHA256"),
                        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    assert_non_null(strstr(rdsbk_http_request_header(&req, "Authorization"),
                           "/eu-west-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;"
                           "x-amz-date, "));
    rdsbk_http_request_clean_up(&req);

    req.method = strdup("PUT");
    req.url = strdup("http://127.0.0.1:4566/b/k");
    assert_int_equal(rdsbk_sigv4_sign(&req, &creds, "eu-west-1", "lambda", SUITE_TIME), 0);
    assert_int_equal(s_count_headers(&req, "X-Amz-Content-SHA256"), 0);
    rdsbk_credentials_clean_up(&creds);
    rdsbk_http_request_clean_up(&req);
}

static void test_sign_errors(void **state) {
    struct rdsbk_http_request req = {0};
    struct rdsbk_credentials creds = {0};
    (void)state;
    req.method = strdup("GET");
    req.url = strdup("not a url");
    assert_int_equal(rdsbk_sigv4_sign(&req, &creds, "us-east-1", "sts", SUITE_TIME), RDSBK_EAUTH);
    creds.access_key_id = strdup("AKID");
    creds.secret_access_key = strdup("secret");
    assert_int_equal(rdsbk_sigv4_sign(&req, &creds, "us-east-1", "sts", SUITE_TIME),
                     RDSBK_EINVALID);
    assert_int_equal(rdsbk_sigv4_sign(&req, &creds, "", "sts", SUITE_TIME), RDSBK_EINVALID);
    assert_int_equal(s_count_headers(&req, "Authorization"), 0);
    rdsbk_credentials_clean_up(&creds);
    rdsbk_http_request_clean_up(&req);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aws_suite),
        cmocka_unit_test(test_signing_key),
        cmocka_unit_test(test_signature_stage),
        cmocka_unit_test(test_canonical_uri_and_query),
        cmocka_unit_test(test_sign_again_and_token),
        cmocka_unit_test(test_s3_example),
        cmocka_unit_test(test_s3_canonical_request),
        cmocka_unit_test(test_s3_payload_hash),
        cmocka_unit_test(test_sign_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
