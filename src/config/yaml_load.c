/*
 * Loading a topology's YAML within limits (see yaml_walk.h): a few hundred KB of hostile YAML must
 * not cost minutes or gigabytes.
 *
 *   1. Before libyaml builds the document, its events are read once: more than
 *      RDSBK_MAX_YAML_DEPTH levels of nesting or RDSBK_MAX_YAML_NODES nodes stop there. libyaml's
 *      scanner spends time proportional to the depth on every token (its list of possible simple
 *      keys), so a flow list nested 200,000 deep took minutes in yaml_parser_load.
 *   2. The loaded document is a graph: an alias is a second reference to the node it names. Its
 *      size with every alias expanded (what the topology walk would visit) is counted once per
 *      node, and a document past RDSBK_MAX_YAML_NODES, or one where a node holds itself, is
 *      refused: ten levels of ten aliases name 10^10 nodes in 300 bytes.
 */
#include "yaml_walk.h"

#include "rdsbk/error.h"

#include <stdlib.h>

static struct rdsbk_pos s_pos(yaml_mark_t mark) {
    struct rdsbk_pos pos = {(int)mark.line + 1, (int)mark.column + 1};
    return pos;
}

/* Step 1: the depth and the number of nodes (an alias counts one here). A syntax error is left to
 * the loader, which reports it. */
static int s_prescan(struct rdsbk_yaml_walk *w, const char *text, size_t len) {
    yaml_parser_t parser;
    yaml_event_t ev;
    size_t nodes = 0;
    int depth = 0;
    int rc = 0;
    bool done = false;

    if (!yaml_parser_initialize(&parser))
        return rdsbk_error_oom();
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    while (!rc && !done && yaml_parser_parse(&parser, &ev)) {
        depth += ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT;
        depth -= ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT;
        nodes += ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT ||
                 ev.type == YAML_SCALAR_EVENT || ev.type == YAML_ALIAS_EVENT;
        /* yaml_parser_load reads the first document only */
        done = ev.type == YAML_DOCUMENT_END_EVENT || ev.type == YAML_STREAM_END_EVENT;
        if (depth > RDSBK_MAX_YAML_DEPTH)
            rdsbk_yaml_error_at(w, s_pos(ev.start_mark),
                                "the YAML nests deeper than %d levels (a topology needs 5)",
                                RDSBK_MAX_YAML_DEPTH);
        else if (nodes > RDSBK_MAX_YAML_NODES)
            rdsbk_yaml_error_at(w, s_pos(ev.start_mark),
                                "the YAML holds more than %d values (a topology needs a few "
                                "hundred)",
                                RDSBK_MAX_YAML_NODES);
        if (depth > RDSBK_MAX_YAML_DEPTH || nodes > RDSBK_MAX_YAML_NODES)
            rc = RDSBK_EINVALID;
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    return rc;
}

/* The `k`th child of `node` (items, or keys and values in turn), or 0 past the last. */
static int s_child(const yaml_node_t *node, size_t k) {
    if (node->type == YAML_SEQUENCE_NODE) {
        const yaml_node_item_t *items = node->data.sequence.items.start;
        return k < (size_t)(node->data.sequence.items.top - items) ? items[k] : 0;
    }
    if (node->type == YAML_MAPPING_NODE) {
        const yaml_node_pair_t *pairs = node->data.mapping.pairs.start;
        if (k / 2 >= (size_t)(node->data.mapping.pairs.top - pairs))
            return 0;
        return k % 2 ? pairs[k / 2].value : pairs[k / 2].key;
    }
    return 0;
}

/* What step 2 keeps for each node (indexed by libyaml's 1-based node index). */
struct s_count {
    yaml_document_t *doc;
    size_t *size;         /* nodes with aliases expanded, capped at RDSBK_MAX_YAML_NODES + 1 */
    unsigned char *state; /* 0 not reached, 1 on the walk's stack, 2 counted */
    struct s_frame {
        int node;
        size_t next; /* its next child */
    } * stack;
};

/* Adds a counted child's size to `parent`; false once the parent is past the limit. */
static bool s_add(struct s_count *c, int parent, int child) {
    c->size[parent] += c->size[child];
    if (c->size[parent] <= RDSBK_MAX_YAML_NODES)
        return true;
    c->size[parent] = RDSBK_MAX_YAML_NODES + 1;
    return false;
}

/* Step 2, depth first without recursion (an alias chain can be as long as the file). */
static int s_count_expanded(struct rdsbk_yaml_walk *w, struct s_count *c) {
    size_t sp = 1;

    c->stack[0] = (struct s_frame){1, 0};
    c->state[1] = 1;
    c->size[1] = 1;
    while (sp) {
        struct s_frame *f = &c->stack[sp - 1];
        yaml_node_t *node = yaml_document_get_node(c->doc, f->node);
        int child = s_child(node, f->next++);

        if (!child) {
            c->state[f->node] = 2;
            if (--sp && !s_add(c, c->stack[sp - 1].node, f->node))
                break;
        } else if (c->state[child] == 1) {
            rdsbk_yaml_error(w, node, "this value holds itself through an alias");
            return RDSBK_EINVALID;
        } else if (c->state[child] == 2) {
            if (!s_add(c, f->node, child))
                break;
        } else {
            c->state[child] = 1;
            c->size[child] = 1;
            c->stack[sp++] = (struct s_frame){child, 0};
        }
    }
    if (!sp)
        return 0;
    rdsbk_yaml_error(w, yaml_document_get_node(c->doc, c->stack[sp - 1].node),
                     "with its aliases expanded, this value holds more than %d values (each use "
                     "of an alias counts what it names)",
                     RDSBK_MAX_YAML_NODES);
    return RDSBK_EINVALID;
}

static int s_check_expanded(struct rdsbk_yaml_walk *w, yaml_document_t *doc) {
    size_t n = (size_t)(doc->nodes.top - doc->nodes.start);
    struct s_count c = {doc, calloc(n + 1, sizeof(*c.size)), calloc(n + 1, 1),
                        malloc((n + 1) * sizeof(*c.stack))};
    int rc;

    if (n == 0)
        rc = 0;
    else if (!c.size || !c.state || !c.stack)
        rc = rdsbk_error_oom();
    else
        rc = s_count_expanded(w, &c);
    free(c.size);
    free(c.state);
    free(c.stack);
    return rc;
}

int rdsbk_yaml_load(yaml_document_t *doc, struct rdsbk_yaml_walk *w, const char *text, size_t len) {
    yaml_parser_t parser;
    int rc = s_prescan(w, text, len);

    if (rc)
        return rc;
    if (!yaml_parser_initialize(&parser))
        return rdsbk_error_oom();
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, doc)) {
        if (parser.error == YAML_MEMORY_ERROR) {
            rc = rdsbk_error_oom();
        } else {
            rdsbk_yaml_error_at(w, s_pos(parser.problem_mark), "invalid YAML: %s%s%s",
                                parser.problem ? parser.problem : "syntax error",
                                parser.context ? " " : "", parser.context ? parser.context : "");
            rc = RDSBK_EINVALID;
        }
        yaml_parser_delete(&parser);
        return rc;
    }
    yaml_parser_delete(&parser);
    rc = s_check_expanded(w, doc);
    if (rc)
        yaml_document_delete(doc);
    return rc;
}
