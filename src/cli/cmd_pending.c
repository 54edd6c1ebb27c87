/*
 * Commands whose implementation has not landed yet. They parse their options like every command
 * (so --help works) and then say so, with exit status 1.
 */
#include "commands.h"

#include <stdio.h>

static int s_run(const struct rdsbk_cli_command *cmd, int argc, char **argv) {
    struct rdsbk_cli_args args;

    if (rdsbk_cli_parse(&args, cmd, argc, argv, NULL, NULL))
        return 1;
    if (args.help) {
        rdsbk_cli_print_help(stdout, cmd);
        return 0;
    }
    fprintf(stderr, "rdsbk-provision %s: not yet implemented\n", cmd->name);
    return 1;
}

#define S_COMMON (RDSBK_CLI_FILE | RDSBK_CLI_STATE | RDSBK_CLI_JSON | RDSBK_CLI_OUTPUT)

const struct rdsbk_cli_command rdsbk_cmd_plan = {
    "plan",
    "Show what apply would change (not yet implemented)",
    "plan [options]",
    "Compares the topology with the state and with what exists in AWS, and shows the changes\n"
    "apply would make. Not yet implemented.",
    S_COMMON,
    NULL,
    0,
    s_run};

const struct rdsbk_cli_command rdsbk_cmd_apply = {
    "apply",
    "Create or update the pipeline (not yet implemented)",
    "apply [options]",
    "Makes AWS match the topology. Not yet implemented.",
    S_COMMON,
    NULL,
    0,
    s_run};

const struct rdsbk_cli_command rdsbk_cmd_destroy = {
    "destroy",
    "Remove everything the stack created (not yet implemented)",
    "destroy [options]",
    "Removes every resource of the stack. Not yet implemented.",
    S_COMMON,
    NULL,
    0,
    s_run};

const struct rdsbk_cli_command rdsbk_cmd_generate = {
    "generate",
    "Write every artefact for review (not yet implemented)",
    "generate -o DIR",
    "Writes the function zips, policies and patterns the tool would create. Not yet "
    "implemented.",
    RDSBK_CLI_FILE | RDSBK_CLI_OUTPUT,
    NULL,
    0,
    s_run};

const struct rdsbk_cli_command rdsbk_cmd_state = {
    "state",
    "Inspect the state file (not yet implemented)",
    "state list|show|rm|unlock",
    "Lists, shows and edits the state file. Not yet implemented.",
    S_COMMON,
    NULL,
    2,
    s_run};
