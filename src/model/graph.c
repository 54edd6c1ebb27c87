/* The resource graph: lookup, dependency order, reference resolution, names. */
#include "rdsbk/buf.h"
#include "rdsbk/error.h"
#include "rdsbk/str.h"
#include "rdsbk/json_util.h"
#include "rdsbk/drill.h"
#include "rdsbk/model.h"

#include <openssl/sha.h>
#include <ctype.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
    [RDSBK_RT_EVENTS_BUS] = "events_bus",
    [RDSBK_RT_SNS_TOPIC] = "sns_topic",
    [RDSBK_RT_SNS_SUBSCRIPTION] = "sns_subscription",
    [RDSBK_RT_SQS_QUEUE] = "sqs_queue",
    [RDSBK_RT_CFN_STACK_SET] = "cfn_stack_set",
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
        rdsbk_strs_free(r->deps, r->n_deps);
    }
    free(g->resources);
    free(g->stack);
    free(g->partition);
    free(g->region);
    free(g->snapshots);
    free(g);
}

const struct rdsbk_resource *rdsbk_graph_find(const struct rdsbk_graph *g, const char *address) {
    return rdsbk_sorted_find(g->resources, g->n_resources, sizeof(*g->resources),
                             offsetof(struct rdsbk_resource, address), address);
}

/*
 * The dependency edges by index, in CSR form: the resources depending on resource i are
 * dependents[first[i] .. first[i + 1]); pending[i] counts i's dependencies not yet ordered.
 */
struct s_edges {
    size_t *first;
    size_t *dependents;
    size_t *pending;
};

static void s_edges_clean_up(struct s_edges *e) {
    free(e->first);
    free(e->dependents);
    free(e->pending);
}

/* The edges of `g`; RDSBK_EINVALID for a dependency on an address not in the graph. */
static int s_edges_init(struct s_edges *e, const struct rdsbk_graph *g) {
    size_t n = g->n_resources;
    size_t *fill = calloc(n ? n : 1, sizeof(*fill));
    int rc = 0;

    e->first = calloc(n + 1, sizeof(*e->first));
    e->pending = calloc(n ? n : 1, sizeof(*e->pending));
    e->dependents = NULL;
    RDSBK_CHECK_ALLOC(fill);
    RDSBK_CHECK_ALLOC(e->first);
    RDSBK_CHECK_ALLOC(e->pending);
    /* each dependency by index, once: a lookup per edge, not a scan of the graph per resource */
    for (size_t i = 0; i < n; i++) {
        const struct rdsbk_resource *r = &g->resources[i];
        for (size_t d = 0; d < r->n_deps; d++) {
            const struct rdsbk_resource *dep = rdsbk_graph_find(g, r->deps[d]);
            if (!dep) {
                rc = rdsbk_error_set(RDSBK_EINVALID, "%s depends on %s, which is not in the graph",
                                     r->address, r->deps[d]);
                goto cleanup;
            }
            e->first[(size_t)(dep - g->resources) + 1]++;
        }
        e->pending[i] = r->n_deps;
    }
    for (size_t i = 0; i < n; i++)
        e->first[i + 1] += e->first[i];
    e->dependents = calloc(e->first[n] ? e->first[n] : 1, sizeof(*e->dependents));
    RDSBK_CHECK_ALLOC(e->dependents);
    for (size_t i = 0; i < n; i++) {
        const struct rdsbk_resource *r = &g->resources[i];
        for (size_t d = 0; d < r->n_deps; d++) {
            size_t k = (size_t)(rdsbk_graph_find(g, r->deps[d]) - g->resources);
            e->dependents[e->first[k] + fill[k]++] = i;
        }
    }

cleanup:
    free(fill);
    return rc;
}

/*
 * Kahn's algorithm; among resources that are ready, the lowest index (address order) goes first,
 * so the order is the same on every run.
 */
int rdsbk_graph_topo_order(size_t **order_out, const struct rdsbk_graph *g) {
    size_t n = g->n_resources;
    size_t *order = calloc(n ? n : 1, sizeof(*order)); /* filled in, then read as the queue */
    struct s_edges e = {0};
    size_t head = 0;
    size_t tail = 0;
    int rc;

    *order_out = NULL;
    RDSBK_CHECK_ALLOC(order);
    RDSBK_TRY(s_edges_init(&e, g));
    for (size_t i = 0; i < n; i++)
        if (e.pending[i] == 0)
            order[tail++] = i;
    while (head < tail) {
        size_t next = order[head++];
        for (size_t k = e.first[next]; k < e.first[next + 1]; k++)
            if (--e.pending[e.dependents[k]] == 0)
                order[tail++] = e.dependents[k];
    }
    if (tail < n) {
        rc = rdsbk_error_set(RDSBK_EINVALID, "the resource graph has a cycle");
        goto cleanup;
    }
    *order_out = order;
    order = NULL;

cleanup:
    free(order);
    s_edges_clean_up(&e);
    return rc;
}

