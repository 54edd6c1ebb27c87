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

/* The code point of a 2- or 3-byte UTF-8 sequence at `s` that must be escaped, with its length in
 * *len; 0 for anything else. */
static unsigned s_unsafe_code_point(const unsigned char *s, size_t *len) {
    unsigned cp;

    if (s[0] == 0xC2 && s[1] >= 0x80 && s[1] <= 0x9F) {
        *len = 2;
        return s[1]; /* C1: U+0080..U+009F */
    }
    if (s[0] == 0xD8 && s[1] == 0x9C) {
        *len = 2;
        return 0x061C;
    }
    if (s[0] != 0xE2 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
        return 0;
    cp = 0x2000u | ((unsigned)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    if (cp != 0x200E && cp != 0x200F && (cp < 0x202A || cp > 0x202E) &&
        (cp < 0x2066 || cp > 0x2069))
        return 0;
    *len = 3;
    return cp;
}

char *rdsbk_str_escape_terminal(char *out, size_t size, const char *in) {
    const unsigned char *s = (const unsigned char *)(in ? in : "");
    size_t o = 0;

    if (size == 0)
        return out;
    while (*s && o + 1 < size) {
        char piece[16];
        size_t len = 1;
        unsigned cp = s[0] >= 0x80 ? s_unsafe_code_point(s, &len) : 0;
        size_t n;

        if (cp)
            snprintf(piece, sizeof(piece), "\\u%04X", cp);
        else if (*s == '\t' || *s == '\n' || *s == '\r')
            snprintf(piece, sizeof(piece), " ");
        else if (*s < 0x20 || *s == 0x7F)
            snprintf(piece, sizeof(piece), "\\x%02X", *s);
        else
            snprintf(piece, sizeof(piece), "%c", *s);
        n = strlen(piece);
        if (o + n >= size)
            break;
        memcpy(out + o, piece, n);
        o += n;
        s += len;
    }
    out[o] = '\0';
    return out;
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
