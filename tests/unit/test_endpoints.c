/* Endpoints: partition defaults, the override precedence, the https/loopback rule, and S3's
 * addressing (virtual-hosted or path-style). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "rdsbk/config.h"
#include "rdsbk/endpoints.h"
#include "rdsbk/error.h"

#include <stdlib.h>
#include <string.h>

static const char *const s_env[] = {"AWS_ENDPOINT_URL",
                                    "AWS_ENDPOINT_URL_STS",
                                    "AWS_ENDPOINT_URL_IAM",
                                    "AWS_ENDPOINT_URL_KMS",
                                    "AWS_ENDPOINT_URL_EVENTBRIDGE",
                                    "AWS_ENDPOINT_URL_LAMBDA",
                                    "AWS_ENDPOINT_URL_RDS",
                                    "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
                                    "AWS_ENDPOINT_URL_SNS",
                                    "AWS_ENDPOINT_URL_SQS",
                                    "AWS_ENDPOINT_URL_S3",
                                    "AWS_ENDPOINT_URL_CLOUDFORMATION",
                                    "AWS_ENDPOINT_URL_ORGANIZATIONS",
                                    "AWS_S3_FORCE_PATH_STYLE"};

static int s_clear_env(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(s_env) / sizeof(s_env[0]); i++)
        unsetenv(s_env[i]);
    return 0;
}

static void s_expect(const struct rdsbk_endpoints *topo, const char *service, const char *region,
                     const char *url, const char *signing_region) {
    char *got = NULL;
    const char *sr = NULL;
    if (rdsbk_endpoint_resolve(&got, &sr, topo, service, region) != 0)
        fail_msg("%s %s: %s", service, region, rdsbk_error_last()->message);
    if (strcmp(got, url) != 0)
        fail_msg("%s %s: url %s, expected %s", service, region, got, url);
    assert_string_equal(sr, signing_region);
    free(got);
}

static void test_partitions(void **state) {
    (void)state;
    assert_string_equal(rdsbk_partition_of_region("eu-west-1"), "aws");
    assert_string_equal(rdsbk_partition_of_region("us-east-1"), "aws");
    assert_string_equal(rdsbk_partition_of_region("cn-north-1"), "aws-cn");
    assert_string_equal(rdsbk_partition_of_region("cn-northwest-1"), "aws-cn");
    assert_string_equal(rdsbk_partition_of_region("us-gov-west-1"), "aws-us-gov");
    assert_string_equal(rdsbk_partition_of_region("us-gov-east-1"), "aws-us-gov");
}

static void test_defaults(void **state) {
    (void)state;
    s_expect(NULL, "sts", "eu-west-1", "https://sts.eu-west-1.amazonaws.com", "eu-west-1");
    s_expect(NULL, "kms", "eu-central-1", "https://kms.eu-central-1.amazonaws.com", "eu-central-1");
    s_expect(NULL, "events", "us-west-2", "https://events.us-west-2.amazonaws.com", "us-west-2");
    s_expect(NULL, "lambda", "ap-south-1", "https://lambda.ap-south-1.amazonaws.com", "ap-south-1");
    s_expect(NULL, "rds", "eu-west-3", "https://rds.eu-west-3.amazonaws.com", "eu-west-3");
    s_expect(NULL, "logs", "eu-west-2", "https://logs.eu-west-2.amazonaws.com", "eu-west-2");
    s_expect(NULL, "sns", "eu-west-1", "https://sns.eu-west-1.amazonaws.com", "eu-west-1");
    s_expect(NULL, "sqs", "eu-west-1", "https://sqs.eu-west-1.amazonaws.com", "eu-west-1");
    s_expect(NULL, "sqs", "cn-north-1", "https://sqs.cn-north-1.amazonaws.com.cn", "cn-north-1");
    s_expect(NULL, "iam", "eu-west-1", "https://iam.amazonaws.com", "us-east-1");
    /* S3 is regional everywhere, us-east-1 included */
    s_expect(NULL, "s3", "eu-west-1", "https://s3.eu-west-1.amazonaws.com", "eu-west-1");
    s_expect(NULL, "s3", "us-east-1", "https://s3.us-east-1.amazonaws.com", "us-east-1");
    s_expect(NULL, "s3", "cn-north-1", "https://s3.cn-north-1.amazonaws.com.cn", "cn-north-1");
    /* China */
    s_expect(NULL, "sts", "cn-northwest-1", "https://sts.cn-northwest-1.amazonaws.com.cn",
             "cn-northwest-1");
    s_expect(NULL, "lambda", "cn-north-1", "https://lambda.cn-north-1.amazonaws.com.cn",
             "cn-north-1");
    s_expect(NULL, "iam", "cn-northwest-1", "https://iam.cn-north-1.amazonaws.com.cn",
             "cn-north-1");
    /* GovCloud */
    s_expect(NULL, "sts", "us-gov-east-1", "https://sts.us-gov-east-1.amazonaws.com",
             "us-gov-east-1");
    s_expect(NULL, "iam", "us-gov-east-1", "https://iam.us-gov.amazonaws.com", "us-gov-west-1");
}