/* Appends `s` to `out` with its references resolved; those `lookup` does not know stay as they
 * are, counted in *unknown. */
static int s_resolve_into(struct rdsbk_buf *out, const char *s, rdsbk_model_lookup_fn lookup,
                          void *payload, int *unknown) {
    int rc = 0;

    while (*s && !rc) {
        const char *open = strstr(s, "${");
        const char *close = open ? strchr(open, '}') : NULL;
        const char *hash = close ? memchr(open, '#', (size_t)(close - open)) : NULL;
        char address[512];
        char attr[64];
        const char *value;

        if (!hash || (size_t)(hash - open - 2) >= sizeof(address) ||
            (size_t)(close - hash - 1) >= sizeof(attr))
            return rdsbk_buf_adds(out, s);
        rc = rdsbk_buf_add(out, s, (size_t)(open - s));
        if (rc)
            break;
        snprintf(address, sizeof(address), "%.*s", (int)(hash - open - 2), open + 2);
        snprintf(attr, sizeof(attr), "%.*s", (int)(close - hash - 1), hash + 1);
        value = lookup ? lookup(address, attr, payload) : NULL;
        if (value) {
            rc = rdsbk_buf_adds(out, value);
        } else {
            (*unknown)++;
            rc = rdsbk_buf_add(out, open, (size_t)(close - open) + 1);
        }
        s = close + 1;
    }
    return rc;
}

/* *out = a new cJSON string: `s` with its references resolved. */
static int s_resolve_string(cJSON **out, const char *s, rdsbk_model_lookup_fn lookup, void *payload,
                            int *unknown) {
    struct rdsbk_buf resolved = RDSBK_BUF_INIT;
    int rc = s_resolve_into(&resolved, s, lookup, payload, unknown);

    *out = rc ? NULL : cJSON_CreateString(rdsbk_buf_cstr(&resolved));
    if (!rc && !*out)
        rc = rdsbk_error_oom();
    rdsbk_buf_clean_up(&resolved);
    return rc;
}

static int s_resolve_in(cJSON *node, rdsbk_model_lookup_fn lookup, void *payload, int *unknown) {
    int rc = 0;

    for (cJSON *child = node->child; child && !rc;) {
        cJSON *next = child->next;
        cJSON *str;

        if (cJSON_IsString(child) && strstr(child->valuestring, "${")) {
            rc = s_resolve_string(&str, child->valuestring, lookup, payload, unknown);
            if (!rc)
                rc = rdsbk_json_replace(node, child, str);
        } else if (cJSON_IsObject(child) || cJSON_IsArray(child)) {
            rc = s_resolve_in(child, lookup, payload, unknown);
        }
        child = next;
    }
    return rc;
}

