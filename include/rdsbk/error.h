#ifndef RDSBK_ERROR_H
#define RDSBK_ERROR_H

#include <stdbool.h>

/*
 * Error handling in the manner of libgit2: functions return 0 or a negative code; the function that
 * detects an error records a one-line message (and, for AWS errors, the AWS code, HTTP status and
 * request id) in a thread-local slot; callers propagate the code unchanged.
 */
enum rdsbk_error_code {
    RDSBK_OK = 0,
    RDSBK_ERROR = -1,        /* generic */
    RDSBK_ENOTFOUND = -2,    /* the thing asked for does not exist */
    RDSBK_ECONFLICT = -3,    /* exists already / state conflict */
    RDSBK_EAUTH = -4,        /* credentials missing, invalid or not allowed */
    RDSBK_ETHROTTLED = -5,   /* throttled after all retries */
    RDSBK_EINVALID = -6,     /* invalid input */
    RDSBK_ENOMEM = -7,       /* out of memory or over a size cap */
    RDSBK_EIO = -8,          /* file system or network */
    RDSBK_ELOCKED = -9,      /* the state lock is held by another run */
    RDSBK_ETIMEOUT = -10,    /* gave up waiting */
    RDSBK_EUSAGE = -11,      /* command-line misuse */
    RDSBK_EINTERRUPTED = -12 /* stopped by SIGINT or SIGTERM */
};

struct rdsbk_error {
    int code;
    int http_status;      /* 0 when not an HTTP error */
    char message[1024];   /* one line, no trailing newline */
    char aws_code[128];   /* e.g. "AccessDeniedException"; "" when not from AWS */
    char request_id[128]; /* "" when unknown */
};

/* The last error recorded on this thread; never NULL (code 0 and "" when none). Borrowed. */
const struct rdsbk_error *rdsbk_error_last(void);

/* Records `code` with a printf-style message; returns `code` so callers can `return
 * rdsbk_error_set(...)`. */
int rdsbk_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records an error returned by AWS. Any argument may be NULL. Returns `code`. */
int rdsbk_error_set_aws(int code, int http_status, const char *aws_code, const char *request_id,
                        const char *message);

/* Records "out of memory" (RDSBK_ENOMEM), as libgit2's git_error_set_oom; returns RDSBK_ENOMEM. */
int rdsbk_error_oom(void);

/* The code of the last error recorded on this thread, or RDSBK_ERROR when none was recorded: for a
 * caller whose callee failed without a code of its own (a library call that returned NULL). */
int rdsbk_error_code(void);

/* Whether a failure with code `rc` may go away by itself and is worth trying again later: a
 * throttle that outlasted the client's retries, a network failure, a timeout. The one notion of
 * "transient" for every caller (the AWS client's retries, the drill's polls). */
bool rdsbk_error_is_transient(int rc);

void rdsbk_error_clear(void);

/* Copies the calling thread's last error into `out` (for handing errors across threads), and
 * restores one into the calling thread. */
void rdsbk_error_save(struct rdsbk_error *out);
void rdsbk_error_restore(const struct rdsbk_error *err);

/*
 * The two checks of a function with one exit (an `int rc` and a `cleanup:` label that releases
 * everything), in the manner of libgit2's GIT_ERROR_CHECK_ALLOC:
 *   RDSBK_CHECK_ALLOC(p): when `p` is NULL, records "out of memory" and leaves with RDSBK_ENOMEM;
 *   RDSBK_TRY(call):      runs `call`, and leaves with its code when it fails.
 */
#define RDSBK_CHECK_ALLOC(ptr)                                                                     \
    do {                                                                                           \
        if (!(ptr)) {                                                                              \
            rc = rdsbk_error_oom();                                                                \
            goto cleanup;                                                                          \
        }                                                                                          \
    } while (0)

#define RDSBK_TRY(call)                                                                            \
    do {                                                                                           \
        rc = (call);                                                                               \
        if (rc)                                                                                    \
            goto cleanup;                                                                          \
    } while (0)

#endif
