/*
 * The graph's resources as CloudFormation (rdsbk/cfn.h). Each resource of the side becomes one
 * of the template, its logical id made of its address's key and its type ("copy" iam_role ->
 * CopyRole), except those that live inside another: a role's inline policies are its Policies,
 * a rule's target is in its Targets. Values are the desired attributes, with what the template
 * cannot know written as CloudFormation does: the account as ${AWS::AccountId} (a stand-in's
 * or the source account's), a reference to a resource of the template as Ref / Fn::GetAtt, one
 * to a resource elsewhere (the backup side's key) as a parameter.
 */
#include "rdsbk/cfn.h"
#include "rdsbk/buf.h"
#include "rdsbk/error.h"
#include "rdsbk/json_util.h"
#include "rdsbk/lambda_pkg.h"
#include "rdsbk/model.h"
#include "rdsbk/str.h"
#include "model_internal.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_KEY_ARN_REF "backup.kms_key.shared#arn"
#define S_IN_BACKUP_REGION "InBackupRegion"

/* A template being written; its error is sticky, as the model's builder's. */
struct s_cfn {
    const struct rdsbk_graph *g;
    const char *account; /* the account the side is in, written ${AWS::AccountId} when not NULL */
    const char *scope;   /* the addresses of the side start with it */
    cJSON *resources;
    cJSON *conditions; /* NULL: no conditions (the backup side is in Region-B alone) */
    int rc;
};

static void s_fail(struct s_cfn *c, int rc) {
    if (rc && !c->rc)
        c->rc = rc;
}

static cJSON *s_alloc(struct s_cfn *c, cJSON *item) {
    if (!item)
        s_fail(c, rdsbk_error_oom());
    return item;
}

static void s_add(struct s_cfn *c, cJSON *obj, const char *key, cJSON *item) {
    if (c->rc || !obj) {
        cJSON_Delete(item);
        return;
    }
    s_fail(c, rdsbk_json_add(obj, key, item));
}

static void s_push(struct s_cfn *c, cJSON *arr, cJSON *item) {
    if (c->rc || !arr || !item) {
        cJSON_Delete(item);
        if (!item)
            s_fail(c, rdsbk_error_oom());
        return;
    }
    cJSON_AddItemToArray(arr, item);
}

/* ---- logical ids ---------------------------------------------------------------------- */

/* What a resource of each type is called in a logical id, and the container of those that live
 * inside another (their logical id is the container's). */
static const struct {
    enum rdsbk_resource_type type;
    const char *suffix;
    const char *cfn_type;
} s_types[] = {
    {RDSBK_RT_IAM_ROLE, "Role", "AWS::IAM::Role"},
    {RDSBK_RT_LOGS_LOG_GROUP, "LogGroup", "AWS::Logs::LogGroup"},
    {RDSBK_RT_SQS_QUEUE, "Queue", "AWS::SQS::Queue"},
    {RDSBK_RT_LAMBDA_FUNCTION, "Function", "AWS::Lambda::Function"},
    {RDSBK_RT_LAMBDA_PERMISSION, "Permission", "AWS::Lambda::Permission"},
    {RDSBK_RT_EVENTS_RULE, "Rule", "AWS::Events::Rule"},
    {RDSBK_RT_EVENTS_BUS, "Bus", "AWS::Events::EventBus"},
    {RDSBK_RT_KMS_KEY, "Key", "AWS::KMS::Key"},
    {RDSBK_RT_KMS_ALIAS, "Alias", "AWS::KMS::Alias"},
    {RDSBK_RT_SNS_TOPIC, "Topic", "AWS::SNS::Topic"},
    {RDSBK_RT_SNS_SUBSCRIPTION, "Subscription", "AWS::SNS::Subscription"},
};

static int s_type_index(enum rdsbk_resource_type type) {
    for (size_t i = 0; i < sizeof(s_types) / sizeof(s_types[0]); i++)
        if (s_types[i].type == type)
            return (int)i;
    return -1;
}

/* The resource `r` lives in, for a type that lives inside another (a role's policy, a rule's
 * target): the dependency of the container's type. NULL for the others. */
