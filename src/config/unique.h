#ifndef RDSBK_CONFIG_UNIQUE_H
#define RDSBK_CONFIG_UNIQUE_H

#include <stddef.h>

/*
 * Repeated strings among many, in O(n log n) by sorting: the topology's duplicate checks (the
 * keys of a mapping, the identifiers of a list, the sources) stay fast on a file of any size.
 *
 * Sets first[i] to the index of the first of `keys` equal to keys[i]: i itself for the first of
 * its kind, and for a NULL key (equal to nothing). `first` has room for `n`. Returns 0, or
 * RDSBK_ENOMEM with the error set.
 */
int rdsbk_first_equal(size_t *first, const char *const *keys, size_t n);

#endif
