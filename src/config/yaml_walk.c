/* Typed access to a loaded libyaml document: see yaml_walk.h. */
#include "yaml_walk.h"

#include "rdsbk/str.h"
#include "unique.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rdsbk_pos rdsbk_yaml_pos(const yaml_node_t *node) {
    struct rdsbk_pos pos = {1, 1};

    if (node) {
        pos.line = (int)node->start_mark.line + 1;
        pos.col = (int)node->start_mark.column + 1;
    }
    return pos;
}

static bool s_at_or_before(struct rdsbk_pos a, struct rdsbk_pos b) {
    return a.line < b.line || (a.line == b.line && a.col <= b.col);
}

/* Where a problem at `pos` goes among the kept ones: after every one at or before `pos`, so
 * that problems at one place keep the order they were found in. */
static size_t s_slot(const struct rdsbk_diagnostics *d, struct rdsbk_pos pos) {
    size_t lo = 0;
    size_t hi = d->count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (s_at_or_before(d->items[mid].pos, pos))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Whether a problem of `severity` at `pos` is kept: while fewer than RDSBK_MAX_DIAGNOSTICS of its
 * severity are, or when it comes before the last of them, whose index goes to *evict (d->count
 * when none need leave). */
static bool s_keeps(const struct rdsbk_diagnostics *d, enum rdsbk_severity severity,
                    struct rdsbk_pos pos, size_t *evict) {
    size_t n = 0;
    size_t last = d->count;

    for (size_t i = 0; i < d->count; i++) {
        if (d->items[i].severity == severity) {
            n++;
            last = i;
        }
    }
    *evict = n < RDSBK_MAX_DIAGNOSTICS ? d->count : last;
    return n < RDSBK_MAX_DIAGNOSTICS || !s_at_or_before(d->items[last].pos, pos);
}

bool rdsbk_yaml_wants(const struct rdsbk_yaml_walk *w, struct rdsbk_pos pos) {
    size_t evict;

    return s_keeps(w->diags, RDSBK_SEVERITY_ERROR, pos, &evict);
}

/* Keeps the first RDSBK_MAX_DIAGNOSTICS errors and as many warnings in file order, sorted as they
 * come; the others are only counted, so that a file with a problem every few bytes costs neither
 * memory nor time, and warnings never crowd out an error. */
static void s_record(struct rdsbk_yaml_walk *w, enum rdsbk_severity severity, struct rdsbk_pos pos,
                     const char *fmt, va_list ap) {
    struct rdsbk_diagnostics *d = w->diags;
    struct rdsbk_diagnostic *item;
    char raw[sizeof(item->message)];
    size_t evict;
    size_t at;

    d->errors += severity == RDSBK_SEVERITY_ERROR;
    if (!s_keeps(d, severity, pos, &evict)) {
        d->more++;
        return;
    }
    if (!d->items) {
        d->items = calloc(2 * RDSBK_MAX_DIAGNOSTICS, sizeof(*d->items));
        if (!d->items) {
            w->oom = 1;
            return;
        }
    }
    if (evict < d->count) { /* the last one kept of its severity makes room */
        d->count--;
        memmove(&d->items[evict], &d->items[evict + 1], (d->count - evict) * sizeof(*item));
        d->more++;
    }
    at = s_slot(d, pos);
    item = &d->items[at];
    memmove(item + 1, item, (d->count - at) * sizeof(*item));
    d->count++;
    item->pos = pos;
    item->severity = severity;
    /* values from the file are quoted in messages: nothing in them may reach a terminal raw */
    vsnprintf(raw, sizeof(raw), fmt, ap);
    rdsbk_str_escape_terminal(item->message, sizeof(item->message), raw);
}

void rdsbk_yaml_error_at(struct rdsbk_yaml_walk *w, struct rdsbk_pos pos, const char *fmt, ...) {
    va_list ap;

    va_start(ap, fmt);
    s_record(w, RDSBK_SEVERITY_ERROR, pos, fmt, ap);
    va_end(ap);
}

void rdsbk_yaml_warning(struct rdsbk_yaml_walk *w, const yaml_node_t *node, const char *fmt, ...) {
    va_list ap;

    va_start(ap, fmt);
    s_record(w, RDSBK_SEVERITY_WARNING, rdsbk_yaml_pos(node), fmt, ap);
    va_end(ap);
}

void rdsbk_yaml_error(struct rdsbk_yaml_walk *w, const yaml_node_t *node, const char *fmt, ...) {
    va_list ap;

    va_start(ap, fmt);
    s_record(w, RDSBK_SEVERITY_ERROR, rdsbk_yaml_pos(node), fmt, ap);
    va_end(ap);
}

yaml_node_t *rdsbk_yaml_node(struct rdsbk_yaml_walk *w, int index) {
    return yaml_document_get_node(w->doc, index);
}

static const char *s_kind(const yaml_node_t *node) {
    switch (node->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a list";
    default:
        return "a scalar";
    }
}

bool rdsbk_yaml_is_null(const yaml_node_t *node) {
    const char *v;

    if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    v = (const char *)node->data.scalar.value;
    return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

const char *rdsbk_yaml_scalar(struct rdsbk_yaml_walk *w, const yaml_node_t *node,
                              const char *what) {
    if (node->type != YAML_SCALAR_NODE) {
        rdsbk_yaml_error(w, node, "%s: must be a string, not %s", what, s_kind(node));
        return NULL;
    }
    if (rdsbk_yaml_is_null(node)) {
        rdsbk_yaml_error(w, node, "%s: must not be empty", what);
        return NULL;
    }
    /* libyaml keeps NUL bytes of escaped strings ("\0"); a C string would silently cut them. */
    if (strlen((const char *)node->data.scalar.value) != node->data.scalar.length) {
        rdsbk_yaml_error(w, node, "%s: must not contain NUL characters", what);
        return NULL;
    }
    return (const char *)node->data.scalar.value;
}

bool rdsbk_yaml_int(struct rdsbk_yaml_walk *w, const yaml_node_t *node, const char *what, long min,
                    long max, int *out) {
    const char *text;
    char *end;
    long v;

    if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
        rdsbk_yaml_is_null(node)) {
        rdsbk_yaml_error(w, node, "%s: must be a whole number", what);
        return false;
    }
    text = (const char *)node->data.scalar.value;
    errno = 0;
    v = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0' ||
        (text[0] != '-' && (text[0] < '0' || text[0] > '9'))) {
        rdsbk_yaml_error(w, node, "%s: must be a whole number, not '%s'", what, text);
        return false;
    }
    if (v < min || v > max) {
        rdsbk_yaml_error(w, node, "%s: must be between %ld and %ld, not %ld", what, min, max, v);
        return false;
    }
    *out = (int)v;
    return true;
}