/* CloudFormation is regional; Organizations global, one endpoint per partition signed for its
 * home Region; both follow the environment and the topology like the others. */
static void test_stacksets_and_organizations(void **state) {
    struct rdsbk_endpoints topo = {0};
    (void)state;

    s_expect(NULL, "cloudformation", "eu-west-1", "https://cloudformation.eu-west-1.amazonaws.com",
             "eu-west-1");
    s_expect(NULL, "organizations", "eu-west-1", "https://organizations.us-east-1.amazonaws.com",
             "us-east-1");
    s_expect(NULL, "organizations", "cn-north-1",
             "https://organizations.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1");
    s_expect(NULL, "organizations", "us-gov-east-1",
             "https://organizations.us-gov-west-1.amazonaws.com", "us-gov-west-1");
    setenv("AWS_ENDPOINT_URL_CLOUDFORMATION", "http://127.0.0.1:14", 1);
    setenv("AWS_ENDPOINT_URL_ORGANIZATIONS", "http://127.0.0.1:15", 1);
    s_expect(NULL, "cloudformation", "eu-west-1", "http://127.0.0.1:14", "eu-west-1");
    s_expect(NULL, "organizations", "eu-west-1", "http://127.0.0.1:15", "us-east-1");
    topo.cloudformation = "http://127.0.0.1:16";
    topo.organizations = "http://127.0.0.1:17";
    s_expect(&topo, "cloudformation", "eu-west-1", "http://127.0.0.1:16", "eu-west-1");
    s_expect(&topo, "organizations", "eu-west-1", "http://127.0.0.1:17", "us-east-1");
    s_clear_env(NULL);
}

