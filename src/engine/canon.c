#include "canon.h"

#include <stdlib.h>
#include <string.h>

static cJSON *s_canon(const cJSON *v, bool ordered);

/* Lists: canonicalise the elements, sort them by canonical text unless `ordered`, and unwrap a
 * single element. */
static cJSON *s_canon_array(const cJSON *v, bool ordered) {
    int n = cJSON_GetArraySize(v);
    cJSON **items = calloc(n ? (size_t)n : 1, sizeof(*items));
    char **texts = calloc(n ? (size_t)n : 1, sizeof(*texts));
    cJSON *out = NULL;
    int i = 0;
    const cJSON *it;

    if (!items || !texts)
        goto cleanup;
    cJSON_ArrayForEach(it, v) {
        items[i] = s_canon(it, false);
        if (!items[i])
            goto cleanup;
        i++;
    }
    if (n == 1 && !ordered) {
        out = items[0];
        items[0] = NULL;
        goto cleanup;
    }
    if (!ordered) {
        for (i = 0; i < n; i++) {
            texts[i] = cJSON_PrintUnformatted(items[i]);
            if (!texts[i])
                goto cleanup;
        }
        /* a selection sort keeps items and their texts together; these lists are short */
        for (int a = 0; a < n; a++) {
            int min = a;
            for (int b = a + 1; b < n; b++)
                if (strcmp(texts[b], texts[min]) < 0)
                    min = b;
            if (min != a) {
                char *tt = texts[a];
                cJSON *ti = items[a];
                texts[a] = texts[min];
                items[a] = items[min];
                texts[min] = tt;
                items[min] = ti;
            }
        }
    }
    out = cJSON_CreateArray();
    if (!out)
        goto cleanup;
    for (i = 0; i < n; i++) {
        cJSON_AddItemToArray(out, items[i]);
        items[i] = NULL;
    }

cleanup:
    for (i = 0; items && i < n; i++)
        cJSON_Delete(items[i]);
    for (i = 0; texts && i < n; i++)
        free(texts[i]);
    free(items);
    free(texts);
    return out;
}

static cJSON *s_canon_object(const cJSON *v) {
    int n = cJSON_GetArraySize(v);
    const cJSON **members = calloc(n ? (size_t)n : 1, sizeof(*members));
    cJSON *out = cJSON_CreateObject();
    const cJSON *it;
    int i = 0;

    if (!members || !out)
        goto fail;
    cJSON_ArrayForEach(it, v) members[i++] = it;
    /* keys in byte order, so equal objects print equally */
    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++)
            if (strcmp(members[b]->string, members[a]->string) < 0) {
                const cJSON *t = members[a];
                members[a] = members[b];
                members[b] = t;
            }
    for (i = 0; i < n; i++) {
        bool ordered = strcmp(members[i]->string, "numeric") == 0;
        cJSON *c = s_canon(members[i], ordered);
        if (!c || !cJSON_AddItemToObject(out, members[i]->string, c)) {
            cJSON_Delete(c);
            goto fail;
        }
    }
    free(members);
    return out;

fail:
    free(members);
    cJSON_Delete(out);
    return NULL;
}

static cJSON *s_canon(const cJSON *v, bool ordered) {
    if (cJSON_IsObject(v))
        return s_canon_object(v);
    if (cJSON_IsArray(v))
        return s_canon_array(v, ordered);
    if (cJSON_IsBool(v))
        return cJSON_CreateString(cJSON_IsTrue(v) ? "true" : "false");
    return cJSON_Duplicate(v, 0);
}

char *rdsbk_canon_text(const cJSON *value) {
    cJSON *c = s_canon(value, false);
    char *text = c ? cJSON_PrintUnformatted(c) : NULL;

    cJSON_Delete(c);
    return text;
}

bool rdsbk_canon_equal(const cJSON *a, const cJSON *b) {
    char *ta;
    char *tb;
    bool equal;

    if (!a || !b)
        return !a && !b;
    ta = rdsbk_canon_text(a);
    tb = rdsbk_canon_text(b);
    equal = ta && tb && strcmp(ta, tb) == 0;
    free(ta);
    free(tb);
    return equal;
}
