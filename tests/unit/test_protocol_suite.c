/*
 * botocore's protocol test cases (../shared/testdata/aws-protocol-tests: input/ and output/
 * query.json, json.json, rest-json.json), run through our protocol modules.
 *
 * Our API is a builder, not a shape-driven serialiser: this test walks each case's params with
 * the case's shapes and drives the builder (rdsbk_query_add_list / _add_map for lists and maps of
 * scalars, dotted names for nested structures; cJSON bodies for awsJson; rdsbk_rest_label /
 * _query / _header / _json for restJson1), sends through the real rdsbk_aws_send over a fake
 * transport, and compares the bytes on the wire with the expected request. Output cases go the
 * other way: the canned reply goes through rdsbk_query_send / rdsbk_json_call / rdsbk_rest_send,
 * is read back with our XML getters, time and base64 helpers, and compared with the expected
 * result; error cases compare the AWS error code we report.
 *
 * Cases that need something our API deliberately does not offer (idempotency-token autofill,
 * request compression, endpoint host prefixes, quoted header lists, ...) are counted as skipped,
 * never as passed. Every case that runs must pass.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "rdsbk/error.h"
#include "rdsbk/protocol.h"
#include "test_protocol_fake.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE_DIR RDSBK_SHARED_TESTDATA "/aws-protocol-tests"

struct tally {
    int ran;
    int passed;
    int skipped;
};

/* Set by a walker when the case needs something we do not express; the case is then skipped. */
static const char *s_skip_reason;

static void s_skip(const char *why) {
    if (!s_skip_reason)
        s_skip_reason = why;
}

static char *s_read(const char *path) {
    FILE *f = fopen(path, "rb");
    struct rdsbk_buf b = RDSBK_BUF_INIT;
    char chunk[8192];
    size_t n;

    if (!f)
        return NULL;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rdsbk_buf_add(&b, chunk, n);
    fclose(f);
    return rdsbk_buf_detach(&b);
}

static const cJSON *s_get(const cJSON *obj, const char *name) {
    return cJSON_GetObjectItemCaseSensitive(obj, name);
}

