/*
 * The AWS shared files are INI (botocore reads them with configparser): "[section]" headers,
 * "key = value" (or "key: value") lines, comments starting with '#' or ';', option names
 * case-insensitive. Indented lines continue a nested block ("s3 =\n  max_... = 10"), which no
 * credential setting uses: they are skipped.
 */
#include "credentials_private.h"

#include "rdsbk/error.h"
#include "rdsbk/str.h"

#include <openssl/crypto.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *s_trim(char *s) {
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* The index of section `name`, or ini->n_sections when there is none. */
static size_t s_section_index(const struct rdsbk_ini *ini, const char *name) {
    size_t i = 0;

    while (i < ini->n_sections && strcmp(ini->sections[i].name, name) != 0)
        i++;
    return i;
}

/* The index of `key` in `section`, or section->n_entries when it is not there. */
static size_t s_entry_index(const struct rdsbk_ini_section *section, const char *key) {
    size_t i = 0;

    while (i < section->n_entries && strcmp(section->entries[i].key, key) != 0)
        i++;
    return i;
}

/* *out = the section `name`, added when new. */
static int s_section(struct rdsbk_ini_section **out, struct rdsbk_ini *ini, const char *name) {
    size_t i = s_section_index(ini, name);
    struct rdsbk_ini_section *grown;

    if (i == ini->n_sections) {
        grown = realloc(ini->sections, (i + 1) * sizeof(*grown));
        if (!grown)
            return rdsbk_error_oom();
        ini->sections = grown;
        memset(&grown[i], 0, sizeof(*grown));
        grown[i].name = strdup(name);
        if (!grown[i].name)
            return rdsbk_error_oom();
        ini->n_sections++;
    }
    *out = &ini->sections[i];
    return 0;
}

/* Sets `key` of `sec` to a copy of `value`; a later line wins over an earlier one. */
static int s_set(struct rdsbk_ini_section *sec, const char *key, const char *value) {
    size_t i = s_entry_index(sec, key);
    struct rdsbk_ini_entry *grown;
    char *v = strdup(value);

    if (!v)
        return rdsbk_error_oom();
    if (i < sec->n_entries) {
        rdsbk_credentials_free_secret(sec->entries[i].value);
        sec->entries[i].value = v;
        return 0;
    }
    grown = realloc(sec->entries, (i + 1) * sizeof(*grown));
    if (grown) {
        sec->entries = grown;
        grown[i].key = strdup(key);
        grown[i].value = v;
    }
    if (!grown || !grown[i].key) {
        rdsbk_credentials_free_secret(v);
        return rdsbk_error_oom();
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

/* A "[name]" line: *current = the profile section it opens, or NULL when the lines up to the next
 * header are to be skipped (not a profile, or no closing bracket). */
static int s_header(struct rdsbk_ini_section **current, struct rdsbk_ini *ini, char *line,
                    bool is_config) {
    char *close = strchr(line, ']');
    const char *name;

    *current = NULL;
    if (!close)
        return 0;
    *close = '\0';
    name = s_profile_name(s_trim(line + 1), is_config);
    if (!name || !*name)
        return 0;
    return s_section(current, ini, name);
}

/* A "key = value" or "key: value" line of `sec`; anything else is ignored. */
static int s_option(struct rdsbk_ini_section *sec, char *line) {
    char *sep = strpbrk(line, "=:");

    if (!sep)
        return 0;
    *sep = '\0';
    for (char *k = line; *k; k++)
        *k = (char)tolower((unsigned char)*k);
    return s_set(sec, s_trim(line), s_trim(sep + 1));
}

int rdsbk_ini_parse(struct rdsbk_ini *out, const char *text, bool is_config) {
    struct rdsbk_ini_section *current = NULL; /* NULL: skipping (no profile section open) */
    char *copy = NULL;
    char *save = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    RDSBK_TRY(rdsbk_strdup_into(&copy, text));
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *s = s_trim(line);

        if (*s == '\0' || *s == '#' || *s == ';')
            continue;
        if (*s == '[')
            RDSBK_TRY(s_header(&current, out, s, is_config));
        else if (current && !isspace((unsigned char)line[0])) /* indented: a nested block's */
            RDSBK_TRY(s_option(current, s));
    }

cleanup:
    if (copy) {
        /* The files hold secret keys (strtok_r cut the copy into strings: wipe all of it). */
        OPENSSL_cleanse(copy, strlen(text));
        free(copy);
    }
    if (rc)
        rdsbk_ini_clean_up(out);
    return rc;
}

int rdsbk_ini_load(struct rdsbk_ini *out, const char *path, bool is_config) {
    struct rdsbk_buf text = RDSBK_BUF_INIT;
    FILE *f;
    int rc;

    memset(out, 0, sizeof(*out));
    f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return rdsbk_error_set(RDSBK_EIO, "%s: %s", path, strerror(errno));
    }
    RDSBK_TRY(rdsbk_credentials_read_all(&text, f));
    if (ferror(f)) {
        rc = rdsbk_error_set(RDSBK_EIO, "%s: read error", path);
        goto cleanup;
    }
    rc = rdsbk_ini_parse(out, rdsbk_buf_cstr(&text), is_config);

cleanup:
    fclose(f);
    rdsbk_buf_clean_up_secure(&text);
    return rc;
}

void rdsbk_ini_clean_up(struct rdsbk_ini *ini) {
    for (size_t i = 0; i < ini->n_sections; i++) {
        struct rdsbk_ini_section *sec = &ini->sections[i];
        for (size_t j = 0; j < sec->n_entries; j++) {
            free(sec->entries[j].key);
            rdsbk_credentials_free_secret(sec->entries[j].value);
        }
        free(sec->entries);
        free(sec->name);
    }
    free(ini->sections);
    memset(ini, 0, sizeof(*ini));
}

const struct rdsbk_ini_section *rdsbk_ini_section(const struct rdsbk_ini *ini, const char *name) {
    size_t i = s_section_index(ini, name);

    return i < ini->n_sections ? &ini->sections[i] : NULL;
}

const char *rdsbk_ini_get(const struct rdsbk_ini_section *section, const char *key) {
    size_t i = section ? s_entry_index(section, key) : 0;

    return section && i < section->n_entries ? section->entries[i].value : NULL;
}
