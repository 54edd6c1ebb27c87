/* Error replies of the three protocols: the botocore protocol tests (read from
 * ../shared/testdata), our own shapes, the retryable list and the code mapping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "rdsbk/aws_error.h"
#include "rdsbk/error.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PROTOCOL_DIR RDSBK_SHARED_TESTDATA "/aws-protocol-tests/output"

static void s_response(struct rdsbk_http_response *resp, long status, const char *const *headers,
                       const char *body) {
    memset(resp, 0, sizeof(*resp));
    resp->status = status;
    for (size_t i = 0; headers && headers[i]; i += 2) {
        resp->headers = realloc(resp->headers, (resp->n_headers + 1) * sizeof(*resp->headers));
        resp->headers[resp->n_headers].name = strdup(headers[i]);
        resp->headers[resp->n_headers].value = strdup(headers[i + 1]);
        resp->n_headers++;
    }
    if (body)
        assert_int_equal(rdsbk_buf_adds(&resp->body, body), 0);
}

static char *s_read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    char *data;
    long len;

    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc((size_t)len + 1);
    if (fread(data, 1, (size_t)len, f) != (size_t)len)
        len = 0;
    data[len] = '\0';
    fclose(f);
    return data;
}

/* Every case with an errorCode in output/{json,query,rest-json}.json. */
static void test_protocol_suite(void **state) {
    static const char *const files[] = {"json.json", "query.json", "rest-json.json"};
    struct stat st;
    int n = 0;
    (void)state;

    if (stat(PROTOCOL_DIR, &st) != 0) {
        print_message("SKIP: %s is absent; the protocol error cases were not run\n", PROTOCOL_DIR);
        skip();
    }
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        char path[1024];
        char *text;
        cJSON *root;
        const cJSON *suite;
        snprintf(path, sizeof(path), "%s/%s", PROTOCOL_DIR, files[f]);
        text = s_read_file(path);
        assert_non_null(text);
        root = cJSON_Parse(text);
        assert_non_null(root);
        cJSON_ArrayForEach(suite, root) {
            const cJSON *c;
            cJSON_ArrayForEach(c, cJSON_GetObjectItem(suite, "cases")) {
                const cJSON *code = cJSON_GetObjectItem(c, "errorCode");
                const cJSON *message = cJSON_GetObjectItem(c, "errorMessage");
                const cJSON *r = cJSON_GetObjectItem(c, "response");
                const cJSON *h;
                const cJSON *body = cJSON_GetObjectItem(r, "body");
                struct rdsbk_http_response resp = {0};
                struct rdsbk_aws_error err;
                if (!cJSON_IsString(code))
                    continue;
                resp.status = (long)cJSON_GetObjectItem(r, "status_code")->valuedouble;
                cJSON_ArrayForEach(h, cJSON_GetObjectItem(r, "headers")) {
                    resp.headers =
                        realloc(resp.headers, (resp.n_headers + 1) * sizeof(*resp.headers));
                    resp.headers[resp.n_headers].name = strdup(h->string);
                    resp.headers[resp.n_headers].value = strdup(h->valuestring);
                    resp.n_headers++;
                }
                if (cJSON_IsString(body))
                    assert_int_equal(rdsbk_buf_adds(&resp.body, body->valuestring), 0);
                assert_int_equal(rdsbk_aws_error_parse(&err, &resp), 0);
                if (!err.code || strcmp(err.code, code->valuestring) != 0)
                    fail_msg("%s %s: code %s, expected %s", files[f],
                             cJSON_GetObjectItem(c, "id")->valuestring,
                             err.code ? err.code : "(null)", code->valuestring);
                if (cJSON_IsString(message) &&
                    (!err.message || strcmp(err.message, message->valuestring) != 0))
                    fail_msg("%s %s: message %s, expected %s", files[f],
                             cJSON_GetObjectItem(c, "id")->valuestring,
                             err.message ? err.message : "(null)", message->valuestring);
                assert_int_equal(err.status, resp.status);
                n++;
                rdsbk_aws_error_clean_up(&err);
                rdsbk_http_response_clean_up(&resp);
            }
        }
        cJSON_Delete(root);
        free(text);
    }
    print_message("aws-protocol-tests: %d error cases passed\n", n);
    assert_true(n >= 27);
}

