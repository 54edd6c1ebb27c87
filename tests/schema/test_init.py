"""rdsbk-provision init: what it writes passes validate and the schema.

usage: /usr/bin/python3 tests/schema/test_init.py PATH/TO/rdsbk-provision SCHEMA_LOCATION

SCHEMA_LOCATION is the installed schema's path that the binary was built to name
(RDSBK_SCHEMA_LOCATION). Each test runs init in a directory of its own; questions are answered
through a pseudo-terminal, as a person at a terminal would.
"""

import json
import os
import pty
import shutil
import subprocess
import sys
import tempfile
import unittest

import jsonschema

import topology_yaml
from topology_yaml import ROOT

BIN = None
LOCATION = None
FLAGS = ["--stack", "orders-dr", "--backup-account", "222222222222", "--backup-region",
         "eu-west-1", "--source-account", "111111111111", "--source-region", "eu-central-1",
         "--instances", "orders-db, Billing-*", "--clusters", "aurora-main"]

with open(os.path.join(ROOT, "schema", "topology.schema.json"), encoding="utf-8") as _f:
    VALIDATOR = jsonschema.Draft202012Validator(json.load(_f))


class InitTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="rdsbk-init-")
        self.path = os.path.join(self.dir, "rdsbk.yaml")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def init(self, *args, rc=0, stdin=subprocess.DEVNULL):
        proc = subprocess.run([BIN, "init"] + list(args), cwd=self.dir, stdin=stdin,
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, rc, "init %s:\n%s%s" % (" ".join(args), proc.stdout,
                                                                  proc.stderr))
        return proc

    def assert_valid(self, path):
        """`path` passes validate and the schema; returns its text."""
        proc = subprocess.run([BIN, "validate", "-f", path], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stderr, "")  # not even a warning
        with open(path, "rb") as f:
            text = f.read()
        errors = [e.message for e in VALIDATOR.iter_errors(topology_yaml.load(text))]
        self.assertEqual(errors, [])
        return text.decode()

    def test_non_interactive_writes_a_valid_topology(self):
        out = self.init("--non-interactive", *FLAGS).stdout
        self.assertIn("Wrote rdsbk.yaml (stack orders-dr)", out)
        text = self.assert_valid(self.path)
        self.assertEqual(text.splitlines()[0], "# yaml-language-server: $schema=" + LOCATION)
        data = topology_yaml.load(text)
        self.assertEqual(data["sources"][0]["instances"], ["orders-db", "billing-*"])
        self.assertEqual(data["sources"][0]["clusters"], ["aurora-main"])
        self.assertEqual(data["backup"], {"account": "222222222222", "region": "eu-west-1"})

    def test_schema_url_and_file(self):
        url = "https://example.com/rdsbk/topology.schema.json"
        self.init("--non-interactive", "-f", "other.yaml", "--schema-url", url, *FLAGS[:-2])
        text = self.assert_valid(os.path.join(self.dir, "other.yaml"))
        self.assertEqual(text.splitlines()[0], "# yaml-language-server: $schema=" + url)
        self.assertNotIn("clusters", topology_yaml.load(text)["sources"][0])
        self.assertFalse(os.path.exists(self.path))
        proc = self.init("--non-interactive", "--schema-url", "x\n# injected", *FLAGS, rc=1)
        self.assertIn("--schema-url must be one line", proc.stderr)

    def test_refuses_to_overwrite_without_force(self):
        with open(self.path, "w") as f:
            f.write("mine\n")
        proc = self.init("--non-interactive", *FLAGS, rc=1)
        self.assertEqual(proc.stderr, "rdsbk-provision: error: rdsbk.yaml already exists; pass "
                                      "--force to replace it\n")
        with open(self.path) as f:
            self.assertEqual(f.read(), "mine\n")
        self.init("--non-interactive", "--force", *FLAGS)
        self.assert_valid(self.path)

    def test_missing_flags_are_named_in_one_line(self):
        proc = self.init("--non-interactive", "--stack", "s", "--source-region", "eu-central-1",
                         rc=1)
        self.assertEqual(proc.stderr,
                         "rdsbk-provision: error: init: missing --backup-account, "
                         "--backup-region, --source-account and --instances or --clusters: "
                         "without a terminal, or with --non-interactive, every value comes "
                         "from the options\n")
        # standard input that is not a terminal asks nothing either
        proc = self.init(*FLAGS[:-4], rc=1)
        self.assertIn("missing --instances or --clusters", proc.stderr)
        self.assertFalse(os.path.exists(self.path))

    def test_values_are_checked_as_the_parser_checks_them(self):
        cases = [
            (["--backup-account", "22222222222a"],
             "--backup-account: '22222222222a' is not a 12-digit AWS account id"),
            (["--source-region", "eu-centrl"],
             "--source-region: 'eu-centrl' is not a Region name like eu-west-1"),
            (["--stack", "Orders"], "--stack: 'Orders' must start with a lower-case letter"),
            (["--instances", "db,a--b"],
             "--instances: 'a--b' must not contain two hyphens in a row"),
            (["--clusters", "c,,d"], "--clusters: '' is an empty identifier"),
        ]
        for change, message in cases:
            proc = self.init("--non-interactive", *(FLAGS + change), rc=1)
            self.assertIn(message, proc.stderr)
        # what only the whole file shows, as validate shows it: nothing is written
        proc = self.init("--non-interactive", *(FLAGS + ["--source-account", "222222222222"]),
                         rc=1)
        self.assertEqual(proc.stderr.splitlines(), [
            "rdsbk-provision init: sources[0]: account 222222222222 is also the backup account; "
            "the backup account must be a different account",
            "rdsbk-provision: error: rdsbk.yaml not written: the values above make no valid "
            "topology"])
        self.assertFalse(os.path.exists(self.path))

    def test_questions_on_a_terminal(self):
        answers = ["Orders", "orders-dr", "123", "222222222222", "eu-west-1", "111111111111",
                   "eu-central-1", "", "", "Orders-DB, billing-*", ""]
        master, slave = pty.openpty()
        try:
            proc = subprocess.Popen([BIN, "init"], cwd=self.dir, stdin=slave,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            os.close(slave)
            os.write(master, ("\n".join(answers) + "\n").encode())
            out, err = proc.communicate(timeout=60)
        finally:
            os.close(master)
        self.assertEqual(proc.returncode, 0, err)
        for said in ("Stack name", "'Orders' must start with a lower-case letter",
                     "'123' is not a 12-digit AWS account id", "Backup Region",
                     "name at least one DB instance or cluster"):
            self.assertIn(said, err)
        self.assertIn("Wrote rdsbk.yaml", out)
        text = self.assert_valid(self.path)
        self.assertEqual(topology_yaml.load(text)["sources"][0]["instances"],
                         ["orders-db", "billing-*"])

    def test_help(self):
        out = self.init("--help").stdout
        for option in ("--schema-url URL", "--non-interactive", "--force", "--instances A,B"):
            self.assertIn(option, out)
        self.assertIn(LOCATION, out)


if __name__ == "__main__":
    BIN = os.path.abspath(sys.argv[1])
    LOCATION = sys.argv[2]
    unittest.main(argv=sys.argv[:1] + sys.argv[3:])