static const struct rdsbk_resource *s_container(const struct rdsbk_graph *g,
                                                const struct rdsbk_resource *r) {
    enum rdsbk_resource_type want = r->type == RDSBK_RT_IAM_ROLE_POLICY ? RDSBK_RT_IAM_ROLE
                                    : r->type == RDSBK_RT_EVENTS_TARGET ? RDSBK_RT_EVENTS_RULE
                                                                        : RDSBK_RT_COUNT;

    for (size_t i = 0; want != RDSBK_RT_COUNT && i < r->n_deps; i++) {
        const struct rdsbk_resource *d = rdsbk_graph_find(g, r->deps[i]);
        if (d && d->type == want)
            return d;
    }
    return NULL;
}

/* Appends `s` to `out` in UpperCamelCase: "copy_sweep" and "eu-central-1" -> "CopySweep",
 * "EuCentral1". */
static void s_camel(struct rdsbk_buf *out, const char *s, int *rc) {
    bool up = true;

    for (; *s && !*rc; s++) {
        if (!isalnum((unsigned char)*s)) {
            up = true;
            continue;
        }
        *rc = rdsbk_buf_addc(out, up ? (char)toupper((unsigned char)*s) : *s);
        up = false;
    }
}

/* The logical id of `r` (caller frees): its address's key and its type's word ("CopyRole"); a
 * forwarding rule's key is its Region's ("ForwardEuCentral1Rule"); a subscription's, its
 * endpoint's. NULL (error recorded) for a type no template has. */
static char *s_logical_id(struct s_cfn *c, const struct rdsbk_resource *r) {
    const struct rdsbk_resource *outer = s_container(c->g, r);
    const char *type_name;
    const char *key;
    struct rdsbk_buf id = RDSBK_BUF_INIT;
    int t;
    int rc = 0;

    if (outer)
        r = outer;
    t = s_type_index(r->type);
    type_name = rdsbk_resource_type_name(r->type);
    key = strstr(r->address, type_name);
    if (t < 0 || !key) {
        s_fail(c, rdsbk_error_set(RDSBK_EINVALID, "%s: no CloudFormation resource for type %s",
                                  r->address, type_name));
        return NULL;
    }
    key += strlen(type_name);
    s_camel(&id, *key == '.' ? key + 1 : key, &rc);
    if (strncmp(r->address, "source[", 7) == 0)
        s_camel(&id, r->region, &rc);
    /* the type's word once: the bus "bus" is Bus */
    if (!rc && strcmp(rdsbk_buf_cstr(&id), s_types[t].suffix) != 0)
        rc = rdsbk_buf_adds(&id, s_types[t].suffix);
    s_fail(c, rc);
    if (rc) {
        rdsbk_buf_clean_up(&id);
        return NULL;
    }
    return rdsbk_buf_detach(&id);
}

/* Whether `r` is a resource of the side being written. */
static bool s_on_side(const struct s_cfn *c, const struct rdsbk_resource *r) {
    return strncmp(r->address, c->scope, strlen(c->scope)) == 0 ||
           (c->account && strncmp(r->address, "source[", 7) == 0 &&
            strcmp(r->account, c->account) == 0);
}

/* ---- values ----------------------------------------------------------------------------- */

/* What `${ADDRESS#attr}` is in the template: a resource of it ("Logical.Arn", or "Logical" for
 * its id), else a parameter ("SharedKeyArn"). Caller frees; NULL with the error recorded. */
static char *s_reference(struct s_cfn *c, const char *ref) {
    char address[256];
    const char *hash = strchr(ref, '#');
    const struct rdsbk_resource *r;
    char *logical;
    char *out = NULL;

    snprintf(address, sizeof(address), "%.*s", hash ? (int)(hash - ref) : 0, ref);
    r = hash ? rdsbk_graph_find(c->g, address) : NULL;
    if (r && !s_on_side(c, r) && strcmp(ref, S_KEY_ARN_REF) == 0) {
        s_fail(c, rdsbk_strdup_into(&out, "SharedKeyArn"));
        return out;
    }
    if (!r || !s_on_side(c, r)) {
        s_fail(c, rdsbk_error_set(RDSBK_EINVALID, "no CloudFormation value for ${%s}", ref));
        return NULL;
    }
    logical = s_logical_id(c, r);
    if (logical && strcmp(hash + 1, "arn") == 0)
        s_fail(c, rdsbk_strfmt(&out, "%s.Arn", logical));
    else if (logical)
        s_fail(c, rdsbk_strdup_into(&out, logical)); /* a key's key_id: its Ref */
    free(logical);
    return out;
}

