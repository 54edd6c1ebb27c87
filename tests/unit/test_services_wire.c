/*
 * The wire form of every service operation not already covered by test_services.c, compared with
 * what botocore 1.29 (the AWS CLI's serialisers) sends for the same parameters. The expected
 * requests below were produced by botocore's serialize.create_serializer(...).serialize_to_request
 * on the same inputs; query bodies are compared as parameter sets, JSON bodies semantically.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "rdsbk/services/events.h"
#include "rdsbk/services/iam.h"
#include "rdsbk/services/kms.h"
#include "rdsbk/services/lambda.h"
#include "rdsbk/services/rds.h"
#include "rdsbk/services/sns.h"
#include "rdsbk/services/sqs.h"
#include "rdsbk/services/sts.h"
#include "test_protocol_fake.h"

#include <stdlib.h>
#include <string.h>

/* Each thunk makes one call; its result does not matter here (the canned reply is minimal). */
typedef void (*s_call_fn)(struct rdsbk_client *c);

static const char *const s_keys2[] = {"a", "b"};
static const struct rdsbk_tag s_tags_a1[] = {{(char *)"a", (char *)"1"}};
static const struct rdsbk_tag s_tags_ab[] = {{(char *)"a", (char *)"1"}, {(char *)"b", (char *)""}};

