/*
 * The S3 backend of struct rdsbk_state_store: the state is the object KEY of the user's bucket,
 * the lock the object KEY.lock beside it.
 *
 *   read    GetObject KEY: the bytes and their ETag, remembered
 *   write   PutObject KEY, If-Match: the ETag remembered (If-None-Match: * when there was no
 *           state), SSE-KMS with state.kms_key_id or SSE-S3; the new ETag remembered. A 412 means
 *           the state changed behind this run: refused, the message says how (serial, lineage)
 *   lock    PutObject KEY.lock If-None-Match: * holding who took it; while another holds it,
 *           polled with backoff until --lock-timeout; a lock of a process of this host that no
 *           longer runs is taken over (DeleteObject If-Match its ETag: only that very lock)
 *   unlock  DeleteObject KEY.lock If-Match: our lock's ETag (never another run's lock)
 *
 * Before the first call: HeadBucket (the bucket exists and is in the Region the client signs
 * for); before the first lock: GetBucketVersioning (a warning when it is off) and STS
 * GetCallerIdentity (who takes the lock, as AWS knows them).
 */
#include "state_private.h"

#include "rdsbk/buf.h"
#include "rdsbk/client.h"
#include "rdsbk/clock.h"
#include "rdsbk/config.h"
#include "rdsbk/error.h"
#include "rdsbk/http.h"
#include "rdsbk/log.h"
#include "rdsbk/services/s3.h"
#include "rdsbk/services/sts.h"
#include "rdsbk/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The lock is polled from this delay on, doubling to the most. */
#define S_LOCK_POLL_FIRST_MS 250
#define S_LOCK_POLL_MAX_MS 5000

struct s_s3 {
    struct rdsbk_state_store base;
    char *bucket;
    char *key;
    char *lock_key;
    char *lock_name;        /* s3://BUCKET/KEY.lock, for messages */
    const char *kms_key_id; /* borrowed from the topology; NULL: SSE-S3 */
    struct rdsbk_http *http;
    struct rdsbk_client *client;
    char *etag;      /* of the state as last read or written; NULL: there was none */
    char *lock_etag; /* of our lock while we hold it */
    bool checked;    /* HeadBucket done */
    bool versioning_checked;
};

/* Rewrites the current error's message, keeping its code, AWS code and request id: `fmt` ends it
 * (`append`) or replaces it. Returns the code. */
