#include "rdsbk/templates.h"

#include <string.h>

const struct rdsbk_template *rdsbk_template_find(const char *path) {
    size_t lo = 0;
    size_t hi = rdsbk_templates_count;

    /* The table is sorted by path (cmake/embed.cmake sorts it). */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(path, rdsbk_templates[mid].path);
        if (cmp == 0)
            return &rdsbk_templates[mid];
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}
