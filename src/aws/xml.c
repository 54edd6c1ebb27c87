#include "rdsbk/error.h"
#include "rdsbk/protocol.h"

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

static bool s_is(const xmlNode *node, const char *name) {
    return node->type == XML_ELEMENT_NODE && (!name || strcmp((const char *)node->name, name) == 0);
}

xmlNodePtr rdsbk_xml_child(const xmlNode *parent, const char *name) {
    if (!parent)
        return NULL;
    for (xmlNodePtr c = parent->children; c; c = c->next)
        if (s_is(c, name))
            return c;
    return NULL;
}

xmlNodePtr rdsbk_xml_next(const xmlNode *node, const char *name) {
    if (!node)
        return NULL;
    for (xmlNodePtr c = node->next; c; c = c->next)
        if (s_is(c, name))
            return c;
    return NULL;
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
    const char *text = rdsbk_xml_path_text(from, path);

    *out = NULL;
    if (!text)
        return 0;
    *out = strdup(text);
    return *out ? 0 : rdsbk_error_oom();
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

void rdsbk_strings_free(char **strings, size_t n) {
    if (!strings)
        return;
    for (size_t i = 0; i < n; i++)
        free(strings[i]);
    free(strings);
}

int rdsbk_xml_path_strings(char ***out, size_t *n_out, const xmlNode *from, const char *path,
                           const char *member) {
    xmlNodePtr list = rdsbk_xml_path(from, path);
    char **items = NULL;
    size_t n = 0;
    size_t cap = 0;
    int result = RDSBK_ENOMEM;

    *out = NULL;
    *n_out = 0;
    items = calloc(1, sizeof(*items));
    if (!items)
        goto cleanup;
    cap = 1;
    member = member ? member : "member";
    for (xmlNodePtr m = rdsbk_xml_child(list, member); m; m = rdsbk_xml_next(m, member)) {
        if (n + 1 >= cap) {
            char **grown = realloc(items, cap * 2 * sizeof(*items));
            if (!grown)
                goto cleanup;
            items = grown;
            cap *= 2;
        }
        items[n] = strdup(rdsbk_xml_text(m));
        if (!items[n])
            goto cleanup;
        items[++n] = NULL;
    }
    *out = items;
    *n_out = n;
    items = NULL;
    result = 0;

cleanup:
    if (result)
        rdsbk_error_set(result, "out of memory");
    rdsbk_strings_free(items, n);
    return result;
}

void rdsbk_aws_tags_free(struct rdsbk_tag *tags, size_t n) {
    if (!tags)
        return;
    for (size_t i = 0; i < n; i++) {
        free(tags[i].key);
        free(tags[i].value);
    }
    free(tags);
}

int rdsbk_xml_path_tags(struct rdsbk_tag **out, size_t *n_out, const xmlNode *from,
                        const char *path, const char *member) {
    xmlNodePtr list = rdsbk_xml_path(from, path);
    struct rdsbk_tag *tags = NULL;
    size_t n = 0;
    size_t count = 0;
    int result = RDSBK_ENOMEM;

    *out = NULL;
    *n_out = 0;
    member = member ? member : "member";
    for (xmlNodePtr m = rdsbk_xml_child(list, member); m; m = rdsbk_xml_next(m, member))
        count++;
    tags = calloc(count + 1, sizeof(*tags));
    if (!tags)
        goto cleanup;
    for (xmlNodePtr m = rdsbk_xml_child(list, member); m; m = rdsbk_xml_next(m, member)) {
        const char *k = rdsbk_xml_path_text(m, "Key");
        const char *v = rdsbk_xml_path_text(m, "Value");
        tags[n].key = strdup(k ? k : "");
        tags[n].value = strdup(v ? v : "");
        n++;
        if (!tags[n - 1].key || !tags[n - 1].value)
            goto cleanup;
    }
    *out = tags;
    *n_out = n;
    tags = NULL;
    result = 0;

cleanup:
    if (result)
        rdsbk_error_set(result, "out of memory");
    rdsbk_aws_tags_free(tags, n);
    return result;
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
