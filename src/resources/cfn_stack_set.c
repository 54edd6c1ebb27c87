/*
 * cfn_stack_set {name, description, template, parameters, ou, regions, code_bucket, code_keys,
 * tags} (+ "arn" and "instances" when read): the source side of an OU source, a service-managed
 * CloudFormation StackSet with auto-deployment in the account that administers it, deployed to
 * the OU's accounts in `regions` (Region-B first: the rules of a Region-A use the role made
 * there). The id is its name.
 *
 * The functions' zips go to `code_bucket` at `code_keys` ({package: key}, content-addressed)
 * before the template that names them; objects already there are written again, the same bytes.
 * Create: CreateStackSet, then CreateStackInstances for the OU. Update: UpdateStackSet when the
 * template, parameters or tags changed (every instance follows), then instances for Regions
 * added, and away from Regions removed. Delete: the instances, the set, then the zips.
 *
 * Each change to instances or to the template is an operation CloudFormation runs after the call
 * returns; the resource waits for it to end (DescribeStackSetOperation) and reports the
 * instances that failed (ListStackSetOperationResults). A call refused because another operation
 * of the set runs (an auto-deployment, when an account joined the OU) is tried again.
 *
 * Read: DescribeStackSet (the template, parsed, its parameters, tags and OU) and
 * ListStackInstances: "regions" are those the instances are in, Region-B first; for an OU
 * without accounts, which has none, the last known ones.
 */
#include "resources_internal.h"

#include "rdsbk/error.h"
#include "rdsbk/lambda_pkg.h"
#include "rdsbk/log.h"
#include "rdsbk/services/cloudformation.h"
#include "rdsbk/services/s3.h"

#include <stdlib.h>
#include <string.h>

#define S_TYPE "cfn_stack_set"
/* How long an operation may run: StackSets deploy an account after another, a few minutes each. */
#define S_OPERATION_BUDGET_MS (120L * 60 * 1000)
/* How long a call waits for another operation of the set (an auto-deployment) to end. */
#define S_IN_PROGRESS_BUDGET_MS (30L * 60 * 1000)

/* ---- operations ---- */

/* Waits for operation `op` of set `name` to end; RDSBK_ERROR naming the instances that failed
 * when it did not succeed. */
static int s_wait(struct rdsbk_client *client, const char *name, const char *op, const char *what) {
    struct rdsbk_backoff b;
    char *status = NULL;
    char *reason = NULL;
    char *failures = NULL;
    int rc;

    rdsbk_backoff_init(&b, 200, 10000, 1.5, S_OPERATION_BUDGET_MS);
    for (;;) {
        RDSBK_TRY(rdsbk_cfn_operation_status(&status, &reason, client, name, op));
        if (strcmp(status, "SUCCEEDED") == 0)
            break;
        if (strcmp(status, "FAILED") == 0 || strcmp(status, "STOPPED") == 0) {
            rc = rdsbk_cfn_operation_failures(&failures, client, name, op);
            rc = rdsbk_error_set(RDSBK_ERROR, "StackSet %s: %s %s: %s%s%s", name, what, status,
                                 reason && *reason ? reason : "",
                                 reason && *reason && !rc && *failures ? "; " : "",
                                 !rc ? failures : "");
            goto cleanup;
        }
        if (!rdsbk_res_backoff_wait(&b, "StackSet %s: %s %s", name, what, status)) {
            rc = rdsbk_error_set(RDSBK_ETIMEOUT, "StackSet %s: %s still %s after %ld minutes", name,
                                 what, status, S_OPERATION_BUDGET_MS / 60000);
            goto cleanup;
        }
        free(status);
        free(reason);
        status = reason = NULL;
    }

cleanup:
    free(status);
    free(reason);
    free(failures);
    return rc;
}

static bool s_in_progress(int rc) {
    return rc == RDSBK_ECONFLICT && rdsbk_res_aws_error_is("OperationInProgressException", NULL);
}

