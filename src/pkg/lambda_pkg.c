/* The Lambda deployment packages: a function's handler module and the common module, zipped. */
#include "rdsbk/lambda_pkg.h"
#include "rdsbk/error.h"
#include "rdsbk/templates.h"
#include "rdsbk/zip.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define S_COMMON_TEMPLATE "lambda/rdsbk_common.py"
#define S_COMMON_ENTRY "rdsbk_common.py"

/* function name -> handler module; the module file is templates/lambda/<module>.py */
static const struct {
    const char *function;
    const char *module;
    const char *handler;
} s_functions[] = {
    {"copy", "copy_snapshot", "copy_snapshot.handler"},
    {"share", "share", "share.handler"},
    {"backup-copy", "backup_copy", "backup_copy.handler"},
};

static int s_unknown(const char *function) {
    return rdsbk_error_set(RDSBK_EINVALID, "unknown Lambda function '%s'",
                           function ? function : "(null)");
}

/* Index of `function` in s_functions, or -1. */
static int s_find(const char *function) {
    for (size_t i = 0; function && i < sizeof(s_functions) / sizeof(s_functions[0]); i++)
        if (strcmp(function, s_functions[i].function) == 0)
            return (int)i;
    return -1;
}

const char *rdsbk_lambda_handler(const char *function) {
    int i = s_find(function);
    return i < 0 ? NULL : s_functions[i].handler;
}

const char *rdsbk_lambda_runtime(void) {
    return "python3.12";
}

int rdsbk_lambda_code_sha256(char out[RDSBK_CODE_SHA256_LEN + 1], const void *data, size_t len) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;

    out[0] = '\0';
    if (EVP_Digest(data, len, digest, &digest_len, EVP_sha256(), NULL) != 1 || digest_len != 32)
        return rdsbk_error_set(RDSBK_ERROR, "SHA-256 failed");
    /* EVP_EncodeBlock writes 4 * ceil(32 / 3) = 44 characters and a NUL. */
    if (EVP_EncodeBlock((unsigned char *)out, digest, (int)digest_len) != RDSBK_CODE_SHA256_LEN) {
        out[0] = '\0';
        return rdsbk_error_set(RDSBK_ERROR, "base64 encoding failed");
    }
    return 0;
}

int rdsbk_lambda_package(struct rdsbk_buf *zip_out, char code_sha256_out[RDSBK_CODE_SHA256_LEN + 1],
                         const char *function) {
    char handler_path[128];
    char handler_entry[96];
    const struct rdsbk_template *handler_tpl;
    const struct rdsbk_template *common_tpl;
    struct rdsbk_zip_entry entries[2];
    int i = s_find(function);
    int rc;

    code_sha256_out[0] = '\0';
    rdsbk_buf_reset(zip_out);
    if (i < 0)
        return s_unknown(function);
    snprintf(handler_path, sizeof(handler_path), "lambda/%s.py", s_functions[i].module);
    snprintf(handler_entry, sizeof(handler_entry), "%s.py", s_functions[i].module);
    handler_tpl = rdsbk_template_find(handler_path);
    common_tpl = rdsbk_template_find(S_COMMON_TEMPLATE);
    if (!handler_tpl || !common_tpl)
        return rdsbk_error_set(RDSBK_ENOTFOUND, "template %s is not built into this binary",
                               handler_tpl ? S_COMMON_TEMPLATE : handler_path);
    entries[0] = (struct rdsbk_zip_entry){handler_entry, handler_tpl->data, handler_tpl->size};
    entries[1] = (struct rdsbk_zip_entry){S_COMMON_ENTRY, common_tpl->data, common_tpl->size};
    RDSBK_TRY(rdsbk_zip_build(zip_out, entries, 2));
    rc = rdsbk_lambda_code_sha256(code_sha256_out, rdsbk_buf_cstr(zip_out), rdsbk_buf_len(zip_out));

cleanup:
    if (rc)
        rdsbk_buf_reset(zip_out);
    return rc;
}

/*
 * Each package as built the first time it was asked for: the same bytes every time (templates
 * built in, fixed timestamps and order). The model wants each package's CodeSha256 and apply its
 * bytes for every CreateFunction: a 50-source apply had deflated the same three zips 101 times
 * at level 9, up to three at once (256 KB of zlib state each, 0.8 MB of the run's peak, massif).
 */
static pthread_mutex_t s_built_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    bool done;
    struct rdsbk_buf zip;
    char sha[RDSBK_CODE_SHA256_LEN + 1];
} s_built[sizeof(s_functions) / sizeof(s_functions[0])];

int rdsbk_lambda_package_cached(struct rdsbk_buf *zip_out,
                                char code_sha256_out[RDSBK_CODE_SHA256_LEN + 1],
                                const char *function) {
    int i = s_find(function);
    int rc = 0;

    code_sha256_out[0] = '\0';
    if (zip_out)
        rdsbk_buf_reset(zip_out);
    if (i < 0)
        return s_unknown(function);
    pthread_mutex_lock(&s_built_lock);
    if (!s_built[i].done)
        rc = rdsbk_lambda_package(&s_built[i].zip, s_built[i].sha, function);
    s_built[i].done = rc == 0;
    if (rc == 0 && zip_out)
        rc =
            rdsbk_buf_add(zip_out, rdsbk_buf_cstr(&s_built[i].zip), rdsbk_buf_len(&s_built[i].zip));
    if (rc == 0)
        memcpy(code_sha256_out, s_built[i].sha, sizeof(s_built[i].sha));
    pthread_mutex_unlock(&s_built_lock);
    return rc;
}
