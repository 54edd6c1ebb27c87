#include "cli.h"

int main(int argc, char **argv) {
    return rdsbk_cli_main(argc, argv);
}
