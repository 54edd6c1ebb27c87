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
 * `in` made safe to print on a terminal, into `out` (always terminated, cut at `size`, never
 * inside an escape): C0 controls, DEL and ESC as \xHH (tabs and line breaks as a space: a message
 * is one line), C1 controls (U+0080..U+009F), the line and paragraph separators (U+2028/9) and
 * the bidirectional controls that can make a line read otherwise than it is (U+061C, U+200E/F,
 * U+202A..U+202E, U+2066..U+2069) as \uXXXX, and every byte that is not part of valid UTF-8 as
 * \xHH. Text from AWS, a file or the state goes through this before it reaches a terminal: the
 * error slot, diagnostics, log lines, the plan and the progress of apply. Returns `out`.
 */
char *rdsbk_str_escape_terminal(char *out, size_t size, const char *in);

/* The same into a new string, whole (the caller frees it); NULL when out of memory (the error
 * slot is left alone). A NULL `in` is "". */
char *rdsbk_str_escape_terminal_dup(const char *in);

/*
 * The code point of the UTF-8 sequence at `s` in *cp and its length in bytes (1 to 4); 0 when `s`
 * does not start a valid one (a stray continuation byte, an overlong form, a surrogate, past
 * U+10FFFF, cut short by the terminator). ASCII, NUL included, is one byte.
 */
size_t rdsbk_utf8_decode(unsigned *cp, const char *s);

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

/* Whether `s` equals one of the `n` strings of `list`; false for a NULL `s`. */
bool rdsbk_str_in(const char *s, const char *const *list, size_t n);

#endif
