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
    while (*s) {
        const char *open = strstr(s, "${");
        const char *close;
        const cJSON *v;

        if (!open)
            return rdsbk_buf_adds(out, s);
        close = strchr(open, '}');
        if (!close)
            return rdsbk_buf_adds(out, s);
        if (rdsbk_buf_add(out, s, (size_t)(open - s)))
            return RDSBK_ENOMEM;
        if (memchr(open, '#', (size_t)(close - open))) {
            /* a reference to another resource: the engine resolves it */
            if (rdsbk_buf_add(out, open, (size_t)(close - open) + 1))
                return RDSBK_ENOMEM;
        } else {
            v = s_var(vars, n, open + 2, (size_t)(close - open - 2));
            if (!v || !cJSON_IsString(v))
                return rdsbk_error_set(RDSBK_EINVALID, "template variable '%.*s' is %s",
                                       (int)(close - open - 2), open + 2,
                                       v ? "not a string" : "unknown");
            if (rdsbk_buf_adds(out, v->valuestring))
                return RDSBK_ENOMEM;
        }
        s = close + 1;
    }
    return 0;
}

static int s_substitute(cJSON *node, const struct rdsbk_tvar *vars, size_t n) {
    cJSON *child = node->child;

    while (child) {
        cJSON *next = child->next;
        if (cJSON_IsString(child) && strstr(child->valuestring, "${")) {
            const char *s = child->valuestring;
            size_t len = strlen(s);
            const cJSON *whole = NULL;

            if (len > 3 && s[len - 1] == '}' && !strchr(s + 2, '$') && !strchr(s, '#'))
                whole = s_var(vars, n, s + 2, len - 3);
            if (whole && strncmp(s, "${", 2) == 0) {
                if (rdsbk_json_replace(node, child, cJSON_Duplicate(whole, 1)))
                    return RDSBK_ENOMEM;
            } else {
                struct rdsbk_buf buf = RDSBK_BUF_INIT;
                int rc = s_interpolate(&buf, s, vars, n);
                cJSON *str = rc ? NULL : cJSON_CreateString(rdsbk_buf_cstr(&buf));
                rdsbk_buf_clean_up(&buf);
                if (rc)
                    return rc;
                if (rdsbk_json_replace(node, child, str))
                    return RDSBK_ENOMEM;
            }
        } else if (cJSON_IsObject(child) || cJSON_IsArray(child)) {
            int rc = s_substitute(child, vars, n);
            if (rc)
                return rc;
        }
        child = next;
    }
    return 0;
}

cJSON *rdsbk_template_json(const char *path, const struct rdsbk_tvar *vars, size_t n_vars) {
    const struct rdsbk_template *t = rdsbk_template_find(path);
    cJSON *doc;

    if (!t) {
        rdsbk_error_set(RDSBK_EINVALID, "template %s is not built in", path);
        return NULL;
    }
    doc = cJSON_ParseWithLength((const char *)t->data, t->size);
    if (!doc) {
        rdsbk_error_set(RDSBK_EINVALID, "template %s is not valid JSON", path);
        return NULL;
    }
    if (s_substitute(doc, vars, n_vars)) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}