static void test_precedence(void **state) {
    struct rdsbk_endpoints topo = {0};
    (void)state;

    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4000", 1);
    s_expect(NULL, "kms", "eu-west-1", "http://127.0.0.1:4000", "eu-west-1");
    s_expect(NULL, "iam", "eu-west-1", "http://127.0.0.1:4000", "us-east-1");

    setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", "http://127.0.0.1:4001/", 1);
    s_expect(NULL, "events", "eu-west-1", "http://127.0.0.1:4001", "eu-west-1");
    s_expect(NULL, "kms", "eu-west-1", "http://127.0.0.1:4000", "eu-west-1");

    topo.default_url = "http://localhost:5000";
    s_expect(&topo, "events", "eu-west-1", "http://localhost:5000", "eu-west-1");
    s_expect(&topo, "kms", "eu-west-1", "http://localhost:5000", "eu-west-1");

    topo.kms = "https://kms.example.test:8443/";
    s_expect(&topo, "kms", "eu-west-1", "https://kms.example.test:8443", "eu-west-1");
    s_expect(&topo, "lambda", "eu-west-1", "http://localhost:5000", "eu-west-1");

    /* empty values do not count */
    topo.default_url = "";
    topo.kms = NULL;
    s_expect(&topo, "events", "eu-west-1", "http://127.0.0.1:4001", "eu-west-1");
    setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", "", 1);
    s_expect(&topo, "events", "eu-west-1", "http://127.0.0.1:4000", "eu-west-1");

    /* per-service env names */
    setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1", 1);
    setenv("AWS_ENDPOINT_URL_IAM", "http://127.0.0.1:2", 1);
    setenv("AWS_ENDPOINT_URL_KMS", "http://127.0.0.1:3", 1);
    setenv("AWS_ENDPOINT_URL_LAMBDA", "http://127.0.0.1:5", 1);
    setenv("AWS_ENDPOINT_URL_RDS", "http://127.0.0.1:6", 1);
    setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "http://127.0.0.1:8", 1);
    s_expect(NULL, "sts", "eu-west-1", "http://127.0.0.1:1", "eu-west-1");
    s_expect(NULL, "iam", "eu-west-1", "http://127.0.0.1:2", "us-east-1");
    s_expect(NULL, "kms", "eu-west-1", "http://127.0.0.1:3", "eu-west-1");
    s_expect(NULL, "lambda", "eu-west-1", "http://127.0.0.1:5", "eu-west-1");
    s_expect(NULL, "rds", "eu-west-1", "http://127.0.0.1:6", "eu-west-1");
    s_expect(NULL, "logs", "eu-west-1", "http://127.0.0.1:8", "eu-west-1");
    topo.logs = "http://127.0.0.1:9";
    s_expect(&topo, "logs", "eu-west-1", "http://127.0.0.1:9", "eu-west-1");
    topo.logs = NULL;
    setenv("AWS_ENDPOINT_URL_SNS", "http://127.0.0.1:10", 1);
    s_expect(NULL, "sns", "eu-west-1", "http://127.0.0.1:10", "eu-west-1");
    topo.sns = "http://127.0.0.1:11";
    s_expect(&topo, "sns", "eu-west-1", "http://127.0.0.1:11", "eu-west-1");
    topo.sns = NULL;
    setenv("AWS_ENDPOINT_URL_S3", "http://s3.localhost:12", 1);
    s_expect(NULL, "s3", "eu-west-1", "http://s3.localhost:12", "eu-west-1");
    topo.s3 = "http://127.0.0.1:13";
    s_expect(&topo, "s3", "eu-west-1", "http://127.0.0.1:13", "eu-west-1");
    topo.s3 = NULL;
    setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:12", 1);
    s_expect(NULL, "sqs", "eu-west-1", "http://127.0.0.1:12", "eu-west-1");
    topo.sqs = "http://127.0.0.1:13";
    s_expect(&topo, "sqs", "eu-west-1", "http://127.0.0.1:13", "eu-west-1");
    topo.sqs = NULL;

    /* the SDKs' switch for the environment's endpoints; the topology still applies */
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
    s_expect(NULL, "rds", "eu-west-1", "https://rds.eu-west-1.amazonaws.com", "eu-west-1");
    s_expect(NULL, "iam", "eu-west-1", "https://iam.amazonaws.com", "us-east-1");
    topo.lambda = "http://127.0.0.1:7";
    s_expect(&topo, "lambda", "eu-west-1", "http://127.0.0.1:7", "eu-west-1");
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false", 1);
    s_expect(NULL, "rds", "eu-west-1", "http://127.0.0.1:6", "eu-west-1");
    s_clear_env(NULL);
}

