/*
 * lambda_function {name, package, code_sha256, runtime, handler, role_arn, timeout, memory_size,
 * environment, tags} (+ "arn" when read; "package" cannot be read back and is absent). The id is
 * the function name.
 *
 * Lambda settles asynchronously: a new function is Pending before Active, and every change runs
 * with LastUpdateStatus InProgress, during which further changes answer
 * ResourceConflictException. Every create and change here waits for it to settle. A role created
 * moments ago is refused ("cannot be assumed by Lambda") until IAM has propagated it: that refusal
 * is retried for up to three minutes.
 */
#include "resources_internal.h"

#include "rdsbk/error.h"
#include "rdsbk/lambda_pkg.h"
#include "rdsbk/log.h"
#include "rdsbk/services/lambda.h"

#include <stdlib.h>
#include <string.h>

#define S_TYPE "lambda_function"
#define S_ROLE_RETRY_MS 180000L    /* role propagation: AWS needs ~10 s, rarely a minute */
#define S_SETTLE_MS 300000L        /* State / LastUpdateStatus settling */
#define S_CONFLICT_RETRY_MS 60000L /* an update of someone else still running */
#define S_ROLE_NOT_READY "cannot be assumed by Lambda"

static const char *s_name(const struct rdsbk_resource_ref *ref) {
    return ref->id && *ref->id ? ref->id : ref->name;
}

/* Waits until the function is neither Pending nor InProgress. RDSBK_ERROR when it ends Failed,
 * RDSBK_ETIMEOUT when it does not settle in time. */
/* Whether a function configuration shows the function settled: 0 when it is, 1 while State is
 * Pending or LastUpdateStatus InProgress, an error when either is Failed. */
static int s_settle_status(const cJSON *cfg, const char *name) {
    const char *state = rdsbk_json_str(cfg, "State");
    const char *update = rdsbk_json_str(cfg, "LastUpdateStatus");

    if ((state && strcmp(state, "Failed") == 0) || (update && strcmp(update, "Failed") == 0)) {
        const char *why = rdsbk_json_str(cfg, "StateReason");
        if (!why)
            why = rdsbk_json_str(cfg, "LastUpdateStatusReason");
        return rdsbk_error_set(RDSBK_ERROR, "Lambda function %s failed: %s", name,
                               why ? why : "no reason given");
    }
    return (state && strcmp(state, "Pending") == 0) || (update && strcmp(update, "InProgress") == 0)
               ? 1
               : 0;
}

/*
 * Waits until the function is settled (Active, its last update Successful), as AWS asks before
 * the next call on it. `reply` is the configuration the write returned: when it already shows the
 * function settled, nothing is polled.
 */
static int s_wait_settled(struct rdsbk_client *client, const char *name, const cJSON *reply) {
    struct rdsbk_backoff b;
    cJSON *cfg = NULL;
    int result = reply ? s_settle_status(reply, name) : 1;

    rdsbk_backoff_init(&b, 250, 5000, 2.0, S_SETTLE_MS);
    while (result == 1) {
        cJSON_Delete(cfg);
        cfg = NULL;
        result = rdsbk_lambda_get_function_configuration(&cfg, client, name);
        if (result == 0)
            result = s_settle_status(cfg, name);
        if (result == 1 &&
            !rdsbk_res_backoff_wait(&b,
                                    "lambda %s: waiting for State %s / LastUpdateStatus %s to "
                                    "settle",
                                    name, rdsbk_json_str(cfg, "State"),
                                    rdsbk_json_str(cfg, "LastUpdateStatus"))) {
            result = rdsbk_error_set(RDSBK_ETIMEOUT,
                                     "Lambda function %s did not settle in %ld s (State %s, "
                                     "LastUpdateStatus %s)",
                                     name, S_SETTLE_MS / 1000, rdsbk_json_str(cfg, "State"),
                                     rdsbk_json_str(cfg, "LastUpdateStatus"));
        }
    }
    cJSON_Delete(cfg);
    return result;
}

