/* The state file: parse, serialise, atomic save with a backup. */
#include "rdsbk/state.h"
#include "rdsbk/buf.h"
#include "rdsbk/error.h"
#include "rdsbk/str.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_MAX_STATE_SIZE (64 * 1024 * 1024)

static int s_uuid(char out[37]) {
    unsigned char b[16];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return rdsbk_error_set(RDSBK_EIO, "/dev/urandom: %s", strerror(errno));
    n = read(fd, b, sizeof(b));
    close(fd);
    if (n != (ssize_t)sizeof(b))
        return rdsbk_error_set(RDSBK_EIO, "/dev/urandom: short read");
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return 0;
}

int rdsbk_state_new(struct rdsbk_state **out, const char *stack) {
    struct rdsbk_state *st = calloc(1, sizeof(*st));

    *out = NULL;
    if (st)
        st->stack = strdup(stack);
    if (!st || !st->stack) {
        free(st);
        return rdsbk_error_oom();
    }
    st->format_version = RDSBK_STATE_FORMAT;
    st->loaded_serial = -1;
    st->accounts = cJSON_CreateObject();
    if (!st->accounts || s_uuid(st->lineage)) {
        rdsbk_state_free(st);
        return RDSBK_EIO;
    }
    *out = st;
    return 0;
}

static void s_resource_clean_up(struct rdsbk_state_resource *r) {
    free(r->address);
    free(r->type);
    free(r->region);
    free(r->id);
    cJSON_Delete(r->attributes);
    for (size_t i = 0; i < r->n_deps; i++)
        free(r->deps[i]);
    free(r->deps);
    free(r->json);
    memset(r, 0, sizeof(*r));
}

/* The resource as one line of JSON (caller frees), or NULL on ENOMEM. */
static char *s_resource_json(const struct rdsbk_state_resource *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON *deps;
    char *text = NULL;

    if (!o)
        return NULL;
    if (!cJSON_AddStringToObject(o, "address", r->address) ||
        !cJSON_AddStringToObject(o, "type", r->type) ||
        !cJSON_AddStringToObject(o, "account", r->account) ||
        !cJSON_AddStringToObject(o, "region", r->region ? r->region : "") ||
        !cJSON_AddStringToObject(o, "id", r->id ? r->id : "") ||
        /* a reference, not a copy: printed, not kept */
        !cJSON_AddItemToObject(o, "attributes", cJSON_CreateObjectReference(r->attributes->child)))
        goto cleanup;
    deps = cJSON_AddArrayToObject(o, "dependencies");
    for (size_t d = 0; deps && d < r->n_deps; d++)
        if (!cJSON_AddItemToArray(deps, cJSON_CreateString(r->deps[d])))
            goto cleanup;
    if (deps)
        text = cJSON_PrintUnformatted(o);

cleanup:
    cJSON_Delete(o);
    return text;
}

void rdsbk_state_free(struct rdsbk_state *st) {
    if (!st)
        return;
    for (size_t i = 0; i < st->n_resources; i++)
        s_resource_clean_up(&st->resources[i]);
    free(st->resources);
    free(st->stack);
    cJSON_Delete(st->accounts);
    free(st);
}

/* Binary search; *pos_out receives the insertion point when not found. */
static struct rdsbk_state_resource *s_find(const struct rdsbk_state *st, const char *address,
                                           size_t *pos_out) {
    bool found;
    size_t i = rdsbk_sorted_index(&found, st->resources, st->n_resources, sizeof(*st->resources),
                                  offsetof(struct rdsbk_state_resource, address), address);

    if (pos_out)
        *pos_out = i;
    return found ? &st->resources[i] : NULL;
}

struct rdsbk_state_resource *rdsbk_state_find(const struct rdsbk_state *st, const char *address) {
    return s_find(st, address, NULL);
}

static char *s_dup(const char *s, int *oom) {
    char *p;
    if (!s)
        return NULL;
    p = strdup(s);
    if (!p)
        *oom = 1;
    return p;
}