/* The template's form of string `s`: as it is, or an Fn::Sub of it with the account written
 * ${AWS::AccountId} and references as their resources' or parameters'; a string that is one
 * reference alone, a Ref or an Fn::GetAtt. */
static cJSON *s_string(struct s_cfn *c, const char *s) {
    struct rdsbk_buf out = RDSBK_BUF_INIT;
    size_t n_acct = c->account ? strlen(c->account) : 0;
    int subs = 0;
    char *only = NULL; /* the one substitution, when the string is nothing else */
    cJSON *v = NULL;
    int rc = 0;

    for (const char *p = s; *p && !rc && !c->rc;) {
        const char *end;
        if (n_acct && strncmp(p, c->account, n_acct) == 0) {
            rc = rdsbk_buf_adds(&out, "${AWS::AccountId}");
            p += n_acct;
            subs++;
        } else if (strncmp(p, "${", 2) == 0 && (end = strchr(p, '}')) && memchr(p, '#', end - p)) {
            char ref[256];
            char *what;
            snprintf(ref, sizeof(ref), "%.*s", (int)(end - p - 2), p + 2);
            what = s_reference(c, ref);
            if (what && p == s && end[1] == '\0')
                only = strdup(what);
            rc = what ? rdsbk_buf_printf(&out, "${%s}", what) : 0;
            free(what);
            p = end + 1;
            subs++;
        } else if (strncmp(p, "${", 2) == 0) {
            rc = rdsbk_buf_adds(&out, "${!"); /* a literal "${" in an Fn::Sub */
            p += 2;
        } else {
            rc = rdsbk_buf_addc(&out, *p++);
        }
    }
    s_fail(c, rc);
    if (!c->rc && subs == 0)
        v = s_alloc(c, cJSON_CreateString(s));
    else if (!c->rc)
        v = s_alloc(c, cJSON_CreateObject());
    if (v && only && strchr(only, '.')) {
        /* "${Logical.Attr}" alone: its Fn::GetAtt */
        const char *parts[2] = {only, strchr(only, '.') + 1};
        *strchr(only, '.') = '\0';
        s_fail(c, rdsbk_json_add_strs(v, "Fn::GetAtt", parts, 2));
    } else if (v && only) {
        s_fail(c, rdsbk_json_add_str(v, "Ref", only));
    } else if (v && subs) {
        s_fail(c, rdsbk_json_add_str(v, "Fn::Sub", rdsbk_buf_cstr(&out)));
    }
    free(only);
    rdsbk_buf_clean_up(&out);
    if (c->rc) {
        cJSON_Delete(v);
        return NULL;
    }
    return v;
}

/* A copy of `v` as the template writes it: every string by s_string. */
static cJSON *s_value(struct s_cfn *c, const cJSON *v) {
    cJSON *out;
    const cJSON *it;

    if (cJSON_IsString(v))
        return s_string(c, v->valuestring);
    if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
        return s_alloc(c, cJSON_Duplicate(v, 0));
    out = s_alloc(c, cJSON_IsArray(v) ? cJSON_CreateArray() : cJSON_CreateObject());
    cJSON_ArrayForEach(it, v) {
        if (cJSON_IsArray(v))
            s_push(c, out, s_value(c, it));
        else
            s_add(c, out, it->string, s_value(c, it));
    }
    return out;
}

/* Property `prop` of `props`: attribute `key` of `d`, when it has one. */
static void s_prop(struct s_cfn *c, cJSON *props, const char *prop, const cJSON *d,
                   const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, key);

    if (v)
        s_add(c, props, prop, s_value(c, v));
}

