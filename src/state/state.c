/* The state file: parse, serialise, atomic save with a backup. */
#include "rdsbk/state.h"
#include "state_private.h"

#include "rdsbk/buf.h"
#include "rdsbk/error.h"
#include "rdsbk/file.h"
#include "rdsbk/json_util.h"
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

int rdsbk_state_uuid(char out[37]) {
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

/* *out = a state of `stack` with `lineage` and `serial` (`loaded_serial`: the serial on disk, -1
 * for a new state), and a copy of `accounts` (not an object: none). */
static int s_state_new(struct rdsbk_state **out, const char *stack, const char *lineage,
                       long serial, long loaded_serial, const cJSON *accounts) {
    struct rdsbk_state *st = calloc(1, sizeof(*st));
    int rc;

    *out = NULL;
    RDSBK_CHECK_ALLOC(st);
    st->format_version = RDSBK_STATE_FORMAT;
    st->serial = serial;
    st->loaded_serial = loaded_serial;
    snprintf(st->lineage, sizeof(st->lineage), "%s", lineage);
    RDSBK_TRY(rdsbk_strdup_into(&st->stack, stack));
    st->accounts = cJSON_IsObject(accounts) ? cJSON_Duplicate(accounts, 1) : cJSON_CreateObject();
    RDSBK_CHECK_ALLOC(st->accounts);
    *out = st;
    st = NULL;

cleanup:
    rdsbk_state_free(st);
    return rc;
}

int rdsbk_state_new(struct rdsbk_state **out, const char *stack) {
    char lineage[37];
    int rc = rdsbk_state_uuid(lineage);

    *out = NULL;
    return rc ? rc : s_state_new(out, stack, lineage, 0, -1, NULL);
}

static void s_resource_clean_up(struct rdsbk_state_resource *r) {
    free(r->address);
    free(r->type);
    free(r->region);
    free(r->id);
    cJSON_Delete(r->attributes);
    rdsbk_strs_free(r->deps, r->n_deps);
    free(r->json);
    memset(r, 0, sizeof(*r));
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

/* *out = the resource as one line of JSON (caller frees). */
static int s_resource_json(char **out, const struct rdsbk_state_resource *r) {
    cJSON *o = cJSON_CreateObject();
    int rc;

    *out = NULL;
    RDSBK_CHECK_ALLOC(o);
    RDSBK_TRY(rdsbk_json_add_str(o, "address", r->address));
    RDSBK_TRY(rdsbk_json_add_str(o, "type", r->type));
    RDSBK_TRY(rdsbk_json_add_str(o, "account", r->account));
    RDSBK_TRY(rdsbk_json_add_str(o, "region", r->region));
    RDSBK_TRY(rdsbk_json_add_str(o, "id", r->id));
    /* a reference, not a copy: printed, not kept */
    RDSBK_TRY(rdsbk_json_add(o, "attributes", cJSON_CreateObjectReference(r->attributes->child)));
    RDSBK_TRY(rdsbk_json_add_strs(o, "dependencies", (const char *const *)r->deps, r->n_deps));
    rc = rdsbk_json_text(out, o);

cleanup:
    cJSON_Delete(o);
    return rc;
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

/* Copies the `n` dependencies `deps` into `r`. */
static int s_copy_deps(struct rdsbk_state_resource *r, char *const *deps, size_t n) {
    int rc = 0;

    if (n == 0)
        return 0;
    r->deps = calloc(n, sizeof(*r->deps));
    if (!r->deps)
        return rdsbk_error_oom();
    for (; r->n_deps < n && !rc; r->n_deps++)
        rc = rdsbk_strdup_into(&r->deps[r->n_deps], deps[r->n_deps]);
    return rc;
}

/* Inserts `r` (taken over on success) at `pos`. */
static int s_insert(struct rdsbk_state *st, size_t pos, const struct rdsbk_state_resource *r) {
    if (st->n_resources == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 32;
        struct rdsbk_state_resource *grown = realloc(st->resources, cap * sizeof(*grown));
        if (!grown)
            return rdsbk_error_oom();
        st->resources = grown;
        st->cap = cap;
    }
    memmove(&st->resources[pos + 1], &st->resources[pos],
            (st->n_resources - pos) * sizeof(*st->resources));
    st->resources[pos] = *r;
    st->n_resources++;
    return 0;
}

int rdsbk_state_put(struct rdsbk_state *st, const char *address, const char *type,
                    const char *account, const char *region, const char *id,
                    const cJSON *attributes, char *const *deps, size_t n_deps) {
    struct rdsbk_state_resource r;
    struct rdsbk_state_resource *existing;
    size_t pos;
    int rc;

    memset(&r, 0, sizeof(r));
    snprintf(r.account, sizeof(r.account), "%s", account ? account : "");
    RDSBK_TRY(rdsbk_strdup_into(&r.address, address));
    RDSBK_TRY(rdsbk_strdup_into(&r.type, type));
    RDSBK_TRY(rdsbk_strdup_into(&r.region, region));
    RDSBK_TRY(rdsbk_strdup_into(&r.id, id));
    r.attributes = attributes ? cJSON_Duplicate(attributes, 1) : cJSON_CreateObject();
    RDSBK_CHECK_ALLOC(r.attributes);
    RDSBK_TRY(s_copy_deps(&r, deps, n_deps));
    RDSBK_TRY(s_resource_json(&r.json, &r));
    existing = s_find(st, address, &pos);
    if (existing) {
        s_resource_clean_up(existing);
        *existing = r;
    } else {
        RDSBK_TRY(s_insert(st, pos, &r));
    }
    memset(&r, 0, sizeof(r)); /* the state's now */

cleanup:
    s_resource_clean_up(&r);
    return rc;
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

/* *out = `s` as JSON text: quoted and escaped (caller frees). */
static int s_string_json(char **out, const char *s) {
    cJSON *v = cJSON_CreateString(s);
    int rc;

    *out = NULL;
    rc = v ? rdsbk_json_text(out, v) : rdsbk_error_oom();
    cJSON_Delete(v);
    return rc;
}

/*
 * The state is written many times a run, so this only joins: each resource's line was made when
 * it was put.
 */
static int s_render(struct rdsbk_buf *out, const struct rdsbk_state *st) {
    char *lineage = NULL;
    char *stack = NULL;
    char *accounts = NULL;
    /* the document around the resources, with room: the header and about 100 bytes an account */
    size_t size = 1024 + strlen(st->stack) + 256 * (size_t)cJSON_GetArraySize(st->accounts);
    int rc;

    /* the size first, so that a state of a thousand resources is one allocation, not twenty */
    for (size_t i = 0; i < st->n_resources; i++)
        size += strlen(st->resources[i].json) + 6;
    RDSBK_TRY(rdsbk_buf_reserve(out, size));
    RDSBK_TRY(s_string_json(&lineage, st->lineage));
    RDSBK_TRY(s_string_json(&stack, st->stack));
    RDSBK_TRY(st->accounts ? rdsbk_json_text(&accounts, st->accounts)
                           : rdsbk_strdup_into(&accounts, "{}"));
    RDSBK_TRY(rdsbk_buf_printf(out,
                               "{\n  \"format_version\": %d,\n  \"serial\": %ld,\n"
                               "  \"lineage\": %s,\n  \"stack\": %s,\n"
                               "  \"tool_version\": \"" RDSBK_VERSION "\",\n"
                               "  \"accounts\": %s,\n  \"resources\": [",
                               st->format_version, st->serial, lineage, stack, accounts));
    for (size_t i = 0; i < st->n_resources; i++) {
        RDSBK_TRY(rdsbk_buf_adds(out, i ? ",\n    " : "\n    "));
        RDSBK_TRY(rdsbk_buf_adds(out, st->resources[i].json));
    }
    rc = rdsbk_buf_adds(out, st->n_resources ? "\n  ]\n}" : "]\n}");

cleanup:
    free(lineage);
    free(stack);
    free(accounts);
    return rc;
}

char *rdsbk_state_to_json(const struct rdsbk_state *st) {
    struct rdsbk_buf out = RDSBK_BUF_INIT;

    if (s_render(&out, st)) {
        rdsbk_buf_clean_up(&out);
        return NULL;
    }
    return rdsbk_buf_detach(&out);
}

/* What is being parsed, for messages: its name, and where an earlier version may be found
 * (NULL: a file's backup, PATH.backup). */
struct s_source {
    const char *name;
    const char *recovery;
};

/* "damaged" message with the hint of where the previous version is. */
static int s_damaged(const struct s_source *src, const char *what) {
    if (src->recovery)
        return rdsbk_error_set(RDSBK_EINVALID, "%s: the state is damaged (%s); %s", src->name, what,
                               src->recovery);
    return rdsbk_error_set(RDSBK_EINVALID,
                           "%s: the state file is damaged (%s); the previous version is kept in "
                           "%s.backup: inspect it, and copy it over %s only if it is right",
                           src->name, what, src->name, src->name);
}

/* *root = the document of `text`: one JSON object and nothing after it. */
static int s_parse_document(cJSON **root, const char *text, size_t len,
                            const struct s_source *name) {
    const char *end = NULL;
    cJSON *doc = NULL;
    int rc = 0;

    *root = NULL;
    /* cJSON skips NUL bytes as whitespace and stops at the end of the first value: a state with
     * NULs in it, or anything after the document, is damaged, not whole */
    if (len > 0 && memchr(text, '\0', len)) {
        rc = s_damaged(name, "NUL bytes in it");
        goto cleanup;
    }
    doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!doc || !cJSON_IsObject(doc)) {
        rc = s_damaged(name, len == 0 ? "it is empty" : "not valid JSON");
        goto cleanup;
    }
    while (end && end < text + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (!end || end != text + len) {
        rc = s_damaged(name, "data after the JSON document");
        goto cleanup;
    }
    *root = doc;
    doc = NULL;

cleanup:
    cJSON_Delete(doc);
    return rc;
}

/* Whether the document has a serial and a lineage. */
static bool s_has_serial(const cJSON *root) {
    const cJSON *serial = cJSON_GetObjectItemCaseSensitive(root, "serial");
    const char *lineage = rdsbk_json_str(root, "lineage");

    /* 2^53: beyond it a serial is not an exact integer (and a cast to long may overflow) */
    return cJSON_IsNumber(serial) && serial->valuedouble >= 0 &&
           serial->valuedouble <= 9007199254740992.0 && lineage && strlen(lineage) == 36;
}

/* The document's header: a format this release reads, its stack (`stack`; NULL: any), a serial
 * and a lineage. */
static int s_check_header(const cJSON *root, const struct s_source *src, const char *stack) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "format_version");
    const char *s = rdsbk_json_str(root, "stack");
    const char *tool = rdsbk_json_str(root, "tool_version");

    if (!cJSON_IsNumber(v))
        return s_damaged(src, "no format_version");
    if (v->valuedouble > RDSBK_STATE_FORMAT)
        return rdsbk_error_set(RDSBK_EINVALID,
                               "%s: state format %d is newer than this rdsbk-provision reads "
                               "(%d); use the release that wrote it (%s)",
                               src->name, v->valueint, RDSBK_STATE_FORMAT, tool ? tool : "unknown");
    if (v->valuedouble < 1 || v->valuedouble != (double)v->valueint)
        return s_damaged(src, "bad format_version");
    if (!s)
        return s_damaged(src, "no stack");
    if (stack && strcmp(s, stack) != 0)
        return rdsbk_error_set(RDSBK_EINVALID,
                               "%s: this state belongs to stack '%s', not '%s'; point --state at "
                               "the state of '%s'",
                               src->name, s, stack, stack);
    if (!s_has_serial(root))
        return s_damaged(src, "no serial or lineage");
    return 0;
}

/* Damage in resource `item` (number `index`): "resources[3] (iam_role.copy) <problem> "<field>"",
 * the address made safe to print. */
static int s_resource_damaged(const struct s_source *name, const cJSON *item, size_t index,
                              const char *problem, const char *field) {
    const char *address = rdsbk_json_str(item, "address");
    char shown[160] = "";
    char what[320];

    if (address && *address)
        rdsbk_str_escape_terminal(shown, sizeof(shown), address);
    snprintf(what, sizeof(what), "resources[%zu]%s%s%s %s%s%s%s", index, *shown ? " (" : "", shown,
             *shown ? ")" : "", problem, field ? " \"" : "", field ? field : "", field ? "\"" : "");
    return s_damaged(name, what);
}

static bool s_is_account(const char *s) {
    size_t n = 0;

    while (s[n] >= '0' && s[n] <= '9')
        n++;
    return n == RDSBK_ACCOUNT_LEN && s[n] == '\0';
}

/* The fields of resource `item` (number `index`) that the engine relies on: each a string, all but
 * the id non-empty (a resource known by its name may have an empty id), the account 12 digits,
 * the attributes an object. Damage otherwise, naming the resource and the field. */
static int s_check_resource(const cJSON *item, size_t index, const struct s_source *name) {
    static const char *const fields[] = {"address", "type", "account", "region", "id"};
    const cJSON *deps = cJSON_GetObjectItemCaseSensitive(item, "dependencies");
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(item, "attributes");

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        const char *v = rdsbk_json_str(item, fields[i]);
        if (!cJSON_GetObjectItemCaseSensitive(item, fields[i]))
            return s_resource_damaged(name, item, index, "has no", fields[i]);
        if (!v || (!*v && strcmp(fields[i], "id") != 0))
            return s_resource_damaged(name, item, index, v ? "has an empty" : "has a bad",
                                      fields[i]);
    }
    if (!s_is_account(rdsbk_json_str(item, "account")))
        return s_resource_damaged(name, item, index, "has an \"account\" that is not 12 digits",
                                  NULL);
    if (!cJSON_IsObject(attrs))
        return s_resource_damaged(name, item, index, attrs ? "has a bad" : "has no", "attributes");
    if (deps && !cJSON_IsArray(deps))
        return s_resource_damaged(name, item, index, "has a bad", "dependencies");
    return 0;
}

/* Puts resource `item` (number `index`) of the document into `st`. */
static int s_parse_resource(struct rdsbk_state *st, const cJSON *item, size_t index,
                            const struct s_source *name) {
    const char *address = rdsbk_json_str(item, "address");
    const cJSON *deps = cJSON_GetObjectItemCaseSensitive(item, "dependencies");
    const cJSON *dep;
    char *dep_list[64];
    size_t n_deps = 0;
    int rc = s_check_resource(item, index, name);

    if (rc)
        return rc;
    if (rdsbk_state_find(st, address))
        return s_resource_damaged(name, item, index, "is listed twice", NULL);
    cJSON_ArrayForEach(dep, deps) {
        if (!cJSON_IsString(dep) || n_deps == sizeof(dep_list) / sizeof(dep_list[0]))
            return s_resource_damaged(name, item, index, "has a bad", "dependencies");
        dep_list[n_deps++] = dep->valuestring;
    }
    return rdsbk_state_put(st, address, rdsbk_json_str(item, "type"),
                           rdsbk_json_str(item, "account"), rdsbk_json_str(item, "region"),
                           rdsbk_json_str(item, "id"),
                           cJSON_GetObjectItemCaseSensitive(item, "attributes"), dep_list, n_deps);
}

int rdsbk_state_parse_from(struct rdsbk_state **out, const char *text, size_t len, const char *name,
                           const char *stack, const char *recovery) {
    const struct s_source src = {name, recovery};
    cJSON *root = NULL;
    struct rdsbk_state *st = NULL;
    const cJSON *list;
    const cJSON *item;
    size_t index = 0;
    long serial;
    int rc;

    *out = NULL;
    RDSBK_TRY(s_parse_document(&root, text, len, &src));
    RDSBK_TRY(s_check_header(root, &src, stack));
    serial = (long)cJSON_GetObjectItemCaseSensitive(root, "serial")->valuedouble;
    RDSBK_TRY(s_state_new(&st, rdsbk_json_str(root, "stack"), rdsbk_json_str(root, "lineage"),
                          serial, serial, cJSON_GetObjectItemCaseSensitive(root, "accounts")));
    list = cJSON_GetObjectItemCaseSensitive(root, "resources");
    if (!cJSON_IsArray(list)) {
        rc = s_damaged(&src, "no resource list");
        goto cleanup;
    }
    cJSON_ArrayForEach(item, list) {
        RDSBK_TRY(s_parse_resource(st, item, index++, &src));
    }
    *out = st;
    st = NULL;

cleanup:
    cJSON_Delete(root);
    rdsbk_state_free(st);
    return rc;
}

int rdsbk_state_parse(struct rdsbk_state **out, const char *text, size_t len, const char *name,
                      const char *stack) {
    return rdsbk_state_parse_from(out, text, len, name, stack, NULL);
}

static void s_remember_file(struct rdsbk_state *st, const struct stat *sb) {
    st->file.valid = true;
    st->file.dev = sb->st_dev;
    st->file.ino = sb->st_ino;
    st->file.size = sb->st_size;
    st->file.mtime_s = (long)sb->st_mtim.tv_sec;
    st->file.mtime_ns = (long)sb->st_mtim.tv_nsec;
}

/* lstat: a link put in the file's place is not the file (the load that follows refuses it). */
static bool s_same_file(const struct rdsbk_state *st, const char *path) {
    struct stat sb;

    return st->file.valid && lstat(path, &sb) == 0 && sb.st_dev == st->file.dev &&
           sb.st_ino == st->file.ino && sb.st_size == st->file.size &&
           (long)sb.st_mtim.tv_sec == st->file.mtime_s &&
           (long)sb.st_mtim.tv_nsec == st->file.mtime_ns;
}

int rdsbk_state_read_file(char **text_out, size_t *len_out, struct stat *sb, const char *path) {
    struct rdsbk_buf buf;
    char chunk[65536];
    FILE *f = NULL;
    int fd;
    size_t n;
    int rc;

    *text_out = NULL;
    rdsbk_buf_init(&buf, RDSBK_STATE_MAX_SIZE);
    RDSBK_TRY(rdsbk_file_open_regular(&fd, path, RDSBK_STATE_PATH_ADVICE));
    if (fstat(fd, sb) != 0)
        memset(sb, 0, sizeof(*sb));
    f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        rc = rdsbk_error_set(RDSBK_EIO, "%s: %s", path, strerror(errno));
        goto cleanup;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        RDSBK_TRY(rdsbk_buf_add(&buf, chunk, n));
    if (ferror(f)) {
        rc = rdsbk_error_set(RDSBK_EIO, "%s: %s", path, strerror(errno));
        goto cleanup;
    }
    *len_out = rdsbk_buf_len(&buf);
    *text_out = rdsbk_buf_detach(&buf);
    RDSBK_CHECK_ALLOC(*text_out);

cleanup:
    if (f)
        fclose(f);
    rdsbk_buf_clean_up(&buf);
    return rc;
}

int rdsbk_state_load(struct rdsbk_state **out, const char *path, const char *stack) {
    char *text = NULL;
    size_t len = 0;
    struct stat sb;
    int rc;

    *out = NULL;
    rc = rdsbk_state_read_file(&text, &len, &sb, path);
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

/* 1. Another run must not have written since we loaded: cheap when the file is just as we left
 *    it, else read it and compare. *exists: whether there is a file, to keep as the backup. */
static int s_check_unchanged(bool *exists, const struct rdsbk_state *st, const char *path) {
    struct rdsbk_state *on_disk = NULL;
    int rc = 0;

    *exists = s_same_file(st, path);
    if (*exists)
        goto cleanup;
    rc = rdsbk_state_load(&on_disk, path, NULL);
    if (rc == RDSBK_ENOTFOUND) {
        /* no file: as it should be for a new state, not for one that was read from it */
        rc = st->loaded_serial < 0
                 ? 0
                 : rdsbk_error_set(RDSBK_ECONFLICT, "%s disappeared since it was read", path);
        goto cleanup;
    }
    if (rc)
        goto cleanup;
    *exists = true;
    if (strcmp(on_disk->lineage, st->lineage) != 0)
        rc = rdsbk_error_set(RDSBK_ECONFLICT,
                             "%s now holds another state (lineage %s, ours %s); not overwriting it",
                             path, on_disk->lineage, st->lineage);
    else if (on_disk->serial != st->loaded_serial)
        rc = rdsbk_error_set(RDSBK_ECONFLICT,
                             "%s was changed by another run (serial %ld, we loaded %ld); not "
                             "overwriting it",
                             path, on_disk->serial, st->loaded_serial);

cleanup:
    rdsbk_state_free(on_disk);
    return rc;
}

/* 2. The temporary file `tmp`, 0600: `text` and a newline, fully written and synced. Its name is
 *    predictable: it is created anew (O_EXCL|O_NOFOLLOW), never written through a link. */
static int s_write_temp(const char *tmp, const char *text) {
    int fd;
    int rc = rdsbk_file_create_new(&fd, tmp);

    if (rc)
        return rc;
    rc = rdsbk_file_write_all(fd, text, strlen(text), tmp);
    if (rc == 0)
        rc = rdsbk_file_write_all(fd, "\n", 1, tmp);
    if (rc == 0 && fsync(fd) != 0)
        rc = rdsbk_error_set(RDSBK_EIO, "%s: writing: %s", tmp, strerror(errno));
    close(fd);
    return rc;
}

/* 3. Keep the previous version (when there is one), then move the new one into place. */
static int s_replace(const char *path, const char *tmp, const char *backup, bool exists) {
    if (exists && (unlink(backup) != 0 && errno != ENOENT))
        return rdsbk_error_set(RDSBK_EIO, "%s: %s", backup, strerror(errno));
    if (exists && link(path, backup) != 0)
        return rdsbk_error_set(RDSBK_EIO, "%s: keeping the previous state: %s", backup,
                               strerror(errno));
    if (rename(tmp, path) != 0)
        return rdsbk_error_set(RDSBK_EIO, "%s: %s", path, strerror(errno));
    return 0;
}

int rdsbk_state_write(struct rdsbk_state *st, const char *path, const char *text, long serial) {
    char *tmp = NULL;
    char *backup = NULL;
    bool exists;
    struct stat sb;
    int rc;

    RDSBK_TRY(s_check_unchanged(&exists, st, path));
    RDSBK_TRY(rdsbk_strfmt(&tmp, "%s.tmp.%ld", path, (long)getpid()));
    RDSBK_TRY(rdsbk_strfmt(&backup, "%s.backup", path));
    RDSBK_TRY(s_write_temp(tmp, text));
    RDSBK_TRY(s_replace(path, tmp, backup, exists));
    st->loaded_serial = serial;
    if (stat(path, &sb) == 0)
        s_remember_file(st, &sb);
    rc = s_sync_dir(path);

cleanup:
    if (tmp && rc)
        unlink(tmp);
    free(tmp);
    free(backup);
    return rc;
}

int rdsbk_state_save_with(struct rdsbk_state *st, rdsbk_state_write_fn write, void *payload) {
    long serial;
    char *text = rdsbk_state_render(st, &serial);
    int rc;

    if (!text)
        return RDSBK_ENOMEM;
    rc = write(payload, st, text, serial);
    if (rc)
        st->serial--; /* nothing was written: the next save takes this serial again */
    free(text);
    return rc;
}

static int s_write_file(void *path, struct rdsbk_state *st, const char *text, long serial) {
    return rdsbk_state_write(st, path, text, serial);
}

int rdsbk_state_save(struct rdsbk_state *st, const char *path) {
    return rdsbk_state_save_with(st, s_write_file, (void *)path);
}
