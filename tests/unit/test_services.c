/* The service modules: request bytes and reply parsing for each operation family, over the real
 * signer and rdsbk_aws_send with a fake transport answering canned AWS replies. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "rdsbk/json_util.h"
#include "rdsbk/services/events.h"
#include "rdsbk/services/iam.h"
#include "rdsbk/services/kms.h"
#include "rdsbk/services/lambda.h"
#include "rdsbk/services/rds.h"
#include "rdsbk/services/s3.h"
#include "rdsbk/services/sns.h"
#include "rdsbk/services/sqs.h"
#include "rdsbk/services/sts.h"
#include "test_protocol_fake.h"

#include <stdlib.h>
#include <string.h>

struct fixture {
    struct rdsbk_http *http;
    struct fake_aws fake;
    struct rdsbk_client *client;
};

static int s_setup(void **state) {
    struct fixture *fx = calloc(1, sizeof(*fx));
    struct rdsbk_http_options hopts = {0};
    struct rdsbk_client_options copts = {0};
    static const char *const unset[] = {"AWS_PROFILE",
                                        "AWS_SESSION_TOKEN",
                                        "AWS_ENDPOINT_URL",
                                        "AWS_ENDPOINT_URL_STS",
                                        "AWS_ENDPOINT_URL_IAM",
                                        "AWS_ENDPOINT_URL_KMS",
                                        "AWS_ENDPOINT_URL_EVENTBRIDGE",
                                        "AWS_ENDPOINT_URL_LAMBDA",
                                        "AWS_ENDPOINT_URL_RDS",
                                        "AWS_ENDPOINT_URL_SNS",
                                        "AWS_ENDPOINT_URL_SQS",
                                        "AWS_ENDPOINT_URL_S3",
                                        "AWS_S3_FORCE_PATH_STYLE",
                                        "AWS_ROLE_ARN",
                                        "AWS_WEB_IDENTITY_TOKEN_FILE"};

    for (size_t i = 0; i < sizeof(unset) / sizeof(unset[0]); i++)
        unsetenv(unset[i]);
    setenv("AWS_ACCESS_KEY_ID", "AKIDSERVICES", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    setenv("HOME", "/nonexistent-rdsbk-home", 1);
    hopts.max_attempts = 1;
    assert_int_equal(rdsbk_http_new(&fx->http, &hopts), 0);
    rdsbk_http_set_transport(fx->http, fake_transport, &fx->fake);
    copts.region = "eu-west-1";
    copts.http = fx->http;
    assert_int_equal(rdsbk_client_new(&fx->client, &copts), 0);
    *state = fx;
    return 0;
}

static int s_teardown(void **state) {
    struct fixture *fx = *state;
    rdsbk_client_free(fx->client);
    fake_reset(&fx->fake);
    rdsbk_http_free(fx->http);
    free(fx);
    return 0;
}

static const char *s_body(const struct fixture *fx, size_t i) {
    assert_true(i < fx->fake.n_requests);
    return rdsbk_buf_cstr(&fx->fake.requests[i].body);
}

static void s_contains(const char *haystack, const char *needle) {
    if (!strstr(haystack, needle))
        fail_msg("expected to find\n  %s\nin\n  %s", needle, haystack);
}

static void s_lacks(const char *haystack, const char *needle) {
    if (strstr(haystack, needle))
        fail_msg("did not expect\n  %s\nin\n  %s", needle, haystack);
}

/* The body as JSON, for semantic checks. */
static cJSON *s_json_body(const struct fixture *fx, size_t i) {
    cJSON *j = cJSON_Parse(s_body(fx, i));
    assert_non_null(j);
    return j;
}

static const char *s_jstr(const cJSON *obj, const char *path) {
    char buf[256];
    char *save = NULL;
    const cJSON *cur = obj;

    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = strtok_r(buf, ".", &save); p && cur; p = strtok_r(NULL, ".", &save))
        cur = cJSON_IsArray(cur) ? cJSON_GetArrayItem(cur, atoi(p))
                                 : cJSON_GetObjectItemCaseSensitive(cur, p);
    return cJSON_IsString(cur) ? cur->valuestring : NULL;
}

/* ---- STS ---- */

static void test_sts(void **state) {
    struct fixture *fx = *state;
    struct rdsbk_sts_identity id;
    struct rdsbk_credentials creds;
    struct rdsbk_sts_assume_role_input in = {"arn:aws:iam::1:role/r", "sess", "ext", 900};
    char *arn = NULL;

    fake_push(&fx->fake, 200, "text/xml",
              "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:"
              "user/u</Arn><UserId>AID</UserId><Account>123456789012</Account>"
              "</GetCallerIdentityResult></GetCallerIdentityResponse>");
    assert_int_equal(rdsbk_sts_get_caller_identity(&id, fx->client), 0);
    assert_string_equal(id.account, "123456789012");
    assert_string_equal(id.arn, "arn:aws:iam::123456789012:user/u");
    assert_string_equal(fx->fake.requests[0].url, "https://sts.eu-west-1.amazonaws.com/");
    assert_string_equal(s_body(fx, 0), "Action=GetCallerIdentity&Version=2011-06-15");
    s_contains(fake_header(&fx->fake.requests[0], "Authorization"), "Credential=AKIDSERVICES/");
    s_contains(fake_header(&fx->fake.requests[0], "Authorization"), "/eu-west-1/sts/");
    rdsbk_sts_identity_clean_up(&id);

    fake_push(&fx->fake, 200, "text/xml",
              "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA1</AccessKeyId>"
              "<SecretAccessKey>s1</SecretAccessKey><SessionToken>t1</SessionToken>"
              "<Expiration>2030-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser>"
              "<Arn>arn:aws:sts::1:assumed-role/r/sess</Arn></AssumedRoleUser>"
              "</AssumeRoleResult></AssumeRoleResponse>");
    assert_int_equal(rdsbk_sts_assume_role(&creds, &arn, fx->client, &in), 0);
    assert_string_equal(creds.access_key_id, "ASIA1");
    assert_string_equal(creds.session_token, "t1");
    assert_int_equal(creds.expiration, 1893456000);
    assert_string_equal(arn, "arn:aws:sts::1:assumed-role/r/sess");
    assert_string_equal(s_body(fx, 1), "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3A"
                                       "iam%3A%3A1%3Arole%2Fr&RoleSessionName=sess&ExternalId=ext"
                                       "&DurationSeconds=900");
    free(arn);
    rdsbk_credentials_clean_up(&creds);

    /* Web identity goes unsigned. */
    fake_push(&fx->fake, 200, "text/xml",
              "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
              "<AccessKeyId>ASIA2</AccessKeyId><SecretAccessKey>s2</SecretAccessKey>"
              "<SessionToken>t2</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration>"
              "</Credentials></AssumeRoleWithWebIdentityResult>"
              "</AssumeRoleWithWebIdentityResponse>");
    assert_int_equal(rdsbk_sts_assume_role_with_web_identity(&creds, NULL, fx->client,
                                                             "arn:aws:iam::1:role/w", "s", "tok"),
                     0);
    assert_string_equal(creds.access_key_id, "ASIA2");
    assert_string_equal(fake_header(&fx->fake.requests[2], "Authorization"), "");
    rdsbk_credentials_clean_up(&creds);
}

/* ---- IAM ---- */

#define ROLE_XML                                                                                   \
    "<Role><Path>/rdsbk/</Path><RoleName>copy</RoleName><RoleId>AROA1</RoleId>"                    \
    "<Arn>arn:aws:iam::111122223333:role/rdsbk/copy</Arn>"                                         \
    "<CreateDate>2026-01-02T03:04:05Z</CreateDate>"                                                \
    "<AssumeRolePolicyDocument>%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D"  \
    "</AssumeRolePolicyDocument><MaxSessionDuration>3600</MaxSessionDuration>"                     \
    "<Tags><member><Key>stack</Key><Value>s1</Value></member></Tags></Role>"

