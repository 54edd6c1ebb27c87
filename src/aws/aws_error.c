/* Error replies of the four protocols, normalised, and what they mean to us; see aws_error.h. */
#include "rdsbk/aws_error.h"

#include "rdsbk/error.h"
#include "rdsbk/json_util.h"
#include "rdsbk/str.h"

#include <cjson/cJSON.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The SDKs' standard retry mode (botocore retries/standard.py, aws-sdk-go-v2 retry package). */
static const char *const s_throttling_codes[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    /* SNS's ThrottledException (HTTP 429), not in the SDKs' list: waiting is what it asks for */
    "Throttled",
};

static const char *const s_transient_codes[] = {
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
};

#define S_IN(code, list) rdsbk_str_in((code), (list), sizeof(list) / sizeof((list)[0]))

bool rdsbk_aws_error_is_throttling(const char *code) {
    return S_IN(code, s_throttling_codes);
}

bool rdsbk_aws_error_is_retryable(long status, const char *code) {
    if (rdsbk_aws_error_is_throttling(code))
        return true;
    if (S_IN(code, s_transient_codes))
        return true;
    return status == 500 || status == 502 || status == 503 || status == 504;
}

bool rdsbk_aws_error_is_retryable_for(const char *service, long status, const char *code) {
    /* S3's 409 ConditionalRequestConflict: another conditional write to the key was in flight;
     * the S3 guide's "Conditional requests" asks to retry it (the SDKs' lists do not hold it). */
    if (service && strcmp(service, "s3") == 0 && code &&
        strcmp(code, "ConditionalRequestConflict") == 0)
        return true;
    /* EventBridge's LimitExceededException is a resource quota (rules, targets): waiting does
     * not lift it (its model: "attempted to create resource beyond the allowed service quota"). */
    if (service && strcmp(service, "events") == 0 && code &&
        strcmp(code, "LimitExceededException") == 0)
        return status == 500 || status == 502 || status == 503 || status == 504;
    return rdsbk_aws_error_is_retryable(status, code);
}

static bool s_contains(const char *s, const char *needle) {
    return s && strstr(s, needle) != NULL;
}

