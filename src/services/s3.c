/*
 * S3 (restXml): objects read and written with conditions, and the bucket calls that set a bucket
 * up; see rdsbk/services/s3.h. Each call builds one REST request against the bucket's base URL
 * (virtual-hosted or path-style, rdsbk_endpoint_s3_bucket):
 *
 *   <METHOD> [/<bucket>]/<key, each segment encoded>[?versioning]
 */
#include "rdsbk/services/s3.h"

#include "rdsbk/endpoints.h"
#include "rdsbk/error.h"
#include "rdsbk/protocol.h"
#include "rdsbk/str.h"

#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"

/* One call: its request, the context it goes through (the client's for "s3", with the bucket's
 * base URL as the endpoint), and its reply. Start from {0}; s_clean_up releases all. */
struct s_call {
    struct rdsbk_rest r;
    struct rdsbk_service_ctx ctx;
    char *url; /* the bucket's base URL, which ctx.endpoint points at */
    struct rdsbk_rest_reply reply;
};

static void s_clean_up(struct s_call *c) {
    rdsbk_rest_clean_up(&c->r);
    rdsbk_rest_reply_clean_up(&c->reply);
    free(c->url);
}

/* Starts `op` on `bucket`, and on `key` unless it is NULL: the context, then the path
 * ("/<bucket>" when path-style, then "/<key>"). */
static int s_start(struct s_call *c, struct rdsbk_client *client, const char *method,
                   const char *op, const char *bucket, const char *key) {
    bool path_style;
    int rc;

    RDSBK_TRY(rdsbk_rest_xml_init(&c->r, method, op));
    if (!bucket || !*bucket) {
        rc = rdsbk_error_set(RDSBK_EINVALID, "s3:%s: no bucket name", op);
        goto cleanup;
    }
    RDSBK_TRY(rdsbk_client_service_ctx(&c->ctx, client, "s3"));
    RDSBK_TRY(rdsbk_endpoint_s3_bucket(&c->url, &path_style, c->ctx.endpoint, bucket));
    c->ctx.endpoint = c->url;
    if (path_style) {
        RDSBK_TRY(rdsbk_rest_path(&c->r, "/"));
        RDSBK_TRY(rdsbk_rest_label(&c->r, bucket, false));
    }
    if (key) {
        RDSBK_TRY(rdsbk_rest_path(&c->r, "/"));
        rc = rdsbk_rest_label(&c->r, key, true);
    }

cleanup:
    return rc;
}

/* Starts `op` on the object `key` (not empty), its reply kept as bytes. */
static int s_object(struct s_call *c, struct rdsbk_client *client, const char *method,
                    const char *op, const char *bucket, const char *key) {
    int rc;

    if (!key || !*key)
        return rdsbk_error_set(RDSBK_EINVALID, "s3:%s: an object key must not be empty", op);
    rc = s_start(c, client, method, op, bucket, key);
    c->r.raw_reply = true; /* the object's bytes, whatever they are */
    return rc;
}

static int s_send(struct s_call *c) {
    return rdsbk_rest_send(&c->reply, &c->ctx, &c->r);
}

/* A copy of the reply header `name` into *out; RDSBK_EINVALID when the reply lacks it. */
static int s_header(char **out, const struct s_call *c, const char *name) {
    const char *v = rdsbk_rest_reply_header(&c->reply, name);

    *out = NULL;
    if (!v)
        return rdsbk_error_set(RDSBK_EINVALID, "s3:%s: no %s in the reply", c->r.operation, name);
    return rdsbk_strdup_into(out, v);
}

/* The ETag of the reply into *etag_out, when the caller wants it. */
static int s_etag(char **etag_out, const struct s_call *c) {
    return etag_out ? s_header(etag_out, c, "ETag") : 0;
}

int rdsbk_s3_get_object(struct rdsbk_buf *body_out, char **etag_out, struct rdsbk_client *client,
                        const char *bucket, const char *key) {
    struct s_call c = {0};
    const struct rdsbk_buf *body = &c.reply.resp.body;
    int rc;

    if (etag_out)
        *etag_out = NULL;
    rdsbk_buf_reset(body_out);
    RDSBK_TRY(s_object(&c, client, "GET", "GetObject", bucket, key));
    RDSBK_TRY(s_send(&c));
    RDSBK_TRY(rdsbk_buf_add(body_out, rdsbk_buf_cstr(body), rdsbk_buf_len(body)));
    rc = s_etag(etag_out, &c);

cleanup:
    if (rc)
        rdsbk_buf_reset(body_out);
    s_clean_up(&c);
    return rc;
}