static void test_resolve_errors(void **state) {
    struct rdsbk_endpoints topo = {0};
    char *url = (char *)"sentinel";
    const char *sr = "sentinel";
    (void)state;
    assert_int_equal(rdsbk_endpoint_resolve(&url, &sr, NULL, "dynamodb", "eu-west-1"),
                     RDSBK_EINVALID);
    assert_null(url);
    assert_null(sr);
    assert_int_equal(rdsbk_endpoint_resolve(&url, &sr, NULL, "sts", "EU-WEST-1"), RDSBK_EINVALID);
    assert_int_equal(rdsbk_endpoint_resolve(&url, &sr, NULL, "sts", ""), RDSBK_EINVALID);
    assert_int_equal(rdsbk_endpoint_resolve(&url, &sr, NULL, "sts", "eu-west-1/../x"),
                     RDSBK_EINVALID);
    topo.sts = "http://sts.example.com";
    assert_int_equal(rdsbk_endpoint_resolve(&url, &sr, &topo, "sts", "eu-west-1"), RDSBK_EINVALID);
    assert_null(url);
    assert_non_null(strstr(rdsbk_error_last()->message, "endpoints.sts"));
    setenv("AWS_ENDPOINT_URL", "http://10.0.0.1", 1);
    assert_int_equal(rdsbk_endpoint_resolve(&url, &sr, NULL, "kms", "eu-west-1"), RDSBK_EINVALID);
    assert_non_null(strstr(rdsbk_error_last()->message, "AWS_ENDPOINT_URL"));
    s_clear_env(NULL);
}

static const struct {
    const char *url;
    bool ok;
} s_urls[] = {
    {"https://kms.eu-west-1.amazonaws.com", true},
    {"https://example.com:8443/base", true},
    {"HTTPS://Example.COM", true},
    {"https://[2001:db8::1]:443", true},
    {"http://127.0.0.1:4566", true},
    {"http://127.1.2.3", true},
    {"http://127.255.255.255:80/", true},
    {"http://localhost:4566", true},
    {"http://LOCALHOST", true},
    {"http://[::1]:4566", true},
    {"http://s3.localhost:4566", true}, /* libcurl 7.85.0+ keeps *.localhost on loopback */
    {"http://bucket.s3.LOCALHOST", true},
    {"http://localhostx", false},
    {"http://xlocalhost", false},
    {"http://s3.localhost.evil.com", false},
    {"http://10.0.0.1:4566", false},
    {"http://128.0.0.1", false},
    {"http://127.0.0.256", false},
    {"http://127.0.0", false},
    {"http://127.0.0.1.evil.com", false},
    {"http://localhost.evil.com", false},
    {"http://127.0.0.1@evil.com", false},
    {"http://evil.com#@127.0.0.1", false},
    {"http://[::2]", false},
    {"http://[::ffff:127.0.0.1]", false},
    {"http://example.com", false},
    {"ftp://127.0.0.1", false},
    {"https://user:pw@example.com", false},
    {"https://example.com/?x=1", false},
    {"https://", false},
    {"example.com", false},
    {"", false},
    {"https://exa mple.com", false},
    {"https://example.com:0", false},
    {"https://example.com:70000", false},
};

static void test_check_url(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(s_urls) / sizeof(s_urls[0]); i++) {
        int rc = rdsbk_endpoint_check_url(s_urls[i].url);
        if ((rc == 0) != s_urls[i].ok)
            fail_msg("%s: got %d, expected %s", s_urls[i].url, rc,
                     s_urls[i].ok ? "accepted" : "refused");
        if (!s_urls[i].ok)
            assert_int_equal(rc, RDSBK_EINVALID);
    }
    assert_int_equal(rdsbk_endpoint_check_url(NULL), RDSBK_EINVALID);
}

