/*
 * lambda_function {name, package, code_sha256, runtime, handler, role_arn, timeout, memory_size,
 * environment, dead_letter_arn, tags} (+ "arn" when read; "package" cannot be read back and is
 * absent). The id is the function name.
 *
 * Lambda settles asynchronously: a new function is Pending before Active, and every change runs
 * with LastUpdateStatus InProgress, during which further changes answer
 * ResourceConflictException. Every create and change here waits for it to settle. A role created
 * moments ago is refused ("cannot be assumed by Lambda") until IAM has propagated it, and so is a
 * dead-letter queue the role's new policy lets it send to ("does not have permissions to call
 * SendMessage"): those refusals are retried for up to three minutes.
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
#define S_ROLE_MAY_NOT_SEND "does not have permissions to call"

static const struct rdsbk_res_tagging s_tagging = {
    S_TYPE, rdsbk_lambda_list_tags, rdsbk_lambda_untag_resource, rdsbk_lambda_tag_resource};

/* The attributes, from GetFunction; a number AWS leaves out has its default. */
static const struct rdsbk_res_attr s_attrs[] = {
    {"name", "Configuration.FunctionName", RDSBK_RES_STR, 0},
    {"code_sha256", "Configuration.CodeSha256", RDSBK_RES_STR, 0},
    {"runtime", "Configuration.Runtime", RDSBK_RES_STR, 0},
    {"handler", "Configuration.Handler", RDSBK_RES_STR, 0},
    {"role_arn", "Configuration.Role", RDSBK_RES_STR, 0},
    {"timeout", "Configuration.Timeout", RDSBK_RES_INT, 3},
    {"memory_size", "Configuration.MemorySize", RDSBK_RES_INT, 128},
    {"environment", "Configuration.Environment.Variables", RDSBK_RES_OBJECT, 0},
    {"dead_letter_arn", "Configuration.DeadLetterConfig.TargetArn", RDSBK_RES_OPT_STR, 0},
    {"tags", "Tags", RDSBK_RES_OBJECT, 0},
    {"arn", "Configuration.FunctionArn", RDSBK_RES_STR, 0},
    {NULL, NULL, RDSBK_RES_STR, 0},
};

/* What UpdateFunctionConfiguration sets. */
static const char *const s_config_keys[] = {"runtime",         "handler",     "role_arn",
                                            "timeout",         "memory_size", "environment",
                                            "dead_letter_arn", NULL};

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
 * function settled, nothing is polled. RDSBK_ERROR when it ends Failed, RDSBK_ETIMEOUT when it
 * does not settle in time.
 */
static int s_wait_settled(struct rdsbk_client *client, const char *name, const cJSON *reply) {
    struct rdsbk_backoff b;
    cJSON *cfg = NULL;
    int rc = reply ? s_settle_status(reply, name) : 1;

    rdsbk_backoff_init(&b, 250, 5000, 2.0, S_SETTLE_MS);
    while (rc == 1) {
        cJSON_Delete(cfg);
        cfg = NULL;
        rc = rdsbk_lambda_get_function_configuration(&cfg, client, name);
        if (rc == 0)
            rc = s_settle_status(cfg, name);
        if (rc == 1 &&
            !rdsbk_res_backoff_wait(&b,
                                    "lambda %s: waiting for State %s / LastUpdateStatus %s to "
                                    "settle",
                                    name, rdsbk_json_str(cfg, "State"),
                                    rdsbk_json_str(cfg, "LastUpdateStatus"))) {
            rc = rdsbk_error_set(RDSBK_ETIMEOUT,
                                 "Lambda function %s did not settle in %ld s (State %s, "
                                 "LastUpdateStatus %s)",
                                 name, S_SETTLE_MS / 1000, rdsbk_json_str(cfg, "State"),
                                 rdsbk_json_str(cfg, "LastUpdateStatus"));
        }
    }
    cJSON_Delete(cfg);
    return rc;
}

static int s_read(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    cJSON *fn = NULL;
    cJSON *out = NULL;
    int rc;

    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(rdsbk_lambda_get_function(&fn, client, rdsbk_res_name(ref)));
    out = cJSON_CreateObject();
    RDSBK_CHECK_ALLOC(out);
    RDSBK_TRY(rdsbk_res_add_attrs(out, fn, s_attrs, "lambda:GetFunction"));
    rc = rdsbk_res_found(actual_out, id_out, &out, rdsbk_json_str(out, "name"));

cleanup:
    cJSON_Delete(fn);
    cJSON_Delete(out);
    return rc;
}

