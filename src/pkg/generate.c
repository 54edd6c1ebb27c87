#include "rdsbk/generate.h"
#include "rdsbk/buf.h"
#include "rdsbk/error.h"
#include "rdsbk/lambda_pkg.h"
#include "rdsbk/model.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int s_mkdir(const char *dir, const char *sub) {
    struct rdsbk_buf path = RDSBK_BUF_INIT;
    int rc = 0;

    if (rdsbk_buf_printf(&path, "%s%s%s", dir, sub ? "/" : "", sub ? sub : ""))
        return RDSBK_ENOMEM;
    if (mkdir(path.ptr, 0755) != 0 && errno != EEXIST)
        rc = rdsbk_error_set(RDSBK_EIO, "%s: %s", path.ptr, strerror(errno));
    rdsbk_buf_clean_up(&path);
    return rc;
}

static int s_write(const char *dir, const char *name, const void *data, size_t len) {
    struct rdsbk_buf path = RDSBK_BUF_INIT;
    int fd;
    int rc = 0;

    if (rdsbk_buf_printf(&path, "%s/%s", dir, name))
        return RDSBK_ENOMEM;
    fd = open(path.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len)
        rc = rdsbk_error_set(RDSBK_EIO, "%s: %s", path.ptr, strerror(errno));
    if (fd >= 0)
        close(fd);
    rdsbk_buf_clean_up(&path);
    return rc;
}

/* Writes `value` as pretty JSON to <sub>/<address><suffix>, '/' in the address made '_'. */
static int s_write_json(const char *dir, const char *sub, const char *address, const char *suffix,
                        const cJSON *value) {
    struct rdsbk_buf name = RDSBK_BUF_INIT;
    char *text = cJSON_Print(value);
    int rc = rdsbk_buf_printf(&name, "%s/", sub);

    for (const char *p = address; !rc && *p; p++)
        rc = rdsbk_buf_addc(&name, *p == '/' ? '_' : *p);
    if (!rc)
        rc = rdsbk_buf_adds(&name, suffix);
    if (rc || !text)
        rc = rdsbk_error_oom();
    else
        rc = s_write(dir, name.ptr, text, strlen(text));
    free(text);
    rdsbk_buf_clean_up(&name);
    return rc;
}

static int s_resources_json(const char *dir, const struct rdsbk_graph *g) {
    cJSON *list = cJSON_CreateArray();
    char *text;
    int rc;

    for (size_t i = 0; list && i < g->n_resources; i++) {
        const struct rdsbk_resource *r = &g->resources[i];
        cJSON *o = cJSON_CreateObject();
        cJSON *deps = cJSON_CreateArray();
        cJSON_AddStringToObject(o, "address", r->address);
        cJSON_AddStringToObject(o, "type", rdsbk_resource_type_name(r->type));
        cJSON_AddStringToObject(o, "account", r->account);
        cJSON_AddStringToObject(o, "region", r->region);
        cJSON_AddStringToObject(o, "name", r->name);
        for (size_t d = 0; d < r->n_deps; d++)
            cJSON_AddItemToArray(deps, cJSON_CreateString(r->deps[d]));
        cJSON_AddItemToObject(o, "dependencies", deps);
        cJSON_AddItemToArray(list, o);
    }
    text = cJSON_Print(list);
    cJSON_Delete(list);
    if (!text)
        return rdsbk_error_oom();
    rc = s_write(dir, "resources.json", text, strlen(text));
    free(text);
    return rc;
}

/* The bus policy the backup account's default bus ends up with: one statement per source. */
static cJSON *s_bus_policy(const struct rdsbk_graph *g, const struct rdsbk_topology *t) {
    cJSON *policy = cJSON_CreateObject();
    cJSON *stmts = cJSON_AddArrayToObject(policy, "Statement");
    char buf[256];

    cJSON_AddStringToObject(policy, "Version", "2012-10-17");
    for (size_t i = 0; i < g->n_resources; i++) {
        const struct rdsbk_resource *r = &g->resources[i];
        cJSON *s;
        cJSON *principal;
        if (r->type != RDSBK_RT_EVENTS_PERMISSION)
            continue;
        s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "Sid", r->name);
        cJSON_AddStringToObject(s, "Effect", "Allow");
        principal = cJSON_AddObjectToObject(s, "Principal");
        snprintf(buf, sizeof(buf), "arn:%s:iam::%s:root", g->partition,
                 cJSON_GetStringValue(cJSON_GetObjectItem(r->desired, "principal")));
        cJSON_AddStringToObject(principal, "AWS", buf);
        cJSON_AddStringToObject(s, "Action", "events:PutEvents");
        snprintf(buf, sizeof(buf), "arn:%s:events:%s:%s:event-bus/default", g->partition,
                 t->backup.region, t->backup.account);
        cJSON_AddStringToObject(s, "Resource", buf);
        cJSON_AddItemToArray(stmts, s);
    }
    return policy;
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

int rdsbk_generate(const struct rdsbk_topology *topo, const char *dir) {
    static const char *const packages[] = {"copy", "share", "backup-copy"};
    static const char *const subdirs[] = {"functions", "iam", "kms", "events"};
    struct rdsbk_graph *g = NULL;
    struct rdsbk_buf zip = RDSBK_BUF_INIT;
    cJSON *bus = NULL;
    int rc;

    rc = rdsbk_model_build(&g, topo);
    if (!rc)
        rc = rdsbk_model_check_quotas(g);
    if (rc)
        goto cleanup;
    rc = s_mkdir(dir, NULL);
    for (size_t i = 0; !rc && i < sizeof(subdirs) / sizeof(subdirs[0]); i++)
        rc = s_mkdir(dir, subdirs[i]);
    if (!rc)
        rc = s_resources_json(dir, g);
    for (size_t i = 0; !rc && i < g->n_resources; i++)
        rc = s_resource_files(dir, &g->resources[i]);
    for (size_t i = 0; !rc && i < sizeof(packages) / sizeof(packages[0]); i++) {
        char sha[RDSBK_CODE_SHA256_LEN + 1];
        char name[64];
        rc = rdsbk_lambda_package(&zip, sha, packages[i]);
        if (rc)
            break;
        snprintf(name, sizeof(name), "functions/%s.zip", packages[i]);
        rc = s_write(dir, name, zip.ptr, zip.len);
        rdsbk_buf_reset(&zip);
    }
    if (!rc) {
        bus = s_bus_policy(g, topo);
        rc = bus ? s_write_json(dir, "events", "bus-policy", ".json", bus) : rdsbk_error_oom();
    }

cleanup:
    cJSON_Delete(bus);
    rdsbk_buf_clean_up(&zip);
    rdsbk_graph_free(g);
    return rc;
}
