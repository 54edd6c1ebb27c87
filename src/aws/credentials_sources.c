/*
 * The sources that fetch credentials from outside the process: credential_process, the container
 * credentials endpoint and EC2 instance metadata (IMDSv2).
 */
#include "credentials_private.h"

#include "aws/url.h"
#include "rdsbk/error.h"
#include "rdsbk/http.h"
#include "rdsbk/json_util.h"
#include "rdsbk/str.h"

#include <openssl/crypto.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

/* What a credentials document, a token file or a command's output may hold at the most. */
#define S_MAX_TEXT (1024 * 1024)

void rdsbk_credentials_free_secret(char *secret) {
    if (!secret)
        return;
    OPENSSL_cleanse(secret, strlen(secret));
    free(secret);
}

int rdsbk_credentials_read_all(struct rdsbk_buf *text, FILE *f) {
    char chunk[4096];
    size_t n;
    int rc;

    rdsbk_buf_init(text, S_MAX_TEXT);
    rc = rdsbk_buf_add(text, "", 0);
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = rdsbk_buf_add(text, chunk, n);
    OPENSSL_cleanse(chunk, sizeof(chunk));
    return rc;
}

/* Expiration as ISO 8601; absent means the credentials do not expire. */
static int s_expiration(time_t *out, const cJSON *json, const char *what) {
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(json, "Expiration");
    double t;

    *out = 0;
    if (!exp || cJSON_IsNull(exp))
        return 0;
    if (!cJSON_IsString(exp) || rdsbk_protocol_parse_time(&t, exp->valuestring) < 0)
        return rdsbk_error_set(RDSBK_EAUTH, "%s: unparsable Expiration", what);
    *out = (time_t)t;
    return 0;
}

/* {"AccessKeyId", "SecretAccessKey", "Token" or "SessionToken", "Expiration"} */
static int s_from_json(struct rdsbk_credentials *out, const cJSON *json, const char *token_field,
                       const char *what) {
    const char *ak = rdsbk_json_str(json, "AccessKeyId");
    const char *sk = rdsbk_json_str(json, "SecretAccessKey");
    const char *token = rdsbk_json_str(json, token_field);
    int rc;

    memset(out, 0, sizeof(*out));
    if (!ak || !sk || !*ak || !*sk)
        return rdsbk_error_set(RDSBK_EAUTH, "%s: AccessKeyId or SecretAccessKey missing", what);
    RDSBK_TRY(rdsbk_strdup_into(&out->access_key_id, ak));
    RDSBK_TRY(rdsbk_strdup_into(&out->secret_access_key, sk));
    RDSBK_TRY(rdsbk_strdup_into(&out->session_token, token && *token ? token : NULL));
    RDSBK_TRY(s_expiration(&out->expiration, json, what));

cleanup:
    if (rc)
        rdsbk_credentials_clean_up(out);
    return rc;
}

/* cJSON has no secure free: wipe the secrets a credentials document holds before deleting it. */
static void s_json_delete_secure(cJSON *json) {
    static const char *const secrets[] = {"SecretAccessKey", "Token", "SessionToken"};

    for (size_t i = 0; json && i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        const char *secret = rdsbk_json_str(json, secrets[i]);
        if (secret)
            OPENSSL_cleanse((char *)secret, strlen(secret));
    }
    cJSON_Delete(json);
}

int rdsbk_credentials_parse_process_output(struct rdsbk_credentials *out, const char *text) {
    cJSON *json = cJSON_Parse(text);
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(json, "Version");
    int rc;

    memset(out, 0, sizeof(*out));
    if (!json)
        rc = rdsbk_error_set(RDSBK_EAUTH, "credential_process: output is not JSON");
    else if (!cJSON_IsNumber(version) || version->valueint != 1)
        rc = rdsbk_error_set(RDSBK_EAUTH,
                             "credential_process: unsupported Version (only 1 is known)");
    else
        rc = s_from_json(out, json, "SessionToken", "credential_process");
    s_json_delete_secure(json);
    return rc;
}

int rdsbk_credentials_from_process(struct rdsbk_credentials *out, const char *command) {
    struct rdsbk_buf text = RDSBK_BUF_INIT;
    FILE *p;
    int status;
    int rc;

    memset(out, 0, sizeof(*out));
    fflush(NULL);
    /* As the AWS CLI does, the command's stderr goes to ours; its stdout is the JSON. */
    p = popen(command, "r");
    if (!p)
        return rdsbk_error_set(RDSBK_EAUTH, "credential_process: cannot run it: %s",
                               strerror(errno));
    rc = rdsbk_credentials_read_all(&text, p);
    status = pclose(p);
    if (rc)
        goto cleanup;
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        rc = rdsbk_error_set(RDSBK_EAUTH, "credential_process failed (exit status %d)",
                             status == -1 || !WIFEXITED(status) ? -1 : WEXITSTATUS(status));
        goto cleanup;
    }
    rc = rdsbk_credentials_parse_process_output(out, rdsbk_buf_cstr(&text));