/* Starts an operation on the set (`start` with `arg`), again while another one runs, then waits
 * for it. */
typedef int (*s_start_fn)(char **op, struct rdsbk_client *client, const void *arg);

static int s_operation(struct rdsbk_client *client, const char *name, const char *what,
                       s_start_fn start, const void *arg) {
    struct rdsbk_backoff b;
    char *op = NULL;
    int rc;

    rdsbk_backoff_init(&b, 1000, 15000, 2.0, S_IN_PROGRESS_BUDGET_MS);
    while (s_in_progress(rc = start(&op, client, arg)) &&
           rdsbk_res_backoff_wait(&b, "StackSet %s: %s: another operation runs", name, what))
        ;
    if (rc == 0) {
        rdsbk_log_verbose("StackSet %s: %s (operation %s)", name, what, op);
        rc = s_wait(client, name, op, what);
    }
    free(op);
    return rc;
}

/* Instances to make or remove: the OU's, in these Regions. */
struct s_instances {
    bool create;
    const char *name;
    const char *ou;
    const char **regions;
    size_t n;
};

static int s_start_instances(char **op, struct rdsbk_client *client, const void *arg) {
    const struct s_instances *in = arg;

    return rdsbk_cfn_stack_instances(op, client, in->create, in->name, in->ou, in->regions, in->n);
}

static int s_instances(struct rdsbk_client *client, const struct s_instances *in) {
    if (in->n == 0)
        return 0;
    return s_operation(client, in->name, in->create ? "deploying to the OU" : "leaving the OU",
                       s_start_instances, in);
}

/* ---- what the set is made of, from the desired attributes ---- */

/* The desired attributes as the calls take them; released with s_spec_clean_up. */
struct s_spec {
    struct rdsbk_cfn_stack_set_input in;
    char *template_body;
    const char *ou;
    const char **regions; /* borrowed from the attributes */
    size_t n_regions;
    struct rdsbk_tag *parameters;
    struct rdsbk_tag *tags;
};

static void s_spec_clean_up(struct s_spec *s) {
    free(s->template_body);
    free(s->regions);
    rdsbk_aws_tags_free(s->parameters, s->in.n_parameters);
    rdsbk_aws_tags_free(s->tags, s->in.n_tags);
    memset(s, 0, sizeof(*s));
}

/* The strings of array `arr` (borrowed) into *out (the caller frees the array). */
static int s_strings(const char ***out, size_t *n, const cJSON *arr) {
    const cJSON *it;
    size_t i = 0;

    *n = (size_t)cJSON_GetArraySize(arr);
    *out = calloc(*n ? *n : 1, sizeof(**out));
    if (!*out)
        return rdsbk_error_oom();
    cJSON_ArrayForEach(it, arr) {
        if (!cJSON_IsString(it))
            return rdsbk_error_set(RDSBK_EINVALID, "%s: regions must be strings", S_TYPE);
        (*out)[i++] = it->valuestring;
    }
    return 0;
}

static int s_spec(struct s_spec *s, const cJSON *desired) {
    int rc;

    memset(s, 0, sizeof(*s));
    RDSBK_TRY(rdsbk_res_require(&s->in.name, desired, "name", S_TYPE));
    RDSBK_TRY(rdsbk_res_require(&s->ou, desired, "ou", S_TYPE));
    s->in.description = rdsbk_json_str(desired, "description");
    s->template_body =
        cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(desired, "template"));
    RDSBK_CHECK_ALLOC(s->template_body);
    s->in.template_body = s->template_body;
    RDSBK_TRY(rdsbk_res_tags_from_json(&s->parameters, &s->in.n_parameters,
                                       cJSON_GetObjectItemCaseSensitive(desired, "parameters")));
    s->in.parameters = s->parameters;
    RDSBK_TRY(rdsbk_res_tags_from_json(&s->tags, &s->in.n_tags,
                                       cJSON_GetObjectItemCaseSensitive(desired, "tags")));
    s->in.tags = s->tags;
    rc =
        s_strings(&s->regions, &s->n_regions, cJSON_GetObjectItemCaseSensitive(desired, "regions"));

