/* The deterministic zip writer of rdsbk/zip.h (APPNOTE.TXT: stored and deflated entries only). */
#include "rdsbk/zip.h"
#include "rdsbk/error.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Fixed fields (APPNOTE.TXT 4.4). */
#define S_SIG_LOCAL 0x04034b50u
#define S_SIG_CENTRAL 0x02014b50u
#define S_SIG_END 0x06054b50u
#define S_VERSION_NEEDED 20u                /* 2.0: deflate */
#define S_VERSION_MADE_BY ((3u << 8) | 20u) /* Unix, spec 2.0 */
#define S_METHOD_STORED 0u
#define S_METHOD_DEFLATE 8u
#define S_DOS_TIME 0x0000u                     /* 00:00:00 */
#define S_DOS_DATE ((0u << 9) | (1u << 5) | 1) /* 1980-01-01 */
#define S_EXTERNAL_ATTR (0100644u << 16)       /* S_IFREG | 0644 in the high half */
#define S_MAX_ENTRIES 0xffffu
#define S_MAX_FIELD 0xffffffffu

/* What the central directory needs to know about an entry written earlier. */
struct s_written {
    const char *name;
    uint16_t name_len;
    uint16_t method;
    uint32_t crc;
    uint32_t csize;
    uint32_t usize;
    uint32_t offset;
};

static int s_compare_entries(const void *a, const void *b) {
    const struct rdsbk_zip_entry *const *ea = a;
    const struct rdsbk_zip_entry *const *eb = b;
    return strcmp((*ea)->name, (*eb)->name);
}

/* A little-endian field of a zip record: 2 or 4 bytes. */
struct s_field {
    size_t width;
    uint32_t value;
};

static int s_put(struct rdsbk_buf *out, const struct s_field *fields, size_t n) {
    int rc = 0;

    for (size_t i = 0; i < n && !rc; i++) {
        uint32_t v = fields[i].value;
        unsigned char b[4] = {(unsigned char)(v & 0xff), (unsigned char)((v >> 8) & 0xff),
                              (unsigned char)((v >> 16) & 0xff), (unsigned char)((v >> 24) & 0xff)};
        rc = rdsbk_buf_add(out, b, fields[i].width);
    }
    return rc;
}

#define S_PUT(out, fields) s_put((out), (fields), sizeof(fields) / sizeof((fields)[0]))

/* 0 when `value` fits a 4-byte field; else RDSBK_EINVALID (a zip of 4 GiB or more). */
static int s_check_field(size_t value) {
    if (value > S_MAX_FIELD)
        return rdsbk_error_set(RDSBK_EINVALID, "zip would exceed 4 GiB (ZIP64 needed)");
    return 0;
}

/* A name is a relative '/'-separated path with no empty, "." or ".." part. */
static int s_check_name(const char *name) {
    size_t len = name ? strlen(name) : 0;
    const char *part = name;

    if (len == 0 || len > 0xffff)
        return rdsbk_error_set(RDSBK_EINVALID, "zip entry name is empty or too long");
    while (part) {
        const char *slash = strchr(part, '/');
        size_t n = slash ? (size_t)(slash - part) : strlen(part);
        if (n == 0 || (n == 1 && part[0] == '.') || (n == 2 && part[0] == '.' && part[1] == '.'))
            return rdsbk_error_set(RDSBK_EINVALID, "zip entry name '%s' is not a relative path",
                                   name);
        part = slash ? slash + 1 : NULL;
    }
    return 0;
}

/* *out = the entries, checked and sorted by name (the caller frees the array). RDSBK_EINVALID for
 * a bad or duplicate name or a size needing ZIP64. */
