#include "commands.h"
#include "engine_options.h"
#include "rdsbk/config.h"

#include <stdio.h>
#include <stdlib.h>

static const struct rdsbk_cli_option s_options[] = {
    {"out", 'o', "FILE", "save the plan; 'apply FILE' then does exactly that", RDSBK_OPT_OUT},
    {"detailed-exitcode", 0, NULL, "exit 0 without changes, 2 with changes, 1 on error",
     RDSBK_OPT_DETAILED_EXITCODE},
    RDSBK_OPTION_PARALLELISM,
    RDSBK_OPTION_LOCK_TIMEOUT,
    RDSBK_OPTION_NO_REFRESH,
    RDSBK_OPTION_COMPACT,
    {NULL, 0, NULL, NULL, 0}};

static int s_plan(const struct rdsbk_topology *topo, struct rdsbk_cli_engine *ce,
                  const struct rdsbk_cli_args *args) {
    bool changes = false;
    int rc = rdsbk_engine_plan(&changes, topo, &ce->opts);

    (void)args;
    if (rc)
        return rc;
    return ce->detailed_exitcode && changes ? 2 : 0;
}

static int s_run(const struct rdsbk_cli_command *cmd, int argc, char **argv) {
    return rdsbk_cli_engine_main(cmd, argc, argv, s_plan);
}

const struct rdsbk_cli_command rdsbk_cmd_plan = {
    "plan",
    "Show what apply would change",
    "plan [-f FILE] [--out PLAN] [--detailed-exitcode] [options]",
    "Reads the state and what exists in AWS (in parallel), compares it with the topology, and\n"
    "shows what apply would create, update, replace or destroy, attribute by attribute. Nothing\n"
    "is changed. Resources that exist under the stack's names but are missing from the state (a\n"
    "run killed between creating and recording them) are adopted rather than created again.\n"
    "--json prints the same plan as one JSON document: {format_version, stack, lineage, serial,\n"
    "changes: [{address, type, action, account, region, name, changed, forces_replacement,\n"
    "before, after}], summary: {add, change, destroy, adopt, forget}, has_changes}.",
    RDSBK_CLI_FILE | RDSBK_CLI_STATE | RDSBK_CLI_JSON | RDSBK_CLI_OUTPUT,
    s_options,
    0,
    s_run,
    NULL};
