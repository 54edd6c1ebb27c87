#ifndef RDSBK_MODEL_TEMPLATE_JSON_H
#define RDSBK_MODEL_TEMPLATE_JSON_H

#include <cjson/cJSON.h>

/* A template variable: `name` without the ${}, `value` borrowed. */
struct rdsbk_tvar {
    const char *name;
    const cJSON *value;
};

/*
 * Parses the embedded JSON template at `path` (under templates/) and substitutes variables: a
 * string that is exactly "${name}" becomes a copy of the variable's value (a string, a list, an
 * object); "${name}" inside a longer string is replaced by the variable's string value. References
 * to other resources (`${ADDRESS#attr}`, with a '#') are left as they are. Returns 0 and *out (the
 * caller frees it with cJSON_Delete), or RDSBK_EINVALID (an unknown template, bad JSON, an
 * unknown variable: all build defects) or RDSBK_ENOMEM, with the error set and *out NULL.
 */
int rdsbk_template_json(cJSON **out, const char *path, const struct rdsbk_tvar *vars,
                        size_t n_vars);

#endif
