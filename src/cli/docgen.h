#ifndef RDSBK_CLI_DOCGEN_H
#define RDSBK_CLI_DOCGEN_H

#include <stdio.h>

/*
 * What rdsbk-docgen writes at build time from the command tables that --help prints, so that the
 * manual page and the shell completions cannot drift from the command line: a new command or
 * option appears in all of them without editing any.
 */

/* Writes the rdsbk-provision(1) page in mdoc to `out`; `date` ("2026-12-06") is its .Dd.
 * Returns 0, or RDSBK_EIO when `out` could not be written. */
int rdsbk_cli_write_man(FILE *out, const char *date);

/* Writes the bash completion (a function _rdsbk_provision and its `complete` line) to `out`.
 * Returns 0, or RDSBK_EIO when `out` could not be written. */
int rdsbk_cli_write_bash(FILE *out);

/* Writes the zsh completion (the file _rdsbk-provision, #compdef) to `out`. Returns 0, or
 * RDSBK_EIO when `out` could not be written. */
int rdsbk_cli_write_zsh(FILE *out);

#endif