/* The zip of the desired "package". */
static int s_package(struct rdsbk_buf *zip, const cJSON *desired) {
    char sha[RDSBK_CODE_SHA256_LEN + 1];
    const char *package = NULL;
    const char *want = rdsbk_json_str(desired, "code_sha256");
    int rc;

    RDSBK_TRY(rdsbk_res_require(&package, desired, "package", S_TYPE));
    RDSBK_TRY(rdsbk_lambda_package_cached(zip, sha, package));
    if (want && strcmp(want, sha) != 0)
        rdsbk_log_warn("Lambda package %s has CodeSha256 %s, the desired attributes say %s",
                       package, sha, want);

cleanup:
    return rc;
}

/* The desired configuration as the service module takes it; `env` receives the environment
 * (rdsbk_aws_tags_free). */
static int s_config_input(struct rdsbk_lambda_function_input *in, struct rdsbk_tag **env,
                          size_t *n_env, const cJSON *desired) {
    int rc;

    memset(in, 0, sizeof(*in));
    *env = NULL;
    *n_env = 0;
    RDSBK_TRY(rdsbk_res_require(&in->name, desired, "name", S_TYPE));
    RDSBK_TRY(rdsbk_res_require(&in->role, desired, "role_arn", S_TYPE));
    RDSBK_TRY(rdsbk_res_require(&in->handler, desired, "handler", S_TYPE));
    RDSBK_TRY(rdsbk_res_require(&in->runtime, desired, "runtime", S_TYPE));
    RDSBK_TRY(rdsbk_res_tags_from_json(env, n_env, cJSON_GetObjectItem(desired, "environment")));
    in->timeout = rdsbk_json_int(desired, "timeout", 0);
    in->memory_size = rdsbk_json_int(desired, "memory_size", 0);
    in->environment = *env;
    in->n_environment = *n_env;
    in->send_environment = true;
    in->dead_letter_arn = rdsbk_json_str(desired, "dead_letter_arn");
    in->send_dead_letter = true;

cleanup:
    return rc;
}

/* Whether Lambda refused the role as IAM has not propagated it (or the policy letting it send to
 * the dead-letter queue) yet. */
static bool s_role_not_ready(int rc) {
    return rc == RDSBK_EINVALID &&
           (rdsbk_res_aws_error_is("InvalidParameterValueException", S_ROLE_NOT_READY) ||
            rdsbk_res_aws_error_is("InvalidParameterValueException", S_ROLE_MAY_NOT_SEND));
}

/* The function as written: the desired attributes but the package, which no read reports. */
static int s_written(cJSON **actual_out, char **id_out, const cJSON *desired, const char *name,
                     const char *arn) {
    int rc = rdsbk_res_written(actual_out, id_out, desired, name, "arn", arn);

    if (rc == 0)
        cJSON_DeleteItemFromObjectCaseSensitive(*actual_out, "package");
    return rc;
}

/* CreateFunction, again while its role cannot be assumed yet (IAM propagation). */
static int s_create_function(cJSON **created_out, struct rdsbk_client *client,
                             const struct rdsbk_lambda_function_input *in) {
    struct rdsbk_backoff b;
    int rc;

    *created_out = NULL;
    rdsbk_backoff_init(&b, 1000, 10000, 2.0, S_ROLE_RETRY_MS);
    for (;;) {
        cJSON_Delete(*created_out);
        *created_out = NULL;
        rc = rdsbk_lambda_create_function(created_out, client, in);
        if (!s_role_not_ready(rc) ||
            !rdsbk_res_backoff_wait(&b,
                                    "lambda:CreateFunction %s: the role %s is not ready yet "
                                    "(IAM propagation): %s",
                                    in->name, in->role, rdsbk_error_last()->message))
            break;
    }
    return rc;
}

static int s_create(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    struct rdsbk_lambda_function_input in;
    struct rdsbk_buf zip = RDSBK_BUF_INIT;
    struct rdsbk_tag *env = NULL;
    size_t n_env = 0;
    struct rdsbk_tag *tags = NULL;
    size_t n_tags = 0;
    cJSON *created = NULL;
    int rc;

    (void)ref;
    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(s_config_input(&in, &env, &n_env, desired));
    RDSBK_TRY(rdsbk_res_tags_from_json(&tags, &n_tags, cJSON_GetObjectItem(desired, "tags")));
    RDSBK_TRY(s_package(&zip, desired));
    in.zip = (const unsigned char *)rdsbk_buf_cstr(&zip);
    in.zip_len = rdsbk_buf_len(&zip);
    in.tags = tags;
    in.n_tags = n_tags;
    in.send_environment = false;
    in.send_dead_letter = false;
    RDSBK_TRY(s_create_function(&created, client, &in));
    rdsbk_log_verbose("created Lambda function %s; waiting for it to become Active", in.name);
    RDSBK_TRY(s_wait_settled(client, in.name, created));
    rc = s_written(actual_out, id_out, desired, in.name, rdsbk_json_str(created, "FunctionArn"));

cleanup:
    cJSON_Delete(created);
    rdsbk_buf_clean_up(&zip);
    rdsbk_aws_tags_free(env, n_env);
    rdsbk_aws_tags_free(tags, n_tags);
    return rc;
}

