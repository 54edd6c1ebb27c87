#ifndef RDSBK_BACKOFF_H
#define RDSBK_BACKOFF_H

#include <stdbool.h>

/*
 * The one backoff of the tool: delays that start at `first_ms` and grow by `factor` up to
 * `max_ms`, optionally within a budget of `total_ms` from init. The AWS client retries with it
 * (doubling, with full jitter), the resources wait for AWS with it (doubling, with a budget), the
 * drill polls with it (x1.5). Caller-owned; no clean-up.
 */
struct rdsbk_backoff {
    double delay_ms; /* the next delay */
    double max_ms;
    double factor;
    double deadline; /* monotonic seconds (rdsbk/clock.h); 0: no budget */
    int attempt;     /* delays handed out so far */
};

/* The first delay is capped at max_ms too. total_ms <= 0: no budget. A factor under 1 is taken
 * as 1. */
void rdsbk_backoff_init(struct rdsbk_backoff *b, long first_ms, long max_ms, double factor,
                        long total_ms);

/* The next delay in milliseconds, then grows it. */
long rdsbk_backoff_next_ms(struct rdsbk_backoff *b);

/* A delay drawn uniformly from [0, cap_ms] (AWS's "full jitter"). */
long rdsbk_backoff_jitter_ms(long cap_ms);

/*
 * Sleeps the next delay and returns true, or returns false at once when the budget is spent. The
 * last delay is cut to end at the deadline, so that one more attempt is made right there. `why`
 * (NULL: nothing) is logged at debug level as "<why>: attempt N in X ms".
 */
bool rdsbk_backoff_sleep(struct rdsbk_backoff *b, const char *why);

#endif
