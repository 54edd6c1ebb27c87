"""The engine end to end: rdsbk-provision (the C binary) against the local emulator.

usage: /usr/bin/python3 tests/engine/test_engine.py PATH/TO/rdsbk-provision [unittest args]

Each test starts from an empty emulator, writes a topology pointed at it, and runs the real
binary; out-of-band changes are made with boto3, the request log and the inventory are read
through the emulator's control API.
"""

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "emulator"))

from harness import Harness  # noqa: E402

BIN = None
A, B, C, D = "111111111111", "222222222222", "333333333333", "444444444444"
RA, RB = "eu-central-1", "eu-west-1"
H = None


def topology(stack="t1", sources=None, tags=None, timeout=60, backup=B, prevent_destroy=False,
             multi_region=True):
    sources = sources or [{"account": A, "region": RA, "instances": ["orders-db"],
                           "clusters": ["aurora-main"]}]
    lines = ["version: 1", "stack: %s" % stack, "sources:"]
    for s in sources:
        lines.append('  - account: "%s"' % s["account"])
        lines.append("    region: %s" % s["region"])
        lines.append('    profile: "%s"' % s["account"])
        lines.append("    instances: [%s]" % ", ".join('"%s"' % i for i in s.get("instances", [])))
        if s.get("clusters"):
            lines.append("    clusters: [%s]" % ", ".join(s["clusters"]))
        if s.get("kms_keys"):
            lines.append("    kms_keys: [%s]" % ", ".join(s["kms_keys"]))
        if s.get("option_groups"):
            lines.append("    option_groups: {%s}" % ", ".join(
                "%s: %s" % item for item in sorted(s["option_groups"].items())))
    lines += ["backup:", '  account: "%s"' % backup, "  region: %s" % RB,
              '  profile: "%s"' % backup, "key:", "  deletion_window_days: 7",
              "  prevent_destroy: %s" % ("true" if prevent_destroy else "false"),
              "  multi_region: %s" % ("true" if multi_region else "false"),
              "functions:", "  timeout_seconds: %d" % timeout]
    if tags:
        lines.append("tags:")
        lines += ["  %s: %s" % (k, v) for k, v in sorted(tags.items())]
    lines += ["endpoints:", "  default: %s" % H.url]
    return "\n".join(lines) + "\n"


def _allow_cores():
    """In the child before exec: a core size limit the tool would inherit."""
    resource.setrlimit(resource.RLIMIT_CORE, (4096, 4096))


