#include "credentials_private.h"

#include "rdsbk/error.h"
#include "rdsbk/http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/*
 * The sources that fetch credentials from outside the process: credential_process, the container
 * credentials endpoint and EC2 instance metadata (IMDSv2).
 */

static int s_dup(char **out, const char *s) {
    *out = NULL;
    if (!s)
        return 0;
    *out = strdup(s);
    return *out ? 0 : rdsbk_error_oom();
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
    const cJSON *ak = cJSON_GetObjectItemCaseSensitive(json, "AccessKeyId");
    const cJSON *sk = cJSON_GetObjectItemCaseSensitive(json, "SecretAccessKey");
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(json, token_field);
    int rc;

    memset(out, 0, sizeof(*out));
    if (!cJSON_IsString(ak) || !cJSON_IsString(sk) || !ak->valuestring[0] || !sk->valuestring[0])
        return rdsbk_error_set(RDSBK_EAUTH, "%s: AccessKeyId or SecretAccessKey missing", what);
    rc = s_dup(&out->access_key_id, ak->valuestring);
    if (rc == 0)
        rc = s_dup(&out->secret_access_key, sk->valuestring);
    if (rc == 0 && cJSON_IsString(tok) && tok->valuestring[0])
        rc = s_dup(&out->session_token, tok->valuestring);
    if (rc == 0)
        rc = s_expiration(&out->expiration, json, what);
    if (rc)
        rdsbk_credentials_clean_up(out);
    return rc;
}

/* cJSON has no secure free: wipe the secrets a credentials document holds before deleting it. */
static void s_json_delete_secure(cJSON *json) {
    static const char *const secrets[] = {"SecretAccessKey", "Token", "SessionToken"};

    for (size_t i = 0; json && i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(json, secrets[i]);
        if (cJSON_IsString(item))
            memset(item->valuestring, 0, strlen(item->valuestring));
    }
    cJSON_Delete(json);
}

int rdsbk_credentials_parse_process_output(struct rdsbk_credentials *out, const char *text) {
    cJSON *json = cJSON_Parse(text);
    const cJSON *version;
    int result;

    memset(out, 0, sizeof(*out));
    if (!json) {
        result = rdsbk_error_set(RDSBK_EAUTH, "credential_process: output is not JSON");
        goto cleanup;
    }
    version = cJSON_GetObjectItemCaseSensitive(json, "Version");
    if (!cJSON_IsNumber(version) || version->valueint != 1) {
        result = rdsbk_error_set(RDSBK_EAUTH,
                                 "credential_process: unsupported Version (only 1 is known)");
        goto cleanup;
    }
    result = s_from_json(out, json, "SessionToken", "credential_process");

cleanup:
    s_json_delete_secure(json);
    return result;
}

int rdsbk_credentials_from_process(struct rdsbk_credentials *out, const char *command) {
    struct rdsbk_buf text = RDSBK_BUF_INIT;
    char chunk[4096];
    FILE *p;
    size_t n;
    int status;
    int result = 0;

    memset(out, 0, sizeof(*out));
    rdsbk_buf_init(&text, 1024 * 1024);
    fflush(NULL);
    /* As the AWS CLI does, the command's stderr goes to ours; its stdout is the JSON. */
    p = popen(command, "r");
    if (!p)
        return rdsbk_error_set(RDSBK_EAUTH, "credential_process: cannot run it: %s",
                               strerror(errno));
    result = rdsbk_buf_add(&text, "", 0);
    while (result == 0 && (n = fread(chunk, 1, sizeof(chunk), p)) > 0)
        result = rdsbk_buf_add(&text, chunk, n);
    status = pclose(p);
    if (result)
        goto cleanup;
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        result = rdsbk_error_set(RDSBK_EAUTH, "credential_process failed (exit status %d)",
                                 status == -1 || !WIFEXITED(status) ? -1 : WEXITSTATUS(status));
        goto cleanup;
    }
    result = rdsbk_credentials_parse_process_output(out, rdsbk_buf_cstr(&text));

cleanup:
    rdsbk_buf_clean_up_secure(&text);
    return result;
}

