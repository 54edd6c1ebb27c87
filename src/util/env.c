#include "rdsbk/env.h"

#include "rdsbk/log.h"

#include <errno.h>
#include <stdlib.h>

long rdsbk_env_positive(const char *name, long max) {
    const char *v = getenv(name);
    char *end = NULL;
    long n;

    if (!v || !*v)
        return 0;
    errno = 0;
    n = strtol(v, &end, 10);
    if (errno != 0 || *end != '\0' || n <= 0 || n > max) {
        rdsbk_log_warn("%s=%s ignored: not an integer from 1 to %ld", name, v, max);
        return 0;
    }
    return n;
}
