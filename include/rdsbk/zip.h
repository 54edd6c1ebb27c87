#ifndef RDSBK_ZIP_H
#define RDSBK_ZIP_H

#include <stddef.h>

#include "rdsbk/buf.h"

/*
 * A deterministic zip writer, for Lambda deployment packages. Lambda reports CodeSha256 (the
 * SHA-256 of the zip), so identical code must give an identical zip, or every plan would show a
 * change. Everything that usually varies between runs is fixed:
 *
 *   - entries are written sorted by name (byte order, strcmp), whatever order the caller gives;
 *   - every timestamp is 1980-01-01 00:00:00 (DOS date 0x0021, time 0x0000);
 *   - "version made by" is Unix (3), and the external attributes are those of a regular file with
 *     mode 0644, so Lambda can read every file;
 *   - no extra fields (no Unix uid/gid or extended timestamps), no data descriptors (sizes and CRC
 *     are in the local headers), no file or archive comments;
 *   - data is raw deflate from zlib (windowBits -15, level 9, memLevel 8, default strategy), or
 *     stored when deflate would not make it smaller.
 *
 * Caveat: zlib's output is deterministic for a given zlib version and these settings, but a
 * different zlib release (or a fork such as zlib-ng) may compress the same bytes differently. The
 * zip stays valid and the files identical, only CodeSha256 changes, so a binary built against
 * another zlib may plan one no-op code update per function.
 *
 * ZIP64 is not supported: more than 65535 entries, or any size or offset of 4 GiB or more, is
 * refused with RDSBK_EINVALID.
 */

/* One file to put in a zip. Borrowed: the writer copies what it needs. */
struct rdsbk_zip_entry {
    const char *name; /* path inside the zip, '/'-separated, no leading '/', no ".." part */
    const void *data;
    size_t size;
};

/*
 * Writes a zip of the `count` entries to `out`, replacing its contents (`out` must have been
 * initialised, e.g. RDSBK_BUF_INIT). Returns 0; RDSBK_EINVALID for a bad or duplicate name or sizes
 * needing ZIP64; RDSBK_ENOMEM when out of memory or over `out`'s cap; RDSBK_ERROR when zlib fails.
 * On error `out` is left empty.
 */
int rdsbk_zip_build(struct rdsbk_buf *out, const struct rdsbk_zip_entry *entries, size_t count);

#endif
