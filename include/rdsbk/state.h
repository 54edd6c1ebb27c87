#ifndef RDSBK_STATE_H
#define RDSBK_STATE_H

#include "rdsbk/config.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * The state file: what rdsbk-provision created, as JSON.
 *
 *   {"format_version": 1, "serial": 7, "lineage": "<uuid>", "stack": "orders-dr",
 *    "tool_version": "0.1.0", "accounts": {"<id>": {"profile", "role_arn"}},
 *    "resources": [{"address", "type", "account", "region", "id", "attributes": {...},
 *    "dependencies": [...]}, ...]}
 *
 * Resources are kept sorted by address, one per line, so that two states of the same stack diff
 * cleanly, resource by resource. Every save increments `serial`; `lineage` is fixed when the
 * state is first created.
 */

#define RDSBK_STATE_FORMAT 1

struct rdsbk_state_resource {
    char *address;
    char *type;
    char account[RDSBK_ACCOUNT_LEN + 1];
    char *region;
    char *id;          /* the identifier AWS knows it by (name, key id, ARN) */
    cJSON *attributes; /* owned: the attributes that matter for diffs, plus "arn" where known */
    char **deps;
    size_t n_deps;
    char *json; /* this resource as one line of JSON, made when it is put: a save only joins */
};

struct rdsbk_state {
    int format_version;
    long serial;
    char lineage[37];
    char *stack;
    struct rdsbk_state_resource *resources; /* sorted by address */
    size_t n_resources;
    size_t cap;
    long loaded_serial; /* the serial read from disk (-1 for a new state) */
    /* How to reach each account ({"<account>": {"profile": .., "role_arn": ..}}), so that the
     * resources of a source removed from the topology can still be destroyed. Owned. */
    cJSON *accounts;
    /* The file as this state last read or wrote it: when it still looks the same, a save need not
     * read it again to check that no other run wrote in between. */
    struct {
        bool valid;
        dev_t dev;
        ino_t ino;
        off_t size;
        long mtime_s, mtime_ns;
    } file;
};

/* A new, empty state with a fresh lineage. Caller frees with rdsbk_state_free. */
int rdsbk_state_new(struct rdsbk_state **out, const char *stack);

/*
 * Reads the state at `path` for `stack`. Returns 0 and *out; RDSBK_ENOTFOUND when the file does not
 * exist (nothing was created yet); RDSBK_EINVALID with a message naming the file and its backup
 * when it is damaged, belongs to another stack, or has a newer format.
 */
int rdsbk_state_load(struct rdsbk_state **out, const char *path, const char *stack);

/* Parses state JSON text (`name` for messages); the same checks as rdsbk_state_load. */
int rdsbk_state_parse(struct rdsbk_state **out, const char *text, size_t len, const char *name,
                      const char *stack);

/*
 * Writes the state atomically: serial + 1, temporary file (mode 0600), fsync, the previous file
 * renamed to PATH.backup, rename into place, fsync of the directory. Refuses (RDSBK_ECONFLICT)
 * when the file on disk has another lineage or a serial newer than the one this state was loaded
 * with: another run changed it. On failure the state on disk is unchanged.
 */
int rdsbk_state_save(struct rdsbk_state *state, const char *path);

/*
 * rdsbk_state_save in two steps, for a writer that must not hold the state while it waits on the
 * disk: rdsbk_state_render takes serial + 1 and returns the text (caller frees; NULL on ENOMEM,
 * error set) and that serial; rdsbk_state_write puts `text` on disk as rdsbk_state_save does. The
 * state's serial stays taken when the write fails: the next render skips it, which is harmless.
 * Only one thread may write a given state at a time.
 */
char *rdsbk_state_render(struct rdsbk_state *state, long *serial_out);
int rdsbk_state_write(struct rdsbk_state *state, const char *path, const char *text, long serial);

/* The state as JSON text (caller frees); NULL on ENOMEM. */
char *rdsbk_state_to_json(const struct rdsbk_state *state);

void rdsbk_state_free(struct rdsbk_state *state);

