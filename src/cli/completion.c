/*
 * The bash and zsh completions of rdsbk-provision, written from the command tables --help prints:
 * the commands, each command's options (a value of FILE, PLAN or LOCATION completes file names,
 * DIR directories, any other none), and the words its first argument may be. rdsbk-docgen writes
 * them at build time, so a new option is completed without editing a script.
 */
#include "commands.h"
#include "docgen.h"
#include "rdsbk/error.h"

#include <stdio.h>
#include <string.h>

enum s_value { S_FLAG, S_FILE, S_DIR, S_OTHER };

/* What an option's value is, by its placeholder. */
static enum s_value s_value_of(const struct rdsbk_cli_option *o) {
    if (!o->value)
        return S_FLAG;
    if (strcmp(o->value, "FILE") == 0 || strcmp(o->value, "PLAN") == 0 ||
        strcmp(o->value, "LOCATION") == 0)
        return S_FILE;
    return strcmp(o->value, "DIR") == 0 ? S_DIR : S_OTHER;
}

/* For rdsbk_cli_each_option: the names of the options whose value is `want` (S_FLAG: all). */
struct s_names {
    FILE *out;
    enum s_value want;
    int n;
};

static void s_names_of(const struct rdsbk_cli_option *o, void *payload) {
    struct s_names *s = payload;

    if (s->want != S_FLAG && s_value_of(o) != s->want)
        return;
    fprintf(s->out, "%s--%s", s->n++ ? " " : "", o->long_name);
    if (o->short_name)
        fprintf(s->out, " -%c", o->short_name);
}

/* name='--a -b ...' for the options of `cmd` whose value is `want`. */
static void s_bash_list(FILE *out, const char *name, const struct rdsbk_cli_command *cmd,
                        enum s_value want) {
    struct s_names s = {out, want, 0};

    fprintf(out, "        %s='", name);
    rdsbk_cli_each_option(cmd, s_names_of, &s);
    fputs("'\n", out);
}

/* The words of `cmd`'s first argument, space-separated: its table's, or for help the commands. */
static void s_words(FILE *out, const struct rdsbk_cli_command *cmd) {
    if (cmd == &rdsbk_cmd_help)
        for (int i = 0; rdsbk_cli_commands[i]; i++)
            fprintf(out, "%s%s", i ? " " : "", rdsbk_cli_commands[i]->name);
    for (int i = 0; cmd->words && cmd->words[i]; i++)
        fprintf(out, "%s%s", i ? " " : "", cmd->words[i]);
}

/* The case branch of one command: its lists, read by the function's common part. */
static void s_bash_command(FILE *out, const struct rdsbk_cli_command *cmd) {
    fprintf(out, "    %s)\n", cmd->name);
    s_bash_list(out, "opts", cmd, S_FLAG);
    s_bash_list(out, "files", cmd, S_FILE);
    s_bash_list(out, "dirs", cmd, S_DIR);
    s_bash_list(out, "others", cmd, S_OTHER);
    fputs("        words='", out);
    s_words(out, cmd);
    fprintf(out, "'\n        nargs=%d\n        ;;\n", cmd->max_args);
}

/* The part of the bash function that is the same for every command. */
static const char s_bash_common[] =
    "    *) return ;;\n"
    "    esac\n"
    "    # --file=VALUE: readline splits at '=', the option is the word before it\n"
    "    if [[ $cur == = ]]; then\n"
    "        cur=\n"
    "    elif [[ $prev == = ]] && ((COMP_CWORD > 2)); then\n"
    "        prev=${COMP_WORDS[COMP_CWORD - 2]}\n"
    "    fi\n"
    "    case \" $files \" in *\" $prev \"*)\n"
    "        compopt -o filenames 2>/dev/null\n"
    "        COMPREPLY=($(compgen -f -- \"$cur\"))\n"
    "        return ;;\n"
    "    esac\n"
    "    case \" $dirs \" in *\" $prev \"*)\n"
    "        compopt -o filenames 2>/dev/null\n"
    "        COMPREPLY=($(compgen -d -- \"$cur\"))\n"
    "        return ;;\n"
    "    esac\n"
    "    case \" $others \" in *\" $prev \"*) return ;; esac\n"
    "    if [[ $cur == -* ]]; then\n"
    "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
    "        return\n"
    "    fi\n"
    "    # the arguments before this one, option values left out\n"
    "    for ((i = first + 1; i < COMP_CWORD; i++)); do\n"
    "        w=${COMP_WORDS[i]}\n"
    "        if [[ $w == = ]]; then skip=1; continue; fi\n"
    "        if ((skip)); then skip=0; continue; fi\n"
    "        case \" $files $dirs $others \" in *\" $w \"*) skip=1; continue ;; esac\n"
    "        [[ $w == -* ]] || n=$((n + 1))\n"
    "    done\n"
    "    if ((n == 0)) && [[ -n $words ]]; then\n"
    "        COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
    "    elif ((n < nargs)); then\n"
    "        compopt -o filenames 2>/dev/null\n"
    "        COMPREPLY=($(compgen -f -- \"$cur\"))\n"
    "    fi\n"
    "}\n"
    "complete -F _rdsbk_provision rdsbk-provision\n";

