/* The resource graph: lookup, dependency order, reference resolution, names. */
#include "rdsbk/buf.h"
#include "rdsbk/error.h"
#include "rdsbk/str.h"
#include "rdsbk/json_util.h"
#include "rdsbk/model.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_type_names[RDSBK_RT_COUNT] = {
    [RDSBK_RT_IAM_ROLE] = "iam_role",
    [RDSBK_RT_IAM_ROLE_POLICY] = "iam_role_policy",
    [RDSBK_RT_KMS_KEY] = "kms_key",
    [RDSBK_RT_KMS_ALIAS] = "kms_alias",
    [RDSBK_RT_EVENTS_RULE] = "events_rule",
    [RDSBK_RT_EVENTS_TARGET] = "events_target",
    [RDSBK_RT_EVENTS_PERMISSION] = "events_permission",
    [RDSBK_RT_LAMBDA_FUNCTION] = "lambda_function",
    [RDSBK_RT_LAMBDA_PERMISSION] = "lambda_permission",
    [RDSBK_RT_LOGS_LOG_GROUP] = "logs_log_group",
};

const char *rdsbk_resource_type_name(enum rdsbk_resource_type type) {
    return (unsigned)type < RDSBK_RT_COUNT ? s_type_names[type] : NULL;
}

int rdsbk_resource_type_from_name(const char *name) {
    for (int i = 0; i < RDSBK_RT_COUNT; i++)
        if (strcmp(s_type_names[i], name) == 0)
            return i;
    return -1;
}

void rdsbk_graph_free(struct rdsbk_graph *g) {
    if (!g)
        return;
    for (size_t i = 0; i < g->n_resources; i++) {
        struct rdsbk_resource *r = &g->resources[i];
        free(r->address);
        free(r->region);
        free(r->name);
        cJSON_Delete(r->desired);
        for (size_t j = 0; j < r->n_deps; j++)
            free(r->deps[j]);
        free(r->deps);
    }
    free(g->resources);
    free(g->stack);
    free(g->partition);
    free(g);
}

const struct rdsbk_resource *rdsbk_graph_find(const struct rdsbk_graph *g, const char *address) {
    return rdsbk_sorted_find(g->resources, g->n_resources, sizeof(*g->resources),
                             offsetof(struct rdsbk_resource, address), address);
}

/*
 * Kahn's algorithm; among resources that are ready, the lowest index (address order) goes first,
 * so the order is the same on every run.
 */
