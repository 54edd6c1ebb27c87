/*
 * Where a state lives (rdsbk_state_store_*): the calls every command makes, handed to a backend;
 * the local backend, which is the state file of state.c and lock.c as it always was; and the
 * parts of an S3 location that need no network (its URL, its key).
 */
#include "state_private.h"

#include "rdsbk/config.h"
#include "rdsbk/error.h"
#include "rdsbk/file.h"
#include "rdsbk/services/s3.h"
#include "rdsbk/str.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the calls ---------------------------------------------------------------------------- */

void rdsbk_state_store_free(struct rdsbk_state_store *store) {
    if (!store)
        return;
    store->ops->unlock(store);
    free(store->name);
    store->ops->free(store);
}

const char *rdsbk_state_store_name(const struct rdsbk_state_store *store) {
    return store->name;
}

bool rdsbk_state_store_remote(const struct rdsbk_state_store *store) {
    return store->ops->remote;
}

int rdsbk_state_store_save_interval_ms(const struct rdsbk_state_store *store) {
    return store->ops->save_interval_ms;
}

int rdsbk_state_store_lock(struct rdsbk_state_store *store, const char *operation, int timeout_s) {
    return store->ops->lock(store, operation, timeout_s);
}

void rdsbk_state_store_unlock(struct rdsbk_state_store *store) {
    store->ops->unlock(store);
}

int rdsbk_state_store_force_unlock(char **holder_out, struct rdsbk_state_store *store) {
    char *holder = NULL;
    int rc = store->ops->force_unlock(&holder, store);

    if (holder_out)
        *holder_out = holder;
    else
        free(holder);
    return rc;
}

int rdsbk_state_store_read(char **text_out, size_t *len_out, struct rdsbk_state_store *store) {
    *text_out = NULL;
    *len_out = 0;
    return store->ops->read(text_out, len_out, store);
}

int rdsbk_state_store_load(struct rdsbk_state **out, struct rdsbk_state_store *store,
                           const char *stack) {
    *out = NULL;
    return store->ops->load(out, store, stack);
}

int rdsbk_state_store_write(struct rdsbk_state_store *store, struct rdsbk_state *state,
                            const char *text, long serial) {
    return store->ops->write(store, state, text, serial);
}

static int s_store_write(void *store, struct rdsbk_state *state, const char *text, long serial) {
    return rdsbk_state_store_write(store, state, text, serial);
}

int rdsbk_state_store_save(struct rdsbk_state_store *store, struct rdsbk_state *state) {
    return rdsbk_state_save_with(state, s_store_write, store);
}

int rdsbk_state_store_set_aside(struct rdsbk_state_store *store, const char *suffix) {
    return store->ops->set_aside(store, suffix);
}

int rdsbk_state_keep_errored(char **path_out, const struct rdsbk_state *state,
                             const char *topology_path) {
    const char *slash = strrchr(topology_path, '/');
    const char *dot = strrchr(topology_path, '.');
    size_t stem =
        dot && (!slash || dot > slash + 1) ? (size_t)(dot - topology_path) : strlen(topology_path);
    char *text = rdsbk_state_to_json(state);
    char *path = NULL;
    int rc;

    *path_out = NULL;
    RDSBK_CHECK_ALLOC(text);
    RDSBK_TRY(rdsbk_strfmt(&path, "%.*s.errored.state.json", (int)stem, topology_path));
    RDSBK_TRY(rdsbk_file_replace(path, text, strlen(text)));
    *path_out = path;
    path = NULL;

cleanup:
    free(text);
    free(path);
    return rc;
}

/* ---- the local backend: a file ------------------------------------------------------------ */

struct s_local {
    struct rdsbk_state_store base;
    struct rdsbk_state_lock *lock;
};

static int s_local_lock(struct rdsbk_state_store *store, const char *operation, int timeout_s) {
    struct s_local *l = (struct s_local *)store;

    if (l->lock)
        return 0;
    return rdsbk_state_lock(&l->lock, store->name, operation, timeout_s);
}

static void s_local_unlock(struct rdsbk_state_store *store) {
    struct s_local *l = (struct s_local *)store;

    rdsbk_state_unlock(l->lock);
    l->lock = NULL;
}

/* Who holds the lock at PATH.lock, read before it is removed (NULL when unreadable). */
static char *s_local_holder(const char *state_path) {
    struct rdsbk_state_lock_info info;
    struct stat sb;
    char *lock_path = NULL;
    char *text = NULL;
    char *out = NULL;
    size_t len = 0;
    char who[768];

    if (rdsbk_strfmt(&lock_path, "%s.lock", state_path) == 0 &&
        rdsbk_state_read_file(&text, &len, &sb, lock_path) == 0 &&
        rdsbk_state_lock_info_parse(&info, text, len, lock_path) == 0)
        out = strdup(rdsbk_state_lock_info_describe(who, sizeof(who), &info));
    rdsbk_error_clear();
    free(text);
    free(lock_path);
    return out;
}

static int s_local_force_unlock(char **holder_out, struct rdsbk_state_store *store) {
    *holder_out = s_local_holder(store->name);
    return rdsbk_state_force_unlock(store->name);
}

static int s_local_read(char **text_out, size_t *len_out, struct rdsbk_state_store *store) {
    struct stat sb;
    int rc = rdsbk_state_read_file(text_out, len_out, &sb, store->name);

    if (rc == RDSBK_ENOTFOUND)
        return rdsbk_error_set(RDSBK_ENOTFOUND, "%s does not exist", store->name);
    return rc;
}

