/*
 * restXml (S3): the REST request of rest_json.c, with S3's replies and errors:
 *
 *   PUT /<bucket>/<key, '/' kept> HTTP/1.1   (path-style; virtual-hosted: Host <bucket>.<endpoint>
 *                                             and /<key>; the service picks, endpoints.c)
 *   If-None-Match: *                         (members bound to headers)
 *   X-Amz-Content-SHA256: <hex>              (added by the signer, sigv4.c)
 *
 *   <bytes>                                  (a blob payload as it is; configurations as XML)
 *
 * A reply is its bytes (objects) or an XML document (configurations). An error is S3's
 * <Error><Code/><Message/><RequestId/></Error>, which aws_error.c reads, except that a HEAD reply
 * has no body: its error is named here by its status, as the AWS SDK for Go v2 names it
 * (404 NotFound, 412 PreconditionFailed, 403 Forbidden, ...). A bucket of another Region than the
 * one signed for (301 PermanentRedirect, 400 AuthorizationHeaderMalformed) says which Region it is
 * in: x-amz-bucket-region.
 */
#include "protocol_internal.h"
#include "rdsbk/aws_error.h"
#include "rdsbk/error.h"
#include "rdsbk/protocol.h"

#include <stdio.h>
#include <string.h>

int rdsbk_rest_xml_init(struct rdsbk_rest *r, const char *method, const char *operation) {
    int rc = rdsbk_rest_init(r, method, operation);

    r->xml = true;
    return rc;
}

int rdsbk_rest_xml_reply(xmlDocPtr *out, const struct rdsbk_buf *body, const char *service,
                         const char *operation) {
    size_t len;
    const char *text = rdsbk_protocol_reply_text(&len, body);

    *out = NULL;
    if (len == 0)
        return 0;
    if (rdsbk_xml_parse(out, text, len) != 0)
        return rdsbk_error_set(RDSBK_EINVALID, "%s:%s: the reply is not XML", service, operation);
    return 0;
}

/* The error code and reason S3 would have sent for `status`, had a HEAD reply a body. */
static const struct {
    long status;
    const char *code;
    const char *reason;
} s_status_codes[] = {
    {301, "PermanentRedirect", "Moved Permanently"},
    {304, "NotModified", "Not Modified"},
    {400, "BadRequest", "Bad Request"},
    {403, "Forbidden", "Forbidden"},
    {404, "NotFound", "Not Found"},
    {405, "MethodNotAllowed", "Method Not Allowed"},
    {409, "Conflict", "Conflict"},
    {412, "PreconditionFailed", "Precondition Failed"},
    {500, "InternalError", "Internal Server Error"},
    {503, "ServiceUnavailable", "Service Unavailable"},
};

/* An error that aws_error.c could only call "HTTP <status>" (no body) named by its status. */
static void s_name_by_status(struct rdsbk_error *err, long status) {
    char fallback[32];

    snprintf(fallback, sizeof(fallback), "HTTP %ld", status);
    if (strcmp(err->aws_code, fallback) != 0)
        return;
    for (size_t i = 0; i < sizeof(s_status_codes) / sizeof(s_status_codes[0]); i++) {
        if (s_status_codes[i].status != status)
            continue;
        snprintf(err->aws_code, sizeof(err->aws_code), "%s", s_status_codes[i].code);
        snprintf(err->message, sizeof(err->message), "%s (HTTP %ld, a reply without a body)",
                 s_status_codes[i].reason, status);
        err->code = rdsbk_aws_error_to_code(status, err->aws_code);
        return;
    }
}

/* Says where the bucket is when S3 named another Region than the one signed for. */
static void s_region_hint(struct rdsbk_error *err, const struct rdsbk_http_response *resp,
                          const char *signing_region) {
    const char *region = rdsbk_http_response_header(resp, "x-amz-bucket-region");
    size_t len = strlen(err->message);

    if (!region || !signing_region || strcmp(region, signing_region) == 0)
        return;
    snprintf(err->message + len, sizeof(err->message) - len,
             " (the bucket is in %s; the request was signed for %s)", region, signing_region);
}

int rdsbk_rest_xml_error(int rc, const struct rdsbk_http_response *resp,
                         const char *signing_region) {
    struct rdsbk_error err;

    if (rc >= 0 || resp->status == 0)
        return rc; /* no reply: a transport failure stands as it is */
    rdsbk_error_save(&err);
    if (err.aws_code[0] == '\0' || err.http_status != resp->status)
        return rc;
    s_name_by_status(&err, resp->status);
    s_region_hint(&err, resp, signing_region);
    rdsbk_error_restore(&err);
    return err.code;
}
