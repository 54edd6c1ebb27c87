#ifndef RDSBK_JSON_UTIL_H
#define RDSBK_JSON_UTIL_H

#include <cjson/cJSON.h>
#include <stdbool.h>

/*
 * Replaces `child` of `parent` (an object or an array) by `replacement`, keeping the child's key.
 * Takes ownership of `replacement` (freed on failure); frees `child`. Returns 0 or RDSBK_ENOMEM.
 */
int rdsbk_json_replace(cJSON *parent, cJSON *child, cJSON *replacement);

#endif
