"""The share function's sweep mode against the local emulator (CTest: lambda.sweep_emulator).

Builds, in Account-A/Region-B, what the pipeline leaves there when RDS never announces a finished
copy: an Aurora cluster snapshot copy and a DB snapshot copy, made from automated snapshots in
Region-A with Account-B's shared key and tagged rdsbk:stack, plus a copy of another stack. Deploys
templates/lambda/share.py + rdsbk_common.py as a function whose role has the policy rendered from
templates/policies/share-role.json, a rule on the custom "snapshot shared" event with a recorder
function as its target, then invokes the share function with {"rdsbk": "sweep"} (the scheduled
rule's constant input) and checks the restore attributes and the announced events. A second sweep
must find both copies already shared and announce nothing.

Run: /usr/bin/python3 tests/lambda/test_sweep_emulator.py
"""

import sys
import unittest

sys.dont_write_bytecode = True

from emulator_functions import (  # noqa: E402
    FunctionsTestCase, create_function, create_recorder, function_code, invoke, log_lines,
    recorded, render_policy, shared_key)
from harness import ACCOUNT_A, ACCOUNT_B  # noqa: E402

A, B = ACCOUNT_A, ACCOUNT_B
RA, RB = "us-east-1", "eu-west-1"
STACK = "emu-sweep"
SOURCE = "rdsbk." + STACK
DETAIL_TYPE = "RDS Snapshot Shared"
DB, CLUSTER = "orders", "aurora-main"
SHARE_FN, RECORDER_FN = "rdsbk-emu-sweep-share", "recorder"


