#ifndef RDSBK_FILE_H
#define RDSBK_FILE_H

/*
 * Files in directories that others may write to (a shared state directory, /tmp). Nothing here
 * follows a symbolic link at the last component of a path, or blocks on a FIFO or a device.
 * Messages are one line naming the path; `advice` ends them (what the user should do).
 */

#include <stddef.h>

/*
 * 0 when nothing is at `path` or a regular file is; else RDSBK_EINVALID with "PATH is a FIFO
 * (a symbolic link to X, a directory, ...), not a regular file; <advice>". Looks at the entry
 * itself (lstat): a symbolic link is refused, wherever it points.
 */
int rdsbk_file_refuse_irregular(const char *path, const char *advice);

/*
 * Opens `path` read-only when it is a regular file (O_NOFOLLOW, O_NONBLOCK: neither a link nor a
 * FIFO is opened). *fd_out is the caller's to close. Returns 0; RDSBK_ENOTFOUND when nothing is
 * there ("PATH does not exist" set); RDSBK_EINVALID as rdsbk_file_refuse_irregular; RDSBK_EIO.
 */
int rdsbk_file_open_regular(int *fd_out, const char *path, const char *advice);

/*
 * Creates `path` with O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600: a file or a symbolic link already
 * there is never written through. Such an entry (a temporary file a killed run left, a link
 * planted at a predictable name) is removed, the entry and never a link's target, and the
 * creation tried once more. *fd_out is the caller's to close. Returns 0 or RDSBK_EIO.
 */
int rdsbk_file_create_new(int *fd_out, const char *path);

/* Writes all `len` bytes of `data` to `fd` (`path` names it in messages). 0 or RDSBK_EIO. */
int rdsbk_file_write_all(int fd, const void *data, size_t len, const char *path);

/*
 * Replaces `path` with a new file of mode 0600 holding `data`: PATH.tmp.PID made by
 * rdsbk_file_create_new, written, synced, renamed over `path`. Whatever was there (a file of
 * another mode, a symbolic link) is replaced, not written through; a crash leaves the old file or
 * the new one. Returns 0 or RDSBK_EIO (nothing changed at `path`).
 */
int rdsbk_file_replace(const char *path, const void *data, size_t len);

#endif
