"""The README's table of options shared by the commands says what the tool does: every option it
lists for a command is one that command's --help lists (the help is made from the same table
the parser reads), and every command of the README's Commands block answers --help.

usage: /usr/bin/python3 tests/cli/test_readme_options.py PATH/TO/rdsbk-provision
"""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def readme_tables(text):
    """(the commands of the Commands block, [(option, [commands])] of the options table)."""
    block = re.search(r"## Commands\n\n```\n(.*?)```", text, re.S).group(1)
    commands = re.findall(r"^  ([a-z]+)\s{2,}", block, re.M)
    rows = []
    table = text[text.index("| option | commands | meaning |"):]
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        option_cell, commands_cell = [c.strip() for c in line.split("|")[1:3]]
        option = re.findall(r"--[a-z-]+", option_cell)[0]
        if commands_cell.startswith("all but"):
            excluded = re.findall(r"`([a-z ]+)`", commands_cell)
            listed = [c for c in commands if c not in excluded]
        else:
            listed = re.findall(r"`([a-z ]+)`", commands_cell)
        rows.append((option, listed))
    return commands, rows


def main():
    binary = sys.argv[1]
    with open(os.path.join(ROOT, "README.md")) as f:
        commands, rows = readme_tables(f.read())
    problems = []
    if len(commands) < 8 or len(rows) < 5:
        problems.append("the README's tables were not found (%d commands, %d options)" % (
            len(commands), len(rows)))
    env = dict(os.environ, NO_COLOR="1")
    for command in commands:
        proc = subprocess.run([binary] + command.split() + ["--help"], capture_output=True,
                              text=True, env=env, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            problems.append("%s --help exits %d" % (command, proc.returncode))
    for option, listed in rows:
        for command in listed:
            argv = [binary] + command.split() + ["--help"]
            out = subprocess.run(argv, capture_output=True, text=True, env=env,
                                 stdin=subprocess.DEVNULL).stdout
            if not re.search(r"(^|\s|\[)%s\b" % re.escape(option), out):
                problems.append("README lists %s for %s, whose --help does not" % (option,
                                                                                    command))
    for p in problems:
        print("FAIL: " + p)
    print("README options: %d commands, %d options, %d problems" % (len(commands), len(rows),
                                                                    len(problems)))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
