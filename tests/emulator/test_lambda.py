"""Lambda in the emulator, through boto3: functions, states, permissions, tags, Invoke, and
the runtime (handlers in a subprocess calling back with the role's credentials)."""

import base64
import hashlib
import io
import json
import os
import sys
import time
import unittest
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ACCOUNT_A, ACCOUNT_B, EmulatorCase, Harness  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

R = "us-east-1"
LAMBDA_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})

HANDLER = r'''
import json, os, time
import boto3

_calls = 0

def handler(event, context):
    global _calls
    _calls += 1
    mode = event.get("mode")
    print("mode", mode)
    if mode == "count":
        return {"calls": _calls, "pid": os.getpid()}
    if mode == "whoami":
        ident = boto3.client("sts").get_caller_identity()
        return {"arn": ident["Arn"], "region": os.environ["AWS_REGION"],
                "color": os.environ.get("COLOR"), "fn": context.function_name,
                "remaining": context.get_remaining_time_in_millis() > 0}
    if mode == "rules":
        return boto3.client("events").list_rules()["Rules"]
    if mode == "fail":
        raise ValueError("boom")
    if mode == "sleep":
        time.sleep(5)
    return {"echo": event}
'''


def make_zip(source=HANDLER, name="app.py"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        zf.writestr(info, source)
    return buf.getvalue()


def code_of(cm):
    return cm.exception.response["Error"]["Code"]


class _LambdaCase(EmulatorCase):
    """A role for functions and helpers to make and invoke them."""

    def setUp(self):
        super().setUp()
        self.h.control("POST", "/_emu/lambda-config", {"retry_delays_s": [0.1, 0.1],
                                                       "settle_s": 0.2})
        self.lam = self.h.client("lambda", ACCOUNT_A, R)
        self.iam = self.h.client("iam", ACCOUNT_A, R)
        self.role = self.iam.create_role(RoleName="fn-role",
                                         AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]

    def wait(self):
        status, body = self.h.control("POST", "/_emu/wait-idle", {"timeout_s": 30})
        self.assertEqual(status, 200, body)

    def logs(self):
        return self.h.control("GET", "/_emu/lambda-logs")[1]["logs"]

    def create(self, name="fn", wait=True, **kw):
        args = dict(FunctionName=name, Runtime="python3.12", Role=self.role,
                    Handler="app.handler", Code={"ZipFile": make_zip()})
        args.update(kw)
        out = self.lam.create_function(**args)
        if wait:
            self.wait()
        return out

    def invoke(self, payload, name="fn", **kw):
        out = self.lam.invoke(FunctionName=name, Payload=json.dumps(payload).encode(), **kw)
        return out, json.loads(out["Payload"].read())


class LambdaTest(_LambdaCase):
    # -------------------------------------------------------------- create
    def test_create_defaults_and_states(self):
        data = make_zip()
        out = self.create(wait=False, Environment={"Variables": {"COLOR": "blue"}},
                          Tags={"team": "x"})
        self.assertEqual(out["State"], "Pending")
        self.assertEqual(out["LastUpdateStatus"], "InProgress")
        self.assertEqual(out["Timeout"], 3)
        self.assertEqual(out["MemorySize"], 128)
        self.assertEqual(out["CodeSha256"],
                         base64.b64encode(hashlib.sha256(data).digest()).decode())
        self.assertEqual(out["CodeSize"], len(data))
        self.assertEqual(out["FunctionArn"], "arn:aws:lambda:%s:%s:function:fn" % (R, ACCOUNT_A))
        with self.assertRaises(ClientError) as cm:
            self.invoke({})
        self.assertEqual(code_of(cm), "ResourceConflictException")
        self.wait()
        cfg = self.lam.get_function_configuration(FunctionName="fn")
        self.assertEqual((cfg["State"], cfg["LastUpdateStatus"]), ("Active", "Successful"))
        got = self.lam.get_function(FunctionName="fn")
        self.assertEqual(got["Tags"], {"team": "x"})
        self.assertEqual(got["Configuration"]["Environment"]["Variables"], {"COLOR": "blue"})
        with self.assertRaises(ClientError) as cm:
            self.create()
        self.assertEqual(code_of(cm), "ResourceConflictException")

    def test_role_must_be_assumable(self):
        msg = "The role defined for the function cannot be assumed by Lambda."
        missing = "arn:aws:iam::%s:role/missing" % ACCOUNT_A
        wrong_trust = self.iam.create_role(RoleName="ev-role", AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
        for role in (missing, wrong_trust):
            with self.subTest(role=role):
                with self.assertRaises(ClientError) as cm:
                    self.create(Role=role)
                self.assertEqual(code_of(cm), "InvalidParameterValueException")
                self.assertIn(msg, str(cm.exception))

    def test_role_propagation_delay(self):
        h = Harness(iam_propagation_ms=1500).start()
        try:
            iam = h.client("iam", ACCOUNT_A, R)
            lam = h.client("lambda", ACCOUNT_A, R)
            role = iam.create_role(RoleName="new", AssumeRolePolicyDocument=LAMBDA_TRUST)[
                "Role"]["Arn"]
            args = dict(FunctionName="fn", Runtime="python3.12", Role=role,
                        Handler="app.handler", Code={"ZipFile": make_zip()})
            with self.assertRaises(ClientError) as cm:
                lam.create_function(**args)
            self.assertEqual(code_of(cm), "InvalidParameterValueException")
            self.assertIn("cannot be assumed by Lambda", str(cm.exception))
            time.sleep(1.6)
            self.assertEqual(lam.create_function(**args)["State"], "Pending")
        finally:
            h.stop()

    def test_create_validation(self):
        cases = [({"Runtime": "nodejs18.x"}, "InvalidParameterValueException"),
                 ({"Code": {"ZipFile": b"not a zip"}}, "InvalidParameterValueException"),
                 ({"Environment": {"Variables": {"AWS_REGION": "x"}}},
                  "InvalidParameterValueException"),
                 ({"Timeout": 901}, "ValidationException"),
                 ({"FunctionName": "bad name"}, "ValidationException")]
        for kw, code in cases:
            with self.subTest(kw=kw):
                with self.assertRaises(ClientError) as cm:
                    self.create(wait=False, **kw)
                self.assertEqual(code_of(cm), code)
        self.assertEqual(self.lam.list_functions()["Functions"], [])

    def test_pass_role_required(self):
        deployer = self.iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
                "AWS": "arn:aws:iam::%s:root" % ACCOUNT_A}, "Action": "sts:AssumeRole"}]}))[
            "Role"]["Arn"]
        self.iam.put_role_policy(RoleName="deployer", PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "lambda:*", "Resource": "*"}]}))
        creds = self.h.emu.credentials_for_role(ACCOUNT_A, deployer, "t")
        lam = self.h.client("lambda", ACCOUNT_A, R, credentials=creds)
        with self.assertRaises(ClientError) as cm:
            lam.create_function(FunctionName="fn", Runtime="python3.12", Role=self.role,
                                Handler="app.handler", Code={"ZipFile": make_zip()})
        self.assertEqual(code_of(cm), "AccessDeniedException")
        self.assertIn("iam:PassRole", str(cm.exception))

    # -------------------------------------------------------------- update
    def test_updates_and_conflicts(self):
        self.create()
        new_zip = make_zip(HANDLER + "\n# v2\n")
        out = self.lam.update_function_code(FunctionName="fn", ZipFile=new_zip)
        self.assertEqual(out["LastUpdateStatus"], "InProgress")
        self.assertEqual(out["CodeSha256"],
                         base64.b64encode(hashlib.sha256(new_zip).digest()).decode())
        with self.assertRaises(ClientError) as cm:
            self.lam.update_function_configuration(FunctionName="fn", Timeout=60)
        self.assertEqual(code_of(cm), "ResourceConflictException")
        self.assertIn("An update is in progress for resource: arn:aws:lambda:", str(cm.exception))
        self.wait()
        out = self.lam.update_function_configuration(FunctionName="fn", Timeout=60,
                                                     Environment={"Variables": {"A": "1"}})
        self.assertEqual(out["Timeout"], 60)
        self.wait()
        cfg = self.lam.get_function_configuration(FunctionName="fn")
        self.assertEqual((cfg["LastUpdateStatus"], cfg["Timeout"]), ("Successful", 60))
        self.assertEqual(cfg["Environment"]["Variables"], {"A": "1"})

    # -------------------------------------------------------------- invoke
    def test_invoke_runs_with_role_credentials(self):
        self.create(Environment={"Variables": {"COLOR": "green"}})
        out, body = self.invoke({"mode": "whoami"}, LogType="Tail")
        self.assertEqual(out["StatusCode"], 200)
        self.assertNotIn("FunctionError", out)
        self.assertEqual(body["arn"], "arn:aws:sts::%s:assumed-role/fn-role/fn" % ACCOUNT_A)
        self.assertEqual(body["region"], R)
        self.assertEqual(body["color"], "green")
        self.assertEqual(body["fn"], "fn")
        self.assertTrue(body["remaining"])
        self.assertIn("mode whoami", base64.b64decode(out["LogResult"]).decode())

    def test_role_policies_enforced_inside_handler(self):
        self.create()
        out, body = self.invoke({"mode": "rules"})
        self.assertEqual(out["FunctionError"], "Unhandled")
        self.assertEqual(body["errorType"], "ClientError")
        self.assertIn("AccessDeniedException", body["errorMessage"])
        self.assertIn("events:ListRules", body["errorMessage"])
        self.iam.put_role_policy(RoleName="fn-role", PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "events:ListRules", "Resource": "*"}]}))
        out, body = self.invoke({"mode": "rules"})
        self.assertNotIn("FunctionError", out)
        self.assertEqual(body, [])

    def test_handler_error_and_timeout(self):
        self.create(Timeout=1)
        out, body = self.invoke({"mode": "fail"})
        self.assertEqual(out["FunctionError"], "Unhandled")
        self.assertEqual((body["errorType"], body["errorMessage"]), ("ValueError", "boom"))
        t0 = time.time()
        out, body = self.invoke({"mode": "sleep"})
        self.assertLess(time.time() - t0, 4)
        self.assertEqual(out["FunctionError"], "Unhandled")
        self.assertIn("Task timed out after 1.00 seconds", body["errorMessage"])
        logs = self.logs()
        self.assertEqual([x["status"] for x in logs], ["error", "timeout"])
        self.assertIn("Task timed out after 1.00 seconds", logs[1]["log"])
        self.assertIn("Traceback", logs[0]["log"])

    def test_async_invoke_and_retries(self):
        self.create()
        out = self.lam.invoke(FunctionName="fn", InvocationType="Event",
                              Payload=json.dumps({"mode": "echo"}).encode())
        self.assertEqual(out["StatusCode"], 202)
        out = self.lam.invoke(FunctionName="fn", InvocationType="Event",
                              Payload=json.dumps({"mode": "fail"}).encode())
        self.wait()
        logs = self.logs()
        ok = [x for x in logs if x["status"] == "success"]
        bad = [x for x in logs if x["status"] != "success"]
        self.assertEqual(len(ok), 1)
        self.assertEqual([x["attempt"] for x in bad], [0, 1, 2])   # retried twice
        self.assertEqual(len({x["request_id"] for x in bad}), 1)
        failed = self.h.control("GET", "/_emu/failed-deliveries")[1]["failed_deliveries"]
        self.assertEqual(len(failed), 1)
        self.assertIn("ValueError: boom", failed[0]["reason"])

    def test_warm_environments(self):
        # Lambda reuses an execution environment: module state survives between invocations
        self.create(Timeout=1)
        first = self.invoke({"mode": "count"})[1]
        second = self.invoke({"mode": "count"})[1]
        self.assertEqual((second["calls"], second["pid"]), (first["calls"] + 1, first["pid"]))
        # ... across days of AWS time too (its credentials keep the real clock)
        self.assertEqual(self.h.control("POST", "/_emu/clock", {"advance_s": 5 * 86400})[0], 200)
        out, body = self.invoke({"mode": "whoami"})
        self.assertNotIn("FunctionError", out)
        self.assertEqual(self.invoke({"mode": "count"})[1]["pid"], first["pid"])
        # a handled error keeps it; a timeout ends it
        self.invoke({"mode": "fail"})
        self.assertEqual(self.invoke({"mode": "count"})[1]["pid"], first["pid"])
        self.invoke({"mode": "sleep"})
        after = self.invoke({"mode": "count"})[1]
        self.assertNotEqual(after["pid"], first["pid"])
        self.assertEqual(after["calls"], 1)
        # a new version of the code gets a new environment
        self.lam.update_function_code(FunctionName="fn", ZipFile=make_zip(HANDLER + "\n# v2\n"))
        self.wait()
        self.assertEqual(self.invoke({"mode": "count"})[1]["calls"], 1)
        # the log of each invocation holds its own output only
        logs = self.logs()
        self.assertEqual([x["log"].count("mode count") for x in logs], [1, 1, 0, 1, 0, 1, 0, 1, 1])
        self.assertIn("Traceback", logs[4]["log"])

    def test_exit_and_import_errors(self):
        self.create("exits", Code={"ZipFile": make_zip(
            "import os\ndef handler(event, context):\n    print('bye', flush=True)\n    os._exit(3)\n")})
        out, body = self.invoke({}, name="exits")
        self.assertEqual(out["FunctionError"], "Unhandled")
        self.assertEqual(body["errorType"], "Runtime.ExitError")
        self.assertIn("exit status 3", body["errorMessage"])
        self.assertIn("bye", self.logs()[-1]["log"])
        self.create("broken", Code={"ZipFile": make_zip("import no_such_module\n")})
        for _ in range(2):   # each attempt initialises anew
            out, body = self.invoke({}, name="broken")
            self.assertEqual(body["errorType"], "ModuleNotFoundError")
            self.assertIn("Traceback", self.logs()[-1]["log"])

    # --------------------------------------------------------- permissions
    def test_permissions(self):
        self.create()
        with self.assertRaises(ClientError) as cm:
            self.lam.get_policy(FunctionName="fn")
        self.assertEqual(code_of(cm), "ResourceNotFoundException")
        rule = "arn:aws:events:%s:%s:rule/r" % (R, ACCOUNT_A)
        st = json.loads(self.lam.add_permission(
            FunctionName="fn", StatementId="ev", Action="lambda:InvokeFunction",
            Principal="events.amazonaws.com", SourceArn=rule)["Statement"])
        self.assertEqual(st["Condition"], {"ArnLike": {"AWS:SourceArn": rule}})
        self.assertEqual(st["Principal"], {"Service": "events.amazonaws.com"})
        with self.assertRaises(ClientError) as cm:
            self.lam.add_permission(FunctionName="fn", StatementId="ev",
                                    Action="lambda:InvokeFunction",
                                    Principal="events.amazonaws.com")
        self.assertEqual(code_of(cm), "ResourceConflictException")
        pol = json.loads(self.lam.get_policy(FunctionName="fn")["Policy"])
        self.assertEqual([s["Sid"] for s in pol["Statement"]], ["ev"])
        inv = self.h.control("GET", "/_emu/inventory")[1]["resources"]
        fns = [x for x in inv if x["type"] == "lambda:function"]
        self.assertEqual(fns[0]["permissions"], ["ev"])
        self.lam.remove_permission(FunctionName="fn", StatementId="ev")
        with self.assertRaises(ClientError) as cm:
            self.lam.remove_permission(FunctionName="fn", StatementId="ev")
        self.assertEqual(code_of(cm), "ResourceNotFoundException")

    def test_eventbridge_delivery_needs_invoke_permission(self):
        self.create()
        ev = self.h.client("events", ACCOUNT_A, R)
        fn_arn = "arn:aws:lambda:%s:%s:function:fn" % (R, ACCOUNT_A)
        rule = ev.put_rule(Name="r", EventPattern=json.dumps({"source": ["custom.t"]}))["RuleArn"]
        ev.put_targets(Rule="r", Targets=[{"Id": "fn", "Arn": fn_arn}])

        def ping():
            ev.put_events(Entries=[{"Source": "custom.t", "DetailType": "x",
                                    "Detail": json.dumps({"mode": "echo"})}])
            self.wait()

        ping()   # no permission at all
        self.lam.add_permission(FunctionName="fn", StatementId="other", Principal=
                                "events.amazonaws.com", Action="lambda:InvokeFunction",
                                SourceArn=rule + "-other")
        ping()   # permission for another rule
        failed = self.h.control("GET", "/_emu/failed-deliveries")[1]["failed_deliveries"]
        self.assertEqual(len(failed), 2)
        for f in failed:
            self.assertEqual((f["rule_arn"], f["target_arn"]), (rule, fn_arn))
            self.assertIn("AccessDeniedException", f["reason"])
        self.assertEqual(self.logs(), [])
        self.lam.add_permission(FunctionName="fn", StatementId="ok", Principal=
                                "events.amazonaws.com", Action="lambda:InvokeFunction",
                                SourceArn=rule)
        ping()
        logs = self.logs()
        self.assertEqual(len(logs), 1)
        self.assertEqual(logs[0]["status"], "success")
        self.assertEqual(logs[0]["result"]["echo"]["source"], "custom.t")
        self.assertEqual(logs[0]["result"]["echo"]["detail"], {"mode": "echo"})
        # InputPath narrows what the function receives; InputTransformer is refused
        out = ev.put_targets(Rule="r", Targets=[
            {"Id": "fn", "Arn": fn_arn, "InputPath": "$.detail"},
            {"Id": "tr", "Arn": fn_arn, "InputTransformer": {"InputTemplate": "{}"}}])
        self.assertEqual([e["TargetId"] for e in out["FailedEntries"]], ["tr"])
        ping()
        self.assertEqual(self.logs()[-1]["result"], {"echo": {"mode": "echo"}})

    # ------------------------------------------------------- list/tag/delete
    def test_list_tag_delete(self):
        self.create("one", wait=False)
        self.create("two")
        names = [f["FunctionName"] for f in self.lam.list_functions()["Functions"]]
        self.assertEqual(names, ["one", "two"])
        self.assertEqual(self.h.client("lambda", ACCOUNT_B, R).list_functions()["Functions"], [])
        arn = "arn:aws:lambda:%s:%s:function:one" % (R, ACCOUNT_A)
        self.lam.tag_resource(Resource=arn, Tags={"a": "1", "b": "2"})
        self.lam.untag_resource(Resource=arn, TagKeys=["a"])
        self.assertEqual(self.lam.list_tags(Resource=arn)["Tags"], {"b": "2"})
        self.lam.delete_function(FunctionName=arn)
        with self.assertRaises(ClientError) as cm:
            self.lam.get_function(FunctionName="one")
        self.assertEqual(code_of(cm), "ResourceNotFoundException")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)


