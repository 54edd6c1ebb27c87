#ifndef RDSBK_PROTOCOL_H
#define RDSBK_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <libxml/tree.h>

#include "rdsbk/aws.h"
#include "rdsbk/buf.h"
#include "rdsbk/config.h"
#include "rdsbk/http.h"
#include "rdsbk/sigv4.h"

/*
 * The four AWS wire protocols the services use, over rdsbk_aws_send (sign, send, retry, parse
 * AWS errors):
 *
 *   awsQuery   (IAM, STS, RDS, SNS, SQS) form POST "Action=X&Version=Y&...", XML reply
 *   awsJson1.1 (KMS, EventBridge, Logs)   POST / with X-Amz-Target, JSON in and out
 *   restJson1  (Lambda)                   method + path labels + query + headers, JSON body
 *   restXml    (S3)                       the same request with a raw body; bytes or XML replies,
 *                                         S3's <Error> documents (none for HEAD: named by status)
 *
 * A service module builds a request with the builder of its protocol and sends it through a
 * `struct rdsbk_service_ctx` (where and how to call one service). Errors come back as
 * rdsbk_aws_send reports them, with "not found" and "already exists" AWS codes mapped to
 * RDSBK_ENOTFOUND and RDSBK_ECONFLICT (the AWS code, HTTP status and request id are kept in
 * rdsbk_error_last()).
 */

/* The signature of rdsbk_aws_send; tests substitute their own to check request bytes and replay
 * canned responses. */
typedef int (*rdsbk_aws_send_fn)(struct rdsbk_http_response *resp, struct rdsbk_http *http,
                                 struct rdsbk_http_request *req,
                                 const struct rdsbk_signing *signing, const char *operation);

/* Where and how to call one service. Everything is borrowed from whoever filled it in (normally
 * rdsbk_client_service_ctx) and must outlive the calls made with it. */
struct rdsbk_service_ctx {
    struct rdsbk_http *http; /* shared transport */
    const char *endpoint;    /* base URL without a trailing '/', e.g. "https://iam.amazonaws.com" */
    struct rdsbk_signing signing; /* region, service, credentials; get_credentials NULL: unsigned */
    rdsbk_aws_send_fn send;       /* NULL: rdsbk_aws_send */
    bool fresh_connection;        /* each request on a new connection (rdsbk_http_request) */
};

/* ---- encoding helpers (shared by the protocols and the services) ---- */

/* Appends `len` bytes of `s` percent-encoded per RFC 3986 (everything but A-Z a-z 0-9 - _ . ~;
 * '/' too unless `keep_slash`). Returns 0 or RDSBK_ENOMEM. */
int rdsbk_protocol_uri_encode(struct rdsbk_buf *out, const char *s, size_t len, bool keep_slash);

/* Decodes %XX escapes (and '+' as a space when `plus_is_space`) into *out, a new string the caller
 * frees. Returns 0, RDSBK_EINVALID (a malformed escape) or RDSBK_ENOMEM; *out is NULL then. */
int rdsbk_protocol_uri_decode(char **out, const char *s, bool plus_is_space);

/* Standard base64 with padding. Returns 0 or RDSBK_ENOMEM. */
int rdsbk_protocol_base64_encode(struct rdsbk_buf *out, const void *data, size_t len);

/* Decodes standard base64 (whitespace ignored) into `out`. Returns 0, RDSBK_EINVALID or
 * RDSBK_ENOMEM. */
int rdsbk_protocol_base64_decode(struct rdsbk_buf *out, const char *s);

/* Parses an AWS timestamp: ISO 8601 ("2014-04-29T18:30:38Z", fractions, "+01:00" offsets),
 * epoch seconds ("1398796238[.123]") or an HTTP date ("Tue, 29 Apr 2014 18:30:38 GMT").
 * Returns 0 and seconds since the epoch, or RDSBK_EINVALID. */
int rdsbk_protocol_parse_time(double *out, const char *s);

/* Formats `t` as "YYYY-MM-DDTHH:MM:SSZ" into `out` (at least 21 bytes). */
void rdsbk_protocol_format_time(char *out, size_t size, time_t t);