/* The model's tags {"k": "v"} as CloudFormation's [{"Key", "Value"}]. */
static void s_tags(struct s_cfn *c, cJSON *props, const cJSON *d) {
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(d, "tags");
    cJSON *list;
    const cJSON *t;

    if (!cJSON_GetArraySize(tags))
        return;
    list = s_alloc(c, cJSON_CreateArray());
    cJSON_ArrayForEach(t, tags) {
        cJSON *tag = s_alloc(c, cJSON_CreateObject());
        s_add(c, tag, "Key", s_alloc(c, cJSON_CreateString(t->string)));
        s_add(c, tag, "Value", s_value(c, t));
        s_push(c, list, tag);
    }
    s_add(c, props, "Tags", list);
}

/* ---- resources -------------------------------------------------------------------------- */

/* The template's resource of logical id `id`, or NULL. */
static cJSON *s_existing(struct s_cfn *c, const char *id) {
    return cJSON_GetObjectItemCaseSensitive(c->resources, id);
}

/* A role's inline policy: an entry of its Policies. */
static void s_role_policy(struct s_cfn *c, cJSON *props, const cJSON *d) {
    cJSON *list = cJSON_GetObjectItemCaseSensitive(props, "Policies");
    cJSON *p = s_alloc(c, cJSON_CreateObject());

    if (!list) {
        list = s_alloc(c, cJSON_CreateArray());
        s_add(c, props, "Policies", list);
    }
    s_prop(c, p, "PolicyName", d, "policy_name");
    s_prop(c, p, "PolicyDocument", d, "policy");
    s_push(c, list, p);
}

/* A rule's target: an entry of its Targets. */
static void s_target(struct s_cfn *c, cJSON *props, const cJSON *d) {
    cJSON *list = cJSON_GetObjectItemCaseSensitive(props, "Targets");
    cJSON *t = s_alloc(c, cJSON_CreateObject());

    if (!list) {
        list = s_alloc(c, cJSON_CreateArray());
        s_add(c, props, "Targets", list);
    }
    s_prop(c, t, "Id", d, "target_id");
    s_prop(c, t, "Arn", d, "arn");
    s_prop(c, t, "RoleArn", d, "role_arn");
    s_push(c, list, t);
}

/* Code of a function: its package's zip in the CodeBucket parameter's bucket. */
static void s_code(struct s_cfn *c, cJSON *props, const cJSON *d) {
    cJSON *code = s_alloc(c, cJSON_CreateObject());
    cJSON *bucket = s_alloc(c, cJSON_CreateObject());
    char *key = NULL;

    s_fail(c, c->rc ? 0 : rdsbk_cfn_code_key(&key, c->g->stack, rdsbk_json_str(d, "package")));
    s_add(c, bucket, "Ref", s_alloc(c, cJSON_CreateString("CodeBucket")));
    s_add(c, code, "S3Bucket", bucket);
    s_add(c, code, "S3Key", s_alloc(c, key ? cJSON_CreateString(key) : NULL));
    s_add(c, props, "Code", code);
    free(key);
}

/* The properties that are an attribute as it is: property `prop` of a resource of `type` is its
 * attribute `attr` (when it has one), in this order. Rules have no Tags: CloudFormation's rule
 * tags are only those EventBridge gives ECS tasks. A bus's policy is made of
 * AWS::Events::EventBusPolicy resources (s_bus_policy), which every CloudFormation has; the
 * bus's own Policy property is of late 2023. */
