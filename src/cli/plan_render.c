/*
 * The plan for people (text, in the manner of Terraform) and for machines (JSON), from the
 * engine's PLAN event:
 *
 *   # source[111111111111/eu-central-1].events_rule.forward will be created
 *   + events_rule "rdsbk-orders-dr-forward" (111111111111, eu-central-1)
 *       + description = "..."
 *       + event_pattern = {
 *             "source": [
 *                 "aws.rds",
 *             ...
 *   Plan: 27 to add, 0 to change, 0 to destroy.
 *
 * Documents are indented across lines and an update shows the change inside them (json_diff.h).
 */
#include "plan_render.h"

#include "json_diff.h"
#include "rdsbk/buf.h"
#include "rdsbk/resource.h"
#include "rdsbk/str.h"

#include <stdlib.h>
#include <string.h>

struct s_style {
    const char *green, *yellow, *red, *bold, *reset;
};

static struct s_style s_style(bool color) {
    struct s_style s = {"", "", "", "", ""};
    if (color) {
        s.green = "\033[32m";
        s.yellow = "\033[33m";
        s.red = "\033[31m";
        s.bold = "\033[1m";
        s.reset = "\033[0m";
    }
    return s;
}

static bool s_in(const cJSON *list, const char *name) {
    const cJSON *it;
    cJSON_ArrayForEach(it, list) if (strcmp(it->valuestring, name) == 0) return true;
    return false;
}

/* Where an attribute's line starts: its sign's column. */
#define S_ATTR_MARGIN 6

/* One attribute of a created resource: a scalar on its line, a document (policy, pattern,
 * environment, tags) indented across lines. */
static void s_print_created(FILE *out, const cJSON *attr, struct s_style st) {
    struct rdsbk_buf b = RDSBK_BUF_INIT;

    if (rdsbk_json_diff_value(&b, attr, S_ATTR_MARGIN) == 0)
        fprintf(out, "%*s%s+%s %s = %s", S_ATTR_MARGIN, "", st.green, st.reset, attr->string,
                rdsbk_buf_cstr(&b));
    rdsbk_buf_clean_up(&b);
}

/* One changed attribute: old -> new, or a document's change inside it. */
static void s_print_changed(FILE *out, const struct rdsbk_plan_change *c, const cJSON *attr,
                            struct s_style st) {
    const struct rdsbk_json_diff_style style = {st.green, st.red, st.yellow, st.reset};
    const cJSON *before = cJSON_GetObjectItemCaseSensitive(c->before, attr->string);
    struct rdsbk_buf b = RDSBK_BUF_INIT;

    if (rdsbk_json_diff_change(&b, before, attr, S_ATTR_MARGIN, &style) == 0)
        fprintf(out, "%*s%s~%s %s = %s%s", S_ATTR_MARGIN, "", st.yellow, st.reset, attr->string,
                rdsbk_buf_cstr(&b),
                strcmp(c->forces, attr->string) == 0 ? "        # forces replacement\n" : "");
    rdsbk_buf_clean_up(&b);
}

/* What AWS said of `c` that its type shows with a change (a StackSet's instances), as comments:
 * a list's items one a line, their string members in a row. */
static void s_print_shown(FILE *out, const struct rdsbk_plan_change *c) {
    const char *const *shown = rdsbk_resource_ops(c->type)->shown;

    for (size_t i = 0; shown && shown[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->before, shown[i]);
        const cJSON *item;

        if (!cJSON_IsArray(v))
            continue;
        fprintf(out, "%*s# %s: %d\n", S_ATTR_MARGIN, "", shown[i], cJSON_GetArraySize(v));
        cJSON_ArrayForEach(item, v) {
            const cJSON *m;
            fprintf(out, "%*s#  ", S_ATTR_MARGIN, "");
            cJSON_ArrayForEach(m, item) {
                char *text = cJSON_IsString(m) && *m->valuestring
                                 ? rdsbk_str_escape_terminal_dup(m->valuestring)
                                 : NULL;
                if (text)
                    fprintf(out, " %s", text);
                free(text);
            }
            fputc('\n', out);
        }
    }
}

static void s_print_attributes(FILE *out, const struct rdsbk_plan_change *c, struct s_style st) {
    const cJSON *attr;

    cJSON_ArrayForEach(attr, (c->action == RDSBK_ACTION_DELETE ? NULL : c->after)) {
        if (c->action == RDSBK_ACTION_CREATE)
            s_print_created(out, attr, st);
        else if (s_in(c->changed, attr->string))
            s_print_changed(out, c, attr, st);
    }
    s_print_shown(out, c);
}

/* How each action is drawn: its sign and its words. */
static const struct {
    const char *sign;
    const char *what;
} s_drawings[] = {
    [RDSBK_ACTION_CREATE] = {"+", "will be created"},
    [RDSBK_ACTION_UPDATE] = {"~", "will be updated in place"},
    [RDSBK_ACTION_REPLACE] = {"-/+", "must be replaced"},
    [RDSBK_ACTION_DELETE] = {"-", "will be destroyed"},
    [RDSBK_ACTION_ADOPT] = {"=", "exists and will be adopted into the state"},
    [RDSBK_ACTION_FORGET] = {"!", "no longer exists and will be removed from the state"},
};

