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

#endif