cleanup:
    rdsbk_buf_clean_up_secure(&text);
    return rc;
}

/* *out = the file at `path` (caller frees: a secret), without its trailing line breaks when
 * `trim`. */
static int s_read_file(char **out, const char *path, const char *what, bool trim) {
    struct rdsbk_buf text = RDSBK_BUF_INIT;
    FILE *f = fopen(path, "r");
    size_t len;
    int rc;

    *out = NULL;
    if (!f)
        return rdsbk_error_set(RDSBK_EAUTH, "%s %s: %s", what, path, strerror(errno));
    rc = rdsbk_credentials_read_all(&text, f);
    fclose(f);
    if (rc)
        goto cleanup;
    /* Tokens in files often end with a newline that is not part of them. */
    len = rdsbk_buf_len(&text);
    while (trim && len &&
           (rdsbk_buf_cstr(&text)[len - 1] == '\n' || rdsbk_buf_cstr(&text)[len - 1] == '\r'))
        len--;
    rdsbk_buf_truncate(&text, len);
    *out = rdsbk_buf_detach(&text);
    RDSBK_CHECK_ALLOC(*out);

cleanup:
    rdsbk_buf_clean_up_secure(&text);
    return rc;
}

int rdsbk_credentials_read_token_file(char **out, const char *path) {
    return s_read_file(out, path, "web identity token file", true);
}

/* *body_out = the body of the reply to one GET/PUT to a local credentials endpoint (caller frees:
 * a secret), sent with one header when `name` is not NULL; a non-2xx status is an error. */
static int s_http_body(char **body_out, struct rdsbk_http *http, const char *method,
                       const char *url, const char *name, const char *value, const char *what) {
    struct rdsbk_http_request req = {0};
    struct rdsbk_http_response resp = {0};
    int rc;

    *body_out = NULL;
    RDSBK_TRY(rdsbk_strdup_into(&req.method, method));
    RDSBK_TRY(rdsbk_strdup_into(&req.url, url));
    if (name)
        RDSBK_TRY(rdsbk_http_request_add_header(&req, name, value));
    RDSBK_TRY(rdsbk_http_send(&resp, http, &req));
    if (resp.status < 200 || resp.status > 299) {
        rc = rdsbk_error_set(RDSBK_EAUTH, "%s: HTTP %ld from %s", what, resp.status, url);
        goto cleanup;
    }
    *body_out = rdsbk_buf_detach(&resp.body);
    RDSBK_CHECK_ALLOC(*body_out);

cleanup:
    rdsbk_buf_clean_up_secure(&resp.body);
    rdsbk_http_response_clean_up(&resp);
    rdsbk_http_request_clean_up(&req);
    return rc;
}

/* ---- container credentials ---- */

/*
 * botocore's rules (ContainerProvider, ContainerMetadataFetcher): a full URI may be https to any
 * host, or http to a loopback address or a container agent; a relative URI is a path on the ECS
 * agent. The host is checked as written (as botocore's urlparse reads it) and must be the host
 * libcurl reads too, and the URL sent is libcurl's reading of it: user info such as
 * http://127.0.0.1@elsewhere/ or a parser difference cannot carry the token to another host.
 */
#define S_ECS_AGENT "169.254.170.2"

static bool s_container_http_host(const char *host) {
    static const char *const agents[] = {S_ECS_AGENT, "169.254.170.23", "fd00:ec2::23",
                                         "localhost"};

    for (size_t i = 0; i < sizeof(agents) / sizeof(agents[0]); i++)
        if (strcasecmp(host, agents[i]) == 0)
            return true;
    return rdsbk_url_is_loopback_ip(host);
}

/* The URL's scheme and host (as written: `host`) against the rules; `only` the one host allowed
 * (the relative URI's agent), NULL for the full URI's rules. */
static int s_container_host_check(const struct rdsbk_url_curl *c, const char *host, const char *var,
                                  const char *only) {
    char shown[256];
    bool https = strcmp(c->scheme, "https") == 0;

    if (!https && strcmp(c->scheme, "http") != 0)
        return rdsbk_error_set(RDSBK_EAUTH, "%s: only http:// and https:// URLs are allowed", var);
    if (only ? strcmp(host, only) == 0 : https || s_container_http_host(host))
        return 0;
    rdsbk_str_escape_terminal(shown, sizeof(shown), host);
    return rdsbk_error_set(RDSBK_EAUTH,
                           "%s: host '%s' is not allowed: https://, or plain http:// only to a "
                           "loopback address (127.0.0.0/8, ::1, localhost) or the container agent "
                           "(169.254.170.2, 169.254.170.23, fd00:ec2::23)",
                           var, shown);
}

