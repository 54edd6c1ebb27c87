#ifndef RDSBK_CLI_ENGINE_OPTIONS_H
#define RDSBK_CLI_ENGINE_OPTIONS_H

#include "engine_ui.h"
#include "options.h"
#include "rdsbk/engine.h"

/* Options shared by plan, apply and destroy (ids 100..199 of their option tables). */
enum {
    RDSBK_OPT_PARALLELISM = 100,
    RDSBK_OPT_LOCK_TIMEOUT,
    RDSBK_OPT_AUTO_APPROVE,
    RDSBK_OPT_NO_REFRESH,
    RDSBK_OPT_OUT,
    RDSBK_OPT_DETAILED_EXITCODE,
    RDSBK_OPT_DISCOVER,
    RDSBK_OPT_FORCE_KEY_DELETION,
    RDSBK_OPT_REFRESH,
    RDSBK_OPT_KEEP_KEY,
    RDSBK_OPT_COMPACT
};

#define RDSBK_OPTION_PARALLELISM                                                                   \
    {                                                                                              \
        "parallelism", 0, "N",                                                                     \
            "AWS operations at once per account and service (default 10, 1..256)",                 \
            RDSBK_OPT_PARALLELISM                                                                  \
    }
#define RDSBK_OPTION_LOCK_TIMEOUT                                                                  \
    {                                                                                              \
        "lock-timeout", 0, "DURATION",                                                             \
            "wait this long for another run's state lock, polling (seconds, or 90s, 5m, 1h; "      \
            "default 0: fail at once)",                                                            \
            RDSBK_OPT_LOCK_TIMEOUT                                                                 \
    }
#define RDSBK_OPTION_AUTO_APPROVE                                                                  \
    {                                                                                              \
        "auto-approve", 0, NULL, "do not ask for confirmation (required without a terminal)",      \
            RDSBK_OPT_AUTO_APPROVE                                                                 \
    }
#define RDSBK_OPTION_NO_REFRESH                                                                    \
    {                                                                                              \
        "no-refresh", 0, NULL, "trust the state instead of reading AWS (faster, blind to drift)",  \
            RDSBK_OPT_NO_REFRESH                                                                   \
    }

#define RDSBK_OPTION_COMPACT                                                                       \
    {                                                                                              \
        "compact", 0, NULL, "the plan as counts per type and account, then one line per resource", \
            RDSBK_OPT_COMPACT                                                                      \
    }

/* State for parsing: the engine options plus what only the CLI needs. */
struct rdsbk_cli_engine {
    struct rdsbk_engine_options opts;
    struct rdsbk_cli_ui ui;
    bool detailed_exitcode;
};

void rdsbk_cli_engine_init(struct rdsbk_cli_engine *ce);

/* The option callback of plan, apply and destroy. */
int rdsbk_cli_engine_option(int id, const char *value, void *payload);

/* What plan, apply and destroy do once their options are parsed and the topology loaded: returns
 * the exit status, 0 or 2 (plan's changes); a negative code when the engine failed. */
struct rdsbk_topology;
typedef int (*rdsbk_cli_engine_fn)(const struct rdsbk_topology *topo, struct rdsbk_cli_engine *ce,
                                   const struct rdsbk_cli_args *args);

/* The whole of such a command: parse, --help, load the topology, fill in the engine options from
 * the common ones (state path, json, colour), run `fn`, print its error. Returns the exit status.
 */
int rdsbk_cli_engine_main(const struct rdsbk_cli_command *cmd, int argc, char **argv,
                          rdsbk_cli_engine_fn fn);

#endif
