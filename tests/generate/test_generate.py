"""`rdsbk-provision generate`: deterministic, complete, and every artefact valid.

usage: /usr/bin/python3 tests/generate/test_generate.py PATH/TO/rdsbk-provision [unittest args]

Every JSON file must parse; every event pattern must be accepted by the emulator's
TestEventPattern (the same check AWS makes) and match a sample event built from it, and not match
the same event from another source; the zips must be valid and their CodeSha256 must be the one
each function's configuration names.
"""

import base64
import filecmp
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))

from harness import Harness  # noqa: E402

BIN = None
EXAMPLES = ["basic.yaml", "fan-in.yaml", "local.yaml"]


def sample_value(matcher):
    """A value that the first alternative of a pattern leaf accepts."""
    if isinstance(matcher, dict):
        if "wildcard" in matcher:
            return matcher["wildcard"].replace("*", "2026-11-28-01-00")
        if "prefix" in matcher:
            return matcher["prefix"] + "x"
        if "exists" in matcher:
            return "x"
        raise ValueError("no sample for %r" % matcher)
    return matcher


def sample_event(pattern):
    def build(p):
        out = {}
        for key, value in p.items():
            if isinstance(value, dict):
                out[key] = build(value)
            else:
                out[key] = sample_value(value[0])
        return out

    event = {"id": "1", "version": "0", "time": "2026-11-28T01:00:00Z",
             "region": "eu-west-1", "resources": [], "account": "111111111111",
             "source": "x", "detail-type": "x", "detail": {}}
    event.update(build(pattern))
    return event


class GenerateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.harness = Harness().start()
        cls.events = cls.harness.client("events", region="eu-west-1")

    @classmethod
    def tearDownClass(cls):
        cls.harness.stop()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="rdsbk-generate-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def generate(self, example, name):
        out = os.path.join(self.dir, name)
        subprocess.run([BIN, "generate", "-f", os.path.join(ROOT, "examples", example), "-o", out],
                       check=True, capture_output=True, text=True)
        return out

    def assert_same_tree(self, a, b):
        cmp = filecmp.dircmp(a, b)
        self.assertEqual(cmp.left_only + cmp.right_only, [])
        _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
        self.assertEqual(mismatch + errors, [])
        for sub in cmp.common_dirs:
            self.assert_same_tree(os.path.join(a, sub), os.path.join(b, sub))

    def test_deterministic(self):
        for example in EXAMPLES:
            with self.subTest(example):
                self.assert_same_tree(self.generate(example, example + ".1"),
                                      self.generate(example, example + ".2"))

    def test_every_artefact_is_valid(self):
        for example in EXAMPLES:
            with self.subTest(example):
                out = self.generate(example, example)
                with open(os.path.join(out, "resources.json")) as f:
                    resources = json.load(f)
                addresses = {r["address"] for r in resources}
                for r in resources:
                    self.assertTrue(set(r["dependencies"]) <= addresses, r["address"])
                rules = [r for r in resources if r["type"] == "events_rule"]
                schedules = [r for r in rules
                             if r["address"].endswith((".sweep", ".copy_sweep", ".prune"))]
                patterns = []
                for dirpath, _, files in os.walk(out):
                    for name in files:
                        path = os.path.join(dirpath, name)
                        if name.endswith(".json"):
                            with open(path) as f:
                                doc = json.load(f)  # every JSON file parses
                            if name.endswith(".pattern.json"):
                                patterns.append((name, doc))
                self.assertEqual(len(patterns), len(rules) - len(schedules))
                for r in schedules:
                    name = r["address"].replace("/", "_") + ".rule.json"
                    with open(os.path.join(out, "events", name)) as f:
                        self.assertEqual(json.load(f)["schedule_expression"],
                                         "rate(30 minutes)")
                for name, pattern in patterns:
                    text = json.dumps(pattern)
                    event = sample_event(pattern)
                    self.assertTrue(self.events.test_event_pattern(
                        EventPattern=text, Event=json.dumps(event))["Result"], name)
                    event["source"] = "not.this.source"
                    self.assertFalse(self.events.test_event_pattern(
                        EventPattern=text, Event=json.dumps(event))["Result"], name)
                with open(os.path.join(out, "kms", "key-policy.json")) as f:
                    self.assertIn("Statement", json.load(f))
                with open(os.path.join(out, "events", "bus-policy.json")) as f:
                    bus = json.load(f)
                sources = {r["account"] for r in resources if r["address"].startswith("source[")}
                [statement] = bus["Statement"]
                principals = {arn.split(":")[4] for arn in statement["Principal"]["AWS"]}
                self.assertEqual(principals, sources)

    def test_zips_match_the_function_configurations(self):
        out = self.generate("fan-in.yaml", "zips")
        functions = os.path.join(out, "functions")
        shas = {}
        for name in ("copy", "share", "backup-copy"):
            path = os.path.join(functions, name + ".zip")
            with zipfile.ZipFile(path) as z:
                self.assertIsNone(z.testzip())
                self.assertIn("rdsbk_common.py", z.namelist())
            with open(path, "rb") as f:
                shas[name] = base64.b64encode(hashlib.sha256(f.read()).digest()).decode()
        configs = [n for n in os.listdir(functions) if n.endswith(".json")]
        self.assertEqual(len(configs), 3 * 2 + 1)  # copy and share per account, one backup-copy
        for n in configs:
            with open(os.path.join(functions, n)) as f:
                cfg = json.load(f)
            self.assertEqual(cfg["code_sha256"], shas[cfg["package"]], n)


def main():
    global BIN
    BIN = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)


if __name__ == "__main__":
    main()
