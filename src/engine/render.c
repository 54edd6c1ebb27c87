/*
 * The plan for people (text, in the manner of Terraform) and for machines (JSON):
 *
 *   # source[111111111111/eu-central-1].events_rule.forward will be created
 *   + events_rule "rdsbk-orders-dr-forward" (111111111111, eu-central-1)
 *       + description = "..."
 *   ...
 *   Plan: 27 to add, 0 to change, 0 to destroy.
 */
#include "canon.h"
#include "engine_internal.h"
#include "rdsbk/buf.h"

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

/* A value on one line: strings quoted, unknown references as (known after apply), JSON compact. */
static char *s_value(const cJSON *v) {
    char *text;

    if (!v)
        return strdup("(none)");
    if (cJSON_IsString(v) && strstr(v->valuestring, "${") && strchr(v->valuestring, '#'))
        return strdup("(known after apply)");
    text = cJSON_PrintUnformatted(v);
    if (text && (cJSON_IsObject(v) || cJSON_IsArray(v)) && strstr(text, "${") &&
        strchr(text, '#')) {
        char *known = NULL;
        struct rdsbk_buf b = RDSBK_BUF_INIT;
        if (rdsbk_buf_printf(&b, "%s (parts known after apply)", text) == 0)
            known = rdsbk_buf_detach(&b);
        free(text);
        return known;
    }
    return text;
}

static bool s_in(const cJSON *list, const char *name) {
    const cJSON *it;
    cJSON_ArrayForEach(it, list) if (strcmp(it->valuestring, name) == 0) return true;
    return false;
}

static void s_print_attributes(FILE *out, const struct rdsbk_change *c, struct s_style st) {
    const cJSON *attr;

    if (c->action == RDSBK_ACTION_DELETE) {
        return;
    }
    cJSON_ArrayForEach(attr, c->desired) {
        char *want = s_value(attr);
        if (c->action == RDSBK_ACTION_CREATE) {
            fprintf(out, "      %s+%s %s = %s\n", st.green, st.reset, attr->string,
                    want ? want : "?");
        } else if (s_in(c->changed, attr->string)) {
            char *have = s_value(cJSON_GetObjectItemCaseSensitive(c->actual, attr->string));
            bool forces = strcmp(c->forces, attr->string) == 0;
            fprintf(out, "      %s~%s %s = %s -> %s%s\n", st.yellow, st.reset, attr->string,
                    have ? have : "?", want ? want : "?", forces ? "  # forces replacement" : "");
            free(have);
        }
        free(want);
    }
}

