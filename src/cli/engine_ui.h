#ifndef RDSBK_CLI_ENGINE_UI_H
#define RDSBK_CLI_ENGINE_UI_H

#include "rdsbk/engine.h"

#include <stdbool.h>

/* How plan, apply and destroy talk to the person or program that runs them. */
struct rdsbk_cli_ui {
    bool json;    /* the plan as JSON on stdout; progress and notices on stderr */
    bool color;   /* ANSI colour in the text plan */
    bool compact; /* the plan as counts, then one line per resource (--compact) */
    bool verbose; /* -v: every step's line even on a terminal */
    /* progress on a terminal: one live line (set when the changes begin) */
    bool live;
    int total;      /* changes planned */
    int finished;   /* changes done or failed */
    double started; /* rdsbk_clock_now() when the changes began */
};

/* Points the engine's callbacks and cancel flag at this front end; `ui` (borrowed) must outlive
 * the run. */
void rdsbk_cli_ui_attach(struct rdsbk_cli_ui *ui, struct rdsbk_engine_options *opts);

#endif
