#ifndef RDSBK_CONFIG_YAML_WALK_H
#define RDSBK_CONFIG_YAML_WALK_H

#include "rdsbk/config.h"

#include <stdbool.h>
#include <yaml.h>

/*
 * Typed access to a loaded libyaml document, recording every problem as a diagnostic instead of
 * stopping at the first: the topology loader reports all errors of a file in one run.
 */
struct rdsbk_yaml_walk {
    yaml_document_t *doc;
    struct rdsbk_diagnostics *diags;
    int oom; /* set when recording a diagnostic ran out of memory */
};

/*
 * Loads the first document of `text` into *doc (the caller deletes it) within the limits of
 * rdsbk/config.h: nesting depth, and nodes with aliases expanded (yaml_load.c). Returns 0,
 * RDSBK_EINVALID with a diagnostic (not YAML, or past a limit; *doc then needs no delete), or
 * RDSBK_ENOMEM.
 */
int rdsbk_yaml_load(yaml_document_t *doc, struct rdsbk_yaml_walk *w, const char *text, size_t len);

/* Records `message` at the node's position (1-based line and column). Only the first
 * RDSBK_MAX_DIAGNOSTICS errors in file order are kept, and as many warnings; the others are
 * counted. */
void rdsbk_yaml_error(struct rdsbk_yaml_walk *w, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rdsbk_yaml_error_at(struct rdsbk_yaml_walk *w, struct rdsbk_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rdsbk_yaml_warning(struct rdsbk_yaml_walk *w, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct rdsbk_pos rdsbk_yaml_pos(const yaml_node_t *node);

/* Whether an error at `pos` would be kept (rather than only counted): work spent on the words of
 * a message (a "did you mean") is skipped when it would not. */
bool rdsbk_yaml_wants(const struct rdsbk_yaml_walk *w, struct rdsbk_pos pos);

/* The scalar's text (borrowed from the document), or NULL after recording "expected a string". */
const char *rdsbk_yaml_scalar(struct rdsbk_yaml_walk *w, const yaml_node_t *node, const char *what);

/* Whether a plain (unquoted) scalar spells YAML null (`~`, `null`, or nothing). */
bool rdsbk_yaml_is_null(const yaml_node_t *node);

/* Parses a decimal integer in [min, max]; records an error and returns false otherwise. */
bool rdsbk_yaml_int(struct rdsbk_yaml_walk *w, const yaml_node_t *node, const char *what, long min,
                    long max, int *out);

/* Parses true/false; records an error and returns false otherwise. */
bool rdsbk_yaml_bool(struct rdsbk_yaml_walk *w, const yaml_node_t *node, const char *what,
                     bool *out);

struct rdsbk_yaml_field;

/* A key/value handler of a mapping walk: `value` is the node of the key `field` names. */
typedef void (*rdsbk_yaml_field_fn)(struct rdsbk_yaml_walk *w, const struct rdsbk_yaml_field *field,
                                    const yaml_node_t *value, void *payload);

/* A key of a mapping and its handler; `data` is the handler's, to tell the keys it serves apart
 * (where the value goes, what it may be), or NULL. */
struct rdsbk_yaml_field {
    const char *name;
    rdsbk_yaml_field_fn fn;
    const void *data;
};

/*
 * Walks a mapping: calls the handler of each known key, reports unknown keys (with a "did you
 * mean" suggestion when one is close) and duplicate keys (found by sorting: a mapping of any size
 * costs O(n log n)). `fields` ends with a {NULL, NULL, NULL} entry. Returns false (after recording
 * an error) when `node` is not a mapping.
 */
bool rdsbk_yaml_mapping(struct rdsbk_yaml_walk *w, const yaml_node_t *node, const char *what,
                        const struct rdsbk_yaml_field *fields, void *payload);

/* The node a key or sequence item points at. */
yaml_node_t *rdsbk_yaml_node(struct rdsbk_yaml_walk *w, int index);

#endif
