/*
 * The table machinery the three protocols share (rdsbk/protocol.h): freeing what a shape was read
 * into, and the growing arrays that listings read their items into. Building requests from a
 * table is each protocol's own (query.c, json_protocol.c); reading replies is xml.c's.
 */
#include "rdsbk/error.h"
#include "rdsbk/protocol.h"

#include <stdlib.h>
#include <string.h>

/* Frees what the fields of one table hold. */
static void s_free_fields(void *obj, const struct rdsbk_field *fields) {
    for (const struct rdsbk_field *f = fields; f->name; f++) {
        char *at = (char *)obj + f->offset;

        if (f->kind == RDSBK_FIELD_TAGS)
            rdsbk_aws_tags_free(*(struct rdsbk_tag **)at, *(size_t *)((char *)obj + f->n_offset));
        else if (f->kind == RDSBK_FIELD_STR || f->kind == RDSBK_FIELD_TEXT ||
                 f->kind == RDSBK_FIELD_DOC)
            free(*(char **)at);
    }
}

void rdsbk_shape_clean_up(void *obj, const struct rdsbk_shape *shape) {
    if (!obj)
        return;
    for (const struct rdsbk_shape *s = shape; s; s = s->more)
        s_free_fields(obj, s->fields);
    memset(obj, 0, shape->size);
}

void rdsbk_shape_free_array(void *array, size_t n, const struct rdsbk_shape *shape) {
    for (size_t i = 0; array && i < n; i++)
        rdsbk_shape_clean_up((char *)array + i * shape->size, shape);
    free(array);
}

/* Grows the array to hold `want` items, the new room zeroed. */
static int s_reserve(struct rdsbk_items *items, size_t want, size_t size) {
    size_t cap = items->cap ? items->cap : 8;
    void *grown;

    if (want <= items->cap)
        return 0;
    while (cap < want)
        cap *= 2;
    grown = realloc(items->data, cap * size);
    if (!grown)
        return rdsbk_error_oom();
    memset((char *)grown + items->cap * size, 0, (cap - items->cap) * size);
    items->data = grown;
    items->cap = cap;
    return 0;
}

int rdsbk_items_alloc(struct rdsbk_items *items, size_t size) {
    return s_reserve(items, items->n + 1, size);
}

int rdsbk_items_push(void **item_out, struct rdsbk_items *items, size_t size) {
    /* one more for the item, one for the zeroed slot after it */
    int rc = s_reserve(items, items->n + 2, size);

    *item_out = NULL;
    if (rc)
        return rc;
    *item_out = (char *)items->data + items->n * size;
    items->n++;
    return 0;
}

void rdsbk_items_free(struct rdsbk_items *items, const struct rdsbk_shape *shape) {
    rdsbk_shape_free_array(items->data, items->n, shape);
    memset(items, 0, sizeof(*items));
}
