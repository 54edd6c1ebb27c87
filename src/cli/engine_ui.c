/*
 * The front end of plan, apply and destroy: renders the engine's events (the plan, each change's
 * progress, the outcome), asks for confirmation on the terminal, and catches Ctrl-C and SIGTERM
 * while the changes run so that the engine can stop cleanly. With --json, standard output is the
 * machine document alone: progress and notices go to standard error.
 */
#include "engine_ui.h"

#include "rdsbk/clock.h"

#include "plan_render.h"
#include "rdsbk/error.h"
#include "rdsbk/str.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* ---- Ctrl-C and SIGTERM while the changes run ----------------------------------------------- */

/*
 * Ctrl-C or SIGTERM (a cancelled CI job) while the changes run: no new change starts, the running
 * ones finish and are recorded, and the state is saved, so nothing is left half-done. A second
 * signal has the default effect (SA_RESETHAND): it stops at once. Outside the changes (reading
 * AWS, the confirmation), the signals keep their default effect.
 */
static volatile sig_atomic_t s_interrupted;
static struct sigaction s_old_int;
static struct sigaction s_old_term;

static void s_on_interrupt(int sig) {
    static const char msg[] = "\nInterrupted: no new change starts; waiting for the running ones, "
                              "then saving the state (interrupt again to stop at once)\n";
    (void)sig;
    s_interrupted = 1;
    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
        s_interrupted = 1; /* nothing to do about it in a handler */
}

static void s_catch_interrupts(void) {
    struct sigaction sa;

    s_interrupted = 0;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = s_on_interrupt;
    sa.sa_flags = SA_RESETHAND | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &s_old_int);
    sigaction(SIGTERM, &sa, &s_old_term);
}

static void s_release_interrupts(void) {
    sigaction(SIGINT, &s_old_int, NULL);
    sigaction(SIGTERM, &s_old_term, NULL);
}

/* ---- events ------------------------------------------------------------------------------- */

/* The line of each step of a change: "<address>: <words>[<detail><tail>][ after Xs][ [id=ID]]". */
static const struct {
    const char *words;
    bool detail;
    const char *tail;
    bool seconds;
    bool id;
} s_steps[] = {
    [RDSBK_STEP_ADOPTED] = {"Adopted into the state", false, "", false, true},
    [RDSBK_STEP_FORGOTTEN] = {"Removed from the state (it no longer exists)", false, "", false,
                              false},
    [RDSBK_STEP_TAKEN_ALONG] = {"Destroyed with the resource it belongs to", false, "", false,
                                false},
    [RDSBK_STEP_DESTROYING] = {"Destroying...", false, "", false, true},
    [RDSBK_STEP_DESTROYED] = {"Destruction complete", false, "", true, false},
    [RDSBK_STEP_UPDATING] = {"Modifying...", false, "", false, true},
    [RDSBK_STEP_CREATING] = {"Creating...", false, "", false, false},
    [RDSBK_STEP_EXISTS] = {"already exists (", true, "); adopting it", false, false},
    [RDSBK_STEP_DONE] = {"Creation complete", false, "", true, true},
    [RDSBK_STEP_FAILED] = {"failed: ", true, "", false, false},
};

/* What an event names (from the state or AWS) made safe for a terminal, cut at 1 KB. */
struct s_safe {
    char text[1024];
};

static const char *s_safe(struct s_safe *buf, const char *text) {
    return rdsbk_str_escape_terminal(buf->text, sizeof(buf->text), text);
}

static void s_progress(FILE *out, const struct rdsbk_engine_event *ev) {
    const char *words = s_steps[ev->step].words;
    struct s_safe safe;

    if (ev->step == RDSBK_STEP_DONE && ev->action == RDSBK_ACTION_UPDATE)
        words = "Modifications complete";
    fprintf(out, "%s: %s", s_safe(&safe, ev->address), words);
    if (s_steps[ev->step].detail)
        fprintf(out, "%s%s", s_safe(&safe, ev->detail), s_steps[ev->step].tail);
    if (s_steps[ev->step].seconds)
        fprintf(out, " after %.1fs", ev->seconds);
    if (s_steps[ev->step].id)
        fprintf(out, " [id=%s]", s_safe(&safe, ev->id));
    fputc('\n', out);
    fflush(out);
}

/* Whether a step ends a change (done, failed or made unnecessary). */
static bool s_finishes(enum rdsbk_progress_step step) {
    return step == RDSBK_STEP_DONE || step == RDSBK_STEP_DESTROYED || step == RDSBK_STEP_ADOPTED ||
           step == RDSBK_STEP_FORGOTTEN || step == RDSBK_STEP_TAKEN_ALONG ||
           step == RDSBK_STEP_FAILED;
}

/* On a terminal, progress is one line rewritten in place: "[ 23/46] 12.4s  Creating... <address>";
 * a failure is printed as a line of its own, as without a terminal. */
static void s_live(struct rdsbk_cli_ui *ui, const struct rdsbk_engine_event *ev) {
    struct s_safe safe;
    struct winsize ws;
    char line[1200];
    int finished;

    ui->finished += s_finishes(ev->step);
    finished = ui->finished < ui->total ? ui->finished : ui->total;
    fputs("\r\033[K", stdout);
    if (ev->step == RDSBK_STEP_FAILED)
        s_progress(stdout, ev);
    snprintf(line, sizeof(line), "[%*d/%d] %.1fs  %s %s", ui->total > 99 ? 4 : 2, finished,
             ui->total, rdsbk_clock_now() - ui->started, s_steps[ev->step].words,
             s_safe(&safe, ev->address));
    /* one row of the terminal, or the next rewrite would leave the wrapped part behind */
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 && ws.ws_col < sizeof(line))
        line[ws.ws_col - 1] = '\0';
    fputs(line, stdout);
    fflush(stdout);
}