static const struct {
    enum rdsbk_resource_type type;
    const char *prop;
    const char *attr;
} s_plain[] = {
    {RDSBK_RT_IAM_ROLE, "RoleName", "name"},
    {RDSBK_RT_IAM_ROLE, "Path", "path"},
    {RDSBK_RT_IAM_ROLE, "Description", "description"},
    {RDSBK_RT_IAM_ROLE, "AssumeRolePolicyDocument", "assume_role_policy"},
    {RDSBK_RT_LOGS_LOG_GROUP, "LogGroupName", "name"},
    {RDSBK_RT_LOGS_LOG_GROUP, "RetentionInDays", "retention_in_days"},
    {RDSBK_RT_SQS_QUEUE, "QueueName", "name"},
    {RDSBK_RT_SQS_QUEUE, "MessageRetentionPeriod", "message_retention_seconds"},
    {RDSBK_RT_SQS_QUEUE, "SqsManagedSseEnabled", "sqs_managed_sse"},
    {RDSBK_RT_LAMBDA_FUNCTION, "FunctionName", "name"},
    {RDSBK_RT_LAMBDA_FUNCTION, "Runtime", "runtime"},
    {RDSBK_RT_LAMBDA_FUNCTION, "Handler", "handler"},
    {RDSBK_RT_LAMBDA_FUNCTION, "Role", "role_arn"},
    {RDSBK_RT_LAMBDA_FUNCTION, "Timeout", "timeout"},
    {RDSBK_RT_LAMBDA_FUNCTION, "MemorySize", "memory_size"},
    {RDSBK_RT_LAMBDA_PERMISSION, "FunctionName", "function_name"},
    {RDSBK_RT_LAMBDA_PERMISSION, "Action", "action"},
    {RDSBK_RT_LAMBDA_PERMISSION, "Principal", "principal"},
    {RDSBK_RT_LAMBDA_PERMISSION, "SourceArn", "source_arn"},
    {RDSBK_RT_EVENTS_RULE, "Name", "name"},
    {RDSBK_RT_EVENTS_RULE, "EventBusName", "event_bus"},
    {RDSBK_RT_EVENTS_RULE, "Description", "description"},
    {RDSBK_RT_EVENTS_RULE, "State", "state"},
    {RDSBK_RT_EVENTS_RULE, "EventPattern", "event_pattern"},
    {RDSBK_RT_EVENTS_RULE, "ScheduleExpression", "schedule_expression"},
    {RDSBK_RT_EVENTS_BUS, "Name", "name"},
    {RDSBK_RT_KMS_KEY, "Description", "description"},
    {RDSBK_RT_KMS_KEY, "MultiRegion", "multi_region"},
    {RDSBK_RT_KMS_KEY, "KeyPolicy", "policy"},
    {RDSBK_RT_KMS_KEY, "PendingWindowInDays", "deletion_window_days"},
    {RDSBK_RT_KMS_ALIAS, "AliasName", "name"},
    {RDSBK_RT_KMS_ALIAS, "TargetKeyId", "target_key_id"},
    {RDSBK_RT_SNS_TOPIC, "TopicName", "name"},
    {RDSBK_RT_SNS_SUBSCRIPTION, "TopicArn", "topic_arn"},
    {RDSBK_RT_SNS_SUBSCRIPTION, "Protocol", "protocol"},
    {RDSBK_RT_SNS_SUBSCRIPTION, "Endpoint", "endpoint"},
};

/* A function's settings that CloudFormation nests: {"<prop>": {"<member>": attribute}}. */
static void s_nested(struct s_cfn *c, cJSON *props, const char *prop, const char *member,
                     const cJSON *d, const char *attr) {
    cJSON *o = s_alloc(c, cJSON_CreateObject());

    s_prop(c, o, member, d, attr);
    s_add(c, props, prop, o);
}

/* The properties of `r` in `props` (an object of the template's resource). */
static void s_properties(struct s_cfn *c, cJSON *props, const struct rdsbk_resource *r) {
    const cJSON *d = r->desired;

    for (size_t i = 0; i < sizeof(s_plain) / sizeof(s_plain[0]); i++)
        if (s_plain[i].type == r->type)
            s_prop(c, props, s_plain[i].prop, d, s_plain[i].attr);
    if (r->type == RDSBK_RT_LAMBDA_FUNCTION) {
        s_code(c, props, d);
        s_nested(c, props, "Environment", "Variables", d, "environment");
        s_nested(c, props, "DeadLetterConfig", "TargetArn", d, "dead_letter_arn");
    } else if (r->type == RDSBK_RT_IAM_ROLE_POLICY) {
        s_role_policy(c, props, d);
    } else if (r->type == RDSBK_RT_EVENTS_TARGET) {
        s_target(c, props, d);
    }
    if (r->type != RDSBK_RT_EVENTS_RULE)
        s_tags(c, props, d); /* when the resource has any */
}

/* The condition of resources in `region`: InBackupRegion in Region-B, In<Region> in a
 * Region-A (declared the first time); NULL when the template has no conditions. */
