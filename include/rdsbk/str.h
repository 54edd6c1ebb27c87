#ifndef RDSBK_STR_H
#define RDSBK_STR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* Small string helpers shared by every module. */

/* *out = a new printf-formatted string (caller frees). Returns 0, or RDSBK_ENOMEM (error set,
 * *out NULL). */
int rdsbk_strfmt(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* rdsbk_strfmt with a va_list, for a function that takes a format of its own. */
int rdsbk_vstrfmt(char **out, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Frees the `n` strings of `items` and the array itself (a NULL array holds none). */
void rdsbk_strs_free(char **items, size_t n);

/* *out = strdup(src), or NULL for a NULL src. Returns 0, or RDSBK_ENOMEM (error set). */
int rdsbk_strdup_into(char **out, const char *src);

/*
 * Binary search in an array of `n` elements of `size` bytes sorted (strcmp) by a string member:
 * the `const char *` (or `char *`) at byte `key_offset` of each element. Returns the index of the
 * element whose member equals `key` with *found true, or else the index where it would be inserted
 * with *found false (`found` may be NULL).
 */
size_t rdsbk_sorted_index(bool *found, const void *base, size_t n, size_t size, size_t key_offset,
                          const char *key);

/* The element whose string member equals `key` (see rdsbk_sorted_index), or NULL. Borrowed. */
void *rdsbk_sorted_find(const void *base, size_t n, size_t size, size_t key_offset,
                        const char *key);

#endif
