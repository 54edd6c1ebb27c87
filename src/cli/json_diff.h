#ifndef RDSBK_CLI_JSON_DIFF_H
#define RDSBK_CLI_JSON_DIFF_H

/*
 * JSON documents (policies, event patterns, environments) as a plan shows them: indented across
 * lines, and for an update the change inside the document, structurally, as Terraform shows a
 * jsonencode() change:
 *
 *       ~ policy = {
 *           ~ "Statement": [
 *               ~ {
 *                   ~ "Resource": [
 *                       + "arn:aws:rds:eu-west-1:111111111111:snapshot:billing-*",
 *                         # (4 unchanged elements hidden)
 *                     ]
 *                     # (3 unchanged attributes hidden)
 *                 },
 *                 # (2 unchanged elements hidden)
 *             ]
 *             # (1 unchanged attribute hidden)
 *         }
 *
 * Object members are matched by key (their order in either document does not matter, the
 * desired document's order is shown); array elements by a longest common subsequence, an object
 * removed and one added at the same place being one changed element. Every line is passed
 * through rdsbk_str_escape_terminal. A string holding an unresolved reference ("${addr#attr}")
 * shows as (known after apply).
 */

#include "rdsbk/buf.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

/* The colours of the signs ("" each for none). */
struct rdsbk_json_diff_style {
    const char *add, *remove, *change, *reset;
};

/* Appends to `out` the value `v` of an attribute, after "<name> = " on a line the caller has
 * begun: a scalar on that line, an object or array across lines, each indented by `margin`
 * spaces more than the line's start. Returns 0 or RDSBK_ENOMEM. */
int rdsbk_json_diff_value(struct rdsbk_buf *out, const cJSON *v, int margin);

/* The same for an attribute that changed from `before` to `after`: a scalar as "old -> new", a
 * document as its structural change. Returns 0 or RDSBK_ENOMEM. */
int rdsbk_json_diff_change(struct rdsbk_buf *out, const cJSON *before, const cJSON *after,
                           int margin, const struct rdsbk_json_diff_style *style);

/* The change from `before` to `after` as a list for machines: [{"path": "Statement[1].Resource[4]",
 * "action": "add" | "remove" | "change", "before": ..., "after": ...}] (members absent where
 * there is nothing), `path` relative to the attribute. NULL on ENOMEM. */
cJSON *rdsbk_json_diff_list(const cJSON *before, const cJSON *after);

#endif
