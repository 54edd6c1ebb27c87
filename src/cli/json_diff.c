/* JSON documents in a plan, indented, and their structural changes; see json_diff.h. */
#include "json_diff.h"

#include "rdsbk/error.h"
#include "rdsbk/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Arrays with more element pairs than this are not aligned: all removed, all added. */
#define S_LCS_MAX_CELLS 250000

/* Where the lines go and how the signs look. */
struct s_out {
    struct rdsbk_buf *buf;
    int margin;
    const struct rdsbk_json_diff_style *style;
    int rc;
};

static const struct rdsbk_json_diff_style s_plain = {"", "", "", ""};

/* Whether `text` holds an unresolved reference ("${addr#attr}"). */
static bool s_is_reference(const char *text) {
    return text && strstr(text, "${") && strchr(text, '#');
}

static bool s_container(const cJSON *v) {
    return cJSON_IsObject(v) || cJSON_IsArray(v);
}

/* A scalar as JSON text, an unresolved reference as (known after apply). Caller frees. */
static char *s_scalar(const cJSON *v) {
    if (cJSON_IsString(v) && s_is_reference(v->valuestring))
        return strdup("(known after apply)");
    return cJSON_PrintUnformatted(v);
}

static const char *s_color(const struct s_out *o, char sign) {
    return sign == '+'   ? o->style->add
           : sign == '-' ? o->style->remove
           : sign == '~' ? o->style->change
                         : "";
}

