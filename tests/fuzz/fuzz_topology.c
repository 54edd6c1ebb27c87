/*
 * Fuzz target: the topology parser and validator (rdsbk_topology_parse), and for a topology that
 * passes, its JSON form and the resource graph built from it.
 */
#include "fuzz.h"

#include "rdsbk/config.h"
#include "rdsbk/model.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct rdsbk_topology *topo = NULL;
    struct rdsbk_diagnostics diags = {0};
    struct rdsbk_graph *graph = NULL;
    char *json = NULL;

    if (rdsbk_topology_parse(&topo, &diags, "fuzz.yaml", (const char *)data, size) != 0)
        goto cleanup;
    json = rdsbk_topology_to_json(topo);
    if (rdsbk_model_build(&graph, topo) != 0)
        goto cleanup;

cleanup:
    rdsbk_graph_free(graph);
    free(json);
    rdsbk_topology_free(topo);
    rdsbk_diagnostics_clean_up(&diags);
    return 0;
}
