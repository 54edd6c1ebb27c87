#ifndef RDSBK_SERVICES_LAMBDA_H
#define RDSBK_SERVICES_LAMBDA_H

#include "rdsbk/buf.h"
#include "rdsbk/client.h"

#include <stdbool.h>

/*
 * Lambda (restJson1, /2015-03-31/functions/..., /2017-03-31/tags/...). Function replies come back
 * as cJSON objects the caller deletes (FunctionConfiguration: FunctionName, FunctionArn, Role,
 * Runtime, Handler, Timeout, MemorySize, CodeSha256, State, LastUpdateStatus, Environment...).
 * Errors: ResourceNotFoundException -> RDSBK_ENOTFOUND, ResourceConflictException (exists, or an
 * update in progress) -> RDSBK_ECONFLICT; "The role defined for the function cannot be assumed by
 * Lambda" is InvalidParameterValueException (RDSBK_EINVALID) with that message.
 *
 * Every call returns 0, or a negative rdsbk_error_code with the error set (rdsbk_error_last()
 * keeps the AWS code, HTTP status and request id); on failure its out parameters hold nothing
 * (NULL / zeroed). List calls follow every page and return everything. Nothing is retained
 * between calls; calls on one client may run in parallel.
 */

struct rdsbk_lambda_function_input {
    const char *name; /* required */
    const char *role; /* role ARN */
    const char *handler;
    const char *runtime;
    const char *description;
    int timeout;              /* seconds; 0: not sent */
    int memory_size;          /* MB; 0: not sent */
    const unsigned char *zip; /* CreateFunction: the package (sent base64) */
    size_t zip_len;
    const struct rdsbk_tag *environment; /* Environment.Variables; NULL with n 0: not sent */
    size_t n_environment;
    bool send_environment;       /* UpdateFunctionConfiguration: send Environment even when empty */
    const char *dead_letter_arn; /* DeadLetterConfig.TargetArn (an SQS queue or SNS topic) */
    bool send_dead_letter; /* UpdateFunctionConfiguration: send it even when NULL ("": none) */
    const struct rdsbk_tag *tags; /* CreateFunction only */
    size_t n_tags;
};

/* CreateFunction (201): *out (may be NULL) the FunctionConfiguration. */
int rdsbk_lambda_create_function(cJSON **out, struct rdsbk_client *client,
                                 const struct rdsbk_lambda_function_input *in);
/* GetFunction: {Configuration, Code, Tags}. */
int rdsbk_lambda_get_function(cJSON **out, struct rdsbk_client *client, const char *name);
int rdsbk_lambda_get_function_configuration(cJSON **out, struct rdsbk_client *client,
                                            const char *name);
int rdsbk_lambda_update_function_code(cJSON **out, struct rdsbk_client *client, const char *name,
                                      const unsigned char *zip, size_t zip_len);
/* UpdateFunctionConfiguration: role, handler, runtime, description, timeout, memory_size and
 * environment of `in` (NULL / 0 fields are not sent). */
int rdsbk_lambda_update_function_configuration(cJSON **out, struct rdsbk_client *client,
                                               const struct rdsbk_lambda_function_input *in);
int rdsbk_lambda_delete_function(struct rdsbk_client *client, const char *name);

struct rdsbk_lambda_add_permission_input {
    const char *function_name;
    const char *statement_id;
    const char *action;    /* "lambda:InvokeFunction" */
    const char *principal; /* "events.amazonaws.com" */
    const char *source_arn;
    const char *source_account;
};

int rdsbk_lambda_add_permission(struct rdsbk_client *client,
                                const struct rdsbk_lambda_add_permission_input *in);
int rdsbk_lambda_remove_permission(struct rdsbk_client *client, const char *function_name,
                                   const char *statement_id);
/* GetPolicy: the resource policy JSON text (caller frees); RDSBK_ENOTFOUND when none. */
int rdsbk_lambda_get_policy(char **policy_out, struct rdsbk_client *client,
                            const char *function_name);

/* The result of Invoke; free with rdsbk_lambda_invoke_result_clean_up. */
struct rdsbk_lambda_invoke_result {
    long status_code;     /* 200 RequestResponse, 202 Event */
    char *function_error; /* X-Amz-Function-Error ("Unhandled"), NULL when none */
    char *log_result;     /* X-Amz-Log-Result (base64), NULL when not asked */
    struct rdsbk_buf payload;
};

void rdsbk_lambda_invoke_result_clean_up(struct rdsbk_lambda_invoke_result *r);

/* Invoke with InvocationType "RequestResponse" or "Event" (NULL: RequestResponse). `payload` may
 * be NULL. A function error is not a call error: see out->function_error. */
int rdsbk_lambda_invoke(struct rdsbk_lambda_invoke_result *out, struct rdsbk_client *client,
                        const char *function_name, const char *invocation_type, const char *payload,
                        size_t payload_len);
/* ListFunctions, all pages: a cJSON array of FunctionConfiguration objects. */
int rdsbk_lambda_list_functions(cJSON **functions_out, struct rdsbk_client *client);

int rdsbk_lambda_tag_resource(struct rdsbk_client *client, const char *arn,
                              const struct rdsbk_tag *tags, size_t n);
int rdsbk_lambda_untag_resource(struct rdsbk_client *client, const char *arn,
                                const char *const *keys, size_t n);
/* Free with rdsbk_aws_tags_free. */
int rdsbk_lambda_list_tags(struct rdsbk_tag **out, size_t *n_out, struct rdsbk_client *client,
                           const char *arn);

#endif