static const char *s_color(struct s_style st, enum rdsbk_action action) {
    switch (action) {
    case RDSBK_ACTION_CREATE:
        return st.green;
    case RDSBK_ACTION_UPDATE:
        return st.yellow;
    case RDSBK_ACTION_REPLACE:
    case RDSBK_ACTION_DELETE:
        return st.red;
    default:
        return "";
    }
}

static void s_print_change(FILE *out, const struct rdsbk_plan_change *c, struct s_style st) {
    /* from the topology, the state or AWS: escaped like the values */
    char *address = rdsbk_str_escape_terminal_dup(c->address);
    char *name = rdsbk_str_escape_terminal_dup(c->name);
    char *account = rdsbk_str_escape_terminal_dup(c->account);
    char *region = rdsbk_str_escape_terminal_dup(c->region);

    fprintf(out, "  %s# %s%s %s\n", st.bold, address ? address : "?", st.reset,
            s_drawings[c->action].what);
    fprintf(out, "  %s%s%s %s \"%s\" (%s, %s)\n", s_color(st, c->action),
            s_drawings[c->action].sign, st.reset, rdsbk_resource_type_name(c->type),
            name ? name : "?", account ? account : "?", region ? region : "?");
    s_print_attributes(out, c, st);
    fputc('\n', out);
    free(address);
    free(name);
    free(account);
    free(region);
}

static void s_print_legend(FILE *out, const struct rdsbk_plan_counts *n, struct s_style st) {
    fprintf(out, "rdsbk-provision will perform the following actions:\n");
    fprintf(out, "Legend:");
    if (n->add)
        fprintf(out, " %s+%s create", st.green, st.reset);
    if (n->change)
        fprintf(out, " %s~%s update in place", st.yellow, st.reset);
    if (n->destroy)
        fprintf(out, " %s-%s destroy", st.red, st.reset);
    if (n->adopt)
        fprintf(out, " = adopt (exists, record in the state)");
    if (n->forget)
        fprintf(out, " ! forget (already gone)");
    fprintf(out, "\n\n");
}

/* ---- compact ------------------------------------------------------------------------------ */

/* The changes of one kind of thing (a type, an account): how many of each action. */
struct s_tally {
    const char *name;
    int n[RDSBK_ACTION_FORGET + 1];
};

/* The tally named `name` in `t` (*n of them, room for one more), added when new. */
static struct s_tally *s_tally_of(struct s_tally *t, size_t *n, const char *name) {
    for (size_t i = 0; i < *n; i++)
        if (strcmp(t[i].name, name) == 0)
            return &t[i];
    memset(&t[*n], 0, sizeof(t[*n]));
    t[*n].name = name;
    return &t[(*n)++];
}

static int s_tally_cmp(const void *a, const void *b) {
    return strcmp(((const struct s_tally *)a)->name, ((const struct s_tally *)b)->name);
}

/* A table of tallies: the heading, then one row per name (sorted), a column per action. */
static void s_print_tallies(FILE *out, const char *heading, struct s_tally *t, size_t n) {
    static const enum rdsbk_action cols[] = {RDSBK_ACTION_CREATE,  RDSBK_ACTION_UPDATE,
                                             RDSBK_ACTION_REPLACE, RDSBK_ACTION_DELETE,
                                             RDSBK_ACTION_ADOPT,   RDSBK_ACTION_FORGET};
    char name[64];

    qsort(t, n, sizeof(*t), s_tally_cmp);
    fprintf(out, "  %-24s", heading);
    for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
        fprintf(out, " %5s", s_drawings[cols[c]].sign);
    fputc('\n', out);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "  %-24s", rdsbk_str_escape_terminal(name, sizeof(name), t[i].name));
        for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
            fprintf(out, " %5d", t[i].n[cols[c]]);
        fputc('\n', out);
    }
    fputc('\n', out);
}

/* Counts per type and per account, then "  <sign> <address>" for each change. */
static void s_print_compact(FILE *out, const struct rdsbk_plan *plan, struct s_style st) {
    struct s_tally *types = calloc(plan->n_changes + 1, sizeof(*types));
    struct s_tally *accounts = calloc(plan->n_changes + 1, sizeof(*accounts));
    size_t n_types = 0, n_accounts = 0;

    for (size_t i = 0; types && accounts && i < plan->n_changes; i++) {
        const struct rdsbk_plan_change *c = &plan->changes[i];
        if (c->action == RDSBK_ACTION_NOOP)
            continue;
        s_tally_of(types, &n_types, rdsbk_resource_type_name(c->type))->n[c->action]++;
        s_tally_of(accounts, &n_accounts, c->account)->n[c->action]++;
    }
    if (types && accounts) {
        s_print_tallies(out, "TYPE", types, n_types);
        s_print_tallies(out, "ACCOUNT", accounts, n_accounts);
    }
    for (size_t i = 0; i < plan->n_changes; i++) {
        const struct rdsbk_plan_change *c = &plan->changes[i];
        char *address;
        if (c->action == RDSBK_ACTION_NOOP)
            continue;
        address = rdsbk_str_escape_terminal_dup(c->address);
        fprintf(out, "  %s%-3s%s %s\n", s_color(st, c->action), s_drawings[c->action].sign,
                st.reset, address ? address : "?");
        free(address);
    }
    fputc('\n', out);
    free(types);
    free(accounts);
}