static void test_iam_roles(void **state) {
    struct fixture *fx = *state;
    struct rdsbk_iam_role role;
    struct rdsbk_tag tags[] = {{(char *)"stack", (char *)"s1"}};
    struct rdsbk_iam_create_role_input in = {0};
    struct rdsbk_iam_role *roles = NULL;
    size_t n = 0;

    in.name = "copy";
    in.path = "/rdsbk/";
    in.assume_role_policy = "{\"Version\":\"2012-10-17\",\"Statement\":[]}";
    in.tags = tags;
    in.n_tags = 1;
    fake_push(&fx->fake, 200, "text/xml",
              "<CreateRoleResponse><CreateRoleResult>" ROLE_XML
              "</CreateRoleResult></CreateRoleResponse>");
    assert_int_equal(rdsbk_iam_create_role(&role, fx->client, &in), 0);
    assert_string_equal(fx->fake.requests[0].url, "https://iam.amazonaws.com/");
    s_contains(fake_header(&fx->fake.requests[0], "Authorization"), "/us-east-1/iam/aws4_request");
    assert_string_equal(s_body(fx, 0),
                        "Action=CreateRole&Version=2010-05-08&RoleName=copy&Path=%2Frdsbk%2F"
                        "&AssumeRolePolicyDocument=%7B%22Version%22%3A%222012-10-17%22%2C%22"
                        "Statement%22%3A%5B%5D%7D&Tags.member.1.Key=stack&Tags.member.1.Value=s1");
    assert_string_equal(role.arn, "arn:aws:iam::111122223333:role/rdsbk/copy");
    assert_string_equal(role.assume_role_policy, "{\"Version\":\"2012-10-17\",\"Statement\":[]}");
    assert_string_equal(role.path, "/rdsbk/");
    assert_int_equal(role.max_session_duration, 3600);
    assert_int_equal(role.create_date, 1767323045);
    assert_int_equal(role.n_tags, 1);
    assert_string_equal(role.tags[0].value, "s1");
    assert_null(role.description);
    rdsbk_iam_role_clean_up(&role);

    fake_push(&fx->fake, 404, "text/xml",
              "<ErrorResponse><Error><Code>NoSuchEntity</Code><Message>The role with name copy "
              "cannot be found.</Message></Error><RequestId>r</RequestId></ErrorResponse>");
    assert_int_equal(rdsbk_iam_get_role(&role, fx->client, "copy"), RDSBK_ENOTFOUND);
    assert_null(role.name);
    assert_string_equal(s_body(fx, 1), "Action=GetRole&Version=2010-05-08&RoleName=copy");

    fake_push(&fx->fake, 409, "text/xml",
              "<ErrorResponse><Error><Code>EntityAlreadyExists</Code><Message>exists</Message>"
              "</Error></ErrorResponse>");
    assert_int_equal(rdsbk_iam_create_role(NULL, fx->client, &in), RDSBK_ECONFLICT);

    /* ListRoles: two pages, PathPrefix, Marker carried over. */
    fake_push(&fx->fake, 200, "text/xml",
              "<ListRolesResponse><ListRolesResult><IsTruncated>true</IsTruncated><Marker>m1"
              "</Marker><Roles><member><RoleName>a</RoleName><Arn>arn:a</Arn></member></Roles>"
              "</ListRolesResult></ListRolesResponse>");
    fake_push(&fx->fake, 200, "text/xml",
              "<ListRolesResponse><ListRolesResult><IsTruncated>false</IsTruncated><Roles><member>"
              "<RoleName>b</RoleName><Arn>arn:b</Arn></member><member><RoleName>c</RoleName>"
              "</member></Roles></ListRolesResult></ListRolesResponse>");
    assert_int_equal(rdsbk_iam_list_roles(&roles, &n, fx->client, "/rdsbk/"), 0);
    assert_int_equal(n, 3);
    assert_string_equal(roles[0].name, "a");
    assert_string_equal(roles[2].name, "c");
    assert_string_equal(s_body(fx, 3),
                        "Action=ListRoles&Version=2010-05-08&PathPrefix=%2Frdsbk%2F");
    assert_string_equal(s_body(fx, 4),
                        "Action=ListRoles&Version=2010-05-08&PathPrefix=%2Frdsbk%2F&Marker=m1");
    rdsbk_iam_roles_free(roles, n);

    fake_push(&fx->fake, 200, "text/xml", "<DeleteRoleResponse/>");
    assert_int_equal(rdsbk_iam_delete_role(fx->client, "copy"), 0);
    assert_string_equal(s_body(fx, 5), "Action=DeleteRole&Version=2010-05-08&RoleName=copy");
    fake_push(&fx->fake, 200, "text/xml", "");
    assert_int_equal(rdsbk_iam_update_assume_role_policy(fx->client, "copy", "{}"), 0);
    assert_string_equal(s_body(fx, 6), "Action=UpdateAssumeRolePolicy&Version=2010-05-08"
                                       "&RoleName=copy&PolicyDocument=%7B%7D");
}

static void test_iam_policies(void **state) {
    struct fixture *fx = *state;
    char **names = NULL;
    size_t n = 0;
    char *doc = NULL;
    char *vid = NULL;
    struct rdsbk_iam_attached_policy *att = NULL;
    struct rdsbk_iam_policy_version *versions = NULL;
    struct rdsbk_iam_policy pol;
    struct rdsbk_iam_create_policy_input pin = {0};
    struct rdsbk_tag *tags = NULL;
    const char *keys[] = {"a", "b"};

    fake_push(&fx->fake, 200, "text/xml", "<PutRolePolicyResponse/>");
    assert_int_equal(rdsbk_iam_put_role_policy(fx->client, "copy", "inline", "{\"a\":1}"), 0);
    assert_string_equal(s_body(fx, 0), "Action=PutRolePolicy&Version=2010-05-08&RoleName=copy"
                                       "&PolicyName=inline&PolicyDocument=%7B%22a%22%3A1%7D");

    fake_push(&fx->fake, 200, "text/xml",
              "<GetRolePolicyResponse><GetRolePolicyResult><RoleName>copy</RoleName><PolicyName>"
              "inline</PolicyName><PolicyDocument>%7B%22a%22%3A%20%22b%2Bc%22%7D</PolicyDocument>"
              "</GetRolePolicyResult></GetRolePolicyResponse>");
    assert_int_equal(rdsbk_iam_get_role_policy(&doc, fx->client, "copy", "inline"), 0);
    assert_string_equal(doc, "{\"a\": \"b+c\"}");
    free(doc);

    fake_push(&fx->fake, 200, "text/xml",
              "<ListRolePoliciesResponse><ListRolePoliciesResult><IsTruncated>true</IsTruncated>"
              "<Marker>p2</Marker><PolicyNames><member>one</member></PolicyNames>"
              "</ListRolePoliciesResult></ListRolePoliciesResponse>");
    fake_push(&fx->fake, 200, "text/xml",
              "<ListRolePoliciesResponse><ListRolePoliciesResult><IsTruncated>false</IsTruncated>"
              "<PolicyNames><member>two</member></PolicyNames></ListRolePoliciesResult>"
              "</ListRolePoliciesResponse>");
    assert_int_equal(rdsbk_iam_list_role_policies(&names, &n, fx->client, "copy"), 0);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "one");
    assert_string_equal(names[1], "two");
    assert_null(names[2]);
    s_contains(s_body(fx, 3), "&Marker=p2");
    rdsbk_strings_free(names, n);

    fake_push(&fx->fake, 200, "text/xml",
              "<ListAttachedRolePoliciesResponse><ListAttachedRolePoliciesResult><AttachedPolicies>"
              "<member><PolicyName>P</PolicyName><PolicyArn>arn:aws:iam::aws:policy/P</PolicyArn>"
              "</member></AttachedPolicies><IsTruncated>false</IsTruncated>"
              "</ListAttachedRolePoliciesResult></ListAttachedRolePoliciesResponse>");
    assert_int_equal(rdsbk_iam_list_attached_role_policies(&att, &n, fx->client, "copy"), 0);
    assert_int_equal(n, 1);
    assert_string_equal(att[0].arn, "arn:aws:iam::aws:policy/P");
    rdsbk_iam_attached_policies_free(att, n);

    fake_push(&fx->fake, 200, "text/xml", "");
    assert_int_equal(rdsbk_iam_attach_role_policy(fx->client, "copy", "arn:p"), 0);
    assert_string_equal(s_body(fx, 5), "Action=AttachRolePolicy&Version=2010-05-08&RoleName=copy"
                                       "&PolicyArn=arn%3Ap");

    pin.name = "mp";
    pin.document = "{}";
    pin.description = "d";
    fake_push(&fx->fake, 200, "text/xml",
              "<CreatePolicyResponse><CreatePolicyResult><Policy><PolicyName>mp</PolicyName>"
              "<DefaultVersionId>v1</DefaultVersionId><PolicyId>ANPA</PolicyId><Path>/</Path>"
              "<Arn>arn:aws:iam::1:policy/mp</Arn><AttachmentCount>0</AttachmentCount></Policy>"
              "</CreatePolicyResult></CreatePolicyResponse>");
    assert_int_equal(rdsbk_iam_create_policy(&pol, fx->client, &pin), 0);
    assert_string_equal(pol.arn, "arn:aws:iam::1:policy/mp");
    assert_string_equal(pol.default_version_id, "v1");
    rdsbk_iam_policy_clean_up(&pol);
    assert_string_equal(s_body(fx, 6), "Action=CreatePolicy&Version=2010-05-08&PolicyName=mp"
                                       "&PolicyDocument=%7B%7D&Description=d");

    fake_push(&fx->fake, 200, "text/xml",
              "<CreatePolicyVersionResponse><CreatePolicyVersionResult><PolicyVersion><VersionId>"
              "v2</VersionId><IsDefaultVersion>true</IsDefaultVersion></PolicyVersion>"
              "</CreatePolicyVersionResult></CreatePolicyVersionResponse>");
    assert_int_equal(rdsbk_iam_create_policy_version(&vid, fx->client, "arn:p", "{}", true), 0);
    assert_string_equal(vid, "v2");
    free(vid);
    s_contains(s_body(fx, 7), "&SetAsDefault=true");

    fake_push(&fx->fake, 200, "text/xml",
              "<ListPolicyVersionsResponse><ListPolicyVersionsResult><Versions><member><VersionId>"
              "v2</VersionId><IsDefaultVersion>true</IsDefaultVersion></member><member>"
              "<VersionId>v1</VersionId><IsDefaultVersion>false</IsDefaultVersion></member>"
              "</Versions><IsTruncated>false</IsTruncated></ListPolicyVersionsResult>"
              "</ListPolicyVersionsResponse>");
    assert_int_equal(rdsbk_iam_list_policy_versions(&versions, &n, fx->client, "arn:p"), 0);
    assert_int_equal(n, 2);
    assert_true(versions[0].is_default);
    assert_false(versions[1].is_default);
    assert_string_equal(versions[1].version_id, "v1");
    rdsbk_iam_policy_versions_free(versions, n);

    fake_push(&fx->fake, 200, "text/xml",
              "<GetPolicyVersionResponse><GetPolicyVersionResult><PolicyVersion><Document>"
              "%7B%22x%22%3A1%7D</Document><VersionId>v2</VersionId></PolicyVersion>"
              "</GetPolicyVersionResult></GetPolicyVersionResponse>");
    assert_int_equal(rdsbk_iam_get_policy_version(&doc, fx->client, "arn:p", "v2"), 0);
    assert_string_equal(doc, "{\"x\":1}");
    free(doc);

    fake_push(&fx->fake, 200, "text/xml",
              "<ListRoleTagsResponse><ListRoleTagsResult><Tags><member><Key>k</Key><Value>v"
              "</Value></member></Tags><IsTruncated>false</IsTruncated></ListRoleTagsResult>"
              "</ListRoleTagsResponse>");
    assert_int_equal(rdsbk_iam_list_role_tags(&tags, &n, fx->client, "copy"), 0);
    assert_int_equal(n, 1);
    assert_string_equal(tags[0].key, "k");
    rdsbk_aws_tags_free(tags, n);

    fake_push(&fx->fake, 200, "text/xml", "");
    assert_int_equal(rdsbk_iam_untag_role(fx->client, "copy", keys, 2), 0);
    assert_string_equal(s_body(fx, 11), "Action=UntagRole&Version=2010-05-08&RoleName=copy"
                                        "&TagKeys.member.1=a&TagKeys.member.2=b");
}

