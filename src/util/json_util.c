/* cJSON helpers; see rdsbk/json_util.h. */
#include "rdsbk/json_util.h"

#include "rdsbk/error.h"

#include <stdlib.h>
#include <string.h>

const char *rdsbk_json_str(const cJSON *obj, const char *key) {
    const cJSON *item = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

int rdsbk_json_int(const cJSON *obj, const char *key, int dflt) {
    const cJSON *item = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    return cJSON_IsNumber(item) ? item->valueint : dflt;
}

int rdsbk_json_add(cJSON *obj, const char *key, cJSON *item) {
    if (!item || !cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        return rdsbk_error_oom();
    }
    return 0;
}

int rdsbk_json_add_str(cJSON *obj, const char *key, const char *value) {
    return rdsbk_json_add(obj, key, cJSON_CreateString(value ? value : ""));
}

int rdsbk_json_add_opt_str(cJSON *obj, const char *key, const char *value) {
    return value ? rdsbk_json_add(obj, key, cJSON_CreateString(value)) : 0;
}

int rdsbk_json_add_str_or_null(cJSON *obj, const char *key, const char *value) {
    return rdsbk_json_add(obj, key, value ? cJSON_CreateString(value) : cJSON_CreateNull());
}

int rdsbk_json_add_num(cJSON *obj, const char *key, double value) {
    return rdsbk_json_add(obj, key, cJSON_CreateNumber(value));
}

int rdsbk_json_add_strs(cJSON *obj, const char *key, const char *const *values, size_t n) {
    cJSON *arr = cJSON_CreateArray();

    for (size_t i = 0; arr && i < n; i++) {
        cJSON *s = cJSON_CreateString(values[i]);
        if (!s || !cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            cJSON_Delete(arr);
            arr = NULL;
        }
    }
    return rdsbk_json_add(obj, key, arr);
}

int rdsbk_json_copy_member(cJSON *to, const cJSON *from, const char *key) {
    const cJSON *item = from ? cJSON_GetObjectItemCaseSensitive(from, key) : NULL;
    return item ? rdsbk_json_add(to, key, cJSON_Duplicate(item, true)) : 0;
}

int rdsbk_json_dup_str(char **out, const cJSON *obj, const char *key) {
    const char *v = rdsbk_json_str(obj, key);

    *out = v ? strdup(v) : NULL;
    return v && !*out ? rdsbk_error_oom() : 0;
}

int rdsbk_json_text(char **out, const cJSON *value) {
    *out = cJSON_PrintUnformatted(value);
    return *out ? 0 : rdsbk_error_oom();
}

int rdsbk_json_parse(cJSON **out, const char *text, const char *what) {
    *out = text ? cJSON_Parse(text) : NULL;
    if (!*out)
        return rdsbk_error_set(RDSBK_EINVALID, "%s: AWS returned a document that is not JSON",
                               what);
    return 0;
}

int rdsbk_json_replace(cJSON *parent, cJSON *child, cJSON *replacement) {
    bool ok;

    if (!replacement)
        return rdsbk_error_oom();
    /* cJSON_ReplaceItemViaPointer drops the key; the object variant copies it. */
    if (cJSON_IsObject(parent) && child->string)
        ok = cJSON_ReplaceItemInObjectCaseSensitive(parent, child->string, replacement);
    else
        ok = cJSON_ReplaceItemViaPointer(parent, child, replacement);
    if (!ok) {
        cJSON_Delete(replacement);
        return rdsbk_error_oom();
    }
    return 0;
}