static void s_iam_deleterolepolicy(struct rdsbk_client *c) {
    rdsbk_iam_delete_role_policy(c, "r", "p");
}
static void s_iam_detachrolepolicy(struct rdsbk_client *c) {
    rdsbk_iam_detach_role_policy(c, "r", "arn:aws:iam::1:policy/p");
}
static void s_iam_getpolicy(struct rdsbk_client *c) {
    struct rdsbk_iam_policy p;
    if (rdsbk_iam_get_policy(&p, c, "arn:aws:iam::1:policy/p") == 0)
        rdsbk_iam_policy_clean_up(&p);
}
static void s_iam_deletepolicy(struct rdsbk_client *c) {
    rdsbk_iam_delete_policy(c, "arn:aws:iam::1:policy/p");
}
static void s_iam_deletepolicyversion(struct rdsbk_client *c) {
    rdsbk_iam_delete_policy_version(c, "arn:aws:iam::1:policy/p", "v1");
}
static void s_iam_tagrole(struct rdsbk_client *c) {
    rdsbk_iam_tag_role(c, "r", s_tags_ab, 2);
}
static void s_iam_listattachedrolepolicies(struct rdsbk_client *c) {
    struct rdsbk_iam_attached_policy *p = NULL;
    size_t n = 0;
    if (rdsbk_iam_list_attached_role_policies(&p, &n, c, "r") == 0)
        rdsbk_iam_attached_policies_free(p, n);
}
static void s_iam_listroletags(struct rdsbk_client *c) {
    struct rdsbk_tag *t = NULL;
    size_t n = 0;
    if (rdsbk_iam_list_role_tags(&t, &n, c, "r") == 0)
        rdsbk_aws_tags_free(t, n);
}
static void s_iam_listpolicyversions(struct rdsbk_client *c) {
    struct rdsbk_iam_policy_version *v = NULL;
    size_t n = 0;
    if (rdsbk_iam_list_policy_versions(&v, &n, c, "arn:aws:iam::1:policy/p") == 0)
        rdsbk_iam_policy_versions_free(v, n);
}
static void s_iam_updaterole(struct rdsbk_client *c) {
    rdsbk_iam_update_role_description(c, "r", "rdsbk:backup/copies");
}
static void s_kms_updatekeydescription(struct rdsbk_client *c) {
    rdsbk_kms_update_key_description(c, "k", "rdsbk:backup/key");
}
static void s_kms_putkeypolicy(struct rdsbk_client *c) {
    rdsbk_kms_put_key_policy(c, "k", "{}", true);
}
static void s_kms_updatealias(struct rdsbk_client *c) {
    rdsbk_kms_update_alias(c, "alias/a", "k2");
}
static void s_kms_deletealias(struct rdsbk_client *c) {
    rdsbk_kms_delete_alias(c, "alias/a");
}
static void s_kms_tagresource(struct rdsbk_client *c) {
    rdsbk_kms_tag_resource(c, "k", s_tags_a1, 1);
}
static void s_kms_untagresource(struct rdsbk_client *c) {
    rdsbk_kms_untag_resource(c, "k", s_keys2, 2);
}
static void s_kms_cancelkeydeletion(struct rdsbk_client *c) {
    rdsbk_kms_cancel_key_deletion(c, "k");
}
static void s_kms_listkeys(struct rdsbk_client *c) {
    cJSON *keys = NULL;
    rdsbk_kms_list_keys(&keys, c);
    cJSON_Delete(keys);
}
static void s_kms_describekey(struct rdsbk_client *c) {
    cJSON *meta = NULL;
    rdsbk_kms_describe_key(&meta, c, "alias/a");
    cJSON_Delete(meta);
}
static void s_events_describerule(struct rdsbk_client *c) {
    cJSON *r = NULL;
    rdsbk_events_describe_rule(&r, c, "r", "b");
    cJSON_Delete(r);
}
static void s_events_deleterule(struct rdsbk_client *c) {
    rdsbk_events_delete_rule(c, "r", NULL, true);
}
static void s_events_removetargets(struct rdsbk_client *c) {
    static const char *const ids[] = {"t1", "t2"};
    rdsbk_events_remove_targets(c, "r", NULL, ids, 2, true);
}
static void s_events_listtargetsbyrule(struct rdsbk_client *c) {
    cJSON *t = NULL;
    rdsbk_events_list_targets_by_rule(&t, c, "r", NULL);
    cJSON_Delete(t);
}
static void s_events_removepermission(struct rdsbk_client *c) {
    rdsbk_events_remove_permission(c, "s", "default", false);
}
static void s_events_describeeventbus(struct rdsbk_client *c) {
    cJSON *b = NULL;
    rdsbk_events_describe_event_bus(&b, c, NULL);
    cJSON_Delete(b);
}
static void s_events_tagresource(struct rdsbk_client *c) {
    rdsbk_events_tag_resource(c, "arn:r", s_tags_a1, 1);
}
static void s_events_untagresource(struct rdsbk_client *c) {
    rdsbk_events_untag_resource(c, "arn:r", s_keys2, 1);
}
static void s_events_putevents(struct rdsbk_client *c) {
    cJSON *entries = cJSON_Parse(
        "[{\"Source\":\"rdsbk\",\"DetailType\":\"snapshot shared\",\"Detail\":\"{}\"}]");
    rdsbk_events_put_events(NULL, c, entries);
    cJSON_Delete(entries);
}
static void s_events_putpermission(struct rdsbk_client *c) {
    struct rdsbk_events_put_permission_input in = {0};
    in.bus = "default";
    in.policy = "{\"Version\":\"2012-10-17\"}";
    rdsbk_events_put_permission(c, &in);
}
static void s_lambda_getfunction(struct rdsbk_client *c) {
    cJSON *f = NULL;
    rdsbk_lambda_get_function(&f, c, "f");
    cJSON_Delete(f);
}
static void s_lambda_getfunctionconfiguration(struct rdsbk_client *c) {
    cJSON *f = NULL;
    rdsbk_lambda_get_function_configuration(&f, c, "f");
    cJSON_Delete(f);
}
static void s_lambda_updatefunctioncode(struct rdsbk_client *c) {
    cJSON *f = NULL;
    rdsbk_lambda_update_function_code(&f, c, "f", (const unsigned char *)"PK\x03\x04", 4);
    cJSON_Delete(f);
}
static void s_lambda_deletefunction(struct rdsbk_client *c) {
    rdsbk_lambda_delete_function(c, "f");
}
static void s_lambda_tagresource(struct rdsbk_client *c) {
    rdsbk_lambda_tag_resource(c, "arn:aws:lambda:eu-west-1:1:function:f", s_tags_a1, 1);
}
static void s_lambda_listtags(struct rdsbk_client *c) {
    struct rdsbk_tag *t = NULL;
    size_t n = 0;
    if (rdsbk_lambda_list_tags(&t, &n, c, "arn:aws:lambda:eu-west-1:1:function:f") == 0)
        rdsbk_aws_tags_free(t, n);
}
static void s_lambda_getpolicy(struct rdsbk_client *c) {
    char *p = NULL;
    rdsbk_lambda_get_policy(&p, c, "f");
    free(p);
}
static void s_lambda_createfunction(struct rdsbk_client *c) {
    static const struct rdsbk_tag env[] = {{(char *)"A", (char *)"1"}};
    static const struct rdsbk_tag tags[] = {{(char *)"stack", (char *)"s"}};
    struct rdsbk_lambda_function_input in = {0};
    in.name = "f";
    in.role = "arn:r";
    in.handler = "h.h";
    in.runtime = "python3.12";
    in.timeout = 60;
    in.memory_size = 128;
    in.zip = (const unsigned char *)"zip";
    in.zip_len = 3;
    in.environment = env;
    in.n_environment = 1;
    in.tags = tags;
    in.n_tags = 1;
    rdsbk_lambda_create_function(NULL, c, &in);
}
static void s_rds_copydbclustersnapshot(struct rdsbk_client *c) {
    struct rdsbk_rds_copy_input in = {0};
    in.source_id = "arn:aws:rds:eu-west-1:1:cluster-snapshot:rds:c-1";
    in.target_id = "c-1";
    in.kms_key_id = "k";
    in.copy_tags = true;
    rdsbk_rds_copy_db_cluster_snapshot(NULL, c, &in);
}
static void s_rds_describedbclustersnapshotattributes(struct rdsbk_client *c) {
    char **v = NULL;
    size_t n = 0;
    if (rdsbk_rds_describe_db_cluster_snapshot_attributes(&v, &n, c, "c-1", "restore") == 0)
        rdsbk_strings_free(v, n);
}
static void s_rds_modifydbclustersnapshotattribute(struct rdsbk_client *c) {
    static const char *const rm[] = {"2", "3"};
    rdsbk_rds_modify_db_cluster_snapshot_attribute(c, "c-1", "restore", NULL, 0, rm, 2);
}
static void s_rds_deletedbclustersnapshot(struct rdsbk_client *c) {
    rdsbk_rds_delete_db_cluster_snapshot(c, "c-1");
}
static void s_rds_listtagsforresource(struct rdsbk_client *c) {
    struct rdsbk_tag *t = NULL;
    size_t n = 0;
    if (rdsbk_rds_list_tags_for_resource(&t, &n, c, "arn:aws:rds:eu-west-1:1:snapshot:s") == 0)
        rdsbk_aws_tags_free(t, n);
}
static void s_rds_addtagstoresource(struct rdsbk_client *c) {
    rdsbk_rds_add_tags_to_resource(c, "arn:aws:rds:eu-west-1:1:snapshot:s", s_tags_a1, 1);
}
static void s_rds_restoredbinstancefromdbsnapshot(struct rdsbk_client *c) {
    static const char *const sgs[] = {"sg-1", "sg-2"};
    struct rdsbk_rds_restore_input in = {0};
    in.instance_id = "drill";
    in.snapshot_id = "s";
    in.instance_class = "db.t3.micro";
    in.subnet_group = "g";
    in.vpc_security_group_ids = sgs;
    in.n_vpc_security_group_ids = 2;
    in.set_publicly_accessible = true;
    in.publicly_accessible = false;
    in.tags = s_tags_a1;
    in.n_tags = 1;
    rdsbk_rds_restore_db_instance_from_db_snapshot(NULL, c, &in);
}
static void s_rds_describedbinstances(struct rdsbk_client *c) {
    struct rdsbk_rds_instance *i = NULL;
    size_t n = 0;
    if (rdsbk_rds_describe_db_instances(&i, &n, c, NULL) == 0)
        rdsbk_rds_instances_free(i, n);
}
static void s_rds_deletedbsnapshot(struct rdsbk_client *c) {
    rdsbk_rds_delete_db_snapshot(c, "s");
}
static void s_rds_describedbsnapshotattributes(struct rdsbk_client *c) {
    char **v = NULL;
    size_t n = 0;
    if (rdsbk_rds_describe_db_snapshot_attributes(&v, &n, c, "s", "restore") == 0)
        rdsbk_strings_free(v, n);
}
static void s_rds_describeaccountattributes(struct rdsbk_client *c) {
    struct rdsbk_rds_account_quota *q = NULL;
    size_t n = 0;
    if (rdsbk_rds_describe_account_attributes(&q, &n, c) == 0)
        rdsbk_rds_account_quotas_free(q, n);
}
#define SNS_TOPIC "arn:aws:sns:eu-west-1:1:t"
#define SNS_TOPIC_FORM "arn%3Aaws%3Asns%3Aeu-west-1%3A1%3At"
static void s_sns_createtopic(struct rdsbk_client *c) {
    struct rdsbk_sns_create_topic_input in = {"t", s_tags_ab, 2};
    char *arn = NULL;
    rdsbk_sns_create_topic(&arn, c, &in);
    free(arn);
}
static void s_sns_deletetopic(struct rdsbk_client *c) {
    rdsbk_sns_delete_topic(c, SNS_TOPIC);
}
static void s_sns_gettopicattributes(struct rdsbk_client *c) {
    cJSON *a = NULL;
    rdsbk_sns_get_topic_attributes(&a, c, SNS_TOPIC);
    cJSON_Delete(a);
}
static void s_sns_settopicattributes(struct rdsbk_client *c) {
    rdsbk_sns_set_topic_attribute(c, SNS_TOPIC, "Policy", "{\"Version\":\"2012-10-17\"}");
}
static void s_sns_subscribe(struct rdsbk_client *c) {
    char *arn = NULL;
    rdsbk_sns_subscribe(&arn, c, SNS_TOPIC, "email", "ops@example.com");
    free(arn);
}
static void s_sns_unsubscribe(struct rdsbk_client *c) {
    rdsbk_sns_unsubscribe(c, SNS_TOPIC ":0b0e7c4e-6f00-4a55-9b8e-000000000001");
}
static void s_sns_listsubscriptionsbytopic(struct rdsbk_client *c) {
    struct rdsbk_sns_subscription *subs = NULL;
    size_t n = 0;
    if (rdsbk_sns_list_subscriptions_by_topic(&subs, &n, c, SNS_TOPIC) == 0)
        rdsbk_sns_subscriptions_free(subs, n);
}
static void s_sns_tagresource(struct rdsbk_client *c) {
    rdsbk_sns_tag_resource(c, SNS_TOPIC, s_tags_a1, 1);
}
static void s_sns_untagresource(struct rdsbk_client *c) {
    rdsbk_sns_untag_resource(c, SNS_TOPIC, s_keys2, 2);
}
static void s_sns_listtagsforresource(struct rdsbk_client *c) {
    struct rdsbk_tag *t = NULL;
    size_t n = 0;
    if (rdsbk_sns_list_tags_for_resource(&t, &n, c, SNS_TOPIC) == 0)
        rdsbk_aws_tags_free(t, n);
}
#define SQS_QUEUE "https://sqs.eu-west-1.amazonaws.com/1/q"
#define SQS_QUEUE_FORM "https%3A%2F%2Fsqs.eu-west-1.amazonaws.com%2F1%2Fq"
static void s_sqs_createqueue(struct rdsbk_client *c) {
    cJSON *attributes = cJSON_Parse("{\"VisibilityTimeout\": \"30\", "
                                    "\"Policy\": \"{\\\"Version\\\":\\\"2012-10-17\\\"}\"}");
    struct rdsbk_sqs_create_queue_input in = {"q", attributes, s_tags_ab, 2};
    char *url = NULL;
    rdsbk_sqs_create_queue(&url, c, &in);
    free(url);
    cJSON_Delete(attributes);
}
static void s_sqs_getqueueurl(struct rdsbk_client *c) {
    char *url = NULL;
    rdsbk_sqs_get_queue_url(&url, c, "q");
    free(url);
}
static void s_sqs_deletequeue(struct rdsbk_client *c) {
    rdsbk_sqs_delete_queue(c, SQS_QUEUE);
}
static void s_sqs_getqueueattributes(struct rdsbk_client *c) {
    cJSON *a = NULL;
    rdsbk_sqs_get_queue_attributes(&a, c, SQS_QUEUE);
    cJSON_Delete(a);
}
static void s_sqs_setqueueattributes(struct rdsbk_client *c) {
    rdsbk_sqs_set_queue_attribute(c, SQS_QUEUE, "MessageRetentionPeriod", "60");
}
static void s_sqs_tagqueue(struct rdsbk_client *c) {
    rdsbk_sqs_tag_queue(c, SQS_QUEUE, s_tags_a1, 1);
}
static void s_sqs_untagqueue(struct rdsbk_client *c) {
    rdsbk_sqs_untag_queue(c, SQS_QUEUE, s_keys2, 2);
}
static void s_sqs_listqueuetags(struct rdsbk_client *c) {
    struct rdsbk_tag *t = NULL;
    size_t n = 0;
    if (rdsbk_sqs_list_queue_tags(&t, &n, c, SQS_QUEUE) == 0)
        rdsbk_aws_tags_free(t, n);
}
static void s_sts_getcalleridentity(struct rdsbk_client *c) {
    struct rdsbk_sts_identity id;
    if (rdsbk_sts_get_caller_identity(&id, c) == 0)
        rdsbk_sts_identity_clean_up(&id);
}

