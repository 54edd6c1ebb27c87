/* The four protocols: encoding helpers, the awsQuery builder, XML getters, and one round trip of
 * each protocol through the real signer and rdsbk_aws_send over a fake transport (request bytes
 * checked, canned replies parsed, AWS errors mapped). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "rdsbk/error.h"
#include "rdsbk/json_util.h"
#include "rdsbk/protocol.h"
#include "rdsbk/str.h"
#include "test_protocol_fake.h"

#include <stdlib.h>
#include <string.h>

/* ---- encoding helpers ---- */

static void test_uri_encode(void **state) {
    static const struct {
        const char *in;
        bool keep_slash;
        const char *out;
    } cases[] = {
        {"abcXYZ019-_.~", false, "abcXYZ019-_.~"},
        {"a b+c", false, "a%20b%2Bc"},
        {"arn:aws:iam::1:role/x", false, "arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx"},
        {"a/b c", true, "a/b%20c"},
        {"\xc3\xa9*", false, "%C3%A9%2A"},
        {"", false, ""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rdsbk_buf b = RDSBK_BUF_INIT;
        assert_int_equal(
            rdsbk_protocol_uri_encode(&b, cases[i].in, strlen(cases[i].in), cases[i].keep_slash),
            0);
        assert_string_equal(rdsbk_buf_cstr(&b), cases[i].out);
        rdsbk_buf_clean_up(&b);
    }
}

static void test_uri_decode(void **state) {
    static const struct {
        const char *in;
        bool plus_is_space;
        const char *out; /* NULL: RDSBK_EINVALID */
    } cases[] = {
        {"%7B%22Version%22%3A%222012-10-17%22%7D", false, "{\"Version\":\"2012-10-17\"}"},
        {"a+b%20c", true, "a b c"},
        {"a+b", false, "a+b"},
        {"bad%2", false, NULL},
        {"bad%zz", false, NULL},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *s = (char *)"unset";
        int rc = rdsbk_protocol_uri_decode(&s, cases[i].in, cases[i].plus_is_space);
        if (cases[i].out) {
            assert_int_equal(rc, 0);
            assert_string_equal(s, cases[i].out);
        } else {
            assert_int_equal(rc, RDSBK_EINVALID);
            assert_int_equal(rdsbk_error_last()->code, RDSBK_EINVALID);
            assert_null(s);
        }
        free(s);
    }
}

static void test_base64(void **state) {
    static const struct {
        const char *raw;
        const char *b64;
    } cases[] = {{"", ""},
                 {"f", "Zg=="},
                 {"fo", "Zm8="},
                 {"foo", "Zm9v"},
                 {"foob", "Zm9vYg=="},
                 {"value", "dmFsdWU="},
                 {"\xff\xfe", "//4="}};
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rdsbk_buf b = RDSBK_BUF_INIT;
        struct rdsbk_buf d = RDSBK_BUF_INIT;
        assert_int_equal(rdsbk_protocol_base64_encode(&b, cases[i].raw, strlen(cases[i].raw)), 0);
        assert_string_equal(rdsbk_buf_cstr(&b), cases[i].b64);
        assert_int_equal(rdsbk_protocol_base64_decode(&d, cases[i].b64), 0);
        assert_int_equal(rdsbk_buf_len(&d), strlen(cases[i].raw));
        assert_memory_equal(rdsbk_buf_cstr(&d), cases[i].raw, rdsbk_buf_len(&d));
        rdsbk_buf_clean_up(&b);
        rdsbk_buf_clean_up(&d);
    }
    {
        struct rdsbk_buf d = RDSBK_BUF_INIT;
        assert_int_equal(rdsbk_protocol_base64_decode(&d, "Zm9v!"), RDSBK_EINVALID);
        rdsbk_buf_clean_up(&d);
    }
}

static void test_parse_time(void **state) {
    static const struct {
        const char *in;
        double out;
    } cases[] = {
        {"2014-04-29T18:30:38Z", 1398796238},
        {"2014-04-29T18:30:38.000Z", 1398796238},
        {"2000-01-02T20:34:56.123Z", 946845296.123},
        {"2019-12-16T22:48:18-01:00", 1576540098},
        {"2019-12-17T00:48:18+01:00", 1576540098},
        {"Tue, 29 Apr 2014 18:30:38 GMT", 1398796238},
        {"1398796238", 1398796238},
        {"1970-01-01T00:00:00Z", 0},
    };
    double t;
    char buf[32];
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(rdsbk_protocol_parse_time(&t, cases[i].in), 0);
        assert_true(t > cases[i].out - 0.0005 && t < cases[i].out + 0.0005);
    }
    assert_int_equal(rdsbk_protocol_parse_time(&t, "yesterday"), RDSBK_EINVALID);
    assert_int_equal(rdsbk_protocol_parse_time(&t, ""), RDSBK_EINVALID);
    assert_int_equal(rdsbk_protocol_parse_time(&t, "2014-13-29T18:30:38Z"), RDSBK_EINVALID);
    rdsbk_protocol_format_time(buf, sizeof(buf), 1422172800);
    assert_string_equal(buf, "2015-01-25T08:00:00Z");
}

/* ---- awsQuery builder ---- */

