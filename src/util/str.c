/* Small string helpers; see rdsbk/str.h. */
#include "rdsbk/str.h"

#include "rdsbk/buf.h"
#include "rdsbk/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rdsbk_vstrfmt(char **out, const char *fmt, va_list ap) {
    struct rdsbk_buf b = RDSBK_BUF_INIT;
    int rc = rdsbk_buf_vprintf(&b, fmt, ap);

    *out = rc == 0 ? rdsbk_buf_detach(&b) : NULL;
    rdsbk_buf_clean_up(&b);
    return *out ? 0 : rdsbk_error_oom();
}

int rdsbk_strfmt(char **out, const char *fmt, ...) {
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = rdsbk_vstrfmt(out, fmt, ap);
    va_end(ap);
    return rc;
}

void rdsbk_strs_free(char **items, size_t n) {
    for (size_t i = 0; items && i < n; i++)
        free(items[i]);
    free(items);
}

int rdsbk_strdup_into(char **out, const char *src) {
    *out = src ? strdup(src) : NULL;
    return src && !*out ? rdsbk_error_oom() : 0;
}

size_t rdsbk_utf8_decode(unsigned *cp, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    unsigned c;
    unsigned min;
    size_t len;

    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        len = 2, c = p[0] & 0x1Fu, min = 0x80;
    } else if ((p[0] & 0xF0) == 0xE0) {
        len = 3, c = p[0] & 0x0Fu, min = 0x800;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        len = 4, c = p[0] & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) /* a terminator stops here too */
            return 0;
        c = (c << 6) | (p[i] & 0x3Fu);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

/* Whether a terminal could obey code point `cp` (beyond ASCII), or show its line otherwise than it
 * is: the C1 controls, the line and paragraph separators, the bidirectional controls. */
static bool s_unsafe(unsigned cp) {
    return (cp >= 0x80 && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
           (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* The character at `s` as it is printed, into `piece`; returns how many bytes of `s` it stands
 * for. A byte that is not UTF-8 is escaped too: 0x80..0x9F alone is a C1 control on a terminal
 * that reads Latin-1. */
static size_t s_piece(char piece[16], const unsigned char *s) {
    unsigned cp;
    size_t len = rdsbk_utf8_decode(&cp, (const char *)s);

    if (len == 0) {
        snprintf(piece, 16, "\\x%02X", *s);
        return 1;
    }
    if (cp == '\t' || cp == '\n' || cp == '\r')
        snprintf(piece, 16, " ");
    else if (cp < 0x20 || cp == 0x7F)
        snprintf(piece, 16, "\\x%02X", cp);
    else if (s_unsafe(cp))
        snprintf(piece, 16, "\\u%04X", cp);
    else
        snprintf(piece, 16, "%.*s", (int)len, (const char *)s);
    return len;
}

char *rdsbk_str_escape_terminal(char *out, size_t size, const char *in) {
    const unsigned char *s = (const unsigned char *)(in ? in : "");
    size_t o = 0;

    if (size == 0)
        return out;
    while (*s && o + 1 < size) {
        char piece[16];
        size_t len = s_piece(piece, s);
        size_t n = strlen(piece);

        if (o + n >= size)
            break;
        memcpy(out + o, piece, n);
        o += n;
        s += len;
    }
    out[o] = '\0';
    return out;
}

char *rdsbk_str_escape_terminal_dup(const char *in) {
    /* at most 4 characters a byte: "\xHH" for one, "\uXXXX" for two or three */
    size_t size = 4 * strlen(in ? in : "") + 1;
    char *out = malloc(size);

    return out ? rdsbk_str_escape_terminal(out, size, in) : NULL;
}

static const char *s_key_at(const void *base, size_t i, size_t size, size_t key_offset) {
    const char *element = (const char *)base + i * size;
    const char *key;

    memcpy(&key, element + key_offset, sizeof(key));
    return key;
}

size_t rdsbk_sorted_index(bool *found, const void *base, size_t n, size_t size, size_t key_offset,
                          const char *key) {
    size_t lo = 0;
    size_t hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(key, s_key_at(base, mid, size, key_offset));
        if (cmp == 0) {
            if (found)
                *found = true;
            return mid;
        }
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (found)
        *found = false;
    return lo;
}

void *rdsbk_sorted_find(const void *base, size_t n, size_t size, size_t key_offset,
                        const char *key) {
    bool found;
    size_t i = rdsbk_sorted_index(&found, base, n, size, key_offset, key);

    return found ? (char *)base + i * size : NULL;
}

bool rdsbk_str_in(const char *s, const char *const *list, size_t n) {
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}
