"""Reconciliation and alerts, end to end: events are an accelerator, the scheduled sweeps the
guarantee, and a hop that fails for good is reported.

usage: /usr/bin/python3 tests/engine/test_reconcile.py PATH/TO/rdsbk-provision [unittest args]

Against the emulator, in emulated time: snapshots whose creation event never came, and an
announcement the backup account never heard, still reach Account-B within two sweep periods
(30 minutes each); 30 databases snapshotted at once, with copies that take 10 minutes and RDS's
limit of 20 cross-Region copies in flight, all reach Account-B, none copied twice, and no failure
is reported (a copy refused for the limit is left to the copy sweep). A working policy removed
from a function's role, in a source account or in the backup account: the next snapshot does not
arrive, one message on the backup account's alert topic names the database and the hop; apply
repairs the role and the sweeps deliver the missed snapshot with no further action; `status`
shows the failure, then shows it resolved. A failure the sweeps meet again every half hour is
alerted once, and once more a day later; a database whose newest backup copy passes
alerts.max_age is alerted once.
"""

import json

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import test_engine as E  # noqa: E402
from test_engine import A, B, RA, RB  # noqa: E402

SWEEP_PERIOD = 30 * 60
HOUR = 3600


class PipelineCase(E.EngineCase):
    """Helpers: the emulator's snapshots, sweeps in emulated time, what ran and what failed."""

    def rds(self, account):
        return E.H.client("rds", account=account, region=RB)

    def backups(self):
        """The manual snapshots of both kinds in the backup account, name -> status."""
        rds = self.rds(B)
        out = {s["DBSnapshotIdentifier"]: s["Status"]
               for s in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]}
        out.update({s["DBClusterSnapshotIdentifier"]: s["Status"] for s in
                    rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]})
        return out

    def snapshot(self, key, db, emit_event=True):
        status, body = E.H.control("POST", "/_emu/rds/automated-snapshot",
                                   {"account": A, "region": RA, key: db, "emit_event": emit_event})
        self.assertEqual(status, 200, body)
        return body["snapshot_id"]

    def idle(self):
        status, _ = E.H.control("POST", "/_emu/wait-idle", {"timeout_s": 120})
        self.assertEqual(status, 200)

    def sweep_periods(self, n):
        for _ in range(n):
            E.H.advance(SWEEP_PERIOD)
            self.idle()

    def function_runs(self):
        _, logs = E.H.control("GET", "/_emu/lambda-logs")
        return logs["logs"]

    def assert_nothing_failed(self):
        self.assertEqual([r for r in self.function_runs() if r["status"] != "success"], [],
                         "failed invocations")
        _, failed = E.H.control("GET", "/_emu/failed-deliveries")
        self.assertEqual(failed["failed_deliveries"], [], "failed deliveries")

    def copies_made(self, account):
        """Successful CopyDBSnapshot / CopyDBClusterSnapshot calls in `account`."""
        return [r for r in self.requests() if r.get("account") == account and
                r.get("operation", "").startswith("CopyDB") and r.get("status") == 200]



class ReconcileTest(PipelineCase):
    def test_lost_events_are_made_up_for_within_two_sweep_periods(self):
        self.write(E.topology())  # orders-db and the cluster aurora-main in A/Region-A
        self.apply()
        instance = self.snapshot("db_instance", "orders-db", emit_event=False)
        cluster = self.snapshot("db_cluster", "aurora-main", emit_event=False)
        self.idle()
        self.assertEqual(self.backups(), {}, "no event, nothing copied yet")
        self.sweep_periods(2)
        want = {"%s-%s" % (instance[len("rds:"):], A), "%s-%s" % (cluster[len("rds:"):], A)}
        self.assertEqual({n: s for n, s in self.backups().items() if n in want},
                         {n: "available" for n in want})

        # an announcement the backup account never hears: its own sweep lists what is shared
        # with it
        events_a = E.H.client("events", account=A, region=RB)
        events_a.disable_rule(Name="rdsbk-t1-to-backup")
        later = self.snapshot("db_instance", "orders-db")
        self.idle()
        name = "%s-%s" % (later[len("rds:"):], A)
        self.assertNotIn(name, self.backups(), "the announcement was not forwarded")
        self.sweep_periods(2)
        self.assertEqual(self.backups().get(name), "available")
        self.assertEqual(len(self.copies_made(B)), 3, "each snapshot copied once")
        self.assert_nothing_failed()
        self.run_tool("destroy", "--auto-approve", "--force-key-deletion")

    def test_thirty_databases_wait_for_the_copy_limit(self):
        dbs = ["db-%02d" % i for i in range(30)]
        # listed as a pattern, as a source of this many databases is (listed one by one, 30 pass
        # the copy role's share of IAM's 10,240 characters: validate says so)
        text = E.topology(sources=[{"account": A, "region": RA, "instances": ["db-*"]}])
        # 30 databases x (7 + 1) backup copies: past the default quota of 100
        text = text.replace('  profile: "%s"\nkey:' % B,
                            '  profile: "%s"\n  manual_snapshot_quota: 300\nkey:' % B)
        self.write(text)
        self.apply()
        status, _ = E.H.control("POST", "/_emu/rds/quotas",
                                {"account": B, "region": RB, "ManualSnapshots": 300})
        self.assertEqual(status, 200)
        E.H.control("POST", "/_emu/rds/config",
                    {"copy_duration_s": 600, "max_cross_region_copies": 20})
        self.clear_log()
        for db in dbs:
            self.snapshot("db_instance", db)
        self.idle()
        deferred = [r for r in self.function_runs()
                    if isinstance(r.get("result"), dict) and r["result"]["result"] == "deferred"]
        self.assertEqual(len(deferred), 10, "refused for the limit, left to the sweep")
        self.assertEqual(len(self.copies_made(A)), 20, "the limit: 20 copies in flight")
        # the copies finish after 10 minutes, the copy sweep starts the other 10 at 30, they
        # and the backup copies finish before the second sweep period ends
        self.sweep_periods(2)
        backups = self.backups()
        self.assertEqual(sorted(n[:len("db-00")] for n in backups), dbs, backups)
        self.assertEqual(set(backups.values()), {"available"})
        self.assertEqual(len(self.copies_made(A)), 30, "none copied twice")
        self.assertEqual(len(self.copies_made(B)), 30, "none copied twice")
        self.assert_nothing_failed()
        self.run_tool("destroy", "--auto-approve", "--force-key-deletion")