static int s_read_file(char **out, const char *path, const char *what) {
    struct rdsbk_buf text = RDSBK_BUF_INIT;
    char chunk[4096];
    FILE *f = fopen(path, "r");
    size_t n;
    int rc;

    *out = NULL;
    if (!f)
        return rdsbk_error_set(RDSBK_EAUTH, "%s %s: %s", what, path, strerror(errno));
    rdsbk_buf_init(&text, 1024 * 1024);
    rc = rdsbk_buf_add(&text, "", 0);
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = rdsbk_buf_add(&text, chunk, n);
    fclose(f);
    if (rc) {
        rdsbk_buf_clean_up_secure(&text);
        return rc;
    }
    /* Tokens in files often end with a newline that is not part of them. */
    while (text.len && (text.ptr[text.len - 1] == '\n' || text.ptr[text.len - 1] == '\r'))
        text.ptr[--text.len] = '\0';
    *out = rdsbk_buf_detach(&text);
    return *out ? 0 : rdsbk_error_oom();
}

int rdsbk_credentials_read_token_file(char **out, const char *path) {
    return s_read_file(out, path, "web identity token file");
}

static void s_free_secret(char *s) {
    if (s) {
        volatile char *p = s;
        while (*p)
            *p++ = 0;
        free(s);
    }
}

/* One GET/PUT to a local credentials endpoint; a non-2xx status is an error. */
static int s_http(struct rdsbk_http_response *resp, struct rdsbk_http *http, const char *method,
                  const char *url, const char *h1, const char *v1, const char *what) {
    struct rdsbk_http_request req = {0};
    int result = RDSBK_ENOMEM;

    memset(resp, 0, sizeof(*resp));
    req.method = strdup(method);
    req.url = strdup(url);
    if (!req.method || !req.url) {
        rdsbk_error_set(result, "out of memory");
        goto cleanup;
    }
    if (h1 && rdsbk_http_request_add_header(&req, h1, v1))
        goto cleanup;
    result = rdsbk_http_send(resp, http, &req);
    if (result)
        goto cleanup;
    if (resp->status < 200 || resp->status > 299) {
        result = rdsbk_error_set(RDSBK_EAUTH, "%s: HTTP %ld from %s", what, resp->status, url);
        rdsbk_http_response_clean_up(resp);
    }

cleanup:
    rdsbk_http_request_clean_up(&req);
    return result;
}

/* An http:// full URI may only point at the container agent or this machine (botocore's rule). */
static bool s_container_host_allowed(const char *url) {
    static const char *const allowed[] = {"http://127.",
                                          "http://localhost:",
                                          "http://localhost/",
                                          "http://[::1]",
                                          "http://169.254.170.2:",
                                          "http://169.254.170.2/",
                                          "http://169.254.170.23:",
                                          "http://169.254.170.23/",
                                          "http://[fd00:ec2::23]"};

    if (strncmp(url, "https://", 8) == 0)
        return true;
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (strncmp(url, allowed[i], strlen(allowed[i])) == 0)
            return true;
    return false;
}

int rdsbk_credentials_from_container(struct rdsbk_credentials *out, struct rdsbk_http *http) {
    const char *relative = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *token_file = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *token_env = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    struct rdsbk_http_response resp = {0};
    struct rdsbk_buf url = RDSBK_BUF_INIT;
    char *token = NULL;
    cJSON *json = NULL;
    int result;

    memset(out, 0, sizeof(*out));
    if (relative && *relative) {
        result = rdsbk_buf_printf(&url, "http://169.254.170.2%s", relative);
    } else if (full && *full) {
        if (!s_container_host_allowed(full)) {
            result = rdsbk_error_set(RDSBK_EAUTH,
                                     "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https or a "
                                     "loopback / container-agent address: %s",
                                     full);
            goto cleanup;
        }
        result = rdsbk_buf_adds(&url, full);
    } else {
        result = rdsbk_error_set(RDSBK_EAUTH, "no container credentials configured");
    }
    if (result)
        goto cleanup;
    if (token_file && *token_file)
        result = s_read_file(&token, token_file, "container authorization token file");
    else if (token_env && *token_env)
        result = s_dup(&token, token_env);
    if (result)
        goto cleanup;
    result = s_http(&resp, http, "GET", rdsbk_buf_cstr(&url), token ? "Authorization" : NULL, token,
                    "container credentials");
    if (result)
        goto cleanup;
    json = cJSON_ParseWithLength(resp.body.ptr, resp.body.len);
    if (!json) {
        result = rdsbk_error_set(RDSBK_EAUTH, "container credentials: the reply is not JSON");
        goto cleanup;
    }
    result = s_from_json(out, json, "Token", "container credentials");

cleanup:
    s_json_delete_secure(json);
    s_free_secret(token);
    rdsbk_buf_clean_up(&url);
    rdsbk_buf_clean_up_secure(&resp.body);
    rdsbk_http_response_clean_up(&resp);
    return result;
}