/* Maps the AWS error recorded by rdsbk_aws_send (rdsbk_error_last()) to RDSBK_ENOTFOUND or
 * RDSBK_ECONFLICT when its code says "not found" / "already exists", keeping the AWS details.
 * Returns the code to propagate (`rc` when there is nothing to map). */
int rdsbk_protocol_map_error(int rc);

/* Sends `req` through ctx->send (or rdsbk_aws_send) as "<service>:<operation>" (the name the
 * sender logs and reports it by; `operation` is the bare name, "CreateRole") and maps errors as
 * above. `resp` is the caller's (rdsbk_http_response_clean_up) whatever the outcome. */
int rdsbk_protocol_send(struct rdsbk_http_response *resp, const struct rdsbk_service_ctx *ctx,
                        struct rdsbk_http_request *req, const char *operation);

/*
 * ---- tables: where each member of a request or a reply lives in a C struct ----
 *
 * The services describe an operation's input struct and a reply's output struct as tables of
 * fields, ended by RDSBK_FIELD_END (a row whose name is NULL):
 *
 *   #define S_ROLE(m) offsetof(struct rdsbk_iam_role, m)
 *
 *   static const struct rdsbk_field s_role_fields[] = {
 *       RDSBK_FIELD(STR, "RoleName", S_ROLE(name)),
 *       RDSBK_FIELD_N(TAGS, "Tags", S_ROLE(tags), S_ROLE(n_tags), NULL, NULL),
 *       RDSBK_FIELD_END,
 *   };
 *
 * and one builder per protocol (rdsbk_query_add_fields, rdsbk_json_add_fields) and one reader
 * (rdsbk_xml_read) do the rest.
 */

/* How a member goes on the wire (requests) or comes off it (replies). */
enum rdsbk_field_kind {
    RDSBK_FIELD_STR,      /* char *: sent unless NULL; read as a copy, NULL when absent */
    RDSBK_FIELD_TEXT,     /* char *: read as a copy, "" when absent */
    RDSBK_FIELD_DOC,      /* char *: read from its URL encoding (IAM's policy documents) */
    RDSBK_FIELD_INT,      /* int: sent when > 0; read as 0 when absent or malformed */
    RDSBK_FIELD_BOOL,     /* bool: always sent; read as false when absent */
    RDSBK_FIELD_TRUE,     /* bool: sent, as true, only when set */
    RDSBK_FIELD_BOOL_IF,  /* bool: sent when the bool at `n_offset` is set */
    RDSBK_FIELD_TIME,     /* time_t: read, 0 when absent or malformed */
    RDSBK_FIELD_LIST,     /* const char *const *, its size_t count at `n_offset`: sent even empty */
    RDSBK_FIELD_OPT_LIST, /* the same, left out when empty */
    RDSBK_FIELD_TAGS      /* struct rdsbk_tag *, its count at `n_offset`: sent when not empty */
};

struct rdsbk_field {
    const char *name; /* the member; read from XML, its path below the item ("Endpoint/Port", ""
                         for the item's own text); NULL ends a table */
    enum rdsbk_field_kind kind;
    size_t offset;      /* of the value in the struct */
    size_t n_offset;    /* lists and tags: of their count; RDSBK_FIELD_BOOL_IF: of the flag */
    const char *member; /* awsQuery and XML lists and tags: the element of each item (NULL:
                           "member"; in awsQuery requests "" for none, a flattened list or map:
                           "TagKey.1", "Tag.1.Key" (SQS)); awsJson tags: the key member of each
                           (NULL: a map) */
    const char *value;  /* awsJson tags as a list of objects: the value member of each */
};

/* The rows of a table: a member of kind RDSBK_FIELD_<kind> at `offset`; a list or tags with their
 * count at `n_offset` and their `member` / `value` names; the end. */