static const char *s_condition(struct s_cfn *c, const char *region, char *buf, size_t size) {
    struct rdsbk_buf name = RDSBK_BUF_INIT;
    cJSON *equals;
    cJSON *args;
    int rc = 0;

    if (!c->conditions)
        return NULL;
    if (strcmp(region, c->g->region) == 0)
        return S_IN_BACKUP_REGION;
    rc = rdsbk_buf_adds(&name, "In");
    s_camel(&name, region, &rc);
    snprintf(buf, size, "%s", rc ? "" : rdsbk_buf_cstr(&name));
    rdsbk_buf_clean_up(&name);
    s_fail(c, rc);
    if (!c->rc && !cJSON_GetObjectItemCaseSensitive(c->conditions, buf)) {
        equals = s_alloc(c, cJSON_CreateObject());
        args = s_alloc(c, cJSON_CreateArray());
        s_push(c, args, cJSON_CreateObject());
        s_add(c, cJSON_GetArrayItem(args, 0), "Ref", s_alloc(c, cJSON_CreateString("AWS::Region")));
        s_push(c, args, cJSON_CreateString(region));
        s_add(c, equals, "Fn::Equals", args);
        s_add(c, c->conditions, buf, equals);
    }
    return buf;
}

/* DependsOn of the template's resource `res` (of `r`): the resources of the template that `r`
 * needs first, in the same Region (a dependency across Regions is the order the Regions are
 * deployed in: Region-B first). */
static void s_depends_on(struct s_cfn *c, cJSON *res, const struct rdsbk_resource *r,
                         const char *self) {
    cJSON *list = cJSON_GetObjectItemCaseSensitive(res, "DependsOn");

    for (size_t i = 0; i < r->n_deps && !c->rc; i++) {
        const struct rdsbk_resource *d = rdsbk_graph_find(c->g, r->deps[i]);
        char *id;
        const cJSON *it;
        bool have = false;

        if (!d || !s_on_side(c, d) || strcmp(d->region, r->region) != 0)
            continue;
        id = s_logical_id(c, d);
        if (!id || strcmp(id, self) == 0) {
            free(id);
            continue;
        }
        if (!list) {
            list = s_alloc(c, cJSON_CreateArray());
            s_add(c, res, "DependsOn", list);
        }
        cJSON_ArrayForEach(it, list) {
            have = have || strcmp(it->valuestring, id) == 0;
        }
        if (!have)
            s_push(c, list, s_alloc(c, cJSON_CreateString(id)));
        free(id);
    }
}

/* Adds `r` to the template (or, for a resource that lives in another, to that one's). */
static void s_resource(struct s_cfn *c, const struct rdsbk_resource *r) {
    char *id = s_logical_id(c, r);
    const struct rdsbk_resource *outer = s_container(c->g, r);
    cJSON *res = id ? s_existing(c, id) : NULL;
    char cond[64];
    const char *condition;

    if (!id)
        return;
    if (!res) {
        const struct rdsbk_resource *base = outer ? outer : r;
        res = s_alloc(c, cJSON_CreateObject());
        s_add(c, res, "Type",
              s_alloc(c, cJSON_CreateString(s_types[s_type_index(base->type)].cfn_type)));
        condition = s_condition(c, base->region, cond, sizeof(cond));
        if (condition)
            s_add(c, res, "Condition", s_alloc(c, cJSON_CreateString(condition)));
        if (base->type == RDSBK_RT_KMS_KEY &&
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(base->desired, "prevent_destroy")))
            s_add(c, res, "DeletionPolicy", s_alloc(c, cJSON_CreateString("Retain")));
        s_add(c, res, "Properties", s_alloc(c, cJSON_CreateObject()));
        s_add(c, c->resources, id, res);
    }
    s_properties(c, cJSON_GetObjectItemCaseSensitive(res, "Properties"), r);
    s_depends_on(c, res, r, id);
    free(id);
}