int rdsbk_state_put(struct rdsbk_state *st, const char *address, const char *type,
                    const char *account, const char *region, const char *id,
                    const cJSON *attributes, char *const *deps, size_t n_deps) {
    struct rdsbk_state_resource r;
    struct rdsbk_state_resource *existing;
    size_t pos;
    int oom = 0;

    memset(&r, 0, sizeof(r));
    r.address = s_dup(address, &oom);
    r.type = s_dup(type, &oom);
    snprintf(r.account, sizeof(r.account), "%s", account ? account : "");
    r.region = s_dup(region, &oom);
    r.id = s_dup(id, &oom);
    r.attributes = attributes ? cJSON_Duplicate(attributes, 1) : cJSON_CreateObject();
    if (!r.attributes)
        oom = 1;
    if (n_deps) {
        r.deps = calloc(n_deps, sizeof(*r.deps));
        if (!r.deps)
            oom = 1;
        for (size_t i = 0; r.deps && i < n_deps; i++, r.n_deps++)
            r.deps[i] = s_dup(deps[i], &oom);
    }
    if (!oom) {
        r.json = s_resource_json(&r);
        oom = !r.json;
    }
    if (oom)
        goto oom;

    existing = s_find(st, address, &pos);
    if (existing) {
        s_resource_clean_up(existing);
        *existing = r;
        return 0;
    }
    if (st->n_resources == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 32;
        struct rdsbk_state_resource *grown = realloc(st->resources, cap * sizeof(*grown));
        if (!grown)
            goto oom;
        st->resources = grown;
        st->cap = cap;
    }
    memmove(&st->resources[pos + 1], &st->resources[pos],
            (st->n_resources - pos) * sizeof(*st->resources));
    st->resources[pos] = r;
    st->n_resources++;
    return 0;

oom:
    s_resource_clean_up(&r);
    return rdsbk_error_oom();
}

int rdsbk_state_remove(struct rdsbk_state *st, const char *address) {
    size_t pos;
    struct rdsbk_state_resource *r = s_find(st, address, &pos);

    if (!r)
        return rdsbk_error_set(RDSBK_ENOTFOUND, "%s is not in the state", address);
    s_resource_clean_up(r);
    memmove(&st->resources[pos], &st->resources[pos + 1],
            (st->n_resources - pos - 1) * sizeof(*st->resources));
    st->n_resources--;
    return 0;
}

/* Appends `value` as JSON text; 0 or RDSBK_ENOMEM. */
static int s_add_json(struct rdsbk_buf *out, const cJSON *value) {
    char *text = value ? cJSON_PrintUnformatted(value) : NULL;
    int rc = text ? rdsbk_buf_adds(out, text) : RDSBK_ENOMEM;

    free(text);
    return rc;
}

/*
 * The state is written many times a run, so this only joins: each resource's line was made when
 * it was put.
 */
char *rdsbk_state_to_json(const struct rdsbk_state *st) {
    struct rdsbk_buf out = RDSBK_BUF_INIT;
    cJSON *lineage = cJSON_CreateString(st->lineage);
    cJSON *stack = cJSON_CreateString(st->stack);
    cJSON *empty = cJSON_CreateObject();
    /* the document around the resources, with room: the header and about 100 bytes an account */
    size_t size = 1024 + strlen(st->stack) + 256 * (size_t)cJSON_GetArraySize(st->accounts);
    int rc;

    /* the size first, so that a state of a thousand resources is one allocation, not twenty */
    for (size_t i = 0; i < st->n_resources; i++)
        size += strlen(st->resources[i].json) + 6;
    rc = !lineage || !stack || !empty ? RDSBK_ENOMEM : rdsbk_buf_reserve(&out, size);
    if (!rc)
        rc = rdsbk_buf_printf(&out,
                              "{\n  \"format_version\": %d,\n  \"serial\": %ld,\n  \"lineage\": ",
                              st->format_version, st->serial);
    if (!rc)
        rc = s_add_json(&out, lineage);
    if (!rc)
        rc = rdsbk_buf_adds(&out, ",\n  \"stack\": ");
    if (!rc)
        rc = s_add_json(&out, stack);
    if (!rc)
        rc =
            rdsbk_buf_adds(&out, ",\n  \"tool_version\": \"" RDSBK_VERSION "\",\n  \"accounts\": ");
    if (!rc)
        rc = s_add_json(&out, st->accounts ? st->accounts : empty);
    if (!rc)
        rc = rdsbk_buf_adds(&out, ",\n  \"resources\": [");
    for (size_t i = 0; !rc && i < st->n_resources; i++) {
        rc = rdsbk_buf_adds(&out, i ? ",\n    " : "\n    ");
        if (!rc)
            rc = rdsbk_buf_adds(&out, st->resources[i].json);
    }
    if (!rc)
        rc = rdsbk_buf_adds(&out, st->n_resources ? "\n  ]\n}" : "]\n}");
    cJSON_Delete(lineage);
    cJSON_Delete(stack);
    cJSON_Delete(empty);
    if (rc) {
        rdsbk_buf_clean_up(&out);
        return NULL;
    }
    return rdsbk_buf_detach(&out);
}

