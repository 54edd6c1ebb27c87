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


class LambdaTest(EmulatorCase):
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


if __name__ == "__main__":
    unittest.main(warnings="ignore")
