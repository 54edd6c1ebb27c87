#!/usr/bin/python3
"""Checks of what gets installed: `version`, the man pages, the shell completions, the installed
tree and the packages. One check per CTest test: check.py CHECK ARGS... (see tests.cmake)."""
import json
import re
import subprocess
import sys

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


CHECKS = {"version": check_version}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in CHECKS:
        fail("usage: check.py {%s} ARGS..." % ",".join(CHECKS))
    CHECKS[sys.argv[1]](*sys.argv[2:])
