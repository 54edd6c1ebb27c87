#!/usr/bin/python3
"""Checks of what gets installed: `version`, the man pages, the shell completions, the installed
tree and the packages. One check per CTest test: check.py CHECK ARGS... (see tests.cmake)."""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

VERSION_LINE = re.compile(r"^rdsbk-provision (\d+\.\d+\.\d+) \(commit ([0-9a-f]{12}(-dirty)?|unknown)\)$")
LIBRARIES = ["libcurl", "openssl", "cjson", "libxml2", "libyaml", "zlib"]


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def run(argv, **kwargs):
    """Runs argv; returns its standard output, failing the test on a non-zero exit."""
    p = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if p.returncode != 0:
        fail("%s exited %d\n%s%s" % (" ".join(argv), p.returncode, p.stdout, p.stderr))
    return p.stdout


def check_version_output(binary, expected_version=None):
    """`version`: the version and commit on the first line, every library's version on the
    second; `version --json` the same as one document. Returns the version."""
    lines = run([binary, "version"]).splitlines()
    m = VERSION_LINE.match(lines[0]) if lines else None
    if not m or len(lines) != 2:
        fail("version printed %r" % lines)
    for name in ["libcurl 7", "OpenSSL 3", "cJSON 1", "libxml2 2", "libyaml 0", "zlib 1"]:
        if name not in lines[1]:
            fail("version: %r is not in %r" % (name, lines[1]))
    doc = json.loads(run([binary, "version", "--json"]))
    if doc["version"] != m.group(1) or doc["commit"] != m.group(2):
        fail("version --json %r disagrees with %r" % (doc, lines[0]))
    if sorted(doc["libraries"]) != sorted(LIBRARIES) or not all(doc["libraries"].values()):
        fail("version --json libraries: %r" % doc["libraries"])
    if expected_version and m.group(1) != expected_version:
        fail("version %s, expected %s" % (m.group(1), expected_version))
    return m.group(1)


def check_version(binary, expected_version):
    check_version_output(binary, expected_version)
    print("version: ok")


def commands(binary):
    """The commands `--help` lists."""
    text = run([binary, "--help"])
    block = text.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines()]


def options(binary, command):
    """The options `COMMAND --help` lists: --long and -x names."""
    names = []
    for line in run([binary, command, "--help"]).split("Options:\n", 1)[1].splitlines():
        m = re.match(r"^  (?:-(\w), )? *--([\w-]+)", line)
        if m:
            names += ["--" + m.group(2)] + (["-" + m.group(1)] if m.group(1) else [])
    return names


def check_clean_page(page):
    """The page renders without a warning from groff or man; returns what man shows."""
    p = subprocess.run(["groff", "-mandoc", "-ww", "-z", page], capture_output=True, text=True)
    if p.returncode != 0 or p.stderr:
        fail("groff -ww %s: %s" % (page, p.stderr))
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    env.pop("MAN_KEEP_FORMATTING", None)
    p = subprocess.run(["man", "--warnings", "-l", page], capture_output=True, text=True, env=env)
    if p.returncode != 0 or p.stderr:
        fail("man --warnings -l %s: %s" % (page, p.stderr))
    return p.stdout


def topology_page_keys(page):
    """The keys rdsbk-topology(5) documents: each `.It Cm NAME` under the .Ss of its mapping
    ("Top level" for the top-level keys) as MAPPING.NAME."""
    keys, section = [], None
    for line in open(page, encoding="utf-8"):
        if line.startswith(".Ss "):
            section = line[4:].strip()
        elif line.startswith(".It Cm ") and section:
            name = line.split()[2]
            keys.append(name if section == "Top level" else section + "." + name)
    return keys


def check_topology_page(page, docgen, binary):
    """Every key the parser accepts is in the page, and no other; its example validates."""
    accepted = run([docgen, "topology-keys"]).split()
    documented = topology_page_keys(page)
    missing = [k for k in accepted if k not in documented]
    unknown = [k for k in documented if k not in accepted]
    if missing or unknown or len(documented) != len(set(documented)):
        fail("rdsbk-topology.5: keys the parser accepts but the page lacks: %s; keys the page "
             "documents but the parser refuses: %s" % (missing, unknown))
    text = open(page, encoding="utf-8").read()
    example = text.split(".Sh EXAMPLES\n.Bd -literal -offset indent\n", 1)[1].split(".Ed")[0]
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        f.write(example)
        f.flush()
        run([binary, "validate", "-f", f.name])
    return len(accepted)


def check_man(man1, man5, docgen, binary):
    """Both pages render cleanly; rdsbk-provision(1) has every command and every option --help
    lists; rdsbk-topology(5) every key of the parser."""
    shown = check_clean_page(man1)
    check_clean_page(man5)
    n = 0
    for command in commands(binary):
        section = shown.split("\n   %s\n" % command, 1)
        if len(section) != 2:
            fail("rdsbk-provision.1 has no section for %s" % command)
        section = re.split(r"\n {0,3}(?=\S)", section[1], 1)[0]  # to the next heading
        for name in options(binary, command):
            n += 1
            if not re.search(r"(^|[ ,])%s\b" % re.escape(name), section, re.M):
                fail("rdsbk-provision.1, %s: no %s" % (command, name))
    keys = check_topology_page(man5, docgen, binary)
    print("man: both pages clean; %d options of %d commands in rdsbk-provision.1; %d keys in "
          "rdsbk-topology.5" % (n, len(commands(binary)), keys))