bool rdsbk_yaml_bool(struct rdsbk_yaml_walk *w, const yaml_node_t *node, const char *what,
                     bool *out) {
    const char *v;

    if (node->type == YAML_SCALAR_NODE && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        v = (const char *)node->data.scalar.value;
        if (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "TRUE") == 0) {
            *out = true;
            return true;
        }
        if (strcmp(v, "false") == 0 || strcmp(v, "False") == 0 || strcmp(v, "FALSE") == 0) {
            *out = false;
            return true;
        }
    }
    rdsbk_yaml_error(w, node, "%s: must be true or false", what);
    return false;
}

/* Levenshtein distance, capped: only small distances matter for suggestions. */
static size_t s_distance(const char *a, const char *b) {
    size_t la = strlen(a);
    size_t lb = strlen(b);
    size_t row[64];

    if (la >= 63 || lb >= 63)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

static const char *s_suggest(const char *key, const struct rdsbk_yaml_field *fields) {
    const char *best = NULL;
    size_t best_d = 99;
    size_t limit = strlen(key) <= 4 ? 1 : 2;

    for (const struct rdsbk_yaml_field *f = fields; f->name; f++) {
        size_t d = s_distance(key, f->name);
        if (d < best_d) {
            best_d = d;
            best = f->name;
        }
    }
    return best_d <= limit ? best : NULL;
}

/* first[i]: the pair of mapping `node` where pair i's key first stands (rdsbk_first_equal); NULL
 * after recording out-of-memory. The caller frees it. */
static size_t *s_first_keys(struct rdsbk_yaml_walk *w, const yaml_node_t *node) {
    size_t n = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    const char **keys = malloc((n ? n : 1) * sizeof(*keys));
    size_t *first = malloc((n ? n : 1) * sizeof(*first));

    for (size_t i = 0; keys && i < n; i++) {
        yaml_node_t *k = rdsbk_yaml_node(w, node->data.mapping.pairs.start[i].key);
        keys[i] = k && k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : NULL;
    }
    if (!keys || !first || rdsbk_first_equal(first, keys, n) != 0) {
        free(first);
        first = NULL;
        w->oom = 1;
    }
    free(keys);
    return first;
}

static void s_unknown_key(struct rdsbk_yaml_walk *w, const yaml_node_t *key, const char *what,
                          const struct rdsbk_yaml_field *fields) {
    const char *name = (const char *)key->data.scalar.value;
    const char *hint = rdsbk_yaml_wants(w, rdsbk_yaml_pos(key)) ? s_suggest(name, fields) : NULL;

    if (hint)
        rdsbk_yaml_error(w, key, "unknown key '%s' in %s (did you mean '%s'?)", name, what, hint);
    else
        rdsbk_yaml_error(w, key, "unknown key '%s' in %s", name, what);
}

bool rdsbk_yaml_mapping(struct rdsbk_yaml_walk *w, const yaml_node_t *node, const char *what,
                        const struct rdsbk_yaml_field *fields, void *payload) {
    size_t *first;
    size_t n;

    if (node->type != YAML_MAPPING_NODE) {
        rdsbk_yaml_error(w, node, "%s: must be a mapping, not %s", what, s_kind(node));
        return false;
    }
    first = s_first_keys(w, node);
    n = first ? (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start) : 0;
    for (size_t i = 0; i < n; i++) {
        const yaml_node_pair_t *pair = &node->data.mapping.pairs.start[i];
        yaml_node_t *key = rdsbk_yaml_node(w, pair->key);
        yaml_node_t *value = rdsbk_yaml_node(w, pair->value);
        const struct rdsbk_yaml_field *f;
        const char *name;

        if (!key || !value)
            continue;
        if (key->type != YAML_SCALAR_NODE) {
            rdsbk_yaml_error(w, key, "keys of %s must be plain words", what);
            continue;
        }
        name = (const char *)key->data.scalar.value;
        if (first[i] != i) {
            rdsbk_yaml_error(w, key, "duplicate key '%s' in %s", name, what);
            continue;
        }
        for (f = fields; f->name; f++)
            if (strcmp(f->name, name) == 0)
                break;
        if (f->name)
            f->fn(w, f, value, payload);
        else
            s_unknown_key(w, key, what, fields);
    }
    free(first);
    return true;
}