void rdsbk_cli_print_plan(FILE *out, const struct rdsbk_plan *plan, bool color, bool compact) {
    struct s_style st = s_style(color);
    const struct rdsbk_plan_counts *n = &plan->counts;

    if (!rdsbk_plan_counts_any(n)) {
        fprintf(out, "%sNo changes.%s Your pipeline matches the topology (%zu resources).\n",
                st.bold, st.reset, plan->n_resources);
        return;
    }
    s_print_legend(out, n, st);
    if (compact)
        s_print_compact(out, plan, st);
    for (size_t i = 0; !compact && i < plan->n_changes; i++)
        if (plan->changes[i].action != RDSBK_ACTION_NOOP)
            s_print_change(out, &plan->changes[i], st);
    fprintf(out, "%sPlan:%s %d to add, %d to change, %d to destroy", st.bold, st.reset, n->add,
            n->change, n->destroy);
    if (n->adopt)
        fprintf(out, ", %d to adopt", n->adopt);
    if (n->forget)
        fprintf(out, ", %d to forget", n->forget);
    fprintf(out, ".\n");
    for (size_t i = 0; plan->destroy && i < plan->n_changes; i++) {
        const char *warning = rdsbk_resource_ops(plan->changes[i].type)->delete_warning;
        if (warning && plan->changes[i].action == RDSBK_ACTION_DELETE)
            fprintf(out, "\n%sWarning:%s %s\n", st.red, st.reset, warning);
    }
}

/* {"<attribute>": [rdsbk_json_diff_list entries]} of the changed attributes of an update or a
 * replacement; {} for anything else. */
static cJSON *s_diff_json(const struct rdsbk_plan_change *c) {
    cJSON *o = cJSON_CreateObject();
    const cJSON *name;

    if (!o || !(c->action == RDSBK_ACTION_UPDATE || c->action == RDSBK_ACTION_REPLACE))
        return o;
    cJSON_ArrayForEach(name, c->changed) {
        cJSON_AddItemToObject(
            o, name->valuestring,
            rdsbk_json_diff_list(cJSON_GetObjectItemCaseSensitive(c->before, name->valuestring),
                                 cJSON_GetObjectItemCaseSensitive(c->after, name->valuestring)));
    }
    return o;
}

static cJSON *s_change_json(const struct rdsbk_plan_change *c) {
    cJSON *o = cJSON_CreateObject();

    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "address", c->address);
    cJSON_AddStringToObject(o, "type", rdsbk_resource_type_name(c->type));
    cJSON_AddStringToObject(o, "action", rdsbk_action_name(c->action));
    cJSON_AddStringToObject(o, "account", c->account);
    cJSON_AddStringToObject(o, "region", c->region);
    cJSON_AddStringToObject(o, "name", c->name);
    cJSON_AddItemToObject(o, "changed", cJSON_Duplicate(c->changed, 1));
    if (c->forces[0])
        cJSON_AddStringToObject(o, "forces_replacement", c->forces);
    cJSON_AddItemToObject(o, "before",
                          c->before ? cJSON_Duplicate(c->before, 1) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "after", c->after ? cJSON_Duplicate(c->after, 1) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "diff", s_diff_json(c));
    return o;
}

char *rdsbk_cli_plan_json(const struct rdsbk_plan *plan) {
    const struct rdsbk_plan_counts *n = &plan->counts;
    cJSON *root = cJSON_CreateObject();
    cJSON *list;
    cJSON *summary;
    char *text = NULL;

    if (!root)
        return NULL;
    cJSON_AddNumberToObject(root, "format_version", 1);
    cJSON_AddStringToObject(root, "stack", plan->stack);
    cJSON_AddStringToObject(root, "lineage", plan->lineage);
    cJSON_AddNumberToObject(root, "serial", (double)plan->serial);
    list = cJSON_AddArrayToObject(root, "changes");
    for (size_t i = 0; list && i < plan->n_changes; i++)
        cJSON_AddItemToArray(list, s_change_json(&plan->changes[i]));
    summary = cJSON_AddObjectToObject(root, "summary");
    cJSON_AddNumberToObject(summary, "add", n->add);
    cJSON_AddNumberToObject(summary, "change", n->change);
    cJSON_AddNumberToObject(summary, "destroy", n->destroy);
    cJSON_AddNumberToObject(summary, "adopt", n->adopt);
    cJSON_AddNumberToObject(summary, "forget", n->forget);
    cJSON_AddBoolToObject(root, "has_changes", rdsbk_plan_counts_any(n));
    text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}