/* One line: the margin, 4 spaces a level, the sign (coloured) and the text (escaped). */
static void s_line(struct s_out *o, int depth, char sign, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void s_line(struct s_out *o, int depth, char sign, const char *fmt, ...) {
    char text[4096];
    char *safe;
    va_list ap;

    if (o->rc)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    safe = rdsbk_str_escape_terminal_dup(text);
    if (!safe) {
        o->rc = rdsbk_error_oom();
        return;
    }
    o->rc = rdsbk_buf_printf(o->buf, "%*s%s%c%s %s\n", o->margin + 4 * depth, "", s_color(o, sign),
                             sign, *s_color(o, sign) ? o->style->reset : "", safe);
    free(safe);
}

/* `"key": ` for a member, nothing for an element (into `out`, at least 512 bytes). */
static const char *s_label(char *out, size_t n, const cJSON *item, bool member) {
    cJSON *name;
    char *key;

    out[0] = '\0';
    if (!member || !item->string)
        return out;
    name = cJSON_CreateStringReference(item->string);
    key = name ? cJSON_PrintUnformatted(name) : NULL;
    snprintf(out, n, "%s: ", key ? key : "\"?\"");
    cJSON_free(key);
    cJSON_Delete(name); /* a reference: the key itself stays */
    return out;
}

static void s_value(struct s_out *o, int depth, char sign, const char *label, const cJSON *v,
                    const char *suffix);

/* The members or elements of container `v`, each a line (or lines) of its own at `depth`. */
static void s_children(struct s_out *o, int depth, char sign, const cJSON *v) {
    bool member = cJSON_IsObject(v);
    const cJSON *it;
    char label[512];

    cJSON_ArrayForEach(it, v) {
        s_value(o, depth, sign, s_label(label, sizeof(label), it, member), it, ",");
    }
}

/* `label` then `v`, every line of it with `sign`. */
static void s_value(struct s_out *o, int depth, char sign, const char *label, const cJSON *v,
                    const char *suffix) {
    char *text;

    if (!s_container(v) || !v->child) {
        text = s_container(v) ? strdup(cJSON_IsObject(v) ? "{}" : "[]") : s_scalar(v);
        if (!text && !o->rc)
            o->rc = rdsbk_error_oom();
        s_line(o, depth, sign, "%s%s%s", label, text ? text : "?", suffix);
        free(text);
        return;
    }
    s_line(o, depth, sign, "%s%c", label, cJSON_IsObject(v) ? '{' : '[');
    s_children(o, depth + 1, sign, v);
    s_line(o, depth, sign, "%c%s", cJSON_IsObject(v) ? '}' : ']', suffix);
}

/* "# (3 unchanged elements hidden)" when `n` > 0. */
static void s_hidden(struct s_out *o, int depth, int n, bool member) {
    if (n > 0)
        s_line(o, depth, ' ', "# (%d unchanged %s%s hidden)", n, member ? "attribute" : "element",
               n == 1 ? "" : "s");
}

/* ---- alignment of two arrays ---------------------------------------------------------------- */

enum s_op { S_SAME, S_REMOVE, S_ADD };

/* The edit script from `b` to `a` (longest common subsequence of equal elements): *ops_out an
 * array of *n_out ops, removals before additions in each gap. NULL ops on ENOMEM. */
static enum s_op *s_align(size_t *n_out, const cJSON *b, const cJSON *a) {
    size_t n = (size_t)cJSON_GetArraySize(b);
    size_t m = (size_t)cJSON_GetArraySize(a);
    const cJSON **bi = calloc(n + 1, sizeof(*bi));
    const cJSON **ai = calloc(m + 1, sizeof(*ai));
    enum s_op *ops = calloc(n + m + 1, sizeof(*ops));
    int *t = (n + 1) * (m + 1) <= S_LCS_MAX_CELLS ? calloc((n + 1) * (m + 1), sizeof(*t)) : NULL;
    size_t i = 0, j = 0, k = 0;
    const cJSON *it;

    *n_out = 0;
    if (!bi || !ai || !ops) {
        free(ops);
        ops = NULL;
        goto cleanup;
    }
    cJSON_ArrayForEach(it, b) bi[i++] = it;
    cJSON_ArrayForEach(it, a) ai[j++] = it;
    /* t[i][j]: the LCS length of b[i..] and a[j..]; without the table, no element is the same */
    for (i = n; t && i-- > 0;)
        for (j = m; j-- > 0;)
            t[i * (m + 1) + j] =
                cJSON_Compare(bi[i], ai[j], true)
                    ? t[(i + 1) * (m + 1) + j + 1] + 1
                    : (t[(i + 1) * (m + 1) + j] > t[i * (m + 1) + j + 1] ? t[(i + 1) * (m + 1) + j]
                                                                         : t[i * (m + 1) + j + 1]);
    for (i = 0, j = 0; i < n || j < m;) {
        if (t && i < n && j < m && cJSON_Compare(bi[i], ai[j], true)) {
            ops[k++] = S_SAME, i++, j++;
        } else if (i < n && (j >= m || !t || t[(i + 1) * (m + 1) + j] >= t[i * (m + 1) + j + 1])) {
            ops[k++] = S_REMOVE, i++;
        } else {
            ops[k++] = S_ADD, j++;
        }
    }
    *n_out = k;

cleanup:
    free(bi);
    free(ai);
    free(t);
    return ops;
}

/* ---- text --------------------------------------------------------------------------------- */

static void s_diff(struct s_out *o, int depth, const char *label, const cJSON *b, const cJSON *a,
                   const char *suffix);

/* The changed members of two objects, at `depth`. */
static void s_object_body(struct s_out *o, int depth, const cJSON *b, const cJSON *a) {
    const cJSON *it;
    char label[512];
    int hidden = 0;

    cJSON_ArrayForEach(it, a) {
        const cJSON *was = cJSON_GetObjectItemCaseSensitive(b, it->string);
        s_label(label, sizeof(label), it, true);
        if (!was)
            s_value(o, depth, '+', label, it, ",");
        else if (cJSON_Compare(was, it, true))
            hidden++;
        else
            s_diff(o, depth, label, was, it, ",");
    }
    cJSON_ArrayForEach(it, b) {
        if (!cJSON_GetObjectItemCaseSensitive(a, it->string))
            s_value(o, depth, '-', s_label(label, sizeof(label), it, true), it, ",");
    }
    s_hidden(o, depth, hidden, true);
}

/* The element at `*at`, and *at moved on to the next. */
static const cJSON *s_next(const cJSON **at) {
    const cJSON *it = *at;
    *at = it ? it->next : NULL;
    return it;
}

/* The changed elements of two arrays, at `depth`: in each gap between common elements, removed
 * and added containers of one kind pair up as changed elements. */
static void s_array_body(struct s_out *o, int depth, const cJSON *b, const cJSON *a) {
    size_t n_ops;
    enum s_op *ops = s_align(&n_ops, b, a);
    const cJSON *bi = b->child;
    const cJSON *ai = a->child;
    int hidden = 0;

    if (!ops) {
        o->rc = rdsbk_error_oom();
        return;
    }
    for (size_t k = 0; k < n_ops;) {
        size_t removed = 0, added = 0;
        if (ops[k] == S_SAME) {
            hidden++, k++, s_next(&bi), s_next(&ai);
            continue;
        }
        s_hidden(o, depth, hidden, false);
        hidden = 0;
        for (; k < n_ops && ops[k] == S_REMOVE; k++)
            removed++;
        for (; k < n_ops && ops[k] == S_ADD; k++)
            added++;
        for (; removed && added && s_container(bi) && bi->type == ai->type; removed--, added--)
            s_diff(o, depth, "", s_next(&bi), s_next(&ai), ",");
        for (; removed; removed--)
            s_value(o, depth, '-', "", s_next(&bi), ",");
        for (; added; added--)
            s_value(o, depth, '+', "", s_next(&ai), ",");
    }
    s_hidden(o, depth, hidden, false);
    free(ops);
}

/* `label` changed from `b` to `a` (which differ). */
static void s_diff(struct s_out *o, int depth, const char *label, const cJSON *b, const cJSON *a,
                   const char *suffix) {
    char *was;
    char *now;

    if (s_container(b) && b->type == a->type) {
        bool object = cJSON_IsObject(a);
        s_line(o, depth, '~', "%s%c", label, object ? '{' : '[');
        if (object)
            s_object_body(o, depth + 1, b, a);
        else
            s_array_body(o, depth + 1, b, a);
        s_line(o, depth, ' ', "%c%s", object ? '}' : ']', suffix);
        return;
    }
    if (s_container(b) || s_container(a)) {
        s_value(o, depth, '-', label, b, suffix);
        s_value(o, depth, '+', label, a, suffix);
        return;
    }
    was = s_scalar(b);
    now = s_scalar(a);
    if ((!was || !now) && !o->rc)
        o->rc = rdsbk_error_oom();
    s_line(o, depth, '~', "%s%s -> %s%s", label, was ? was : "?", now ? now : "?", suffix);
    free(was);
    free(now);
}

/* The first line's end (the caller began it): a scalar, or the opening bracket. */
static int s_start(struct s_out *o, const cJSON *v) {
    char *text;
    char *safe;
    int rc;

    if (s_container(v) && v->child)
        return rdsbk_buf_printf(o->buf, "%c\n", cJSON_IsObject(v) ? '{' : '[');
    text = s_container(v) ? strdup(cJSON_IsObject(v) ? "{}" : "[]") : s_scalar(v);
    safe = text ? rdsbk_str_escape_terminal_dup(text) : NULL;
    rc = safe ? rdsbk_buf_printf(o->buf, "%s\n", safe) : rdsbk_error_oom();
    free(text);
    free(safe);
    return rc;
}

/* The closing bracket under the attribute's sign. */
static int s_end(struct s_out *o, const cJSON *v) {
    if (o->rc || !s_container(v) || !v->child)
        return o->rc;
    return rdsbk_buf_printf(o->buf, "%*s%c\n", o->margin + 2, "", cJSON_IsObject(v) ? '}' : ']');
}

int rdsbk_json_diff_value(struct rdsbk_buf *out, const cJSON *v, int margin) {
    struct s_out o = {out, margin, &s_plain, 0};

    o.rc = s_start(&o, v);
    if (o.rc == 0 && s_container(v) && v->child)
        s_children(&o, 1, ' ', v);
    return s_end(&o, v);
}

int rdsbk_json_diff_change(struct rdsbk_buf *out, const cJSON *before, const cJSON *after,
                           int margin, const struct rdsbk_json_diff_style *style) {
    struct s_out o = {out, margin, style ? style : &s_plain, 0};
    char *was;
    char *now;

    if (s_container(before) && s_container(after) && before->type == after->type && after->child) {
        o.rc = s_start(&o, after);
        if (cJSON_IsObject(after))
            s_object_body(&o, 1, before, after);
        else
            s_array_body(&o, 1, before, after);
        return s_end(&o, after);
    }
    /* a scalar, or a document that was none (or of another kind): old -> new on one line */
    was = before ? cJSON_PrintUnformatted(before) : strdup("(none)");
    now = s_container(after) ? cJSON_PrintUnformatted(after) : s_scalar(after);
    if (was && now) {
        char *line = NULL;
        if (rdsbk_strfmt(&line, "%s -> %s", was, now) == 0) {
            char *safe = rdsbk_str_escape_terminal_dup(line);
            o.rc = safe ? rdsbk_buf_printf(out, "%s\n", safe) : rdsbk_error_oom();
            free(safe);
        } else {
            o.rc = rdsbk_error_oom();
        }
        free(line);
    } else {
        o.rc = rdsbk_error_oom();
    }
    free(was);
    free(now);
    return o.rc;
}

/* ---- for machines --------------------------------------------------------------------------- */

/* Appends {"path", "action", "before", "after"} to `list`. */
static void s_entry(cJSON *list, const char *path, const char *action, const cJSON *b,
                    const cJSON *a) {
    cJSON *e = cJSON_CreateObject();

    cJSON_AddStringToObject(e, "path", path);
    cJSON_AddStringToObject(e, "action", action);
    if (b)
        cJSON_AddItemToObject(e, "before", cJSON_Duplicate(b, true));
    if (a)
        cJSON_AddItemToObject(e, "after", cJSON_Duplicate(a, true));
    cJSON_AddItemToArray(list, e);
}

static void s_list(cJSON *list, const char *path, const cJSON *b, const cJSON *a);

static void s_list_object(cJSON *list, const char *path, const cJSON *b, const cJSON *a) {
    const cJSON *it;
    char sub[1024];

    cJSON_ArrayForEach(it, a) {
        const cJSON *was = cJSON_GetObjectItemCaseSensitive(b, it->string);
        snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", it->string);
        if (!was)
            s_entry(list, sub, "add", NULL, it);
        else if (!cJSON_Compare(was, it, true))
            s_list(list, sub, was, it);
    }
    cJSON_ArrayForEach(it, b) {
        snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", it->string);
        if (!cJSON_GetObjectItemCaseSensitive(a, it->string))
            s_entry(list, sub, "remove", it, NULL);
    }
}

/* Paths name the element's index in `after` (in `before` for a removed one). */
static void s_list_array(cJSON *list, const char *path, const cJSON *b, const cJSON *a) {
    size_t n_ops;
    enum s_op *ops = s_align(&n_ops, b, a);
    const cJSON *bi = b->child;
    const cJSON *ai = a->child;
    int ib = 0, ia = 0;
    char sub[1024];

    for (size_t k = 0; ops && k < n_ops;) {
        size_t removed = 0, added = 0;
        if (ops[k] == S_SAME) {
            k++, ib++, ia++, s_next(&bi), s_next(&ai);
            continue;
        }
        for (; k < n_ops && ops[k] == S_REMOVE; k++)
            removed++;
        for (; k < n_ops && ops[k] == S_ADD; k++)
            added++;
        for (; removed && added && s_container(bi) && bi->type == ai->type; removed--, added--) {
            snprintf(sub, sizeof(sub), "%s[%d]", path, ia++);
            ib++;
            s_list(list, sub, s_next(&bi), s_next(&ai));
        }
        for (; removed; removed--) {
            snprintf(sub, sizeof(sub), "%s[%d]", path, ib++);
            s_entry(list, sub, "remove", s_next(&bi), NULL);
        }
        for (; added; added--) {
            snprintf(sub, sizeof(sub), "%s[%d]", path, ia++);
            s_entry(list, sub, "add", NULL, s_next(&ai));
        }
    }
    free(ops);
}

static void s_list(cJSON *list, const char *path, const cJSON *b, const cJSON *a) {
    if (cJSON_IsObject(b) && cJSON_IsObject(a))
        s_list_object(list, path, b, a);
    else if (cJSON_IsArray(b) && cJSON_IsArray(a))
        s_list_array(list, path, b, a);
    else
        s_entry(list, path, "change", b, a);
}

cJSON *rdsbk_json_diff_list(const cJSON *before, const cJSON *after) {
    cJSON *list = cJSON_CreateArray();

    if (list && !cJSON_Compare(before, after, true)) {
        if (!before)
            s_entry(list, "", "add", NULL, after);
        else if (!after)
            s_entry(list, "", "remove", before, NULL);
        else
            s_list(list, "", before, after);
    }
    return list;
}
