/* The normalised topology as JSON (`validate --json`): every key, every default filled in. */
#include "rdsbk/config.h"
#include "rdsbk/error.h"
#include "rdsbk/json_util.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdlib.h>

static int s_add_bool(cJSON *obj, const char *name, bool value) {
    return rdsbk_json_add(obj, name, cJSON_CreateBool(value));
}

/* *out = a new object: the account, Region and credentials of a source or of the backup. */
static int s_account(cJSON **out, const char *account, const char *region, const char *profile,
                     const char *role_arn) {
    cJSON *o = cJSON_CreateObject();
    int rc;

    RDSBK_CHECK_ALLOC(o);
    RDSBK_TRY(rdsbk_json_add_str(o, "account", account));
    RDSBK_TRY(rdsbk_json_add_str(o, "region", region));
    RDSBK_TRY(rdsbk_json_add_str(o, "partition", rdsbk_region_partition(region)));
    RDSBK_TRY(rdsbk_json_add_str_or_null(o, "profile", profile));
    rc = rdsbk_json_add_str_or_null(o, "role_arn", role_arn);

cleanup:
    if (rc) {
        cJSON_Delete(o);
        o = NULL;
    }
    *out = o;
    return rc;
}

static int s_quotas(cJSON *o, const struct rdsbk_snapshot_quotas *q) {
    int rc;

    RDSBK_TRY(rdsbk_json_add_num(o, "manual_snapshot_quota", q->manual_snapshots));
    rc = rdsbk_json_add_num(o, "manual_cluster_snapshot_quota", q->manual_cluster_snapshots);

cleanup:
    return rc;
}

static int s_option_groups(cJSON *o, const struct rdsbk_source *s) {
    cJSON *map = cJSON_AddObjectToObject(o, "option_groups");
    int rc = map ? 0 : rdsbk_error_oom();

    for (size_t k = 0; !rc && k < s->n_option_groups; k++)
        rc = rdsbk_json_add_str(map, s->option_groups[k].key, s->option_groups[k].value);
    return rc;
}

static int s_sources(cJSON *root, const struct rdsbk_topology *t) {
    cJSON *list = cJSON_AddArrayToObject(root, "sources");
    cJSON *o;
    int rc = list ? 0 : rdsbk_error_oom();

    for (size_t i = 0; !rc && i < t->n_sources; i++) {
        const struct rdsbk_source *s = &t->sources[i];
        RDSBK_TRY(s_account(&o, s->account, s->region, s->profile, s->role_arn));
        cJSON_AddItemToArray(list, o);
        RDSBK_TRY(
            rdsbk_json_add_strs(o, "instances", (const char *const *)s->instances, s->n_instances));
        RDSBK_TRY(
            rdsbk_json_add_strs(o, "clusters", (const char *const *)s->clusters, s->n_clusters));
        RDSBK_TRY(
            rdsbk_json_add_strs(o, "kms_keys", (const char *const *)s->kms_keys, s->n_kms_keys));
        RDSBK_TRY(s_option_groups(o, s));
        RDSBK_TRY(s_quotas(o, &s->quotas));
    }
    for (size_t i = 0; !rc && i < t->n_ou_sources; i++) {
        const struct rdsbk_source *s = &t->ou_sources[i];
        RDSBK_CHECK_ALLOC(o = cJSON_CreateObject());
        cJSON_AddItemToArray(list, o);
        RDSBK_TRY(rdsbk_json_add_str(o, "ou", s->ou));
        RDSBK_TRY(rdsbk_json_add_strs(o, "regions", (const char *const *)s->regions, s->n_regions));
        RDSBK_TRY(rdsbk_json_add_str(o, "admin_account", s->account));
        RDSBK_TRY(rdsbk_json_add_str(o, "code_bucket", s->code_bucket));
        RDSBK_TRY(rdsbk_json_add_str_or_null(o, "member_role", s->member_role));
        RDSBK_TRY(rdsbk_json_add_str_or_null(o, "profile", s->profile));
        RDSBK_TRY(rdsbk_json_add_str_or_null(o, "role_arn", s->role_arn));
        RDSBK_TRY(
            rdsbk_json_add_strs(o, "instances", (const char *const *)s->instances, s->n_instances));
        RDSBK_TRY(
            rdsbk_json_add_strs(o, "clusters", (const char *const *)s->clusters, s->n_clusters));
        RDSBK_TRY(s_option_groups(o, s));
    }

cleanup:
    return rc;
}

static int s_backup(cJSON *root, const struct rdsbk_backup *b) {
    cJSON *o;
    int rc;

    RDSBK_TRY(s_account(&o, b->account, b->region, b->profile, b->role_arn));
    RDSBK_TRY(rdsbk_json_add(root, "backup", o));
    RDSBK_TRY(rdsbk_json_add_num(o, "bus_policy_quota", b->bus_policy_quota));
    RDSBK_TRY(b->organization_id ? rdsbk_json_add_str(o, "organization_id", b->organization_id)
                                 : rdsbk_json_add(o, "organization_id", cJSON_CreateNull()));
    RDSBK_TRY(s_add_bool(o, "organization", b->organization));
    rc = s_quotas(o, &b->quotas);

cleanup:
    return rc;
}