static void test_query_builder(void **state) {
    struct rdsbk_query q;
    const char *list[] = {"foo", "bar baz"};
    const char *keys[] = {"k1", "k2"};
    const char *values[] = {"v1", "v=2"};
    struct rdsbk_tag tags[] = {{(char *)"k1", (char *)"v1"}, {(char *)"k2", NULL}};
    (void)state;

    assert_int_equal(rdsbk_query_init(&q, "CreateRole", "2010-05-08"), 0);
    assert_int_equal(rdsbk_query_add(&q, "RoleName", "my role"), 0);
    assert_int_equal(rdsbk_query_add(&q, "Description", NULL), 0);
    assert_int_equal(rdsbk_query_add(&q, "AssumeRolePolicyDocument", "{\"a\":1}"), 0);
    assert_int_equal(rdsbk_query_add_bool(&q, "Flag", true), 0);
    assert_int_equal(rdsbk_query_add_int(&q, "MaxSessionDuration", 3600), 0);
    assert_int_equal(rdsbk_query_add_time(&q, "When", 1422172800), 0);
    assert_int_equal(rdsbk_query_add_blob(&q, "Blob", "value", 5), 0);
    assert_int_equal(rdsbk_query_add_list(&q, "List", "member", list, 2), 0);
    assert_int_equal(rdsbk_query_add_list(&q, "Flat", NULL, list, 1), 0);
    assert_int_equal(rdsbk_query_add_list(&q, "Empty", "member", NULL, 0), 0);
    assert_int_equal(rdsbk_query_add_map(&q, "Map", "entry", NULL, NULL, keys, values, 2), 0);
    assert_int_equal(rdsbk_query_add_tags(&q, "Tags", NULL, tags, 1), 0);
    assert_int_equal(rdsbk_query_add_tags(&q, "T", "Tag", tags, 2), 0);
    assert_int_equal(rdsbk_query_add_tags(&q, "Tag", "", tags, 1), 0); /* SQS: flattened */
    assert_int_equal(rdsbk_query_addf(&q, "x", "Filters.member.%d.Name", 3), 0);
    assert_string_equal(rdsbk_buf_cstr(&q.body),
                        "Action=CreateRole&Version=2010-05-08&RoleName=my%20role"
                        "&AssumeRolePolicyDocument=%7B%22a%22%3A1%7D&Flag=true"
                        "&MaxSessionDuration=3600&When=2015-01-25T08%3A00%3A00Z&Blob=dmFsdWU%3D"
                        "&List.member.1=foo&List.member.2=bar%20baz&Flat.1=foo&Empty="
                        "&Map.entry.1.key=k1&Map.entry.1.value=v1&Map.entry.2.key=k2"
                        "&Map.entry.2.value=v%3D2&Tags.member.1.Key=k1&Tags.member.1.Value=v1"
                        "&T.Tag.1.Key=k1&T.Tag.1.Value=v1&T.Tag.2.Key=k2&T.Tag.2.Value="
                        "&Tag.1.Key=k1&Tag.1.Value=v1&Filters.member.3.Name=x");
    rdsbk_query_clean_up(&q);
}

/* ---- tables of fields ---- */

/* An input struct with a member of every kind a request sends. */
struct s_input {
    const char *name;
    int count;
    bool flag;
    bool on;
    bool maybe;
    bool send_maybe;
    const char *const *list;
    size_t n_list;
    const char *const *opt_list;
    size_t n_opt_list;
    const struct rdsbk_tag *tags;
    size_t n_tags;
};
#define S_IN(m) offsetof(struct s_input, m)

static const struct rdsbk_field s_query_fields[] = {
    RDSBK_FIELD(STR, "Name", S_IN(name)),
    RDSBK_FIELD(INT, "Count", S_IN(count)),
    RDSBK_FIELD(BOOL, "Flag", S_IN(flag)),
    RDSBK_FIELD(TRUE, "On", S_IN(on)),
    RDSBK_FIELD_N(BOOL_IF, "Maybe", S_IN(maybe), S_IN(send_maybe), NULL, NULL),
    RDSBK_FIELD_N(LIST, "L", S_IN(list), S_IN(n_list), "Item", NULL),
    RDSBK_FIELD_N(OPT_LIST, "O", S_IN(opt_list), S_IN(n_opt_list), NULL, NULL),
    RDSBK_FIELD_N(TAGS, "Tags", S_IN(tags), S_IN(n_tags), "Tag", NULL),
    RDSBK_FIELD_END,
};

static const struct rdsbk_field s_json_fields[] = {
    RDSBK_FIELD(STR, "Name", S_IN(name)),
    RDSBK_FIELD(INT, "Count", S_IN(count)),
    RDSBK_FIELD(TRUE, "On", S_IN(on)),
    RDSBK_FIELD_N(TAGS, "Tags", S_IN(tags), S_IN(n_tags), "K", "V"),
    RDSBK_FIELD_END,
};

