"""CloudWatch Logs in the emulator, through boto3: log groups (create, describe with prefix,
pattern and paging, delete), retention, tags (by ARN and the deprecated by-name calls), IAM, the
inventory, the log groups Lambda writes its functions' output to, FilterLogEvents over that
output, and (without a server) the filter pattern parser of emu/logs_filter.py."""

import io
import json
import os
import re
import sys
import time
import unittest
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ACCOUNT_A, ACCOUNT_B, EmulatorCase  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from emu import logs_filter  # noqa: E402
from emu.logs import MAX_EVENTS  # noqa: E402

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

    def role_client(self, name, *statements, service="logs"):
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=doc({
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT_A},
            "Action": "sts:AssumeRole"}))
        self.iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=doc(*statements))
        creds = self.h.emu.credentials_for_role(ACCOUNT_A, "arn:aws:iam::%s:role/%s"
                                                % (ACCOUNT_A, name), "s")
        return self.h.client(service, ACCOUNT_A, R, credentials=creds)


class LogsTest(_Base):

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

    def function(self, name, *statements, managed=None, code=HANDLER, writes=True):
        """A function run by a role of its own with `statements`, and (`writes`) the right to
        write its log group's streams, as every function needs."""
        role = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=LAMBDA_TRUST)[
            "Role"]["Arn"]
        if writes:
            statements += ({"Effect": "Allow", "Action": ["logs:CreateLogStream",
                                                          "logs:PutLogEvents"],
                            "Resource": group_arn("/aws/lambda/" + name) + ":*"},)
        if statements:
            self.iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=doc(*statements))
        if managed:
            self.iam.attach_role_policy(RoleName=name, PolicyArn=managed)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("app.py", code)
        self.lam.create_function(FunctionName=name, Runtime="python3.11", Role=role,
                                 Handler="app.handler", Code={"ZipFile": buf.getvalue()})
        self.assertEqual(self.h.control("POST", "/_emu/wait-idle", {"timeout_s": 10})[0], 200)

    def invoke(self, name, payload=None):
        kw = {} if payload is None else {"Payload": json.dumps(payload).encode()}
        out = self.lam.invoke(FunctionName=name, **kw)
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
        # a role that may not write to its group's streams: the output is lost, group or not
        self.function("mute", writes=False)
        self.logs.create_log_group(logGroupName="/aws/lambda/mute")
        self.invoke("mute")
        self.assertEqual(self.events("mute"), 0)
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


    def test_output_is_found_by_filter_log_events(self):
        self.function("js", code=JSON_HANDLER)
        self.logs.create_log_group(logGroupName="/aws/lambda/js")
        self.invoke("js", {"result": "error", "n": 7})
        self.invoke("js", {"result": "ok", "n": 8})
        got = self.logs.filter_log_events(logGroupName="/aws/lambda/js",
                                          filterPattern='{ $.result = "error" }')
        (event,) = got["events"]
        self.assertNotIn("nextToken", got)
        printed = json.loads(event["message"])
        self.assertEqual((printed["result"], printed["n"]), ("error", 7))
        # the stream is Lambda's, and the handler's context names it
        self.assertRegex(event["logStreamName"], r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")
        self.assertEqual(printed["stream"], event["logStreamName"])
        self.assertIsInstance(event["timestamp"], int)
        self.assertAlmostEqual(event["timestamp"] / 1000.0, self.h.now(), delta=30)
        self.assertEqual(event["ingestionTime"], event["timestamp"])
        # everything: START, the two printed lines, END, REPORT, twice, in order
        events = self.logs.filter_log_events(logGroupName="/aws/lambda/js")["events"]
        self.assertEqual([re.sub(r"[ {].*", "", e["message"]) for e in events],
                         ["START", "", "plain", "END", "REPORT"] * 2)
        self.assertEqual(len({e["eventId"] for e in events}), 10)
        # a warm environment's invocations share its stream
        self.assertEqual({e["logStreamName"] for e in events}, {event["logStreamName"]})
        self.assertEqual(self.events("js"), 10)
        # terms, and the group named by its ARN (logGroupIdentifier; boto3 1.26's model still
        # requires logGroupName, so without client-side validation)
        raw = self.h.client("logs", ACCOUNT_A, R, validate=False)
        for kw, count in ((dict(logGroupName="/aws/lambda/js", filterPattern="REPORT"), 2),
                          (dict(logGroupIdentifier=group_arn("/aws/lambda/js"),
                                filterPattern='{ $.n >= 8 }'), 1),
                          (dict(logGroupIdentifier="/aws/lambda/js",
                                filterPattern='?START ?END'), 4),
                          (dict(logGroupName="/aws/lambda/js",
                                filterPattern='"RequestId" -REPORT'), 4)):
            with self.subTest(kw=kw):
                self.assertEqual(len(raw.filter_log_events(**kw)["events"]), count)


JSON_HANDLER = """import json
def handler(event, context):
    print(json.dumps({"result": event.get("result"), "n": event.get("n"),
                      "stream": context.log_stream_name}))
    print("plain text line")
    return "ok"
"""


class FilterLogEventsTest(_Base):
    """FilterLogEvents over events written through the Lambda runtime's entry point
    (LogsService.lambda_output), so that times and counts are the test's to choose."""

    GROUP = "/aws/lambda/fn"

    def setUp(self):
        super().setUp()
        self.service = self.h.emu.services["logs"]
        self.logs.create_log_group(logGroupName=self.GROUP)
        self.role = self.iam.create_role(RoleName="fn", AssumeRolePolicyDocument=LAMBDA_TRUST)[
            "Role"]["Arn"]
        self.iam.put_role_policy(RoleName="fn", PolicyName="p", PolicyDocument=doc(
            {"Effect": "Allow", "Action": "logs:PutLogEvents",
             "Resource": group_arn(self.GROUP) + ":*"}))

    def write(self, lines, stream=None):
        self.assertTrue(self.service.lambda_output(ACCOUNT_A, R, "fn", self.role, lines, stream))

    def messages(self, client=None, **kw):
        kw.setdefault("logGroupName", self.GROUP)
        out = (client or self.logs).filter_log_events(**kw)
        return [e["message"] for e in out["events"]], out.get("nextToken")

    def test_time_window(self):
        times = []
        for i in range(3):
            self.write(["at %d" % i])
            times.append(self.logs.filter_log_events(logGroupName=self.GROUP)["events"][-1][
                "timestamp"])
            self.h.advance(10)
        self.assertEqual([b - a >= 10000 for a, b in zip(times, times[1:])], [True, True])
        t1 = times[1]
        for kw, want in (({"startTime": t1, "endTime": t1}, ["at 1"]),   # both ends inclusive
                         ({"startTime": t1 + 1}, ["at 2"]),
                         ({"endTime": t1 - 1}, ["at 0"]),
                         ({"startTime": t1}, ["at 1", "at 2"]),
                         ({"startTime": times[2] + 1}, []),
                         ({"startTime": t1, "endTime": t1 - 1}, [])):
            with self.subTest(kw=kw):
                self.assertEqual(self.messages(**kw), (want, None))

    def test_pagination(self):
        self.write(["line %02d" % i for i in range(25)])
        pages, token = [], None
        while True:
            kw = {"limit": 10, "filterPattern": "line"}
            if token:
                kw["nextToken"] = token
            got, token = self.messages(**kw)
            pages.append(got)
            if token is None:
                break
            if len(pages) == 1:
                first_token = token
        self.assertEqual([len(p) for p in pages], [10, 10, 5])
        self.assertEqual(sum(pages, []), ["line %02d" % i for i in range(25)])
        # tokens are stable: the same token gives the same page, also after more was written
        self.write(["line 25"])
        again, token = self.messages(limit=10, filterPattern="line", nextToken=first_token)
        self.assertEqual(again, pages[1])
        self.assertEqual(self.messages(limit=10, filterPattern="line", nextToken=token)[0],
                         pages[2] + ["line 25"])
        # boto3's paginator
        paginated = [e["message"] for page in self.logs.get_paginator(
            "filter_log_events").paginate(logGroupName=self.GROUP, PaginationConfig={
                "PageSize": 7}) for e in page["events"]]
        self.assertEqual(paginated, ["line %02d" % i for i in range(26)])
        # a token is for its query only; a made-up one is refused
        for kw in ({"nextToken": first_token, "filterPattern": "line 1"},
                   {"nextToken": first_token},
                   {"nextToken": "1/bm9wZQ=="}, {"nextToken": "garbage"}):
            with self.subTest(kw=kw):
                with self.assertRaises(ClientError) as cm:
                    self.messages(**kw)
                self.assertEqual(code_of(cm), "InvalidParameterException")
                self.assertIn("nextToken", str(cm.exception))

    def test_page_holds_at_most_a_megabyte(self):
        big = "x" * 400000
        self.write([big + "1", big + "2", big + "3"])
        got, token = self.messages()
        self.assertEqual([m[-1] for m in got], ["1", "2"])
        self.assertEqual([m[-1] for m in self.messages(nextToken=token)[0]], ["3"])

    def test_streams(self):
        self.write(["a1", "a2"], stream="2026/01/01/[$LATEST]" + "a" * 32)
        self.write(["b1"], stream="2026/01/02/[$LATEST]" + "b" * 32)
        self.write(["c1"])   # a stream of its own, of today
        self.assertEqual(self.messages(logStreamNames=["2026/01/02/[$LATEST]" + "b" * 32])[0],
                         ["b1"])
        self.assertEqual(self.messages(logStreamNamePrefix="2026/01/0")[0], ["a1", "a2", "b1"])
        self.assertEqual(self.messages(logStreamNames=["nope"])[0], [])
        (c1,) = self.logs.filter_log_events(logGroupName=self.GROUP, filterPattern="c1")[
            "events"]
        self.assertRegex(c1["logStreamName"], r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")
        with self.assertRaises(ClientError) as cm:
            self.messages(logStreamNames=["x"], logStreamNamePrefix="x")
        self.assertEqual(code_of(cm), "InvalidParameterException")

    def test_retention_expires_events(self):
        self.logs.put_retention_policy(logGroupName=self.GROUP, retentionInDays=1)
        self.write(["first"])
        self.h.advance(43200)
        self.write(["second"])
        self.assertEqual(self.messages()[0], ["first", "second"])
        self.h.advance(43200 + 60)
        self.assertEqual(self.messages()[0], ["second"])
        self.assertEqual(self.inventory()[self.GROUP]["events"], 1)
        self.h.advance(86400)
        self.assertEqual(self.messages()[0], [])
        self.assertEqual(self.inventory()[self.GROUP]["events"], 0)

    def test_a_group_keeps_its_newest_events(self):
        self.write(["e%d" % i for i in range(MAX_EVENTS + 5)])
        self.assertEqual(self.inventory()[self.GROUP]["events"], MAX_EVENTS)
        got, token = self.messages(limit=2)
        self.assertEqual(got, ["e5", "e6"])
        self.assertIsNotNone(token)
        self.assertEqual(len(self.logs.filter_log_events(logGroupName=self.GROUP)["events"]),
                         MAX_EVENTS)

    def test_errors(self):
        raw = self.h.client("logs", ACCOUNT_A, R, validate=False)
        cases = (
            ({"logGroupName": "/nope"}, "ResourceNotFoundException",
             "The specified log group does not exist."),
            ({"logGroupIdentifier": "/nope"}, "ResourceNotFoundException", None),
            ({"logGroupIdentifier": group_arn(self.GROUP, account=ACCOUNT_B)},
             "ResourceNotFoundException", None),
            ({"logGroupIdentifier": group_arn(self.GROUP, region=R2)},
             "ResourceNotFoundException", None),
            ({"logGroupIdentifier": group_arn(self.GROUP) + ":*"},   # the model's pattern
             "InvalidParameterException", None),
            ({"logGroupIdentifier": "arn:aws:sqs:%s:%s:q" % (R, ACCOUNT_A)},
             "InvalidParameterException", None),
            ({"logGroupName": self.GROUP, "logGroupIdentifier": self.GROUP},
             "InvalidParameterException", None),
            ({}, "InvalidParameterException", None),
            ({"logGroupName": self.GROUP, "filterPattern": "[ip, user]"},
             "InvalidParameterException", "Invalid filter pattern"),
            ({"logGroupName": self.GROUP, "filterPattern": "{ $.a = 1"},
             "InvalidParameterException", "Invalid filter pattern"),
            ({"logGroupName": self.GROUP, "limit": 0}, "InvalidParameterException", None),
            ({"logGroupName": self.GROUP, "limit": 10001}, "InvalidParameterException", None),
            ({"logGroupName": self.GROUP, "startTime": -1}, "InvalidParameterException", None),
        )
        for kw, code, message in cases:
            with self.subTest(kw=kw):
                with self.assertRaises(ClientError) as cm:
                    raw.filter_log_events(**kw)
                self.assertEqual(code_of(cm), code)
                if message is not None:
                    self.assertEqual(cm.exception.response["Error"]["Message"], message)
        # the largest limit and ignored interleaved are accepted
        self.assertEqual(self.messages(limit=10000, interleaved=True), ([], None))

    def test_iam(self):
        self.logs.create_log_group(logGroupName="/other")
        self.write(["hello"])
        reader = self.role_client("reader", {
            "Effect": "Allow", "Action": "logs:FilterLogEvents",
            "Resource": "arn:aws:logs:%s:%s:log-group:/aws/lambda/*" % (R, ACCOUNT_A)})
        self.assertEqual(self.messages(reader)[0], ["hello"])
        raw = self.role_client("raw-reader", {
            "Effect": "Allow", "Action": "logs:FilterLogEvents",
            "Resource": group_arn(self.GROUP) + ":*"})
        self.assertEqual(self.messages(raw)[0], ["hello"])
        narrow = self.role_client("narrow", {   # the ARN without ":*" allows nothing here
            "Effect": "Allow", "Action": "logs:FilterLogEvents",
            "Resource": group_arn(self.GROUP)})
        for client, group in ((reader, "/other"), (narrow, self.GROUP), (reader, "/nope")):
            with self.subTest(group=group):
                with self.assertRaises(ClientError) as cm:
                    self.messages(client, logGroupName=group)
                self.assertEqual(code_of(cm), "AccessDeniedException")
                self.assertIn("logs:FilterLogEvents on resource: %s:* " % group_arn(group),
                              str(cm.exception))
        # unmask (the emulator masks nothing) needs logs:Unmask too
        with self.assertRaises(ClientError) as cm:
            self.messages(reader, unmask=True)
        self.assertIn("logs:Unmask on resource: %s:* " % group_arn(self.GROUP),
                      str(cm.exception))


# (pattern, message, matches)
FILTER_CASES = [
    ("", "anything", True),
    ("   ", "anything", True),
    ("ERROR", "[ERROR] A fatal exception has occurred", True),
    ("ERROR", "Exiting with ERRORCODE: -1", True),           # a substring, as the guide shows
    ("ERROR", "error: lower case", False),                   # case-sensitive
    ("404", "GET /x 404", True),
    ("ERROR Exception", "[ERROR] Unhandled Exception", True),
    ("ERROR Exception", "[ERROR] alone", False),
    ("ERROR -Exiting", "Exiting with ERRORCODE: -1", False),
    ("ERROR -Exiting", "[ERROR] A fatal exception", True),
    ("-DEBUG", "INFO all well", True),
    ("-DEBUG", "DEBUG noise", False),
    ("?ERROR ?WARN", "[WARN] disk", True),
    ("?ERROR ?WARN", "[INFO] fine", False),
    ('"Failed to process"', "[WARN] Failed to process the request", True),
    ('"Failed to process"', "Failed  to process", False),
    ('?"a b" ?c', "xa by", True),
    ('-"a b"', "xa by", False),
    ('"say \\"hi\\""', 'they say "hi" twice', True),
    ('"back\\\\slash"', "a back\\slash", True),
    ("{ $.result = \"error\" }", '{"result": "error", "n": 1}', True),
    ("{ $.result = \"error\" }", '{"result": "errors"}', False),
    ("{ $.result = \"error\" }", 'result = "error"', False),            # not JSON
    ("{ $.result = \"error\" }", '["result", "error"]', False),         # not an object
    ("{ $.result = \"error\" }", '{"result": ["error"]}', False),
    ("{ $.result = error }", '{"result": "error"}', True),
    ('{$.result="error"}', '{"result": "error"}', True),
    ("{ $.result = \"error\" }", '  {"result": "error"}  ', True),
    ("{ $.a.b = value }", '{"a": {"b": "value"}}', True),
    ("{ $.a.b = value }", '{"a": {"c": "value"}}', False),
    ("{ $.list[1] = \"y\" }", '{"list": ["x", "y"]}', True),
    ("{ $.list[2] = \"y\" }", '{"list": ["x", "y"]}', False),
    ("{ $.m[0][1] = 2 }", '{"m": [[1, 2]]}', True),
    ("{ $.objs[1].id = 2 }", '{"objs": [{"id": 1}, {"id": 2}]}', True),
    ("{ $.ip = 10.0.* }", '{"ip": "10.0.1.7"}', True),
    ("{ $.ip != 10.0.* }", '{"ip": "10.0.1.7"}', False),
    ("{ $.ip != 10.0.* }", '{"ip": "192.168.0.1"}', True),
    ("{ $.ip != 10.0.* }", '{"other": 1}', False),                     # missing: neither
    ("{ $.s = \"*World\" }", '{"s": "Hello World"}', True),
    ("{ $.s = \"Hello*\" }", '{"s": "Hello World"}', True),
    ("{ $.s = \"hello*\" }", '{"s": "Hello World"}', False),
    ("{ $.s = \"a.c\" }", '{"s": "abc"}', False),
    ("{ $.s = \"*\" }", '{"s": ""}', True),
    ("{ $.s = \"*\" }", '{"s": 5}', False),
    ("{ $.n = 200 }", '{"n": 200}', True),
    ("{ $.n = 200 }", '{"n": 200.0}', True),
    ("{ $.n = 200 }", '{"n": "200"}', False),
    ("{ $.n = \"200\" }", '{"n": 200}', False),
    ("{ $.n != 200 }", '{"n": 404}', True),
    ("{ $.n != 200 }", '{"n": "404"}', False),
    ("{ $.n > 100 }", '{"n": 100}', False),
    ("{ $.n >= 100 }", '{"n": 100}', True),
    ("{ $.n < 100.5 }", '{"n": 100}', True),
    ("{ $.n <= -1 }", '{"n": -1}', True),
    ("{ $.n > 1e3 }", '{"n": 1001}', True),
    ("{ $.n > 1 }", '{"n": true}', False),
    ("{ $.t IS TRUE }", '{"t": true}', True),
    ("{ $.t IS TRUE }", '{"t": 1}', False),
    ("{ $.t IS TRUE }", '{"t": "true"}', False),
    ("{ $.f IS FALSE }", '{"f": false}', True),
    ("{ $.f IS FALSE }", '{}', False),
    ("{ $.z IS NULL }", '{"z": null}', True),
    ("{ $.z IS NULL }", '{}', False),
    ("{ $.z NOT EXISTS }", '{}', True),
    ("{ $.z NOT EXISTS }", '{"z": null}', False),
    ("{ $.a.b NOT EXISTS }", '{"a": 1}', True),
    ("{ $.a = 1 && $.b = 2 }", '{"a": 1, "b": 2}', True),
    ("{ $.a = 1 && $.b = 2 }", '{"a": 1}', False),
    ("{ $.a = 1 && $.b = 2 && $.c = 3 }", '{"a": 1, "b": 2, "c": 3}', True),
    ("{ $.a = 1 || $.b = 2 }", '{"b": 2}', True),
    ("{ $.a = 1 || $.b = 2 }", '{"c": 3}', False),
    ("{ ($.a = 1 || $.b = 2) && $.c IS TRUE }", '{"b": 2, "c": true}', True),
    ("{ ($.a = 1 || $.b = 2) && $.c IS TRUE }", '{"b": 2, "c": false}', False),
    ("{ $.a = 1 || ($.b = 2 && $.c = 3) }", '{"b": 2, "c": 3}', True),
    ("{ $.a = 1 || ($.b = 2 && $.c = 3) }", '{"b": 2}', False),
    ("{ (($.a = 1)) }", '{"a": 1}', True),
]

FILTER_REFUSED = [
    "[ip, user, status]",            # space-delimited
    "%ERR.*%",                       # regular expression
    "ERROR:",                        # bare term with other characters
    "a.b",
    "-",
    "?",
    '"unterminated',
    '"bad \\n escape"',
    "?ERROR WARN",                   # ? mixed with other terms
    "?ERROR -WARN",
    '"a"b',
    "{ $.a = 1",
    "{ $.a = 1 } extra",
    "{ }",
    "{ a = 1 }",
    "{ $ = 1 }",
    "{ $. = 1 }",
    "{ $.a }",
    "{ $.a = }",
    "{ $.a == 1 }",
    "{ $.a > \"x\" }",
    "{ $.a > x }",
    "{ $.a = true }",
    "{ $.a = null }",
    "{ $.a is true }",
    "{ $.a IS MAYBE }",
    "{ $.a NOT THERE }",
    "{ $.a[*] = 1 }",
    "{ $.a.* = 1 }",
    "{ $.a = 'x' }",
    "{ $.a = 1 && $.b = 2 || $.c = 3 }",
    "{ ($.a = 1 }",
    "{ $.a = 1) }",
    "{ $.a = 1 $.b = 2 }",
    "{ && $.a = 1 }",
    "{ $.a = 1 && }",
]


class FilterPatternTest(unittest.TestCase):
    """emu/logs_filter.py alone."""

    def test_matches(self):
        for pattern, message, expected in FILTER_CASES:
            with self.subTest(pattern=pattern, message=message):
                self.assertIs(logs_filter.compile_pattern(pattern)(message), expected)

    def test_refused(self):
        for pattern in FILTER_REFUSED:
            with self.subTest(pattern=pattern):
                with self.assertRaises(logs_filter.PatternError):
                    logs_filter.compile_pattern(pattern)

if __name__ == "__main__":
    unittest.main(warnings="ignore")
