#include "rdsbk/config.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

static cJSON *s_strings(char *const *items, size_t n) {
    cJSON *arr = cJSON_CreateArray();

    for (size_t i = 0; arr && i < n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(items[i]));
    return arr;
}

/* Adds `value` as a string, or null when unset: the JSON always has every key. */
static void s_add_opt(cJSON *obj, const char *name, const char *value) {
    if (value)
        cJSON_AddStringToObject(obj, name, value);
    else
        cJSON_AddNullToObject(obj, name);
}

static cJSON *s_account(const char *account, const char *region, const char *profile,
                        const char *role_arn) {
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "account", account);
    cJSON_AddStringToObject(o, "region", region);
    cJSON_AddStringToObject(o, "partition", rdsbk_region_partition(region));
    s_add_opt(o, "profile", profile);
    s_add_opt(o, "role_arn", role_arn);
    return o;
}

char *rdsbk_topology_to_json(const struct rdsbk_topology *t) {
    cJSON *root = cJSON_CreateObject();
    cJSON *sources;
    cJSON *o;
    char *text = NULL;

    if (!root)
        return NULL;
    cJSON_AddNumberToObject(root, "version", t->version);
    cJSON_AddStringToObject(root, "stack", t->stack);
    sources = cJSON_AddArrayToObject(root, "sources");
    for (size_t i = 0; i < t->n_sources; i++) {
        const struct rdsbk_source *s = &t->sources[i];
        o = s_account(s->account, s->region, s->profile, s->role_arn);
        cJSON_AddItemToObject(o, "instances", s_strings(s->instances, s->n_instances));
        cJSON_AddItemToObject(o, "clusters", s_strings(s->clusters, s->n_clusters));
        cJSON_AddItemToArray(sources, o);
    }
    o = s_account(t->backup.account, t->backup.region, t->backup.profile, t->backup.role_arn);
    cJSON_AddNumberToObject(o, "bus_policy_quota", t->backup.bus_policy_quota);
    cJSON_AddItemToObject(root, "backup", o);
    o = cJSON_AddObjectToObject(root, "key");
    cJSON_AddStringToObject(o, "alias", t->key.alias);
    cJSON_AddBoolToObject(o, "multi_region", t->key.multi_region);
    cJSON_AddNumberToObject(o, "deletion_window_days", t->key.deletion_window_days);
    cJSON_AddBoolToObject(o, "prevent_destroy", t->key.prevent_destroy);
    o = cJSON_AddObjectToObject(root, "functions");
    cJSON_AddStringToObject(o, "runtime", t->functions.runtime);
    cJSON_AddNumberToObject(o, "timeout_seconds", t->functions.timeout_seconds);
    cJSON_AddNumberToObject(o, "memory_mb", t->functions.memory_mb);
    o = cJSON_AddObjectToObject(root, "retention");
    cJSON_AddNumberToObject(o, "backup_days", t->retention.backup_days);
    cJSON_AddNumberToObject(o, "intermediate_days", t->retention.intermediate_days);
    o = cJSON_AddObjectToObject(root, "tags");
    for (size_t i = 0; i < t->n_tags; i++)
        cJSON_AddStringToObject(o, t->tags[i].key, t->tags[i].value);
    o = cJSON_AddObjectToObject(root, "endpoints");
    s_add_opt(o, "default", t->endpoints.default_url);
    s_add_opt(o, "sts", t->endpoints.sts);
    s_add_opt(o, "iam", t->endpoints.iam);
    s_add_opt(o, "kms", t->endpoints.kms);
    s_add_opt(o, "events", t->endpoints.events);
    s_add_opt(o, "lambda", t->endpoints.lambda);
    s_add_opt(o, "rds", t->endpoints.rds);

    text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}
