#ifndef RDSBK_CLOCK_H
#define RDSBK_CLOCK_H

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

#endif
