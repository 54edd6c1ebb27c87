"""Helpers of the tests that run the pipeline's functions in the local emulator: packages, roles
with the policies rendered from templates/policies/, functions, and recorders of events.

Not a test itself (FunctionsTestCase has no tests); imported by test_sweep_emulator.py and test_unencrypted_cluster_emulator.py.
"""

import io
import json
import os
import sys
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LAMBDA_DIR = os.path.join(ROOT, "templates", "lambda")
POLICY_DIR = os.path.join(ROOT, "templates", "policies")
sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))
sys.dont_write_bytecode = True

from harness import Harness  # noqa: E402

RECORDER = r'''
import json

def handler(event, context):
    print("RECORDED " + json.dumps(event, sort_keys=True))
    return "recorded"
'''


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


LAMBDA_TRUST = doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole"})


def zip_of(files):
    """{name: text} -> zip bytes (fixed timestamps, sorted names)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            zf.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), files[name])
    return buf.getvalue()


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def render_policy(name, values):
    """templates/policies/<name> with each "${key}" replaced by values[key] (JSON)."""
    text = read(os.path.join(POLICY_DIR, name))
    for key, value in values.items():
        text = text.replace('"${%s}"' % key, json.dumps(value))
    if "${" in text:
        raise AssertionError("%s has a placeholder this test does not know: %s"
                             % (name, text[text.index("${"):][:40]))
    return text


def function_code(module):
    """The package of the pipeline's function `module` (e.g. "share"): it and rdsbk_common.py."""
    return {name: read(os.path.join(LAMBDA_DIR, name))
            for name in (module + ".py", "rdsbk_common.py")}


def shared_key(kms, owner, user):
    """A key of `owner` (kms is its client, in Region-B) whose policy lets `user` use it and
    create grants for RDS, as the pipeline's shared key does; returns its ARN."""
    use = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
           "kms:DescribeKey"]
    grants = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
    policy = doc(
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % owner},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % user},
         "Action": use, "Resource": "*"},
        {"Sid": "Grants", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::%s:root" % user}, "Action": grants,
         "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": True}}})
    return kms.create_key(Policy=policy)["KeyMetadata"]["Arn"]


def create_function(h, account, region, name, code, handler, policy=None, env=None):
    """Function `name` of `code` ({file: text}) in account/region, with a role of that name
    holding `policy` (JSON text, or None); returns the function's ARN."""
    iam = h.client("iam", account, "us-east-1", timeout=60)
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
    if policy is not None:
        iam.put_role_policy(RoleName=name, PolicyName=name, PolicyDocument=policy)
    return h.client("lambda", account, region, timeout=60).create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler=handler, Timeout=60,
        Code={"ZipFile": zip_of(code)}, Environment={"Variables": env or {}})["FunctionArn"]


def create_recorder(h, account, region, name, pattern):
    """Function `name` in account/region, the target of a rule `name` on the default bus there
    matching `pattern`: it prints every event it gets (recorded() reads them back)."""
    arn = create_function(h, account, region, name, {"recorder.py": RECORDER}, "recorder.handler")
    events = h.client("events", account, region, timeout=60)
    rule = events.put_rule(Name=name, EventPattern=json.dumps(pattern))["RuleArn"]
    h.client("lambda", account, region, timeout=60).add_permission(
        FunctionName=name, StatementId="events", Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com", SourceArn=rule)
    out = events.put_targets(Rule=name, Targets=[{"Id": "rec", "Arn": arn}])
    if out["FailedEntryCount"]:
        raise AssertionError("put_targets: %s" % out)


def logs(h, function):
    return [x for x in h.control("GET", "/_emu/lambda-logs")[1]["logs"]
            if x["function"] == function]


def invoke(h, account, region, name, event):
    """Invokes function `name` with `event` and waits for its reply: (result, None), or (the
    error reply, the invocation's log) when the handler raised."""
    out = h.client("lambda", account, region, timeout=60).invoke(
        FunctionName=name, Payload=json.dumps(event).encode())
    result = json.loads(out["Payload"].read())
    if "FunctionError" in out:
        return result, logs(h, name)[-1]["log"]
    return result, None


def recorded(h, recorder):
    """The events the recorder function `recorder` got, in order."""
    events = []
    for rec in logs(h, recorder):
        for line in rec["log"].splitlines():
            if line.startswith("RECORDED "):
                events.append(json.loads(line[len("RECORDED "):]))
    return events


def log_lines(h, function):
    """The JSON log lines of the last invocation of `function`."""
    log = logs(h, function)[-1]["log"]
    return [json.loads(x) for x in log.splitlines() if x.startswith("{")]


class FunctionsTestCase(unittest.TestCase):
    """One emulator for the class, put back in SETTINGS before each test."""

    # Empty, with fast asynchronous retries and quick RDS copies.
    SETTINGS = (("/_emu/reset", None),
                ("/_emu/lambda-config", {"retry_delays_s": [0.1, 0.1], "settle_s": 0.1}),
                ("/_emu/rds/config", {"delay_s": 0.2}))

    @classmethod
    def setUpClass(cls):
        cls.h = Harness().start()
        cls.addClassCleanup(cls.h.stop)

    def setUp(self):
        for path, body in self.SETTINGS:
            status, out = self.h.control("POST", path, body)
            self.assertEqual(status, 200, out)

    def wait(self):
        status, body = self.h.control("POST", "/_emu/wait-idle", {"timeout_s": 60})
        self.assertEqual(status, 200, body)