cJSON *rdsbk_model_resolve(const cJSON *value, rdsbk_model_lookup_fn lookup, void *payload,
                           int *unknown_out) {
    cJSON *copy = cJSON_Duplicate(value, 1);
    cJSON *str = NULL;
    int unknown = 0;
    int rc = copy ? 0 : rdsbk_error_oom();

    if (!rc && cJSON_IsString(copy)) {
        rc = s_resolve_string(&str, copy->valuestring, lookup, payload, &unknown);
        cJSON_Delete(copy);
        copy = str;
    } else if (!rc) {
        rc = s_resolve_in(copy, lookup, payload, &unknown);
    }
    if (rc) {
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
    int rc = rdsbk_buf_printf(&name, "rdsbk-%s-%s", stack, purpose);

    if (!rc && rdsbk_buf_len(&name) > max && max > 9) {
        /* Too long: keep a prefix and add 8 hex digits of the full name's SHA-256, so the result
         * is stable across runs and distinct names stay distinct. */
        SHA256((const unsigned char *)rdsbk_buf_cstr(&name), rdsbk_buf_len(&name), digest);
        rdsbk_buf_truncate(&name, max - 9);
        rc = rdsbk_buf_printf(&name, "-%02x%02x%02x%02x", digest[0], digest[1], digest[2],
                              digest[3]);
    }
    if (rc) {
        rdsbk_buf_clean_up(&name);
        return NULL;
    }
    return rdsbk_buf_detach(&name);
}

char *rdsbk_model_stack_set_name(const char *stack, const char *ou) {
    return rdsbk_model_name(stack, ou, 128);
}

/* A short code of `region`: its first part, the initials of its direction ("southeast": "se")
 * and its number; "eu-central-1": "euc1". */
static void s_region_code(char out[16], const char *region) {
    static const char *const words[][2] = {
        {"central", "c"},    {"north", "n"},      {"south", "s"},
        {"east", "e"},       {"west", "w"},       {"northeast", "ne"},
        {"northwest", "nw"}, {"southeast", "se"}, {"southwest", "sw"},
    };
    char copy[32];
    size_t at = 0;
    char *save = NULL;

    snprintf(copy, sizeof(copy), "%s", region);
    for (char *part = strtok_r(copy, "-", &save); part; part = strtok_r(NULL, "-", &save)) {
        const char *shown = part;
        for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
            if (strcmp(part, words[i][0]) == 0)
                shown = words[i][1];
        at += (size_t)snprintf(out + at, at < 16 ? 16 - at : 0, "%s", shown);
        if (at >= 15)
            break;
    }
    out[at < 15 ? at : 15] = '\0';
}

void rdsbk_copy_base(char out[RDSBK_COPY_BASE_MAX + 1], const char *db, const char *region) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    char lower[64];
    char code[17] = "";
    size_t n = 0;
    size_t room;
    size_t head;

    if (region) {
        code[0] = '-';
        s_region_code(code + 1, region);
    }
    room = RDSBK_COPY_BASE_MAX - strlen(code);
    for (; db[n] && n < sizeof(lower) - 1; n++)
        lower[n] = (char)tolower((unsigned char)db[n]);
    lower[n] = '\0';
    if (n <= room) {
        memcpy(out, lower, n);
        memcpy(out + n, code, strlen(code) + 1); /* n + the code's length <= the maximum */
        return;
    }
    SHA256((const unsigned char *)lower, n, digest);
    head = room - 7;
    while (head > 0 && lower[head - 1] == '-')
        head--;
    snprintf(out, RDSBK_COPY_BASE_MAX + 1, "%.*s-%02x%02x%02x%s", (int)head, lower, digest[0],
             digest[1], digest[2], code);
}

int rdsbk_copy_name(char *out, size_t size, const char *id, const char *region) {
    struct rdsbk_snapshot_name name;
    char base[RDSBK_COPY_BASE_MAX + 1];

    if (rdsbk_snapshot_name_parse(&name, id) != 0 || !name.automated || name.account[0])
        return RDSBK_EINVALID;
    rdsbk_copy_base(base, name.db, region);
    snprintf(out, size, "%s-%s", base, name.stamp);
    return 0;
}

/* Whether database patterns `p` and `q` can name the same database. */
static bool s_patterns_meet(const char *p, const char *q) {
    size_t lp = strlen(p);
    size_t lq = strlen(q);
    bool gp = lp && p[lp - 1] == '*';
    bool gq = lq && q[lq - 1] == '*';

    if (gp && gq)
        return strncasecmp(p, q, (lp < lq ? lp : lq) - 1) == 0;
    if (gp)
        return strncasecmp(p, q, lp - 1) == 0;
    if (gq)
        return strncasecmp(q, p, lq - 1) == 0;
    return strcasecmp(p, q) == 0;
}

/* Whether pattern `p` of source `s` meets a pattern of another Region-A of its account. */
static bool s_pattern_shared(const struct rdsbk_topology *t, const struct rdsbk_source *s,
                             bool cluster, const char *p) {
    for (size_t i = 0; i < t->n_sources; i++) {
        const struct rdsbk_source *o = &t->sources[i];
        char *const *list = cluster ? o->clusters : o->instances;
        size_t n = cluster ? o->n_clusters : o->n_instances;
        if (o == s || strcmp(o->account, s->account) != 0 || strcmp(o->region, s->region) == 0)
            continue;
        for (size_t k = 0; k < n; k++)
            if (s_patterns_meet(p, list[k]))
                return true;
    }
    return false;
}

bool rdsbk_model_region_named(const struct rdsbk_topology *t, const struct rdsbk_source *s,
                              bool cluster, const char *db) {
    char *const *list = cluster ? s->clusters : s->instances;
    size_t n = cluster ? s->n_clusters : s->n_instances;

    /* a pattern of s itself, or a database one of its patterns names */
    for (size_t k = 0; k < n; k++)
        if (s_patterns_meet(list[k], db) && s_pattern_shared(t, s, cluster, list[k]))
            return true;
    return false;
}
