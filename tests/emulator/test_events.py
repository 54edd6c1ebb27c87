"""EventBridge in the emulator, through boto3: rules, targets, bus policies, PutEvents,
TestEventPattern, tags and the delivery engine (cross-Region / cross-account forwarding)."""

import datetime
import io
import json
import os
import sys
import unittest
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ACCOUNT_A, ACCOUNT_B, EmulatorCase  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

RA, RB = "us-east-1", "eu-west-1"
BUS_A_RB = "arn:aws:events:%s:%s:event-bus/default" % (RB, ACCOUNT_A)
BUS_B_RB = "arn:aws:events:%s:%s:event-bus/default" % (RB, ACCOUNT_B)
EVENTS_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})
CUSTOM_PATTERN = json.dumps({"source": ["custom.test"], "detail-type": ["Ping"]})


def code_of(cm):
    return cm.exception.response["Error"]["Code"]


class EventsTest(EmulatorCase):
    def setUp(self):
        super().setUp()
        self.ev = self.h.client("events", ACCOUNT_A, RA)
        self.iam = self.h.client("iam", ACCOUNT_A, "us-east-1")

    def wait(self):
        status, body = self.h.control("POST", "/_emu/wait-idle", {"timeout_s": 20})
        self.assertEqual(status, 200, body)

    def failed(self):
        return self.h.control("GET", "/_emu/failed-deliveries")[1]["failed_deliveries"]

    def make_role(self, name, trust=EVENTS_TRUST, policy=None, account=ACCOUNT_A):
        iam = self.h.client("iam", account, "us-east-1")
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        if policy is not None:
            iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
        return arn

    # ------------------------------------------------------------------ rules
    def test_rule_lifecycle(self):
        arn = self.ev.put_rule(Name="r1", EventPattern=CUSTOM_PATTERN, Description="d",
                               Tags=[{"Key": "k", "Value": "v"}])["RuleArn"]
        self.assertEqual(arn, "arn:aws:events:%s:%s:rule/r1" % (RA, ACCOUNT_A))
        d = self.ev.describe_rule(Name="r1")
        self.assertEqual(d["State"], "ENABLED")
        self.assertEqual(d["EventBusName"], "default")
        self.assertEqual(json.loads(d["EventPattern"]), json.loads(CUSTOM_PATTERN))
        self.assertEqual(self.ev.list_tags_for_resource(ResourceARN=arn)["Tags"],
                         [{"Key": "k", "Value": "v"}])
        # update keeps the rule, changes state
        self.ev.put_rule(Name="r1", EventPattern=CUSTOM_PATTERN, State="DISABLED")
        self.assertEqual(self.ev.describe_rule(Name="r1")["State"], "DISABLED")
        self.ev.delete_rule(Name="r1")
        with self.assertRaises(ClientError) as cm:
            self.ev.describe_rule(Name="r1")
        self.assertEqual(code_of(cm), "ResourceNotFoundException")
        self.assertIn("Rule r1 does not exist", str(cm.exception))

    def test_rules_are_per_region_and_account(self):
        self.ev.put_rule(Name="only-here", EventPattern=CUSTOM_PATTERN)
        other_region = self.h.client("events", ACCOUNT_A, RB)
        other_account = self.h.client("events", ACCOUNT_B, RA)
        self.assertEqual(other_region.list_rules()["Rules"], [])
        self.assertEqual(other_account.list_rules()["Rules"], [])
        self.assertEqual(len(self.ev.list_rules()["Rules"]), 1)

    def test_invalid_patterns_refused(self):
        for pat, reason in ((json.dumps({"source": "aws.rds"}), "must be an object or an array"),
                            (json.dumps({"source": [{"regex": "x"}]}), "Unrecognized match type"),
                            ("{not json", "Event pattern is not valid")):
            with self.subTest(pat=pat):
                with self.assertRaises(ClientError) as cm:
                    self.ev.put_rule(Name="bad", EventPattern=pat)
                self.assertEqual(code_of(cm), "InvalidEventPatternException")
                self.assertIn(reason, str(cm.exception))
        with self.assertRaises(ClientError) as cm:
            self.ev.put_rule(Name="nothing")
        self.assertEqual(code_of(cm), "ValidationException")

    def test_list_rules_prefix_and_paging(self):
        for i in range(7):
            self.ev.put_rule(Name="app-%d" % i, EventPattern=CUSTOM_PATTERN)
        self.ev.put_rule(Name="other", EventPattern=CUSTOM_PATTERN)
        page = self.ev.list_rules(NamePrefix="app-", Limit=3)
        self.assertEqual([r["Name"] for r in page["Rules"]], ["app-0", "app-1", "app-2"])
        names = [r["Name"] for r in page["Rules"]]
        while "NextToken" in page:
            page = self.ev.list_rules(NamePrefix="app-", Limit=3, NextToken=page["NextToken"])
            names += [r["Name"] for r in page["Rules"]]
        self.assertEqual(names, ["app-%d" % i for i in range(7)])
        paginated = [r["Name"] for p in self.ev.get_paginator("list_rules").paginate()
                     for r in p["Rules"]]
        self.assertEqual(len(paginated), 8)

    def test_delete_rule_with_targets_refused(self):
        self.ev.put_rule(Name="r", EventPattern=CUSTOM_PATTERN)
        fn = "arn:aws:lambda:%s:%s:function:f" % (RA, ACCOUNT_A)
        out = self.ev.put_targets(Rule="r", Targets=[{"Id": "t1", "Arn": fn}])
        self.assertEqual(out["FailedEntryCount"], 0)
        with self.assertRaises(ClientError) as cm:
            self.ev.delete_rule(Name="r")
        self.assertEqual(code_of(cm), "ValidationException")
        self.assertIn("Rule can't be deleted since it has targets.", str(cm.exception))
        self.assertEqual(self.ev.list_targets_by_rule(Rule="r")["Targets"],
                         [{"Id": "t1", "Arn": fn}])
        self.ev.remove_targets(Rule="r", Ids=["t1"])
        self.assertEqual(self.ev.list_targets_by_rule(Rule="r")["Targets"], [])
        self.ev.delete_rule(Name="r")

    # ---------------------------------------------------------------- targets
    def test_targets_need_rule(self):
        with self.assertRaises(ClientError) as cm:
            self.ev.put_targets(Rule="missing", Targets=[{"Id": "t", "Arn": BUS_A_RB}])
        self.assertEqual(code_of(cm), "ResourceNotFoundException")

    def test_cross_region_bus_target_requires_role(self):
        self.ev.put_rule(Name="fwd", EventPattern=CUSTOM_PATTERN)
        with self.assertRaises(ClientError) as cm:
            self.ev.put_targets(Rule="fwd", Targets=[{"Id": "bus", "Arn": BUS_A_RB}])
        self.assertEqual(code_of(cm), "ValidationException")
        self.assertIn("RoleArn", str(cm.exception))
        role = self.make_role("fwd-role")
        out = self.ev.put_targets(Rule="fwd", Targets=[{"Id": "bus", "Arn": BUS_A_RB,
                                                        "RoleArn": role}])
        self.assertEqual(out, {"FailedEntryCount": 0, "FailedEntries": [],
                               "ResponseMetadata": out["ResponseMetadata"]})
        self.assertEqual(self.ev.list_targets_by_rule(Rule="fwd")["Targets"][0]["RoleArn"], role)

    def test_unsupported_target_reported_in_failed_entries(self):
        self.ev.put_rule(Name="r", EventPattern=CUSTOM_PATTERN)
        out = self.ev.put_targets(Rule="r", Targets=[
            {"Id": "ok", "Arn": "arn:aws:lambda:%s:%s:function:f" % (RA, ACCOUNT_A)},
            {"Id": "sqs", "Arn": "arn:aws:sqs:%s:%s:q" % (RA, ACCOUNT_A)}])
        self.assertEqual(out["FailedEntryCount"], 1)
        self.assertEqual(out["FailedEntries"][0]["TargetId"], "sqs")
        self.assertEqual([t["Id"] for t in self.ev.list_targets_by_rule(Rule="r")["Targets"]],
                         ["ok"])

    def test_pass_role_needed_for_role_targets(self):
        events_role = self.make_role("fwd-role")
        caller_role = self.make_role("deployer", trust=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
                "AWS": "arn:aws:iam::%s:root" % ACCOUNT_A}, "Action": "sts:AssumeRole"}]}),
            policy={"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                                                            "Action": "events:*",
                                                            "Resource": "*"}]})
        creds = self.h.emu.credentials_for_role(ACCOUNT_A, caller_role, "t")
        ev = self.h.client("events", ACCOUNT_A, RA, credentials=creds)
        ev.put_rule(Name="fwd", EventPattern=CUSTOM_PATTERN)
        with self.assertRaises(ClientError) as cm:
            ev.put_targets(Rule="fwd", Targets=[{"Id": "bus", "Arn": BUS_A_RB,
                                                 "RoleArn": events_role}])
        self.assertEqual(code_of(cm), "AccessDeniedException")
        self.assertIn("iam:PassRole", str(cm.exception))
        # and an identity policy without events:PutRule is refused too
        self.iam.put_role_policy(RoleName="deployer", PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "events:DescribeRule", "Resource": "*"}]}))
        with self.assertRaises(ClientError) as cm:
            ev.put_rule(Name="fwd2", EventPattern=CUSTOM_PATTERN)
        self.assertEqual(code_of(cm), "AccessDeniedException")

    # ------------------------------------------------------------- bus policy
    def test_bus_policy_forms(self):
        evb = self.h.client("events", ACCOUNT_B, RB)
        d = evb.describe_event_bus()
        self.assertEqual(d["Arn"], BUS_B_RB)
        self.assertNotIn("Policy", d)
        evb.put_permission(Action="events:PutEvents", Principal=ACCOUNT_A, StatementId="allow-a")
        pol = json.loads(evb.describe_event_bus(Name="default")["Policy"])
        self.assertEqual(pol["Statement"], [{
            "Sid": "allow-a", "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT_A},
            "Action": "events:PutEvents", "Resource": BUS_B_RB}])
        inv = self.h.control("GET", "/_emu/inventory")[1]["resources"]
        self.assertTrue(any(r["type"] == "events:bus-policy" and r["account"] == ACCOUNT_B
                            for r in inv))
        evb.remove_permission(StatementId="allow-a")
        self.assertNotIn("Policy", evb.describe_event_bus())
        with self.assertRaises(ClientError) as cm:
            evb.remove_permission(StatementId="allow-a")
        self.assertEqual(code_of(cm), "ResourceNotFoundException")
        policy = {"Version": "2012-10-17", "Statement": [{
            "Sid": "whole", "Effect": "Allow", "Principal": {"AWS": ACCOUNT_A},
            "Action": "events:PutEvents", "Resource": BUS_B_RB}]}
        evb.put_permission(Policy=json.dumps(policy))
        self.assertEqual(json.loads(evb.describe_event_bus()["Policy"]), policy)
        evb.remove_permission(RemoveAllPermissions=True)
        self.assertNotIn("Policy", evb.describe_event_bus())
        inv = self.h.control("GET", "/_emu/inventory")[1]["resources"]
        self.assertFalse(any(r["type"] == "events:bus-policy" for r in inv))

    def test_bus_policy_size_quota(self):
        """A policy over 10,240 characters (the default quota) is refused and left as it was:
        50 statements of 12-digit accounts fit, 60 do not."""
        evb = self.h.client("events", ACCOUNT_B, RB)
        with self.assertRaises(ClientError) as cm:
            for i in range(60):
                evb.put_permission(Action="events:PutEvents", Principal="4%011d" % i,
                                   StatementId="rdsbk-bench-4%011d" % i)
        self.assertEqual(code_of(cm), "PolicyLengthExceededException")
        pol = evb.describe_event_bus()["Policy"]
        self.assertLessEqual(len(pol), 10240)
        self.assertGreater(len(pol), 10240 - 220)
        self.assertGreaterEqual(len(json.loads(pol)["Statement"]), 50)
        evb.remove_permission(RemoveAllPermissions=True)

    # ----------------------------------------------------------------- events
    def test_put_events_entries(self):
        out = self.ev.put_events(Entries=[
            {"Source": "custom.test", "DetailType": "Ping", "Detail": "{}"},
            {"Source": "custom.test", "DetailType": "Ping", "Detail": "[1"},
            {"Source": "aws.rds", "DetailType": "Ping", "Detail": "{}"},
            {"Source": "custom.test", "DetailType": "Ping"}])
        self.assertEqual(out["FailedEntryCount"], 3)
        self.assertIn("EventId", out["Entries"][0])
        self.assertEqual(out["Entries"][1]["ErrorCode"], "MalformedDetail")
        self.assertEqual(out["Entries"][2]["ErrorCode"], "NotAuthorizedForSourceException")
        self.assertEqual(out["Entries"][3]["ErrorCode"], "InvalidArgument")

    def test_put_events_to_another_accounts_bus(self):
        sink = self._sink(ACCOUNT_B, RA)
        bus_b = "arn:aws:events:%s:%s:event-bus/default" % (RA, ACCOUNT_B)
        entry = {"Source": "custom.test", "DetailType": "Ping", "Detail": "{}",
                 "EventBusName": bus_b}
        out = self.ev.put_events(Entries=[entry])
        self.assertEqual(out["FailedEntryCount"], 1)
        self.assertEqual(out["Entries"][0]["ErrorCode"], "AccessDeniedException")
        evb = self.h.client("events", ACCOUNT_B, RA)
        evb.put_permission(Action="events:PutEvents", Principal=ACCOUNT_A, StatementId="a")
        self.assertEqual(len(evb.list_event_buses()["EventBuses"][0]["Policy"]) > 0, True)
        out = self.ev.put_events(Entries=[entry])
        self.assertEqual(out["FailedEntryCount"], 0)
        self.wait()
        f = self.failed()
        self.assertEqual([x["rule_arn"] for x in f], [sink])

    def test_put_events_needs_identity_permission(self):
        role = self.make_role("sender", trust=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
                "Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
            policy={"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "events:PutEvents",
                "Resource": "arn:aws:events:%s:%s:event-bus/default" % (RB, ACCOUNT_A)}]})
        creds = self.h.emu.credentials_for_role(ACCOUNT_A, role, "s")
        entry = {"Source": "custom.test", "DetailType": "Ping", "Detail": "{}"}
        with self.assertRaises(ClientError) as cm:
            self.h.client("events", ACCOUNT_A, RA, credentials=creds).put_events(
                Entries=[entry])
        self.assertEqual(code_of(cm), "AccessDeniedException")
        self.assertIn("events:PutEvents", str(cm.exception))
        out = self.h.client("events", ACCOUNT_A, RB, credentials=creds).put_events(
            Entries=[entry])
        self.assertEqual(out["FailedEntryCount"], 0)

    def test_test_event_pattern(self):
        event = {"id": "1", "account": ACCOUNT_A, "source": "custom.test", "time":
                 "2026-01-01T00:00:00Z", "region": RA, "resources": [], "detail-type": "Ping",
                 "detail": {"n": 3}}
        self.assertTrue(self.ev.test_event_pattern(EventPattern=CUSTOM_PATTERN,
                                                   Event=json.dumps(event))["Result"])
        self.assertFalse(self.ev.test_event_pattern(
            EventPattern=json.dumps({"detail": {"n": [{"numeric": [">", 5]}]}}),
            Event=json.dumps(event))["Result"])
        with self.assertRaises(ClientError) as cm:
            self.ev.test_event_pattern(EventPattern='{"a": 1}', Event=json.dumps(event))
        self.assertEqual(code_of(cm), "InvalidEventPatternException")
        reqs = self.h.control("GET", "/_emu/requests")[1]["requests"]
        tep = [r for r in reqs if r["operation"] == "TestEventPattern"]
        self.assertTrue(tep and not any(r["mutating"] for r in tep))

    # --------------------------------------------------------------- delivery
    def _sink(self, account, region, name="sink"):
        """A rule whose target is a Lambda function that does not exist: a delivery to it is
        recorded as failed with the rule's ARN, which proves the event reached that bus."""
        ev = self.h.client("events", account, region)
        arn = ev.put_rule(Name=name, EventPattern=CUSTOM_PATTERN)["RuleArn"]
        ev.put_targets(Rule=name, Targets=[{"Id": "fn", "Arn": "arn:aws:lambda:%s:%s:function:"
                                            "nowhere" % (region, account)}])
        return arn

    def _ping(self):
        out = self.ev.put_events(Entries=[{"Source": "custom.test", "DetailType": "Ping",
                                           "Detail": json.dumps({"n": 1})}])
        self.assertEqual(out["FailedEntryCount"], 0)
        return out["Entries"][0]["EventId"]

    def test_cross_region_forwarding_with_role(self):
        sink = self._sink(ACCOUNT_A, RB)
        role = self.make_role("fwd", policy={"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "events:PutEvents", "Resource": BUS_A_RB}]})
        rule = self.ev.put_rule(Name="fwd", EventPattern=CUSTOM_PATTERN)["RuleArn"]
        self.ev.put_targets(Rule="fwd", Targets=[{"Id": "b", "Arn": BUS_A_RB, "RoleArn": role}])
        eid = self._ping()
        self.wait()
        f = self.failed()
        self.assertEqual([(x["rule_arn"], x["event_id"]) for x in f], [(sink, eid)], f)
        self.assertIn("ResourceNotFoundException", f[0]["reason"])
        self.assertNotEqual(rule, sink)

    def test_cross_region_forwarding_refused_without_permission(self):
        self._sink(ACCOUNT_A, RB)
        role = self.make_role("fwd", policy={"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "events:PutEvents",
             "Resource": "arn:aws:events:%s:%s:event-bus/default" % (RA, ACCOUNT_A)}]})
        rule = self.ev.put_rule(Name="fwd", EventPattern=CUSTOM_PATTERN)["RuleArn"]
        self.ev.put_targets(Rule="fwd", Targets=[{"Id": "b", "Arn": BUS_A_RB, "RoleArn": role}])
        self._ping()
        self.wait()
        f = self.failed()
        self.assertEqual(len(f), 1, f)
        self.assertEqual(f[0]["rule_arn"], rule)
        self.assertEqual(f[0]["target_arn"], BUS_A_RB)
        self.assertIn("not authorized to perform: events:PutEvents", f[0]["reason"])

    def test_forwarding_role_must_trust_events(self):
        self._sink(ACCOUNT_A, RB)
        role = self.make_role("fwd", trust=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}), policy={"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "events:PutEvents", "Resource": "*"}]})
        self.ev.put_rule(Name="fwd", EventPattern=CUSTOM_PATTERN)
        self.ev.put_targets(Rule="fwd", Targets=[{"Id": "b", "Arn": BUS_A_RB, "RoleArn": role}])
        self._ping()
        self.wait()
        f = self.failed()
        self.assertEqual(len(f), 1, f)
        self.assertIn("events.amazonaws.com", f[0]["reason"])

    def test_cross_account_forwarding_needs_bus_policy(self):
        evb = self.h.client("events", ACCOUNT_B, RA)
        bus_b = "arn:aws:events:%s:%s:event-bus/default" % (RA, ACCOUNT_B)
        sink = self._sink(ACCOUNT_B, RA)
        role = self.make_role("fwd", policy={"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "events:PutEvents", "Resource": bus_b}]})
        rule = self.ev.put_rule(Name="fwd", EventPattern=CUSTOM_PATTERN)["RuleArn"]
        self.ev.put_targets(Rule="fwd", Targets=[{"Id": "b", "Arn": bus_b, "RoleArn": role}])
        self._ping()
        self.wait()
        f = self.failed()
        self.assertEqual([x["rule_arn"] for x in f], [rule], f)
        self.assertIn("does not allow account %s" % ACCOUNT_A, f[0]["reason"])
        # a statement for another account does not help; one for A (with an org condition,
        # which the emulator does not evaluate) does
        evb.put_permission(Action="events:PutEvents", Principal="333333333333",
                           StatementId="other")
        self._ping()
        self.wait()
        self.assertEqual(len(self.failed()), 2)
        evb.put_permission(Action="events:PutEvents", Principal=ACCOUNT_A, StatementId="a",
                           Condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID",
                                      "Value": "o-123"})
        self._ping()
        self.wait()
        f = self.failed()
        self.assertEqual(len(f), 3)
        self.assertEqual(f[-1]["rule_arn"], sink)   # arrived in B, matched B's rule

    def test_disabled_rule_does_not_deliver(self):
        self._sink(ACCOUNT_A, RA, name="sink")
        self.ev.disable_rule(Name="sink")
        self._ping()
        self.wait()
        self.assertEqual(self.failed(), [])
        self.ev.enable_rule(Name="sink")
        self._ping()
        self.wait()
        self.assertEqual(len(self.failed()), 1)

    def test_inventory_lists_rules_with_targets(self):
        sink = self._sink(ACCOUNT_A, RA)
        inv = self.h.control("GET", "/_emu/inventory")[1]["resources"]
        rules = [r for r in inv if r["type"] == "events:rule"]
        self.assertEqual(len(rules), 1)
        self.assertEqual(rules[0]["id"], sink)
        self.assertEqual(rules[0]["targets"], ["arn:aws:lambda:%s:%s:function:nowhere"
                                               % (RA, ACCOUNT_A)])

    def test_tags(self):
        arn = self.ev.put_rule(Name="t", EventPattern=CUSTOM_PATTERN)["RuleArn"]
        self.ev.tag_resource(ResourceARN=arn, Tags=[{"Key": "a", "Value": "1"},
                                                    {"Key": "b", "Value": "2"}])
        self.ev.untag_resource(ResourceARN=arn, TagKeys=["a"])
        self.assertEqual(self.ev.list_tags_for_resource(ResourceARN=arn)["Tags"],
                         [{"Key": "b", "Value": "2"}])
        with self.assertRaises(ClientError) as cm:
            self.ev.list_tags_for_resource(ResourceARN=arn + "x")
        self.assertEqual(code_of(cm), "ResourceNotFoundException")

    # -------------------------------------------------------------- schedules
    def clock(self, advance_s, **extra):
        body = {"advance_s": advance_s}
        body.update(extra)
        status, out = self.h.control("POST", "/_emu/clock", body)
        self.assertEqual(status, 200, out)
        return out

    def spy_lambda(self):
        """Replace Lambda's async invoke (the target path's last step) by a recorder."""
        got = []
        lam = self.h.emu.services["lambda"]

        def record(account, region, arn, payload, source_arn=None, principal=None):
            got.append((arn, source_arn, payload))
        lam.invoke_async = record
        self.addCleanup(delattr, lam, "invoke_async")
        return got

    def schedule(self, name, expression, **target):
        arn = self.ev.put_rule(Name=name, ScheduleExpression=expression)["RuleArn"]
        t = {"Id": "t", "Arn": "arn:aws:lambda:%s:%s:function:%s" % (RA, ACCOUNT_A, name)}
        t.update(target)
        self.ev.put_targets(Rule=name, Targets=[t])
        return arn

    def test_schedule_expressions_validated(self):
        for expr in ("rate(1 minutes)", "rate(5 minute)", "rate(0 hours)", "rate(2 weeks)",
                     "cron(0 12 * * * *)", "cron(0 12 ? * ? *)", "cron(0 12 * *)",
                     "cron(60 12 * * ? *)", "cron(0 12 L * ? *)", "cron(0 12 ? * 6#3 *)",
                     "cron(0 12 15W * ? *)", "cron(0 12 ? * FRI-MON *)", "at(2024-01-01T00:00:00)"):
            with self.subTest(expr=expr):
                with self.assertRaises(ClientError) as cm:
                    self.ev.put_rule(Name="s", ScheduleExpression=expr)
                self.assertEqual(code_of(cm), "ValidationException")
                self.assertIn("Parameter ScheduleExpression is not valid.", str(cm.exception))
        for expr in ("rate(1 minute)", "rate(30 minutes)", "rate(1 hour)", "rate(7 days)",
                     "cron(0/15 8-17 ? * MON-FRI *)", "cron(30 2 * * ? *)",
                     "cron(0 0 1,15 jan-jun,DEC ? 2020-2199/2)", "cron(5 4 ? * 1,7 *)"):
            with self.subTest(expr=expr):
                self.ev.put_rule(Name="s", ScheduleExpression=expr)
                self.assertEqual(self.ev.describe_rule(Name="s")["ScheduleExpression"], expr)
        self.assertEqual(self.ev.list_rules()["Rules"][0]["Name"], "s")

    def test_rate_schedule_fires_every_period_with_its_time(self):
        got = self.spy_lambda()
        arn = self.schedule("every30", "rate(30 minutes)")
        created = self.h.emu.services["events"].rules[(ACCOUNT_A, RA, "every30")]["created"]
        out = self.clock(7200 + 60, max_fires_per_rule=0)
        self.assertEqual((out["fired"], out["coalesced"]), (4, 0))
        self.assertEqual(len(got), 4)
        for k, (target, source_arn, event) in enumerate(got, 1):
            self.assertEqual((target, source_arn), ("arn:aws:lambda:%s:%s:function:every30"
                                                    % (RA, ACCOUNT_A), arn))
            self.assertEqual({x: event[x] for x in ("source", "detail-type", "resources", "detail",
                                                    "account", "region", "version")},
                             {"source": "aws.events", "detail-type": "Scheduled Event",
                              "resources": [arn], "detail": {}, "account": ACCOUNT_A,
                              "region": RA, "version": "0"})
            boundary = datetime.datetime.fromtimestamp(created + 1800 * k, datetime.timezone.utc)
            self.assertEqual(event["time"], boundary.strftime("%Y-%m-%dT%H:%M:%SZ"))
        self.assertEqual(len({e["id"] for _t, _s, e in got}), 4)

    def test_schedule_coalesces_to_the_last_period_by_default(self):
        got = self.spy_lambda()
        self.schedule("every30", "rate(30 minutes)")
        self.schedule("sweep", "rate(1 hour)", Input=json.dumps({"rdsbk": "sweep"}))
        created = self.h.emu.services["events"].rules[(ACCOUNT_A, RA, "every30")]["created"]
        out = self.clock(86400)
        self.assertEqual((out["fired"], out["coalesced"]), (2, 47 + 23))
        by_rule = {arn.rsplit(":", 1)[1]: event for arn, _s, event in got}
        last = datetime.datetime.fromtimestamp(created + 48 * 1800, datetime.timezone.utc)
        self.assertEqual(by_rule["every30"]["time"], last.strftime("%Y-%m-%dT%H:%M:%SZ"))
        self.assertEqual(by_rule["sweep"], {"rdsbk": "sweep"})   # Input replaces the event
        # an advance shorter than a period crosses no boundary
        self.assertEqual(self.clock(60)["fired"], 0)

    def test_cron_schedule_and_disabled_rules(self):
        got = self.spy_lambda()
        self.schedule("nightly", "cron(0 3 * * ? *)")
        self.schedule("weekdays", "cron(15 12 ? * MON-FRI *)")
        self.ev.disable_rule(Name="weekdays")
        start = self.h.emu.now()
        self.clock(7 * 86400, max_fires_per_rule=0)
        times = [e["time"] for _a, _s, e in got]
        self.assertEqual(len(times), 7)
        self.assertTrue(all(t.endswith("T03:00:00Z") for t in times), times)
        self.assertEqual(times, sorted(times))
        day = datetime.datetime.fromtimestamp(start, datetime.timezone.utc)
        first = day.replace(hour=3, minute=0, second=0, microsecond=0)
        if first.timestamp() <= start:
            first += datetime.timedelta(days=1)
        self.assertEqual(times[0], first.strftime("%Y-%m-%dT%H:%M:%SZ"))
        del got[:]
        self.ev.enable_rule(Name="weekdays")
        self.clock(7 * 86400, max_fires_per_rule=0)
        weekdays = [e["time"] for a, _s, e in got if a.endswith(":weekdays")]
        self.assertEqual(len(weekdays), 5)
        for t in weekdays:
            dt = datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ")
            self.assertLess(dt.weekday(), 5)
            self.assertEqual((dt.hour, dt.minute), (12, 15))

    def test_scheduled_event_reaches_a_real_function(self):
        # the whole target path: resource policy, async invoke, handler; the clock call returns
        # once the invocations it caused have finished
        iam = self.h.client("iam", ACCOUNT_A, "us-east-1")
        role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("app.py", "def handler(event, context):\n    return event\n")
        lam = self.h.client("lambda", ACCOUNT_A, RA)
        lam.create_function(FunctionName="tick", Runtime="python3.11", Role=role,
                            Handler="app.handler", Code={"ZipFile": buf.getvalue()})
        self.wait()
        arn = self.ev.put_rule(Name="tick", ScheduleExpression="rate(1 hour)")["RuleArn"]
        self.ev.put_targets(Rule="tick", Targets=[{"Id": "fn", "Arn": "arn:aws:lambda:%s:%s:"
                                                   "function:tick" % (RA, ACCOUNT_A)}])
        self.clock(3600 + 60)   # no permission yet: the delivery fails
        self.assertEqual([f["rule_arn"] for f in self.failed()], [arn])
        lam.add_permission(FunctionName="tick", StatementId="ev", Action="lambda:InvokeFunction",
                           Principal="events.amazonaws.com", SourceArn=arn)
        self.clock(2 * 3600, max_fires_per_rule=0)
        logs = self.h.control("GET", "/_emu/lambda-logs")[1]["logs"]
        self.assertEqual([x["status"] for x in logs], ["success", "success"])
        self.assertEqual([x["result"]["detail-type"] for x in logs], ["Scheduled Event"] * 2)
        self.assertLess(logs[0]["result"]["time"], logs[1]["result"]["time"])

if __name__ == "__main__":
    unittest.main(warnings="ignore")
