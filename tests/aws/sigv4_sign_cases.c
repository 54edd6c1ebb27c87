/*
 * Signs requests read from a JSON file with rdsbk_sigv4_sign and prints, one JSON object per line,
 * {"id", "authorization", "canonical_request", "content_sha256"} (the X-Amz-Content-SHA256 sent,
 * null when none: S3's). Driven by sigv4_differential.py, which signs the same requests with
 * botocore and compares.
 *
 * Input: [{"id": 1, "method": "GET", "url": "https://...", "headers": [["Name", "value"], ...],
 *          "body": "...", "region": "...", "service": "...", "access_key": "...",
 *          "secret_key": "...", "token": "..." or null, "time": 1440938160}, ...]
 */
#include "rdsbk/error.h"
#include "rdsbk/sigv4.h"

#include <cjson/cJSON.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *s_read_all(FILE *f) {
    struct rdsbk_buf buf = RDSBK_BUF_INIT;
    char chunk[65536];
    size_t n;

    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (rdsbk_buf_add(&buf, chunk, n) != 0)
            break;
    return rdsbk_buf_detach(&buf);
}

static const char *s_str(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int s_sign_one(const cJSON *c) {
    struct rdsbk_http_request req = {0};
    struct rdsbk_credentials creds = {0};
    struct rdsbk_buf creq = RDSBK_BUF_INIT;
    const cJSON *h;
    const char *body = s_str(c, "body");
    bool s3 = strcmp(s_str(c, "service"), "s3") == 0;
    const char *sha;
    cJSON *out = NULL;
    char *line = NULL;
    int result = -1;

    req.method = strdup(s_str(c, "method"));
    req.url = strdup(s_str(c, "url"));
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(c, "headers")) {
        if (rdsbk_http_request_add_header(&req, cJSON_GetArrayItem(h, 0)->valuestring,
                                          cJSON_GetArrayItem(h, 1)->valuestring) != 0)
            goto cleanup;
    }
    if (body && *body) {
        req.body = (unsigned char *)strdup(body);
        req.body_len = strlen(body);
    }
    creds.access_key_id = strdup(s_str(c, "access_key"));
    creds.secret_access_key = strdup(s_str(c, "secret_key"));
    creds.session_token = s_str(c, "token") ? strdup(s_str(c, "token")) : NULL;

    if (rdsbk_sigv4_sign(&req, &creds, s_str(c, "region"), s_str(c, "service"),
                         (time_t)cJSON_GetObjectItemCaseSensitive(c, "time")->valuedouble) != 0) {
        fprintf(stderr, "case %d: %s\n", cJSON_GetObjectItem(c, "id")->valueint,
                rdsbk_error_last()->message);
        goto cleanup;
    }
    if ((s3 ? rdsbk_sigv4_canonical_request_s3(&creq, NULL, &req)
            : rdsbk_sigv4_canonical_request(&creq, NULL, &req)) != 0)
        goto cleanup;
    sha = rdsbk_http_request_header(&req, "X-Amz-Content-SHA256");
    out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "id", cJSON_GetObjectItem(c, "id")->valuedouble);
    cJSON_AddStringToObject(out, "authorization", rdsbk_http_request_header(&req, "Authorization"));
    cJSON_AddStringToObject(out, "canonical_request", rdsbk_buf_cstr(&creq));
    if (sha)
        cJSON_AddStringToObject(out, "content_sha256", sha);
    else
        cJSON_AddNullToObject(out, "content_sha256");
    line = cJSON_PrintUnformatted(out);
    puts(line);
    result = 0;

cleanup:
    free(line);
    cJSON_Delete(out);
    rdsbk_buf_clean_up(&creq);
    rdsbk_credentials_clean_up(&creds);
    rdsbk_http_request_clean_up(&req);
    return result;
}

int main(int argc, char **argv) {
    FILE *f;
    char *text;
    cJSON *cases;
    const cJSON *c;
    int failures = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s CASES.json\n", argv[0]);
        return 2;
    }
    f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    text = s_read_all(f);
    fclose(f);
    cases = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsArray(cases)) {
        fprintf(stderr, "%s: not a JSON array\n", argv[1]);
        cJSON_Delete(cases);
        return 2;
    }
    cJSON_ArrayForEach(c, cases) {
        if (s_sign_one(c) != 0)
            failures++;
    }
    cJSON_Delete(cases);
    return failures ? 1 : 0;
}
