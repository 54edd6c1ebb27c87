/* The model's JSON templates (the policies under templates/policies): parse, substitute. */
#include "template_json.h"
#include "rdsbk/buf.h"
#include "rdsbk/error.h"
#include "rdsbk/json_util.h"
#include "rdsbk/templates.h"

#include <string.h>

static const cJSON *s_var(const struct rdsbk_tvar *vars, size_t n, const char *name, size_t len) {
    for (size_t i = 0; i < n; i++)
        if (strlen(vars[i].name) == len && strncmp(vars[i].name, name, len) == 0)
            return vars[i].value;
    return NULL;
}

/* Interpolates string variables into `s`; 0, or an error for an unknown or non-string one. */
static int s_interpolate(struct rdsbk_buf *out, const char *s, const struct rdsbk_tvar *vars,
                         size_t n) {
    int rc = 0;

    while (*s && !rc) {
        const char *open = strstr(s, "${");
        const char *close = open ? strchr(open, '}') : NULL;
        const cJSON *v;

        if (!close)
            return rdsbk_buf_adds(out, s);
        rc = rdsbk_buf_add(out, s, (size_t)(open - s));
        if (rc)
            break;
        if (memchr(open, '#', (size_t)(close - open))) {
            /* a reference to another resource: the engine resolves it */
            rc = rdsbk_buf_add(out, open, (size_t)(close - open) + 1);
        } else {
            v = s_var(vars, n, open + 2, (size_t)(close - open - 2));
            if (!v || !cJSON_IsString(v))
                return rdsbk_error_set(RDSBK_EINVALID, "template variable '%.*s' is %s",
                                       (int)(close - open - 2), open + 2,
                                       v ? "not a string" : "unknown");
            rc = rdsbk_buf_adds(out, v->valuestring);
        }
        s = close + 1;
    }
    return rc;
}

/* The replacement of a string holding "${": a copy of a whole variable, or the interpolation. */
static int s_substitute_string(cJSON **out, const char *s, const struct rdsbk_tvar *vars,
                               size_t n) {
    struct rdsbk_buf buf = RDSBK_BUF_INIT;
    size_t len = strlen(s);
    const cJSON *whole = NULL;
    int rc = 0;

    *out = NULL;
    if (len > 3 && s[len - 1] == '}' && !strchr(s + 2, '$') && !strchr(s, '#'))
        whole = s_var(vars, n, s + 2, len - 3);
    if (whole && strncmp(s, "${", 2) == 0) {
        *out = cJSON_Duplicate(whole, 1);
    } else {
        RDSBK_TRY(s_interpolate(&buf, s, vars, n));
        *out = cJSON_CreateString(rdsbk_buf_cstr(&buf));
    }
    RDSBK_CHECK_ALLOC(*out);

cleanup:
    rdsbk_buf_clean_up(&buf);
    return rc;
}

static int s_substitute(cJSON *node, const struct rdsbk_tvar *vars, size_t n) {
    cJSON *child = node->child;
    cJSON *replacement;
    int rc = 0;

    while (child && !rc) {
        cJSON *next = child->next;

        if (cJSON_IsString(child) && strstr(child->valuestring, "${")) {
            rc = s_substitute_string(&replacement, child->valuestring, vars, n);
            if (!rc)
                rc = rdsbk_json_replace(node, child, replacement);
        } else if (cJSON_IsObject(child) || cJSON_IsArray(child)) {
            rc = s_substitute(child, vars, n);
        }
        child = next;
    }
    return rc;
}

int rdsbk_template_json(cJSON **out, const char *path, const struct rdsbk_tvar *vars,
                        size_t n_vars) {
    const struct rdsbk_template *t = rdsbk_template_find(path);
    cJSON *doc = NULL;
    int rc;

    *out = NULL;
    if (!t)
        return rdsbk_error_set(RDSBK_EINVALID, "template %s is not built in", path);
    doc = cJSON_ParseWithLength((const char *)t->data, t->size);
    if (!doc)
        return rdsbk_error_set(RDSBK_EINVALID, "template %s is not valid JSON", path);
    rc = s_substitute(doc, vars, n_vars);
    if (rc)
        cJSON_Delete(doc);
    else
        *out = doc;
    return rc;
}
