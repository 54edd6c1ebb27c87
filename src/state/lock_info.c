/*
 * Who holds a state lock: the document a lock holds, made, read and told the same way for a
 * file's lock (lock.c) and for an S3 lock object (store_s3.c).
 */
#include "state_private.h"

#include "rdsbk/clock.h"
#include "rdsbk/error.h"
#include "rdsbk/json_util.h"

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int rdsbk_state_lock_info_mine(struct rdsbk_state_lock_info *out, const char *operation) {
    struct passwd *pw = getpwuid(getuid());
    time_t now = time(NULL);
    struct tm tm;

    memset(out, 0, sizeof(*out));
    if (gethostname(out->host, sizeof(out->host) - 1) != 0 || !out->host[0])
        snprintf(out->host, sizeof(out->host), "unknown");
    gmtime_r(&now, &tm);
    strftime(out->time, sizeof(out->time), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(out->holder, sizeof(out->holder), "%s", pw ? pw->pw_name : "unknown");
    snprintf(out->operation, sizeof(out->operation), "%s", operation);
    out->pid = (long)getpid();
    return rdsbk_state_uuid(out->id);
}

int rdsbk_state_lock_info_json(char **out, const struct rdsbk_state_lock_info *info) {
    cJSON *o = cJSON_CreateObject();
    int rc;

    *out = NULL;
    RDSBK_CHECK_ALLOC(o);
    RDSBK_TRY(rdsbk_json_add_str(o, "holder", info->holder));
    RDSBK_TRY(rdsbk_json_add_num(o, "pid", (double)info->pid));
    RDSBK_TRY(rdsbk_json_add_str(o, "host", info->host));
    RDSBK_TRY(rdsbk_json_add_str(o, "time", info->time));
    RDSBK_TRY(rdsbk_json_add_str(o, "operation", info->operation));
    RDSBK_TRY(rdsbk_json_add_str(o, "id", info->id));
    if (info->identity[0])
        RDSBK_TRY(rdsbk_json_add_str(o, "identity", info->identity));
    rc = rdsbk_json_text(out, o);

cleanup:
    cJSON_Delete(o);
    return rc;
}

static void s_copy(char *dst, size_t size, const cJSON *doc, const char *key) {
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, key));

    snprintf(dst, size, "%s", v ? v : "");
}

/* A pid as a lock may hold it: a whole number of a process id's range. */
static bool s_pid(long *out, const cJSON *v) {
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 4194304.0 ||
        v->valuedouble != (double)(long)v->valuedouble)
        return false;
    *out = (long)v->valuedouble;
    return true;
}

void rdsbk_state_lock_info_from_json(struct rdsbk_state_lock_info *out, const cJSON *doc) {
    memset(out, 0, sizeof(*out));
    s_copy(out->id, sizeof(out->id), doc, "id");
    s_copy(out->holder, sizeof(out->holder), doc, "holder");
    s_copy(out->identity, sizeof(out->identity), doc, "identity");
    s_copy(out->host, sizeof(out->host), doc, "host");
    s_copy(out->time, sizeof(out->time), doc, "time");
    s_copy(out->operation, sizeof(out->operation), doc, "operation");
    if (!s_pid(&out->pid, cJSON_GetObjectItemCaseSensitive(doc, "pid")))
        out->pid = 0;
}

int rdsbk_state_lock_info_parse(struct rdsbk_state_lock_info *out, const char *text, size_t len,
                                const char *name) {
    cJSON *doc = len > 0 && !memchr(text, '\0', len) ? cJSON_ParseWithLength(text, len) : NULL;
    long pid;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(doc) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "host")) ||
        !s_pid(&pid, cJSON_GetObjectItemCaseSensitive(doc, "pid")))
        rc = rdsbk_error_set(RDSBK_EINVALID,
                             "%s does not hold a lock this tool made (a JSON object with a host "
                             "and a pid); if no run is using the state, remove it with "
                             "'rdsbk-provision state unlock'",
                             name);
    else
        rdsbk_state_lock_info_from_json(out, doc);
    cJSON_Delete(doc);
    return rc;
}

bool rdsbk_state_lock_info_stale(const struct rdsbk_state_lock_info *info) {
    char me[256] = "";

    gethostname(me, sizeof(me) - 1);
    if (info->pid <= 0 || !info->host[0] || strcmp(info->host, me) != 0)
        return false;
    return kill((pid_t)info->pid, 0) != 0 && errno == ESRCH;
}

long long rdsbk_state_lock_info_age(const struct rdsbk_state_lock_info *info, time_t now) {
    struct tm tm;
    char z = 0;
    int n;

    memset(&tm, 0, sizeof(tm));
    n = sscanf(info->time, "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z);
    if (n != 7 || z != 'Z' || tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long long)now - (long long)timegm(&tm);
}

char *rdsbk_state_lock_info_describe(char *out, size_t n,
                                     const struct rdsbk_state_lock_info *info) {
    const struct rdsbk_state_lock_info none = {.pid = 0};
    const struct rdsbk_state_lock_info *i = info ? info : &none;

    snprintf(out, n, "%s (pid %ld on %s, %s since %s%s%s)",
             i->holder[0] ? i->holder : "another run", i->pid, i->host[0] ? i->host : "?",
             i->operation[0] ? i->operation : "?", i->time[0] ? i->time : "?",
             i->identity[0] ? ", as " : "", i->identity);
    return out;
}

int rdsbk_state_locked_error(const struct rdsbk_state_lock_info *info, const char *lock_name,
                             time_t now) {
    char who[768];
    char age[64] = "";
    char took[32];
    long long seconds = info ? rdsbk_state_lock_info_age(info, now) : -1;

    rdsbk_state_lock_info_describe(who, sizeof(who), info);
    if (seconds >= RDSBK_STATE_LOCK_OLD_S)
        snprintf(age, sizeof(age), "; taken %s ago, longer than a run lasts",
                 rdsbk_duration_format(took, sizeof(took), seconds));
    return rdsbk_error_set(RDSBK_ELOCKED,
                           "the state is locked by %s; wait for it, or if that run is gone, "
                           "'rdsbk-provision state unlock' (lock: %s%s)",
                           who, lock_name, age);
}
