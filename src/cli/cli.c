#include "cli.h"

#include <stdio.h>

int rdsbk_cli_main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    puts("rdsbk-provision " RDSBK_VERSION);
    return 0;
}
