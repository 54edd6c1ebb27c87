/*
 * rdsbk-provision(1) in mdoc, written from the tables --help prints (the commands, their usage,
 * descriptions and options, the exit statuses, the environment): the page and --help have one
 * source, so they cannot drift apart. rdsbk-docgen writes the page at build time.
 */
#include "commands.h"
#include "docgen.h"
#include "rdsbk/error.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/*
 * Writes `text` as roff text lines, one per line of it: a line starting with '.' or '\'' would be
 * a request, so it starts with \&; a backslash is \e; a hyphen starting a word (--json, -o) is \-,
 * the minus sign an option is typed with; an empty line is a paragraph break.
 */
static void s_text(FILE *out, const char *text) {
    bool line_start = true;

    for (const char *p = text; *p; p++) {
        if (line_start && *p == '\n') {
            fputs(".Pp\n", out);
            continue;
        }
        if (line_start && (*p == '.' || *p == '\''))
            fputs("\\&", out);
        if (*p == '\\')
            fputs("\\e", out);
        else if (*p == '-' && (line_start || strchr(" ('\"[", p[-1]) || p[-1] == '-'))
            fputs("\\-", out);
        else
            fputc(*p, out);
        line_start = *p == '\n';
    }
    if (!line_start)
        fputc('\n', out);
}

/* One word of a usage string as mdoc arguments: --long and -x as flags, UPPER and "options" as
 * arguments, "|" as it is, anything else (a subcommand) as a command modifier. */
static void s_usage_word(FILE *out, const char *w, size_t n) {
    bool upper = true;

    for (size_t i = 0; i < n; i++)
        if (!isupper((unsigned char)w[i]) && !isdigit((unsigned char)w[i]) && w[i] != '_')
            upper = false;
    if (n >= 2 && w[0] == '-' && w[1] == '-')
        fprintf(out, "Fl \\-%.*s", (int)n - 2, w + 2);
    else if (n >= 2 && w[0] == '-')
        fprintf(out, "Fl %.*s", (int)n - 1, w + 1);
    else if (upper || (n == 7 && strncmp(w, "options", 7) == 0))
        fprintf(out, "Ar %.*s", (int)n, w);
    else if (n == 1 && w[0] == '|')
        fputc('|', out);
    else
        fprintf(out, "Cm %.*s", (int)n, w);
}

/* `usage` ("plan [-f FILE] [--out PLAN]") after .Nm: a macro line per word or bracketed group
 * (an .Op line, with Oo/Oc within), "|" as a text line; the first word is the command itself. */
static void s_usage(FILE *out, const char *usage) {
    const char *p = usage;
    int depth = 0;

    fputs(".Nm\n", out);
    while (*p) {
        size_t n;
        while (*p == ' ' || *p == '\n') /* a usage may run over lines: all one synopsis */
            p++;
        if (!*p)
            break;
        if (depth == 0 && p[0] == '|' && (p[1] == ' ' || !p[1])) {
            fputs("|\n", out);
            p++;
            continue;
        }
        if (depth == 0)
            fputc('.', out);
        for (; *p == '['; p++, depth++)
            fputs(depth == 0 ? "Op " : "Oo ", out);
        n = strcspn(p, " \n[]");
        s_usage_word(out, p, n);
        p += n;
        for (; *p == ']' && depth > 0; p++, depth--)
            fputs(depth > 1 ? " Oc" : "", out);
        fputc(depth == 0 ? '\n' : ' ', out);
    }
}

/* .It line of one option: "Fl f , Fl \-file Ar FILE". */
static void s_option(const struct rdsbk_cli_option *o, void *payload) {
    FILE *out = payload;

    fputs(".It", out);
    if (o->short_name)
        fprintf(out, " Fl %c ,", o->short_name);
    fprintf(out, " Fl \\-%s", o->long_name);
    if (o->value)
        fprintf(out, " Ar %s", o->value);
    fputc('\n', out);
    s_text(out, o->help);
}

/* A subsection per command: its usage, its --help description, its options. */
static void s_command(FILE *out, const struct rdsbk_cli_command *cmd) {
    fprintf(out, ".Ss %s\n", cmd->name);
    s_usage(out, cmd->usage);
    fputs(".Pp\n", out);
    s_text(out, cmd->description);
    fputs(".Bl -tag -width Ds\n", out);
    rdsbk_cli_each_option(cmd, s_option, out);
    fputs(".El\n", out);
}

