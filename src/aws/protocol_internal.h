#ifndef RDSBK_AWS_PROTOCOL_INTERNAL_H
#define RDSBK_AWS_PROTOCOL_INTERNAL_H

/* Helpers shared by the protocol modules of src/aws (query.c, json_protocol.c, rest_json.c,
 * rest_xml.c) and request.c; nothing outside src/aws includes this. */

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

/* The document of a reply body: its text from the first byte that is not white space, and
 * *len_out its length (0: the body holds no document). Borrowed from `body`. */
const char *rdsbk_protocol_reply_text(size_t *len_out, const struct rdsbk_buf *body);

/* A JSON or REST-JSON reply body as botocore reads it, whatever its Content-Type says: nothing (or
 * only white space) or `null` is no result (*out NULL); anything else must be a JSON object.
 * Returns 0, or RDSBK_EINVALID naming `service`:`operation` (RDSBK_ENOMEM). */
int rdsbk_protocol_json_reply(cJSON **out, const struct rdsbk_buf *body, const char *service,
                              const char *operation);

/* A restXml reply body: nothing (or only white space) is no document (*out NULL); anything else
 * must be XML. Returns 0, or RDSBK_EINVALID naming `service`:`operation`. The caller frees *out
 * with xmlFreeDoc. */
int rdsbk_rest_xml_reply(xmlDocPtr *out, const struct rdsbk_buf *body, const char *service,
                         const char *operation);

/* After a restXml request failed with `rc` and the reply `resp`: an error without a body (a HEAD
 * reply's) named by its status (404 NotFound, 412 PreconditionFailed, ...) and its code mapped
 * again; a bucket in another Region than `signing_region` named in the message. Returns the code
 * to propagate (`rc` when there is nothing to refine, as after a transport failure). */
int rdsbk_rest_xml_error(int rc, const struct rdsbk_http_response *resp,
                         const char *signing_region);

#endif
