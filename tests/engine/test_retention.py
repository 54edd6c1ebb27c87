"""Retention over months, end to end: the pipeline deletes its own old copies, so that it stays
inside RDS's manual snapshot quotas for years; the emulator's clock lives through the months.

usage: /usr/bin/python3 tests/engine/test_retention.py PATH/TO/rdsbk-provision [unittest args]

Three databases in two sources (two instances of account A in eu-central-1, an Aurora cluster of
account C in us-east-1), the defaults of retention (backup_days 7, intermediate_days 1, keep_last
1), and 120 emulated days: each day an automated snapshot of each database, the pipeline's work,
then the clock a day on (the sweeps and the prune run on their schedules). The backup account's
quota is lowered to what retention needs plus the snapshots made by hand and those in flight, so a
pipeline that did not delete would fail its copies within days.
"""

import datetime
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import test_engine as E  # noqa: E402
from test_engine import A, B, C, RA, RB  # noqa: E402

RC = "us-east-1"
DAYS = 120
DAY = 86400
BACKUP_DAYS, INTERMEDIATE_DAYS = 7, 1  # the defaults
# The manual snapshots of each kind at each place: retention's, those in flight (the day's new
# copy arrives before the prune runs), and the two made by hand below.
B_INSTANCE_QUOTA = 2 * (BACKUP_DAYS + 1) + 2 + 2


def _stamp(identifier):
    """The creation time a pipeline name carries: <db>-YYYY-MM-DD-HH-MM[-<account>]."""
    parts = identifier.split("-")
    at = next(i for i, p in enumerate(parts) if len(p) == 4 and p.isdigit())
    fields = [int(p) for p in parts[at:at + 5]]
    return datetime.datetime(*fields, tzinfo=datetime.timezone.utc).timestamp()


