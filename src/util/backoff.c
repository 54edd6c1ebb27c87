/* Capped exponential backoff; see rdsbk/backoff.h. */
#include "rdsbk/backoff.h"

#include "rdsbk/clock.h"
#include "rdsbk/log.h"

#include <openssl/rand.h>
#include <stdint.h>

void rdsbk_backoff_init(struct rdsbk_backoff *b, long first_ms, long max_ms, double factor,
                        long total_ms) {
    b->max_ms = max_ms > 0 ? (double)max_ms : 1.0;
    b->delay_ms = first_ms > 0 ? (double)first_ms : 1.0;
    if (b->delay_ms > b->max_ms)
        b->delay_ms = b->max_ms;
    b->factor = factor > 1.0 ? factor : 1.0;
    b->deadline = total_ms > 0 ? rdsbk_clock_now() + (double)total_ms / 1000.0 : 0.0;
    b->attempt = 0;
}

long rdsbk_backoff_next_ms(struct rdsbk_backoff *b) {
    long delay = (long)b->delay_ms;

    b->delay_ms = b->delay_ms * b->factor > b->max_ms ? b->max_ms : b->delay_ms * b->factor;
    b->attempt++;
    return delay;
}

long rdsbk_backoff_jitter_ms(long cap_ms) {
    uint64_t r = 0;

    if (cap_ms <= 0)
        return 0;
    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
        r = (uint64_t)rdsbk_clock_now_ms() * 2654435761u;
    return (long)(r % (uint64_t)(cap_ms + 1));
}

bool rdsbk_backoff_sleep(struct rdsbk_backoff *b, const char *why) {
    double left = b->deadline > 0 ? b->deadline - rdsbk_clock_now() : -1.0;
    long delay;

    if (b->deadline > 0 && left <= 0)
        return false;
    delay = rdsbk_backoff_next_ms(b);
    if (b->deadline > 0 && (double)delay / 1000.0 > left)
        delay = (long)(left * 1000.0) + 1;
    if (why)
        rdsbk_log_debug("%s: attempt %d in %ld ms", why, b->attempt + 1, delay);
    rdsbk_clock_sleep_ms(delay);
    return true;
}
