"""End-to-end: the walkthrough's pipeline built by hand with boto3 alone (per DESIGN.md), run by
the emulator from an automated snapshot in Account-A/Region-A to a copy in
Account-B/Region-B encrypted with the shared key; and negative twins that must not arrive,
each with its reason visible in failed-deliveries or the Lambda logs."""

import io
import json
import os
import sys
import unittest
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ACCOUNT_A, ACCOUNT_B, EmulatorCase  # noqa: E402

A, B = ACCOUNT_A, ACCOUNT_B
RA, RB = "us-east-1", "eu-west-1"
DB = "orders"

COPY_HANDLER = r'''
import os
import boto3

def lambda_handler(event, context):
    print(event)
    source = event["detail"]["SourceArn"]
    target = event["detail"]["SourceIdentifier"].replace("rds:", "")
    rds = boto3.client("rds", os.environ["TARGET_REGION"])
    out = rds.copy_db_snapshot(SourceDBSnapshotIdentifier=source,
                               TargetDBSnapshotIdentifier=target,
                               KmsKeyId=os.environ["SHARED_KEY"],
                               SourceRegion=os.environ["SOURCE_REGION"])
    return out["DBSnapshot"]["DBSnapshotArn"]
'''

SHARE_HANDLER = r'''
import json
import os
import boto3

def lambda_handler(event, context):
    print(event)
    source_arn = event["detail"]["SourceArn"]
    source_identifier = event["detail"]["SourceIdentifier"]
    boto3.client("rds").modify_db_snapshot_attribute(
        AttributeName="restore", DBSnapshotIdentifier=source_identifier,
        ValuesToAdd=[os.environ["BACKUP_ACCOUNT"]])
    out = boto3.client("events").put_events(Entries=[{
        "Source": "custom.lambda", "DetailType": "Custom Lambda Snapshot Share Event",
        "Detail": json.dumps({"SourceIdentifier": source_identifier,
                              "SourceArn": source_arn})}])
    assert out["FailedEntryCount"] == 0, out
    return "shared"
'''

BACKUP_COPY_HANDLER = r'''
import os
import boto3

def lambda_handler(event, context):
    print(event)
    rds = boto3.client("rds")
    out = rds.copy_db_snapshot(SourceDBSnapshotIdentifier=event["detail"]["SourceArn"],
                               TargetDBSnapshotIdentifier=event["detail"]["SourceIdentifier"],
                               KmsKeyId=os.environ["SHARED_KEY"])
    return out["DBSnapshot"]["DBSnapshotArn"]
'''


def zip_of(source):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("lambda_function.py", (1980, 1, 1, 0, 0, 0)), source)
    return buf.getvalue()


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def trust(service):
    return doc({"Effect": "Allow", "Principal": {"Service": service},
                "Action": "sts:AssumeRole"})


def bus(region, account):
    return "arn:aws:events:%s:%s:event-bus/default" % (region, account)


KEY_USE = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
           "kms:DescribeKey"]
KEY_GRANTS = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]


def key_statements(key_arn):
    return [{"Sid": "AllowUseOfTheKey", "Effect": "Allow", "Action": KEY_USE,
             "Resource": key_arn},
            {"Sid": "AllowAttachmentOfPersistentResources", "Effect": "Allow",
             "Action": KEY_GRANTS, "Resource": key_arn,
             "Condition": {"Bool": {"kms:GrantIsForAWSResource": True}}}]


