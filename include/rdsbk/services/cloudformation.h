#ifndef RDSBK_SERVICES_CLOUDFORMATION_H
#define RDSBK_SERVICES_CLOUDFORMATION_H

#include "rdsbk/client.h"
#include "rdsbk/config.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * CloudFormation StackSets (awsQuery, API version 2010-05-15), service-managed: a stack set in the
 * caller's account (the organisation's management account: CallAs SELF; a delegated
 * administrator, which calls with CallAs DELEGATED_ADMIN, is not supported), deployed to the
 * accounts of OUs by operations that run after the call returns. Errors: StackSetNotFoundException
 * -> RDSBK_ENOTFOUND; NameAlreadyExistsException -> RDSBK_ECONFLICT; OperationInProgressException
 * (another operation of the set is running, an auto-deployment among them) -> RDSBK_ECONFLICT, the
 * AWS code kept in rdsbk_error_last() so that callers wait and try again; StackSetNotEmptyException
 * (instances left) -> RDSBK_ERROR; ValidationError, InsufficientCapabilitiesException ->
 * RDSBK_EINVALID.
 *
 * Every call returns 0, or a negative rdsbk_error_code with the error set; on failure its out
 * parameters hold nothing.
 */

/* A stack set as the tool makes it: SERVICE_MANAGED, auto-deployment on (accounts that join the
 * OUs get it, those that leave lose it), CAPABILITY_NAMED_IAM. */
struct rdsbk_cfn_stack_set_input {
    const char *name;
    const char *description;
    const char *template_body;          /* at most 51,200 bytes */
    const struct rdsbk_tag *parameters; /* ParameterKey / ParameterValue */
    size_t n_parameters;
    const struct rdsbk_tag *tags;
    size_t n_tags;
};

/* What DescribeStackSet says of a stack set. */
struct rdsbk_cfn_stack_set {
    char *status; /* ACTIVE, DELETED */
    char *arn;
    char *template_body;
    cJSON *parameters; /* {"key": "value"} */
    struct rdsbk_tag *tags;
    size_t n_tags;
    char *ou; /* the first of OrganizationalUnitIds, the OUs it is deployed to; NULL: none */
};

void rdsbk_cfn_stack_set_clean_up(struct rdsbk_cfn_stack_set *set);

/* CreateStackSet. */
int rdsbk_cfn_create_stack_set(struct rdsbk_client *client,
                               const struct rdsbk_cfn_stack_set_input *in);

/* UpdateStackSet of every instance, Regions in `regions` order (RegionOrder), one after the
 * other: *operation_id (caller frees). */
int rdsbk_cfn_update_stack_set(char **operation_id, struct rdsbk_client *client,
                               const struct rdsbk_cfn_stack_set_input *in,
                               const char *const *regions, size_t n_regions);

/* DescribeStackSet. RDSBK_ENOTFOUND when there is none (or it is DELETED). */
int rdsbk_cfn_describe_stack_set(struct rdsbk_cfn_stack_set *out, struct rdsbk_client *client,
                                 const char *name);

/* DeleteStackSet (it must have no instances left). */
int rdsbk_cfn_delete_stack_set(struct rdsbk_client *client, const char *name);

/* CreateStackInstances (`create`) or DeleteStackInstances (RetainStacks false) in the accounts of
 * OU `ou`, in `regions`, in that order, one Region after the other: *operation_id. */
int rdsbk_cfn_stack_instances(char **operation_id, struct rdsbk_client *client, bool create,
                              const char *name, const char *ou, const char *const *regions,
                              size_t n_regions);

/* ListStackInstances, every page: *out a new array of {"account", "region", "ou", "status",
 * "detailed_status", "reason"} (caller deletes). */
int rdsbk_cfn_list_stack_instances(cJSON **out, struct rdsbk_client *client, const char *name);

/* DescribeStackSetOperation: *status (RUNNING, SUCCEEDED, FAILED, STOPPING, STOPPED, QUEUED) and
 * *reason (may be NULL), both the caller's. */
int rdsbk_cfn_operation_status(char **status, char **reason, struct rdsbk_client *client,
                               const char *name, const char *operation_id);

/* ListStackSetOperationResults: *out (caller frees) "account/region: reason; ..." of the
 * instances that did not succeed, "" when none. */
int rdsbk_cfn_operation_failures(char **out, struct rdsbk_client *client, const char *name,
                                 const char *operation_id);

#endif
