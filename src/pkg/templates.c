/* The templates built into the binary (cmake/embed.cmake generates the table), found by path. */
#include "rdsbk/templates.h"

#include "rdsbk/str.h"

#include <stddef.h>

const struct rdsbk_template *rdsbk_template_find(const char *path) {
    /* The table is sorted by path (cmake/embed.cmake sorts it). */
    return rdsbk_sorted_find(rdsbk_templates, rdsbk_templates_count, sizeof(*rdsbk_templates),
                             offsetof(struct rdsbk_template, path), path);
}