/* A tag list of `table`, each name under `macro` ("Ev", or "" for none). */
static void s_entries(FILE *out, const struct rdsbk_cli_entry *table, const char *macro) {
    fputs(".Bl -tag -width Ds\n", out);
    for (const struct rdsbk_cli_entry *e = table; e->name; e++) {
        fprintf(out, ".It %s%s%s\n", macro, macro[0] ? " " : "", e->name);
        s_text(out, e->text);
    }
    fputs(".El\n", out);
}

/* "2026-12-06" as mdoc's "December 6, 2026"; the text as it is when it is not such a date. */
static void s_date(FILE *out, const char *date) {
    static const char *const months[] = {"January",   "February", "March",    "April",
                                         "May",       "June",     "July",     "August",
                                         "September", "October",  "November", "December"};
    int y, m, d;

    if (sscanf(date, "%4d-%2d-%2d", &y, &m, &d) == 3 && m >= 1 && m <= 12)
        fprintf(out, ".Dd %s %d, %d\n", months[m - 1], d, y);
    else
        fprintf(out, ".Dd %s\n", date);
}

/* What --help does not say: the files, examples and the other page. */
static const char s_files[] = ".Sh FILES\n"
                              ".Bl -tag -width Ds\n"
                              ".It Pa rdsbk.yaml\n"
                              "The topology, unless\n"
                              ".Fl f\n"
                              "names another; its format is in\n"
                              ".Xr rdsbk-topology 5 .\n"
                              ".It Pa rdsbk.state.json\n"
                              "The state: beside the topology, its extension replaced by\n"
                              ".Pa .state.json ,\n"
                              "unless\n"
                              ".Fl \\-state\n"
                              "or the topology's\n"
                              ".Cm state\n"
                              "puts it elsewhere (a state in S3 is\n"
                              ".Pa s3://BUCKET/KEY ) .\n"
                              ".It Pa rdsbk.state.json.lock\n"
                              "The lock a run holds on the state (in S3, the object\n"
                              ".Pa KEY.lock ) .\n"
                              ".It Pa rdsbk.state.json.backup\n"
                              "The state before the last write.\n"
                              ".It Pa share/doc/rdsbk-provision/examples\n"
                              "Example topologies, and CI recipes in\n"
                              ".Pa ci/ ,\n"
                              "under the installation prefix.\n"
                              ".El\n";

static const char s_examples[] =
    ".Sh EXAMPLES\n"
    "Check a topology, review and apply the plan, then see the backups:\n"
    ".Bd -literal -offset indent\n"
    "rdsbk-provision validate -f orders.yaml\n"
    "rdsbk-provision plan -f orders.yaml --out orders.plan\n"
    "rdsbk-provision apply -f orders.yaml orders.plan\n"
    "rdsbk-provision status -f orders.yaml --max-age 26h\n"
    ".Ed\n"
    ".Sh SEE ALSO\n"
    ".Xr rdsbk-topology 5\n";

int rdsbk_cli_write_man(FILE *out, const char *date) {
    fputs(".\\\" rdsbk-provision(1), written by rdsbk-docgen from the tables of src/cli that\n"
          ".\\\" --help prints: edit those, not this page.\n",
          out);
    s_date(out, date);
    fprintf(out, ".Dt RDSBK-PROVISION 1\n.Os rdsbk-provision %s\n", RDSBK_VERSION);
    fputs(".Sh NAME\n.Nm rdsbk-provision\n"
          ".Nd build and keep the pipeline that copies RDS snapshots into a backup account\n"
          ".Sh SYNOPSIS\n",
          out);
    for (int i = 0; rdsbk_cli_commands[i]; i++)
        s_usage(out, rdsbk_cli_commands[i]->usage);
    fputs(".Sh DESCRIPTION\n", out);
    s_text(out, rdsbk_cli_about);
    fputs(".Pp\nThe topology file is described in\n.Xr rdsbk-topology 5 .\n", out);
    for (int i = 0; rdsbk_cli_commands[i]; i++)
        s_command(out, rdsbk_cli_commands[i]);
    fputs(".Sh ENVIRONMENT\n", out);
    s_text(out, rdsbk_cli_environment_intro);
    s_entries(out, rdsbk_cli_environment, "Ev");
    fputs(s_files, out);
    fputs(".Sh EXIT STATUS\n", out);
    s_entries(out, rdsbk_cli_exit_statuses, "");
    fputs(s_examples, out);
    if (fflush(out) || ferror(out))
        return rdsbk_error_set(RDSBK_EIO, "cannot write the manual page");
    return 0;
}
