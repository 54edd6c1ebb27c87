"""Tests of the Lambda handlers in templates/lambda/ with botocore's Stubber (no network).

Run: /usr/bin/python3 tests/lambda/test_handlers.py  (CTest: lambda.handlers)
"""

import contextlib
import copy
import datetime
import io
import json
import os
import subprocess
import sys
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
LAMBDA_DIR = os.path.join(os.path.dirname(os.path.dirname(HERE)), "templates", "lambda")
sys.path.insert(0, LAMBDA_DIR)
sys.dont_write_bytecode = True  # keep __pycache__ out of templates/

import boto3  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from botocore.handlers import inject_presigned_url_rds  # noqa: E402
from botocore.stub import Stubber  # noqa: E402

import backup_copy  # noqa: E402
import copy_snapshot  # noqa: E402
import rdsbk_common as c  # noqa: E402
import share  # noqa: E402

A = "111111111111"
A2 = "333333333333"
B = "222222222222"
STACK = "prod-backup"
REGION_A = "us-east-1"
REGION_B = "eu-west-1"
KEY = f"arn:aws:kms:{REGION_B}:{B}:key/mrk-0123456789abcdef0123456789abcdef"

ENV = {
    "RDSBK_STACK": STACK,
    "RDSBK_TARGET_REGION": REGION_B,
    "RDSBK_KMS_KEY_ARN": KEY,
    "RDSBK_BACKUP_ACCOUNT": B,
    "RDSBK_SOURCE_ACCOUNTS": f"{A}, {A2}",
    "RDSBK_EVENT_SOURCE": f"rdsbk.{STACK}",
    "RDSBK_EVENT_DETAIL_TYPE": "RDS Snapshot Shared",
    "RDSBK_DATABASES": f"{REGION_A}/instance/prod-db,{REGION_A}/instance/reporting-*,"
                       f"{REGION_A}/cluster/aurora-main",
    # Fake credentials: the stubbed clients never send anything, but presigning needs keys.
    "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    "AWS_DEFAULT_REGION": REGION_B,
}

SNAP_ID = "rds:prod-db-2024-08-13-03-10"
COPY_ID = "prod-db-2024-08-13-03-10"
SRC_ARN = f"arn:aws:rds:{REGION_A}:{A}:snapshot:{SNAP_ID}"
COPY_ARN = f"arn:aws:rds:{REGION_B}:{A}:snapshot:{COPY_ID}"
BACKUP_ARN = f"arn:aws:rds:{REGION_B}:{B}:snapshot:{COPY_ID}-{A}"
CL_SNAP_ID = "rds:aurora-main-2024-08-13-03-10"
CL_COPY_ID = "aurora-main-2024-08-13-03-10"
CL_SRC_ARN = f"arn:aws:rds:{REGION_A}:{A}:cluster-snapshot:{CL_SNAP_ID}"
CL_COPY_ARN = f"arn:aws:rds:{REGION_B}:{A}:cluster-snapshot:{CL_COPY_ID}"


class Context:
    aws_request_id = "req-0001"


def rds_event(event_id, arn, ident, detail_type="RDS DB Snapshot Event", region=REGION_A):
    source_type = "CLUSTER_SNAPSHOT" if ":cluster-snapshot:" in arn else "SNAPSHOT"
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": detail_type,
        "source": "aws.rds",
        "account": A,
        "time": "2024-08-13T03:12:00Z",
        "region": region,
        "resources": [arn],
        "detail": {
            "EventCategories": ["creation"],
            "SourceType": source_type,
            "SourceArn": arn,
            "Date": "2024-08-13T03:12:00.000Z",
            "Message": "Automated snapshot created",
            "SourceIdentifier": ident,
            "EventID": event_id,
        },
    }


def shared_event(arn=COPY_ARN, ident=COPY_ID, kind="SNAPSHOT", account=A, **overrides):
    event = {
        "version": "0",
        "id": "0d6e2b1c-0000-4000-8000-000000000001",
        "detail-type": "RDS Snapshot Shared",
        "source": f"rdsbk.{STACK}",
        "account": account,
        "time": "2024-08-13T03:40:00Z",
        "region": REGION_B,
        "resources": [],
        "detail": {
            "SourceArn": arn,
            "SourceIdentifier": ident,
            "SourceType": kind,
            "SourceAccount": account,
            "Stack": STACK,
        },
    }
    for key, value in overrides.items():
        if key in event["detail"]:
            event["detail"][key] = value
        else:
            event[key] = value
    return event


def expected_copy_tags(source_arn):
    return [
        {"Key": "rdsbk:source-snapshot", "Value": source_arn},
        {"Key": "rdsbk:stack", "Value": STACK},
    ]


class HandlerTest(unittest.TestCase):
    """Sets the environment and installs stubbed RDS and EventBridge clients."""

    def setUp(self):
        env = mock.patch.dict(os.environ, ENV, clear=False)
        env.start()
        self.addCleanup(env.stop)
        for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
            os.environ.pop(name, None)
        self.rds = boto3.client("rds", region_name=REGION_B, endpoint_url="http://127.0.0.1:9")
        self.events = boto3.client(
            "events", region_name=REGION_B, endpoint_url="http://127.0.0.1:9"
        )
        # Region-A, where the copy function reads the source of a DB cluster snapshot copy.
        self.rds_a = boto3.client("rds", region_name=REGION_A, endpoint_url="http://127.0.0.1:9")
        self.rds_stub = Stubber(self.rds)
        self.rds_a_stub = Stubber(self.rds_a)
        self.events_stub = Stubber(self.events)
        self.rds_stub.activate()
        self.rds_a_stub.activate()
        self.events_stub.activate()
        c._CLIENTS.clear()
        c._CLIENTS[("rds", REGION_B)] = self.rds
        c._CLIENTS[("rds", REGION_A)] = self.rds_a
        c._CLIENTS[("events", REGION_B)] = self.events
        self.addCleanup(c._CLIENTS.clear)
        self.sent_bodies = []

        def capture(params, model, request_signer, **kwargs):
            # With a Stubber active, botocore's own before-call handlers never run (the stub
            # answers first), so run its RDS presign step on a copy of the request: what the
            # real call would send for CopyDB*Snapshot.
            if model.name in ("CopyDBSnapshot", "CopyDBClusterSnapshot"):
                sent = copy.deepcopy(params)
                inject_presigned_url_rds(params=sent, request_signer=request_signer, model=model)
                self.sent_bodies.append(sent["body"])

        self.rds.meta.events.register_first("before-call.*.*", capture)

    def tearDown(self):
        # Every stubbed call must have been made; an unexpected call already failed the test.
        self.rds_stub.assert_no_pending_responses()
        self.rds_a_stub.assert_no_pending_responses()
        self.events_stub.assert_no_pending_responses()

    def invoke(self, module, event):
        """Runs the handler; returns (result, [log records]). Re-raises, keeping the logs."""
        out = io.StringIO()
        self.logs = []
        try:
            with contextlib.redirect_stdout(out):
                result = module.handler(event, Context())
        finally:
            lines = [line for line in out.getvalue().splitlines() if line.strip()]
            self.logs = [json.loads(line) for line in lines]
        return result, self.logs

    def assert_one_line(self, action, result, source, target):
        self.assertEqual(len(self.logs), 1, self.logs)
        rec = self.logs[0]
        self.assertEqual(rec["action"], action)
        self.assertEqual(rec["result"], result)
        self.assertEqual(rec["source"], source)
        self.assertEqual(rec["target"], target)
        self.assertEqual(rec["request_id"], "req-0001")
        return rec

    def not_found(self, method, code, params):
        self.rds_stub.add_client_error(
            method, service_error_code=code, http_status_code=404, expected_params=params
        )

    def expect_cluster_source(self, stub, arn, snapshot_type, encrypted):
        """The describe of a DB cluster snapshot's source before it is copied."""
        stub.add_response(
            "describe_db_cluster_snapshots",
            {"DBClusterSnapshots": [{"DBClusterSnapshotIdentifier": arn,
                                     "DBClusterSnapshotArn": arn, "StorageEncrypted": encrypted}]},
            {"DBClusterSnapshotIdentifier": arn, "SnapshotType": snapshot_type},
        )


