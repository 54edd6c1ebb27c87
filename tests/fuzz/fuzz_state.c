/*
 * Fuzz target: the state loader (rdsbk_state_parse). A state that loads must serialise
 * (rdsbk_state_to_json), and what it serialises to must load again with the same stack,
 * lineage, serial and resource count: otherwise the next save would write a state the tool
 * cannot read back.
 */
#include "fuzz.h"

#include "rdsbk/state.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct rdsbk_state *st = NULL;
    struct rdsbk_state *again = NULL;
    char *text = NULL;

    if (rdsbk_state_parse(&st, (const char *)data, size, "fuzz.state.json", NULL) != 0)
        goto cleanup;
    (void)rdsbk_state_find(st, "backup.kms_key.shared");
    text = rdsbk_state_to_json(st);
    if (!text)
        goto cleanup;
    if (rdsbk_state_parse(&again, text, strlen(text), "round trip", st->stack) != 0)
        abort(); /* a state we read, written out, must read back */
    if (again->serial != st->serial || again->n_resources != st->n_resources ||
        strcmp(again->lineage, st->lineage) != 0)
        abort();

cleanup:
    rdsbk_state_free(again);
    free(text);
    rdsbk_state_free(st);
    return 0;
}
