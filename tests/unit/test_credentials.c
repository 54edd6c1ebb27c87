/* The credentials chain, against a fake STS / container endpoint / IMDSv2 on 127.0.0.1
 * (tests/creds/fake_aws_server.py), with a temporary HOME, shared files and environment per case.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "aws/credentials_private.h"
#include "rdsbk/client.h"
#include "rdsbk/credentials.h"
#include "rdsbk/error.h"
#include "rdsbk/http.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SERVER RDSBK_SOURCE_DIR "/tests/creds/fake_aws_server.py"
#define CONTAINER_TOKEN "Bearer container-secret"

static pid_t s_server_pid = -1;
static int s_port;
static char s_base_url[64];
static char s_home[64];
static struct rdsbk_http *s_http;

/* ---- the fake server ---- */

static int s_start_server(void) {
    int fds[2];
    FILE *f;
    char line[64] = "";

    if (pipe(fds) != 0)
        return -1;
    s_server_pid = fork();
    if (s_server_pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl(RDSBK_PYTHON, RDSBK_PYTHON, SERVER, "--container-token", CONTAINER_TOKEN,
              (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    f = fdopen(fds[0], "r");
    if (!f || !fgets(line, sizeof(line), f) || sscanf(line, "PORT %d", &s_port) != 1) {
        fprintf(stderr, "fake server did not start: %s\n", line);
        return -1;
    }
    fclose(f);
    snprintf(s_base_url, sizeof(s_base_url), "http://127.0.0.1:%d", s_port);
    return 0;
}

static int s_call(const char *method, const char *path, const char *body, char **reply) {
    struct rdsbk_http_request req = {0};
    struct rdsbk_http_response resp = {0};
    char url[256];
    int rc;

    snprintf(url, sizeof(url), "%s%s", s_base_url, path);
    req.method = strdup(method);
    req.url = strdup(url);
    if (body) {
        req.body = (unsigned char *)strdup(body);
        req.body_len = strlen(body);
    }
    rc = rdsbk_http_send(&resp, s_http, &req);
    if (rc == 0 && reply)
        *reply = strdup(rdsbk_buf_cstr(&resp.body));
    rdsbk_http_request_clean_up(&req);
    rdsbk_http_response_clean_up(&resp);
    return rc;
}

static void s_server_config(int expires_in) {
    char body[64];
    snprintf(body, sizeof(body), "{\"expires_in\": %d, \"fail_sts\": false}", expires_in);
    assert_int_equal(s_call("POST", "/__config", body, NULL), 0);
}

static void s_server_fail_sts(void) {
    assert_int_equal(s_call("POST", "/__config", "{\"fail_sts\": true}", NULL), 0);
}

/* The server's request log (caller deletes). */
static cJSON *s_server_log(void) {
    char *text = NULL;
    cJSON *log;
    assert_int_equal(s_call("GET", "/__log", NULL, &text), 0);
    log = cJSON_Parse(text);
    free(text);
    assert_non_null(log);
    return log;
}

static const char *s_log_str(const cJSON *entry, const char *field) {
    const cJSON *v = cJSON_GetObjectItem(entry, field);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *s_log_param(const cJSON *entry, const char *name) {
    return s_log_str(cJSON_GetObjectItem(entry, "params"), name);
}

/* ---- environment and files ---- */

static const char *const s_aws_env[] = {
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
};

static void s_write(const char *name, const char *text, mode_t mode) {
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", s_home, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

static const char *const s_files[] = {".aws/config", ".aws/credentials", "token", "proc.sh",
                                      "ctoken"};

static int s_case_setup(void **state) {
    char url[128];
    (void)state;
    for (size_t i = 0; i < sizeof(s_aws_env) / sizeof(s_aws_env[0]); i++)
        unsetenv(s_aws_env[i]);
    setenv("HOME", s_home, 1);
    /* Never the real instance metadata address, never a proxy for 127.0.0.1. */
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    setenv("NO_PROXY", "127.0.0.1,localhost", 1);
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    snprintf(url, sizeof(url), "%s", s_base_url);
    setenv("AWS_ENDPOINT_URL_STS", url, 1);
    for (size_t i = 0; i < sizeof(s_files) / sizeof(s_files[0]); i++) {
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", s_home, s_files[i]);
        unlink(path);
    }
    s_server_config(3600);
    assert_int_equal(s_call("POST", "/__reset", "{}", NULL), 0);
    return 0;
}

static int s_group_setup(void **state) {
    char dir[256];
    struct rdsbk_http_options opts = {0};
    (void)state;

    snprintf(s_home, sizeof(s_home), "/tmp/rdsbk-creds-XXXXXX");
    if (!mkdtemp(s_home))
        return -1;
    snprintf(dir, sizeof(dir), "%s/.aws", s_home);
    mkdir(dir, 0700);
    setenv("NO_PROXY", "127.0.0.1,localhost", 1);
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    opts.max_attempts = 1;
    opts.connect_timeout_ms = 5000;
    opts.timeout_ms = 20000;
    if (rdsbk_http_new(&s_http, &opts) != 0)
        return -1;
    return s_start_server();
}

static int s_group_teardown(void **state) {
    char path[256];
    (void)state;
    if (s_server_pid > 0) {
        kill(s_server_pid, SIGTERM);
        waitpid(s_server_pid, NULL, 0);
    }
    rdsbk_http_free(s_http);
    for (size_t i = 0; i < sizeof(s_files) / sizeof(s_files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", s_home, s_files[i]);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/.aws", s_home);
    rmdir(path);
    rmdir(s_home);
    return 0;
}

/* Resolves with the given explicit profile / topology role and returns the error code; `out`
 * receives the credentials and `desc` the description (both may be NULL). */
static int s_resolve(struct rdsbk_credentials *out, const char *profile, const char *role_arn,
                     char *desc, size_t desc_size) {
    struct rdsbk_credentials_options opts = {0};
    struct rdsbk_credentials_provider *p = NULL;
    struct rdsbk_credentials tmp = {0};
    int rc;

    opts.profile = profile;
    opts.region = "eu-west-1";
    opts.http = s_http;
    opts.role_arn = role_arn;
    opts.session_name = "rdsbk-teststack";
    assert_int_equal(rdsbk_credentials_provider_new(&p, &opts), 0);
    rc = rdsbk_credentials_provider_get(out ? out : &tmp, p);
    if (desc)
        snprintf(desc, desc_size, "%s", rdsbk_credentials_provider_describe(p));
    rdsbk_credentials_clean_up(&tmp);
    rdsbk_credentials_provider_free(p);
    return rc;
}

static void s_contains(const char *haystack, const char *needle) {
    if (!strstr(haystack, needle))
        fail_msg("expected to find [%s] in [%s]", needle, haystack);
}

/* ---- shared file parsing ---- */

static void test_ini_parse(void **state) {
    struct rdsbk_ini ini;
    (void)state;
    assert_int_equal(rdsbk_ini_parse(&ini,
                                     "# comment\n"
                                     "[default]\n"
                                     "region = eu-west-1\n"
                                     "[profile prod]\n"
                                     "Role_Arn=arn:aws:iam::1:role/x\n"
                                     "source_profile = base ; not a comment in botocore\n"
                                     "s3 =\n"
                                     "  max_concurrent_requests = 10\n"
                                     "[sso-session s]\n"
                                     "sso_region = us-east-1\n"
                                     "[profile   spaced  ]\r\n"
                                     "k: v\r\n"
                                     "[default]\n"
                                     "output = json\n",
                                     true),
                     0);
    assert_int_equal(ini.n_sections, 3);
    assert_string_equal(rdsbk_ini_get(rdsbk_ini_section(&ini, "default"), "region"), "eu-west-1");
    assert_string_equal(rdsbk_ini_get(rdsbk_ini_section(&ini, "default"), "output"), "json");
    assert_string_equal(rdsbk_ini_get(rdsbk_ini_section(&ini, "prod"), "role_arn"),
                        "arn:aws:iam::1:role/x");
    assert_string_equal(rdsbk_ini_get(rdsbk_ini_section(&ini, "prod"), "source_profile"),
                        "base ; not a comment in botocore");
    assert_string_equal(rdsbk_ini_get(rdsbk_ini_section(&ini, "prod"), "s3"), "");
    assert_null(rdsbk_ini_get(rdsbk_ini_section(&ini, "prod"), "max_concurrent_requests"));
    assert_null(rdsbk_ini_section(&ini, "s"));
    assert_null(rdsbk_ini_section(&ini, "sso-session s"));
    assert_string_equal(rdsbk_ini_get(rdsbk_ini_section(&ini, "spaced"), "k"), "v");
    rdsbk_ini_clean_up(&ini);

    /* The credentials file has no "profile " prefix. */
    assert_int_equal(
        rdsbk_ini_parse(&ini, "[prod]\naws_access_key_id=A\n[profile x]\nk=v\n", false), 0);
    assert_non_null(rdsbk_ini_section(&ini, "prod"));
    assert_non_null(rdsbk_ini_section(&ini, "profile x"));
    assert_null(rdsbk_ini_section(&ini, "x"));
    rdsbk_ini_clean_up(&ini);
}

static void test_process_output(void **state) {
    struct rdsbk_credentials c;
    (void)state;
    assert_int_equal(rdsbk_credentials_parse_process_output(
                         &c, "{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\","
                             " \"SessionToken\": \"T\", \"Expiration\": \"2030-01-01T00:00:00Z\"}"),
                     0);
    assert_string_equal(c.access_key_id, "A");
    assert_string_equal(c.secret_access_key, "S");
    assert_string_equal(c.session_token, "T");
    assert_int_equal(c.expiration, 1893456000);
    rdsbk_credentials_clean_up(&c);
    assert_int_equal(
        rdsbk_credentials_parse_process_output(
            &c, "{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\"}"),
        0);
    assert_null(c.session_token);
    assert_int_equal(c.expiration, 0);
    rdsbk_credentials_clean_up(&c);
    assert_int_equal(
        rdsbk_credentials_parse_process_output(
            &c, "{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\"}"),
        RDSBK_EAUTH);
    assert_int_equal(rdsbk_credentials_parse_process_output(&c, "{\"Version\": 1}"), RDSBK_EAUTH);
    assert_int_equal(rdsbk_credentials_parse_process_output(&c, "not json"), RDSBK_EAUTH);
    assert_int_equal(
        rdsbk_credentials_parse_process_output(
            &c,
            "{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Expiration\":\"x\"}"),
        RDSBK_EAUTH);
}

/* ---- precedence ---- */

static void test_environment(void **state) {
    struct rdsbk_credentials c;
    char desc[256];
    (void)state;
    setenv("AWS_ACCESS_KEY_ID", "AKID1ENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
    setenv("AWS_SESSION_TOKEN", "env-token", 1);
    s_write(".aws/credentials", "[default]\naws_access_key_id=AKID2FILE\naws_secret_access_key=f\n",
            0600);
    assert_int_equal(s_resolve(&c, NULL, NULL, desc, sizeof(desc)), 0);
    assert_string_equal(c.access_key_id, "AKID1ENV");
    assert_string_equal(c.secret_access_key, "env-secret");
    assert_string_equal(c.session_token, "env-token");
    assert_int_equal(c.expiration, 0);
    assert_non_null(strstr(desc, "environment"));
    rdsbk_credentials_clean_up(&c);

    /* AWS_PROFILE does not outrank the environment's keys (botocore keeps the env provider). */
    s_write(".aws/credentials",
            "[default]\naws_access_key_id=AKID2FILE\naws_secret_access_key=f\n"
            "[other]\naws_access_key_id=AKID3OTHER\naws_secret_access_key=o\n",
            0600);
    setenv("AWS_PROFILE", "other", 1);
    assert_int_equal(s_resolve(&c, NULL, NULL, NULL, 0), 0);
    assert_string_equal(c.access_key_id, "AKID1ENV");
    rdsbk_credentials_clean_up(&c);

    /* An explicit (topology) profile does. */
    assert_int_equal(s_resolve(&c, "other", NULL, desc, sizeof(desc)), 0);
    assert_string_equal(c.access_key_id, "AKID3OTHER");
    assert_null(c.session_token);
    assert_string_equal(desc, "profile other");
    rdsbk_credentials_clean_up(&c);

    /* Only one of the two variables: an error, not a silent fallback. */
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_PROFILE");
    assert_int_equal(s_resolve(&c, NULL, NULL, NULL, 0), RDSBK_EAUTH);
    assert_non_null(strstr(rdsbk_error_last()->message, "partial credentials"));
}

static void test_shared_files(void **state) {
    struct rdsbk_credentials c;
    char path[256];
    (void)state;

    /* The credentials file beats the config file for the same profile. */
    s_write(".aws/credentials", "[default]\naws_access_key_id=AKID2CRED\naws_secret_access_key=c\n",
            0600);
    s_write(".aws/config",
            "[default]\naws_access_key_id=AKID3CONF\naws_secret_access_key=k\n"
            "[profile cfgonly]\naws_access_key_id=AKID4CFG\naws_secret_access_key=k4\n"
            "aws_session_token=tok4\n",
            0600);
    assert_int_equal(s_resolve(&c, NULL, NULL, NULL, 0), 0);
    assert_string_equal(c.access_key_id, "AKID2CRED");
    rdsbk_credentials_clean_up(&c);
    /* "[profile x]" in the config file; AWS_PROFILE picks it. */
    setenv("AWS_PROFILE", "cfgonly", 1);
    assert_int_equal(s_resolve(&c, NULL, NULL, NULL, 0), 0);
    assert_string_equal(c.access_key_id, "AKID4CFG");
    assert_string_equal(c.session_token, "tok4");
    rdsbk_credentials_clean_up(&c);
    unsetenv("AWS_PROFILE");

    /* AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE move the files. */
    s_write("token", "[default]\naws_access_key_id=AKID5MOVED\naws_secret_access_key=m\n", 0600);
    snprintf(path, sizeof(path), "%s/token", s_home);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    assert_int_equal(s_resolve(&c, NULL, NULL, NULL, 0), 0);
    assert_string_equal(c.access_key_id, "AKID5MOVED");
    rdsbk_credentials_clean_up(&c);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "~/nonexistent", 1);
    setenv("AWS_CONFIG_FILE", "~/token", 1);
    /* "~/token" read as a config file: its "[default]" section. */
    assert_int_equal(s_resolve(&c, NULL, NULL, NULL, 0), 0);
    assert_string_equal(c.access_key_id, "AKID5MOVED");
    rdsbk_credentials_clean_up(&c);
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    unsetenv("AWS_CONFIG_FILE");

    /* A profile asked for by name must exist, whether explicit or from AWS_PROFILE. */
    assert_int_equal(s_resolve(&c, "nope", NULL, NULL, 0), RDSBK_EAUTH);
    assert_string_equal(rdsbk_error_last()->message,
                        "the config profile (nope) could not be found");
    setenv("AWS_PROFILE", "nope2", 1);
    assert_int_equal(s_resolve(&c, NULL, NULL, NULL, 0), RDSBK_EAUTH);
    unsetenv("AWS_PROFILE");

    /* Nothing anywhere (IMDS disabled): RDSBK_EAUTH naming what was tried. */
    unlink(".aws/credentials");
    snprintf(path, sizeof(path), "%s/.aws/credentials", s_home);
    unlink(path);
    snprintf(path, sizeof(path), "%s/.aws/config", s_home);
    unlink(path);
    assert_int_equal(s_resolve(&c, NULL, NULL, NULL, 0), RDSBK_EAUTH);
    assert_non_null(strstr(rdsbk_error_last()->message, "no AWS credentials found"));
}

/* ---- roles ---- */

static void test_role_source_profile(void **state) {
    struct rdsbk_credentials c;
    char desc[256];
    cJSON *log;
    const cJSON *e0;
    const cJSON *e1;
    (void)state;

    s_write(".aws/credentials", "[base]\naws_access_key_id=AKID1BASE\naws_secret_access_key=b\n",
            0600);
    s_write(".aws/config",
            "[profile mid]\nrole_arn = arn:aws:iam::222222222222:role/mid\nsource_profile = base\n"
            "role_session_name = midsess\nexternal_id = ext-1\n"
            "[profile top]\nrole_arn = arn:aws:iam::333333333333:role/top\nsource_profile = mid\n",
            0600);
    assert_int_equal(s_resolve(&c, "top", NULL, desc, sizeof(desc)), 0);
    assert_string_equal(desc, "profile top");
    assert_non_null(strstr(c.access_key_id, "ASIA333333333333"));
    assert_non_null(c.session_token);
    assert_true(c.expiration > time(NULL) + 3000);
    rdsbk_credentials_clean_up(&c);

    /* Two AssumeRoles, in chain order, each signed with the previous credentials. */
    log = s_server_log();
    assert_int_equal(cJSON_GetArraySize(log), 2);
    e0 = cJSON_GetArrayItem(log, 0);
    e1 = cJSON_GetArrayItem(log, 1);
    assert_string_equal(s_log_str(e0, "action"), "AssumeRole");
    assert_string_equal(s_log_param(e0, "RoleArn"), "arn:aws:iam::222222222222:role/mid");
    assert_string_equal(s_log_param(e0, "RoleSessionName"), "midsess");
    assert_string_equal(s_log_param(e0, "ExternalId"), "ext-1");
    assert_string_equal(s_log_str(e0, "key"), "AKID1BASE");
    assert_string_equal(s_log_str(e0, "content_type"),
                        "application/x-www-form-urlencoded; charset=utf-8");
    assert_string_equal(s_log_param(e1, "RoleArn"), "arn:aws:iam::333333333333:role/top");
    assert_non_null(strstr(s_log_str(e1, "key"), "ASIA222222222222"));
    assert_non_null(strstr(s_log_str(e1, "token"), "token-ASIA222222222222"));
    cJSON_Delete(log);
}

static void test_role_errors(void **state) {
    struct rdsbk_credentials c;
    (void)state;

    s_write(".aws/config",
            "[profile a]\nrole_arn=arn:aws:iam::1:role/a\nsource_profile=b\n"
            "[profile b]\nrole_arn=arn:aws:iam::1:role/b\nsource_profile=a\n"
            "[profile both]\nrole_arn=arn:aws:iam::1:role/x\nsource_profile=a\n"
            "credential_source=Environment\n"
            "[profile neither]\nrole_arn=arn:aws:iam::1:role/x\n"
            "[profile missing]\nrole_arn=arn:aws:iam::1:role/x\nsource_profile=ghost\n"
            "[profile self]\nrole_arn=arn:aws:iam::666666666666:role/self\nsource_profile=self\n"
            "aws_access_key_id=AKID6SELF\naws_secret_access_key=s\n"
            "[profile badsrc]\nrole_arn=arn:aws:iam::1:role/x\ncredential_source=Moon\n"
            "[profile denied]\nrole_arn=arn:aws:iam::1:role/denied\nsource_profile=self\n"
            "[profile envsrc]\nrole_arn=arn:aws:iam::777777777777:role/e\n"
            "credential_source=Environment\n"
            "[profile nocreds]\nregion=eu-west-1\n"
            "[profile sso]\nsso_session=corp\nsso_account_id=1\nsso_role_name=Admin\n"
            "[profile fromnocreds]\nrole_arn=arn:aws:iam::1:role/x\nsource_profile=nocreds\n",
            0600);
    assert_int_equal(s_resolve(&c, "a", NULL, NULL, 0), RDSBK_EINVALID);
    assert_non_null(strstr(rdsbk_error_last()->message, "infinite loop"));
    assert_int_equal(s_resolve(&c, "both", NULL, NULL, 0), RDSBK_EINVALID);
    assert_int_equal(s_resolve(&c, "neither", NULL, NULL, 0), RDSBK_EINVALID);
    assert_int_equal(s_resolve(&c, "missing", NULL, NULL, 0), RDSBK_EAUTH);
    assert_int_equal(s_resolve(&c, "badsrc", NULL, NULL, 0), RDSBK_EINVALID);
    assert_int_equal(s_resolve(&c, "sso", NULL, NULL, 0), RDSBK_EAUTH);
    s_contains(rdsbk_error_last()->message, "export-credentials --profile sso");
    assert_int_equal(s_resolve(&c, "fromnocreds", NULL, NULL, 0), RDSBK_EAUTH);
    assert_non_null(strstr(rdsbk_error_last()->message, "must have credentials"));

    /* A profile may source itself when it holds keys. */
    assert_int_equal(s_resolve(&c, "self", NULL, NULL, 0), 0);
    assert_non_null(strstr(c.access_key_id, "ASIA666666666666"));
    rdsbk_credentials_clean_up(&c);

    /* STS refusing: RDSBK_EAUTH with the AWS code. */
    assert_int_equal(s_resolve(&c, "denied", NULL, NULL, 0), RDSBK_EAUTH);
    assert_string_equal(rdsbk_error_last()->aws_code, "AccessDenied");

    /* credential_source = Environment, even with an explicit profile. */
    assert_int_equal(s_resolve(&c, "envsrc", NULL, NULL, 0), RDSBK_EAUTH);
    setenv("AWS_ACCESS_KEY_ID", "AKID7ENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "e", 1);
    assert_int_equal(s_resolve(&c, "envsrc", NULL, NULL, 0), 0);
    assert_non_null(strstr(c.access_key_id, "ASIA777777777777"));
    rdsbk_credentials_clean_up(&c);
}

static void test_topology_role(void **state) {
    struct rdsbk_credentials c;
    char desc[256];
    cJSON *log;
    const cJSON *e;
    (void)state;

    setenv("AWS_ACCESS_KEY_ID", "AKID1ENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "e", 1);
    assert_int_equal(
        s_resolve(&c, NULL, "arn:aws:iam::888888888888:role/deployer", desc, sizeof(desc)), 0);
    assert_non_null(strstr(c.access_key_id, "ASIA888888888888"));
    assert_non_null(strstr(desc, "role arn:aws:iam::888888888888:role/deployer"));
    assert_non_null(strstr(desc, "environment"));
    rdsbk_credentials_clean_up(&c);
    log = s_server_log();
    assert_int_equal(cJSON_GetArraySize(log), 1);
    e = cJSON_GetArrayItem(log, 0);
    assert_string_equal(s_log_param(e, "RoleSessionName"), "rdsbk-teststack");
    assert_string_equal(s_log_str(e, "key"), "AKID1ENV");
    cJSON_Delete(log);
}

/* ---- other sources ---- */

static void test_web_identity(void **state) {
    struct rdsbk_credentials c;
    char path[256];
    cJSON *log;
    const cJSON *e;
    (void)state;

    s_write("token", "web-identity-token-abc\n", 0600);
    snprintf(path, sizeof(path), "%s/token", s_home);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::999999999999:role/ci", 1);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", path, 1);
    setenv("AWS_ROLE_SESSION_NAME", "ci-session", 1);
    assert_int_equal(s_resolve(&c, NULL, NULL, NULL, 0), 0);
    assert_non_null(strstr(c.access_key_id, "ASIA999999999999"));
    rdsbk_credentials_clean_up(&c);
    log = s_server_log();
    e = cJSON_GetArrayItem(log, 0);
    assert_string_equal(s_log_str(e, "action"), "AssumeRoleWithWebIdentity");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(e, "key"))); /* unsigned */
    assert_string_equal(s_log_param(e, "WebIdentityToken"), "web-identity-token-abc");
    assert_string_equal(s_log_param(e, "RoleSessionName"), "ci-session");
    cJSON_Delete(log);

    /* A wrong token: STS's error, as RDSBK_EAUTH or RDSBK_EINVALID with the AWS code kept. */
    s_write("token", "wrong", 0600);
    assert_true(s_resolve(&c, NULL, NULL, NULL, 0) < 0);
    assert_string_equal(rdsbk_error_last()->aws_code, "InvalidIdentityToken");

    /* From a profile. */
    unsetenv("AWS_ROLE_ARN");
    unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
    s_write("token", "web-identity-token-abc", 0600);
    {
        char cfg[512];
        snprintf(cfg, sizeof(cfg),
                 "[profile wi]\nrole_arn=arn:aws:iam::121212121212:role/w\n"
                 "web_identity_token_file=%s\n",
                 path);
        s_write(".aws/config", cfg, 0600);
    }
    assert_int_equal(s_resolve(&c, "wi", NULL, NULL, 0), 0);
    assert_non_null(strstr(c.access_key_id, "ASIA121212121212"));
    rdsbk_credentials_clean_up(&c);
}

static void test_credential_process(void **state) {
    struct rdsbk_credentials c;
    char cfg[512];
    (void)state;

    s_write("proc.sh",
            "#!/bin/sh\n"
            "[ \"$1\" = fail ] && { echo boom >&2; exit 3; }\n"
            "[ \"$1\" = v2 ] && { echo '{\"Version\": 2}'; exit 0; }\n"
            "echo '{\"Version\": 1, \"AccessKeyId\": \"AKID1PROC\", \"SecretAccessKey\": \"p\",'\n"
            "echo ' \"SessionToken\": \"ptok\", \"Expiration\": \"2099-01-01T00:00:00Z\"}'\n",
            0700);
    snprintf(cfg, sizeof(cfg),
             "[profile proc]\ncredential_process = %s/proc.sh ok\n"
             "[profile fail]\ncredential_process = %s/proc.sh fail\n"
             "[profile v2]\ncredential_process = %s/proc.sh v2\n"
             "[profile procrole]\nrole_arn=arn:aws:iam::131313131313:role/p\nsource_profile=proc\n",
             s_home, s_home, s_home);
    s_write(".aws/config", cfg, 0600);
    assert_int_equal(s_resolve(&c, "proc", NULL, NULL, 0), 0);
    assert_string_equal(c.access_key_id, "AKID1PROC");
    assert_string_equal(c.session_token, "ptok");
    assert_int_equal(c.expiration, 4070908800);
    rdsbk_credentials_clean_up(&c);
    assert_int_equal(s_resolve(&c, "fail", NULL, NULL, 0), RDSBK_EAUTH);
    assert_non_null(strstr(rdsbk_error_last()->message, "exit status 3"));
    assert_int_equal(s_resolve(&c, "v2", NULL, NULL, 0), RDSBK_EAUTH);
    /* A process as a role's source. */
    assert_int_equal(s_resolve(&c, "procrole", NULL, NULL, 0), 0);
    assert_non_null(strstr(c.access_key_id, "ASIA131313131313"));
    rdsbk_credentials_clean_up(&c);
}

/* Where container credentials may come from: botocore's rules, on the URL libcurl reads. */
static const struct {
    const char *name;
    const char *relative;
    const char *full;
    const char *expected; /* the URL sent; NULL: refused */
} s_container_urls[] = {
    {"https, any host", NULL, "https://creds.example.com/v1", "https://creds.example.com/v1"},
    {"https, an address and a port", NULL, "https://10.1.2.3:8443/c", "https://10.1.2.3:8443/c"},
    {"http loopback", NULL, "http://127.0.0.1:8080/creds", "http://127.0.0.1:8080/creds"},
    {"http 127/8", NULL, "http://127.255.0.9/creds", "http://127.255.0.9/creds"},
    {"http localhost", NULL, "http://localhost/creds", "http://localhost/creds"},
    {"http LOCALHOST", NULL, "HTTP://LOCALHOST:9/c", "http://LOCALHOST:9/c"},
    {"http [::1]", NULL, "http://[::1]:80/creds", "http://[::1]:80/creds"},
    {"http ::1 written long", NULL, "http://[0:0:0:0:0:0:0:1]/c", "http://[::1]/c"},
    {"ECS agent", NULL, "http://169.254.170.2/v2/credentials",
     "http://169.254.170.2/v2/credentials"},
    {"EKS Pod Identity agent", NULL, "http://169.254.170.23/v1/credentials",
     "http://169.254.170.23/v1/credentials"},
    {"EKS Pod Identity agent, IPv6", NULL, "http://[fd00:ec2::23]/v1/credentials",
     "http://[fd00:ec2::23]/v1/credentials"},
    {"relative URI", "/v2/credentials/4a5b", NULL, "http://169.254.170.2/v2/credentials/4a5b"},
    {"relative URI first", "/v2/x", "https://creds.example.com/", "http://169.254.170.2/v2/x"},
    /* user info: the host is what follows the '@' */
    {"user info to another host", NULL, "http://127.0.0.1@192.0.2.1/creds", NULL},
    {"user info and port", NULL, "http://127.0.0.1:80@192.0.2.1/creds", NULL},
    {"user info, backslash", NULL, "http://127.0.0.1\\@192.0.2.1/creds", NULL},
    {"user info to loopback", NULL, "http://user:secret@127.0.0.1/creds", NULL},
    {"user info, https", NULL, "https://user@creds.example.com/", NULL},
    {"empty user info", NULL, "http://:@127.0.0.1/creds", NULL},
    /* not a loopback address as botocore reads it, or not the host libcurl would reach */
    {"127.1", NULL, "http://127.1/creds", NULL},
    {"a number", NULL, "http://2130706433/creds", NULL},
    {"hex", NULL, "http://0x7f.0.0.1/creds", NULL},
    {"leading zeros", NULL, "http://127.000.0.1/creds", NULL},
    {"percent-encoded host", NULL, "http://%31%32%37.0.0.1/creds", NULL},
    {"loopback-looking name", NULL, "http://127.0.0.1.example.com/creds", NULL},
    {"localhost subdomain", NULL, "http://localhost.example.com/creds", NULL},
    {"agent-looking name", NULL, "http://169.254.170.2.example.com/creds", NULL},
    {"another address", NULL, "http://192.0.2.1/creds", NULL},
    {"instance metadata", NULL, "http://169.254.169.254/latest", NULL},
    {"IPv4-mapped loopback", NULL, "http://[::ffff:127.0.0.1]/creds", NULL},
    {"zone id", NULL, "http://[::1%25lo]/creds", NULL},
    {"another scheme", NULL, "ftp://127.0.0.1/creds", NULL},
    {"a file", NULL, "file:///etc/passwd", NULL},
    {"not a URL", NULL, "127.0.0.1/creds", NULL},
    {"one slash", NULL, "http:/127.0.0.1/creds", NULL},
    /* the relative URI must stay a path on the ECS agent */
    {"relative: user info", "@192.0.2.1/creds", NULL, NULL},
    {"relative: port and user info", ":80@192.0.2.1/creds", NULL, NULL},
    {"relative: longer host", ".example.com/creds", NULL, NULL},
    {"relative: query only", "?id=1", NULL, NULL},
    {"relative: a line break", "/creds\r\nX-Injected: 1", NULL, NULL},
};

static void test_container_urls(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(s_container_urls) / sizeof(s_container_urls[0]); i++) {
        char *url = NULL;
        int rc = rdsbk_credentials_container_url(&url, s_container_urls[i].relative,
                                                 s_container_urls[i].full);
        const char *expected = s_container_urls[i].expected;

        if (expected && (rc != 0 || strcmp(url, expected) != 0))
            fail_msg("%s: expected %s, got %s (%s)", s_container_urls[i].name, expected,
                     rc ? "a refusal" : url, rc ? rdsbk_error_last()->message : "");
        if (!expected && rc != RDSBK_EAUTH)
            fail_msg("%s: accepted as %s", s_container_urls[i].name, url);
        if (!expected && !strstr(rdsbk_error_last()->message, "AWS_CONTAINER_CREDENTIALS_"))
            fail_msg("%s: the message does not name the variable: %s", s_container_urls[i].name,
                     rdsbk_error_last()->message);
        free(url);
    }
}

/* How many container credential requests the fake server has seen. */
static int s_container_requests(void) {
    cJSON *log = s_server_log();
    const cJSON *entry;
    int n = 0;

    cJSON_ArrayForEach(entry, log) {
        const char *action = s_log_str(entry, "action");
        n += action && strcmp(action, "container") == 0;
    }
    cJSON_Delete(log);
    return n;
}

static void test_container(void **state) {
    struct rdsbk_credentials c;
    char url[128];
    char path[256];
    char desc[256];
    (void)state;

    snprintf(url, sizeof(url), "%s/container/creds", s_base_url);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    s_write("ctoken", CONTAINER_TOKEN, 0600);
    snprintf(path, sizeof(path), "%s/ctoken", s_home);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", path, 1);
    assert_int_equal(s_resolve(&c, NULL, NULL, desc, sizeof(desc)), 0);
    assert_non_null(strstr(c.access_key_id, "ASIA444444444444"));
    assert_non_null(c.session_token);
    assert_true(c.expiration > time(NULL));
    assert_string_equal(desc, "container credentials");
    rdsbk_credentials_clean_up(&c);
    assert_int_equal(s_container_requests(), 1);

    /* The file is the token, whole (botocore): a line break in it, even a last one, would end
     * the header and start another; it is refused and nothing is sent. */
    s_write("ctoken", CONTAINER_TOKEN "\r\nX-Injected: 1", 0600);
    assert_int_equal(s_resolve(&c, NULL, NULL, NULL, 0), RDSBK_EAUTH);
    s_contains(rdsbk_error_last()->message, "line break");
    s_write("ctoken", CONTAINER_TOKEN "\n", 0600);
    assert_int_equal(s_resolve(&c, NULL, NULL, NULL, 0), RDSBK_EAUTH);
    assert_int_equal(s_container_requests(), 1);

    /* The token variable when there is no file; a wrong token is refused. */
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", CONTAINER_TOKEN, 1);
    assert_int_equal(s_resolve(&c, NULL, NULL, NULL, 0), 0);
    rdsbk_credentials_clean_up(&c);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer wrong", 1);
    assert_int_equal(s_resolve(&c, NULL, NULL, NULL, 0), RDSBK_EAUTH);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", CONTAINER_TOKEN, 1);
    assert_int_equal(s_container_requests(), 3);

    /* http:// to a host that is not loopback or the container agent is refused. */
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://192.0.2.1/creds", 1);
    assert_int_equal(s_resolve(&c, NULL, NULL, NULL, 0), RDSBK_EAUTH);
    assert_non_null(strstr(rdsbk_error_last()->message, "loopback"));

    /* User info: the request would go to the host after the '@' (here the fake server again,
     * which counts what reaches it), with the token. Refused before anything is sent. */
    snprintf(url, sizeof(url), "http://127.0.0.1@127.0.0.1:%d/container/creds", s_port);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    assert_int_equal(s_resolve(&c, NULL, NULL, NULL, 0), RDSBK_EAUTH);
    s_contains(rdsbk_error_last()->message, "user info");
    assert_int_equal(s_container_requests(), 3);

    /* Static keys in the files come before the container. */
    s_write(".aws/credentials", "[default]\naws_access_key_id=AKID2FILE\naws_secret_access_key=f\n",
            0600);
    assert_int_equal(s_resolve(&c, NULL, NULL, NULL, 0), 0);
    assert_string_equal(c.access_key_id, "AKID2FILE");
    rdsbk_credentials_clean_up(&c);
}

static void test_imds(void **state) {
    struct rdsbk_credentials c;
    char desc[256];
    cJSON *log;
    (void)state;

    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", s_base_url, 1);
    assert_int_equal(s_resolve(&c, NULL, NULL, desc, sizeof(desc)), 0);
    assert_non_null(strstr(c.access_key_id, "ASIA555555555555"));
    assert_string_equal(desc, "EC2 instance metadata");
    rdsbk_credentials_clean_up(&c);
    /* PUT token (with a TTL), GET role name, GET credentials, both GETs with the token. */
    log = s_server_log();
    assert_int_equal(cJSON_GetArraySize(log), 3);
    assert_string_equal(s_log_str(cJSON_GetArrayItem(log, 0), "action"), "imds-token");
    assert_string_equal(s_log_str(cJSON_GetArrayItem(log, 0), "ttl"), "21600");
    assert_string_equal(s_log_str(cJSON_GetArrayItem(log, 2), "path"),
                        "/latest/meta-data/iam/security-credentials/fake-instance-role");
    assert_string_equal(s_log_str(cJSON_GetArrayItem(log, 2), "token"), "imds-session-token-1");
    cJSON_Delete(log);

    /* credential_source = Ec2InstanceMetadata */
    s_write(".aws/config",
            "[profile ec2]\nrole_arn=arn:aws:iam::141414141414:role/e\n"
            "credential_source=Ec2InstanceMetadata\n",
            0600);
    assert_int_equal(s_resolve(&c, "ec2", NULL, NULL, 0), 0);
    assert_non_null(strstr(c.access_key_id, "ASIA141414141414"));
    rdsbk_credentials_clean_up(&c);

    /* Nothing listening: the last resort failing means "no credentials", quickly. */
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9", 1);
    {
        time_t t0 = time(NULL);
        assert_int_equal(s_resolve(&c, NULL, NULL, NULL, 0), RDSBK_EAUTH);
        assert_true(time(NULL) - t0 < 8);
        s_contains(rdsbk_error_last()->message, "no AWS credentials found");
        s_contains(rdsbk_error_last()->message, "instance metadata: ");
    }

    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    assert_int_equal(s_resolve(&c, NULL, NULL, NULL, 0), RDSBK_EAUTH);
}

/* ---- refresh and threads ---- */

struct s_thread_arg {
    struct rdsbk_credentials_provider *p;
    int failures;
};

static void *s_getter(void *arg) {
    struct s_thread_arg *a = arg;
    for (int i = 0; i < 20; i++) {
        struct rdsbk_credentials c;
        if (rdsbk_credentials_provider_get(&c, a->p) != 0 || !c.access_key_id)
            a->failures++;
        rdsbk_credentials_clean_up(&c);
    }
    return NULL;
}

static void test_refresh(void **state) {
    struct rdsbk_credentials_options opts = {0};
    struct rdsbk_credentials_provider *p = NULL;
    struct rdsbk_credentials c1;
    struct rdsbk_credentials c2;
    pthread_t threads[4];
    struct s_thread_arg args[4];
    (void)state;

    setenv("AWS_ACCESS_KEY_ID", "AKID1ENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "e", 1);
    opts.region = "eu-west-1";
    opts.http = s_http;
    opts.role_arn = "arn:aws:iam::151515151515:role/r";
    opts.session_name = "rdsbk-refresh";

    /* Credentials valid for an hour are fetched once, whatever the number of callers. */
    assert_int_equal(rdsbk_credentials_provider_new(&p, &opts), 0);
    for (int i = 0; i < 4; i++) {
        args[i].p = p;
        args[i].failures = 0;
        pthread_create(&threads[i], NULL, s_getter, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(args[i].failures, 0);
    }
    assert_int_equal(rdsbk_credentials_provider_fetches(p), 1);
    rdsbk_credentials_provider_free(p);

    /* Credentials expiring within the refresh window are fetched again on the next get. */
    s_server_config(RDSBK_CREDENTIALS_REFRESH_SECONDS - 120);
    assert_int_equal(rdsbk_credentials_provider_new(&p, &opts), 0);
    assert_int_equal(rdsbk_credentials_provider_get(&c1, p), 0);
    assert_int_equal(rdsbk_credentials_provider_get(&c2, p), 0);
    assert_int_equal(rdsbk_credentials_provider_fetches(p), 2);
    assert_string_not_equal(c1.access_key_id, c2.access_key_id);
    rdsbk_credentials_clean_up(&c1);

    /* A failed refresh while the current credentials are still valid keeps them (a warning). */
    s_server_fail_sts();
    assert_int_equal(rdsbk_credentials_provider_get(&c1, p), 0);
    assert_string_equal(c1.access_key_id, c2.access_key_id);
    assert_int_equal(rdsbk_credentials_provider_fetches(p), 2);
    rdsbk_credentials_clean_up(&c1);
    rdsbk_credentials_clean_up(&c2);
    rdsbk_credentials_provider_free(p);

    /* With nothing cached, the failure is the caller's. */
    assert_int_equal(rdsbk_credentials_provider_new(&p, &opts), 0);
    assert_int_equal(rdsbk_credentials_provider_get(&c1, p), RDSBK_EAUTH);
    assert_string_equal(rdsbk_error_last()->aws_code, "InvalidClientTokenId");
    rdsbk_credentials_provider_free(p);
    s_server_config(3600);
}

/* ---- the client's account check ---- */

static void test_verify_account(void **state) {
    struct rdsbk_client_options opts = {0};
    struct rdsbk_client *client = NULL;
    struct rdsbk_client *other = NULL;
    char account[16];
    cJSON *log;
    (void)state;

    s_write(".aws/credentials", "[prod]\naws_access_key_id=AKID9PROD\naws_secret_access_key=p\n",
            0600);
    opts.region = "eu-west-1";
    opts.profile = "prod";
    opts.http = s_http;
    assert_int_equal(rdsbk_client_new(&client, &opts), 0);
    assert_int_equal(rdsbk_client_verify_account(client, "999999999999", account), 0);
    assert_string_equal(account, "999999999999");
    assert_int_equal(rdsbk_client_verify_account(client, "111111111111", account), RDSBK_EAUTH);
    assert_string_equal(rdsbk_error_last()->message,
                        "credentials for profile prod belong to account 999999999999, but the "
                        "topology names 111111111111");
    /* The call went to STS in the client's Region, signed with the profile's key. */
    log = s_server_log();
    assert_string_equal(s_log_str(cJSON_GetArrayItem(log, 0), "action"), "GetCallerIdentity");
    assert_string_equal(s_log_str(cJSON_GetArrayItem(log, 0), "key"), "AKID9PROD");
    cJSON_Delete(log);

    /* A client for another Region shares the provider and outlives the first. */
    assert_int_equal(rdsbk_client_new_for_region(&other, client, "us-west-2"), 0);
    assert_ptr_equal(rdsbk_client_credentials(other), rdsbk_client_credentials(client));
    assert_string_equal(rdsbk_client_region(other), "us-west-2");
    rdsbk_client_free(client);
    assert_int_equal(rdsbk_client_verify_account(other, "999999999999", NULL), 0);
    rdsbk_client_free(other);

    /* A topology role_arn on top, with an explicit session name. */
    opts.role_arn = "arn:aws:iam::161616161616:role/deploy";
    opts.session_name = "rdsbk-mystack";
    assert_int_equal(rdsbk_client_new(&client, &opts), 0);
    assert_int_equal(rdsbk_client_verify_account(client, "161616161616", NULL), 0);
    rdsbk_client_free(client);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ini_parse),
        cmocka_unit_test(test_process_output),
        cmocka_unit_test_setup(test_environment, s_case_setup),
        cmocka_unit_test_setup(test_shared_files, s_case_setup),
        cmocka_unit_test_setup(test_role_source_profile, s_case_setup),
        cmocka_unit_test_setup(test_role_errors, s_case_setup),
        cmocka_unit_test_setup(test_topology_role, s_case_setup),
        cmocka_unit_test_setup(test_web_identity, s_case_setup),
        cmocka_unit_test_setup(test_credential_process, s_case_setup),
        cmocka_unit_test(test_container_urls),
        cmocka_unit_test_setup(test_container, s_case_setup),
        cmocka_unit_test_setup(test_imds, s_case_setup),
        cmocka_unit_test_setup(test_refresh, s_case_setup),
        cmocka_unit_test_setup(test_verify_account, s_case_setup),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