/* Retries `call` while another update of the function is in progress (ResourceConflictException,
 * which is how AWS says so: no need to poll before), then waits for the new one to settle. */
typedef int (*s_change_fn)(cJSON **reply, struct rdsbk_client *client, const void *arg);

static int s_change(struct rdsbk_client *client, const char *name, s_change_fn call,
                    const void *arg, const char *what) {
    struct rdsbk_backoff b;
    cJSON *reply = NULL;
    int rc;

    /* a new role in the configuration may need IAM propagation too: the longer bound */
    rdsbk_backoff_init(&b, 500, 10000, 2.0, S_ROLE_RETRY_MS);
    for (;;) {
        rc = call(&reply, client, arg);
        if (!((rc == RDSBK_ECONFLICT &&
               rdsbk_res_aws_error_is("ResourceConflictException", NULL)) ||
              s_role_not_ready(rc)) ||
            !rdsbk_res_backoff_wait(&b, "%s %s: %s", what, name, rdsbk_error_last()->message))
            break;
    }
    if (rc == 0)
        rc = s_wait_settled(client, name, reply);
    cJSON_Delete(reply);
    return rc;
}

struct s_code_arg {
    const char *name;
    const struct rdsbk_buf *zip;
};

static int s_update_code(cJSON **reply, struct rdsbk_client *client, const void *arg) {
    const struct s_code_arg *a = arg;
    return rdsbk_lambda_update_function_code(reply, client, a->name,
                                             (const unsigned char *)rdsbk_buf_cstr(a->zip),
                                             rdsbk_buf_len(a->zip));
}

static int s_update_config(cJSON **reply, struct rdsbk_client *client, const void *arg) {
    return rdsbk_lambda_update_function_configuration(reply, client, arg);
}

/* New code, from the desired package. */
static int s_change_code(struct rdsbk_client *client, const char *name, const cJSON *desired) {
    struct rdsbk_buf zip = RDSBK_BUF_INIT;
    struct s_code_arg arg = {name, &zip};
    int rc;

    RDSBK_TRY(s_package(&zip, desired));
    RDSBK_TRY(s_change(client, name, s_update_code, &arg, "lambda:UpdateFunctionCode"));
    rdsbk_log_verbose("updated the code of Lambda function %s", name);

cleanup:
    rdsbk_buf_clean_up(&zip);
    return rc;
}

/* The desired configuration (s_config_keys). */
static int s_change_config(struct rdsbk_client *client, const char *name, const cJSON *desired) {
    struct rdsbk_lambda_function_input in;
    struct rdsbk_tag *env = NULL;
    size_t n_env = 0;
    int rc;

    RDSBK_TRY(s_config_input(&in, &env, &n_env, desired));
    in.name = name;
    RDSBK_TRY(s_change(client, name, s_update_config, &in, "lambda:UpdateFunctionConfiguration"));
    rdsbk_log_verbose("updated the configuration of Lambda function %s", name);

cleanup:
    rdsbk_aws_tags_free(env, n_env);
    return rc;
}

static int s_update(cJSON **actual_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired,
                    const cJSON *actual) {
    const char *name = rdsbk_res_name(ref);
    const char *arn = rdsbk_json_str(actual, "arn");
    int rc;

    *actual_out = NULL;
    if (rdsbk_res_changed(desired, actual, "code_sha256"))
        RDSBK_TRY(s_change_code(client, name, desired));
    if (rdsbk_res_any_changed(desired, actual, s_config_keys))
        RDSBK_TRY(s_change_config(client, name, desired));
    RDSBK_TRY(rdsbk_res_update_tags(client, arn, desired, actual, &s_tagging));
    rc = s_written(actual_out, NULL, desired, name, arn);

cleanup:
    return rc;
}

static int s_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    const char *name = rdsbk_res_name(ref);
    struct rdsbk_backoff b;
    int rc;

    rdsbk_backoff_init(&b, 500, 5000, 2.0, S_CONFLICT_RETRY_MS);
    for (;;) {
        rc = rdsbk_lambda_delete_function(client, name);
        if (!(rc == RDSBK_ECONFLICT && rdsbk_res_aws_error_is("ResourceConflictException", NULL)) ||
            !rdsbk_res_backoff_wait(&b, "lambda:DeleteFunction %s: an update is in progress", name))
            break;
    }
    return rc;
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