static void test_fields_build(void **state) {
    static const char *const two[] = {"a", "b c"};
    static const struct rdsbk_tag tag[] = {{(char *)"k", NULL}};
    static const struct {
        struct s_input in;
        const char *query; /* after "Action=A&Version=V" */
        const char *json;
    } cases[] = {
        {{"n x", 3, false, true, true, true, two, 2, two, 1, tag, 1},
         "&Name=n%20x&Count=3&Flag=false&On=true&Maybe=true&L.Item.1=a&L.Item.2=b%20c&O.member.1=a"
         "&Tags.Tag.1.Key=k&Tags.Tag.1.Value=",
         "{\"Name\":\"n x\",\"Count\":3,\"On\":true,\"Tags\":[{\"K\":\"k\",\"V\":\"\"}]}"},
        /* left out: NULL strings, counts <= 0, false TRUE flags, unset BOOL_IF, empty OPT_LIST
         * and tags; an empty LIST is sent as "L=" */
        {{NULL, 0, true, false, true, false, NULL, 0, NULL, 0, NULL, 0}, "&Flag=true&L=", "{}"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rdsbk_query q;
        cJSON *obj = cJSON_CreateObject();
        char *json;
        char expected[512];

        assert_int_equal(rdsbk_query_init(&q, "A", "V"), 0);
        assert_int_equal(rdsbk_query_add_fields(&q, s_query_fields, &cases[i].in), 0);
        snprintf(expected, sizeof(expected), "Action=A&Version=V%s", cases[i].query);
        assert_string_equal(rdsbk_buf_cstr(&q.body), expected);
        rdsbk_query_clean_up(&q);
        assert_int_equal(rdsbk_json_add_fields(obj, s_json_fields, &cases[i].in), 0);
        json = cJSON_PrintUnformatted(obj);
        assert_string_equal(json, cases[i].json);
        free(json);
        cJSON_Delete(obj);
    }
}

/* A list and tags of a table with "" as their `member`: flattened, as SQS sends them. */
static void test_fields_flattened(void **state) {
    static const char *const two[] = {"a", "b"};
    static const struct rdsbk_tag tag[] = {{(char *)"k", (char *)"v"}};
    static const struct rdsbk_field fields[] = {
        RDSBK_FIELD_N(LIST, "TagKey", S_IN(list), S_IN(n_list), "", NULL),
        RDSBK_FIELD_N(TAGS, "Tag", S_IN(tags), S_IN(n_tags), "", NULL),
        RDSBK_FIELD_END,
    };
    const struct s_input in = {.list = two, .n_list = 2, .tags = tag, .n_tags = 1};
    struct rdsbk_query q;
    (void)state;

    assert_int_equal(rdsbk_query_init(&q, "A", "V"), 0);
    assert_int_equal(rdsbk_query_add_fields(&q, fields, &in), 0);
    assert_string_equal(rdsbk_buf_cstr(&q.body),
                        "Action=A&Version=V&TagKey.1=a&TagKey.2=b&Tag.1.Key=k&Tag.1.Value=v");
    rdsbk_query_clean_up(&q);
}

/* An output struct with a member of every kind a reply carries, read by two tables. */
struct s_output {
    char *name;
    char *text;
    char *doc;
    int count;
    bool flag;
    time_t when;
    struct rdsbk_tag *tags;
    size_t n_tags;
};
#define S_OUT(m) offsetof(struct s_output, m)

static const struct rdsbk_field s_more_fields[] = {
    RDSBK_FIELD(INT, "Count", S_OUT(count)),
    RDSBK_FIELD(BOOL, "Flag", S_OUT(flag)),
    RDSBK_FIELD(TIME, "When", S_OUT(when)),
    RDSBK_FIELD_N(TAGS, "TagList", S_OUT(tags), S_OUT(n_tags), "Tag", NULL),
    RDSBK_FIELD_END,
};
static const struct rdsbk_shape s_more = {s_more_fields, sizeof(struct s_output), NULL};
static const struct rdsbk_field s_output_fields[] = {
    RDSBK_FIELD(STR, "Name", S_OUT(name)),
    RDSBK_FIELD(TEXT, "Text", S_OUT(text)),
    RDSBK_FIELD(DOC, "Inner/Doc", S_OUT(doc)),
    RDSBK_FIELD_END,
};
static const struct rdsbk_shape s_output = {s_output_fields, sizeof(struct s_output), &s_more};

static void test_fields_read(void **state) {
    static const char xml[] =
        "<R><Item><Name>a</Name><Inner><Doc>%7B%22x%22%3A1%7D</Doc></Inner><Count>7</Count>"
        "<Flag>true</Flag><When>2014-04-29T18:30:38Z</When><TagList><Tag><Key>k</Key>"
        "<Value>v</Value></Tag></TagList></Item>"
        "<Item/><Item><Name>c</Name><Count>x</Count></Item><Bad><Inner><Doc>%zz</Doc></Inner></Bad>"
        "</R>";
    struct rdsbk_items items = {0};
    const struct {
        const char *name;
        const char *doc;
        int count;
        size_t n_tags;
    } want[] = {{"a", "{\"x\":1}", 7, 1}, {NULL, NULL, 0, 0}, {"c", NULL, 0, 0}};
    struct s_output *out;
    struct s_output bad = {0};
    xmlDocPtr doc = NULL;
    xmlNodePtr root;
    char **strings = NULL;
    size_t n = 0;
    (void)state;

    assert_int_equal(rdsbk_xml_parse(&doc, xml, sizeof(xml) - 1), 0);
    root = xmlDocGetRootElement(doc);
    assert_int_equal(rdsbk_xml_read_list(&items, root, "", "Item", &s_output), 0);
    assert_int_equal(items.n, 3);
    out = items.data;
    for (size_t i = 0; i < 3; i++) {
        if (want[i].name)
            assert_string_equal(out[i].name, want[i].name);
        else
            assert_null(out[i].name);
        assert_string_equal(out[i].text, ""); /* TEXT: "" when absent */
        if (want[i].doc)
            assert_string_equal(out[i].doc, want[i].doc);
        else
            assert_null(out[i].doc);
        assert_int_equal(out[i].count, want[i].count);
        assert_int_equal(out[i].n_tags, want[i].n_tags);
    }
    assert_true(out[0].flag);
    assert_int_equal(out[0].when, 1398796238);
    assert_string_equal(out[0].tags[0].value, "v");
    assert_null(out[3].name); /* zeroed past the last item */
    rdsbk_items_free(&items, &s_output);
    assert_null(items.data);

    /* A malformed document fails the read; what was read is the caller's to clean up. */
    assert_int_equal(rdsbk_xml_read(&bad, rdsbk_xml_child(root, "Bad"), &s_output), RDSBK_EINVALID);
    rdsbk_shape_clean_up(&bad, &s_output);
    assert_null(bad.text);

    /* Lists handed out are allocated and NULL-terminated, even empty. */
    assert_int_equal(rdsbk_xml_path_strings(&strings, &n, root, "Absent", NULL), 0);
    assert_non_null(strings);
    assert_int_equal(n, 0);
    assert_null(strings[0]);
    rdsbk_strings_free(strings, n);
    xmlFreeDoc(doc);
}

/* ---- XML getters ---- */

static const char s_xml[] =
    "<ListRolesResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n"
    "  <ListRolesResult>\n"
    "    <IsTruncated>true</IsTruncated>\n"
    "    <Marker>page2</Marker>\n"
    "    <Roles>\n"
    "      <member><RoleName>a</RoleName><MaxSessionDuration>3600</MaxSessionDuration>"
    "<CreateDate>2014-04-29T18:30:38Z</CreateDate></member>\n"
    "      <member><RoleName>b &amp; c</RoleName></member>\n"
    "    </Roles>\n"
    "    <Empty/>\n"
    "    <CData><![CDATA[<raw>]]></CData>\n"
    "  </ListRolesResult>\n"
    "  <ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata>\n"
    "</ListRolesResponse>\n";

static void test_xml_getters(void **state) {
    struct rdsbk_query_reply reply;
    char **names = NULL;
    size_t n = 0;
    char *marker = NULL;
    xmlNodePtr m;
    (void)state;

    assert_int_equal(rdsbk_query_parse_reply(&reply, "ListRoles", s_xml, strlen(s_xml)), 0);
    assert_non_null(reply.result);
    assert_true(rdsbk_xml_path_bool(reply.result, "IsTruncated", false));
    assert_string_equal(rdsbk_xml_path_text(reply.result, "Roles/member/RoleName"), "a");
    assert_int_equal(rdsbk_xml_path_int(reply.result, "Roles/member/MaxSessionDuration", 0), 3600);
    assert_int_equal(rdsbk_xml_path_time(reply.result, "Roles/member/CreateDate"), 1398796238);
    assert_null(rdsbk_xml_path_text(reply.result, "Roles/member/Nope"));
    assert_string_equal(rdsbk_xml_path_text(reply.result, "Empty"), "");
    assert_string_equal(rdsbk_xml_path_text(reply.result, "CData"), "<raw>");
    m = rdsbk_xml_child(rdsbk_xml_child(reply.result, "Roles"), "member");
    m = rdsbk_xml_next(m, "member");
    assert_string_equal(rdsbk_xml_path_text(m, "RoleName"), "b & c");
    assert_null(rdsbk_xml_next(m, "member"));
    assert_int_equal(rdsbk_query_next_marker(&marker, reply.result), 0);
    assert_string_equal(marker, "page2");
    free(marker);
    rdsbk_query_reply_clean_up(&reply);

    {
        static const char last[] = "<XResponse><XResult><IsTruncated>false</IsTruncated>"
                                   "<Marker>stale</Marker><L><member>p</member><member>q"
                                   "</member></L></XResult></XResponse>";
        assert_int_equal(rdsbk_query_parse_reply(&reply, "X", last, strlen(last)), 0);
        assert_int_equal(rdsbk_query_next_marker(&marker, reply.result), 0);
        assert_null(marker);
        assert_int_equal(rdsbk_xml_path_strings(&names, &n, reply.result, "L", NULL), 0);
        assert_int_equal(n, 2);
        assert_string_equal(names[0], "p");
        assert_string_equal(names[1], "q");
        assert_null(names[2]);
        rdsbk_strings_free(names, n);
        assert_int_equal(rdsbk_xml_path_strings(&names, &n, reply.result, "Missing", NULL), 0);
        assert_int_equal(n, 0);
        rdsbk_strings_free(names, n);
        rdsbk_query_reply_clean_up(&reply);
    }
    {
        /* RDS pages carry a Marker and no IsTruncated. */
        static const char rds[] = "<DResponse><DResult><Marker>m2</Marker></DResult></DResponse>";
        assert_int_equal(rdsbk_query_parse_reply(&reply, "D", rds, strlen(rds)), 0);
        assert_int_equal(rdsbk_query_next_marker(&marker, reply.result), 0);
        assert_string_equal(marker, "m2");
        free(marker);
        rdsbk_query_reply_clean_up(&reply);
    }
    {
        static const char secret[] = "<AResponse><AResult><Credentials><SecretAccessKey>"
                                     "wJalrXUtnFEMI</SecretAccessKey></Credentials><Keep>k</Keep>"
                                     "</AResult></AResponse>";
        assert_int_equal(rdsbk_query_parse_reply(&reply, "A", secret, strlen(secret)), 0);
        rdsbk_xml_wipe(rdsbk_xml_child(reply.result, "Credentials"));
        assert_string_equal(rdsbk_xml_path_text(reply.result, "Credentials/SecretAccessKey"), "");
        assert_string_equal(rdsbk_xml_path_text(reply.result, "Keep"), "k");
        rdsbk_query_reply_clean_up(&reply);
    }
    assert_int_equal(rdsbk_query_parse_reply(&reply, "X", "<a><b></a>", 10), RDSBK_EINVALID);
    /* An external entity is never fetched nor expanded. */
    {
        static const char xxe[] = "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
                                  "<XResponse><XResult><V>&e;</V></XResult></XResponse>";
        assert_int_equal(rdsbk_query_parse_reply(&reply, "X", xxe, strlen(xxe)), 0);
        assert_null(strstr(rdsbk_xml_path_text(reply.result, "V"), "root:"));
        rdsbk_query_reply_clean_up(&reply);
    }
}

/* ---- maps and token pagination (SNS) ---- */

static const struct {
    const char *name;
    const char *result; /* the children of <XResult> */
    const char *entry;  /* NULL: awsQuery's "entry", "key", "value" */
    const char *key;
    const char *value;
    const char *expected; /* JSON of the Attributes map */
} s_maps[] = {
    {"two entries",
     "<Attributes>\n  <entry><key>Owner</key><value>222222222222</value></entry>\n"
     "  <entry><key>Policy</key><value>{&quot;Version&quot;:&quot;2012-10-17&quot;}</value>"
     "</entry>\n</Attributes>",
     NULL, NULL, NULL,
     "{\"Owner\":\"222222222222\",\"Policy\":\"{\\\"Version\\\":\\\"2012-10-17\\\"}\"}"},
    {"empty and absent values",
     "<Attributes><entry><key>A</key><value/></entry><entry><key>B</key>"
     "</entry></Attributes>",
     NULL, NULL, NULL, "{\"A\":\"\",\"B\":\"\"}"},
    {"a key twice: the last value",
     "<Attributes><entry><key>A</key><value>1</value></entry>"
     "<entry><key>A</key><value>2</value></entry></Attributes>",
     NULL, NULL, NULL, "{\"A\":\"2\"}"},
    {"an entry without a key", "<Attributes><entry><value>1</value></entry></Attributes>", NULL,
     NULL, NULL, "{}"},
    {"no map", "<Other/>", NULL, NULL, NULL, "{}"},
    {"other element names",
     "<Attributes><e><k>A</k><v>1</v></e><entry><key>B</key><value>2"
     "</value></entry></Attributes>",
     "e", "k", "v", "{\"A\":\"1\"}"},
};

static void test_xml_map(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(s_maps) / sizeof(s_maps[0]); i++) {
        struct rdsbk_query_reply reply;
        cJSON *map = NULL;
        cJSON *expected = cJSON_Parse(s_maps[i].expected);
        char *xml = NULL;

        assert_non_null(expected);
        assert_int_equal(
            rdsbk_strfmt(&xml, "<XResponse><XResult>%s</XResult></XResponse>", s_maps[i].result),
            0);
        assert_int_equal(rdsbk_query_parse_reply(&reply, "X", xml, strlen(xml)), 0);
        assert_int_equal(rdsbk_xml_path_map(&map, reply.result, "Attributes", s_maps[i].entry,
                                            s_maps[i].key, s_maps[i].value),
                         0);
        if (!cJSON_Compare(map, expected, true)) {
            char *got = cJSON_PrintUnformatted(map);
            fail_msg("%s: got %s, not %s", s_maps[i].name, got, s_maps[i].expected);
        }
        cJSON_Delete(map);
        cJSON_Delete(expected);
        rdsbk_query_reply_clean_up(&reply);
        free(xml);
    }
}