class RetentionTest(E.EngineCase):
    def topology(self):
        sources = [{"account": A, "region": RA, "instances": ["orders-db", "billing-db"]},
                   {"account": C, "region": RC, "clusters": ["aurora-main"]}]
        text = E.topology(stack="keep", sources=sources)
        return text + "retention:\n  keep_last: 1\n"

    def rds(self, account):
        """One client per account (a new one per call would leave its connections open)."""
        if account not in self.clients:
            self.clients[account] = E.H.client("rds", account=account, region=RB)
        return self.clients[account]

    def manual(self, account, kind):
        rds = self.rds(account)
        if kind == "cluster":
            return {s["DBClusterSnapshotIdentifier"]: s for s in
                    rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]}
        return {s["DBSnapshotIdentifier"]: s for s in
                rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]}

    def hand_made(self, account, name, tags):
        """A manual snapshot in `account`/Region-B that is not the stack's: of an instance made for
        it, named like a pipeline copy, tagged `tags`."""
        status, _ = E.H.control("POST", "/_emu/rds/automated-snapshot",
                                {"account": account, "region": RB, "db_instance": "by-hand"})
        self.assertEqual(status, 200)
        rds = self.rds(account)
        rds.create_db_snapshot(DBSnapshotIdentifier=name, DBInstanceIdentifier="by-hand",
                               Tags=[{"Key": k, "Value": v} for k, v in tags.items()])

    def assert_log_groups(self, retention):
        for account in (A, C, B):
            logs = E.H.client("logs", account=account, region=RB)
            groups = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/rdsbk-keep-")
            names = {g["logGroupName"]: g.get("retentionInDays") for g in groups["logGroups"]}
            want = 1 if account == B else 2  # backup-copy; copy and share
            self.assertEqual(len(names), want, names)
            self.assertEqual(set(names.values()), {retention}, names)

    def test_four_months_inside_the_quotas(self):
        self.clients = {}
        self.write(self.topology().replace("functions:\n", "functions:\n  log_retention_days: 14\n"))
        status, _ = E.H.control("POST", "/_emu/rds/quotas",
                                {"account": B, "region": RB, "ManualSnapshots": B_INSTANCE_QUOTA})
        self.assertEqual(status, 200)
        # refused until the lowered quota is declared: 2 instances x 8 backup copies = 16
        self.write(self.topology().replace(
            "  profile: \"%s\"\nkey:" % B,
            "  profile: \"%s\"\n  manual_snapshot_quota: 15\nkey:" % B))
        proc = self.run_tool("plan", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("account %s in %s: retention would keep about 16 manual snapshots" % (B, RB),
                      proc.stderr)
        self.write(self.topology().replace(
            "  profile: \"%s\"\nkey:" % B,
            "  profile: \"%s\"\n  manual_snapshot_quota: %d\nkey:" % (B, B_INSTANCE_QUOTA))
            .replace("functions:\n", "functions:\n  log_retention_days: 14\n"))
        self.apply()
        self.assert_log_groups(14)
        self.hand_made(A, "orders-db-2026-01-01-00-00", {})
        self.hand_made(B, "orders-db-2026-01-01-00-00-%s" % A, {"rdsbk:stack": "other"})
        hand = {A: self.manual(A, "db"), B: self.manual(B, "db")}

        most = {}
        for day in range(DAYS):
            for account, region, key, db in ((A, RA, "db_instance", "orders-db"),
                                             (A, RA, "db_instance", "billing-db"),
                                             (C, RC, "db_cluster", "aurora-main")):
                status, _ = E.H.control("POST", "/_emu/rds/automated-snapshot",
                                        {"account": account, "region": region, key: db})
                self.assertEqual(status, 200)
            E.H.control("POST", "/_emu/wait-idle", {"timeout_s": 120})
            E.H.advance(DAY)
            now = E.H.now()
            places = {"A/db": self.manual(A, "db"), "C/cluster": self.manual(C, "cluster"),
                      "B/db": self.manual(B, "db"), "B/cluster": self.manual(B, "cluster")}
            for place, snaps in places.items():
                most[place] = max(most.get(place, 0), len(snaps))
            for db, place in (("orders-db", "B/db"), ("billing-db", "B/db"),
                              ("aurora-main", "B/cluster")):
                copies = [i for i in places[place] if i.startswith(db + "-") and i not in hand[B]]
                self.assertTrue(copies, "day %d: no backup copy of %s" % (day, db))
                age = now - max(_stamp(i) for i in copies)
                self.assertLessEqual(age, 26 * 3600, "day %d: %s's newest copy is %.1f h old"
                                     % (day, db, age / 3600))
            for account in (A, B):
                for name in hand[account]:
                    self.assertIn(name, places["%s/db" % ("A" if account == A else "B")],
                                  "day %d: %s in %s was deleted" % (day, name, account))

        sys.stderr.write("most manual snapshots seen a day after the snapshots, per place: %s\n"
                         % most)
        # what retention allows, plus the copy in flight, plus what was made by hand
        self.assertLessEqual(most["A/db"], 2 * (INTERMEDIATE_DAYS + 1 + 1) + 1, most)
        self.assertLessEqual(most["C/cluster"], INTERMEDIATE_DAYS + 1 + 1, most)
        self.assertLessEqual(most["B/db"], B_INSTANCE_QUOTA, most)
        self.assertLessEqual(most["B/cluster"], BACKUP_DAYS + 1 + 1, most)
        # sampled a day after the last snapshots: each database's copies of the last 7 days
        self.assertGreaterEqual(most["B/db"], 2 * BACKUP_DAYS + 1, "retention kept too few")
        _, logs = E.H.control("GET", "/_emu/lambda-logs")
        failed = [entry for entry in logs["logs"] if entry["status"] != "success"]
        self.assertEqual(failed, [], "failed invocations")
        self.run_tool("destroy", "--auto-approve", "--force-key-deletion")
        self.assertEqual(self.pipeline_inventory(), [])


if __name__ == "__main__":
    E.main(module=__name__)
