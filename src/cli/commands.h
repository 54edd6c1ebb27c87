#ifndef RDSBK_CLI_COMMANDS_H
#define RDSBK_CLI_COMMANDS_H

#include "options.h"

/* One per subcommand, defined in cmd_<name>.c. */
extern const struct rdsbk_cli_command rdsbk_cmd_init;
extern const struct rdsbk_cli_command rdsbk_cmd_validate;
extern const struct rdsbk_cli_command rdsbk_cmd_plan;
extern const struct rdsbk_cli_command rdsbk_cmd_apply;
extern const struct rdsbk_cli_command rdsbk_cmd_destroy;
extern const struct rdsbk_cli_command rdsbk_cmd_generate;
extern const struct rdsbk_cli_command rdsbk_cmd_export;
extern const struct rdsbk_cli_command rdsbk_cmd_state;
extern const struct rdsbk_cli_command rdsbk_cmd_status;
extern const struct rdsbk_cli_command rdsbk_cmd_drill;
extern const struct rdsbk_cli_command rdsbk_cmd_version;
extern const struct rdsbk_cli_command rdsbk_cmd_help;

/* The table, NULL-terminated, in the order `help` lists them. */
extern const struct rdsbk_cli_command *const rdsbk_cli_commands[];

/* A name and what it means: an exit status, an environment variable. */
struct rdsbk_cli_entry {
    const char *name;
    const char *text;
};

/* What `rdsbk-provision --help` says besides the command list, shared with the man page
 * (manpage.c) so that the two cannot differ: the paragraph under the usage line, the exit
 * statuses, the environment variables the tool reads besides the AWS CLI's (tables ending
 * with {NULL, NULL}). */
extern const char rdsbk_cli_about[];
extern const struct rdsbk_cli_entry rdsbk_cli_exit_statuses[];
extern const char rdsbk_cli_environment_intro[];
extern const struct rdsbk_cli_entry rdsbk_cli_environment[];

/* Loads the topology named by args->file, printing every diagnostic as FILE:LINE:COL: error:
 * MESSAGE on stderr. Returns 0 and *out, or a negative code after printing. */
struct rdsbk_topology;
int rdsbk_cli_load_topology(struct rdsbk_topology **out, const struct rdsbk_cli_args *args);

/* rdsbk_cli_load_topology for the commands that call AWS: then, for backup.organization: true,
 * the organisation's id read with the backup account's credentials
 * (organizations:DescribeOrganization) into backup.organization_id. Returns 0 and *out, or a
 * negative code after printing (*out NULL). */
int rdsbk_cli_load_topology_aws(struct rdsbk_topology **out, const struct rdsbk_cli_args *args);

/* For the commands that call no AWS: RDSBK_EINVALID, printed, when the topology asks for its
 * organisation's id to be read from AWS (backup.organization: true), which `what` cannot do. */
int rdsbk_cli_offline_organization(const struct rdsbk_topology *topo,
                                   const struct rdsbk_cli_args *args, const char *what);

/* Prints the last error as "rdsbk-provision: error: MESSAGE" (with the AWS code and request id
 * when there are some) on stderr. */
void rdsbk_cli_print_error(const struct rdsbk_cli_args *args);

#endif
