/* Helpers shared by the resource types; see resources_internal.h. */
#include "resources_internal.h"

#include "rdsbk/error.h"
#include "rdsbk/log.h"
#include "rdsbk/buf.h"
#include "rdsbk/protocol.h"

#include <stdarg.h>
#include <stdio.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

int rdsbk_res_require(const char **out, const cJSON *obj, const char *key, const char *type) {
    int result = 0;

    *out = rdsbk_json_str(obj, key);
    if (!*out || !**out)
        result = rdsbk_error_set(RDSBK_EINVALID, "%s: attribute \"%s\" is missing", type, key);
    return result;
}

bool rdsbk_res_changed(const cJSON *desired, const cJSON *actual, const char *key) {
    const cJSON *d = desired ? cJSON_GetObjectItemCaseSensitive(desired, key) : NULL;
    const cJSON *a = actual ? cJSON_GetObjectItemCaseSensitive(actual, key) : NULL;

    return (!d || !a) ? d != a : !cJSON_Compare(d, a, true);
}

int rdsbk_res_inner_names(char **outer_out, char **inner_out, const struct rdsbk_resource_ref *ref,
                          char sep, const char *outer_key, const char *inner_key,
                          bool name_is_outer, const char *type) {
    const char *split = ref->id ? strchr(ref->id, sep) : NULL;
    const char *outer = rdsbk_json_str(ref->attributes, outer_key);
    const char *inner = rdsbk_json_str(ref->attributes, inner_key);

    *outer_out = NULL;
    *inner_out = NULL;
    if (split && split != ref->id && split[1]) {
        *outer_out = strndup(ref->id, (size_t)(split - ref->id));
        *inner_out = strdup(split + 1);
    } else {
        if (name_is_outer && !outer)
            outer = ref->name;
        if (!name_is_outer && !inner)
            inner = ref->name;
        if (!outer || !inner)
            return rdsbk_error_set(RDSBK_EINVALID, "%s: %s and %s are needed", type, outer_key,
                                   inner_key);
        *outer_out = strdup(outer);
        *inner_out = strdup(inner);
    }
    if (!*outer_out || !*inner_out) {
        free(*outer_out);
        free(*inner_out);
        *outer_out = NULL;
        *inner_out = NULL;
        return rdsbk_error_oom();
    }
    return 0;
}

int rdsbk_res_set_id(char **id_out, const char *id) {
    int result = 0;

    if (id_out) {
        *id_out = strdup(id ? id : "");
        if (!*id_out)
            result = rdsbk_error_oom();
    }
    return result;
}

/* ---- tags ---------------------------------------------------------------------------------- */

int rdsbk_res_tags_from_json(struct rdsbk_tag **out, size_t *n_out, const cJSON *tags) {
    const cJSON *it;
    size_t n = 0;
    struct rdsbk_tag *arr = NULL;
    int result = RDSBK_ENOMEM;

    *out = NULL;
    *n_out = 0;
    cJSON_ArrayForEach(it, tags) n++;
    if (n == 0) {
        result = 0;
        goto cleanup;
    }
    arr = calloc(n, sizeof(*arr));
    if (!arr)
        goto cleanup;
    n = 0;
    cJSON_ArrayForEach(it, tags) {
        if (!cJSON_IsString(it) || !it->string)
            continue;
        arr[n].key = strdup(it->string);
        arr[n].value = strdup(it->valuestring);
        n++;
        if (!arr[n - 1].key || !arr[n - 1].value)
            goto cleanup;
    }
    *out = arr;
    *n_out = n;
    arr = NULL;
    result = 0;

cleanup:
    rdsbk_aws_tags_free(arr, n);
    if (result)
        rdsbk_error_set(result, "out of memory");
    return result;
}

cJSON *rdsbk_res_tags_to_json(const struct rdsbk_tag *tags, size_t n) {
    cJSON *obj = cJSON_CreateObject();

    for (size_t i = 0; obj && i < n; i++) {
        cJSON *v = cJSON_CreateString(tags[i].value ? tags[i].value : "");
        /* a key repeated in a reply: the last value wins, as in AWS's own merge */
        cJSON_DeleteItemFromObjectCaseSensitive(obj, tags[i].key);
        if (!v || !cJSON_AddItemToObject(obj, tags[i].key, v)) {
            cJSON_Delete(v);
            cJSON_Delete(obj);
            obj = NULL;
        }
    }
    if (!obj)
        rdsbk_error_oom();
    return obj;
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
    int result = RDSBK_ENOMEM;

    *set_out = NULL;
    *n_set = 0;
    *remove_out = NULL;
    *n_remove = 0;
    cJSON_ArrayForEach(it, desired) cap_set++;
    cJSON_ArrayForEach(it, actual) cap_rm++;
    set = calloc(cap_set + 1, sizeof(*set));
    rm = calloc(cap_rm + 1, sizeof(*rm));
    if (!set || !rm)
        goto cleanup;
    cJSON_ArrayForEach(it, desired) {
        const char *have = rdsbk_json_str(actual, it->string);
        if (!cJSON_IsString(it) || (have && strcmp(have, it->valuestring) == 0))
            continue;
        set[ns].key = strdup(it->string);
        set[ns].value = strdup(it->valuestring);
        ns++;
        if (!set[ns - 1].key || !set[ns - 1].value)
            goto cleanup;
    }
    cJSON_ArrayForEach(it, actual) {
        if (desired && cJSON_GetObjectItemCaseSensitive(desired, it->string))
            continue;
        rm[nr] = strdup(it->string);
        nr++;
        if (!rm[nr - 1])
            goto cleanup;
    }
    *set_out = set;
    *n_set = ns;
    *remove_out = rm;
    *n_remove = nr;
    set = NULL;
    rm = NULL;
    result = 0;

cleanup:
    rdsbk_aws_tags_free(set, ns);
    rdsbk_strings_free(rm, nr);
    if (result)
        rdsbk_error_set(result, "out of memory");
    return result;
}

/* ---- waiting ------------------------------------------------------------------------------- */

bool rdsbk_res_backoff_wait(struct rdsbk_backoff *b, const char *fmt, ...) {
    char why[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    return rdsbk_backoff_sleep(b, why);
}

int rdsbk_res_written(cJSON **actual_out, char **id_out, const cJSON *desired, const char *id,
                      const char *key, const char *value) {
    cJSON *out = cJSON_Duplicate(desired, 1);
    int result = out ? 0 : rdsbk_error_oom();

    *actual_out = NULL;
    if (result == 0 && key) {
        cJSON_DeleteItemFromObjectCaseSensitive(out, key);
        result = rdsbk_json_add_str(out, key, value);
    }
    if (result == 0)
        result = rdsbk_res_set_id(id_out, id);
    if (result) {
        cJSON_Delete(out);
        return result;
    }
    *actual_out = out;
    return 0;
}

bool rdsbk_res_aws_error_is(const char *code, const char *fragment) {
    const struct rdsbk_error *err = rdsbk_error_last();

    return strcmp(err->aws_code, code) == 0 && (!fragment || strstr(err->message, fragment));
}