static void test_next_token(void **state) {
    static const char page[] = "<LResponse><LResult><Subscriptions/><NextToken>t2</NextToken>"
                               "</LResult></LResponse>";
    static const char last[] = "<LResponse><LResult><Subscriptions/><NextToken/></LResult>"
                               "</LResponse>";
    struct rdsbk_query_reply reply;
    char *token = NULL;
    (void)state;

    assert_int_equal(rdsbk_query_parse_reply(&reply, "L", page, strlen(page)), 0);
    assert_int_equal(rdsbk_query_next_token(&token, reply.result, "NextToken"), 0);
    assert_string_equal(token, "t2");
    free(token);
    /* no Marker: the last page as IAM and RDS page */
    assert_int_equal(rdsbk_query_next_marker(&token, reply.result), 0);
    assert_null(token);
    rdsbk_query_reply_clean_up(&reply);
    assert_int_equal(rdsbk_query_parse_reply(&reply, "L", last, strlen(last)), 0);
    assert_int_equal(rdsbk_query_next_token(&token, reply.result, "NextToken"), 0);
    assert_null(token);
    rdsbk_query_reply_clean_up(&reply);
}

/* ---- round trips through rdsbk_aws_send ---- */

struct fixture {
    struct rdsbk_http *http;
    struct fake_aws fake;
    struct rdsbk_service_ctx ctx;
};