#define RDSBK_FIELD(kind, name, offset)                                                            \
    { (name), RDSBK_FIELD_##kind, (offset), 0, NULL, NULL }
#define RDSBK_FIELD_N(kind, name, offset, n_offset, member, value)                                 \
    { (name), RDSBK_FIELD_##kind, (offset), (n_offset), (member), (value) }
#define RDSBK_FIELD_END                                                                            \
    { NULL, RDSBK_FIELD_STR, 0, 0, NULL, NULL }

/* A string argument of a call, for the members no input struct holds: "name=value" (awsQuery),
 * "name": "value" (awsJson); left out when `value` is NULL. Lists of them end with {NULL, NULL}. */
struct rdsbk_arg {
    const char *name;
    const char *value;
};

/* A struct read from a reply: its fields, its size and, when some of its fields are described
 * apart (shapes that share most members), the table of the others. */
struct rdsbk_shape {
    const struct rdsbk_field *fields;
    size_t size;
    const struct rdsbk_shape *more; /* or NULL */
};

/* char * as a shape: the text of the element read (a list of strings: PolicyNames/member). */
extern const struct rdsbk_shape rdsbk_string_shape;

/* struct rdsbk_tag as a shape: read from a tag of an XML tag list, {Key, Value} (absent parts as
 * ""); cleaned up as any tag. */
extern const struct rdsbk_shape rdsbk_tag_shape;

/* Frees what a struct read by `shape` holds (its strings and tags) and zeroes it. NULL `obj` is
 * fine. */
void rdsbk_shape_clean_up(void *obj, const struct rdsbk_shape *shape);

/* Cleans up the `n` structs of `array` with `shape` and frees the array. NULL is fine. */
void rdsbk_shape_free_array(void *array, size_t n, const struct rdsbk_shape *shape);

/* A growing array of items of one size, always allocated once anything was asked of it and zeroed
 * past its last item (an array of strings stays NULL-terminated). Start from {0}; the array in
 * `data` is the holder's (rdsbk_items_free, or hand it out with its count `n`). */
struct rdsbk_items {
    void *data;
    size_t n;
    size_t cap;
};

/* Makes sure the array is allocated, empty or not (a list handed out is never NULL). Returns 0 or
 * RDSBK_ENOMEM. */
int rdsbk_items_alloc(struct rdsbk_items *items, size_t size);

/* Appends a zeroed item; *item_out points at it (valid until the next push). Returns 0 or
 * RDSBK_ENOMEM. */
int rdsbk_items_push(void **item_out, struct rdsbk_items *items, size_t size);

/* rdsbk_shape_free_array of the items, and `items` emptied. */
void rdsbk_items_free(struct rdsbk_items *items, const struct rdsbk_shape *shape);

/* ---- XML (libxml2) helpers; element names are matched by local name, namespaces ignored ---- */

/* Parses `len` bytes without network access or entity expansion. Returns 0 and a document the
 * caller frees with xmlFreeDoc, or RDSBK_EINVALID. */
int rdsbk_xml_parse(xmlDocPtr *out, const char *data, size_t len);

/* The first element child of `parent` named `name` (any name when NULL), or NULL. Borrowed. */
xmlNodePtr rdsbk_xml_child(const xmlNode *parent, const char *name);

/* The next element sibling after `node` named `name` (any when NULL), or NULL. Borrowed. */
xmlNodePtr rdsbk_xml_next(const xmlNode *node, const char *name);

/* Follows a '/'-separated path of element names from `from` ("Role/Arn"), or NULL. Borrowed. */
xmlNodePtr rdsbk_xml_path(const xmlNode *from, const char *path);

/* The text of an element (its first text or CDATA child), "" when empty, NULL when `node` is
 * NULL. Borrowed from the document. */
const char *rdsbk_xml_text(const xmlNode *node);

/* rdsbk_xml_text(rdsbk_xml_path(from, path)). */
const char *rdsbk_xml_path_text(const xmlNode *from, const char *path);

/* A copy of the text at `path` into *out (NULL when the element is absent). Returns 0 or
 * RDSBK_ENOMEM; the caller frees *out. */
int rdsbk_xml_path_dup(char **out, const xmlNode *from, const char *path);

/* The boolean ("true"/"false") or integer at `path`; `dflt` when absent or malformed. */
bool rdsbk_xml_path_bool(const xmlNode *from, const char *path, bool dflt);
long long rdsbk_xml_path_int(const xmlNode *from, const char *path, long long dflt);

/* The timestamp at `path` (0 when absent or malformed). */
time_t rdsbk_xml_path_time(const xmlNode *from, const char *path);

/* Copies the text of every child element named `member` (NULL: "member"; RDS names them, e.g.
 * "AttributeValue") of the list element at `path` into a NULL-terminated array (the caller frees
 * it with rdsbk_strings_free; an absent list gives an empty array). Returns 0 or RDSBK_ENOMEM. */
int rdsbk_xml_path_strings(char ***out, size_t *n_out, const xmlNode *from, const char *path,
                           const char *member);

/* Reads a tag list (<path><member_name><Key/><Value/></member_name>...) into a new array of
 * struct rdsbk_tag (free with rdsbk_aws_tags_free). `member` NULL: "member". Returns 0 or
 * RDSBK_ENOMEM. */
int rdsbk_xml_path_tags(struct rdsbk_tag **out, size_t *n_out, const xmlNode *from,
                        const char *path, const char *member);

/* Frees an array of tags from a service call (NULL is fine). */
void rdsbk_aws_tags_free(struct rdsbk_tag *tags, size_t n);

/* Reads a map as awsQuery replies carry it (<path><entry><key>k</key><value>v</value></entry>...;
 * `entry`, `key`, `value` NULL: "entry", "key", "value") into *out, a new object {"k": "v", ...}
 * the caller deletes: values as text ("" when empty or absent), a key repeated: the last value
 * wins, an entry without a key left out, an absent map: {}. Returns 0 or RDSBK_ENOMEM (*out
 * NULL). */
int rdsbk_xml_path_map(cJSON **out, const xmlNode *from, const char *path, const char *entry,
                       const char *key, const char *value);

/* Reads the fields of `shape` from the children of `node` into `out` (zeroed beforehand). Returns
 * 0, RDSBK_ENOMEM, or RDSBK_EINVALID for a malformed document; on failure what was read stays in
 * `out` for the caller's clean-up. */
int rdsbk_xml_read(void *out, const xmlNode *node, const struct rdsbk_shape *shape);

/* Appends to `items` a struct read by `shape` from each element `member` (NULL: "member") of the
 * list at `path` below `from`; an absent list adds nothing. Returns as rdsbk_xml_read; on failure
 * the items read so far stay in `items` (rdsbk_items_free). */
int rdsbk_xml_read_list(struct rdsbk_items *items, const xmlNode *from, const char *path,
                        const char *member, const struct rdsbk_shape *shape);

/* Zeroes the text under `node` (replies that carry secrets, before xmlFreeDoc). NULL is fine. */
void rdsbk_xml_wipe(xmlNodePtr node);

/* Frees an array from rdsbk_xml_path_strings (NULL is fine). */
void rdsbk_strings_free(char **strings, size_t n);

/* ---- awsQuery ---- */

/* A form body under construction. Caller-owned: rdsbk_query_init / rdsbk_query_clean_up. */
struct rdsbk_query {
    char *action;
    struct rdsbk_buf body;
};

/* Starts "Action=<action>&Version=<version>". Returns 0 or RDSBK_ENOMEM. */
int rdsbk_query_init(struct rdsbk_query *q, const char *action, const char *version);
void rdsbk_query_clean_up(struct rdsbk_query *q);

/* Appends "&name=value" (both encoded); a NULL value adds nothing. Returns 0 or RDSBK_ENOMEM. */
int rdsbk_query_add(struct rdsbk_query *q, const char *name, const char *value);

/* The same with a printf-formatted name ("Tags.member.%zu.Key"). */
int rdsbk_query_addf(struct rdsbk_query *q, const char *value, const char *name_fmt, ...)
    __attribute__((format(printf, 3, 4)));

int rdsbk_query_add_bool(struct rdsbk_query *q, const char *name, bool value);
int rdsbk_query_add_int(struct rdsbk_query *q, const char *name, long long value);
/* ISO 8601 ("2015-01-25T08:00:00Z"). */
int rdsbk_query_add_time(struct rdsbk_query *q, const char *name, time_t value);
/* Base64 of the bytes. */
int rdsbk_query_add_blob(struct rdsbk_query *q, const char *name, const void *data, size_t len);

/* A list of strings: "name.member.1=a&name.member.2=b" (`member` may be another element name, or
 * NULL for a flattened list "name.1=a"); an empty list serialises as "name=". */
int rdsbk_query_add_list(struct rdsbk_query *q, const char *name, const char *member,
                         const char *const *items, size_t n);

/* A map of strings: "name.entry.1.key=k&name.entry.1.value=v" (`entry` NULL: flattened,
 * "name.1.key"; `key`/`value` NULL: "key"/"value"). Nothing for an empty map. */
int rdsbk_query_add_map(struct rdsbk_query *q, const char *name, const char *entry, const char *key,
                        const char *value, const char *const *keys, const char *const *values,
                        size_t n);

/* A list of tag structures: "name.<member>.N.Key=k&name.<member>.N.Value=v" (`member` NULL:
 * "member"; RDS: "Tag"; "": a flattened map, "name.N.Key=k&name.N.Value=v", SQS's tags). */
int rdsbk_query_add_tags(struct rdsbk_query *q, const char *name, const char *member,
                         const struct rdsbk_tag *tags, size_t n);

/* The members `fields` describes (a table ended by RDSBK_FIELD_END) of the struct `in`, in table
 * order. Returns 0 or RDSBK_ENOMEM. */
int rdsbk_query_add_fields(struct rdsbk_query *q, const struct rdsbk_field *fields, const void *in);

/* The arguments `args` (ended by {NULL, NULL}) in order. Returns 0 or RDSBK_ENOMEM. */
int rdsbk_query_add_args(struct rdsbk_query *q, const struct rdsbk_arg *args);

/* A parsed awsQuery reply. `result` is the <ActionResult> element (NULL for operations that
 * return none). Free with rdsbk_query_reply_clean_up. */
struct rdsbk_query_reply {
    xmlDocPtr doc;
    xmlNodePtr result;
};

void rdsbk_query_reply_clean_up(struct rdsbk_query_reply *reply);

/* Builds the request (POST <endpoint>/, form content type), sends it and parses the XML reply.
 * Returns 0 and fills *reply, a negative code (error set) otherwise. The query is not consumed. */
int rdsbk_query_send(struct rdsbk_query_reply *reply, const struct rdsbk_service_ctx *ctx,
                     const struct rdsbk_query *q);

/* Parses an awsQuery reply body for `action` (used by rdsbk_query_send and by tests). */
int rdsbk_query_parse_reply(struct rdsbk_query_reply *reply, const char *action, const char *body,
                            size_t len);

/* Pagination: the next marker of a reply (IAM: <IsTruncated>true</IsTruncated> + <Marker>;
 * RDS: <Marker> alone). *out is NULL on the last page. Returns 0 or RDSBK_ENOMEM. */
int rdsbk_query_next_marker(char **out, const xmlNode *result);

/* Pagination by a token of another name (SNS: <NextToken>): a copy of the text of `member` in the
 * Result, NULL when it is absent or empty (the last page). Returns 0 or RDSBK_ENOMEM. */
int rdsbk_query_next_token(char **out, const xmlNode *result, const char *member);

/* ---- awsJson1.1 ---- */

/* POST / with "X-Amz-Target: <target_prefix>.<operation>" and the JSON of `input` (NULL: {}).
 * Returns 0 and *out, the parsed reply (an object; {} for an empty body), which the caller
 * frees with cJSON_Delete; a negative code with the error set otherwise. */
int rdsbk_json_call(cJSON **out, const struct rdsbk_service_ctx *ctx, const char *target_prefix,
                    const char *operation, const cJSON *input);

/* Tags as awsJson / restJson want them: a map {"k": "v"} (Lambda) or a list of
 * {"<key_field>": k, "<value_field>": v} (KMS TagKey/TagValue, EventBridge Key/Value). NULL on
 * ENOMEM (error set). The caller deletes the result. */
cJSON *rdsbk_json_tags_map(const struct rdsbk_tag *tags, size_t n);
cJSON *rdsbk_json_tags_list(const struct rdsbk_tag *tags, size_t n, const char *key_field,
                            const char *value_field);

/* Adds to `obj` the members `fields` describes (a table ended by RDSBK_FIELD_END) of the struct
 * `in`, in table order. Returns 0 or RDSBK_ENOMEM. */
int rdsbk_json_add_fields(cJSON *obj, const struct rdsbk_field *fields, const void *in);

/* Adds to `obj` the string members `args` (ended by {NULL, NULL}) in order. Returns 0 or
 * RDSBK_ENOMEM. */
int rdsbk_json_add_args(cJSON *obj, const struct rdsbk_arg *args);

/* The reverse: reads a map or a list of tag objects into a new array (rdsbk_aws_tags_free).
 * A NULL or absent `json` gives an empty array. Returns 0 or RDSBK_ENOMEM. */
int rdsbk_json_tags_parse(struct rdsbk_tag **out, size_t *n_out, const cJSON *json,
                          const char *key_field, const char *value_field);

/* Pagination: a copy of the string member `field` ("NextToken", "NextMarker") of a reply, or NULL
 * when absent or empty. Returns 0 or RDSBK_ENOMEM. */
int rdsbk_json_next_token(char **out, const cJSON *reply, const char *field);

/* ---- restJson1 and restXml ---- */

/* A REST request under construction. Caller-owned: rdsbk_rest_init (restJson1) or
 * rdsbk_rest_xml_init (restXml) / rdsbk_rest_clean_up. */
struct rdsbk_rest {
    char *method;
    char *operation;
    struct rdsbk_buf path;  /* already encoded */
    struct rdsbk_buf query; /* already encoded, without '?' */
    struct rdsbk_header *headers;
    size_t n_headers;
    struct rdsbk_buf body;
    char *content_type;
    bool raw_reply; /* set by the caller: keep the reply body as bytes, never parse it (Invoke,
                       GetObject) */
    bool xml;       /* restXml (rdsbk_rest_xml_init): XML replies, S3's errors */
};

/* Start a request (zeroing `r`): restJson1, or restXml. Return 0 or RDSBK_ENOMEM (`r` then holds
 * nothing). */
int rdsbk_rest_init(struct rdsbk_rest *r, const char *method, const char *operation);
int rdsbk_rest_xml_init(struct rdsbk_rest *r, const char *method, const char *operation);
void rdsbk_rest_clean_up(struct rdsbk_rest *r);

/* Appends a literal path piece (already valid, e.g. "/2015-03-31/functions/"). */
int rdsbk_rest_path(struct rdsbk_rest *r, const char *literal);
/* Appends a path label, URI-encoded ('/' encoded too unless `greedy`; a greedy label's "." and
 * ".." segments as %2E, so that no URL normalisation on the way, libcurl's included, drops or
 * applies them: S3 keys are any bytes). */
int rdsbk_rest_label(struct rdsbk_rest *r, const char *value, bool greedy);
/* Adds "name=value" to the query string (both encoded); a NULL value adds nothing. */
int rdsbk_rest_query(struct rdsbk_rest *r, const char *name, const char *value);
/* Adds a header (copied); a NULL value adds nothing. */
int rdsbk_rest_header(struct rdsbk_rest *r, const char *name, const char *value);
/* Sets the body to the JSON of `body` (application/json). */
int rdsbk_rest_json(struct rdsbk_rest *r, const cJSON *body);
/* Sets a raw body with its content type. */
int rdsbk_rest_body(struct rdsbk_rest *r, const void *data, size_t len, const char *content_type);

/* The reply: the HTTP status, the raw response (headers and body) and, unless raw_reply, the
 * parsed body: restJson1 the object (NULL for none), restXml the document (NULL for no body).
 * Free with rdsbk_rest_reply_clean_up. */
struct rdsbk_rest_reply {
    long status;
    struct rdsbk_http_response resp;
    cJSON *json;
    xmlDocPtr xml;
};

void rdsbk_rest_reply_clean_up(struct rdsbk_rest_reply *reply);

/* The value of the reply header `name` (case-insensitive), or NULL. Borrowed. */
const char *rdsbk_rest_reply_header(const struct rdsbk_rest_reply *reply, const char *name);

/* Sends the request. Returns 0 on a 2xx reply; a negative code with the error set otherwise, and
 * then reply->resp holds the error reply when there was one (its status, headers and body; json
 * and xml are NULL). `reply` is the caller's to clean up whatever the outcome. */
int rdsbk_rest_send(struct rdsbk_rest_reply *reply, const struct rdsbk_service_ctx *ctx,
                    const struct rdsbk_rest *r);

/* Builds the HTTP request rdsbk_rest_send would send (for tests). The caller cleans it up. */
int rdsbk_rest_build(struct rdsbk_http_request *out, const struct rdsbk_service_ctx *ctx,
                     const struct rdsbk_rest *r);

#endif
