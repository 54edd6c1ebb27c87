/*
 * Fuzz target: JSON replies. The input is an error reply (rdsbk_aws_error_parse; a first line
 * of at most 128 bytes becomes the X-Amzn-ErrorType header, the rest the body; XML errors go
 * through here too) and a JSON document whose tags and pagination tokens are read
 * (rdsbk_json_tags_parse, rdsbk_json_next_token).
 */
#include "fuzz.h"

#include "rdsbk/aws_error.h"
#include "rdsbk/http.h"
#include "rdsbk/protocol.h"

#include <cjson/cJSON.h>

#include <stdlib.h>
#include <string.h>

static void s_error_reply(const uint8_t *data, size_t size) {
    struct rdsbk_http_response resp = {0};
    struct rdsbk_aws_error err = {0};
    const uint8_t *nl = memchr(data, '\n', size < 129 ? size : 129);
    size_t body_at = 0;

    resp.status = size ? 400 + data[0] % 104 : 400;
    if (nl) {
        resp.headers = calloc(1, sizeof(*resp.headers));
        if (!resp.headers)
            goto cleanup;
        resp.n_headers = 1;
        resp.headers[0].name = strdup("X-Amzn-ErrorType");
        /* not strndup: ASan's strict_string_checks (scripts/test) reads the input as a string */
        resp.headers[0].value = malloc((size_t)(nl - data) + 1);
        if (resp.headers[0].value) {
            memcpy(resp.headers[0].value, data, (size_t)(nl - data));
            resp.headers[0].value[nl - data] = '\0';
        }
        if (!resp.headers[0].name || !resp.headers[0].value)
            goto cleanup;
        body_at = (size_t)(nl - data) + 1;
    }
    rdsbk_buf_init(&resp.body, 0);
    if (rdsbk_buf_add(&resp.body, data + body_at, size - body_at) != 0)
        goto cleanup;
    if (rdsbk_aws_error_parse(&err, &resp) == 0) {
        (void)rdsbk_aws_error_is_retryable(err.status, err.code);
        (void)rdsbk_aws_error_to_code(err.status, err.code);
    }

cleanup:
    rdsbk_aws_error_clean_up(&err);
    rdsbk_http_response_clean_up(&resp);
}

static void s_tags(const cJSON *json) {
    struct rdsbk_tag *tags = NULL;
    size_t n = 0;

    if (rdsbk_json_tags_parse(&tags, &n, json, "Key", "Value") == 0)
        rdsbk_aws_tags_free(tags, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cJSON *json = NULL;
    char *token = NULL;

    s_error_reply(data, size);
    json = cJSON_ParseWithLength((const char *)data, size);
    if (!json)
        return 0;
    s_tags(json);
    s_tags(cJSON_GetObjectItemCaseSensitive(json, "Tags"));
    s_tags(cJSON_GetObjectItemCaseSensitive(json, "TagList"));
    if (rdsbk_json_next_token(&token, json, "NextToken") == 0)
        free(token);
    if (rdsbk_json_next_token(&token, json, "NextMarker") == 0)
        free(token);
    cJSON_Delete(json);
    return 0;
}