static const char *s_str(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "damaged" message with the backup hint. */
static int s_damaged(const char *name, const char *what) {
    return rdsbk_error_set(RDSBK_EINVALID,
                           "%s: the state file is damaged (%s); the previous version is kept in "
                           "%s.backup: inspect it, and copy it over %s only if it is right",
                           name, what, name, name);
}

int rdsbk_state_parse(struct rdsbk_state **out, const char *text, size_t len, const char *name,
                      const char *stack) {
    cJSON *root = NULL;
    struct rdsbk_state *st = NULL;
    const cJSON *v;
    const cJSON *list;
    const cJSON *item;
    const char *s;
    const char *end = NULL;
    int result = RDSBK_ERROR;

    *out = NULL;
    /* cJSON skips NUL bytes as whitespace and stops at the end of the first value: a state with
     * NULs in it, or anything after the document, is damaged, not whole */
    if (len > 0 && memchr(text, '\0', len)) {
        result = s_damaged(name, "NUL bytes in it");
        goto cleanup;
    }
    root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root || !cJSON_IsObject(root)) {
        result = s_damaged(name, len == 0 ? "it is empty" : "not valid JSON");
        goto cleanup;
    }
    while (end && end < text + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (!end || end != text + len) {
        result = s_damaged(name, "data after the JSON document");
        goto cleanup;
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "format_version");
    if (!cJSON_IsNumber(v)) {
        result = s_damaged(name, "no format_version");
        goto cleanup;
    }
    if (v->valuedouble > RDSBK_STATE_FORMAT) {
        result =
            rdsbk_error_set(RDSBK_EINVALID,
                            "%s: state format %d is newer than this rdsbk-provision reads "
                            "(%d); use the release that wrote it (%s)",
                            name, v->valueint, RDSBK_STATE_FORMAT,
                            s_str(root, "tool_version") ? s_str(root, "tool_version") : "unknown");
        goto cleanup;
    }
    if (v->valuedouble < 1 || v->valuedouble != (double)v->valueint) {
        result = s_damaged(name, "bad format_version");
        goto cleanup;
    }
    s = s_str(root, "stack");
    if (!s) {
        result = s_damaged(name, "no stack");
        goto cleanup;
    }
    if (stack && strcmp(s, stack) != 0) {
        result = rdsbk_error_set(RDSBK_EINVALID,
                                 "%s: this state belongs to stack '%s', not '%s'; point --state at "
                                 "the state of '%s'",
                                 name, s, stack, stack);
        goto cleanup;
    }
    st = calloc(1, sizeof(*st));
    if (st)
        st->stack = strdup(s);
    if (!st || !st->stack) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    st->format_version = RDSBK_STATE_FORMAT;
    v = cJSON_GetObjectItemCaseSensitive(root, "serial");
    s = s_str(root, "lineage");
    /* 2^53: beyond it a serial is not an exact integer (and a cast to long may overflow) */
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 || !s ||
        strlen(s) != 36) {
        result = s_damaged(name, "no serial or lineage");
        goto cleanup;
    }
    st->serial = (long)v->valuedouble;
    st->loaded_serial = st->serial;
    memcpy(st->lineage, s, 37);
    v = cJSON_GetObjectItemCaseSensitive(root, "accounts");
    st->accounts = cJSON_IsObject(v) ? cJSON_Duplicate(v, 1) : cJSON_CreateObject();
    if (!st->accounts) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    list = cJSON_GetObjectItemCaseSensitive(root, "resources");
    if (!cJSON_IsArray(list)) {
        result = s_damaged(name, "no resource list");
        goto cleanup;
    }
    cJSON_ArrayForEach(item, list) {
        const char *address = s_str(item, "address");
        const char *type = s_str(item, "type");
        const char *account = s_str(item, "account");
        const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(item, "attributes");
        const cJSON *deps = cJSON_GetObjectItemCaseSensitive(item, "dependencies");
        const cJSON *dep;
        char *dep_list[64];
        size_t n_deps = 0;

        if (!address || !type || !account || strlen(account) != RDSBK_ACCOUNT_LEN ||
            !cJSON_IsObject(attrs) || (deps && !cJSON_IsArray(deps))) {
            result = s_damaged(name, "a resource lacks address, type, account or attributes");
            goto cleanup;
        }
        if (rdsbk_state_find(st, address)) {
            result = s_damaged(name, "a resource is listed twice");
            goto cleanup;
        }
        cJSON_ArrayForEach(dep, deps) {
            if (!cJSON_IsString(dep) || n_deps == sizeof(dep_list) / sizeof(dep_list[0])) {
                result = s_damaged(name, "bad dependency list");
                goto cleanup;
            }
            dep_list[n_deps++] = dep->valuestring;
        }
        result = rdsbk_state_put(st, address, type, account, s_str(item, "region"),
                                 s_str(item, "id"), attrs, dep_list, n_deps);
        if (result)
            goto cleanup;
    }
    *out = st;
    st = NULL;
    result = 0;

cleanup:
    cJSON_Delete(root);
    rdsbk_state_free(st);
    return result;
}

