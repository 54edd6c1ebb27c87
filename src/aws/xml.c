/*
 * Reading XML replies (libxml2): parsing without network or entities, finding elements by local
 * name, their text as strings, numbers, booleans and times, whole structs and lists of them read
 * by a table of fields (rdsbk_xml_read), and maps read into JSON objects.
 */
#include "rdsbk/error.h"
#include "rdsbk/json_util.h"
#include "rdsbk/protocol.h"
#include "rdsbk/str.h"

#include <assert.h>
#include <libxml/dict.h>
#include <libxml/parser.h>
#include <stdlib.h>
#include <string.h>

int rdsbk_xml_parse(xmlDocPtr *out, const char *data, size_t len) {
    xmlDocPtr doc;

    *out = NULL;
    if (len > (size_t)0x7fffffff)
        return rdsbk_error_set(RDSBK_EINVALID, "XML reply too large");
    /* No network, no DTD loading, no entity substitution: replies are data, never instructions. */
    doc = xmlReadMemory(data, (int)len, "reply.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        return rdsbk_error_set(RDSBK_EINVALID, "malformed XML in an AWS reply");
    *out = doc;
    return 0;
}

/* The first element from `node` on (itself or a later sibling) named `name` (any when NULL). */
static xmlNodePtr s_element_from(const xmlNode *node, const char *name) {
    for (; node; node = node->next)
        if (node->type == XML_ELEMENT_NODE &&
            (!name || strcmp((const char *)node->name, name) == 0))
            return (xmlNodePtr)node;
    return NULL;
}

xmlNodePtr rdsbk_xml_child(const xmlNode *parent, const char *name) {
    return parent ? s_element_from(parent->children, name) : NULL;
}

xmlNodePtr rdsbk_xml_next(const xmlNode *node, const char *name) {
    return node ? s_element_from(node->next, name) : NULL;
}

xmlNodePtr rdsbk_xml_path(const xmlNode *from, const char *path) {
    const xmlNode *node = from;
    char name[256];

    while (node && *path) {
        size_t n = strcspn(path, "/");
        if (n >= sizeof(name))
            return NULL;
        memcpy(name, path, n);
        name[n] = '\0';
        node = rdsbk_xml_child(node, name);
        path += n;
        if (*path == '/')
            path++;
    }
    return (xmlNodePtr)node;
}

const char *rdsbk_xml_text(const xmlNode *node) {
    if (!node)
        return NULL;
    for (xmlNodePtr c = node->children; c; c = c->next)
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
            /* Whitespace between child elements is not the element's text. */
            if (c->next && c->next->type == XML_ELEMENT_NODE &&
                strspn((const char *)c->content, " \t\r\n") == strlen((const char *)c->content))
                continue;
            return (const char *)c->content;
        }
    return "";
}

const char *rdsbk_xml_path_text(const xmlNode *from, const char *path) {
    return rdsbk_xml_text(rdsbk_xml_path(from, path));
}

int rdsbk_xml_path_dup(char **out, const xmlNode *from, const char *path) {
    return rdsbk_strdup_into(out, rdsbk_xml_path_text(from, path));
}

bool rdsbk_xml_path_bool(const xmlNode *from, const char *path, bool dflt) {
    const char *text = rdsbk_xml_path_text(from, path);

    if (text && strcmp(text, "true") == 0)
        return true;
    if (text && strcmp(text, "false") == 0)
        return false;
    return dflt;
}

long long rdsbk_xml_path_int(const xmlNode *from, const char *path, long long dflt) {
    const char *text = rdsbk_xml_path_text(from, path);
    char *end = NULL;
    long long v;

    if (!text || !*text)
        return dflt;
    v = strtoll(text, &end, 10);
    return end && *end == '\0' ? v : dflt;
}

time_t rdsbk_xml_path_time(const xmlNode *from, const char *path) {
    double t = 0;

    if (rdsbk_protocol_parse_time(&t, rdsbk_xml_path_text(from, path)) < 0)
        return 0;
    return (time_t)t;
}

/* One field of `out` from its element below `node`. */
static int s_read_field(void *out, const xmlNode *node, const struct rdsbk_field *f) {
    char *at = (char *)out + f->offset;
    const char *text = rdsbk_xml_path_text(node, f->name);

    switch (f->kind) {
    case RDSBK_FIELD_STR:
        return rdsbk_strdup_into((char **)at, text);
    case RDSBK_FIELD_TEXT:
        return rdsbk_strdup_into((char **)at, text ? text : "");
    case RDSBK_FIELD_DOC:
        return text ? rdsbk_protocol_uri_decode((char **)at, text, false) : 0;
    case RDSBK_FIELD_INT:
        *(int *)at = (int)rdsbk_xml_path_int(node, f->name, 0);
        return 0;
    case RDSBK_FIELD_BOOL:
        *(bool *)at = rdsbk_xml_path_bool(node, f->name, false);
        return 0;
    case RDSBK_FIELD_TIME:
        *(time_t *)at = rdsbk_xml_path_time(node, f->name);
        return 0;
    case RDSBK_FIELD_TAGS:
        return rdsbk_xml_path_tags((struct rdsbk_tag **)at, (size_t *)((char *)out + f->n_offset),
                                   node, f->name, f->member);
    default:
        assert(!"not a field a reply can carry");
        return RDSBK_ERROR;
    }
}