static const struct {
    const char *name;
    long status;
    const char *headers[7];
    const char *body;
    const char *code;
    const char *message;
    const char *request_id;
} s_cases[] = {
    {"query (IAM)",
     409,
     {"Content-Type", "text/xml", NULL},
     "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</"
     "Type><Code>EntityAlreadyExists</Code><Message>Role with name r already exists.</Message>"
     "</Error><RequestId>4a1b-iam</RequestId></ErrorResponse>",
     "EntityAlreadyExists",
     "Role with name r already exists.",
     "4a1b-iam"},
    {"EC2 shape",
     503,
     {NULL},
     "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>RequestLimitExceeded"
     "</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>ec2-req</"
     "RequestID></Response>",
     "RequestLimitExceeded",
     "Request limit exceeded.",
     "ec2-req"},
    {"header request id wins",
     400,
     {"x-amzn-RequestId", "hdr-id", NULL},
     "<ErrorResponse><Error><Code>ValidationError</Code><Message>bad</Message></Error><RequestId>"
     "body-id</RequestId></ErrorResponse>",
     "ValidationError",
     "bad",
     "hdr-id"},
    {"awsJson1.1 (KMS)",
     400,
     {"x-amzn-RequestId", "kms-1", "Content-Type", "application/x-amz-json-1.1", NULL},
     "{\"__type\":\"com.amazonaws.kms#NotFoundException\",\"message\":\"Alias is not found.\"}",
     "NotFoundException",
     "Alias is not found.",
     "kms-1"},
    {"restJson1 (Lambda)",
     404,
     {"X-Amzn-ErrorType", "ResourceNotFoundException:http://internal.amazon.com/",
      "x-amz-request-id", "lam-1", NULL},
     "{\"Type\":\"User\",\"Message\":\"Function not found: arn:aws:lambda:x\"}",
     "ResourceNotFoundException",
     "Function not found: arn:aws:lambda:x",
     "lam-1"},
    {"throttling JSON",
     400,
     {NULL},
     "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}",
     "ThrottlingException",
     "Rate exceeded",
     NULL},
    {"restXml (S3): a bare <Error>, the header's id first",
     412,
     {"x-amz-request-id", "s3-hdr", NULL},
     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>PreconditionFailed</Code>"
     "<Message>At least one of the pre-conditions you specified did not hold</Message>"
     "<Condition>If-None-Match</Condition><RequestId>s3-body</RequestId>"
     "<HostId>h</HostId></Error>",
     "PreconditionFailed",
     "At least one of the pre-conditions you specified did not hold",
     "s3-hdr"},
    {"restXml (S3): the body's id without the header",
     404,
     {NULL},
     "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>"
     "<Key>a/b</Key><RequestId>s3-body</RequestId></Error>",
     "NoSuchKey",
     "The specified key does not exist.",
     "s3-body"},
    {"restXml (S3): HEAD, no body",
     404,
     {"x-amz-request-id", "s3-head", NULL},
     "",
     "HTTP 404",
     NULL,
     "s3-head"},
    {"empty body", 503, {NULL}, "", "HTTP 503", NULL, NULL},
    {"HTML from a proxy",
     502,
     {NULL},
     "<html><body>Bad Gateway</body></html>",
     "HTTP 502",
     NULL,
     NULL},
    {"garbage JSON", 500, {NULL}, "{\"__type\": ", "HTTP 500", NULL, NULL},
};