/* ---- KMS ---- */

static void test_kms(void **state) {
    struct fixture *fx = *state;
    struct rdsbk_kms_create_key_input in = {0};
    struct rdsbk_tag tags[] = {{(char *)"stack", (char *)"s"}};
    cJSON *meta = NULL;
    cJSON *body;
    cJSON *aliases = NULL;
    char *policy = NULL;
    time_t when = 0;
    struct rdsbk_tag *out_tags = NULL;
    size_t n = 0;

    in.policy = "{\"Version\":\"2012-10-17\"}";
    in.description = "rdsbk";
    in.multi_region = true;
    in.tags = tags;
    in.n_tags = 1;
    fake_push(&fx->fake, 200, "application/x-amz-json-1.1",
              "{\"KeyMetadata\":{\"KeyId\":\"mrk-1\",\"Arn\":\"arn:aws:kms:eu-west-1:1:key/mrk-1\","
              "\"MultiRegion\":true,\"KeyState\":\"Enabled\"}}");
    assert_int_equal(rdsbk_kms_create_key(&meta, fx->client, &in), 0);
    assert_string_equal(s_jstr(meta, "KeyId"), "mrk-1");
    cJSON_Delete(meta);
    assert_string_equal(fx->fake.requests[0].url, "https://kms.eu-west-1.amazonaws.com/");
    assert_string_equal(fake_header(&fx->fake.requests[0], "X-Amz-Target"),
                        "TrentService.CreateKey");
    body = s_json_body(fx, 0);
    assert_string_equal(s_jstr(body, "Policy"), "{\"Version\":\"2012-10-17\"}");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(body, "MultiRegion")));
    assert_string_equal(s_jstr(body, "Tags.0.TagKey"), "stack");
    assert_string_equal(s_jstr(body, "Tags.0.TagValue"), "s");
    cJSON_Delete(body);

    fake_push(&fx->fake, 400, "application/x-amz-json-1.1",
              "{\"__type\":\"NotFoundException\",\"message\":\"Alias alias/x is not found.\"}");
    assert_int_equal(rdsbk_kms_describe_key(&meta, fx->client, "alias/x"), RDSBK_ENOTFOUND);
    assert_null(meta);

    fake_push(&fx->fake, 200, "application/x-amz-json-1.1",
              "{\"Policy\":\"{\\\"Statement\\\":[]}\",\"PolicyName\":\"default\"}");
    assert_int_equal(rdsbk_kms_get_key_policy(&policy, fx->client, "k"), 0);
    assert_string_equal(policy, "{\"Statement\":[]}");
    free(policy);
    assert_string_equal(s_body(fx, 2), "{\"KeyId\":\"k\",\"PolicyName\":\"default\"}");

    /* ListAliases over two pages (Marker / NextMarker). */
    fake_push(
        &fx->fake, 200, "application/x-amz-json-1.1",
        "{\"Aliases\":[{\"AliasName\":\"alias/a\"}],\"NextMarker\":\"M2\",\"Truncated\":true}");
    fake_push(&fx->fake, 200, "application/x-amz-json-1.1",
              "{\"Aliases\":[{\"AliasName\":\"alias/b\"},{\"AliasName\":\"alias/c\"}],"
              "\"Truncated\":false}");
    assert_int_equal(rdsbk_kms_list_aliases(&aliases, fx->client, NULL), 0);
    assert_int_equal(cJSON_GetArraySize(aliases), 3);
    assert_string_equal(s_jstr(aliases, "2.AliasName"), "alias/c");
    cJSON_Delete(aliases);
    assert_string_equal(s_body(fx, 3), "{}");
    assert_string_equal(s_body(fx, 4), "{\"Marker\":\"M2\"}");

    fake_push(&fx->fake, 200, "application/x-amz-json-1.1",
              "{\"KeyId\":\"k\",\"DeletionDate\":1.7e9,\"KeyState\":\"PendingDeletion\"}");
    assert_int_equal(rdsbk_kms_schedule_key_deletion(&when, fx->client, "k", 7), 0);
    assert_int_equal(when, 1700000000);
    assert_string_equal(s_body(fx, 5), "{\"KeyId\":\"k\",\"PendingWindowInDays\":7}");

    fake_push(&fx->fake, 200, "application/x-amz-json-1.1",
              "{\"Tags\":[{\"TagKey\":\"a\",\"TagValue\":\"1\"}],\"Truncated\":false}");
    assert_int_equal(rdsbk_kms_list_resource_tags(&out_tags, &n, fx->client, "k"), 0);
    assert_int_equal(n, 1);
    assert_string_equal(out_tags[0].key, "a");
    assert_string_equal(out_tags[0].value, "1");
    rdsbk_aws_tags_free(out_tags, n);

    /* A service handing back the token it was given is stopped, not followed forever. */
    {
        size_t before = fx->fake.n_requests;
        fake_push(&fx->fake, 200, "application/x-amz-json-1.1",
                  "{\"Aliases\":[],\"NextMarker\":\"M\"}");
        fake_push(&fx->fake, 200, "application/x-amz-json-1.1",
                  "{\"Aliases\":[],\"NextMarker\":\"M\"}");
        assert_int_equal(rdsbk_kms_list_aliases(&aliases, fx->client, NULL), RDSBK_ERROR);
        assert_null(aliases);
        assert_int_equal(fx->fake.n_requests - before, 2);
        s_contains(rdsbk_error_last()->message, "pagination does not end");
    }

    fake_push(&fx->fake, 200, "application/x-amz-json-1.1", "");
    assert_int_equal(rdsbk_kms_create_alias(fx->client, "alias/rdsbk-s", "k"), 0);
    assert_string_equal(s_body(fx, 9), "{\"AliasName\":\"alias/rdsbk-s\",\"TargetKeyId\":\"k\"}");
    assert_string_equal(fake_header(&fx->fake.requests[9], "X-Amz-Target"),
                        "TrentService.CreateAlias");
    fake_push(&fx->fake, 400, "application/x-amz-json-1.1",
              "{\"__type\":\"AlreadyExistsException\",\"message\":\"exists\"}");
    assert_int_equal(rdsbk_kms_create_alias(fx->client, "alias/rdsbk-s", "k"), RDSBK_ECONFLICT);
}

/* ---- EventBridge ---- */

static void test_events(void **state) {
    struct fixture *fx = *state;
    struct rdsbk_events_put_rule_input rule = {0};
    struct rdsbk_events_put_permission_input perm = {0};
    char *arn = NULL;
    cJSON *targets = cJSON_Parse("[{\"Id\":\"t1\",\"Arn\":\"arn:aws:lambda:x\"}]");
    cJSON *body;
    cJSON *rules = NULL;
    bool matches = false;
    struct rdsbk_tag *tags = NULL;
    size_t n = 0;

    rule.name = "rdsbk-s-snapshot";
    rule.event_pattern = "{\"source\":[\"aws.rds\"]}";
    rule.state = "ENABLED";
    fake_push(&fx->fake, 200, "application/x-amz-json-1.1",
              "{\"RuleArn\":\"arn:aws:events:eu-west-1:1:rule/rdsbk-s-snapshot\"}");
    assert_int_equal(rdsbk_events_put_rule(&arn, fx->client, &rule), 0);
    assert_string_equal(arn, "arn:aws:events:eu-west-1:1:rule/rdsbk-s-snapshot");
    free(arn);
    assert_string_equal(fake_header(&fx->fake.requests[0], "X-Amz-Target"), "AWSEvents.PutRule");
    assert_string_equal(fx->fake.requests[0].url, "https://events.eu-west-1.amazonaws.com/");
    body = s_json_body(fx, 0);
    assert_string_equal(s_jstr(body, "Name"), "rdsbk-s-snapshot");
    assert_string_equal(s_jstr(body, "EventPattern"), "{\"source\":[\"aws.rds\"]}");
    assert_null(cJSON_GetObjectItem(body, "EventBusName"));
    cJSON_Delete(body);

    /* A per-target failure inside a 200 reply is an error. */
    fake_push(&fx->fake, 200, "application/x-amz-json-1.1",
              "{\"FailedEntryCount\":1,\"FailedEntries\":[{\"TargetId\":\"t1\",\"ErrorCode\":"
              "\"AccessDeniedException\",\"ErrorMessage\":\"no PutEvents\"}]}");
    assert_int_equal(rdsbk_events_put_targets(fx->client, "r", NULL, targets), RDSBK_EAUTH);
    assert_string_equal(rdsbk_error_last()->aws_code, "AccessDeniedException");
    s_contains(rdsbk_error_last()->message, "target t1");
    fake_push(&fx->fake, 200, "application/x-amz-json-1.1",
              "{\"FailedEntryCount\":0,\"FailedEntries\":[]}");
    assert_int_equal(rdsbk_events_put_targets(fx->client, "r", "bus-b", targets), 0);
    assert_string_equal(s_body(fx, 2), "{\"Rule\":\"r\",\"EventBusName\":\"bus-b\",\"Targets\":"
                                       "[{\"Id\":\"t1\",\"Arn\":\"arn:aws:lambda:x\"}]}");

    /* ListRules over two pages (NextToken). */
    fake_push(&fx->fake, 200, "application/x-amz-json-1.1",
              "{\"Rules\":[{\"Name\":\"rdsbk-a\"}],\"NextToken\":\"T2\"}");
    fake_push(&fx->fake, 200, "application/x-amz-json-1.1", "{\"Rules\":[{\"Name\":\"rdsbk-b\"}]}");
    assert_int_equal(rdsbk_events_list_rules(&rules, fx->client, "rdsbk-", NULL), 0);
    assert_int_equal(cJSON_GetArraySize(rules), 2);
    assert_string_equal(s_jstr(rules, "1.Name"), "rdsbk-b");
    cJSON_Delete(rules);
    assert_string_equal(s_body(fx, 3), "{\"NamePrefix\":\"rdsbk-\"}");
    assert_string_equal(s_body(fx, 4), "{\"NamePrefix\":\"rdsbk-\",\"NextToken\":\"T2\"}");

    fake_push(&fx->fake, 200, "application/x-amz-json-1.1", "{\"Result\":true}");
    assert_int_equal(rdsbk_events_test_event_pattern(&matches, fx->client, "{}", "{\"a\":1}"), 0);
    assert_true(matches);

    perm.statement_id = "rdsbk-s-from-A";
    perm.principal = "111111111111";
    perm.action = "events:PutEvents";
    fake_push(&fx->fake, 200, "application/x-amz-json-1.1", "");
    assert_int_equal(rdsbk_events_put_permission(fx->client, &perm), 0);
    assert_string_equal(s_body(fx, 6), "{\"StatementId\":\"rdsbk-s-from-A\",\"Principal\":"
                                       "\"111111111111\",\"Action\":\"events:PutEvents\"}");

    fake_push(&fx->fake, 400, "application/x-amz-json-1.1",
              "{\"__type\":\"ResourceNotFoundException\",\"message\":\"Rule r does not exist.\"}");
    assert_int_equal(rdsbk_events_delete_rule(fx->client, "r", NULL, false), RDSBK_ENOTFOUND);

    fake_push(&fx->fake, 200, "application/x-amz-json-1.1",
              "{\"FailedEntryCount\":1,\"Entries\":[{\"ErrorCode\":\"InternalFailure\","
              "\"ErrorMessage\":\"x\"}]}");
    assert_true(rdsbk_events_put_events(NULL, fx->client, targets) < 0);
    assert_string_equal(rdsbk_error_last()->aws_code, "InternalFailure");

    fake_push(&fx->fake, 200, "application/x-amz-json-1.1",
              "{\"Tags\":[{\"Key\":\"stack\",\"Value\":\"s\"}]}");
    assert_int_equal(rdsbk_events_list_tags_for_resource(&tags, &n, fx->client, "arn:r"), 0);
    assert_int_equal(n, 1);
    assert_string_equal(tags[0].value, "s");
    rdsbk_aws_tags_free(tags, n);
    cJSON_Delete(targets);
}

