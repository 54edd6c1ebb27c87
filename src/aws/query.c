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
#include "protocol_internal.h"
#include "rdsbk/error.h"
#include "rdsbk/protocol.h"
#include "rdsbk/str.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rdsbk_query_init(struct rdsbk_query *q, const char *action, const char *version) {
    int rc;

    rdsbk_buf_init(&q->body, 0);
    q->action = NULL;
    RDSBK_TRY(rdsbk_strdup_into(&q->action, action));
    RDSBK_TRY(rdsbk_protocol_add_pair(&q->body, "", "Action", action));
    RDSBK_TRY(rdsbk_protocol_add_pair(&q->body, "&", "Version", version));

cleanup:
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
    return value ? rdsbk_protocol_add_pair(&q->body, "&", name, value) : 0;
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
    int rc = rdsbk_protocol_base64_encode(&b64, data, len);

    if (rc == 0)
        rc = rdsbk_query_add(q, name, rdsbk_buf_cstr(&b64));
    rdsbk_buf_clean_up(&b64);
    return rc;
}

/* *out = the name of item `i` (0-based) of a list: "<name>.<member>.<i + 1>", or "<name>.<i + 1>"
 * for a flattened list (`member` NULL). */
static int s_item_name(char **out, const char *name, const char *member, size_t i) {
    if (member)
        return rdsbk_strfmt(out, "%s.%s.%zu", name, member, i + 1);
    return rdsbk_strfmt(out, "%s.%zu", name, i + 1);
}

int rdsbk_query_add_list(struct rdsbk_query *q, const char *name, const char *member,
                         const char *const *items, size_t n) {
    char *item = NULL;
    int rc = 0;

    /* An empty list is sent as "Name=" so that the service sees it cleared. */
    if (n == 0)
        return rdsbk_query_add(q, name, "");
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = s_item_name(&item, name, member, i);
        if (rc == 0)
            rc = rdsbk_query_add(q, item, items[i]);
        free(item);
        item = NULL;
    }
    return rc;
}

/* The members of entry `i` of a map or of a tag list: "<entry name>.<key>=k&<entry name>.<value>=v"
 * (k, or v, NULL: left out). */
static int s_add_entry(struct rdsbk_query *q, const char *name, const char *entry, size_t i,
                       const char *key, const char *k, const char *value, const char *v) {
    char *prefix = NULL;
    int rc;

    RDSBK_TRY(s_item_name(&prefix, name, entry, i));
    RDSBK_TRY(rdsbk_query_addf(q, k, "%s.%s", prefix, key));
    RDSBK_TRY(rdsbk_query_addf(q, v, "%s.%s", prefix, value));

cleanup:
    free(prefix);
    return rc;
}

int rdsbk_query_add_map(struct rdsbk_query *q, const char *name, const char *entry, const char *key,
                        const char *value, const char *const *keys, const char *const *values,
                        size_t n) {
    int rc = 0;

    key = key ? key : "key";
    value = value ? value : "value";
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = s_add_entry(q, name, entry, i, key, keys[i], value, values[i]);
    return rc;
}

/* The element of each item of a list or tag list, as a table's `member` names it: NULL
 * "member", "" none (a flattened list or map, "<name>.N"). */
static const char *s_item_element(const char *member) {
    return !member ? "member" : *member ? member : NULL;
}

int rdsbk_query_add_tags(struct rdsbk_query *q, const char *name, const char *member,
                         const struct rdsbk_tag *tags, size_t n) {
    int rc = 0;

    member = s_item_element(member);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = s_add_entry(q, name, member, i, "Key", tags[i].key, "Value",
                         tags[i].value ? tags[i].value : "");
    return rc;
}

/* The text a scalar member is sent as (in `buf` for a number), or NULL when it is left out. */
static const char *s_scalar_text(char buf[32], const struct rdsbk_field *f, const void *in) {
    bool set = f->kind == RDSBK_FIELD_BOOL_IF ? RDSBK_FIELD_IN(bool, in, f->n_offset) : true;

    switch (f->kind) {
    case RDSBK_FIELD_STR:
        return RDSBK_FIELD_IN(const char *, in, f->offset);
    case RDSBK_FIELD_INT:
        if (RDSBK_FIELD_IN(int, in, f->offset) <= 0)
            return NULL;
        snprintf(buf, 32, "%d", RDSBK_FIELD_IN(int, in, f->offset));
        return buf;
    case RDSBK_FIELD_TRUE:
        return RDSBK_FIELD_IN(bool, in, f->offset) ? "true" : NULL;
    case RDSBK_FIELD_BOOL:
    case RDSBK_FIELD_BOOL_IF:
        if (!set)
            return NULL;
        return RDSBK_FIELD_IN(bool, in, f->offset) ? "true" : "false";
    default:
        assert(!"not a field an awsQuery request can send");
        return NULL;
    }
}