cleanup:
    if (rc)
        s_spec_clean_up(s);
    return rc;
}

/* Puts each zip of `code_keys` ({package: key}) into `code_bucket`. */
static int s_upload_code(struct rdsbk_client *client, const cJSON *desired) {
    const char *bucket = rdsbk_json_str(desired, "code_bucket");
    const cJSON *key;
    struct rdsbk_buf zip = RDSBK_BUF_INIT;
    char sha[RDSBK_CODE_SHA256_LEN + 1];
    int rc = 0;

    cJSON_ArrayForEach(key, cJSON_GetObjectItemCaseSensitive(desired, "code_keys")) {
        RDSBK_TRY(rdsbk_lambda_package_cached(&zip, sha, key->string));
        RDSBK_TRY(rdsbk_s3_put_object(NULL, client, bucket, key->valuestring, rdsbk_buf_cstr(&zip),
                                      rdsbk_buf_len(&zip), NULL));
        rdsbk_log_verbose("put the %s function's code at s3://%s/%s", key->string, bucket,
                          key->valuestring);
    }

cleanup:
    rdsbk_buf_clean_up(&zip);
    return rc;
}

/* Deletes the zips of `code_keys` from `code_bucket` (one already gone will do). */
static int s_delete_code(struct rdsbk_client *client, const cJSON *attributes) {
    const char *bucket = rdsbk_json_str(attributes, "code_bucket");
    const cJSON *key;
    int rc = 0;

    cJSON_ArrayForEach(key, cJSON_GetObjectItemCaseSensitive(attributes, "code_keys")) {
        if (!bucket || !cJSON_IsString(key))
            continue;
        rc = rdsbk_s3_delete_object(client, bucket, key->valuestring, NULL);
        if (rc == RDSBK_ENOTFOUND)
            rc = 0;
        RDSBK_TRY(rc);
    }

cleanup:
    return rc;
}

/* Deletes the zips `old` ({package: key}, what the last apply put) had that `desired` no longer
 * names: the code of the functions before an update. */
static int s_delete_old_code(struct rdsbk_client *client, const cJSON *desired, const cJSON *old) {
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(desired, "code_keys");
    const char *bucket = rdsbk_json_str(old, "code_bucket");
    const cJSON *key;
    int rc = 0;

    cJSON_ArrayForEach(key, cJSON_GetObjectItemCaseSensitive(old, "code_keys")) {
        const cJSON *now = cJSON_GetObjectItemCaseSensitive(keys, key->string);
        if (!bucket || !cJSON_IsString(key) ||
            (cJSON_IsString(now) && strcmp(now->valuestring, key->valuestring) == 0))
            continue;
        rc = rdsbk_s3_delete_object(client, bucket, key->valuestring, NULL);
        RDSBK_TRY(rc == RDSBK_ENOTFOUND ? 0 : rc);
        rdsbk_log_verbose("deleted the old code s3://%s/%s", bucket, key->valuestring);
    }

cleanup:
    return rc == RDSBK_ENOTFOUND ? 0 : rc;
}

/* ---- read ---- */

/* Whether `a` is listed in `arr` (strings). */
static bool s_listed(const cJSON *arr, const char *a) {
    const cJSON *it;

    cJSON_ArrayForEach(it, arr) {
        if (cJSON_IsString(it) && strcmp(it->valuestring, a) == 0)
            return true;
    }
    return false;
}