static void test_shapes(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(s_cases) / sizeof(s_cases[0]); i++) {
        struct rdsbk_http_response resp;
        struct rdsbk_aws_error err;
        s_response(&resp, s_cases[i].status, s_cases[i].headers, s_cases[i].body);
        assert_int_equal(rdsbk_aws_error_parse(&err, &resp), 0);
        if (strcmp(err.code, s_cases[i].code) != 0)
            fail_msg("%s: code %s", s_cases[i].name, err.code);
        if (s_cases[i].message)
            assert_string_equal(err.message, s_cases[i].message);
        else
            assert_null(err.message);
        if (s_cases[i].request_id)
            assert_string_equal(err.request_id, s_cases[i].request_id);
        else
            assert_null(err.request_id);
        rdsbk_aws_error_clean_up(&err);
        rdsbk_http_response_clean_up(&resp);
    }
}

static void test_retryable(void **state) {
    static const char *const yes[] = {"Throttling",
                                      "ThrottlingException",
                                      "ThrottledException",
                                      "RequestThrottledException",
                                      "TooManyRequestsException",
                                      "ProvisionedThroughputExceededException",
                                      "TransactionInProgressException",
                                      "RequestLimitExceeded",
                                      "BandwidthLimitExceeded",
                                      "LimitExceededException",
                                      "RequestThrottled",
                                      "SlowDown",
                                      "EC2ThrottledException",
                                      "Throttled",
                                      "PriorRequestNotComplete",
                                      "RequestTimeout",
                                      "RequestTimeoutException"};
    static const char *const no[] = {"ValidationException",       "AccessDenied",
                                     "AccessDeniedException",     "LimitExceeded",
                                     "EntityAlreadyExists",       "InvalidParameterValueException",
                                     "ResourceNotFoundException", "ExpiredToken",
                                     "ThrottlingExceptionX",      "throttling"};
    (void)state;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        if (!rdsbk_aws_error_is_retryable(400, yes[i]))
            fail_msg("%s should be retryable", yes[i]);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (rdsbk_aws_error_is_retryable(400, no[i]))
            fail_msg("%s should not be retryable", no[i]);
    assert_true(rdsbk_aws_error_is_retryable(500, "HTTP 500"));
    assert_true(rdsbk_aws_error_is_retryable(502, NULL));
    assert_true(rdsbk_aws_error_is_retryable(503, "ServiceUnavailable"));
    assert_true(rdsbk_aws_error_is_retryable(504, "HTTP 504"));
    assert_false(rdsbk_aws_error_is_retryable(501, "HTTP 501"));
    assert_false(rdsbk_aws_error_is_retryable(429, "HTTP 429"));
    assert_false(rdsbk_aws_error_is_retryable(403, "HTTP 403"));
    /* service-specific: EventBridge's LimitExceededException is a quota */
    assert_false(rdsbk_aws_error_is_retryable_for("events", 400, "LimitExceededException"));
    assert_true(rdsbk_aws_error_is_retryable_for("kms", 400, "LimitExceededException"));
    assert_true(rdsbk_aws_error_is_retryable_for("events", 400, "ThrottlingException"));
    assert_true(rdsbk_aws_error_is_retryable_for("events", 503, "LimitExceededException"));
    /* S3 (botocore's _retry.json and retries/standard.py, and the S3 guide for 409) */
    assert_true(rdsbk_aws_error_is_retryable_for("s3", 409, "ConditionalRequestConflict"));
    assert_false(rdsbk_aws_error_is_retryable_for("kms", 409, "ConditionalRequestConflict"));
    assert_true(rdsbk_aws_error_is_retryable_for("s3", 503, "SlowDown"));
    assert_true(rdsbk_aws_error_is_retryable_for("s3", 500, "InternalError"));
    assert_true(rdsbk_aws_error_is_retryable_for("s3", 400, "RequestTimeout"));
    assert_true(rdsbk_aws_error_is_retryable_for("s3", 503, "HTTP 503"));
    assert_false(rdsbk_aws_error_is_retryable_for("s3", 412, "PreconditionFailed"));
    assert_false(rdsbk_aws_error_is_retryable_for("s3", 404, "NoSuchKey"));
}