static const struct {
    const char *name;
    const char *endpoint;
    const char *bucket;
    bool force; /* AWS_S3_FORCE_PATH_STYLE=true */
    const char *url;
    bool path_style;
} s_s3_cases[] = {
    {"AWS, virtual-hosted", "https://s3.eu-west-1.amazonaws.com", "b-1", false,
     "https://b-1.s3.eu-west-1.amazonaws.com", false},
    {"us-east-1", "https://s3.us-east-1.amazonaws.com", "rdsbk-state", false,
     "https://rdsbk-state.s3.us-east-1.amazonaws.com", false},
    {"a port and a base path kept", "https://s3.example.test:8443/base", "abc", false,
     "https://abc.s3.example.test:8443/base", false},
    {"*.localhost", "http://s3.localhost:4566", "abc", false, "http://abc.s3.localhost:4566",
     false},
    {"forced", "http://s3.localhost:4566", "abc", true, "http://s3.localhost:4566", true},
    {"an IPv4 endpoint", "http://127.0.0.1:4566", "abc", false, "http://127.0.0.1:4566", true},
    {"an IPv6 endpoint", "http://[::1]:4566", "abc", false, "http://[::1]:4566", true},
    {"dots", "https://s3.eu-west-1.amazonaws.com", "a.b.c", false,
     "https://s3.eu-west-1.amazonaws.com", true},
    {"upper case", "https://s3.eu-west-1.amazonaws.com", "ABC", false,
     "https://s3.eu-west-1.amazonaws.com", true},
    {"underscore", "https://s3.eu-west-1.amazonaws.com", "a_b", false,
     "https://s3.eu-west-1.amazonaws.com", true},
    {"too short", "https://s3.eu-west-1.amazonaws.com", "ab", false,
     "https://s3.eu-west-1.amazonaws.com", true},
    {"a hyphen at the end", "https://s3.eu-west-1.amazonaws.com", "ab-", false,
     "https://s3.eu-west-1.amazonaws.com", true},
};

static void test_s3_bucket(void **state) {
    char *url = NULL;
    bool path_style;
    (void)state;

    for (size_t i = 0; i < sizeof(s_s3_cases) / sizeof(s_s3_cases[0]); i++) {
        if (s_s3_cases[i].force)
            setenv("AWS_S3_FORCE_PATH_STYLE", "true", 1);
        else
            unsetenv("AWS_S3_FORCE_PATH_STYLE");
        assert_int_equal(rdsbk_endpoint_s3_bucket(&url, &path_style, s_s3_cases[i].endpoint,
                                                  s_s3_cases[i].bucket),
                         0);
        if (strcmp(url, s_s3_cases[i].url) != 0 || path_style != s_s3_cases[i].path_style)
            fail_msg("%s: %s (%s), expected %s (%s)", s_s3_cases[i].name, url,
                     path_style ? "path" : "virtual", s_s3_cases[i].url,
                     s_s3_cases[i].path_style ? "path" : "virtual");
        free(url);
    }
    /* "1" forces too; other values do not */
    setenv("AWS_S3_FORCE_PATH_STYLE", "1", 1);
    assert_int_equal(rdsbk_endpoint_s3_bucket(&url, &path_style, "https://s3.x.test", "abc"), 0);
    assert_true(path_style);
    free(url);
    setenv("AWS_S3_FORCE_PATH_STYLE", "no", 1);
    assert_int_equal(rdsbk_endpoint_s3_bucket(&url, &path_style, "https://s3.x.test", "abc"), 0);
    assert_false(path_style);
    free(url);
    unsetenv("AWS_S3_FORCE_PATH_STYLE");
    assert_int_equal(rdsbk_endpoint_s3_bucket(&url, &path_style, "not a url", "abc"),
                     RDSBK_EINVALID);
    assert_null(url);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partitions),
        cmocka_unit_test_setup(test_defaults, s_clear_env),
        cmocka_unit_test_setup(test_precedence, s_clear_env),
        cmocka_unit_test_setup(test_stacksets_and_organizations, s_clear_env),
        cmocka_unit_test_setup(test_resolve_errors, s_clear_env),
        cmocka_unit_test(test_check_url),
        cmocka_unit_test_setup(test_s3_bucket, s_clear_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
