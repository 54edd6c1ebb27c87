#ifndef RDSBK_CLI_H
#define RDSBK_CLI_H

/* Runs the command line; returns the process exit status (0, 1, or 2 for plan changes). */
int rdsbk_cli_main(int argc, char **argv);

#endif
