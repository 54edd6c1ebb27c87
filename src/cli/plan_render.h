#ifndef RDSBK_CLI_PLAN_RENDER_H
#define RDSBK_CLI_PLAN_RENDER_H

#include "rdsbk/engine.h"

#include <stdbool.h>
#include <stdio.h>

/* Prints the plan as text to `out` (ANSI colour when `color`): every change attribute by
 * attribute, or, `compact`, the counts per type and per account, then one line per change. */
void rdsbk_cli_print_plan(FILE *out, const struct rdsbk_plan *plan, bool color, bool compact);

/* The plan as one JSON document (caller frees); NULL on ENOMEM. */
char *rdsbk_cli_plan_json(const struct rdsbk_plan *plan);

#endif
