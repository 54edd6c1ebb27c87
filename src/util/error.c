#include "rdsbk/error.h"

#include "rdsbk/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local struct rdsbk_error s_last;

const struct rdsbk_error *rdsbk_error_last(void) {
    return &s_last;
}

/* Messages are one line, safe on a terminal: a newline from a server or a file would break the
 * output format, an escape sequence or a bidirectional control in an AWS message or a topology
 * value would be obeyed by the terminal that shows it (rdsbk_str_escape_terminal). */
static void s_copy(char *dst, size_t size, const char *src) {
    rdsbk_str_escape_terminal(dst, size, src);
}

int rdsbk_error_set(int code, const char *fmt, ...) {
    char raw[sizeof(s_last.message)];
    va_list ap;

    memset(&s_last, 0, sizeof(s_last));
    s_last.code = code;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    s_copy(s_last.message, sizeof(s_last.message), raw);
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