static int s_sorted(const struct rdsbk_zip_entry ***out, const struct rdsbk_zip_entry *entries,
                    size_t count) {
    const struct rdsbk_zip_entry **sorted = calloc(count ? count : 1, sizeof(*sorted));
    int rc = 0;

    RDSBK_CHECK_ALLOC(sorted);
    for (size_t i = 0; i < count; i++) {
        RDSBK_TRY(s_check_name(entries[i].name));
        if (entries[i].size > S_MAX_FIELD || (entries[i].size && !entries[i].data)) {
            rc = rdsbk_error_set(RDSBK_EINVALID, "zip entry '%s' is too large (ZIP64 needed)",
                                 entries[i].name);
            goto cleanup;
        }
        sorted[i] = &entries[i];
    }
    if (count > 1)
        qsort(sorted, count, sizeof(*sorted), s_compare_entries);
    for (size_t i = 1; i < count; i++) {
        if (strcmp(sorted[i - 1]->name, sorted[i]->name) == 0) {
            rc = rdsbk_error_set(RDSBK_EINVALID, "duplicate zip entry '%s'", sorted[i]->name);
            goto cleanup;
        }
    }
    *out = sorted;
    sorted = NULL;

cleanup:
    free(sorted);
    return rc;
}

/*
 * Raw-deflates `data` into a new malloc()ed block (*out, *out_len). The caller frees *out.
 */
static int s_deflate(unsigned char **out, size_t *out_len, const void *data, size_t size) {
    z_stream zs;
    unsigned char *dst = NULL;
    uLong bound;
    int zinit = 0;
    int zrc;
    int rc = 0;

    memset(&zs, 0, sizeof(zs));
    *out = NULL;
    *out_len = 0;
    zrc = deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    if (zrc != Z_OK) {
        rc = rdsbk_error_set(RDSBK_ERROR, "zlib deflateInit2 failed (%d)", zrc);
        goto cleanup;
    }
    zinit = 1;
    bound = deflateBound(&zs, (uLong)size);
    dst = malloc(bound ? bound : 1);
    RDSBK_CHECK_ALLOC(dst);
    /* zlib's API is not const-correct; it never writes through next_in. */
    zs.next_in = (Bytef *)(uintptr_t)data;
    zs.avail_in = (uInt)size;
    zs.next_out = dst;
    zs.avail_out = (uInt)bound;
    zrc = deflate(&zs, Z_FINISH);
    if (zrc != Z_STREAM_END) {
        rc = rdsbk_error_set(RDSBK_ERROR, "zlib deflate failed (%d)", zrc);
        goto cleanup;
    }
    *out = dst;
    *out_len = (size_t)zs.total_out;
    dst = NULL;

cleanup:
    if (zinit)
        deflateEnd(&zs);
    free(dst);
    return rc;
}

/* From "version needed to extract" to "extra field length": the same in a local header (APPNOTE
 * 4.3.7) and in a central directory header (4.3.12). */
static int s_write_common(struct rdsbk_buf *out, const struct s_written *w) {
    const struct s_field fields[] = {
        {2, S_VERSION_NEEDED}, /* version needed to extract */
        {2, 0},                /* general purpose flags */
        {2, w->method},        /* compression method */
        {2, S_DOS_TIME},       /* last mod file time */
        {2, S_DOS_DATE},       /* last mod file date */
        {4, w->crc},           /* crc-32 */
        {4, w->csize},         /* compressed size */
        {4, w->usize},         /* uncompressed size */
        {2, w->name_len},      /* file name length */
        {2, 0},                /* extra field length */
    };

    return S_PUT(out, fields);
}

/* Local file header (APPNOTE 4.3.7), then the data. */
static int s_write_local(struct rdsbk_buf *out, const struct s_written *w, const void *data) {
    const struct s_field signature[] = {{4, S_SIG_LOCAL}};
    int rc;

    RDSBK_TRY(S_PUT(out, signature));
    RDSBK_TRY(s_write_common(out, w));
    RDSBK_TRY(rdsbk_buf_add(out, w->name, w->name_len));
    rc = rdsbk_buf_add(out, data, w->csize);

cleanup:
    return rc;
}

