#ifndef RDSBK_MODEL_INTERNAL_H
#define RDSBK_MODEL_INTERNAL_H

#include "rdsbk/model.h"

/* Fills g->snapshots: the manual snapshots retention keeps, per account and kind, in g->region
 * (snapshots.c). 0 or RDSBK_ENOMEM with the error set. */
int rdsbk_model_estimate_snapshots(struct rdsbk_graph *g, const struct rdsbk_topology *t);

#endif
