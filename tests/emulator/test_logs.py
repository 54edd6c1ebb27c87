"""CloudWatch Logs in the emulator, through boto3: log groups (create, describe with prefix,
pattern and paging, delete), retention, tags (by ARN and the deprecated by-name calls), IAM, the
inventory, and the log groups Lambda writes its functions' output to."""

import io
import json
import os
import sys
import time
import unittest
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ACCOUNT_A, ACCOUNT_B, EmulatorCase  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

R, R2 = "us-east-1", "eu-west-1"
ALLOWED_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
                2557, 2922, 3288, 3653]


def code_of(cm):
    return cm.exception.response["Error"]["Code"]


def group_arn(name, account=ACCOUNT_A, region=R):
    return "arn:aws:logs:%s:%s:log-group:%s" % (region, account, name)


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class _Base(EmulatorCase):
    def setUp(self):
        super().setUp()
        self.logs = self.h.client("logs", ACCOUNT_A, R)
        self.iam = self.h.client("iam", ACCOUNT_A, "us-east-1")

    def groups(self, client=None, **kw):
        return (client or self.logs).describe_log_groups(**kw)["logGroups"]

    def inventory(self):
        inv = self.h.control("GET", "/_emu/inventory")[1]["resources"]
        return {x["id"]: x for x in inv if x["service"] == "logs"}


