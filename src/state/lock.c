/*
 * The state lock: PATH.lock, created with O_EXCL, holding JSON that says who holds it. Two runs on
 * one state cannot both hold it; the loser is told who has it. A lock path that is not a regular
 * file (a FIFO, a directory, a link) is refused, never opened in a way that could block.
 */
#include "state_private.h"

#include "rdsbk/clock.h"
#include "rdsbk/error.h"
#include "rdsbk/file.h"
#include "rdsbk/json_util.h"
#include "rdsbk/log.h"
#include "rdsbk/state.h"
#include "rdsbk/str.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct rdsbk_state_lock {
    char *path;
};

/* *out = who takes the lock, as the JSON the lock file holds (caller frees). */
static int s_holder_json(char **out, const char *operation) {
    struct rdsbk_state_lock_info me;
    int rc = rdsbk_state_lock_info_mine(&me, operation);

    *out = NULL;
    return rc ? rc : rdsbk_state_lock_info_json(out, &me);
}

#define S_LOCK_ADVICE "it is not a lock this tool made: if no run is using the state, remove it"

/* Reads the lock file: 0 and *out its JSON, NULL when unreadable (being written, or gone);
 * RDSBK_EINVALID when it is not a regular file. */
static int s_read_holder(cJSON **out, const char *lock_path) {
    char text[1024];
    int fd;
    ssize_t n;
    int rc = rdsbk_file_open_regular(&fd, lock_path, S_LOCK_ADVICE);

    *out = NULL;
    if (rc == RDSBK_EINVALID)
        return rc;
    if (rc) {
        rdsbk_error_clear();
        return 0;
    }
    n = read(fd, text, sizeof(text) - 1);
    close(fd);
    text[n > 0 ? n : 0] = '\0';
    *out = cJSON_Parse(text);
    return 0;
}

/* The holder of an existing lock (*out). A lock is created empty and then written, so a reader
 * can see it between the two: wait up to 1 s for its content. *out NULL when unreadable, or gone
 * (the caller tries to take it again). RDSBK_EINVALID when it is not a regular file. */
static int s_read_holder_settled(cJSON **out, const char *lock_path) {
    int rc = 0;

    *out = NULL;
    for (int i = 0; rc == 0 && i < 50; i++) {
        rc = s_read_holder(out, lock_path);
        if (*out && cJSON_IsNumber(cJSON_GetObjectItem(*out, "pid")))
            break;
        cJSON_Delete(*out);
        *out = NULL;
        if (rc || access(lock_path, F_OK) != 0)
            break;
        rdsbk_clock_sleep_ms(20);
    }
    return rc;
}

/* A lock left by a process of this host that is gone. */
static int s_is_stale(const cJSON *holder) {
    struct rdsbk_state_lock_info info;

    rdsbk_state_lock_info_from_json(&info, holder);
    return rdsbk_state_lock_info_stale(&info);
}

/*
 * Removes a stale lock, one taker at a time: two runs that both saw the same stale lock must not
 * both remove "it", or the second would remove the lock the first had just taken. Takeovers are
 * serialised by flock() on the directory, and under it the lock is read again: only the very
 * lock found stale (same pid and time) is removed; a fresh one is left alone. Then both race for
 * O_EXCL as usual, and one wins.
 */
static void s_take_over(const char *lock_path, const cJSON *stale) {
    char *dir = strdup(lock_path);
    char *slash = dir ? strrchr(dir, '/') : NULL;
    int dfd;
    cJSON *again = NULL;

    if (!dir)
        return;
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0 && flock(dfd, LOCK_EX) == 0) {
        s_read_holder_settled(&again, lock_path);
        if (again && cJSON_Compare(again, stale, 1) && s_is_stale(again)) {
            const cJSON *pid = cJSON_GetObjectItem(again, "pid");
            rdsbk_log_warn("%s: taking over a stale lock of pid %d, which no longer runs",
                           lock_path, cJSON_IsNumber(pid) ? pid->valueint : 0);
            unlink(lock_path);
        }
        cJSON_Delete(again);
        flock(dfd, LOCK_UN);
    }
    if (dfd >= 0)
        close(dfd);
    free(dir);
}

