/* Small string helpers; see rdsbk/str.h. */
#include "rdsbk/str.h"

#include "rdsbk/buf.h"
#include "rdsbk/error.h"

#include <stdarg.h>
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
