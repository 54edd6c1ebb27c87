#include "commands.h"
#include "rdsbk/config.h"
#include "rdsbk/error.h"
#include "rdsbk/model.h"
#include "rdsbk/str.h"

#include <stdio.h>
#include <stdlib.h>

/* "o-" and the 32 characters an organisation id may have at most (Organizations' pattern). */
#define S_LONGEST_ORGANIZATION_ID "o-abcdefghijklmnopqrstuvwxyz012345"

static size_t s_databases(const struct rdsbk_topology *t) {
    size_t n = 0;

    for (size_t i = 0; i < t->n_sources; i++)
        n += t->sources[i].n_instances + t->sources[i].n_clusters;
    return n;
}

/* Each OU source: where it is deployed from, and to which Regions. Its accounts are unknown here,
 * and retention's estimate counts none of them (their quotas are each account's own). */
static void s_print_ous(const struct rdsbk_topology *t) {
    for (size_t i = 0; i < t->n_ou_sources; i++) {
        const struct rdsbk_source *s = &t->ou_sources[i];
        size_t dbs = s->n_instances + s->n_clusters;
        char *name = rdsbk_model_stack_set_name(t->stack, s->ou);

        printf("  OU %s: %zu database%s in every account, in", s->ou, dbs, dbs == 1 ? "" : "s");
        for (size_t k = 0; k < s->n_regions; k++)
            printf("%s %s", k ? "," : "", s->regions[k]);
        printf("; StackSet %s in %s, code in s3://%s\n", name ? name : "?", s->account,
               s->code_bucket);
        free(name);
    }
}

/* What retention keeps, per account and kind, against RDS's quotas. */
static void s_print_snapshots(const struct rdsbk_graph *g) {
    for (size_t i = 0; i < g->n_snapshots; i++) {
        const struct rdsbk_snapshot_estimate *e = &g->snapshots[i];
        printf("  manual snapshots kept in %s/%s: about %d of %d %s (%d database%s x %d)\n",
               e->account, e->region, e->databases * e->per_database, e->quota, e->quota_name,
               e->databases, e->databases == 1 ? "" : "s", e->per_database);
    }
}

static int s_run(const struct rdsbk_cli_command *cmd, int argc, char **argv) {
    struct rdsbk_cli_args args;
    int start;
    struct rdsbk_topology *topo = NULL;
    struct rdsbk_graph *graph = NULL;
    char *json = NULL;
    size_t dbs;
    int status = 1;

    start = rdsbk_cli_start(&args, cmd, argc, argv, NULL, NULL);
    if (start != RDSBK_CLI_GO)
        return start;
    if (rdsbk_cli_load_topology(&topo, &args))
        goto cleanup;
    /* organization: true is read from AWS by the commands that call it; the documents' sizes
     * are checked with the longest id an organisation may have */
    if (topo->backup.organization && !topo->backup.organization_id &&
        rdsbk_strdup_into(&topo->backup.organization_id, S_LONGEST_ORGANIZATION_ID)) {
        rdsbk_cli_print_error(&args);
        goto cleanup;
    }
    /* what only the pipeline's documents show (a policy over IAM's size quota) */
    if (rdsbk_model_build(&graph, topo) || rdsbk_model_check_quotas(graph)) {
        rdsbk_cli_print_error(&args);
        goto cleanup;
    }
    if (args.json) {
        json = rdsbk_topology_to_json(topo);
        if (!json) {
            rdsbk_error_oom();
            rdsbk_cli_print_error(&args);
            goto cleanup;
        }
        printf("%s\n", json);
    } else {
        dbs = s_databases(topo);
        printf("%s: valid: stack %s, %zu source%s", args.file, topo->stack, topo->n_sources,
               topo->n_sources == 1 ? "" : "s");
        if (topo->n_sources == 1)
            printf(" (%s/%s)", topo->sources[0].account, topo->sources[0].region);
        printf(", %zu database%s -> backup %s/%s, key %s\n", dbs, dbs == 1 ? "" : "s",
               topo->backup.account, topo->backup.region, topo->key.alias);
        if (topo->backup.organization)
            printf("  organisation: the backup account's (read from AWS by plan and apply): the "
                   "backup side admits its accounts\n");
        else if (topo->backup.organization_id)
            printf("  organisation %s: the backup side admits its accounts\n",
                   topo->backup.organization_id);
        s_print_ous(topo);
        s_print_snapshots(graph);
    }
    status = 0;

cleanup:
    free(json);
    rdsbk_graph_free(graph);
    rdsbk_topology_free(topo);
    return status;
}

const struct rdsbk_cli_command rdsbk_cmd_validate = {
    "validate",
    "Check a topology file and print a summary",
    "validate [-f FILE] [--json]",
    "Reads the topology file, checks it, and prints a one-line summary (--json: the normalised\n"
    "topology with every default filled in). Every problem is reported, each as\n"
    "FILE:LINE:COL: error: MESSAGE, and the exit status is then 1; then the pipeline is built as\n"
    "plan would, and a document past an AWS quota is reported. No AWS call is made.",
    RDSBK_CLI_FILE | RDSBK_CLI_JSON | RDSBK_CLI_OUTPUT,
    NULL,
    0,
    s_run,
    NULL};
