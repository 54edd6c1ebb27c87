/* state list | show ADDRESS | rm ADDRESS | unlock */
#include "commands.h"
#include "rdsbk/config.h"
#include "rdsbk/error.h"
#include "rdsbk/state.h"
#include "rdsbk/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_fail(const struct rdsbk_cli_args *args) {
    rdsbk_cli_print_error(args);
    return 1;
}

/* `label` and `value`, escaped for the terminal, on a line. */
static void s_print_escaped(const char *label, const char *value) {
    char *safe = rdsbk_str_escape_terminal_dup(value);

    printf("%s%s\n", label, safe ? safe : "");
    free(safe);
}

static int s_list(const struct rdsbk_state *st, const struct rdsbk_cli_args *args) {
    if (args->json) {
        cJSON *arr = cJSON_CreateArray();
        char *text;
        for (size_t i = 0; arr && i < st->n_resources; i++)
            cJSON_AddItemToArray(arr, cJSON_CreateString(st->resources[i].address));
        text = cJSON_Print(arr);
        printf("%s\n", text ? text : "[]");
        free(text);
        cJSON_Delete(arr);
        return 0;
    }
    for (size_t i = 0; i < st->n_resources; i++)
        s_print_escaped("", st->resources[i].address);
    return 0;
}

static int s_show(const struct rdsbk_state *st, const char *address,
                  const struct rdsbk_cli_args *args) {
    const struct rdsbk_state_resource *r = rdsbk_state_find(st, address);
    char *attrs;

    if (!r) {
        rdsbk_error_set(RDSBK_ENOTFOUND, "%s is not in the state (see 'state list')", address);
        return s_fail(args);
    }
    attrs = cJSON_Print(r->attributes);
    if (args->json) {
        cJSON *o = cJSON_CreateObject();
        char *text;
        cJSON_AddStringToObject(o, "address", r->address);
        cJSON_AddStringToObject(o, "type", r->type);
        cJSON_AddStringToObject(o, "account", r->account);
        cJSON_AddStringToObject(o, "region", r->region ? r->region : "");
        cJSON_AddStringToObject(o, "id", r->id ? r->id : "");
        cJSON_AddItemToObject(o, "attributes", cJSON_CreateObjectReference(r->attributes->child));
        text = cJSON_Print(o);
        printf("%s\n", text ? text : "{}");
        free(text);
        cJSON_Delete(o);
    } else {
        /* the state is input like any other: its values are escaped for the terminal */
        const char *fields[][2] = {{"# ", r->address},
                                   {"type    = ", r->type},
                                   {"account = ", r->account},
                                   {"region  = ", r->region ? r->region : ""},
                                   {"id      = ", r->id ? r->id : ""}};
        char *safe;
        for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
            s_print_escaped(fields[f][0], fields[f][1]);
        for (size_t d = 0; d < r->n_deps; d++)
            s_print_escaped("depends on ", r->deps[d]);
        safe = attrs ? rdsbk_str_escape_terminal_dup(attrs) : NULL;
        printf("attributes = %s\n", safe ? safe : "{}");
        free(safe);
    }
    free(attrs);
    return 0;
}

static int s_run(const struct rdsbk_cli_command *cmd, int argc, char **argv) {
    struct rdsbk_cli_args args;
    int start;
    struct rdsbk_topology *topo = NULL;
    struct rdsbk_state *st = NULL;
    struct rdsbk_state_store *store = NULL;
    char *path = NULL;
    char *holder = NULL;
    const char *sub;
    int status = 1;

    start = rdsbk_cli_start(&args, cmd, argc, argv, NULL, NULL);
    if (start != RDSBK_CLI_GO)
        return start;
    if (args.n_args == 0) {
        rdsbk_cli_usage_error(cmd, "which one: list, show ADDRESS, rm ADDRESS or unlock?");
        return 1;
    }
    sub = args.args[0];
    if ((strcmp(sub, "show") == 0 || strcmp(sub, "rm") == 0) != (args.n_args == 2) ||
        (strcmp(sub, "list") && strcmp(sub, "show") && strcmp(sub, "rm") &&
         strcmp(sub, "unlock"))) {
        rdsbk_cli_usage_error(cmd, "usage: state list | show ADDRESS | rm ADDRESS | unlock");
        return 1;
    }
    if (rdsbk_cli_load_topology(&topo, &args))
        return 1;
    path = rdsbk_cli_state_path(&args);
    if (!path) {
        rdsbk_error_oom();
        status = s_fail(&args);
        goto cleanup;
    }
    if (rdsbk_state_store_open(&store, path, topo)) {
        status = s_fail(&args);
        goto cleanup;
    }
    if (strcmp(sub, "unlock") == 0) {
        if (rdsbk_state_store_force_unlock(&holder, store)) {
            status = s_fail(&args);
            goto cleanup;
        }
        printf("Removed the lock of %s", rdsbk_state_store_name(store));
        if (holder)
            s_print_escaped(", held by ", holder);
        else
            printf(".\n");
        status = 0;
        goto cleanup;
    }
    if (strcmp(sub, "rm") == 0 && rdsbk_state_store_lock(store, "state rm", 0)) {
        status = s_fail(&args);
        goto cleanup;
    }
    if (rdsbk_state_store_load(&st, store, topo->stack)) {
        status = s_fail(&args);
        goto cleanup;
    }
    if (strcmp(sub, "list") == 0) {
        status = s_list(st, &args);
    } else if (strcmp(sub, "show") == 0) {
        status = s_show(st, args.args[1], &args);
    } else {
        if (rdsbk_state_remove(st, args.args[1]) || rdsbk_state_store_save(store, st)) {
            status = s_fail(&args);
            goto cleanup;
        }
        printf("Removed %s from the state; it still exists in AWS (the next plan adopts it again "
               "while the topology wants it).\n",
               args.args[1]);
        status = 0;
    }

cleanup:
    rdsbk_state_store_free(store); /* and its lock */
    rdsbk_state_free(st);
    free(holder);
    free(path);
    rdsbk_topology_free(topo);
    return status;
}

const struct rdsbk_cli_command rdsbk_cmd_state = {
    "state",
    "Inspect or edit the state file",
    "state list | show ADDRESS | rm ADDRESS | unlock [options]",
    "list: the addresses in the state. show ADDRESS: one resource with its id and attributes.\n"
    "rm ADDRESS: forget a resource without touching AWS. unlock: remove the lock a run left\n"
    "behind (only when no run is active).",
    RDSBK_CLI_FILE | RDSBK_CLI_STATE | RDSBK_CLI_JSON | RDSBK_CLI_OUTPUT,
    NULL,
    2,
    s_run};