/* ---- Lambda ---- */

static void test_lambda(void **state) {
    struct fixture *fx = *state;
    struct rdsbk_lambda_function_input in = {0};
    struct rdsbk_tag env[] = {{(char *)"TARGET_REGION", (char *)"eu-west-2"}};
    struct rdsbk_lambda_add_permission_input perm = {0};
    struct rdsbk_lambda_invoke_result res;
    const char *keys[] = {"a", "b c"};
    cJSON *out = NULL;
    cJSON *body;
    char *policy = NULL;
    struct rdsbk_tag *tags = NULL;
    size_t n = 0;

    in.name = "rdsbk-s-copy";
    in.role = "arn:aws:iam::1:role/copy";
    in.handler = "copy.handler";
    in.runtime = "python3.12";
    in.timeout = 60;
    in.memory_size = 128;
    in.zip = (const unsigned char *)"PK\x03\x04";
    in.zip_len = 4;
    in.environment = env;
    in.n_environment = 1;
    fake_push(&fx->fake, 201, "application/json",
              "{\"FunctionName\":\"rdsbk-s-copy\",\"CodeSha256\":\"abc=\",\"State\":\"Pending\"}");
    assert_int_equal(rdsbk_lambda_create_function(&out, fx->client, &in), 0);
    assert_string_equal(s_jstr(out, "State"), "Pending");
    cJSON_Delete(out);
    assert_string_equal(fx->fake.requests[0].method, "POST");
    assert_string_equal(fx->fake.requests[0].url,
                        "https://lambda.eu-west-1.amazonaws.com/2015-03-31/functions");
    body = s_json_body(fx, 0);
    assert_string_equal(s_jstr(body, "Code.ZipFile"), "UEsDBA==");
    assert_string_equal(s_jstr(body, "Environment.Variables.TARGET_REGION"), "eu-west-2");
    assert_int_equal(cJSON_GetObjectItem(body, "Timeout")->valueint, 60);
    assert_string_equal(s_jstr(body, "Role"), "arn:aws:iam::1:role/copy");
    assert_null(cJSON_GetObjectItem(body, "Tags"));
    cJSON_Delete(body);

    /* The role race: InvalidParameterValueException keeps its message. */
    fake_push_header(&fx->fake, 400, "application/json",
                     "{\"Type\":\"User\",\"message\":\"The role defined for the function cannot "
                     "be assumed by Lambda.\"}",
                     "X-Amzn-ErrorType", "InvalidParameterValueException");
    assert_int_equal(rdsbk_lambda_create_function(NULL, fx->client, &in), RDSBK_EINVALID);
    s_contains(rdsbk_error_last()->message, "cannot be assumed by Lambda");

    perm.function_name = "rdsbk-s-copy";
    perm.statement_id = "events-rule";
    perm.action = "lambda:InvokeFunction";
    perm.principal = "events.amazonaws.com";
    perm.source_arn = "arn:aws:events:eu-west-1:1:rule/r";
    fake_push(&fx->fake, 201, "application/json", "{\"Statement\":\"{}\"}");
    assert_int_equal(rdsbk_lambda_add_permission(fx->client, &perm), 0);
    assert_string_equal(fx->fake.requests[2].url, "https://lambda.eu-west-1.amazonaws.com/"
                                                  "2015-03-31/functions/rdsbk-s-copy/policy");
    s_contains(s_body(fx, 2), "\"SourceArn\":\"arn:aws:events:eu-west-1:1:rule/r\"");
    s_lacks(s_body(fx, 2), "SourceAccount");

    fake_push_header(&fx->fake, 404, "application/json",
                     "{\"Message\":\"The resource you requested does not exist.\"}",
                     "X-Amzn-ErrorType", "ResourceNotFoundException");
    assert_int_equal(rdsbk_lambda_get_policy(&policy, fx->client, "rdsbk-s-copy"), RDSBK_ENOTFOUND);
    assert_null(policy);

    fake_push(&fx->fake, 204, NULL, "");
    assert_int_equal(rdsbk_lambda_remove_permission(fx->client, "f", "events rule"), 0);
    assert_string_equal(fx->fake.requests[4].method, "DELETE");
    assert_string_equal(fx->fake.requests[4].url, "https://lambda.eu-west-1.amazonaws.com/"
                                                  "2015-03-31/functions/f/policy/events%20rule");

    /* Invoke, async (202) and with a function error. */
    fake_push(&fx->fake, 202, NULL, "");
    assert_int_equal(rdsbk_lambda_invoke(&res, fx->client, "f", "Event", "{}", 2), 0);
    assert_int_equal(res.status_code, 202);
    assert_null(res.function_error);
    assert_string_equal(fake_header(&fx->fake.requests[5], "X-Amz-Invocation-Type"), "Event");
    assert_string_equal(s_body(fx, 5), "{}");
    rdsbk_lambda_invoke_result_clean_up(&res);
    fake_push_header(&fx->fake, 200, "application/json", "{\"errorMessage\":\"boom\"",
                     "X-Amz-Function-Error", "Unhandled");
    assert_int_equal(rdsbk_lambda_invoke(&res, fx->client, "f", NULL, NULL, 0), 0);
    assert_string_equal(res.function_error, "Unhandled");
    /* Returned as is, even when it is not valid JSON. */
    assert_string_equal(rdsbk_buf_cstr(&res.payload), "{\"errorMessage\":\"boom\"");
    assert_string_equal(fake_header(&fx->fake.requests[6], "X-Amz-Invocation-Type"),
                        "RequestResponse");
    rdsbk_lambda_invoke_result_clean_up(&res);

    /* ListFunctions pages with Marker / NextMarker in the query string. */
    fake_push(&fx->fake, 200, "application/json",
              "{\"Functions\":[{\"FunctionName\":\"a\"}],\"NextMarker\":\"m/2\"}");
    fake_push(&fx->fake, 200, "application/json", "{\"Functions\":[{\"FunctionName\":\"b\"}]}");
    assert_int_equal(rdsbk_lambda_list_functions(&out, fx->client), 0);
    assert_int_equal(cJSON_GetArraySize(out), 2);
    cJSON_Delete(out);
    assert_string_equal(fx->fake.requests[7].url,
                        "https://lambda.eu-west-1.amazonaws.com/2015-03-31/functions/");
    assert_string_equal(
        fx->fake.requests[8].url,
        "https://lambda.eu-west-1.amazonaws.com/2015-03-31/functions/?Marker=m%2F2");

    fake_push(&fx->fake, 204, NULL, "");
    assert_int_equal(
        rdsbk_lambda_untag_resource(fx->client, "arn:aws:lambda:x:1:function:f", keys, 2), 0);
    assert_string_equal(fx->fake.requests[9].url,
                        "https://lambda.eu-west-1.amazonaws.com/2017-03-31/tags/"
                        "arn%3Aaws%3Alambda%3Ax%3A1%3Afunction%3Af?tagKeys=a&tagKeys=b%20c");

    fake_push(&fx->fake, 200, "application/json", "{\"Tags\":{\"stack\":\"s\",\"owner\":\"o\"}}");
    assert_int_equal(rdsbk_lambda_list_tags(&tags, &n, fx->client, "arn:f"), 0);
    assert_int_equal(n, 2);
    assert_string_equal(tags[0].key, "stack");
    assert_string_equal(tags[1].value, "o");
    rdsbk_aws_tags_free(tags, n);

    /* UpdateFunctionConfiguration: only what is set, empty environment when asked. */
    memset(&in, 0, sizeof(in));
    in.name = "f";
    in.timeout = 90;
    in.send_environment = true;
    fake_push(&fx->fake, 200, "application/json", "{\"LastUpdateStatus\":\"InProgress\"}");
    assert_int_equal(rdsbk_lambda_update_function_configuration(&out, fx->client, &in), 0);
    cJSON_Delete(out);
    assert_string_equal(fx->fake.requests[11].method, "PUT");
    assert_string_equal(s_body(fx, 11), "{\"Timeout\":90,\"Environment\":{\"Variables\":{}}}");
}