static int s_setup(void **state) {
    struct fixture *fx = calloc(1, sizeof(*fx));
    struct rdsbk_http_options opts = {0};

    opts.max_attempts = 1;
    assert_int_equal(rdsbk_http_new(&fx->http, &opts), 0);
    rdsbk_http_set_transport(fx->http, fake_transport, &fx->fake);
    fx->ctx.http = fx->http;
    fx->ctx.endpoint = "https://iam.amazonaws.com";
    fx->ctx.signing.region = "us-east-1";
    fx->ctx.signing.service = "iam";
    fx->ctx.signing.get_credentials = fake_static_credentials;
    *state = fx;
    return 0;
}

static int s_teardown(void **state) {
    struct fixture *fx = *state;
    fake_reset(&fx->fake);
    rdsbk_http_free(fx->http);
    free(fx);
    return 0;
}

/* Points the fixture's context at `service` in `region` at `endpoint`. */
static void s_point(struct fixture *fx, const char *endpoint, const char *region,
                    const char *service) {
    fx->ctx.endpoint = endpoint;
    fx->ctx.signing.region = region;
    fx->ctx.signing.service = service;
}

static void test_query_round_trip(void **state) {
    struct fixture *fx = *state;
    struct rdsbk_query q;
    struct rdsbk_query_reply reply;
    const struct fake_request *rec;
    static const char ok[] = "<GetRoleResponse><GetRoleResult><Role><RoleName>r</RoleName>"
                             "<Arn>arn:aws:iam::111122223333:role/r</Arn></Role></GetRoleResult>"
                             "</GetRoleResponse>";

    fake_push(&fx->fake, 200, "text/xml", ok);
    assert_int_equal(rdsbk_query_init(&q, "GetRole", "2010-05-08"), 0);
    assert_int_equal(rdsbk_query_add(&q, "RoleName", "r"), 0);
    assert_int_equal(rdsbk_query_send(&reply, &fx->ctx, &q), 0);
    assert_string_equal(rdsbk_xml_path_text(reply.result, "Role/Arn"),
                        "arn:aws:iam::111122223333:role/r");
    rdsbk_query_reply_clean_up(&reply);
    rec = &fx->fake.requests[0];
    assert_string_equal(rec->method, "POST");
    assert_string_equal(rec->url, "https://iam.amazonaws.com/");
    assert_string_equal(rdsbk_buf_cstr(&rec->body), "Action=GetRole&Version=2010-05-08&RoleName=r");
    assert_string_equal(fake_header(rec, "Content-Type"),
                        "application/x-www-form-urlencoded; charset=utf-8");
    assert_non_null(strstr(fake_header(rec, "Authorization"), "Credential=AKIDEXAMPLE/"));
    assert_non_null(strstr(fake_header(rec, "Authorization"), "/us-east-1/iam/aws4_request"));

    /* NoSuchEntity -> RDSBK_ENOTFOUND, AWS details kept */
    fake_push(&fx->fake, 404, "text/xml",
              "<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code>"
              "<Message>The role with name r cannot be found.</Message></Error>"
              "<RequestId>req-1</RequestId></ErrorResponse>");
    assert_int_equal(rdsbk_query_send(&reply, &fx->ctx, &q), RDSBK_ENOTFOUND);
    assert_null(reply.doc);
    assert_string_equal(rdsbk_error_last()->aws_code, "NoSuchEntity");
    assert_string_equal(rdsbk_error_last()->request_id, "req-1");
    assert_int_equal(rdsbk_error_last()->http_status, 404);

    /* EntityAlreadyExists -> RDSBK_ECONFLICT; RDS's DBSnapshotNotFound -> RDSBK_ENOTFOUND */
    fake_push(&fx->fake, 409, "text/xml",
              "<ErrorResponse><Error><Code>EntityAlreadyExists</Code><Message>m</Message>"
              "</Error></ErrorResponse>");
    assert_int_equal(rdsbk_query_send(&reply, &fx->ctx, &q), RDSBK_ECONFLICT);
    fake_push(&fx->fake, 400, "text/xml",
              "<ErrorResponse><Error><Code>DBSnapshotNotFound</Code><Message>m</Message>"
              "</Error></ErrorResponse>");
    assert_int_equal(rdsbk_query_send(&reply, &fx->ctx, &q), RDSBK_ENOTFOUND);
    fake_push(&fx->fake, 400, "text/xml",
              "<ErrorResponse><Error><Code>DBClusterSnapshotAlreadyExistsFault</Code>"
              "<Message>m</Message></Error></ErrorResponse>");
    assert_int_equal(rdsbk_query_send(&reply, &fx->ctx, &q), RDSBK_ECONFLICT);
    fake_push(&fx->fake, 403, "text/xml",
              "<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message>"
              "</Error></ErrorResponse>");
    assert_int_equal(rdsbk_query_send(&reply, &fx->ctx, &q), RDSBK_EAUTH);
    /* An empty 200 reply (DeleteRole) is success with no result */
    fake_push(&fx->fake, 200, NULL, "");
    assert_int_equal(rdsbk_query_send(&reply, &fx->ctx, &q), 0);
    assert_null(reply.result);
    rdsbk_query_reply_clean_up(&reply);
    rdsbk_query_clean_up(&q);
}

