#include "rdsbk/buf.h"
#include "rdsbk/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rdsbk_buf_init(struct rdsbk_buf *buf, size_t max) {
    buf->ptr = NULL;
    buf->len = 0;
    buf->cap = 0;
    buf->max = max;
}

static int s_grow(struct rdsbk_buf *buf, size_t extra) {
    size_t max = buf->max ? buf->max : RDSBK_BUF_DEFAULT_MAX;
    size_t need;
    size_t cap;
    char *p;

    if (extra > max || buf->len > max - extra)
        return rdsbk_error_set(RDSBK_ENOMEM, "buffer would exceed its %zu-byte cap", max);
    need = buf->len + extra + 1;
    if (need <= buf->cap)
        return 0;
    cap = buf->cap ? buf->cap : 64;
    while (cap < need)
        cap *= 2;
    p = realloc(buf->ptr, cap);
    if (!p)
        return rdsbk_error_oom();
    buf->ptr = p;
    buf->cap = cap;
    return 0;
}

int rdsbk_buf_reserve(struct rdsbk_buf *buf, size_t extra) {
    size_t max = buf->max ? buf->max : RDSBK_BUF_DEFAULT_MAX;
    char *p;

    if (extra > max || buf->len > max - extra)
        return rdsbk_error_set(RDSBK_ENOMEM, "buffer would exceed its %zu-byte cap", max);
    if (buf->len + extra + 1 <= buf->cap)
        return 0;
    p = realloc(buf->ptr, buf->len + extra + 1);
    if (!p)
        return rdsbk_error_oom();
    buf->ptr = p;
    buf->cap = buf->len + extra + 1;
    return 0;
}

int rdsbk_buf_add(struct rdsbk_buf *buf, const void *data, size_t len) {
    int rc = s_grow(buf, len);
    if (rc)
        return rc;
    if (len)
        memcpy(buf->ptr + buf->len, data, len);
    buf->len += len;
    buf->ptr[buf->len] = '\0';
    return 0;
}

int rdsbk_buf_adds(struct rdsbk_buf *buf, const char *str) {
    return rdsbk_buf_add(buf, str, strlen(str));
}

int rdsbk_buf_addc(struct rdsbk_buf *buf, char c) {
    return rdsbk_buf_add(buf, &c, 1);
}

int rdsbk_buf_vprintf(struct rdsbk_buf *buf, const char *fmt, va_list ap) {
    va_list copy;
    int n;
    int rc;

    va_copy(copy, ap);
    n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return rdsbk_error_set(RDSBK_ERROR, "invalid format string");
    rc = s_grow(buf, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(buf->ptr + buf->len, (size_t)n + 1, fmt, ap);
    buf->len += (size_t)n;
    return 0;
}

int rdsbk_buf_printf(struct rdsbk_buf *buf, const char *fmt, ...) {
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = rdsbk_buf_vprintf(buf, fmt, ap);
    va_end(ap);
    return rc;
}

const char *rdsbk_buf_cstr(const struct rdsbk_buf *buf) {
    return buf->ptr ? buf->ptr : "";
}

size_t rdsbk_buf_len(const struct rdsbk_buf *buf) {
    return buf->len;
}

void rdsbk_buf_truncate(struct rdsbk_buf *buf, size_t len) {
    if (len < buf->len) {
        buf->len = len;
        buf->ptr[len] = '\0';
    }
}

char *rdsbk_buf_detach(struct rdsbk_buf *buf) {
    char *p = buf->ptr;

    if (!p)
        p = calloc(1, 1);
    buf->ptr = NULL;
    buf->len = 0;
    buf->cap = 0;
    return p;
}

void rdsbk_buf_reset(struct rdsbk_buf *buf) {
    buf->len = 0;
    if (buf->ptr)
        buf->ptr[0] = '\0';
}

void rdsbk_buf_clean_up(struct rdsbk_buf *buf) {
    free(buf->ptr);
    buf->ptr = NULL;
    buf->len = 0;
    buf->cap = 0;
}

void rdsbk_buf_clean_up_secure(struct rdsbk_buf *buf) {
    if (buf->ptr) {
        /* volatile so the compiler cannot drop the wipe of memory about to be freed */
        volatile char *p = buf->ptr;
        for (size_t i = 0; i < buf->cap; i++)
            p[i] = 0;
    }
    rdsbk_buf_clean_up(buf);
}