static bool s_starts(const char *s, const char *prefix) {
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

int rdsbk_aws_error_to_code(long status, const char *code) {
    static const char *const auth[] = {
        "UnrecognizedClient",         "UnrecognizedClientException",
        "InvalidClientTokenId",       "SignatureDoesNotMatch",
        "InvalidSignatureException",  "IncompleteSignature",
        "MissingAuthenticationToken", "AuthFailure",
        "UnauthorizedOperation",      "InvalidAccessKeyId",
        "AuthorizationError",
    };
    static const char *const conflict[] = {
        "EntityAlreadyExists",
        "ResourceConflictException",
        "ConflictException",
        "ResourceInUseException",
        "AlreadyExistsException",
        "ConcurrentModificationException",
        "ResourceAlreadyExistsException",
        "PreconditionFailed",           /* S3's conditional write (412): another write came first */
        "OperationInProgressException", /* CloudFormation: another operation of the set runs */
    };
    /* SQS's, which says neither "NotFound" nor "NoSuch" (botocore's QueueDoesNotExist) */
    static const char *const not_found[] = {
        "AWS.SimpleQueueService.NonExistentQueue",
    };
    static const char *const invalid[] = {
        "InvalidInput",  "MissingParameter",     "MissingAction",
        "InvalidAction", "MalformedQueryString", "PermanentRedirect", /* S3: another Region */
    };

    if (rdsbk_aws_error_is_throttling(code))
        return RDSBK_ETHROTTLED;
    if (code && *code) {
        if (s_starts(code, "AccessDenied") || s_starts(code, "ExpiredToken") || S_IN(code, auth))
            return RDSBK_EAUTH;
        if (s_contains(code, "NotFound") || s_starts(code, "NoSuch") || S_IN(code, not_found))
            return RDSBK_ENOTFOUND;
        if (s_contains(code, "AlreadyExists") || S_IN(code, conflict))
            return RDSBK_ECONFLICT;
        if (s_starts(code, "Validation") || s_starts(code, "InvalidParameter") ||
            s_starts(code, "MalformedPolicyDocument") || S_IN(code, invalid))
            return RDSBK_EINVALID;
    }
    if (status == 401 || status == 403)
        return RDSBK_EAUTH;
    if (status == 404)
        return RDSBK_ENOTFOUND;
    if (status == 409 || status == 412)
        return RDSBK_ECONFLICT;
    if (status >= 400 && status < 500)
        return RDSBK_EINVALID;
    return RDSBK_ERROR;
}

void rdsbk_aws_error_clean_up(struct rdsbk_aws_error *err) {
    free(err->code);
    free(err->message);
    free(err->request_id);
    memset(err, 0, sizeof(*err));
}

/* "aws.protocoltests#FooError:http://internal.amazon.com/..." -> "FooError" */
static char *s_sanitise_code(const char *raw) {
    const char *start = raw;
    const char *hash;
    size_t len;

    while (isspace((unsigned char)*start))
        start++;
    len = strcspn(start, ":");
    hash = memchr(start, '#', len);
    if (hash) {
        len -= (size_t)(hash + 1 - start);
        start = hash + 1;
    }
    while (len > 0 && isspace((unsigned char)start[len - 1]))
        len--;
    return len ? strndup(start, len) : NULL;
}

static int s_set(char **dst, const char *value) {
    if (*dst || !value || !*value)
        return 0;
    *dst = strdup(value);
    return *dst ? 0 : rdsbk_error_oom();
}

static int s_parse_json(struct rdsbk_aws_error *out, const char *body) {
    static const char *const code_keys[] = {"__type", "code", "Code"};
    static const char *const message_keys[] = {"message", "Message", "errorMessage"};
    cJSON *root = cJSON_Parse(body);
    int rc = 0;

    if (!cJSON_IsObject(root))
        goto cleanup;
    for (size_t i = 0; !out->code && i < sizeof(code_keys) / sizeof(code_keys[0]); i++) {
        const char *v = rdsbk_json_str(root, code_keys[i]);
        if (v && *v)
            out->code = s_sanitise_code(v); /* NULL: nothing usable */
    }
    for (size_t i = 0; i < sizeof(message_keys) / sizeof(message_keys[0]); i++)
        RDSBK_TRY(s_set(&out->message, rdsbk_json_str(root, message_keys[i])));

cleanup:
    cJSON_Delete(root);
    return rc;
}

static xmlNode *s_find(xmlNode *node, const char *name) {
    for (; node; node = node->next) {
        xmlNode *found;
        if (node->type == XML_ELEMENT_NODE && strcmp((const char *)node->name, name) == 0)
            return node;
        found = s_find(node->children, name);
        if (found)
            return found;
    }
    return NULL;
}

static xmlNode *s_child(xmlNode *node, const char *name) {
    for (xmlNode *c = node ? node->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
            return c;
    return NULL;
}

static int s_set_text(char **dst, xmlNode *node) {
    xmlChar *text;
    int rc;

    if (!node || *dst)
        return 0;
    text = xmlNodeGetContent(node);
    rc = s_set(dst, (const char *)text);
    xmlFree(text);
    return rc;
}

static pthread_once_t s_xml_once = PTHREAD_ONCE_INIT;

static void s_xml_init(void) {
    xmlInitParser();
}

/* <ErrorResponse><Error><Code/><Message/></Error><RequestId/></ErrorResponse> (awsQuery),
 * <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response> (EC2),
 * and a bare <Error>. */
static int s_parse_xml(struct rdsbk_aws_error *out, const char *body, size_t len) {
    xmlDoc *doc;
    xmlNode *root;
    xmlNode *error;
    char *code = NULL;
    int rc = 0;

    pthread_once(&s_xml_once, s_xml_init);
    doc = xmlReadMemory(body, (int)len, "error.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        goto cleanup;
    root = xmlDocGetRootElement(doc);
    error = s_find(root, "Error");
    RDSBK_TRY(s_set_text(&code, s_child(error, "Code")));
    if (code && !out->code) { /* X-Amzn-ErrorType, when present, stands */
        out->code = s_sanitise_code(code);
        if (!out->code)
            RDSBK_TRY(s_set(&out->code, code));
    }
    RDSBK_TRY(s_set_text(&out->message, s_child(error, "Message")));
    RDSBK_TRY(s_set_text(&out->request_id, s_find(root, "RequestId")));
    RDSBK_TRY(s_set_text(&out->request_id, s_find(root, "RequestID")));

cleanup:
    free(code);
    xmlFreeDoc(doc);
    return rc;
}

int rdsbk_aws_error_parse(struct rdsbk_aws_error *out, const struct rdsbk_http_response *resp) {
    const char *body = rdsbk_buf_cstr(&resp->body);
    const char *p = body;
    const char *header;
    char fallback[32];
    int rc;

    memset(out, 0, sizeof(*out));
    out->status = resp->status;

    /* X-Amzn-ErrorType first: restJson1 puts the authoritative code there. */
    header = rdsbk_http_response_header(resp, "X-Amzn-ErrorType");
    if (header && *header)
        out->code = s_sanitise_code(header);
    header = rdsbk_http_response_header(resp, "x-amzn-RequestId");
    if (!header)
        header = rdsbk_http_response_header(resp, "x-amz-request-id");
    RDSBK_TRY(s_set(&out->request_id, header));
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '{')
        RDSBK_TRY(s_parse_json(out, p));
    else if (*p == '<')
        RDSBK_TRY(s_parse_xml(out, p, rdsbk_buf_len(&resp->body) - (size_t)(p - body)));
    if (!out->code) {
        snprintf(fallback, sizeof(fallback), "HTTP %ld", resp->status);
        rc = s_set(&out->code, fallback);
    }

cleanup:
    if (rc)
        rdsbk_aws_error_clean_up(out);
    return rc;
}
