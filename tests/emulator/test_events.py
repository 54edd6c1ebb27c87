"""EventBridge in the emulator, through boto3: rules, targets, custom buses, bus policies,
PutEvents, TestEventPattern, tags and the delivery engine (cross-Region / cross-account
forwarding, to default and custom buses)."""

import datetime
import io
import json
import os
import sys
import unittest
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ACCOUNT_A, ACCOUNT_B, EmulatorCase, Harness  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

RA, RB = "us-east-1", "eu-west-1"
BUS_A_RB = "arn:aws:events:%s:%s:event-bus/default" % (RB, ACCOUNT_A)
BUS_B_RB = "arn:aws:events:%s:%s:event-bus/default" % (RB, ACCOUNT_B)
EVENTS_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})
CUSTOM_PATTERN = json.dumps({"source": ["custom.test"], "detail-type": ["Ping"]})
BUS_NAME = "rdsbk-s1-backup"
SHOP = "com.exampleCorp.webStore"


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
        # a statement for another account does not help; one for A with an org condition helps
        # once A is in that organisation
        evb.put_permission(Action="events:PutEvents", Principal="333333333333",
                           StatementId="other")
        self._ping()
        self.wait()
        self.assertEqual(len(self.failed()), 2)
        evb.put_permission(Action="events:PutEvents", Principal=ACCOUNT_A, StatementId="a",
                           Condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID",
                                      "Value": "o-a1b2c3d4e5"})
        self._ping()
        self.wait()
        self.assertEqual(len(self.failed()), 3)   # A is in no organisation yet
        self.assertEqual(self.h.control("POST", "/_emu/organizations", {
            "id": "o-a1b2c3d4e5", "management": ACCOUNT_B, "accounts": [ACCOUNT_A]})[0], 200)
        self._ping()
        self.wait()
        f = self.failed()
        self.assertEqual(len(f), 4)
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

    # ------------------------------------------------------------ SNS targets
    def _topic(self, account, name="alerts", statement=None):
        """A topic of `account` in RA; with `statement`, its policy is that one statement."""
        sns = self.h.client("sns", account, RA)
        arn = sns.create_topic(Name=name)["TopicArn"]
        if statement is not None:
            statement = dict(statement, Resource=arn)
            sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=(
                json.dumps({"Version": "2012-10-17", "Statement": [statement]})))
        return arn

    def messages(self):
        return self.h.control("GET", "/_emu/sns/messages")[1]

    def test_sns_target_admitted_by_the_topic_policy(self):
        rule = "arn:aws:events:%s:%s:rule/alarm" % (RA, ACCOUNT_A)
        topic = self._topic(ACCOUNT_A, statement={
            "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish",
            "Condition": {"ArnEquals": {"aws:SourceArn": rule},
                          "StringEquals": {"aws:SourceAccount": ACCOUNT_A}}})
        self.assertEqual(self.ev.put_rule(Name="alarm", EventPattern=CUSTOM_PATTERN)["RuleArn"],
                         rule)
        out = self.ev.put_targets(Rule="alarm", Targets=[
            {"Id": "detail", "Arn": topic, "InputPath": "$.detail"},
            {"Id": "whole", "Arn": topic},
            {"Id": "fixed", "Arn": topic, "Input": '{"alert": "sweep failed"}'}])
        self.assertEqual(out["FailedEntryCount"], 0)
        eid = self._ping()
        self.wait()
        self.assertEqual(self.failed(), [])
        got = self.messages()
        self.assertEqual(len(got), 3, got)
        self.assertEqual({m["topic_arn"] for m in got}, {topic})
        self.assertEqual({m["subject"] for m in got}, {None})
        bodies = sorted((m["message"] for m in got), key=len)
        self.assertEqual(json.loads(bodies[0]), {"n": 1})            # InputPath
        self.assertEqual(bodies[1], '{"alert": "sweep failed"}')      # Input, as given
        whole = json.loads(bodies[2])                                 # the event
        self.assertEqual((whole["id"], whole["source"], whole["detail"]),
                         (eid, "custom.test", {"n": 1}))

    def test_sns_target_refused_without_the_policy_statement(self):
        topic = self._topic(ACCOUNT_A)   # AWS's default policy: EventBridge is not in it
        other_rule = "arn:aws:events:%s:%s:rule/other" % (RA, ACCOUNT_A)
        narrow = self._topic(ACCOUNT_A, name="narrow", statement={
            "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish", "Condition": {"ArnEquals": {"aws:SourceArn": other_rule}}})
        rule = self.ev.put_rule(Name="alarm", EventPattern=CUSTOM_PATTERN)["RuleArn"]
        self.ev.put_targets(Rule="alarm", Targets=[{"Id": "t", "Arn": topic},
                                                   {"Id": "n", "Arn": narrow}])
        eid = self._ping()
        self.wait()
        self.assertEqual(self.messages(), [])
        f = sorted(self.failed(), key=lambda x: x["target_arn"])
        self.assertEqual([(x["rule_arn"], x["target_arn"], x["event_id"]) for x in f],
                         [(rule, topic, eid), (rule, narrow, eid)], f)
        for x in f:
            self.assertIn("AuthorizationError", x["reason"])
            self.assertIn("events.amazonaws.com", x["reason"])

    def test_sns_targets_in_the_rules_region_and_account(self):
        self.ev.put_rule(Name="alarm", EventPattern=CUSTOM_PATTERN)
        elsewhere = "arn:aws:sns:%s:%s:alerts" % (RB, ACCOUNT_A)
        with self.assertRaises(ClientError) as cm:
            self.ev.put_targets(Rule="alarm", Targets=[{"Id": "t", "Arn": elsewhere}])
        self.assertEqual((code_of(cm), cm.exception.response["Error"]["Message"]),
                         ("ValidationException", "Cross-region api call is not allowed."))
        theirs = self._topic(ACCOUNT_B)
        with self.assertRaises(ClientError) as cm:
            self.ev.put_targets(Rule="alarm", Targets=[{"Id": "t", "Arn": theirs}])
        self.assertEqual(code_of(cm), "ValidationException")
        self.assertIn("RoleArn", str(cm.exception))
        self.assertEqual(self.ev.list_targets_by_rule(Rule="alarm")["Targets"], [])

    def test_sns_target_of_another_account_with_a_role(self):
        rule = "arn:aws:events:%s:%s:rule/alarm" % (RA, ACCOUNT_A)
        topic_b = "arn:aws:sns:%s:%s:alerts" % (RA, ACCOUNT_B)
        role = self.make_role("to-b", policy={"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sns:Publish", "Resource": topic_b}]})
        self._topic(ACCOUNT_B, statement={"Effect": "Allow", "Principal": {"AWS": role},
                                          "Action": "sns:Publish"})
        self.ev.put_rule(Name="alarm", EventPattern=CUSTOM_PATTERN)
        self.ev.put_targets(Rule="alarm", Targets=[{"Id": "b", "Arn": topic_b, "RoleArn": role}])
        self._ping()
        self.wait()
        self.assertEqual(self.failed(), [])
        self.assertEqual([m["topic_arn"] for m in self.messages()], [topic_b])
        # the role's identity policy no longer allows it: a failed delivery
        self.iam.delete_role_policy(RoleName="to-b", PolicyName="p")
        self._ping()
        self.wait()
        f = self.failed()
        self.assertEqual([(x["rule_arn"], x["target_arn"]) for x in f], [(rule, topic_b)], f)
        self.assertIn("AuthorizationError", f[0]["reason"])

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

    # ----------------------------------------------------------- custom buses
    def make_bus(self, account=ACCOUNT_A, region=RA, name=BUS_NAME, **extra):
        ev = self.h.client("events", account, region)
        arn = ev.create_event_bus(Name=name, **extra)["EventBusArn"]
        self.assertEqual(arn, "arn:aws:events:%s:%s:event-bus/%s" % (region, account, name))
        return arn

    def inventory(self, kind):
        return [r for r in self.h.control("GET", "/_emu/inventory")[1]["resources"]
                if r["type"] == kind]

    def test_custom_bus_lifecycle(self):
        arn = self.make_bus(Tags=[{"Key": "rdsbk:stack", "Value": "s1"}])
        with self.assertRaises(ClientError) as cm:
            self.ev.create_event_bus(Name=BUS_NAME)
        self.assertEqual(code_of(cm), "ResourceAlreadyExistsException")
        self.assertIn("Event bus %s already exists." % BUS_NAME, str(cm.exception))
        for ref in (BUS_NAME, arn):
            d = self.ev.describe_event_bus(Name=ref)
            self.assertEqual((d["Name"], d["Arn"]), (BUS_NAME, arn))
            self.assertNotIn("Policy", d)
        default = "arn:aws:events:%s:%s:event-bus/default" % (RA, ACCOUNT_A)
        self.assertEqual([(b["Name"], b["Arn"]) for b in self.ev.list_event_buses()["EventBuses"]],
                         [("default", default), (BUS_NAME, arn)])
        self.assertEqual([b["Name"] for b in
                          self.ev.list_event_buses(NamePrefix="rdsbk-")["EventBuses"]], [BUS_NAME])
        # other Regions and accounts do not see it
        self.assertEqual([b["Name"] for b in self.h.client("events", ACCOUNT_A, RB)
                          .list_event_buses()["EventBuses"]], ["default"])
        with self.assertRaises(ClientError) as cm:
            self.h.client("events", ACCOUNT_B, RA).describe_event_bus(Name=BUS_NAME)
        self.assertEqual(code_of(cm), "ResourceNotFoundException")
        # tags on the bus ARN
        self.assertEqual(self.ev.list_tags_for_resource(ResourceARN=arn)["Tags"],
                         [{"Key": "rdsbk:stack", "Value": "s1"}])
        self.ev.tag_resource(ResourceARN=arn, Tags=[{"Key": "k", "Value": "v"}])
        self.ev.untag_resource(ResourceARN=arn, TagKeys=["rdsbk:stack"])
        self.assertEqual(self.ev.list_tags_for_resource(ResourceARN=arn)["Tags"],
                         [{"Key": "k", "Value": "v"}])
        # the inventory reports the bus (a leftover if a destroy left it), never a default bus
        buses = self.inventory("events:event-bus")
        self.assertEqual([(b["account"], b["region"], b["id"], b["name"], b["tags"])
                          for b in buses], [(ACCOUNT_A, RA, arn, BUS_NAME, {"k": "v"})])
        self.ev.delete_event_bus(Name=BUS_NAME)
        with self.assertRaises(ClientError) as cm:
            self.ev.describe_event_bus(Name=BUS_NAME)
        self.assertEqual(code_of(cm), "ResourceNotFoundException")
        self.assertIn("Event bus %s does not exist." % BUS_NAME, str(cm.exception))
        with self.assertRaises(ClientError) as cm:
            self.ev.list_tags_for_resource(ResourceARN=arn)
        self.assertEqual(code_of(cm), "ResourceNotFoundException")
        self.ev.delete_event_bus(Name=BUS_NAME)   # a missing bus: no error, as on AWS
        self.assertEqual(self.inventory("events:event-bus"), [])
        self.assertEqual(len(self.ev.list_event_buses()["EventBuses"]), 1)

    def test_bus_names_refused(self):
        for name, message in (("default", "default"), ("a/b", "can't contain '/'"),
                              ("aws.mine", "starting with 'aws.'"),
                              ("bad name", "regular expression pattern"),
                              ("x" * 257, "length")):
            with self.subTest(name=name):
                with self.assertRaises(ClientError) as cm:
                    self.ev.create_event_bus(Name=name)
                self.assertEqual(code_of(cm), "ValidationException")
                self.assertIn(message, str(cm.exception))
        with self.assertRaises(ClientError) as cm:
            self.ev.create_event_bus(Name="aws.partner/example.com/1/x",
                                     EventSourceName="aws.partner/example.com/1/x")
        self.assertEqual(code_of(cm), "ValidationException")
        with self.assertRaises(ClientError) as cm:
            self.ev.delete_event_bus(Name="default")
        self.assertEqual(code_of(cm), "ValidationException")
        self.assertIn("Cannot delete event bus default.", str(cm.exception))
        self.assertEqual(self.inventory("events:event-bus"), [])

    def test_rules_and_targets_on_a_custom_bus(self):
        bus_arn = self.make_bus()
        fn = "arn:aws:lambda:%s:%s:function:f" % (RA, ACCOUNT_A)
        arn = self.ev.put_rule(Name="r", EventPattern=CUSTOM_PATTERN, EventBusName=BUS_NAME,
                               Tags=[{"Key": "k", "Value": "v"}])["RuleArn"]
        self.assertEqual(arn, "arn:aws:events:%s:%s:rule/%s/r" % (RA, ACCOUNT_A, BUS_NAME))
        # a rule of the same name on the default bus is another rule
        default_arn = self.ev.put_rule(Name="r", EventPattern=CUSTOM_PATTERN,
                                       State="DISABLED")["RuleArn"]
        self.assertEqual(default_arn, "arn:aws:events:%s:%s:rule/r" % (RA, ACCOUNT_A))
        for ref in (BUS_NAME, bus_arn):
            d = self.ev.describe_rule(Name="r", EventBusName=ref)
            self.assertEqual((d["Arn"], d["EventBusName"], d["State"]), (arn, BUS_NAME, "ENABLED"))
        self.assertEqual(self.ev.describe_rule(Name="r")["State"], "DISABLED")
        self.assertEqual([r["Arn"] for r in self.ev.list_rules(EventBusName=BUS_NAME)["Rules"]],
                         [arn])
        self.assertEqual([r["Arn"] for r in self.ev.list_rules()["Rules"]], [default_arn])
        self.assertEqual(self.ev.list_tags_for_resource(ResourceARN=arn)["Tags"],
                         [{"Key": "k", "Value": "v"}])
        out = self.ev.put_targets(Rule="r", EventBusName=BUS_NAME,
                                  Targets=[{"Id": "fn", "Arn": fn}])
        self.assertEqual(out["FailedEntryCount"], 0)
        self.assertEqual(self.ev.list_targets_by_rule(Rule="r", EventBusName=BUS_NAME)["Targets"],
                         [{"Id": "fn", "Arn": fn}])
        self.assertEqual(self.ev.list_targets_by_rule(Rule="r")["Targets"], [])
        self.assertEqual(self.ev.list_rule_names_by_target(TargetArn=fn,
                                                           EventBusName=BUS_NAME)["RuleNames"],
                         ["r"])
        self.assertEqual(self.ev.list_rule_names_by_target(TargetArn=fn)["RuleNames"], [])
        self.ev.disable_rule(Name="r", EventBusName=BUS_NAME)
        self.assertEqual(self.ev.describe_rule(Name="r", EventBusName=BUS_NAME)["State"],
                         "DISABLED")
        self.ev.enable_rule(Name="r", EventBusName=BUS_NAME)
        inv = self.inventory("events:rule")
        self.assertEqual(sorted((r["id"], r["targets"]) for r in inv),
                         [(default_arn, []), (arn, [fn])])
        # the bus cannot go while it has rules; a rule with targets cannot go either
        with self.assertRaises(ClientError) as cm:
            self.ev.delete_event_bus(Name=BUS_NAME)
        self.assertEqual(code_of(cm), "ValidationException")
        self.assertIn("EventBus can't be deleted since it has rules.", str(cm.exception))
        with self.assertRaises(ClientError) as cm:
            self.ev.delete_rule(Name="r", EventBusName=BUS_NAME)
        self.assertIn("Rule can't be deleted since it has targets.", str(cm.exception))
        self.ev.remove_targets(Rule="r", EventBusName=BUS_NAME, Ids=["fn"])
        self.ev.delete_rule(Name="r", EventBusName=bus_arn)
        with self.assertRaises(ClientError) as cm:
            self.ev.describe_rule(Name="r", EventBusName=BUS_NAME)
        self.assertEqual(code_of(cm), "ResourceNotFoundException")
        self.assertIn("Rule r does not exist on EventBus %s." % BUS_NAME, str(cm.exception))
        self.assertEqual(self.ev.describe_rule(Name="r")["Arn"], default_arn)
        self.ev.delete_event_bus(Name=BUS_NAME)
        # rules need the bus
        for call in (lambda: self.ev.put_rule(Name="r", EventPattern=CUSTOM_PATTERN,
                                              EventBusName=BUS_NAME),
                     lambda: self.ev.list_rules(EventBusName=BUS_NAME),
                     lambda: self.ev.delete_rule(Name="r", EventBusName=BUS_NAME)):
            with self.assertRaises(ClientError) as cm:
                call()
            self.assertEqual(code_of(cm), "ResourceNotFoundException")
            self.assertIn("Event bus %s does not exist." % BUS_NAME, str(cm.exception))

    def test_schedule_refused_on_a_custom_bus(self):
        self.make_bus()
        with self.assertRaises(ClientError) as cm:
            self.ev.put_rule(Name="s", ScheduleExpression="rate(1 hour)", EventBusName=BUS_NAME)
        self.assertEqual(code_of(cm), "ValidationException")
        self.assertIn("ScheduleExpression is supported only on the default event bus.",
                      str(cm.exception))
        self.assertEqual(self.ev.list_rules(EventBusName=BUS_NAME)["Rules"], [])

    def _bus_sink(self, account, region, bus, name="sink", pattern=CUSTOM_PATTERN):
        """A rule on a bus whose target is a Lambda function (of that name)."""
        ev = self.h.client("events", account, region)
        arn = ev.put_rule(Name=name, EventPattern=pattern, EventBusName=bus)["RuleArn"]
        ev.put_targets(Rule=name, EventBusName=bus, Targets=[{
            "Id": "fn", "Arn": "arn:aws:lambda:%s:%s:function:%s" % (region, account, name)}])
        return arn

    def test_put_events_on_a_custom_bus(self):
        got = self.spy_lambda()
        bus_arn = self.make_bus()
        on_bus = self._bus_sink(ACCOUNT_A, RA, BUS_NAME)
        on_default = self._bus_sink(ACCOUNT_A, RA, "default")
        entry = {"Source": "custom.test", "DetailType": "Ping", "Detail": "{}"}
        out = self.ev.put_events(Entries=[dict(entry, EventBusName=BUS_NAME),
                                          dict(entry, EventBusName=bus_arn), entry,
                                          dict(entry, EventBusName="nope")])
        self.assertEqual(out["FailedEntryCount"], 1)
        self.assertEqual(out["Entries"][3]["ErrorCode"], "ResourceNotFoundException")
        self.assertIn("Event bus nope does not exist.", out["Entries"][3]["ErrorMessage"])
        self.wait()
        ids = [e["EventId"] for e in out["Entries"][:3]]
        self.assertEqual(sorted((src, ev["id"]) for _fn, src, ev in got),
                         sorted([(on_bus, ids[0]), (on_bus, ids[1]), (on_default, ids[2])]))
        self.assertEqual(self.failed(), [])

    def _forwarding_rule(self, bus_arn, pattern):
        """A rule on A's default bus in RB that forwards to bus_arn with a role (as the tool's
        source side does); returns (rule ARN, events client of A in RB)."""
        role = self.make_role("fwd", policy={"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "events:PutEvents", "Resource": bus_arn}]})
        ev = self.h.client("events", ACCOUNT_A, RB)
        rule = ev.put_rule(Name="fwd", EventPattern=pattern)["RuleArn"]
        out = ev.put_targets(Rule="fwd", Targets=[{"Id": "b", "Arn": bus_arn, "RoleArn": role}])
        self.assertEqual(out["FailedEntryCount"], 0)
        return rule, ev

    def test_cross_account_forwarding_to_a_custom_bus_with_conditions(self):
        """AWS's example policy for a custom bus (a source account, conditions on events:source
        and events:detail-type) admits the events it names and no other; events forwarded to
        the custom bus reach its rules only, events on B's default bus never do."""
        got = self.spy_lambda()
        evb = self.h.client("events", ACCOUNT_B, RB)
        bus_arn = self.make_bus(ACCOUNT_B, RB)
        pattern = json.dumps({"source": [SHOP, "other.source"]})
        on_bus = self._bus_sink(ACCOUNT_B, RB, BUS_NAME, pattern=pattern)
        on_default = self._bus_sink(ACCOUNT_B, RB, "default", pattern=pattern)
        evb.put_permission(EventBusName=BUS_NAME, Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Sid": "allow_account_to_put_events", "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT_A},
                "Action": "events:PutEvents", "Resource": bus_arn,
                "Condition": {"ForAllValues:StringEquals": {"events:source": SHOP},
                              "StringEquals": {"events:detail-type": "newOrderCreated"}}}]}))
        self.assertIn("events:detail-type", evb.describe_event_bus(Name=BUS_NAME)["Policy"])
        self.assertEqual(self.inventory("events:event-bus")[0]["statements"],
                         ["allow_account_to_put_events"])
        self.assertEqual(self.inventory("events:bus-policy"), [])
        rule, eva = self._forwarding_rule(bus_arn, pattern)
        entries = [(SHOP, "newOrderCreated"), (SHOP, "orderCancelled"),
                   ("other.source", "newOrderCreated")]
        out = eva.put_events(Entries=[{"Source": s, "DetailType": t, "Detail": "{}"}
                                      for s, t in entries])
        self.assertEqual(out["FailedEntryCount"], 0)
        ids = [e["EventId"] for e in out["Entries"]]
        self.wait()
        self.assertEqual([(src, ev["id"]) for _fn, src, ev in got], [(on_bus, ids[0])])
        f = self.failed()
        self.assertEqual(sorted(x["event_id"] for x in f), sorted(ids[1:]), f)
        for x in f:
            self.assertEqual((x["rule_arn"], x["target_arn"]), (rule, bus_arn))
            self.assertIn("Event bus %s does not allow account %s" % (bus_arn, ACCOUNT_A),
                          x["reason"])
        # an event on B's default bus reaches the default bus's rule only
        del got[:]
        evb.put_events(Entries=[{"Source": SHOP, "DetailType": "newOrderCreated",
                                 "Detail": "{}"}])
        self.wait()
        self.assertEqual([src for _fn, src, _ev in got], [on_default])
        # PutEvents from A straight to the bus's ARN is held to the same policy
        del got[:]
        out = eva.put_events(Entries=[
            {"Source": SHOP, "DetailType": "newOrderCreated", "Detail": "{}",
             "EventBusName": bus_arn},
            {"Source": SHOP, "DetailType": "orderCancelled", "Detail": "{}",
             "EventBusName": bus_arn}])
        self.assertEqual([e.get("ErrorCode") for e in out["Entries"]],
                         [None, "AccessDeniedException"])
        self.wait()
        self.assertEqual([src for _fn, src, _ev in got], [on_bus])

    def test_forwarding_to_a_missing_bus_fails(self):
        got = self.spy_lambda()
        missing = "arn:aws:events:%s:%s:event-bus/%s" % (RB, ACCOUNT_B, BUS_NAME)
        rule, eva = self._forwarding_rule(missing, CUSTOM_PATTERN)
        self._bus_sink(ACCOUNT_B, RB, "default")
        out = eva.put_events(Entries=[{"Source": "custom.test", "DetailType": "Ping",
                                       "Detail": "{}"}])
        self.wait()
        f = self.failed()
        self.assertEqual([(x["rule_arn"], x["target_arn"], x["event_id"]) for x in f],
                         [(rule, missing, out["Entries"][0]["EventId"])])
        self.assertIn("Event bus %s does not exist." % missing, f[0]["reason"])
        self.assertEqual(got, [])   # not delivered to B's default bus instead

    def test_bus_policy_quota_is_per_bus(self):
        """Three statements (578 and 602 characters) fit on each bus under a quota of 700,
        which their sum would not; a fourth does not fit."""
        self.h.emu.options["events_policy_quota"] = 700
        self.addCleanup(self.h.emu.options.pop, "events_policy_quota")
        self.make_bus()
        for i in range(3):
            self.ev.put_permission(Action="events:PutEvents", Principal="4%011d" % i,
                                   StatementId="s%d" % i)
            self.ev.put_permission(EventBusName=BUS_NAME, Action="events:PutEvents",
                                   Principal="4%011d" % i, StatementId="s%d" % i)
        with self.assertRaises(ClientError) as cm:
            for i in range(3, 10):
                self.ev.put_permission(EventBusName=BUS_NAME, Action="events:PutEvents",
                                       Principal="4%011d" % i, StatementId="s%d" % i)
        self.assertEqual(code_of(cm), "PolicyLengthExceededException")
        self.assertEqual(len(self.ev.describe_event_bus(Name=BUS_NAME)["Policy"]), 602)
        self.ev.remove_permission(EventBusName=BUS_NAME, StatementId="s0")
        self.assertEqual(len(json.loads(self.ev.describe_event_bus()["Policy"])["Statement"]), 3)

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

    def rule_created(self, name):
        return self.h.emu.services["events"].rules[(ACCOUNT_A, RA, "default", name)]["created"]

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
        created = self.rule_created("every30")
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
        created = self.rule_created("every30")
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