static int s_add_field(struct rdsbk_query *q, const struct rdsbk_field *f, const void *in) {
    bool list = f->kind == RDSBK_FIELD_LIST || f->kind == RDSBK_FIELD_OPT_LIST;
    size_t n = list || f->kind == RDSBK_FIELD_TAGS ? RDSBK_FIELD_IN(size_t, in, f->n_offset) : 0;
    char buf[32];

    if (f->kind == RDSBK_FIELD_TAGS)
        return rdsbk_query_add_tags(q, f->name, f->member,
                                    RDSBK_FIELD_IN(const struct rdsbk_tag *, in, f->offset), n);
    if (f->kind == RDSBK_FIELD_OPT_LIST && n == 0)
        return 0;
    if (list)
        return rdsbk_query_add_list(q, f->name, s_item_element(f->member),
                                    RDSBK_FIELD_IN(const char *const *, in, f->offset), n);
    return rdsbk_query_add(q, f->name, s_scalar_text(buf, f, in));
}

int rdsbk_query_add_fields(struct rdsbk_query *q, const struct rdsbk_field *fields,
                           const void *in) {
    int rc = 0;

    for (const struct rdsbk_field *f = fields; f && f->name && rc == 0; f++)
        rc = s_add_field(q, f, in);
    return rc;
}

int rdsbk_query_add_args(struct rdsbk_query *q, const struct rdsbk_arg *args) {
    int rc = 0;

    for (const struct rdsbk_arg *a = args; a && a->name && rc == 0; a++)
        rc = rdsbk_query_add(q, a->name, a->value);
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
    char *result_name = NULL;
    int rc;

    reply->doc = NULL;
    reply->result = NULL;
    /* Some operations (DeleteRole, ...) answer with an empty body or no Result element. */
    if (len == 0)
        return 0;
    RDSBK_TRY(rdsbk_xml_parse(&reply->doc, body, len));
    RDSBK_TRY(rdsbk_strfmt(&result_name, "%sResult", action));
    reply->result = rdsbk_xml_child(xmlDocGetRootElement(reply->doc), result_name);

cleanup:
    free(result_name);
    return rc;
}

int rdsbk_query_send(struct rdsbk_query_reply *reply, const struct rdsbk_service_ctx *ctx,
                     const struct rdsbk_query *q) {
    struct rdsbk_http_request req = {0};
    struct rdsbk_http_response resp = {0};
    int rc;

    reply->doc = NULL;
    reply->result = NULL;
    /* POST <endpoint>/ */
    RDSBK_TRY(rdsbk_protocol_request_init(&req, "POST", ctx->endpoint, "/", NULL));
    RDSBK_TRY(rdsbk_protocol_request_body(&req, "application/x-www-form-urlencoded; charset=utf-8",
                                          rdsbk_buf_cstr(&q->body), rdsbk_buf_len(&q->body)));
    RDSBK_TRY(rdsbk_protocol_send(&resp, ctx, &req, q->action));
    rc = rdsbk_query_parse_reply(reply, q->action, rdsbk_buf_cstr(&resp.body),
                                 rdsbk_buf_len(&resp.body));

cleanup:
    if (rc)
        rdsbk_query_reply_clean_up(reply);
    /* STS bodies carry web identity tokens one way and credentials the other. */
    for (size_t i = 0; req.body && i < req.body_len; i++)
        ((volatile unsigned char *)req.body)[i] = 0;
    rdsbk_http_request_clean_up(&req);
    rdsbk_buf_clean_up_secure(&resp.body);
    rdsbk_http_response_clean_up(&resp);
    return rc;
}

int rdsbk_query_next_token(char **out, const xmlNode *result, const char *member) {
    const char *token = rdsbk_xml_path_text(result, member);

    *out = NULL;
    if (!token || !*token)
        return 0;
    return rdsbk_strdup_into(out, token);
}

int rdsbk_query_next_marker(char **out, const xmlNode *result) {
    xmlNodePtr truncated = rdsbk_xml_child(result, "IsTruncated");

    *out = NULL;
    /* IAM says IsTruncated=false on the last page and may still echo a Marker. */
    if (truncated && strcmp(rdsbk_xml_text(truncated), "true") != 0)
        return 0;
    return rdsbk_query_next_token(out, result, "Marker");
}
