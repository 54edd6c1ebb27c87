#include "cli.h"

#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

/*
 * A run holds every account's secret keys and session tokens in memory: a core dump would write
 * them to disk, and another process of the same user could read them through ptrace or
 * /proc/PID/mem. Unless RDSBK_CORE_DUMPS=1 (to debug a crash), no core is written and the
 * process is not dumpable.
 */
static void s_no_core_dumps(void) {
    const char *allow = getenv("RDSBK_CORE_DUMPS");
    struct rlimit none = {0, 0};

    if (allow && strcmp(allow, "1") == 0)
        return;
    setrlimit(RLIMIT_CORE, &none);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

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
    s_no_core_dumps();
    s_grow_file_table();
    return rdsbk_cli_main(argc, argv);
}