class EngineCase(unittest.TestCase):
    """A fresh emulator, a topology file and a state file of the test's own, and the helpers that
    run the tool and read the emulator (tests/engine/test_retention.py uses them too)."""

    def setUp(self):
        status, _ = H.control("POST", "/_emu/reset")
        self.assertEqual(status, 200)
        self.dir = tempfile.mkdtemp(prefix="rdsbk-engine-")
        self.topo = os.path.join(self.dir, "rdsbk.yaml")
        self.state = os.path.join(self.dir, "rdsbk.state.json")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.env.update({"AWS_SHARED_CREDENTIALS_FILE": H.credentials_file,
                         "AWS_CONFIG_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true",
                         "HOME": self.dir, "NO_COLOR": "1"})

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- helpers --------------------------------------------------------------------------

    def write(self, text):
        with open(self.topo, "w") as f:
            f.write(text)

    def run_tool(self, *args, check=True):
        proc = subprocess.run([BIN] + list(args) + ["-f", self.topo], env=self.env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=300)
        if check and proc.returncode != 0:
            self.fail("rdsbk-provision %s exited %d:\n%s\n%s" % (
                " ".join(args), proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
        return proc

    def plan(self):
        proc = self.run_tool("plan", "--json")
        return json.loads(proc.stdout)

    def changes(self, plan):
        return {c["address"]: c for c in plan["changes"] if c["action"] != "no-op"}

    def clear_log(self):
        H.control("DELETE", "/_emu/requests")

    def requests(self):
        _, body = H.control("GET", "/_emu/requests")
        return body.get("requests", body) if isinstance(body, dict) else body

    def pipeline_inventory(self):
        """Everything in the emulator that the pipeline owns: not data (RDS), not AWS-managed
        keys, not keys already pending deletion."""
        _, body = H.control("GET", "/_emu/inventory")
        out = []
        for r in body["resources"]:
            if r.get("service") == "rds" or r.get("manager") == "AWS":
                continue
            if r.get("type") == "key" and r.get("state") == "PendingDeletion":
                continue
            out.append(r)
        return out

    def assert_no_changes(self):
        proc = self.run_tool("plan", "--detailed-exitcode", check=False)
        self.assertEqual(proc.returncode, 0, proc.stdout[-3000:] + proc.stderr[-2000:])
        self.assertIn("No changes.", proc.stdout)

    def apply(self):
        return self.run_tool("apply", "--auto-approve")


class EngineTest(EngineCase):

    def test_apply_idempotent_and_destroy(self):
        self.write(topology())
        out = self.apply().stdout
        self.assertIn("Apply complete! Resources: 46 added, 0 changed, 0 destroyed.", out)
        self.assertEqual(os.stat(self.state).st_mode & 0o777, 0o600)
        self.assert_no_changes()
        self.clear_log()
        out = self.apply().stdout
        self.assertIn("No changes.", out)
        mutating = [r for r in self.requests() if r.get("mutating")]
        self.assertEqual(mutating, [], "a second apply must not change anything")
        reads = [r for r in self.requests() if not r.get("mutating")]
        self.assertGreater(len(reads), 0)

        out = self.run_tool("destroy", "--auto-approve").stdout
        self.assertIn("Destroy complete! Resources: 46 destroyed.", out)
        self.assertIn("scheduled for deletion", out)
        self.assertEqual(self.pipeline_inventory(), [])
        _, body = H.control("GET", "/_emu/inventory")
        pending = [r for r in body["resources"]
                   if r.get("type") == "key" and r.get("state") == "PendingDeletion"]
        self.assertEqual(len(pending), 1)

    def test_fan_in_snapshots_arrive(self):
        sources = [{"account": A, "region": RA, "instances": ["orders-db"]},
                   {"account": C, "region": "us-east-1", "instances": ["analytics-*"]},
                   {"account": D, "region": "ap-southeast-2", "instances": ["payments-db"]}]
        self.write(topology(stack="fan", sources=sources))
        self.apply()
        self.assert_no_changes()
        for acct, region, db in ((A, RA, "orders-db"), (C, "us-east-1", "analytics-7"),
                                 (D, "ap-southeast-2", "payments-db")):
            status, _ = H.control("POST", "/_emu/rds/automated-snapshot",
                                  {"account": acct, "region": region, "db_instance": db})
            self.assertEqual(status, 200)
        H.control("POST", "/_emu/wait-idle", {"timeout_s": 120})
        rds_b = H.client("rds", account=B, region=RB)
        copies = rds_b.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
        sources_seen = sorted(s["DBInstanceIdentifier"] for s in copies)
        _, failed = H.control("GET", "/_emu/failed-deliveries")
        self.assertEqual(len(copies), 3, "copies in B: %s; failed deliveries: %s" % (
            sources_seen, failed))
        key = H.client("kms", account=B, region=RB).describe_key(KeyId="alias/rdsbk-fan")
        for snap in copies:
            self.assertTrue(snap["Encrypted"])
            self.assertEqual(snap["KmsKeyId"], key["KeyMetadata"]["Arn"])
        # the copies need the key: destroy refuses to schedule its deletion without the flag
        proc = self.run_tool("destroy", "--auto-approve", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("encrypted with the shared key", proc.stderr)
        self.assertNotEqual(self.pipeline_inventory(), [])
        self.run_tool("destroy", "--auto-approve", "--force-key-deletion")
        self.assertEqual(self.pipeline_inventory(), [])

    def test_prevent_destroy_keeps_the_key(self):
        self.write(topology(prevent_destroy=True))
        self.apply()
        proc = self.run_tool("destroy", "--auto-approve", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("key.prevent_destroy", proc.stderr)
        self.assertEqual(len(self.pipeline_inventory()) > 0, True)
        self.run_tool("destroy", "--auto-approve", "--force-key-deletion")
        self.assertEqual(self.pipeline_inventory(), [])

    def backup_copy_keys(self):
        """The keys of the backup copies in B, by snapshot id."""
        rds_b = H.client("rds", account=B, region=RB)
        return {s["DBSnapshotIdentifier"]: s["KmsKeyId"]
                for s in rds_b.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]}

    def snapshot_through_pipeline(self, db="orders-db"):
        status, _ = H.control("POST", "/_emu/rds/automated-snapshot",
                              {"account": A, "region": RA, "db_instance": db})
        self.assertEqual(status, 200)
        H.control("POST", "/_emu/wait-idle", {"timeout_s": 120})

    def test_copy_finished_event_naming_the_source_region(self):
        """RDS-EVENT-0060 with the copy's name in an ARN of Region-A (as AWS has been seen to
        send it): the share rule matches it and the snapshot reaches the backup account by the
        event path, without waiting for the sweep."""
        status, _ = H.control("POST", "/_emu/rds/config", {"copy_event_arn_region": "source"})
        self.assertEqual(status, 200)
        self.write(topology(sources=[{"account": A, "region": RA, "instances": ["orders-db"]}]))
        self.apply()
        self.snapshot_through_pipeline()
        self.assertEqual(len(self.backup_copy_keys()), 1)
        self.run_tool("destroy", "--auto-approve", "--force-key-deletion")

    def test_source_encrypted_with_a_customer_managed_key(self):
        """A cross-Region copy reads the source snapshot with its key: a customer-managed key
        the topology does not name is refused to the copy role (nothing arrives); named in
        sources[].kms_keys, the role may use it and the next snapshot arrives."""
        key = H.client("kms", account=A, region=RA).create_key(Description="orders")
        key_arn = key["KeyMetadata"]["Arn"]
        source = {"account": A, "region": RA, "instances": ["orders-db"]}
        self.write(topology(sources=[source]))
        self.apply()
        snapshot = {"account": A, "region": RA, "db_instance": "orders-db",
                    "kms_key_id": key_arn}
        self.assertEqual(H.control("POST", "/_emu/rds/automated-snapshot", snapshot)[0], 200)
        H.control("POST", "/_emu/wait-idle", {"timeout_s": 120})
        self.assertEqual(self.backup_copy_keys(), {})
        rds_rb = H.client("rds", account=A, region=RB)
        self.assertEqual(rds_rb.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"], [])
        # status says which key and which key-policy statement
        proc = self.run_tool("status", "--json")
        row = json.loads(proc.stdout)["databases"][0]
        self.assertEqual(row["undeclared_source_key"], key_arn)
        self.assertEqual(proc.stderr.count(key_arn), 1, proc.stderr)
        self.assertIn('"arn:aws:iam::%s:role/rdsbk-t1-copy"' % A, proc.stderr)
        self.assertIn("sources[].kms_keys", proc.stderr)
        self.write(topology(sources=[dict(source, kms_keys=[key_arn])]))
        self.apply()
        H.advance(120)  # the next snapshot, named for a later minute
        self.assertEqual(H.control("POST", "/_emu/rds/automated-snapshot", snapshot)[0], 200)
        H.control("POST", "/_emu/wait-idle", {"timeout_s": 120})
        self.assertEqual(len(self.backup_copy_keys()), 1)
        proc = self.run_tool("status", "--json")
        self.assertIsNone(json.loads(proc.stdout)["databases"][0]["undeclared_source_key"])
        self.assertNotIn(key_arn, proc.stderr)
        self.run_tool("destroy", "--auto-approve", "--force-key-deletion")

    def test_long_cluster_identifier(self):
        """A 45-character cluster id: its copies' names are shortened with a hash so that the
        backup copy's fits RDS's 63 characters (before, the last hop was refused for good), and
        status and drill find them under those names."""
        db = "aurora-cluster-for-the-reporting-warehouse-eu"
        self.write(topology(sources=[{"account": A, "region": RA, "clusters": [db]}]))
        self.apply()
        snapshot = {"account": A, "region": RA, "db_cluster": db}
        self.assertEqual(H.control("POST", "/_emu/rds/automated-snapshot", snapshot)[0], 200)
        H.control("POST", "/_emu/wait-idle", {"timeout_s": 120})
        H.advance(1800)  # the sweep shares cluster copies (RDS announces none)
        rds_b = H.client("rds", account=B, region=RB)
        backups = rds_b.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
        names = [b["DBClusterSnapshotIdentifier"] for b in backups]
        self.assertEqual(len(names), 1, names)
        self.assertTrue(names[0].startswith("aurora-cluster-for-the-rep-b4aeb1-"), names)
        self.assertLessEqual(len(names[0]), 63)
        status = json.loads(self.run_tool("status", "--json").stdout)
        row = [r for r in status["databases"] if r["database"] == db][0]
        self.assertEqual(row["backup_copy"]["id"], names[0])
        self.run_tool("destroy", "--auto-approve", "--force-key-deletion")

    def test_same_database_in_two_regions_of_one_account(self):
        """orders-db in eu-central-1 and in eu-north-1 of account A, snapshots in the same minute:
        their copies carry their Region's code (orders-db-euc1-..., orders-db-eun1-...), so both
        reach the backup account (before, the second was skipped as "exists"); status finds
        each."""
        sources = [{"account": A, "region": RA, "instances": ["orders-db"]},
                   {"account": A, "region": "eu-north-1", "instances": ["orders-*"]}]
        self.write(topology(sources=sources))
        self.apply()
        for region in (RA, "eu-north-1"):
            status, _ = H.control("POST", "/_emu/rds/automated-snapshot",
                                  {"account": A, "region": region, "db_instance": "orders-db"})
            self.assertEqual(status, 200)
        H.control("POST", "/_emu/wait-idle", {"timeout_s": 120})
        names = sorted(self.backup_copy_keys())
        self.assertEqual([n[:15] for n in names], ["orders-db-euc1-", "orders-db-eun1-"], names)
        rows = json.loads(self.run_tool("status", "--json").stdout)["databases"]
        self.assertEqual(sorted(r["backup_copy"]["id"] for r in rows), names)
        self.run_tool("destroy", "--auto-approve", "--force-key-deletion")

    def test_database_with_a_non_default_option_group(self):
        """Oracle or SQL Server with TDE: a copy across Regions needs an option group of Region-B.
        Without sources[].option_groups the copy is refused (as AWS does) and the function's log
        says what to set; with it the next snapshot arrives, its copy in that option group."""
        source = {"account": A, "region": RA, "instances": ["ledger-db"]}
        self.write(topology(sources=[source]))
        self.apply()
        snapshot = {"account": A, "region": RA, "db_instance": "ledger-db",
                    "option_group": "ledger-tde"}
        self.assertEqual(H.control("POST", "/_emu/rds/automated-snapshot", snapshot)[0], 200)
        H.control("POST", "/_emu/wait-idle", {"timeout_s": 120})
        rds_rb = H.client("rds", account=A, region=RB)
        self.assertEqual(rds_rb.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"], [])
        _, logs = H.control("GET", "/_emu/lambda-logs")
        self.assertIn("sources[].option_groups", json.dumps(logs))
        self.write(topology(sources=[dict(source, option_groups={"ledger-db": "ledger-tde-b"})]))
        self.apply()
        H.advance(120)
        self.assertEqual(H.control("POST", "/_emu/rds/automated-snapshot", snapshot)[0], 200)
        H.control("POST", "/_emu/wait-idle", {"timeout_s": 120})
        copies = rds_rb.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
        self.assertEqual([c["OptionGroupName"] for c in copies], ["ledger-tde-b"])
        self.assertEqual(len(self.backup_copy_keys()), 1)
        self.run_tool("destroy", "--auto-approve", "--force-key-deletion")

    def test_destroy_keep_key_then_apply_reuses_the_key(self):
        self.write(topology(sources=[{"account": A, "region": RA, "instances": ["orders-db"]}]))
        self.apply()
        kms_b = H.client("kms", account=B, region=RB)
        key = kms_b.describe_key(KeyId="alias/rdsbk-t1")["KeyMetadata"]
        self.snapshot_through_pipeline()
        before = self.backup_copy_keys()
        self.assertEqual(list(before.values()), [key["Arn"]])

        proc = self.run_tool("destroy", "--auto-approve", "--keep-key")
        self.assertIn("Kept backup.kms_key.shared [id=%s]" % key["KeyId"], proc.stdout)
        self.assertIn("Kept backup.kms_alias.shared", proc.stdout)
        self.assertNotIn("scheduled for deletion", proc.stdout)
        left = sorted(r["type"] for r in self.pipeline_inventory())
        self.assertEqual(left, ["alias", "key"], self.pipeline_inventory())
        self.assertEqual(kms_b.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"],
                         "Enabled")
        with open(self.state) as f:
            recorded = sorted(r["address"] for r in json.load(f)["resources"])
        self.assertEqual(recorded, ["backup.kms_alias.shared", "backup.kms_key.shared"])

        out = self.apply().stdout
        self.assertNotIn("backup.kms_key.shared will be created", out)
        self.assert_no_changes()
        self.snapshot_through_pipeline("orders-db")
        after = self.backup_copy_keys()
        self.assertEqual(len(after), 2, after)
        self.assertEqual(set(after.values()), {key["Arn"]}, "one key before and after")
        keys = [r for r in H.control("GET", "/_emu/inventory")[1]["resources"]
                if r.get("type") == "key" and r.get("manager") != "AWS"]
        self.assertEqual(len(keys), 1, keys)

        proc = self.run_tool("destroy", "--auto-approve", "--keep-key", "--force-key-deletion",
                             check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("contradict", proc.stderr)
        self.run_tool("destroy", "--auto-approve", "--force-key-deletion")
        self.assertEqual(self.pipeline_inventory(), [])
        self.assertEqual(kms_b.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"],
                         "PendingDeletion")

    def test_values_from_aws_reach_the_terminal_escaped(self):
        """A description set out of band holds an escape sequence and a bidi override: the plan
        shows them escaped, never raw, and repairs the drift."""
        self.write(topology())
        self.apply()
        ev_a = H.client("events", account=A, region=RB)
        rule = ev_a.describe_rule(Name="rdsbk-t1-copy")
        ev_a.put_rule(Name="rdsbk-t1-copy", EventPattern=rule["EventPattern"],
                      Description="owned\x1b]0;title\x07\x1b[2J\u202eevil", State="ENABLED")
        out = self.run_tool("plan").stdout
        self.assertNotIn("\x1b", out)
        self.assertNotIn("\u202e", out)
        self.assertIn(r'"owned\u001b]0;title\u0007\u001b[2J\u202Eevil"', out)
        self.apply()
        self.assert_no_changes()

    def test_drift_is_shown_and_repaired(self):
        self.write(topology())
        self.apply()
        iam_a = H.client("iam", account=A, region="us-east-1")
        kms_b = H.client("kms", account=B, region=RB)
        ev_a = H.client("events", account=A, region=RB)
        ev_b = H.client("events", account=B, region=RB)
        lam_a = H.client("lambda", account=A, region=RB)
        lam_b = H.client("lambda", account=B, region=RB)
        key_id = kms_b.describe_key(KeyId="alias/rdsbk-t1")["KeyMetadata"]["KeyId"]
        damage = [
            ("account[%s].iam_role.share" % A, "update", ["assume_role_policy"],
             lambda: iam_a.update_assume_role_policy(
                 RoleName="rdsbk-t1-share", PolicyDocument=json.dumps({
                     "Version": "2012-10-17", "Statement": [{
                         "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                         "Action": "sts:AssumeRole"}]}))),
            ("account[%s].iam_role_policy.copy" % A, "create", [],
             lambda: iam_a.delete_role_policy(RoleName="rdsbk-t1-copy", PolicyName="rdsbk")),
            ("backup.kms_key.shared", "update", ["policy"],
             lambda: kms_b.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps({
                 "Version": "2012-10-17", "Statement": [{
                     "Sid": "Root", "Effect": "Allow",
                     "Principal": {"AWS": "arn:aws:iam::%s:root" % B},
                     "Action": "kms:*", "Resource": "*"}]}))),
            ("backup.kms_alias.shared", "create", [],
             lambda: kms_b.delete_alias(AliasName="alias/rdsbk-t1")),
            ("account[%s].events_rule.copy" % A, "update", ["state"],
             lambda: ev_a.disable_rule(Name="rdsbk-t1-copy")),
            ("account[%s].events_target.share" % A, "create", [],
             lambda: ev_a.remove_targets(Rule="rdsbk-t1-share", Ids=["rdsbk"])),
            ("backup.events_bus.bus", "update", ["policy"],
             lambda: ev_b.remove_permission(EventBusName="rdsbk-t1-bus",
                                            RemoveAllPermissions=True)),
            ("account[%s].lambda_function.copy" % A, "update", ["timeout"],
             lambda: lam_a.update_function_configuration(FunctionName="rdsbk-t1-copy",
                                                         Timeout=3)),
            ("backup.lambda_permission.backup_copy", "create", [],
             lambda: lam_b.remove_permission(FunctionName="rdsbk-t1-backup-copy",
                                             StatementId="rdsbk-events")),
        ]
        for address, action, attrs, act in damage:
            with self.subTest(address=address):
                act()
                time.sleep(0.3)  # the emulator settles Lambda updates
                got = self.changes(self.plan())
                self.assertEqual(list(got), [address], "plan shows exactly the damage")
                self.assertEqual(got[address]["action"], action)
                if attrs:
                    self.assertEqual(got[address]["changed"], attrs)
                self.apply()
                self.assert_no_changes()

    def test_topology_edits_plan_minimal_changes(self):
        self.write(topology())
        self.apply()
        # a tag: every taggable resource changes in place, nothing else
        self.write(topology(tags={"team": "data"}))
        got = self.changes(self.plan())
        self.assertTrue(got)
        for addr, c in got.items():
            self.assertEqual(c["action"], "update", addr)
            self.assertEqual(c["changed"], ["tags"], addr)
        self.apply()
        self.assert_no_changes()
        # the function timeout: the three functions only
        self.write(topology(tags={"team": "data"}, timeout=120))
        got = self.changes(self.plan())
        self.assertEqual(sorted(got), sorted([
            "account[%s].lambda_function.copy" % A, "account[%s].lambda_function.share" % A,
            "backup.lambda_function.backup_copy"]))
        self.apply()
        # a database: patterns, the copy function's list and the policies that name snapshots
        src = [{"account": A, "region": RA, "instances": ["orders-db", "billing-db"],
                "clusters": ["aurora-main"]}]
        self.write(topology(sources=src, tags={"team": "data"}, timeout=120))
        got = self.changes(self.plan())
        self.assertTrue(all(c["action"] == "update" for c in got.values()), got)
        self.assertEqual(sorted(got), sorted([
            "source[%s/%s].events_rule.forward" % (A, RA),
            "account[%s].events_rule.copy" % A, "account[%s].events_rule.share" % A,
            "account[%s].iam_role_policy.copy" % A, "account[%s].iam_role_policy.share" % A,
            "account[%s].lambda_function.copy" % A, "backup.iam_role_policy.backup_copy",
            "backup.lambda_function.backup_copy"]))  # its sweep's RDSBK_SHARED_GLOBS
        self.apply()
        self.assert_no_changes()
        # a second source account: its resources are added, the shared ones updated
        src.append({"account": C, "region": "us-east-1", "instances": ["x-db"]})
        self.write(topology(sources=src, tags={"team": "data"}, timeout=120))
        plan = self.plan()
        self.assertEqual(plan["summary"]["destroy"], 0)
        self.assertEqual(plan["summary"]["add"], 28 + 2)
        self.assertEqual(self.changes(plan)["backup.events_bus.bus"]["changed"], ["policy"])
        self.apply()
        self.assert_no_changes()
        # and removed again: exactly those go
        src.pop()
        self.write(topology(sources=src, tags={"team": "data"}, timeout=120))
        plan = self.plan()
        self.assertEqual(plan["summary"]["destroy"], 28 + 2)
        self.assertEqual(plan["summary"]["add"], 0)
        self.apply()
        self.assert_no_changes()

    def test_removed_source_is_deleted_only_in_its_own_account(self):
        """A removed source's resources are deleted with the credentials the state remembers for
        its account, once GetCallerIdentity proves they are that account's: the names are the
        same in every source account, so another account's would lose its pipeline."""
        src = [{"account": A, "region": RA, "instances": ["orders-db"]},
               {"account": C, "region": "us-east-1", "instances": ["x-db"]}]
        self.write(topology(sources=src))
        self.apply()
        self.write(topology(sources=src[:1]))
        with open(self.state) as f:
            st = json.load(f)
        self.assertEqual(st["accounts"][C], {"profile": C})
        st["accounts"][C] = {"profile": A}  # the profile now reaches the other source
        with open(self.state, "w") as f:
            json.dump(st, f)
        self.clear_log()
        proc = self.run_tool("apply", "--auto-approve", check=False)
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertIn("the state has resources in account %s, which the topology no longer "
                      "names, and reaches it with profile %s, which belongs to account %s"
                      % (C, A, A), proc.stderr)
        self.assertEqual([r["operation"] for r in self.requests() if r.get("mutating")], [])
        st["accounts"][C] = {"profile": C}
        with open(self.state, "w") as f:
            json.dump(st, f)
        plan = self.plan()
        self.assertEqual(plan["summary"]["add"], 0)  # the backup's policies lose C: changes
        self.assertGreater(plan["summary"]["destroy"], 0)
        deleted = [c["address"] for c in plan["changes"] if c["action"] == "delete"]
        self.assertEqual([a for a in deleted if C not in a], [])
        self.apply()
        self.assert_no_changes()

    def test_quotas_refuse_plan_not_destroy(self):
        """A pipeline with a document past AWS's quota (60 databases: the copy rule's pattern
        past 4,096 characters) is refused before any call that writes; destroy, which writes
        none, still takes the stack down."""
        self.write(topology())
        self.apply()
        many = [{"account": A, "region": RA, "instances": ["db-%02d" % i for i in range(60)]}]
        self.write(topology(sources=many))
        self.clear_log()
        proc = self.run_tool("apply", "--auto-approve", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("account[%s].events_rule.copy: its event_pattern would be" % A, proc.stderr)
        self.assertEqual([r for r in self.requests() if r.get("mutating")], [])
        self.run_tool("destroy", "--auto-approve")
        self.assertEqual(self.pipeline_inventory(), [])

    def test_backup_bus_is_the_stacks_own(self):
        """The backup account receives on the stack's bus, whose policy the stack writes whole:
        statements of others on the default bus neither count nor change; a statement added by
        hand to the stack's bus is drift that apply removes; a source account may put the
        stack's "snapshot shared" events there and no other event."""
        ev_b = H.client("events", account=B, region=RB)
        for i in range(51):  # the default bus nearly full (10,034 of 10,240 characters)
            ev_b.put_permission(Action="events:PutEvents", Principal="4000000000%02d" % i,
                                StatementId="other-4000000000%02d" % i)
        default_policy = ev_b.describe_event_bus()["Policy"]
        src = [{"account": A, "region": RA, "instances": ["orders-db"]},
               {"account": C, "region": "us-east-1", "instances": ["x-db"]}]
        self.write(topology(sources=src))
        self.apply()
        self.assert_no_changes()
        self.assertEqual(ev_b.describe_event_bus()["Policy"], default_policy)
        bus = ev_b.describe_event_bus(Name="rdsbk-t1-bus")
        [statement] = json.loads(bus["Policy"])["Statement"]
        self.assertEqual(sorted(statement["Principal"]["AWS"]),
                         ["arn:aws:iam::%s:root" % A, "arn:aws:iam::%s:root" % C])
        self.assertEqual(ev_b.list_tags_for_resource(ResourceARN=bus["Arn"])["Tags"],
                         [{"Key": "rdsbk:stack", "Value": "t1"}])
        # what a source account may put on it
        ev_a = H.client("events", account=A, region=RB)
        shared = {"EventBusName": bus["Arn"], "Source": "rdsbk.t1",
                  "DetailType": "RDS Snapshot Shared", "Detail": "{}"}
        for entry, admitted in ((shared, True), (dict(shared, Source="com.example.app"), False),
                                (dict(shared, DetailType="Something Else"), False)):
            with self.subTest(source=entry["Source"], detail_type=entry["DetailType"]):
                got = ev_a.put_events(Entries=[entry])
                self.assertEqual(got["FailedEntryCount"], 0 if admitted else 1, got)
        # a statement added by hand is drift
        ev_b.put_permission(EventBusName="rdsbk-t1-bus", Action="events:PutEvents",
                            Principal="400000000099", StatementId="by-hand")
        got = self.changes(self.plan())
        self.assertEqual({a: (c["action"], c.get("changed")) for a, c in got.items()},
                         {"backup.events_bus.bus": ("update", ["policy"])})
        self.apply()
        self.assert_no_changes()
        self.run_tool("destroy", "--auto-approve")
        self.assertEqual(ev_b.describe_event_bus()["Policy"], default_policy)
        ev_b.remove_permission(RemoveAllPermissions=True)
        self.assertEqual(self.pipeline_inventory(), [])

    def test_state_from_before_the_stacks_bus(self):
        """A state written when the backup account received on its default bus (a statement per
        source account, the backup-copy rule there) is brought to the stack's bus: the
        statement goes, the rule moves, nothing is left on the default bus."""
        self.write(topology(sources=[{"account": A, "region": RA, "instances": ["orders-db"]}]))
        self.apply()
        ev_b = H.client("events", account=B, region=RB)
        lam_b = H.client("lambda", account=B, region=RB)
        fn_arn = lam_b.get_function(FunctionName="rdsbk-t1-backup-copy")["Configuration"][
            "FunctionArn"]
        # what the earlier version made: the statement, and the rule with its target on the
        # default bus
        ev_b.put_permission(Action="events:PutEvents", Principal=A, StatementId="rdsbk-t1-" + A)
        pattern = ev_b.describe_rule(Name="rdsbk-t1-backup-copy",
                                     EventBusName="rdsbk-t1-bus")["EventPattern"]
        ev_b.put_rule(Name="rdsbk-t1-backup-copy", EventPattern=pattern,
                      Tags=[{"Key": "rdsbk:stack", "Value": "t1"}])
        ev_b.put_targets(Rule="rdsbk-t1-backup-copy", Targets=[{"Id": "rdsbk", "Arn": fn_arn}])

        def earlier(state):
            for address in ("backup.events_rule.backup_copy", "backup.events_target.backup_copy"):
                self.state_resource(state, address)["attributes"].pop("event_bus")
            state["resources"].append({
                "address": "backup.events_permission[%s]" % A, "type": "events_permission",
                "account": B, "region": RB, "id": "rdsbk-t1-" + A,
                "attributes": {"statement_id": "rdsbk-t1-" + A, "principal": A,
                               "action": "events:PutEvents", "name": "rdsbk-t1-" + A},
                "dependencies": []})
            state["resources"].sort(key=lambda r: r["address"])
        self.edit_state(earlier)
        got = self.changes(self.plan())
        self.assertEqual(got["backup.events_permission[%s]" % A]["action"], "delete")
        self.assertEqual(got["backup.events_rule.backup_copy"]["action"], "replace")
        self.apply()
        self.assert_no_changes()
        self.assertNotIn("Policy", ev_b.describe_event_bus())
        self.assertEqual([r["Name"] for r in ev_b.list_rules(NamePrefix="rdsbk-t1-")["Rules"]],
                         ["rdsbk-t1-prune"])
        self.assertEqual([r["Name"] for r in ev_b.list_rules(
            NamePrefix="rdsbk-t1-", EventBusName="rdsbk-t1-bus")["Rules"]],
            ["rdsbk-t1-backup-copy"])

    def test_key_replacement_needs_the_flag(self):
        """Replacing the key schedules the old one's deletion: refused while backups need it."""
        self.write(topology())
        self.apply()
        H.control("POST", "/_emu/rds/automated-snapshot",
                  {"account": A, "region": RA, "db_instance": "orders-db"})
        H.control("POST", "/_emu/wait-idle", {"timeout_s": 120})
        self.write(topology(multi_region=False))
        got = self.changes(self.plan())
        key = got["backup.kms_key.shared"]
        self.assertEqual(key["action"], "replace")
        self.assertEqual(key["forces_replacement"], "multi_region")
        self.clear_log()
        proc = self.run_tool("apply", "--auto-approve", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("encrypted with the shared key", proc.stderr)
        self.assertIn("force-key-deletion", proc.stderr)
        self.assertEqual([r for r in self.requests() if r.get("mutating")], [])
        self.run_tool("apply", "--auto-approve", "--force-key-deletion")
        self.assert_no_changes()

    def test_compact_plan_and_live_progress(self):
        """--compact: counts per type and per account, then a line per resource. On a terminal,
        apply's progress is one line rewritten in place ([done/total] elapsed, the step); without
        one (CI), a plain line per step."""
        self.write(topology())
        out = self.run_tool("plan", "--compact").stdout
        self.assertRegex(out, r"\n  TYPE\s+\+\s+~\s+-/\+\s+-\s+=\s+!\n")
        self.assertRegex(out, r"\n  sqs_queue\s+3\s+0\s+0\s+0\s+0\s+0\n")
        self.assertRegex(out, r"\n  %s\s+30\s+0" % A)
        self.assertIn("\n  +   account[%s].iam_role.copy\n" % A, out)
        self.assertNotIn("assume_role_policy", out)
        self.assertIn("Plan: 46 to add, 0 to change, 0 to destroy.", out)
        # apply on a pseudo-terminal: the live line
        master, slave = os.openpty()
        proc = subprocess.Popen([BIN, "apply", "--auto-approve", "-f", self.topo], env=self.env,
                                stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        self.assertEqual(proc.wait(timeout=300), 0)
        os.close(master)
        tty = b"".join(chunks).decode()
        self.assertIn("\r\x1b[K[46/46] ", tty)
        self.assertNotIn("Creation complete after", tty)
        self.assertIn("Apply complete! Resources: 46 added", tty)
        # not a terminal: a line per step, as before
        self.write(topology(timeout=90))
        out = self.run_tool("apply", "--auto-approve").stdout
        self.assertNotIn("\r", out)
        self.assertIn("Modifications complete after", out)

    def test_state_commands(self):
        self.write(topology())
        self.apply()
        listed = self.run_tool("state", "list").stdout.split()
        self.assertEqual(len(listed), 46)
        self.assertEqual(listed, sorted(listed))
        shown = json.loads(self.run_tool("state", "show", "backup.kms_key.shared", "--json").stdout)
        self.assertEqual(shown["type"], "kms_key")
        self.assertTrue(shown["attributes"]["arn"].startswith("arn:aws:kms:%s:%s:key/" % (RB, B)))
        proc = self.run_tool("state", "show", "no.such.address", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("not in the state", proc.stderr)
        # forgotten by the state, still in AWS: the next plan adopts it, apply records it
        self.run_tool("state", "rm", "account[%s].iam_role.copy" % A)
        self.assertNotIn("account[%s].iam_role.copy" % A, self.run_tool("state", "list").stdout)
        got = self.changes(self.plan())
        self.assertEqual({a: c["action"] for a, c in got.items()},
                         {"account[%s].iam_role.copy" % A: "adopt"})
        self.apply()
        self.assert_no_changes()
        # a state's values reach the terminal escaped (a planted ESC would drive it)
        hostile = "account[%s].iam_role.x\x1b[2J" % A

        def plant(state):
            role = dict(self.state_resource(state, "account[%s].iam_role.copy" % A))
            role.update(address=hostile, id="rdsbk-t1-copy\x1b]0;owned\x07", dependencies=[])
            state["resources"].append(role)
            state["resources"].sort(key=lambda r: r["address"])
        self.edit_state(plant)
        listed = self.run_tool("state", "list").stdout
        shown = self.run_tool("state", "show", hostile).stdout
        self.assertIn("iam_role.x", listed)
        self.assertIn("rdsbk-t1-copy", shown)
        self.assertNotIn("\x1b", listed + shown)

    def edit_state(self, edit):
        """Rewrites the state file with edit(state) applied (a tampered or foreign state)."""
        with open(self.state) as fh:
            state = json.load(fh)
        edit(state)
        with open(self.state, "w") as fh:
            json.dump(state, fh)

    def state_resource(self, state, address):
        return next(r for r in state["resources"] if r["address"] == address)

    def test_state_is_not_authority(self):
        """A state that names what is not the stack's is refused before any write: by name (an
        IAM role of someone else's), by tag (a resource named like ours but another stack's)
        and, for the key, whose id says nothing, by the key's own rdsbk:stack tag."""
        self.write(topology(sources=[{"account": A, "region": RA, "instances": ["orders-db"]}]))
        self.apply()
        iam_a = H.client("iam", account=A, region="us-east-1")
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]})
        iam_a.create_role(RoleName="payroll-admin", AssumeRolePolicyDocument=trust)
        iam_a.create_role(RoleName="rdsbk-t1-prune", AssumeRolePolicyDocument=trust,
                          Tags=[{"Key": "rdsbk:stack", "Value": "t2"}])
        kms_b = H.client("kms", account=B, region=RB)
        victim = kms_b.create_key(Description="payroll")["KeyMetadata"]
        with open(self.state) as fh:
            good = fh.read()

        def orphan_role(name):
            def edit(state):
                role = dict(self.state_resource(state, "account[%s].iam_role.copy" % A))
                role.update(address="account[%s].iam_role.gone" % A, id=name,
                            attributes=dict(role["attributes"], name=name), dependencies=[])
                state["resources"].append(role)
                state["resources"].sort(key=lambda r: r["address"])
            return edit

        # an orphan the state names outside the stack's names: apply would delete it
        self.edit_state(orphan_role("payroll-admin"))
        proc = self.run_tool("apply", "--auto-approve", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn('the state names iam_role "payroll-admin"', proc.stderr)
        proc = self.run_tool("destroy", "--auto-approve", "--force-key-deletion", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("payroll-admin", proc.stderr)
        # a longer stack's name (stack "t1-x"): not t1's, even unread (destroy reads nothing)
        iam_a.create_role(RoleName="rdsbk-t1-x-copy", AssumeRolePolicyDocument=trust)
        with open(self.state, "w") as fh:
            fh.write(good)
        self.edit_state(orphan_role("rdsbk-t1-x-copy"))
        proc = self.run_tool("destroy", "--auto-approve", "--force-key-deletion", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn('iam_role "rdsbk-t1-x-copy"', proc.stderr)
        # named like ours, tagged as another stack's: refused once read
        with open(self.state, "w") as fh:
            fh.write(good)
        self.edit_state(orphan_role("rdsbk-t1-prune"))
        proc = self.run_tool("apply", "--auto-approve", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("is tagged rdsbk:stack=t2, not t1", proc.stderr)
        # the key the state records replaced by someone else's: destroy does not schedule it
        with open(self.state, "w") as fh:
            fh.write(good)

        def other_key(state):
            key = self.state_resource(state, "backup.kms_key.shared")
            key.update(id=victim["KeyId"],
                       attributes=dict(key["attributes"], arn=victim["Arn"],
                                       key_id=victim["KeyId"]))
        self.edit_state(other_key)
        proc = self.run_tool("destroy", "--auto-approve", "--force-key-deletion", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("refusing to schedule the deletion of a key that is not this stack's",
                      proc.stderr)
        self.assertEqual(kms_b.describe_key(KeyId=victim["KeyId"])["KeyMetadata"]["KeyState"],
                         "Enabled")
        for name in ("payroll-admin", "rdsbk-t1-prune", "rdsbk-t1-x-copy"):
            iam_a.get_role(RoleName=name)  # still there
        # the true state still destroys everything
        with open(self.state, "w") as fh:
            fh.write(good)
        self.run_tool("destroy", "--auto-approve", "--force-key-deletion")

    def test_saved_plan_and_stale_plan(self):
        self.write(topology())
        saved = os.path.join(self.dir, "p.plan")
        self.run_tool("plan", "--out", saved)
        self.assertEqual(os.stat(saved).st_mode & 0o777, 0o600)
        out = self.run_tool("apply", saved).stdout
        self.assertIn("46 added", out)
        # a plan made, then the state changes underneath it: refused
        self.write(topology(timeout=90))
        self.run_tool("plan", "--out", saved)
        self.write(topology(timeout=100))
        self.apply()
        proc = self.run_tool("apply", saved, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("stale", proc.stderr)

    def test_concurrent_apply_is_refused(self):
        self.write(topology())
        holder = subprocess.Popen(["sleep", "30"])
        try:
            with open(self.state + ".lock", "w") as f:
                json.dump({"holder": "ci", "pid": holder.pid, "host": os.uname().nodename,
                           "time": "2026-01-01T00:00:00Z", "operation": "apply"}, f)
            proc = self.run_tool("apply", "--auto-approve", check=False)
            self.assertEqual(proc.returncode, 1)
            self.assertIn("locked by ci (pid %d" % holder.pid, proc.stderr)
            self.assertEqual(self.pipeline_inventory(), [])
        finally:
            holder.kill()
            holder.wait()
        # the holder is gone now: its lock is stale and taken over
        self.apply()

    def test_no_core_dumps_unless_asked(self):
        """A core dump would hold every account's keys: none unless RDSBK_CORE_DUMPS=1."""
        self.write(topology())
        holder = subprocess.Popen(["sleep", "30"])
        try:
            with open(self.state + ".lock", "w") as f:
                json.dump({"holder": "ci", "pid": holder.pid, "host": os.uname().nodename,
                           "time": "2026-01-01T00:00:00Z", "operation": "apply"}, f)
            # (soft, hard) after start: the tool lowers both to 0, or leaves the inherited
            # 4096 alone. Only the hard limit is compared when allowed: some CI sandboxes lower
            # the soft core limit of every process they start.
            for allow, expected in ((None, ("0", "0")), ("1", (None, "4096"))):
                env = dict(self.env)
                if allow:
                    env["RDSBK_CORE_DUMPS"] = allow
                tool = subprocess.Popen([BIN, "plan", "--lock-timeout", "20", "-f", self.topo],
                                        env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        preexec_fn=_allow_cores)
                try:
                    time.sleep(0.5)   # waiting for the lock now
                    with open("/proc/%d/limits" % tool.pid) as f:
                        line = [l for l in f if l.startswith("Max core file size")][0]
                    soft, hard = line.split()[4:6]
                    self.assertEqual(hard, expected[1], line)
                    if expected[0]:
                        self.assertEqual(soft, expected[0], line)
                finally:
                    tool.kill()
                    tool.wait()
        finally:
            holder.kill()
            holder.wait()

    def test_kill_during_apply_converges(self):
        self.write(topology())
        rng = random.Random(7)
        for attempt in range(3):
            proc = subprocess.Popen([BIN, "apply", "--auto-approve", "-f", self.topo],
                                    env=self.env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.05, 0.6))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        self.apply()
        self.assert_no_changes()
        names = [(r["account"], r.get("type"), r["id"]) for r in self.pipeline_inventory()]
        self.assertEqual(len(names), len(set(names)), "no duplicates")
        keys = [r for r in self.pipeline_inventory() if r.get("type") == "key"]
        self.assertEqual(len(keys), 1, "exactly one live shared key")
        self.run_tool("destroy", "--auto-approve")
        self.assertEqual(self.pipeline_inventory(), [])

    def test_interrupt_finishes_running_changes_and_saves(self):
        # Ctrl-C in the middle of an apply: what had started finishes and is recorded, nothing
        # new starts, the state is saved; the next plan has nothing to adopt, apply completes.
        self.write(topology())
        H.control("POST", "/_emu/faults", {"latency_ms": 150})
        try:
            proc = subprocess.Popen([BIN, "apply", "--auto-approve", "-f", self.topo],
                                    env=self.env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for line in proc.stdout:
                if "Creation complete" in line:
                    break
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=120)
        finally:
            H.control("POST", "/_emu/faults", {"latency_ms": 0})
        self.assertEqual(proc.returncode, 1, out[-2000:] + err[-2000:])
        self.assertIn("Interrupted: no new change starts", err)
        self.assertIn("Apply failed:", err)
        self.assertIn("not attempted", err)
        with open(self.state) as f:
            recorded = {r["address"] for r in json.load(f)["resources"]}
        self.assertGreater(len(recorded), 0)
        self.assertLess(len(recorded), 46)
        plan = self.plan()
        self.assertEqual(plan["summary"].get("adopt", 0), 0, "everything created was recorded")
        self.assertEqual(plan["summary"]["add"], 46 - len(recorded))
        self.apply()
        self.assert_no_changes()
        self.run_tool("destroy", "--auto-approve")

    def test_destroy_trusts_the_state_and_reads_what_it_lacks(self):
        self.write(topology())
        self.apply()
        # gone behind the tool's back: a function (its permissions go with it)
        lam_a = H.client("lambda", account=A, region=RB)
        lam_a.delete_function(FunctionName="rdsbk-t1-share")
        # created but not recorded, as by a run killed at the wrong moment
        self.run_tool("state", "rm", "account[%s].iam_role.copy" % A)
        self.clear_log()
        out = self.run_tool("destroy", "--auto-approve").stdout
        self.assertIn("Destroy complete! Resources: 46 destroyed.", out)
        self.assertEqual(self.pipeline_inventory(), [])
        reads = sorted({"%s:%s" % (r["service"], r["operation"]) for r in self.requests()
                        if not r.get("mutating") and r["service"] not in ("sts", "rds")})
        # the role missing from the state is read (and adopted); nothing the state records is,
        # except what deletion itself needs (the key's twins are looked for after its deletion,
        # its rdsbk:stack tag before: the state is not authority; a queue is deleted by its URL)
        self.assertEqual(reads, ["iam:GetRole", "kms:ListKeys", "kms:ListResourceTags",
                                 "sqs:GetQueueUrl"])
        # a function takes its permissions along: no RemovePermission of its own
        writes = {"%s:%s" % (r["service"], r["operation"]) for r in self.requests()
                  if r.get("mutating")}
        self.assertIn("lambda:DeleteFunction", writes)
        self.assertNotIn("lambda:RemovePermission", writes)
        with open(self.state) as fh:
            self.assertEqual(json.load(fh)["resources"], [])

        # --refresh reads everything first: what is gone is only forgotten
        self.apply()
        lam_a.delete_function(FunctionName="rdsbk-t1-share")
        self.clear_log()
        out = self.run_tool("destroy", "--auto-approve", "--refresh").stdout
        self.assertIn("Destroy complete! Resources: 43 destroyed.", out)
        self.assertEqual(self.pipeline_inventory(), [])
        reads = {r["operation"] for r in self.requests() if not r.get("mutating")}
        self.assertIn("GetFunction", reads)

    def test_parallelism_is_per_service_in_each_account(self):
        """--parallelism 1: never two calls at once to one service of one account (and Region),
        but an account's IAM, EventBridge and Lambda calls do overlap."""
        self.write(topology())
        H.control("POST", "/_emu/faults", {"latency_ms": 20})
        try:
            self.clear_log()
            self.run_tool("apply", "--auto-approve", "--parallelism", "1")
            calls = [r for r in self.requests() if r.get("operation")]
        finally:
            H.control("POST", "/_emu/faults", {"latency_ms": 0})

        def group(r):
            return (r["account"], r["service"], "" if r["service"] == "iam" else r["region"])

        def overlap(a, b):
            return a["time"] < b["end"] and b["time"] < a["end"]

        same, across = 0, 0
        for i, a in enumerate(calls):
            for b in calls[i + 1:]:
                if not overlap(a, b) or a["service"] in ("sts", "rds"):
                    continue
                if group(a) == group(b):
                    same += 1
                elif a["account"] == b["account"] and b["service"] not in ("sts", "rds"):
                    across += 1
        self.assertEqual(same, 0, "two calls at once to one service of one account")
        self.assertGreater(across, 0, "an account's services never ran side by side")
        self.assert_no_changes()

    def test_max_threads_bounds_the_calls_in_flight(self):
        """RDSBK_MAX_THREADS=2: never more than two calls at once (the account checks, on their
        own before anything else, aside), where the default has many; a value out of range is
        ignored with a warning."""
        def most_at_once(calls):
            edges = sorted([(r["time"], 1) for r in calls] + [(r["end"], -1) for r in calls])
            now = peak = 0
            for _, step in edges:
                now += step
                peak = max(peak, now)
            return peak

        self.write(topology())
        H.control("POST", "/_emu/faults", {"latency_ms": 20})
        try:
            self.clear_log()
            self.env["RDSBK_MAX_THREADS"] = "2"
            self.run_tool("apply", "--auto-approve")
            limited = [r for r in self.requests() if r.get("operation") and r["service"] != "sts"]
            self.env["RDSBK_MAX_THREADS"] = "300"
            self.clear_log()
            proc = self.run_tool("destroy", "--auto-approve")
            free = [r for r in self.requests() if r.get("operation") and r["service"] != "sts"]
        finally:
            H.control("POST", "/_emu/faults", {"latency_ms": 0})
        self.assertEqual(most_at_once(limited), 2)
        self.assertGreater(most_at_once(free), 8)
        self.assertIn("RDSBK_MAX_THREADS=300 ignored: not an integer from 1 to 256", proc.stderr)
        self.assertEqual(self.pipeline_inventory(), [])

    def test_clock_skew_is_corrected(self):
        """AWS's clock 10 minutes ahead of ours: the first calls are refused ("Signature
        expired"), the Date of the refusal sets the offset, and apply and destroy complete, each
        with one warning and one refused call per account at most."""
        self.write(topology())
        H.control("POST", "/_emu/faults", {"clock_skew_s": 600})
        try:
            self.clear_log()
            applied = self.run_tool("apply", "--auto-approve")
            refused = [r for r in self.requests() if r.get("status") == 403]
            self.clear_log()
            destroyed = self.run_tool("destroy", "--auto-approve")
            refused_destroy = [r for r in self.requests() if r.get("status") == 403]
        finally:
            H.control("POST", "/_emu/faults", {"clock_skew_s": 0})
        for proc in (applied, destroyed):
            self.assertEqual(proc.stderr.count("warning: the local clock is"), 1, proc.stderr)
            self.assertRegex(proc.stderr, r"the local clock is (599|600|601) s behind AWS's")
        self.assertTrue(1 <= len(refused) <= 2, refused)  # the two accounts' GetCallerIdentity
        self.assertTrue(1 <= len(refused_destroy) <= 2, refused_destroy)
        self.assertEqual(self.pipeline_inventory(), [])

    def test_key_found_among_many_by_tags_read_side_by_side(self):
        """No state and no alias (a run killed after CreateKey): the stack's key is found by its
        tag among the account's keys, whose tags are read several at once."""
        self.write(topology(multi_region=False))
        kms_b = H.client("kms", account=B, region=RB)
        for i in range(11):
            kms_b.create_key(Description="someone else's key %d" % i)
        ours = kms_b.create_key(Description="left by a killed run",
                                Tags=[{"TagKey": "rdsbk:stack", "TagValue": "t1"}])
        ours = ours["KeyMetadata"]["KeyId"]
        H.control("POST", "/_emu/faults", {"latency_ms": 20})
        try:
            self.clear_log()
            plan = self.plan()
            calls = [r for r in self.requests() if r.get("operation") == "ListResourceTags"]
        finally:
            H.control("POST", "/_emu/faults", {"latency_ms": 0})
        key = [c for c in plan["changes"] if c["address"] == "backup.kms_key.shared"][0]
        self.assertEqual(key["action"], "update", "the tagged key is adopted")
        self.assertGreaterEqual(len(calls), 12)
        most = max(sum(1 for b in calls if b["time"] < a["end"] and a["time"] < b["end"])
                   for a in calls)
        self.assertGreater(most, 1, "the keys' tags were read one after another")
        self.apply()
        with open(self.state) as fh:
            state = json.load(fh)
        recorded = [r for r in state["resources"] if r["address"] == "backup.kms_key.shared"]
        self.assertEqual(recorded[0]["id"], ours)

    def test_destroy_discover_without_state(self):
        self.write(topology())
        self.apply()
        os.unlink(self.state)
        proc = self.run_tool("destroy", "--auto-approve")
        self.assertIn("Nothing to destroy", proc.stdout)
        self.run_tool("destroy", "--auto-approve", "--discover")
        self.assertEqual(self.pipeline_inventory(), [])


def main(module="__main__"):
    """Runs the tests of `module` (a module that imports this one sets BIN and H here too)."""
    global BIN, H
    BIN = os.path.abspath(sys.argv.pop(1))
    H = Harness(accounts=(A, B, C, D)).start()
    try:
        unittest.main(module=module, verbosity=2)
    finally:
        H.stop()


if __name__ == "__main__":
    main()
