#ifndef RDSBK_CLOCK_H
#define RDSBK_CLOCK_H

#include <stddef.h>

/*
 * The one clock of the tool for measuring and waiting: monotonic (never stepped by NTP or by hand),
 * in seconds or milliseconds since an arbitrary origin. Wall-clock time (what AWS compares
 * signatures with) is time(2), not this.
 */

/* Monotonic seconds, with nanosecond resolution. */
double rdsbk_clock_now(void);

/* Monotonic milliseconds. */
long long rdsbk_clock_now_ms(void);

/* Sleeps `ms` milliseconds in all (a signal does not cut it short); nothing for ms <= 0. */
void rdsbk_clock_sleep_ms(long ms);

/* Parses a duration: one or more <number><unit> groups, units s, m, h, d ("26h", "90m", "2d",
 * "1h30m", "45s"); a bare number is seconds. Returns 0 and *seconds_out (> 0), or RDSBK_EINVALID
 * (error set) for anything else, zero, or more than ten years. */
int rdsbk_duration_parse(long long *seconds_out, const char *text);

/* Writes a short human form of `seconds` into `out` (at least 16 bytes): "45s", "12m", "3h05m",
 * "2d04h"; negative values as "-". Returns `out`. */
char *rdsbk_duration_format(char *out, size_t n, long long seconds);

#endif
