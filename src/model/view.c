/*
 * Views of a topology for the model: the sources as the graph is built from them. An OU source
 * (sources[] with ou:) stands for accounts the tool does not list; in a view it becomes one
 * source per Region of a stand-in account, so that the pieces of the pipeline that derive from
 * sources (snapshot globs, database lists, Region-named copies) derive from it as from any.
 */
#include "model_internal.h"

#include "rdsbk/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rdsbk_model_stand_in(char out[RDSBK_ACCOUNT_LEN + 1], size_t i) {
    snprintf(out, RDSBK_ACCOUNT_LEN + 1, "%012zu", i + 1);
}

/* Appends `s` to view->sources (room made by the caller), its account `account` when not NULL
 * and its Region-A `region` when not NULL. */
static void s_put(struct rdsbk_topology *view, const struct rdsbk_source *s, const char *account,
                  char *region) {
    struct rdsbk_source *d = &view->sources[view->n_sources++];

    *d = *s;
    if (account)
        snprintf(d->account, sizeof(d->account), "%s", account);
    if (region)
        d->region = region;
}

int rdsbk_model_view(struct rdsbk_topology **out, const struct rdsbk_topology *t,
                     const struct rdsbk_source *only) {
    struct rdsbk_topology *view = malloc(sizeof(*view));
    size_t n = t->n_sources;
    int rc = 0;

    *out = NULL;
    RDSBK_CHECK_ALLOC(view);
    for (size_t i = 0; i < t->n_ou_sources; i++)
        n += t->ou_sources[i].n_regions;
    *view = *t;
    view->ou_sources = NULL;
    view->n_ou_sources = 0;
    view->n_sources = 0;
    view->sources = calloc(n ? n : 1, sizeof(*view->sources));
    if (!view->sources) {
        free(view);
        return rdsbk_error_oom();
    }
    for (size_t i = 0; i < t->n_sources; i++) {
        const struct rdsbk_source *s = &t->sources[i];
        if (!only || (!only->ou && strcmp(s->account, only->account) == 0))
            s_put(view, s, NULL, NULL);
    }
    for (size_t i = 0; i < t->n_ou_sources; i++) {
        const struct rdsbk_source *s = &t->ou_sources[i];
        char stand_in[RDSBK_ACCOUNT_LEN + 1];

        if (only && only != s)
            continue;
        rdsbk_model_stand_in(stand_in, i);
        for (size_t k = 0; k < s->n_regions; k++)
            s_put(view, s, stand_in, s->regions[k]);
    }
    *out = view;

cleanup:
    return rc;
}

int rdsbk_model_member_view(struct rdsbk_topology **out, const struct rdsbk_topology *topo,
                            const struct rdsbk_source *ou, const char *account) {
    int rc = rdsbk_model_view(out, topo, ou);

    for (size_t i = 0; rc == 0 && i < (*out)->n_sources; i++)
        snprintf((*out)->sources[i].account, sizeof((*out)->sources[i].account), "%s", account);
    return rc;
}

void rdsbk_model_view_free(struct rdsbk_topology *view) {
    if (!view)
        return;
    free(view->sources);
    free(view);
}
