#include "rdsbk/log.h"

#include "rdsbk/str.h"

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

/* One line, with what AWS, a file or the state put in it escaped (rdsbk_str_escape_terminal); a
 * line longer than 2 KB is cut. */
static void s_emit(const char *prefix, const char *fmt, va_list ap) {
    char raw[2048];
    char line[4 * sizeof(raw)];

    vsnprintf(raw, sizeof(raw), fmt, ap);
    rdsbk_str_escape_terminal(line, sizeof(line), raw);
    pthread_mutex_lock(&s_lock);
    fprintf(stderr, "%s%s\n", prefix, line);
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
