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

const char *rdsbk_res_str(const cJSON *obj, const char *key) {
    const cJSON *item = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

int rdsbk_res_require(const char **out, const cJSON *obj, const char *key, const char *type) {
    int result = 0;

    *out = rdsbk_res_str(obj, key);
    if (!*out || !**out)
        result = rdsbk_error_set(RDSBK_EINVALID, "%s: attribute \"%s\" is missing", type, key);
    return result;
}

int rdsbk_res_int(const cJSON *obj, const char *key, int dflt) {
    const cJSON *item = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    return cJSON_IsNumber(item) ? item->valueint : dflt;
}

bool rdsbk_res_changed(const cJSON *desired, const cJSON *actual, const char *key) {
    const cJSON *d = desired ? cJSON_GetObjectItemCaseSensitive(desired, key) : NULL;
    const cJSON *a = actual ? cJSON_GetObjectItemCaseSensitive(actual, key) : NULL;

    return (!d || !a) ? d != a : !cJSON_Compare(d, a, true);
}

char *rdsbk_res_json_text(const cJSON *value) {
    char *text = cJSON_PrintUnformatted(value);
    if (!text)
        rdsbk_error_set(RDSBK_ENOMEM, "out of memory");
    return text;
}

int rdsbk_res_json_parse(cJSON **out, const char *text, const char *what) {
    int result = 0;

    *out = text ? cJSON_Parse(text) : NULL;
    if (!*out)
        result =
            rdsbk_error_set(RDSBK_EINVALID, "%s: AWS returned a document that is not JSON", what);
    return result;
}

int rdsbk_res_add(cJSON *obj, const char *key, cJSON *item) {
    int result = 0;

    if (!item || !cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        result = rdsbk_error_set(RDSBK_ENOMEM, "out of memory");
    }
    return result;
}

int rdsbk_res_add_str(cJSON *obj, const char *key, const char *value) {
    return rdsbk_res_add(obj, key, cJSON_CreateString(value ? value : ""));
}

int rdsbk_res_add_num(cJSON *obj, const char *key, double value) {
    return rdsbk_res_add(obj, key, cJSON_CreateNumber(value));
}

int rdsbk_res_copy_member(cJSON *to, const cJSON *from, const char *key) {
    const cJSON *item = from ? cJSON_GetObjectItemCaseSensitive(from, key) : NULL;
    return item ? rdsbk_res_add(to, key, cJSON_Duplicate(item, true)) : 0;
}

char *rdsbk_res_fmt(const char *fmt, ...) {
    struct rdsbk_buf b = RDSBK_BUF_INIT;
    va_list ap;
    char *out = NULL;
    int rc;

    va_start(ap, fmt);
    rc = rdsbk_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (rc == 0)
        out = rdsbk_buf_detach(&b);
    rdsbk_buf_clean_up(&b);
    if (!out)
        rdsbk_error_set(RDSBK_ENOMEM, "out of memory");
    return out;
}

int rdsbk_res_inner_names(char **outer_out, char **inner_out, const struct rdsbk_resource_ref *ref,
                          char sep, const char *outer_key, const char *inner_key,
                          bool name_is_outer, const char *type) {
    const char *split = ref->id ? strchr(ref->id, sep) : NULL;
    const char *outer = rdsbk_res_str(ref->attributes, outer_key);
    const char *inner = rdsbk_res_str(ref->attributes, inner_key);

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
        return rdsbk_error_set(RDSBK_ENOMEM, "out of memory");
    }
    return 0;
}

int rdsbk_res_set_id(char **id_out, const char *id) {
    int result = 0;

    if (id_out) {
        *id_out = strdup(id ? id : "");
        if (!*id_out)
            result = rdsbk_error_set(RDSBK_ENOMEM, "out of memory");
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
        rdsbk_error_set(RDSBK_ENOMEM, "out of memory");
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
        const char *have = rdsbk_res_str(actual, it->string);
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

static double s_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void s_sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0)
        ;
}

void rdsbk_res_backoff_init(struct rdsbk_res_backoff *b, long first_ms, long max_ms,
                            long total_ms) {
    b->delay_ms = first_ms > 0 ? first_ms : 1;
    b->max_ms = max_ms > b->delay_ms ? max_ms : b->delay_ms;
    b->deadline = s_now() + (double)total_ms / 1000.0;
    b->attempt = 1;
}

bool rdsbk_res_backoff_wait(struct rdsbk_res_backoff *b, const char *fmt, ...) {
    double left = b->deadline - s_now();
    long delay = b->delay_ms;
    char what[512];
    va_list ap;

    if (left <= 0)
        return false;
    /* the last wait is cut short rather than skipped: one more attempt right at the deadline */
    if ((double)delay / 1000.0 > left)
        delay = (long)(left * 1000.0) + 1;
    b->attempt++;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    rdsbk_log_debug("%s: attempt %d in %ld ms", what, b->attempt, delay);
    s_sleep_ms(delay);
    b->delay_ms = b->delay_ms * 2 > b->max_ms ? b->max_ms : b->delay_ms * 2;
    return true;
}

int rdsbk_res_written(cJSON **actual_out, char **id_out, const cJSON *desired, const char *id,
                      const char *key, const char *value) {
    cJSON *out = cJSON_Duplicate(desired, 1);
    int result = out ? 0 : rdsbk_error_set(RDSBK_ENOMEM, "out of memory");

    *actual_out = NULL;
    if (result == 0 && key) {
        cJSON_DeleteItemFromObjectCaseSensitive(out, key);
        result = rdsbk_res_add_str(out, key, value);
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