static int s_read(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    cJSON *fn = NULL;
    const cJSON *cfg;
    const cJSON *vars;
    const cJSON *tags;
    cJSON *out = NULL;
    int result;

    *actual_out = NULL;
    if (id_out)
        *id_out = NULL;
    result = rdsbk_lambda_get_function(&fn, client, s_name(ref));
    if (result)
        goto cleanup;
    cfg = cJSON_GetObjectItemCaseSensitive(fn, "Configuration");
    vars = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cfg, "Environment"),
                                            "Variables");
    tags = cJSON_GetObjectItemCaseSensitive(fn, "Tags");
    out = cJSON_CreateObject();
    result = out ? 0 : rdsbk_error_oom();
    if (result == 0)
        result = rdsbk_json_add_str(out, "name", rdsbk_json_str(cfg, "FunctionName"));
    if (result == 0)
        result = rdsbk_json_add_str(out, "code_sha256", rdsbk_json_str(cfg, "CodeSha256"));
    if (result == 0)
        result = rdsbk_json_add_str(out, "runtime", rdsbk_json_str(cfg, "Runtime"));
    if (result == 0)
        result = rdsbk_json_add_str(out, "handler", rdsbk_json_str(cfg, "Handler"));
    if (result == 0)
        result = rdsbk_json_add_str(out, "role_arn", rdsbk_json_str(cfg, "Role"));
    if (result == 0)
        result = rdsbk_json_add_num(out, "timeout", rdsbk_json_int(cfg, "Timeout", 3));
    if (result == 0)
        result = rdsbk_json_add_num(out, "memory_size", rdsbk_json_int(cfg, "MemorySize", 128));
    if (result == 0)
        result = rdsbk_json_add(out, "environment",
                                cJSON_IsObject(vars) ? cJSON_Duplicate(vars, true)
                                                     : cJSON_CreateObject());
    if (result == 0)
        result = rdsbk_json_add(
            out, "tags", cJSON_IsObject(tags) ? cJSON_Duplicate(tags, true) : cJSON_CreateObject());
    if (result == 0)
        result = rdsbk_json_add_str(out, "arn", rdsbk_json_str(cfg, "FunctionArn"));
    if (result == 0)
        result = rdsbk_res_set_id(id_out, rdsbk_json_str(cfg, "FunctionName"));
    if (result)
        goto cleanup;
    *actual_out = out;
    out = NULL;

cleanup:
    cJSON_Delete(fn);
    cJSON_Delete(out);
    return result;
}

/* The zip of the desired "package". */
static int s_package(struct rdsbk_buf *zip, const cJSON *desired) {
    char sha[RDSBK_CODE_SHA256_LEN + 1];
    const char *package = NULL;
    const char *want = rdsbk_json_str(desired, "code_sha256");
    int result = rdsbk_res_require(&package, desired, "package", S_TYPE);

    if (result == 0)
        result = rdsbk_lambda_package_cached(zip, sha, package);
    if (result == 0 && want && strcmp(want, sha) != 0)
        rdsbk_log_warn("Lambda package %s has CodeSha256 %s, the desired attributes say %s",
                       package, sha, want);
    return result;
}

/* The desired configuration as the service module takes it; `env` receives the environment
 * (rdsbk_aws_tags_free). */
static int s_config_input(struct rdsbk_lambda_function_input *in, struct rdsbk_tag **env,
                          size_t *n_env, const cJSON *desired) {
    int result;

    memset(in, 0, sizeof(*in));
    *env = NULL;
    *n_env = 0;
    result = rdsbk_res_require(&in->name, desired, "name", S_TYPE);
    if (result == 0)
        result = rdsbk_res_require(&in->role, desired, "role_arn", S_TYPE);
    if (result == 0)
        result = rdsbk_res_require(&in->handler, desired, "handler", S_TYPE);
    if (result == 0)
        result = rdsbk_res_require(&in->runtime, desired, "runtime", S_TYPE);
    if (result == 0)
        result = rdsbk_res_tags_from_json(env, n_env, cJSON_GetObjectItem(desired, "environment"));
    in->timeout = rdsbk_json_int(desired, "timeout", 0);
    in->memory_size = rdsbk_json_int(desired, "memory_size", 0);
    in->environment = *env;
    in->n_environment = *n_env;
    in->send_environment = true;
    return result;
}

