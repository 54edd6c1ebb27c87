#ifndef RDSBK_TEMPLATES_H
#define RDSBK_TEMPLATES_H

#include <stddef.h>

/* A file of templates/ compiled into the binary (see cmake/embed.cmake). */
struct rdsbk_template {
    const char *path; /* relative to templates/, e.g. "lambda/copy.py" */
    const unsigned char *data;
    size_t size;
};

/* Sorted by path, terminated by an all-zero entry. */
extern const struct rdsbk_template rdsbk_templates[];
extern const size_t rdsbk_templates_count;

/* The template at `path`, or NULL. Borrowed from static storage. */
const struct rdsbk_template *rdsbk_template_find(const char *path);

#endif
