"""The topologies the test suite uses, gathered for tests/schema/test_schema.py.

Each is a Case: a name (where it comes from), its text, and the file it came from (None when a
test writes it). Three kinds: the files (examples, tests/topologies/bad, the fuzz corpus), the
texts the Python suites write (their own topology writers, called as their tests call them), and
the whole topologies written as C string literals in the C tests (tests/**/*.c).
"""

import collections
import glob
import importlib.util
import os
import re
import sys

from topology_yaml import ROOT

Case = collections.namedtuple("Case", "name text")


def files():
    """examples/*.yaml, tests/topologies/bad/*.yaml and tests/fuzz/corpus/topology/*.yaml."""
    out = []
    for pattern in ("examples/*.yaml", "tests/topologies/bad/*.yaml",
                    "tests/fuzz/corpus/topology/*.yaml"):
        for path in sorted(glob.glob(os.path.join(ROOT, pattern))):
            with open(path, "rb") as f:
                out.append(Case(os.path.relpath(path, ROOT), f.read()))
    return out


def _module(relpath, name):
    """The Python test module at `relpath`, imported without running its tests."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, relpath))
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.dirname(spec.origin))
    spec.loader.exec_module(module)
    return module


class _Emulator:
    url = "http://127.0.0.1:4566"


def python_writers():
    """What the Python suites' topology writers write, with the arguments their tests pass."""
    engine = _module("tests/engine/test_engine.py", "rdsbk_test_engine")
    drill = _module("tests/drill/test_drill.py", "rdsbk_test_drill")
    common = _module("tests/reliability/common.py", "rdsbk_reliability_common")
    remote = _module("tests/state/test_remote_state.py", "rdsbk_test_remote_state")
    engine.H = drill.H = _Emulator
    a, b, c, ra = engine.A, engine.B, engine.C, engine.RA
    key = "arn:aws:kms:eu-central-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    fan_in = [{"account": a, "region": ra, "instances": ["orders-db"]},
              {"account": c, "region": "us-east-1", "instances": ["db-*"],
               "clusters": ["aurora-main"]}]
    calls = {
        "engine defaults": lambda: engine.topology(),
        "engine tags, timeout": lambda: engine.topology(tags={"team": "data"}, timeout=120),
        "engine prevent_destroy": lambda: engine.topology(prevent_destroy=True),
        "engine single-Region key": lambda: engine.topology(multi_region=False),
        "engine fan-in": lambda: engine.topology(stack="fan", sources=fan_in),
        "engine clusters only": lambda: engine.topology(
            sources=[{"account": a, "region": ra, "clusters": ["aurora-main"]}]),
        "engine kms_keys": lambda: engine.topology(
            sources=[{"account": a, "region": ra, "instances": ["orders-db"], "kms_keys": [key]}]),
        "engine option_groups": lambda: engine.topology(
            sources=[{"account": a, "region": ra, "instances": ["ledger-db"],
                      "option_groups": {"ledger-db": "ledger-tde-b"}}]),
        "drill defaults": lambda: drill.topology(),
        "drill backup role": lambda: drill.topology(
            backup_role="arn:aws:iam::222222222222:role/rdsbk-deployer"),
        "reliability defaults": lambda: common.topology_text(_Emulator.url),
        "reliability endpoints": lambda: common.topology_text(
            _Emulator.url, stack="ep", endpoints={"kms": "http://127.0.0.1:4567"},
            backup_profile="deployer-b"),
        "state in S3": lambda: common.topology_text(
            _Emulator.url, stack="s3st", extra=remote.state_yaml("rdsbk/s3st.json")),
        "state in S3, SSE-KMS": lambda: common.topology_text(
            _Emulator.url, stack="s3st", extra=remote.state_yaml(
                "k", region="eu-west-1",
                kms_key_id="arn:aws:kms:eu-west-1:222222222222:key/1234abcd")),
    }
    return [Case("python: " + name, call().encode()) for name, call in calls.items()]


_TOKEN = re.compile(r'//[^\n]*|/\*.*?\*/|\'(?:[^\'\\\n]|\\.)*\'|"((?:[^"\\\n]|\\.)*)"|\\\n|\s+|.',
                    re.S)
_ESCAPE = re.compile(r'\\(x[0-9A-Fa-f]+|[0-7]{1,3}|.)', re.S)
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", '"': '"', "'": "'", "\\": "\\"}


def _unescape(body):
    """The bytes of a C string literal's body."""
    def one(m):
        e = m.group(1)
        if e[0] == "x":
            return chr(int(e[1:], 16))
        if e[0] in "01234567" and e not in _SIMPLE:
            return chr(int(e, 8))
        return _SIMPLE.get(e, e)
    return _ESCAPE.sub(one, body).encode("latin-1")


def c_literals():
    """Each whole topology (starting "version: 1", no printf conversion) that a C test writes as
    adjacent string literals; a macro or variable in between ends one."""
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "**", "*.c"), recursive=True)):
        with open(path, encoding="latin-1") as f:
            text = f.read()
        run, start = [], 0
        for m in _TOKEN.finditer(text + ";"):
            token = m.group(0)
            if m.group(1) is not None:
                start = start if run else m.start()
                run.append(_unescape(m.group(1)))
            elif not (token.isspace() or token == "\\\n" or token.startswith(("//", "/*"))):
                literal = b"".join(run)
                if literal.startswith(b"version: 1") and b"%" not in literal:
                    line = text.count("\n", 0, start) + 1
                    out.append(Case("%s:%d" % (os.path.relpath(path, ROOT), line), literal))
                run = []
    return out