static void test_json_round_trip(void **state) {
    struct fixture *fx = *state;
    cJSON *in = cJSON_CreateObject();
    cJSON *out = NULL;
    char *token = NULL;
    const struct fake_request *rec;

    s_point(fx, "https://kms.eu-west-1.amazonaws.com", "eu-west-1", "kms");
    cJSON_AddStringToObject(in, "KeyId", "alias/x");
    fake_push(&fx->fake, 200, "application/x-amz-json-1.1",
              "{\"KeyMetadata\":{\"KeyId\":\"k-1\",\"Enabled\":true},\"NextMarker\":\"n\"}");
    assert_int_equal(rdsbk_json_call(&out, &fx->ctx, "TrentService", "DescribeKey", in), 0);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(out, "KeyMetadata"), "KeyId")->valuestring, "k-1");
    assert_int_equal(rdsbk_json_next_token(&token, out, "NextMarker"), 0);
    assert_string_equal(token, "n");
    free(token);
    assert_int_equal(rdsbk_json_next_token(&token, out, "NextToken"), 0);
    assert_null(token);
    cJSON_Delete(out);
    rec = &fx->fake.requests[0];
    assert_string_equal(rec->method, "POST");
    assert_string_equal(rec->url, "https://kms.eu-west-1.amazonaws.com/");
    assert_string_equal(fake_header(rec, "X-Amz-Target"), "TrentService.DescribeKey");
    assert_string_equal(fake_header(rec, "Content-Type"), "application/x-amz-json-1.1");
    assert_string_equal(rdsbk_buf_cstr(&rec->body), "{\"KeyId\":\"alias/x\"}");
    assert_non_null(strstr(fake_header(rec, "Authorization"), "/eu-west-1/kms/aws4_request"));

    /* Empty input is "{}", an empty reply is {} */
    fake_push(&fx->fake, 200, "application/x-amz-json-1.1", "");
    assert_int_equal(rdsbk_json_call(&out, &fx->ctx, "AWSEvents", "PutRule", NULL), 0);
    assert_true(cJSON_IsObject(out));
    assert_string_equal(rdsbk_buf_cstr(&fx->fake.requests[1].body), "{}");
    assert_string_equal(fake_header(&fx->fake.requests[1], "X-Amz-Target"), "AWSEvents.PutRule");
    cJSON_Delete(out);

    /* errors */
    fake_push(&fx->fake, 400, "application/x-amz-json-1.1",
              "{\"__type\":\"NotFoundException\",\"message\":\"Alias not found\"}");
    assert_int_equal(rdsbk_json_call(&out, &fx->ctx, "TrentService", "DescribeKey", in),
                     RDSBK_ENOTFOUND);
    assert_null(out);
    assert_string_equal(rdsbk_error_last()->aws_code, "NotFoundException");
    fake_push(&fx->fake, 400, "application/x-amz-json-1.1",
              "{\"__type\":\"com.amazonaws.kms#AlreadyExistsException\",\"message\":\"m\"}");
    assert_int_equal(rdsbk_json_call(&out, &fx->ctx, "TrentService", "CreateAlias", in),
                     RDSBK_ECONFLICT);
    fake_push(&fx->fake, 200, "application/x-amz-json-1.1", "[1,2]");
    assert_int_equal(rdsbk_json_call(&out, &fx->ctx, "TrentService", "DescribeKey", in),
                     RDSBK_EINVALID);

    /* as botocore reads replies: JSON whatever the Content-Type, `null` or white space empty */
    fake_push(&fx->fake, 200, "text/plain", "{\"KeyMetadata\":{\"KeyId\":\"k-2\"}}");
    assert_int_equal(rdsbk_json_call(&out, &fx->ctx, "TrentService", "DescribeKey", in), 0);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(out, "KeyMetadata"), "KeyId")->valuestring, "k-2");
    cJSON_Delete(out);
    for (size_t i = 0; i < 2; i++) {
        fake_push(&fx->fake, 200, i ? "application/json" : NULL, i ? " \n" : "null");
        assert_int_equal(rdsbk_json_call(&out, &fx->ctx, "AWSEvents", "PutRule", in), 0);
        assert_true(cJSON_IsObject(out) && !out->child);
        cJSON_Delete(out);
    }
    cJSON_Delete(in);
}