/* key, functions, retention and alerts. */
static int s_settings(cJSON *root, const struct rdsbk_topology *t) {
    cJSON *key = cJSON_AddObjectToObject(root, "key");
    cJSON *functions = cJSON_AddObjectToObject(root, "functions");
    cJSON *retention = cJSON_AddObjectToObject(root, "retention");
    cJSON *alerts = cJSON_AddObjectToObject(root, "alerts");
    int rc = key && functions && retention && alerts ? 0 : rdsbk_error_oom();

    if (rc)
        goto cleanup;
    RDSBK_TRY(rdsbk_json_add_str(key, "alias", t->key.alias));
    RDSBK_TRY(s_add_bool(key, "multi_region", t->key.multi_region));
    RDSBK_TRY(rdsbk_json_add_num(key, "deletion_window_days", t->key.deletion_window_days));
    RDSBK_TRY(s_add_bool(key, "prevent_destroy", t->key.prevent_destroy));
    RDSBK_TRY(rdsbk_json_add_str(functions, "runtime", t->functions.runtime));
    RDSBK_TRY(rdsbk_json_add_num(functions, "timeout_seconds", t->functions.timeout_seconds));
    RDSBK_TRY(rdsbk_json_add_num(functions, "memory_mb", t->functions.memory_mb));
    RDSBK_TRY(rdsbk_json_add_num(functions, "log_retention_days", t->functions.log_retention_days));
    RDSBK_TRY(rdsbk_json_add_num(retention, "backup_days", t->retention.backup_days));
    RDSBK_TRY(rdsbk_json_add_num(retention, "intermediate_days", t->retention.intermediate_days));
    RDSBK_TRY(rdsbk_json_add_num(retention, "keep_last", t->retention.keep_last));
    RDSBK_TRY(rdsbk_json_add_strs(alerts, "emails", (const char *const *)t->alerts.emails,
                                  t->alerts.n_emails));
    rc = t->alerts.sns_topic_arn
             ? rdsbk_json_add_str(alerts, "sns_topic_arn", t->alerts.sns_topic_arn)
             : rdsbk_json_add(alerts, "sns_topic_arn", cJSON_CreateNull());

cleanup:
    return rc;
}

/* tags and endpoints. */
static int s_maps(cJSON *root, const struct rdsbk_topology *t) {
    const struct rdsbk_endpoints *e = &t->endpoints;
    const struct {
        const char *name;
        const char *url;
    } endpoints[] = {{"default", e->default_url},
                     {"sts", e->sts},
                     {"iam", e->iam},
                     {"kms", e->kms},
                     {"events", e->events},
                     {"lambda", e->lambda},
                     {"rds", e->rds},
                     {"logs", e->logs},
                     {"sns", e->sns},
                     {"sqs", e->sqs},
                     {"s3", e->s3},
                     {"cloudformation", e->cloudformation},
                     {"organizations", e->organizations}};
    cJSON *tags = cJSON_AddObjectToObject(root, "tags");
    cJSON *urls = cJSON_AddObjectToObject(root, "endpoints");
    int rc = tags && urls ? 0 : rdsbk_error_oom();

    for (size_t i = 0; !rc && i < t->n_tags; i++)
        rc = rdsbk_json_add_str(tags, t->tags[i].key, t->tags[i].value);
    for (size_t i = 0; !rc && i < sizeof(endpoints) / sizeof(endpoints[0]); i++)
        rc = rdsbk_json_add_str_or_null(urls, endpoints[i].name, endpoints[i].url);
    return rc;
}

/* state: when the topology has one. */
static int s_state(cJSON *root, const struct rdsbk_topology *t) {
    const struct rdsbk_state_settings *s = &t->state;
    const struct {
        const char *name;
        const char *value;
    } fields[] = {{"bucket", s->bucket},     {"key", s->key},
                  {"region", s->region},     {"profile", s->profile},
                  {"role_arn", s->role_arn}, {"kms_key_id", s->kms_key_id}};
    cJSON *o;
    int rc;

    if (!s->bucket)
        return 0;
    o = cJSON_AddObjectToObject(root, "state");
    rc = o ? 0 : rdsbk_error_oom();
    for (size_t i = 0; !rc && i < sizeof(fields) / sizeof(fields[0]); i++)
        rc = rdsbk_json_add_str_or_null(o, fields[i].name, fields[i].value);
    return rc;
}

char *rdsbk_topology_to_json(const struct rdsbk_topology *t) {
    cJSON *root = cJSON_CreateObject();
    char *text = NULL;
    int rc;

    RDSBK_CHECK_ALLOC(root);
    RDSBK_TRY(rdsbk_json_add_num(root, "version", t->version));
    RDSBK_TRY(rdsbk_json_add_str(root, "stack", t->stack));
    RDSBK_TRY(s_sources(root, t));
    RDSBK_TRY(s_backup(root, &t->backup));
    RDSBK_TRY(s_settings(root, t));
    RDSBK_TRY(s_maps(root, t));
    RDSBK_TRY(s_state(root, t));
    text = cJSON_Print(root);
    RDSBK_CHECK_ALLOC(text);

cleanup:
    cJSON_Delete(root);
    return text;
}
