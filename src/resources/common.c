/* What the resource types share: attribute access, what a read, create or update hands back, and
 * the waits; see resources_internal.h. */
#include "resources_internal.h"

#include "rdsbk/endpoints.h"
#include "rdsbk/error.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const rdsbk_res_no_keys[] = {NULL};

const char *rdsbk_res_name(const struct rdsbk_resource_ref *ref) {
    return ref->id && *ref->id ? ref->id : ref->name;
}

int rdsbk_res_regional_arn(char **out, const struct rdsbk_resource_ref *ref, const char *service,
                           const char *what) {
    const char *colon = ref->id ? strrchr(ref->id, ':') : NULL;

    *out = NULL;
    if (!ref->id || !*ref->id)
        return rdsbk_strfmt(out, "arn:%s:%s:%s:%s:%s", rdsbk_partition_of_region(ref->region),
                            service, ref->region, ref->account, ref->name);
    if (strncmp(ref->id, "arn:", 4) != 0 || !colon || !colon[1])
        return rdsbk_error_set(RDSBK_EINVALID, "%s: \"%s\" is not %s ARN",
                               rdsbk_resource_type_name(ref->type), ref->id, what);
    return rdsbk_strdup_into(out, ref->id);
}

int rdsbk_res_require(const char **out, const cJSON *obj, const char *key, const char *type) {
    *out = rdsbk_json_str(obj, key);
    if (!*out || !**out)
        return rdsbk_error_set(RDSBK_EINVALID, "%s: attribute \"%s\" is missing", type, key);
    return 0;
}

bool rdsbk_res_changed(const cJSON *desired, const cJSON *actual, const char *key) {
    const cJSON *d = desired ? cJSON_GetObjectItemCaseSensitive(desired, key) : NULL;
    const cJSON *a = actual ? cJSON_GetObjectItemCaseSensitive(actual, key) : NULL;

    return (!d || !a) ? d != a : !cJSON_Compare(d, a, true);
}

bool rdsbk_res_any_changed(const cJSON *desired, const cJSON *actual, const char *const *keys) {
    for (; *keys; keys++) {
        if (rdsbk_res_changed(desired, actual, *keys))
            return true;
    }
    return false;
}

const cJSON *rdsbk_res_find(const cJSON *array, const char *member, const char *value) {
    const cJSON *it;
    const cJSON *found = NULL;

    cJSON_ArrayForEach(it, array) {
        const char *v = rdsbk_json_str(it, member);
        if (v && value && strcmp(v, value) == 0)
            found = it;
    }
    return found;
}

int rdsbk_res_add_parsed(cJSON *out, const char *key, const char *text, const char *what) {
    cJSON *doc = NULL;
    int rc = rdsbk_json_parse(&doc, text, what);

    return rc ? rc : rdsbk_json_add(out, key, doc);
}

/* The member at `path` of `obj` ("A.B": member B of member A), or NULL. Borrowed. */
static const cJSON *s_member(const cJSON *obj, const char *path) {
    while (obj && path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        const cJSON *it;
        const cJSON *next = NULL;

        cJSON_ArrayForEach(it, obj) {
            if (!next && it->string && strncmp(it->string, path, len) == 0 && !it->string[len])
                next = it;
        }
        obj = next;
        path = dot ? dot + 1 : NULL;
    }
    return obj;
}

static int s_add_attr(cJSON *out, const cJSON *reply, const struct rdsbk_res_attr *a,
                      const char *call) {
    const cJSON *v = s_member(reply, a->member);
    const char *str = cJSON_IsString(v) ? v->valuestring : NULL;
    char what[256];

    switch (a->kind) {
    case RDSBK_RES_STR:
        return rdsbk_json_add_str(out, a->key, str);
    case RDSBK_RES_OPT_STR:
        return rdsbk_json_add_opt_str(out, a->key, str);
    case RDSBK_RES_OPT_JSON:
        snprintf(what, sizeof(what), "%s %s", call, a->member);
        return str ? rdsbk_res_add_parsed(out, a->key, str, what) : 0;
    case RDSBK_RES_BOOL:
        return rdsbk_json_add(out, a->key, cJSON_CreateBool(cJSON_IsTrue(v)));
    case RDSBK_RES_INT:
        return rdsbk_json_add_num(out, a->key, cJSON_IsNumber(v) ? v->valueint : a->dflt);
    case RDSBK_RES_OBJECT:
        return rdsbk_json_add(out, a->key,
                              cJSON_IsObject(v) ? cJSON_Duplicate(v, true) : cJSON_CreateObject());
    }
    assert(!"unknown attribute kind");
    return rdsbk_error_set(RDSBK_ERROR, "attribute %s: unknown kind", a->key);
}

int rdsbk_res_add_attrs(cJSON *out, const cJSON *reply, const struct rdsbk_res_attr *attrs,
                        const char *call) {
    int rc = 0;

    for (const struct rdsbk_res_attr *a = attrs; rc == 0 && a->key; a++)
        rc = s_add_attr(out, reply, a, call);
    return rc;
}

int rdsbk_res_set_id(char **id_out, const char *id) {
    return id_out ? rdsbk_strdup_into(id_out, id ? id : "") : 0;
}

void rdsbk_res_outs_init(cJSON **actual_out, char **id_out) {
    *actual_out = NULL;
    if (id_out)
        *id_out = NULL;
}

int rdsbk_res_found(cJSON **actual_out, char **id_out, cJSON **attrs, const char *id) {
    int rc = rdsbk_res_set_id(id_out, id);

    if (rc == 0) {
        *actual_out = *attrs;
        *attrs = NULL;
    }
    return rc;
}

int rdsbk_res_written(cJSON **actual_out, char **id_out, const cJSON *desired, const char *id,
                      const char *key, const char *value) {
    cJSON *out = cJSON_Duplicate(desired, 1);
    int rc;

    *actual_out = NULL;
    RDSBK_CHECK_ALLOC(out);
    if (key) {
        cJSON_DeleteItemFromObjectCaseSensitive(out, key);
        RDSBK_TRY(rdsbk_json_add_str(out, key, value));
    }
    rc = rdsbk_res_found(actual_out, id_out, &out, id);

cleanup:
    cJSON_Delete(out);
    return rc;
}

int rdsbk_res_rewrite(cJSON **actual_out, struct rdsbk_client *client,
                      const struct rdsbk_resource_ref *ref, const cJSON *desired,
                      const cJSON *actual) {
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(ref->type);

    (void)actual;
    assert(ops->update == rdsbk_res_rewrite);
    return ops->create(actual_out, NULL, client, ref, desired);
}

int rdsbk_res_replace(cJSON **actual_out, struct rdsbk_client *client,
                      const struct rdsbk_resource_ref *ref, const cJSON *desired,
                      const cJSON *actual) {
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(ref->type);
    int rc;

    (void)actual;
    assert(ops->update == rdsbk_res_replace);
    *actual_out = NULL;
    rc = rdsbk_resource_remove(client, ref);
    return rc ? rc : ops->create(actual_out, NULL, client, ref, desired);
}

bool rdsbk_res_aws_error_is(const char *code, const char *fragment) {
    const struct rdsbk_error *err = rdsbk_error_last();

    return strcmp(err->aws_code, code) == 0 && (!fragment || strstr(err->message, fragment));
}

bool rdsbk_res_backoff_wait(struct rdsbk_backoff *b, const char *fmt, ...) {
    char why[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    return rdsbk_backoff_sleep(b, why);
}
