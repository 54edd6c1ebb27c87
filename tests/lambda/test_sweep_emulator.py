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

import io
import json
import os
import sys
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LAMBDA_DIR = os.path.join(ROOT, "templates", "lambda")
POLICY = os.path.join(ROOT, "templates", "policies", "share-role.json")
sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))
sys.dont_write_bytecode = True

from harness import ACCOUNT_A, ACCOUNT_B, Harness  # noqa: E402

A, B = ACCOUNT_A, ACCOUNT_B
RA, RB = "us-east-1", "eu-west-1"
STACK = "emu-sweep"
SOURCE = "rdsbk." + STACK
DETAIL_TYPE = "RDS Snapshot Shared"
DB, CLUSTER = "orders", "aurora-main"
SHARE_FN, RECORDER_FN = "rdsbk-emu-sweep-share", "recorder"

RECORDER = r'''
import json

def handler(event, context):
    print("RECORDED " + json.dumps(event, sort_keys=True))
    return "recorded"
'''


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


LAMBDA_TRUST = doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole"})


def zip_of(files):
    """{name: text} -> zip bytes (fixed timestamps, sorted names)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            zf.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), files[name])
    return buf.getvalue()


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def render_policy(values):
    """templates/policies/share-role.json with each "${name}" replaced by values[name] (JSON)."""
    text = read(POLICY)
    for name, value in values.items():
        text = text.replace('"${%s}"' % name, json.dumps(value))
    if "${" in text:
        raise AssertionError("share-role.json has a placeholder this test does not know: "
                             + text[text.index("${"):][:40])
    return text


class SweepEmulatorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = Harness().start()

    @classmethod
    def tearDownClass(cls):
        cls.h.stop()

    def setUp(self):
        self.h.control("POST", "/_emu/reset")
        self.h.control("POST", "/_emu/lambda-config", {"retry_delays_s": [0.1, 0.1],
                                                       "settle_s": 0.1})
        self.h.control("POST", "/_emu/rds/config", {"delay_s": 0.2})

    def c(self, service, account, region):
        return self.h.client(service, account, region, timeout=60)

    def wait(self):
        status, body = self.h.control("POST", "/_emu/wait-idle", {"timeout_s": 60})
        self.assertEqual(status, 200, body)

    def logs(self, function):
        logs = self.h.control("GET", "/_emu/lambda-logs")[1]["logs"]
        return [x for x in logs if x["function"] == function]

    def recorded(self):
        events = []
        for rec in self.logs(RECORDER_FN):
            for line in rec["log"].splitlines():
                if line.startswith("RECORDED "):
                    events.append(json.loads(line[len("RECORDED "):]))
        return events

    # ------------------------------------------------------------------ the setup
    def shared_key(self):
        """Account-B's key in Region-B; its policy lets Account-A use it (as the pipeline's)."""
        use = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
               "kms:DescribeKey"]
        grants = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
        policy = doc(
            {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % B},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % A},
             "Action": use, "Resource": "*"},
            {"Sid": "Grants", "Effect": "Allow",
             "Principal": {"AWS": "arn:aws:iam::%s:root" % A}, "Action": grants,
             "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": True}}})
        return self.c("kms", B, RB).create_key(Policy=policy)["KeyMetadata"]["Arn"]

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
        iam = self.c("iam", A, "us-east-1")
        lam = self.c("lambda", A, RB)
        events = self.c("events", A, RB)
        bus = "arn:aws:events:%s:%s:event-bus/default" % (RB, A)
        policy = render_policy({
            "copy_arns": ["arn:aws:rds:%s:%s:snapshot:%s-*" % (RB, A, DB),
                          "arn:aws:rds:%s:%s:cluster-snapshot:%s-*" % (RB, A, CLUSTER)],
            "list_arns": ["arn:aws:rds:%s:%s:snapshot:*" % (RB, A),
                          "arn:aws:rds:%s:%s:cluster-snapshot:*" % (RB, A)],
            "own_bus_arn": bus,
            "log_group_arns": ["arn:aws:logs:%s:%s:log-group:/aws/lambda/%s:*"
                               % (RB, A, SHARE_FN)],
            "stack": STACK,
        })
        role = iam.create_role(RoleName="share", AssumeRolePolicyDocument=LAMBDA_TRUST)[
            "Role"]["Arn"]
        iam.put_role_policy(RoleName="share", PolicyName="share", PolicyDocument=policy)
        code = {name: read(os.path.join(LAMBDA_DIR, name))
                for name in ("share.py", "rdsbk_common.py")}
        lam.create_function(
            FunctionName=SHARE_FN, Runtime="python3.12", Role=role, Handler="share.handler",
            Timeout=60, Code={"ZipFile": zip_of(code)},
            Environment={"Variables": {"RDSBK_STACK": STACK, "RDSBK_TARGET_REGION": RB,
                                       "RDSBK_BACKUP_ACCOUNT": B, "RDSBK_EVENT_SOURCE": SOURCE,
                                       "RDSBK_EVENT_DETAIL_TYPE": DETAIL_TYPE}})
        # Records every "snapshot shared" event of this stack put on A's Region-B bus.
        rec_role = iam.create_role(RoleName="recorder", AssumeRolePolicyDocument=LAMBDA_TRUST)[
            "Role"]["Arn"]
        rec_fn = lam.create_function(
            FunctionName=RECORDER_FN, Runtime="python3.12", Role=rec_role,
            Handler="recorder.handler", Code={"ZipFile": zip_of({"recorder.py": RECORDER})})[
            "FunctionArn"]
        rule = events.put_rule(Name="shared", EventPattern=json.dumps(
            {"source": [SOURCE], "detail-type": [DETAIL_TYPE]}))["RuleArn"]
        lam.add_permission(FunctionName=RECORDER_FN, StatementId="events",
                           Action="lambda:InvokeFunction", Principal="events.amazonaws.com",
                           SourceArn=rule)
        out = events.put_targets(Rule="shared", Targets=[{"Id": "rec", "Arn": rec_fn}])
        self.assertEqual(out["FailedEntryCount"], 0, out)
        self.wait()   # functions Active

    def sweep(self):
        out = self.c("lambda", A, RB).invoke(FunctionName=SHARE_FN,
                                             Payload=json.dumps({"rdsbk": "sweep"}).encode())
        result = json.loads(out["Payload"].read())
        if "FunctionError" in out:
            self.fail("the sweep failed: %s\n%s" % (result.get("errorMessage"),
                                                     self.logs(SHARE_FN)[-1]["log"]))
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
        log = self.logs(SHARE_FN)[-1]["log"]
        lines = [json.loads(x) for x in log.splitlines() if x.startswith("{")]
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
