/* Files in directories others may write to; see file.h. */
#include "rdsbk/file.h"

#include "rdsbk/error.h"
#include "rdsbk/str.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "a FIFO", "a symbolic link to X", ... for what lstat found at `path`. */
static void s_kind(char *out, size_t size, const char *path, mode_t mode) {
    char target[PATH_MAX];
    char shown[256];
    ssize_t n;

    if (S_ISLNK(mode)) {
        n = readlink(path, target, sizeof(target) - 1);
        target[n > 0 ? n : 0] = '\0';
        rdsbk_str_escape_terminal(shown, sizeof(shown), target);
        snprintf(out, size, "a symbolic link (to %s)", n > 0 ? shown : "?");
        return;
    }
    snprintf(out, size, "%s",
             S_ISDIR(mode)                    ? "a directory"
             : S_ISFIFO(mode)                 ? "a FIFO"
             : S_ISSOCK(mode)                 ? "a socket"
             : S_ISCHR(mode) || S_ISBLK(mode) ? "a device"
                                              : "not a regular file");
}

static int s_irregular(const char *path, mode_t mode, const char *advice) {
    char kind[320];

    s_kind(kind, sizeof(kind), path, mode);
    return rdsbk_error_set(RDSBK_EINVALID, "%s is %s, not a regular file; %s", path, kind, advice);
}

int rdsbk_file_refuse_irregular(const char *path, const char *advice) {
    struct stat sb;

    if (lstat(path, &sb) != 0 || S_ISREG(sb.st_mode))
        return 0;
    return s_irregular(path, sb.st_mode, advice);
}

int rdsbk_file_open_regular(int *fd_out, const char *path, const char *advice) {
    struct stat sb;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    int rc = 0;

    *fd_out = -1;
    if (fd < 0 && errno == ENOENT)
        return rdsbk_error_set(RDSBK_ENOTFOUND, "%s does not exist", path);
    if (fd < 0 && lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return s_irregular(path, sb.st_mode, advice); /* a link (ELOOP), a socket (ENXIO) */
    if (fd < 0 || fstat(fd, &sb) != 0)
        rc = rdsbk_error_set(RDSBK_EIO, "%s: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        rc = s_irregular(path, sb.st_mode, advice);
    if (rc && fd >= 0)
        close(fd);
    else
        *fd_out = fd;
    return rc;
}

int rdsbk_file_create_new(int *fd_out, const char *path) {
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int fd = open(path, flags, 0600);

    *fd_out = -1;
    if (fd < 0 && errno == EEXIST && unlink(path) == 0)
        fd = open(path, flags, 0600);
    /* 0600 whatever the umask took away or left */
    if (fd < 0 || fchmod(fd, 0600) != 0) {
        int rc = rdsbk_error_set(RDSBK_EIO, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    *fd_out = fd;
    return 0;
}

int rdsbk_file_write_all(int fd, const void *data, size_t len, const char *path) {
    const char *p = data;
    size_t done = 0;

    while (done < len) {
        ssize_t n = write(fd, p + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return rdsbk_error_set(RDSBK_EIO, "%s: writing: %s", path,
                                   n < 0 ? strerror(errno) : "nothing written");
        done += (size_t)n;
    }
    return 0;
}

int rdsbk_file_replace(const char *path, const void *data, size_t len) {
    char *tmp = NULL;
    int fd = -1;
    int rc;

    RDSBK_TRY(rdsbk_strfmt(&tmp, "%s.tmp.%ld", path, (long)getpid()));
    RDSBK_TRY(rdsbk_file_create_new(&fd, tmp));
    RDSBK_TRY(rdsbk_file_write_all(fd, data, len, tmp));
    if (fsync(fd) != 0 || rename(tmp, path) != 0)
        rc = rdsbk_error_set(RDSBK_EIO, "%s: %s", path, strerror(errno));

cleanup:
    if (fd >= 0)
        close(fd);
    if (rc && fd >= 0)
        unlink(tmp);
    free(tmp);
    return rc;
}