static bool s_role_not_ready(int rc) {
    return rc == RDSBK_EINVALID &&
           rdsbk_res_aws_error_is("InvalidParameterValueException", S_ROLE_NOT_READY);
}

/* The function as written: the desired attributes but the package, which no read reports. */
static int s_written(cJSON **actual_out, char **id_out, const cJSON *desired, const char *name,
                     const char *arn) {
    int result = rdsbk_res_written(actual_out, id_out, desired, name, "arn", arn);

    if (result == 0)
        cJSON_DeleteItemFromObjectCaseSensitive(*actual_out, "package");
    return result;
}

static int s_create(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    struct rdsbk_lambda_function_input in;
    struct rdsbk_buf zip = RDSBK_BUF_INIT;
    struct rdsbk_backoff b;
    struct rdsbk_tag *env = NULL;
    size_t n_env = 0;
    struct rdsbk_tag *tags = NULL;
    size_t n_tags = 0;
    cJSON *created = NULL;
    int result;

    *actual_out = NULL;
    if (id_out)
        *id_out = NULL;
    result = s_config_input(&in, &env, &n_env, desired);
    if (result == 0)
        result = rdsbk_res_tags_from_json(&tags, &n_tags, cJSON_GetObjectItem(desired, "tags"));
    if (result == 0)
        result = s_package(&zip, desired);
    if (result)
        goto cleanup;
    in.zip = (const unsigned char *)zip.ptr;
    in.zip_len = zip.len;
    in.tags = tags;
    in.n_tags = n_tags;
    in.send_environment = false;
    rdsbk_backoff_init(&b, 1000, 10000, 2.0, S_ROLE_RETRY_MS);
    for (;;) {
        cJSON_Delete(created);
        created = NULL;
        result = rdsbk_lambda_create_function(&created, client, &in);
        if (!s_role_not_ready(result) ||
            !rdsbk_res_backoff_wait(&b,
                                    "lambda:CreateFunction %s: the role %s cannot be assumed by "
                                    "Lambda yet (IAM propagation)",
                                    in.name, in.role))
            break;
    }
    if (result)
        goto cleanup;
    rdsbk_log_verbose("created Lambda function %s; waiting for it to become Active", in.name);
    result = s_wait_settled(client, in.name, created);
    if (result == 0)
        result =
            s_written(actual_out, id_out, desired, in.name, rdsbk_json_str(created, "FunctionArn"));

cleanup:
    cJSON_Delete(created);
    rdsbk_buf_clean_up(&zip);
    rdsbk_aws_tags_free(env, n_env);
    rdsbk_aws_tags_free(tags, n_tags);
    return result;
}

/* Retries `call` while another update of the function is in progress (ResourceConflictException,
 * which is how AWS says so: no need to poll before), then waits for the new one to settle. */
typedef int (*s_change_fn)(cJSON **reply, struct rdsbk_client *client, const void *arg);

static int s_change(struct rdsbk_client *client, const char *name, s_change_fn call,
                    const void *arg, const char *what) {
    struct rdsbk_backoff b;
    cJSON *reply = NULL;
    int result;

    /* a new role in the configuration may need IAM propagation too: the longer bound */
    rdsbk_backoff_init(&b, 500, 10000, 2.0, S_ROLE_RETRY_MS);
    for (;;) {
        result = call(&reply, client, arg);
        if (!((result == RDSBK_ECONFLICT &&
               rdsbk_res_aws_error_is("ResourceConflictException", NULL)) ||
              s_role_not_ready(result)) ||
            !rdsbk_res_backoff_wait(&b, "%s %s: %s", what, name, rdsbk_error_last()->message))
            break;
    }
    if (result == 0)
        result = s_wait_settled(client, name, reply);
    cJSON_Delete(reply);
    return result;
}

struct s_code_arg {
    const char *name;
    const struct rdsbk_buf *zip;
};

