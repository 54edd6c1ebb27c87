#ifndef RDSBK_STATE_PRIVATE_H
#define RDSBK_STATE_PRIVATE_H

/* Shared by the files of src/state. */

/* The end of the refusal of a state path that is not a regular file (rdsbk_file_*). A link is not
 * followed: the lock, the backup and the temporary file are named after the path given, and would
 * then no longer sit beside the file they guard (two runs, one through the link and one through
 * its target, would take two locks on one state). */
#define RDSBK_STATE_PATH_ADVICE                                                                    \
    "point --state at the state file itself (a link is not followed there, so that its lock and "  \
    "backup stay beside it)"

#endif
