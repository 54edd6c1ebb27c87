"""schema/topology.schema.json and the parser agree.

usage: /usr/bin/python3 tests/schema/test_schema.py PATH/TO/rdsbk-provision

Every topology the suite uses (tests/schema/sources.py) and a set of generated cases, one key
wrong at a time (cases.py), is judged twice: by `rdsbk-provision validate -f FILE` (exit status 0:
accepted) and by jsonschema's Draft202012Validator on the file as an editor reads it
(topology_yaml.py). A file that is no YAML document a schema could judge counts as refused.

- A file of the suite: accepted by both or refused by both, unless DISAGREEMENTS lists it.
- A generated case: each side as the case expects (cases.py lists the few documented gaps).
- Every DISAGREEMENTS entry must still be one, so that the list stays short and true.
Also: the schema is a valid 2020-12 schema, and its tag characters are the parser's.
"""

import concurrent.futures
import fnmatch
import json
import os
import subprocess
import sys
import tempfile
import time

import jsonschema

import cases
import sources
import topology_yaml
from topology_yaml import ROOT

SCHEMA = os.path.join(ROOT, "schema", "topology.schema.json")

# Files of the suite whose only errors are ones a schema cannot express: (glob of the case's
# name, a text the case holds or None, why). The C literals are named FILE:LINE.
DISAGREEMENTS = [
    ("tests/*/*backup-is-source.yaml", None,
     "the backup account is also a source account: a relation between two values"),
    ("tests/*/*same-region.yaml", None,
     "a source in the backup Region: a relation between two values"),
    ("tests/*/*duplicate-source.yaml", None,
     "one account and Region listed twice: uniqueItems compares whole sources"),
    ("tests/topologies/bad/bad-max-age.yaml", None,
     "20m is a duration; its range (1h..90d) is arithmetic on it"),
    ("tests/topologies/bad/mixed-case.yaml", None,
     "orders-db and Orders-DB are one database to RDS; uniqueItems is case-sensitive"),
    ("tests/unit/test_config.c:*", b"account: 012345678901",
     "an unquoted account id with a leading zero: YAML reads the number 12345678901"),
    ("tests/unit/test_config.c:*", b"instances: [orders-db, Orders-DB]",
     "orders-db and Orders-DB are one database to RDS; uniqueItems is case-sensitive"),
]


def parser_accepts(binary, text, workdir, name):
    """Whether `rdsbk-provision validate` accepts `text`; a crash fails the test."""
    path = os.path.join(workdir, "%s.yaml" % name)
    with open(path, "wb") as f:
        f.write(text)
    proc = subprocess.run([binary, "validate", "-f", path], stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=60)
    if proc.returncode not in (0, 1):
        raise RuntimeError("%s: validate exited %d:\n%s" % (name, proc.returncode,
                                                             proc.stderr.decode()[-2000:]))
    first = proc.stderr.decode(errors="replace").strip().splitlines()
    return proc.returncode == 0, first[0] if first else ""


def schema_accepts(validator, text):
    """Whether the schema accepts `text` as an editor reads it, and why not."""
    try:
        data = topology_yaml.load(text)
    except topology_yaml.Unreadable as e:
        return False, "unreadable: %s" % e
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return True, ""
    e = errors[0]
    return False, "%s: %s" % ("/".join(map(str, e.absolute_path)) or "(root)", e.message[:160])


def judge(binary, validator, workdir, items):
    """[(name, parser verdict, parser message, schema verdict, schema message)], in order."""
    def one(i_item):
        i, (name, text) = i_item
        p_ok, p_msg = parser_accepts(binary, text, workdir, "case%04d" % i)
        s_ok, s_msg = schema_accepts(validator, text)
        return name, p_ok, p_msg, s_ok, s_msg
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(one, enumerate(items)))


def check_schema_itself(schema, problems):
    jsonschema.Draft202012Validator.check_schema(schema)
    want = topology_yaml.tag_pattern()
    if schema["$defs"]["tagText"]["pattern"] != want:
        problems.append("$defs/tagText/pattern is not src/config/tag_chars.c's table; it should "
                        "be (as JSON):\n%s" % json.dumps(want))


def check_suite(results, texts, problems):
    """Files and texts of the suite: agreement, or a listed disagreement (and each one used)."""
    used = set()
    for name, p_ok, p_msg, s_ok, s_msg in results:
        listed = [i for i, (where, needle, _) in enumerate(DISAGREEMENTS)
                  if fnmatch.fnmatch(name, where) and (needle is None or needle in texts[name])]
        used.update(listed)
        if (p_ok == s_ok) == (not listed):
            continue
        if listed:
            problems.append("%s: listed as a disagreement (%s) but both %s it" % (
                name, DISAGREEMENTS[listed[0]][2], "accept" if p_ok else "refuse"))
        else:
            problems.append("%s: the parser %s it (%s), the schema %s it (%s)" % (
                name, "accepts" if p_ok else "refuses", p_msg or "-",
                "accepts" if s_ok else "refuses", s_msg or "-"))
    for i, (where, needle, why) in enumerate(DISAGREEMENTS):
        if i not in used:
            problems.append("DISAGREEMENTS entry %s %r (%s) matches no case" % (where, needle, why))


def check_generated(results, expected, problems):
    for name, p_ok, p_msg, s_ok, s_msg in results:
        want_p, want_s = expected[name]
        if p_ok != want_p:
            problems.append("%s: the parser %s it, expected otherwise (%s)" % (
                name, "accepts" if p_ok else "refuses", p_msg or "-"))
        if s_ok != want_s:
            problems.append("%s: the schema %s it, expected otherwise (%s)" % (
                name, "accepts" if s_ok else "refuses", s_msg or "-"))


def main():
    binary = os.path.abspath(sys.argv[1])
    started = time.monotonic()
    with open(SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    check_schema_itself(schema, problems)
    suite = sources.files() + sources.python_writers() + sources.c_literals()
    generated = cases.generated()
    with tempfile.TemporaryDirectory(prefix="rdsbk-schema-") as workdir:
        suite_results = judge(binary, validator, workdir, [(c.name, c.text) for c in suite])
        gen_results = judge(binary, validator, workdir, [(c.name, c.text) for c in generated])
    check_suite(suite_results, {c.name: c.text for c in suite}, problems)
    check_generated(gen_results, {c.name: (c.parser, c.schema) for c in generated}, problems)
    accepted = sum(1 for r in suite_results if r[1])
    gaps = sum(1 for c in generated if c.parser != c.schema)
    print("schema: %d topologies of the suite (%d valid), %d listed disagreements; %d generated "
          "cases (%d documented gaps); %.1f s" % (len(suite), accepted, len(DISAGREEMENTS),
                                                   len(generated), gaps,
                                                   time.monotonic() - started))
    for p in problems:
        print("FAIL " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
