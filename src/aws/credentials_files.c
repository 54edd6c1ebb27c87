#include "rdsbk/buf.h"
#include "rdsbk/credentials.h"
#include "rdsbk/error.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The AWS shared files are INI (botocore reads them with configparser): "[section]" headers,
 * "key = value" (or "key: value") lines, comments starting with '#' or ';', option names
 * case-insensitive. Indented lines continue a nested block ("s3 =\n  max_... = 10"), which no
 * credential setting uses: they are skipped.
 */

static char *s_trim(char *s) {
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static struct rdsbk_ini_section *s_section(struct rdsbk_ini *ini, const char *name) {
    struct rdsbk_ini_section *grown;

    for (size_t i = 0; i < ini->n_sections; i++)
        if (strcmp(ini->sections[i].name, name) == 0)
            return &ini->sections[i];
    grown = realloc(ini->sections, (ini->n_sections + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    ini->sections = grown;
    memset(&grown[ini->n_sections], 0, sizeof(*grown));
    grown[ini->n_sections].name = strdup(name);
    if (!grown[ini->n_sections].name)
        return NULL;
    return &grown[ini->n_sections++];
}

static int s_set(struct rdsbk_ini_section *sec, const char *key, const char *value) {
    struct rdsbk_ini_entry *grown;
    char *v = strdup(value);

    if (!v)
        return RDSBK_ENOMEM;
    for (size_t i = 0; i < sec->n_entries; i++)
        if (strcmp(sec->entries[i].key, key) == 0) {
            free(sec->entries[i].value);
            sec->entries[i].value = v;
            return 0;
        }
    grown = realloc(sec->entries, (sec->n_entries + 1) * sizeof(*grown));
    if (!grown) {
        free(v);
        return RDSBK_ENOMEM;
    }
    sec->entries = grown;
    grown[sec->n_entries].key = strdup(key);
    grown[sec->n_entries].value = v;
    if (!grown[sec->n_entries].key) {
        free(v);
        return RDSBK_ENOMEM;
    }
    sec->n_entries++;
    return 0;
}

/* The profile a section header names, or NULL when the section is not a profile. */
static const char *s_profile_name(char *header, bool is_config) {
    if (!is_config)
        return header;
    if (strcmp(header, "default") == 0)
        return header;
    if (strncmp(header, "profile", 7) == 0 && isspace((unsigned char)header[7]))
        return s_trim(header + 8);
    return NULL;
}

int rdsbk_ini_parse(struct rdsbk_ini *out, const char *text, bool is_config) {
    struct rdsbk_ini_section *current = NULL;
    bool skipping = true; /* before the first section, or inside a non-profile one */
    char *copy = strdup(text);
    char *line;
    char *save = NULL;
    int result = RDSBK_ENOMEM;

    memset(out, 0, sizeof(*out));
    if (!copy)
        goto cleanup;
    for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *s = s_trim(line);
        char *sep;
        const char *name;

        if (*s == '\0' || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *close = strchr(s, ']');
            current = NULL;
            skipping = true;
            if (!close)
                continue;
            *close = '\0';
            name = s_profile_name(s_trim(s + 1), is_config);
            if (!name || !*name)
                continue;
            current = s_section(out, name);
            if (!current)
                goto cleanup;
            skipping = false;
            continue;
        }
        /* Indented: a nested block's line. */
        if (isspace((unsigned char)line[0]) || skipping)
            continue;
        sep = strpbrk(s, "=:");
        if (!sep)
            continue;
        *sep = '\0';
        for (char *k = s; *k; k++)
            *k = (char)tolower((unsigned char)*k);
        if (s_set(current, s_trim(s), s_trim(sep + 1)))
            goto cleanup;
    }
    result = 0;

cleanup:
    if (copy) {
        /* The files hold secret keys. */
        volatile char *p = copy;
        size_t n = strlen(text);
        for (size_t i = 0; i < n; i++)
            p[i] = 0;
        free(copy);
    }
    if (result) {
        rdsbk_ini_clean_up(out);
        rdsbk_error_set(result, "out of memory");
    }
    return result;
}

int rdsbk_ini_load(struct rdsbk_ini *out, const char *path, bool is_config) {
    struct rdsbk_buf text = RDSBK_BUF_INIT;
    char chunk[4096];
    FILE *f = NULL;
    size_t n;
    int result = 0;

    memset(out, 0, sizeof(*out));
    f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return rdsbk_error_set(RDSBK_EIO, "%s: %s", path, strerror(errno));
    }
    rdsbk_buf_init(&text, 1024 * 1024);
    result = rdsbk_buf_add(&text, "", 0);
    while (result == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        result = rdsbk_buf_add(&text, chunk, n);
    if (result == 0 && ferror(f))
        result = rdsbk_error_set(RDSBK_EIO, "%s: read error", path);
    if (result == 0)
        result = rdsbk_ini_parse(out, rdsbk_buf_cstr(&text), is_config);
    fclose(f);
    rdsbk_buf_clean_up_secure(&text);
    return result;
}

void rdsbk_ini_clean_up(struct rdsbk_ini *ini) {
    for (size_t i = 0; i < ini->n_sections; i++) {
        struct rdsbk_ini_section *sec = &ini->sections[i];
        for (size_t j = 0; j < sec->n_entries; j++) {
            free(sec->entries[j].key);
            if (sec->entries[j].value) {
                volatile char *p = sec->entries[j].value;
                while (*p)
                    *p++ = 0;
                free(sec->entries[j].value);
            }
        }
        free(sec->entries);
        free(sec->name);
    }
    free(ini->sections);
    memset(ini, 0, sizeof(*ini));
}

const struct rdsbk_ini_section *rdsbk_ini_section(const struct rdsbk_ini *ini, const char *name) {
    for (size_t i = 0; i < ini->n_sections; i++)
        if (strcmp(ini->sections[i].name, name) == 0)
            return &ini->sections[i];
    return NULL;
}

const char *rdsbk_ini_get(const struct rdsbk_ini_section *section, const char *key) {
    if (!section)
        return NULL;
    for (size_t i = 0; i < section->n_entries; i++)
        if (strcmp(section->entries[i].key, key) == 0)
            return section->entries[i].value;
    return NULL;
}
