/* Durations as people write them ("26h", "90m", "1h30m"); see rdsbk/clock.h. */
#include "rdsbk/clock.h"
#include "rdsbk/error.h"

#include <ctype.h>
#include <stdio.h>

#define S_MAX_DURATION_S (10LL * 366 * 86400)

static const struct {
    char suffix;
    long long seconds;
} s_units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};

/* The seconds of the unit `suffix`, 0 when it is none. */
static long long s_unit(char suffix) {
    for (size_t i = 0; i < sizeof(s_units) / sizeof(s_units[0]); i++)
        if (s_units[i].suffix == suffix)
            return s_units[i].seconds;
    return 0;
}

int rdsbk_duration_parse(long long *seconds_out, const char *text) {
    const char *p = text;
    long long total = 0;
    int groups = 0;

    *seconds_out = 0;
    if (!text || !*text)
        return rdsbk_error_set(RDSBK_EINVALID, "empty duration");
    for (; *p; groups++) {
        long long n = 0;
        long long unit = 1; /* a bare number is seconds */
        int digits = 0;

        for (; isdigit((unsigned char)*p) && digits < 12; p++, digits++)
            n = n * 10 + (*p - '0');
        if (digits == 0 || isdigit((unsigned char)*p))
            return rdsbk_error_set(RDSBK_EINVALID,
                                   "'%s' is not a duration (examples: 90m, 26h, 2d, 1h30m)", text);
        if (!*p && groups > 0)
            return rdsbk_error_set(RDSBK_EINVALID, "'%s': a number without a unit", text);
        if (*p) {
            unit = s_unit(*p++);
            if (!unit)
                return rdsbk_error_set(RDSBK_EINVALID,
                                       "'%s' is not a duration (units s, m, h, d; e.g. 26h)", text);
        }
        total += n * unit;
        if (total > S_MAX_DURATION_S)
            return rdsbk_error_set(RDSBK_EINVALID, "'%s' is longer than ten years", text);
    }
    if (total <= 0)
        return rdsbk_error_set(RDSBK_EINVALID, "'%s': a duration must be longer than zero", text);
    *seconds_out = total;
    return 0;
}

char *rdsbk_duration_format(char *out, size_t n, long long s) {
    if (s < 0)
        snprintf(out, n, "-");
    else if (s < 60)
        snprintf(out, n, "%llds", s);
    else if (s < 3600)
        snprintf(out, n, "%lldm%02llds", s / 60, s % 60);
    else if (s < 86400)
        snprintf(out, n, "%lldh%02lldm", s / 3600, s % 3600 / 60);
    else
        snprintf(out, n, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
    return out;
}
