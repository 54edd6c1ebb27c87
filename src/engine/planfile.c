/*
 * Saved plans (plan --out FILE, apply FILE): the stack, the state's lineage and serial, the
 * topology's SHA-256 and every action, so that apply does exactly that plan or refuses it when
 * the state, the topology or AWS changed since.
 */
#include "engine_internal.h"

#include "rdsbk/buf.h"
#include "rdsbk/error.h"
#include "rdsbk/file.h"
#include "rdsbk/json_util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int rdsbk_engine_topology_digest(char out[65], const char *path) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned char chunk[65536];
    unsigned int len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    FILE *f = fopen(path, "rb");
    size_t n;
    int rc = 0;

    if (!f || !ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
        rc = f ? rdsbk_error_set(RDSBK_ERROR, "SHA-256 unavailable")
               : rdsbk_error_set(RDSBK_EIO, "%s: %s", path, strerror(errno));
        goto cleanup;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        EVP_DigestUpdate(ctx, chunk, n);
    EVP_DigestFinal_ex(ctx, digest, &len);
    for (unsigned int i = 0; i < len && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);

cleanup:
    if (f)
        fclose(f);
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* The actions of a plan as {"address": "action"}. */
static cJSON *s_actions(const struct rdsbk_engine *e) {
    cJSON *o = cJSON_CreateObject();

    for (size_t i = 0; o && i < e->n_changes; i++)
        if (e->changes[i].action != RDSBK_ACTION_NOOP)
            cJSON_AddStringToObject(o, e->changes[i].address,
                                    rdsbk_action_name(e->changes[i].action));
    return o;
}

/* The lineage a plan records: a plan made before any state exists expects none at apply. */
static const char *s_lineage(const struct rdsbk_engine *e) {
    return e->state->loaded_serial < 0 ? "" : e->state->lineage;
}

int rdsbk_planfile_write(const struct rdsbk_engine *e, const char *path) {
    cJSON *root = cJSON_CreateObject();
    char digest[65];
    char *text = NULL;
    int rc;

    RDSBK_CHECK_ALLOC(root);
    RDSBK_TRY(rdsbk_engine_topology_digest(digest, e->topo->path));
    cJSON_AddNumberToObject(root, "format_version", 1);
    cJSON_AddStringToObject(root, "stack", e->topo->stack);
    cJSON_AddStringToObject(root, "lineage", s_lineage(e));
    cJSON_AddNumberToObject(root, "serial", (double)e->state->loaded_serial);
    cJSON_AddStringToObject(root, "topology_sha256", digest);
    cJSON_AddItemToObject(root, "actions", s_actions(e));
    text = cJSON_Print(root);
    RDSBK_CHECK_ALLOC(text);
    /* a new file, 0600 even over an old plan of another mode */
    rc = rdsbk_file_replace(path, text, strlen(text));

cleanup:
    free(text);
    cJSON_Delete(root);
    return rc;
}

/* Reads the saved plan at `path` into *out (caller deletes). */
static int s_read(cJSON **out, const char *path) {
    struct rdsbk_buf text = RDSBK_BUF_INIT;
    char chunk[4096];
    FILE *f = fopen(path, "rb");
    size_t n;
    int rc = 0;

    *out = NULL;
    if (!f)
        return rdsbk_error_set(RDSBK_EIO, "%s: %s", path, strerror(errno));
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = rdsbk_buf_add(&text, chunk, n);
    fclose(f);
    if (rc == 0)
        *out = cJSON_Parse(rdsbk_buf_cstr(&text));
    rdsbk_buf_clean_up(&text);
    if (rc == 0 && !cJSON_IsString(cJSON_GetObjectItem(*out, "lineage")))
        rc = rdsbk_error_set(RDSBK_EINVALID, "%s is not a saved plan", path);
    return rc;
}

/* Whether the plan was made for this stack from this state. */
static int s_check_origin(const struct rdsbk_engine *e, const cJSON *root, const char *path) {
    const char *stack = rdsbk_json_str(root, "stack");
    const cJSON *serial = cJSON_GetObjectItem(root, "serial");

    if (!stack || strcmp(stack, e->topo->stack) != 0)
        return rdsbk_error_set(RDSBK_EINVALID, "%s is a plan for another stack", path);
    if (strcmp(rdsbk_json_str(root, "lineage"), s_lineage(e)) != 0 || !cJSON_IsNumber(serial) ||
        (long)serial->valuedouble != e->state->loaded_serial)
        return rdsbk_error_set(RDSBK_ECONFLICT,
                               "%s is stale: the state changed since it was made (serial %ld "
                               "now); run plan again",
                               path, e->state->serial);
    return 0;
}

int rdsbk_planfile_check(const struct rdsbk_engine *e, const char *path) {
    cJSON *root = NULL;
    cJSON *now = NULL;
    char digest[65];
    int rc;

    RDSBK_TRY(s_read(&root, path));
    RDSBK_TRY(s_check_origin(e, root, path));
    RDSBK_TRY(rdsbk_engine_topology_digest(digest, e->topo->path));
    if (!rdsbk_json_str(root, "topology_sha256") ||
        strcmp(rdsbk_json_str(root, "topology_sha256"), digest) != 0) {
        rc = rdsbk_error_set(RDSBK_ECONFLICT,
                             "%s is stale: %s changed since it was made; run plan again", path,
                             e->topo->path);
        goto cleanup;
    }
    now = s_actions(e);
    if (!now || !cJSON_Compare(now, cJSON_GetObjectItem(root, "actions"), 1))
        rc = rdsbk_error_set(RDSBK_ECONFLICT,
                             "%s is stale: AWS changed since it was made, and applying now "
                             "would do something else; run plan again",
                             path);

cleanup:
    cJSON_Delete(root);
    cJSON_Delete(now);
    return rc;
}
