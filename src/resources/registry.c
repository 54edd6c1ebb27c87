/* The resource types by enum: the engine's one way in to src/resources. */
#include "resources_internal.h"

#include "rdsbk/error.h"

#include <assert.h>
#include <stddef.h>

const struct rdsbk_resource_ops *rdsbk_resource_ops(enum rdsbk_resource_type type) {
    /* indexed by enum rdsbk_resource_type */
    static const struct rdsbk_resource_ops *const table[RDSBK_RT_COUNT] = {
        [RDSBK_RT_IAM_ROLE] = &rdsbk_res_iam_role_ops,
        [RDSBK_RT_IAM_ROLE_POLICY] = &rdsbk_res_iam_role_policy_ops,
        [RDSBK_RT_KMS_KEY] = &rdsbk_res_kms_key_ops,
        [RDSBK_RT_KMS_ALIAS] = &rdsbk_res_kms_alias_ops,
        [RDSBK_RT_EVENTS_RULE] = &rdsbk_res_events_rule_ops,
        [RDSBK_RT_EVENTS_TARGET] = &rdsbk_res_events_target_ops,
        [RDSBK_RT_EVENTS_PERMISSION] = &rdsbk_res_events_permission_ops,
        [RDSBK_RT_LAMBDA_FUNCTION] = &rdsbk_res_lambda_function_ops,
        [RDSBK_RT_LAMBDA_PERMISSION] = &rdsbk_res_lambda_permission_ops,
        [RDSBK_RT_LOGS_LOG_GROUP] = &rdsbk_res_logs_log_group_ops,
        [RDSBK_RT_EVENTS_BUS] = &rdsbk_res_events_bus_ops,
        [RDSBK_RT_SNS_TOPIC] = &rdsbk_res_sns_topic_ops,
        [RDSBK_RT_SNS_SUBSCRIPTION] = &rdsbk_res_sns_subscription_ops,
        [RDSBK_RT_SQS_QUEUE] = &rdsbk_res_sqs_queue_ops,
        [RDSBK_RT_CFN_STACK_SET] = &rdsbk_res_cfn_stack_set_ops,
    };

    assert((int)type >= 0 && type < RDSBK_RT_COUNT);
    return (int)type >= 0 && type < RDSBK_RT_COUNT ? table[type] : NULL;
}

int rdsbk_resource_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    const struct rdsbk_resource_ops *ops = rdsbk_resource_ops(ref->type);
    int rc = ops ? ops->remove(client, ref) : rdsbk_error_set(RDSBK_EINVALID, "unknown type");

    if (rc == RDSBK_ENOTFOUND) {
        rdsbk_error_clear();
        rc = 0;
    }
    return rc;
}
