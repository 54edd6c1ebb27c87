#ifndef RDSBK_LOG_H
#define RDSBK_LOG_H

/*
 * Diagnostics on stderr. Level 0 prints warnings only, 1 (--verbose) adds progress detail, 2
 * (--debug) adds one line per API call. Callers must never pass secrets (secret keys, session
 * tokens, signatures, signing keys) to these functions: nothing here can redact them.
 */
enum rdsbk_log_level { RDSBK_LOG_QUIET = 0, RDSBK_LOG_VERBOSE = 1, RDSBK_LOG_DEBUG = 2 };

void rdsbk_log_set_level(int level);
int rdsbk_log_level(void);

void rdsbk_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rdsbk_log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rdsbk_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
