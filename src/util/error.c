#include "rdsbk/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local struct rdsbk_error s_last;

const struct rdsbk_error *rdsbk_error_last(void) {
    return &s_last;
}

/* Messages are one line: a newline from a server or a file would break the output format. */
static void s_one_line(char *s) {
    for (; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
}

static void s_copy(char *dst, size_t size, const char *src) {
    snprintf(dst, size, "%s", src ? src : "");
}

int rdsbk_error_set(int code, const char *fmt, ...) {
    va_list ap;

    memset(&s_last, 0, sizeof(s_last));
    s_last.code = code;
    va_start(ap, fmt);
    vsnprintf(s_last.message, sizeof(s_last.message), fmt, ap);
    va_end(ap);
    s_one_line(s_last.message);
    return code;
}

int rdsbk_error_set_aws(int code, int http_status, const char *aws_code, const char *request_id,
                        const char *message) {
    memset(&s_last, 0, sizeof(s_last));
    s_last.code = code;
    s_last.http_status = http_status;
    s_copy(s_last.aws_code, sizeof(s_last.aws_code), aws_code);
    s_copy(s_last.request_id, sizeof(s_last.request_id), request_id);
    s_copy(s_last.message, sizeof(s_last.message), message);
    s_one_line(s_last.message);
    s_one_line(s_last.aws_code);
    return code;
}

int rdsbk_error_oom(void) {
    return rdsbk_error_set(RDSBK_ENOMEM, "out of memory");
}

int rdsbk_error_code(void) {
    return s_last.code ? s_last.code : RDSBK_ERROR;
}

bool rdsbk_error_is_transient(int rc) {
    return rc == RDSBK_ETHROTTLED || rc == RDSBK_EIO || rc == RDSBK_ETIMEOUT;
}

void rdsbk_error_clear(void) {
    memset(&s_last, 0, sizeof(s_last));
}

void rdsbk_error_save(struct rdsbk_error *out) {
    *out = s_last;
}

void rdsbk_error_restore(const struct rdsbk_error *err) {
    s_last = *err;
}