int rdsbk_s3_head_object(char **etag_out, struct rdsbk_client *client, const char *bucket,
                         const char *key) {
    struct s_call c = {0};
    int rc;

    *etag_out = NULL;
    RDSBK_TRY(s_object(&c, client, "HEAD", "HeadObject", bucket, key));
    RDSBK_TRY(s_send(&c));
    rc = s_etag(etag_out, &c);

cleanup:
    s_clean_up(&c);
    return rc;
}

bool rdsbk_s3_precondition_failed(int rc) {
    return rc == RDSBK_ECONFLICT && rdsbk_error_last()->http_status == 412;
}

/* The headers of a PutObject: its encryption and its conditions. */
static int s_put_headers(struct rdsbk_rest *r, const struct rdsbk_s3_put *o) {
    int rc;

    if (o->sse_kms_key_id) {
        RDSBK_TRY(rdsbk_rest_header(r, "x-amz-server-side-encryption", "aws:kms"));
        RDSBK_TRY(
            rdsbk_rest_header(r, "x-amz-server-side-encryption-aws-kms-key-id", o->sse_kms_key_id));
    } else {
        RDSBK_TRY(rdsbk_rest_header(r, "x-amz-server-side-encryption", "AES256"));
    }
    RDSBK_TRY(rdsbk_rest_header(r, "If-Match", o->if_match));
    rc = rdsbk_rest_header(r, "If-None-Match", o->if_none_match_star ? "*" : NULL);

cleanup:
    return rc;
}

/*
 * After a conditional write met 412: whether that was its own earlier attempt, whose reply was
 * lost or refused on the way (only a retried call can have one), now found as the object. Then
 * *etag_out gets the object's ETag. The 412's error stands otherwise.
 */
static bool s_was_ours(char **etag_out, struct rdsbk_client *client, const char *bucket,
                       const char *key, const void *body, size_t len) {
    struct rdsbk_buf found = RDSBK_BUF_INIT;
    struct rdsbk_error refused;
    char *etag = NULL;
    bool ours;

    rdsbk_error_save(&refused);
    ours = rdsbk_s3_get_object(&found, &etag, client, bucket, key) == 0 &&
           rdsbk_buf_len(&found) == len &&
           (len == 0 || memcmp(rdsbk_buf_cstr(&found), body, len) == 0);
    if (ours && etag_out) {
        *etag_out = etag;
        etag = NULL;
    }
    if (!ours)
        rdsbk_error_restore(&refused);
    free(etag);
    rdsbk_buf_clean_up(&found);
    return ours;
}

int rdsbk_s3_put_object(char **etag_out, struct rdsbk_client *client, const char *bucket,
                        const char *key, const void *body, size_t len,
                        const struct rdsbk_s3_put *opts) {
    static const struct rdsbk_s3_put defaults = {0};
    const struct rdsbk_s3_put *o = opts ? opts : &defaults;
    bool conditional = o->if_match || o->if_none_match_star;
    struct s_call c = {0};
    int rc;

    if (etag_out)
        *etag_out = NULL;
    if (o->if_match && o->if_none_match_star) {
        rc = rdsbk_error_set(RDSBK_EINVALID, "s3: If-Match and If-None-Match at once are not "
                                             "supported by S3 (501 NotImplemented)");
        goto cleanup;
    }
    RDSBK_TRY(s_object(&c, client, "PUT", "PutObject", bucket, key));
    /* a lost reply must come back as a failure we count, not as libcurl's own resend */
    c.ctx.fresh_connection = conditional;
    RDSBK_TRY(rdsbk_rest_body(&c.r, body ? body : "", len,
                              o->content_type ? o->content_type : "application/octet-stream"));
    RDSBK_TRY(s_put_headers(&c.r, o));
    rc = s_send(&c);
    if (conditional && rdsbk_s3_precondition_failed(rc) && rdsbk_aws_last_attempts() > 1 &&
        s_was_ours(etag_out, client, bucket, key, body, len))
        rc = 0; /* *etag_out is set */
    else if (rc == 0)
        rc = s_etag(etag_out, &c);

cleanup:
    s_clean_up(&c);
    return rc;
}

int rdsbk_s3_delete_object(struct rdsbk_client *client, const char *bucket, const char *key,
                           const char *if_match) {
    struct s_call c = {0};
    int rc;

    RDSBK_TRY(s_object(&c, client, "DELETE", "DeleteObject", bucket, key));
    c.ctx.fresh_connection = if_match != NULL;
    RDSBK_TRY(rdsbk_rest_header(&c.r, "If-Match", if_match));
    rc = s_send(&c);

cleanup:
    s_clean_up(&c);
    return rc;
}