int rdsbk_graph_topo_order(size_t **order_out, const struct rdsbk_graph *g) {
    size_t n = g->n_resources;
    size_t *order = NULL;   /* filled in, then read as the queue of what is ready (Kahn) */
    size_t *pending = NULL; /* per resource: dependencies not yet ordered */
    size_t *first = NULL;   /* CSR: the resources depending on i are dependents[first[i]..] */
    size_t *dependents = NULL;
    size_t *fill = NULL;
    size_t total = 0;
    size_t head = 0;
    size_t tail = 0;
    int result = RDSBK_ERROR;

    *order_out = NULL;
    for (size_t i = 0; i < n; i++)
        total += g->resources[i].n_deps;
    order = calloc(n ? n : 1, sizeof(*order));
    pending = calloc(n ? n : 1, sizeof(*pending));
    first = calloc(n + 1, sizeof(*first));
    dependents = calloc(total ? total : 1, sizeof(*dependents));
    fill = calloc(n ? n : 1, sizeof(*fill));
    if (!order || !pending || !first || !dependents || !fill) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    /* each dependency by index, once: a lookup per edge, not a scan of the graph per resource */
    for (size_t i = 0; i < n; i++) {
        const struct rdsbk_resource *r = &g->resources[i];
        for (size_t d = 0; d < r->n_deps; d++) {
            const struct rdsbk_resource *dep = rdsbk_graph_find(g, r->deps[d]);
            if (!dep) {
                result = rdsbk_error_set(RDSBK_EINVALID,
                                         "%s depends on %s, which is not in "
                                         "the graph",
                                         r->address, r->deps[d]);
                goto cleanup;
            }
            first[(size_t)(dep - g->resources) + 1]++;
        }
        pending[i] = r->n_deps;
    }
    for (size_t i = 0; i < n; i++)
        first[i + 1] += first[i];
    for (size_t i = 0; i < n; i++) {
        const struct rdsbk_resource *r = &g->resources[i];
        for (size_t d = 0; d < r->n_deps; d++) {
            size_t k = (size_t)(rdsbk_graph_find(g, r->deps[d]) - g->resources);
            dependents[first[k] + fill[k]++] = i;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (pending[i] == 0)
            order[tail++] = i;
    while (head < tail) {
        size_t next = order[head++];
        for (size_t k = first[next]; k < first[next + 1]; k++)
            if (--pending[dependents[k]] == 0)
                order[tail++] = dependents[k];
    }
    if (tail < n) {
        result = rdsbk_error_set(RDSBK_EINVALID, "the resource graph has a cycle");
        goto cleanup;
    }
    *order_out = order;
    order = NULL;
    result = 0;

cleanup:
    free(order);
    free(pending);
    free(first);
    free(dependents);
    free(fill);
    return result;
}

/* Resolves the references of one string; returns a new cJSON string or NULL on ENOMEM. */
static cJSON *s_resolve_string(const char *s, rdsbk_model_lookup_fn lookup, void *payload,
                               int *unknown) {
    struct rdsbk_buf out = RDSBK_BUF_INIT;
    cJSON *result = NULL;

    while (*s) {
        const char *open = strstr(s, "${");
        const char *close = open ? strchr(open, '}') : NULL;
        const char *hash = close ? memchr(open, '#', (size_t)(close - open)) : NULL;
        char address[512];
        char attr[64];
        const char *value;

        if (!open || !close || !hash || (size_t)(hash - open - 2) >= sizeof(address) ||
            (size_t)(close - hash - 1) >= sizeof(attr)) {
            if (rdsbk_buf_adds(&out, s))
                goto cleanup;
            break;
        }
        if (rdsbk_buf_add(&out, s, (size_t)(open - s)))
            goto cleanup;
        memcpy(address, open + 2, (size_t)(hash - open - 2));
        address[hash - open - 2] = '\0';
        memcpy(attr, hash + 1, (size_t)(close - hash - 1));
        attr[close - hash - 1] = '\0';
        value = lookup ? lookup(address, attr, payload) : NULL;
        if (value) {
            if (rdsbk_buf_adds(&out, value))
                goto cleanup;
        } else {
            (*unknown)++;
            if (rdsbk_buf_add(&out, open, (size_t)(close - open) + 1))
                goto cleanup;
        }
        s = close + 1;
    }
    result = cJSON_CreateString(rdsbk_buf_cstr(&out));

cleanup:
    rdsbk_buf_clean_up(&out);
    return result;
}

static int s_resolve_in(cJSON *node, rdsbk_model_lookup_fn lookup, void *payload, int *unknown) {
    for (cJSON *child = node->child; child;) {
        cJSON *next = child->next;
        if (cJSON_IsString(child) && strstr(child->valuestring, "${")) {
            cJSON *str = s_resolve_string(child->valuestring, lookup, payload, unknown);
            if (rdsbk_json_replace(node, child, str))
                return -1;
        } else if ((cJSON_IsObject(child) || cJSON_IsArray(child)) &&
                   s_resolve_in(child, lookup, payload, unknown)) {
            return -1;
        }
        child = next;
    }
    return 0;
}

cJSON *rdsbk_model_resolve(const cJSON *value, rdsbk_model_lookup_fn lookup, void *payload,
                           int *unknown_out) {
    cJSON *copy = cJSON_Duplicate(value, 1);
    int unknown = 0;

    if (!copy)
        return NULL;
    if (cJSON_IsString(copy)) {
        cJSON *str = s_resolve_string(copy->valuestring, lookup, payload, &unknown);
        cJSON_Delete(copy);
        copy = str;
    } else if (s_resolve_in(copy, lookup, payload, &unknown)) {
        cJSON_Delete(copy);
        copy = NULL;
    }
    if (unknown_out)
        *unknown_out = unknown;
    return copy;
}

char *rdsbk_model_name(const char *stack, const char *purpose, size_t max) {
    struct rdsbk_buf name = RDSBK_BUF_INIT;
    unsigned char digest[SHA256_DIGEST_LENGTH];

    if (rdsbk_buf_printf(&name, "rdsbk-%s-%s", stack, purpose))
        return NULL;
    if (name.len > max && max > 9) {
        /* Too long: keep a prefix and add 8 hex digits of the full name's SHA-256, so the result
         * is stable across runs and distinct names stay distinct. */
        SHA256((const unsigned char *)name.ptr, name.len, digest);
        name.len = max - 9;
        if (rdsbk_buf_printf(&name, "-%02x%02x%02x%02x", digest[0], digest[1], digest[2],
                             digest[3])) {
            rdsbk_buf_clean_up(&name);
            return NULL;
        }
    }
    return rdsbk_buf_detach(&name);
}