/* Central directory file header (APPNOTE 4.3.12). */
static int s_write_central(struct rdsbk_buf *out, const struct s_written *w) {
    const struct s_field head[] = {
        {4, S_SIG_CENTRAL}, {2, S_VERSION_MADE_BY}, /* version made by */
    };
    const struct s_field tail[] = {
        {2, 0},               /* file comment length */
        {2, 0},               /* disk number start */
        {2, 0},               /* internal file attributes */
        {4, S_EXTERNAL_ATTR}, /* external file attributes */
        {4, w->offset},       /* relative offset of local header */
    };
    int rc;

    RDSBK_TRY(S_PUT(out, head));
    RDSBK_TRY(s_write_common(out, w));
    RDSBK_TRY(S_PUT(out, tail));
    rc = rdsbk_buf_add(out, w->name, w->name_len);

cleanup:
    return rc;
}

/* End of central directory record (APPNOTE 4.3.16). */
static int s_write_end(struct rdsbk_buf *out, size_t count, uint32_t cd_size, uint32_t cd_off) {
    const struct s_field fields[] = {
        {4, S_SIG_END},
        {2, 0},               /* number of this disk */
        {2, 0},               /* disk where the central directory starts */
        {2, (uint32_t)count}, /* entries on this disk */
        {2, (uint32_t)count}, /* entries in total */
        {4, cd_size},         /* size of the central directory */
        {4, cd_off},          /* offset of the central directory */
        {2, 0},               /* comment length */
    };

    return S_PUT(out, fields);
}

/* Writes entry `e` (its local header and data) at the end of `out`, and in *w what the central
 * directory needs to know of it. */
static int s_write_entry(struct rdsbk_buf *out, struct s_written *w,
                         const struct rdsbk_zip_entry *e) {
    unsigned char *deflated = NULL;
    size_t deflated_len = 0;
    bool compressed;
    int rc;

    RDSBK_TRY(s_check_field(rdsbk_buf_len(out)));
    RDSBK_TRY(s_deflate(&deflated, &deflated_len, e->data, e->size));
    /* Store what deflate cannot shrink (empty and incompressible files), as zip(1) does. */
    compressed = deflated_len < e->size;
    w->name = e->name;
    w->name_len = (uint16_t)strlen(e->name);
    w->method = compressed ? S_METHOD_DEFLATE : S_METHOD_STORED;
    w->crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), e->data, (uInt)e->size);
    w->csize = (uint32_t)(compressed ? deflated_len : e->size);
    w->usize = (uint32_t)e->size;
    w->offset = (uint32_t)rdsbk_buf_len(out);
    rc = s_write_local(out, w, compressed ? (const void *)deflated : e->data);

cleanup:
    free(deflated);
    return rc;
}

int rdsbk_zip_build(struct rdsbk_buf *out, const struct rdsbk_zip_entry *entries, size_t count) {
    const struct rdsbk_zip_entry **sorted = NULL;
    struct s_written *written = NULL;
    size_t cd_start;
    int rc;

    rdsbk_buf_reset(out);
    if (count > S_MAX_ENTRIES) {
        rc = rdsbk_error_set(RDSBK_EINVALID, "zip would have %zu entries (ZIP64 needed)", count);
        goto cleanup;
    }
    written = calloc(count ? count : 1, sizeof(*written));
    RDSBK_CHECK_ALLOC(written);
    RDSBK_TRY(s_sorted(&sorted, entries, count));

    /* 1. Local headers and data, in name order. */
    for (size_t i = 0; i < count; i++)
        RDSBK_TRY(s_write_entry(out, &written[i], sorted[i]));

    /* 2. Central directory, same order. */
    cd_start = rdsbk_buf_len(out);
    RDSBK_TRY(s_check_field(cd_start));
    for (size_t i = 0; i < count; i++)
        RDSBK_TRY(s_write_central(out, &written[i]));

    /* 3. End record. */
    RDSBK_TRY(s_check_field(rdsbk_buf_len(out) - cd_start));
    rc = s_write_end(out, count, (uint32_t)(rdsbk_buf_len(out) - cd_start), (uint32_t)cd_start);

cleanup:
    if (rc)
        rdsbk_buf_reset(out);
    free(written);
    free(sorted);
    return rc;
}