static int s_local_load(struct rdsbk_state **out, struct rdsbk_state_store *store,
                        const char *stack) {
    return rdsbk_state_load(out, store->name, stack);
}

static int s_local_write(struct rdsbk_state_store *store, struct rdsbk_state *state,
                         const char *text, long serial) {
    return rdsbk_state_write(state, store->name, text, serial);
}

static int s_local_set_aside(struct rdsbk_state_store *store, const char *suffix) {
    char *aside = NULL;
    int rc;

    RDSBK_TRY(rdsbk_strfmt(&aside, "%s%s", store->name, suffix));
    if (rename(store->name, aside) != 0)
        rc = rdsbk_error_set(RDSBK_EIO, "%s: moving it to %s: %s", store->name, aside,
                             strerror(errno));

cleanup:
    free(aside);
    return rc;
}

static void s_local_free(struct rdsbk_state_store *store) {
    free(store);
}

/* The state file was written at most every 100 ms during apply before there was a choice of
 * store: its writes are cheap. */
static const struct rdsbk_state_store_ops s_local_ops = {.remote = false,
                                                         .save_interval_ms = 100,
                                                         .lock = s_local_lock,
                                                         .unlock = s_local_unlock,
                                                         .force_unlock = s_local_force_unlock,
                                                         .read = s_local_read,
                                                         .load = s_local_load,
                                                         .write = s_local_write,
                                                         .set_aside = s_local_set_aside,
                                                         .free = s_local_free};

static int s_local_open(struct rdsbk_state_store **out, const char *path) {
    struct s_local *l = calloc(1, sizeof(*l));
    int rc;

    *out = NULL;
    RDSBK_CHECK_ALLOC(l);
    l->base.ops = &s_local_ops;
    RDSBK_TRY(rdsbk_strdup_into(&l->base.name, path));
    *out = &l->base;
    l = NULL;

cleanup:
    free(l);
    return rc;
}

/* ---- S3 locations --------------------------------------------------------------------------- */

bool rdsbk_state_location_is_s3(const char *location) {
    return strncmp(location, "s3://", 5) == 0;
}

/* Whether `s` is UTF-8 (no overlong forms, no surrogates, at most U+10FFFF). */
static bool s_utf8(const unsigned char *s) {
    while (*s) {
        unsigned cp;
        int more;

        if (*s < 0x80) {
            s++;
            continue;
        }
        if ((*s & 0xe0) == 0xc0) {
            cp = *s & 0x1f;
            more = 1;
        } else if ((*s & 0xf0) == 0xe0) {
            cp = *s & 0x0f;
            more = 2;
        } else if ((*s & 0xf8) == 0xf0) {
            cp = *s & 0x07;
            more = 3;
        } else {
            return false;
        }
        for (int i = 1; i <= more; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((more == 1 && cp < 0x80) || (more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return false;
        s += more + 1;
    }
    return true;
}

const char *rdsbk_state_check_s3_key(const char *key) {
    size_t n = strlen(key);

    if (n == 0)
        return "is empty: name the state object (s3://BUCKET/KEY, e.g. "
               "s3://my-bucket/rdsbk/orders-dr.state.json)";
    if (n > RDSBK_STATE_S3_MAX_KEY)
        return "is longer than 1,015 bytes (S3 allows 1,024, and the lock is KEY.lock)";
    if (!s_utf8((const unsigned char *)key))
        return "is not UTF-8";
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return "has a control character";
    if (key[n - 1] == '/')
        return "ends with '/': that names a folder, not an object";
    return NULL;
}

int rdsbk_state_s3_url_parse(char **bucket_out, char **key_out, const char *url) {
    const char *slash;
    char *bucket = NULL;
    const char *problem;
    int rc = 0;

    *bucket_out = NULL;
    *key_out = NULL;
    if (!rdsbk_state_location_is_s3(url))
        return rdsbk_error_set(RDSBK_EINVALID, "'%s' is not an S3 location (s3://BUCKET/KEY)", url);
    slash = strchr(url + 5, '/');
    if (!slash)
        return rdsbk_error_set(RDSBK_EINVALID,
                               "'%s' names no key: the state is an object, s3://BUCKET/KEY "
                               "(e.g. s3://%s/rdsbk.state.json)",
                               url, url + 5);
    RDSBK_TRY(rdsbk_strfmt(&bucket, "%.*s", (int)(slash - (url + 5)), url + 5));
    problem = rdsbk_s3_check_bucket_name(bucket);
    if (problem) {
        rc = rdsbk_error_set(RDSBK_EINVALID, "%s: the bucket '%s' %s", url, bucket, problem);
        goto cleanup;
    }
    problem = rdsbk_state_check_s3_key(slash + 1);
    if (problem) {
        rc = rdsbk_error_set(RDSBK_EINVALID, "%s: the key %s", url, problem);
        goto cleanup;
    }
    RDSBK_TRY(rdsbk_strdup_into(key_out, slash + 1));
    *bucket_out = bucket;
    bucket = NULL;

cleanup:
    free(bucket);
    return rc;
}

int rdsbk_state_store_open(struct rdsbk_state_store **out, const char *location,
                           const struct rdsbk_topology *topo) {
    char *bucket = NULL;
    char *key = NULL;
    int rc;

    *out = NULL;
    if (!rdsbk_state_location_is_s3(location))
        return s_local_open(out, location);
    RDSBK_TRY(rdsbk_state_s3_url_parse(&bucket, &key, location));
    rc = rdsbk_state_store_s3_open(out, bucket, key, topo);

cleanup:
    free(bucket);
    free(key);
    return rc;
}