/* Checks `url`, the value (or the made URL) of variable `var`; *out = the URL to send (caller
 * frees). The URL is not repeated in messages: it may hold a password. */
static int s_container_check_url(char **out, const char *url, const char *var, const char *only) {
    struct rdsbk_url_curl c = {0};
    struct rdsbk_url_parts split;
    char *host = NULL;
    int rc;

    *out = NULL;
    if (rdsbk_url_curl_parse(&c, url) != 0 || rdsbk_url_split(&split, url) != 0) {
        rc = rdsbk_error_set(RDSBK_EAUTH, "%s is not an absolute http(s) URL", var);
        goto cleanup;
    }
    host = strndup(split.host, split.host_len);
    RDSBK_CHECK_ALLOC(host);
    if (c.has_userinfo || split.has_userinfo || c.has_zone) {
        rc = rdsbk_error_set(RDSBK_EAUTH,
                             "%s: user info (user@, user:password@) and IPv6 zone "
                             "ids are not allowed in the URL",
                             var);
        goto cleanup;
    }
    if (!rdsbk_url_same_host(host, c.host)) {
        rc = rdsbk_error_set(RDSBK_EAUTH,
                             "%s: libcurl would read another host than the one "
                             "written (a numeric or encoded form); write it plainly",
                             var);
        goto cleanup;
    }
    RDSBK_TRY(s_container_host_check(&c, host, var, only));
    rc = rdsbk_strdup_into(out, c.url);

cleanup:
    free(host);
    rdsbk_url_curl_clean_up(&c);
    return rc;
}

