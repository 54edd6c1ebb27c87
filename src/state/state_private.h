#ifndef RDSBK_STATE_PRIVATE_H
#define RDSBK_STATE_PRIVATE_H

/* Shared by the files of src/state. */

#include "rdsbk/state.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

/* The end of the refusal of a state path that is not a regular file (rdsbk_file_*). A link is not
 * followed: the lock, the backup and the temporary file are named after the path given, and would
 * then no longer sit beside the file they guard (two runs, one through the link and one through
 * its target, would take two locks on one state). */
#define RDSBK_STATE_PATH_ADVICE                                                                    \
    "point --state at the state file itself (a link is not followed there, so that its lock and "  \
    "backup stay beside it)"

/* The largest state read, from a file or from S3. */
#define RDSBK_STATE_MAX_SIZE (64 * 1024 * 1024)

/* A lock older than this was left by a run that is gone: no run lasts an hour (a 50-source apply
 * takes minutes). It is still not taken over (its holder may be on another host, alive), but the
 * refusal says how old it is. */
#define RDSBK_STATE_LOCK_OLD_S 3600

/* ---- state.c ---- */

/* A random (version 4) UUID, lower-case hex with dashes. 0 or RDSBK_EIO. */
int rdsbk_state_uuid(char out[37]);

/* The bytes of the regular file at `path` (*text_out NUL-terminated, caller frees; at most
 * RDSBK_STATE_MAX_SIZE) and its stat. RDSBK_ENOTFOUND, RDSBK_EINVALID (not a regular file),
 * RDSBK_EIO, RDSBK_ENOMEM. */
int rdsbk_state_read_file(char **text_out, size_t *len_out, struct stat *sb, const char *path);

/* rdsbk_state_parse, with `recovery` ending the message of a damaged state (where an earlier
 * version may be found); NULL: the backup beside a file, NAME.backup. */
int rdsbk_state_parse_from(struct rdsbk_state **out, const char *text, size_t len, const char *name,
                           const char *stack, const char *recovery);

/* rdsbk_state_save through `write` (a file's, a store's): serial + 1, `write` the text, and the
 * serial given back when it fails. */
typedef int (*rdsbk_state_write_fn)(void *payload, struct rdsbk_state *state, const char *text,
                                    long serial);
int rdsbk_state_save_with(struct rdsbk_state *state, rdsbk_state_write_fn write, void *payload);

/* ---- lock_info.c: who holds a lock, in a file's lock and in S3's alike ---- */

/*
 * A lock's document: {"id", "holder", "identity", "pid", "host", "time", "operation"}. Fields are
 * as read (not escaped); "" or 0 where the document has none.
 */
struct rdsbk_state_lock_info {
    char id[40];        /* random, one per lock taken */
    char holder[64];    /* the user name of the process that took it */
    char identity[256]; /* the AWS identity (ARN) that took an S3 lock; "" when not known */
    char host[256];     /* where it runs */
    long pid;           /* its process id; 0 when unknown */
    char time[32];      /* when it was taken, UTC: YYYY-MM-DDTHH:MM:SSZ */
    char operation[64]; /* "apply", "state rm", ... */
};

/* This process taking a lock for `operation`, with a fresh id. 0 or RDSBK_EIO (no random id). */
int rdsbk_state_lock_info_mine(struct rdsbk_state_lock_info *out, const char *operation);

/* The document as JSON text (caller frees). 0 or RDSBK_ENOMEM. */
int rdsbk_state_lock_info_json(char **out, const struct rdsbk_state_lock_info *info);

/* Fills `out` from a parsed document (fields it lacks stay empty). */
void rdsbk_state_lock_info_from_json(struct rdsbk_state_lock_info *out, const cJSON *doc);

/*
 * Parses a lock's document (`name` for messages). 0; RDSBK_EINVALID when it is not a JSON object
 * with a host and a whole pid (not a lock this tool made; the message says so and names it).
 */
int rdsbk_state_lock_info_parse(struct rdsbk_state_lock_info *out, const char *text, size_t len,
                                const char *name);

/* Whether the lock was taken by a process of this host that no longer runs. */
bool rdsbk_state_lock_info_stale(const struct rdsbk_state_lock_info *info);

/* Seconds since the lock was taken, at `now`; -1 when its time cannot be read. */
long long rdsbk_state_lock_info_age(const struct rdsbk_state_lock_info *info, time_t now);

/* "USER (pid N on HOST, OPERATION since TIME)", escaped for a terminal, in `out`; `info` NULL:
 * an unreadable lock. Returns `out`. */
char *rdsbk_state_lock_info_describe(char *out, size_t n, const struct rdsbk_state_lock_info *info);

/* RDSBK_ELOCKED: "the state is locked by <describe>; wait for it, or if that run is gone,
 * 'rdsbk-provision state unlock' (lock: LOCK_NAME)", plus its age when it is older than
 * RDSBK_STATE_LOCK_OLD_S at `now`. `info` NULL: unreadable. */
int rdsbk_state_locked_error(const struct rdsbk_state_lock_info *info, const char *lock_name,
                             time_t now);

/* ---- store.c / store_s3.c: the backends of struct rdsbk_state_store ---- */

/* What a backend does; see rdsbk_state_store_* in rdsbk/state.h for each. */
struct rdsbk_state_store_ops {
    bool remote;
    int save_interval_ms;
    int (*lock)(struct rdsbk_state_store *store, const char *operation, int timeout_s);
    void (*unlock)(struct rdsbk_state_store *store);
    int (*force_unlock)(char **holder_out, struct rdsbk_state_store *store);
    int (*read)(char **text_out, size_t *len_out, struct rdsbk_state_store *store);
    int (*load)(struct rdsbk_state **out, struct rdsbk_state_store *store, const char *stack);
    int (*write)(struct rdsbk_state_store *store, struct rdsbk_state *state, const char *text,
                 long serial);
    int (*set_aside)(struct rdsbk_state_store *store, const char *suffix);
    void (*free)(struct rdsbk_state_store *store); /* the backend's part; the lock is released */
};

/* The part every backend's store begins with. */
struct rdsbk_state_store {
    const struct rdsbk_state_store_ops *ops;
    char *name; /* the location as the user wrote it */
};

/* The S3 backend (store_s3.c): *out for s3://BUCKET/KEY (`bucket`, `key` copied). */
int rdsbk_state_store_s3_open(struct rdsbk_state_store **out, const char *bucket, const char *key,
                              const struct rdsbk_topology *topo);

#endif