static void s_print_plan(const struct rdsbk_cli_ui *ui, const struct rdsbk_plan *plan) {
    if (ui->json) {
        char *json = rdsbk_cli_plan_json(plan);
        printf("%s\n", json ? json : "{}");
        free(json);
    } else {
        rdsbk_cli_print_plan(stdout, plan, ui->color, ui->compact);
    }
    fflush(stdout);
}

static void s_outcome(const struct rdsbk_cli_ui *ui, const struct rdsbk_engine_event *ev) {
    const struct rdsbk_plan_counts *d = &ev->done;

    if (ev->type == RDSBK_EVENT_APPLY_FAILED)
        fprintf(stderr,
                "\nApply failed: %d added, %d changed, %d destroyed before the error; %d "
                "change%s failed, %d not attempted.\nThe state records everything that was "
                "done: run apply again to continue from there.\n",
                d->add, d->change, d->destroy, ev->failed, ev->failed == 1 ? "" : "s", ev->skipped);
    else if (!ui->json && ev->destroy)
        printf("\nDestroy complete! Resources: %d destroyed.\n", d->destroy);
    else if (!ui->json)
        printf("\nApply complete! Resources: %d added, %d changed, %d destroyed.\n", d->add,
               d->change, d->destroy);
}

static void s_on_event(const struct rdsbk_engine_event *ev, void *payload) {
    struct rdsbk_cli_ui *ui = payload;
    const struct rdsbk_plan_counts *n;
    FILE *notices = ui->json ? stderr : stdout;
    struct s_safe safe;
    struct s_safe safe2;

    switch (ev->type) {
    case RDSBK_EVENT_PLAN:
        s_print_plan(ui, ev->plan);
        n = &ev->plan->counts;
        ui->total = n->add + n->change + n->destroy + n->adopt + n->forget;
        break;
    case RDSBK_EVENT_PLAN_SAVED:
        if (!ui->json)
            printf("\nSaved the plan to %s; 'rdsbk-provision apply %s' carries out exactly "
                   "these actions.\n",
                   ev->path, ev->path);
        break;
    case RDSBK_EVENT_NO_STATE:
        printf("Nothing to destroy: %s does not exist (use --discover to find the stack's "
               "resources without a state).\n",
               ev->path);
        break;
    case RDSBK_EVENT_KEY_DELETION:
        fprintf(notices,
                "\nThe shared key %s will be scheduled for deletion on %s (in %d days). Every "
                "backup copy encrypted with it becomes unrestorable then; cancel with 'aws kms "
                "cancel-key-deletion' before that date if you need them.\n",
                s_safe(&safe, ev->name), s_safe(&safe2, ev->date), ev->days);
        break;
    case RDSBK_EVENT_KEPT:
        fprintf(notices,
                "\nKept %s [id=%s]: the backups stay restorable; the next apply reuses it, and "
                "'destroy --force-key-deletion' deletes it.\n",
                s_safe(&safe, ev->address), s_safe(&safe2, ev->name));
        break;
    case RDSBK_EVENT_CHANGES_BEGIN:
        s_catch_interrupts();
        /* a live line on a terminal; plain lines in CI, with -v, or beside JSON */
        ui->live = !ui->json && !ui->verbose && isatty(STDOUT_FILENO);
        ui->finished = 0;
        ui->started = rdsbk_clock_now();
        break;
    case RDSBK_EVENT_PROGRESS:
        if (ui->live)
            s_live(ui, ev);
        else
            s_progress(notices, ev);
        break;
    case RDSBK_EVENT_CHANGES_END:
        s_release_interrupts();
        if (ui->live)
            fputs("\r\033[K", stdout);
        break;
    case RDSBK_EVENT_STATE_NOT_SAVED:
        fprintf(stderr,
                "\nThe state could not be saved: %s\nThe next plan finds the resources "
                "created since by their names and adopts them.\n",
                s_safe(&safe, ev->detail));
        break;
    case RDSBK_EVENT_APPLIED:
    case RDSBK_EVENT_APPLY_FAILED:
        s_outcome(ui, ev);
        break;
    }
}

/* ---- confirmation ------------------------------------------------------------------------- */

/* Asks for "yes" on a terminal; refuses without one. */
static int s_confirm(const char *question, void *payload) {
    char line[16];

    (void)payload;
    if (!isatty(STDIN_FILENO))
        return rdsbk_error_set(RDSBK_EUSAGE,
                               "standard input is not a terminal, so %s cannot ask "
                               "for confirmation; pass --auto-approve",
                               question);
    printf("\nDo you want to %s? Only 'yes' is accepted: ", question);
    fflush(stdout);
    if (!fgets(line, sizeof(line), stdin) || strcmp(line, "yes\n") != 0)
        return rdsbk_error_set(RDSBK_ERROR, "%s cancelled", question);
    return 0;
}

void rdsbk_cli_ui_attach(struct rdsbk_cli_ui *ui, struct rdsbk_engine_options *opts) {
    opts->callbacks.event = s_on_event;
    opts->callbacks.confirm = s_confirm;
    opts->callbacks.payload = ui;
    opts->cancel = &s_interrupted;
}
