#include "rdsbk/zip.h"
#include "rdsbk/error.h"

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

static int s_add16(struct rdsbk_buf *out, unsigned v) {
    unsigned char b[2] = {(unsigned char)(v & 0xff), (unsigned char)((v >> 8) & 0xff)};
    return rdsbk_buf_add(out, b, sizeof(b));
}

static int s_add32(struct rdsbk_buf *out, uint32_t v) {
    unsigned char b[4] = {(unsigned char)(v & 0xff), (unsigned char)((v >> 8) & 0xff),
                          (unsigned char)((v >> 16) & 0xff), (unsigned char)((v >> 24) & 0xff)};
    return rdsbk_buf_add(out, b, sizeof(b));
}

static int s_compare_entries(const void *a, const void *b) {
    const struct rdsbk_zip_entry *const *ea = a;
    const struct rdsbk_zip_entry *const *eb = b;
    return strcmp((*ea)->name, (*eb)->name);
}

/* A name is a relative '/'-separated path with no empty, "." or ".." part. */
static int s_check_name(const char *name) {
    size_t len = name ? strlen(name) : 0;
    const char *part = name;
    int result = 0;

    if (len == 0 || len > 0xffff) {
        result = rdsbk_error_set(RDSBK_EINVALID, "zip entry name is empty or too long");
        part = NULL;
    }
    while (part) {
        const char *slash = strchr(part, '/');
        size_t n = slash ? (size_t)(slash - part) : strlen(part);
        if (n == 0 || (n == 1 && part[0] == '.') || (n == 2 && part[0] == '.' && part[1] == '.')) {
            result =
                rdsbk_error_set(RDSBK_EINVALID, "zip entry name '%s' is not a relative path", name);
            break;
        }
        part = slash ? slash + 1 : NULL;
    }
    return result;
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
    int result = RDSBK_ERROR;

    memset(&zs, 0, sizeof(zs));
    *out = NULL;
    *out_len = 0;
    zrc = deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    if (zrc != Z_OK) {
        result = rdsbk_error_set(RDSBK_ERROR, "zlib deflateInit2 failed (%d)", zrc);
        goto cleanup;
    }
    zinit = 1;
    bound = deflateBound(&zs, (uLong)size);
    dst = malloc(bound ? bound : 1);
    if (!dst) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    /* zlib's API is not const-correct; it never writes through next_in. */
    zs.next_in = (Bytef *)(uintptr_t)data;
    zs.avail_in = (uInt)size;
    zs.next_out = dst;
    zs.avail_out = (uInt)bound;
    zrc = deflate(&zs, Z_FINISH);
    if (zrc != Z_STREAM_END) {
        result = rdsbk_error_set(RDSBK_ERROR, "zlib deflate failed (%d)", zrc);
        goto cleanup;
    }
    *out = dst;
    *out_len = (size_t)zs.total_out;
    dst = NULL;
    result = 0;

cleanup:
    if (zinit)
        deflateEnd(&zs);
    free(dst);
    return result;
}

/* Local file header (APPNOTE 4.3.7), then the data. */
static int s_write_local(struct rdsbk_buf *out, const struct s_written *w, const void *data) {
    int rc = 0;

    rc = rc ? rc : s_add32(out, S_SIG_LOCAL);
    rc = rc ? rc : s_add16(out, S_VERSION_NEEDED); /* version needed to extract */
    rc = rc ? rc : s_add16(out, 0);                /* general purpose flags */
    rc = rc ? rc : s_add16(out, w->method);        /* compression method */
    rc = rc ? rc : s_add16(out, S_DOS_TIME);       /* last mod file time */
    rc = rc ? rc : s_add16(out, S_DOS_DATE);       /* last mod file date */
    rc = rc ? rc : s_add32(out, w->crc);           /* crc-32 */
    rc = rc ? rc : s_add32(out, w->csize);         /* compressed size */
    rc = rc ? rc : s_add32(out, w->usize);         /* uncompressed size */
    rc = rc ? rc : s_add16(out, w->name_len);      /* file name length */
    rc = rc ? rc : s_add16(out, 0);                /* extra field length */
    rc = rc ? rc : rdsbk_buf_add(out, w->name, w->name_len);
    rc = rc ? rc : rdsbk_buf_add(out, data, w->csize);
    return rc;
}

/* Central directory file header (APPNOTE 4.3.12). */
static int s_write_central(struct rdsbk_buf *out, const struct s_written *w) {
    int rc = 0;

    rc = rc ? rc : s_add32(out, S_SIG_CENTRAL);
    rc = rc ? rc : s_add16(out, S_VERSION_MADE_BY); /* version made by */
    rc = rc ? rc : s_add16(out, S_VERSION_NEEDED);  /* version needed to extract */
    rc = rc ? rc : s_add16(out, 0);                 /* general purpose flags */
    rc = rc ? rc : s_add16(out, w->method);         /* compression method */
    rc = rc ? rc : s_add16(out, S_DOS_TIME);        /* last mod file time */
    rc = rc ? rc : s_add16(out, S_DOS_DATE);        /* last mod file date */
    rc = rc ? rc : s_add32(out, w->crc);            /* crc-32 */
    rc = rc ? rc : s_add32(out, w->csize);          /* compressed size */
    rc = rc ? rc : s_add32(out, w->usize);          /* uncompressed size */
    rc = rc ? rc : s_add16(out, w->name_len);       /* file name length */
    rc = rc ? rc : s_add16(out, 0);                 /* extra field length */
    rc = rc ? rc : s_add16(out, 0);                 /* file comment length */
    rc = rc ? rc : s_add16(out, 0);                 /* disk number start */
    rc = rc ? rc : s_add16(out, 0);                 /* internal file attributes */
    rc = rc ? rc : s_add32(out, S_EXTERNAL_ATTR);   /* external file attributes */
    rc = rc ? rc : s_add32(out, w->offset);         /* relative offset of local header */
    rc = rc ? rc : rdsbk_buf_add(out, w->name, w->name_len);
    return rc;
}

