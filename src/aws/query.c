#include "rdsbk/error.h"
#include "rdsbk/protocol.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * awsQuery: the request is an application/x-www-form-urlencoded body
 *
 *   Action=<Op>&Version=<api version>&<Member.Path>=<value>&...
 *
 * with lists as "<List>.member.N" (1-based), maps as "<Map>.entry.N.key"/".value", nested
 * structures as "<Outer>.<Inner>", names and values RFC 3986-encoded. The reply is
 *
 *   <OpResponse><OpResult>...</OpResult><ResponseMetadata><RequestId>..</></></OpResponse>
 *
 * and errors are <ErrorResponse><Error><Code>..., parsed by rdsbk_aws_send.
 */

int rdsbk_query_init(struct rdsbk_query *q, const char *action, const char *version) {
    int rc;

    rdsbk_buf_init(&q->body, 0);
    q->action = strdup(action);
    if (!q->action)
        return rdsbk_error_oom();
    rc = rdsbk_buf_adds(&q->body, "Action=");
    if (rc == 0)
        rc = rdsbk_protocol_uri_encode(&q->body, action, strlen(action), false);
    if (rc == 0)
        rc = rdsbk_buf_adds(&q->body, "&Version=");
    if (rc == 0)
        rc = rdsbk_protocol_uri_encode(&q->body, version, strlen(version), false);
    if (rc)
        rdsbk_query_clean_up(q);
    return rc;
}

void rdsbk_query_clean_up(struct rdsbk_query *q) {
    free(q->action);
    q->action = NULL;
    /* Bodies may carry secrets (web identity tokens). */
    rdsbk_buf_clean_up_secure(&q->body);
}

int rdsbk_query_add(struct rdsbk_query *q, const char *name, const char *value) {
    int rc;

    if (!value)
        return 0;
    rc = rdsbk_buf_addc(&q->body, '&');
    if (rc == 0)
        rc = rdsbk_protocol_uri_encode(&q->body, name, strlen(name), false);
    if (rc == 0)
        rc = rdsbk_buf_addc(&q->body, '=');
    if (rc == 0)
        rc = rdsbk_protocol_uri_encode(&q->body, value, strlen(value), false);
    return rc;
}

int rdsbk_query_addf(struct rdsbk_query *q, const char *value, const char *name_fmt, ...) {
    struct rdsbk_buf name = RDSBK_BUF_INIT;
    va_list ap;
    int rc;

    if (!value)
        return 0;
    va_start(ap, name_fmt);
    rc = rdsbk_buf_vprintf(&name, name_fmt, ap);
    va_end(ap);
    if (rc == 0)
        rc = rdsbk_query_add(q, rdsbk_buf_cstr(&name), value);
    rdsbk_buf_clean_up(&name);
    return rc;
}

int rdsbk_query_add_bool(struct rdsbk_query *q, const char *name, bool value) {
    return rdsbk_query_add(q, name, value ? "true" : "false");
}

int rdsbk_query_add_int(struct rdsbk_query *q, const char *name, long long value) {
    char text[32];

    snprintf(text, sizeof(text), "%lld", value);
    return rdsbk_query_add(q, name, text);
}

int rdsbk_query_add_time(struct rdsbk_query *q, const char *name, time_t value) {
    char text[32];

    rdsbk_protocol_format_time(text, sizeof(text), value);
    return rdsbk_query_add(q, name, text);
}

int rdsbk_query_add_blob(struct rdsbk_query *q, const char *name, const void *data, size_t len) {
    struct rdsbk_buf b64 = RDSBK_BUF_INIT;
    int rc;

    rc = rdsbk_protocol_base64_encode(&b64, data, len);
    if (rc == 0)
        rc = rdsbk_query_add(q, name, rdsbk_buf_cstr(&b64));
    rdsbk_buf_clean_up(&b64);
    return rc;
}

int rdsbk_query_add_list(struct rdsbk_query *q, const char *name, const char *member,
                         const char *const *items, size_t n) {
    int rc = 0;

    /* An empty list is sent as "Name=" so that the service sees it cleared. */
    if (n == 0)
        return rdsbk_query_add(q, name, "");
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (member)
            rc = rdsbk_query_addf(q, items[i], "%s.%s.%zu", name, member, i + 1);
        else
            rc = rdsbk_query_addf(q, items[i], "%s.%zu", name, i + 1);
    }
    return rc;
}