static void s_remember_file(struct rdsbk_state *st, const struct stat *sb) {
    st->file.valid = true;
    st->file.dev = sb->st_dev;
    st->file.ino = sb->st_ino;
    st->file.size = sb->st_size;
    st->file.mtime_s = (long)sb->st_mtim.tv_sec;
    st->file.mtime_ns = (long)sb->st_mtim.tv_nsec;
}

static bool s_same_file(const struct rdsbk_state *st, const char *path) {
    struct stat sb;

    return st->file.valid && stat(path, &sb) == 0 && sb.st_dev == st->file.dev &&
           sb.st_ino == st->file.ino && sb.st_size == st->file.size &&
           (long)sb.st_mtim.tv_sec == st->file.mtime_s &&
           (long)sb.st_mtim.tv_nsec == st->file.mtime_ns;
}

static int s_read_file(char **text_out, size_t *len_out, struct stat *sb, const char *path) {
    struct rdsbk_buf buf = RDSBK_BUF_INIT;
    char chunk[65536];
    FILE *f = fopen(path, "rb");
    size_t n;
    int result = 0;

    *text_out = NULL;
    if (!f) {
        if (errno == ENOENT)
            return RDSBK_ENOTFOUND;
        return rdsbk_error_set(RDSBK_EIO, "%s: %s", path, strerror(errno));
    }
    if (fstat(fileno(f), sb) != 0)
        memset(sb, 0, sizeof(*sb));
    rdsbk_buf_init(&buf, S_MAX_STATE_SIZE);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        result = rdsbk_buf_add(&buf, chunk, n);
        if (result)
            break;
    }
    if (!result && ferror(f))
        result = rdsbk_error_set(RDSBK_EIO, "%s: %s", path, strerror(errno));
    fclose(f);
    if (result) {
        rdsbk_buf_clean_up(&buf);
        return result;
    }
    *len_out = buf.len;
    *text_out = rdsbk_buf_detach(&buf);
    return *text_out ? 0 : rdsbk_error_oom();
}

int rdsbk_state_load(struct rdsbk_state **out, const char *path, const char *stack) {
    char *text = NULL;
    size_t len = 0;
    struct stat sb;
    int rc;

    *out = NULL;
    rc = s_read_file(&text, &len, &sb, path);
    if (rc == RDSBK_ENOTFOUND)
        return rdsbk_error_set(RDSBK_ENOTFOUND, "%s does not exist", path);
    if (rc)
        return rc;
    rc = rdsbk_state_parse(out, text, len, path, stack);
    if (rc == 0 && sb.st_ino)
        s_remember_file(*out, &sb);
    free(text);
    return rc;
}

/* fsync of the directory holding `path`, so the rename survives a crash. */
static int s_sync_dir(const char *path) {
    char *copy = strdup(path);
    int fd;
    int rc = 0;

    if (!copy)
        return rdsbk_error_oom();
    fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0)
        rc = rdsbk_error_set(RDSBK_EIO, "%s: syncing the directory: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    free(copy);
    return rc;
}