class SweepEmulatorTest(FunctionsTestCase):
    def c(self, service, account, region):
        return self.h.client(service, account, region, timeout=60)

    def recorded(self):
        return recorded(self.h, RECORDER_FN)

    # ------------------------------------------------------------------ the setup
    def shared_key(self):
        """Account-B's key in Region-B; its policy lets Account-A use it (as the pipeline's)."""
        return shared_key(self.c("kms", B, RB), B, A)

    def region_b_copy(self, kind, owner, key, stack, target=None, copy_s=None):
        """An automated snapshot in A/Region-A copied into A/Region-B the way the copy function
        does (shared key, SourceRegion, tags); returns the copy's identifier. copy_s: how long
        the copy takes (the emulator's RDS delay)."""
        body = {"account": A, "region": RA, ("db_cluster" if kind == "cluster" else
                                             "db_instance"): owner}
        status, out = self.h.control("POST", "/_emu/rds/automated-snapshot", body)
        self.assertEqual(status, 200, out)
        self.wait()
        if copy_s is not None:
            self.h.control("POST", "/_emu/rds/config", {"delay_s": copy_s})
        target = target or out["snapshot_id"][len("rds:"):]
        tags = [{"Key": "rdsbk:stack", "Value": stack},
                {"Key": "rdsbk:source-snapshot", "Value": out["arn"]}]
        rds = self.c("rds", A, RB)
        if kind == "cluster":
            rds.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier=out["arn"],
                                         TargetDBClusterSnapshotIdentifier=target, KmsKeyId=key,
                                         Tags=tags, CopyTags=True, SourceRegion=RA)
        else:
            rds.copy_db_snapshot(SourceDBSnapshotIdentifier=out["arn"],
                                 TargetDBSnapshotIdentifier=target, KmsKeyId=key, Tags=tags,
                                 CopyTags=True, SourceRegion=RA)
        return target

    def deploy(self):
        bus = "arn:aws:events:%s:%s:event-bus/default" % (RB, A)
        policy = render_policy("share-role.json", {
            "copy_arns": ["arn:aws:rds:%s:%s:snapshot:%s-*" % (RB, A, DB),
                          "arn:aws:rds:%s:%s:cluster-snapshot:%s-*" % (RB, A, CLUSTER)],
            "list_arns": ["arn:aws:rds:%s:%s:snapshot:*" % (RB, A),
                          "arn:aws:rds:%s:%s:cluster-snapshot:*" % (RB, A)],
            "own_bus_arn": bus,
            "log_group_arns": ["arn:aws:logs:%s:%s:log-group:/aws/lambda/%s:*"
                               % (RB, A, SHARE_FN)],
            "stack": STACK,
        })
        create_function(self.h, A, RB, SHARE_FN, function_code("share"), "share.handler", policy,
                        {"RDSBK_STACK": STACK, "RDSBK_TARGET_REGION": RB,
                         "RDSBK_BACKUP_ACCOUNT": B, "RDSBK_EVENT_SOURCE": SOURCE,
                         "RDSBK_EVENT_DETAIL_TYPE": DETAIL_TYPE})
        # Records every "snapshot shared" event of this stack put on A's Region-B bus.
        create_recorder(self.h, A, RB, RECORDER_FN, {"source": [SOURCE],
                                                     "detail-type": [DETAIL_TYPE]})
        self.wait()   # functions Active

    def sweep(self):
        result, failed = invoke(self.h, A, RB, SHARE_FN, {"rdsbk": "sweep"})
        if failed:
            self.fail("the sweep failed: %s\n%s" % (result.get("errorMessage"), failed))
        self.wait()   # the announced events reach the recorder
        return result

    def restore(self, kind, ident):
        rds = self.c("rds", A, RB)
        if kind == "cluster":
            res = rds.describe_db_cluster_snapshot_attributes(DBClusterSnapshotIdentifier=ident)
            attrs = res["DBClusterSnapshotAttributesResult"]["DBClusterSnapshotAttributes"]
        else:
            res = rds.describe_db_snapshot_attributes(DBSnapshotIdentifier=ident)
            attrs = res["DBSnapshotAttributesResult"]["DBSnapshotAttributes"]
        return [v for a in attrs if a["AttributeName"] == "restore" for v in a["AttributeValues"]]

    # ---------------------------------------------------------------------- test
    def test_sweep_shares_and_announces_copies_rds_never_announced(self):
        key = self.shared_key()
        cluster_copy = self.region_b_copy("cluster", CLUSTER, key, STACK)
        db_copy = self.region_b_copy("db", DB, key, STACK)
        # Named like this stack's copies (the role may share it) but tagged for another stack.
        foreign = self.region_b_copy("db", DB, key, "other-stack", target=DB + "-foreign")
        self.deploy()
        self.wait()   # copies available
        self.assertEqual(self.restore("cluster", cluster_copy), [])
        self.assertEqual(self.recorded(), [])
        # A later cluster copy still copying when the first sweep runs.
        late = self.region_b_copy("cluster", CLUSTER, key, STACK, target=CLUSTER + "-late",
                                  copy_s=4)
        rds = self.c("rds", A, RB)
        self.assertEqual(rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=late)[
            "DBClusterSnapshots"][0]["Status"], "copying")

        summary = self.sweep()
        self.assertEqual(
            {k: summary[k] for k in ("action", "result", "shared", "already_shared", "not_ready",
                                     "other_stacks", "failed")},
            {"action": "sweep", "result": "swept", "shared": 2, "already_shared": 0,
             "not_ready": 1, "other_stacks": 1, "failed": 0})
        self.assertEqual(self.restore("cluster", cluster_copy), [B])
        self.assertEqual(self.restore("db", db_copy), [B])
        self.assertEqual(self.restore("db", foreign), [])
        self.assertEqual(self.restore("cluster", late), [])

        cl_arn = "arn:aws:rds:%s:%s:cluster-snapshot:%s" % (RB, A, cluster_copy)
        db_arn = "arn:aws:rds:%s:%s:snapshot:%s" % (RB, A, db_copy)
        events = sorted(self.recorded(), key=lambda e: e["detail"]["SourceType"])
        self.assertEqual(len(events), 2, events)
        for event in events:
            self.assertEqual((event["source"], event["detail-type"], event["account"],
                              event["region"]), (SOURCE, DETAIL_TYPE, A, RB))
        self.assertEqual([e["detail"] for e in events], [
            {"SourceArn": cl_arn, "SourceIdentifier": cluster_copy,
             "SourceType": "CLUSTER_SNAPSHOT", "SourceAccount": A, "Stack": STACK},
            {"SourceArn": db_arn, "SourceIdentifier": db_copy, "SourceType": "SNAPSHOT",
             "SourceAccount": A, "Stack": STACK},
        ])
        lines = log_lines(self.h, SHARE_FN)
        self.assertEqual(sorted(x["source"] for x in lines if x["action"] == "share"),
                         sorted([cl_arn, db_arn]))

        # The next scheduled sweep, after the late copy finished: it is shared and announced;
        # the two shared before are not announced again.
        self.assertEqual(rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=late)[
            "DBClusterSnapshots"][0]["Status"], "available")
        again = self.sweep()
        self.assertEqual((again["shared"], again["already_shared"], again["not_ready"],
                          again["other_stacks"]), (1, 2, 0, 1))
        self.assertEqual(self.restore("cluster", late), [B])
        events = self.recorded()
        self.assertEqual(len(events), 3, events)
        self.assertEqual(events[2]["detail"]["SourceIdentifier"], late)


if __name__ == "__main__":
    unittest.main(verbosity=2, warnings="ignore")
