#ifndef RDSBK_CLI_BUILD_INFO_H
#define RDSBK_CLI_BUILD_INFO_H

/* The git commit the binary was built from: 12 hex digits, "-dirty" appended when tracked files
 * differed from it, or "unknown" when built outside a git work tree. Written at every build by
 * cmake/build_info.cmake (generated/build_info.c). */
extern const char rdsbk_cli_build_commit[];

#endif