class BusPolicyPrincipalsTest(EmulatorCase):
    """A third account, for a bus policy whose Principal lists several accounts."""
    ACCOUNT_C = "333333333333"

    @classmethod
    def setUpClass(cls):
        cls.h = Harness(accounts=(ACCOUNT_A, ACCOUNT_B, cls.ACCOUNT_C)).start()
        cls.addClassCleanup(cls.h.stop)

    def test_principal_list_admits_each_account(self):
        evb = self.h.client("events", ACCOUNT_B, RB)
        bus_arn = evb.create_event_bus(Name=BUS_NAME)["EventBusArn"]
        evb.put_permission(EventBusName=BUS_NAME, Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Sid": "sources", "Effect": "Allow",
                "Principal": {"AWS": ["arn:aws:iam::%s:root" % a
                                      for a in (ACCOUNT_A, self.ACCOUNT_C)]},
                "Action": "events:PutEvents", "Resource": bus_arn,
                "Condition": {"StringEquals": {"events:detail-type": "Ping"}}}]}))
        entry = {"Source": "custom.test", "DetailType": "Ping", "Detail": "{}",
                 "EventBusName": bus_arn}
        for account in (ACCOUNT_A, self.ACCOUNT_C):
            with self.subTest(account=account):
                ev = self.h.client("events", account, RB)
                out = ev.put_events(Entries=[entry, dict(entry, DetailType="Pong")])
                self.assertEqual([e.get("ErrorCode") for e in out["Entries"]],
                                 [None, "AccessDeniedException"])
        # an account the Principal does not name is refused
        evb.put_permission(EventBusName=BUS_NAME, Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Sid": "sources", "Effect": "Allow",
                "Principal": {"AWS": ["arn:aws:iam::%s:root" % ACCOUNT_A]},
                "Action": "events:PutEvents", "Resource": bus_arn}]}))
        out = self.h.client("events", self.ACCOUNT_C, RB).put_events(Entries=[entry])
        self.assertEqual(out["Entries"][0]["ErrorCode"], "AccessDeniedException")
        self.assertIn(bus_arn, out["Entries"][0]["ErrorMessage"])


if __name__ == "__main__":
    unittest.main(warnings="ignore")