static int s_update_code(cJSON **reply, struct rdsbk_client *client, const void *arg) {
    const struct s_code_arg *a = arg;
    return rdsbk_lambda_update_function_code(reply, client, a->name,
                                             (const unsigned char *)a->zip->ptr, a->zip->len);
}

static int s_update_config(cJSON **reply, struct rdsbk_client *client, const void *arg) {
    return rdsbk_lambda_update_function_configuration(reply, client, arg);
}

static int s_update(cJSON **actual_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired,
                    const cJSON *actual) {
    static const char *const config_keys[] = {"runtime", "handler",     "role_arn",
                                              "timeout", "memory_size", "environment"};
    const char *name = s_name(ref);
    const char *arn = rdsbk_json_str(actual, "arn");
    struct rdsbk_lambda_function_input in;
    struct rdsbk_buf zip = RDSBK_BUF_INIT;
    struct rdsbk_tag *env = NULL;
    size_t n_env = 0;
    struct rdsbk_tag *set = NULL;
    size_t n_set = 0;
    char **rm = NULL;
    size_t n_rm = 0;
    bool config_changed = false;
    int result = 0;

    *actual_out = NULL;
    if (rdsbk_res_changed(desired, actual, "code_sha256")) {
        struct s_code_arg a = {name, &zip};
        result = s_package(&zip, desired);
        if (result == 0)
            result = s_change(client, name, s_update_code, &a, "lambda:UpdateFunctionCode");
        if (result)
            goto cleanup;
        rdsbk_log_verbose("updated the code of Lambda function %s", name);
    }
    for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++)
        config_changed = config_changed || rdsbk_res_changed(desired, actual, config_keys[i]);
    if (config_changed) {
        result = s_config_input(&in, &env, &n_env, desired);
        if (result == 0) {
            in.name = name;
            result =
                s_change(client, name, s_update_config, &in, "lambda:UpdateFunctionConfiguration");
        }
        if (result)
            goto cleanup;
        rdsbk_log_verbose("updated the configuration of Lambda function %s", name);
    }
    result = rdsbk_res_tags_diff(&set, &n_set, &rm, &n_rm, cJSON_GetObjectItem(desired, "tags"),
                                 cJSON_GetObjectItem(actual, "tags"));
    if (result == 0 && (n_rm || n_set) && !arn)
        result = rdsbk_error_set(RDSBK_EINVALID, "%s: no arn to tag", S_TYPE);
    if (result == 0 && n_rm)
        result = rdsbk_lambda_untag_resource(client, arn, (const char *const *)rm, n_rm);
    if (result == 0 && n_set)
        result = rdsbk_lambda_tag_resource(client, arn, set, n_set);
    if (result == 0)
        result = s_written(actual_out, NULL, desired, name, arn);

cleanup:
    rdsbk_buf_clean_up(&zip);
    rdsbk_aws_tags_free(env, n_env);
    rdsbk_aws_tags_free(set, n_set);
    rdsbk_strings_free(rm, n_rm);
    return result;
}

static int s_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    const char *name = s_name(ref);
    struct rdsbk_backoff b;
    int result;

    rdsbk_backoff_init(&b, 500, 5000, 2.0, S_CONFLICT_RETRY_MS);
    for (;;) {
        result = rdsbk_lambda_delete_function(client, name);
        if (!(result == RDSBK_ECONFLICT &&
              rdsbk_res_aws_error_is("ResourceConflictException", NULL)) ||
            !rdsbk_res_backoff_wait(&b, "lambda:DeleteFunction %s: an update is in progress", name))
            break;
    }
    return result;
}

static const char *const s_force_new[] = {"name", NULL};
static const char *const s_no_diff[] = {"package", NULL};

const struct rdsbk_resource_ops rdsbk_res_lambda_function_ops = {
    .type = RDSBK_RT_LAMBDA_FUNCTION,
    .read = s_read,
    .create = s_create,
    .update = s_update,
    .remove = s_remove,
    .read_calls = 1,
    .write_calls = 2,
    .force_new = s_force_new,
    .no_diff = s_no_diff,
    .service = "lambda",
};