class CopyTest(HandlerTest):
    def expect_copy_instance(self, source_arn, target, source_region=REGION_A, **more):
        self.not_found("describe_db_snapshots", "DBSnapshotNotFound", {"DBSnapshotIdentifier": target})
        self.rds_stub.add_response(
            "copy_db_snapshot",
            {
                "DBSnapshot": {
                    "DBSnapshotIdentifier": target,
                    "Status": "pending",
                    "DBSnapshotArn": f"arn:aws:rds:{REGION_B}:{A}:snapshot:{target}",
                }
            },
            {
                "SourceDBSnapshotIdentifier": source_arn,
                "TargetDBSnapshotIdentifier": target,
                "KmsKeyId": KEY,
                "CopyTags": True,
                "Tags": expected_copy_tags(source_arn),
                "SourceRegion": source_region,
                **more,
            },
        )

    def test_copy_names(self):
        """Copies' names fit RDS's 63 characters for every valid identifier; the same vectors as
        tests/unit/test_model.c (the C rule of status, drill and the IAM patterns)."""
        long_db = "aurora-cluster-for-the-reporting-warehouse-eu"
        cases = [
            ("orders-db", None, "orders-db"),
            ("Orders-DB", None, "orders-db"),
            ("a" * 33, None, "a" * 33),
            (long_db, None, "aurora-cluster-for-the-rep-b4aeb1"),
            ("abcdefghijklmnopqrstuvwxy-z-long-cluster-name-x", None,
             "abcdefghijklmnopqrstuvwxy-0a18eb"),
            ("orders-db", "eu-central-1", "orders-db-euc1"),
            ("orders-db", "us-gov-west-1", "orders-db-usgovw1"),
            (long_db, "ap-southeast-2", "aurora-cluster-for-t-b4aeb1-apse2"),
        ]
        for db, region, base in cases:
            self.assertEqual(c.copy_base(db, region), base)
        longest = c.region_copy_name("rds:" + "x" * 63 + "-2024-08-13-03-10") + "-" + A
        self.assertLessEqual(len(longest), 63)

    def test_long_cluster_identifier_copied_under_a_name_that_fits(self):
        db = "aurora-cluster-for-the-reporting-warehouse-eu"
        ident = f"rds:{db}-2024-08-13-03-10"
        arn = f"arn:aws:rds:{REGION_A}:{A}:cluster-snapshot:{ident}"
        target = "aurora-cluster-for-the-rep-b4aeb1-2024-08-13-03-10"
        with mock.patch.dict(os.environ, {"RDSBK_DATABASES": f"{REGION_A}/cluster/{db}"}):
            self.expect_copy_cluster(source=arn, target=target)
            self.invoke(copy_snapshot, rds_event("RDS-EVENT-0169", arn, ident,
                                                 detail_type="RDS DB Cluster Snapshot Event"))
        self.assert_one_line("copy", "copied", arn, target)

    def test_option_group_of_the_database_and_region(self):
        """RDSBK_OPTION_GROUPS names, per Region-A and database pattern, the option group of
        Region-B a copy needs (TDE): the first that matches is passed; other Regions' are not."""
        groups = f"ap-southeast-2/prod-db=og-other,{REGION_A}/prod-*=og-tde,{REGION_A}/prod-db=og-x"
        self.expect_copy_instance(SRC_ARN, COPY_ID, OptionGroupName="og-tde")
        with mock.patch.dict(os.environ, {"RDSBK_OPTION_GROUPS": groups}):
            self.invoke(copy_snapshot, rds_event("RDS-EVENT-0091", SRC_ARN, SNAP_ID))
        self.assert_one_line("copy", "copied", SRC_ARN, COPY_ID)

    def test_option_group_missing_is_explained(self):
        self.not_found("describe_db_snapshots", "DBSnapshotNotFound", {"DBSnapshotIdentifier": COPY_ID})
        self.rds_stub.add_client_error(
            "copy_db_snapshot", "InvalidParameterValue",
            "The snapshot requires a target option group with the following options: [TDE]")
        with self.assertRaises(ClientError):
            self.invoke(copy_snapshot, rds_event("RDS-EVENT-0091", SRC_ARN, SNAP_ID))
        self.assertIn("sources[].option_groups", self.logs[0]["hint"])
        self.assertFalse(self.logs[0]["retryable"])

    def test_instance_snapshot_copied_with_key_tags_and_source_region(self):
        self.expect_copy_instance(SRC_ARN, COPY_ID)
        result, _ = self.invoke(copy_snapshot, rds_event("RDS-EVENT-0091", SRC_ARN, SNAP_ID))
        rec = self.assert_one_line("copy", "copied", SRC_ARN, COPY_ID)
        self.assertEqual(result, rec)
        # even an unencrypted DB snapshot comes out encrypted with the key: no look at the source
        self.assertIs(rec["encrypted"], True)
        self.assertNotIn("rds:", rec["target"])
        self.assertEqual(rec["kind"], "SNAPSHOT")
        self.assertEqual(rec["status"], "pending")
        self.assertEqual(rec["source_region"], REGION_A)
        self.assertEqual(rec["target_arn"], COPY_ARN)
        # botocore turned SourceRegion into a PreSignedUrl signed for the source Region.
        self.assertEqual(len(self.sent_bodies), 1)
        body = self.sent_bodies[0]
        self.assertNotIn("SourceRegion", body)
        self.assertIn("PreSignedUrl", body)
        self.assertIn(REGION_A, body["PreSignedUrl"])
        self.assertIn(f"DestinationRegion={REGION_B}", body["PreSignedUrl"])

    def test_source_region_comes_from_the_arn(self):
        arn = f"arn:aws:rds:ap-southeast-2:{A}:snapshot:{SNAP_ID}"
        self.expect_copy_instance(arn, COPY_ID, source_region="ap-southeast-2")
        event = rds_event("RDS-EVENT-0091", arn, SNAP_ID, region="ap-southeast-2")
        with mock.patch.dict(os.environ, {"RDSBK_DATABASES": "ap-southeast-2/instance/prod-db"}):
            self.invoke(copy_snapshot, event)
        self.assert_one_line("copy", "copied", arn, COPY_ID)

    def test_a_database_of_another_region_is_not_the_stacks(self):
        """prod-db is listed for us-east-1: its namesake in another Region is ignored."""
        arn = f"arn:aws:rds:ap-southeast-2:{A}:snapshot:{SNAP_ID}"
        self.invoke(copy_snapshot, rds_event("RDS-EVENT-0091", arn, SNAP_ID,
                                             region="ap-southeast-2"))
        rec = self.assert_one_line("copy", "ignored", arn, None)
        self.assertIn("ap-southeast-2", rec["reason"])

    def test_prefix_pattern_selects_databases(self):
        ident = "rds:reporting-eu-1-2024-08-13-03-10"
        arn = f"arn:aws:rds:{REGION_A}:{A}:snapshot:{ident}"
        self.expect_copy_instance(arn, "reporting-eu-1-2024-08-13-03-10")
        self.invoke(copy_snapshot, rds_event("RDS-EVENT-0091", arn, ident))
        self.assert_one_line("copy", "copied", arn, "reporting-eu-1-2024-08-13-03-10")

    def expect_copy_cluster(self, encrypted=True, source=CL_SRC_ARN, target=CL_COPY_ID):
        """The copy function's calls for `source`: the copy's absence in Region-B, the source
        in Region-A, the copy as `target` (with the key only when the source is encrypted)."""
        self.not_found(
            "describe_db_cluster_snapshots",
            "DBClusterSnapshotNotFoundFault",
            {"DBClusterSnapshotIdentifier": target},
        )
        self.expect_cluster_source(self.rds_a_stub, source, "automated", encrypted)
        params = {
            "SourceDBClusterSnapshotIdentifier": source,
            "TargetDBClusterSnapshotIdentifier": target,
            "CopyTags": True,
            "Tags": expected_copy_tags(source),
            "SourceRegion": REGION_A,
        }
        if encrypted:
            params["KmsKeyId"] = KEY
        self.rds_stub.add_response(
            "copy_db_cluster_snapshot",
            {
                "DBClusterSnapshot": {
                    "DBClusterSnapshotIdentifier": target,
                    "Status": "copying",
                    "DBClusterSnapshotArn": f"arn:aws:rds:{REGION_B}:{A}:cluster-snapshot:{target}",
                }
            },
            params,
        )

    def test_cluster_snapshot_copied(self):
        self.expect_copy_cluster()
        event = rds_event(
            "RDS-EVENT-0169", CL_SRC_ARN, CL_SNAP_ID, detail_type="RDS DB Cluster Snapshot Event"
        )
        self.invoke(copy_snapshot, event)
        rec = self.assert_one_line("copy", "copied", CL_SRC_ARN, CL_COPY_ID)
        self.assertEqual(rec["kind"], "CLUSTER_SNAPSHOT")
        self.assertEqual(rec["target_arn"], CL_COPY_ARN)
        self.assertTrue(rec["encrypted"])
        self.assertNotIn("warning", rec)
        self.assertIn("PreSignedUrl", self.sent_bodies[0])

    def test_unencrypted_cluster_snapshot_copied_without_key_and_a_warning(self):
        # AWS refuses KmsKeyId for an unencrypted DB cluster snapshot: it cannot be encrypted.
        self.expect_copy_cluster(encrypted=False)
        event = rds_event(
            "RDS-EVENT-0169", CL_SRC_ARN, CL_SNAP_ID, detail_type="RDS DB Cluster Snapshot Event"
        )
        result, _ = self.invoke(copy_snapshot, event)
        rec = self.assert_one_line("copy", "copied", CL_SRC_ARN, CL_COPY_ID)
        self.assertEqual(result, rec)
        self.assertIs(rec["encrypted"], False)
        self.assertIn("NOT encrypted", rec["warning"])
        self.assertIn("unencrypted", rec["warning"])
        self.assertNotIn("KmsKeyId", self.sent_bodies[0])
        self.assertNotIn("KmsKeyId", self.sent_bodies[0]["PreSignedUrl"])

    def test_existing_copy_is_success_without_copying(self):
        self.rds_stub.add_response(
            "describe_db_snapshots",
            {"DBSnapshots": [{"DBSnapshotIdentifier": COPY_ID, "Status": "copying"}]},
            {"DBSnapshotIdentifier": COPY_ID},
        )
        self.invoke(copy_snapshot, rds_event("RDS-EVENT-0091", SRC_ARN, SNAP_ID))
        rec = self.assert_one_line("copy", "exists", SRC_ARN, COPY_ID)
        self.assertEqual(rec["status"], "copying")
        self.assertEqual(self.sent_bodies, [])

    def test_already_exists_race_is_success(self):
        self.not_found("describe_db_snapshots", "DBSnapshotNotFound", {"DBSnapshotIdentifier": COPY_ID})
        self.rds_stub.add_client_error("copy_db_snapshot", service_error_code="DBSnapshotAlreadyExists")
        self.invoke(copy_snapshot, rds_event("RDS-EVENT-0091", SRC_ARN, SNAP_ID))
        self.assert_one_line("copy", "exists", SRC_ARN, COPY_ID)

    def test_cluster_already_exists_race_is_success(self):
        self.not_found(
            "describe_db_cluster_snapshots",
            "DBClusterSnapshotNotFoundFault",
            {"DBClusterSnapshotIdentifier": CL_COPY_ID},
        )
        self.expect_cluster_source(self.rds_a_stub, CL_SRC_ARN, "automated", True)
        self.rds_stub.add_client_error(
            "copy_db_cluster_snapshot", service_error_code="DBClusterSnapshotAlreadyExistsFault"
        )
        event = rds_event(
            "RDS-EVENT-0169", CL_SRC_ARN, CL_SNAP_ID, detail_type="RDS DB Cluster Snapshot Event"
        )
        self.invoke(copy_snapshot, event)
        self.assert_one_line("copy", "exists", CL_SRC_ARN, CL_COPY_ID)

    def test_events_that_are_not_ours_are_ignored_without_calls(self):
        manual_arn = f"arn:aws:rds:{REGION_A}:{A}:snapshot:prod-db-manual"
        other_arn = f"arn:aws:rds:{REGION_A}:{A}:snapshot:rds:other-db-2024-08-13-03-10"
        cl_other = f"arn:aws:rds:{REGION_A}:{A}:cluster-snapshot:rds:aurora-other-2024-08-13-03-10"
        in_b = f"arn:aws:rds:{REGION_B}:{A}:snapshot:{SNAP_ID}"
        wrong_source = rds_event("RDS-EVENT-0091", SRC_ARN, SNAP_ID)
        wrong_source["source"] = "custom.attacker"
        cases = [
            ("creating, not created", rds_event("RDS-EVENT-0090", SRC_ARN, SNAP_ID), SRC_ARN),
            ("manual snapshot created", rds_event("RDS-EVENT-0042", manual_arn, "x"), manual_arn),
            ("manual name with 0091", rds_event("RDS-EVENT-0091", manual_arn, "x"), manual_arn),
            ("other database", rds_event("RDS-EVENT-0091", other_arn, "x"), other_arn),
            ("prefix needs the star", rds_event("RDS-EVENT-0091", other_arn.replace("other-db", "prod-db2"), "x"),
             other_arn.replace("other-db", "prod-db2")),
            ("other cluster", rds_event("RDS-EVENT-0169", cl_other, "x",
                                        detail_type="RDS DB Cluster Snapshot Event"), cl_other),
            ("instance db listed only as a cluster pattern",
             rds_event("RDS-EVENT-0169", CL_SRC_ARN.replace("aurora-main", "prod-db"), "x",
                       detail_type="RDS DB Cluster Snapshot Event"),
             CL_SRC_ARN.replace("aurora-main", "prod-db")),
            ("cluster event with instance ARN", rds_event("RDS-EVENT-0169", SRC_ARN, SNAP_ID,
                                                          detail_type="RDS DB Cluster Snapshot Event"), SRC_ARN),
            ("detail-type mismatch", rds_event("RDS-EVENT-0091", SRC_ARN, SNAP_ID,
                                               detail_type="RDS DB Cluster Snapshot Event"), SRC_ARN),
            ("already in target Region", rds_event("RDS-EVENT-0091", in_b, SNAP_ID), in_b),
            ("not from aws.rds", wrong_source, SRC_ARN),
            ("not an ARN", rds_event("RDS-EVENT-0091", "rds:prod-db-2024-08-13-03-10", "x"),
             "rds:prod-db-2024-08-13-03-10"),
            ("empty event", {}, ""),
            ("not a dict", "garbage", ""),
        ]
        for name, event, source in cases:
            with self.subTest(name):
                result, _ = self.invoke(copy_snapshot, event)
                rec = self.assert_one_line("copy", "ignored", source, None)
                self.assertTrue(rec["reason"])
                self.assertEqual(result["result"], "ignored")

    def test_copy_limit_defers_to_the_sweep(self):
        """A copy refused for RDS's limit of cross-Region copies in flight is no error: logged
        "deferred", left to the copy sweep, no exception (Lambda would retry it, then report a
        failure, within three minutes)."""
        self.not_found("describe_db_snapshots", "DBSnapshotNotFound", {"DBSnapshotIdentifier": COPY_ID})
        self.rds_stub.add_client_error(
            "copy_db_snapshot",
            service_error_code="SnapshotQuotaExceeded",
            service_message="Cannot copy more than 20 snapshots across regions",
        )
        self.invoke(copy_snapshot, rds_event("RDS-EVENT-0091", SRC_ARN, SNAP_ID))
        rec = self.assert_one_line("copy", "deferred", SRC_ARN, COPY_ID)
        self.assertIn("across regions", rec["reason"])

    def test_manual_snapshot_quota_raises_retryable(self):
        """The same code for the manual snapshot quota is a failure (retried, then reported)."""
        self.not_found("describe_db_snapshots", "DBSnapshotNotFound", {"DBSnapshotIdentifier": COPY_ID})
        self.rds_stub.add_client_error(
            "copy_db_snapshot",
            service_error_code="SnapshotQuotaExceeded",
            service_message="Cannot create more than 100 manual snapshots",
        )
        with self.assertRaises(c.RetryableError) as ctx:
            self.invoke(copy_snapshot, rds_event("RDS-EVENT-0091", SRC_ARN, SNAP_ID))
        self.assertIn("SnapshotQuotaExceeded", str(ctx.exception))
        self.assertIsInstance(ctx.exception.__cause__, ClientError)
        rec = self.assert_one_line("copy", "error", SRC_ARN, COPY_ID)
        self.assertEqual(rec["error_code"], "SnapshotQuotaExceeded")
        self.assertTrue(rec["retryable"])

    def test_throttling_raises_retryable(self):
        self.rds_stub.add_client_error("describe_db_snapshots", service_error_code="Throttling")
        with self.assertRaises(c.RetryableError):
            self.invoke(copy_snapshot, rds_event("RDS-EVENT-0091", SRC_ARN, SNAP_ID))
        rec = self.assert_one_line("copy", "error", SRC_ARN, COPY_ID)
        self.assertEqual(rec["error_code"], "Throttling")

    def test_a_failure_for_good_is_reported_once_to_the_alert_topic(self):
        """With an alert topic, AccessDenied (which no retry cures) publishes one message naming
        the stack, database, snapshot, hop, account, Region and error, and the invocation ends
        there: Lambda's retries would only repeat it."""
        topic = f"arn:aws:sns:{REGION_B}:{B}:rdsbk-{STACK}-alerts"
        sns = boto3.client("sns", region_name=REGION_B, endpoint_url="http://127.0.0.1:9")
        stub = Stubber(sns)
        stub.activate()
        c._CLIENTS[("sns", REGION_B)] = sns
        self.not_found("describe_db_snapshots", "DBSnapshotNotFound", {"DBSnapshotIdentifier": COPY_ID})
        self.rds_stub.add_client_error(
            "copy_db_snapshot", service_error_code="AccessDenied",
            service_message="not authorized to perform rds:CopyDBSnapshot", http_status_code=403)
        published = []
        stub.add_response("publish", {"MessageId": "m-1"})
        sns.meta.events.register("before-parameter-build.sns.Publish",
                                 lambda params, **kw: published.append(dict(params)))
        with mock.patch.dict(os.environ, {"RDSBK_ALERT_TOPIC_ARN": topic}):
            result, logs = self.invoke(copy_snapshot, rds_event("RDS-EVENT-0091", SRC_ARN, SNAP_ID))
        stub.assert_no_pending_responses()
        self.assertTrue(result["alerted"])
        self.assertEqual([r["result"] for r in logs], ["error", "published"])
        [body] = published
        self.assertEqual(body["TopicArn"], topic)
        self.assertEqual(body["Subject"], f"rdsbk {STACK}: copy failed for prod-db")
        message = json.loads(body["Message"].split("\n\n", 1)[1])
        self.assertEqual((message["stack"], message["hop"], message["database"],
                          message["snapshot"], message["region"], message["error_code"]),
                         (STACK, "copy", "prod-db", SRC_ARN, REGION_B, "AccessDenied"))
        self.assertIn("in account", body["Message"].split("\n", 1)[0])

    def test_access_denied_raises(self):
        self.not_found("describe_db_snapshots", "DBSnapshotNotFound", {"DBSnapshotIdentifier": COPY_ID})
        self.rds_stub.add_client_error(
            "copy_db_snapshot",
            service_error_code="AccessDenied",
            service_message="not authorized to perform rds:CopyDBSnapshot",
            http_status_code=403,
        )
        with self.assertRaises(ClientError) as ctx:
            self.invoke(copy_snapshot, rds_event("RDS-EVENT-0091", SRC_ARN, SNAP_ID))
        self.assertNotIsInstance(ctx.exception, c.RetryableError)
        self.assertEqual(ctx.exception.response["Error"]["Code"], "AccessDenied")
        rec = self.assert_one_line("copy", "error", SRC_ARN, COPY_ID)
        self.assertEqual(rec["error_code"], "AccessDenied")
        self.assertFalse(rec["retryable"])
        self.assertIn("rds:CopyDBSnapshot", rec["message"])

    def test_missing_configuration_raises(self):
        os.environ.pop("RDSBK_KMS_KEY_ARN")
        with self.assertRaises(c.ConfigError):
            self.invoke(copy_snapshot, rds_event("RDS-EVENT-0091", SRC_ARN, SNAP_ID))
        rec = self.assert_one_line("copy", "error", SRC_ARN, None)
        self.assertEqual(rec["error_code"], "ConfigError")


