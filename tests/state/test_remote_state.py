"""The state in S3 end to end: rdsbk-provision (the C binary) against the local emulator's S3.

usage: /usr/bin/python3 tests/state/test_remote_state.py PATH/TO/rdsbk-provision [unittest args]

One emulator for the file (tests/reliability/common.py's Workspace: the tool's environment, the
emulator's inventory read back as the state's (type, account, region, id) set), reset before each
test; each test has a directory of its own and the bucket `rdsbk-states` of the backup account
in Region-B, made with boto3 (the tool never creates it). The state is addressed through the
topology's `state:` or `--state s3://...`, S3 through `endpoints.default` (path-style: the
endpoint is an IP address).
"""

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reliability"))

import common  # noqa: E402
from common import A, B, RB  # noqa: E402

BIN = None
W = None  # the Workspace: one emulator for every test
BUCKET = "rdsbk-states"
IAM_TYPES = ("iam_role", "iam_role_policy")


def state_yaml(key, region=None, kms_key_id=None, bucket=BUCKET):
    lines = ["state:", "  bucket: %s" % bucket, "  key: %s" % key, '  profile: "%s"' % B]
    if region:
        lines.append("  region: %s" % region)
    if kms_key_id:
        lines.append("  kms_key_id: %s" % kms_key_id)
    return "\n".join(lines) + "\n"