class PipelineTest(EmulatorCase):
    def setUp(self):
        super().setUp()
        self.h.control("POST", "/_emu/lambda-config", {"retry_delays_s": [0.1, 0.1],
                                                       "settle_s": 0.1})
        self.h.control("POST", "/_emu/rds/config", {"delay_s": 0.2})

    def c(self, service, account, region):
        return self.h.client(service, account, region, timeout=30)

    def wait(self):
        status, body = self.h.control("POST", "/_emu/wait-idle", {"timeout_s": 45})
        self.assertEqual(status, 200, body)

    # ------------------------------------------------------------ the build
    def role(self, account, name, service, *statements):
        iam = self.c("iam", account, "us-east-1")
        try:
            arn = iam.get_role(RoleName=name)["Role"]["Arn"]
        except iam.exceptions.NoSuchEntityException:
            arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(service))[
                "Role"]["Arn"]
        if statements:
            iam.put_role_policy(RoleName=name, PolicyName=name + "-policy",
                                PolicyDocument=doc(*statements))
        return arn

    def function(self, account, region, name, role, source, env, rule_arn, permission=True):
        lam = self.c("lambda", account, region)
        arn = lam.create_function(FunctionName=name, Runtime="python3.12", Role=role,
                                  Handler="lambda_function.lambda_handler", Timeout=60,
                                  Code={"ZipFile": zip_of(source)},
                                  Environment={"Variables": env})["FunctionArn"]
        if permission:
            lam.add_permission(FunctionName=name, StatementId="events-" + name,
                               Action="lambda:InvokeFunction", Principal="events.amazonaws.com",
                               SourceArn=rule_arn)
        return arn

    def rule(self, account, region, name, pattern):
        ev = self.c("events", account, region)
        return ev.put_rule(Name=name, EventPattern=json.dumps(pattern))["RuleArn"]

    def target(self, account, region, rule, arn, role=None):
        t = {"Id": "t1", "Arn": arn}
        if role:
            t["RoleArn"] = role
        out = self.c("events", account, region).put_targets(Rule=rule, Targets=[t])
        self.assertEqual(out["FailedEntryCount"], 0, out)

    def build(self, bus_policy=True, key_grant=True, copy_permission=True, rule3_region=RB):
        copy_role_arn = "arn:aws:iam::%s:role/rdsbk-copy" % A
        backup_role_arn = "arn:aws:iam::%s:role/rdsbk-backup-copy" % B

        # the copy role first: a key policy may only name principals that exist
        self.role(A, "rdsbk-copy", "lambda.amazonaws.com")
        # B / Region-B: the shared key; its policy lets A's copy role use it
        statements = [{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                       "Principal": {"AWS": "arn:aws:iam::%s:root" % B}, "Action": "kms:*",
                       "Resource": "*"}]
        if key_grant:
            statements += [
                {"Sid": "AllowUseOfTheKey", "Effect": "Allow",
                 "Principal": {"AWS": copy_role_arn}, "Action": KEY_USE, "Resource": "*"},
                {"Sid": "AllowAttachmentOfPersistentResources", "Effect": "Allow",
                 "Principal": {"AWS": copy_role_arn}, "Action": KEY_GRANTS, "Resource": "*",
                 "Condition": {"Bool": {"kms:GrantIsForAWSResource": True}}}]
        kms = self.c("kms", B, RB)
        key = kms.create_key(Policy=doc(*statements), Description="rdsbk shared key",
                             BypassPolicyLockoutSafetyCheck=False)["KeyMetadata"]["Arn"]
        kms.create_alias(AliasName="alias/rdsbk-shared", TargetKeyId=key)
        self.key = key

        created_pattern = {"source": ["aws.rds"], "detail-type": ["RDS DB Snapshot Event"],
                           "detail": {"SourceArn": [{"wildcard": "arn:aws:rds:%s:%s:snapshot:"
                                                                 "rds:%s-*" % (RA, A, DB)}],
                                      "EventID": ["RDS-EVENT-0091"]}}
        # A / Region-A: 0091 -> Region-B default bus, with a role that may PutEvents there
        fwd_region = self.role(A, "rdsbk-forward-region", "events.amazonaws.com",
                               {"Effect": "Allow", "Action": "events:PutEvents",
                                "Resource": bus(RB, A)})
        r1 = self.rule(A, RA, "rdsbk-snapshot-created", created_pattern)
        self.target(A, RA, "rdsbk-snapshot-created", bus(RB, A), fwd_region)

        # A / Region-B: the forwarded event -> copy Lambda
        copy_role = self.role(A, "rdsbk-copy", "lambda.amazonaws.com",
                              {"Effect": "Allow", "Action": "rds:CopyDBSnapshot",
                               "Resource": ["arn:aws:rds:%s:%s:snapshot:rds:%s-*" % (RA, A, DB),
                                            "arn:aws:rds:%s:%s:snapshot:%s-*" % (RB, A, DB)]},
                              *key_statements(key))
        self.assertEqual(copy_role, copy_role_arn)
        r2 = self.rule(A, RB, "rdsbk-copy", created_pattern)
        copy_fn = self.function(A, RB, "rdsbk-copy", copy_role, COPY_HANDLER,
                                {"SHARED_KEY": key, "TARGET_REGION": RB, "SOURCE_REGION": RA},
                                r2, permission=copy_permission)
        self.target(A, RB, "rdsbk-copy", copy_fn)

        # A / Region-B: 0060 (copy finished, fires in the destination Region) -> share Lambda
        share_role = self.role(A, "rdsbk-share", "lambda.amazonaws.com",
                               {"Effect": "Allow", "Action": "rds:ModifyDBSnapshotAttribute",
                                "Resource": "arn:aws:rds:%s:%s:snapshot:*" % (RB, A)},
                               {"Effect": "Allow", "Action": "events:PutEvents",
                                "Resource": bus(RB, A)})
        r3 = self.rule(A, RB, "rdsbk-share", {
            "source": ["aws.rds"], "detail-type": ["RDS DB Snapshot Event"],
            "detail": {"SourceArn": [{"wildcard": "arn:aws:rds:%s:%s:snapshot:%s-*"
                                                  % (rule3_region, A, DB)}],
                       "EventID": ["RDS-EVENT-0060"]}})
        share_fn = self.function(A, RB, "rdsbk-share", share_role, SHARE_HANDLER,
                                 {"BACKUP_ACCOUNT": B}, r3)
        self.target(A, RB, "rdsbk-share", share_fn)

        # A / Region-B: the custom event -> Account-B's default bus, with a role
        shared_pattern = {"source": ["custom.lambda"],
                          "detail-type": ["Custom Lambda Snapshot Share Event"],
                          "detail": {"SourceArn": [{"wildcard": "arn:aws:rds:%s:%s:snapshot:"
                                                                "%s-*" % (RB, A, DB)}]}}
        fwd_account = self.role(A, "rdsbk-forward-account", "events.amazonaws.com",
                                {"Effect": "Allow", "Action": "events:PutEvents",
                                 "Resource": bus(RB, B)})
        self.rule(A, RB, "rdsbk-forward-shared", shared_pattern)
        self.target(A, RB, "rdsbk-forward-shared", bus(RB, B), fwd_account)

        # B / Region-B: bus policy admitting A; rule -> backup-copy Lambda
        if bus_policy:
            self.c("events", B, RB).put_permission(Action="events:PutEvents", Principal=A,
                                                   StatementId="rdsbk-allow-" + A)
        backup_role = self.role(B, "rdsbk-backup-copy", "lambda.amazonaws.com",
                                {"Effect": "Allow", "Action": "rds:CopyDBSnapshot",
                                 "Resource": ["arn:aws:rds:%s:%s:snapshot:*" % (RB, A),
                                              "arn:aws:rds:%s:%s:snapshot:*" % (RB, B)]},
                                *key_statements(key))
        self.assertEqual(backup_role, backup_role_arn)
        r5 = self.rule(B, RB, "rdsbk-backup-copy", shared_pattern)
        backup_fn = self.function(B, RB, "rdsbk-backup-copy", backup_role,
                                  BACKUP_COPY_HANDLER, {"SHARED_KEY": key}, r5)
        self.target(B, RB, "rdsbk-backup-copy", backup_fn)
        self.wait()   # functions Active
        return {"r1": r1, "r2": r2, "r3": r3, "r5": r5, "copy_fn": copy_fn,
                "share_fn": share_fn, "backup_fn": backup_fn}

    def trigger(self):
        status, out = self.h.control("POST", "/_emu/rds/automated-snapshot",
                                     {"account": A, "region": RA, "db_instance": DB})
        self.assertEqual(status, 200, out)
        self.wait()
        return out["snapshot_id"]

    def b_copies(self):
        return self.c("rds", B, RB).describe_db_snapshots()["DBSnapshots"]

    def failed(self):
        return self.h.control("GET", "/_emu/failed-deliveries")[1]["failed_deliveries"]

    def logs(self, function):
        logs = self.h.control("GET", "/_emu/lambda-logs")[1]["logs"]
        return [x for x in logs if x["function"] == function]

    # ---------------------------------------------------------------- tests
    def test_snapshot_reaches_account_b(self):
        self.build()
        snap_id = self.trigger()
        self.assertEqual(self.failed(), [])
        target = snap_id.replace("rds:", "")
        a_copy = self.c("rds", A, RB).describe_db_snapshots(DBSnapshotIdentifier=target)[
            "DBSnapshots"][0]
        self.assertEqual(a_copy["KmsKeyId"], self.key)
        attrs = self.c("rds", A, RB).describe_db_snapshot_attributes(
            DBSnapshotIdentifier=target)["DBSnapshotAttributesResult"]["DBSnapshotAttributes"]
        self.assertEqual(attrs[0]["AttributeValues"], [B])
        copies = self.b_copies()
        self.assertEqual(len(copies), 1, copies)
        b = copies[0]
        self.assertEqual(b["DBSnapshotIdentifier"], target)
        self.assertEqual(b["Status"], "available")
        self.assertTrue(b["Encrypted"])
        self.assertEqual(b["KmsKeyId"], self.key)
        self.assertEqual(b["SourceDBSnapshotIdentifier"],
                         "arn:aws:rds:%s:%s:snapshot:%s" % (RB, A, target))
        for fn in ("rdsbk-copy", "rdsbk-share", "rdsbk-backup-copy"):
            self.assertEqual([x["status"] for x in self.logs(fn)], ["success"], fn)

    def test_without_bus_policy_the_event_is_dropped(self):
        ids = self.build(bus_policy=False)
        self.trigger()
        self.assertEqual(self.b_copies(), [])
        f = self.failed()
        self.assertEqual(len(f), 1, f)
        self.assertEqual(f[0]["target_arn"], bus(RB, B))
        self.assertIn("does not allow account %s" % A, f[0]["reason"])
        self.assertEqual(self.logs("rdsbk-backup-copy"), [])
        self.assertEqual(len(self.logs("rdsbk-share")), 1)
        del ids

    def test_without_key_grant_the_copy_fails(self):
        self.build(key_grant=False)
        self.trigger()
        self.assertEqual(self.b_copies(), [])
        logs = self.logs("rdsbk-copy")
        self.assertEqual(len(logs), 3)   # first try + two async retries
        for x in logs:
            self.assertEqual(x["status"], "error")
            self.assertIn("KMSKeyNotAccessibleFault", x["error"])
        self.assertEqual(self.logs("rdsbk-share"), [])
        f = self.failed()
        self.assertEqual(len(f), 1, f)
        self.assertIn("KMSKeyNotAccessibleFault", f[0]["reason"])

    def test_without_invoke_permission_the_copy_never_runs(self):
        ids = self.build(copy_permission=False)
        self.trigger()
        self.assertEqual(self.b_copies(), [])
        self.assertEqual(self.logs("rdsbk-copy"), [])
        f = self.failed()
        self.assertEqual(len(f), 1, f)
        self.assertEqual((f[0]["rule_arn"], f[0]["target_arn"]), (ids["r2"], ids["copy_fn"]))
        self.assertIn("AccessDeniedException", f[0]["reason"])

    def test_walkthrough_region_a_pattern_for_0060_never_matches(self):
        ids = self.build(rule3_region=RA)
        snap_id = self.trigger()
        target = snap_id.replace("rds:", "")
        # the Region-B copy happened, but the 0060 rule (Region-A ARN) did not match it
        a_copy = self.c("rds", A, RB).describe_db_snapshots(DBSnapshotIdentifier=target)[
            "DBSnapshots"][0]
        self.assertEqual(a_copy["Status"], "available")
        self.assertEqual(self.logs("rdsbk-share"), [])
        self.assertEqual(self.b_copies(), [])
        self.assertEqual(self.failed(), [])
        # the reason: the finished-copy event carries the destination (Region-B) ARN
        ev = self.c("events", A, RB)
        rule = ev.describe_rule(Name="rdsbk-share")
        event = {"id": "1", "account": A, "source": "aws.rds", "time": "2026-01-01T00:00:00Z",
                 "region": RB, "resources": [a_copy["DBSnapshotArn"]],
                 "detail-type": "RDS DB Snapshot Event",
                 "detail": {"EventID": "RDS-EVENT-0060", "SourceArn": a_copy["DBSnapshotArn"],
                            "SourceIdentifier": target}}
        self.assertFalse(ev.test_event_pattern(EventPattern=rule["EventPattern"],
                                               Event=json.dumps(event))["Result"])
        del ids


if __name__ == "__main__":
    unittest.main(warnings="ignore")