/* ---- RDS ---- */

#define SNAP_XML(id, type)                                                                         \
    "<DBSnapshot><DBSnapshotIdentifier>" id "</DBSnapshotIdentifier><DBInstanceIdentifier>db1"     \
    "</DBInstanceIdentifier><SnapshotCreateTime>2026-01-02T03:04:05.123Z</SnapshotCreateTime>"     \
    "<Engine>postgres</Engine><Status>available</Status><SnapshotType>" type "</SnapshotType>"     \
    "<Encrypted>true</Encrypted><KmsKeyId>arn:aws:kms:k</KmsKeyId><DBSnapshotArn>arn:aws:rds:"     \
    "eu-west-1:1:snapshot:" id "</DBSnapshotArn><PercentProgress>100</PercentProgress>"            \
    "<TagList><Tag><Key>stack</Key><Value>s</Value></Tag></TagList></DBSnapshot>"

static void test_rds(void **state) {
    struct fixture *fx = *state;
    struct rdsbk_rds_snapshot *snaps = NULL;
    struct rdsbk_rds_snapshot snap;
    struct rdsbk_rds_snapshot_query q = {0};
    const char *values[] = {"db1", "db2"};
    struct rdsbk_rds_filter filter = {"db-instance-id", values, 2};
    struct rdsbk_rds_copy_input copy = {0};
    struct rdsbk_tag tags[] = {{(char *)"stack", (char *)"s"}};
    const char *add[] = {"222222222222"};
    char **accounts = NULL;
    struct rdsbk_rds_instance *instances = NULL;
    size_t n = 0;

    q.snapshot_type = "automated";
    q.include_shared = true;
    q.filters = &filter;
    q.n_filters = 1;
    fake_push(&fx->fake, 200, "text/xml",
              "<DescribeDBSnapshotsResponse><DescribeDBSnapshotsResult><Marker>mk</Marker>"
              "<DBSnapshots>" SNAP_XML("rds:db1-2026-01-02-03-04",
                                       "automated") "</DBSnapshots></DescribeDBSnapshotsResult></"
                                                    "DescribeDBSnapshotsResponse>");
    fake_push(&fx->fake, 200, "text/xml",
              "<DescribeDBSnapshotsResponse><DescribeDBSnapshotsResult><DBSnapshots>" SNAP_XML(
                  "rds:db2-2026-01-02-03-04", "automated") "</DBSnapshots>"
                                                           "</DescribeDBSnapshotsResult>"
                                                           "</DescribeDBSnapshotsResponse>");
    assert_int_equal(rdsbk_rds_describe_db_snapshots(&snaps, &n, fx->client, &q), 0);
    assert_int_equal(n, 2);
    assert_string_equal(snaps[0].id, "rds:db1-2026-01-02-03-04");
    assert_string_equal(snaps[0].source_id, "db1");
    assert_string_equal(snaps[0].snapshot_type, "automated");
    assert_true(snaps[0].encrypted);
    assert_int_equal(snaps[0].create_time, 1767323045);
    assert_int_equal(snaps[0].percent_progress, 100);
    assert_int_equal(snaps[0].n_tags, 1);
    assert_string_equal(snaps[1].arn, "arn:aws:rds:eu-west-1:1:snapshot:rds:db2-2026-01-02-03-04");
    rdsbk_rds_snapshots_free(snaps, n);
    assert_string_equal(fx->fake.requests[0].url, "https://rds.eu-west-1.amazonaws.com/");
    assert_string_equal(s_body(fx, 0),
                        "Action=DescribeDBSnapshots&Version=2014-10-31&SnapshotType=automated"
                        "&IncludeShared=true&Filters.Filter.1.Name=db-instance-id"
                        "&Filters.Filter.1.Values.Value.1=db1&Filters.Filter.1.Values.Value.2=db2");
    s_contains(s_body(fx, 1), "&Marker=mk");

    copy.source_id = "arn:aws:rds:eu-west-1:1:snapshot:rds:db1-x";
    copy.target_id = "db1-x";
    copy.kms_key_id = "arn:aws:kms:eu-west-2:2:key/k";
    copy.tags = tags;
    copy.n_tags = 1;
    fake_push(&fx->fake, 200, "text/xml",
              "<CopyDBSnapshotResponse><CopyDBSnapshotResult>" SNAP_XML(
                  "db1-x", "manual") "</CopyDBSnapshotResult></CopyDBSnapshotResponse>");
    assert_int_equal(rdsbk_rds_copy_db_snapshot(&snap, fx->client, &copy), 0);
    assert_string_equal(snap.snapshot_type, "manual");
    rdsbk_rds_snapshot_clean_up(&snap);
    assert_string_equal(s_body(fx, 2),
                        "Action=CopyDBSnapshot&Version=2014-10-31&SourceDBSnapshotIdentifier="
                        "arn%3Aaws%3Ards%3Aeu-west-1%3A1%3Asnapshot%3Ards%3Adb1-x"
                        "&TargetDBSnapshotIdentifier=db1-x&KmsKeyId=arn%3Aaws%3Akms%3Aeu-west-2%3A"
                        "2%3Akey%2Fk&Tags.Tag.1.Key=stack&Tags.Tag.1.Value=s");

    fake_push(&fx->fake, 404, "text/xml",
              "<ErrorResponse><Error><Code>DBSnapshotNotFound</Code><Message>not found</Message>"
              "</Error></ErrorResponse>");
    assert_int_equal(rdsbk_rds_delete_db_snapshot(fx->client, "gone"), RDSBK_ENOTFOUND);

    fake_push(&fx->fake, 200, "text/xml",
              "<ModifyDBSnapshotAttributeResponse><ModifyDBSnapshotAttributeResult/>"
              "</ModifyDBSnapshotAttributeResponse>");
    assert_int_equal(
        rdsbk_rds_modify_db_snapshot_attribute(fx->client, "db1-x", "restore", add, 1, NULL, 0), 0);
    assert_string_equal(s_body(fx, 4), "Action=ModifyDBSnapshotAttribute&Version=2014-10-31"
                                       "&DBSnapshotIdentifier=db1-x&AttributeName=restore"
                                       "&ValuesToAdd.AttributeValue.1=222222222222");

    fake_push(&fx->fake, 200, "text/xml",
              "<DescribeDBSnapshotAttributesResponse><DescribeDBSnapshotAttributesResult>"
              "<DBSnapshotAttributesResult><DBSnapshotIdentifier>db1-x</DBSnapshotIdentifier>"
              "<DBSnapshotAttributes><DBSnapshotAttribute><AttributeName>restore</AttributeName>"
              "<AttributeValues><AttributeValue>222222222222</AttributeValue><AttributeValue>"
              "333333333333</AttributeValue></AttributeValues></DBSnapshotAttribute>"
              "</DBSnapshotAttributes></DBSnapshotAttributesResult>"
              "</DescribeDBSnapshotAttributesResult></DescribeDBSnapshotAttributesResponse>");
    assert_int_equal(
        rdsbk_rds_describe_db_snapshot_attributes(&accounts, &n, fx->client, "db1-x", "restore"),
        0);
    assert_int_equal(n, 2);
    assert_string_equal(accounts[1], "333333333333");
    rdsbk_strings_free(accounts, n);

    /* Cluster snapshots use the DBClusterSnapshot names. */
    fake_push(&fx->fake, 200, "text/xml",
              "<DescribeDBClusterSnapshotsResponse><DescribeDBClusterSnapshotsResult>"
              "<DBClusterSnapshots><DBClusterSnapshot><DBClusterSnapshotIdentifier>rds:c1-x"
              "</DBClusterSnapshotIdentifier><DBClusterIdentifier>c1</DBClusterIdentifier>"
              "<StorageEncrypted>true</StorageEncrypted><DBClusterSnapshotArn>arn:c</"
              "DBClusterSnapshotArn></DBClusterSnapshot></DBClusterSnapshots>"
              "</DescribeDBClusterSnapshotsResult></DescribeDBClusterSnapshotsResponse>");
    memset(&q, 0, sizeof(q));
    q.source_id = "c1";
    assert_int_equal(rdsbk_rds_describe_db_cluster_snapshots(&snaps, &n, fx->client, &q), 0);
    assert_int_equal(n, 1);
    assert_string_equal(snaps[0].source_id, "c1");
    assert_string_equal(snaps[0].arn, "arn:c");
    assert_true(snaps[0].encrypted);
    rdsbk_rds_snapshots_free(snaps, n);
    assert_string_equal(s_body(fx, 6), "Action=DescribeDBClusterSnapshots&Version=2014-10-31"
                                       "&DBClusterIdentifier=c1");

    fake_push(&fx->fake, 200, "text/xml",
              "<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances><DBInstance>"
              "<DBInstanceIdentifier>drill</DBInstanceIdentifier><DBInstanceStatus>available"
              "</DBInstanceStatus><Endpoint><Address>drill.x.rds.amazonaws.com</Address><Port>5432"
              "</Port></Endpoint><StorageEncrypted>true</StorageEncrypted></DBInstance>"
              "</DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>");
    assert_int_equal(rdsbk_rds_describe_db_instances(&instances, &n, fx->client, "drill"), 0);
    assert_int_equal(n, 1);
    assert_string_equal(instances[0].endpoint_address, "drill.x.rds.amazonaws.com");
    assert_int_equal(instances[0].endpoint_port, 5432);
    rdsbk_rds_instances_free(instances, n);

    fake_push(&fx->fake, 200, "text/xml", "<DeleteDBInstanceResponse/>");
    assert_int_equal(rdsbk_rds_delete_db_instance(fx->client, "drill", true, NULL, true), 0);
    assert_string_equal(s_body(fx, 8), "Action=DeleteDBInstance&Version=2014-10-31"
                                       "&DBInstanceIdentifier=drill&SkipFinalSnapshot=true"
                                       "&DeleteAutomatedBackups=true");

    /* A marker handed back unchanged is stopped, not followed forever (one listing loop for
     * awsQuery, as for awsJson); the second page asked for it. */
    fake_push(&fx->fake, 200, "text/xml",
              "<R><DescribeDBInstancesResult><Marker>m</Marker></DescribeDBInstancesResult></R>");
    fake_push(&fx->fake, 200, "text/xml",
              "<R><DescribeDBInstancesResult><Marker>m</Marker></DescribeDBInstancesResult></R>");
    assert_int_equal(rdsbk_rds_describe_db_instances(&instances, &n, fx->client, NULL),
                     RDSBK_ERROR);
    assert_null(instances);
    assert_int_equal(n, 0);
    assert_int_equal(fx->fake.n_requests, 11);
    assert_string_equal(s_body(fx, 10), "Action=DescribeDBInstances&Version=2014-10-31&Marker=m");
    s_contains(rdsbk_error_last()->message, "pagination does not end");
}