int rdsbk_cli_write_bash(FILE *out) {
    fputs("# bash completion for rdsbk-provision, written by rdsbk-docgen from its command\n"
          "# tables (src/cli): edit those, not this file.\n"
          "_rdsbk_provision() {\n"
          "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}\n"
          "    local cmd= first i w n=0 skip=0 opts files dirs others words nargs\n"
          "    COMPREPLY=()\n"
          "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
          "        if [[ ${COMP_WORDS[i]} != -* ]]; then\n"
          "            cmd=${COMP_WORDS[i]} first=$i\n"
          "            break\n"
          "        fi\n"
          "    done\n"
          "    if [[ -z $cmd ]]; then\n"
          "        COMPREPLY=($(compgen -W '",
          out);
    for (int i = 0; rdsbk_cli_commands[i]; i++)
        fprintf(out, "%s ", rdsbk_cli_commands[i]->name);
    fputs("--help -h --version' -- \"$cur\"))\n"
          "        return\n"
          "    fi\n"
          "    case $cmd in\n",
          out);
    for (int i = 0; rdsbk_cli_commands[i]; i++)
        s_bash_command(out, rdsbk_cli_commands[i]);
    fputs(s_bash_common, out);
    if (fflush(out) || ferror(out))
        return rdsbk_error_set(RDSBK_EIO, "cannot write the bash completion");
    return 0;
}

/* `text` inside a single-quoted zsh word and an _arguments [explanation]: ' closes and reopens
 * the quotes, [ ] and \ are escaped. */
static void s_zsh_text(FILE *out, const char *text) {
    for (const char *p = text; *p; p++) {
        if (*p == '\'')
            fputs("'\\''", out);
        else if (*p == '[' || *p == ']' || *p == '\\' || *p == ':')
            fprintf(out, "\\%c", *p);
        else
            fputc(*p == '\n' ? ' ' : *p, out);
    }
}

/* One _arguments spec: '(-f --file)'{-f+,--file=}'[help]:FILE:_files'. */
static void s_zsh_option(const struct rdsbk_cli_option *o, void *payload) {
    static const char *const actions[] = {"", "_files", "_files -/", " "};
    FILE *out = payload;
    enum s_value v = s_value_of(o);

    fputs("        ", out);
    if (o->short_name)
        fprintf(out, "'(-%c --%s)'{-%c%s,--%s%s}'", o->short_name, o->long_name, o->short_name,
                v == S_FLAG ? "" : "+", o->long_name, v == S_FLAG ? "" : "=");
    else
        fprintf(out, "'--%s%s", o->long_name, v == S_FLAG ? "" : "=");
    fputc('[', out);
    s_zsh_text(out, o->help);
    fputc(']', out);
    if (v != S_FLAG)
        fprintf(out, ":%s:%s", o->value, actions[v]);
    fputs("' \\\n", out);
}

/* The case branch of one command: _arguments with its options and arguments. */
static void s_zsh_command(FILE *out, const struct rdsbk_cli_command *cmd) {
    fprintf(out, "    %s)\n        _arguments -s -S \\\n", cmd->name);
    rdsbk_cli_each_option(cmd, s_zsh_option, out);
    if (cmd->words || cmd == &rdsbk_cmd_help) {
        fputs("        '1:argument:(", out);
        s_words(out, cmd);
        fputs(")' \\\n", out);
    }
    if (cmd->max_args > (cmd->words || cmd == &rdsbk_cmd_help ? 1 : 0))
        fputs("        '*:file:_files' \\\n", out);
    fputs("        && return 0\n        ;;\n", out);
}

int rdsbk_cli_write_zsh(FILE *out) {
    fputs("#compdef rdsbk-provision\n"
          "# zsh completion for rdsbk-provision, written by rdsbk-docgen from its command tables\n"
          "# (src/cli): edit those, not this file.\n"
          "_rdsbk-provision() {\n"
          "    local -a commands\n"
          "    commands=(\n",
          out);
    for (int i = 0; rdsbk_cli_commands[i]; i++) {
        fprintf(out, "        '%s:", rdsbk_cli_commands[i]->name);
        s_zsh_text(out, rdsbk_cli_commands[i]->summary);
        fputs("'\n", out);
    }
    fputs("    )\n"
          "    if ((CURRENT == 2)); then\n"
          "        _describe -t commands 'rdsbk-provision command' commands\n"
          "        return\n"
          "    fi\n"
          "    # the command's words only, as _arguments expects\n"
          "    local cmd=${words[2]}\n"
          "    shift words\n"
          "    ((CURRENT--))\n"
          "    case $cmd in\n",
          out);
    for (int i = 0; rdsbk_cli_commands[i]; i++)
        s_zsh_command(out, rdsbk_cli_commands[i]);
    fputs("    esac\n"
          "    return 1\n"
          "}\n"
          "_rdsbk-provision \"$@\"\n",
          out);
    if (fflush(out) || ferror(out))
        return rdsbk_error_set(RDSBK_EIO, "cannot write the zsh completion");
    return 0;
}
