"""An unencrypted Aurora cluster through the pipeline's functions against the local emulator
(CTest: lambda.unencrypted_cluster_emulator).

CopyDBClusterSnapshot refuses KmsKeyId for an unencrypted DB cluster snapshot (such a snapshot
cannot be encrypted by copying it), as the emulator does. Deploys copy_snapshot.py and share.py
(Account-A, Region-B) and backup_copy.py (Account-B, Region-B), each with rdsbk_common.py and a
role holding the policy rendered from its template in templates/policies/, then runs the
automated snapshot of an unencrypted cluster through them: the copy function with the
RDS-EVENT-0169 event RDS put on Region-A's bus, the share function's sweep (RDS announces no
finished cluster copy), the backup-copy function with the event the sweep announced. Both copies
arrive, unencrypted, and both functions' log lines say so.

Run: /usr/bin/python3 tests/lambda/test_unencrypted_cluster_emulator.py
"""

import sys
import unittest

sys.dont_write_bytecode = True

from emulator_functions import (  # noqa: E402
    FunctionsTestCase, create_function, create_recorder, function_code, invoke, recorded,
    render_policy, shared_key)
from harness import ACCOUNT_A, ACCOUNT_B  # noqa: E402

A, B = ACCOUNT_A, ACCOUNT_B
RA, RB = "us-east-1", "eu-west-1"
STACK = "emu-plain"
SOURCE = "rdsbk." + STACK
DETAIL_TYPE = "RDS Snapshot Shared"
CLUSTER = "plain-aurora"
STAMP = "????-??-??-??-??"
COPY_FN, SHARE_FN, BACKUP_FN = ("rdsbk-emu-plain-copy", "rdsbk-emu-plain-share",
                                "rdsbk-emu-plain-backup-copy")
CREATED_REC, SHARED_REC = "created-recorder", "shared-recorder"


def snapshots(account, region, suffix=""):
    """The IAM ARN pattern of CLUSTER's snapshots in account/region: the system ones when the
    suffix is "rds:", else the pipeline's copies (suffix: "-<source account>" in the backup
    account)."""
    if suffix == "rds:":
        return "arn:aws:rds:%s:%s:cluster-snapshot:rds:%s-%s" % (region, account, CLUSTER, STAMP)
    return "arn:aws:rds:%s:%s:cluster-snapshot:%s-%s%s" % (region, account, CLUSTER, STAMP,
                                                          suffix)


def every_snapshot(account):
    """What the sweep and the retention list: every snapshot of the account in Region-B."""
    return ["arn:aws:rds:%s:%s:%s:*" % (RB, account, kind)
            for kind in ("snapshot", "cluster-snapshot")]


def log_groups(account, function):
    return ["arn:aws:logs:%s:%s:log-group:/aws/lambda/%s:*" % (RB, account, function)]


class UnencryptedClusterTest(FunctionsTestCase):
    def deploy(self, key):
        env = {"RDSBK_STACK": STACK, "RDSBK_TARGET_REGION": RB, "RDSBK_KMS_KEY_ARN": key,
               "RDSBK_BACKUP_ACCOUNT": B, "RDSBK_SOURCE_ACCOUNTS": A,
               "RDSBK_DATABASES": "%s/cluster/%s" % (RA, CLUSTER),
               "RDSBK_EVENT_SOURCE": SOURCE, "RDSBK_EVENT_DETAIL_TYPE": DETAIL_TYPE}
        copy_policy = render_policy("copy-role.json", {
            "copy_resource_arns": [snapshots(A, RA, "rds:"), snapshots(A, RB)],
            "key_arn": key, "log_group_arns": log_groups(A, COPY_FN),
            "list_arns": [snapshots(A, RA, "rds:"), snapshots(A, RB)]})
        share_policy = render_policy("share-role.json", {
            "copy_arns": [snapshots(A, RB)],
            "list_arns": every_snapshot(A),
            "own_bus_arn": "arn:aws:events:%s:%s:event-bus/default" % (RB, A),
            "log_group_arns": log_groups(A, SHARE_FN), "stack": STACK})
        backup_policy = render_policy("backup-copy-role.json", {
            "backup_copy_resource_arns": [snapshots(A, RB), snapshots(B, RB, "-" + A)],
            "list_arns": every_snapshot(B), "stack": STACK,
            "key_arn": key, "log_group_arns": log_groups(B, BACKUP_FN)})
        for account, name, module, policy in ((A, COPY_FN, "copy_snapshot", copy_policy),
                                              (A, SHARE_FN, "share", share_policy),
                                              (B, BACKUP_FN, "backup_copy", backup_policy)):
            create_function(self.h, account, RB, name, function_code(module),
                            module + ".handler", policy, env)
        create_recorder(self.h, A, RA, CREATED_REC, {"source": ["aws.rds"], "detail": {
            "EventID": ["RDS-EVENT-0169"]}})
        create_recorder(self.h, A, RB, SHARED_REC, {"source": [SOURCE],
                                                    "detail-type": [DETAIL_TYPE]})
        self.wait()   # functions Active

    def run_function(self, account, name, event):
        result, failed = invoke(self.h, account, RB, name, event)
        self.assertIsNone(failed, "%s failed: %s" % (name, result.get("errorMessage")))
        self.wait()
        return result

    def assert_unencrypted(self, account, ident):
        got = self.h.client("rds", account, RB).describe_db_cluster_snapshots(
            DBClusterSnapshotIdentifier=ident)["DBClusterSnapshots"][0]
        self.assertEqual((got["Status"], got["StorageEncrypted"], got.get("KmsKeyId")),
                         ("available", False, None))
        return {t["Key"]: t["Value"] for t in got["TagList"]}

    def assert_warned(self, record, action):
        self.assertEqual((record["action"], record["result"], record["encrypted"]),
                         (action, "copied", False))
        self.assertIn("NOT encrypted", record["warning"])

    def test_unencrypted_cluster_snapshot_arrives_unencrypted(self):
        self.deploy(shared_key(self.h.client("kms", B, RB), B, A))
        status, out = self.h.control("POST", "/_emu/rds/automated-snapshot", {
            "account": A, "region": RA, "db_cluster": CLUSTER, "encrypted": False})
        self.assertEqual(status, 200, out)
        self.wait()
        created = recorded(self.h, CREATED_REC)
        self.assertEqual([e["detail"]["SourceArn"] for e in created], [out["arn"]])

        copy_id = out["snapshot_id"][len("rds:"):]
        self.assert_warned(self.run_function(A, COPY_FN, created[0]), "copy")
        tags = self.assert_unencrypted(A, copy_id)
        self.assertEqual((tags["rdsbk:stack"], tags["rdsbk:source-snapshot"]), (STACK, out["arn"]))

        swept = self.run_function(A, SHARE_FN, {"rdsbk": "sweep"})
        self.assertEqual((swept["shared"], swept["failed"]), (1, 0))
        shared = recorded(self.h, SHARED_REC)
        self.assertEqual([e["detail"]["SourceIdentifier"] for e in shared], [copy_id])

        self.assert_warned(self.run_function(B, BACKUP_FN, shared[0]), "backup-copy")
        tags = self.assert_unencrypted(B, "%s-%s" % (copy_id, A))
        self.assertEqual((tags["rdsbk:source-account"], tags["rdsbk:stack"]), (A, STACK))


if __name__ == "__main__":
    unittest.main(verbosity=2, warnings="ignore")