int rdsbk_credentials_container_url(char **out, const char *relative, const char *full) {
    char *made = NULL;
    int rc;

    *out = NULL;
    if (relative && *relative) {
        if (relative[0] != '/')
            return rdsbk_error_set(RDSBK_EAUTH,
                                   "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be a path (it is "
                                   "put after http://" S_ECS_AGENT ")");
        RDSBK_TRY(rdsbk_strfmt(&made, "http://" S_ECS_AGENT "%s", relative));
        rc =
            s_container_check_url(out, made, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", S_ECS_AGENT);
        goto cleanup;
    }
    if (!full || !*full)
        return rdsbk_error_set(RDSBK_EAUTH, "no container credentials configured");
    rc = s_container_check_url(out, full, "AWS_CONTAINER_CREDENTIALS_FULL_URI", NULL);

cleanup:
    free(made);
    return rc;
}

/* The container's authorization token, from its file or the environment; NULL when none. As
 * botocore, the file is taken whole and a token with a line break is refused: it goes in a
 * header, where a line break would start another. */
static int s_container_token(char **out) {
    const char *token_file = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *token_env = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    bool from_file = token_file && *token_file;
    int rc;

    *out = NULL;
    if (from_file)
        rc = s_read_file(out, token_file, "container authorization token file", false);
    else
        rc = rdsbk_strdup_into(out, token_env && *token_env ? token_env : NULL);
    if (rc == 0 && *out && strpbrk(*out, "\r\n")) {
        rdsbk_credentials_free_secret(*out);
        *out = NULL;
        rc = rdsbk_error_set(RDSBK_EAUTH, "%s holds a line break, which a header value cannot",
                             from_file ? token_file : "AWS_CONTAINER_AUTHORIZATION_TOKEN");
    }
    return rc;
}

int rdsbk_credentials_from_container(struct rdsbk_credentials *out, struct rdsbk_http *http) {
    char *url = NULL;
    char *token = NULL;
    char *doc = NULL;
    cJSON *json = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    RDSBK_TRY(rdsbk_credentials_container_url(&url,
                                              getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
                                              getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")));
    RDSBK_TRY(s_container_token(&token));
    RDSBK_TRY(s_http_body(&doc, http, "GET", url, token ? "Authorization" : NULL, token,
                          "container credentials"));
    json = cJSON_Parse(doc);
    if (json)
        rc = s_from_json(out, json, "Token", "container credentials");
    else
        rc = rdsbk_error_set(RDSBK_EAUTH, "container credentials: the reply is not JSON");

cleanup:
    s_json_delete_secure(json);
    rdsbk_credentials_free_secret(doc);
    rdsbk_credentials_free_secret(token);
    free(url);
    return rc;
}

/* ---- instance metadata ---- */

#define S_IMDS_ROLES "/latest/meta-data/iam/security-credentials/"

bool rdsbk_credentials_imds_disabled(void) {
    const char *v = getenv("AWS_EC2_METADATA_DISABLED");
    return v && (strcmp(v, "true") == 0 || strcmp(v, "TRUE") == 0 || strcmp(v, "True") == 0);
}

/* A session with instance metadata: its own transport, the endpoint, the IMDSv2 token. */
struct s_imds {
    struct rdsbk_http *http;
    char *base;  /* no trailing slash */
    char *token; /* NULL until asked for; a secret */
};

static void s_imds_clean_up(struct s_imds *m) {
    rdsbk_http_free(m->http);
    free(m->base);
    rdsbk_credentials_free_secret(m->token);
}

/* *body_out = the body of the reply to `path` + `leaf` (caller frees: a secret). The token is
 * asked for with a PUT that gives its lifetime; every later request is a GET that carries it. */
static int s_imds_get(char **body_out, const struct s_imds *m, const char *path, const char *leaf) {
    char *url = NULL;
    int rc = rdsbk_strfmt(&url, "%s%s%s", m->base, path, leaf);

    if (rc == 0 && m->token)
        rc = s_http_body(body_out, m->http, "GET", url, "X-aws-ec2-metadata-token", m->token,
                         "instance metadata");
    else if (rc == 0)
        rc = s_http_body(body_out, m->http, "PUT", url, "X-aws-ec2-metadata-token-ttl-seconds",
                         "21600", "instance metadata");
    free(url);
    return rc;
}

/* Opens the session: 1. PUT /latest/api/token -> session token (IMDSv2) */
static int s_imds_open(struct s_imds *m) {
    const char *endpoint = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    /* Off EC2 nothing answers: a short timeout and one attempt, as botocore does, instead of
     * the shared transport's ten seconds and retries. */
    struct rdsbk_http_options opts = {
        .connect_timeout_ms = 1000, .timeout_ms = 5000, .max_attempts = 1};
    size_t len;
    int rc;

    memset(m, 0, sizeof(*m));
    RDSBK_TRY(rdsbk_http_new(&m->http, &opts));
    RDSBK_TRY(
        rdsbk_strdup_into(&m->base, endpoint && *endpoint ? endpoint : "http://169.254.169.254"));
    len = strlen(m->base);
    while (len && m->base[len - 1] == '/')
        m->base[--len] = '\0';
    RDSBK_TRY(s_imds_get(&m->token, m, "/latest/api/token", ""));

cleanup:
    return rc;
}

/* 2. GET /latest/meta-data/iam/security-credentials/ -> role name (first line) */
static int s_imds_role(char **out, const struct s_imds *m) {
    int rc = s_imds_get(out, m, S_IMDS_ROLES, "");

    if (rc)
        return rc;
    (*out)[strcspn(*out, "\r\n")] = '\0';
    if (!**out)
        return rdsbk_error_set(RDSBK_EAUTH, "instance metadata: no IAM role attached");
    return 0;
}

/* 3. GET /latest/meta-data/iam/security-credentials/<role> -> JSON credentials */
static int s_imds_credentials(struct rdsbk_credentials *out, const struct s_imds *m,
                              const char *role) {
    char *doc = NULL;
    cJSON *json;
    const cJSON *code;
    int rc = s_imds_get(&doc, m, S_IMDS_ROLES, role);

    if (rc)
        return rc;
    json = cJSON_Parse(doc);
    code = cJSON_GetObjectItemCaseSensitive(json, "Code");
    if (!json || (cJSON_IsString(code) && strcmp(code->valuestring, "Success") != 0))
        rc = rdsbk_error_set(RDSBK_EAUTH, "instance metadata: no usable credentials for role %s",
                             role);
    else
        rc = s_from_json(out, json, "Token", "instance metadata");
    s_json_delete_secure(json);
    rdsbk_credentials_free_secret(doc);
    return rc;
}

int rdsbk_credentials_from_imds(struct rdsbk_credentials *out, struct rdsbk_http *shared) {
    struct s_imds m = {0};
    char *role = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    (void)shared; /* instance metadata has a transport of its own (s_imds_open) */
    if (rdsbk_credentials_imds_disabled())
        return rdsbk_error_set(RDSBK_EAUTH,
                               "instance metadata disabled (AWS_EC2_METADATA_DISABLED)");
    RDSBK_TRY(s_imds_open(&m));
    RDSBK_TRY(s_imds_role(&role, &m));
    rc = s_imds_credentials(out, &m, role);

cleanup:
    free(role);
    s_imds_clean_up(&m);
    return rc;
}
