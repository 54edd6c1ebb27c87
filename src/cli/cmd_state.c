/*
 * state list | show ADDRESS | rm ADDRESS | unlock | pull [-o FILE] | push FILE | migrate --to
 * LOCATION: the same on a state file and on a state in S3 (rdsbk_state_store).
 */
#include "commands.h"
#include "rdsbk/config.h"
#include "rdsbk/error.h"
#include "rdsbk/file.h"
#include "rdsbk/state.h"
#include "rdsbk/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { S_OPT_OUTPUT = 1, S_OPT_TO, S_OPT_FORCE, S_OPT_LOCK_TIMEOUT };

static const struct rdsbk_cli_option s_options[] = {
    {"output", 'o', "FILE", "pull: write the state to FILE (mode 0600), not standard output",
     S_OPT_OUTPUT},
    {"to", 0, "LOCATION", "migrate: where the state moves, a file or s3://BUCKET/KEY", S_OPT_TO},
    {"force", 0, NULL, "push, migrate: replace a state of another lineage, or one as new or newer",
     S_OPT_FORCE},
    {"lock-timeout", 0, "DURATION",
     "rm, push, migrate: wait this long for another run's state lock (seconds, or 90s, 5m, 1h; "
     "default 0: fail at once)",
     S_OPT_LOCK_TIMEOUT},
    {NULL, 0, NULL, NULL, 0}};

/* One run of the command: its options, the topology, the store of the state. */
struct s_ctx {
    const struct rdsbk_cli_command *cmd;
    struct rdsbk_cli_args args;
    const char *output;
    const char *to;
    bool force;
    int lock_timeout_s;
    struct rdsbk_topology *topo;
    struct rdsbk_state_store *store;
};

static int s_option(int id, const char *value, void *payload) {
    struct s_ctx *c = payload;

    switch (id) {
    case S_OPT_OUTPUT:
        c->output = value;
        return 0;
    case S_OPT_TO:
        c->to = value;
        return 0;
    case S_OPT_FORCE:
        c->force = true;
        return 0;
    case S_OPT_LOCK_TIMEOUT:
        return rdsbk_cli_lock_timeout(&c->lock_timeout_s, value);
    default:
        return 0;
    }
}

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

