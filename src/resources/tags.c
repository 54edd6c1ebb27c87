/* Tags: the model's {"k": "v"} object, the services' struct rdsbk_tag arrays, and what an update
 * changes between them; see resources_internal.h. */
#include "resources_internal.h"

#include "rdsbk/error.h"
#include "rdsbk/protocol.h"

#include <stdlib.h>
#include <string.h>

/* One tag: copies of `key` and `value`. */
static int s_tag_set(struct rdsbk_tag *tag, const char *key, const char *value) {
    tag->key = strdup(key);
    tag->value = strdup(value);
    return tag->key && tag->value ? 0 : rdsbk_error_oom();
}

int rdsbk_res_tags_from_json(struct rdsbk_tag **out, size_t *n_out, const cJSON *tags) {
    const cJSON *it;
    struct rdsbk_tag *arr = NULL;
    size_t n = 0;
    int rc = 0;

    *out = NULL;
    *n_out = 0;
    cJSON_ArrayForEach(it, tags) n++;
    if (n == 0)
        goto cleanup;
    arr = calloc(n, sizeof(*arr));
    RDSBK_CHECK_ALLOC(arr);
    n = 0;
    cJSON_ArrayForEach(it, tags) {
        if (cJSON_IsString(it) && it->string)
            RDSBK_TRY(s_tag_set(&arr[n++], it->string, it->valuestring));
    }
    *out = arr;
    *n_out = n;
    arr = NULL;

cleanup:
    rdsbk_aws_tags_free(arr, n);
    return rc;
}

int rdsbk_res_add_tags(cJSON *out, const struct rdsbk_tag *tags, size_t n) {
    cJSON *obj = cJSON_CreateObject();
    int rc;

    RDSBK_CHECK_ALLOC(obj);
    for (size_t i = 0; i < n; i++) {
        /* a key repeated in a reply: the last value wins, as in AWS's own merge */
        cJSON_DeleteItemFromObjectCaseSensitive(obj, tags[i].key);
        RDSBK_TRY(rdsbk_json_add_str(obj, tags[i].key, tags[i].value));
    }
    rc = rdsbk_json_add(out, "tags", obj);
    obj = NULL;

cleanup:
    cJSON_Delete(obj);
    return rc;
}

int rdsbk_res_add_listed_tags(cJSON *out, struct rdsbk_client *client, const char *resource,
                              const struct rdsbk_res_tagging *calls) {
    struct rdsbk_tag *tags = NULL;
    size_t n = 0;
    int rc;

    RDSBK_TRY(calls->list(&tags, &n, client, resource));
    rc = rdsbk_res_add_tags(out, tags, n);

cleanup:
    rdsbk_aws_tags_free(tags, n);
    return rc;
}

int rdsbk_res_tags_diff(struct rdsbk_tag **set_out, size_t *n_set, char ***remove_out,
                        size_t *n_remove, const cJSON *desired, const cJSON *actual) {
    const cJSON *it;
    size_t cap_set = 0;
    size_t cap_rm = 0;
    struct rdsbk_tag *set = NULL;
    char **rm = NULL;
    size_t ns = 0;
    size_t nr = 0;
    int rc = 0;

    *set_out = NULL;
    *n_set = 0;
    *remove_out = NULL;
    *n_remove = 0;
    cJSON_ArrayForEach(it, desired) cap_set++;
    cJSON_ArrayForEach(it, actual) cap_rm++;
    set = calloc(cap_set + 1, sizeof(*set));
    RDSBK_CHECK_ALLOC(set);
    rm = calloc(cap_rm + 1, sizeof(*rm));
    RDSBK_CHECK_ALLOC(rm);
    cJSON_ArrayForEach(it, desired) {
        const char *have = rdsbk_json_str(actual, it->string);
        if (cJSON_IsString(it) && !(have && strcmp(have, it->valuestring) == 0))
            RDSBK_TRY(s_tag_set(&set[ns++], it->string, it->valuestring));
    }
    cJSON_ArrayForEach(it, actual) {
        if (!desired || !cJSON_GetObjectItemCaseSensitive(desired, it->string))
            RDSBK_TRY(rdsbk_strdup_into(&rm[nr++], it->string));
    }
    *set_out = set;
    *n_set = ns;
    *remove_out = rm;
    *n_remove = nr;
    set = NULL;
    rm = NULL;

cleanup:
    rdsbk_aws_tags_free(set, ns);
    rdsbk_strings_free(rm, nr);
    return rc;
}

int rdsbk_res_update_tags(struct rdsbk_client *client, const char *resource, const cJSON *desired,
                          const cJSON *actual, const struct rdsbk_res_tagging *calls) {
    struct rdsbk_tag *set = NULL;
    size_t n_set = 0;
    char **rm = NULL;
    size_t n_rm = 0;
    int rc;

    RDSBK_TRY(rdsbk_res_tags_diff(&set, &n_set, &rm, &n_rm, cJSON_GetObjectItem(desired, "tags"),
                                  cJSON_GetObjectItem(actual, "tags")));
    if ((n_rm || n_set) && !resource) {
        rc = rdsbk_error_set(RDSBK_EINVALID, "%s: no arn to tag", calls->type);
        goto cleanup;
    }
    if (n_rm)
        RDSBK_TRY(calls->untag(client, resource, (const char *const *)rm, n_rm));
    if (n_set)
        RDSBK_TRY(calls->tag(client, resource, set, n_set));

cleanup:
    rdsbk_aws_tags_free(set, n_set);
    rdsbk_strings_free(rm, n_rm);
    return rc;
}
