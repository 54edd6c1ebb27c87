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
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import test_engine as E  # noqa: E402
import test_reconcile as R  # noqa: E402
from test_engine import A, B, C, D, RA, RB  # noqa: E402

ORG = "o-rdsbktest01"
OU = "ou-rdsb-sources1"


def org_topology(sources, org=ORG):
    text = E.topology(sources=sources)
    return text.replace('  profile: "%s"\nkey:' % B,
                        '  profile: "%s"\n  organization_id: %s\nkey:' % (B, org))


class OrganizationTest(R.PipelineCase):
    def setUp(self):
        super().setUp()
        status, body = E.H.control("POST", "/_emu/organizations", {
            "id": ORG, "management": B, "ous": {OU: [A, C]}})
        self.assertEqual(status, 200, body)

    def snapshot_in(self, account, db):
        status, body = E.H.control("POST", "/_emu/rds/automated-snapshot",
                                   {"account": account, "region": RA, "db_instance": db})
        self.assertEqual(status, 200, body)
        return body["snapshot_id"]

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
        # without the organisation the bus policy outgrows EventBridge's quota: validate says so
        self.write(E.topology(sources=[{"account": a, "region": RA, "instances": ["orders-db"]}
                                       for a in accounts]))
        proc = self.run_tool("validate", check=False)
        self.assertEqual(proc.returncode, 1)


if __name__ == "__main__":
    E.main(module=__name__)