char *rdsbk_state_render(struct rdsbk_state *st, long *serial_out) {
    char *text;

    st->serial++;
    text = rdsbk_state_to_json(st);
    if (!text) {
        st->serial--;
        rdsbk_error_oom();
        return NULL;
    }
    *serial_out = st->serial;
    return text;
}

int rdsbk_state_write(struct rdsbk_state *st, const char *path, const char *text, long serial) {
    struct rdsbk_buf tmp = RDSBK_BUF_INIT;
    struct rdsbk_buf backup = RDSBK_BUF_INIT;
    struct rdsbk_state *on_disk = NULL;
    int fd = -1;
    size_t len;
    size_t done = 0;
    bool exists = false;
    int result = RDSBK_ERROR;
    int rc;

    /* 1. another run must not have written since we loaded: cheap when the file is just as we
     *    left it, else read it and compare */
    if (s_same_file(st, path)) {
        exists = true;
    } else {
        rc = rdsbk_state_load(&on_disk, path, NULL);
        if (rc == 0) {
            exists = true;
            if (strcmp(on_disk->lineage, st->lineage) != 0) {
                result = rdsbk_error_set(RDSBK_ECONFLICT,
                                         "%s now holds another state (lineage %s, ours %s); not "
                                         "overwriting it",
                                         path, on_disk->lineage, st->lineage);
                goto cleanup;
            }
            if (on_disk->serial != st->loaded_serial) {
                result = rdsbk_error_set(RDSBK_ECONFLICT,
                                         "%s was changed by another run (serial %ld, we loaded "
                                         "%ld); not overwriting it",
                                         path, on_disk->serial, st->loaded_serial);
                goto cleanup;
            }
        } else if (rc != RDSBK_ENOTFOUND || st->loaded_serial >= 0) {
            if (rc == RDSBK_ENOTFOUND)
                rc = rdsbk_error_set(RDSBK_ECONFLICT, "%s disappeared since it was read", path);
            result = rc;
            goto cleanup;
        }
    }

    /* 2. temporary file, 0600, fully written and synced */
    if (rdsbk_buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid()) ||
        rdsbk_buf_printf(&backup, "%s.backup", path)) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        result = rdsbk_error_set(RDSBK_EIO, "%s: %s", tmp.ptr, strerror(errno));
        goto cleanup;
    }
    len = strlen(text);
    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    if (done < len || write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
        result = rdsbk_error_set(RDSBK_EIO, "%s: writing: %s", tmp.ptr, strerror(errno));
        goto cleanup;
    }
    close(fd);
    fd = -1;

    /* 3. keep the previous version, then move the new one into place */
    if (exists && (unlink(backup.ptr) != 0 && errno != ENOENT)) {
        result = rdsbk_error_set(RDSBK_EIO, "%s: %s", backup.ptr, strerror(errno));
        goto cleanup;
    }
    if (exists && link(path, backup.ptr) != 0) {
        result = rdsbk_error_set(RDSBK_EIO, "%s: keeping the previous state: %s", backup.ptr,
                                 strerror(errno));
        goto cleanup;
    }
    if (rename(tmp.ptr, path) != 0) {
        result = rdsbk_error_set(RDSBK_EIO, "%s: %s", path, strerror(errno));
        goto cleanup;
    }
    st->loaded_serial = serial;
    {
        struct stat sb;
        if (stat(path, &sb) == 0)
            s_remember_file(st, &sb);
    }
    result = s_sync_dir(path);

cleanup:
    if (fd >= 0)
        close(fd);
    if (tmp.ptr && result)
        unlink(tmp.ptr);
    rdsbk_buf_clean_up(&tmp);
    rdsbk_buf_clean_up(&backup);
    rdsbk_state_free(on_disk);
    return result;
}

int rdsbk_state_save(struct rdsbk_state *st, const char *path) {
    long serial;
    char *text = rdsbk_state_render(st, &serial);
    int rc;

    if (!text)
        return RDSBK_ENOMEM;
    rc = rdsbk_state_write(st, path, text, serial);
    if (rc)
        st->serial--; /* nothing was written: the next save takes this serial again */
    free(text);
    return rc;
}
