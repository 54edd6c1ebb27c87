"""Organisation mode, end to end: the backup side admits an AWS Organizations organisation
instead of each source account.

usage: /usr/bin/python3 tests/engine/test_organization.py PATH/TO/rdsbk-provision [unittest args]

Against the emulator, whose organisation (POST /_emu/organizations) holds the source accounts A
and C and the backup account B, and not D: with backup.organization_id, snapshots of both
sources reach the backup account through bus, key and topic policies that name no source
account; a third source added later changes nothing in the backup account (the plan touches
only the new account's resources); an account outside the organisation cannot put events on the
stack's bus. 200 source accounts: the policies are the size they are for one, and validate
accepts the topology.

The export, deployed by hand as its user would: the backup template as a stack in B, the
source template of an OU source as a service-managed StackSet from the management account D
over the OU (Region-B first, then Region-A); a snapshot of A then reaches B through resources
only CloudFormation made, and C, moved into the OU afterwards, gets the pipeline from the
StackSet's auto-deployment and its snapshot reaches B too, with no run of the tool.

The same through the tool: apply with an OU source deploys its source side as that StackSet (the
code uploaded to the topology's code bucket), plan then says nothing changes, also after an
account joined the OU and got the pipeline by itself; a template change updates every instance;
destroy removes the instances, then the set, then the code, and leaves nothing.
"""

import glob
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import test_engine as E  # noqa: E402
import test_reconcile as R  # noqa: E402
from test_engine import A, B, C, D, RA, RB  # noqa: E402

ORG = "o-rdsbktest01"
OU = "ou-rdsb-sources1"
CODE_BUCKET = "rdsbk-t1-code"


def ou_topology(org=ORG):
    """One OU source (administered from D, the management account), code in CODE_BUCKET."""
    text = E.topology(sources=[{"account": A, "region": RA, "instances": ["orders-db"]}])
    start, end = text.index("sources:\n"), text.index("backup:\n")
    ou = ("sources:\n  - ou: %s\n    regions: [%s]\n    admin_account: \"%s\"\n"
          '    profile: "%s"\n    code_bucket: %s\n    instances: [orders-db]\n' % (
              OU, RA, D, D, CODE_BUCKET))
    text = text[:start] + ou + text[end:]
    return text.replace('  profile: "%s"\nkey:' % B,
                        '  profile: "%s"\n  organization_id: %s\nkey:' % (B, org))


def code_bucket(zips_dir=None, owner=B):
    """CODE_BUCKET in `owner`'s account and Region-B, readable by the organisation's accounts,
    with the zips under zips_dir (export's code/) at their keys."""
    s3 = E.H.client("s3", account=owner, region=RB)
    s3.create_bucket(Bucket=CODE_BUCKET, CreateBucketConfiguration={"LocationConstraint": RB})
    s3.put_bucket_policy(Bucket=CODE_BUCKET, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Sid": "OrganizationReadsCode", "Effect": "Allow", "Principal": {"AWS": "*"},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % CODE_BUCKET,
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}}]}))
    for path in glob.glob(os.path.join(zips_dir or "/nonexistent", "**", "*.zip"),
                          recursive=True):
        with open(path, "rb") as f:
            s3.put_object(Bucket=CODE_BUCKET, Key=os.path.relpath(path, zips_dir), Body=f.read())
    return s3


def org_topology(sources, org=ORG):
    text = E.topology(sources=sources)
    return text.replace('  profile: "%s"\nkey:' % B,
                        '  profile: "%s"\n  organization_id: %s\nkey:' % (B, org))


class OrgCase(R.PipelineCase):
    def setup_org(self, management, ous, others=()):
        status, body = E.H.control("POST", "/_emu/organizations", {
            "id": ORG, "management": management, "ous": ous, "accounts": list(others)})
        self.assertEqual(status, 200, body)

    def snapshot_in(self, account, db):
        status, body = E.H.control("POST", "/_emu/rds/automated-snapshot",
                                   {"account": account, "region": RA, "db_instance": db})
        self.assertEqual(status, 200, body)
        return body["snapshot_id"]