/* A topic's policy, a resource of its own in CloudFormation. */
static void s_topic_policy(struct s_cfn *c, const struct rdsbk_resource *topic) {
    char *id = s_logical_id(c, topic);
    char *policy_id = NULL;
    cJSON *res = s_alloc(c, cJSON_CreateObject());
    cJSON *props = s_alloc(c, cJSON_CreateObject());
    cJSON *topics = s_alloc(c, cJSON_CreateArray());
    cJSON *ref = s_alloc(c, cJSON_CreateObject());

    s_fail(c, id ? rdsbk_strfmt(&policy_id, "%sPolicy", id) : 0);
    s_add(c, ref, "Ref", s_alloc(c, id ? cJSON_CreateString(id) : NULL));
    s_push(c, topics, ref);
    s_add(c, res, "Type", s_alloc(c, cJSON_CreateString("AWS::SNS::TopicPolicy")));
    s_add(c, props, "Topics", topics);
    s_prop(c, props, "PolicyDocument", topic->desired, "policy");
    s_add(c, res, "Properties", props);
    if (!c->rc)
        s_add(c, c->resources, policy_id, res);
    else
        cJSON_Delete(res);
    free(id);
    free(policy_id);
}

/* Each statement of a bus's policy, an AWS::Events::EventBusPolicy: "<Bus>Policy", then
 * "<Bus>Policy2", ... */
static void s_bus_policy(struct s_cfn *c, const struct rdsbk_resource *bus) {
    const cJSON *policy = cJSON_GetObjectItemCaseSensitive(bus->desired, "policy");
    const cJSON *st;
    char *id = s_logical_id(c, bus);
    int n = 0;

    cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(policy, "Statement")) {
        cJSON *res = s_alloc(c, cJSON_CreateObject());
        cJSON *props = s_alloc(c, cJSON_CreateObject());
        cJSON *ref = s_alloc(c, cJSON_CreateObject());
        cJSON *statement = s_value(c, st);
        char name[128];

        snprintf(name, sizeof(name), n ? "%sPolicy%d" : "%sPolicy", id ? id : "", n + 1);
        n++;
        cJSON_DeleteItemFromObjectCaseSensitive(statement, "Sid");
        s_add(c, res, "Type", s_alloc(c, cJSON_CreateString("AWS::Events::EventBusPolicy")));
        s_add(c, ref, "Ref", s_alloc(c, id ? cJSON_CreateString(id) : NULL));
        s_add(c, props, "EventBusName", ref);
        s_add(c, props, "StatementId",
              s_alloc(c, cJSON_CreateString(rdsbk_json_str(st, "Sid") ? rdsbk_json_str(st, "Sid")
                                                                      : name)));
        s_add(c, props, "Statement", statement);
        s_add(c, res, "Properties", props);
        s_add(c, c->resources, name, res);
    }
    free(id);
}

/* ---- templates ---------------------------------------------------------------------------- */

static void s_parameter(struct s_cfn *c, cJSON *params, const char *name, const char *description,
                        const char *dflt) {
    cJSON *p = s_alloc(c, cJSON_CreateObject());

    s_add(c, p, "Type", s_alloc(c, cJSON_CreateString("String")));
    s_add(c, p, "Description", s_alloc(c, cJSON_CreateString(description)));
    if (dflt)
        s_add(c, p, "Default", s_alloc(c, cJSON_CreateString(dflt)));
    s_add(c, params, name, p);
}