static const struct {
    const char *name;
    s_call_fn call;
    const char *method;
    const char *uri; /* path and query after the host */
    const char *target;
    const char *body;
} s_cases[] = {
    {"iam:DeleteRolePolicy", s_iam_deleterolepolicy, "POST", "/", "",
     "Action=DeleteRolePolicy&Version=2010-05-08&RoleName=r&PolicyName=p"},
    {"iam:DetachRolePolicy", s_iam_detachrolepolicy, "POST", "/", "",
     "Action=DetachRolePolicy&Version=2010-05-08&RoleName=r&PolicyArn=arn%3Aaws%3Aiam%3A%3A1%"
     "3Apolicy%2Fp"},
    {"iam:GetPolicy", s_iam_getpolicy, "POST", "/", "",
     "Action=GetPolicy&Version=2010-05-08&PolicyArn=arn%3Aaws%3Aiam%3A%3A1%3Apolicy%2Fp"},
    {"iam:DeletePolicy", s_iam_deletepolicy, "POST", "/", "",
     "Action=DeletePolicy&Version=2010-05-08&PolicyArn=arn%3Aaws%3Aiam%3A%3A1%3Apolicy%2Fp"},
    {"iam:DeletePolicyVersion", s_iam_deletepolicyversion, "POST", "/", "",
     "Action=DeletePolicyVersion&Version=2010-05-08&PolicyArn=arn%3Aaws%3Aiam%3A%3A1%3Apolicy%2Fp&"
     "VersionId=v1"},
    {"iam:TagRole", s_iam_tagrole, "POST", "/", "",
     "Action=TagRole&Version=2010-05-08&RoleName=r&Tags.member.1.Key=a&Tags.member.1.Value=1&Tags."
     "member.2.Key=b&Tags.member.2.Value="},
    {"iam:ListAttachedRolePolicies", s_iam_listattachedrolepolicies, "POST", "/", "",
     "Action=ListAttachedRolePolicies&Version=2010-05-08&RoleName=r"},
    {"iam:ListRoleTags", s_iam_listroletags, "POST", "/", "",
     "Action=ListRoleTags&Version=2010-05-08&RoleName=r"},
    {"iam:ListPolicyVersions", s_iam_listpolicyversions, "POST", "/", "",
     "Action=ListPolicyVersions&Version=2010-05-08&PolicyArn=arn%3Aaws%3Aiam%3A%3A1%3Apolicy%2Fp"},
    {"iam:UpdateRole", s_iam_updaterole, "POST", "/", "",
     "Action=UpdateRole&Version=2010-05-08&RoleName=r&Description=rdsbk%3Abackup%2Fcopies"},
    {"kms:UpdateKeyDescription", s_kms_updatekeydescription, "POST", "/",
     "TrentService.UpdateKeyDescription",
     "{\"KeyId\": \"k\", \"Description\": \"rdsbk:backup/key\"}"},
    {"kms:PutKeyPolicy", s_kms_putkeypolicy, "POST", "/", "TrentService.PutKeyPolicy",
     "{\"KeyId\": \"k\", \"PolicyName\": \"default\", \"Policy\": \"{}\", "
     "\"BypassPolicyLockoutSafetyCheck\": true}"},
    {"kms:UpdateAlias", s_kms_updatealias, "POST", "/", "TrentService.UpdateAlias",
     "{\"AliasName\": \"alias/a\", \"TargetKeyId\": \"k2\"}"},
    {"kms:DeleteAlias", s_kms_deletealias, "POST", "/", "TrentService.DeleteAlias",
     "{\"AliasName\": \"alias/a\"}"},
    {"kms:TagResource", s_kms_tagresource, "POST", "/", "TrentService.TagResource",
     "{\"KeyId\": \"k\", \"Tags\": [{\"TagKey\": \"a\", \"TagValue\": \"1\"}]}"},
    {"kms:UntagResource", s_kms_untagresource, "POST", "/", "TrentService.UntagResource",
     "{\"KeyId\": \"k\", \"TagKeys\": [\"a\", \"b\"]}"},
    {"kms:CancelKeyDeletion", s_kms_cancelkeydeletion, "POST", "/",
     "TrentService.CancelKeyDeletion", "{\"KeyId\": \"k\"}"},
    {"kms:ListKeys", s_kms_listkeys, "POST", "/", "TrentService.ListKeys", "{}"},
    {"kms:DescribeKey", s_kms_describekey, "POST", "/", "TrentService.DescribeKey",
     "{\"KeyId\": \"alias/a\"}"},
    {"events:DescribeRule", s_events_describerule, "POST", "/", "AWSEvents.DescribeRule",
     "{\"Name\": \"r\", \"EventBusName\": \"b\"}"},
    {"events:DeleteRule", s_events_deleterule, "POST", "/", "AWSEvents.DeleteRule",
     "{\"Name\": \"r\", \"Force\": true}"},
    {"events:RemoveTargets", s_events_removetargets, "POST", "/", "AWSEvents.RemoveTargets",
     "{\"Rule\": \"r\", \"Ids\": [\"t1\", \"t2\"], \"Force\": true}"},
    {"events:ListTargetsByRule", s_events_listtargetsbyrule, "POST", "/",
     "AWSEvents.ListTargetsByRule", "{\"Rule\": \"r\"}"},
    {"events:RemovePermission", s_events_removepermission, "POST", "/",
     "AWSEvents.RemovePermission", "{\"StatementId\": \"s\", \"EventBusName\": \"default\"}"},
    {"events:DescribeEventBus", s_events_describeeventbus, "POST", "/",
     "AWSEvents.DescribeEventBus", "{}"},
    {"events:TagResource", s_events_tagresource, "POST", "/", "AWSEvents.TagResource",
     "{\"ResourceARN\": \"arn:r\", \"Tags\": [{\"Key\": \"a\", \"Value\": \"1\"}]}"},
    {"events:UntagResource", s_events_untagresource, "POST", "/", "AWSEvents.UntagResource",
     "{\"ResourceARN\": \"arn:r\", \"TagKeys\": [\"a\"]}"},
    {"events:PutEvents", s_events_putevents, "POST", "/", "AWSEvents.PutEvents",
     "{\"Entries\": [{\"Source\": \"rdsbk\", \"DetailType\": \"snapshot shared\", \"Detail\": "
     "\"{}\"}]}"},
    {"events:PutPermission", s_events_putpermission, "POST", "/", "AWSEvents.PutPermission",
     "{\"EventBusName\": \"default\", \"Policy\": \"{\\\"Version\\\":\\\"2012-10-17\\\"}\"}"},
    {"lambda:GetFunction", s_lambda_getfunction, "GET", "/2015-03-31/functions/f", "", ""},
    {"lambda:GetFunctionConfiguration", s_lambda_getfunctionconfiguration, "GET",
     "/2015-03-31/functions/f/configuration", "", ""},
    {"lambda:UpdateFunctionCode", s_lambda_updatefunctioncode, "PUT",
     "/2015-03-31/functions/f/code", "", "{\"ZipFile\": \"UEsDBA==\"}"},
    {"lambda:DeleteFunction", s_lambda_deletefunction, "DELETE", "/2015-03-31/functions/f", "", ""},
    {"lambda:TagResource", s_lambda_tagresource, "POST",
     "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aeu-west-1%3A1%3Afunction%3Af", "",
     "{\"Tags\": {\"a\": \"1\"}}"},
    {"lambda:ListTags", s_lambda_listtags, "GET",
     "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aeu-west-1%3A1%3Afunction%3Af", "", ""},
    {"lambda:GetPolicy", s_lambda_getpolicy, "GET", "/2015-03-31/functions/f/policy", "", ""},
    {"lambda:CreateFunction", s_lambda_createfunction, "POST", "/2015-03-31/functions", "",
     "{\"FunctionName\": \"f\", \"Role\": \"arn:r\", \"Handler\": \"h.h\", \"Runtime\": "
     "\"python3.12\", \"Timeout\": 60, \"MemorySize\": 128, \"Code\": {\"ZipFile\": \"emlw\"}, "
     "\"Environment\": {\"Variables\": {\"A\": \"1\"}}, \"Tags\": {\"stack\": \"s\"}}"},
    {"rds:CopyDBClusterSnapshot", s_rds_copydbclustersnapshot, "POST", "/", "",
     "Action=CopyDBClusterSnapshot&Version=2014-10-31&SourceDBClusterSnapshotIdentifier=arn%3Aaws%"
     "3Ards%3Aeu-west-1%3A1%3Acluster-snapshot%3Ards%3Ac-1&TargetDBClusterSnapshotIdentifier=c-1&"
     "KmsKeyId=k&CopyTags=true"},
    {"rds:DescribeDBClusterSnapshotAttributes", s_rds_describedbclustersnapshotattributes, "POST",
     "/", "",
     "Action=DescribeDBClusterSnapshotAttributes&Version=2014-10-31&DBClusterSnapshotIdentifier=c-"
     "1"},
    {"rds:ModifyDBClusterSnapshotAttribute", s_rds_modifydbclustersnapshotattribute, "POST", "/",
     "",
     "Action=ModifyDBClusterSnapshotAttribute&Version=2014-10-31&DBClusterSnapshotIdentifier=c-1&"
     "AttributeName=restore&ValuesToRemove.AttributeValue.1=2&ValuesToRemove.AttributeValue.2=3"},
    {"rds:DeleteDBClusterSnapshot", s_rds_deletedbclustersnapshot, "POST", "/", "",
     "Action=DeleteDBClusterSnapshot&Version=2014-10-31&DBClusterSnapshotIdentifier=c-1"},
    {"rds:ListTagsForResource", s_rds_listtagsforresource, "POST", "/", "",
     "Action=ListTagsForResource&Version=2014-10-31&ResourceName=arn%3Aaws%3Ards%3Aeu-west-1%3A1%"
     "3Asnapshot%3As"},
    {"rds:AddTagsToResource", s_rds_addtagstoresource, "POST", "/", "",
     "Action=AddTagsToResource&Version=2014-10-31&ResourceName=arn%3Aaws%3Ards%3Aeu-west-1%3A1%"
     "3Asnapshot%3As&Tags.Tag.1.Key=a&Tags.Tag.1.Value=1"},
    {"rds:RestoreDBInstanceFromDBSnapshot", s_rds_restoredbinstancefromdbsnapshot, "POST", "/", "",
     "Action=RestoreDBInstanceFromDBSnapshot&Version=2014-10-31&DBInstanceIdentifier=drill&"
     "DBSnapshotIdentifier=s&DBInstanceClass=db.t3.micro&DBSubnetGroupName=g&VpcSecurityGroupIds."
     "VpcSecurityGroupId.1=sg-1&VpcSecurityGroupIds.VpcSecurityGroupId.2=sg-2&PubliclyAccessible="
     "false&Tags.Tag.1.Key=a&Tags.Tag.1.Value=1"},
    {"rds:DescribeDBInstances", s_rds_describedbinstances, "POST", "/", "",
     "Action=DescribeDBInstances&Version=2014-10-31"},
    {"rds:DeleteDBSnapshot", s_rds_deletedbsnapshot, "POST", "/", "",
     "Action=DeleteDBSnapshot&Version=2014-10-31&DBSnapshotIdentifier=s"},
    {"rds:DescribeDBSnapshotAttributes", s_rds_describedbsnapshotattributes, "POST", "/", "",
     "Action=DescribeDBSnapshotAttributes&Version=2014-10-31&DBSnapshotIdentifier=s"},
    {"rds:DescribeAccountAttributes", s_rds_describeaccountattributes, "POST", "/", "",
     "Action=DescribeAccountAttributes&Version=2014-10-31"},
    {"sns:CreateTopic", s_sns_createtopic, "POST", "/", "",
     "Action=CreateTopic&Version=2010-03-31&Name=t&Tags.member.1.Key=a&Tags.member.1.Value=1&Tags."
     "member.2.Key=b&Tags.member.2.Value="},
    {"sns:DeleteTopic", s_sns_deletetopic, "POST", "/", "",
     "Action=DeleteTopic&Version=2010-03-31&TopicArn=" SNS_TOPIC_FORM},
    {"sns:GetTopicAttributes", s_sns_gettopicattributes, "POST", "/", "",
     "Action=GetTopicAttributes&Version=2010-03-31&TopicArn=" SNS_TOPIC_FORM},
    {"sns:SetTopicAttributes", s_sns_settopicattributes, "POST", "/", "",
     "Action=SetTopicAttributes&Version=2010-03-31&TopicArn=" SNS_TOPIC_FORM
     "&AttributeName=Policy&AttributeValue=%7B%22Version%22%3A%222012-10-17%22%7D"},
    {"sns:Subscribe", s_sns_subscribe, "POST", "/", "",
     "Action=Subscribe&Version=2010-03-31&TopicArn=" SNS_TOPIC_FORM
     "&Protocol=email&Endpoint=ops%40example.com&ReturnSubscriptionArn=true"},
    {"sns:Unsubscribe", s_sns_unsubscribe, "POST", "/", "",
     "Action=Unsubscribe&Version=2010-03-31&SubscriptionArn=" SNS_TOPIC_FORM
     "%3A0b0e7c4e-6f00-4a55-9b8e-000000000001"},
    {"sns:ListSubscriptionsByTopic", s_sns_listsubscriptionsbytopic, "POST", "/", "",
     "Action=ListSubscriptionsByTopic&Version=2010-03-31&TopicArn=" SNS_TOPIC_FORM},
    {"sns:TagResource", s_sns_tagresource, "POST", "/", "",
     "Action=TagResource&Version=2010-03-31&ResourceArn=" SNS_TOPIC_FORM
     "&Tags.member.1.Key=a&Tags.member.1.Value=1"},
    {"sns:UntagResource", s_sns_untagresource, "POST", "/", "",
     "Action=UntagResource&Version=2010-03-31&ResourceArn=" SNS_TOPIC_FORM
     "&TagKeys.member.1=a&TagKeys.member.2=b"},
    {"sns:ListTagsForResource", s_sns_listtagsforresource, "POST", "/", "",
     "Action=ListTagsForResource&Version=2010-03-31&ResourceArn=" SNS_TOPIC_FORM},
    {"sqs:CreateQueue", s_sqs_createqueue, "POST", "/", "",
     "Action=CreateQueue&Version=2012-11-05&QueueName=q&Attribute.1.Name=VisibilityTimeout&"
     "Attribute.1.Value=30&Attribute.2.Name=Policy&Attribute.2.Value=%7B%22Version%22%3A%222012-"
     "10-17%22%7D&Tag.1.Key=a&Tag.1.Value=1&Tag.2.Key=b&Tag.2.Value="},
    {"sqs:GetQueueUrl", s_sqs_getqueueurl, "POST", "/", "",
     "Action=GetQueueUrl&Version=2012-11-05&QueueName=q"},
    {"sqs:DeleteQueue", s_sqs_deletequeue, "POST", "/", "",
     "Action=DeleteQueue&Version=2012-11-05&QueueUrl=" SQS_QUEUE_FORM},
    {"sqs:GetQueueAttributes", s_sqs_getqueueattributes, "POST", "/", "",
     "Action=GetQueueAttributes&Version=2012-11-05&QueueUrl=" SQS_QUEUE_FORM
     "&AttributeName.1=All"},
    {"sqs:SetQueueAttributes", s_sqs_setqueueattributes, "POST", "/", "",
     "Action=SetQueueAttributes&Version=2012-11-05&QueueUrl=" SQS_QUEUE_FORM
     "&Attribute.1.Name=MessageRetentionPeriod&Attribute.1.Value=60"},
    {"sqs:TagQueue", s_sqs_tagqueue, "POST", "/", "",
     "Action=TagQueue&Version=2012-11-05&QueueUrl=" SQS_QUEUE_FORM "&Tag.1.Key=a&Tag.1.Value=1"},
    {"sqs:UntagQueue", s_sqs_untagqueue, "POST", "/", "",
     "Action=UntagQueue&Version=2012-11-05&QueueUrl=" SQS_QUEUE_FORM "&TagKey.1=a&TagKey.2=b"},
    {"sqs:ListQueueTags", s_sqs_listqueuetags, "POST", "/", "",
     "Action=ListQueueTags&Version=2012-11-05&QueueUrl=" SQS_QUEUE_FORM},
    {"sts:GetCallerIdentity", s_sts_getcalleridentity, "POST", "/", "",
     "Action=GetCallerIdentity&Version=2011-06-15"},
};