def statement(action, resource):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": action, "Resource": resource}]})


class AsyncFailureTest(_LambdaCase):
    """What becomes of an asynchronous invocation: retries, then the on-failure destination
    (AWS's invocation record) or the dead-letter queue (the event), sent as the execution role."""

    def setUp(self):
        super().setUp()
        self.sns = self.h.client("sns", ACCOUNT_A, R)
        self.sqs = self.h.client("sqs", ACCOUNT_A, R)
        self.topic = self.sns.create_topic(Name="failures")["TopicArn"]

    def queue(self, name, client=None, account=ACCOUNT_A):
        url = (client or self.sqs).create_queue(QueueName=name)["QueueUrl"]
        return url, "arn:aws:sqs:%s:%s:%s" % (R, account, name)

    def allow(self, action, resource, name="deliver"):
        self.iam.put_role_policy(RoleName="fn-role", PolicyName=name,
                                 PolicyDocument=statement(action, resource))

    def fire(self, payload, name="fn"):
        self.lam.invoke(FunctionName=name, InvocationType="Event",
                        Payload=json.dumps(payload).encode())
        self.wait()

    def failed(self):
        return self.h.control("GET", "/_emu/failed-deliveries")[1]["failed_deliveries"]

    def published(self):
        return self.h.control("GET", "/_emu/sns/messages")[1]

    def test_event_invoke_config_api(self):
        self.create()
        raw = self.h.client("lambda", ACCOUNT_A, R, validate=False)
        with self.assertRaises(ClientError) as cm:
            self.lam.get_function_event_invoke_config(FunctionName="fn")
        self.assertEqual(code_of(cm), "ResourceNotFoundException")
        for bad in ({"MaximumRetryAttempts": 3}, {"MaximumEventAgeInSeconds": 59}):
            with self.subTest(bad=bad), self.assertRaises(ClientError) as cm:
                raw.put_function_event_invoke_config(FunctionName="fn", **bad)
            self.assertEqual(code_of(cm), "ValidationException")
        with self.assertRaises(ClientError) as cm:
            self.lam.put_function_event_invoke_config(FunctionName="fn", DestinationConfig={
                "OnFailure": {"Destination": "arn:aws:iam::%s:role/x" % ACCOUNT_A}})
        self.assertEqual(code_of(cm), "InvalidParameterValueException")
        # the execution role must be allowed to deliver, as Lambda checks when it is set
        with self.assertRaises(ClientError) as cm:
            self.lam.put_function_event_invoke_config(FunctionName="fn", DestinationConfig={
                "OnFailure": {"Destination": self.topic}})
        self.assertEqual(code_of(cm), "InvalidParameterValueException")
        self.assertIn("does not have permissions to call Publish on " + self.topic,
                      str(cm.exception))
        self.allow("sns:Publish", self.topic)
        out = self.lam.put_function_event_invoke_config(
            FunctionName="fn", MaximumRetryAttempts=1,
            DestinationConfig={"OnFailure": {"Destination": self.topic}})
        self.assertEqual(out["FunctionArn"],
                         "arn:aws:lambda:%s:%s:function:fn:$LATEST" % (R, ACCOUNT_A))
        self.assertEqual(out["MaximumRetryAttempts"], 1)
        out = self.lam.update_function_event_invoke_config(FunctionName="fn",
                                                           MaximumEventAgeInSeconds=600)
        self.assertEqual((out["MaximumRetryAttempts"], out["MaximumEventAgeInSeconds"],
                          out["DestinationConfig"]["OnFailure"]["Destination"]),
                         (1, 600, self.topic))
        out = self.lam.put_function_event_invoke_config(FunctionName="fn",
                                                        MaximumRetryAttempts=0)
        self.assertNotIn("MaximumEventAgeInSeconds", out)   # Put replaces everything
        self.assertEqual(len(self.lam.list_function_event_invoke_configs(
            FunctionName="fn")["FunctionEventInvokeConfigs"]), 1)
        self.lam.delete_function_event_invoke_config(FunctionName="fn")
        with self.assertRaises(ClientError) as cm:
            self.lam.delete_function_event_invoke_config(FunctionName="fn")
        self.assertEqual(code_of(cm), "ResourceNotFoundException")

    def test_on_failure_destination_gets_the_invocation_record(self):
        self.create()
        self.allow("sns:Publish", self.topic)
        self.lam.put_function_event_invoke_config(FunctionName="fn", DestinationConfig={
            "OnFailure": {"Destination": self.topic}})
        self.fire({"mode": "fail", "snapshot": "db1"})
        attempts = [x for x in self.logs() if x["status"] != "success"]
        self.assertEqual([x["attempt"] for x in attempts], [0, 1, 2])   # two retries
        self.assertEqual(self.failed(), [])
        sent = self.published()
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent[0]["topic_arn"], self.topic)
        record = json.loads(sent[0]["message"])
        self.assertEqual(record["version"], "1.0")
        self.assertRegex(record["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(record["requestContext"], {
            "requestId": attempts[0]["request_id"],
            "functionArn": "arn:aws:lambda:%s:%s:function:fn:$LATEST" % (R, ACCOUNT_A),
            "condition": "RetriesExhausted", "approximateInvokeCount": 3})
        self.assertEqual(record["requestPayload"], {"mode": "fail", "snapshot": "db1"})
        self.assertEqual(record["responseContext"], {"statusCode": 200,
                                                     "executedVersion": "$LATEST",
                                                     "functionError": "Unhandled"})
        self.assertEqual(record["responsePayload"]["errorMessage"], "boom")
        self.assertEqual(record["responsePayload"]["errorType"], "ValueError")
        # without sns:Publish on the topic any more, the record is a failed delivery
        self.iam.delete_role_policy(RoleName="fn-role", PolicyName="deliver")
        self.fire({"mode": "fail"})
        self.assertEqual(len(self.published()), 1)
        failed = self.failed()
        self.assertEqual(len(failed), 1)
        self.assertEqual(failed[0]["target_arn"], self.topic)
        self.assertIn("AuthorizationError", failed[0]["reason"])
        self.assertIn("identity-based policy", failed[0]["reason"])

    def test_cross_account_destination_needs_the_topic_policy(self):
        self.create()
        sns_b = self.h.client("sns", ACCOUNT_B, R)
        topic_b = sns_b.create_topic(Name="central")["TopicArn"]
        self.allow("sns:Publish", topic_b)
        self.lam.put_function_event_invoke_config(FunctionName="fn", MaximumRetryAttempts=0,
                                                  DestinationConfig={
                                                      "OnFailure": {"Destination": topic_b}})
        self.fire({"mode": "fail"})
        self.assertEqual(self.published(), [])
        self.assertIn("resource-based policy", self.failed()[0]["reason"])
        sns_b.set_topic_attributes(TopicArn=topic_b, AttributeName="Policy", AttributeValue=(
            json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": self.role}, "Action": "sns:Publish",
                "Resource": topic_b}]})))
        self.fire({"mode": "fail"})
        record = json.loads(self.published()[0]["message"])
        self.assertEqual(record["requestContext"]["approximateInvokeCount"], 1)

    def test_dead_letter_queue_gets_the_event(self):
        url, arn = self.queue("dlq")
        with self.assertRaises(ClientError) as cm:
            self.create(DeadLetterConfig={"TargetArn": arn})
        self.assertEqual(code_of(cm), "InvalidParameterValueException")
        self.assertIn("does not have permissions to call SendMessage on SQS", str(cm.exception))
        self.allow("sqs:SendMessage", arn)
        out = self.create(DeadLetterConfig={"TargetArn": arn})
        self.assertEqual(out["DeadLetterConfig"], {"TargetArn": arn})
        self.fire({"mode": "fail", "n": 1})
        got = self.sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
        self.assertEqual(json.loads(got[0]["Body"]), {"mode": "fail", "n": 1})
        attrs = got[0]["MessageAttributes"]
        request_id = [x for x in self.logs() if x["status"] != "success"][0]["request_id"]
        self.assertEqual(attrs["RequestID"], {"StringValue": request_id, "DataType": "String"})
        self.assertEqual(attrs["ErrorCode"], {"StringValue": "200", "DataType": "Number"})
        self.assertIn("boom", attrs["ErrorMessage"]["StringValue"])
        self.assertEqual(self.failed(), [])
        # an SNS topic as the dead-letter queue, set with UpdateFunctionConfiguration
        self.allow("sns:Publish", self.topic, name="dlq-topic")
        self.lam.update_function_configuration(FunctionName="fn",
                                               DeadLetterConfig={"TargetArn": self.topic})
        self.wait()
        self.fire({"mode": "fail", "n": 2})
        self.assertEqual(json.loads(self.published()[0]["message"]), {"mode": "fail", "n": 2})
        self.lam.update_function_configuration(FunctionName="fn",
                                               DeadLetterConfig={"TargetArn": ""})
        self.wait()
        self.assertNotIn("DeadLetterConfig", self.lam.get_function_configuration(
            FunctionName="fn"))
        self.fire({"mode": "fail", "n": 3})   # nowhere to go: recorded as before
        self.assertIn("ValueError: boom", self.failed()[0]["reason"])

    def test_success_destination_retry_count_and_event_age(self):
        url, arn = self.queue("results")
        self.create()
        self.allow("sqs:SendMessage", arn)
        self.lam.put_function_event_invoke_config(
            FunctionName="fn", MaximumRetryAttempts=0, DestinationConfig={
                "OnSuccess": {"Destination": arn}, "OnFailure": {"Destination": arn}})
        self.fire({"mode": "echo"})
        self.fire({"mode": "fail"})
        self.assertEqual(len([x for x in self.logs() if x["status"] != "success"]), 1)
        got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        records = sorted((json.loads(m["Body"]) for m in got),
                         key=lambda r: r["requestContext"]["condition"])
        self.assertEqual([r["requestContext"]["condition"] for r in records],
                         ["RetriesExhausted", "Success"])
        self.assertEqual(records[1]["responseContext"], {"statusCode": 200,
                                                         "executedVersion": "$LATEST"})
        self.assertEqual(records[1]["responsePayload"], {"echo": {"mode": "echo"}})
        for m in got:
            self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        # a retry due after the event's maximum age: EventAgeExceeded, no second attempt
        self.h.control("POST", "/_emu/lambda-config", {"retry_delays_s": [120, 120]})
        self.lam.put_function_event_invoke_config(
            FunctionName="fn", MaximumEventAgeInSeconds=60,
            DestinationConfig={"OnFailure": {"Destination": arn}})
        self.lam.invoke(FunctionName="fn", InvocationType="Event",
                        Payload=json.dumps({"mode": "fail"}).encode())
        self.h.advance(130)
        self.assertEqual(len([x for x in self.logs() if x["status"] != "success"]), 2)
        record = json.loads(self.sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"])
        self.assertEqual((record["requestContext"]["condition"],
                          record["requestContext"]["approximateInvokeCount"]),
                         ("EventAgeExceeded", 1))

    def test_destinations_not_emulated_are_recorded(self):
        self.create("target")
        self.create()
        target = "arn:aws:lambda:%s:%s:function:target" % (R, ACCOUNT_A)
        self.allow("lambda:InvokeFunction", target)
        self.lam.put_function_event_invoke_config(FunctionName="fn", MaximumRetryAttempts=0,
                                                  DestinationConfig={
                                                      "OnFailure": {"Destination": target}})
        self.fire({"mode": "fail"})
        failed = self.failed()
        self.assertEqual([f["target_arn"] for f in failed], [target])
        self.assertIn("destination type not emulated", failed[0]["reason"])


if __name__ == "__main__":
    unittest.main(warnings="ignore")
