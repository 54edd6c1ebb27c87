#ifndef RDSBK_MODEL_INTERNAL_H
#define RDSBK_MODEL_INTERNAL_H

#include "rdsbk/model.h"

/* Fills g->snapshots: the manual snapshots retention keeps, per account and kind, in g->region
 * (snapshots.c). 0 or RDSBK_ENOMEM with the error set. */
int rdsbk_model_estimate_snapshots(struct rdsbk_graph *g, const struct rdsbk_topology *t);

/*
 * A view of `t` (rdsbk_model_view_free frees it; it borrows everything else from `t`, which must
 * outlive it) with these sources: with `only` NULL, t's account sources and then, for each OU
 * source, one source per Region of its stand-in account (rdsbk_model_stand_in), `ou` still set;
 * with `only` an OU source of t, that one's alone; with `only` an account source, every account
 * source of its account. No OU sources. 0 or RDSBK_ENOMEM.
 */
int rdsbk_model_view(struct rdsbk_topology **out, const struct rdsbk_topology *t,
                     const struct rdsbk_source *only);

/* The graph of the source side of `source` (an OU source of `topo`, whose accounts its stand-in
 * stands for, or an account source) and of the backup side, for its CloudFormation template. */
int rdsbk_model_build_source(struct rdsbk_graph **out, const struct rdsbk_topology *topo,
                             const struct rdsbk_source *source);

/* The account that stands for the accounts of OU source `i` in a view: "000000000001" for the
 * first (no real account: the templates of an OU replace it with their AWS::AccountId). */
void rdsbk_model_stand_in(char out[RDSBK_ACCOUNT_LEN + 1], size_t i);

#endif