def bash_complete(script, words, cwd):
    """COMPREPLY of the bash completion for the command line `words` (the last is the word
    being completed), sorted."""
    program = ('. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); '
               '_rdsbk_provision; printf "%s\\n" "${COMPREPLY[@]}"')
    out = run(["bash", "--norc", "-c", program, "bash", script] + words, cwd=cwd)
    return sorted(line for line in out.splitlines() if line)


def check_bash(script, binary):
    """The bash completion completes the commands, each command's options (exactly those of its
    --help), the words of a first argument, and files, directories or nothing as option values."""
    cases = [(["rdsbk-provision", ""], sorted(commands(binary) + ["--help", "-h", "--version"])),
             (["rdsbk-provision", "pl"], ["plan"]),
             (["rdsbk-provision", "state", ""],
              sorted(["list", "show", "rm", "unlock", "pull", "push", "migrate"])),
             (["rdsbk-provision", "-v", "state", "--json", "pu"], ["pull", "push"]),
             (["rdsbk-provision", "help", "va"], ["validate"]),
             (["rdsbk-provision", "plan", "--file", ""], ["a.yaml", "d", "plan.bin"]),
             (["rdsbk-provision", "plan", "--file", "=", "a"], ["a.yaml"]),
             (["rdsbk-provision", "plan", "-o", "pl"], ["plan.bin"]),
             (["rdsbk-provision", "generate", "-o", ""], ["d"]),
             (["rdsbk-provision", "plan", "--parallelism", ""], []),
             (["rdsbk-provision", "apply", "-f", "a.yaml", "pl"], ["plan.bin"]),
             (["rdsbk-provision", "apply", "plan.bin", ""], []),
             (["rdsbk-provision", "validate", ""], []),
             (["rdsbk-provision", "state", "push", "pl"], ["plan.bin"]),
             (["rdsbk-provision", "plan", "--detailed"], ["--detailed-exitcode"])]
    for command in commands(binary):
        cases.append((["rdsbk-provision", command, "-"], sorted(options(binary, command))))
    with tempfile.TemporaryDirectory() as cwd:
        open(os.path.join(cwd, "a.yaml"), "w").close()
        open(os.path.join(cwd, "plan.bin"), "w").close()
        os.mkdir(os.path.join(cwd, "d"))
        for words, expected in cases:
            got = bash_complete(script, words, cwd)
            if got != expected:
                fail("bash: %s: %s, expected %s" % (" ".join(words), got, expected))
    print("bash: %d command lines complete as expected" % len(cases))


def zsh_complete(driver, fpath, line):
    """What zsh lists for `line` and a tab, escape sequences left out."""
    out = run(["zsh", "-f", driver, fpath, line], timeout=60)
    return re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", out).replace("\r", "")


def check_zsh(script, driver, binary):
    """The zsh completion, in an interactive zsh: commands with their summaries, each command's
    options with their help, the words of state's first argument."""
    if not shutil.which("zsh"):
        print("zsh: not installed, skipped")
        sys.exit(77)
    with tempfile.TemporaryDirectory() as fpath:
        shutil.copy(script, os.path.join(fpath, "_rdsbk-provision"))
        shown = zsh_complete(driver, fpath, "rdsbk-provision ")
        for command in commands(binary):
            if not re.search(r"^%s +-- " % command, shown, re.M):
                fail("zsh: rdsbk-provision <tab> does not list %s:\n%s" % (command, shown))
        n = 0
        for command in commands(binary):
            shown = zsh_complete(driver, fpath, "rdsbk-provision %s --" % command)
            for name in options(binary, command):
                n += 1
                listed = re.search(r"^%s\b.* -- " % name, shown, re.M)
                completed = "rdsbk-provision %s %s " % (command, name) in shown  # the only one
                if name.startswith("--") and not listed and not completed:
                    fail("zsh: rdsbk-provision %s -- <tab> lacks %s:\n%s" % (command, name, shown))
        shown = zsh_complete(driver, fpath, "rdsbk-provision state ")
        for word in ["list", "show", "rm", "unlock", "pull", "push", "migrate"]:
            if not re.search(r"\b%s\b" % word, shown):
                fail("zsh: rdsbk-provision state <tab> lacks %s:\n%s" % (word, shown))
    print("zsh: the commands, %d options and the state subcommands complete" % n)


# What `cmake --install` puts under the prefix (bin/ and share/), examples aside.
INSTALLED = ["bin/rdsbk-provision",
             "share/bash-completion/completions/rdsbk-provision",
             "share/doc/rdsbk-provision/README.md",
             "share/man/man1/rdsbk-provision.1",
             "share/man/man5/rdsbk-topology.5",
             "share/rdsbk-provision/topology.schema.json"]
