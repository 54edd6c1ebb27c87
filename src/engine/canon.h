#ifndef RDSBK_ENGINE_CANON_H
#define RDSBK_ENGINE_CANON_H

#include <cjson/cJSON.h>
#include <stdbool.h>

/*
 * Semantic comparison of attribute values, with the equivalences AWS applies, so that a plan never
 * shows a change that is not one:
 *   - objects compare by content, whatever the key order;
 *   - a one-element list equals its element ("Action": "x" is "Action": ["x"]; "Statement": {..}
 *     is "Statement": [{..}]);
 *   - lists compare as sets (AWS ignores the order of actions, resources, principals, pattern
 *     values), except the operand list of an EventBridge "numeric" matcher, whose order matters;
 *   - true/false equal "true"/"false" (KMS and IAM return condition values either way).
 * Strings are compared exactly otherwise.
 */

/* The canonical text of `value` (caller frees); NULL on ENOMEM. */
char *rdsbk_canon_text(const cJSON *value);

/* Whether two values are equivalent. An absent value (NULL) equals only another absent one. */
bool rdsbk_canon_equal(const cJSON *a, const cJSON *b);

#endif