static void test_rest_round_trip(void **state) {
    struct fixture *fx = *state;
    struct rdsbk_rest r;
    struct rdsbk_rest_reply reply;
    cJSON *body = cJSON_CreateObject();
    const struct fake_request *rec;

    s_point(fx, "https://lambda.eu-west-1.amazonaws.com", "eu-west-1", "lambda");
    assert_int_equal(rdsbk_rest_init(&r, "POST", "AddPermission"), 0);
    assert_int_equal(rdsbk_rest_path(&r, "/2015-03-31/functions/"), 0);
    assert_int_equal(rdsbk_rest_label(&r, "arn:aws:lambda:eu-west-1:1:function:f", false), 0);
    assert_int_equal(rdsbk_rest_path(&r, "/policy"), 0);
    assert_int_equal(rdsbk_rest_query(&r, "Qualifier", "v 1"), 0);
    assert_int_equal(rdsbk_rest_query(&r, "Skip", NULL), 0);
    assert_int_equal(rdsbk_rest_header(&r, "X-Amz-Invocation-Type", "Event"), 0);
    cJSON_AddStringToObject(body, "StatementId", "s1");
    assert_int_equal(rdsbk_rest_json(&r, body), 0);
    fake_push(&fx->fake, 201, "application/json", "{\"Statement\":\"{}\"}");
    assert_int_equal(rdsbk_rest_send(&reply, &fx->ctx, &r), 0);
    assert_int_equal(reply.status, 201);
    assert_string_equal(cJSON_GetObjectItem(reply.json, "Statement")->valuestring, "{}");
    rdsbk_rest_reply_clean_up(&reply);
    rec = &fx->fake.requests[0];
    assert_string_equal(rec->method, "POST");
    assert_string_equal(rec->url, "https://lambda.eu-west-1.amazonaws.com/2015-03-31/functions/"
                                  "arn%3Aaws%3Alambda%3Aeu-west-1%3A1%3Afunction%3Af/policy"
                                  "?Qualifier=v%201");
    assert_string_equal(fake_header(rec, "X-Amz-Invocation-Type"), "Event");
    assert_string_equal(fake_header(rec, "Content-Type"), "application/json");
    assert_string_equal(rdsbk_buf_cstr(&rec->body), "{\"StatementId\":\"s1\"}");
    rdsbk_rest_clean_up(&r);

    /* 204 No Content, no body, no content type */
    assert_int_equal(rdsbk_rest_init(&r, "DELETE", "DeleteFunction"), 0);
    assert_int_equal(rdsbk_rest_path(&r, "/2015-03-31/functions/f"), 0);
    fake_push(&fx->fake, 204, NULL, "");
    assert_int_equal(rdsbk_rest_send(&reply, &fx->ctx, &r), 0);
    assert_int_equal(reply.status, 204);
    assert_null(reply.json);
    rdsbk_rest_reply_clean_up(&reply);
    rec = &fx->fake.requests[1];
    assert_string_equal(rec->method, "DELETE");
    assert_int_equal(rdsbk_buf_len(&rec->body), 0);
    assert_string_equal(fake_header(rec, "Content-Type"), "");

    /* a JSON body whatever the Content-Type says; `null` is no result; not an object: refused */
    for (size_t i = 0; i < 3; i++) {
        static const char *const bodies[] = {"{\"FunctionName\":\"f\"}", "null", "[1]"};
        fake_push(&fx->fake, 200, i == 1 ? NULL : "text/plain", bodies[i]);
        assert_int_equal(rdsbk_rest_send(&reply, &fx->ctx, &r), i == 2 ? RDSBK_EINVALID : 0);
        if (i == 0)
            assert_string_equal(rdsbk_json_str(reply.json, "FunctionName"), "f");
        else
            assert_null(reply.json);
        rdsbk_rest_reply_clean_up(&reply);
    }

    /* restJson1 error: X-Amzn-ErrorType header */
    fake_push_header(&fx->fake, 404, "application/json",
                     "{\"Type\":\"User\",\"Message\":\"Function not found\"}", "X-Amzn-ErrorType",
                     "ResourceNotFoundException:http://x/");
    assert_int_equal(rdsbk_rest_send(&reply, &fx->ctx, &r), RDSBK_ENOTFOUND);
    assert_string_equal(rdsbk_error_last()->aws_code, "ResourceNotFoundException");
    /* the error reply stays for the caller to read */
    assert_int_equal(reply.status, 404);
    assert_null(reply.json);
    rdsbk_rest_reply_clean_up(&reply);
    rdsbk_rest_clean_up(&r);
    cJSON_Delete(body);
}

/* An S3 reply: an XML body (or none) and one extra header. */
static void s_push_with_header(struct fake_aws *f, long status, const char *body, const char *name,
                               const char *value) {
    fake_push_header(f, status, body && *body ? "application/xml" : NULL, body, name, value);
}

/* The last error: its code, HTTP status and AWS code. */
static void s_expect_error(int got, int rc, int status, const char *aws_code) {
    const struct rdsbk_error *e = rdsbk_error_last();

    if (got != rc || e->http_status != status || strcmp(e->aws_code, aws_code) != 0)
        fail_msg("expected %d HTTP %d %s, got %d HTTP %d %s: %s", rc, status, aws_code, got,
                 e->http_status, e->aws_code, e->message);
}

