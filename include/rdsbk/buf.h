#ifndef RDSBK_BUF_H
#define RDSBK_BUF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * A growable byte buffer that is always NUL-terminated once anything was added, with a size cap
 * (curl's dynbuf, libgit2's git_buf). The buffer owns `ptr`; `len` excludes the terminator. The
 * fields are the buffer's own: other modules use the functions below, as curl's dynbuf asks.
 */
struct rdsbk_buf {
    char *ptr;
    size_t len;
    size_t cap;
    size_t max; /* 0 means RDSBK_BUF_DEFAULT_MAX */
};

#define RDSBK_BUF_DEFAULT_MAX ((size_t)256 * 1024 * 1024)
#define RDSBK_BUF_INIT                                                                             \
    { 0, 0, 0, 0 }

/* Prepares an empty buffer that may grow to `max` bytes (0: the default cap). */
void rdsbk_buf_init(struct rdsbk_buf *buf, size_t max);

/* Makes room for `extra` more bytes at once: no reallocation until they are added. Returns 0 or
 * RDSBK_ENOMEM (as for an add). */
int rdsbk_buf_reserve(struct rdsbk_buf *buf, size_t extra);

/* Appends bytes. Returns 0, or RDSBK_ENOMEM (out of memory or over the cap; buffer unchanged). */
int rdsbk_buf_add(struct rdsbk_buf *buf, const void *data, size_t len);
int rdsbk_buf_adds(struct rdsbk_buf *buf, const char *str);
int rdsbk_buf_addc(struct rdsbk_buf *buf, char c);
int rdsbk_buf_printf(struct rdsbk_buf *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int rdsbk_buf_vprintf(struct rdsbk_buf *buf, const char *fmt, va_list ap);

/* The contents as a C string; "" for an empty buffer. Borrowed, valid until the next change. */
const char *rdsbk_buf_cstr(const struct rdsbk_buf *buf);

/* The number of bytes in the buffer (the terminator excluded). */
size_t rdsbk_buf_len(const struct rdsbk_buf *buf);

/* Shortens the buffer to `len` bytes (no-op when it is not longer), keeping it terminated. */
void rdsbk_buf_truncate(struct rdsbk_buf *buf, size_t len);

/* Hands the allocation to the caller (free() it; never NULL unless out of memory) and empties
 * the buffer. */
char *rdsbk_buf_detach(struct rdsbk_buf *buf);

/* Empties the buffer, keeping its allocation. */
void rdsbk_buf_reset(struct rdsbk_buf *buf);

/* Frees the allocation. The _secure variant wipes the bytes first (for anything holding a secret).
 */
void rdsbk_buf_clean_up(struct rdsbk_buf *buf);
void rdsbk_buf_clean_up_secure(struct rdsbk_buf *buf);

#endif