int rdsbk_s3_get_bucket_versioning(char **status_out, struct rdsbk_client *client,
                                   const char *bucket) {
    struct s_call c = {0};
    const char *status;
    int rc;

    *status_out = NULL;
    RDSBK_TRY(s_start(&c, client, "GET", "GetBucketVersioning", bucket, NULL));
    RDSBK_TRY(rdsbk_rest_query(&c.r, "versioning", ""));
    RDSBK_TRY(s_send(&c));
    /* <VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>, or empty */
    status = c.reply.xml ? rdsbk_xml_path_text(xmlDocGetRootElement(c.reply.xml), "Status") : NULL;
    rc = rdsbk_strdup_into(status_out, status ? status : "");

cleanup:
    s_clean_up(&c);
    return rc;
}

/* Content-MD5: the base64 MD5 of the body, which S3 requires of some configuration calls. */
static int s_content_md5(struct rdsbk_rest *r) {
    struct rdsbk_buf b64 = RDSBK_BUF_INIT;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    int rc;

    if (!EVP_Digest(rdsbk_buf_cstr(&r->body), rdsbk_buf_len(&r->body), md, &md_len, EVP_md5(),
                    NULL)) {
        rc = rdsbk_error_set(RDSBK_ERROR, "s3: MD5 failed");
        goto cleanup;
    }
    RDSBK_TRY(rdsbk_protocol_base64_encode(&b64, md, md_len));
    rc = rdsbk_rest_header(r, "Content-MD5", rdsbk_buf_cstr(&b64));

cleanup:
    rdsbk_buf_clean_up(&b64);
    return rc;
}

/* Sets an XML document `doc` as the request's body. */
static int s_xml_body(struct rdsbk_rest *r, const char *doc) {
    return rdsbk_rest_body(r, doc, strlen(doc), "application/xml");
}

int rdsbk_s3_put_bucket_versioning(struct rdsbk_client *client, const char *bucket, bool enabled) {
    struct s_call c = {0};
    char doc[256];
    int rc;

    RDSBK_TRY(s_start(&c, client, "PUT", "PutBucketVersioning", bucket, NULL));
    RDSBK_TRY(rdsbk_rest_query(&c.r, "versioning", ""));
    snprintf(doc, sizeof(doc),
             "<VersioningConfiguration xmlns=\"" S_XMLNS "\"><Status>%s</Status>"
             "</VersioningConfiguration>",
             enabled ? "Enabled" : "Suspended");
    RDSBK_TRY(s_xml_body(&c.r, doc));
    RDSBK_TRY(s_content_md5(&c.r));
    rc = s_send(&c);

cleanup:
    s_clean_up(&c);
    return rc;
}

int rdsbk_s3_head_bucket(char **region_out, struct rdsbk_client *client, const char *bucket) {
    struct s_call c = {0};
    int rc;

    *region_out = NULL;
    RDSBK_TRY(s_start(&c, client, "HEAD", "HeadBucket", bucket, NULL));
    c.r.raw_reply = true; /* HEAD: no body */
    rc = s_send(&c);
    /* 301: the bucket is in another Region, which the reply names */
    if (rc != 0 && c.reply.status == 301 &&
        rdsbk_rest_reply_header(&c.reply, "x-amz-bucket-region")) {
        rdsbk_error_clear();
        rc = 0;
    }
    if (rc == 0)
        rc = s_header(region_out, &c, "x-amz-bucket-region");

cleanup:
    s_clean_up(&c);
    return rc;
}

int rdsbk_s3_create_bucket(struct rdsbk_client *client, const char *bucket) {
    const char *region = rdsbk_client_region(client);
    struct s_call c = {0};
    char doc[256];
    int rc;

    RDSBK_TRY(s_start(&c, client, "PUT", "CreateBucket", bucket, NULL));
    /* us-east-1 takes no LocationConstraint (S3 refuses one naming it) */
    if (strcmp(region, "us-east-1") != 0) {
        snprintf(doc, sizeof(doc),
                 "<CreateBucketConfiguration xmlns=\"" S_XMLNS "\"><LocationConstraint>%s"
                 "</LocationConstraint></CreateBucketConfiguration>",
                 region);
        RDSBK_TRY(s_xml_body(&c.r, doc));
    }
    rc = s_send(&c);

cleanup:
    s_clean_up(&c);
    return rc;
}