class OrganizationTest(OrgCase):
    def setUp(self):
        super().setUp()
        self.setup_org(B, {OU: [A, C]})

    def test_sources_of_the_organisation_reach_the_backup_account(self):
        one = [{"account": A, "region": RA, "instances": ["orders-db"]}]
        self.write(org_topology(one))
        self.apply()
        policy = json.loads(E.H.client("events", account=B, region=RB).describe_event_bus(
            Name="rdsbk-t1-bus")["Policy"])
        [statement] = policy["Statement"]
        self.assertEqual(statement["Principal"], {"AWS": "*"})
        self.assertEqual(statement["Condition"]["StringEquals"]["aws:PrincipalOrgID"], ORG)

        # a second account joins the sources: nothing changes in the backup account
        two = one + [{"account": C, "region": RA, "instances": ["orders-db"]}]
        self.write(org_topology(two))
        changes = self.changes(self.plan())
        self.assertTrue(changes, "the new account's side is created")
        self.assertEqual(sorted(a for a in changes if not a.startswith(
            ("account[%s]" % C, "source[%s/" % C))), [], "nothing else changes")
        self.apply()

        names = {account: self.snapshot_in(account, "orders-db") for account in (A, C)}
        self.idle()
        self.sweep_periods(1)
        backups = self.backups()
        for account, snap in names.items():
            self.assertEqual(backups.get("%s-%s" % (snap[len("rds:"):], account)), "available",
                             "%s's snapshot in the backup account: %s" % (account, backups))
        self.assert_nothing_failed()
        self.run_tool("destroy", "--auto-approve", "--force-key-deletion")
        self.assertEqual(self.pipeline_inventory(), [])

    def test_organization_true_reads_the_id_from_aws(self):
        text = org_topology([{"account": A, "region": RA, "instances": ["orders-db"]}])
        self.write(text.replace("  organization_id: %s\n" % ORG, "  organization: true\n"))
        self.assertIn("organisation: the backup account's", self.run_tool("validate").stdout)
        proc = self.run_tool("generate", "-o", os.path.join(self.dir, "gen"), check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("set backup.organization_id", proc.stderr)
        self.clear_log()
        plan = self.plan()
        [read] = [r for r in self.requests() if r.get("operation") == "DescribeOrganization"]
        self.assertEqual(read["account"], B)
        [bus] = [c for c in plan["changes"] if c["address"] == "backup.events_bus.bus"]
        self.assertIn('"aws:PrincipalOrgID": "%s"' % ORG, json.dumps(bus))
        # outside any organisation the plan stops, naming why
        E.H.control("POST", "/_emu/reset")
        proc = self.run_tool("plan", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("AWSOrganizationsNotInUseException", proc.stderr)

    def test_an_account_outside_the_organisation_is_refused_by_the_bus(self):
        self.write(org_topology([{"account": A, "region": RA, "instances": ["orders-db"]}]))
        self.apply()
        bus_arn = "arn:aws:events:%s:%s:event-bus/rdsbk-t1-bus" % (RB, B)
        entry = {"Source": "rdsbk.t1", "DetailType": "RDS Snapshot Shared", "Detail": "{}",
                 "EventBusName": bus_arn}
        inside = E.H.client("events", account=A, region=RB).put_events(Entries=[entry])
        outside = E.H.client("events", account=D, region=RB).put_events(Entries=[entry])
        self.assertEqual(inside["FailedEntryCount"], 0, inside)
        self.assertEqual(outside["FailedEntryCount"], 1, outside)
        self.assertEqual(outside["Entries"][0]["ErrorCode"], "AccessDeniedException")
        self.run_tool("destroy", "--auto-approve", "--force-key-deletion")

    def test_two_hundred_accounts_policies_the_size_of_one(self):
        accounts = ["%012d" % (500000000000 + i) for i in range(200)]
        sizes = {}
        for n in (1, 200):
            text = org_topology([{"account": a, "region": RA, "instances": ["orders-db"]}
                                 for a in accounts[:n]])
            # 200 databases x (7 + 1) backup copies: RDS's quota raised, as it must be
            text = text.replace("  organization_id:", "  manual_snapshot_quota: 2000\n"
                                "  organization_id:")
            self.write(text)
            self.run_tool("validate")
            out = os.path.join(self.dir, "gen-%d" % n)
            self.run_tool("generate", "-o", out)
            sizes[n] = {f: os.path.getsize(os.path.join(out, f)) for f in (
                "events/bus-policy.json", "kms/key-policy.json", "sns/alerts-topic-policy.json",
                "iam/backup.iam_role_policy.backup_copy.policy.json")}
        self.assertEqual(sizes[1], sizes[200])
        # an OU, however many accounts it has: the same again
        self.write(ou_topology().replace("  organization_id:", "  manual_snapshot_quota: 2000\n"
                                         "  organization_id:"))
        out = os.path.join(self.dir, "gen-ou")
        self.run_tool("generate", "-o", out)
        self.assertEqual({f: os.path.getsize(os.path.join(out, f)) for f in sizes[1]}, sizes[1])
        # without the organisation the bus policy outgrows EventBridge's quota: validate says so
        self.write(E.topology(sources=[{"account": a, "region": RA, "instances": ["orders-db"]}
                                       for a in accounts]))
        proc = self.run_tool("validate", check=False)
        self.assertEqual(proc.returncode, 1)


class ExportTest(OrgCase):
    def setUp(self):
        super().setUp()
        # D manages the organisation; C is a member outside the OU until it is moved in
        self.setup_org(D, {OU: [A]}, others=(B, C))

    def test_export_refuses_what_it_cannot_write(self):
        out = os.path.join(self.dir, "export")
        self.write(E.topology())  # per-account mode
        proc = self.run_tool("export", "-o", out, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("organisation mode (backup.organization_id)", proc.stderr)
        self.write(ou_topology())
        proc = self.run_tool("export", "--format", "terraform", "-o", out, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("'cloudformation' is the only format", proc.stderr)
        self.assertFalse(os.path.exists(out))

    def test_exported_templates_deploy_and_auto_deployment_covers_a_new_account(self):
        self.write(ou_topology())
        out = os.path.join(self.dir, "export")
        self.run_tool("export", "--format", "cloudformation", "-o", out,
                      "--code-bucket", CODE_BUCKET)
        self.assertEqual(sorted(os.listdir(out)),
                         ["backup.template.json", "code", "source-%s.template.json" % OU])
        again = os.path.join(self.dir, "export-again")
        self.run_tool("export", "-o", again, "--code-bucket", CODE_BUCKET)
        self.assertEqual(subprocess.run(["diff", "-r", out, again]).returncode, 0,
                         "the same topology, the same files")
        code_bucket(os.path.join(out, "code"))
        with open(os.path.join(out, "backup.template.json")) as f:
            backup_body = json.dumps(json.load(f), separators=(",", ":"))
        with open(os.path.join(out, "source-%s.template.json" % OU)) as f:
            source_body = json.dumps(json.load(f), separators=(",", ":"))

        cfn_b = E.H.client("cloudformation", account=B, region=RB)
        cfn_b.create_stack(StackName="rdsbk-t1-backup", TemplateBody=backup_body,
                           Capabilities=["CAPABILITY_NAMED_IAM"])
        self.idle()
        [stack] = cfn_b.describe_stacks(StackName="rdsbk-t1-backup")["Stacks"]
        self.assertEqual(stack["StackStatus"], "CREATE_COMPLETE", stack.get("StackStatusReason"))
        key_id = [r["PhysicalResourceId"] for r in cfn_b.describe_stack_resources(
            StackName="rdsbk-t1-backup")["StackResources"] if r["LogicalResourceId"] ==
            "SharedKey"][0]
        key_arn = E.H.client("kms", account=B, region=RB).describe_key(
            KeyId=key_id)["KeyMetadata"]["Arn"]

        cfn_d = E.H.client("cloudformation", account=D, region=RB)
        cfn_d.create_stack_set(
            StackSetName="rdsbk-t1-source", TemplateBody=source_body,
            Capabilities=["CAPABILITY_NAMED_IAM"], PermissionModel="SERVICE_MANAGED",
            AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False},
            Parameters=[{"ParameterKey": "SharedKeyArn", "ParameterValue": key_arn}])
        op = cfn_d.create_stack_instances(
            StackSetName="rdsbk-t1-source", DeploymentTargets={"OrganizationalUnitIds": [OU]},
            Regions=[RB, RA], OperationPreferences={"RegionOrder": [RB, RA]})
        self.idle()
        result = cfn_d.describe_stack_set_operation(
            StackSetName="rdsbk-t1-source", OperationId=op["OperationId"])["StackSetOperation"]
        self.assertEqual(result["Status"], "SUCCEEDED", result)

        first = self.snapshot_in(A, "orders-db")
        self.idle()
        self.sweep_periods(1)
        self.assertEqual(self.backups().get("%s-%s" % (first[len("rds:"):], A)), "available",
                         self.backups())

        # C joins the OU: the StackSet gives it the pipeline, nobody runs anything
        status, body = E.H.control("POST", "/_emu/organizations/move-account",
                                   {"account": C, "ou": OU})
        self.assertEqual(status, 200, body)
        self.idle()
        accounts = sorted(i["Account"] for i in cfn_d.list_stack_instances(
            StackSetName="rdsbk-t1-source")["Summaries"])
        self.assertEqual(accounts, [A, A, C, C])
        later = self.snapshot_in(C, "orders-db")
        self.idle()
        self.sweep_periods(1)
        self.assertEqual(self.backups().get("%s-%s" % (later[len("rds:"):], C)), "available",
                         self.backups())
        self.assert_nothing_failed()


class ApplyTest(OrgCase):
    def setUp(self):
        super().setUp()
        self.setup_org(D, {OU: [A]}, others=(B, C))
        self.s3 = code_bucket(owner=D)  # the administrator writes the code, the OU reads it

    def code_objects(self):
        return sorted(o["Key"] for o in
                      self.s3.list_objects_v2(Bucket=CODE_BUCKET).get("Contents", []))

    def instances(self):
        cfn = E.H.client("cloudformation", account=D, region=RB)
        return sorted((i["Account"], i["Region"], i["Status"]) for i in cfn.list_stack_instances(
            StackSetName="rdsbk-t1-%s" % OU)["Summaries"])

    def check_status(self, a_snapshot):
        """status: every instance, and through member_role the databases of A, where the role
        exists; C, which has none, is named with the reason."""
        iam = E.H.client("iam", account=A, region="us-east-1")
        iam.create_role(RoleName="rdsbk-reader", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % D},
                "Action": "sts:AssumeRole"}]}))
        iam.put_role_policy(RoleName="rdsbk-reader", PolicyName="read", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
                "rds:Describe*", "kms:DescribeKey"], "Resource": "*"}]}))
        self.write(ou_topology().replace("    instances: [orders-db]\n",
                                         "    instances: [orders-db]\n"
                                         "    member_role: rdsbk-reader\n"))
        report = json.loads(self.run_tool("status", "--json").stdout)
        instances = {(i["account"], i["region"]): i for i in report["stack_instances"]}
        self.assertEqual(sorted(instances), [(A, RA), (A, RB), (C, RA), (C, RB)])
        self.assertTrue(all(i["detailed_status"] == "SUCCEEDED" for i in instances.values()))
        self.assertIsNone(instances[(A, RB)]["read_error"])
        self.assertIn("rdsbk-reader", instances[(C, RB)]["read_error"])
        self.assertEqual(sorted({q["account"] for q in report["quotas"]}), sorted([A, B]),
                         "A's quotas through the role, the backup account's; not C's")
        [row] = report["databases"]
        self.assertEqual((row["source_account"], row["database"]), (A, "orders-db"))
        self.assertEqual(row["system_snapshot"]["id"], a_snapshot)
        self.assertEqual(row["state"], "ok", row)
        text = self.run_tool("status").stdout
        self.assertIn("The pipeline in the accounts of %s" % OU, text)
        iam.delete_role_policy(RoleName="rdsbk-reader", PolicyName="read")
        iam.delete_role(RoleName="rdsbk-reader")

    def test_apply_deploys_the_ou_as_a_stack_set_and_destroy_removes_it(self):
        self.write(ou_topology())
        plan = self.changes(self.plan())
        stack_set = "ou[%s].cfn_stack_set.source" % OU
        self.assertEqual(plan[stack_set]["action"], "create")
        self.apply()
        self.assertEqual(self.instances(), [(A, RA, "CURRENT"), (A, RB, "CURRENT")])
        self.assertEqual(len(self.code_objects()), 2, "the copy and share functions' zips")
        self.assert_no_changes()

        first = self.snapshot_in(A, "orders-db")
        self.idle()
        self.sweep_periods(1)
        self.assertEqual(self.backups().get("%s-%s" % (first[len("rds:"):], A)), "available")

        # C joins the OU: auto-deployment, no run of the tool; the plan stays empty
        status, body = E.H.control("POST", "/_emu/organizations/move-account",
                                   {"account": C, "ou": OU})
        self.assertEqual(status, 200, body)
        self.idle()
        self.assertEqual(self.instances(), [(A, RA, "CURRENT"), (A, RB, "CURRENT"),
                                            (C, RA, "CURRENT"), (C, RB, "CURRENT")])
        later = self.snapshot_in(C, "orders-db")
        self.idle()
        self.sweep_periods(1)
        self.assertEqual(self.backups().get("%s-%s" % (later[len("rds:"):], C)), "available")
        self.assert_no_changes()
        self.check_status(first)

        # a change of the functions reaches every account through the set (and the backup
        # account's function directly)
        self.write(ou_topology().replace("timeout_seconds: 60", "timeout_seconds: 90"))
        changes = self.changes(self.plan())
        self.assertEqual(sorted(changes), ["backup.lambda_function.backup_copy", stack_set])
        self.assertEqual(changes[stack_set]["action"], "update")
        text = self.run_tool("plan").stdout
        self.assertIn('~ "Timeout": 60 -> 90', text.replace("\u2192", "->"))
        self.assertIn("# instances: 4", text, "where the change will go")
        self.apply()
        for account in (A, C):
            config = E.H.client("lambda", account=account, region=RB).get_function_configuration(
                FunctionName="rdsbk-t1-copy")
            self.assertEqual(config["Timeout"], 90, account)
        self.assert_no_changes()
        self.assert_nothing_failed()

        self.run_tool("destroy", "--auto-approve", "--force-key-deletion")
        self.assertEqual(self.code_objects(), [])
        left = [r for r in self.pipeline_inventory() if r.get("type") != "s3:bucket"]
        self.assertEqual(left, [])


if __name__ == "__main__":
    E.main(module=__name__)
