/* Repeated strings among many: see unique.h. */
#include "unique.h"

#include "rdsbk/error.h"

#include <stdlib.h>
#include <string.h>

struct s_entry {
    const char *key;
    size_t index;
};

/* By key, then by index: the first of equal keys comes first. */
static int s_cmp(const void *a, const void *b) {
    const struct s_entry *x = a;
    const struct s_entry *y = b;
    int c = strcmp(x->key, y->key);

    if (c)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

int rdsbk_first_equal(size_t *first, const char *const *keys, size_t n) {
    struct s_entry *sorted = malloc((n ? n : 1) * sizeof(*sorted));
    size_t m = 0;

    if (!sorted)
        return rdsbk_error_oom();
    for (size_t i = 0; i < n; i++) {
        first[i] = i;
        if (keys[i])
            sorted[m++] = (struct s_entry){keys[i], i};
    }
    qsort(sorted, m, sizeof(*sorted), s_cmp);
    for (size_t i = 1; i < m; i++)
        if (strcmp(sorted[i].key, sorted[i - 1].key) == 0)
            first[sorted[i].index] = first[sorted[i - 1].index];
    free(sorted);
    return 0;
}