/* End of central directory record (APPNOTE 4.3.16). */
static int s_write_end(struct rdsbk_buf *out, size_t count, uint32_t cd_size, uint32_t cd_off) {
    int rc = 0;

    rc = rc ? rc : s_add32(out, S_SIG_END);
    rc = rc ? rc : s_add16(out, 0);               /* number of this disk */
    rc = rc ? rc : s_add16(out, 0);               /* disk where the central directory starts */
    rc = rc ? rc : s_add16(out, (unsigned)count); /* entries on this disk */
    rc = rc ? rc : s_add16(out, (unsigned)count); /* entries in total */
    rc = rc ? rc : s_add32(out, cd_size);         /* size of the central directory */
    rc = rc ? rc : s_add32(out, cd_off);          /* offset of the central directory */
    rc = rc ? rc : s_add16(out, 0);               /* comment length */
    return rc;
}

int rdsbk_zip_build(struct rdsbk_buf *out, const struct rdsbk_zip_entry *entries, size_t count) {
    const struct rdsbk_zip_entry **sorted = NULL;
    struct s_written *written = NULL;
    unsigned char *deflated = NULL;
    size_t cd_start;
    int rc;
    int result = RDSBK_ERROR;

    rdsbk_buf_reset(out);
    if (count > S_MAX_ENTRIES) {
        result =
            rdsbk_error_set(RDSBK_EINVALID, "zip would have %zu entries (ZIP64 needed)", count);
        goto cleanup;
    }
    sorted = calloc(count ? count : 1, sizeof(*sorted));
    written = calloc(count ? count : 1, sizeof(*written));
    if (!sorted || !written) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    for (size_t i = 0; i < count; i++) {
        rc = s_check_name(entries[i].name);
        if (rc) {
            result = rc;
            goto cleanup;
        }
        if (entries[i].size > S_MAX_FIELD || (entries[i].size && !entries[i].data)) {
            result = rdsbk_error_set(RDSBK_EINVALID, "zip entry '%s' is too large (ZIP64 needed)",
                                     entries[i].name);
            goto cleanup;
        }
        sorted[i] = &entries[i];
    }
    if (count > 1)
        qsort(sorted, count, sizeof(*sorted), s_compare_entries);
    for (size_t i = 1; i < count; i++) {
        if (strcmp(sorted[i - 1]->name, sorted[i]->name) == 0) {
            result = rdsbk_error_set(RDSBK_EINVALID, "duplicate zip entry '%s'", sorted[i]->name);
            goto cleanup;
        }
    }

    /* 1. Local headers and data, in name order. */
    for (size_t i = 0; i < count; i++) {
        const struct rdsbk_zip_entry *e = sorted[i];
        struct s_written *w = &written[i];
        size_t deflated_len = 0;
        const void *payload;

        if (out->len > S_MAX_FIELD) {
            result = rdsbk_error_set(RDSBK_EINVALID, "zip would exceed 4 GiB (ZIP64 needed)");
            goto cleanup;
        }
        rc = s_deflate(&deflated, &deflated_len, e->data, e->size);
        if (rc) {
            result = rc;
            goto cleanup;
        }
        w->name = e->name;
        w->name_len = (uint16_t)strlen(e->name);
        w->crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), e->data, (uInt)e->size);
        w->usize = (uint32_t)e->size;
        w->offset = (uint32_t)out->len;
        /* Store what deflate cannot shrink (empty and incompressible files), as zip(1) does. */
        if (deflated_len < e->size) {
            w->method = S_METHOD_DEFLATE;
            w->csize = (uint32_t)deflated_len;
            payload = deflated;
        } else {
            w->method = S_METHOD_STORED;
            w->csize = (uint32_t)e->size;
            payload = e->data;
        }
        rc = s_write_local(out, w, payload);
        free(deflated);
        deflated = NULL;
        if (rc) {
            result = rc;
            goto cleanup;
        }
    }

    /* 2. Central directory, same order. */
    cd_start = out->len;
    if (cd_start > S_MAX_FIELD) {
        result = rdsbk_error_set(RDSBK_EINVALID, "zip would exceed 4 GiB (ZIP64 needed)");
        goto cleanup;
    }
    for (size_t i = 0; i < count; i++) {
        rc = s_write_central(out, &written[i]);
        if (rc) {
            result = rc;
            goto cleanup;
        }
    }

    /* 3. End record. */
    if (out->len - cd_start > S_MAX_FIELD) {
        result = rdsbk_error_set(RDSBK_EINVALID, "zip would exceed 4 GiB (ZIP64 needed)");
        goto cleanup;
    }
    rc = s_write_end(out, count, (uint32_t)(out->len - cd_start), (uint32_t)cd_start);
    if (rc) {
        result = rc;
        goto cleanup;
    }
    result = 0;

cleanup:
    if (result)
        rdsbk_buf_reset(out);
    free(deflated);
    free(written);
    free(sorted);
    return result;
}
