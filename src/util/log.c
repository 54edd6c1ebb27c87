#include "rdsbk/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

static int s_level;
/* One lock so lines from parallel workers never interleave. */
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;

void rdsbk_log_set_level(int level) {
    s_level = level;
}

int rdsbk_log_level(void) {
    return s_level;
}

static void s_emit(const char *prefix, const char *fmt, va_list ap) {
    pthread_mutex_lock(&s_lock);
    fputs(prefix, stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    pthread_mutex_unlock(&s_lock);
}

void rdsbk_log_warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    s_emit("warning: ", fmt, ap);
    va_end(ap);
}

void rdsbk_log_verbose(const char *fmt, ...) {
    va_list ap;
    if (s_level < RDSBK_LOG_VERBOSE)
        return;
    va_start(ap, fmt);
    s_emit("", fmt, ap);
    va_end(ap);
}

void rdsbk_log_debug(const char *fmt, ...) {
    va_list ap;
    if (s_level < RDSBK_LOG_DEBUG)
        return;
    va_start(ap, fmt);
    s_emit("debug: ", fmt, ap);
    va_end(ap);
}
