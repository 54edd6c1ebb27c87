/* `generate`: every document and package of the pipeline, written to a directory for review. */
#include "rdsbk/generate.h"
#include "rdsbk/buf.h"
#include "rdsbk/cfn.h"
#include "rdsbk/error.h"
#include "rdsbk/json_util.h"
#include "rdsbk/lambda_pkg.h"
#include "rdsbk/model.h"
#include "rdsbk/str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Makes `dir`, or its subdirectory `sub` (NULL: `dir` itself). */
static int s_mkdir(const char *dir, const char *sub) {
    char *path = NULL;
    int rc;

    RDSBK_TRY(sub ? rdsbk_strfmt(&path, "%s/%s", dir, sub) : rdsbk_strdup_into(&path, dir));
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        rc = rdsbk_error_set(RDSBK_EIO, "%s: %s", path, strerror(errno));

cleanup:
    free(path);
    return rc;
}

static int s_write(const char *dir, const char *name, const void *data, size_t len) {
    char *path = NULL;
    int fd = -1;
    int rc;

    RDSBK_TRY(rdsbk_strfmt(&path, "%s/%s", dir, name));
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len)
        rc = rdsbk_error_set(RDSBK_EIO, "%s: %s", path, strerror(errno));

cleanup:
    if (fd >= 0)
        close(fd);
    free(path);
    return rc;
}

/* Writes `value` as pretty JSON to `name`. */
static int s_write_text(const char *dir, const char *name, const cJSON *value) {
    char *text = value ? cJSON_Print(value) : NULL;
    int rc = text ? s_write(dir, name, text, strlen(text)) : rdsbk_error_oom();

    free(text);
    return rc;
}

/* Writes `value` as pretty JSON to <sub>/<address><suffix>, '/' in the address made '_'. */
static int s_write_json(const char *dir, const char *sub, const char *address, const char *suffix,
                        const cJSON *value) {
    char *name = NULL;
    char *file;
    int rc;

    RDSBK_TRY(rdsbk_strfmt(&name, "%s/%s%s", sub, address, suffix));
    file = name + strlen(sub) + 1;
    for (size_t i = 0; i < strlen(address); i++)
        file[i] = file[i] == '/' ? '_' : file[i];
    rc = s_write_text(dir, name, value);

cleanup:
    free(name);
    return rc;
}

/* *out = the entry of `r` in resources.json. */
static int s_resource_entry(cJSON **out, const struct rdsbk_resource *r) {
    cJSON *o = cJSON_CreateObject();
    int rc;

    RDSBK_CHECK_ALLOC(o);
    RDSBK_TRY(rdsbk_json_add_str(o, "address", r->address));
    RDSBK_TRY(rdsbk_json_add_str(o, "type", rdsbk_resource_type_name(r->type)));
    RDSBK_TRY(rdsbk_json_add_str(o, "account", r->account));
    RDSBK_TRY(rdsbk_json_add_str(o, "region", r->region));
    RDSBK_TRY(rdsbk_json_add_str(o, "name", r->name));
    rc = rdsbk_json_add_strs(o, "dependencies", (const char *const *)r->deps, r->n_deps);

cleanup:
    if (rc) {
        cJSON_Delete(o);
        o = NULL;
    }
    *out = o;
    return rc;
}

static int s_resources_json(const char *dir, const struct rdsbk_graph *g) {
    cJSON *list = cJSON_CreateArray();
    cJSON *entry;
    int rc = 0;

    RDSBK_CHECK_ALLOC(list);
    for (size_t i = 0; i < g->n_resources; i++) {
        RDSBK_TRY(s_resource_entry(&entry, &g->resources[i]));
        cJSON_AddItemToArray(list, entry);
    }
    rc = s_write_text(dir, "resources.json", list);

cleanup:
    cJSON_Delete(list);
    return rc;
}

static int s_resource_files(const char *dir, const struct rdsbk_resource *r) {
    const cJSON *d = r->desired;

    switch (r->type) {
    case RDSBK_RT_IAM_ROLE:
        return s_write_json(dir, "iam", r->address, ".trust.json",
                            cJSON_GetObjectItem(d, "assume_role_policy"));
    case RDSBK_RT_IAM_ROLE_POLICY:
        return s_write_json(dir, "iam", r->address, ".policy.json",
                            cJSON_GetObjectItem(d, "policy"));
    case RDSBK_RT_KMS_KEY:
        return s_write_json(dir, "kms", "key-policy", ".json", cJSON_GetObjectItem(d, "policy"));
    case RDSBK_RT_EVENTS_BUS:
        return s_write_json(dir, "events", "bus-policy", ".json", cJSON_GetObjectItem(d, "policy"));
    case RDSBK_RT_SNS_TOPIC:
        return s_write_json(dir, "sns", "alerts-topic-policy", ".json",
                            cJSON_GetObjectItem(d, "policy"));
    case RDSBK_RT_EVENTS_RULE:
        if (!cJSON_GetObjectItem(d, "event_pattern"))
            return s_write_json(dir, "events", r->address, ".rule.json", d); /* a schedule */
        return s_write_json(dir, "events", r->address, ".pattern.json",
                            cJSON_GetObjectItem(d, "event_pattern"));
    case RDSBK_RT_EVENTS_TARGET:
        return s_write_json(dir, "events", r->address, ".target.json", d);
    case RDSBK_RT_LAMBDA_FUNCTION:
        return s_write_json(dir, "functions", r->address, ".json", d);
    default:
        return 0;
    }
}