static int s_try(const char *lock_path, const char *content) {
    int fd = open(lock_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    size_t len = strlen(content);

    if (fd < 0)
        return errno == EEXIST ? RDSBK_ELOCKED
                               : rdsbk_error_set(RDSBK_EIO, "%s: %s", lock_path, strerror(errno));
    if (write(fd, content, len) != (ssize_t)len || fsync(fd) != 0) {
        close(fd);
        unlink(lock_path);
        return rdsbk_error_set(RDSBK_EIO, "%s: %s", lock_path, strerror(errno));
    }
    close(fd);
    return 0;
}

/* RDSBK_ELOCKED, naming the holder of the lock (NULL: unreadable). */
static int s_locked(const cJSON *holder, const char *lock_path) {
    struct rdsbk_state_lock_info info;

    if (holder)
        rdsbk_state_lock_info_from_json(&info, holder);
    return rdsbk_state_locked_error(holder ? &info : NULL, lock_path, time(NULL));
}

/* The lock is held by `holder` (NULL: unreadable or gone): 0 to try again (it was released, or
 * was stale and is taken over, or we waited a little), or RDSBK_ELOCKED past `deadline`. */
static int s_wait(const char *lock_path, const cJSON *holder, time_t deadline) {
    if (!holder && access(lock_path, F_OK) != 0)
        return 0; /* released while we looked */
    if (holder && s_is_stale(holder)) {
        s_take_over(lock_path, holder);
        return 0;
    }
    if (time(NULL) >= deadline)
        return s_locked(holder, lock_path);
    rdsbk_clock_sleep_ms(200);
    return 0;
}

int rdsbk_state_lock(struct rdsbk_state_lock **out, const char *state_path, const char *operation,
                     int timeout_s) {
    char *lock_path = NULL;
    char *content = NULL;
    struct rdsbk_state_lock *lock = NULL;
    time_t deadline = time(NULL) + (timeout_s > 0 ? timeout_s : 0);
    int rc;

    *out = NULL;
    /* the lock is beside the path given: a link there would split lock and state */
    RDSBK_TRY(rdsbk_file_refuse_irregular(state_path, RDSBK_STATE_PATH_ADVICE));
    RDSBK_TRY(rdsbk_strfmt(&lock_path, "%s.lock", state_path));
    RDSBK_TRY(s_holder_json(&content, operation));
    for (rc = s_try(lock_path, content); rc == RDSBK_ELOCKED; rc = s_try(lock_path, content)) {
        cJSON *holder = NULL;
        int waited = s_read_holder_settled(&holder, lock_path);

        if (waited == 0)
            waited = s_wait(lock_path, holder, deadline);
        cJSON_Delete(holder);
        RDSBK_TRY(waited);
    }
    RDSBK_TRY(rc);
    lock = calloc(1, sizeof(*lock));
    if (!lock) {
        unlink(lock_path);
        rc = rdsbk_error_oom();
        goto cleanup;
    }
    lock->path = lock_path;
    lock_path = NULL;
    *out = lock;

cleanup:
    free(lock_path);
    free(content);
    return rc;
}

void rdsbk_state_unlock(struct rdsbk_state_lock *lock) {
    if (!lock)
        return;
    unlink(lock->path);
    free(lock->path);
    free(lock);
}

int rdsbk_state_force_unlock(const char *state_path) {
    char *lock_path = NULL;
    int rc;

    RDSBK_TRY(rdsbk_strfmt(&lock_path, "%s.lock", state_path));
    if (unlink(lock_path) != 0)
        rc = errno == ENOENT ? rdsbk_error_set(RDSBK_ENOTFOUND, "%s is not locked", state_path)
                             : rdsbk_error_set(RDSBK_EIO, "%s: %s", lock_path, strerror(errno));

cleanup:
    free(lock_path);
    return rc;
}