/* Query strings / form bodies as multisets of "name=value" pairs. */
static int s_cmp(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool s_same_form(const char *a, const char *b) {
    char *ca = strdup(a);
    char *cb = strdup(b);
    char *pa[128];
    char *pb[128];
    size_t na = 0;
    size_t nb = 0;
    char *save = NULL;
    bool same;

    for (char *p = strtok_r(ca, "&", &save); p && na < 128; p = strtok_r(NULL, "&", &save))
        pa[na++] = p;
    for (char *p = strtok_r(cb, "&", &save); p && nb < 128; p = strtok_r(NULL, "&", &save))
        pb[nb++] = p;
    qsort(pa, na, sizeof(pa[0]), s_cmp);
    qsort(pb, nb, sizeof(pb[0]), s_cmp);
    same = na == nb;
    for (size_t i = 0; same && i < na; i++)
        same = strcmp(pa[i], pb[i]) == 0;
    free(ca);
    free(cb);
    return same;
}

static bool s_same_body(const char *sent, const char *expected) {
    cJSON *a;
    cJSON *b;
    bool same;

    if (expected[0] != '{')
        return s_same_form(sent, expected);
    a = cJSON_Parse(sent);
    b = cJSON_Parse(expected);
    same = a && b && cJSON_Compare(a, b, true);
    cJSON_Delete(a);
    cJSON_Delete(b);
    return same;
}

static void test_wire_matches_botocore(void **state) {
    struct rdsbk_http_options hopts = {0};
    struct rdsbk_client_options copts = {0};
    struct rdsbk_http *http = NULL;
    struct rdsbk_client *client = NULL;
    int failures = 0;
    (void)state;

    unsetenv("AWS_PROFILE");
    unsetenv("AWS_ENDPOINT_URL");
    setenv("AWS_ACCESS_KEY_ID", "AKIDWIRE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    hopts.max_attempts = 1;
    assert_int_equal(rdsbk_http_new(&http, &hopts), 0);
    copts.region = "eu-west-1";
    copts.http = http;
    assert_int_equal(rdsbk_client_new(&client, &copts), 0);
    for (size_t i = 0; i < sizeof(s_cases) / sizeof(s_cases[0]); i++) {
        struct fake_aws fake = {0};
        const struct fake_request *rec = &fake.requests[0];
        const char *uri;
        bool json =
            strncmp(s_cases[i].name, "kms:", 4) == 0 || strncmp(s_cases[i].name, "events:", 7) == 0;
        bool ok;

        rdsbk_http_set_transport(http, fake_transport, &fake);
        fake_push(&fake, 200, json ? "application/x-amz-json-1.1" : "text/xml",
                  json ? "{}" : "<R/>");
        s_cases[i].call(client);
        uri = strchr(strstr(rec->url, "://") + 3, '/');
        ok = fake.n_requests == 1 && strcmp(rec->method, s_cases[i].method) == 0 &&
             strcmp(uri, s_cases[i].uri) == 0 &&
             strcmp(fake_header(rec, "X-Amz-Target"), s_cases[i].target) == 0 &&
             (s_cases[i].body[0] ? s_same_body(rdsbk_buf_cstr(&rec->body), s_cases[i].body)
                                 : rdsbk_buf_len(&rec->body) == 0);
        if (!ok) {
            failures++;
            printf("FAIL %s: sent %s %s target [%s] body [%s]\n", s_cases[i].name, rec->method, uri,
                   fake_header(rec, "X-Amz-Target"), rdsbk_buf_cstr(&rec->body));
        }
        fake_reset(&fake);
    }
    printf("%zu operations compared with botocore, %d differ\n",
           sizeof(s_cases) / sizeof(s_cases[0]), failures);
    rdsbk_client_free(client);
    rdsbk_http_free(http);
    assert_int_equal(failures, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_matches_botocore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
