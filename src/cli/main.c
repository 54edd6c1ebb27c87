#include "cli.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

/*
 * The kernel grows a process's file table as descriptors are needed (64, 128, 256...). Growing it
 * while other threads share it waits for an RCU grace period, and every thread opening a socket
 * meanwhile waits too: with 128 workers connecting at once that was 105 of the 1,991 context
 * switches of the 10 sources' destroy (perf sched:sched_switch). Grown here, with one thread, it
 * costs nothing. A connection takes three descriptors (its socket and the socketpair libcurl
 * keeps per handle to wake its poll), so 128 of them need 384 and more: the table is grown to
 * the limit on open files, at most 1,024.
 */
static void s_grow_file_table(void) {
    struct rlimit limit;
    int fd;

    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur < 2)
        return;
    fd = fcntl(STDERR_FILENO, F_DUPFD, limit.rlim_cur > 1024 ? 1023 : (int)limit.rlim_cur - 1);
    if (fd >= 0)
        close(fd);
}

int main(int argc, char **argv) {
    /* glibc gives each thread its own malloc arena; with --parallelism workers each arena keeps
     * its freed memory, and the peak RSS grows with the thread count (about 90 MB at 100 workers
     * and 958 resources against 44 MB with two arenas, measured on commit 26296e7; at the default
     * parallelism of 10 the cap makes little difference). The workers mostly wait on the
     * network, so sharing two arenas costs nothing noticeable. */
    mallopt(M_ARENA_MAX, 2);
    s_grow_file_table();
    return rdsbk_cli_main(argc, argv);
}
