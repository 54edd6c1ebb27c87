#include "commands.h"
#include "rdsbk/config.h"
#include "rdsbk/generate.h"
#include "rdsbk/services/s3.h"

#include <stdio.h>
#include <string.h>

enum { S_OPT_OUTPUT = 1, S_OPT_FORMAT, S_OPT_CODE_BUCKET };

struct s_opts {
    const char *dir;
    const char *format;
    const char *code_bucket;
};

static const struct rdsbk_cli_option s_options[] = {
    {"output", 'o', "DIR", "the directory to write (created if missing)", S_OPT_OUTPUT},
    {"format", 0, "FORMAT", "what to write: cloudformation (the only one, and the default)",
     S_OPT_FORMAT},
    {"code-bucket", 0, "BUCKET",
     "the S3 bucket (in Region-B) the templates' CodeBucket parameter defaults to",
     S_OPT_CODE_BUCKET},
    {NULL, 0, NULL, NULL, 0}};

static int s_option(int id, const char *value, void *payload) {
    struct s_opts *o = payload;

    if (id == S_OPT_OUTPUT)
        o->dir = value;
    else if (id == S_OPT_FORMAT)
        o->format = value;
    else if (id == S_OPT_CODE_BUCKET)
        o->code_bucket = value;
    return 0;
}

static int s_run(const struct rdsbk_cli_command *cmd, int argc, char **argv) {
    struct rdsbk_cli_args args;
    struct s_opts o = {NULL, "cloudformation", NULL};
    struct rdsbk_topology *topo = NULL;
    const char *problem;
    int start;
    int status = 1;

    start = rdsbk_cli_start(&args, cmd, argc, argv, s_option, &o);
    if (start != RDSBK_CLI_GO)
        return start;
    if (!o.dir) {
        rdsbk_cli_usage_error(cmd, "-o DIR is required");
        return 1;
    }
    if (strcmp(o.format, "cloudformation") != 0) {
        rdsbk_cli_usage_error(cmd, "--format: 'cloudformation' is the only format");
        return 1;
    }
    if (o.code_bucket && (problem = rdsbk_s3_check_bucket_name(o.code_bucket)) != NULL) {
        rdsbk_cli_usage_error(cmd, "--code-bucket: '%s' %s", o.code_bucket, problem);
        return 1;
    }
    if (rdsbk_cli_load_topology(&topo, &args))
        return 1;
    if (rdsbk_cli_offline_organization(topo, &args, "export"))
        goto cleanup;
    if (rdsbk_export_cloudformation(topo, o.dir, o.code_bucket)) {
        rdsbk_cli_print_error(&args);
        goto cleanup;
    }
    printf("Wrote the CloudFormation templates of stack %s to %s/: backup.template.json, a\n"
           "source-*.template.json per source, and code/, to copy to the CodeBucket as it is.\n"
           "Deploy the backup template first; its key's ARN is the source templates'\n"
           "SharedKeyArn. A source template goes to Region-B (%s) first, then to each Region-A.\n",
           topo->stack, o.dir, topo->backup.region);
    status = 0;

cleanup:
    rdsbk_topology_free(topo);
    return status;
}

const struct rdsbk_cli_command rdsbk_cmd_export = {
    "export",
    "Write the pipeline as CloudFormation templates",
    "export --format cloudformation -o DIR [--code-bucket BUCKET] [-f FILE]",
    "Writes the pipeline as CloudFormation, without calling AWS: backup.template.json (the\n"
    "backup side), source-<ou>.template.json for each OU source and "
    "source-<account>.template.json\n"
    "for each source account (everything in a source account: roles, functions, queues, log\n"
    "groups, rules), and the functions' zips under code/, at the S3 keys the templates name. The\n"
    "source templates take the backup key's ARN (SharedKeyArn) and the bucket of the zips\n"
    "(CodeBucket, in Region-B, readable by the accounts they are deployed in; --code-bucket sets\n"
    "its default). The function code is too large for a template's body, so it is never inline.\n"
    "A source template is deployed in Region-B first, then in each Region-A: as a StackSet,\n"
    "Region-B first in the Regions' order. The same topology always gives identical files.\n"
    "Organisation mode only (backup.organization_id): otherwise the key policy names each\n"
    "account's copy role, which must exist before the key, and use it after.",
    RDSBK_CLI_FILE | RDSBK_CLI_OUTPUT,
    s_options,
    0,
    s_run,
    NULL};