static const char *s_str(const cJSON *obj, const char *name) {
    const cJSON *v = s_get(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool s_true(const cJSON *obj, const char *name) {
    return cJSON_IsTrue(s_get(obj, name));
}

/* The shape a member (or shape reference) points at. */
static const cJSON *s_shape(const cJSON *shapes, const cJSON *ref) {
    return s_get(shapes, s_str(ref, "shape"));
}

static const char *s_type(const cJSON *shape) {
    const char *t = s_str(shape, "type");
    return t ? t : "";
}

static bool s_is_scalar(const cJSON *shape) {
    const char *t = s_type(shape);
    return strcmp(t, "structure") != 0 && strcmp(t, "list") != 0 && strcmp(t, "map") != 0;
}

/* Shortest decimal that reads back as `v` (as Python's repr does). */
static void s_format_double(char *out, size_t size, double v) {
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(out, size, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, size, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

static void s_http_date(char *out, size_t size, time_t t) {
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static const char *s_timestamp_format(const cJSON *member, const cJSON *shape, const char *dflt) {
    const char *f = s_str(member, "timestampFormat");
    if (!f)
        f = s_str(shape, "timestampFormat");
    return f ? f : dflt;
}

/* A scalar as text, the way the query / rest protocols put it on the wire. */
static void s_scalar_text(char *out, size_t size, const cJSON *member, const cJSON *shape,
                          const cJSON *value, const char *default_time_format) {
    const char *t = s_type(shape);

    if (cJSON_IsString(value) && strcmp(t, "blob") != 0) {
        snprintf(out, size, "%s", value->valuestring);
    } else if (cJSON_IsBool(value)) {
        snprintf(out, size, "%s", cJSON_IsTrue(value) ? "true" : "false");
    } else if (strcmp(t, "timestamp") == 0) {
        const char *fmt = s_timestamp_format(member, shape, default_time_format);
        if (strcmp(fmt, "unixTimestamp") == 0)
            s_format_double(out, size, value->valuedouble);
        else if (strcmp(fmt, "rfc822") == 0)
            s_http_date(out, size, (time_t)value->valuedouble);
        else
            rdsbk_protocol_format_time(out, size, (time_t)value->valuedouble);
    } else if (strcmp(t, "blob") == 0) {
        struct rdsbk_buf b = RDSBK_BUF_INIT;
        rdsbk_protocol_base64_encode(&b, value->valuestring, strlen(value->valuestring));
        snprintf(out, size, "%s", rdsbk_buf_cstr(&b));
        rdsbk_buf_clean_up(&b);
    } else if (strcmp(t, "integer") == 0 || strcmp(t, "long") == 0 || strcmp(t, "short") == 0 ||
               strcmp(t, "byte") == 0) {
        snprintf(out, size, "%lld", (long long)value->valuedouble);
    } else {
        s_format_double(out, size, value->valuedouble);
    }
}

/* Query strings compared as multisets of "name=value" pairs (botocore compares them parsed). */
static int s_cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool s_same_params(const char *a, const char *b) {
    char *ca = strdup(a);
    char *cb = strdup(b);
    char *pa[256];
    char *pb[256];
    size_t na = 0;
    size_t nb = 0;
    char *save = NULL;
    bool same;

    for (char *p = strtok_r(ca, "&", &save); p && na < 256; p = strtok_r(NULL, "&", &save))
        pa[na++] = p;
    for (char *p = strtok_r(cb, "&", &save); p && nb < 256; p = strtok_r(NULL, "&", &save))
        pb[nb++] = p;
    qsort(pa, na, sizeof(pa[0]), s_cmp_str);
    qsort(pb, nb, sizeof(pb[0]), s_cmp_str);
    same = na == nb;
    for (size_t i = 0; same && i < na; i++)
        same = strcmp(pa[i], pb[i]) == 0;
    free(ca);
    free(cb);
    return same;
}

/* JSON equality with numbers compared to 1e-6 and NaN strings as strings. */
static bool s_json_equal(const cJSON *a, const cJSON *b) {
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
        return fabs(a->valuedouble - b->valuedouble) < 1e-6;
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        const cJSON *x;
        if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
            return false;
        cJSON_ArrayForEach(x, a) {
            if (!s_json_equal(x, s_get(b, x->string)))
                return false;
        }
        return true;
    }
    if (cJSON_IsArray(a) && cJSON_IsArray(b)) {
        const cJSON *y = b->child;
        const cJSON *x;
        if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
            return false;
        cJSON_ArrayForEach(x, a) {
            if (!s_json_equal(x, y))
                return false;
            y = y->next;
        }
        return true;
    }
    return a && b && cJSON_Compare(a, b, true);
}

/* ---- the fake AWS ---- */

struct env {
    struct rdsbk_http *http;
    struct fake_aws fake;
    struct rdsbk_service_ctx ctx;
};

static void s_env_init(struct env *e) {
    struct rdsbk_http_options opts = {0};

    memset(e, 0, sizeof(*e));
    opts.max_attempts = 1;
    assert_int_equal(rdsbk_http_new(&e->http, &opts), 0);
    rdsbk_http_set_transport(e->http, fake_transport, &e->fake);
    e->ctx.http = e->http;
    e->ctx.endpoint = "https://example.amazonaws.com";
    e->ctx.signing.region = "us-east-1";
    e->ctx.signing.service = "service";
    e->ctx.signing.get_credentials = fake_static_credentials;
}

static void s_env_clean_up(struct env *e) {
    fake_reset(&e->fake);
    rdsbk_http_free(e->http);
}

/* The path and query of a recorded URL. */
static const char *s_uri(const struct fake_request *rec) {
    const char *p = strstr(rec->url, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    return p ? p : "/";
}

static void s_report(const char *what, const struct tally *t) {
    printf("protocol-tests %s: %d cases ran, %d passed, %d skipped as inexpressible\n", what,
           t->ran, t->passed, t->skipped);
}

typedef bool (*s_case_fn)(struct env *e, const cJSON *suite, const cJSON *c, char *why,
                          size_t why_size);

/* Runs every case of one file; returns false when the file is absent. */
static bool s_run_file(const char *rel, s_case_fn fn, struct tally *t) {
    char path[512];
    char *text;
    cJSON *suites;
    const cJSON *suite;

    snprintf(path, sizeof(path), "%s/%s", SUITE_DIR, rel);
    text = s_read(path);
    if (!text) {
        printf("protocol-tests: %s absent, cases skipped\n", path);
        return false;
    }
    suites = cJSON_Parse(text);
    free(text);
    assert_non_null(suites);
    cJSON_ArrayForEach(suite, suites) {
        const cJSON *c;
        cJSON_ArrayForEach(c, s_get(suite, "cases")) {
            struct env e;
            char why[512] = "";
            bool ok;

            s_skip_reason = NULL;
            s_env_init(&e);
            ok = fn(&e, suite, c, why, sizeof(why));
            s_env_clean_up(&e);
            if (s_skip_reason) {
                t->skipped++;
                continue;
            }
            t->ran++;
            if (ok)
                t->passed++;
            else
                printf("FAIL %s %s: %s\n", rel, s_str(c, "id"), why);
        }
    }
    cJSON_Delete(suites);
    return true;
}

/* ---- awsQuery input ---- */

static int q_walk(struct rdsbk_query *q, const char *prefix, const cJSON *member,
                  const cJSON *value, const cJSON *shapes);

static int q_list(struct rdsbk_query *q, const char *prefix, const cJSON *member,
                  const cJSON *shape, const cJSON *value, const cJSON *shapes) {
    const cJSON *mref = s_get(shape, "member");
    const cJSON *mshape = s_shape(shapes, mref);
    bool flat = s_true(shape, "flattened") || s_true(member, "flattened");
    const char *mname = s_str(mref, "locationName");
    char base[512];
    int n = cJSON_GetArraySize(value);
    int rc = 0;

    /* Flattened: "Name.N"; the list member's own name plays no part (Smithy awsQuery). */
    snprintf(base, sizeof(base), "%s", prefix);
    if (n == 0)
        return rdsbk_query_add_list(q, base, "member", NULL, 0);
    if (s_is_scalar(mshape)) {
        char **texts = calloc((size_t)n, sizeof(*texts));
        int i = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, value) {
            char buf[256];
            s_scalar_text(buf, sizeof(buf), mref, mshape, v, "iso8601");
            texts[i++] = strdup(buf);
        }
        rc = rdsbk_query_add_list(q, base, flat ? NULL : (mname ? mname : "member"),
                                  (const char *const *)texts, (size_t)n);
        for (i = 0; i < n; i++)
            free(texts[i]);
        free(texts);
        return rc;
    }
    for (int i = 0; i < n && rc == 0; i++) {
        char p[600];
        if (flat)
            snprintf(p, sizeof(p), "%s.%d", base, i + 1);
        else
            snprintf(p, sizeof(p), "%s.%s.%d", base, mname ? mname : "member", i + 1);
        rc = q_walk(q, p, mref, cJSON_GetArrayItem(value, i), shapes);
    }
    return rc;
}

static int q_map(struct rdsbk_query *q, const char *prefix, const cJSON *member, const cJSON *shape,
                 const cJSON *value, const cJSON *shapes) {
    const cJSON *kref = s_get(shape, "key");
    const cJSON *vref = s_get(shape, "value");
    const cJSON *vshape = s_shape(shapes, vref);
    bool flat = s_true(shape, "flattened") || s_true(member, "flattened");
    const char *kname = s_str(kref, "locationName");
    const char *vname = s_str(vref, "locationName");
    int n = cJSON_GetArraySize(value);
    int rc = 0;
    int i = 0;
    const cJSON *v;

    if (s_is_scalar(vshape)) {
        const char **keys = calloc((size_t)n + 1, sizeof(*keys));
        char **vals = calloc((size_t)n + 1, sizeof(*vals));
        cJSON_ArrayForEach(v, value) {
            char buf[256];
            s_scalar_text(buf, sizeof(buf), vref, vshape, v, "iso8601");
            keys[i] = v->string;
            vals[i++] = strdup(buf);
        }
        rc = rdsbk_query_add_map(q, prefix, flat ? NULL : "entry", kname, vname, keys,
                                 (const char *const *)vals, (size_t)n);
        for (i = 0; i < n; i++)
            free(vals[i]);
        free(vals);
        free(keys);
        return rc;
    }
    cJSON_ArrayForEach(v, value) {
        char kp[600];
        char vp[600];
        i++;
        snprintf(kp, sizeof(kp), "%s%s.%d.%s", prefix, flat ? "" : ".entry", i,
                 kname ? kname : "key");
        snprintf(vp, sizeof(vp), "%s%s.%d.%s", prefix, flat ? "" : ".entry", i,
                 vname ? vname : "value");
        rc = rc ? rc : rdsbk_query_add(q, kp, v->string);
        rc = rc ? rc : q_walk(q, vp, vref, v, shapes);
    }
    return rc;
}

static int q_walk(struct rdsbk_query *q, const char *prefix, const cJSON *member,
                  const cJSON *value, const cJSON *shapes) {
    const cJSON *shape = s_shape(shapes, member);
    const char *t = s_type(shape);
    char text[1024];

    if (strcmp(t, "structure") == 0) {
        const cJSON *v;
        int rc = 0;
        cJSON_ArrayForEach(v, value) {
            const cJSON *m = s_get(s_get(shape, "members"), v->string);
            const char *name = s_str(m, "locationName");
            char p[600];
            if (!name)
                name = v->string;
            if (*prefix)
                snprintf(p, sizeof(p), "%s.%s", prefix, name);
            else
                snprintf(p, sizeof(p), "%s", name);
            rc = rc ? rc : q_walk(q, p, m, v, shapes);
        }
        return rc;
    }
    if (strcmp(t, "list") == 0)
        return q_list(q, prefix, member, shape, value, shapes);
    if (strcmp(t, "map") == 0)
        return q_map(q, prefix, member, shape, value, shapes);
    if (strcmp(t, "blob") == 0)
        return rdsbk_query_add_blob(q, prefix, value->valuestring, strlen(value->valuestring));
    if (strcmp(t, "timestamp") == 0 &&
        strcmp(s_timestamp_format(member, shape, "iso8601"), "iso8601") == 0)
        return rdsbk_query_add_time(q, prefix, (time_t)value->valuedouble);
    if (strcmp(t, "boolean") == 0)
        return rdsbk_query_add_bool(q, prefix, cJSON_IsTrue(value));
    if ((strcmp(t, "integer") == 0 || strcmp(t, "long") == 0) && cJSON_IsNumber(value))
        return rdsbk_query_add_int(q, prefix, (long long)value->valuedouble);
    s_scalar_text(text, sizeof(text), member, shape, value, "iso8601");
    return rdsbk_query_add(q, prefix, text);
}

/* Members the SDK fills in by itself (idempotency tokens) are not ours to invent. */
static void s_check_autofill(const cJSON *shape, const cJSON *params) {
    const cJSON *m;
    cJSON_ArrayForEach(m, s_get(shape, "members")) {
        if (s_true(m, "idempotencyToken") && !s_get(params, m->string))
            s_skip("idempotency token autofill");
    }
}

static bool s_query_input(struct env *e, const cJSON *suite, const cJSON *c, char *why,
                          size_t why_size) {
    const cJSON *shapes = s_get(suite, "shapes");
    const cJSON *given = s_get(c, "given");
    const cJSON *ser = s_get(c, "serialized");
    const cJSON *input = s_get(given, "input");
    const char *expected = s_str(ser, "body");
    struct rdsbk_query q;
    struct rdsbk_query_reply reply;
    bool ok;

    if (s_get(given, "requestcompression"))
        s_skip("request compression");
    if (s_get(ser, "host"))
        s_skip("endpoint host prefix");
    if (input)
        s_check_autofill(s_shape(shapes, input), s_get(c, "params"));
    if (!expected)
        s_skip("no body to compare");
    if (s_skip_reason)
        return false;
    assert_int_equal(
        rdsbk_query_init(&q, s_str(given, "name"), s_str(s_get(suite, "metadata"), "apiVersion")),
        0);
    if (input)
        assert_int_equal(q_walk(&q, "", input, s_get(c, "params"), shapes), 0);
    fake_push(&e->fake, 200, "text/xml", "");
    assert_int_equal(rdsbk_query_send(&reply, &e->ctx, &q), 0);
    rdsbk_query_reply_clean_up(&reply);
    ok = s_same_params(rdsbk_buf_cstr(&e->fake.requests[0].body), expected) &&
         strcmp(e->fake.requests[0].method, s_str(ser, "method")) == 0 &&
         strcmp(s_uri(&e->fake.requests[0]), s_str(ser, "uri")) == 0 &&
         strncmp(fake_header(&e->fake.requests[0], "Content-Type"),
                 "application/x-www-form-urlencoded", 33) == 0;
    snprintf(why, why_size, "sent %s, expected %s", rdsbk_buf_cstr(&e->fake.requests[0].body),
             expected);
    rdsbk_query_clean_up(&q);
    return ok;
}

/* ---- JSON bodies (awsJson1.1 and restJson1) ---- */

static cJSON *j_walk(const cJSON *member, const cJSON *value, const cJSON *shapes);

static cJSON *j_walk(const cJSON *member, const cJSON *value, const cJSON *shapes) {
    const cJSON *shape = s_shape(shapes, member);
    const char *t = s_type(shape);

    if (s_true(shape, "document"))
        return cJSON_Duplicate(value, true);
    if (cJSON_IsNull(value))
        return NULL;
    if (strcmp(t, "structure") == 0) {
        cJSON *obj = cJSON_CreateObject();
        const cJSON *v;
        cJSON_ArrayForEach(v, value) {
            const cJSON *m = s_get(s_get(shape, "members"), v->string);
            const char *name = s_str(m, "jsonName");
            cJSON *item;
            if (s_str(m, "location"))
                continue; /* restJson1 members bound to the URI, query or headers */
            if (!name)
                name = s_str(m, "locationName");
            item = j_walk(m, v, shapes);
            if (item)
                cJSON_AddItemToObject(obj, name ? name : v->string, item);
        }
        return obj;
    }
    if (strcmp(t, "list") == 0) {
        cJSON *arr = cJSON_CreateArray();
        const cJSON *v;
        cJSON_ArrayForEach(v, value) {
            cJSON_AddItemToArray(arr, j_walk(s_get(shape, "member"), v, shapes));
        }
        return arr;
    }
    if (strcmp(t, "map") == 0) {
        cJSON *obj = cJSON_CreateObject();
        const cJSON *v;
        cJSON_ArrayForEach(v, value) {
            cJSON *item = j_walk(s_get(shape, "value"), v, shapes);
            cJSON_AddItemToObject(obj, v->string, item ? item : cJSON_CreateNull());
        }
        return obj;
    }
    if (strcmp(t, "blob") == 0) {
        struct rdsbk_buf b = RDSBK_BUF_INIT;
        cJSON *s;
        rdsbk_protocol_base64_encode(&b, value->valuestring, strlen(value->valuestring));
        s = cJSON_CreateString(rdsbk_buf_cstr(&b));
        rdsbk_buf_clean_up(&b);
        return s;
    }
    if (strcmp(t, "timestamp") == 0 && cJSON_IsNumber(value)) {
        const char *fmt = s_timestamp_format(member, shape, "unixTimestamp");
        char buf[64];
        if (strcmp(fmt, "unixTimestamp") == 0)
            return cJSON_CreateNumber(value->valuedouble);
        if (strcmp(fmt, "rfc822") == 0)
            s_http_date(buf, sizeof(buf), (time_t)value->valuedouble);
        else
            rdsbk_protocol_format_time(buf, sizeof(buf), (time_t)value->valuedouble);
        return cJSON_CreateString(buf);
    }
    return cJSON_Duplicate(value, true);
}

static bool s_json_body_equal(const char *sent, size_t sent_len, const char *expected) {
    cJSON *a;
    cJSON *b;
    bool same;

    if (!*expected)
        return sent_len == 0;
    a = cJSON_ParseWithLength(sent, sent_len);
    b = cJSON_Parse(expected);
    same = a && b && s_json_equal(a, b);
    cJSON_Delete(a);
    cJSON_Delete(b);
    return same;
}

static bool s_json_input(struct env *e, const cJSON *suite, const cJSON *c, char *why,
                         size_t why_size) {
    const cJSON *shapes = s_get(suite, "shapes");
    const cJSON *given = s_get(c, "given");
    const cJSON *ser = s_get(c, "serialized");
    const cJSON *meta = s_get(suite, "metadata");
    const cJSON *input = s_get(given, "input");
    const char *expected = s_str(ser, "body");
    cJSON *body = NULL;
    cJSON *out = NULL;
    const struct fake_request *rec;
    const cJSON *h;
    bool ok;

    if (s_get(given, "requestcompression"))
        s_skip("request compression");
    if (s_get(ser, "host") || s_get(given, "endpoint"))
        s_skip("endpoint host prefix");
    if (s_skip_reason)
        return false;
    if (input)
        body = j_walk(input, s_get(c, "params"), shapes);
    fake_push(&e->fake, 200, "application/x-amz-json-1.1", "{}");
    assert_int_equal(
        rdsbk_json_call(&out, &e->ctx, s_str(meta, "targetPrefix"), s_str(given, "name"), body), 0);
    cJSON_Delete(out);
    cJSON_Delete(body);
    rec = &e->fake.requests[0];
    ok = strcmp(rec->method, s_str(ser, "method")) == 0 &&
         strcmp(s_uri(rec), s_str(ser, "uri")) == 0;
    cJSON_ArrayForEach(h, s_get(ser, "headers")) {
        if (strcmp(fake_header(rec, h->string), h->valuestring) != 0)
            ok = false;
    }
    if (expected && !s_json_body_equal(rdsbk_buf_cstr(&rec->body), rdsbk_buf_len(&rec->body),
                                       *expected ? expected : "{}"))
        ok = false;
    snprintf(why, why_size, "sent %s %s target %s body %s", rec->method, s_uri(rec),
             fake_header(rec, "X-Amz-Target"), rdsbk_buf_cstr(&rec->body));
    return ok;
}

/* ---- restJson1 input ---- */

static bool s_rest_input(struct env *e, const cJSON *suite, const cJSON *c, char *why,
                         size_t why_size) {
    const cJSON *shapes = s_get(suite, "shapes");
    const cJSON *given = s_get(c, "given");
    const cJSON *ser = s_get(c, "serialized");
    const cJSON *http = s_get(given, "http");
    const cJSON *input = s_get(given, "input");
    const cJSON *shape = input ? s_shape(shapes, input) : NULL;
    const cJSON *params = s_get(c, "params");
    const char *uri_template = s_str(http, "requestUri");
    const char *payload = s_str(shape, "payload");
    const char *expected = s_str(ser, "body");
    struct rdsbk_rest r;
    struct rdsbk_rest_reply reply;
    const struct fake_request *rec;
    const cJSON *v;
    const cJSON *h;
    bool has_body_member = false;
    bool ok;

    if (s_get(given, "requestcompression"))
        s_skip("request compression");
    if (s_get(ser, "host") || s_get(given, "endpoint"))
        s_skip("endpoint host prefix");
    if (strchr(uri_template, '?'))
        s_skip("literal query string in the URI template");
    if (s_true(given, "httpChecksumRequired"))
        s_skip("Content-MD5");
    if (shape)
        s_check_autofill(shape, params);
    if (s_skip_reason)
        return false;
    assert_int_equal(rdsbk_rest_init(&r, s_str(http, "method"), s_str(given, "name")), 0);

    /* 1. Path: literal pieces and labels. */
    for (const char *p = uri_template; *p;) {
        const char *open = strchr(p, '{');
        char literal[512];
        char name[128];
        const char *close;
        bool greedy;
        const cJSON *m = NULL;
        const cJSON *value = NULL;
        char text[512];

        snprintf(literal, sizeof(literal), "%.*s", (int)(open ? open - p : (long)strlen(p)), p);
        rdsbk_rest_path(&r, literal);
        if (!open)
            break;
        close = strchr(open, '}');
        greedy = close[-1] == '+';
        snprintf(name, sizeof(name), "%.*s", (int)(close - open - 1 - (greedy ? 1 : 0)), open + 1);
        cJSON_ArrayForEach(m, s_get(shape, "members")) {
            if (strcmp(s_str(m, "location") ? s_str(m, "location") : "", "uri") == 0 &&
                strcmp(s_str(m, "locationName") ? s_str(m, "locationName") : m->string, name) == 0)
                break;
        }
        value = m ? s_get(params, m->string) : NULL;
        if (!value) {
            s_skip("missing label");
            break;
        }
        s_scalar_text(text, sizeof(text), m, s_shape(shapes, m), value, "iso8601");
        rdsbk_rest_label(&r, text, greedy);
        p = close + 1;
    }

    /* 2. Query string, headers, body members. */
    cJSON_ArrayForEach(v, params) {
        const cJSON *m = s_get(s_get(shape, "members"), v->string);
        const cJSON *ms = s_shape(shapes, m);
        const char *loc = s_str(m, "location");
        const char *lname = s_str(m, "locationName");
        char text[1024];

        if (cJSON_IsNull(v))
            continue;
        if (!loc) {
            if (!payload || strcmp(payload, v->string) != 0)
                has_body_member = true;
            continue;
        }
        if (strcmp(loc, "querystring") == 0) {
            if (strcmp(s_type(ms), "list") == 0) {
                const cJSON *item;
                cJSON_ArrayForEach(item, v) {
                    s_scalar_text(text, sizeof(text), s_get(ms, "member"),
                                  s_shape(shapes, s_get(ms, "member")), item, "iso8601");
                    rdsbk_rest_query(&r, lname, text);
                }
            } else if (strcmp(s_type(ms), "map") == 0) {
                const cJSON *item;
                /* Named query members take precedence over the map's keys. */
                cJSON_ArrayForEach(item, v) {
                    const cJSON *other;
                    bool named = false;
                    cJSON_ArrayForEach(other, s_get(shape, "members")) {
                        named = named || (s_str(other, "locationName") &&
                                          strcmp(s_str(other, "locationName"), item->string) == 0 &&
                                          s_get(params, other->string));
                    }
                    if (named)
                        continue;
                    if (cJSON_IsArray(item)) {
                        const cJSON *x;
                        cJSON_ArrayForEach(x, item) {
                            rdsbk_rest_query(&r, item->string, x->valuestring);
                        }
                    } else {
                        rdsbk_rest_query(&r, item->string, item->valuestring);
                    }
                }
            } else {
                s_scalar_text(text, sizeof(text), m, ms, v, "iso8601");
                rdsbk_rest_query(&r, lname, text);
            }
        } else if (strcmp(loc, "header") == 0) {
            if (s_true(m, "jsonvalue") || s_true(ms, "jsonvalue") || s_str(ms, "mediaType"))
                s_skip("jsonvalue / mediaType header (base64 JSON)");
            if (strcmp(s_type(ms), "list") == 0) {
                struct rdsbk_buf joined = RDSBK_BUF_INIT;
                const cJSON *item;
                cJSON_ArrayForEach(item, v) {
                    char one[256];
                    s_scalar_text(one, sizeof(one), s_get(ms, "member"),
                                  s_shape(shapes, s_get(ms, "member")), item, "rfc822");
                    if (strpbrk(one, ",\""))
                        s_skip("quoted header list");
                    rdsbk_buf_printf(&joined, "%s%s", rdsbk_buf_len(&joined) ? ", " : "", one);
                }
                rdsbk_rest_header(&r, lname, rdsbk_buf_cstr(&joined));
                rdsbk_buf_clean_up(&joined);
            } else {
                s_scalar_text(text, sizeof(text), m, ms, v, "rfc822");
                rdsbk_rest_header(&r, lname, text);
            }
        } else if (strcmp(loc, "headers") == 0) {
            const cJSON *item;
            cJSON_ArrayForEach(item, v) {
                char hname[256];
                snprintf(hname, sizeof(hname), "%s%s", lname, item->string);
                rdsbk_rest_header(&r, hname, item->valuestring);
            }
        } else if (strcmp(loc, "statusCode") != 0) {
            s_skip("unknown location");
        }
    }

    /* 3. Body: the payload member, or the JSON of the body members. */
    if (payload) {
        const cJSON *pm = s_get(s_get(shape, "members"), payload);
        const cJSON *ps = s_shape(shapes, pm);
        const cJSON *pv = s_get(params, payload);
        if (pv && (strcmp(s_type(ps), "blob") == 0 || strcmp(s_type(ps), "string") == 0)) {
            const char *ct = s_str(ps, "mediaType");
            if (!ct)
                ct = strcmp(s_type(ps), "blob") == 0 ? "application/octet-stream" : "text/plain";
            rdsbk_rest_body(&r, pv->valuestring, strlen(pv->valuestring), ct);
        } else if (pv) {
            cJSON *body = strcmp(s_type(ps), "structure") == 0 ? j_walk(pm, pv, shapes)
                                                               : cJSON_Duplicate(pv, true);
            rdsbk_rest_json(&r, body);
            cJSON_Delete(body);
        } else if (strcmp(s_type(ps), "structure") == 0 && !s_true(ps, "union")) {
            /* An absent structure payload is still an empty object. */
            cJSON *body = cJSON_CreateObject();
            rdsbk_rest_json(&r, body);
            cJSON_Delete(body);
        }
    } else if (has_body_member) {
        cJSON *body = j_walk(input, params, shapes);
        rdsbk_rest_json(&r, body);
        cJSON_Delete(body);
    } else {
        /* An operation with body members sends "{}" when none is set. */
        const cJSON *bm;
        bool any = false;
        cJSON_ArrayForEach(bm, s_get(shape, "members")) {
            any = any || !s_str(bm, "location");
        }
        if (any) {
            cJSON *body = cJSON_CreateObject();
            rdsbk_rest_json(&r, body);
            cJSON_Delete(body);
        }
    }
    if (s_skip_reason) {
        rdsbk_rest_clean_up(&r);
        return false;
    }
    fake_push(&e->fake, 200, NULL, "");
    assert_int_equal(rdsbk_rest_send(&reply, &e->ctx, &r), 0);
    rdsbk_rest_reply_clean_up(&reply);
    rdsbk_rest_clean_up(&r);

    rec = &e->fake.requests[0];
    ok = strcmp(rec->method, s_str(ser, "method")) == 0;
    {
        const char *uri = s_uri(rec);
        const char *exp = s_str(ser, "uri");
        const char *q1 = strchr(uri, '?');
        const char *q2 = strchr(exp, '?');
        size_t l1 = q1 ? (size_t)(q1 - uri) : strlen(uri);
        size_t l2 = q2 ? (size_t)(q2 - exp) : strlen(exp);
        if (l1 != l2 || strncmp(uri, exp, l1) != 0 ||
            !s_same_params(q1 ? q1 + 1 : "", q2 ? q2 + 1 : ""))
            ok = false;
    }
    cJSON_ArrayForEach(h, s_get(ser, "headers")) {
        if (strcmp(fake_header(rec, h->string), h->valuestring) != 0)
            ok = false;
    }
    if (expected) {
        const char *ct = fake_header(rec, "Content-Type");
        bool json = strstr(ct, "json") != NULL;
        if (json &&
            !s_json_body_equal(rdsbk_buf_cstr(&rec->body), rdsbk_buf_len(&rec->body), expected))
            ok = false;
        if (!json && (rdsbk_buf_len(&rec->body) != strlen(expected) ||
                      memcmp(rdsbk_buf_cstr(&rec->body), expected, rdsbk_buf_len(&rec->body)) != 0))
            ok = false;
    }
    snprintf(why, why_size, "sent %s %s body [%s]", rec->method, s_uri(rec),
             rdsbk_buf_cstr(&rec->body));
    return ok;
}

/* ---- outputs ---- */

static cJSON *x_walk(const xmlNode *node, const cJSON *member, const cJSON *shapes);

/* The children of `parent` named `name`, as a list value of `lshape` (flattened lists). */
static cJSON *x_list_items(const xmlNode *first, const char *name, const cJSON *mref,
                           const cJSON *shapes) {
    cJSON *arr = cJSON_CreateArray();
    for (const xmlNode *m = first; m; m = rdsbk_xml_next(m, name))
        cJSON_AddItemToArray(arr, x_walk(m, mref, shapes));
    return arr;
}

static cJSON *x_map_entries(const xmlNode *first, const char *name, const cJSON *shape,
                            const cJSON *shapes) {
    cJSON *obj = cJSON_CreateObject();
    const char *kname = s_str(s_get(shape, "key"), "locationName");
    const char *vname = s_str(s_get(shape, "value"), "locationName");

    for (const xmlNode *m = first; m; m = rdsbk_xml_next(m, name)) {
        const char *k = rdsbk_xml_path_text(m, kname ? kname : "key");
        const xmlNode *v = rdsbk_xml_child(m, vname ? vname : "value");
        cJSON_AddItemToObject(obj, k ? k : "", x_walk(v, s_get(shape, "value"), shapes));
    }
    return obj;
}

static cJSON *x_walk(const xmlNode *node, const cJSON *member, const cJSON *shapes) {
    const cJSON *shape = s_shape(shapes, member);
    const char *t = s_type(shape);
    const char *text = rdsbk_xml_text(node);

    if (strcmp(t, "structure") == 0) {
        cJSON *obj = cJSON_CreateObject();
        const cJSON *m;
        cJSON_ArrayForEach(m, s_get(shape, "members")) {
            const cJSON *ms = s_shape(shapes, m);
            const char *name = s_str(m, "locationName");
            const xmlNode *child;
            if (!name)
                name = m->string;
            if ((s_true(ms, "flattened") || s_true(m, "flattened")) &&
                strcmp(s_type(ms), "list") == 0) {
                child = rdsbk_xml_child(node, name);
                if (child)
                    cJSON_AddItemToObject(obj, m->string,
                                          x_list_items(child, name, s_get(ms, "member"), shapes));
                continue;
            }
            child = rdsbk_xml_child(node, name);
            if (!child)
                continue;
            if ((s_true(ms, "flattened") || s_true(m, "flattened")) &&
                strcmp(s_type(ms), "map") == 0)
                cJSON_AddItemToObject(obj, m->string, x_map_entries(child, name, ms, shapes));
            else
                cJSON_AddItemToObject(obj, m->string, x_walk(child, m, shapes));
        }
        return obj;
    }
    if (strcmp(t, "list") == 0) {
        const char *iname = s_str(s_get(shape, "member"), "locationName");
        if (!iname)
            iname = "member";
        return x_list_items(rdsbk_xml_child(node, iname), iname, s_get(shape, "member"), shapes);
    }
    if (strcmp(t, "map") == 0)
        return x_map_entries(rdsbk_xml_child(node, "entry"), "entry", shape, shapes);
    if (strcmp(t, "boolean") == 0)
        return cJSON_CreateBool(text && strcmp(text, "true") == 0);
    if (strcmp(t, "timestamp") == 0) {
        double v = 0;
        if (rdsbk_protocol_parse_time(&v, text) < 0)
            s_skip("unparsable timestamp");
        return cJSON_CreateNumber(v);
    }
    if (strcmp(t, "blob") == 0) {
        struct rdsbk_buf b = RDSBK_BUF_INIT;
        cJSON *s;
        assert_int_equal(rdsbk_protocol_base64_decode(&b, text ? text : ""), 0);
        s = cJSON_CreateString(rdsbk_buf_cstr(&b));
        rdsbk_buf_clean_up(&b);
        return s;
    }
    if (strcmp(t, "string") == 0)
        return cJSON_CreateString(text ? text : "");
    if (text && (strcmp(text, "NaN") == 0 || strstr(text, "Infinity")))
        return cJSON_CreateString(text);
    return cJSON_CreateNumber(strtod(text ? text : "0", NULL));
}

/* An error case: the AWS code we report must be the case's. */
static bool s_error_case(const char *code, const char *expected, char *why, size_t why_size) {
    snprintf(why, why_size, "reported aws code [%s], expected [%s]", code, expected);
    return strcmp(code, expected) == 0;
}

static void s_push_response(struct env *e, const cJSON *response, const char *dflt_type) {
    const cJSON *headers = s_get(response, "headers");
    const cJSON *h;
    struct fake_reply r = {0};

    r.status = (long)s_get(response, "status_code")->valuedouble;
    r.body = s_str(response, "body") ? s_str(response, "body") : "";
    r.content_type = dflt_type;
    cJSON_ArrayForEach(h, headers) {
        if (strcasecmp(h->string, "Content-Type") == 0) {
            r.content_type = h->valuestring;
        } else if (!r.header_name) {
            r.header_name = h->string;
            r.header_value = h->valuestring;
        } else {
            s_skip("more response headers than the fake carries");
        }
    }
    e->fake.replies[e->fake.n_replies++] = r;
}

static bool s_query_output(struct env *e, const cJSON *suite, const cJSON *c, char *why,
                           size_t why_size) {
    const cJSON *shapes = s_get(suite, "shapes");
    const cJSON *given = s_get(c, "given");
    const cJSON *output = s_get(given, "output");
    struct rdsbk_query q;
    struct rdsbk_query_reply reply;
    cJSON *got = NULL;
    bool ok;
    int rc;

    s_push_response(e, s_get(c, "response"), "text/xml");
    if (s_skip_reason)
        return false;
    assert_int_equal(rdsbk_query_init(&q, s_str(given, "name"), "2020-01-08"), 0);
    rc = rdsbk_query_send(&reply, &e->ctx, &q);
    rdsbk_query_clean_up(&q);
    if (s_get(c, "errorCode")) {
        rdsbk_query_reply_clean_up(&reply);
        return rc < 0 &&
               s_error_case(rdsbk_error_last()->aws_code, s_str(c, "errorCode"), why, why_size);
    }
    if (rc != 0) {
        snprintf(why, why_size, "call failed: %s", rdsbk_error_last()->message);
        return false;
    }
    {
        const char *wrapper = s_str(output, "resultWrapper");
        const xmlNode *result = reply.result;
        if (wrapper && reply.doc)
            result = rdsbk_xml_child(xmlDocGetRootElement(reply.doc), wrapper);
        got = output && result ? x_walk(result, output, shapes) : cJSON_CreateObject();
    }
    rdsbk_query_reply_clean_up(&reply);
    ok = s_json_equal(got, s_get(c, "result"));
    {
        char *text = cJSON_PrintUnformatted(got);
        snprintf(why, why_size, "parsed %s", text);
        free(text);
    }
    cJSON_Delete(got);
    return ok;
}

/* A JSON reply as the output shape says (timestamps as numbers, blobs decoded). */
static cJSON *jo_walk(const cJSON *value, const cJSON *member, const cJSON *shapes) {
    const cJSON *shape = s_shape(shapes, member);
    const char *t = s_type(shape);

    if (s_true(shape, "document"))
        return cJSON_Duplicate(value, true);
    if (strcmp(t, "structure") == 0) {
        cJSON *obj = cJSON_CreateObject();
        const cJSON *m;
        cJSON_ArrayForEach(m, s_get(shape, "members")) {
            const char *name = s_str(m, "jsonName");
            const cJSON *v;
            if (s_str(m, "location"))
                continue;
            if (!name)
                name = s_str(m, "locationName");
            v = s_get(value, name ? name : m->string);
            if (v && !cJSON_IsNull(v))
                cJSON_AddItemToObject(obj, m->string, jo_walk(v, m, shapes));
        }
        return obj;
    }
    if (strcmp(t, "list") == 0) {
        cJSON *arr = cJSON_CreateArray();
        const cJSON *v;
        cJSON_ArrayForEach(v, value) {
            cJSON_AddItemToArray(arr, jo_walk(v, s_get(shape, "member"), shapes));
        }
        return arr;
    }
    if (strcmp(t, "map") == 0) {
        cJSON *obj = cJSON_CreateObject();
        const cJSON *v;
        cJSON_ArrayForEach(v, value) {
            if (!cJSON_IsNull(v))
                cJSON_AddItemToObject(obj, v->string, jo_walk(v, s_get(shape, "value"), shapes));
        }
        return obj;
    }
    if (strcmp(t, "timestamp") == 0 && cJSON_IsString(value)) {
        double d = 0;
        if (rdsbk_protocol_parse_time(&d, value->valuestring) < 0)
            s_skip("unparsable timestamp");
        return cJSON_CreateNumber(d);
    }
    if (strcmp(t, "blob") == 0 && cJSON_IsString(value)) {
        struct rdsbk_buf b = RDSBK_BUF_INIT;
        cJSON *s;
        assert_int_equal(rdsbk_protocol_base64_decode(&b, value->valuestring), 0);
        s = cJSON_CreateString(rdsbk_buf_cstr(&b));
        rdsbk_buf_clean_up(&b);
        return s;
    }
    return cJSON_Duplicate(value, true);
}

static bool s_json_output(struct env *e, const cJSON *suite, const cJSON *c, char *why,
                          size_t why_size) {
    const cJSON *shapes = s_get(suite, "shapes");
    const cJSON *given = s_get(c, "given");
    const cJSON *output = s_get(given, "output");
    cJSON *reply = NULL;
    cJSON *got;
    bool ok;
    int rc;

    s_push_response(e, s_get(c, "response"), "application/x-amz-json-1.1");
    if (s_skip_reason)
        return false;
    rc = rdsbk_json_call(&reply, &e->ctx, "Svc", s_str(given, "name"), NULL);
    if (s_get(c, "errorCode"))
        return rc < 0 &&
               s_error_case(rdsbk_error_last()->aws_code, s_str(c, "errorCode"), why, why_size);
    if (rc != 0) {
        snprintf(why, why_size, "call failed: %s", rdsbk_error_last()->message);
        return false;
    }
    got = output ? jo_walk(reply, output, shapes) : cJSON_CreateObject();
    ok = s_json_equal(got, s_get(c, "result"));
    {
        char *text = cJSON_PrintUnformatted(got);
        snprintf(why, why_size, "parsed %s", text);
        free(text);
    }
    cJSON_Delete(got);
    cJSON_Delete(reply);
    return ok;
}

static bool s_rest_output(struct env *e, const cJSON *suite, const cJSON *c, char *why,
                          size_t why_size) {
    const cJSON *shapes = s_get(suite, "shapes");
    const cJSON *given = s_get(c, "given");
    const cJSON *output = s_get(given, "output");
    const cJSON *shape = output ? s_shape(shapes, output) : NULL;
    struct rdsbk_rest r;
    struct rdsbk_rest_reply reply;
    cJSON *got = NULL;
    const cJSON *m;
    bool ok;
    int rc;

    cJSON_ArrayForEach(m, s_get(shape, "members")) {
        if (s_str(m, "location"))
            s_skip("output members bound to headers or the status code");
    }
    if (s_str(shape, "payload"))
        s_skip("output payload member");
    s_push_response(e, s_get(c, "response"), "application/json");
    if (s_skip_reason)
        return false;
    assert_int_equal(rdsbk_rest_init(&r, "POST", s_str(given, "name")), 0);
    assert_int_equal(rdsbk_rest_path(&r, "/"), 0);
    rc = rdsbk_rest_send(&reply, &e->ctx, &r);
    rdsbk_rest_clean_up(&r);
    if (s_get(c, "errorCode")) {
        rdsbk_rest_reply_clean_up(&reply);
        return rc < 0 &&
               s_error_case(rdsbk_error_last()->aws_code, s_str(c, "errorCode"), why, why_size);
    }
    if (rc != 0) {
        snprintf(why, why_size, "call failed: %s", rdsbk_error_last()->message);
        return false;
    }
    got = output && reply.json ? jo_walk(reply.json, output, shapes) : cJSON_CreateObject();
    ok = s_json_equal(got, s_get(c, "result"));
    {
        char *text = cJSON_PrintUnformatted(got);
        snprintf(why, why_size, "parsed %s", text);
        free(text);
    }
    cJSON_Delete(got);
    rdsbk_rest_reply_clean_up(&reply);
    return ok;
}

/* ---- the tests ---- */

static void s_run(const char *rel, s_case_fn fn, const char *label) {
    struct tally t = {0};

    if (!s_run_file(rel, fn, &t)) {
        skip();
        return;
    }
    s_report(label, &t);
    assert_true(t.ran > 0);
    assert_int_equal(t.passed, t.ran);
}

static void test_query_input(void **state) {
    (void)state;
    s_run("input/query.json", s_query_input, "awsQuery input");
}

static void test_json_input(void **state) {
    (void)state;
    s_run("input/json.json", s_json_input, "awsJson1.1 input");
}

static void test_rest_json_input(void **state) {
    (void)state;
    s_run("input/rest-json.json", s_rest_input, "restJson1 input");
}

static void test_query_output(void **state) {
    (void)state;
    s_run("output/query.json", s_query_output, "awsQuery output");
}

static void test_json_output(void **state) {
    (void)state;
    s_run("output/json.json", s_json_output, "awsJson1.1 output");
}

static void test_rest_json_output(void **state) {
    (void)state;
    s_run("output/rest-json.json", s_rest_output, "restJson1 output");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_input),     cmocka_unit_test(test_json_input),
        cmocka_unit_test(test_rest_json_input), cmocka_unit_test(test_query_output),
        cmocka_unit_test(test_json_output),     cmocka_unit_test(test_rest_json_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