static const char *const s_packages_all[] = {"copy", "share", "backup-copy"};

/* Each package as apply deploys it: functions/<package>.zip, or (`stack` given) the S3 key a
 * template names it by under code/ (rdsbk_cfn_code_key), the directories made. */
static int s_packages(const char *dir, const char *stack) {
    struct rdsbk_buf zip = RDSBK_BUF_INIT;
    char sha[RDSBK_CODE_SHA256_LEN + 1];
    char *key = NULL;
    char *name = NULL;
    int rc = 0;

    for (size_t i = 0; i < sizeof(s_packages_all) / sizeof(s_packages_all[0]); i++) {
        RDSBK_TRY(rdsbk_lambda_package(&zip, sha, s_packages_all[i]));
        if (stack) {
            RDSBK_TRY(rdsbk_cfn_code_key(&key, stack, s_packages_all[i]));
            RDSBK_TRY(rdsbk_strfmt(&name, "code/%s", key));
            for (char *slash = strchr(name, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                rc = s_mkdir(dir, name);
                *slash = '/';
                RDSBK_TRY(rc);
            }
        } else {
            RDSBK_TRY(rdsbk_strfmt(&name, "functions/%s.zip", s_packages_all[i]));
        }
        RDSBK_TRY(s_write(dir, name, rdsbk_buf_cstr(&zip), rdsbk_buf_len(&zip)));
        free(key);
        free(name);
        key = name = NULL;
    }

cleanup:
    free(key);
    free(name);
    rdsbk_buf_clean_up(&zip);
    return rc;
}

int rdsbk_generate(const struct rdsbk_topology *topo, const char *dir) {
    static const char *const subdirs[] = {"functions", "iam", "kms", "events", "sns"};
    struct rdsbk_graph *g = NULL;
    int rc;

    RDSBK_TRY(rdsbk_model_build(&g, topo));
    RDSBK_TRY(rdsbk_model_check_quotas(g));
    RDSBK_TRY(s_mkdir(dir, NULL));
    for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++)
        RDSBK_TRY(s_mkdir(dir, subdirs[i]));
    RDSBK_TRY(s_resources_json(dir, g));
    for (size_t i = 0; i < g->n_resources; i++)
        RDSBK_TRY(s_resource_files(dir, &g->resources[i]));
    rc = s_packages(dir, NULL);

cleanup:
    rdsbk_graph_free(g);
    return rc;
}

/* Writes the template of the source side of `s` to source-<ou or account>.template.json. */
static int s_source_template(const char *dir, const struct rdsbk_topology *topo,
                             const struct rdsbk_source *s, const char *code_bucket) {
    cJSON *t = NULL;
    char name[96];
    int rc;

    RDSBK_TRY(rdsbk_cfn_source_template(&t, topo, s, code_bucket));
    snprintf(name, sizeof(name), "source-%s.template.json", s->ou ? s->ou : s->account);
    rc = s_write_text(dir, name, t);

cleanup:
    cJSON_Delete(t);
    return rc;
}

int rdsbk_export_cloudformation(const struct rdsbk_topology *topo, const char *dir,
                                const char *code_bucket) {
    struct rdsbk_graph *g = NULL;
    cJSON *t = NULL;
    int rc;

    if (!topo->backup.organization_id)
        return rdsbk_error_set(
            RDSBK_EINVALID,
            "%s: export writes the templates of organisation mode (backup.organization_id): "
            "without it the backup side's key policy names each source account's copy role, "
            "which must exist before the key and use it after, an order two templates cannot "
            "keep (apply keeps it)",
            topo->path);
    RDSBK_TRY(rdsbk_model_build(&g, topo));
    RDSBK_TRY(rdsbk_model_check_quotas(g));
    RDSBK_TRY(s_mkdir(dir, NULL));
    RDSBK_TRY(rdsbk_cfn_backup_template(&t, topo, code_bucket));
    RDSBK_TRY(s_write_text(dir, "backup.template.json", t));
    for (size_t i = 0; i < topo->n_sources; i++) {
        bool first = true; /* of its account: one template per account */
        for (size_t j = 0; j < i; j++)
            first = first && strcmp(topo->sources[j].account, topo->sources[i].account) != 0;
        if (first)
            RDSBK_TRY(s_source_template(dir, topo, &topo->sources[i], code_bucket));
    }
    for (size_t i = 0; i < topo->n_ou_sources; i++)
        RDSBK_TRY(s_source_template(dir, topo, &topo->ou_sources[i], code_bucket));
    rc = s_packages(dir, topo->stack);

cleanup:
    cJSON_Delete(t);
    rdsbk_graph_free(g);
    return rc;
}
