/* The names of a resource that lives inside another (a rule's target, a function's statement, a
 * role's inline policy) and the id that joins them; see resources_internal.h. */
#include "resources_internal.h"

#include "rdsbk/error.h"

#include <stdlib.h>
#include <string.h>

int rdsbk_res_names_of(struct rdsbk_res_names *out, const struct rdsbk_resource_ref *ref,
                       const struct rdsbk_res_inner *in) {
    const char *split = ref->id ? strchr(ref->id, in->sep) : NULL;
    const char *outer = rdsbk_json_str(ref->attributes, in->outer_key);
    const char *inner = rdsbk_json_str(ref->attributes, in->inner_key);
    int rc;

    memset(out, 0, sizeof(*out));
    if (split && split != ref->id && split[1]) {
        /* the id says both */
        RDSBK_TRY(rdsbk_strfmt(&out->outer, "%.*s", (int)(split - ref->id), ref->id));
        inner = split + 1;
    } else {
        if (in->name_is_outer && !outer)
            outer = ref->name;
        if (!in->name_is_outer && !inner)
            inner = ref->name;
        if (!outer || !inner) {
            rc = rdsbk_error_set(RDSBK_EINVALID, "%s: %s and %s are needed", in->type,
                                 in->outer_key, in->inner_key);
            goto cleanup;
        }
        RDSBK_TRY(rdsbk_strdup_into(&out->outer, outer));
    }
    RDSBK_TRY(rdsbk_strdup_into(&out->inner, inner));
    rc = rdsbk_strfmt(&out->id, "%s%c%s", out->outer, in->sep, out->inner);

cleanup:
    if (rc)
        rdsbk_res_names_clean_up(out);
    return rc;
}

void rdsbk_res_names_clean_up(struct rdsbk_res_names *names) {
    free(names->outer);
    free(names->inner);
    free(names->id);
    memset(names, 0, sizeof(*names));
}

int rdsbk_res_names_attrs(cJSON **out, const struct rdsbk_res_names *names,
                          const struct rdsbk_res_inner *in) {
    cJSON *attrs = cJSON_CreateObject();
    int rc;

    *out = NULL;
    RDSBK_CHECK_ALLOC(attrs);
    RDSBK_TRY(rdsbk_json_add_str(attrs, in->outer_key, names->outer));
    RDSBK_TRY(rdsbk_json_add_str(attrs, in->inner_key, names->inner));
    *out = attrs;
    attrs = NULL;

cleanup:
    cJSON_Delete(attrs);
    return rc;
}

int rdsbk_res_inner_require(const char **outer, const char **inner, const cJSON *desired,
                            const struct rdsbk_res_inner *in) {
    int rc = rdsbk_res_require(outer, desired, in->outer_key, in->type);

    return rc ? rc : rdsbk_res_require(inner, desired, in->inner_key, in->type);
}

int rdsbk_res_inner_written(cJSON **actual_out, char **id_out, const cJSON *desired,
                            const struct rdsbk_res_inner *in) {
    const char *outer = NULL;
    const char *inner = NULL;
    char *id = NULL;
    int rc;

    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(rdsbk_res_inner_require(&outer, &inner, desired, in));
    RDSBK_TRY(rdsbk_strfmt(&id, "%s%c%s", outer, in->sep, inner));
    rc = rdsbk_res_written(actual_out, id_out, desired, id, NULL, NULL);

cleanup:
    free(id);
    return rc;
}

int rdsbk_res_inner_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref,
                           const struct rdsbk_res_inner *in, rdsbk_res_inner_fn remove) {
    struct rdsbk_res_names names;
    int rc;

    RDSBK_TRY(rdsbk_res_names_of(&names, ref, in));
    rc = remove(client, names.outer, names.inner);

cleanup:
    rdsbk_res_names_clean_up(&names);
    return rc;
}