/* DescribeAccountAttributes: every quota in the reply's order, Used and Max as Longs (AWS's
 * AllocatedStorage can pass an int); a refusal is RDSBK_EAUTH with nothing handed out. */
static void test_rds_account_quotas(void **state) {
    struct fixture *fx = *state;
    struct rdsbk_rds_account_quota *q = NULL;
    size_t n = 0;

    fake_push(&fx->fake, 200, "text/xml",
              "<DescribeAccountAttributesResponse><DescribeAccountAttributesResult><AccountQuotas>"
              "<AccountQuota><AccountQuotaName>AllocatedStorage</AccountQuotaName><Used>"
              "5000000000000</Used><Max>107374182400000</Max></AccountQuota><AccountQuota>"
              "<AccountQuotaName>ManualSnapshots</AccountQuotaName><Used>97</Used><Max>100</Max>"
              "</AccountQuota><AccountQuota><Max>5</Max><AccountQuotaName>"
              "ManualClusterSnapshots</AccountQuotaName><Used>4</Used></AccountQuota>"
              "</AccountQuotas></DescribeAccountAttributesResult>"
              "</DescribeAccountAttributesResponse>");
    assert_int_equal(rdsbk_rds_describe_account_attributes(&q, &n, fx->client), 0);
    assert_int_equal(n, 3);
    assert_string_equal(q[0].name, "AllocatedStorage");
    assert_true(q[0].used == 5000000000000LL);
    assert_true(q[0].max == 107374182400000LL);
    assert_string_equal(q[1].name, "ManualSnapshots");
    assert_int_equal(q[1].used, 97);
    assert_int_equal(q[1].max, 100);
    assert_string_equal(q[2].name, "ManualClusterSnapshots");
    assert_int_equal(q[2].used, 4);
    assert_int_equal(q[2].max, 5);
    rdsbk_rds_account_quotas_free(q, n);
    assert_string_equal(s_body(fx, 0), "Action=DescribeAccountAttributes&Version=2014-10-31");

    fake_push(&fx->fake, 403, "text/xml",
              "<ErrorResponse><Error><Code>AccessDenied</Code><Message>not authorized to perform: "
              "rds:DescribeAccountAttributes</Message></Error></ErrorResponse>");
    assert_int_equal(rdsbk_rds_describe_account_attributes(&q, &n, fx->client), RDSBK_EAUTH);
    assert_null(q);
    assert_int_equal(n, 0);
    assert_string_equal(rdsbk_error_last()->aws_code, "AccessDenied");
}

/* ---- SNS ---- */

#define TOPIC "arn:aws:sns:eu-west-1:222222222222:rdsbk-s-alerts"
#define SUB_XML(arn, endpoint)                                                                     \
    "<member><SubscriptionArn>" arn "</SubscriptionArn><Owner>222222222222</Owner>"                \
    "<Protocol>email</Protocol><Endpoint>" endpoint "</Endpoint><TopicArn>" TOPIC                  \
    "</TopicArn></member>"

static void test_sns(void **state) {
    struct fixture *fx = *state;
    struct rdsbk_tag tags[] = {{(char *)"rdsbk:stack", (char *)"s"}};
    struct rdsbk_sns_create_topic_input in = {"rdsbk-s-alerts", tags, 1};
    struct rdsbk_sns_subscription *subs = NULL;
    struct rdsbk_tag *listed = NULL;
    cJSON *attributes = NULL;
    char *arn = NULL;
    size_t n = 0;

    fake_push(&fx->fake, 200, "text/xml",
              "<CreateTopicResponse><CreateTopicResult><TopicArn>" TOPIC "</TopicArn>"
              "</CreateTopicResult></CreateTopicResponse>");
    assert_int_equal(rdsbk_sns_create_topic(&arn, fx->client, &in), 0);
    assert_string_equal(arn, TOPIC);
    free(arn);
    assert_string_equal(fx->fake.requests[0].url, "https://sns.eu-west-1.amazonaws.com/");
    s_contains(fake_header(&fx->fake.requests[0], "Authorization"), "/eu-west-1/sns/aws4_request");
    assert_string_equal(s_body(fx, 0), "Action=CreateTopic&Version=2010-03-31&Name=rdsbk-s-alerts"
                                       "&Tags.member.1.Key=rdsbk%3Astack&Tags.member.1.Value=s");

    /* the Attributes map, as a JSON object; a reply without it is refused */
    fake_push(&fx->fake, 200, "text/xml",
              "<GetTopicAttributesResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">"
              "<GetTopicAttributesResult><Attributes>"
              "<entry><key>Owner</key><value>222222222222</value></entry>"
              "<entry><key>Policy</key><value>{&quot;Version&quot;:&quot;2012-10-17&quot;}</value>"
              "</entry><entry><key>DisplayName</key><value></value></entry>"
              "</Attributes></GetTopicAttributesResult></GetTopicAttributesResponse>");
    assert_int_equal(rdsbk_sns_get_topic_attributes(&attributes, fx->client, TOPIC), 0);
    assert_string_equal(rdsbk_json_str(attributes, "Policy"), "{\"Version\":\"2012-10-17\"}");
    assert_string_equal(rdsbk_json_str(attributes, "Owner"), "222222222222");
    assert_string_equal(rdsbk_json_str(attributes, "DisplayName"), "");
    assert_int_equal(cJSON_GetArraySize(attributes), 3);
    cJSON_Delete(attributes);
    fake_push(&fx->fake, 200, "text/xml",
              "<GetTopicAttributesResponse><GetTopicAttributesResult/>"
              "</GetTopicAttributesResponse>");
    assert_int_equal(rdsbk_sns_get_topic_attributes(&attributes, fx->client, TOPIC),
                     RDSBK_EINVALID);
    assert_null(attributes);
    fake_push(&fx->fake, 404, "text/xml",
              "<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does "
              "not exist</Message></Error><RequestId>r</RequestId></ErrorResponse>");
    assert_int_equal(rdsbk_sns_get_topic_attributes(&attributes, fx->client, TOPIC),
                     RDSBK_ENOTFOUND);
    assert_string_equal(rdsbk_error_last()->aws_code, "NotFound");

    /* a pending subscription's ARN, asked for */
    fake_push(&fx->fake, 200, "text/xml",
              "<SubscribeResponse><SubscribeResult><SubscriptionArn>" TOPIC
              ":0b0e7c4e-6f00-4a55-9b8e-000000000001</SubscriptionArn></SubscribeResult>"
              "</SubscribeResponse>");
    assert_int_equal(rdsbk_sns_subscribe(&arn, fx->client, TOPIC, "email", "ops@example.com"), 0);
    assert_string_equal(arn, TOPIC ":0b0e7c4e-6f00-4a55-9b8e-000000000001");
    free(arn);
    s_contains(s_body(fx, 4), "&ReturnSubscriptionArn=true");
    fake_push(&fx->fake, 400, "text/xml",
              "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>"
              "Invalid parameter: SubscriptionArn Reason: Cannot unsubscribe a subscription that "
              "is pending confirmation</Message></Error></ErrorResponse>");
    assert_int_equal(rdsbk_sns_unsubscribe(fx->client, TOPIC ":0b0e7c4e"), RDSBK_EINVALID);

    /* every page: NextToken in the reply, then in the request */
    fake_push(
        &fx->fake, 200, "text/xml",
        "<ListSubscriptionsByTopicResponse><ListSubscriptionsByTopicResult><Subscriptions>" SUB_XML(
            "PendingConfirmation", "ops@example.com") "</Subscriptions><NextToken>t+2</NextToken>"
                                                      "</ListSubscriptionsByTopicResult>"
                                                      "</ListSubscriptionsByTopicResponse>");
    fake_push(
        &fx->fake, 200, "text/xml",
        "<ListSubscriptionsByTopicResponse><ListSubscriptionsByTopicResult><Subscriptions>" SUB_XML(
            TOPIC ":1", "dba@example.com") "</Subscriptions>"
                                           "</ListSubscriptionsByTopicResult>"
                                           "</ListSubscriptionsByTopicResponse>");
    assert_int_equal(rdsbk_sns_list_subscriptions_by_topic(&subs, &n, fx->client, TOPIC), 0);
    assert_int_equal(n, 2);
    assert_string_equal(subs[0].arn, RDSBK_SNS_PENDING);
    assert_string_equal(subs[0].endpoint, "ops@example.com");
    assert_string_equal(subs[0].protocol, "email");
    assert_string_equal(subs[0].owner, "222222222222");
    assert_string_equal(subs[1].arn, TOPIC ":1");
    assert_string_equal(subs[1].topic_arn, TOPIC);
    rdsbk_sns_subscriptions_free(subs, n);
    s_lacks(s_body(fx, 6), "NextToken");
    s_contains(s_body(fx, 7), "&NextToken=t%2B2");

    /* tags; a topic that is not there: ResourceNotFound */
    fake_push(&fx->fake, 200, "text/xml",
              "<ListTagsForResourceResponse><ListTagsForResourceResult><Tags><member><Key>a</Key>"
              "<Value>1</Value></member></Tags></ListTagsForResourceResult>"
              "</ListTagsForResourceResponse>");
    assert_int_equal(rdsbk_sns_list_tags_for_resource(&listed, &n, fx->client, TOPIC), 0);
    assert_int_equal(n, 1);
    assert_string_equal(listed[0].key, "a");
    rdsbk_aws_tags_free(listed, n);
    fake_push(&fx->fake, 404, "text/xml",
              "<ErrorResponse><Error><Type>Sender</Type><Code>ResourceNotFound</Code><Message>"
              "Resource does not exist</Message></Error></ErrorResponse>");
    assert_int_equal(rdsbk_sns_list_tags_for_resource(&listed, &n, fx->client, TOPIC),
                     RDSBK_ENOTFOUND);
    assert_null(listed);
    assert_int_equal(n, 0);
}