int rdsbk_query_add_map(struct rdsbk_query *q, const char *name, const char *entry, const char *key,
                        const char *value, const char *const *keys, const char *const *values,
                        size_t n) {
    int rc = 0;

    key = key ? key : "key";
    value = value ? value : "value";
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (entry) {
            rc = rdsbk_query_addf(q, keys[i], "%s.%s.%zu.%s", name, entry, i + 1, key);
            if (rc == 0)
                rc = rdsbk_query_addf(q, values[i], "%s.%s.%zu.%s", name, entry, i + 1, value);
        } else {
            rc = rdsbk_query_addf(q, keys[i], "%s.%zu.%s", name, i + 1, key);
            if (rc == 0)
                rc = rdsbk_query_addf(q, values[i], "%s.%zu.%s", name, i + 1, value);
        }
    }
    return rc;
}

int rdsbk_query_add_tags(struct rdsbk_query *q, const char *name, const char *member,
                         const struct rdsbk_tag *tags, size_t n) {
    int rc = 0;

    member = member ? member : "member";
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = rdsbk_query_addf(q, tags[i].key, "%s.%s.%zu.Key", name, member, i + 1);
        if (rc == 0)
            rc = rdsbk_query_addf(q, tags[i].value ? tags[i].value : "", "%s.%s.%zu.Value", name,
                                  member, i + 1);
    }
    return rc;
}

void rdsbk_query_reply_clean_up(struct rdsbk_query_reply *reply) {
    if (reply->doc)
        xmlFreeDoc(reply->doc);
    reply->doc = NULL;
    reply->result = NULL;
}

int rdsbk_query_parse_reply(struct rdsbk_query_reply *reply, const char *action, const char *body,
                            size_t len) {
    char result_name[256];
    xmlNodePtr root;
    int rc;

    reply->doc = NULL;
    reply->result = NULL;
    /* Some operations (DeleteRole, ...) answer with an empty body or no Result element. */
    if (len == 0)
        return 0;
    rc = rdsbk_xml_parse(&reply->doc, body, len);
    if (rc)
        return rc;
    root = xmlDocGetRootElement(reply->doc);
    snprintf(result_name, sizeof(result_name), "%sResult", action);
    reply->result = rdsbk_xml_child(root, result_name);
    return 0;
}

int rdsbk_query_send(struct rdsbk_query_reply *reply, const struct rdsbk_service_ctx *ctx,
                     const struct rdsbk_query *q) {
    struct rdsbk_http_request req = {0};
    struct rdsbk_http_response resp = {0};
    struct rdsbk_buf url = RDSBK_BUF_INIT;
    char operation[256];
    int result = RDSBK_ENOMEM;

    reply->doc = NULL;
    reply->result = NULL;
    /* POST <endpoint>/ */
    if (rdsbk_buf_printf(&url, "%s/", ctx->endpoint))
        goto cleanup;
    req.method = strdup("POST");
    req.url = rdsbk_buf_detach(&url);
    req.body = malloc(q->body.len ? q->body.len : 1);
    if (!req.method || !req.url || !req.body) {
        rdsbk_error_oom();
        goto cleanup;
    }
    memcpy(req.body, q->body.ptr, q->body.len);
    req.body_len = q->body.len;
    if (rdsbk_http_request_add_header(&req, "Content-Type",
                                      "application/x-www-form-urlencoded; charset=utf-8"))
        goto cleanup;
    snprintf(operation, sizeof(operation), "%s:%s", ctx->signing.service, q->action);
    result = rdsbk_protocol_send(&resp, ctx, &req, operation);
    if (result)
        goto cleanup;
    result = rdsbk_query_parse_reply(reply, q->action, resp.body.ptr, resp.body.len);

cleanup:
    if (result)
        rdsbk_query_reply_clean_up(reply);
    rdsbk_buf_clean_up(&url);
    /* STS bodies carry web identity tokens one way and credentials the other. */
    for (size_t i = 0; req.body && i < req.body_len; i++)
        ((volatile unsigned char *)req.body)[i] = 0;
    rdsbk_http_request_clean_up(&req);
    rdsbk_buf_clean_up_secure(&resp.body);
    rdsbk_http_response_clean_up(&resp);
    return result;
}

int rdsbk_query_next_marker(char **out, const xmlNode *result) {
    xmlNodePtr truncated = rdsbk_xml_child(result, "IsTruncated");
    const char *marker = rdsbk_xml_path_text(result, "Marker");

    *out = NULL;
    /* IAM says IsTruncated=false on the last page and may still echo a Marker. */
    if (truncated && strcmp(rdsbk_xml_text(truncated), "true") != 0)
        return 0;
    if (!marker || !*marker)
        return 0;
    *out = strdup(marker);
    return *out ? 0 : rdsbk_error_oom();
}