void rdsbk_engine_print_plan(const struct rdsbk_engine *e, FILE *out, bool destroy) {
    struct s_style st = s_style(e->opts->color);
    struct rdsbk_plan_counts n = rdsbk_engine_count(e);
    bool any = n.add || n.change || n.destroy || n.adopt || n.forget;

    if (!any) {
        fprintf(out, "%sNo changes.%s Your pipeline matches the topology (%zu resources).\n",
                st.bold, st.reset, e->graph->n_resources);
        return;
    }
    fprintf(out, "rdsbk-provision will perform the following actions:\n");
    fprintf(out, "Legend:");
    if (n.add)
        fprintf(out, " %s+%s create", st.green, st.reset);
    if (n.change)
        fprintf(out, " %s~%s update in place", st.yellow, st.reset);
    if (n.destroy)
        fprintf(out, " %s-%s destroy", st.red, st.reset);
    if (n.adopt)
        fprintf(out, " = adopt (exists, record in the state)");
    if (n.forget)
        fprintf(out, " ! forget (already gone)");
    fprintf(out, "\n\n");
    for (size_t i = 0; i < e->n_changes; i++) {
        const struct rdsbk_change *c = &e->changes[i];
        const char *sign;
        const char *color;
        const char *what;

        switch (c->action) {
        case RDSBK_ACTION_CREATE:
            sign = "+", color = st.green, what = "will be created";
            break;
        case RDSBK_ACTION_UPDATE:
            sign = "~", color = st.yellow, what = "will be updated in place";
            break;
        case RDSBK_ACTION_REPLACE:
            sign = "-/+", color = st.red, what = "must be replaced";
            break;
        case RDSBK_ACTION_DELETE:
            sign = "-", color = st.red, what = "will be destroyed";
            break;
        case RDSBK_ACTION_ADOPT:
            sign = "=", color = "", what = "exists and will be adopted into the state";
            break;
        case RDSBK_ACTION_FORGET:
            sign = "!", color = "", what = "no longer exists and will be removed from the state";
            break;
        default:
            continue;
        }
        fprintf(out, "  %s# %s%s %s\n", st.bold, c->address, st.reset, what);
        fprintf(out, "  %s%s%s %s \"%s\" (%s, %s)\n", color, sign, st.reset,
                rdsbk_resource_type_name(c->type), c->name ? c->name : "", c->account, c->region);
        s_print_attributes(out, c, st);
        fputc('\n', out);
    }
    fprintf(out, "%sPlan:%s %d to add, %d to change, %d to destroy", st.bold, st.reset, n.add,
            n.change, n.destroy);
    if (n.adopt)
        fprintf(out, ", %d to adopt", n.adopt);
    if (n.forget)
        fprintf(out, ", %d to forget", n.forget);
    fprintf(out, ".\n");
    if (destroy) {
        for (size_t i = 0; i < e->n_changes; i++) {
            const char *warning = rdsbk_resource_ops(e->changes[i].type)->delete_warning;
            if (warning && e->changes[i].action == RDSBK_ACTION_DELETE)
                fprintf(out, "\n%sWarning:%s %s\n", st.red, st.reset, warning);
        }
    }
}

char *rdsbk_engine_plan_json(const struct rdsbk_engine *e) {
    struct rdsbk_plan_counts n = rdsbk_engine_count(e);
    cJSON *root = cJSON_CreateObject();
    cJSON *list;
    cJSON *summary;
    char *text = NULL;

    if (!root)
        return NULL;
    cJSON_AddNumberToObject(root, "format_version", 1);
    cJSON_AddStringToObject(root, "stack", e->topo->stack);
    cJSON_AddStringToObject(root, "lineage", e->state->lineage);
    cJSON_AddNumberToObject(root, "serial", (double)e->state->serial);
    list = cJSON_AddArrayToObject(root, "changes");
    for (size_t i = 0; list && i < e->n_changes; i++) {
        const struct rdsbk_change *c = &e->changes[i];
        cJSON *o = cJSON_CreateObject();
        if (!o)
            break;
        cJSON_AddItemToArray(list, o);
        cJSON_AddStringToObject(o, "address", c->address);
        cJSON_AddStringToObject(o, "type", rdsbk_resource_type_name(c->type));
        cJSON_AddStringToObject(o, "action", rdsbk_action_name(c->action));
        cJSON_AddStringToObject(o, "account", c->account);
        cJSON_AddStringToObject(o, "region", c->region);
        cJSON_AddStringToObject(o, "name", c->name ? c->name : "");
        cJSON_AddItemToObject(o, "changed", cJSON_Duplicate(c->changed, 1));
        if (c->forces[0])
            cJSON_AddStringToObject(o, "forces_replacement", c->forces);
        cJSON_AddItemToObject(o, "before",
                              c->actual ? cJSON_Duplicate(c->actual, 1) : cJSON_CreateNull());
        cJSON_AddItemToObject(o, "after",
                              c->desired ? cJSON_Duplicate(c->desired, 1) : cJSON_CreateNull());
    }
    summary = cJSON_AddObjectToObject(root, "summary");
    cJSON_AddNumberToObject(summary, "add", n.add);
    cJSON_AddNumberToObject(summary, "change", n.change);
    cJSON_AddNumberToObject(summary, "destroy", n.destroy);
    cJSON_AddNumberToObject(summary, "adopt", n.adopt);
    cJSON_AddNumberToObject(summary, "forget", n.forget);
    cJSON_AddBoolToObject(root, "has_changes",
                          n.add || n.change || n.destroy || n.adopt || n.forget);
    text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}