/* ---- SQS ---- */

#define QUEUE_URL "https://sqs.eu-west-1.amazonaws.com/222222222222/rdsbk-s-dlq"
#define SQS_NS "http://queue.amazonaws.com/doc/2012-11-05/"
#define SQS_ERROR(code, message)                                                                   \
    "<ErrorResponse xmlns=\"" SQS_NS "\"><Error><Type>Sender</Type><Code>" code "</Code>"          \
    "<Message>" message "</Message><Detail/></Error><RequestId>r</RequestId></ErrorResponse>"

static void test_sqs(void **state) {
    struct fixture *fx = *state;
    struct rdsbk_tag tags[] = {{(char *)"rdsbk:stack", (char *)"s"}};
    cJSON *attributes = cJSON_Parse("{\"VisibilityTimeout\": \"30\"}");
    struct rdsbk_sqs_create_queue_input in = {"rdsbk-s-dlq", attributes, tags, 1};
    struct rdsbk_tag *listed = NULL;
    cJSON *got = NULL;
    char *url = NULL;
    size_t n = 0;

    /* one CreateQueue: the flattened attribute map and tags, signed for sqs */
    fake_push(&fx->fake, 200, "text/xml",
              "<CreateQueueResponse xmlns=\"" SQS_NS "\"><CreateQueueResult><QueueUrl>" QUEUE_URL
              "</QueueUrl></CreateQueueResult></CreateQueueResponse>");
    assert_int_equal(rdsbk_sqs_create_queue(&url, fx->client, &in), 0);
    assert_string_equal(url, QUEUE_URL);
    free(url);
    assert_string_equal(fx->fake.requests[0].url, "https://sqs.eu-west-1.amazonaws.com/");
    s_contains(fake_header(&fx->fake.requests[0], "Authorization"), "/eu-west-1/sqs/aws4_request");
    assert_string_equal(
        s_body(fx, 0),
        "Action=CreateQueue&Version=2012-11-05&QueueName=rdsbk-s-dlq&Tag.1.Key=rdsbk"
        "%3Astack&Tag.1.Value=s&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=30");

    /* a name deleted less than 60 s ago: the code stays for the caller to wait on */
    fake_push(&fx->fake, 400, "text/xml",
              SQS_ERROR("AWS.SimpleQueueService.QueueDeletedRecently",
                        "You must wait 60 seconds after deleting a queue before you can create "
                        "another with the same name."));
    assert_int_equal(rdsbk_sqs_create_queue(&url, fx->client, &in), RDSBK_EINVALID);
    assert_null(url);
    assert_string_equal(rdsbk_error_last()->aws_code,
                        "AWS.SimpleQueueService.QueueDeletedRecently");

    /* an attribute that is not a string is refused before anything is sent */
    cJSON_AddNumberToObject(attributes, "DelaySeconds", 5);
    assert_int_equal(rdsbk_sqs_create_queue(&url, fx->client, &in), RDSBK_EINVALID);
    assert_int_equal(fx->fake.n_requests, 2);
    cJSON_Delete(attributes);

    /* no queue of that name */
    fake_push(&fx->fake, 400, "text/xml",
              SQS_ERROR("AWS.SimpleQueueService.NonExistentQueue",
                        "The specified queue does not exist for this wsdl version."));
    assert_int_equal(rdsbk_sqs_get_queue_url(&url, fx->client, "rdsbk-s-dlq"), RDSBK_ENOTFOUND);
    assert_null(url);
    assert_string_equal(rdsbk_error_last()->aws_code, "AWS.SimpleQueueService.NonExistentQueue");

    /* the Attribute elements straight in the Result, as a JSON object */
    fake_push(&fx->fake, 200, "text/xml",
              "<GetQueueAttributesResponse xmlns=\"" SQS_NS "\"><GetQueueAttributesResult>"
              "<Attribute><Name>QueueArn</Name><Value>arn:aws:sqs:eu-west-1:222222222222:rdsbk-s"
              "-dlq</Value></Attribute><Attribute><Name>Policy</Name><Value>{&quot;Version&quot;:"
              "&quot;2012-10-17&quot;}</Value></Attribute><Attribute><Name>SqsManagedSseEnabled"
              "</Name><Value>true</Value></Attribute></GetQueueAttributesResult>"
              "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
              "</GetQueueAttributesResponse>");
    assert_int_equal(rdsbk_sqs_get_queue_attributes(&got, fx->client, QUEUE_URL), 0);
    assert_string_equal(rdsbk_json_str(got, "Policy"), "{\"Version\":\"2012-10-17\"}");
    assert_string_equal(rdsbk_json_str(got, "SqsManagedSseEnabled"), "true");
    assert_int_equal(cJSON_GetArraySize(got), 3);
    cJSON_Delete(got);
    s_contains(s_body(fx, 3), "&AttributeName.1=All");

    /* tags: the Tag elements straight in the Result; none: an empty list */
    fake_push(&fx->fake, 200, "text/xml",
              "<ListQueueTagsResponse xmlns=\"" SQS_NS "\"><ListQueueTagsResult><Tag><Key>a</Key>"
              "<Value>1</Value></Tag><Tag><Key>b</Key><Value></Value></Tag></ListQueueTagsResult>"
              "</ListQueueTagsResponse>");
    assert_int_equal(rdsbk_sqs_list_queue_tags(&listed, &n, fx->client, QUEUE_URL), 0);
    assert_int_equal(n, 2);
    assert_string_equal(listed[0].key, "a");
    assert_string_equal(listed[0].value, "1");
    assert_string_equal(listed[1].value, "");
    rdsbk_aws_tags_free(listed, n);
    fake_push(&fx->fake, 200, "text/xml",
              "<ListQueueTagsResponse><ListQueueTagsResult/></ListQueueTagsResponse>");
    assert_int_equal(rdsbk_sqs_list_queue_tags(&listed, &n, fx->client, QUEUE_URL), 0);
    assert_int_equal(n, 0);
    rdsbk_aws_tags_free(listed, n);

    /* DeleteQueue of a queue that is gone */
    fake_push(&fx->fake, 400, "text/xml",
              SQS_ERROR("AWS.SimpleQueueService.NonExistentQueue",
                        "The specified queue does not exist for this wsdl version."));
    assert_int_equal(rdsbk_sqs_delete_queue(fx->client, QUEUE_URL), RDSBK_ENOTFOUND);
}

/* ---- the client: endpoints and signing Regions per service ---- */

static void test_client_endpoints(void **state) {
    struct fixture *fx = *state;
    struct rdsbk_client_options copts = {0};
    struct rdsbk_endpoints ep = {0};
    struct rdsbk_client *c = NULL;
    struct rdsbk_client *other = NULL;
    struct rdsbk_service_ctx ctx;

    ep.default_url = (char *)"http://127.0.0.1:4566";
    ep.kms = (char *)"http://127.0.0.1:4599/";
    copts.region = "eu-west-2";
    copts.http = fx->http;
    copts.endpoints = &ep;
    assert_int_equal(rdsbk_client_new(&c, &copts), 0);
    assert_int_equal(rdsbk_client_service_ctx(&ctx, c, "kms"), 0);
    assert_string_equal(ctx.endpoint, "http://127.0.0.1:4599");
    assert_string_equal(ctx.signing.region, "eu-west-2");
    assert_string_equal(ctx.signing.service, "kms");
    assert_int_equal(rdsbk_client_service_ctx(&ctx, c, "lambda"), 0);
    assert_string_equal(ctx.endpoint, "http://127.0.0.1:4566");
    /* IAM is global: signed for us-east-1 whatever the client's Region. */
    assert_int_equal(rdsbk_client_service_ctx(&ctx, c, "iam"), 0);
    assert_string_equal(ctx.signing.region, "us-east-1");
    assert_int_equal(rdsbk_client_service_ctx(&ctx, c, "s3"), 0);
    assert_string_equal(ctx.endpoint, "http://127.0.0.1:4566");
    assert_string_equal(ctx.signing.service, "s3");
    assert_int_equal(rdsbk_client_service_ctx(&ctx, c, "dynamodb"), RDSBK_EINVALID);

    /* Another Region keeps the overrides. */
    assert_int_equal(rdsbk_client_new_for_region(&other, c, "us-west-2"), 0);
    assert_int_equal(rdsbk_client_service_ctx(&ctx, other, "kms"), 0);
    assert_string_equal(ctx.endpoint, "http://127.0.0.1:4599");
    assert_string_equal(ctx.signing.region, "us-west-2");
    rdsbk_client_free(c);
    rdsbk_client_free(other);

    /* Defaults. */
    copts.endpoints = NULL;
    assert_int_equal(rdsbk_client_new(&c, &copts), 0);
    assert_int_equal(rdsbk_client_service_ctx(&ctx, c, "events"), 0);
    assert_string_equal(ctx.endpoint, "https://events.eu-west-2.amazonaws.com");
    assert_int_equal(rdsbk_client_service_ctx(&ctx, c, "sns"), 0);
    assert_string_equal(ctx.endpoint, "https://sns.eu-west-2.amazonaws.com");
    assert_string_equal(ctx.signing.service, "sns");
    assert_int_equal(rdsbk_client_service_ctx(&ctx, c, "sqs"), 0);
    assert_string_equal(ctx.endpoint, "https://sqs.eu-west-2.amazonaws.com");
    assert_string_equal(ctx.signing.service, "sqs");
    assert_int_equal(rdsbk_client_service_ctx(&ctx, c, "iam"), 0);
    assert_string_equal(ctx.endpoint, "https://iam.amazonaws.com");
    assert_int_equal(rdsbk_client_service_ctx(&ctx, c, "s3"), 0);
    assert_string_equal(ctx.endpoint, "https://s3.eu-west-2.amazonaws.com");
    assert_string_equal(ctx.signing.region, "eu-west-2");
    rdsbk_client_free(c);

    /* A bad endpoint URL or no Region is refused at creation. */
    ep.kms = (char *)"http://198.51.100.7/";
    copts.endpoints = &ep;
    assert_int_equal(rdsbk_client_new(&c, &copts), RDSBK_EINVALID);
    assert_null(c);
    copts.endpoints = NULL;
    copts.region = NULL;
    assert_int_equal(rdsbk_client_new(&c, &copts), RDSBK_EINVALID);
}

