#ifndef RDSBK_JSON_UTIL_H
#define RDSBK_JSON_UTIL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * cJSON helpers shared by every module. Getters return borrowed pointers into the object; adders
 * take over what they add (deleted on failure) and return 0 or RDSBK_ENOMEM with the error set.
 */

/* The string member `key` of `obj`, or NULL (absent, not a string, or `obj` NULL). Borrowed. */
const char *rdsbk_json_str(const cJSON *obj, const char *key);

/* The number member `key` as an int; `dflt` when absent or not a number. */
int rdsbk_json_int(const cJSON *obj, const char *key, int dflt);

/* Adds `item` under `key`; a NULL item is taken as a failed allocation. */
int rdsbk_json_add(cJSON *obj, const char *key, cJSON *item);

/* Adds a string member; NULL adds "". */
int rdsbk_json_add_str(cJSON *obj, const char *key, const char *value);

/* Adds a string member when `value` is not NULL (an optional member of a request). */
int rdsbk_json_add_opt_str(cJSON *obj, const char *key, const char *value);

/* Adds `value` as a string, or null when it is NULL (a reply that always has every key). */
int rdsbk_json_add_str_or_null(cJSON *obj, const char *key, const char *value);

int rdsbk_json_add_num(cJSON *obj, const char *key, double value);

/* Adds an array of the `n` strings `values`. */
int rdsbk_json_add_strs(cJSON *obj, const char *key, const char *const *values, size_t n);

/* Copies member `key` of `from` into `to` when present. */
int rdsbk_json_copy_member(cJSON *to, const cJSON *from, const char *key);

/* *out = a copy of the string member `key` of `obj` (caller frees), NULL when absent. */
int rdsbk_json_dup_str(char **out, const cJSON *obj, const char *key);

/* *out = the compact JSON text of `value` (caller frees). */
int rdsbk_json_text(char **out, const cJSON *value);

/* Parses JSON text read back from AWS into *out (caller deletes); RDSBK_EINVALID naming `what`
 * when it does not parse. */
int rdsbk_json_parse(cJSON **out, const char *text, const char *what);

/*
 * Replaces `child` of `parent` (an object or an array) by `replacement`, keeping the child's key.
 * Takes ownership of `replacement` (freed on failure); frees `child`. Returns 0 or RDSBK_ENOMEM.
 */
int rdsbk_json_replace(cJSON *parent, cJSON *child, cJSON *replacement);

#endif
