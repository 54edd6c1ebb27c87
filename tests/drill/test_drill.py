"""Proving the backups arrive: the pipeline end to end, `status` and `drill`, against the emulator.

usage: /usr/bin/python3 tests/drill/test_drill.py PATH/TO/rdsbk-provision [unittest args]

Each test starts from an empty emulator, applies a topology with the real binary, makes RDS take
automated snapshots (POST /_emu/rds/automated-snapshot), and checks where the copies land with
boto3 and the emulator's control API. Out-of-band damage is done with boto3 too.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "emulator"))

from harness import Harness  # noqa: E402

BIN = None
H = None
_CLIENTS = {}
A, B, C, D = "111111111111", "222222222222", "333333333333", "444444444444"
RA, RB = "eu-central-1", "eu-west-1"


def topology(stack="dr", sources=None, backup_role=None):
    sources = sources or [{"account": A, "region": RA, "instances": ["orders-db"]}]
    lines = ["version: 1", "stack: %s" % stack, "sources:"]
    for s in sources:
        lines += ['  - account: "%s"' % s["account"], "    region: %s" % s["region"],
                  '    profile: "%s"' % s["account"],
                  "    instances: [%s]" % ", ".join('"%s"' % i for i in s.get("instances", []))]
        if s.get("clusters"):
            lines.append("    clusters: [%s]" % ", ".join(s["clusters"]))
    lines += ["backup:", '  account: "%s"' % B, "  region: %s" % RB, '  profile: "%s"' % B]
    if backup_role:
        lines.append("  role_arn: %s" % backup_role)
    lines += ["key:", "  deletion_window_days: 7", "endpoints:", "  default: %s" % H.url]
    return "\n".join(lines) + "\n"


class DrillTest(unittest.TestCase):
    def setUp(self):
        status, _ = H.control("POST", "/_emu/reset")
        self.assertEqual(status, 200)
        # fast asynchronous retries, so a broken hop gives up within the test
        H.control("POST", "/_emu/lambda-config", {"retry_delays_s": [0.2, 0.2]})
        H.control("POST", "/_emu/rds/config", {"delay_s": 0.3})
        self.started = time.time()
        self.dir = tempfile.mkdtemp(prefix="rdsbk-drill-")
        self.topo = os.path.join(self.dir, "rdsbk.yaml")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.env.update({"AWS_SHARED_CREDENTIALS_FILE": H.credentials_file,
                         "AWS_CONFIG_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true",
                         "HOME": self.dir, "NO_COLOR": "1"})

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        sys.stderr.write("(%.1f s) " % (time.time() - self.started))

    # -- helpers ------------------------------------------------------------------------------

    def write(self, text):
        with open(self.topo, "w") as f:
            f.write(text)

    def run_tool(self, *args, check=True, timeout=240):
        proc = subprocess.run([BIN] + list(args) + ["-f", self.topo], env=self.env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout)
        if check and proc.returncode != 0:
            self.fail("rdsbk-provision %s exited %d:\n%s\n%s" % (
                " ".join(args), proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
        return proc

    def apply(self):
        self.run_tool("apply", "--auto-approve")

    def snapshot(self, account, region, instance=None, cluster=None, **extra):
        body = dict(extra, account=account, region=region)
        body["db_cluster" if cluster else "db_instance"] = cluster or instance
        status, out = H.control("POST", "/_emu/rds/automated-snapshot", body)
        self.assertEqual(status, 200, out)
        return out["snapshot_id"], out["arn"]

    def idle(self):
        status, _ = H.control("POST", "/_emu/wait-idle", {"timeout_s": 120})
        self.assertEqual(status, 200, "the emulator did not go idle")

    def client(self, service, account, region=RB):
        key = (service, account, region)
        if key not in _CLIENTS:
            _CLIENTS[key] = H.client(service, account=account, region=region)
        return _CLIENTS[key]

    def manual(self, account, kind="db"):
        rds = self.client("rds", account)
        if kind == "cluster":
            return {s["DBClusterSnapshotIdentifier"]: s for s in rds.describe_db_cluster_snapshots(
                SnapshotType="manual")["DBClusterSnapshots"]}
        return {s["DBSnapshotIdentifier"]: s
                for s in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]}

    def restore_accounts(self, ident, kind="db"):
        rds = self.client("rds", A)
        if kind == "cluster":
            attrs = rds.describe_db_cluster_snapshot_attributes(DBClusterSnapshotIdentifier=ident)[
                "DBClusterSnapshotAttributesResult"]["DBClusterSnapshotAttributes"]
        else:
            attrs = rds.describe_db_snapshot_attributes(DBSnapshotIdentifier=ident)[
                "DBSnapshotAttributesResult"]["DBSnapshotAttributes"]
        return [v for a in attrs if a["AttributeName"] == "restore" for v in a["AttributeValues"]]

    def key_arn(self, stack="dr"):
        kms = self.client("kms", B)
        return kms.describe_key(KeyId="alias/rdsbk-%s" % stack)["KeyMetadata"]["Arn"]

    def lambda_logs(self):
        _, body = H.control("GET", "/_emu/lambda-logs")
        return body["logs"]

    def alerts(self):
        """What the functions reported to the alert topic (a failure no retry cures)."""
        return H.control("GET", "/_emu/sns/messages")[1]

    def failed_deliveries(self):
        _, body = H.control("GET", "/_emu/failed-deliveries")
        return body["failed_deliveries"]

    def instances(self, account=B):
        rds = self.client("rds", account)
        return rds.describe_db_instances()["DBInstances"]

    def status(self, *extra, check=True):
        proc = self.run_tool("status", "--json", *extra, check=check)
        return proc.returncode, json.loads(proc.stdout)

    def drill(self, *extra):
        proc = self.run_tool("drill", "--json", *extra, check=False)
        try:
            report = json.loads(proc.stdout)
        except ValueError:
            self.fail("drill printed no JSON (exit %d):\n%s\n%s" % (
                proc.returncode, proc.stdout[-2000:], proc.stderr[-3000:]))
        return proc.returncode, report, proc.stderr

    def assert_arrived(self, account, source_id, source_arn, stack="dr"):
        """The copy of `source_id` of `account` in A/Region-B (manual, shared key, shared with B)
        and in B/Region-B (shared key, tagged with its source)."""
        copy_id = source_id[len("rds:"):]
        key = self.key_arn(stack)
        region_b = self.client("rds", account).describe_db_snapshots(
            DBSnapshotIdentifier=copy_id)["DBSnapshots"][0]
        self.assertEqual(region_b["SnapshotType"], "manual")
        self.assertEqual(region_b["Status"], "available")
        self.assertTrue(region_b["Encrypted"])
        self.assertEqual(region_b["KmsKeyId"], key)
        tags = {t["Key"]: t["Value"] for t in region_b["TagList"]}
        self.assertEqual(tags.get("rdsbk:source-snapshot"), source_arn)
        rds_a = self.client("rds", account)
        attrs = rds_a.describe_db_snapshot_attributes(DBSnapshotIdentifier=copy_id)[
            "DBSnapshotAttributesResult"]["DBSnapshotAttributes"]
        self.assertIn(B, [v for a in attrs for v in a["AttributeValues"]])
        backup_id = "%s-%s" % (copy_id, account)
        backup = self.manual(B).get(backup_id)
        self.assertIsNotNone(backup, "no %s in B; failed deliveries: %s" % (
            backup_id, self.failed_deliveries()))
        self.assertEqual(backup["Status"], "available")
        self.assertTrue(backup["Encrypted"])
        self.assertEqual(backup["KmsKeyId"], key)
        tags = {t["Key"]: t["Value"] for t in backup["TagList"]}
        self.assertEqual(tags.get("rdsbk:source-snapshot"), region_b["DBSnapshotArn"])
        self.assertEqual(tags.get("rdsbk:source-account"), account)

    # -- the example topology ---------------------------------------------------------------

    def test_local_example_instances_arrive_clusters_stop_at_region_b(self):
        with open(os.path.join(ROOT, "examples", "local.yaml")) as f:
            self.write(f.read().replace("http://127.0.0.1:4566", H.url))
        self.apply()
        key = self.key_arn("local-demo")

        # status before any snapshot: every database listed, none has a backup
        rc, st = self.status("--max-age", "26h", check=False)
        self.assertEqual(rc, 1)
        self.assertEqual([(d["database"], d["kind"], d["state"]) for d in st["databases"]],
                         [("orders-db", "instance", "no-snapshot"),
                          ("aurora-main", "cluster", "no-snapshot")])
        self.assertFalse(st["ok"])

        sid, sarn = self.snapshot(A, RA, instance="orders-db")
        cid, carn = self.snapshot(A, RA, cluster="aurora-main")
        other_id, _ = self.snapshot(A, RA, instance="not-in-topology")
        self.snapshot(A, RA, cluster="other-cluster")
        self.idle()

        self.assert_arrived(A, sid, sarn, stack="local-demo")
        # nothing else was copied: one instance copy per place, not-in-topology ignored
        self.assertEqual(sorted(self.manual(A)), [sid[4:]])
        self.assertEqual(sorted(self.manual(B)), ["%s-%s" % (sid[4:], A)])
        self.assertEqual(sorted(self.manual(B, "cluster")), [])

        # Aurora: the copy function copies the cluster snapshot into Region-B with the shared
        # key, but RDS announces no cluster copy completion (the event catalogue has no cluster
        # counterpart of RDS-EVENT-0060), so the share function never runs: the cluster copy is
        # not shared and never reaches the backup account.
        clusters_a = self.manual(A, "cluster")
        self.assertEqual(sorted(clusters_a), [cid[4:]])
        self.assertTrue(clusters_a[cid[4:]]["StorageEncrypted"])
        self.assertEqual(clusters_a[cid[4:]]["KmsKeyId"], key)
        self.assertEqual(self.restore_accounts(cid[4:], "cluster"), [])
        share_runs = [l for l in self.lambda_logs() if l["function"].endswith("-share")]
        self.assertEqual(len(share_runs), 1, "the share function ran for the instance copy only")
        self.assertNotIn("aurora-main", json.dumps(share_runs))
        self.assertNotIn("not-in-topology", json.dumps(self.lambda_logs()))

        rc, st = self.status("--max-age", "26h", check=False)
        self.assertEqual(rc, 1, "the cluster has no backup copy")
        rows = {d["database"]: d for d in st["databases"]}
        self.assertEqual(rows["orders-db"]["state"], "ok")
        self.assertEqual(rows["orders-db"]["system_snapshot"]["id"], sid)
        self.assertEqual(rows["orders-db"]["region_copy"]["id"], sid[4:])
        self.assertEqual(rows["orders-db"]["backup_copy"]["id"], "%s-%s" % (sid[4:], A))
        self.assertTrue(rows["orders-db"]["fresh"])
        self.assertGreaterEqual(rows["orders-db"]["lag_s"], 0)
        self.assertEqual(rows["aurora-main"]["state"], "missing")
        self.assertEqual(rows["aurora-main"]["region_copy"]["id"], cid[4:])
        self.assertIsNone(rows["aurora-main"]["backup_copy"])
        self.assertFalse(rows["aurora-main"]["fresh"])

        # the table for people
        text = self.run_tool("status", check=False).stdout
        self.assertRegex(text, r"orders-db\s+instance\s+%s\s.*\sok\n" % re.escape(sid))
        self.assertRegex(text, r"aurora-main\s+cluster\s+%s\s.*\smissing\n" % re.escape(cid))

        # the drill refuses what the pipeline would ignore, without invoking anything
        self.client("rds", A, RA).create_db_snapshot(DBSnapshotIdentifier="by-hand",
                                                      DBInstanceIdentifier="orders-db")
        self.idle()
        for bad, why in ((other_id, "does not list"), ("rds:orders-db-1999-01-01-00-00",
                                                         "not found"),
                         ("by-hand", "not a system")):
            proc = self.run_tool("drill", "--snapshot", bad, check=False)
            self.assertEqual(proc.returncode, 1)
            self.assertIn(why, proc.stderr)
        # a drill of the newest snapshots: the instance's copies are all there already; the
        # cluster's Region-B copy is there but stuck, so the drill re-drives the share step
        # (RDS-EVENT-0060 to the share function), and then the cluster copy does arrive: the
        # pipeline works for clusters once something triggers the share step.
        rc, rep, err = self.drill("--timeout", "60s")
        self.assertEqual(rc, 0, err)
        got = {d["database"]: [(h["result"], h["existed"]) for h in d["hops"]]
               for d in rep["databases"]}
        self.assertEqual(got["orders-db"], [("ok", False)] + [("ok", True)] * 3)
        self.assertEqual(got["aurora-main"], [("ok", False), ("ok", True), ("ok", False),
                                              ("ok", False)])
        self.assertIn("re-driving", err)
        self.assertEqual(self.restore_accounts(cid[4:], "cluster"), [B])
        self.assertEqual(sorted(self.manual(B, "cluster")), ["%s-%s" % (cid[4:], A)])
        rc, st = self.status("--max-age", "26h")
        self.assertEqual([d["state"] for d in st["databases"]], ["ok", "ok"])

    # -- unencrypted Aurora clusters -----------------------------------------------------------

    def test_unencrypted_cluster_backups_arrive_unencrypted_and_status_warns(self):
        # AWS refuses KmsKeyId when copying an unencrypted DB cluster snapshot: the functions copy
        # it without the key, and status says that this database's backups are not encrypted
        self.write(topology(stack="plain", sources=[{
            "account": A, "region": RA, "instances": ["orders-db"], "clusters": ["plain-aurora"]}]))
        self.apply()
        self.snapshot(A, RA, instance="orders-db")
        cid, _ = self.snapshot(A, RA, cluster="plain-aurora", encrypted=False)
        self.idle()
        copy_id = cid[len("rds:"):]
        copies = self.manual(A, "cluster")
        self.assertEqual(sorted(copies), [copy_id], self.lambda_logs())
        self.assertFalse(copies[copy_id]["StorageEncrypted"])
        lines = [json.loads(x) for l in self.lambda_logs() for x in l["log"].splitlines()
                 if x.startswith("{")]
        copied = [x for x in lines if (x["action"], x["target"]) == ("copy", copy_id)]
        self.assertEqual([(x["result"], x["encrypted"]) for x in copied], [("copied", False)])
        self.assertIn("NOT encrypted", copied[0]["warning"])
        # RDS announces no finished cluster copy: the share function's scheduled sweep shares it
        functions = self.client("lambda", A).list_functions()["Functions"]
        share = [f["FunctionName"] for f in functions if f["FunctionName"].endswith("-share")]
        out = self.client("lambda", A).invoke(FunctionName=share[0],
                                              Payload=json.dumps({"rdsbk": "sweep"}).encode())
        self.assertNotIn("FunctionError", out, out["Payload"].read())
        self.idle()
        backup_id = "%s-%s" % (copy_id, A)
        backups = self.manual(B, "cluster")
        self.assertEqual(sorted(backups), [backup_id], self.failed_deliveries())
        self.assertEqual((backups[backup_id]["Status"], backups[backup_id]["StorageEncrypted"]),
                         ("available", False))

        for extra in (("--json",), ()):
            proc = self.run_tool("status", "--max-age", "1h", *extra)
            warnings = [l for l in proc.stderr.splitlines() if l.startswith("warning:")]
            self.assertEqual(len(warnings), 1, proc.stderr)
            for words in ("cluster plain-aurora of account %s in %s" % (A, RA), "NOT encrypted",
                          backup_id, "source cluster is unencrypted", "restore"):
                self.assertIn(words, warnings[0])
        rows = {d["database"]: d for d in self.status("--max-age", "1h")[1]["databases"]}
        self.assertEqual((rows["plain-aurora"]["state"], rows["plain-aurora"]["backup_copy"]["id"],
                          rows["plain-aurora"]["backup_copy"]["encrypted"]),
                         ("ok", backup_id, False))
        self.assertIs(rows["orders-db"]["backup_copy"]["encrypted"], True)

    # -- fan-in -------------------------------------------------------------------------------

    def test_fan_in_three_sources_same_database_name(self):
        sources = [{"account": A, "region": RA, "instances": ["orders-db"]},
                   {"account": C, "region": "us-east-1", "instances": ["orders-db", "analytics-*"]},
                   {"account": D, "region": "ap-southeast-2", "instances": ["payments-db"]}]
        self.write(topology(stack="fan", sources=sources))
        self.apply()
        snaps = [(A,) + self.snapshot(A, RA, "orders-db"),
                 (C,) + self.snapshot(C, "us-east-1", "orders-db"),
                 (C,) + self.snapshot(C, "us-east-1", "analytics-7"),
                 (D,) + self.snapshot(D, "ap-southeast-2", "payments-db")]
        self.idle()
        for account, sid, sarn in snaps:
            with self.subTest(account=account, snapshot=sid):
                self.assert_arrived(account, sid, sarn, stack="fan")
        self.assertEqual(len(self.manual(B)), 4, "one backup copy per source snapshot")
        rc, st = self.status("--max-age", "1h")
        self.assertEqual(rc, 0)
        self.assertEqual(sorted((d["source_account"], d["database"], d["state"])
                                for d in st["databases"]),
                         [(A, "orders-db", "ok"), (C, "analytics-7", "ok"),
                          (C, "orders-db", "ok"), (D, "payments-db", "ok")])

    # -- quotas -------------------------------------------------------------------------------

    def emulator_quotas(self, account):
        """DescribeAccountAttributes in `account`/Region-B as boto3 reads it: {name: (used, max)}."""
        quotas = self.client("rds", account).describe_account_attributes()["AccountQuotas"]
        return {q["AccountQuotaName"]: (q["Used"], q["Max"]) for q in quotas}

    def test_status_quotas_of_every_place_that_keeps_copies(self):
        # account A twice (two Regions-A): its Region-B quotas are listed once
        sources = [{"account": A, "region": RA, "instances": ["orders-db"]},
                   {"account": C, "region": "us-east-1", "instances": ["orders-db"]},
                   {"account": A, "region": "ap-southeast-2", "instances": ["payments-db"]}]
        self.write(topology(stack="quota", sources=sources))
        self.apply()
        for account, region, db in ((A, RA, "orders-db"), (C, "us-east-1", "orders-db"),
                                    (A, "ap-southeast-2", "payments-db")):
            self.snapshot(account, region, db)
        self.idle()
        # the copies: two in A/Region-B, one in C/Region-B, three backup copies in B
        self.assertEqual((len(self.manual(A)), len(self.manual(C)), len(self.manual(B))),
                         (2, 1, 3))
        # B's quota lowered to what it holds (100%), C's to twice (50%), A's left at AWS's 100
        for account, value in ((B, 3), (C, 2)):
            status, out = H.control("POST", "/_emu/rds/quotas", {
                "account": account, "region": RB, "ManualSnapshots": value})
            self.assertEqual(status, 200, out)

        rc, st = self.status("--max-age", "1h")
        self.assertEqual(rc, 0, "quotas do not change the exit status")
        expected = []
        for account in (A, C, B):
            held = self.emulator_quotas(account)
            for name in ("ManualSnapshots", "ManualClusterSnapshots"):
                used, most = held[name]
                expected.append({"account": account, "region": RB, "name": name,
                                 "used": used, "max": most})
        self.assertEqual(st["quotas"], expected)
        self.assertEqual([(q["account"], q["name"], q["used"], q["max"]) for q in st["quotas"]],
                         [(A, "ManualSnapshots", 2, 100), (A, "ManualClusterSnapshots", 0, 100),
                          (C, "ManualSnapshots", 1, 2), (C, "ManualClusterSnapshots", 0, 100),
                          (B, "ManualSnapshots", 3, 3), (B, "ManualClusterSnapshots", 0, 100)])

        # people: one line per account, Region and quota; a warning for B's, none for the others
        proc = self.run_tool("status")
        self.assertIn("Manual snapshot quotas", proc.stdout)
        for account, name, used, most, pct in (
                (A, "ManualSnapshots", 2, 100, 2), (A, "ManualClusterSnapshots", 0, 100, 0),
                (C, "ManualSnapshots", 1, 2, 50), (B, "ManualSnapshots", 3, 3, 100)):
            self.assertRegex(proc.stdout, r"\n%s/%s\s+%s\s+%d / %d\s+%d%%\n" % (
                account, RB, name, used, most, pct))
        warnings = [l for l in proc.stderr.splitlines() if l.startswith("warning:")]
        self.assertEqual(len(warnings), 1, proc.stderr)
        self.assertIn("ManualSnapshots of account %s in %s: 3 of 3 used (100%%)" % (B, RB),
                      warnings[0])
        self.assertIn("Service Quotas", warnings[0])
        self.assertIn("retention.backup_days", warnings[0])

        # at 80% exactly it warns too (4 of 5), in A/Region-B, naming that place's retention;
        # --json keeps the warnings on standard error, the JSON clean
        H.control("POST", "/_emu/rds/quotas", {"account": B, "region": RB, "ManualSnapshots": 100})
        H.control("POST", "/_emu/rds/quotas", {"account": A, "region": RB, "ManualSnapshots": 2})
        proc = self.run_tool("status", "--json")
        quotas = {(q["account"], q["name"]): (q["used"], q["max"])
                  for q in json.loads(proc.stdout)["quotas"]}
        self.assertEqual(quotas[(A, "ManualSnapshots")], (2, 2))
        self.assertEqual(quotas[(B, "ManualSnapshots")], (3, 100))
        warnings = [l for l in proc.stderr.splitlines() if l.startswith("warning:")]
        self.assertEqual(len(warnings), 1, proc.stderr)
        self.assertIn("ManualSnapshots of account %s in %s: 2 of 2 used" % (A, RB), warnings[0])
        self.assertIn("retention.intermediate_days", warnings[0])

    def test_status_quota_refused_is_unknown_not_fatal(self):
        # the backup account is read through a role that may list snapshots but not the quotas
        iam = self.client("iam", B, "us-east-1")
        role = "status-reader-%d" % int(time.time() * 1000)
        arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % B},
                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
        iam.put_role_policy(RoleName=role, PolicyName="read", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Resource": "*",
                "Action": ["rds:DescribeDBSnapshots", "rds:DescribeDBClusterSnapshots"]}]}))
        self.write(topology(backup_role=arn))
        rc, st = self.status()
        self.assertEqual(rc, 0)
        self.assertEqual([d["state"] for d in st["databases"]], ["no-snapshot"])
        self.assertEqual([(q["account"], q["name"], q["used"], q["max"]) for q in st["quotas"]],
                         [(A, "ManualSnapshots", 0, 100), (A, "ManualClusterSnapshots", 0, 100),
                          (B, "ManualSnapshots", None, None),
                          (B, "ManualClusterSnapshots", None, None)])
        for q in st["quotas"][2:]:
            self.assertIn("rds:DescribeAccountAttributes", q["error"])
            self.assertIn("AccessDenied", q["error"])
        self.assertNotIn("error", st["quotas"][0])
        # the refused call really was made with the role, and refused
        calls = [r for r in self.requests() if r["operation"] == "DescribeAccountAttributes"]
        self.assertEqual([(r["account"], r["status"]) for r in calls], [(A, 200), (B, 403)])
        proc = self.run_tool("status")
        self.assertRegex(proc.stdout, r"\n%s/%s\s+ManualSnapshots\s+unknown: .*AccessDenied" % (
            B, RB))
        # and so are the failures logged in the backup account: unknown, not fatal
        self.assertEqual([(u["account"], u["log_group"]) for u in st["failures_unread"]],
                         [(B, "/aws/lambda/rdsbk-dr-backup-copy")])
        self.assertIn("AccessDenied", st["failures_unread"][0]["error"])
        self.assertIn("Failures logged in /aws/lambda/rdsbk-dr-backup-copy of account %s: "
                      "unknown: " % B, proc.stdout)
        self.assertNotIn("warning:", proc.stderr)

    # -- duplicates ---------------------------------------------------------------------------

    def test_duplicate_and_late_events_make_no_duplicates(self):
        self.write(topology())
        self.apply()
        sid, sarn = self.snapshot(A, RA, "orders-db")
        self.idle()
        self.assert_arrived(A, sid, sarn)
        copy_arn = self.manual(A)[sid[4:]]["DBSnapshotArn"]
        # the share function's custom event, delivered twice more (EventBridge is at least once)
        events = self.client("events", A)
        entry = {"Source": "rdsbk.dr", "DetailType": "RDS Snapshot Shared",
                 "Detail": json.dumps({"SourceArn": copy_arn, "SourceIdentifier": sid[4:],
                                       "SourceType": "SNAPSHOT", "SourceAccount": A,
                                       "Stack": "dr"})}
        out = events.put_events(Entries=[entry, entry])
        self.assertEqual(out["FailedEntryCount"], 0)
        self.idle()
        # a late RDS-EVENT-0091 for the same snapshot, twice: the drill invokes the copy function
        for _ in range(2):
            rc, rep, err = self.drill()
            self.assertEqual(rc, 0, err)
            self.assertTrue(all(h["existed"] for h in rep["databases"][0]["hops"][1:]))
        self.idle()
        self.assertEqual(sorted(self.manual(A)), [sid[4:]])
        self.assertEqual(sorted(self.manual(B)), ["%s-%s" % (sid[4:], A)])
        results = [(l["function"].rsplit("-", 1)[-1] if not l["function"].endswith("backup-copy")
                    else "backup-copy", (l.get("result") or {}).get("result"))
                   for l in self.lambda_logs()]
        self.assertEqual(results.count(("backup-copy", "copied")), 1)
        self.assertGreaterEqual(results.count(("backup-copy", "exists")), 2, results)
        self.assertEqual(results.count(("copy", "copied")), 1)
        self.assertEqual(results.count(("copy", "exists")), 2, results)
        self.assertEqual(self.failed_deliveries(), [])

    # -- out-of-band damage -------------------------------------------------------------------

    def test_damage_stops_the_backups_plan_shows_it_apply_repairs_it(self):
        self.write(topology())
        self.apply()
        ev_b = self.client("events", B)
        lam_b = self.client("lambda", B)
        kms_b = self.client("kms", B)
        key_id = kms_b.describe_key(KeyId="alias/rdsbk-dr")["KeyMetadata"]["KeyId"]
        narrowed = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % B},
            "Action": "kms:*", "Resource": "*"}]})
        damage = [
            ("bus policy removed", "backup.events_bus.bus",
             lambda: ev_b.remove_permission(EventBusName="rdsbk-dr-bus",
                                            RemoveAllPermissions=True)),
            ("invoke permission removed", "backup.lambda_permission.backup_copy",
             lambda: lam_b.remove_permission(FunctionName="rdsbk-dr-backup-copy",
                                             StatementId="rdsbk-events")),
            ("key policy narrowed", "backup.kms_key.shared",
             lambda: kms_b.put_key_policy(KeyId=key_id, PolicyName="default", Policy=narrowed)),
        ]
        stuck = []
        for name, address, act in damage:
            with self.subTest(damage=name):
                n_failed = len(self.failed_deliveries())
                n_logs = len(self.lambda_logs())
                n_alerts = len(self.alerts())
                act()
                time.sleep(0.3)
                sid, _ = self.snapshot(A, RA, "orders-db")
                self.idle()
                self.assertNotIn("%s-%s" % (sid[4:], A), self.manual(B),
                                 "the snapshot must not arrive with %s" % name)
                # the reason is visible: a failed delivery, a failed function run, or an alert
                reasons = self.failed_deliveries()[n_failed:] + [
                    l for l in self.lambda_logs()[n_logs:] if l["status"] != "success"] + [
                    m for m in self.alerts()[n_alerts:]]
                self.assertTrue(reasons, "no reason recorded for %s" % name)
                why = json.dumps(reasons)
                self.assertRegex(why, r"(?i)denied|not authori[sz]ed|KMSKeyNotAccessible|"
                                      r"permission|policy", why[:2000])
                plan = self.run_tool("plan", "--detailed-exitcode", "--json", check=False)
                self.assertEqual(plan.returncode, 2, plan.stderr)
                changed = [c["address"] for c in json.loads(plan.stdout)["changes"]
                           if c["action"] != "no-op"]
                self.assertEqual(changed, [address])
                # status: the newest snapshot has no backup copy; an older copy may be fresh
                rc, st = self.status("--max-age", "26h", check=False)
                self.assertEqual(rc, 0 if stuck else 1)
                self.assertEqual(st["databases"][0]["system_snapshot"]["id"], sid)
                # "copying" when the Region-B copy of the newest snapshot is there: status cannot
                # tell a slow hop from a broken one, the lag can
                self.assertIn(st["databases"][0]["state"], ("behind", "missing", "copying"))
                self.apply()
                self.run_tool("plan", "--detailed-exitcode")
                # repaired: the next snapshot arrives
                nid, narn = self.snapshot(A, RA, "orders-db")
                self.idle()
                self.assert_arrived(A, nid, narn)
                stuck.append(sid)
        # the snapshots lost while the pipeline was broken are pushed through by the drill
        for sid in stuck:
            with self.subTest(redrive=sid):
                rc, rep, err = self.drill("--snapshot", sid, "--timeout", "60s")
                self.assertEqual(rc, 0, err)
                self.idle()
                self.assertIn("%s-%s" % (sid[4:], A), self.manual(B))
        self.assertEqual(len(self.manual(B)), 6, "every snapshot has exactly one backup copy")

    # -- drill --------------------------------------------------------------------------------

    def test_drill_restore_test_cleanup_and_timeout(self):
        self.write(topology())
        # taken before the pipeline exists: only the drill moves it
        sid, sarn = self.snapshot(A, RA, "orders-db")
        self.idle()
        self.apply()
        self.assertEqual(self.manual(A), {})

        rc, rep, err = self.drill("--restore-test")
        self.assertEqual(rc, 0, err)
        self.assertTrue(rep["ok"])
        self.assertFalse(rep["leftover"])
        db = rep["databases"][0]
        self.assertEqual(db["snapshot"], sid)
        self.assertEqual([(h["name"], h["result"], h["existed"]) for h in db["hops"]],
                         [("invoke", "ok", False), ("region-copy", "ok", False),
                          ("shared", "ok", False), ("backup-copy", "ok", False)])
        self.assertGreater(db["total_s"], 0)
        self.assertEqual(db["restore"]["result"], "ok")
        self.assertTrue(db["restore"]["deleted"])
        self.assertEqual(db["restore"]["instance"], "rdsbk-dr-drill-%s" % rep["drill_id"])
        self.assertEqual(self.instances(), [], "no restored instance is left")
        self.assert_arrived(A, sid, sarn)
        restores = [r for r in self.requests() if r["operation"] == "RestoreDBInstanceFromDBSnapshot"]
        self.assertEqual([(r["account"], r["region"], r["status"]) for r in restores], [(B, RB, 200)])

        # status: fresh now; --max-age 1s once the copy is older than that
        rc, st = self.status("--max-age", "1h")
        self.assertEqual((rc, st["databases"][0]["state"]), (0, "ok"))
        time.sleep(2.1)
        rc, st = self.status("--max-age", "1s", check=False)
        self.assertEqual(rc, 1)
        bad = self.run_tool("status", "--max-age", "soon", check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("--max-age", bad.stderr)

        # a second drill of the same snapshot: nothing copied twice, cleanup leaves earlier copies
        rc, rep, err = self.drill("--cleanup")
        self.assertEqual(rc, 0, err)
        self.assertTrue(all(h["existed"] for h in rep["databases"][0]["hops"][1:]))
        self.assertEqual(rep["databases"][0]["cleanup"],
                         {"region_copy": False, "backup_copy": False})
        self.assertEqual(sorted(self.manual(B)), ["%s-%s" % (sid[4:], A)])

        # --cleanup removes the copies a drill made
        H.control("POST", "/_emu/reset")
        H.control("POST", "/_emu/lambda-config", {"retry_delays_s": [0.2, 0.2]})
        sid, _ = self.snapshot(A, RA, "orders-db")
        self.idle()
        os.unlink(os.path.join(self.dir, "rdsbk.state.json"))
        self.apply()
        rc, rep, err = self.drill("--cleanup")
        self.assertEqual(rc, 0, err)
        self.assertEqual(rep["databases"][0]["cleanup"], {"region_copy": True, "backup_copy": True})
        self.idle()
        self.assertEqual(self.manual(A), {})
        self.assertEqual(self.manual(B), {})

        # broken pipeline (Account-B's bus refuses A): the drill times out, exits 1, and with
        # --restore-test --cleanup leaves nothing behind
        self.client("events", B).remove_permission(EventBusName="rdsbk-dr-bus",
                                                   RemoveAllPermissions=True)
        start = time.time()
        rc, rep, err = self.drill("--timeout", "2s", "--restore-test", "--cleanup")
        self.assertLess(time.time() - start, 30)
        self.assertEqual(rc, 1, err)
        db = rep["databases"][0]
        results = [h["result"] for h in db["hops"]]
        self.assertEqual(results[0], "ok")
        self.assertIn("timeout", results)
        self.assertNotEqual(results[3], "ok")
        self.assertEqual(db["restore"]["result"], "skipped")
        self.assertIsNone(db["restore"]["instance"])
        self.idle()
        self.assertEqual(self.instances(), [])
        self.assertEqual(self.manual(A), {}, "the drill's Region-B copy was cleaned up")
        self.assertEqual(self.manual(B), {})

    def test_drill_interrupted_during_restore_deletes_the_instance(self):
        self.write(topology())
        self.apply()
        sid, _ = self.snapshot(A, RA, "orders-db")
        self.idle()
        # slow restores, so the interrupt lands while the instance is being created
        H.control("POST", "/_emu/rds/config", {"delay_s": 3})
        proc = subprocess.Popen([BIN, "drill", "--restore-test", "--json", "-f", self.topo],
                                env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        seen = None
        deadline = time.time() + 60
        while time.time() < deadline and seen is None:
            for inst in self.instances():
                seen = inst
            time.sleep(0.1)
        self.assertIsNotNone(seen, "the drill never started a restore")
        tags = {t["Key"]: t["Value"] for t in seen["TagList"]}
        self.assertEqual(seen["DBInstanceClass"], "db.t3.micro")
        self.assertEqual(tags.get("rdsbk:stack"), "dr")
        self.assertRegex(seen["DBInstanceIdentifier"], r"^rdsbk-dr-drill-[0-9a-f]{8}$")
        self.assertEqual(tags.get("rdsbk:drill"), seen["DBInstanceIdentifier"].rsplit("-", 1)[1])
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 1, err)
        rep = json.loads(out)
        self.assertEqual(rep["databases"][0]["restore"]["result"], "interrupted")
        self.assertTrue(rep["databases"][0]["restore"]["deleted"], err)
        self.assertIn("interrupted", err)
        self.assertEqual(self.instances(), [], "the interrupted drill deleted its instance")

    def test_drill_second_interrupt_leaves_a_leftover_impossible_to_miss(self):
        self.write(topology())
        self.apply()
        self.snapshot(A, RA, "orders-db")
        self.idle()
        H.control("POST", "/_emu/rds/config", {"delay_s": 20})
        proc = subprocess.Popen([BIN, "drill", "--restore-test", "--json", "-f", self.topo],
                                env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while time.time() < deadline and not self.instances():
            time.sleep(0.1)
        self.assertTrue(self.instances(), "the drill never started a restore")
        # first Ctrl-C: stop and clean up (RDS refuses to delete an instance being created, so
        # the drill waits); second Ctrl-C: give up waiting
        proc.send_signal(signal.SIGINT)
        time.sleep(1.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 1, err)
        rep = json.loads(out)
        inst = self.instances()
        self.assertEqual(len(inst), 1)
        name = inst[0]["DBInstanceIdentifier"]
        self.assertTrue(rep["leftover"])
        self.assertFalse(rep["databases"][0]["restore"]["deleted"])
        self.assertIn("LEFTOVER", err)
        self.assertIn("aws rds delete-db-instance --region %s --profile %s "
                      "--db-instance-identifier %s --skip-final-snapshot" % (RB, B, name), err)
        tags = {t["Key"]: t["Value"] for t in inst[0]["TagList"]}
        self.assertEqual(tags["rdsbk:drill"], rep["drill_id"])
        self.assertIn("rdsbk:drill=%s" % rep["drill_id"], err)

    def requests(self):
        _, body = H.control("GET", "/_emu/requests")
        return body.get("requests", body) if isinstance(body, dict) else body


def main():
    global BIN, H
    BIN = os.path.abspath(sys.argv.pop(1))
    H = Harness(accounts=(A, B, C, D)).start()
    try:
        unittest.main(verbosity=2)
    finally:
        H.stop()


if __name__ == "__main__":
    main()