/* The Regions of `instances`, each once, Region-B (`home`) first, then as listed. */
static cJSON *s_regions_of(const cJSON *instances, const char *home) {
    cJSON *regions = cJSON_CreateArray();
    const cJSON *i;

    cJSON_ArrayForEach(i, instances) {
        if (regions && strcmp(rdsbk_json_str(i, "region"), home) == 0 && !s_listed(regions, home))
            cJSON_AddItemToArray(regions, cJSON_CreateString(home));
    }
    cJSON_ArrayForEach(i, instances) {
        const char *r = rdsbk_json_str(i, "region");
        if (regions && !s_listed(regions, r))
            cJSON_AddItemToArray(regions, cJSON_CreateString(r));
    }
    return regions;
}

static int s_read(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    struct rdsbk_cfn_stack_set set = {0};
    const char *name = rdsbk_res_name(ref);
    cJSON *instances = NULL;
    cJSON *listed;
    cJSON *params;
    cJSON *out = NULL;
    cJSON *tags = NULL;
    int rc;

    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(rdsbk_cfn_describe_stack_set(&set, client, name));
    RDSBK_TRY(rdsbk_cfn_list_stack_instances(&instances, client, name));
    RDSBK_CHECK_ALLOC(out = cJSON_CreateObject());
    RDSBK_TRY(rdsbk_json_add_str(out, "name", name));
    RDSBK_TRY(rdsbk_res_add_parsed(out, "template", set.template_body ? set.template_body : "{}",
                                   "cloudformation:DescribeStackSet TemplateBody"));
    params = set.parameters; /* taken over by the add, whatever its outcome */
    set.parameters = NULL;
    RDSBK_TRY(rdsbk_json_add(out, "parameters", params));
    RDSBK_TRY(rdsbk_json_add_opt_str(out, "ou", set.ou));
    if (cJSON_GetArraySize(instances) > 0) {
        RDSBK_TRY(rdsbk_json_add(out, "regions", s_regions_of(instances, ref->region)));
    } else {
        /* an OU without accounts has no instances to tell its Regions: the last known */
        RDSBK_TRY(rdsbk_json_copy_member(out, ref->attributes, "regions"));
    }
    tags = rdsbk_json_tags_map(set.tags, set.n_tags);
    RDSBK_TRY(rdsbk_json_add(out, "tags", tags));
    listed = instances;
    instances = NULL;
    RDSBK_TRY(rdsbk_json_add(out, "instances", listed));
    RDSBK_TRY(rdsbk_json_add_str(out, "arn", set.arn));
    rc = rdsbk_res_found(actual_out, id_out, &out, name);

cleanup:
    rdsbk_cfn_stack_set_clean_up(&set);
    cJSON_Delete(instances);
    cJSON_Delete(out);
    return rc;
}

/* ---- create, update, delete ---- */

static int s_start_update(char **op, struct rdsbk_client *client, const void *arg) {
    const struct s_spec *spec = arg;

    return rdsbk_cfn_update_stack_set(op, client, &spec->in, spec->regions, spec->n_regions);
}

static int s_create(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    struct s_spec spec;
    int rc;

    (void)ref;
    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(s_spec(&spec, desired));
    rc = s_upload_code(client, desired);
    if (rc == 0)
        rc = rdsbk_cfn_create_stack_set(client, &spec.in);
    if (rc == 0) {
        const struct s_instances in = {true, spec.in.name, spec.ou, spec.regions, spec.n_regions};
        rdsbk_log_verbose("created StackSet %s", spec.in.name);
        rc = s_instances(client, &in);
    }
    if (rc == 0)
        rc = rdsbk_res_written(actual_out, id_out, desired, spec.in.name, NULL, NULL);
    s_spec_clean_up(&spec);

cleanup:
    return rc;
}

/* The Regions of `from` that `other` does not list (borrowed), into *out (caller frees). */
static int s_regions_missing(const char ***out, size_t *n, const cJSON *from, const cJSON *other) {
    const cJSON *it;

    *n = 0;
    *out = calloc((size_t)cJSON_GetArraySize(from) + 1, sizeof(**out));
    if (!*out)
        return rdsbk_error_oom();
    cJSON_ArrayForEach(it, from) {
        if (cJSON_IsString(it) && !s_listed(other, it->valuestring))
            (*out)[(*n)++] = it->valuestring;
    }
    return 0;
}