class ShareTest(HandlerTest):
    def copy_done_event(self, arn=COPY_ARN, ident=COPY_ID, event_id="RDS-EVENT-0060", **kw):
        event = rds_event(event_id, arn, ident, region=REGION_B, **kw)
        event["detail"]["Message"] = f"Finished copy of snapshot {SNAP_ID} from region {REGION_A}"
        event["detail"]["EventCategories"] = ["notification"]
        return event

    def expect_describe(self, tags, status="available", ident=COPY_ID, arn=COPY_ARN):
        snap = {"DBSnapshotIdentifier": ident, "Status": status, "DBSnapshotArn": arn}
        if tags is not None:
            snap["TagList"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        self.rds_stub.add_response(
            "describe_db_snapshots", {"DBSnapshots": [snap]}, {"DBSnapshotIdentifier": ident}
        )

    def expect_attributes(self, accounts):
        self.rds_stub.add_response(
            "describe_db_snapshot_attributes",
            {
                "DBSnapshotAttributesResult": {
                    "DBSnapshotIdentifier": COPY_ID,
                    "DBSnapshotAttributes": [
                        {"AttributeName": "restore", "AttributeValues": accounts}
                    ],
                }
            },
            {"DBSnapshotIdentifier": COPY_ID},
        )

    def expect_put_events(self, detail, response=None):
        self.events_stub.add_response(
            "put_events",
            response or {"FailedEntryCount": 0, "Entries": [{"EventId": "evt-1"}]},
            {
                "Entries": [
                    {
                        "Source": f"rdsbk.{STACK}",
                        "DetailType": "RDS Snapshot Shared",
                        "Detail": json.dumps(detail, sort_keys=True),
                    }
                ]
            },
        )

    INSTANCE_DETAIL = {
        "SourceArn": COPY_ARN,
        "SourceIdentifier": COPY_ID,
        "SourceType": "SNAPSHOT",
        "SourceAccount": A,
        "Stack": STACK,
    }

    def expect_instance_copy_shared(self, tags):
        """The share function's calls for the copy COPY_ID (tagged `tags`), not yet shared: it is
        shared with the backup account and announced."""
        self.expect_describe(tags)
        self.expect_attributes([])
        self.rds_stub.add_response(
            "modify_db_snapshot_attribute",
            {"DBSnapshotAttributesResult": {"DBSnapshotIdentifier": COPY_ID}},
            {"DBSnapshotIdentifier": COPY_ID, "AttributeName": "restore", "ValuesToAdd": [B]},
        )
        self.expect_put_events(self.INSTANCE_DETAIL)

    def test_instance_copy_shared_and_announced(self):
        self.expect_instance_copy_shared({"rdsbk:stack": STACK, "env": "prod"})
        result, _ = self.invoke(share, self.copy_done_event())
        rec = self.assert_one_line("share", "shared", COPY_ARN, B)
        self.assertEqual(result, rec)
        self.assertFalse(rec["already_shared"])
        self.assertEqual(rec["published_event_id"], "evt-1")

    def test_copy_finished_event_with_the_source_regions_arn(self):
        """RDS-EVENT-0060 has been seen naming the copy in an ARN of the source Region (the
        original walkthrough's rule matches that form): the copy is the snapshot of that name
        here, shared and announced under its true ARN."""
        self.expect_instance_copy_shared({"rdsbk:stack": STACK})
        in_a = f"arn:aws:rds:{REGION_A}:{A}:snapshot:{COPY_ID}"
        self.invoke(share, self.copy_done_event(arn=in_a))
        self.assert_one_line("share", "shared", in_a, B)

    def test_cluster_copy_shared_with_tags_from_list_tags(self):
        self.rds_stub.add_response(
            "describe_db_cluster_snapshots",
            {
                "DBClusterSnapshots": [
                    {
                        "DBClusterSnapshotIdentifier": CL_COPY_ID,
                        "Status": "available",
                        "DBClusterSnapshotArn": CL_COPY_ARN,
                    }
                ]
            },
            {"DBClusterSnapshotIdentifier": CL_COPY_ID},
        )
        self.rds_stub.add_response(
            "list_tags_for_resource",
            {"TagList": [{"Key": "rdsbk:stack", "Value": STACK}]},
            {"ResourceName": CL_COPY_ARN},
        )
        self.rds_stub.add_response(
            "describe_db_cluster_snapshot_attributes",
            {
                "DBClusterSnapshotAttributesResult": {
                    "DBClusterSnapshotIdentifier": CL_COPY_ID,
                    "DBClusterSnapshotAttributes": [
                        {"AttributeName": "restore", "AttributeValues": ["999999999999"]}
                    ],
                }
            },
            {"DBClusterSnapshotIdentifier": CL_COPY_ID},
        )
        self.rds_stub.add_response(
            "modify_db_cluster_snapshot_attribute",
            {"DBClusterSnapshotAttributesResult": {"DBClusterSnapshotIdentifier": CL_COPY_ID}},
            {
                "DBClusterSnapshotIdentifier": CL_COPY_ID,
                "AttributeName": "restore",
                "ValuesToAdd": [B],
            },
        )
        self.expect_put_events(
            {
                "SourceArn": CL_COPY_ARN,
                "SourceIdentifier": CL_COPY_ID,
                "SourceType": "CLUSTER_SNAPSHOT",
                "SourceAccount": A,
                "Stack": STACK,
            }
        )
        event = self.copy_done_event(
            CL_COPY_ARN, CL_COPY_ID, detail_type="RDS DB Cluster Snapshot Event"
        )
        self.invoke(share, event)
        rec = self.assert_one_line("share", "shared", CL_COPY_ARN, B)
        self.assertEqual(rec["kind"], "CLUSTER_SNAPSHOT")

    def test_already_shared_is_success_and_still_announced(self):
        self.expect_describe({"rdsbk:stack": STACK})
        self.expect_attributes([B])
        self.expect_put_events(self.INSTANCE_DETAIL)
        self.invoke(share, self.copy_done_event())
        rec = self.assert_one_line("share", "exists", COPY_ARN, B)
        self.assertTrue(rec["already_shared"])

    def test_copies_of_other_stacks_are_ignored(self):
        for name, tags in [("other stack", {"rdsbk:stack": "other"}), ("untagged", {})]:
            with self.subTest(name):
                self.expect_describe(tags)
                self.invoke(share, self.copy_done_event())
                rec = self.assert_one_line("share", "ignored", COPY_ARN, B)
                self.assertIn("rdsbk:stack", rec["reason"])

    def test_deleted_snapshot_is_ignored(self):
        self.not_found("describe_db_snapshots", "DBSnapshotNotFound", {"DBSnapshotIdentifier": COPY_ID})
        self.invoke(share, self.copy_done_event())
        self.assert_one_line("share", "ignored", COPY_ARN, B)

    def test_events_that_are_not_ours_are_ignored_without_calls(self):
        automated = f"arn:aws:rds:{REGION_B}:{A}:snapshot:{SNAP_ID}"
        cases = [
            ("copy started", self.copy_done_event(event_id="RDS-EVENT-0059"), COPY_ARN),
            ("local copy finished", self.copy_done_event(event_id="RDS-EVENT-0197"), COPY_ARN),
            ("snapshot created", self.copy_done_event(event_id="RDS-EVENT-0091"), COPY_ARN),
            ("automated snapshot", self.copy_done_event(arn=automated), automated),
            ("detail-type mismatch",
             self.copy_done_event(detail_type="RDS DB Cluster Snapshot Event"), COPY_ARN),
            ("no detail", {"source": "aws.rds"}, ""),
        ]
        for name, event, source in cases:
            with self.subTest(name):
                self.invoke(share, event)
                self.assert_one_line("share", "ignored", source, B)

    def test_put_events_failure_raises(self):
        self.expect_describe({"rdsbk:stack": STACK})
        self.expect_attributes([B])
        self.expect_put_events(
            self.INSTANCE_DETAIL,
            {
                "FailedEntryCount": 1,
                "Entries": [{"ErrorCode": "InternalException", "ErrorMessage": "boom"}],
            },
        )
        with self.assertRaises(c.EntryError) as ctx:
            self.invoke(share, self.copy_done_event())
        self.assertEqual(ctx.exception.code, "InternalException")
        rec = self.assert_one_line("share", "error", COPY_ARN, B)
        self.assertEqual(rec["step"], "publish")
        self.assertEqual(rec["error_code"], "InternalException")
        self.assertFalse(rec["retryable"])

    def test_put_events_throttled_entry_is_retryable(self):
        self.expect_describe({"rdsbk:stack": STACK})
        self.expect_attributes([B])
        self.expect_put_events(
            self.INSTANCE_DETAIL,
            {
                "FailedEntryCount": 1,
                "Entries": [{"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"}],
            },
        )
        with self.assertRaises(c.RetryableError):
            self.invoke(share, self.copy_done_event())
        self.assertTrue(self.logs[0]["retryable"])

    def test_snapshot_not_yet_available_is_retryable(self):
        self.expect_describe({"rdsbk:stack": STACK}, status="copying")
        with self.assertRaises(c.RetryableError):
            self.invoke(share, self.copy_done_event())
        rec = self.assert_one_line("share", "error", COPY_ARN, B)
        self.assertEqual(rec["error_code"], "SnapshotNotAvailable")

    def test_access_denied_raises(self):
        self.expect_describe({"rdsbk:stack": STACK})
        self.expect_attributes([])
        self.rds_stub.add_client_error(
            "modify_db_snapshot_attribute", service_error_code="AccessDenied", http_status_code=403
        )
        with self.assertRaises(ClientError) as ctx:
            self.invoke(share, self.copy_done_event())
        self.assertNotIsInstance(ctx.exception, c.RetryableError)
        rec = self.assert_one_line("share", "error", COPY_ARN, B)
        self.assertEqual(rec["step"], "share")
        self.assertEqual(rec["error_code"], "AccessDenied")


def _at(minute):
    return datetime.datetime(2024, 8, 13, 3, minute, tzinfo=datetime.timezone.utc)


class SweepBase(HandlerTest):
    """Stubs for share.handler's sweep."""

    SWEEP = {"rdsbk": "sweep"}
    KEYS = {
        "SNAPSHOT": ("describe_db_snapshots", "DBSnapshots", "DBSnapshotIdentifier",
                     "DBSnapshotArn", "snapshot", "db_snapshot", "DBSnapshotAttributes"),
        "CLUSTER_SNAPSHOT": ("describe_db_cluster_snapshots", "DBClusterSnapshots",
                             "DBClusterSnapshotIdentifier", "DBClusterSnapshotArn",
                             "cluster-snapshot", "db_cluster_snapshot",
                             "DBClusterSnapshotAttributes"),
    }

    def snap(self, kind, ident, stack=STACK, status="available", minute=0, tags=True):
        _, _, id_key, arn_key, res, _, _ = self.KEYS[kind]
        out = {
            id_key: ident,
            arn_key: f"arn:aws:rds:{REGION_B}:{A}:{res}:{ident}",
            "Status": status,
            "SnapshotType": "manual",
            "SnapshotCreateTime": _at(minute),
        }
        if tags:
            out["TagList"] = [] if stack is None else [{"Key": "rdsbk:stack", "Value": stack}]
        return out

    def arn(self, kind, ident):
        return f"arn:aws:rds:{REGION_B}:{A}:{self.KEYS[kind][4]}:{ident}"

    def expect_list(self, kind, *pages):
        """One DescribeDB[Cluster]Snapshots reply per page, chained by Marker."""
        operation, list_key = self.KEYS[kind][:2]
        for i, page in enumerate(pages):
            params = {"SnapshotType": "manual"}
            if i:
                params["Marker"] = f"m{i}"
            reply = {list_key: page}
            if i + 1 < len(pages):
                reply["Marker"] = f"m{i + 1}"
            self.rds_stub.add_response(operation, reply, params)

    def expect_attributes(self, kind, ident, accounts):
        _, _, id_key, _, _, op, attrs_key = self.KEYS[kind]
        result_key = attrs_key.replace("Attributes", "AttributesResult")
        self.rds_stub.add_response(
            f"describe_{op}_attributes",
            {result_key: {id_key: ident, attrs_key: [
                {"AttributeName": "restore", "AttributeValues": accounts}]}},
            {id_key: ident},
        )

    def expect_modify(self, kind, ident, add=True, error=None):
        _, _, id_key, _, _, op, attrs_key = self.KEYS[kind]
        params = {id_key: ident, "AttributeName": "restore",
                  "ValuesToAdd" if add else "ValuesToRemove": [B]}
        if error:
            self.rds_stub.add_client_error(f"modify_{op}_attribute", service_error_code=error,
                                           http_status_code=403, expected_params=params)
        else:
            result_key = attrs_key.replace("Attributes", "AttributesResult")
            self.rds_stub.add_response(f"modify_{op}_attribute", {result_key: {id_key: ident}},
                                       params)

    def expect_put_events(self, kind, ident, event_id="evt-1", error=None):
        detail = {"SourceArn": self.arn(kind, ident), "SourceIdentifier": ident,
                  "SourceType": kind, "SourceAccount": A, "Stack": STACK}
        reply = {"FailedEntryCount": 0, "Entries": [{"EventId": event_id}]}
        if error:
            reply = {"FailedEntryCount": 1, "Entries": [{"ErrorCode": error, "ErrorMessage": "no"}]}
        self.events_stub.add_response(
            "put_events", reply,
            {"Entries": [{"Source": f"rdsbk.{STACK}", "DetailType": "RDS Snapshot Shared",
                          "Detail": json.dumps(detail, sort_keys=True)}]},
        )

    def expect_shared(self, kind, ident, event_id="evt-1"):
        self.expect_attributes(kind, ident, [])
        self.expect_modify(kind, ident)
        self.expect_put_events(kind, ident, event_id)

    def summary(self):
        rec = self.logs[-1]
        self.assertEqual((rec["action"], rec["result"]), ("sweep", "swept"), rec)
        self.assertEqual(rec["request_id"], "req-0001")
        return rec

    def counts(self, rec):
        keys = ("shared", "already_shared", "not_ready", "other_stacks", "remaining", "failed")
        return {k: rec[k] for k in keys}

    def share_lines(self):
        return [(r["result"], r["source"]) for r in self.logs if r["action"] == "share"]



class SweepTest(SweepBase):
    """share.handler with the constant input {"rdsbk": "sweep"} (by hand, or an older rule)."""

    def test_copies_shared_and_announced_already_shared_and_others_skipped(self):
        cl_new = "aurora-main-2024-08-13-03-40"
        self.expect_list("SNAPSHOT", [
            self.snap("SNAPSHOT", "prod-db-2024-08-13-03-10", minute=10),   # to share
            self.snap("SNAPSHOT", "prod-db-2024-08-12-03-10", minute=5),    # already shared
            self.snap("SNAPSHOT", "other-db-2024-08-13-03-10", stack="other", minute=30),
            self.snap("SNAPSHOT", "hand-made", stack=None, minute=31),
            self.snap("SNAPSHOT", "prod-db-2024-08-13-03-20", status="copying", minute=20),
        ])
        # A cluster copy (RDS announces no finished cluster copy) whose reply has no TagList:
        # the tags come from ListTagsForResource.
        self.expect_list("CLUSTER_SNAPSHOT", [
            self.snap("CLUSTER_SNAPSHOT", cl_new, minute=40, tags=False),
        ])
        # newest first: the cluster copy (03:40), then the instance copies (03:10, 03:05)
        self.rds_stub.add_response(
            "list_tags_for_resource",
            {"TagList": [{"Key": "rdsbk:stack", "Value": STACK}]},
            {"ResourceName": self.arn("CLUSTER_SNAPSHOT", cl_new)},
        )
        self.expect_attributes("CLUSTER_SNAPSHOT", cl_new, ["999999999999"])
        self.expect_modify("CLUSTER_SNAPSHOT", cl_new)
        self.expect_put_events("CLUSTER_SNAPSHOT", cl_new, "evt-cl")
        self.expect_shared("SNAPSHOT", "prod-db-2024-08-13-03-10", "evt-db")
        # already shared: checked, neither shared again nor announced again
        self.expect_attributes("SNAPSHOT", "prod-db-2024-08-12-03-10", [B])

        result, logs = self.invoke(share, self.SWEEP)
        self.assertEqual(len(logs), 3, logs)
        self.assertEqual(self.share_lines(), [
            ("shared", self.arn("CLUSTER_SNAPSHOT", cl_new)),
            ("shared", self.arn("SNAPSHOT", "prod-db-2024-08-13-03-10")),
        ])
        first, second = logs[0], logs[1]
        self.assertEqual((first["kind"], first["published_event_id"], first["target"]),
                         ("CLUSTER_SNAPSHOT", "evt-cl", B))
        self.assertEqual((second["kind"], second["published_event_id"]), ("SNAPSHOT", "evt-db"))
        self.assertEqual(first["mode"], "sweep")
        rec = self.summary()
        self.assertEqual(result, rec)
        self.assertEqual(self.counts(rec), {"shared": 2, "already_shared": 1, "not_ready": 1,
                                            "other_stacks": 2, "remaining": 0, "failed": 0})
        self.assertEqual(rec["limit"], 50)

    def test_all_pages_are_read(self):
        page1 = [self.snap("SNAPSHOT", f"prod-db-old-{i}", minute=1) for i in range(3)]
        self.expect_list("SNAPSHOT", page1, [self.snap("SNAPSHOT", "prod-db-p2", minute=50)])
        self.expect_list("CLUSTER_SNAPSHOT", [],
                         [self.snap("CLUSTER_SNAPSHOT", "aurora-p2", stack="other", minute=2)],
                         [self.snap("CLUSTER_SNAPSHOT", "aurora-p3", minute=40)])
        self.expect_shared("SNAPSHOT", "prod-db-p2")
        self.expect_shared("CLUSTER_SNAPSHOT", "aurora-p3")
        for i in range(3):
            self.expect_attributes("SNAPSHOT", f"prod-db-old-{i}", [B])
        self.invoke(share, self.SWEEP)
        self.assertEqual(self.counts(self.summary()), {
            "shared": 2, "already_shared": 3, "not_ready": 0, "other_stacks": 1, "remaining": 0,
            "failed": 0})

    def test_one_failure_does_not_stop_the_others_and_the_sweep_raises_at_the_end(self):
        self.expect_list("SNAPSHOT", [
            self.snap("SNAPSHOT", "prod-db-denied", minute=30),
            self.snap("SNAPSHOT", "prod-db-ok", minute=20),
            self.snap("SNAPSHOT", "prod-db-unannounced", minute=10),
        ])
        self.expect_list("CLUSTER_SNAPSHOT", [])
        self.expect_attributes("SNAPSHOT", "prod-db-denied", [])
        self.expect_modify("SNAPSHOT", "prod-db-denied", error="AccessDenied")
        self.expect_shared("SNAPSHOT", "prod-db-ok")
        # shared, then PutEvents refuses the entry: the share is undone so the next sweep
        # (which skips shared snapshots) tries both steps again
        self.expect_attributes("SNAPSHOT", "prod-db-unannounced", [])
        self.expect_modify("SNAPSHOT", "prod-db-unannounced")
        self.expect_put_events("SNAPSHOT", "prod-db-unannounced", error="InternalException")
        self.expect_modify("SNAPSHOT", "prod-db-unannounced", add=False)

        with self.assertRaises(c.RunFailures) as ctx:
            self.invoke(share, self.SWEEP)
        self.assertEqual(ctx.exception.failures, [
            (self.arn("SNAPSHOT", "prod-db-denied"), "AccessDenied"),
            (self.arn("SNAPSHOT", "prod-db-unannounced"), "InternalException"),
        ])
        self.assertEqual(self.share_lines(), [
            ("error", self.arn("SNAPSHOT", "prod-db-denied")),
            ("shared", self.arn("SNAPSHOT", "prod-db-ok")),
            ("error", self.arn("SNAPSHOT", "prod-db-unannounced")),
        ])
        denied, unannounced = self.logs[0], self.logs[2]
        self.assertEqual((denied["step"], denied["error_code"]), ("share", "AccessDenied"))
        self.assertNotIn("unshared", denied)
        self.assertEqual((unannounced["step"], unannounced["unshared"]), ("publish", True))
        self.assertEqual(self.counts(self.summary()), {
            "shared": 1, "already_shared": 0, "not_ready": 0, "other_stacks": 0, "remaining": 0,
            "failed": 2})

    def test_failed_unshare_says_how_to_redrive(self):
        self.expect_list("SNAPSHOT", [])
        self.expect_list("CLUSTER_SNAPSHOT", [self.snap("CLUSTER_SNAPSHOT", "aurora-x")])
        self.expect_attributes("CLUSTER_SNAPSHOT", "aurora-x", [])
        self.expect_modify("CLUSTER_SNAPSHOT", "aurora-x")
        self.expect_put_events("CLUSTER_SNAPSHOT", "aurora-x", error="InternalException")
        self.expect_modify("CLUSTER_SNAPSHOT", "aurora-x", add=False, error="Throttling")
        with self.assertRaises(c.RunFailures):
            self.invoke(share, self.SWEEP)
        rec = self.logs[0]
        self.assertEqual((rec["result"], rec["unshared"], rec["unshare_error"]),
                         ("error", False, "Throttling"))
        self.assertIn("RDS-EVENT-0060", rec["note"])

    def test_listing_failure_still_sweeps_the_other_kind_then_raises(self):
        self.rds_stub.add_client_error("describe_db_snapshots", service_error_code="AccessDenied",
                                       http_status_code=403,
                                       expected_params={"SnapshotType": "manual"})
        self.expect_list("CLUSTER_SNAPSHOT", [self.snap("CLUSTER_SNAPSHOT", "aurora-y")])
        self.expect_shared("CLUSTER_SNAPSHOT", "aurora-y")
        with self.assertRaises(c.RunFailures) as ctx:
            self.invoke(share, self.SWEEP)
        self.assertEqual(ctx.exception.failures, [("list SNAPSHOT", "AccessDenied")])
        self.assertEqual((self.logs[0]["action"], self.logs[0]["step"]), ("sweep", "list"))
        self.assertEqual(self.share_lines(), [("shared", self.arn("CLUSTER_SNAPSHOT", "aurora-y"))])
        self.assertEqual(self.summary()["shared"], 1)

    def test_at_most_50_shares_per_invocation(self):
        snaps = [self.snap("SNAPSHOT", f"prod-db-{i:02d}", minute=59 - i) for i in range(53)]
        self.expect_list("SNAPSHOT", snaps[:40], snaps[40:])
        self.expect_list("CLUSTER_SNAPSHOT", [])
        self.expect_attributes("SNAPSHOT", "prod-db-00", [B])   # already shared: not counted
        for i in range(1, 51):
            self.expect_shared("SNAPSHOT", f"prod-db-{i:02d}")
        self.invoke(share, self.SWEEP)
        self.assertEqual(len(self.share_lines()), 50)
        self.assertEqual(self.counts(self.summary()), {
            "shared": 50, "already_shared": 1, "not_ready": 0, "other_stacks": 0, "remaining": 2,
            "failed": 0})

    def test_stops_starting_snapshots_near_the_timeout(self):
        class Late(Context):
            def get_remaining_time_in_millis(self):
                return 4000

        self.expect_list("SNAPSHOT", [self.snap("SNAPSHOT", "prod-db-late")])
        self.expect_list("CLUSTER_SNAPSHOT", [self.snap("CLUSTER_SNAPSHOT", "aurora-late")])
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            result = share.handler(self.SWEEP, Late())
        self.assertEqual((result["shared"], result["remaining"]), (0, 2))

    def test_nothing_to_do(self):
        self.expect_list("SNAPSHOT", [])
        self.expect_list("CLUSTER_SNAPSHOT", [])
        result, logs = self.invoke(share, self.SWEEP)
        self.assertEqual(len(logs), 1)
        self.assertEqual(self.counts(result), {
            "shared": 0, "already_shared": 0, "not_ready": 0, "other_stacks": 0, "remaining": 0,
            "failed": 0})

    def test_only_the_exact_sweep_input_sweeps(self):
        for event in ({"rdsbk": "sweep", "extra": 1}, {"rdsbk": "Sweep"}, {"rdsbk": ["sweep"]}):
            with self.subTest(event=event):
                self.invoke(share, event)   # no stubbed call may happen
                self.assert_one_line("share", "ignored", "", B)


def scheduled_event(when, account=A):
    return {
        "version": "0",
        "id": "5b1c2d3e-0000-4000-8000-000000000002",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": when,
        "region": REGION_B,
        "resources": [f"arn:aws:events:{REGION_B}:{account}:rule/rdsbk-{STACK}-sweep"],
        "detail": {},
    }


class RetentionChoiceTest(unittest.TestCase):
    """rdsbk_common.prune_candidates: what retention lets go, and what it never touches."""

    NOW = datetime.datetime(2024, 8, 20, 0, 0, tzinfo=datetime.timezone.utc)

    def snap(self, ident, status="available", stack=STACK, kind="SNAPSHOT"):
        key = "DBClusterSnapshotIdentifier" if kind == "CLUSTER_SNAPSHOT" else "DBSnapshotIdentifier"
        tags = [] if stack is None else [{"Key": "rdsbk:stack", "Value": stack}]
        return (kind, {key: ident, "Status": status, "TagList": tags})

    def chosen(self, snaps, days, keep_last, backup=False):
        with mock.patch.dict(os.environ, ENV, clear=False):
            settings = c.Settings()
        retention = c.Retention(days, keep_last)
        picked = c.prune_candidates(snaps, settings, retention, self.NOW, backup)
        return [c.snapshot_identifier(kind, snap) for kind, snap in picked]

    def test_region_b_copies(self):
        snaps = [
            self.snap("prod-db-2024-08-19-03-10"),                     # 1 day: kept (age)
            self.snap("prod-db-2024-08-17-03-10"),                     # 3 days: goes
            self.snap("prod-db-2024-08-10-03-10"),                     # 10 days: goes first
            self.snap("prod-db-2024-08-05-03-10", status="copying"),   # never while in flight
            self.snap("prod-db-2024-08-01-03-10", stack="other"),      # another stack's
            self.snap("prod-db-2024-08-01-03-11", stack=None),         # untagged (by hand)
            self.snap("prod-db-before-upgrade"),                       # not a pipeline name
            self.snap("rds:prod-db-2024-08-01-03-10"),                 # a system snapshot
            self.snap("prod-db-2024-08-01-03-10-111111111111"),        # a backup-account name
            self.snap("aurora-main-2024-08-01-03-10", kind="CLUSTER_SNAPSHOT"),
            self.snap("aurora-main-2024-08-19-03-10", kind="CLUSTER_SNAPSHOT"),
        ]
        self.assertEqual(self.chosen(snaps, 2, 1), [
            "aurora-main-2024-08-01-03-10", "prod-db-2024-08-10-03-10",
            "prod-db-2024-08-17-03-10"])

    def test_keep_last_keeps_the_newest_available_whatever_their_age(self):
        snaps = [
            self.snap("prod-db-2024-07-03-03-10", status="creating"),  # newest, not available
            self.snap("prod-db-2024-07-02-03-10"),
            self.snap("prod-db-2024-07-01-03-10"),
            self.snap("prod-db-2024-06-30-03-10"),
            self.snap("reporting-1-2024-06-01-03-10"),
        ]
        self.assertEqual(self.chosen(snaps, 7, 2), ["prod-db-2024-06-30-03-10"])
        self.assertEqual(self.chosen(snaps, 0, 1),
                         ["prod-db-2024-06-30-03-10", "prod-db-2024-07-01-03-10"])

    def test_backup_copies_per_source_account(self):
        snaps = [
            self.snap(f"prod-db-2024-08-01-03-10-{A}"),
            self.snap(f"prod-db-2024-08-02-03-10-{A}"),
            self.snap(f"prod-db-2024-08-01-03-10-{A2}"),   # the other source's own newest
            self.snap("prod-db-2024-08-01-03-10-999999999999"),   # not a source of the stack
            self.snap("prod-db-2024-08-01-03-10"),                # a Region-B name
        ]
        self.assertEqual(self.chosen(snaps, 7, 1, backup=True), [f"prod-db-2024-08-01-03-10-{A}"])

    def test_scheduled_time(self):
        self.assertEqual(c.scheduled_time(scheduled_event("2024-08-20T00:00:00Z")), self.NOW)
        for event in ({"rdsbk": "sweep"}, dict(scheduled_event("now"), time="yesterday"),
                      dict(scheduled_event("2024-08-20T00:00:00Z"), source="rdsbk.x"), None):
            self.assertIsNone(c.scheduled_time(event))

    def test_retention_settings(self):
        self.assertIsNone(c.retention_settings({}))
        r = c.retention_settings({"RDSBK_RETENTION_DAYS": "7", "RDSBK_KEEP_LAST": "2"})
        self.assertEqual((r.days, r.keep_last), (7, 2))
        for bad in ({"RDSBK_RETENTION_DAYS": "x"}, {"RDSBK_RETENTION_DAYS": "-1"},
                    {"RDSBK_RETENTION_DAYS": "7", "RDSBK_KEEP_LAST": "0"}):
            with self.assertRaises(c.ConfigError):
                c.retention_settings(bad)


class ScheduledSweepTest(SweepBase):
    """share.handler with the scheduled event: the sweep, then the retention of Region-B copies,
    which deletes a copy only once the backup account can restore it."""

    def setUp(self):
        super().setUp()
        env = mock.patch.dict(os.environ, {"RDSBK_RETENTION_DAYS": "2", "RDSBK_KEEP_LAST": "1"})
        env.start()
        self.addCleanup(env.stop)

    def test_old_shared_copies_go_unshared_ones_stay(self):
        newest, old_shared, old_unshared = ("prod-db-2024-08-13-03-10", "prod-db-2024-08-01-03-10",
                                            "prod-db-2024-08-02-03-10")
        listing = [self.snap("SNAPSHOT", newest, minute=10), self.snap("SNAPSHOT", old_shared),
                   self.snap("SNAPSHOT", old_unshared, minute=1)]
        # the sweep: all three are checked, the newest shared now
        self.expect_list("SNAPSHOT", listing)
        self.expect_list("CLUSTER_SNAPSHOT", [])
        self.expect_shared("SNAPSHOT", newest)
        self.expect_attributes("SNAPSHOT", old_unshared, ["999999999999"])
        self.expect_modify("SNAPSHOT", old_unshared)
        self.expect_put_events("SNAPSHOT", old_unshared)
        self.expect_attributes("SNAPSHOT", old_shared, [B])
        # the retention: listed again; the two old ones are past 2 days, oldest first
        self.expect_list("SNAPSHOT", listing)
        self.expect_list("CLUSTER_SNAPSHOT", [])
        self.expect_attributes("SNAPSHOT", old_shared, [B])
        self.rds_stub.add_response("delete_db_snapshot", {}, {"DBSnapshotIdentifier": old_shared})
        self.expect_attributes("SNAPSHOT", old_unshared, [])   # unshared again since: spared
        result, logs = self.invoke(share, scheduled_event("2024-08-13T04:00:00Z"))
        deleted = [r["source"] for r in logs if r["action"] == "prune"]
        self.assertEqual(deleted, [self.arn("SNAPSHOT", old_shared)])
        self.assertEqual((result["deleted"], result["spared"], result["failed"]), (1, 1, 0))

    def test_the_legacy_sweep_input_prunes_nothing(self):
        self.expect_list("SNAPSHOT", [self.snap("SNAPSHOT", "prod-db-2024-01-01-03-10")])
        self.expect_list("CLUSTER_SNAPSHOT", [])
        self.expect_attributes("SNAPSHOT", "prod-db-2024-01-01-03-10", [B])
        result, _ = self.invoke(share, self.SWEEP)
        self.assertNotIn("deleted", result)


class BackupCopyTest(HandlerTest):
    def expect_copy(self, kind="SNAPSHOT", source_arn=COPY_ARN, target=f"{COPY_ID}-{A}", error=None,
                    encrypted=True):
        tags = [
            {"Key": "rdsbk:source-account", "Value": A},
            {"Key": "rdsbk:source-snapshot", "Value": source_arn},
            {"Key": "rdsbk:stack", "Value": STACK},
        ]
        if kind == "SNAPSHOT":
            self.not_found("describe_db_snapshots", "DBSnapshotNotFound", {"DBSnapshotIdentifier": target})
            method = "copy_db_snapshot"
            params = {"SourceDBSnapshotIdentifier": source_arn, "TargetDBSnapshotIdentifier": target}
            response = {"DBSnapshot": {"DBSnapshotIdentifier": target, "Status": "pending",
                                       "DBSnapshotArn": f"arn:aws:rds:{REGION_B}:{B}:snapshot:{target}"}}
        else:
            self.not_found(
                "describe_db_cluster_snapshots",
                "DBClusterSnapshotNotFoundFault",
                {"DBClusterSnapshotIdentifier": target},
            )
            self.expect_cluster_source(self.rds_stub, source_arn, "shared", encrypted)
            method = "copy_db_cluster_snapshot"
            params = {
                "SourceDBClusterSnapshotIdentifier": source_arn,
                "TargetDBClusterSnapshotIdentifier": target,
            }
            response = {"DBClusterSnapshot": {"DBClusterSnapshotIdentifier": target,
                                              "Status": "copying"}}
        params["Tags"] = tags
        if encrypted:
            params["KmsKeyId"] = KEY
        if error:
            self.rds_stub.add_client_error(method, service_error_code=error, expected_params=params)
        else:
            self.rds_stub.add_response(method, response, params)

    def test_shared_instance_snapshot_copied(self):
        self.expect_copy()
        result, _ = self.invoke(backup_copy, shared_event())
        rec = self.assert_one_line("backup-copy", "copied", COPY_ARN, f"{COPY_ID}-{A}")
        self.assertEqual(result, rec)
        self.assertEqual(rec["source_account"], A)
        self.assertEqual(rec["target_arn"], BACKUP_ARN)
        # Same Region: no SourceRegion, hence no presigned URL.
        self.assertNotIn("PreSignedUrl", self.sent_bodies[0])

    def test_second_source_account_accepted(self):
        arn = COPY_ARN.replace(A, A2)
        target = f"{COPY_ID}-{A2}"
        self.not_found("describe_db_snapshots", "DBSnapshotNotFound", {"DBSnapshotIdentifier": target})
        self.rds_stub.add_response(
            "copy_db_snapshot",
            {"DBSnapshot": {"DBSnapshotIdentifier": target}},
            {
                "SourceDBSnapshotIdentifier": arn,
                "TargetDBSnapshotIdentifier": target,
                "KmsKeyId": KEY,
                "Tags": [
                    {"Key": "rdsbk:source-account", "Value": A2},
                    {"Key": "rdsbk:source-snapshot", "Value": arn},
                    {"Key": "rdsbk:stack", "Value": STACK},
                ],
            },
        )
        self.invoke(backup_copy, shared_event(arn=arn, account=A2))
        self.assert_one_line("backup-copy", "copied", arn, target)

    def test_shared_cluster_snapshot_copied(self):
        self.expect_copy("CLUSTER_SNAPSHOT", CL_COPY_ARN, f"{CL_COPY_ID}-{A}")
        self.invoke(backup_copy, shared_event(CL_COPY_ARN, CL_COPY_ID, "CLUSTER_SNAPSHOT"))
        rec = self.assert_one_line("backup-copy", "copied", CL_COPY_ARN, f"{CL_COPY_ID}-{A}")
        self.assertEqual(rec["kind"], "CLUSTER_SNAPSHOT")
        self.assertIs(rec["encrypted"], True)

    def test_shared_unencrypted_cluster_snapshot_copied_without_key_and_a_warning(self):
        self.expect_copy("CLUSTER_SNAPSHOT", CL_COPY_ARN, f"{CL_COPY_ID}-{A}", encrypted=False)
        self.invoke(backup_copy, shared_event(CL_COPY_ARN, CL_COPY_ID, "CLUSTER_SNAPSHOT"))
        rec = self.assert_one_line("backup-copy", "copied", CL_COPY_ARN, f"{CL_COPY_ID}-{A}")
        self.assertIs(rec["encrypted"], False)
        self.assertIn("NOT encrypted", rec["warning"])
        self.assertNotIn("KmsKeyId", self.sent_bodies[0])

    def test_existing_backup_is_success(self):
        self.rds_stub.add_response(
            "describe_db_snapshots",
            {"DBSnapshots": [{"DBSnapshotIdentifier": f"{COPY_ID}-{A}", "Status": "available"}]},
            {"DBSnapshotIdentifier": f"{COPY_ID}-{A}"},
        )
        self.invoke(backup_copy, shared_event())
        self.assert_one_line("backup-copy", "exists", COPY_ARN, f"{COPY_ID}-{A}")

    def test_already_exists_race_is_success(self):
        for kind, arn, ident, code in [
            ("SNAPSHOT", COPY_ARN, COPY_ID, "DBSnapshotAlreadyExists"),
            ("CLUSTER_SNAPSHOT", CL_COPY_ARN, CL_COPY_ID, "DBClusterSnapshotAlreadyExistsFault"),
        ]:
            with self.subTest(kind):
                self.expect_copy(kind, arn, f"{ident}-{A}", error=code)
                self.invoke(backup_copy, shared_event(arn, ident, kind))
                self.assert_one_line("backup-copy", "exists", arn, f"{ident}-{A}")

    def test_events_that_are_not_ours_are_ignored_without_calls(self):
        other_region = COPY_ARN.replace(REGION_B, REGION_A)
        foreign = COPY_ARN.replace(A, "444444444444")
        cases = [
            ("other source", shared_event(source="rdsbk.other-stack"), COPY_ARN),
            ("other detail-type", shared_event(**{"detail-type": "Something Else"}), COPY_ARN),
            ("not a source account", shared_event(account="444444444444", arn=foreign), foreign),
            ("ARN of another account", shared_event(arn=foreign), foreign),
            ("ARN of the other source account", shared_event(arn=COPY_ARN.replace(A, A2)),
             COPY_ARN.replace(A, A2)),
            ("other stack", shared_event(Stack="other"), COPY_ARN),
            ("bogus SourceType", shared_event(SourceType="DB_INSTANCE"), COPY_ARN),
            ("type/ARN mismatch", shared_event(SourceType="CLUSTER_SNAPSHOT"), COPY_ARN),
            ("other Region", shared_event(arn=other_region), other_region),
            ("RDS event", rds_event("RDS-EVENT-0091", SRC_ARN, SNAP_ID), SRC_ARN),
            ("empty", {}, ""),
        ]
        for name, event, source in cases:
            with self.subTest(name):
                self.invoke(backup_copy, event)
                self.assert_one_line("backup-copy", "ignored", source, None)

    def test_quota_exceeded_raises_retryable(self):
        self.expect_copy(error="SnapshotQuotaExceeded")
        with self.assertRaises(c.RetryableError):
            self.invoke(backup_copy, shared_event())
        rec = self.assert_one_line("backup-copy", "error", COPY_ARN, f"{COPY_ID}-{A}")
        self.assertTrue(rec["retryable"])

    def test_access_denied_raises(self):
        self.expect_copy(error="AccessDenied")
        with self.assertRaises(ClientError) as ctx:
            self.invoke(backup_copy, shared_event())
        self.assertNotIsInstance(ctx.exception, c.RetryableError)
        self.assertFalse(self.logs[0]["retryable"])

    def test_kms_key_not_accessible_raises(self):
        self.expect_copy(error="KMSKeyNotAccessibleFault")
        with self.assertRaises(ClientError):
            self.invoke(backup_copy, shared_event())
        self.assertEqual(self.logs[0]["error_code"], "KMSKeyNotAccessibleFault")


class BackupPruneTest(HandlerTest):
    """backup_copy.handler with the scheduled event: the retention of the backup copies."""

    def setUp(self):
        super().setUp()
        env = mock.patch.dict(os.environ, {"RDSBK_RETENTION_DAYS": "7", "RDSBK_KEEP_LAST": "1"})
        env.start()
        self.addCleanup(env.stop)

    def backup(self, ident, status="available", stack=STACK):
        return {"DBSnapshotIdentifier": ident, "Status": status,
                "DBSnapshotArn": f"arn:aws:rds:{REGION_B}:{B}:snapshot:{ident}",
                "TagList": [{"Key": "rdsbk:stack", "Value": stack}]}

    def no_shared(self):
        """The sweep's listing of what is shared with the backup account: nothing."""
        self.rds_stub.add_response("describe_db_snapshots", {"DBSnapshots": []},
                                   {"SnapshotType": "shared"})
        self.rds_stub.add_response("describe_db_cluster_snapshots", {"DBClusterSnapshots": []},
                                   {"SnapshotType": "shared"})

    def test_old_backups_go_the_newest_and_others_stay(self):
        old, newest = f"prod-db-2024-08-01-03-10-{A}", f"prod-db-2024-08-10-03-10-{A}"
        self.rds_stub.add_response("describe_db_snapshots", {"DBSnapshots": [
            self.backup(old), self.backup(newest),
            self.backup(f"prod-db-2024-07-01-03-10-{A2}"),            # A2's newest: kept
            self.backup(f"prod-db-2024-07-01-03-10-{A}", "copying"),  # in flight: kept
            self.backup(f"prod-db-2024-07-02-03-10-{A}", stack="x"),  # another stack's
        ]}, {"SnapshotType": "manual"})
        self.rds_stub.add_response("describe_db_cluster_snapshots", {"DBClusterSnapshots": []},
                                   {"SnapshotType": "manual"})
        self.no_shared()
        self.rds_stub.add_response("delete_db_snapshot", {}, {"DBSnapshotIdentifier": old})
        result, logs = self.invoke(backup_copy, scheduled_event("2024-08-20T00:00:00Z", B))
        self.assertEqual([r["source"] for r in logs if r["result"] == "deleted"],
                         [f"arn:aws:rds:{REGION_B}:{B}:snapshot:{old}"])
        self.assertEqual((result["action"], result["result"], result["deleted"]),
                         ("prune", "pruned", 1))

    def test_without_retention_nothing_is_deleted(self):
        os.environ.pop("RDSBK_RETENTION_DAYS")
        self.rds_stub.add_response("describe_db_snapshots", {"DBSnapshots": [
            self.backup(f"prod-db-2024-08-01-03-10-{A}")]}, {"SnapshotType": "manual"})
        self.rds_stub.add_response("describe_db_cluster_snapshots", {"DBClusterSnapshots": []},
                                   {"SnapshotType": "manual"})
        self.no_shared()
        result, _ = self.invoke(backup_copy, scheduled_event("2024-08-20T00:00:00Z", B))
        self.assertEqual((result["result"], result["prune"], result["copied"]),
                         ("pruned", "no retention configured", 0))

    def test_a_failed_deletion_raises_after_the_others(self):
        self.rds_stub.add_response("describe_db_snapshots", {"DBSnapshots": [
            self.backup(f"prod-db-2024-08-01-03-10-{A}"), self.backup(f"prod-db-2024-08-02-03-10-{A}"),
            self.backup(f"prod-db-2024-08-19-03-10-{A}")]}, {"SnapshotType": "manual"})
        self.rds_stub.add_response("describe_db_cluster_snapshots", {"DBClusterSnapshots": []},
                                   {"SnapshotType": "manual"})
        self.no_shared()
        self.rds_stub.add_client_error("delete_db_snapshot", service_error_code="InvalidDBSnapshotState",
                                       expected_params={"DBSnapshotIdentifier": f"prod-db-2024-08-01-03-10-{A}"})
        self.rds_stub.add_response("delete_db_snapshot", {},
                                   {"DBSnapshotIdentifier": f"prod-db-2024-08-02-03-10-{A}"})
        with self.assertRaises(c.RunFailures):
            self.invoke(backup_copy, scheduled_event("2024-08-20T00:00:00Z", B))
        self.assertEqual(self.logs[-1]["deleted"], 1)


class ReconcileHelpersTest(unittest.TestCase):
    """The sweeps' choices (rdsbk_common, "reconciliation")."""

    NOW = datetime.datetime(2024, 8, 20, 12, 0, tzinfo=datetime.timezone.utc)

    def test_only_what_retention_keeps_is_copied_oldest_first(self):
        hours = datetime.timedelta(hours=1)
        items = [("a", self.NOW - 2 * hours, "a-recent"), ("a", self.NOW - 30 * hours, "a-old"),
                 ("a", self.NOW - 23.5 * hours, "a-near-the-end"),
                 ("b", self.NOW - 50 * hours, "b-old"), ("b", self.NOW - 70 * hours, "b-older")]
        got = [p for _g, _s, p in c.worth_copying(items, c.Retention(1, 1), self.NOW)]
        # within a day less the margin, or the newest of its database (b's, however old)
        self.assertEqual(got, ["b-old", "a-recent"])
        got = [p for _g, _s, p in c.worth_copying(items, c.Retention(1, 2), self.NOW)]
        self.assertEqual(got, ["b-older", "b-old", "a-near-the-end", "a-recent"])
        got = [p for _g, _s, p in c.worth_copying(items, None, self.NOW)]
        self.assertEqual(got, ["b-older", "b-old", "a-old", "a-near-the-end", "a-recent"])

    def test_copy_limit_is_told_from_the_manual_snapshot_quota(self):
        def error(message):
            return ClientError({"Error": {"Code": "SnapshotQuotaExceeded", "Message": message}},
                               "CopyDBSnapshot")
        self.assertTrue(c.is_copy_limit(error("Cannot copy more than 20 snapshots across regions")))
        self.assertFalse(c.is_copy_limit(error("Cannot create more than 100 manual snapshots")))

    def test_copies_in_flight_from_other_regions_count(self):
        snaps = [(c.KIND_INSTANCE, {"Status": "copying", "SourceRegion": REGION_A}),
                 (c.KIND_INSTANCE, {"Status": "available", "SourceRegion": REGION_A}),
                 (c.KIND_INSTANCE, {"Status": "creating"}),  # made here, not a copy
                 (c.KIND_CLUSTER, {"Status": "copying", "SourceDBClusterSnapshotArn":
                                   f"arn:aws:rds:{REGION_A}:{A}:cluster-snapshot:rds:x-1"}),
                 (c.KIND_CLUSTER, {"Status": "creating", "SourceDBClusterSnapshotArn":
                                   f"arn:aws:rds:{REGION_B}:{A}:cluster-snapshot:x-1"})]
        self.assertEqual(c.cross_region_copies_in_flight(snaps, REGION_B), 2)

    def test_shared_globs_select_the_stacks_copies(self):
        settings = c.Settings(dict(ENV, RDSBK_SHARED_GLOBS=f"{A}:snapshot:prod-db-????-??-??-??-??,"
                                                         f"{A}:snapshot:reporting-*"))

        def arn(account, ident):
            return c.Arn(f"arn:aws:rds:{REGION_B}:{account}:snapshot:{ident}")
        self.assertTrue(settings.shared_with_us(arn(A, "prod-db-2024-08-13-03-10")))
        self.assertTrue(settings.shared_with_us(arn(A, "reporting-eu-2024-08-13-03-10")))
        self.assertFalse(settings.shared_with_us(arn(A, "prod-db-staging-2024-08-13-03-10")))
        self.assertFalse(settings.shared_with_us(arn(A2, "prod-db-2024-08-13-03-10")))


class CommonTest(unittest.TestCase):
    def test_matches_any(self):
        cases = [
            ("prod-db", ["prod-db"], True),
            ("PROD-DB", ["prod-db"], True),
            ("prod-db2", ["prod-db"], False),
            ("prod-db2", ["prod-db*"], True),
            ("reporting-eu", ["x", "reporting-*"], True),
            ("report", ["reporting-*"], False),
            ("anything", ["*"], True),
            ("db", [], False),
        ]
        for ident, patterns, expected in cases:
            with self.subTest(ident=ident, patterns=patterns):
                self.assertEqual(c.matches_any(ident, patterns), expected)

    def test_automated_db_identifier(self):
        self.assertEqual(c.automated_db_identifier("rds:prod-db-2024-08-13-03-10"), "prod-db")
        self.assertEqual(c.automated_db_identifier("rds:a-1-2-2024-01-02-03-04"), "a-1-2")
        self.assertIsNone(c.automated_db_identifier("prod-db-2024-08-13-03-10"))
        self.assertIsNone(c.automated_db_identifier("rds:prod-db"))

    def test_arn(self):
        arn = c.parse_arn(CL_SRC_ARN)
        self.assertEqual(
            (arn.partition, arn.region, arn.account, arn.resource_id, arn.kind),
            ("aws", REGION_A, A, CL_SNAP_ID, "CLUSTER_SNAPSHOT"),
        )
        self.assertIsNone(c.parse_arn("arn:aws:kms:us-east-1:1:key/x"))
        self.assertIsNone(c.parse_arn(""))
        self.assertIsNone(c.parse_arn(None))

    def test_split_list(self):
        self.assertEqual(c.split_list(" a, b,,c "), ["a", "b", "c"])
        self.assertEqual(c.split_list(""), [])

    def test_log_line_is_one_json_object(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            c.log_action("copy", "src", "tgt", "copied", status="pending", skipped=None)
        lines = out.getvalue().splitlines()
        self.assertEqual(len(lines), 1)
        self.assertEqual(
            json.loads(lines[0]),
            {"action": "copy", "source": "src", "target": "tgt", "result": "copied",
             "status": "pending"},
        )


def denied(operation):
    return ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized"}}, operation)


class ReportsCase(unittest.TestCase):
    """c.Reports with its memory (alerted_since) and its alerts (alert) replaced."""

    NOW = datetime.datetime(2024, 8, 13, 4, 0, tzinfo=datetime.timezone.utc)
    TOPIC = f"arn:aws:sns:{REGION_B}:{B}:rdsbk-{STACK}-alerts"

    def reports(self, memory, topic=TOPIC):
        env = dict(ENV, RDSBK_ALERT_TOPIC_ARN=topic)
        self.published = []
        alert = mock.patch.object(c, "alert", side_effect=lambda *a, **kw: (
            self.published.append((a[2], a[3], kw)) or "m-%d" % len(self.published)))
        reader = mock.patch.object(c, "alerted_since", side_effect=memory)
        for patch in (alert, reader):
            patch.start()
            self.addCleanup(patch.stop)
        return c.Reports(c.Settings(env), Context(), self.NOW, {"stack": STACK})


class ReportsTest(ReportsCase):
    """A scheduled run's failures: alerted once, reminded daily, never repeated by a retry; the
    function's log group is the memory."""

    def test_a_failure_for_good_is_alerted_once_per_run_and_key(self):
        reports = self.reports(lambda region, since: set())
        with contextlib.redirect_stdout(io.StringIO()):
            reports.failed("copy", SRC_ARN, COPY_ID, denied("CopyDBSnapshot"), database="prod-db")
            # the same snapshot named by an ARN of another Region is the same problem
            reports.failed("copy", SRC_ARN.replace(REGION_A, REGION_B), COPY_ID,
                           denied("CopyDBSnapshot"), database="prod-db")
            reports.finish("sweep", [])
        self.assertEqual([(hop, source) for hop, source, _ in self.published],
                         [("copy", SRC_ARN)])
        self.assertEqual(self.published[0][2]["database"], "prod-db")
        self.assertEqual(reports.counts, {"alerted": 1, "alerted_before": 1})

    def test_what_was_alerted_within_a_day_is_not_alerted_again(self):
        asked = []

        def memory(region, since):
            asked.append((region, since))
            return {c.alert_key("copy", SRC_ARN)}

        reports = self.reports(memory)
        reports.failed("copy", SRC_ARN, COPY_ID, denied("CopyDBSnapshot"))
        reports.failed("copy", CL_SRC_ARN, CL_COPY_ID, denied("CopyDBClusterSnapshot"))
        self.assertEqual(asked, [(REGION_B, self.NOW - datetime.timedelta(days=1))],
                         "the memory is read once per run, a day back")
        self.assertEqual([source for _, source, _ in self.published], [CL_SRC_ARN])
        reports.finish("sweep", [])

    def test_transient_failures_are_left_to_lambdas_retries(self):
        reports = self.reports(lambda region, since: self.fail("no memory needed"))
        reports.failed("copy", SRC_ARN, COPY_ID, c.RetryableError("Throttling", "slow down"))
        self.assertEqual(self.published, [])
        with self.assertRaises(c.RunFailures) as raised:
            reports.finish("sweep", [("list snapshot", "Throttling")])
        self.assertEqual(raised.exception.failures,
                         [("list snapshot", "Throttling"), (SRC_ARN, "Throttling")])

    def test_an_unreadable_memory_alerts_nothing_and_raises(self):
        def memory(region, since):
            raise denied("FilterLogEvents")

        reports = self.reports(memory)
        with contextlib.redirect_stdout(io.StringIO()) as out:
            reports.failed("copy", SRC_ARN, COPY_ID, denied("CopyDBSnapshot"))
        self.assertEqual(self.published, [])
        self.assertEqual(json.loads(out.getvalue())["step"], "read-memory")
        with self.assertRaises(c.RunFailures):
            reports.finish("sweep", [])

    def test_without_a_topic_nothing_is_alerted(self):
        reports = self.reports(lambda region, since: set(), topic="")
        reports.failed("copy", SRC_ARN, COPY_ID, denied("CopyDBSnapshot"))
        self.assertEqual(self.published, [])
        with self.assertRaises(c.RunFailures):
            reports.finish("sweep", [])

    def test_the_memory_is_the_log_groups_published_alerts(self):
        logs = boto3.client("logs", region_name=REGION_B, endpoint_url="http://127.0.0.1:9")
        stub = Stubber(logs)
        since = self.NOW - datetime.timedelta(days=1)
        line = json.dumps({"action": "alert", "result": "published", "alert_key": "copy:x"})
        stub.add_response("filter_log_events", {
            "events": [{"message": line}, {"message": "START RequestId: 1"},
                       {"message": json.dumps({"action": "alert", "result": "published"})}],
            "nextToken": "t1"}, {
            "logGroupName": f"/aws/lambda/rdsbk-{STACK}-copy",
            "startTime": int(since.timestamp() * 1000), "filterPattern": c.ALERTS_FILTER})
        stub.add_response("filter_log_events", {"events": [{"message": line.replace("x", "y")}]},
                          {"logGroupName": f"/aws/lambda/rdsbk-{STACK}-copy",
                           "startTime": int(since.timestamp() * 1000),
                           "filterPattern": c.ALERTS_FILTER, "nextToken": "t1"})
        stub.activate()
        c._CLIENTS[("logs", REGION_B)] = logs
        self.addCleanup(c._CLIENTS.pop, ("logs", REGION_B))
        with mock.patch.dict(os.environ, {"AWS_LAMBDA_FUNCTION_NAME": f"rdsbk-{STACK}-copy"}):
            self.assertEqual(c.alerted_since(REGION_B, since), {"copy:x", "copy:y"})
        stub.assert_no_pending_responses()


class DeadLetterTest(ReportsCase):
    """The invocations Lambda gave up on: each message of the function's dead-letter queue is
    reported once, then deleted; one that could not be reported stays."""

    QUEUE_URL = f"https://sqs.{REGION_B}.amazonaws.com/{A}/rdsbk-{STACK}-copy-failed"

    def sqs_stub(self):
        sqs = boto3.client("sqs", region_name=REGION_B, endpoint_url="http://127.0.0.1:9")
        stub = Stubber(sqs)
        c._CLIENTS[("sqs", REGION_B)] = sqs
        self.addCleanup(c._CLIENTS.pop, ("sqs", REGION_B))
        stub.add_response("get_queue_url", {"QueueUrl": self.QUEUE_URL},
                          {"QueueName": f"rdsbk-{STACK}-copy-failed"})
        return stub

    def message(self, n, body):
        return {"MessageId": f"m{n}", "ReceiptHandle": f"r{n}", "Body": json.dumps(body),
                "MessageAttributes": {
                    "RequestID": {"DataType": "String", "StringValue": f"req-{n}"},
                    "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                    "ErrorMessage": {"DataType": "String", "StringValue": "Task timed out"}}}

    def receive(self, stub, messages):
        stub.add_response("receive_message", {"Messages": messages} if messages else {}, {
            "QueueUrl": self.QUEUE_URL, "MaxNumberOfMessages": 10,
            "MessageAttributeNames": ["All"], "VisibilityTimeout": 120, "WaitTimeSeconds": 0})

    def test_each_message_is_reported_then_deleted(self):
        reports = self.reports(lambda region, since: set())
        reports.settings.failure_queue = f"rdsbk-{STACK}-copy-failed"
        stub = self.sqs_stub()
        scheduled = {"source": "aws.events", "detail-type": "Scheduled Event",
                     "time": "2024-08-13T03:30:00Z",
                     "resources": [f"arn:aws:events:{REGION_B}:{A}:rule/rdsbk-{STACK}-copy-sweep"]}
        self.receive(stub, [self.message(1, rds_event("RDS-EVENT-0091", SRC_ARN, SNAP_ID)),
                            self.message(2, scheduled)])
        for n in (1, 2):
            stub.add_response("delete_message", {},
                              {"QueueUrl": self.QUEUE_URL, "ReceiptHandle": f"r{n}"})
        self.receive(stub, [])
        stub.activate()
        with contextlib.redirect_stdout(io.StringIO()) as out:
            self.assertEqual(c.drain_dead_letters(reports, "copy", "copy-sweep"), 2)
        stub.assert_no_pending_responses()
        self.assertEqual([(hop, source, kw.get("database")) for hop, source, kw in self.published],
                         [("copy", SRC_ARN, "prod-db"), ("copy-sweep", scheduled["resources"][0],
                                                         None)])
        lines = [json.loads(line) for line in out.getvalue().splitlines()]
        self.assertEqual([(r["action"], r["step"], r["error_code"]) for r in lines],
                         [("copy", "dead-letter", "InvocationGivenUp"),
                          ("copy-sweep", "dead-letter", "InvocationGivenUp")])
        self.assertIn("req-1", lines[0]["message"])
        self.assertIn("Task timed out", lines[0]["message"])
        reports.finish("sweep", [])

    def test_a_message_that_could_not_be_reported_stays(self):
        reports = self.reports(lambda region, since: set(), topic="")
        reports.settings.failure_queue = f"rdsbk-{STACK}-copy-failed"
        stub = self.sqs_stub()
        self.receive(stub, [self.message(1, rds_event("RDS-EVENT-0091", SRC_ARN, SNAP_ID))])
        stub.activate()
        with contextlib.redirect_stdout(io.StringIO()):
            self.assertEqual(c.drain_dead_letters(reports, "copy", "copy-sweep"), 0)
        stub.assert_no_pending_responses()  # no delete_message
        with self.assertRaises(c.RunFailures):
            reports.finish("sweep", [])

    def test_a_queue_that_cannot_be_read_does_not_stop_the_run(self):
        reports = self.reports(lambda region, since: set())
        reports.settings.failure_queue = f"rdsbk-{STACK}-copy-failed"
        stub = self.sqs_stub()
        stub.add_client_error("receive_message", service_error_code="AccessDenied",
                              http_status_code=403)
        stub.activate()
        with contextlib.redirect_stdout(io.StringIO()) as out:
            self.assertEqual(c.drain_dead_letters(reports, "copy", "copy-sweep"), 0)
        self.assertEqual(json.loads(out.getvalue())["error_code"], "AccessDenied")
        with self.assertRaises(c.RunFailures):
            reports.finish("sweep", [])

    def test_no_queue_no_calls(self):
        reports = self.reports(lambda region, since: set())
        self.assertEqual(c.drain_dead_letters(reports, "copy", "copy-sweep"), 0)


class BackupAgeTest(unittest.TestCase):
    """alerts.max_age: a database whose newest backup copy is too old is reported for a week."""

    NOW = datetime.datetime(2024, 8, 15, 4, 0, tzinfo=datetime.timezone.utc)

    def copy(self, db, stamp, account=A, status="available", stack=STACK):
        return (c.KIND_INSTANCE, {"DBSnapshotIdentifier": f"{db}-{stamp}-{account}",
                                  "Status": status,
                                  "TagList": [{"Key": c.TAG_STACK, "Value": stack}]})

    def check(self, listed, max_age_s="93600"):
        env = dict(ENV, RDSBK_ALERT_MAX_AGE_S=max_age_s,
                   RDSBK_SHARED_GLOBS=f"{A}:snapshot:prod-db-*,{A}:snapshot:reporting-*")
        reports = mock.Mock(extra={"stack": STACK})
        with contextlib.redirect_stdout(io.StringIO()) as out:
            too_old = backup_copy.check_age(c.Settings(env), listed, self.NOW, reports)
        lines = [json.loads(line) for line in out.getvalue().splitlines()]
        return too_old, [call.args[:2] for call in reports.failed.call_args_list], lines

    def test_only_the_newest_copy_counts(self):
        too_old, reported, lines = self.check([
            self.copy("prod-db", "2024-08-13-03-10"),
            self.copy("prod-db", "2024-08-14-03-10"),       # 25 hours: young enough
            self.copy("reporting-eu", "2024-08-13-03-10"),  # 49 hours
            self.copy("reporting-eu", "2024-08-14-03-10", status="failed"),
        ])
        self.assertEqual(too_old, 1)
        self.assertEqual(reported, [("backup-age", f"{A}/reporting-eu")])
        [line] = lines
        self.assertEqual((line["action"], line["database"], line["error_code"]),
                         ("backup-age", "reporting-eu", "BackupTooOld"))
        self.assertIn("48 hours old", line["message"])

    def test_a_copy_being_made_counts_as_new(self):
        self.assertEqual(self.check([self.copy("prod-db", "2024-08-14-20-00", status="copying"),
                                     self.copy("prod-db", "2024-08-10-03-10")])[:2], (0, []))

    def test_what_the_stack_no_longer_takes_is_not_reported(self):
        listed = [self.copy("old-db", "2024-08-10-03-10"),
                  self.copy("prod-db", "2024-08-10-03-10", stack="other"),
                  self.copy("prod-db", "2024-08-10-03-10", account=A2)]
        self.assertEqual(self.check(listed)[:2], (0, []))

    def test_after_a_week_of_reminders_it_goes_quiet(self):
        too_old, reported, _ = self.check([self.copy("prod-db", "2024-08-06-03-10")])
        self.assertEqual((too_old, reported), (1, []))

    def test_no_max_age_no_check_and_a_bad_one_is_a_config_error(self):
        env = dict(ENV)
        self.assertEqual(backup_copy.check_age(c.Settings(env), [self.copy("prod-db", "x")],
                                               self.NOW, None), 0)
        for bad in ("0", "-5", "26h"):
            with self.subTest(bad=bad), self.assertRaises(c.ConfigError):
                c.Settings(dict(ENV, RDSBK_ALERT_MAX_AGE_S=bad))


class PackagingTest(unittest.TestCase):
    def test_handler_modules_do_not_shadow_the_standard_library(self):
        # A handler called copy.py would replace the stdlib 'copy' module botocore imports.
        for name in sorted(os.listdir(LAMBDA_DIR)):
            if name.endswith(".py"):
                with self.subTest(name):
                    self.assertNotIn(name[:-3], sys.stdlib_module_names)
                    self.assertNotIn(name[:-3], {"boto3", "botocore", "json", "os"})

    def test_each_handler_imports_alone_like_lambda_does(self):
        # Lambda puts the zip's root first on sys.path and imports the handler module.
        for module in ("copy_snapshot", "share", "backup_copy"):
            with self.subTest(module):
                proc = subprocess.run(
                    [sys.executable, "-c",
                     f"import sys; sys.path.insert(0, {LAMBDA_DIR!r}); import {module}; "
                     f"assert callable({module}.handler); import copy; copy.deepcopy([1])"],
                    capture_output=True, text=True, timeout=60, cwd="/",
                    env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"),
                )
                self.assertEqual(proc.returncode, 0, proc.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