class AlertTest(PipelineCase):
    def alerts(self):
        _, messages = E.H.control("GET", "/_emu/sns/messages")
        return messages

    def apply_with_alerts(self):
        text = E.topology(sources=[{"account": A, "region": RA, "instances": ["orders-db"]}])
        self.write(text + "alerts:\n  emails: [ops@example.com]\n")
        self.apply()

    def assert_alert(self, message, hop, account):
        self.assertEqual(message["topic_arn"], "arn:aws:sns:%s:%s:rdsbk-t1-alerts" % (RB, B))
        self.assertEqual(message["subject"], "rdsbk t1: %s failed for orders-db" % hop)
        for word in ("orders-db", hop, account, RB, "AccessDenied", "stack t1"):
            self.assertIn(word, message["message"])

    def repair_and_deliver(self, snapshot_id):
        got = self.changes(self.plan())
        self.assertEqual([c["action"] for c in got.values()], ["create"], got)
        self.apply()
        self.sweep_periods(2)
        name = "%s-%s" % (snapshot_id[len("rds:"):], A)
        self.assertEqual(self.backups().get(name), "available", "the sweeps deliver it")

    def test_a_failing_hop_in_a_source_account_alerts_the_backup_account(self):
        self.apply_with_alerts()
        sns_b = E.H.client("sns", account=B, region=RB)
        subscriptions = sns_b.list_subscriptions_by_topic(
            TopicArn="arn:aws:sns:%s:%s:rdsbk-t1-alerts" % (RB, B))["Subscriptions"]
        self.assertEqual([(s["Protocol"], s["Endpoint"]) for s in subscriptions],
                         [("email", "ops@example.com")])
        E.H.client("iam", account=A, region="us-east-1").delete_role_policy(
            RoleName="rdsbk-t1-copy", PolicyName="rdsbk")
        sid = self.snapshot("db_instance", "orders-db")
        self.idle()
        [message] = self.alerts()
        self.assert_alert(message, "copy", A)
        self.assertIn(sid, message["message"])
        self.repair_and_deliver(sid)
        self.assertEqual(len(self.alerts()), 1, "reported once")

    def status_failures(self):
        proc = self.run_tool("status", "--json")
        return json.loads(proc.stdout)["failures"]

    def test_backup_copy_role_without_its_policy(self):
        self.apply_with_alerts()
        E.H.client("iam", account=B, region="us-east-1").delete_role_policy(
            RoleName="rdsbk-t1-backup-copy", PolicyName="rdsbk")
        sid = self.snapshot("db_instance", "orders-db")
        self.idle()
        self.assertEqual(self.backups(), {}, "the snapshot does not arrive")
        [message] = self.alerts()
        self.assert_alert(message, "backup-copy", B)
        [failure] = [f for f in self.status_failures() if f["hop"] == "backup-copy"]
        self.assertEqual((failure["account"], failure["source_account"], failure["database"],
                          failure["resolved"]), (B, A, "orders-db", False))
        self.assertIn("AccessDenied", failure["error_code"])
        self.assertIn(sid[len("rds:"):], failure["source"])
        text = self.run_tool("status").stdout
        self.assertIn("backup-copy", text)
        self.assertIn("1 unresolved.", text)
        self.repair_and_deliver(sid)
        self.assertEqual(len(self.alerts()), 1, "reported once")
        self.assertTrue(all(f["resolved"] for f in self.status_failures()
                            if f["database"] == "orders-db"), self.status_failures())

    def test_a_failure_the_sweeps_meet_again_is_alerted_once_a_day(self):
        """CopyDBSnapshot denied in the backup account (the listing still works): the event path
        alerts, the sweeps meet the same failure every half hour and stay quiet, a day later one
        reminder; status counts the failures."""
        self.apply_with_alerts()
        iam_b = E.H.client("iam", account=B, region="us-east-1")
        iam_b.put_role_policy(RoleName="rdsbk-t1-backup-copy", PolicyName="deny-copy",
                              PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                                  {"Effect": "Deny", "Action": "rds:CopyDBSnapshot",
                                   "Resource": "*"}]}))
        sid = self.snapshot("db_instance", "orders-db")
        self.idle()
        self.assertEqual(len(self.alerts()), 1)
        self.sweep_periods(3)
        self.assertEqual(len(self.alerts()), 1, "the sweeps remember the alert")
        E.H.advance(24 * HOUR, max_fires_per_rule=1)
        self.idle()
        reminders = self.alerts()[1:]
        self.assertEqual(len(reminders), 1, "one reminder a day later")
        self.assert_alert(reminders[0], "backup-copy", B)
        self.sweep_periods(2)
        self.assertEqual(len(self.alerts()), 2)
        [failure] = [f for f in self.status_failures() if f["hop"] == "backup-copy"]
        self.assertGreaterEqual(failure["count"], 5, failure)
        self.assertFalse(failure["resolved"])
        iam_b.delete_role_policy(RoleName="rdsbk-t1-backup-copy", PolicyName="deny-copy")
        self.sweep_periods(1)
        self.assertEqual(self.backups().get("%s-%s" % (sid[len("rds:"):], A)), "available")
        self.assertEqual(len(self.alerts()), 2)

    def test_an_invocation_lambda_gives_up_on_is_reported_once(self):
        """Every AWS call throttled while the event is handled: Lambda's two retries fail too,
        the event goes to the copy function's dead-letter queue; the next sweep reports it once,
        empties the queue and makes the copy."""
        self.apply_with_alerts()
        E.H.control("POST", "/_emu/faults", {"fault_rate": 1.0, "kinds": ["throttle"]})
        try:
            sid = self.snapshot("db_instance", "orders-db")
            self.idle()
        finally:
            E.H.control("POST", "/_emu/faults", {"fault_rate": 0.0})
        failed = [r for r in self.function_runs()
                  if r["function"] == "rdsbk-t1-copy" and r["status"] != "success"]
        self.assertEqual(len(failed), 3, "the invocation and Lambda's two retries")
        self.assertEqual(self.alerts(), [], "a transient error is not reported by the event path")
        sqs_a = E.H.client("sqs", account=A, region=RB)
        url = sqs_a.get_queue_url(QueueName="rdsbk-t1-copy-failed")["QueueUrl"]

        def queued():
            return int(sqs_a.get_queue_attributes(QueueUrl=url, AttributeNames=[
                "ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])

        self.assertEqual(queued(), 1)
        self.sweep_periods(2)
        [message] = self.alerts()
        self.assertEqual(message["subject"], "rdsbk t1: copy failed for orders-db")
        for word in ("InvocationGivenUp", sid, "Throttling", A):
            self.assertIn(word, message["message"])
        self.assertEqual(queued(), 0)
        name = "%s-%s" % (sid[len("rds:"):], A)
        self.assertEqual(self.backups().get(name), "available", "the sweeps made up for it")
        self.sweep_periods(1)
        self.assertEqual(len(self.alerts()), 1)

    def test_a_database_without_a_new_backup_for_max_age_is_alerted_once(self):
        self.apply_with_alerts()
        self.snapshot("db_instance", "orders-db")
        self.idle()
        self.sweep_periods(1)
        self.assertEqual(self.alerts(), [])
        E.H.advance(25 * HOUR, max_fires_per_rule=1)
        self.idle()
        self.assertEqual(self.alerts(), [], "25 hours is within max_age")
        self.sweep_periods(3)
        [message] = self.alerts()
        self.assertEqual(message["subject"], "rdsbk t1: backup-age failed for orders-db")
        for word in ("orders-db", A, "BackupTooOld", "26 hours"):
            self.assertIn(word, message["message"])
        self.sweep_periods(2)
        self.assertEqual(len(self.alerts()), 1, "not again at every sweep")
        self.snapshot("db_instance", "orders-db")
        self.idle()
        self.sweep_periods(1)
        [failure] = [f for f in self.status_failures() if f["hop"] == "backup-age"]
        self.assertTrue(failure["resolved"], failure)
        self.assertEqual(len(self.alerts()), 1)


if __name__ == "__main__":
    E.main(module=__name__)
