"""RDS in the emulator, through boto3: automated/manual snapshots, copies across Regions and
accounts with KMS checks, sharing, describe/filters/paging, tags, restore, lifecycle events."""

import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ACCOUNT_A, ACCOUNT_B, EmulatorCase  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

RA, RB = "us-east-1", "eu-west-1"


def code_of(cm):
    return cm.exception.response["Error"]["Code"]


def key_policy(*accounts):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "root", "Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam::%s:root" % a for a in accounts]},
        "Action": "kms:*", "Resource": "*"}]})


class RdsTest(EmulatorCase):
    def setUp(self):
        super().setUp()
        self.h.control("POST", "/_emu/rds/config", {"delay_s": 0.2})
        self.rds_a = self.h.client("rds", ACCOUNT_A, RA)
        self.rds_ab = self.h.client("rds", ACCOUNT_A, RB)
        self.rds_bb = self.h.client("rds", ACCOUNT_B, RB)

    def wait(self):
        status, body = self.h.control("POST", "/_emu/wait-idle", {"timeout_s": 30})
        self.assertEqual(status, 200, body)

    def automated(self, db="db1", account=ACCOUNT_A, region=RA, cluster=False, **extra):
        body = {"account": account, "region": region}
        body["db_cluster" if cluster else "db_instance"] = db
        body.update(extra)
        status, out = self.h.control("POST", "/_emu/rds/automated-snapshot", body)
        self.assertEqual(status, 200, out)
        return out

    def key(self, account, region, *grantees):
        kms = self.h.client("kms", account, region)
        return kms.create_key(Policy=key_policy(account, *grantees))["KeyMetadata"]["Arn"]

    def sink_rule(self, account, region, pattern, name):
        """A rule whose target function does not exist: each matching event shows up as a failed
        delivery carrying the rule's ARN."""
        ev = self.h.client("events", account, region)
        arn = ev.put_rule(Name=name, EventPattern=json.dumps(pattern))["RuleArn"]
        ev.put_targets(Rule=name, Targets=[{"Id": "x", "Arn": "arn:aws:lambda:%s:%s:function:"
                                            "none" % (region, account)}])
        return arn

    def deliveries(self, rule_arn):
        f = self.h.control("GET", "/_emu/failed-deliveries")[1]["failed_deliveries"]
        return [x for x in f if x["rule_arn"] == rule_arn]

    # ------------------------------------------------------------ automated
    def test_automated_snapshot(self):
        created = self.sink_rule(ACCOUNT_A, RA, {"source": ["aws.rds"], "detail-type": [
            "RDS DB Snapshot Event"], "detail": {"EventID": ["RDS-EVENT-0091"], "SourceArn": [
                {"wildcard": "arn:aws:rds:%s:%s:snapshot:rds:db1-*" % (RA, ACCOUNT_A)}]}}, "c")
        creating = self.sink_rule(ACCOUNT_A, RA, {"source": ["aws.rds"], "detail": {
            "EventID": ["RDS-EVENT-0090"]}}, "s")
        out = self.automated()
        self.assertRegex(out["snapshot_id"], r"^rds:db1-\d{4}-\d\d-\d\d-\d\d-\d\d$")
        self.assertEqual(out["arn"], "arn:aws:rds:%s:%s:snapshot:%s"
                         % (RA, ACCOUNT_A, out["snapshot_id"]))
        snap = self.rds_a.describe_db_snapshots(DBSnapshotIdentifier=out["snapshot_id"])[
            "DBSnapshots"][0]
        self.assertEqual(snap["Status"], "creating")
        self.assertEqual(snap["SnapshotType"], "automated")
        self.assertTrue(snap["Encrypted"])
        default = self.h.emu.services["kms"].default_key(ACCOUNT_A, RA, "rds")
        self.assertEqual(snap["KmsKeyId"], default)
        self.wait()
        snap = self.rds_a.describe_db_snapshots(DBSnapshotIdentifier=out["arn"])["DBSnapshots"][0]
        self.assertEqual(snap["Status"], "available")
        self.assertEqual(len(self.deliveries(creating)), 1)
        self.assertEqual(len(self.deliveries(created)), 1)
        second = self.automated()
        self.assertNotEqual(second["snapshot_id"], out["snapshot_id"])
        inv = self.h.control("GET", "/_emu/inventory")[1]["resources"]
        rds_items = [x for x in inv if x["service"] == "rds"]
        self.assertEqual(sorted(x["type"] for x in rds_items), ["rds", "rds", "rds"])

    def test_automated_cluster_snapshot_and_copy(self):
        ev = self.sink_rule(ACCOUNT_A, RA, {"source": ["aws.rds"], "detail-type": [
            "RDS DB Cluster Snapshot Event"], "detail": {"EventID": ["RDS-EVENT-0169"]}}, "c")
        out = self.automated("aurora1", cluster=True)
        self.assertTrue(out["arn"].startswith("arn:aws:rds:%s:%s:cluster-snapshot:rds:aurora1-"
                                              % (RA, ACCOUNT_A)))
        self.wait()
        self.assertEqual(len(self.deliveries(ev)), 1)
        snap = self.rds_a.describe_db_cluster_snapshots(SnapshotType="automated")[
            "DBClusterSnapshots"][0]
        self.assertEqual((snap["Status"], snap["StorageEncrypted"]), ("available", True))
        key = self.key(ACCOUNT_A, RB)
        with self.assertRaises(ClientError) as cm:
            self.rds_ab.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier=out["arn"],
                                                 TargetDBClusterSnapshotIdentifier="c1")
        self.assertEqual(code_of(cm), "InvalidParameterValue")
        copy = self.rds_ab.copy_db_cluster_snapshot(
            SourceDBClusterSnapshotIdentifier=out["arn"], TargetDBClusterSnapshotIdentifier="c1",
            KmsKeyId=key)["DBClusterSnapshot"]
        self.assertEqual((copy["KmsKeyId"], copy["SourceDBClusterSnapshotArn"]),
                         (key, out["arn"]))
        self.wait()
        got = self.rds_ab.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier="c1")[
            "DBClusterSnapshots"][0]
        self.assertEqual(got["Status"], "available")

    def test_manual_snapshots_and_cluster_sharing(self):
        manual = self.sink_rule(ACCOUNT_A, RA, {"detail": {"EventID": ["RDS-EVENT-0040",
                                                                       "RDS-EVENT-0042"]}}, "m")
        cluster_manual = self.sink_rule(ACCOUNT_A, RA, {"detail-type": [
            "RDS DB Cluster Snapshot Event"], "detail": {"EventID": ["RDS-EVENT-0075"]}}, "cm")
        self.automated("db1")
        self.automated("cl1", cluster=True, kms_key_id=self.key(ACCOUNT_A, RA))
        with self.assertRaises(ClientError) as cm:
            self.rds_a.create_db_snapshot(DBSnapshotIdentifier="m1",
                                          DBInstanceIdentifier="nope")
        self.assertEqual(code_of(cm), "DBInstanceNotFound")
        snap = self.rds_a.create_db_snapshot(DBSnapshotIdentifier="m1",
                                             DBInstanceIdentifier="db1")["DBSnapshot"]
        self.assertEqual((snap["SnapshotType"], snap["Status"]), ("manual", "creating"))
        cs = self.rds_a.create_db_cluster_snapshot(DBClusterSnapshotIdentifier="cm1",
                                                   DBClusterIdentifier="cl1")[
            "DBClusterSnapshot"]
        self.assertEqual(cs["SnapshotType"], "manual")
        self.wait()
        self.assertEqual(len(self.deliveries(manual)), 2)          # 0040 then 0042
        self.assertEqual(len(self.deliveries(cluster_manual)), 1)
        # a cluster snapshot with a customer key can be shared
        res = self.rds_a.modify_db_cluster_snapshot_attribute(
            DBClusterSnapshotIdentifier="cm1", AttributeName="restore",
            ValuesToAdd=[ACCOUNT_B])["DBClusterSnapshotAttributesResult"]
        self.assertEqual(res["DBClusterSnapshotAttributes"][0]["AttributeValues"], [ACCOUNT_B])
        shared = self.h.client("rds", ACCOUNT_B, RA).describe_db_cluster_snapshots(
            SnapshotType="shared")["DBClusterSnapshots"]
        self.assertEqual([s["DBClusterSnapshotIdentifier"] for s in shared], [
            "arn:aws:rds:%s:%s:cluster-snapshot:cm1" % (RA, ACCOUNT_A)])
        self.rds_a.delete_db_cluster_snapshot(DBClusterSnapshotIdentifier="cm1")
        self.assertEqual(self.h.client("rds", ACCOUNT_B, RA).describe_db_cluster_snapshots(
            SnapshotType="shared")["DBClusterSnapshots"], [])

    # ------------------------------------------------------------------ copy
    def test_target_identifier_rules(self):
        src = self.automated()
        self.wait()
        for bad in ("rds:db1-copy", "1abc", "a--b", "abc-", "a_b", "a" * 256, ""):
            with self.subTest(bad=bad):
                with self.assertRaises(ClientError) as cm:
                    self.rds_a.copy_db_snapshot(SourceDBSnapshotIdentifier=src["snapshot_id"],
                                                TargetDBSnapshotIdentifier=bad)
                self.assertIn(code_of(cm), ("InvalidParameterValue",))
        ok = self.rds_a.copy_db_snapshot(SourceDBSnapshotIdentifier=src["snapshot_id"],
                                         TargetDBSnapshotIdentifier="A" + "b" * 254)
        self.assertEqual(ok["DBSnapshot"]["DBSnapshotIdentifier"], "a" + "b" * 254)

    def test_same_region_copy(self):
        started = self.sink_rule(ACCOUNT_A, RA, {"detail": {"EventID": ["RDS-EVENT-0196"]}}, "s")
        done = self.sink_rule(ACCOUNT_A, RA, {"detail": {"EventID": ["RDS-EVENT-0197"]}}, "d")
        src = self.automated()
        with self.assertRaises(ClientError) as cm:   # still creating
            self.rds_a.copy_db_snapshot(SourceDBSnapshotIdentifier=src["snapshot_id"],
                                        TargetDBSnapshotIdentifier="early")
        self.assertEqual(code_of(cm), "InvalidDBSnapshotState")
        self.wait()
        self.rds_a.add_tags_to_resource(ResourceName=src["arn"], Tags=[{"Key": "a",
                                                                        "Value": "1"}])
        copy = self.rds_a.copy_db_snapshot(SourceDBSnapshotIdentifier=src["snapshot_id"],
                                           TargetDBSnapshotIdentifier="Copy1", CopyTags=True,
                                           Tags=[{"Key": "b", "Value": "2"}])["DBSnapshot"]
        self.assertEqual(copy["DBSnapshotIdentifier"], "copy1")
        self.assertEqual(copy["SnapshotType"], "manual")
        self.assertEqual(copy["SourceDBSnapshotIdentifier"], src["arn"])
        self.assertEqual(copy["KmsKeyId"], self.h.emu.services["kms"].default_key(
            ACCOUNT_A, RA, "rds"))
        with self.assertRaises(ClientError) as cm:
            self.rds_a.copy_db_snapshot(SourceDBSnapshotIdentifier=src["snapshot_id"],
                                        TargetDBSnapshotIdentifier="copy1")
        self.assertEqual(code_of(cm), "DBSnapshotAlreadyExists")
        self.wait()
        self.assertEqual(len(self.deliveries(started)), 1)
        self.assertEqual(len(self.deliveries(done)), 1)
        tags = self.rds_a.list_tags_for_resource(ResourceName="arn:aws:rds:%s:%s:snapshot:copy1"
                                                 % (RA, ACCOUNT_A))["TagList"]
        self.assertEqual(sorted((t["Key"], t["Value"]) for t in tags), [("a", "1"), ("b", "2")])
        with self.assertRaises(ClientError) as cm:
            self.rds_a.copy_db_snapshot(SourceDBSnapshotIdentifier="nope",
                                        TargetDBSnapshotIdentifier="x")
        self.assertEqual(code_of(cm), "DBSnapshotNotFound")

    def test_cross_region_copy_and_events_in_destination(self):
        src = self.automated()
        self.wait()
        # 0060 fires in the destination Region with the destination ARN: a Region-A pattern
        # (the walkthrough's slip) never matches, a Region-B one does
        wrong = self.sink_rule(ACCOUNT_A, RB, {"detail": {"EventID": ["RDS-EVENT-0060"],
                               "SourceArn": [{"wildcard": "arn:aws:rds:%s:%s:snapshot:db1*"
                                              % (RA, ACCOUNT_A)}]}}, "wrong")
        right = self.sink_rule(ACCOUNT_A, RB, {"detail": {"EventID": ["RDS-EVENT-0060"],
                               "SourceArn": [{"wildcard": "arn:aws:rds:%s:%s:snapshot:db1*"
                                              % (RB, ACCOUNT_A)}]}}, "right")
        started = self.sink_rule(ACCOUNT_A, RB, {"detail": {"EventID": ["RDS-EVENT-0059"]}},
                                 "started")
        with self.assertRaises(ClientError) as cm:
            self.rds_ab.copy_db_snapshot(SourceDBSnapshotIdentifier=src["arn"],
                                         TargetDBSnapshotIdentifier="db1-x")
        self.assertEqual(code_of(cm), "InvalidParameterValue")
        self.assertIn("KmsKeyId", str(cm.exception))
        with self.assertRaises(ClientError) as cm:   # key from Region A is not in Region B
            self.rds_ab.copy_db_snapshot(SourceDBSnapshotIdentifier=src["arn"],
                                         TargetDBSnapshotIdentifier="db1-x",
                                         KmsKeyId=self.key(ACCOUNT_A, RA))
        self.assertEqual(code_of(cm), "KMSKeyNotAccessibleFault")
        key = self.key(ACCOUNT_A, RB)
        copy = self.rds_ab.copy_db_snapshot(SourceDBSnapshotIdentifier=src["arn"],
                                            TargetDBSnapshotIdentifier="db1-x", KmsKeyId=key,
                                            SourceRegion=RA)["DBSnapshot"]
        self.assertEqual(copy["Status"], "copying")
        self.assertEqual(copy["SourceRegion"], RA)
        self.assertEqual(copy["KmsKeyId"], key)
        self.wait()
        self.assertEqual(self.deliveries(wrong), [])
        self.assertEqual(len(self.deliveries(right)), 1)
        self.assertEqual(len(self.deliveries(started)), 1)
        self.assertEqual(self.rds_ab.describe_db_snapshots(DBSnapshotIdentifier="db1-x")[
            "DBSnapshots"][0]["Status"], "available")

    def test_unencrypted_cluster_snapshot_copies_only_without_a_key(self):
        src = self.automated("plain", cluster=True, encrypted=False)
        self.wait()
        key = self.key(ACCOUNT_A, RB)
        # what the pipeline's functions read before copying: the source is not encrypted
        got = self.rds_a.describe_db_cluster_snapshots(
            DBClusterSnapshotIdentifier=src["arn"], SnapshotType="automated")[
            "DBClusterSnapshots"][0]
        self.assertEqual((got["StorageEncrypted"], "KmsKeyId" in got), (False, False))
        # AWS cannot encrypt a DB cluster snapshot by copying it: a key is refused
        with self.assertRaises(ClientError) as cm:
            self.rds_ab.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier=src["arn"],
                                                 TargetDBClusterSnapshotIdentifier="p1",
                                                 KmsKeyId=key, SourceRegion=RA)
        self.assertEqual(code_of(cm), "InvalidParameterCombination")
        self.assertIn("KmsKeyId", str(cm.exception))
        self.assertEqual(self.rds_ab.describe_db_cluster_snapshots()["DBClusterSnapshots"], [])
        copy = self.rds_ab.copy_db_cluster_snapshot(
            SourceDBClusterSnapshotIdentifier=src["arn"], TargetDBClusterSnapshotIdentifier="p1",
            SourceRegion=RA)["DBClusterSnapshot"]
        self.assertEqual((copy["StorageEncrypted"], "KmsKeyId" in copy), (False, False))
        self.wait()
        self.rds_ab.modify_db_cluster_snapshot_attribute(
            DBClusterSnapshotIdentifier="p1", AttributeName="restore", ValuesToAdd=[ACCOUNT_B])
        # the backup account: the same for the shared copy, which it describes by ARN
        arn = "arn:aws:rds:%s:%s:cluster-snapshot:p1" % (RB, ACCOUNT_A)
        shared = self.rds_bb.describe_db_cluster_snapshots(
            DBClusterSnapshotIdentifier=arn, SnapshotType="shared")["DBClusterSnapshots"][0]
        self.assertEqual((shared["DBClusterSnapshotIdentifier"], shared["StorageEncrypted"]),
                         (arn, False))
        with self.assertRaises(ClientError) as cm:
            self.rds_bb.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier=arn,
                                                 TargetDBClusterSnapshotIdentifier="p1-b",
                                                 KmsKeyId=self.key(ACCOUNT_B, RB))
        self.assertEqual(code_of(cm), "InvalidParameterCombination")
        backup = self.rds_bb.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier=arn,
                                                      TargetDBClusterSnapshotIdentifier="p1-b")[
            "DBClusterSnapshot"]
        self.assertEqual((backup["StorageEncrypted"], "KmsKeyId" in backup), (False, False))

    def test_option_group_needed_across_regions(self):
        """A snapshot of an instance with a non-default option group (TDE) copied to another
        Region needs a target option group (AWS's InvalidParameterValue); within the Region it
        does not; the copy carries the option group named."""
        src = self.automated("tde-db", option_group="ora-tde")
        self.wait()
        got = self.rds_a.describe_db_snapshots(DBSnapshotIdentifier=src["snapshot_id"])
        self.assertEqual(got["DBSnapshots"][0]["OptionGroupName"], "ora-tde")
        key = self.key(ACCOUNT_A, RB)
        with self.assertRaises(ClientError) as cm:
            self.rds_ab.copy_db_snapshot(SourceDBSnapshotIdentifier=src["arn"],
                                         TargetDBSnapshotIdentifier="t1", KmsKeyId=key,
                                         SourceRegion=RA)
        self.assertEqual(code_of(cm), "InvalidParameterValue")
        self.assertIn("requires a target option group", str(cm.exception))
        copy = self.rds_ab.copy_db_snapshot(SourceDBSnapshotIdentifier=src["arn"],
                                            TargetDBSnapshotIdentifier="t1", KmsKeyId=key,
                                            SourceRegion=RA, OptionGroupName="ora-tde-b")
        self.assertEqual(copy["DBSnapshot"]["OptionGroupName"], "ora-tde-b")
        local = self.rds_a.copy_db_snapshot(SourceDBSnapshotIdentifier=src["snapshot_id"],
                                            TargetDBSnapshotIdentifier="t2")
        self.assertEqual(local["DBSnapshot"]["OptionGroupName"], "ora-tde")

    def test_unencrypted_db_snapshot_copied_with_a_key_is_encrypted_with_it(self):
        src = self.automated("plain-db", encrypted=False)
        self.wait()
        key = self.key(ACCOUNT_A, RB)
        copy = self.rds_ab.copy_db_snapshot(SourceDBSnapshotIdentifier=src["arn"],
                                            TargetDBSnapshotIdentifier="e1", KmsKeyId=key,
                                            SourceRegion=RA)["DBSnapshot"]
        self.assertEqual((copy["Encrypted"], copy["KmsKeyId"]), (True, key))
        # without a key the copy stays as its source
        plain = self.rds_a.copy_db_snapshot(SourceDBSnapshotIdentifier=src["snapshot_id"],
                                            TargetDBSnapshotIdentifier="u1")["DBSnapshot"]
        self.assertEqual((plain["Encrypted"], "KmsKeyId" in plain), (False, False))

    def test_automated_snapshot_route_takes_encrypted_as_a_boolean(self):
        status, out = self.h.control("POST", "/_emu/rds/automated-snapshot", {
            "account": ACCOUNT_A, "region": RA, "db_cluster": "plain", "encrypted": "false"})
        self.assertEqual(status, 400, out)
        self.assertIn("encrypted", out["error"])
        self.automated("plain", cluster=True, encrypted=False)
        got = self.rds_a.describe_db_cluster_snapshots(SnapshotType="automated")[
            "DBClusterSnapshots"]
        self.assertEqual([s["StorageEncrypted"] for s in got], [False])

    def test_other_accounts_default_key_never_usable(self):
        src = self.automated()
        self.wait()
        b_default = self.h.emu.services["kms"].default_key(ACCOUNT_B, RB, "rds")
        with self.assertRaises(ClientError) as cm:
            self.rds_ab.copy_db_snapshot(SourceDBSnapshotIdentifier=src["arn"],
                                         TargetDBSnapshotIdentifier="x", KmsKeyId=b_default)
        self.assertEqual(code_of(cm), "KMSKeyNotAccessibleFault")

    def test_concurrent_copy_quota(self):
        src = self.automated()
        self.wait()
        key = self.key(ACCOUNT_A, RB)
        self.h.control("POST", "/_emu/rds/config", {"delay_s": 60})
        for i in range(20):
            self.rds_ab.copy_db_snapshot(SourceDBSnapshotIdentifier=src["arn"],
                                         TargetDBSnapshotIdentifier="c%d" % i, KmsKeyId=key)
        with self.assertRaises(ClientError) as cm:
            self.rds_ab.copy_db_snapshot(SourceDBSnapshotIdentifier=src["arn"],
                                         TargetDBSnapshotIdentifier="c20", KmsKeyId=key)
        self.assertEqual(code_of(cm), "SnapshotQuotaExceeded")
        # other destination Regions are counted separately
        self.rds_a.copy_db_snapshot(SourceDBSnapshotIdentifier=src["snapshot_id"],
                                    TargetDBSnapshotIdentifier="local")
        self.h.control("POST", "/_emu/reset")

    # --------------------------------------------------------------- sharing
    def test_sharing_rules_and_cross_account_copy(self):
        src = self.automated()
        self.wait()
        with self.assertRaises(ClientError) as cm:
            self.rds_a.modify_db_snapshot_attribute(DBSnapshotIdentifier=src["snapshot_id"],
                                                    AttributeName="restore",
                                                    ValuesToAdd=[ACCOUNT_B])
        self.assertEqual(code_of(cm), "InvalidParameterValue")
        self.assertIn("automated", str(cm.exception))
        self.rds_a.copy_db_snapshot(SourceDBSnapshotIdentifier=src["snapshot_id"],
                                    TargetDBSnapshotIdentifier="default-copy")
        self.wait()
        with self.assertRaises(ClientError) as cm:
            self.rds_a.modify_db_snapshot_attribute(DBSnapshotIdentifier="default-copy",
                                                    AttributeName="restore",
                                                    ValuesToAdd=[ACCOUNT_B])
        self.assertEqual(code_of(cm), "InvalidParameterValue")
        self.assertIn("encrypted with the default key", str(cm.exception))
        self.assertIn("cannot be shared", str(cm.exception))
        # Region B copy with a key B may use (the walkthrough's shared key, owned by B)
        shared_key = self.key(ACCOUNT_B, RB, ACCOUNT_A)
        self.rds_ab.copy_db_snapshot(SourceDBSnapshotIdentifier=src["arn"],
                                     TargetDBSnapshotIdentifier="db1-rb", KmsKeyId=shared_key)
        self.wait()
        with self.assertRaises(ClientError) as cm:
            self.rds_ab.modify_db_snapshot_attribute(DBSnapshotIdentifier="db1-rb",
                                                     AttributeName="restore",
                                                     ValuesToAdd=["all"])
        self.assertEqual(code_of(cm), "InvalidParameterValue")
        arn = "arn:aws:rds:%s:%s:snapshot:db1-rb" % (RB, ACCOUNT_A)
        # before sharing, B cannot see or copy it
        with self.assertRaises(ClientError) as cm:
            self.rds_bb.copy_db_snapshot(SourceDBSnapshotIdentifier=arn,
                                         TargetDBSnapshotIdentifier="db1-b", KmsKeyId=shared_key)
        self.assertEqual(code_of(cm), "DBSnapshotNotFound")
        res = self.rds_ab.modify_db_snapshot_attribute(DBSnapshotIdentifier="db1-rb",
                                                       AttributeName="restore",
                                                       ValuesToAdd=[ACCOUNT_B])
        self.assertEqual(res["DBSnapshotAttributesResult"]["DBSnapshotAttributes"],
                         [{"AttributeName": "restore", "AttributeValues": [ACCOUNT_B]}])
        attrs = self.rds_ab.describe_db_snapshot_attributes(DBSnapshotIdentifier="db1-rb")
        self.assertEqual(attrs["DBSnapshotAttributesResult"]["DBSnapshotAttributes"][0][
            "AttributeValues"], [ACCOUNT_B])
        shared = self.rds_bb.describe_db_snapshots(SnapshotType="shared")["DBSnapshots"]
        self.assertEqual([s["DBSnapshotIdentifier"] for s in shared], [arn])
        self.assertEqual(self.rds_bb.describe_db_snapshots()["DBSnapshots"], [])
        self.assertEqual(len(self.rds_bb.describe_db_snapshots(IncludeShared=True)[
            "DBSnapshots"]), 1)
        with self.assertRaises(ClientError) as cm:   # encrypted shared source needs KmsKeyId
            self.rds_bb.copy_db_snapshot(SourceDBSnapshotIdentifier=arn,
                                         TargetDBSnapshotIdentifier="db1-b")
        self.assertEqual(code_of(cm), "InvalidParameterValue")
        copy = self.rds_bb.copy_db_snapshot(SourceDBSnapshotIdentifier=arn,
                                            TargetDBSnapshotIdentifier="db1-b",
                                            KmsKeyId=shared_key)["DBSnapshot"]
        self.assertEqual(copy["DBSnapshotArn"], "arn:aws:rds:%s:%s:snapshot:db1-b"
                         % (RB, ACCOUNT_B))
        self.wait()
        self.assertEqual(self.rds_bb.describe_db_snapshots(DBSnapshotIdentifier="db1-b")[
            "DBSnapshots"][0]["Status"], "available")

    def test_shared_source_needs_key_access(self):
        src = self.automated()
        self.wait()
        a_key = self.key(ACCOUNT_A, RB)   # A's own key: B is not granted
        self.rds_ab.copy_db_snapshot(SourceDBSnapshotIdentifier=src["arn"],
                                     TargetDBSnapshotIdentifier="s", KmsKeyId=a_key)
        self.wait()
        self.rds_ab.modify_db_snapshot_attribute(DBSnapshotIdentifier="s",
                                                 AttributeName="restore",
                                                 ValuesToAdd=[ACCOUNT_B])
        b_key = self.key(ACCOUNT_B, RB)
        with self.assertRaises(ClientError) as cm:
            self.rds_bb.copy_db_snapshot(
                SourceDBSnapshotIdentifier="arn:aws:rds:%s:%s:snapshot:s" % (RB, ACCOUNT_A),
                TargetDBSnapshotIdentifier="s", KmsKeyId=b_key)
        self.assertEqual(code_of(cm), "KMSKeyNotAccessibleFault")

    def test_role_needs_rds_permission(self):
        src = self.automated()
        self.wait()
        iam = self.h.client("iam", ACCOUNT_A, RA)
        role = iam.create_role(RoleName="copier", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
                "Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
        creds = self.h.emu.credentials_for_role(ACCOUNT_A, role, "s")
        rds = self.h.client("rds", ACCOUNT_A, RA, credentials=creds)
        with self.assertRaises(ClientError) as cm:
            rds.copy_db_snapshot(SourceDBSnapshotIdentifier=src["snapshot_id"],
                                 TargetDBSnapshotIdentifier="c")
        self.assertEqual(code_of(cm), "AccessDenied")
        self.assertIn("rds:CopyDBSnapshot", str(cm.exception))
        iam.put_role_policy(RoleName="copier", PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                                                    "Action": "rds:CopyDBSnapshot",
                                                    "Resource": "arn:aws:rds:*:%s:snapshot:*"
                                                    % ACCOUNT_A}]}))
        self.assertEqual(rds.copy_db_snapshot(SourceDBSnapshotIdentifier=src["snapshot_id"],
                                              TargetDBSnapshotIdentifier="c")["DBSnapshot"][
            "DBSnapshotIdentifier"], "c")

    # ----------------------------------------------------- describe / delete
    def test_describe_filters_paging_delete(self):
        src = self.automated()
        self.automated("db2")
        self.wait()
        for i in range(22):
            self.rds_a.copy_db_snapshot(SourceDBSnapshotIdentifier=src["snapshot_id"],
                                        TargetDBSnapshotIdentifier="m%02d" % i)
            if i % 10 == 9:
                self.wait()
        self.wait()
        manual = self.rds_a.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
        self.assertEqual(len(manual), 22)
        auto = self.rds_a.describe_db_snapshots(SnapshotType="automated")["DBSnapshots"]
        self.assertEqual(len(auto), 2)
        by_db = self.rds_a.describe_db_snapshots(DBInstanceIdentifier="db2")["DBSnapshots"]
        self.assertEqual(len(by_db), 1)
        filt = self.rds_a.describe_db_snapshots(Filters=[{"Name": "db-snapshot-id",
                                                          "Values": ["m01", "m02"]}])
        self.assertEqual(len(filt["DBSnapshots"]), 2)
        page = self.rds_a.describe_db_snapshots(MaxRecords=20)
        self.assertEqual(len(page["DBSnapshots"]), 20)
        rest = self.rds_a.describe_db_snapshots(MaxRecords=20, Marker=page["Marker"])
        self.assertEqual(len(rest["DBSnapshots"]), 4)
        self.assertNotIn("Marker", rest)
        with self.assertRaises(ClientError) as cm:
            self.rds_a.describe_db_snapshots(MaxRecords=5)
        self.assertEqual(code_of(cm), "InvalidParameterValue")
        with self.assertRaises(ClientError) as cm:
            self.rds_a.describe_db_snapshots(DBSnapshotIdentifier="missing")
        self.assertEqual(code_of(cm), "DBSnapshotNotFound")
        with self.assertRaises(ClientError) as cm:
            self.rds_a.delete_db_snapshot(DBSnapshotIdentifier=src["snapshot_id"])
        self.assertEqual(code_of(cm), "InvalidDBSnapshotState")
        out = self.rds_a.delete_db_snapshot(DBSnapshotIdentifier="m00")["DBSnapshot"]
        self.assertEqual(out["Status"], "deleted")
        self.assertEqual(len(self.rds_a.describe_db_snapshots(SnapshotType="manual")[
            "DBSnapshots"]), 21)
        self.rds_a.remove_tags_from_resource(ResourceName=src["arn"], TagKeys=["x"])

    def test_restore_and_delete_instance(self):
        src = self.automated()
        self.wait()
        inst = self.rds_a.restore_db_instance_from_db_snapshot(
            DBInstanceIdentifier="restored", DBSnapshotIdentifier=src["snapshot_id"])[
            "DBInstance"]
        self.assertEqual(inst["DBInstanceStatus"], "creating")
        self.wait()
        got = self.rds_a.describe_db_instances(DBInstanceIdentifier="restored")["DBInstances"]
        self.assertEqual(got[0]["DBInstanceStatus"], "available")
        self.assertEqual(len(self.rds_a.describe_db_instances()["DBInstances"]), 2)
        with self.assertRaises(ClientError) as cm:
            self.rds_a.delete_db_instance(DBInstanceIdentifier="restored")
        self.assertEqual(code_of(cm), "InvalidParameterCombination")
        self.rds_a.delete_db_instance(DBInstanceIdentifier="restored", SkipFinalSnapshot=True)
        with self.assertRaises(ClientError) as cm:
            self.rds_a.describe_db_instances(DBInstanceIdentifier="restored")
        self.assertEqual(code_of(cm), "DBInstanceNotFound")

    def test_restore_refused_when_key_pending_deletion(self):
        src = self.automated()
        self.wait()
        key = self.key(ACCOUNT_A, RB)
        self.rds_ab.copy_db_snapshot(SourceDBSnapshotIdentifier=src["arn"],
                                     TargetDBSnapshotIdentifier="k", KmsKeyId=key)
        self.wait()
        self.h.client("kms", ACCOUNT_A, RB).schedule_key_deletion(KeyId=key,
                                                                  PendingWindowInDays=7)
        with self.assertRaises(ClientError) as cm:
            self.rds_ab.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="r",
                                                             DBSnapshotIdentifier="k")
        self.assertEqual(code_of(cm), "KMSKeyNotAccessibleFault")
        self.assertRegex(str(cm.exception), re.compile("pending deletion", re.I))

    # ------------------------------------------------------- time and quotas
    def clock(self, advance_s):
        status, out = self.h.control("POST", "/_emu/clock", {"advance_s": advance_s})
        self.assertEqual(status, 200, out)
        return out["now"]

    def automated_ids(self, rds, cluster=False):
        if cluster:
            return sorted(s["DBClusterSnapshotIdentifier"] for s in rds.describe_db_cluster_snapshots(
                SnapshotType="automated")["DBClusterSnapshots"])
        return sorted(s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(
            SnapshotType="automated")["DBSnapshots"])

    def test_automated_snapshots_expire_after_the_retention_period(self):
        first = self.automated("db1", backup_retention_days=2)["snapshot_id"]
        cl_first = self.automated("cl1", cluster=True)["snapshot_id"]   # default: 7 days
        self.wait()
        self.rds_a.create_db_snapshot(DBSnapshotIdentifier="keep", DBInstanceIdentifier="db1")
        self.rds_a.create_db_cluster_snapshot(DBClusterSnapshotIdentifier="keep-cl",
                                              DBClusterIdentifier="cl1")
        self.assertEqual(self.rds_a.describe_db_instances(DBInstanceIdentifier="db1")[
            "DBInstances"][0]["BackupRetentionPeriod"], 2)
        now = self.clock(86400)
        # taken at AWS time: the name and SnapshotCreateTime are a day on
        second = self.automated("db1")["snapshot_id"]
        self.wait()
        got = self.rds_a.describe_db_snapshots(DBSnapshotIdentifier=second)["DBSnapshots"][0]
        self.assertAlmostEqual(got["SnapshotCreateTime"].timestamp(), now, delta=5)
        self.assertEqual(second, "rds:db1-" + time.strftime("%Y-%m-%d-%H-%M",
                                                            time.gmtime(int(now) // 60 * 60)))
        self.assertEqual(self.automated_ids(self.rds_a), sorted([first, second]))
        self.clock(86400 + 60)    # the first is now older than 2 days
        self.assertEqual(self.automated_ids(self.rds_a), [second])
        self.assertEqual(self.automated_ids(self.rds_a, cluster=True), [cl_first])
        self.clock(5 * 86400)     # the cluster's is older than 7 days, db1's second than 2
        self.assertEqual(self.automated_ids(self.rds_a), [])
        self.assertEqual(self.automated_ids(self.rds_a, cluster=True), [])
        # manual snapshots never expire
        self.assertEqual([s["DBSnapshotIdentifier"] for s in self.rds_a.describe_db_snapshots()[
            "DBSnapshots"]], ["keep"])
        self.assertEqual(len(self.rds_a.describe_db_cluster_snapshots()["DBClusterSnapshots"]), 1)
        status, out = self.h.control("POST", "/_emu/rds/automated-snapshot", {
            "account": ACCOUNT_A, "region": RA, "db_instance": "db2", "backup_retention_days": 0})
        self.assertEqual(status, 400, out)

    def test_advance_is_lived_in_time_order(self):
        # a schedule firing after an automated snapshot's retention ends no longer sees it; one
        # firing before does, and the copy a step's work starts finishes before the next step
        self.automated("db1", backup_retention_days=1)
        self.wait()
        seen = []
        lam = self.h.emu.services["lambda"]
        rds = self.h.emu.services["rds"]

        def record(account, region, arn, payload, source_arn=None, principal=None):
            m1 = rds.snaps.get(("db", ACCOUNT_A, RA, "m1"))
            seen.append((sorted(k[3] for k in rds.snaps), m1 and m1["Status"]))
            if len(seen) == 1:   # as a scheduled function would: start a copy (takes an hour)
                self.h.control("POST", "/_emu/rds/config", {"delay_s": 3600})
                self.rds_a.create_db_snapshot(DBSnapshotIdentifier="m1",
                                              DBInstanceIdentifier="db1")
        lam.invoke_async = record
        self.addCleanup(delattr, lam, "invoke_async")
        ev = self.h.client("events", ACCOUNT_A, RA)
        ev.put_rule(Name="tick", ScheduleExpression="rate(12 hours)")
        ev.put_targets(Rule="tick", Targets=[{"Id": "t", "Arn": "arn:aws:lambda:%s:%s:function:"
                                              "f" % (RA, ACCOUNT_A)}])
        self.h.advance(2 * 86400, max_fires_per_rule=0)
        self.assertEqual(len(seen), 4)
        self.assertTrue(seen[0][0][0].startswith("rds:db1-"), seen)
        self.assertEqual(seen[1:], [(["m1"], "available")] * 3)   # 24 h: expired; 13 h: copied
        self.assertEqual(self.rds_a.describe_db_snapshots(DBSnapshotIdentifier="m1")[
            "DBSnapshots"][0]["Status"], "available")

    def set_quotas(self, account, region, **quotas):
        body = {"account": account, "region": region}
        body.update(quotas)
        status, out = self.h.control("POST", "/_emu/rds/quotas", body)
        self.assertEqual(status, 200, out)
        return out

    def assertQuotaExceeded(self, cm, limit):
        self.assertEqual(code_of(cm), "SnapshotQuotaExceeded")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertEqual(cm.exception.response["Error"]["Message"],
                         "Cannot create more than %d manual snapshots" % limit)

    def quotas_of(self, rds):
        return {q["AccountQuotaName"]: (q["Used"], q["Max"])
                for q in rds.describe_account_attributes()["AccountQuotas"]}

    def test_manual_snapshot_quotas_per_kind_account_and_region(self):
        self.assertEqual(self.set_quotas(ACCOUNT_A, RA), {
            "account": ACCOUNT_A, "region": RA, "ManualSnapshots": 100,
            "ManualClusterSnapshots": 100})
        self.set_quotas(ACCOUNT_A, RA, ManualSnapshots=2, ManualClusterSnapshots=1)
        src = self.automated("db1", encrypted=False)
        self.automated("cl1", cluster=True, encrypted=False)
        self.wait()
        self.h.control("POST", "/_emu/rds/config", {"delay_s": 60})  # stay "creating": counted
        self.rds_a.create_db_snapshot(DBSnapshotIdentifier="m1", DBInstanceIdentifier="db1")
        self.rds_a.copy_db_snapshot(SourceDBSnapshotIdentifier=src["snapshot_id"],
                                    TargetDBSnapshotIdentifier="m2")
        with self.assertRaises(ClientError) as cm:
            self.rds_a.create_db_snapshot(DBSnapshotIdentifier="m3", DBInstanceIdentifier="db1")
        self.assertQuotaExceeded(cm, 2)
        with self.assertRaises(ClientError) as cm:
            self.rds_a.copy_db_snapshot(SourceDBSnapshotIdentifier=src["snapshot_id"],
                                        TargetDBSnapshotIdentifier="m3")
        self.assertQuotaExceeded(cm, 2)
        # DB cluster snapshots have a quota of their own
        self.rds_a.create_db_cluster_snapshot(DBClusterSnapshotIdentifier="c1",
                                              DBClusterIdentifier="cl1")
        with self.assertRaises(ClientError) as cm:
            self.rds_a.create_db_cluster_snapshot(DBClusterSnapshotIdentifier="c2",
                                                  DBClusterIdentifier="cl1")
        self.assertQuotaExceeded(cm, 1)
        q = self.quotas_of(self.rds_a)
        self.assertEqual((q["ManualSnapshots"], q["ManualClusterSnapshots"]), ((2, 2), (1, 1)))
        self.assertEqual((q["DBInstances"], q["DBClusters"]), ((1, 40), (1, 40)))
        # other Regions and accounts have theirs (100 by default)
        self.rds_ab.copy_db_snapshot(SourceDBSnapshotIdentifier=src["arn"],
                                     TargetDBSnapshotIdentifier="m3")
        self.assertEqual(self.quotas_of(self.rds_ab)["ManualSnapshots"], (1, 100))
        self.assertEqual(self.quotas_of(self.h.client("rds", ACCOUNT_B, RA))["ManualSnapshots"],
                         (0, 100))
        # deleting one makes room again
        self.rds_a.delete_db_snapshot(DBSnapshotIdentifier="m1")
        self.rds_a.create_db_snapshot(DBSnapshotIdentifier="m4", DBInstanceIdentifier="db1")
        self.h.control("POST", "/_emu/reset")

    def test_shared_snapshots_do_not_count_against_the_quota(self):
        rds_ba = self.h.client("rds", ACCOUNT_B, RA)
        self.set_quotas(ACCOUNT_B, RA, ManualSnapshots=1)
        self.automated("db1", encrypted=False)
        self.wait()
        self.rds_a.create_db_snapshot(DBSnapshotIdentifier="s1", DBInstanceIdentifier="db1")
        self.rds_a.create_db_snapshot(DBSnapshotIdentifier="s2", DBInstanceIdentifier="db1")
        self.wait()
        for sid in ("s1", "s2"):
            self.rds_a.modify_db_snapshot_attribute(DBSnapshotIdentifier=sid,
                                                    AttributeName="restore",
                                                    ValuesToAdd=[ACCOUNT_B])
        arn = "arn:aws:rds:%s:%s:snapshot:" % (RA, ACCOUNT_A)
        self.assertEqual(len(rds_ba.describe_db_snapshots(SnapshotType="shared")["DBSnapshots"]), 2)
        self.assertEqual(self.quotas_of(rds_ba)["ManualSnapshots"], (0, 1))
        rds_ba.copy_db_snapshot(SourceDBSnapshotIdentifier=arn + "s1",
                                TargetDBSnapshotIdentifier="mine")
        with self.assertRaises(ClientError) as cm:
            rds_ba.copy_db_snapshot(SourceDBSnapshotIdentifier=arn + "s2",
                                    TargetDBSnapshotIdentifier="mine2")
        self.assertQuotaExceeded(cm, 1)
        self.assertEqual(self.quotas_of(self.rds_a)["ManualSnapshots"], (2, 100))

    def test_account_attributes_and_quota_route(self):
        q = self.rds_a.describe_account_attributes()["AccountQuotas"]
        names = [x["AccountQuotaName"] for x in q]
        for name in ("ManualSnapshots", "ManualClusterSnapshots", "DBInstances", "DBClusters",
                     "AllocatedStorage", "DBParameterGroups", "DBSubnetGroups",
                     "EventSubscriptions", "OptionGroups", "ReservedDBInstances"):
            self.assertIn(name, names)
        self.assertEqual(len(names), len(set(names)))
        self.assertTrue(all(x["Max"] > 0 and x["Used"] == 0 for x in q), q)
        self.set_quotas(ACCOUNT_A, RA, ManualClusterSnapshots=250)
        got = self.quotas_of(self.rds_a)
        self.assertEqual((got["ManualSnapshots"], got["ManualClusterSnapshots"]),
                         ((0, 100), (0, 250)))
        self.assertEqual(self.h.control("GET", "/_emu/rds/quotas?account=%s&region=%s"
                                        % (ACCOUNT_A, RA)),
                         (200, {"account": ACCOUNT_A, "region": RA, "ManualSnapshots": 100,
                                "ManualClusterSnapshots": 250}))
        for body in ({"account": "999999999999", "region": RA},
                     {"account": ACCOUNT_A, "region": RA, "ManualSnapshots": -1},
                     {"account": ACCOUNT_A, "region": RA, "DBInstances": 5}):
            with self.subTest(body=body):
                self.assertEqual(self.h.control("POST", "/_emu/rds/quotas", body)[0], 400)
        role = self.h.client("iam", ACCOUNT_A, "us-east-1").create_role(
            RoleName="reader", AssumeRolePolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action":
                                                        "sts:AssumeRole", "Principal": {
                                                            "AWS": ACCOUNT_A}}]}))["Role"]["Arn"]
        creds = self.h.emu.credentials_for_role(ACCOUNT_A, role, "s")
        with self.assertRaises(ClientError) as cm:
            self.h.client("rds", ACCOUNT_A, RA, credentials=creds).describe_account_attributes()
        self.assertEqual(code_of(cm), "AccessDenied")
        self.assertIn("rds:DescribeAccountAttributes", str(cm.exception))

    # ------------------------------------------------ events lost, copies that take time
    def test_automated_snapshot_without_its_event(self):
        rule = self.sink_rule(ACCOUNT_A, RA, {"source": ["aws.rds"]}, "all")
        self.automated("db1", emit_event=False)
        self.automated("aurora1", cluster=True, emit_event=False)
        self.wait()
        self.assertEqual(self.deliveries(rule), [])   # neither creating nor created
        snap = self.rds_a.describe_db_snapshots(SnapshotType="automated")["DBSnapshots"][0]
        self.assertEqual(snap["Status"], "available")
        cl = self.rds_a.describe_db_cluster_snapshots(SnapshotType="automated")[
            "DBClusterSnapshots"][0]
        self.assertEqual(cl["Status"], "available")
        self.automated("db1")   # the default still emits both
        self.wait()
        self.assertEqual(len(self.deliveries(rule)), 2)
        status, out = self.h.control("POST", "/_emu/rds/automated-snapshot", {
            "account": ACCOUNT_A, "region": RA, "db_instance": "db1", "emit_event": "no"})
        self.assertEqual(status, 400, out)

    def test_copy_duration_on_aws_time(self):
        src = self.automated()
        cluster = self.automated("aurora1", cluster=True)
        self.wait()
        key = self.key(ACCOUNT_A, RB)
        done = self.sink_rule(ACCOUNT_A, RB, {"detail": {"EventID": ["RDS-EVENT-0060"]}}, "done")
        status, cfg = self.h.control("POST", "/_emu/rds/config", {"copy_duration_s": 3600})
        self.assertEqual((status, cfg["copy_duration_s"], cfg["max_cross_region_copies"]),
                         (200, 3600, 20))
        copy = self.rds_ab.copy_db_snapshot(SourceDBSnapshotIdentifier=src["arn"],
                                            TargetDBSnapshotIdentifier="db1-x",
                                            KmsKeyId=key)["DBSnapshot"]
        self.assertEqual((copy["Status"], copy["PercentProgress"]), ("copying", 0))
        ccopy = self.rds_a.copy_db_cluster_snapshot(
            SourceDBClusterSnapshotIdentifier=cluster["snapshot_id"],
            TargetDBClusterSnapshotIdentifier="aurora1-x")["DBClusterSnapshot"]
        self.assertEqual(ccopy["Status"], "creating")   # a same-Region copy
        self.h.advance(1800)   # half way: still copying, and says so

        def state():
            snap = self.rds_ab.describe_db_snapshots(DBSnapshotIdentifier="db1-x")[
                "DBSnapshots"][0]
            return snap["Status"], snap["PercentProgress"]
        status, progress = state()
        self.assertEqual(status, "copying")
        self.assertTrue(45 <= progress <= 55, progress)
        self.assertEqual(self.deliveries(done), [])
        self.assertEqual(self.rds_a.describe_db_cluster_snapshots(
            DBClusterSnapshotIdentifier="aurora1-x")["DBClusterSnapshots"][0]["Status"],
            "creating")
        self.h.advance(1801)
        self.assertEqual(state(), ("available", 100))
        self.assertEqual(len(self.deliveries(done)), 1)   # its completion event, once
        self.assertEqual(self.rds_a.describe_db_cluster_snapshots(
            DBClusterSnapshotIdentifier="aurora1-x")["DBClusterSnapshots"][0]["Status"],
            "available")
        # a reset restores the defaults
        self.h.control("POST", "/_emu/reset")
        cfg = self.h.control("GET", "/_emu/rds/config")[1]
        self.assertEqual((cfg["copy_duration_s"], cfg["max_cross_region_copies"]), (0, 20))
        status, out = self.h.control("POST", "/_emu/rds/config", {"copy_duration_s": -1})
        self.assertEqual(status, 400, out)

    def test_cross_region_copies_in_flight_are_limited(self):
        src = self.automated()
        cluster = self.automated("aurora1", cluster=True)
        local = self.automated("dbb", region=RB)
        self.wait()
        key = self.key(ACCOUNT_A, RB)
        self.h.control("POST", "/_emu/rds/config", {"copy_duration_s": 300,
                                                    "max_cross_region_copies": 2})

        def copy(name):
            return self.rds_ab.copy_db_snapshot(SourceDBSnapshotIdentifier=src["arn"],
                                                TargetDBSnapshotIdentifier=name, KmsKeyId=key)
        copy("c1")
        self.h.advance(200)
        copy("c2")
        with self.assertRaises(ClientError) as cm:
            copy("c3")
        self.assertEqual(code_of(cm), "SnapshotQuotaExceeded")
        self.assertEqual(cm.exception.response["Error"]["Message"],
                         "Cannot copy more than 2 snapshots across regions")
        with self.assertRaises(ClientError) as cm:   # cluster snapshots count the same
            self.rds_ab.copy_db_cluster_snapshot(
                SourceDBClusterSnapshotIdentifier=cluster["arn"],
                TargetDBClusterSnapshotIdentifier="cl1", KmsKeyId=key)
        self.assertEqual(code_of(cm), "SnapshotQuotaExceeded")
        # same-Region copies do not count, nor do other destination Regions or accounts
        self.rds_ab.copy_db_snapshot(SourceDBSnapshotIdentifier=local["snapshot_id"],
                                     TargetDBSnapshotIdentifier="local-copy")
        self.rds_a.copy_db_snapshot(SourceDBSnapshotIdentifier=src["snapshot_id"],
                                    TargetDBSnapshotIdentifier="in-a")
        self.h.advance(101)   # c1 is done, c2 is not: one more may start
        copy("c3")
        with self.assertRaises(ClientError) as cm:
            copy("c4")
        self.assertEqual(code_of(cm), "SnapshotQuotaExceeded")
        self.h.advance(300)
        statuses = {s["DBSnapshotIdentifier"]: s["Status"] for s in
                    self.rds_ab.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]}
        self.assertEqual(statuses, {"c1": "available", "c2": "available", "c3": "available",
                                    "local-copy": "available"})

if __name__ == "__main__":
    unittest.main(warnings="ignore")