static int s_update(cJSON **actual_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired,
                    const cJSON *actual) {
    static const char *const set_keys[] = {"template", "parameters", "tags", NULL};
    const cJSON *want = cJSON_GetObjectItemCaseSensitive(desired, "regions");
    const cJSON *have = cJSON_GetObjectItemCaseSensitive(actual, "regions");
    struct s_instances added = {true, NULL, NULL, NULL, 0};
    struct s_instances removed = {false, NULL, NULL, NULL, 0};
    struct s_spec spec;
    int rc;

    *actual_out = NULL;
    RDSBK_TRY(s_spec(&spec, desired));
    added.name = removed.name = spec.in.name;
    added.ou = removed.ou = spec.ou;
    rc = s_regions_missing(&added.regions, &added.n, want, have);
    if (rc == 0)
        rc = s_regions_missing(&removed.regions, &removed.n, have, want);
    if (rc == 0 && rdsbk_res_any_changed(desired, actual, set_keys)) {
        rc = s_upload_code(client, desired);
        if (rc == 0)
            rc = s_operation(client, spec.in.name, "updating its stacks", s_start_update, &spec);
    }
    if (rc == 0)
        rc = s_instances(client, &removed);
    if (rc == 0)
        rc = s_instances(client, &added);
    if (rc == 0)
        rc = s_delete_old_code(client, desired, ref->attributes);
    if (rc == 0)
        rc = rdsbk_res_written(actual_out, NULL, desired, spec.in.name, NULL, NULL);
    free(added.regions);
    free(removed.regions);
    s_spec_clean_up(&spec);

cleanup:
    return rc;
}

static int s_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    const char *name = rdsbk_res_name(ref);
    struct rdsbk_cfn_stack_set set;
    struct s_instances in = {false, name, NULL, NULL, 0};
    cJSON *instances = NULL;
    cJSON *regions = NULL;
    int rc;

    /* gone already: so are its instances (a set with some cannot be deleted) */
    RDSBK_TRY(rdsbk_cfn_describe_stack_set(&set, client, name));
    rdsbk_cfn_stack_set_clean_up(&set);
    RDSBK_TRY(rdsbk_cfn_list_stack_instances(&instances, client, name));
    regions = s_regions_of(instances, ref->region);
    RDSBK_CHECK_ALLOC(regions);
    in.ou = cJSON_GetArraySize(instances) ? rdsbk_json_str(instances->child, "ou")
                                          : rdsbk_json_str(ref->attributes, "ou");
    RDSBK_TRY(s_strings(&in.regions, &in.n, regions));
    RDSBK_TRY(s_instances(client, &in));
    RDSBK_TRY(rdsbk_cfn_delete_stack_set(client, name));
    rdsbk_log_verbose("deleted StackSet %s", name);
    rc = s_delete_code(client, ref->attributes);

cleanup:
    free(in.regions);
    cJSON_Delete(regions);
    cJSON_Delete(instances);
    return rc;
}

static const char *const s_force_new[] = {"name", "ou", NULL};
/* settings of the tool (where the code goes), and what only a read knows */
static const char *const s_no_diff[] = {"description", "code_bucket", "code_keys", "instances",
                                        NULL};
static const char *const s_shown[] = {"instances", NULL};

const struct rdsbk_resource_ops rdsbk_res_cfn_stack_set_ops = {
    .type = RDSBK_RT_CFN_STACK_SET,
    .read = s_read,
    .create = s_create,
    .update = s_update,
    .remove = s_remove,
    .read_calls = 2,  /* DescribeStackSet, ListStackInstances */
    .write_calls = 4, /* the zips, the call, the operation's polls */
    .force_new = s_force_new,
    .no_diff = s_no_diff,
    .shown = s_shown,
    .service = "cloudformation",
};