/* The template of the side of `g` that `c` names. */
static int s_template(cJSON **out, struct s_cfn *c, const char *description, bool source,
                      const char *code_bucket) {
    cJSON *t = s_alloc(c, cJSON_CreateObject());
    cJSON *params = s_alloc(c, cJSON_CreateObject());

    *out = NULL;
    c->resources = s_alloc(c, cJSON_CreateObject());
    if (source) {
        cJSON *equals = s_alloc(c, cJSON_CreateObject());
        cJSON *args = s_alloc(c, cJSON_CreateArray());
        cJSON *region = s_alloc(c, cJSON_CreateObject());

        c->conditions = s_alloc(c, cJSON_CreateObject());
        s_add(c, region, "Ref", s_alloc(c, cJSON_CreateString("AWS::Region")));
        s_push(c, args, region);
        s_push(c, args, cJSON_CreateString(c->g->region));
        s_add(c, equals, "Fn::Equals", args);
        s_add(c, c->conditions, S_IN_BACKUP_REGION, equals);
        s_parameter(c, params, "SharedKeyArn",
                    "The ARN of the backup side's KMS key (rdsbk's backup template or apply "
                    "makes it), which the copies into Region-B are encrypted with",
                    NULL);
    }
    s_parameter(c, params, "CodeBucket",
                "The S3 bucket in Region-B that holds the functions' zips at the template's "
                "S3Key (export writes them under code/, apply puts them there), readable by "
                "the accounts the template is deployed in",
                code_bucket);
    for (size_t i = 0; i < c->g->n_resources && !c->rc; i++) {
        const struct rdsbk_resource *r = &c->g->resources[i];
        if (!s_on_side(c, r))
            continue;
        s_resource(c, r);
        if (r->type == RDSBK_RT_SNS_TOPIC)
            s_topic_policy(c, r);
        if (r->type == RDSBK_RT_EVENTS_BUS)
            s_bus_policy(c, r);
    }
    s_add(c, t, "AWSTemplateFormatVersion", s_alloc(c, cJSON_CreateString("2010-09-09")));
    s_add(c, t, "Description", s_alloc(c, cJSON_CreateString(description)));
    s_add(c, t, "Parameters", params);
    if (c->conditions)
        s_add(c, t, "Conditions", c->conditions);
    s_add(c, t, "Resources", c->resources);
    if (c->rc) {
        cJSON_Delete(t);
        return c->rc;
    }
    *out = t;
    return 0;
}

int rdsbk_cfn_source_template(cJSON **out, const struct rdsbk_topology *topo,
                              const struct rdsbk_source *source, const char *code_bucket) {
    struct rdsbk_graph *g = NULL;
    struct s_cfn c = {0};
    char scope[64];
    char account[RDSBK_ACCOUNT_LEN + 1];
    char description[512];
    int rc;

    *out = NULL;
    RDSBK_TRY(rdsbk_model_build_source(&g, topo, source));
    snprintf(account, sizeof(account), "%s", source->account);
    if (source->ou)
        rdsbk_model_stand_in(account, (size_t)(source - topo->ou_sources));
    snprintf(scope, sizeof(scope), "account[%s].", account);
    snprintf(description, sizeof(description),
             "rdsbk %s: the source side of the pipeline (%s), for every account %s. Deploy it "
             "in %s first, then in each Region-A: RDS snapshots there are copied into %s, "
             "encrypted with the backup account's key, shared with it and announced on its bus.",
             topo->stack, source->ou ? source->ou : source->account,
             source->ou ? "of the OU" : "it names", topo->backup.region, topo->backup.region);
    c.g = g;
    c.account = account;
    c.scope = scope;
    rc = s_template(out, &c, description, true, code_bucket);

cleanup:
    rdsbk_graph_free(g);
    return rc;
}

int rdsbk_cfn_backup_template(cJSON **out, const struct rdsbk_topology *topo,
                              const char *code_bucket) {
    struct rdsbk_graph *g = NULL;
    struct s_cfn c = {0};
    char description[512];
    int rc;

    *out = NULL;
    RDSBK_TRY(rdsbk_model_build(&g, topo));
    snprintf(description, sizeof(description),
             "rdsbk %s: the backup side of the pipeline, in the backup account %s and %s: the "
             "key the copies are encrypted with, the bus the source accounts announce on, the "
             "function that copies what they share.",
             topo->stack, topo->backup.account, topo->backup.region);
    c.g = g;
    c.scope = "backup.";
    rc = s_template(out, &c, description, false, code_bucket);

cleanup:
    rdsbk_graph_free(g);
    return rc;
}

int rdsbk_cfn_code_key(char **out, const char *stack, const char *package) {
    char sha[RDSBK_CODE_SHA256_LEN + 1];
    int rc;

    *out = NULL;
    RDSBK_TRY(rdsbk_lambda_package_cached(NULL, sha, package));
    for (char *p = sha; *p; p++) {
        /* base64url, unpadded: a key of letters, digits, - and _ */
        if (*p == '+')
            *p = '-';
        else if (*p == '/')
            *p = '_';
        else if (*p == '=')
            *p = '\0';
    }
    rc = rdsbk_strfmt(out, "rdsbk/%s/%s-%s.zip", stack, package, sha);

cleanup:
    return rc;
}
