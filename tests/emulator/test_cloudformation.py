"""CloudFormation in the emulator: the template engine, stacks (create, update, rollback,
delete), service-managed StackSets over the emulated organisation (operations Region after
Region, failure tolerance, updates, automatic deployment when an account moves, deletion) and
Lambda code read from S3 with the caller's rights."""

import io
import json
import os
import sys
import time
import unittest
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from emu import cfn_resources  # noqa: E402
from emu.cfn_template import Resolver, Template, TemplateError, parse  # noqa: E402

MGMT, M1, M2, M3 = "111111111111", "222222222222", "333333333333", "444444444444"
ORG = "o-a1b2c3d4e5"
ROOT = "r-ab12"
OU = "ou-ab12-11111111"
R1, R2 = "us-east-1", "eu-west-1"
TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}


def code_of(cm):
    return cm.exception.response["Error"]["Code"]


def message_of(cm):
    return cm.exception.response["Error"]["Message"]


def policy(*actions):
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}


def zip_of(source):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.py", source)
    return buf.getvalue()


def engine(doc, params=None, pseudo=None):
    t = Template(doc, cfn_resources.TYPES)
    r = Resolver(t, t.bind_parameters(params or []), pseudo or {"AWS::Region": R1,
                                                                  "AWS::AccountId": MGMT})
    return t, r


class TemplateEngineTest(unittest.TestCase):
    """The engine alone (no server)."""

    def queue(self, **props):
        return {"Type": "AWS::SQS::Queue", "Properties": props}

    def test_refusals_worded_as_cloudformation(self):
        cases = [
            ({"Resources": {"A": {"Type": "AWS::Foo::Bar"}}},
             "Template format error: Unrecognized resource types: [AWS::Foo::Bar]"),
            ({"Resources": {"A": self.queue(QueueName={"Ref": "Nope"})}},
             "Template format error: Unresolved resource dependencies [Nope] in the Resources "
             "block of the template"),
            ({"Resources": {"A": self.queue(QueueName={"Ref": "B"}),
                            "B": self.queue(QueueName={"Fn::GetAtt": ["A", "QueueName"]})}},
             "Circular dependency between resources: [A, B]"),
            ({"Resources": {"A": dict(self.queue(), DependsOn="Z")}},
             "Template format error: Unresolved resource dependencies [Z] in the Resources "
             "block of the template"),
            ({"Resources": {"A": self.queue(QueueName={"Fn::GetAtt": "B.Nope"}),
                            "B": self.queue()}},
             "Template error: resource B does not support attribute type Nope in Fn::GetAtt"),
            ({"Resources": {}}, "Template format error: At least one Resources member must be "
                                "defined."),
        ]
        for doc, message in cases:
            with self.assertRaises(TemplateError) as cm:
                Template(doc, cfn_resources.TYPES)
            self.assertEqual(str(cm.exception), message)
        with self.assertRaisesRegex(TemplateError, "YAML templates are not supported"):
            parse("Resources:\n  A:\n    Type: AWS::SQS::Queue\n")

    def test_parameters(self):
        doc = {"Parameters": {"Env": {"Type": "String", "AllowedValues": ["prod", "dev"]},
                              "N": {"Type": "Number", "Default": 3},
                              "Name": {"Type": "String", "AllowedPattern": "[a-z]+",
                                       "Default": "abc", "NoEcho": True},
                              "L": {"Type": "CommaDelimitedList", "Default": "a, b,c"}},
               "Resources": {"A": self.queue()}}
        t = Template(doc, cfn_resources.TYPES)
        with self.assertRaisesRegex(TemplateError, r"^Parameters: \[Env\] must have values$"):
            t.bind_parameters([])
        with self.assertRaisesRegex(TemplateError, "must be one of AllowedValues"):
            t.bind_parameters([{"ParameterKey": "Env", "ParameterValue": "qa"}])
        with self.assertRaisesRegex(TemplateError, "must be a number"):
            t.bind_parameters([{"ParameterKey": "Env", "ParameterValue": "dev"},
                               {"ParameterKey": "N", "ParameterValue": "x"}])
        with self.assertRaisesRegex(TemplateError, "must match pattern"):
            t.bind_parameters([{"ParameterKey": "Env", "ParameterValue": "dev"},
                               {"ParameterKey": "Name", "ParameterValue": "A1"}])
        with self.assertRaisesRegex(TemplateError, r"Parameters: \[X\] do not exist"):
            t.bind_parameters([{"ParameterKey": "Env", "ParameterValue": "dev"},
                               {"ParameterKey": "X", "ParameterValue": "1"}])
        values = t.bind_parameters([{"ParameterKey": "Env", "ParameterValue": "dev"}])
        self.assertEqual(values, {"Env": "dev", "N": "3", "Name": "abc", "L": "a, b,c"})
        self.assertTrue(t.no_echo("Name"))
        r = Resolver(t, values, {})
        self.assertEqual(r.value({"Ref": "L"}), ["a", "b", "c"])

    def test_intrinsics_and_conditions(self):
        doc = {"Parameters": {"Env": {"Type": "String", "Default": "prod"}},
               "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
                              "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
                              "Both": {"Fn::And": [{"Condition": "IsProd"},
                                                   {"Fn::Or": [{"Condition": "IsDev"},
                                                               {"Fn::Equals": ["a", "a"]}]}]}},
               "Resources": {"Q": self.queue(), "D": dict(self.queue(), Condition="IsDev")}}
        t, r = engine(doc)
        r.made["Q"] = {"ref": "https://q", "attrs": {"Arn": "arn:q", "QueueName": "q"}}
        self.assertEqual(t.order, ["Q", "D"])
        self.assertTrue(r.condition("Both"))
        self.assertFalse(r.included("D"))
        v = r.value
        self.assertEqual(v({"Fn::Sub": "${AWS::Region}/${Q.Arn}/${!Literal}/${Env}"}),
                         "us-east-1/arn:q/${Literal}/prod")
        self.assertEqual(v({"Fn::Sub": ["${x}-${Q}", {"x": {"Ref": "Env"}}]}), "prod-https://q")
        self.assertEqual(v({"Fn::Join": ["-", ["a", {"Ref": "Env"}]]}), "a-prod")
        self.assertEqual(v({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}), "b")
        self.assertEqual(v({"Fn::If": ["IsProd", "yes", "no"]}), "yes")
        self.assertEqual(v({"A": {"Fn::If": ["IsDev", 1, {"Ref": "AWS::NoValue"}]}, "B": 2}),
                         {"B": 2})
        self.assertEqual(v({"Fn::Base64": "hi"}), "aGk=")
        self.assertEqual(v({"Fn::GetAtt": "Q.QueueName"}), "q")

    def test_dependency_order_follows_refs_and_depends_on(self):
        doc = {"Resources": {
            "C": dict(self.queue(QueueName={"Fn::Sub": "${B.QueueName}-c"}), DependsOn=["A"]),
            "B": self.queue(QueueName={"Ref": "A"}),
            "A": self.queue()}}
        self.assertEqual(Template(doc, cfn_resources.TYPES).order, ["A", "B", "C"])


class CloudFormationCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = Harness(accounts=(MGMT, M1, M2, M3)).start()
        cls.addClassCleanup(cls.h.stop)

    def setUp(self):
        self.h.control("POST", "/_emu/reset")

    def c(self, service, account=MGMT, region=R1):
        return self.h.client(service, account, "us-east-1" if service == "iam" else region)

    def idle(self):
        status, out = self.h.control("POST", "/_emu/wait-idle", {})
        self.assertEqual(status, 200, out)

    def inventory(self, service=None):
        items = self.h.control("GET", "/_emu/inventory")[1]["resources"]
        return [i for i in items if service is None or i["service"] == service]


class StackTest(CloudFormationCase):
    def create(self, template, name="s1", wait=True, **kw):
        cfn = self.c("cloudformation")
        sid = cfn.create_stack(StackName=name, TemplateBody=json.dumps(template), **kw)["StackId"]
        if wait:
            self.idle()
        return sid, cfn.describe_stacks(StackName=sid)["Stacks"][0]

    def test_validate_template_limits_and_capabilities(self):
        cfn = self.c("cloudformation")
        role = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": TRUST}}
        doc = {"Description": "d", "Parameters": {"P": {"Type": "String", "Default": "v"}},
               "Resources": {"R": role}}
        out = cfn.validate_template(TemplateBody=json.dumps(doc))
        self.assertEqual(out["Capabilities"], ["CAPABILITY_IAM"])
        self.assertEqual(out["Parameters"][0]["ParameterKey"], "P")
        big = json.dumps(dict(doc, Description="x" * 51200))
        with self.assertRaises(ClientError) as cm:
            cfn.validate_template(TemplateBody=big)
        self.assertEqual(code_of(cm), "ValidationError")
        with self.assertRaises(ClientError) as cm:
            cfn.validate_template(TemplateBody="Resources: {}\n")
        self.assertIn("YAML", message_of(cm))
        with self.assertRaises(ClientError) as cm:
            cfn.create_stack(StackName="s", TemplateBody=json.dumps(doc))
        self.assertEqual((code_of(cm), message_of(cm)), ("InsufficientCapabilitiesException",
                                                         "Requires capabilities : [CAPABILITY_IAM]"))
        named = {"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": "n", "AssumeRolePolicyDocument": TRUST}}}}
        with self.assertRaises(ClientError) as cm:
            cfn.create_stack(StackName="s", TemplateBody=json.dumps(named),
                             Capabilities=["CAPABILITY_IAM"])
        self.assertEqual(message_of(cm), "Requires capabilities : [CAPABILITY_NAMED_IAM]")
        with self.assertRaises(ClientError) as cm:
            cfn.create_stack(StackName="s", TemplateBody=json.dumps(
                {"Parameters": {"X": {"Type": "String"}}, "Resources": {"R": role}}),
                Capabilities=["CAPABILITY_IAM"])
        self.assertEqual(message_of(cm), "Parameters: [X] must have values")

    def test_template_url_read_with_the_callers_rights(self):
        s3 = self.c("s3")
        s3.create_bucket(Bucket="tpl-bucket")
        body = json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::Queue",
                                               "Properties": {"QueueName": "from-url"}}}})
        s3.put_object(Bucket="tpl-bucket", Key="t/q.json", Body=body.encode())
        cfn = self.c("cloudformation")
        for i, url in enumerate(("https://tpl-bucket.s3.us-east-1.amazonaws.com/t/q.json",
                                 "https://s3.amazonaws.com/tpl-bucket/t/q.json")):
            out = cfn.validate_template(TemplateURL=url)
            self.assertEqual(out["Parameters"], [])
        cfn.create_stack(StackName="u", TemplateURL="https://tpl-bucket.s3.amazonaws.com/t/q.json")
        self.idle()
        # boto3 decodes a JSON TemplateBody
        self.assertEqual(cfn.get_template(StackName="u")["TemplateBody"], json.loads(body))
        self.assertIn("from-url", self.c("sqs").list_queues()["QueueUrls"][0])
        # another account without a bucket policy is refused
        with self.assertRaises(ClientError) as cm:
            self.c("cloudformation", M1).validate_template(
                TemplateURL="https://tpl-bucket.s3.amazonaws.com/t/q.json")
        self.assertEqual(code_of(cm), "ValidationError")
        self.assertIn("Access Denied", message_of(cm))
        with self.assertRaises(ClientError) as cm:
            cfn.validate_template(TemplateURL="https://example.com/q.json")
        self.assertEqual(message_of(cm), "TemplateURL must be a supported URL.")

    def test_every_resource_type_created_and_deleted(self):
        key_policy = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}},
            "Action": "kms:*", "Resource": "*"}]}
        doc = {"Resources": {
            "Key": {"Type": "AWS::KMS::Key", "Properties": {
                "KeyPolicy": key_policy, "Description": "k", "EnableKeyRotation": True,
                "PendingWindowInDays": 7}},
            "Alias": {"Type": "AWS::KMS::Alias", "Properties": {
                "AliasName": "alias/cfn-test", "TargetKeyId": {"Ref": "Key"}}},
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "cfn-topic"}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {
                "QueueName": "cfn-queue", "MessageRetentionPeriod": 1209600,
                "SqsManagedSseEnabled": True}},
            "TopicPolicy": {"Type": "AWS::SNS::TopicPolicy", "Properties": {
                "Topics": [{"Ref": "Topic"}], "PolicyDocument": {
                    "Version": "2012-10-17", "Statement": [{
                        "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                        "Action": "sns:Publish", "Resource": {"Ref": "Topic"}}]}}},
            "Sub": {"Type": "AWS::SNS::Subscription", "Properties": {
                "TopicArn": {"Ref": "Topic"}, "Protocol": "sqs",
                "Endpoint": {"Fn::GetAtt": ["Queue", "Arn"]}}},
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {
                "LogGroupName": "/cfn/test", "RetentionInDays": 14}},
            "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "cfn-bus"}},
            "BusPolicy": {"Type": "AWS::Events::EventBusPolicy", "Properties": {
                "EventBusName": {"Ref": "Bus"}, "StatementId": "from-m1",
                "Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % M1},
                              "Action": "events:PutEvents",
                              "Resource": {"Fn::GetAtt": ["Bus", "Arn"]}}}},
            "Rule": {"Type": "AWS::Events::Rule", "Properties": {
                "EventBusName": {"Ref": "Bus"}, "EventPattern": {"source": ["x"]},
                "Targets": [{"Id": "t", "Arn": {"Ref": "Topic"}}]}},
        }, "Outputs": {"Rule": {"Value": {"Ref": "Rule"}},
                       "Key": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}}}}
        sid, st = self.create(doc)
        self.assertEqual(st["StackStatus"], "CREATE_COMPLETE", st.get("StackStatusReason"))
        outputs = {o["OutputKey"]: o["OutputValue"] for o in st["Outputs"]}
        self.assertTrue(outputs["Rule"].startswith("cfn-bus|s1-Rule-"))
        self.assertTrue(outputs["Key"].startswith("arn:aws:kms:us-east-1:%s:key/" % MGMT))
        bus = self.c("events").describe_event_bus(Name="cfn-bus")
        self.assertEqual(json.loads(bus["Policy"])["Statement"][0]["Sid"], "from-m1")
        self.assertEqual(self.c("logs").describe_log_groups()["logGroups"][0]["retentionInDays"],
                         14)
        services = {i["service"] for i in self.inventory()}
        self.assertTrue({"sqs", "sns", "logs", "events", "kms", "cloudformation"} <= services)
        self.c("cloudformation").delete_stack(StackName="s1")
        self.idle()
        left = [i for i in self.inventory() if not (i["service"] == "kms" and
                                                    (i.get("manager") == "AWS" or
                                                     i.get("state") == "PendingDeletion"))]
        self.assertEqual(left, [])
        events = self.c("cloudformation").describe_stack_events(StackName=sid)["StackEvents"]
        self.assertEqual(events[0]["ResourceStatus"], "DELETE_COMPLETE")

    def test_failure_rolls_back_in_reverse_and_reports(self):
        doc = {"Resources": {
            "Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "rb-q"}},
            "Fn": {"Type": "AWS::Lambda::Function", "DependsOn": "Q", "Properties": {
                "Runtime": "python3.9", "Handler": "index.handler",
                "Role": "arn:aws:iam::%s:role/missing" % MGMT,
                "Code": {"ZipFile": "def handler(e, c): return 1"}}}}}
        sid, st = self.create(doc)
        self.assertEqual(st["StackStatus"], "ROLLBACK_COMPLETE")
        self.assertIn("ResourceLogicalId:Fn, ResourceType:AWS::Lambda::Function",
                      st["StackStatusReason"])
        self.assertIn("InvalidParameterValueException", st["StackStatusReason"])
        self.assertEqual(self.c("sqs").list_queues().get("QueueUrls", []), [])
        res = {r["LogicalResourceId"]: r for r in self.c("cloudformation").describe_stack_resources(
            StackName=sid)["StackResources"]}
        self.assertEqual(res["Q"]["ResourceStatus"], "DELETE_COMPLETE")
        # an unknown property fails the resource the way CloudFormation words it
        bad = {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"Colour": "red"}}}}
        _, st = self.create(bad, name="s2")
        self.assertIn("Encountered unsupported property Colour", st["StackStatusReason"])
        missing = {"Resources": {"A": {"Type": "AWS::KMS::Alias",
                                       "Properties": {"AliasName": "alias/x"}}}}
        _, st = self.create(missing, name="s3")
        self.assertIn("Property TargetKeyId cannot be empty", st["StackStatusReason"])
        with self.assertRaises(ClientError) as cm:
            self.c("cloudformation").update_stack(StackName="s3", TemplateBody=json.dumps(bad))
        self.assertIn("ROLLBACK_COMPLETE state and can not be updated", message_of(cm))

    def test_update_in_place_add_remove_and_named_replacement(self):
        def doc(retention, extra=True, role_policy="sqs:*"):
            d = {"Resources": {
                "Q": {"Type": "AWS::SQS::Queue", "Properties": {
                    "QueueName": "up-q", "MessageRetentionPeriod": retention}},
                "Role": {"Type": "AWS::IAM::Role", "Properties": {
                    "RoleName": "up-role", "AssumeRolePolicyDocument": TRUST,
                    "Policies": [{"PolicyName": "p", "PolicyDocument": policy(role_policy)}]}}}}
            if extra:
                d["Resources"]["L"] = {"Type": "AWS::Logs::LogGroup",
                                       "Properties": {"LogGroupName": "/up"}}
            return d
        caps = ["CAPABILITY_NAMED_IAM"]
        _, st = self.create(doc(600, extra=False), Capabilities=caps)
        self.assertEqual(st["StackStatus"], "CREATE_COMPLETE")
        cfn = self.c("cloudformation")
        cfn.update_stack(StackName="s1", TemplateBody=json.dumps(doc(900, role_policy="sns:*")),
                         Capabilities=caps)
        self.idle()
        st = cfn.describe_stacks(StackName="s1")["Stacks"][0]
        self.assertEqual(st["StackStatus"], "UPDATE_COMPLETE", st.get("StackStatusReason"))
        url = self.c("sqs").get_queue_url(QueueName="up-q")["QueueUrl"]
        self.assertEqual(self.c("sqs").get_queue_attributes(
            QueueUrl=url, AttributeNames=["MessageRetentionPeriod"])["Attributes"],
            {"MessageRetentionPeriod": "900"})
        doc_now = self.c("iam").get_role_policy(RoleName="up-role", PolicyName="p")
        self.assertEqual(doc_now["PolicyDocument"]["Statement"][0]["Action"], ["sns:*"])
        self.assertEqual(len(self.c("logs").describe_log_groups()["logGroups"]), 1)
        with self.assertRaises(ClientError) as cm:
            cfn.update_stack(StackName="s1", TemplateBody=json.dumps(doc(900, role_policy="sns:*")),
                             Capabilities=caps)
        self.assertEqual(message_of(cm), "No updates are to be performed.")
        # removing L deletes it
        cfn.update_stack(StackName="s1", TemplateBody=json.dumps(doc(900, extra=False)),
                         Capabilities=caps)
        self.idle()
        self.assertEqual(self.c("logs").describe_log_groups()["logGroups"], [])
        # a custom-named queue cannot be replaced under its name (FifoQueue-free: QueueName
        # kept, but a change of a replacement property would need a new queue); rename works
        d = doc(900, extra=False)
        d["Resources"]["Q"]["Properties"]["QueueName"] = "up-q2"
        cfn.update_stack(StackName="s1", TemplateBody=json.dumps(d), Capabilities=caps)
        self.idle()
        names = [u.rsplit("/", 1)[1] for u in self.c("sqs").list_queues()["QueueUrls"]]
        self.assertEqual(names, ["up-q2"])
        # a failing update rolls back what it changed
        d2 = json.loads(json.dumps(d))
        d2["Resources"]["Role"]["Properties"]["Policies"][0]["PolicyDocument"] = policy("kms:*")
        d2["Resources"]["Bad"] = {"Type": "AWS::KMS::Alias", "DependsOn": "Role",
                                  "Properties": {"AliasName": "alias/x", "TargetKeyId": "nope"}}
        cfn.update_stack(StackName="s1", TemplateBody=json.dumps(d2), Capabilities=caps)
        self.idle()
        st = cfn.describe_stacks(StackName="s1")["Stacks"][0]
        self.assertEqual(st["StackStatus"], "UPDATE_ROLLBACK_COMPLETE")
        doc_now = self.c("iam").get_role_policy(RoleName="up-role", PolicyName="p")
        self.assertEqual(doc_now["PolicyDocument"]["Statement"][0]["Action"], ["sqs:*"])


