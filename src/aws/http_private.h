#ifndef RDSBK_AWS_HTTP_PRIVATE_H
#define RDSBK_AWS_HTTP_PRIVATE_H

#include "rdsbk/http.h"

/* Shared between http.c (transport) and retry.c (signed, retrying calls). Private to src/aws. */

/* The delay before the retry that follows attempt `attempt` (1-based): uniform in
 * [0, min(max_delay_ms, base_delay_ms * 2^(attempt-1))] ("full jitter"). Thread-safe. */
long rdsbk_retry_backoff_ms(const struct rdsbk_http_options *opts, int attempt);

#endif