static const struct {
    long status;
    const char *code;
    int expected;
} s_map[] = {
    {400, "ThrottlingException", RDSBK_ETHROTTLED},
    {400, "Throttling", RDSBK_ETHROTTLED},
    {429, "TooManyRequestsException", RDSBK_ETHROTTLED},
    {429, "Throttled", RDSBK_ETHROTTLED}, /* SNS */
    {404, "NoSuchEntity", RDSBK_ENOTFOUND},
    {400, "ResourceNotFoundException", RDSBK_ENOTFOUND},
    {400, "NotFoundException", RDSBK_ENOTFOUND},
    {404, "DBSnapshotNotFound", RDSBK_ENOTFOUND},
    {404, "HTTP 404", RDSBK_ENOTFOUND},
    {404, "NotFound", RDSBK_ENOTFOUND},         /* SNS */
    {404, "ResourceNotFound", RDSBK_ENOTFOUND}, /* SNS's tagging calls */
    {400, "InvalidParameter", RDSBK_EINVALID},  /* SNS */
    {403, "AuthorizationError", RDSBK_EAUTH},   /* SNS */
    /* SQS (query protocol): no queue of that name or URL; the name taken with other attributes;
     * a name deleted less than 60 s ago; attribute values and names it refuses */
    {400, "AWS.SimpleQueueService.NonExistentQueue", RDSBK_ENOTFOUND},
    {400, "QueueAlreadyExists", RDSBK_ECONFLICT},
    {400, "AWS.SimpleQueueService.QueueDeletedRecently", RDSBK_EINVALID},
    {400, "InvalidAttributeValue", RDSBK_EINVALID},
    {400, "InvalidAttributeName", RDSBK_EINVALID},
    {409, "EntityAlreadyExists", RDSBK_ECONFLICT},
    {409, "ResourceConflictException", RDSBK_ECONFLICT},
    {400, "AlreadyExistsException", RDSBK_ECONFLICT},
    {400, "ResourceAlreadyExistsException", RDSBK_ECONFLICT},
    {403, "AccessDenied", RDSBK_EAUTH},
    {400, "AccessDeniedException", RDSBK_EAUTH},
    {403, "InvalidClientTokenId", RDSBK_EAUTH},
    {403, "SignatureDoesNotMatch", RDSBK_EAUTH},
    {400, "ExpiredTokenException", RDSBK_EAUTH},
    {400, "UnrecognizedClientException", RDSBK_EAUTH},
    {403, "HTTP 403", RDSBK_EAUTH},
    {400, "ValidationException", RDSBK_EINVALID},
    {400, "ValidationError", RDSBK_EINVALID},
    {400, "InvalidParameterValueException", RDSBK_EINVALID},
    {400, "MalformedPolicyDocument", RDSBK_EINVALID},
    {409, "LimitExceeded", RDSBK_ECONFLICT},
    {400, "SomethingElse", RDSBK_EINVALID},
    {404, "NoSuchKey", RDSBK_ENOTFOUND},    /* S3 */
    {404, "NoSuchBucket", RDSBK_ENOTFOUND}, /* S3 */
    {412, "PreconditionFailed", RDSBK_ECONFLICT},
    {412, "HTTP 412", RDSBK_ECONFLICT},
    {409, "ConditionalRequestConflict", RDSBK_ECONFLICT},
    {301, "PermanentRedirect", RDSBK_EINVALID}, /* S3: a bucket of another Region */
    {503, "SlowDown", RDSBK_ETHROTTLED},
    {500, "InternalFailure", RDSBK_ERROR},
    {503, "HTTP 503", RDSBK_ERROR},
};

static void test_code_mapping(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(s_map) / sizeof(s_map[0]); i++)
        if (rdsbk_aws_error_to_code(s_map[i].status, s_map[i].code) != s_map[i].expected)
            fail_msg("%ld %s -> %d, expected %d", s_map[i].status, s_map[i].code,
                     rdsbk_aws_error_to_code(s_map[i].status, s_map[i].code), s_map[i].expected);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_protocol_suite),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_retryable),
        cmocka_unit_test(test_code_mapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
