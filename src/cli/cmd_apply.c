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
    RDSBK_OPTION_COMPACT,
    {NULL, 0, NULL, NULL, 0}};

static int s_apply(const struct rdsbk_topology *topo, struct rdsbk_cli_engine *ce,
                   const struct rdsbk_cli_args *args) {
    ce->opts.plan_in = args->n_args ? args->args[0] : NULL;
    return rdsbk_engine_apply(topo, &ce->opts);
}

static int s_run(const struct rdsbk_cli_command *cmd, int argc, char **argv) {
    return rdsbk_cli_engine_main(cmd, argc, argv, s_apply);
}

const struct rdsbk_cli_command rdsbk_cmd_apply = {
    "apply",
    "Create or update the pipeline",
    "apply [-f FILE] [--auto-approve] [options] [PLAN]",
    "Plans as 'plan' does, asks for confirmation, and makes AWS match the topology: resources are\n"
    "created and updated in dependency order, up to --parallelism at once per service in each\n"
    "account (services and accounts side by side; 64-128 requests in flight in all by the\n"
    "stack's size, or RDSBK_MAX_THREADS); the state follows every change, so a run that\n"
    "fails or is killed continues where it stopped when run again. Ctrl-C lets the changes under\n"
    "way finish, starts no new one and saves the state (a second Ctrl-C stops at once). With PLAN\n"
    "(from 'plan --out'), does exactly that plan, and refuses it when the state, the topology or\n"
    "AWS changed since it was made.",
    RDSBK_CLI_FILE | RDSBK_CLI_STATE | RDSBK_CLI_JSON | RDSBK_CLI_OUTPUT,
    s_options,
    1,
    s_run,
    NULL};