class LogsTest(_Base):

    def role_client(self, name, *statements, service="logs"):
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=doc({
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT_A},
            "Action": "sts:AssumeRole"}))
        self.iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=doc(*statements))
        creds = self.h.emu.credentials_for_role(ACCOUNT_A, "arn:aws:iam::%s:role/%s"
                                                % (ACCOUNT_A, name), "s")
        return self.h.client(service, ACCOUNT_A, R, credentials=creds)

    # ------------------------------------------------------------ log groups
    def test_create_describe_delete(self):
        raw = []
        self.logs.meta.events.register("after-call.logs.DescribeLogGroups",
                                       lambda http_response, **kw: raw.append(
                                           json.loads(http_response.content)))
        self.logs.create_log_group(logGroupName="/aws/lambda/fn", tags={"stack": "s1"})
        with self.assertRaises(ClientError) as cm:
            self.logs.create_log_group(logGroupName="/aws/lambda/fn")
        self.assertEqual(code_of(cm), "ResourceAlreadyExistsException")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        (g,) = self.groups(logGroupNamePrefix="/aws/lambda/fn")
        self.assertEqual(g["logGroupName"], "/aws/lambda/fn")
        self.assertEqual(g["arn"], group_arn("/aws/lambda/fn") + ":*")
        self.assertEqual((g["storedBytes"], g["metricFilterCount"]), (0, 0))
        self.assertNotIn("retentionInDays", g)
        self.assertIsInstance(g["creationTime"], int)
        self.assertAlmostEqual(g["creationTime"] / 1000.0, time.time(), delta=5)
        # the newer member the installed model lacks is on the wire
        self.assertEqual(raw[-1]["logGroups"][0]["logGroupArn"], group_arn("/aws/lambda/fn"))
        self.logs.delete_log_group(logGroupName="/aws/lambda/fn")
        self.assertEqual(self.groups(), [])
        with self.assertRaises(ClientError) as cm:
            self.logs.delete_log_group(logGroupName="/aws/lambda/fn")
        self.assertEqual(code_of(cm), "ResourceNotFoundException")
        self.assertIn("The specified log group does not exist.", str(cm.exception))
        for kw, code in (({"logGroupName": "bad name"}, "InvalidParameterException"),
                         ({"logGroupName": "x", "kmsKeyId": "arn:aws:kms:us-east-1:%s:key/k"
                           % ACCOUNT_A}, "InvalidParameterException"),
                         ({"logGroupName": "aws/mine"}, "InvalidParameterException")):
            with self.subTest(kw=kw):
                with self.assertRaises(ClientError) as cm:
                    self.h.client("logs", ACCOUNT_A, R, validate=False).create_log_group(**kw)
                self.assertEqual(code_of(cm), code)
        self.assertEqual(self.groups(), [])

    def test_groups_are_per_account_and_region(self):
        self.logs.create_log_group(logGroupName="g")
        self.assertEqual(self.groups(self.h.client("logs", ACCOUNT_A, R2)), [])
        self.assertEqual(self.groups(self.h.client("logs", ACCOUNT_B, R)), [])
        self.h.client("logs", ACCOUNT_B, R).create_log_group(logGroupName="g")
        self.assertEqual(len(self.groups()), 1)

    def test_retention(self):
        self.logs.create_log_group(logGroupName="g")
        self.logs.put_retention_policy(logGroupName="g", retentionInDays=14)
        self.assertEqual(self.groups()[0]["retentionInDays"], 14)
        for days in (0, 2, 10, 366, 4000):
            with self.subTest(days=days):
                with self.assertRaises(ClientError) as cm:
                    self.logs.put_retention_policy(logGroupName="g", retentionInDays=days)
                self.assertEqual(code_of(cm), "InvalidParameterException")
                self.assertEqual(cm.exception.response["Error"]["Message"],
                                 "1 validation error detected: Value '%d' at 'retentionInDays' "
                                 "failed to satisfy constraint: Member must satisfy enum value "
                                 "set: [%s]" % (days, ", ".join(map(str, ALLOWED_DAYS))))
        for days in ALLOWED_DAYS:
            self.logs.put_retention_policy(logGroupName="g", retentionInDays=days)
        self.assertEqual(self.groups()[0]["retentionInDays"], 3653)
        self.logs.delete_retention_policy(logGroupName="g")
        self.assertNotIn("retentionInDays", self.groups()[0])
        for call in (lambda: self.logs.put_retention_policy(logGroupName="nope", retentionInDays=7),
                     lambda: self.logs.delete_retention_policy(logGroupName="nope")):
            with self.assertRaises(ClientError) as cm:
                call()
            self.assertEqual(code_of(cm), "ResourceNotFoundException")

    def test_describe_prefix_pattern_and_paging(self):
        names = ["/aws/lambda/a%d" % i for i in range(7)] + ["/other/a", "/other/b"]
        for name in names:
            self.logs.create_log_group(logGroupName=name)
        got, token, pages = [], None, 0
        while True:
            kw = {"logGroupNamePrefix": "/aws/lambda/", "limit": 3}
            if token:
                kw["nextToken"] = token
            out = self.logs.describe_log_groups(**kw)
            got += [g["logGroupName"] for g in out["logGroups"]]
            pages += 1
            token = out.get("nextToken")
            if not token:
                break
        self.assertEqual((got, pages), (sorted(names[:7]), 3))
        self.assertEqual(len(self.groups()), 9)   # default limit 50
        self.assertEqual([g["logGroupName"] for g in self.groups(logGroupNamePattern="her/")],
                         ["/other/a", "/other/b"])
        paginated = [g["logGroupName"] for page in self.logs.get_paginator(
            "describe_log_groups").paginate(PaginationConfig={"PageSize": 2}) for g in page[
            "logGroups"]]
        self.assertEqual(paginated, sorted(names))
        raw = self.h.client("logs", ACCOUNT_A, R, validate=False)
        for kw in ({"limit": 0}, {"limit": 51},
                   {"logGroupNamePrefix": "/a", "logGroupNamePattern": "a"},
                   {"nextToken": "%%%"}, {"includeLinkedAccounts": True}):
            with self.subTest(kw=kw):
                with self.assertRaises(ClientError) as cm:
                    raw.describe_log_groups(**kw)
                self.assertEqual(code_of(cm), "InvalidParameterException")

    # ------------------------------------------------------------------ tags
    def test_tags(self):
        self.logs.create_log_group(logGroupName="g", tags={"a": "1"})
        arn = group_arn("g")
        self.logs.tag_resource(resourceArn=arn, tags={"b": "2", "c": "3"})
        self.logs.untag_resource(resourceArn=arn, tagKeys=["c"])
        self.assertEqual(self.logs.list_tags_for_resource(resourceArn=arn)["tags"],
                         {"a": "1", "b": "2"})
        self.logs.tag_log_group(logGroupName="g", tags={"d": "4"})
        self.logs.untag_log_group(logGroupName="g", tags=["a"])
        self.assertEqual(self.logs.list_tags_log_group(logGroupName="g")["tags"],
                         {"b": "2", "d": "4"})
        self.logs.create_log_group(logGroupName="bare")
        self.assertEqual(self.logs.list_tags_for_resource(resourceArn=group_arn("bare"))["tags"],
                         {})
        for bad_arn, code in ((arn + ":*", "InvalidParameterException"),  # the model's pattern
                              (group_arn("nope"), "ResourceNotFoundException"),
                              (group_arn("g", account=ACCOUNT_B), "ResourceNotFoundException")):
            with self.subTest(arn=bad_arn):
                with self.assertRaises(ClientError) as cm:
                    self.logs.list_tags_for_resource(resourceArn=bad_arn)
                self.assertEqual(code_of(cm), code)
        with self.assertRaises(ClientError) as cm:
            self.logs.tag_resource(resourceArn=arn, tags={"k%d" % i: "v" for i in range(49)})
        self.assertEqual(code_of(cm), "TooManyTagsException")
        with self.assertRaises(ClientError) as cm:
            self.logs.tag_resource(resourceArn=arn, tags={"aws:x": "v"})
        self.assertEqual(code_of(cm), "InvalidParameterException")
        with self.assertRaises(ClientError) as cm:
            self.logs.list_tags_log_group(logGroupName="nope")
        self.assertEqual(code_of(cm), "ResourceNotFoundException")

    def test_iam_enforced(self):
        app = self.role_client(
            "app", {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:DeleteLogGroup",
                                                  "logs:PutRetentionPolicy"],
                    "Resource": "arn:aws:logs:%s:%s:log-group:/app/*" % (R, ACCOUNT_A)},
            {"Effect": "Allow", "Action": "logs:ListTagsForResource",
             "Resource": group_arn("/app/one")})
        app.create_log_group(logGroupName="/app/one")
        app.put_retention_policy(logGroupName="/app/one", retentionInDays=7)
        app.list_tags_for_resource(resourceArn=group_arn("/app/one"))
        denied = (
            (lambda: app.create_log_group(logGroupName="/other"), "logs:CreateLogGroup",
             group_arn("/other") + ":*"),
            (lambda: app.create_log_group(logGroupName="/app/two", tags={"a": "b"}),
             "logs:TagLogGroup", group_arn("/app/two") + ":*"),
            (lambda: app.describe_log_groups(), "logs:DescribeLogGroups", group_arn("*")),
            (lambda: app.tag_resource(resourceArn=group_arn("/app/one"), tags={"a": "b"}),
             "logs:TagResource", group_arn("/app/one")),
        )
        for call, action, resource in denied:
            with self.subTest(action=action):
                with self.assertRaises(ClientError) as cm:
                    call()
                self.assertEqual(code_of(cm), "AccessDeniedException")
                self.assertIn("%s on resource: %s " % (action, resource), str(cm.exception))
        # tags at creation: logs:TagResource (on the ARN without ":*") suffices
        tagger = self.role_client(
            "tagger", {"Effect": "Allow", "Action": "logs:CreateLogGroup", "Resource": "*"},
            {"Effect": "Allow", "Action": "logs:TagResource", "Resource": group_arn("/t")})
        tagger.create_log_group(logGroupName="/t", tags={"a": "b"})
        self.assertEqual(self.inventory()["/t"]["tags"], {"a": "b"})
        app.delete_log_group(logGroupName="/app/one")

    def test_inventory(self):
        self.logs.create_log_group(logGroupName="/aws/lambda/x", tags={"stack": "s"})
        self.logs.put_retention_policy(logGroupName="/aws/lambda/x", retentionInDays=30)
        self.logs.create_log_group(logGroupName="plain")
        inv = self.inventory()
        self.assertEqual(inv["/aws/lambda/x"], {
            "service": "logs", "account": ACCOUNT_A, "region": R, "type": "log-group",
            "id": "/aws/lambda/x", "arn": group_arn("/aws/lambda/x"), "retention": 30,
            "tags": {"stack": "s"}, "events": 0})
        self.assertIsNone(inv["plain"]["retention"])


