#include "engine_options.h"
#include "commands.h"
#include "rdsbk/config.h"
#include "rdsbk/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rdsbk_cli_engine_init(struct rdsbk_cli_engine *ce) {
    memset(ce, 0, sizeof(*ce));
    ce->opts.parallelism = 10;
    ce->opts.refresh = true;
}

static int s_number(const char *option, const char *value, long min, long max, int *out) {
    char *end;
    long v;

    errno = 0;
    v = strtol(value, &end, 10);
    if (errno || *end || end == value || v < min || v > max) {
        fprintf(stderr, "rdsbk-provision: --%s takes a whole number from %ld to %ld, not '%s'\n",
                option, min, max, value);
        return RDSBK_EUSAGE;
    }
    *out = (int)v;
    return 0;
}

int rdsbk_cli_engine_option(int id, const char *value, void *payload) {
    struct rdsbk_cli_engine *ce = payload;

    switch (id) {
    case RDSBK_OPT_PARALLELISM:
        return s_number("parallelism", value, 1, 256, &ce->opts.parallelism);
    case RDSBK_OPT_LOCK_TIMEOUT:
        return rdsbk_cli_lock_timeout(&ce->opts.lock_timeout_s, value);
    case RDSBK_OPT_AUTO_APPROVE:
        ce->opts.auto_approve = true;
        return 0;
    case RDSBK_OPT_NO_REFRESH:
        ce->opts.refresh = false;
        return 0;
    case RDSBK_OPT_REFRESH:
        ce->opts.refresh_known = true;
        return 0;
    case RDSBK_OPT_OUT:
        ce->opts.plan_out = value;
        return 0;
    case RDSBK_OPT_DETAILED_EXITCODE:
        ce->detailed_exitcode = true;
        return 0;
    case RDSBK_OPT_DISCOVER:
        ce->opts.discover = true;
        return 0;
    case RDSBK_OPT_FORCE_KEY_DELETION:
        ce->opts.force_key_deletion = true;
        return 0;
    case RDSBK_OPT_KEEP_KEY:
        ce->opts.keep_key = true;
        return 0;
    case RDSBK_OPT_COMPACT:
        ce->ui.compact = true;
        return 0;
    default:
        return 0;
    }
}

int rdsbk_cli_engine_main(const struct rdsbk_cli_command *cmd, int argc, char **argv,
                          rdsbk_cli_engine_fn fn) {
    struct rdsbk_cli_args args;
    int start;
    struct rdsbk_cli_engine ce;
    struct rdsbk_topology *topo = NULL;
    char *state_path = NULL;
    int status = 1;
    int rc;

    rdsbk_cli_engine_init(&ce);
    start = rdsbk_cli_start(&args, cmd, argc, argv, rdsbk_cli_engine_option, &ce);
    if (start != RDSBK_CLI_GO)
        return start;
    if (rdsbk_cli_load_topology_aws(&topo, &args))
        return 1;
    state_path = rdsbk_cli_state_path(&args, topo);
    if (!state_path) {
        rdsbk_error_oom();
        rdsbk_cli_print_error(&args);
        goto cleanup;
    }
    ce.opts.state_path = state_path;
    ce.ui.json = args.json;
    ce.ui.color = args.color;
    ce.ui.verbose = args.verbose > 0;
    rdsbk_cli_ui_attach(&ce.ui, &ce.opts);
    rc = fn(topo, &ce, &args);
    if (rc < 0) {
        rdsbk_cli_print_error(&args);
        goto cleanup;
    }
    status = rc;

cleanup:
    free(state_path);
    rdsbk_topology_free(topo);
    return status;
}