/* The resource at `address`, or NULL. Borrowed; invalidated by put/remove. */
struct rdsbk_state_resource *rdsbk_state_find(const struct rdsbk_state *state, const char *address);

/*
 * Inserts or replaces the resource at `address`. Copies every argument (`attributes` is
 * duplicated). Returns 0 or RDSBK_ENOMEM.
 */
int rdsbk_state_put(struct rdsbk_state *state, const char *address, const char *type,
                    const char *account, const char *region, const char *id,
                    const cJSON *attributes, char *const *deps, size_t n_deps);

/* Removes the resource at `address`; 0, or RDSBK_ENOTFOUND. */
int rdsbk_state_remove(struct rdsbk_state *state, const char *address);

/*
 * The lock beside a state file (PATH.lock), holding who took it. rdsbk_state_lock tries for
 * `timeout_s` seconds (0: once). A lock whose holder was a process on this host that no longer
 * runs is stale and taken over, with a warning. On failure returns RDSBK_ELOCKED with a message
 * naming the holder, pid, host and time.
 */
struct rdsbk_state_lock;
int rdsbk_state_lock(struct rdsbk_state_lock **out, const char *state_path, const char *operation,
                     int timeout_s);
void rdsbk_state_unlock(struct rdsbk_state_lock *lock);

/* Removes a lock whoever holds it (`state unlock`). 0, or RDSBK_ENOTFOUND when there is none. */
int rdsbk_state_force_unlock(const char *state_path);

/*
 * Where a state lives: one interface for a file and for an object in S3, so that every command
 * works the same on both. A location is a path, or s3://BUCKET/KEY (rdsbk_state_s3_url_parse).
 *
 *   local  the file at PATH (rdsbk_state_load/_write/_lock above, unchanged): lock PATH.lock,
 *          backup PATH.backup, written at most every 100 ms during apply.
 *   S3     the object KEY in BUCKET, read and written whole (one GetObject, one PutObject), each
 *          write conditional on the ETag last read (If-Match; If-None-Match: * for a new state),
 *          so that a write over a state someone else changed is refused (RDSBK_ECONFLICT), never
 *          silent. Encrypted with SSE-KMS under the topology's state.kms_key_id, else SSE-S3.
 *          The lock is the object KEY.lock, created with If-None-Match: * and removed with
 *          If-Match: its ETag. Written at most every RDSBK_STATE_S3_SAVE_INTERVAL_MS during apply.
 *          The bucket is the user's: never created. Reached with the topology's state.profile,
 *          state.role_arn (else the AWS CLI's default chain) in state.region (else AWS_REGION,
 *          AWS_DEFAULT_REGION, else the backup Region), through the topology's endpoints.
 *
 * One store serves one run (one thread at a time), and remembers what it last read or wrote: a
 * state's save is guarded against what the store read.
 */
struct rdsbk_state_store;

/* During apply, the state in S3 is written at most this often (plus once at the end of the run,
 * also a failed or interrupted one): a 50-source apply is not 1,000 PutObjects. A run killed with
 * SIGKILL loses at most this interval's records; the next plan adopts those resources by name. */
#define RDSBK_STATE_S3_SAVE_INTERVAL_MS 3000

/*
 * Opens the store at `location` (a path, or s3://BUCKET/KEY) for `topo`'s stack (its state:
 * settings, endpoints and stack name; borrowed, must outlive the store). Nothing is read or
 * locked yet. Returns 0 and *out (free with rdsbk_state_store_free), RDSBK_EINVALID for a bad
 * s3:// location (the message says what is wrong), or RDSBK_ENOMEM.
 */
struct rdsbk_topology;
int rdsbk_state_store_open(struct rdsbk_state_store **out, const char *location,
                           const struct rdsbk_topology *topo);

/* Releases the lock when it holds it, and frees the store. NULL is a no-op. */
void rdsbk_state_store_free(struct rdsbk_state_store *store);

/* The location as a user writes it: the path, or s3://BUCKET/KEY. Borrowed. */
const char *rdsbk_state_store_name(const struct rdsbk_state_store *store);

/* Whether the store is remote (S3): a write that fails there is kept in a local file
 * (rdsbk_state_keep_errored). */