ZSH_SITE = "share/zsh/site-functions/_rdsbk-provision"
ZSH_DEBIAN = "share/zsh/vendor-completions/_rdsbk-provision"  # with the prefix /usr


def check_installed_tree(prefix, examples, version, zsh=ZSH_SITE):
    """The files under `prefix` are INSTALLED, the zsh completion and the examples (`examples`:
    the source's examples/ directory); the binary runs; man finds both pages by name."""
    files = sorted(os.path.relpath(os.path.join(d, f), prefix)
                   for d, _, names in os.walk(prefix) for f in names)
    expected = sorted(INSTALLED + [zsh] + [
        os.path.join("share/doc/rdsbk-provision/examples", os.path.relpath(os.path.join(d, f), examples))
        for d, _, names in os.walk(examples) for f in names])
    if files != expected:
        fail("installed %s, expected %s" % (files, expected))
    check_version_output(os.path.join(prefix, "bin/rdsbk-provision"), version)
    env = dict(os.environ, MANPATH=os.path.join(prefix, "share/man"), MANWIDTH="80")
    for page in ["rdsbk-provision", "rdsbk-topology"]:
        if "SEE ALSO" not in run(["man", page], env=env):
            fail("man %s: not found under %s" % (page, prefix))
    return len(files)


def check_tree(build, examples, version):
    """`cmake --install BUILD --prefix TMP` installs exactly what it should, and it works."""
    with tempfile.TemporaryDirectory() as prefix:
        run(["cmake", "--install", build, "--prefix", prefix])
        n = check_installed_tree(prefix, examples, version)
    print("tree: %d files installed, the binary runs, man finds both pages" % n)


DEB_DEPENDS = ["libcurl4", "libssl3", "libcjson1", "libxml2", "libyaml-0-2", "zlib1g", "libc6",
               "ca-certificates"]


def build_packages(source, work):
    """A Release build of the tool alone (no tests, the prefix /usr as in the .deb) in WORK/build,
    kept between runs so that a second run only builds what changed, and its .deb and .tar.gz in
    WORK/packages. Returns (deb, tgz, seconds)."""
    start = time.monotonic()
    build, out = os.path.join(work, "build"), os.path.join(work, "packages")
    if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
        run(["cmake", "-S", source, "-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DRDSBK_TESTS=OFF",
             "-DCMAKE_INSTALL_PREFIX=/usr"])
    run(["cmake", "--build", build, "--parallel", "2"])
    shutil.rmtree(out, ignore_errors=True)
    run(["cpack", "-G", "DEB;TGZ", "-B", out], cwd=build)
    debs, tgzs = glob.glob(out + "/*.deb"), glob.glob(out + "/*.tar.gz")
    if len(debs) != 1 or len(tgzs) != 1:
        fail("cpack made %s" % os.listdir(out))
    return debs[0], tgzs[0], time.monotonic() - start


def check_deb(deb, version, examples):
    """dpkg -I: the Depends dpkg-shlibdeps found; dpkg -x: the tree under /usr, the binary
    runs, the pages render cleanly."""
    info = run(["dpkg-deb", "-I", deb])
    depends = re.search(r"^ Depends: (.*)$", info, re.M)
    names = [d.strip().split(" ")[0] for d in depends.group(1).split(",")] if depends else []
    if sorted(names) != sorted(DEB_DEPENDS):
        fail("%s: Depends %s, expected %s" % (deb, names, DEB_DEPENDS))
    with tempfile.TemporaryDirectory() as root:
        run(["dpkg-deb", "-x", deb, root])
        prefix = os.path.join(root, "usr")
        check_installed_tree(prefix, examples, version, ZSH_DEBIAN)
        for page in ["man1/rdsbk-provision.1", "man5/rdsbk-topology.5"]:
            check_clean_page(os.path.join(prefix, "share/man", page))
    return depends.group(1)


def check_tgz(tgz, version, examples):
    """The .tar.gz: the same tree under one top directory; the binary runs."""
    with tempfile.TemporaryDirectory() as root:
        run(["tar", "-xzf", tgz, "-C", root])
        tops = os.listdir(root)
        if len(tops) != 1:
            fail("%s: top directories %s" % (tgz, tops))
        check_installed_tree(os.path.join(root, tops[0]), examples, version, ZSH_DEBIAN)


def check_package(source, work, version):
    """cpack -G DEB and -G TGZ from a Release build, each checked."""
    deb, tgz, seconds = build_packages(source, work)
    depends = check_deb(deb, version, os.path.join(source, "examples"))
    check_tgz(tgz, version, os.path.join(source, "examples"))
    print("package: %s (%d bytes; Depends: %s) and %s (%d bytes), built in %.0f s" % (
        os.path.basename(deb), os.path.getsize(deb), depends, os.path.basename(tgz),
        os.path.getsize(tgz), seconds))


CHECKS = {"package": check_package, "tree": check_tree, "version": check_version, "man": check_man, "bash": check_bash, "zsh": check_zsh}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in CHECKS:
        fail("usage: check.py {%s} ARGS..." % ",".join(CHECKS))
    CHECKS[sys.argv[1]](*sys.argv[2:])