static int s_list_state(const struct rdsbk_state *st, const struct rdsbk_cli_args *args) {
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

static int s_show_state(const struct rdsbk_state *st, const char *address,
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

/* ---- the subcommands: each returns the exit status, its error printed ------------------------ */

/* list and show: the state as it is, without the lock. */
static int s_read_only(struct s_ctx *c) {
    struct rdsbk_state *st = NULL;
    int status;

    if (rdsbk_state_store_load(&st, c->store, c->topo->stack))
        return s_fail(&c->args);
    if (strcmp(c->args.args[0], "list") == 0)
        status = s_list_state(st, &c->args);
    else
        status = s_show_state(st, c->args.args[1], &c->args);
    rdsbk_state_free(st);
    return status;
}

static int s_rm(struct s_ctx *c) {
    struct rdsbk_state *st = NULL;
    int status = 1;

    if (rdsbk_state_store_lock(c->store, "state rm", c->lock_timeout_s) ||
        rdsbk_state_store_load(&st, c->store, c->topo->stack) ||
        rdsbk_state_remove(st, c->args.args[1]) || rdsbk_state_store_save(c->store, st)) {
        status = s_fail(&c->args);
    } else {
        printf("Removed %s from the state; it still exists in AWS (the next plan adopts it again "
               "while the topology wants it).\n",
               c->args.args[1]);
        status = 0;
    }
    rdsbk_state_free(st);
    return status;
}

static int s_unlock(struct s_ctx *c) {
    char *holder = NULL;

    if (rdsbk_state_store_force_unlock(&holder, c->store))
        return s_fail(&c->args);
    printf("Removed the lock of %s", rdsbk_state_store_name(c->store));
    if (holder)
        s_print_escaped(", held by ", holder);
    else
        printf(".\n");
    free(holder);
    return 0;
}

/* The stored bytes as they are, on standard output or into -o FILE. */
static int s_pull(struct s_ctx *c) {
    char *text = NULL;
    size_t len = 0;
    int status = 1;

    if (rdsbk_state_store_read(&text, &len, c->store) ||
        (c->output && rdsbk_file_replace(c->output, text, len))) {
        status = s_fail(&c->args);
    } else if (c->output) {
        fprintf(stderr, "Wrote the state of %s to %s.\n", rdsbk_state_store_name(c->store),
                c->output);
        status = 0;
    } else {
        status = fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : 1;
    }
    free(text);
    return status;
}

/* *out = the state at `store`, NULL when there is none. */
static int s_load_if_any(struct rdsbk_state **out, struct rdsbk_state_store *store,
                         const char *stack) {
    int rc = rdsbk_state_store_load(out, store, stack);

    if (rc == RDSBK_ENOTFOUND) {
        rdsbk_error_clear();
        rc = 0;
    }
    return rc;
}

/* Whether `incoming` (from `from`) may replace `existing` at `to` (NULL: nothing there): the same
 * lineage, and a newer serial (a push) or not an older one (a migrate), unless --force. */
static int s_may_replace(const struct s_ctx *c, const struct rdsbk_state *incoming,
                         const char *from, const struct rdsbk_state *existing, const char *to,
                         bool push) {
    if (!existing || c->force)
        return 0;
    if (strcmp(existing->lineage, incoming->lineage) != 0)
        return rdsbk_error_set(RDSBK_ECONFLICT,
                               "%s holds another state (lineage %s) than %s (lineage %s): not "
                               "replacing it; --force does",
                               to, existing->lineage, from, incoming->lineage);
    if (push ? incoming->serial <= existing->serial : incoming->serial < existing->serial)
        return rdsbk_error_set(RDSBK_ECONFLICT,
                               "%s has serial %ld and %s serial %ld: replacing it would undo "
                               "writes; compare them ('rdsbk-provision state pull'), and --force "
                               "if %s is right",
                               from, incoming->serial, to, existing->serial, from);
    return 0;
}

/* Writes `incoming` as it is (its lineage and serial) to `store`, over `existing` (NULL: none). */
static int s_write_as_is(struct rdsbk_state_store *store, const struct rdsbk_state *incoming,
                         struct rdsbk_state *existing, const char *stack) {
    struct rdsbk_state *fresh = NULL;
    char *text = rdsbk_state_to_json(incoming);
    int rc;

    RDSBK_CHECK_ALLOC(text);
    if (!existing) { /* the guard of a write where there was no state */
        RDSBK_TRY(rdsbk_state_new(&fresh, stack));
        existing = fresh;
    }
    rc = rdsbk_state_store_write(store, existing, text, incoming->serial);

cleanup:
    rdsbk_state_free(fresh);
    free(text);
    return rc;
}

/* push FILE: a state file replaces the stored state, when it is its newer self. */
static int s_push(struct s_ctx *c) {
    const char *file = c->args.args[1];
    struct rdsbk_state *incoming = NULL;
    struct rdsbk_state *existing = NULL;
    int status = 1;

    if (rdsbk_state_load(&incoming, file, c->topo->stack) ||
        rdsbk_state_store_lock(c->store, "state push", c->lock_timeout_s) ||
        s_load_if_any(&existing, c->store, c->topo->stack) ||
        s_may_replace(c, incoming, file, existing, rdsbk_state_store_name(c->store), true) ||
        s_write_as_is(c->store, incoming, existing, c->topo->stack)) {
        status = s_fail(&c->args);
        goto cleanup;
    }
    printf("Pushed %s to %s (lineage %s, serial %ld).\n", file, rdsbk_state_store_name(c->store),
           incoming->lineage, incoming->serial);
    status = 0;

cleanup:
    rdsbk_state_free(incoming);
    rdsbk_state_free(existing);
    return status;
}

/* migrate --to LOCATION: the state moves, its lineage and serial kept; the source is set aside
 * (LOCATION.migrated) only once the destination holds it. */
static int s_migrate(struct s_ctx *c) {
    struct rdsbk_state_store *dest = NULL;
    struct rdsbk_state *st = NULL;
    struct rdsbk_state *existing = NULL;
    const char *from = rdsbk_state_store_name(c->store);
    int status = 1;

    if (rdsbk_state_store_open(&dest, c->to, c->topo))
        goto fail;
    if (strcmp(rdsbk_state_store_name(dest), from) == 0) {
        rdsbk_error_set(RDSBK_EUSAGE, "the state is at %s already", from);
        goto fail;
    }
    if (rdsbk_state_store_lock(c->store, "state migrate", c->lock_timeout_s) ||
        rdsbk_state_store_lock(dest, "state migrate", c->lock_timeout_s) ||
        rdsbk_state_store_load(&st, c->store, c->topo->stack) ||
        s_load_if_any(&existing, dest, c->topo->stack) ||
        s_may_replace(c, st, from, existing, c->to, false) ||
        s_write_as_is(dest, st, existing, c->topo->stack) ||
        rdsbk_state_store_set_aside(c->store, ".migrated"))
        goto fail;
    printf("Moved the state of %s (lineage %s, serial %ld) from %s to %s; the old copy is kept as "
           "%s.migrated. Point --state or the topology's state: at %s from now on.\n",
           c->topo->stack, st->lineage, st->serial, from, rdsbk_state_store_name(dest), from,
           rdsbk_state_store_name(dest));
    status = 0;
    goto cleanup;

fail:
    status = s_fail(&c->args);
cleanup:
    rdsbk_state_free(existing);
    rdsbk_state_free(st);
    rdsbk_state_store_free(dest);
    return status;
}

/* The subcommands' names, which completion offers after `state` (the command's `words`), in the
 * order of s_subcommands. */
static const char *const s_words[] = {"list", "show", "rm",      "unlock",
                                      "pull", "push", "migrate", NULL};

/* Each subcommand of s_words: its positional arguments (its name included), and which of the
 * command's own options it takes. */
static const struct {
    int n_args;
    bool output, to, force;
    int (*run)(struct s_ctx *c);
} s_subcommands[] = {
    {1, false, false, false, s_read_only}, /* list */
    {2, false, false, false, s_read_only}, /* show ADDRESS */
    {2, false, false, false, s_rm},        /* rm ADDRESS */
    {1, false, false, false, s_unlock},    /* unlock */
    {1, true, false, false, s_pull},       /* pull [-o FILE] */
    {2, false, false, true, s_push},       /* push FILE [--force] */
    {1, false, true, true, s_migrate},     /* migrate --to LOCATION [--force] */
};

#define S_N_SUBCOMMANDS (sizeof(s_subcommands) / sizeof(s_subcommands[0]))
_Static_assert(S_N_SUBCOMMANDS == sizeof(s_words) / sizeof(s_words[0]) - 1,
               "a name in s_words for each of s_subcommands");

#define S_USAGE                                                                                    \
    "state list | show ADDRESS | rm ADDRESS | unlock | pull [-o FILE] | push FILE [--force] | "    \
    "migrate --to LOCATION [--force]"

static int s_run(const struct rdsbk_cli_command *cmd, int argc, char **argv) {
    struct s_ctx c;
    int start;
    char *location = NULL;
    size_t i;
    int status = 1;

    memset(&c, 0, sizeof(c));
    c.cmd = cmd;
    start = rdsbk_cli_start(&c.args, cmd, argc, argv, s_option, &c);
    if (start != RDSBK_CLI_GO)
        return start;
    for (i = 0; c.args.n_args && i < S_N_SUBCOMMANDS; i++)
        if (strcmp(c.args.args[0], s_words[i]) == 0)
            break;
    if (c.args.n_args == 0 || i == S_N_SUBCOMMANDS || c.args.n_args != s_subcommands[i].n_args) {
        rdsbk_cli_usage_error(cmd, "usage: " S_USAGE);
        return 1;
    }
    if ((c.output && !s_subcommands[i].output) || (c.to && !s_subcommands[i].to) ||
        (c.force && !s_subcommands[i].force) || (s_subcommands[i].to && !c.to)) {
        rdsbk_cli_usage_error(cmd, "state %s takes %s", s_words[i],
                              s_subcommands[i].to ? "--to LOCATION, and no -o" : "no such option");
        return 1;
    }
    if (rdsbk_cli_load_topology(&c.topo, &c.args))
        return 1;
    location = rdsbk_cli_state_path(&c.args, c.topo);
    if (!location)
        rdsbk_error_oom();
    if (!location || rdsbk_state_store_open(&c.store, location, c.topo))
        status = s_fail(&c.args);
    else
        status = s_subcommands[i].run(&c);
    rdsbk_state_store_free(c.store); /* and its lock */
    free(location);
    rdsbk_topology_free(c.topo);
    return status;
}

const struct rdsbk_cli_command rdsbk_cmd_state = {
    "state",
    "Inspect, edit or move the state",
    S_USAGE " [options]",
    "list: the addresses in the state. show ADDRESS: one resource with its id and attributes.\n"
    "rm ADDRESS: forget a resource without touching AWS. unlock: remove the lock a run left\n"
    "behind (only when no run is active). pull: print the state as stored (-o FILE: into FILE).\n"
    "push FILE: replace the stored state with FILE, a state of the same lineage and a higher\n"
    "serial (--force: any). migrate --to LOCATION: move the state to LOCATION (a file or\n"
    "s3://BUCKET/KEY) keeping its lineage and serial; the source is kept as <source>.migrated\n"
    "once the destination holds it. The state is --state, else the topology's state: (S3),\n"
    "else the file beside the topology.",
    RDSBK_CLI_FILE | RDSBK_CLI_STATE | RDSBK_CLI_JSON | RDSBK_CLI_OUTPUT,
    s_options,
    2,
    s_run,
    s_words};