bool rdsbk_credentials_imds_disabled(void) {
    const char *v = getenv("AWS_EC2_METADATA_DISABLED");
    return v && (strcmp(v, "true") == 0 || strcmp(v, "TRUE") == 0 || strcmp(v, "True") == 0);
}

int rdsbk_credentials_from_imds(struct rdsbk_credentials *out, struct rdsbk_http *shared) {
    const char *endpoint = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    struct rdsbk_http_options opts = {0};
    struct rdsbk_http *http = NULL;
    struct rdsbk_http_response resp = {0};
    struct rdsbk_buf base = RDSBK_BUF_INIT;
    struct rdsbk_buf url = RDSBK_BUF_INIT;
    char *token = NULL;
    char *role = NULL;
    cJSON *json = NULL;
    const cJSON *code;
    int result;

    memset(out, 0, sizeof(*out));
    if (rdsbk_credentials_imds_disabled())
        return rdsbk_error_set(RDSBK_EAUTH,
                               "instance metadata disabled (AWS_EC2_METADATA_DISABLED)");
    /* Off EC2 nothing answers: a short timeout and one attempt, as botocore does, instead of
     * the shared transport's ten seconds and retries. */
    (void)shared;
    opts.connect_timeout_ms = 1000;
    opts.timeout_ms = 5000;
    opts.max_attempts = 1;
    result = rdsbk_http_new(&http, &opts);
    if (result == 0)
        result = rdsbk_buf_adds(&base, endpoint && *endpoint ? endpoint : "http://169.254.169.254");
    if (result)
        goto cleanup;
    while (base.len && base.ptr[base.len - 1] == '/')
        base.ptr[--base.len] = '\0';

    /* 1. PUT /latest/api/token -> session token (IMDSv2) */
    result = rdsbk_buf_printf(&url, "%s/latest/api/token", base.ptr);
    if (result == 0)
        result = s_http(&resp, http, "PUT", url.ptr, "X-aws-ec2-metadata-token-ttl-seconds",
                        "21600", "instance metadata");
    if (result)
        goto cleanup;
    token = rdsbk_buf_detach(&resp.body);
    rdsbk_http_response_clean_up(&resp);
    if (!token) {
        result = rdsbk_error_oom();
        goto cleanup;
    }

    /* 2. GET /latest/meta-data/iam/security-credentials/ -> role name (first line) */
    rdsbk_buf_reset(&url);
    result = rdsbk_buf_printf(&url, "%s/latest/meta-data/iam/security-credentials/", base.ptr);
    if (result == 0)
        result = s_http(&resp, http, "GET", url.ptr, "X-aws-ec2-metadata-token", token,
                        "instance metadata");
    if (result)
        goto cleanup;
    role = rdsbk_buf_detach(&resp.body);
    rdsbk_http_response_clean_up(&resp);
    if (!role) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    role[strcspn(role, "\r\n")] = '\0';
    if (!*role) {
        result = rdsbk_error_set(RDSBK_EAUTH, "instance metadata: no IAM role attached");
        goto cleanup;
    }

    /* 3. GET /latest/meta-data/iam/security-credentials/<role> -> JSON credentials */
    result = rdsbk_buf_adds(&url, role);
    if (result == 0)
        result = s_http(&resp, http, "GET", url.ptr, "X-aws-ec2-metadata-token", token,
                        "instance metadata");
    if (result)
        goto cleanup;
    json = cJSON_ParseWithLength(resp.body.ptr, resp.body.len);
    code = cJSON_GetObjectItemCaseSensitive(json, "Code");
    if (!json || (cJSON_IsString(code) && strcmp(code->valuestring, "Success") != 0)) {
        result = rdsbk_error_set(RDSBK_EAUTH,
                                 "instance metadata: no usable credentials for role %s", role);
        goto cleanup;
    }
    result = s_from_json(out, json, "Token", "instance metadata");

cleanup:
    s_json_delete_secure(json);
    s_free_secret(token);
    free(role);
    rdsbk_buf_clean_up(&base);
    rdsbk_buf_clean_up(&url);
    rdsbk_buf_clean_up_secure(&resp.body);
    rdsbk_http_response_clean_up(&resp);
    rdsbk_http_free(http);
    return result;
}
