#include "commands.h"
#include "engine_options.h"
#include "rdsbk/config.h"

#include <stdio.h>
#include <stdlib.h>

static const struct rdsbk_cli_option s_options[] = {
    RDSBK_OPTION_AUTO_APPROVE,
    {"discover", 0, NULL, "find the stack's resources by name without a state file",
     RDSBK_OPT_DISCOVER},
    {"force-key-deletion", 0, NULL, "schedule the key's deletion even with key.prevent_destroy set",
     RDSBK_OPT_FORCE_KEY_DELETION},
    {"keep-key", 0, NULL,
     "remove everything but the shared KMS key and its alias, which stay enabled (and in the "
     "state) so that the backups remain restorable",
     RDSBK_OPT_KEEP_KEY},
    {"refresh", 0, NULL,
     "read every resource the state records before deleting it (default: trust the state)",
     RDSBK_OPT_REFRESH},
    RDSBK_OPTION_PARALLELISM,
    RDSBK_OPTION_LOCK_TIMEOUT,
    RDSBK_OPTION_COMPACT,
    {NULL, 0, NULL, NULL, 0}};

static int s_destroy(const struct rdsbk_topology *topo, struct rdsbk_cli_engine *ce,
                     const struct rdsbk_cli_args *args) {
    (void)args;
    return rdsbk_engine_destroy(topo, &ce->opts);
}

static int s_run(const struct rdsbk_cli_command *cmd, int argc, char **argv) {
    return rdsbk_cli_engine_main(cmd, argc, argv, s_destroy);
}

const struct rdsbk_cli_command rdsbk_cmd_destroy = {
    "destroy",
    "Remove everything the stack created",
    "destroy [-f FILE] [--auto-approve] [--keep-key] [--discover] [--refresh] [options]",
    "Removes every resource of the stack in reverse dependency order: rules and targets, Lambda\n"
    "functions and their permissions, the stack's event bus, roles and their policies. The\n"
    "shared KMS key cannot be deleted at once: it is scheduled for deletion after\n"
    "key.deletion_window_days, and the date is printed. Backup copies encrypted with it become\n"
    "unrestorable then. With key.prevent_destroy set, or while snapshots in Account-A/Region-B\n"
    "or Account-B/Region-B are encrypted with the key, destroy refuses unless\n"
    "--force-key-deletion is given. --keep-key removes everything else and leaves the key and its\n"
    "alias enabled, and in the state: the backups stay restorable, a later apply reuses the key,\n"
    "and a later destroy --force-key-deletion deletes it. Resources that exist under the stack's\n"
    "names but are missing from the state are found and removed too; --discover does this\n"
    "without any state file. What the state records is deleted without being read first (one\n"
    "call per resource, not two); a resource already gone counts as deleted. --refresh reads it\n"
    "all first, for an exact plan.",
    RDSBK_CLI_FILE | RDSBK_CLI_STATE | RDSBK_CLI_JSON | RDSBK_CLI_OUTPUT,
    s_options,
    0,
    s_run,
    NULL};