/* ---- S3 ---- */

/* An S3 reply: an XML body (or none) and one extra header. */
static void s_push_header(struct fake_aws *f, long status, const char *body, const char *name,
                          const char *value) {
    fake_push_header(f, status, body && *body ? "application/xml" : NULL, body, name, value);
}

/* The wire form of each call: virtual-hosted at the default endpoint, the key's segments encoded,
 * the headers of encryption and conditions, Content-MD5 where S3 requires it. */
static void test_s3(void **state) {
    struct fixture *fx = *state;
    struct rdsbk_s3_put kms = {
        .sse_kms_key_id = "alias/state", .if_match = "\"e1\"", .content_type = "application/json"};
    struct rdsbk_s3_put create = {.if_none_match_star = true};
    struct rdsbk_buf body = RDSBK_BUF_INIT;
    char *etag = NULL;
    char *text = NULL;
    const struct fake_request *rec;

    s_push_header(&fx->fake, 200, "", "ETag", "\"e2\"");
    assert_int_equal(rdsbk_s3_put_object(&etag, fx->client, "rdsbk-state", "stacks/a b/state.json",
                                         "{}", 2, &kms),
                     0);
    assert_string_equal(etag, "\"e2\"");
    free(etag);
    rec = &fx->fake.requests[0];
    assert_string_equal(rec->method, "PUT");
    assert_string_equal(rec->url,
                        "https://rdsbk-state.s3.eu-west-1.amazonaws.com/stacks/a%20b/state.json");
    assert_string_equal(fake_header(rec, "Host"), "rdsbk-state.s3.eu-west-1.amazonaws.com");
    assert_string_equal(fake_header(rec, "Content-Type"), "application/json");
    assert_string_equal(fake_header(rec, "x-amz-server-side-encryption"), "aws:kms");
    assert_string_equal(fake_header(rec, "x-amz-server-side-encryption-aws-kms-key-id"),
                        "alias/state");
    assert_string_equal(fake_header(rec, "If-Match"), "\"e1\"");
    assert_string_equal(fake_header(rec, "If-None-Match"), "");
    assert_string_equal(fake_header(rec, "X-Amz-Content-SHA256"),
                        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    s_contains(fake_header(rec, "Authorization"), "/eu-west-1/s3/aws4_request");
    assert_string_equal(s_body(fx, 0), "{}");

    /* SSE-S3 and If-None-Match: * */
    s_push_header(&fx->fake, 200, "", "ETag", "\"e3\"");
    assert_int_equal(rdsbk_s3_put_object(NULL, fx->client, "rdsbk-state", "lock", "x", 1, &create),
                     0);
    rec = &fx->fake.requests[1];
    assert_string_equal(fake_header(rec, "x-amz-server-side-encryption"), "AES256");
    assert_string_equal(fake_header(rec, "x-amz-server-side-encryption-aws-kms-key-id"), "");
    assert_string_equal(fake_header(rec, "If-None-Match"), "*");
    assert_string_equal(fake_header(rec, "Content-Type"), "application/octet-stream");

    /* GetObject: the bytes as they are, even XML */
    s_push_header(&fx->fake, 200, "<not-parsed/>", "ETag", "\"e4\"");
    assert_int_equal(rdsbk_s3_get_object(&body, &etag, fx->client, "rdsbk-state", "lock"), 0);
    assert_string_equal(rdsbk_buf_cstr(&body), "<not-parsed/>");
    assert_string_equal(etag, "\"e4\"");
    free(etag);
    assert_string_equal(fx->fake.requests[2].method, "GET");

    /* DeleteObject with If-Match */
    fake_push(&fx->fake, 204, NULL, "");
    assert_int_equal(rdsbk_s3_delete_object(fx->client, "rdsbk-state", "lock", "\"e4\""), 0);
    assert_string_equal(fx->fake.requests[3].method, "DELETE");
    assert_string_equal(fake_header(&fx->fake.requests[3], "If-Match"), "\"e4\"");

    /* PutBucketVersioning with Content-MD5; GetBucketVersioning */
    fake_push(&fx->fake, 200, NULL, "");
    assert_int_equal(rdsbk_s3_put_bucket_versioning(fx->client, "rdsbk-state", true), 0);
    rec = &fx->fake.requests[4];
    assert_string_equal(rec->url, "https://rdsbk-state.s3.eu-west-1.amazonaws.com/?versioning=");
    s_contains(s_body(fx, 4), "<Status>Enabled</Status>");
    assert_int_equal(strlen(fake_header(rec, "Content-MD5")), 24);
    fake_push(&fx->fake, 200, "application/xml",
              "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>");
    assert_int_equal(rdsbk_s3_get_bucket_versioning(&text, fx->client, "rdsbk-state"), 0);
    assert_string_equal(text, "");
    free(text);

    /* CreateBucket names the client's Region */
    fake_push(&fx->fake, 200, NULL, "");
    assert_int_equal(rdsbk_s3_create_bucket(fx->client, "rdsbk-state"), 0);
    s_contains(s_body(fx, 6), "<LocationConstraint>eu-west-1</LocationConstraint>");

    /* HeadBucket: a bucket of another Region is found, with its Region */
    s_push_header(&fx->fake, 301, "", "x-amz-bucket-region", "us-east-2");
    assert_int_equal(rdsbk_s3_head_bucket(&text, fx->client, "rdsbk-state"), 0);
    assert_string_equal(text, "us-east-2");
    free(text);
    fake_push(&fx->fake, 404, NULL, "");
    assert_int_equal(rdsbk_s3_head_bucket(&text, fx->client, "rdsbk-state"), RDSBK_ENOTFOUND);
    assert_null(text);

    /* a name with dots goes path-style */
    fake_push(&fx->fake, 404, "application/xml",
              "<Error><Code>NoSuchKey</Code><Message>m</Message></Error>");
    assert_int_equal(rdsbk_s3_get_object(&body, NULL, fx->client, "rdsbk.state", "k"),
                     RDSBK_ENOTFOUND);
    assert_int_equal(rdsbk_buf_len(&body), 0);
    assert_string_equal(fx->fake.requests[9].url,
                        "https://s3.eu-west-1.amazonaws.com/rdsbk.state/k");
    rdsbk_buf_clean_up(&body);
}

/* A conditional write retried after a failed attempt meets 412: reading the object back shows
 * whether the 412 is its own earlier write. */
static void test_s3_lost_reply(void **state) {
    struct fixture *fx = *state;
    struct rdsbk_http_options hopts = {.max_attempts = 3, .base_delay_ms = 1};
    struct rdsbk_client_options copts = {.region = "eu-west-1"};
    struct rdsbk_s3_put create = {.if_none_match_star = true};
    struct rdsbk_http *http = NULL;
    struct rdsbk_client *c = NULL;
    char *etag = NULL;
    int rc;

    assert_int_equal(rdsbk_http_new(&http, &hopts), 0);
    rdsbk_http_set_transport(http, fake_transport, &fx->fake);
    copts.http = http;
    assert_int_equal(rdsbk_client_new(&c, &copts), 0);

    /* 503, then 412; the object holds these bytes: the first attempt wrote it */
    fake_push(&fx->fake, 503, NULL, "");
    fake_push(&fx->fake, 412, "application/xml",
              "<Error><Code>PreconditionFailed</Code><Message>m</Message></Error>");
    s_push_header(&fx->fake, 200, "lock-1", "ETag", "\"e1\"");
    assert_int_equal(rdsbk_s3_put_object(&etag, c, "b", "lock", "lock-1", 6, &create), 0);
    assert_string_equal(etag, "\"e1\"");
    free(etag);
    assert_string_equal(fx->fake.requests[2].method, "GET");

    /* the same, but another writer's bytes: the 412 stands */
    fake_push(&fx->fake, 503, NULL, "");
    fake_push(&fx->fake, 412, "application/xml",
              "<Error><Code>PreconditionFailed</Code><Message>m</Message></Error>");
    s_push_header(&fx->fake, 200, "lock-2", "ETag", "\"e2\"");
    rc = rdsbk_s3_put_object(&etag, c, "b", "lock", "lock-1", 6, &create);
    assert_int_equal(rc, RDSBK_ECONFLICT);
    assert_true(rdsbk_s3_precondition_failed(rc));
    assert_string_equal(rdsbk_error_last()->aws_code, "PreconditionFailed");
    assert_null(etag);

    /* a 412 at the first attempt is never read back */
    fake_push(&fx->fake, 412, "application/xml",
              "<Error><Code>PreconditionFailed</Code><Message>m</Message></Error>");
    rc = rdsbk_s3_put_object(NULL, c, "b", "lock", "lock-1", 6, &create);
    assert_true(rdsbk_s3_precondition_failed(rc));
    assert_int_equal(fx->fake.n_requests, 7);
    rdsbk_client_free(c);
    rdsbk_http_free(http);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_iam_roles, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_iam_policies, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_kms, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_events, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_lambda, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_rds, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_rds_account_quotas, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_sns, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_sqs, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_client_endpoints, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_s3, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_s3_lost_reply, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