class StackSetTest(CloudFormationCase):
    def setUp(self):
        super().setUp()
        status, out = self.h.control("POST", "/_emu/organizations", {
            "id": ORG, "management": MGMT, "ous": {OU: [MGMT, M1, M2]}, "accounts": [M3]})
        self.assertEqual(status, 200, out)
        # the code bucket of the management account admits the whole organisation
        s3 = self.c("s3", MGMT, R2)
        s3.create_bucket(Bucket="org-code",
                         CreateBucketConfiguration={"LocationConstraint": R2})
        s3.put_object(Bucket="org-code", Key="fn.zip",
                      Body=zip_of("def handler(e, c):\n    return 'ok'\n"))
        s3.put_bucket_policy(Bucket="org-code", Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::org-code/*",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}}]}))

    @staticmethod
    def template(action="logs:*"):
        """The backup Region (R1) makes a role; the source Region (R2) a function using it,
        with code from the organisation's bucket."""
        return {
            "Conditions": {"Backup": {"Fn::Equals": [{"Ref": "AWS::Region"}, R1]},
                           "Source": {"Fn::Not": [{"Condition": "Backup"}]}},
            "Resources": {
                "Role": {"Type": "AWS::IAM::Role", "Condition": "Backup", "Properties": {
                    "RoleName": "ss-fn-role", "AssumeRolePolicyDocument": TRUST,
                    "Policies": [{"PolicyName": "p", "PolicyDocument": policy(action)}]}},
                "Fn": {"Type": "AWS::Lambda::Function", "Condition": "Source", "Properties": {
                    "FunctionName": "ss-fn", "Runtime": "python3.9", "Handler": "index.handler",
                    "Role": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"
                                        "ss-fn-role"},
                    "Code": {"S3Bucket": "org-code", "S3Key": "fn.zip"}}}}}

    def create_set(self, name="pipe", auto=True):
        cfn = self.c("cloudformation")
        cfn.create_stack_set(StackSetName=name, TemplateBody=json.dumps(self.template()),
                             PermissionModel="SERVICE_MANAGED",
                             Capabilities=["CAPABILITY_NAMED_IAM"],
                             AutoDeployment={"Enabled": auto,
                                             "RetainStacksOnAccountRemoval": False})
        return cfn

    def instances(self, cfn, name="pipe"):
        return {(i["Account"], i["Region"]): i
                for i in cfn.list_stack_instances(StackSetName=name)["Summaries"]}

    def op(self, cfn, op_id, name="pipe"):
        return cfn.describe_stack_set_operation(StackSetName=name,
                                                OperationId=op_id)["StackSetOperation"]

    def test_create_refusals(self):
        cfn = self.c("cloudformation")
        body = json.dumps(self.template())
        with self.assertRaises(ClientError) as cm:
            cfn.create_stack_set(StackSetName="x", TemplateBody=body,
                                 PermissionModel="SERVICE_MANAGED",
                                 Capabilities=["CAPABILITY_NAMED_IAM"])
        self.assertIn("AutoDeployment", message_of(cm))
        with self.assertRaises(ClientError) as cm:
            cfn.create_stack_set(StackSetName="x", TemplateBody=body,
                                 Capabilities=["CAPABILITY_NAMED_IAM"])
        self.assertEqual(code_of(cm), "ValidationError")
        with self.assertRaises(ClientError) as cm:
            self.c("cloudformation", M1).create_stack_set(
                StackSetName="x", TemplateBody=body, PermissionModel="SERVICE_MANAGED",
                Capabilities=["CAPABILITY_NAMED_IAM"], AutoDeployment={"Enabled": True})
        self.assertIn("not a management account", message_of(cm))
        with self.assertRaises(ClientError) as cm:
            cfn.create_stack_set(StackSetName="x", TemplateBody=body,
                                 PermissionModel="SERVICE_MANAGED",
                                 AutoDeployment={"Enabled": True})
        self.assertEqual(code_of(cm), "InsufficientCapabilitiesException")
        cfn = self.create_set()
        with self.assertRaises(ClientError) as cm:
            cfn.create_stack_instances(StackSetName="pipe", Accounts=[M1], Regions=[R1])
        self.assertEqual(code_of(cm), "ValidationError")

    def test_lifecycle_regions_in_order_update_auto_deployment_and_cleanup(self):
        t0 = time.time()
        cfn = self.create_set()
        op1 = cfn.create_stack_instances(
            StackSetName="pipe", DeploymentTargets={"OrganizationalUnitIds": [OU]},
            Regions=[R1, R2])["OperationId"]
        # one operation at a time
        with self.assertRaises(ClientError) as cm:
            cfn.update_stack_set(StackSetName="pipe", UsePreviousTemplate=True,
                                 Capabilities=["CAPABILITY_NAMED_IAM"])
        self.assertEqual(code_of(cm), "OperationInProgressException")
        self.assertEqual(self.op(cfn, op1)["Status"], "RUNNING")
        self.idle()
        op = self.op(cfn, op1)
        self.assertEqual((op["Status"], op["Action"]), ("SUCCEEDED", "CREATE"))
        inst = self.instances(cfn)
        # never the management account, although it sits in the OU
        self.assertEqual(sorted(inst), sorted([(M1, R1), (M1, R2), (M2, R1), (M2, R2)]))
        for i in inst.values():
            self.assertEqual((i["Status"], i["StackInstanceStatus"]["DetailedStatus"],
                              i["OrganizationalUnitId"]), ("CURRENT", "SUCCEEDED", OU))
        # the resources are in the member accounts, made by a principal that is no IAM role
        fn = self.c("lambda", M1, R2).get_function(FunctionName="ss-fn")["Configuration"]
        self.assertEqual(fn["Role"], "arn:aws:iam::%s:role/ss-fn-role" % M1)
        roles = [r["RoleName"] for r in self.c("iam", M2).list_roles()["Roles"]]
        self.assertEqual(roles, ["ss-fn-role"])
        stacks = self.c("cloudformation", M1, R1).describe_stacks()["Stacks"]
        self.assertEqual(len(stacks), 1)
        self.assertTrue(stacks[0]["StackName"].startswith("StackSet-pipe-"))
        log = self.h.control("GET", "/_emu/requests")[1]["requests"]
        creators = {(e["account"], e["principal"]) for e in log
                    if e.get("operation") == "CreateFunction"}
        self.assertEqual({a for a, _ in creators}, {M1, M2})
        for _, principal in creators:
            self.assertRegex(principal, r"^arn:aws:sts::\d{12}:assumed-role/stacksets-exec-")
        results = cfn.list_stack_set_operation_results(StackSetName="pipe", OperationId=op1)
        self.assertEqual({r["Status"] for r in results["Summaries"]}, {"SUCCEEDED"})
        with self.assertRaises(ClientError) as cm:
            cfn.delete_stack_set(StackSetName="pipe")
        self.assertEqual(code_of(cm), "StackSetNotEmptyException")

        # update: a new role policy in every instance, OUTDATED while it runs
        op2 = cfn.update_stack_set(StackSetName="pipe",
                                   TemplateBody=json.dumps(self.template("sqs:*")),
                                   Capabilities=["CAPABILITY_NAMED_IAM"])["OperationId"]
        statuses = {i["Status"] for i in self.instances(cfn).values()}
        self.assertIn("OUTDATED", statuses)
        self.idle()
        self.assertEqual(self.op(cfn, op2)["Status"], "SUCCEEDED")
        self.assertEqual({i["Status"] for i in self.instances(cfn).values()}, {"CURRENT"})
        for account in (M1, M2):
            doc = self.c("iam", account).get_role_policy(RoleName="ss-fn-role", PolicyName="p")
            self.assertEqual(doc["PolicyDocument"]["Statement"][0]["Action"], ["sqs:*"])

        # automatic deployment: only move-account and wait-idle
        self.h.control("POST", "/_emu/organizations/move-account", {"account": M3, "ou": OU})
        self.idle()
        self.assertIn((M3, R2), self.instances(cfn))
        self.assertEqual(self.instances(cfn)[(M3, R2)]["Status"], "CURRENT")
        self.c("lambda", M3, R2).get_function(FunctionName="ss-fn")
        ops = cfn.list_stack_set_operations(StackSetName="pipe")["Summaries"]
        self.assertEqual([o["Action"] for o in ops], ["CREATE", "UPDATE", "CREATE"])
        self.h.control("POST", "/_emu/organizations/move-account", {"account": M3, "ou": ROOT})
        self.idle()
        self.assertNotIn(M3, {a for a, _ in self.instances(cfn)})
        self.assertEqual(self.c("iam", M3).list_roles()["Roles"], [])
        self.assertEqual(cfn.list_stack_set_operations(StackSetName="pipe")["Summaries"][0]
                         ["Action"], "DELETE")

        # delete the instances, then the set: nothing is left
        op3 = cfn.delete_stack_instances(StackSetName="pipe", Regions=[R2, R1],
                                         DeploymentTargets={"OrganizationalUnitIds": [OU]},
                                         RetainStacks=False)["OperationId"]
        self.idle()
        self.assertEqual(self.op(cfn, op3)["Status"], "SUCCEEDED")
        self.assertEqual(self.instances(cfn), {})
        cfn.delete_stack_set(StackSetName="pipe")
        left = [i for i in self.inventory() if i["service"] not in ("s3",) and
                not (i["service"] == "kms" and i.get("manager") == "AWS")]
        self.assertEqual(left, [])
        self.assertLess(time.time() - t0, 20)

    def test_region_order_matters_and_failure_tolerance_stops(self):
        cfn = self.create_set(auto=False)
        op = cfn.create_stack_instances(
            StackSetName="pipe", DeploymentTargets={"OrganizationalUnitIds": [OU]},
            Regions=[R1, R2], OperationPreferences={"RegionOrder": [R2, R1]})["OperationId"]
        self.idle()
        out = self.op(cfn, op)
        self.assertEqual(out["Status"], "FAILED")
        results = {(r["Account"], r["Region"]): r for r in cfn.list_stack_set_operation_results(
            StackSetName="pipe", OperationId=op)["Summaries"]}
        # tolerance 0: the first failure in R2 stops the Region and R1 is never tried
        self.assertEqual(results[(M1, R2)]["Status"], "FAILED")
        self.assertIn("ResourceLogicalId:Fn, ResourceType:AWS::Lambda::Function",
                      results[(M1, R2)]["StatusReason"])
        self.assertEqual({results[(M2, R2)]["Status"], results[(M1, R1)]["Status"],
                          results[(M2, R1)]["Status"]}, {"CANCELLED"})
        inst = cfn.describe_stack_instance(StackSetName="pipe", StackInstanceAccount=M1,
                                           StackInstanceRegion=R2)["StackInstance"]
        self.assertEqual((inst["Status"], inst["StackInstanceStatus"]["DetailedStatus"]),
                         ("OUTDATED", "FAILED"))
        self.assertIn("ResourceLogicalId:Fn", inst["StatusReason"])
        # the failed stack rolled back: no function, no role anywhere
        self.assertEqual(self.c("iam", M1).list_roles()["Roles"], [])
        # the set's inventory shows it until its instances are deleted
        kinds = {i["type"] for i in self.inventory("cloudformation")}
        self.assertEqual(kinds, {"stack-set", "stack-instance", "stack"})
        cfn.delete_stack_instances(StackSetName="pipe", Regions=[R1, R2], RetainStacks=False,
                                   DeploymentTargets={"OrganizationalUnitIds": [OU]})
        self.idle()
        cfn.delete_stack_set(StackSetName="pipe")
        self.assertEqual(self.inventory("cloudformation"), [])


class LambdaS3CodeTest(CloudFormationCase):
    def setUp(self):
        super().setUp()
        self.h.control("POST", "/_emu/organizations", {"id": ORG, "management": MGMT,
                                                        "accounts": [M1]})
        s3 = self.c("s3")
        s3.create_bucket(Bucket="code-us")
        s3.put_object(Bucket="code-us", Key="fn.zip", Body=zip_of("def handler(e, c): return 7"))
        s3w = self.c("s3", MGMT, R2)
        s3w.create_bucket(Bucket="code-eu", CreateBucketConfiguration={"LocationConstraint": R2})
        self.c("iam", M1).create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(TRUST))

    def create(self, bucket="code-us", key="fn.zip", account=M1):
        return self.c("lambda", account).create_function(
            FunctionName="f", Runtime="python3.9", Handler="index.handler",
            Role="arn:aws:iam::%s:role/fn" % account, Code={"S3Bucket": bucket, "S3Key": key})

    def test_code_from_another_accounts_bucket_needs_its_policy(self):
        with self.assertRaises(ClientError) as cm:
            self.create()
        self.assertEqual(code_of(cm), "InvalidParameterValueException")
        self.assertEqual(message_of(cm), "Your access has been denied by S3, please make sure "
                         "your request credentials have permission to GetObject for "
                         "code-us/fn.zip. S3 Error Code: AccessDenied. S3 Error Message: "
                         "Access Denied")
        self.c("s3").put_bucket_policy(Bucket="code-us", Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::code-us/*",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}}]}))
        cfg = self.create()
        self.assertEqual(cfg["CodeSize"], len(zip_of("def handler(e, c): return 7")))
        self.idle()
        out = self.c("lambda", M1).invoke(FunctionName="f")
        self.assertEqual(out["Payload"].read(), b"7")
        # without s3:ListBucket a missing key is AccessDenied, as S3 answers it
        with self.assertRaises(ClientError) as cm:
            self.c("lambda", M1).update_function_code(FunctionName="f", S3Bucket="code-us",
                                                      S3Key="nope.zip")
        self.assertIn("S3 Error Code: AccessDenied", message_of(cm))

    def test_bucket_in_another_region_and_missing_key(self):
        self.c("iam").create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(TRUST))
        with self.assertRaises(ClientError) as cm:
            self.create(bucket="code-eu", account=MGMT)
        self.assertEqual(message_of(cm), "Error occurred while GetObject. S3 Error Code: "
                         "PermanentRedirect. S3 Error Message: The bucket is in this region: "
                         "eu-west-1. Please use this region to retry the request")
        with self.assertRaises(ClientError) as cm:
            self.create(key="missing.zip", account=MGMT)
        self.assertEqual(message_of(cm), "Error occurred while GetObject. S3 Error Code: "
                         "NoSuchKey. S3 Error Message: The specified key does not exist.")
        self.create(account=MGMT)


if __name__ == "__main__":
    unittest.main()