int rdsbk_xml_read(void *out, const xmlNode *node, const struct rdsbk_shape *shape) {
    int rc = 0;

    for (; shape && rc == 0; shape = shape->more)
        for (const struct rdsbk_field *f = shape->fields; f->name && rc == 0; f++)
            rc = s_read_field(out, node, f);
    return rc;
}

int rdsbk_xml_read_list(struct rdsbk_items *items, const xmlNode *from, const char *path,
                        const char *member, const struct rdsbk_shape *shape) {
    xmlNodePtr list = rdsbk_xml_path(from, path);
    int rc = rdsbk_items_alloc(items, shape->size);

    member = member ? member : "member";
    for (xmlNodePtr m = rdsbk_xml_child(list, member); m && rc == 0;
         m = rdsbk_xml_next(m, member)) {
        void *item;
        rc = rdsbk_items_push(&item, items, shape->size);
        if (rc == 0)
            rc = rdsbk_xml_read(item, m, shape);
    }
    return rc;
}

void rdsbk_strings_free(char **strings, size_t n) {
    if (!strings)
        return;
    for (size_t i = 0; i < n; i++)
        free(strings[i]);
    free(strings);
}

static const struct rdsbk_field s_string_fields[] = {RDSBK_FIELD(STR, "", 0), RDSBK_FIELD_END};
const struct rdsbk_shape rdsbk_string_shape = {s_string_fields, sizeof(char *), NULL};

int rdsbk_xml_path_strings(char ***out, size_t *n_out, const xmlNode *from, const char *path,
                           const char *member) {
    struct rdsbk_items items = {0};
    int rc = rdsbk_xml_read_list(&items, from, path, member, &rdsbk_string_shape);

    if (rc)
        rdsbk_items_free(&items, &rdsbk_string_shape);
    *out = items.data;
    *n_out = items.n;
    return rc;
}

void rdsbk_aws_tags_free(struct rdsbk_tag *tags, size_t n) {
    for (size_t i = 0; tags && i < n; i++) {
        free(tags[i].key);
        free(tags[i].value);
    }
    free(tags);
}

static const struct rdsbk_field s_tag_fields[] = {
    RDSBK_FIELD(TEXT, "Key", offsetof(struct rdsbk_tag, key)),
    RDSBK_FIELD(TEXT, "Value", offsetof(struct rdsbk_tag, value)),
    RDSBK_FIELD_END,
};
const struct rdsbk_shape rdsbk_tag_shape = {s_tag_fields, sizeof(struct rdsbk_tag), NULL};

int rdsbk_xml_path_tags(struct rdsbk_tag **out, size_t *n_out, const xmlNode *from,
                        const char *path, const char *member) {
    struct rdsbk_items items = {0};
    int rc = rdsbk_xml_read_list(&items, from, path, member, &rdsbk_tag_shape);

    if (rc)
        rdsbk_items_free(&items, &rdsbk_tag_shape);
    *out = items.data;
    *n_out = items.n;
    return rc;
}

int rdsbk_xml_path_map(cJSON **out, const xmlNode *from, const char *path, const char *entry,
                       const char *key, const char *value) {
    xmlNodePtr map = rdsbk_xml_path(from, path);
    cJSON *obj = cJSON_CreateObject();
    int rc = 0;

    *out = NULL;
    RDSBK_CHECK_ALLOC(obj);
    entry = entry ? entry : "entry";
    key = key ? key : "key";
    value = value ? value : "value";
    for (xmlNodePtr e = rdsbk_xml_child(map, entry); e; e = rdsbk_xml_next(e, entry)) {
        const char *k = rdsbk_xml_path_text(e, key);

        if (!k)
            continue; /* an entry without a key names nothing */
        cJSON_DeleteItemFromObjectCaseSensitive(obj, k);
        RDSBK_TRY(rdsbk_json_add_str(obj, k, rdsbk_xml_path_text(e, value)));
    }
    *out = obj;
    obj = NULL;

cleanup:
    cJSON_Delete(obj);
    return rc;
}

void rdsbk_xml_wipe(xmlNodePtr node) {
    for (xmlNodePtr c = node ? node->children : NULL; c; c = c->next) {
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content &&
            !(c->doc && c->doc->dict && xmlDictOwns(c->doc->dict, c->content))) {
            volatile xmlChar *p = c->content;
            while (*p)
                *p++ = 0;
        }
        rdsbk_xml_wipe(c);
    }
}
