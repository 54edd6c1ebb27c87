#include "commands.h"
#include "engine_options.h"
#include "rdsbk/config.h"

#include <stdio.h>
#include <stdlib.h>

static const struct rdsbk_cli_option s_options[] = {
    RDSBK_OPTION_AUTO_APPROVE,
    {"force-key-deletion", 0, NULL,
     "allow replacing the shared key (a key.multi_region change) while backups are encrypted "
     "with it; the old key's deletion makes them unrestorable",
     RDSBK_OPT_FORCE_KEY_DELETION},
    RDSBK_OPTION_PARALLELISM,
    RDSBK_OPTION_LOCK_TIMEOUT,
    {NULL, 0, NULL, NULL, 0}};

static int s_run(const struct rdsbk_cli_command *cmd, int argc, char **argv) {
    struct rdsbk_cli_args args;
    struct rdsbk_cli_engine ce;
    struct rdsbk_topology *topo = NULL;
    char *state_path = NULL;
    int status = 1;

    rdsbk_cli_engine_init(&ce);
    if (rdsbk_cli_parse(&args, cmd, argc, argv, rdsbk_cli_engine_option, &ce))
        return 1;
    if (args.help) {
        rdsbk_cli_print_help(stdout, cmd);
        return 0;
    }
    ce.opts.plan_in = args.n_args ? args.args[0] : NULL;
    if (rdsbk_cli_engine_prepare(&topo, &state_path, &ce, &args))
        return 1;
    if (rdsbk_engine_apply(topo, &ce.opts)) {
        rdsbk_cli_print_error(&args);
        goto cleanup;
    }
    status = 0;

cleanup:
    free(state_path);
    rdsbk_topology_free(topo);
    return status;
}

const struct rdsbk_cli_command rdsbk_cmd_apply = {
    "apply",
    "Create or update the pipeline",
    "apply [-f FILE] [--auto-approve] [options] [PLAN]",
    "Plans as 'plan' does, asks for confirmation, and makes AWS match the topology: resources\n"
    "are created and updated in dependency order, up to --parallelism at once, across accounts\n"
    "and Regions; the state is saved after every change, so a run that fails or is killed\n"
    "continues where it stopped when run again. With PLAN (from 'plan --out'), does exactly that\n"
    "plan, and refuses it when the state, the topology or AWS changed since it was made.",
    RDSBK_CLI_FILE | RDSBK_CLI_STATE | RDSBK_CLI_JSON | RDSBK_CLI_OUTPUT,
    s_options,
    1,
    s_run};