static void test_rest_xml_round_trip(void **state) {
    struct fixture *fx = *state;
    struct rdsbk_rest r;
    struct rdsbk_rest_reply reply;
    const struct fake_request *rec;

    s_point(fx, "https://s3.eu-west-1.amazonaws.com", "eu-west-1", "s3");
    /* a greedy label: '/' kept, dot segments as %2E, the rest encoded once */
    assert_int_equal(rdsbk_rest_xml_init(&r, "PUT", "PutObject"), 0);
    assert_int_equal(rdsbk_rest_path(&r, "/b/"), 0);
    assert_int_equal(rdsbk_rest_label(&r, "a b/./../c+d/\xE6\x97\xA5//.x.", true), 0);
    assert_int_equal(rdsbk_rest_header(&r, "If-None-Match", "*"), 0);
    assert_int_equal(rdsbk_rest_body(&r, "hello", 5, "application/octet-stream"), 0);
    r.raw_reply = true;
    s_push_with_header(&fx->fake, 200, "", "ETag", "\"5d41402abc4b2a76b9719d911017c592\"");
    assert_int_equal(rdsbk_rest_send(&reply, &fx->ctx, &r), 0);
    assert_string_equal(rdsbk_rest_reply_header(&reply, "etag"),
                        "\"5d41402abc4b2a76b9719d911017c592\"");
    assert_null(reply.xml);
    rdsbk_rest_reply_clean_up(&reply);
    rdsbk_rest_clean_up(&r);
    rec = &fx->fake.requests[0];
    assert_string_equal(rec->method, "PUT");
    assert_string_equal(rec->url, "https://s3.eu-west-1.amazonaws.com/b/a%20b/%2E/%2E%2E/c%2Bd/"
                                  "%E6%97%A5//.x.");
    assert_string_equal(fake_header(rec, "If-None-Match"), "*");
    assert_string_equal(fake_header(rec, "X-Amz-Content-SHA256"),
                        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    assert_non_null(strstr(fake_header(rec, "Authorization"), "/eu-west-1/s3/aws4_request"));
    assert_string_equal(rdsbk_buf_cstr(&rec->body), "hello");

    /* an XML reply document; an empty body is none; anything else must be XML */
    assert_int_equal(rdsbk_rest_xml_init(&r, "GET", "GetBucketVersioning"), 0);
    assert_int_equal(rdsbk_rest_path(&r, "/b"), 0);
    assert_int_equal(rdsbk_rest_query(&r, "versioning", ""), 0);
    fake_push(&fx->fake, 200, "application/xml",
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VersioningConfiguration xmlns=\"http:"
              "//s3.amazonaws.com/doc/2006-03-01/\"><Status>Enabled</Status>"
              "</VersioningConfiguration>");
    assert_int_equal(rdsbk_rest_send(&reply, &fx->ctx, &r), 0);
    assert_string_equal(rdsbk_xml_path_text(xmlDocGetRootElement(reply.xml), "Status"), "Enabled");
    rdsbk_rest_reply_clean_up(&reply);
    assert_string_equal(fx->fake.requests[1].url,
                        "https://s3.eu-west-1.amazonaws.com/b?versioning=");
    fake_push(&fx->fake, 200, "application/xml", " \n");
    assert_int_equal(rdsbk_rest_send(&reply, &fx->ctx, &r), 0);
    assert_null(reply.xml);
    rdsbk_rest_reply_clean_up(&reply);
    fake_push(&fx->fake, 200, "application/xml", "<VersioningConfiguration>");
    assert_int_equal(rdsbk_rest_send(&reply, &fx->ctx, &r), RDSBK_EINVALID);
    rdsbk_rest_reply_clean_up(&reply);

    /* S3's error document */
    s_push_with_header(&fx->fake, 412,
                       "<Error><Code>PreconditionFailed</Code><Message>At least one of the "
                       "pre-conditions you specified did not hold</Message><Condition>If-Match"
                       "</Condition><RequestId>r-412</RequestId></Error>",
                       NULL, NULL);
    s_expect_error(rdsbk_rest_send(&reply, &fx->ctx, &r), RDSBK_ECONFLICT, 412,
                   "PreconditionFailed");
    assert_string_equal(rdsbk_error_last()->request_id, "r-412");
    rdsbk_rest_reply_clean_up(&reply);
    s_push_with_header(&fx->fake, 404,
                       "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist."
                       "</Message><Key>k</Key></Error>",
                       "x-amz-request-id", "r-404");
    s_expect_error(rdsbk_rest_send(&reply, &fx->ctx, &r), RDSBK_ENOTFOUND, 404, "NoSuchKey");
    assert_string_equal(rdsbk_error_last()->request_id, "r-404");
    rdsbk_rest_reply_clean_up(&reply);
    s_push_with_header(&fx->fake, 409,
                       "<Error><Code>ConditionalRequestConflict</Code><Message>A conflicting "
                       "conditional operation is currently in progress</Message></Error>",
                       NULL, NULL);
    s_expect_error(rdsbk_rest_send(&reply, &fx->ctx, &r), RDSBK_ECONFLICT, 409,
                   "ConditionalRequestConflict");
    rdsbk_rest_reply_clean_up(&reply);
    rdsbk_rest_clean_up(&r);

    /* HEAD: no body, the error named by its status */
    assert_int_equal(rdsbk_rest_xml_init(&r, "HEAD", "HeadObject"), 0);
    assert_int_equal(rdsbk_rest_path(&r, "/b/k"), 0);
    r.raw_reply = true;
    s_push_with_header(&fx->fake, 404, "", "x-amz-request-id", "r-head");
    s_expect_error(rdsbk_rest_send(&reply, &fx->ctx, &r), RDSBK_ENOTFOUND, 404, "NotFound");
    assert_string_equal(rdsbk_error_last()->request_id, "r-head");
    assert_non_null(strstr(rdsbk_error_last()->message, "Not Found"));
    rdsbk_rest_reply_clean_up(&reply);
    s_push_with_header(&fx->fake, 412, "", NULL, NULL);
    s_expect_error(rdsbk_rest_send(&reply, &fx->ctx, &r), RDSBK_ECONFLICT, 412,
                   "PreconditionFailed");
    rdsbk_rest_reply_clean_up(&reply);
    s_push_with_header(&fx->fake, 403, "", NULL, NULL);
    s_expect_error(rdsbk_rest_send(&reply, &fx->ctx, &r), RDSBK_EAUTH, 403, "Forbidden");
    rdsbk_rest_reply_clean_up(&reply);
    /* a bucket of another Region: 301 with x-amz-bucket-region, which the message names and the
     * reply keeps */
    s_push_with_header(&fx->fake, 301, "", "x-amz-bucket-region", "eu-central-1");
    s_expect_error(rdsbk_rest_send(&reply, &fx->ctx, &r), RDSBK_EINVALID, 301, "PermanentRedirect");
    assert_non_null(strstr(rdsbk_error_last()->message,
                           "the bucket is in eu-central-1; the request was signed for eu-west-1"));
    assert_string_equal(rdsbk_rest_reply_header(&reply, "x-amz-bucket-region"), "eu-central-1");
    rdsbk_rest_reply_clean_up(&reply);
    rdsbk_rest_clean_up(&r);
}

static void test_error_map(void **state) {
    static const struct {
        const char *code;
        int in;
        int out;
    } cases[] = {
        {"NoSuchEntity", RDSBK_ERROR, RDSBK_ENOTFOUND},
        {"ResourceNotFoundException", RDSBK_EINVALID, RDSBK_ENOTFOUND},
        {"DBInstanceNotFound", RDSBK_EINVALID, RDSBK_ENOTFOUND},
        {"DBClusterSnapshotNotFoundFault", RDSBK_EINVALID, RDSBK_ENOTFOUND},
        {"ResourceAlreadyExistsException", RDSBK_EINVALID, RDSBK_ECONFLICT},
        {"ResourceConflictException", RDSBK_EINVALID, RDSBK_ECONFLICT},
        {"ValidationError", RDSBK_EINVALID, RDSBK_EINVALID},
        {"", RDSBK_EIO, RDSBK_EIO},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rdsbk_error_set_aws(cases[i].in, 400, cases[i].code, "rid", "msg");
        assert_int_equal(rdsbk_protocol_map_error(cases[i].in), cases[i].out);
        assert_int_equal(rdsbk_error_last()->code, cases[i].out);
        assert_string_equal(rdsbk_error_last()->aws_code, cases[i].code);
        assert_string_equal(rdsbk_error_last()->message, "msg");
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uri_encode),
        cmocka_unit_test(test_uri_decode),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_query_builder),
        cmocka_unit_test(test_fields_build),
        cmocka_unit_test(test_fields_flattened),
        cmocka_unit_test(test_fields_read),
        cmocka_unit_test(test_xml_getters),
        cmocka_unit_test(test_xml_map),
        cmocka_unit_test(test_next_token),
        cmocka_unit_test(test_error_map),
        cmocka_unit_test_setup_teardown(test_query_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_json_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_rest_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_rest_xml_round_trip, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