static int s_edit_error(bool append, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int s_edit_error(bool append, const char *fmt, ...) {
    struct rdsbk_error err;
    size_t len;
    va_list ap;

    rdsbk_error_save(&err);
    len = append ? strlen(err.message) : 0;
    va_start(ap, fmt);
    vsnprintf(err.message + len, sizeof(err.message) - len, fmt, ap);
    va_end(ap);
    rdsbk_error_restore(&err);
    return err.code;
}

/* How S3 writes the state and its lock: encrypted as the topology says, as JSON. */
static struct rdsbk_s3_put s_put_options(const struct s_s3 *s) {
    struct rdsbk_s3_put put;

    memset(&put, 0, sizeof(put));
    put.sse_kms_key_id = s->kms_key_id;
    put.content_type = "application/json";
    return put;
}

/* ---- the bucket ---------------------------------------------------------------------------- */

/* The bucket does not exist: RDSBK_EINVALID (not RDSBK_ENOTFOUND, which would read as "no state
 * yet"), keeping S3's code and request id. */
static int s_no_bucket(const struct s_s3 *s) {
    struct rdsbk_error err;

    rdsbk_error_save(&err);
    err.code = RDSBK_EINVALID;
    snprintf(err.message, sizeof(err.message),
             "the state bucket %s does not exist (rdsbk-provision never creates it): create it, "
             "with versioning on, or fix state.bucket / --state",
             s->bucket);
    rdsbk_error_restore(&err);
    return err.code;
}

/* Once: the bucket exists, and in the Region the client signs for (S3 would answer every call
 * with 301 otherwise). A caller without s3:ListBucket gets 403 here: the later calls tell. */
static int s_check_bucket(struct s_s3 *s) {
    const char *want = rdsbk_client_region(s->client);
    char *region = NULL;
    int rc;

    if (s->checked)
        return 0;
    rc = rdsbk_s3_head_bucket(&region, s->client, s->bucket);
    if (rc == RDSBK_EAUTH) {
        rdsbk_log_verbose("s3://%s: HeadBucket refused (no s3:ListBucket?); going on", s->bucket);
        rdsbk_error_clear();
        rc = 0;
    } else if (rc == RDSBK_ENOTFOUND) {
        rc = s_no_bucket(s);
    } else if (rc == 0 && region && *region && strcmp(region, want) != 0) {
        rc = rdsbk_error_set(RDSBK_EINVALID,
                             "the state bucket %s is in Region %s, not %s: set state.region: %s "
                             "in the topology (or AWS_REGION)",
                             s->bucket, region, want, region);
    } else if (rc) {
        rc = s_edit_error(true, " (HeadBucket of the state bucket %s)", s->bucket);
    }
    free(region);
    if (rc == 0)
        s->checked = true;
    return rc;
}

/* Once, before the first lock: a one-line warning when the bucket keeps no earlier versions. */
static int s_check_versioning(struct s_s3 *s) {
    char *status = NULL;
    int rc;

    if (s->versioning_checked)
        return 0;
    rc = rdsbk_s3_get_bucket_versioning(&status, s->client, s->bucket);
    if (rc == RDSBK_EAUTH) {
        rdsbk_log_warn("s3://%s: cannot tell whether versioning is on (GetBucketVersioning "
                       "refused); with it on, every earlier state is kept",
                       s->bucket);
        rdsbk_error_clear();
        rc = 0;
    } else if (rc == 0 && strcmp(status, "Enabled") != 0) {
        rdsbk_log_warn("s3://%s: versioning is %s: a state overwritten or deleted by mistake "
                       "cannot be recovered; turn it on (aws s3api put-bucket-versioning --bucket "
                       "%s --versioning-configuration Status=Enabled)",
                       s->bucket, *status ? "suspended" : "off", s->bucket);
    }
    free(status);
    if (rc == 0)
        s->versioning_checked = true;
    return rc;
}

/* ---- objects ------------------------------------------------------------------------------- */

/* GetObject `key` (the state, or its lock): *text_out (caller frees), *len_out, *etag_out (caller
 * frees). RDSBK_ENOTFOUND when there is none; a refusal names what the state needs. */
static int s_get(char **text_out, size_t *len_out, char **etag_out, struct s_s3 *s,
                 const char *key) {
    struct rdsbk_buf body;
    int rc;

    *text_out = NULL;
    *len_out = 0;
    *etag_out = NULL;
    rdsbk_buf_init(&body, RDSBK_STATE_MAX_SIZE);
    RDSBK_TRY(s_check_bucket(s));
    rc = rdsbk_s3_get_object(&body, etag_out, s->client, s->bucket, key);
    if (rc == RDSBK_ENOTFOUND && strcmp(rdsbk_error_last()->aws_code, "NoSuchBucket") == 0)
        rc = s_no_bucket(s);
    if (rc == RDSBK_EAUTH)
        s_edit_error(
            true,
            " (reading s3://%s/%s: the state needs s3:GetObject on its key and lock, and "
            "s3:ListBucket on the bucket, without which S3 answers 403 for a key that does not "
            "exist yet)",
            s->bucket, key);
    if (rc)
        goto cleanup;
    *len_out = rdsbk_buf_len(&body);
    *text_out = rdsbk_buf_detach(&body);
    RDSBK_CHECK_ALLOC(*text_out);

cleanup:
    if (rc) {
        free(*etag_out);
        *etag_out = NULL;
    }
    rdsbk_buf_clean_up(&body);
    return rc;
}

static void s_set_etag(char **slot, char *etag) {
    free(*slot);
    *slot = etag;
}

static int s_read(char **text_out, size_t *len_out, struct rdsbk_state_store *store) {
    struct s_s3 *s = (struct s_s3 *)store;
    char *etag = NULL;
    int rc = s_get(text_out, len_out, &etag, s, s->key);

    if (rc == RDSBK_ENOTFOUND) {
        s_set_etag(&s->etag, NULL);
        return rdsbk_error_set(RDSBK_ENOTFOUND, "%s does not exist", store->name);
    }
    if (rc == 0)
        s_set_etag(&s->etag, etag);
    return rc;
}

static int s_load(struct rdsbk_state **out, struct rdsbk_state_store *store, const char *stack) {
    struct s_s3 *s = (struct s_s3 *)store;
    char *text = NULL;
    char *recovery = NULL;
    size_t len = 0;
    int rc;

    RDSBK_TRY(s_read(&text, &len, store));
    RDSBK_TRY(rdsbk_strfmt(&recovery,
                           "with versioning on, the bucket keeps its earlier versions (aws s3api "
                           "list-object-versions --bucket %s --prefix %s): inspect them, and "
                           "'rdsbk-provision state push --force FILE' the right one",
                           s->bucket, s->key));
    rc = rdsbk_state_parse_from(out, text, len, store->name, stack, recovery);

cleanup:
    free(text);
    free(recovery);
    return rc;
}

/* A conditional write of the state was refused (412): says what the state now is, as the error
 * (RDSBK_ECONFLICT). `st`: what this run read. */
static int s_changed_behind(struct s_s3 *s, const struct rdsbk_state *st) {
    struct rdsbk_error refused;
    struct rdsbk_state *now = NULL;
    char *text = NULL;
    char *etag = NULL;
    char what[256];
    size_t len = 0;
    int rc;

    rdsbk_error_save(&refused);
    rc = s_get(&text, &len, &etag, s, s->key);
    if (rc == 0)
        rc = rdsbk_state_parse(&now, text, len, s->base.name, NULL);
    if (rc == RDSBK_ENOTFOUND)
        snprintf(what, sizeof(what), "it was deleted since this run read it");
    else if (rc)
        snprintf(what, sizeof(what), "it changed since this run read it");
    else if (strcmp(now->lineage, st->lineage) != 0)
        snprintf(what, sizeof(what), "it now holds another state (lineage %s, this run's %s)",
                 now->lineage, st->lineage);
    else if (st->loaded_serial < 0)
        snprintf(what, sizeof(what),
                 "another run wrote it (serial %ld) since this one found no state there",
                 now->serial);
    else
        snprintf(what, sizeof(what),
                 "it was changed since this run read it (serial %ld there, this run read %ld)",
                 now->serial, st->loaded_serial);
    rdsbk_error_restore(&refused);
    rc = s_edit_error(false,
                      "%s: %s, by another run or by hand; not overwriting it. Look at it with "
                      "'rdsbk-provision state pull'",
                      s->base.name, what);
    rdsbk_state_free(now);
    free(text);
    free(etag);
    return rc;
}

static int s_write(struct rdsbk_state_store *store, struct rdsbk_state *st, const char *text,
                   long serial) {
    struct s_s3 *s = (struct s_s3 *)store;
    struct rdsbk_s3_put put = s_put_options(s);
    struct rdsbk_buf body;
    char *etag = NULL;
    int rc;

    /* the same bytes as the file: the document and a newline */
    rdsbk_buf_init(&body, RDSBK_STATE_MAX_SIZE + 1);
    RDSBK_TRY(s_check_bucket(s));
    RDSBK_TRY(rdsbk_buf_adds(&body, text));
    RDSBK_TRY(rdsbk_buf_addc(&body, '\n'));
    put.if_match = s->etag;
    put.if_none_match_star = s->etag == NULL;
    rc = rdsbk_s3_put_object(&etag, s->client, s->bucket, s->key, rdsbk_buf_cstr(&body),
                             rdsbk_buf_len(&body), &put);
    if (rc == 0) {
        s_set_etag(&s->etag, etag);
        etag = NULL;
        st->loaded_serial = serial;
    } else if (rdsbk_s3_precondition_failed(rc) || (rc == RDSBK_ENOTFOUND && s->etag)) {
        rc = s_changed_behind(s, st);
        if (rc == RDSBK_ENOTFOUND)
            rc = RDSBK_ECONFLICT;
    } else if (rc == RDSBK_ECONFLICT) {
        s_edit_error(true, " (%s: another write raced this one through every retry; not written)",
                     store->name);
    } else if (rc == RDSBK_EAUTH) {
        s_edit_error(
            true, " (writing %s: the state needs s3:PutObject on its key and lock%s)", store->name,
            s->kms_key_id ? ", and kms:GenerateDataKey and kms:Decrypt on state.kms_key_id" : "");
    }

cleanup:
    free(etag);
    rdsbk_buf_clean_up(&body);
    return rc;
}

static int s_set_aside(struct rdsbk_state_store *store, const char *suffix) {
    struct s_s3 *s = (struct s_s3 *)store;
    struct rdsbk_s3_put put = s_put_options(s);
    char *text = NULL;
    char *etag = NULL;
    char *aside = NULL;
    size_t len = 0;
    int rc;

    RDSBK_TRY(s_get(&text, &len, &etag, s, s->key));
    RDSBK_TRY(rdsbk_strfmt(&aside, "%s%s", s->key, suffix));
    RDSBK_TRY(rdsbk_s3_put_object(NULL, s->client, s->bucket, aside, text, len, &put));
    rc = rdsbk_s3_delete_object(s->client, s->bucket, s->key, etag);
    if (rc == RDSBK_ECONFLICT || rc == RDSBK_ENOTFOUND)
        rc = rdsbk_error_set(RDSBK_ECONFLICT,
                             "%s changed while it was being moved aside: it stays where it is (a "
                             "copy is in s3://%s/%s)",
                             store->name, s->bucket, aside);
    if (rc == 0)
        s_set_etag(&s->etag, NULL);

cleanup:
    free(text);
    free(etag);
    free(aside);
    return rc;
}

/* ---- the lock ------------------------------------------------------------------------------ */

/* Who takes the lock: this process, and as whom AWS knows its credentials (GetCallerIdentity; left
 * out when it cannot be told). */
static int s_my_lock(char **json_out, struct s_s3 *s, const char *operation) {
    struct rdsbk_state_lock_info me;
    struct rdsbk_sts_identity id;
    int rc;

    memset(&id, 0, sizeof(id));
    *json_out = NULL;
    RDSBK_TRY(rdsbk_state_lock_info_mine(&me, operation));
    if (rdsbk_sts_get_caller_identity(&id, s->client) == 0 && id.arn)
        snprintf(me.identity, sizeof(me.identity), "%s", id.arn);
    rdsbk_error_clear();
    rc = rdsbk_state_lock_info_json(json_out, &me);

cleanup:
    rdsbk_sts_identity_clean_up(&id);
    return rc;
}

/* The lock is held: reads who holds it. 0 and *etag_out (NULL when it was released meanwhile),
 * *known whether `info` could be read. */
static int s_holder(struct rdsbk_state_lock_info *info, bool *known, char **etag_out,
                    struct s_s3 *s) {
    char *text = NULL;
    size_t len = 0;
    int rc = s_get(&text, &len, etag_out, s, s->lock_key);

    *known = false;
    if (rc == RDSBK_ENOTFOUND) {
        rdsbk_error_clear();
        rc = 0;
    } else if (rc == 0) {
        *known = rdsbk_state_lock_info_parse(info, text, len, s->lock_name) == 0;
        rdsbk_error_clear();
    }
    free(text);
    return rc;
}

/* One try at the lock while it is held: takes a stale one over, or waits `delay_ms` (capped by
 * the deadline). 0 to try again; RDSBK_ELOCKED past the deadline. */
static int s_held(struct s_s3 *s, double deadline, long delay_ms) {
    struct rdsbk_state_lock_info info;
    bool known = false;
    char *etag = NULL;
    double now;
    int rc = s_holder(&info, &known, &etag, s);

    if (rc || !etag)
        goto cleanup; /* an error, or released while we looked: try again */
    if (known && rdsbk_state_lock_info_stale(&info)) {
        rdsbk_log_warn("%s: taking over a stale lock of pid %ld, which no longer runs",
                       s->lock_name, info.pid);
        /* only that very lock: a taker that came first has put a new one, with another ETag */
        rc = rdsbk_s3_delete_object(s->client, s->bucket, s->lock_key, etag);
        if (rc == RDSBK_ECONFLICT || rc == RDSBK_ENOTFOUND) {
            rdsbk_error_clear();
            rc = 0;
        }
        goto cleanup;
    }
    now = rdsbk_clock_now();
    if (now >= deadline) {
        rc = rdsbk_state_locked_error(known ? &info : NULL, s->lock_name, time(NULL));
        goto cleanup;
    }
    if (now + delay_ms / 1000.0 > deadline)
        delay_ms = (long)((deadline - now) * 1000.0) + 1;
    rdsbk_clock_sleep_ms(delay_ms);

cleanup:
    free(etag);
    return rc;
}

static int s_lock(struct rdsbk_state_store *store, const char *operation, int timeout_s) {
    struct s_s3 *s = (struct s_s3 *)store;
    struct rdsbk_s3_put put = s_put_options(s);
    double deadline = rdsbk_clock_now() + (timeout_s > 0 ? timeout_s : 0);
    long delay_ms = S_LOCK_POLL_FIRST_MS;
    char *json = NULL;
    char *etag = NULL;
    int rc;

    if (s->lock_etag)
        return 0;
    RDSBK_TRY(s_check_bucket(s));
    RDSBK_TRY(s_check_versioning(s));
    RDSBK_TRY(s_my_lock(&json, s, operation));
    put.if_none_match_star = true;
    for (;;) {
        rc =
            rdsbk_s3_put_object(&etag, s->client, s->bucket, s->lock_key, json, strlen(json), &put);
        if (rc != RDSBK_ECONFLICT) /* taken, or an error; a 409 is a taker racing us */
            break;
        rdsbk_error_clear();
        RDSBK_TRY(s_held(s, deadline, delay_ms));
        delay_ms = delay_ms * 2 > S_LOCK_POLL_MAX_MS ? S_LOCK_POLL_MAX_MS : delay_ms * 2;
    }
    if (rc == RDSBK_EAUTH)
        s_edit_error(
            true, " (taking the lock %s: the state needs s3:PutObject and s3:DeleteObject on it)",
            s->lock_name);
    if (rc == 0) {
        s->lock_etag = etag;
        etag = NULL;
    }

cleanup:
    free(json);
    free(etag);
    return rc;
}

/* Releases our lock. It leaves the thread's error as it was: the run's own error, if any, is
 * what the user must see. */
static void s_unlock(struct rdsbk_state_store *store) {
    struct s_s3 *s = (struct s_s3 *)store;
    struct rdsbk_error err;
    int rc;

    if (!s->lock_etag)
        return;
    rdsbk_error_save(&err);
    rc = rdsbk_s3_delete_object(s->client, s->bucket, s->lock_key, s->lock_etag);
    if (rc == RDSBK_ECONFLICT)
        rdsbk_log_warn("%s is no longer this run's lock (removed with 'state unlock' and taken by "
                       "another run?): left as it is",
                       s->lock_name);
    else if (rc == RDSBK_ENOTFOUND)
        rdsbk_log_warn("%s was removed by someone else while this run held it", s->lock_name);
    else if (rc)
        rdsbk_log_warn("%s: the lock could not be removed (%s): if no run is using the state, "
                       "'rdsbk-provision state unlock'",
                       s->lock_name, rdsbk_error_last()->message);
    rdsbk_error_restore(&err);
    free(s->lock_etag);
    s->lock_etag = NULL;
}

static int s_force_unlock(char **holder_out, struct rdsbk_state_store *store) {
    struct s_s3 *s = (struct s_s3 *)store;
    struct rdsbk_state_lock_info info;
    bool known = false;
    char *etag = NULL;
    char who[768];
    int rc;

    *holder_out = NULL;
    RDSBK_TRY(s_holder(&info, &known, &etag, s));
    if (!etag) {
        rc = rdsbk_error_set(RDSBK_ENOTFOUND, "%s is not locked", store->name);
        goto cleanup;
    }
    if (known)
        RDSBK_TRY(
            rdsbk_strdup_into(holder_out, rdsbk_state_lock_info_describe(who, sizeof(who), &info)));
    rc = rdsbk_s3_delete_object(s->client, s->bucket, s->lock_key, etag);
    if (rc == RDSBK_ENOTFOUND)
        rc = rdsbk_error_set(RDSBK_ENOTFOUND, "%s is not locked (its lock went meanwhile)",
                             store->name);
    else if (rc == RDSBK_ECONFLICT)
        rc = rdsbk_error_set(RDSBK_ECONFLICT,
                             "the lock of %s changed while it was being removed (another run took "
                             "it): look again",
                             store->name);

cleanup:
    if (rc) {
        free(*holder_out);
        *holder_out = NULL;
    }
    free(etag);
    return rc;
}

static void s_free(struct rdsbk_state_store *store) {
    struct s_s3 *s = (struct s_s3 *)store;

    free(s->bucket);
    free(s->key);
    free(s->lock_key);
    free(s->lock_name);
    free(s->etag);
    free(s->lock_etag);
    rdsbk_client_free(s->client);
    rdsbk_http_free(s->http);
    free(s);
}

static const struct rdsbk_state_store_ops s_s3_ops = {.remote = true,
                                                      .save_interval_ms =
                                                          RDSBK_STATE_S3_SAVE_INTERVAL_MS,
                                                      .lock = s_lock,
                                                      .unlock = s_unlock,
                                                      .force_unlock = s_force_unlock,
                                                      .read = s_read,
                                                      .load = s_load,
                                                      .write = s_write,
                                                      .set_aside = s_set_aside,
                                                      .free = s_free};

/* The Region the bucket is reached in: state.region, AWS_REGION, AWS_DEFAULT_REGION, Region-B. */
static const char *s_region(const struct rdsbk_topology *topo) {
    const char *env = getenv("AWS_REGION");

    if (topo->state.region)
        return topo->state.region;
    if (env && *env)
        return env;
    env = getenv("AWS_DEFAULT_REGION");
    return env && *env ? env : topo->backup.region;
}

int rdsbk_state_store_s3_open(struct rdsbk_state_store **out, const char *bucket, const char *key,
                              const struct rdsbk_topology *topo) {
    struct s_s3 *s = calloc(1, sizeof(*s));
    struct rdsbk_client_options o;
    char session[96];
    int rc;

    *out = NULL;
    RDSBK_CHECK_ALLOC(s);
    s->base.ops = &s_s3_ops;
    s->kms_key_id = topo->state.kms_key_id;
    RDSBK_TRY(rdsbk_strfmt(&s->base.name, "s3://%s/%s", bucket, key));
    RDSBK_TRY(rdsbk_strdup_into(&s->bucket, bucket));
    RDSBK_TRY(rdsbk_strdup_into(&s->key, key));
    RDSBK_TRY(rdsbk_strfmt(&s->lock_key, "%s.lock", key));
    RDSBK_TRY(rdsbk_strfmt(&s->lock_name, "s3://%s/%s.lock", bucket, key));
    RDSBK_TRY(rdsbk_http_new(&s->http, NULL));
    memset(&o, 0, sizeof(o));
    snprintf(session, sizeof(session), "rdsbk-%s", topo->stack);
    o.region = s_region(topo);
    o.profile = topo->state.profile;
    o.role_arn = topo->state.role_arn;
    o.session_name = session;
    o.endpoints = &topo->endpoints;
    o.http = s->http;
    RDSBK_TRY(rdsbk_client_new(&s->client, &o));
    *out = &s->base;
    s = NULL;

cleanup:
    if (s) {
        free(s->base.name);
        s_free(&s->base);
    }
    return rc;
}
