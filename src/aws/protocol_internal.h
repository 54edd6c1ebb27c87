#ifndef RDSBK_AWS_PROTOCOL_INTERNAL_H
#define RDSBK_AWS_PROTOCOL_INTERNAL_H

/* Helpers shared by the protocol modules of src/aws (query.c, json_protocol.c, rest_json.c) and
 * request.c; nothing outside src/aws includes this. */

#include "rdsbk/protocol.h"

/* The member at byte `offset` of the input struct `in`, read as a `type` (the tables' offsets). */
#define RDSBK_FIELD_IN(type, in, offset) (*(const type *)((const char *)(in) + (offset)))

/* Appends `sep` then "<name>=<value>", both percent-encoded (RFC 3986): one pair of a form body
 * or a query string. Returns 0 or RDSBK_ENOMEM. */
int rdsbk_protocol_add_pair(struct rdsbk_buf *out, const char *sep, const char *name,
                            const char *value);

/* Appends a copy of the header "name: value" to the array (*headers, *n). Returns 0 or
 * RDSBK_ENOMEM (the array unchanged). */
int rdsbk_protocol_add_header(struct rdsbk_header **headers, size_t *n, const char *name,
                              const char *value);

/* Starts `req` (zeroed by the caller): `method` to <endpoint><path>[?<query>] (`query` NULL or ""
 * for none; path and query already encoded). Returns 0 or RDSBK_ENOMEM; `req` is the caller's to
 * clean up whatever the outcome. */
int rdsbk_protocol_request_init(struct rdsbk_http_request *req, const char *method,
                                const char *endpoint, const char *path, const char *query);

/* Gives `req` a copy of the `len` bytes at `body` (a body even when empty) and the header
 * "Content-Type: <content_type>". Returns 0 or RDSBK_ENOMEM. */
int rdsbk_protocol_request_body(struct rdsbk_http_request *req, const char *content_type,
                                const void *body, size_t len);

/* A JSON or REST-JSON reply body as botocore reads it, whatever its Content-Type says: nothing (or
 * only white space) or `null` is no result (*out NULL); anything else must be a JSON object.
 * Returns 0, or RDSBK_EINVALID naming `service`:`operation` (RDSBK_ENOMEM). */
int rdsbk_protocol_json_reply(cJSON **out, const struct rdsbk_buf *body, const char *service,
                              const char *operation);

#endif