HANDLER = "def handler(event, context):\n    print('hello from', context.log_group_name)\n" \
          "    return 'ok'\n"
LAMBDA_TRUST = doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole"})


class LambdaLogsTest(_Base):
    """Where an emulated function's output goes."""

    def setUp(self):
        super().setUp()
        self.h.control("POST", "/_emu/lambda-config", {"settle_s": 0.05})
        self.lam = self.h.client("lambda", ACCOUNT_A, R)

    def function(self, name, *statements, managed=None):
        role = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=LAMBDA_TRUST)[
            "Role"]["Arn"]
        if statements:
            self.iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=doc(*statements))
        if managed:
            self.iam.attach_role_policy(RoleName=name, PolicyArn=managed)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("app.py", HANDLER)
        self.lam.create_function(FunctionName=name, Runtime="python3.11", Role=role,
                                 Handler="app.handler", Code={"ZipFile": buf.getvalue()})
        self.assertEqual(self.h.control("POST", "/_emu/wait-idle", {"timeout_s": 10})[0], 200)

    def invoke(self, name):
        out = self.lam.invoke(FunctionName=name)
        self.assertEqual(json.loads(out["Payload"].read()), "ok")

    def events(self, name):
        group = self.inventory().get("/aws/lambda/" + name)
        return None if group is None else group["events"]

    def test_output_needs_a_group_or_the_right_to_make_one(self):
        # no logs permission: the output is dropped and no group appears
        self.function("quiet")
        self.invoke("quiet")
        self.assertIsNone(self.events("quiet"))
        self.assertFalse(self.h.control("GET", "/_emu/lambda-logs")[1]["logs"][-1]["log_group"])
        # a group made beforehand (as the stack does) receives it: START, a line, END, REPORT
        self.logs.create_log_group(logGroupName="/aws/lambda/quiet")
        self.invoke("quiet")
        self.assertEqual(self.events("quiet"), 4)
        self.invoke("quiet")
        self.assertEqual(self.events("quiet"), 8)
        # allowed logs:CreateLogGroup on it, the function's role makes the group
        self.function("loud", {"Effect": "Allow", "Action": "logs:CreateLogGroup",
                               "Resource": group_arn("/aws/lambda/loud") + ":*"})
        self.invoke("loud")
        self.assertEqual(self.events("loud"), 4)
        (g,) = self.groups(logGroupNamePrefix="/aws/lambda/loud")
        self.assertNotIn("retentionInDays", g)   # Lambda's groups never expire
        self.function("managed", managed="arn:aws:iam::aws:policy/service-role/"
                                         "AWSLambdaBasicExecutionRole")
        self.invoke("managed")
        self.assertEqual(self.events("managed"), 4)
        # a policy naming only the ARN without ":*" does not allow it
        self.function("narrow", {"Effect": "Allow", "Action": "logs:CreateLogGroup",
                                 "Resource": group_arn("/aws/lambda/narrow")})
        self.invoke("narrow")
        self.assertIsNone(self.events("narrow"))

    def test_events_expire_with_retention(self):
        self.function("fn")
        self.logs.create_log_group(logGroupName="/aws/lambda/fn")
        self.logs.put_retention_policy(logGroupName="/aws/lambda/fn", retentionInDays=1)
        self.invoke("fn")
        self.assertEqual(self.h.control("POST", "/_emu/clock", {"advance_s": 43200})[0], 200)
        self.invoke("fn")
        self.assertEqual(self.events("fn"), 8)
        self.h.control("POST", "/_emu/clock", {"advance_s": 43200 + 60})
        self.assertEqual(self.events("fn"), 4)   # the first invocation's are a day old
        self.h.control("POST", "/_emu/clock", {"advance_s": 86400})
        self.assertEqual(self.events("fn"), 0)
        self.assertEqual(len(self.groups()), 1)  # the group itself stays


if __name__ == "__main__":
    unittest.main(warnings="ignore")