bool rdsbk_state_store_remote(const struct rdsbk_state_store *store);

/* How often, at most, apply writes the state to this store, in milliseconds. */
int rdsbk_state_store_save_interval_ms(const struct rdsbk_state_store *store);

/*
 * Takes the store's lock for `operation` ("apply", "state rm", ...), waiting up to `timeout_s`
 * seconds (0: one try), polling with backoff. A lock left by a process of this host that no longer
 * runs is taken over, with a warning. RDSBK_ELOCKED names the holder (user, pid, host, operation,
 * time; its age when it is older than a run lasts). The lock is released by
 * rdsbk_state_store_unlock or rdsbk_state_store_free.
 */
int rdsbk_state_store_lock(struct rdsbk_state_store *store, const char *operation, int timeout_s);
void rdsbk_state_store_unlock(struct rdsbk_state_store *store);

/* Removes the lock whoever holds it (`state unlock`); *holder_out (may be NULL; caller frees)
 * describes who held it. 0, or RDSBK_ENOTFOUND when there is none. */
int rdsbk_state_store_force_unlock(char **holder_out, struct rdsbk_state_store *store);

/* The stored state's bytes as they are (`state pull`); *text_out NUL-terminated, caller frees.
 * RDSBK_ENOTFOUND when there is none. */
int rdsbk_state_store_read(char **text_out, size_t *len_out, struct rdsbk_state_store *store);

/* Reads and parses the state of `stack` (rdsbk_state_parse's checks; NULL: any stack).
 * RDSBK_ENOTFOUND when there is none: the store then expects a new one. */
int rdsbk_state_store_load(struct rdsbk_state **out, struct rdsbk_state_store *store,
                           const char *stack);

/*
 * Writes `text`, the state of serial `serial`, in one step (rdsbk_state_render's text, or
 * rdsbk_state_to_json's for a state copied as it is), guarded: refused with RDSBK_ECONFLICT, and
 * nothing changed, when the stored state is no longer the one `state` was loaded from (NULL loaded:
 * when one appeared). On success `state` counts as loaded at `serial`.
 */
int rdsbk_state_store_write(struct rdsbk_state_store *store, struct rdsbk_state *state,
                            const char *text, long serial);

/* rdsbk_state_save for a store: serial + 1 and a guarded write (the serial is given back when the
 * write fails). */
int rdsbk_state_store_save(struct rdsbk_state_store *store, struct rdsbk_state *state);

/* Moves the stored state aside to LOCATION<suffix> (`state migrate` once the destination holds
 * it): a file renamed; in S3 written under KEY<suffix>, then deleted If-Match its ETag. */
int rdsbk_state_store_set_aside(struct rdsbk_state_store *store, const char *suffix);

/*
 * Keeps `state` in a local file when a remote store refused or failed its last write:
 * beside `topology_path`, its extension replaced by ".errored.state.json". *path_out (caller
 * frees) names it. Returns 0, or the error of writing it.
 */
int rdsbk_state_keep_errored(char **path_out, const struct rdsbk_state *state,
                             const char *topology_path);

/*
 * Parses an S3 location: "s3://BUCKET/KEY" -> *bucket_out and *key_out (caller frees both).
 * BUCKET must be a general purpose bucket name (rdsbk_s3_check_bucket_name), KEY 1 to
 * RDSBK_STATE_S3_MAX_KEY bytes of UTF-8 without control characters and not ending in '/'.
 * Returns 0 or RDSBK_EINVALID with a message naming what is wrong.
 */
#define RDSBK_STATE_S3_MAX_KEY (1024 - 9) /* room for ".migrated" and ".lock" */
int rdsbk_state_s3_url_parse(char **bucket_out, char **key_out, const char *url);

/* Whether `location` is an S3 location (starts with "s3://"), good or bad. */
bool rdsbk_state_location_is_s3(const char *location);

/* NULL when `key` is a state key (as rdsbk_state_s3_url_parse requires), else a phrase saying
 * what is wrong ("ends with '/'"). */
const char *rdsbk_state_check_s3_key(const char *key);

#endif
