#include "commands.h"
#include "rdsbk/config.h"
#include "rdsbk/generate.h"

#include <stdio.h>

enum { S_OPT_OUTPUT = 1 };

static const struct rdsbk_cli_option s_options[] = {
    {"output", 'o', "DIR", "the directory to write (created if missing)", S_OPT_OUTPUT},
    {NULL, 0, NULL, NULL, 0}};

static int s_option(int id, const char *value, void *payload) {
    if (id == S_OPT_OUTPUT)
        *(const char **)payload = value;
    return 0;
}

static int s_run(const struct rdsbk_cli_command *cmd, int argc, char **argv) {
    struct rdsbk_cli_args args;
    int start;
    struct rdsbk_topology *topo = NULL;
    const char *dir = NULL;
    int status = 1;

    start = rdsbk_cli_start(&args, cmd, argc, argv, s_option, &dir);
    if (start != RDSBK_CLI_GO)
        return start;
    if (!dir) {
        rdsbk_cli_usage_error(cmd, "-o DIR is required");
        return 1;
    }
    if (rdsbk_cli_load_topology(&topo, &args))
        return 1;
    if (rdsbk_cli_offline_organization(topo, &args, "generate"))
        goto cleanup;
    if (rdsbk_generate(topo, dir)) {
        rdsbk_cli_print_error(&args);
        goto cleanup;
    }
    printf("Wrote the artefacts of stack %s to %s/ (resources.json lists the graph).\n",
           topo->stack, dir);
    status = 0;

cleanup:
    rdsbk_topology_free(topo);
    return status;
}

const struct rdsbk_cli_command rdsbk_cmd_generate = {
    "generate",
    "Write every artefact for review",
    "generate -o DIR [-f FILE]",
    "Writes, for review and audit, everything apply would create, without calling AWS:\n"
    "resources.json (every resource: address, type, account, Region, name, dependencies), the\n"
    "function zips (functions/*.zip, byte for byte what is deployed) and configurations, every\n"
    "IAM trust and inline policy (iam/), the key policy (kms/), the bus policy, every event\n"
    "pattern and target (events/). Values known only once created, like the key's ARN, appear as\n"
    "${ADDRESS#attr}. The same topology always gives identical files.",
    RDSBK_CLI_FILE | RDSBK_CLI_OUTPUT,
    s_options,
    0,
    s_run,
    NULL};