class RemoteStateCase(unittest.TestCase):

    def setUp(self):
        status, _ = W.harness.control("POST", "/_emu/reset")
        self.assertEqual(status, 200)
        W.dir = tempfile.mkdtemp(prefix="rdsbk-s3state-")
        W.topo = os.path.join(W.dir, "rdsbk.yaml")
        W.state = os.path.join(W.dir, "rdsbk.state.json")
        self.s3 = W.client("s3", B, RB)
        self.key = "stacks/%s.json" % self._testMethodName
        self.url = "s3://%s/%s" % (BUCKET, self.key)
        self.ignore = set()  # ids of what a test made itself (the state's KMS key)

    def tearDown(self):
        shutil.rmtree(W.dir, ignore_errors=True)

    # -- helpers --------------------------------------------------------------------------

    def make_bucket(self, versioning=True):
        self.s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": RB})
        if versioning:
            self.s3.put_bucket_versioning(Bucket=BUCKET,
                                          VersioningConfiguration={"Status": "Enabled"})

    def write_topology(self, stack="s3st", timeout=60, state=None, path=None):
        text = common.topology_text(W.url, stack=stack, timeout=timeout,
                                    extra=self.state_section() if state is None else state)
        W.sources = [{"account": A, "region": common.RA, "instances": ["orders-db"],
                      "clusters": ["aurora-main"]}]
        with open(path or W.topo, "w") as f:
            f.write(text)

    def state_section(self, **kw):
        return state_yaml(self.key, **kw)

    def run_tool(self, *args, rc=0, topo=None, env=None):
        e = dict(W.env)
        e.update(env or {})
        argv = [BIN] + list(args) + ["-f", topo or W.topo]
        proc = subprocess.run(argv, env=e, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=300)
        if rc is not None and proc.returncode != rc:
            self.fail("rdsbk-provision %s exited %d (expected %d):\n%s\n%s" % (
                " ".join(args), proc.returncode, rc, proc.stdout[-3000:], proc.stderr[-3000:]))
        return proc

    def popen(self, *args, topo=None):
        return subprocess.Popen([BIN] + list(args) + ["-f", topo or W.topo], env=W.env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def object_bytes(self, key=None):
        return self.s3.get_object(Bucket=BUCKET, Key=key or self.key)["Body"].read()

    def exists(self, key):
        try:
            self.s3.head_object(Bucket=BUCKET, Key=key)
            return True
        except self.s3.exceptions.ClientError:
            return False

    def remote_state(self):
        return json.loads(self.object_bytes())

    def state_objects(self, st=None):
        st = st if st is not None else self.remote_state()
        return {(r["type"], r["account"], "global" if r["type"] in IAM_TYPES else r["region"],
                 r["id"]) for r in st["resources"]}

    def pipeline_inventory(self):
        return [r for r in W.live_inventory()
                if r.get("service") != "s3" and r.get("id") not in self.ignore]

    def emulator_objects(self):
        return {o for o in W.emulator_objects() if o[3] not in self.ignore}

    def state_requests(self, operation, key=None):
        path = "/%s/%s" % (BUCKET, key or self.key)
        return [r for r in W.requests()
                if r.get("operation") == operation and r.get("path") == path]

    def assert_converged(self, label=""):
        live = self.pipeline_inventory()
        self.assertEqual(common.duplicates(live), [], label)
        emu, state = self.emulator_objects(), self.state_objects()
        self.assertEqual(emu, state, "%s: only in the emulator %s, only in the state %s" % (
            label, sorted(emu - state), sorted(state - emu)))
        proc = self.run_tool("plan", "--detailed-exitcode", rc=None)
        self.assertEqual(proc.returncode, 0, label + proc.stdout[-2000:] + proc.stderr[-1000:])
        self.assertIn("No changes.", proc.stdout)

    def assert_empty(self, label=""):
        self.assertEqual(self.emulator_objects(), set(), label)
        self.assertEqual(self.pipeline_inventory(), [], label)


class RemoteStateTest(RemoteStateCase):

    def test_apply_plan_destroy_batched_writes(self):
        """apply with the state in S3: one PutObject every 3 s at most (plus the last), not one a
        resource (the emulator slowed to 250 ms a request, so that the apply lasts several
        intervals); encrypted with SSE-S3; the lock gone after the run; plan has no changes;
        destroy leaves nothing."""
        self.make_bucket()
        self.write_topology()
        W.clear_requests()
        W.faults(latency_ms=250)
        try:
            t0 = time.time()
            proc = self.run_tool("apply", "--auto-approve")
            took = time.time() - t0
        finally:
            W.faults(latency_ms=0)
        self.assertNotIn("versioning", proc.stderr)
        puts = self.state_requests("PutObject")
        n = len(self.remote_state()["resources"])
        self.assertGreater(n, 40)
        self.assertGreaterEqual(len(puts), 1)
        self.assertLessEqual(len(puts), int(took / 3.0) + 2, "%d PutObjects in %.1f s" % (
            len(puts), took))
        print("\n  apply of %d resources in %.1f s: %d PutObjects of the state" % (
            n, took, len(puts)), file=sys.stderr)
        self.assertFalse(self.exists(self.key + ".lock"))
        objects = W.control("GET", "/_emu/s3/objects?bucket=" + BUCKET)["objects"]
        latest = [o for o in objects if o["key"] == self.key and o["is_latest"]][0]
        self.assertEqual(latest["sse"], "AES256")
        self.assertEqual(latest["content_type"], "application/json")
        self.assert_converged()
        self.run_tool("destroy", "--auto-approve")
        self.assert_empty()
        self.assertEqual(self.remote_state()["resources"], [])
        self.assertFalse(os.path.exists(W.state), "no local state file is made")

    def test_versioning_off_warns_and_sse_kms(self):
        """A bucket without versioning: one warning line per run. With state.kms_key_id the state
        and its lock are SSE-KMS with that key."""
        self.make_bucket(versioning=False)
        kms = W.client("kms", B, RB)
        meta = kms.create_key(Description="state")["KeyMetadata"]
        key_arn = meta["Arn"]
        self.ignore.update((meta["KeyId"], key_arn))
        self.write_topology(state=self.state_section(kms_key_id=key_arn))
        proc = self.run_tool("apply", "--auto-approve")
        warnings = [line for line in proc.stderr.splitlines() if "versioning is off" in line]
        self.assertEqual(len(warnings), 1, proc.stderr)
        self.assertIn("put-bucket-versioning", warnings[0])
        objects = W.control("GET", "/_emu/s3/objects?bucket=" + BUCKET)["objects"]
        latest = [o for o in objects if o["key"] == self.key and o["is_latest"]][0]
        self.assertEqual((latest["sse"], latest["kms_key"]), ("aws:kms", key_arn))
        self.assert_converged()

    def test_two_applies_at_once(self):
        """Two applies on one S3 state: without --lock-timeout one is refused naming the holder;
        with it the second waits for the first and then runs. No write is lost: the state lists
        every resource the emulator has, and the second run's changes."""
        self.make_bucket()
        self.write_topology()
        # 1. at once, no waiting: exactly one runs
        procs = [self.popen("apply", "--auto-approve") for _ in range(2)]
        results = [(p.pid, p.wait(timeout=300), p.stdout.read(), p.stderr.read()) for p in procs]
        for p in procs:
            p.stdout.close()
            p.stderr.close()
        winners = [r for r in results if r[1] == 0]
        losers = [r for r in results if r[1] != 0]
        self.assertEqual((len(winners), len(losers)), (1, 1),
                         "\n".join(r[3][-1500:] for r in results))
        m = re.search(r"locked by (\S+) \(pid (\d+) on (\S+), apply since \S+, as "
                      r"arn:aws:iam::%s:\S+\); wait for it, or if that run is gone, "
                      r"'rdsbk-provision state unlock' \(lock: %s\.lock\)" % (B, re.escape(self.url)),
                      losers[0][3])
        self.assertIsNotNone(m, losers[0][3])
        self.assertEqual(int(m.group(2)), winners[0][0])
        self.assertEqual(m.group(3), os.uname().nodename)
        self.assert_converged("after the race")
        serial = self.remote_state()["serial"]

        # 2. two changes, both waiting: the second runs on what the first wrote
        other = os.path.join(W.dir, "other.yaml")
        self.write_topology(timeout=90)
        self.write_topology(timeout=120, path=other)
        procs = [self.popen("apply", "--auto-approve", "--lock-timeout", "2m"),
                 self.popen("apply", "--auto-approve", "--lock-timeout", "120", topo=other)]
        outs = [None, None]
        ended = [0.0, 0.0]

        def finish(i):
            out, err = procs[i].communicate(timeout=300)
            ended[i] = time.time()
            outs[i] = (procs[i].returncode, out, err)

        threads = [threading.Thread(target=finish, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for rc, out, err in outs:
            self.assertEqual(rc, 0, out[-2000:] + err[-2000:])
        second = max(range(2), key=lambda i: ended[i])
        last_topo, last_timeout = ((W.topo, 90), (other, 120))[second]
        st = self.remote_state()
        self.assertGreater(st["serial"], serial)
        self.assertEqual(self.state_objects(st), self.emulator_objects())
        timeouts = {r["attributes"].get("timeout") for r in st["resources"]
                    if r["type"] == "lambda_function"}
        self.assertEqual(timeouts, {last_timeout})
        proc = self.run_tool("plan", "--detailed-exitcode", topo=last_topo)
        self.assertIn("No changes.", proc.stdout)
        self.assertFalse(self.exists(self.key + ".lock"))

    def test_write_refused_when_state_changed_behind(self):
        """The state object changed by hand during an apply (its serial bumped with boto3): the
        next write is refused instead of overwriting it, the message says so, what the run did
        is kept in a local file, and `state push --force` of it lets the next apply converge."""
        self.make_bucket()
        self.write_topology()
        W.faults(latency_ms=40)
        try:
            proc = self.popen("apply", "--auto-approve")
            deadline = time.time() + 60
            while time.time() < deadline and not self.exists(self.key):
                time.sleep(0.02)
            self.assertTrue(self.exists(self.key), "the apply never wrote its state")
            st = self.remote_state()
            st["serial"] += 5
            bumped = (json.dumps(st, indent=2) + "\n").encode()
            self.s3.put_object(Bucket=BUCKET, Key=self.key, Body=bumped)
            out, err = proc.communicate(timeout=300)
        finally:
            W.faults(latency_ms=0)
        self.assertEqual(proc.returncode, 1, out[-2000:] + err[-2000:])
        self.assertRegex(err, r"%s: it was changed since this run read it \(serial %d there, "
                              r"this run read \d+\), by another run or by hand; not "
                              r"overwriting it\. Look at it with 'rdsbk-provision state pull'"
                         % (re.escape(self.url), st["serial"]))
        self.assertEqual(self.object_bytes(), bumped, "the refused write changed the object")
        errored = os.path.join(W.dir, "rdsbk.errored.state.json")
        self.assertIn("this run's state is kept in %s" % errored, err)
        self.assertIn("state push --force %s" % errored, err)
        with open(errored) as f:
            kept = json.load(f)
        self.assertEqual(kept["lineage"], st["lineage"])
        self.assertGreaterEqual(len(kept["resources"]), len(st["resources"]))
        self.assertFalse(self.exists(self.key + ".lock"))
        # without --force the push is refused: the errored state is older than the bumped one
        proc = self.run_tool("state", "push", errored, rc=1)
        self.assertIn("replacing it would undo writes", proc.stderr)
        self.run_tool("state", "push", "--force", errored)
        self.run_tool("apply", "--auto-approve")
        self.assert_converged("after push --force")

    def test_sigkill_during_apply_ten_rounds(self):
        """SIGKILL during apply, 10 rounds at moments drawn over a clean apply's length (the
        emulator adds 0-30 ms a request): each next run converges, nothing orphaned or
        duplicated (the emulator's inventory against the state in S3); a lock the killed run
        left is reported and taken over (its holder is a dead process of this host)."""
        self.make_bucket()
        self.write_topology()
        W.faults(jitter_ms=30)
        rng = random.Random(7)
        figures = {"mid_run": 0, "stale_locks": 0, "unrecorded": 0}
        try:
            t0 = time.time()
            self.run_tool("apply", "--auto-approve")
            t_apply = time.time() - t0
            n_resources = len(self.remote_state()["resources"])
            self.run_tool("destroy", "--auto-approve")
            for i in range(1, 11):
                label = "kill %d" % i
                t = rng.uniform(0.0, t_apply * 0.9)
                proc = W.popen("apply", "--auto-approve")
                time.sleep(t)
                figures["mid_run"] += proc.poll() is None
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                W.wait_requests()  # the killed run's last requests still run in the emulator
                stale = self.exists(self.key + ".lock")
                figures["stale_locks"] += stale
                recorded = self.state_objects() if self.exists(self.key) else set()
                figures["unrecorded"] += len(self.emulator_objects() - recorded)
                nxt = "apply" if i % 2 else "destroy"
                proc = self.run_tool(nxt, "--auto-approve")
                if stale:
                    self.assertRegex(proc.stderr, r"%s\.lock: taking over a stale lock of pid "
                                                  r"\d+, which no longer runs" % re.escape(self.url),
                                     label)
                if nxt == "apply":
                    self.assert_converged(label)
                    self.assertEqual(len(self.remote_state()["resources"]), n_resources, label)
                    self.run_tool("destroy", "--auto-approve")
                self.assert_empty(label)
                self.assertFalse(self.exists(self.key + ".lock"), label)
        finally:
            W.faults(jitter_ms=0)
        print("\n  clean apply %.2f s; 10 kills: %d mid-run, %d stale locks taken over, %d "
              "objects created but not yet recorded (adopted or destroyed by the next run)" % (
                  t_apply, figures["mid_run"], figures["stale_locks"], figures["unrecorded"]),
              file=sys.stderr)
        self.assertGreater(figures["mid_run"], 0, "no kill landed during a run")

    def test_lock_of_another_host(self):
        """A lock held on another host cannot be told stale: refused naming holder and age (and
        after --lock-timeout when waiting), removed by `state unlock`, which says whose it was."""
        self.make_bucket()
        self.write_topology()
        taken = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 2 * 3600 - 60))
        self.s3.put_object(Bucket=BUCKET, Key=self.key + ".lock", Body=json.dumps(
            {"holder": "ci", "pid": 4242, "host": "ci-runner-7", "time": taken,
             "operation": "apply", "id": "0e6f2c1a-8d0b-4c9e-9f7a-3b2d1c0e9f8a"}).encode())
        proc = self.run_tool("apply", "--auto-approve", rc=1)
        self.assertIn("the state is locked by ci (pid 4242 on ci-runner-7, apply since %s); "
                      "wait for it, or if that run is gone, 'rdsbk-provision state unlock' "
                      "(lock: %s.lock; taken 2h01m ago, longer than a run lasts)" % (
                          taken, self.url), proc.stderr)
        t0 = time.time()
        self.run_tool("plan", "--lock-timeout", "3s", rc=1)
        self.assertGreaterEqual(time.time() - t0, 3.0)
        proc = self.run_tool("state", "unlock")
        self.assertIn("Removed the lock of %s, held by ci (pid 4242 on ci-runner-7, apply since "
                      "%s)" % (self.url, taken), proc.stdout)
        self.run_tool("state", "unlock", rc=1)
        self.run_tool("apply", "--auto-approve")
        self.assert_converged()

    def test_destroy_from_a_fresh_directory(self):
        """apply in one directory; destroy in another with only the topology (no state:) and the
        S3 address: everything goes, and no local state is made."""
        self.make_bucket()
        self.write_topology()
        self.run_tool("apply", "--auto-approve")
        fresh = tempfile.mkdtemp(prefix="rdsbk-s3state-fresh-")
        try:
            topo = os.path.join(fresh, "rdsbk.yaml")
            self.write_topology(state="", path=topo)
            proc = self.run_tool("destroy", "--auto-approve", "--state", self.url, topo=topo,
                                 env={"AWS_PROFILE": B})
            self.assertIn("Destroy complete!", proc.stdout)
            self.assertEqual(os.listdir(fresh), ["rdsbk.yaml"])
        finally:
            shutil.rmtree(fresh, ignore_errors=True)
        self.assert_empty()
        self.assertEqual(self.remote_state()["resources"], [])

    def test_migrate_local_to_s3_and_back(self):
        """state migrate moves the state between a file and S3 keeping lineage and serial; the
        source is set aside (.migrated) once the destination holds it."""
        self.make_bucket()
        self.write_topology(state="")
        self.run_tool("apply", "--auto-approve")
        with open(W.state) as f:
            local = json.load(f)
        env = {"AWS_PROFILE": B}
        proc = self.run_tool("state", "migrate", "--to", self.url, env=env)
        self.assertIn("lineage %s, serial %d" % (local["lineage"], local["serial"]), proc.stdout)
        remote = self.remote_state()
        self.assertEqual((remote["lineage"], remote["serial"]), (local["lineage"], local["serial"]))
        self.assertEqual(remote["resources"], local["resources"])
        self.assertFalse(os.path.exists(W.state))
        self.assertTrue(os.path.exists(W.state + ".migrated"))
        self.assertFalse(self.exists(self.key + ".lock"))
        proc = self.run_tool("plan", "--detailed-exitcode", "--state", self.url, env=env)
        self.assertIn("No changes.", proc.stdout)
        # a change recorded in S3, then back to a file
        self.write_topology(timeout=90, state="")
        self.run_tool("apply", "--auto-approve", "--state", self.url, env=env)
        remote = self.remote_state()
        self.assertGreater(remote["serial"], local["serial"])
        # the old copy is older than what S3 holds now: migrating it there is refused
        proc = self.run_tool("state", "migrate", "--state", W.state + ".migrated", "--to",
                             self.url, rc=1, env=env)
        self.assertIn("replacing it would undo writes", proc.stderr)
        back = os.path.join(W.dir, "back.state.json")
        self.run_tool("state", "migrate", "--state", self.url, "--to", back, env=env)
        with open(back) as f:
            again = json.load(f)
        self.assertEqual((again["lineage"], again["serial"]), (remote["lineage"], remote["serial"]))
        self.assertFalse(self.exists(self.key))
        self.assertEqual(json.loads(self.object_bytes(self.key + ".migrated"))["serial"],
                         remote["serial"])
        proc = self.run_tool("plan", "--detailed-exitcode", "--state", back)
        self.assertIn("No changes.", proc.stdout)

    def test_pull_and_push(self):
        """pull prints the stored bytes; push takes a state of the same lineage with a higher
        serial, refuses another lineage or a serial not higher, unless --force."""
        self.make_bucket()
        self.write_topology()
        self.run_tool("apply", "--auto-approve")
        stored = self.object_bytes()
        self.assertEqual(self.run_tool("state", "pull").stdout.encode(), stored)
        pulled = os.path.join(W.dir, "pulled.json")
        self.run_tool("state", "pull", "-o", pulled)
        with open(pulled, "rb") as f:
            self.assertEqual(f.read(), stored)
        self.assertEqual(os.stat(pulled).st_mode & 0o777, 0o600)
        st = json.loads(stored)

        def push(doc, *extra, rc=0):
            path = os.path.join(W.dir, "push.json")
            with open(path, "w") as f:
                json.dump(doc, f)
            return self.run_tool("state", "push", path, *extra, rc=rc)

        proc = push(st, rc=1)
        self.assertIn("has serial %d and %s serial %d: replacing it would undo writes" % (
            st["serial"], self.url, st["serial"]), proc.stderr)
        proc = push(dict(st, lineage="00000000-0000-4000-8000-000000000000", serial=99), rc=1)
        self.assertIn("%s holds another state (lineage %s)" % (self.url, st["lineage"]),
                      proc.stderr)
        proc = push(dict(st, serial=st["serial"] + 1))
        self.assertIn("Pushed", proc.stdout)
        self.assertEqual(self.remote_state()["serial"], st["serial"] + 1)
        push(dict(st, serial=1), "--force")
        self.assertEqual(self.remote_state()["serial"], 1)
        push(dict(st, stack="other"), "--force", rc=1)  # another stack's state: never
        self.assert_converged()

    def test_bucket_errors(self):
        """A bucket of another Region than configured, a missing bucket, a bad s3:// address:
        each a clear error naming it, before anything changes."""
        us = W.client("s3", B, "us-east-1")
        us.create_bucket(Bucket=BUCKET)  # us-east-1
        self.write_topology()
        proc = self.run_tool("plan", rc=1)
        self.assertIn("the state bucket %s is in Region us-east-1, not %s: set state.region: "
                      "us-east-1" % (BUCKET, RB), proc.stderr)
        self.write_topology(state=self.state_section(region="us-east-1"))
        self.run_tool("plan")
        proc = self.run_tool("plan", "--state", "s3://no-such-bucket-here/k.json", rc=1)
        self.assertIn("the state bucket no-such-bucket-here does not exist (rdsbk-provision "
                      "never creates it)", proc.stderr)
        proc = self.run_tool("plan", "--state", "s3://Bad_Bucket/k.json", rc=1)
        self.assertIn("s3://Bad_Bucket/k.json: the bucket 'Bad_Bucket' has upper-case letters",
                      proc.stderr)
        proc = self.run_tool("plan", "--state", "s3://%s" % BUCKET, rc=1)
        self.assertIn("names no key", proc.stderr)
        self.assertEqual([r for r in W.requests() if r.get("mutating") and
                          r.get("service") not in ("s3", "sts")], [])


def main():
    global BIN, W
    BIN = os.path.abspath(sys.argv.pop(1))
    W = common.Workspace().start(BIN)
    shutil.rmtree(W.dir, ignore_errors=True)  # each test makes its own
    try:
        unittest.main(verbosity=2, warnings="ignore")
    finally:
        W.stop()


if __name__ == "__main__":
    main()
