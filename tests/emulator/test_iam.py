#!/usr/bin/python3
"""Emulated IAM through boto3: roles, inline/managed policies, tags, errors, policy evaluation.

Owner: H3. Run: /usr/bin/python3 tests/emulator/test_iam.py
"""

import json
import os
import sys
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from botocore.exceptions import ClientError  # noqa: E402

from emu import iam as iam_mod  # noqa: E402
from harness import ACCOUNT_A, ACCOUNT_B, EmulatorCase, Harness  # noqa: E402

LAMBDA_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
ROOT_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT_A}, "Action": "sts:AssumeRole"}]})


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class IamApiTest(EmulatorCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.iam = cls.h.client("iam")
        cls.iam_b = cls.h.client("iam", account=ACCOUNT_B)

    def assertError(self, ctx, code, status, message=None):
        err = ctx.exception.response
        self.assertEqual(err["Error"]["Code"], code, err)
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], status)
        if message is not None:
            self.assertEqual(err["Error"]["Message"], message)

    def test_role_lifecycle(self):
        role = self.iam.create_role(RoleName="copy", Path="/rdsbk/", AssumeRolePolicyDocument=LAMBDA_TRUST,
                                    Description="copies", MaxSessionDuration=7200,
                                    Tags=[{"Key": "stack", "Value": "s1"}])["Role"]
        self.assertEqual(role["Arn"], "arn:aws:iam::%s:role/rdsbk/copy" % ACCOUNT_A)
        self.assertTrue(role["RoleId"].startswith("AROA"))
        self.assertEqual(len(role["RoleId"]), 21)
        got = self.iam.get_role(RoleName="copy")["Role"]
        self.assertEqual(got["AssumeRolePolicyDocument"], json.loads(LAMBDA_TRUST))
        self.assertEqual((got["Description"], got["MaxSessionDuration"]), ("copies", 7200))
        self.assertEqual(got["Tags"], [{"Key": "stack", "Value": "s1"}])
        # Same name in another account is another role; same name (any case) here is refused.
        self.iam_b.create_role(RoleName="copy", AssumeRolePolicyDocument=LAMBDA_TRUST)
        with self.assertRaises(ClientError) as ctx:
            self.iam.create_role(RoleName="COPY", AssumeRolePolicyDocument=LAMBDA_TRUST)
        self.assertError(ctx, "EntityAlreadyExists", 409, "Role with name COPY already exists.")
        self.iam.update_role(RoleName="copy", Description="new", MaxSessionDuration=3600)
        self.iam.update_assume_role_policy(RoleName="copy", PolicyDocument=ROOT_TRUST)
        got = self.iam.get_role(RoleName="copy")["Role"]
        self.assertEqual((got["Description"], got["MaxSessionDuration"]), ("new", 3600))
        self.assertEqual(got["AssumeRolePolicyDocument"], json.loads(ROOT_TRUST))
        self.iam.tag_role(RoleName="copy", Tags=[{"Key": "stack", "Value": "s2"}, {"Key": "x", "Value": "y"}])
        self.assertEqual(self.iam.list_role_tags(RoleName="copy")["Tags"],
                         [{"Key": "stack", "Value": "s2"}, {"Key": "x", "Value": "y"}])
        self.iam.untag_role(RoleName="copy", TagKeys=["stack"])
        self.assertEqual(self.iam.list_role_tags(RoleName="copy")["Tags"], [{"Key": "x", "Value": "y"}])
        self.iam.delete_role(RoleName="copy")
        with self.assertRaises(ClientError) as ctx:
            self.iam.get_role(RoleName="copy")
        self.assertError(ctx, "NoSuchEntity", 404, "The role with name copy cannot be found.")
        with self.assertRaises(ClientError) as ctx:
            self.iam.delete_role(RoleName="copy")
        self.assertError(ctx, "NoSuchEntity", 404)
        self.assertEqual([r["RoleName"] for r in self.iam_b.list_roles()["Roles"]], ["copy"])

    def test_list_roles_paginates_and_filters(self):
        for i in range(7):
            self.iam.create_role(RoleName="r%d" % i, AssumeRolePolicyDocument=LAMBDA_TRUST,
                                 Path="/a/" if i % 2 else "/")
        names = []
        for page in self.iam.get_paginator("list_roles").paginate(PaginationConfig={"PageSize": 3}):
            names += [r["RoleName"] for r in page["Roles"]]
        self.assertEqual(names, ["r%d" % i for i in range(7)])
        self.assertEqual([r["RoleName"] for r in self.iam.list_roles(PathPrefix="/a/")["Roles"]], ["r1", "r3", "r5"])

    def test_bad_documents(self):
        with self.assertRaises(ClientError) as ctx:
            self.iam.create_role(RoleName="r", AssumeRolePolicyDocument="{not json")
        self.assertError(ctx, "MalformedPolicyDocument", 400, "This policy contains invalid Json")
        with self.assertRaises(ClientError) as ctx:
            self.iam.create_role(RoleName="r", AssumeRolePolicyDocument=doc(
                {"Effect": "Allow", "Action": "sts:AssumeRole"}))
        self.assertError(ctx, "MalformedPolicyDocument", 400)
        self.iam.create_role(RoleName="r", AssumeRolePolicyDocument=LAMBDA_TRUST)
        bad = [
            "[]",
            doc({"Effect": "Allow", "Action": "s3:GetObject"}),
            doc({"Effect": "Maybe", "Action": "s3:GetObject", "Resource": "*"}),
            doc({"Effect": "Allow", "Resource": "*"}),
            doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Principal": "*"}),
            doc({"Effect": "Allow", "Action": "GetObject", "Resource": "*"}),
        ]
        for text in bad:
            with self.assertRaises(ClientError, msg=text) as ctx:
                self.iam.put_role_policy(RoleName="r", PolicyName="p", PolicyDocument=text)
            self.assertError(ctx, "MalformedPolicyDocument", 400)
        self.assertEqual(self.iam.list_role_policies(RoleName="r")["PolicyNames"], [])

    def test_size_quotas(self):
        big_trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::%012d:root" % i for i in range(80)]},
            "Action": "sts:AssumeRole"}]})
        with self.assertRaises(ClientError) as ctx:
            self.iam.create_role(RoleName="big", AssumeRolePolicyDocument=big_trust)
        self.assertError(ctx, "LimitExceeded", 409, "Cannot exceed quota for ACLSizePerRole: 2048")
        self.iam.create_role(RoleName="r", AssumeRolePolicyDocument=LAMBDA_TRUST)
        stmt = {"Effect": "Allow", "Action": "s3:GetObject",
                "Resource": ["arn:aws:s3:::bucket-%04d/*" % i for i in range(150)]}
        self.iam.put_role_policy(RoleName="r", PolicyName="a", PolicyDocument=doc(stmt))
        self.iam.put_role_policy(RoleName="r", PolicyName="a", PolicyDocument=doc(stmt))  # replacing is fine
        self.iam.put_role_policy(RoleName="r", PolicyName="b", PolicyDocument=doc(stmt))
        with self.assertRaises(ClientError) as ctx:
            self.iam.put_role_policy(RoleName="r", PolicyName="c", PolicyDocument=doc(stmt))
        self.assertError(ctx, "LimitExceeded", 409)
        self.iam.create_policy(PolicyName="fits", PolicyDocument=doc(stmt))
        stmt["Resource"] = ["arn:aws:s3:::bucket-%04d/*" % i for i in range(220)]
        with self.assertRaises(ClientError) as ctx:
            self.iam.create_policy(PolicyName="big", PolicyDocument=doc(stmt))
        self.assertError(ctx, "LimitExceeded", 409, "Cannot exceed quota for PolicySize: 6144")

    def test_inline_policies_and_delete_conflict(self):
        self.iam.create_role(RoleName="r", AssumeRolePolicyDocument=LAMBDA_TRUST)
        text = doc({"Effect": "Allow", "Action": ["rds:CopyDBSnapshot"], "Resource": "arn:aws:rds:*:*:snapshot:*"})
        self.iam.put_role_policy(RoleName="r", PolicyName="copy", PolicyDocument=text)
        self.iam.put_role_policy(RoleName="r", PolicyName="a-first", PolicyDocument=text)
        self.assertEqual(self.iam.list_role_policies(RoleName="r")["PolicyNames"], ["a-first", "copy"])
        got = self.iam.get_role_policy(RoleName="r", PolicyName="copy")
        self.assertEqual(got["PolicyDocument"], json.loads(text))
        with self.assertRaises(ClientError) as ctx:
            self.iam.delete_role(RoleName="r")
        self.assertError(ctx, "DeleteConflict", 409, "Cannot delete entity, must delete policies first.")
        with self.assertRaises(ClientError) as ctx:
            self.iam.get_role_policy(RoleName="r", PolicyName="nope")
        self.assertError(ctx, "NoSuchEntity", 404, "The role policy with name nope cannot be found.")
        self.iam.delete_role_policy(RoleName="r", PolicyName="copy")
        self.iam.delete_role_policy(RoleName="r", PolicyName="a-first")
        self.iam.delete_role(RoleName="r")

    def test_documents_are_url_encoded_on_the_wire(self):
        text = doc({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"})
        self.iam.create_role(RoleName="r", AssumeRolePolicyDocument=LAMBDA_TRUST)
        self.iam.put_role_policy(RoleName="r", PolicyName="p", PolicyDocument=text)
        seen = {}

        def grab(http_response, **_kw):
            seen["body"] = http_response.content.decode()

        client = self.h.client("iam")
        client.meta.events.register("after-call.iam.GetRolePolicy", grab)
        client.get_role_policy(RoleName="r", PolicyName="p")
        self.assertIn("<PolicyDocument>%s</PolicyDocument>" % urllib.parse.quote(text, safe=""), seen["body"])
        self.assertNotIn('"Effect"', seen["body"])

    def test_managed_policies_versions_and_attachments(self):
        self.iam.create_role(RoleName="r", AssumeRolePolicyDocument=LAMBDA_TRUST)
        v1 = doc({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"})
        pol = self.iam.create_policy(PolicyName="use-key", Path="/rdsbk/", PolicyDocument=v1,
                                     Description="d")["Policy"]
        arn = "arn:aws:iam::%s:policy/rdsbk/use-key" % ACCOUNT_A
        self.assertEqual((pol["Arn"], pol["DefaultVersionId"], pol["AttachmentCount"]), (arn, "v1", 0))
        with self.assertRaises(ClientError) as ctx:
            self.iam.create_policy(PolicyName="use-key", PolicyDocument=v1)
        self.assertError(ctx, "EntityAlreadyExists", 409)
        for i in range(2, 6):
            got = self.iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc(
                {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "arn:aws:kms:*:*:key/%d" % i}),
                SetAsDefault=(i == 3))["PolicyVersion"]
            self.assertEqual(got["VersionId"], "v%d" % i)
        with self.assertRaises(ClientError) as ctx:
            self.iam.create_policy_version(PolicyArn=arn, PolicyDocument=v1)
        self.assertError(ctx, "LimitExceeded", 409)
        self.assertEqual(self.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"], "v3")
        versions = self.iam.list_policy_versions(PolicyArn=arn)["Versions"]
        self.assertEqual([(v["VersionId"], v["IsDefaultVersion"]) for v in versions],
                         [("v5", False), ("v4", False), ("v3", True), ("v2", False), ("v1", False)])
        self.assertEqual(self.iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]["Document"],
                         json.loads(v1))
        with self.assertRaises(ClientError) as ctx:
            self.iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
        self.assertError(ctx, "DeleteConflict", 409)
        self.iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
        self.iam.attach_role_policy(RoleName="r", PolicyArn=arn)
        self.iam.attach_role_policy(RoleName="r", PolicyArn=arn)  # idempotent
        self.assertEqual(self.iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"], 1)
        self.assertEqual(self.iam.list_attached_role_policies(RoleName="r")["AttachedPolicies"],
                         [{"PolicyName": "use-key", "PolicyArn": arn}])
        with self.assertRaises(ClientError) as ctx:
            self.iam.delete_role(RoleName="r")
        self.assertError(ctx, "DeleteConflict", 409, "Cannot delete entity, must detach all policies first.")
        with self.assertRaises(ClientError) as ctx:
            self.iam.delete_policy(PolicyArn=arn)
        self.assertError(ctx, "DeleteConflict", 409)
        with self.assertRaises(ClientError) as ctx:
            self.iam.attach_role_policy(RoleName="r", PolicyArn="arn:aws:iam::%s:policy/nope" % ACCOUNT_A)
        self.assertError(ctx, "NoSuchEntity", 404)
        self.iam.detach_role_policy(RoleName="r", PolicyArn=arn)
        with self.assertRaises(ClientError) as ctx:
            self.iam.detach_role_policy(RoleName="r", PolicyArn=arn)
        self.assertError(ctx, "NoSuchEntity", 404)
        with self.assertRaises(ClientError) as ctx:
            self.iam.delete_policy(PolicyArn=arn)  # still has non-default versions
        self.assertError(ctx, "DeleteConflict", 409)
        for v in ("v2", "v3", "v4", "v5"):
            self.iam.delete_policy_version(PolicyArn=arn, VersionId=v)
        self.iam.delete_policy(PolicyArn=arn)
        self.iam.delete_role(RoleName="r")
        self.assertEqual(self.h.control("GET", "/_emu/inventory")[1]["resources"], [])

    def test_policy_tags_entities_and_description(self):
        self.iam.create_role(RoleName="r", AssumeRolePolicyDocument=LAMBDA_TRUST)
        self.assertEqual(self.iam.update_role_description(RoleName="r", Description="desc")["Role"]["Description"],
                         "desc")
        arn = self.iam.create_policy(PolicyName="p", PolicyDocument=doc(
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}), Tags=[{"Key": "a", "Value": "1"}])["Policy"]["Arn"]
        self.iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "b", "Value": "2"}])
        self.iam.untag_policy(PolicyArn=arn, TagKeys=["a"])
        self.assertEqual(self.iam.list_policy_tags(PolicyArn=arn)["Tags"], [{"Key": "b", "Value": "2"}])
        self.assertEqual(self.iam.list_entities_for_policy(PolicyArn=arn)["PolicyRoles"], [])
        self.iam.attach_role_policy(RoleName="r", PolicyArn=arn)
        roles = self.iam.list_entities_for_policy(PolicyArn=arn)["PolicyRoles"]
        self.assertEqual([r["RoleName"] for r in roles], ["r"])
        with self.assertRaises(ClientError) as ctx:
            self.iam.list_policy_tags(PolicyArn="arn:aws:iam::%s:policy/none" % ACCOUNT_A)
        self.assertError(ctx, "NoSuchEntity", 404)

    def test_aws_managed_policy(self):
        self.iam.create_role(RoleName="r", AssumeRolePolicyDocument=LAMBDA_TRUST)
        arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
        self.iam.attach_role_policy(RoleName="r", PolicyArn=arn)
        self.assertEqual(self.iam.list_attached_role_policies(RoleName="r")["AttachedPolicies"][0]["PolicyName"],
                         "AWSLambdaBasicExecutionRole")
        local = [p["PolicyName"] for p in self.iam.list_policies(Scope="Local")["Policies"]]
        self.assertEqual(local, [])
        self.assertEqual(self.iam.list_policies(OnlyAttached=True)["Policies"][0]["Arn"], arn)
        self.assertTrue(self.h.emu.services["iam"].is_allowed(
            ACCOUNT_A, "arn:aws:iam::%s:role/r" % ACCOUNT_A, "logs:PutLogEvents", "arn:aws:logs:x"))
        self.iam.detach_role_policy(RoleName="r", PolicyArn=arn)
        self.iam.delete_role(RoleName="r")

    def test_permissions_boundary(self):
        svc = self.h.emu.services["iam"]
        limit = self.iam.create_policy(PolicyName="limit", PolicyDocument=doc(
            {"Effect": "Allow", "Action": ["kms:*", "logs:*"], "Resource": "*"}))["Policy"]["Arn"]
        with self.assertRaises(ClientError) as ctx:
            self.iam.create_role(RoleName="b", AssumeRolePolicyDocument=LAMBDA_TRUST,
                                 PermissionsBoundary="arn:aws:iam::%s:policy/absent" % ACCOUNT_A)
        self.assertError(ctx, "NoSuchEntity", 404)
        arn = self.iam.create_role(RoleName="b", AssumeRolePolicyDocument=LAMBDA_TRUST,
                                   PermissionsBoundary=limit)["Role"]["Arn"]
        self.assertEqual(self.iam.get_role(RoleName="b")["Role"]["PermissionsBoundary"],
                         {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": limit})
        self.assertNotIn("PermissionsBoundary", self.iam.list_roles()["Roles"][0])
        self.iam.put_role_policy(RoleName="b", PolicyName="p", PolicyDocument=doc(
            {"Effect": "Allow", "Action": ["kms:Decrypt", "rds:CopyDBSnapshot"], "Resource": "*"}))
        self.assertTrue(svc.is_allowed(ACCOUNT_A, arn, "kms:Decrypt", "k"))
        self.assertFalse(svc.is_allowed(ACCOUNT_A, arn, "rds:CopyDBSnapshot", "s"))  # outside the boundary
        self.assertFalse(svc.is_allowed(ACCOUNT_A, arn, "logs:PutLogEvents", "l"))  # boundary alone grants nothing
        self.assertEqual(self.iam.get_policy(PolicyArn=limit)["Policy"]["PermissionsBoundaryUsageCount"], 1)
        with self.assertRaises(ClientError) as ctx:
            self.iam.delete_policy(PolicyArn=limit)
        self.assertError(ctx, "DeleteConflict", 409)
        self.iam.delete_role_permissions_boundary(RoleName="b")
        self.assertTrue(svc.is_allowed(ACCOUNT_A, arn, "rds:CopyDBSnapshot", "s"))
        self.iam.put_role_permissions_boundary(RoleName="b", PermissionsBoundary=limit)
        self.assertFalse(svc.is_allowed(ACCOUNT_A, arn, "rds:CopyDBSnapshot", "s"))
        self.iam.delete_role_policy(RoleName="b", PolicyName="p")
        self.iam.delete_role(RoleName="b")
        self.assertEqual(self.iam.get_policy(PolicyArn=limit)["Policy"]["PermissionsBoundaryUsageCount"], 0)
        self.iam.delete_policy(PolicyArn=limit)

    def test_inventory(self):
        self.iam.create_role(RoleName="r", AssumeRolePolicyDocument=LAMBDA_TRUST)
        self.iam_b.create_policy(PolicyName="p", PolicyDocument=doc({"Effect": "Allow", "Action": "s3:*",
                                                                     "Resource": "*"}))
        inv = self.h.control("GET", "/_emu/inventory")[1]["resources"]
        self.assertEqual(sorted((r["account"], r["type"], r["id"], r["arn"]) for r in inv), [
            (ACCOUNT_A, "role", "r", "arn:aws:iam::%s:role/r" % ACCOUNT_A),
            (ACCOUNT_B, "policy", "p", "arn:aws:iam::%s:policy/p" % ACCOUNT_B)])

    def test_role_helpers_and_propagation(self):
        svc = self.h.emu.services["iam"]
        arn = self.iam.create_role(RoleName="r", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
        role = svc.get_role(ACCOUNT_A, arn)
        self.assertEqual(role["RoleName"], "r")
        self.assertEqual(role["AssumeRolePolicyDocument"], json.loads(LAMBDA_TRUST))
        self.assertIsInstance(role["CreateDate"], float)
        self.assertEqual(svc.get_role(ACCOUNT_A, "r")["Arn"], arn)
        self.assertIsNone(svc.get_role(ACCOUNT_B, arn))
        self.assertIsNone(svc.get_role(ACCOUNT_A, "arn:aws:iam::%s:role/other/r" % ACCOUNT_A))
        self.assertTrue(svc.trusts_service(ACCOUNT_A, arn, "lambda.amazonaws.com"))
        self.assertFalse(svc.trusts_service(ACCOUNT_A, arn, "events.amazonaws.com"))
        guarded = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_A}}}]})
        self.iam.update_assume_role_policy(RoleName="r", PolicyDocument=guarded)
        self.assertTrue(svc.trusts_service(ACCOUNT_A, arn, "lambda.amazonaws.com"))
        self.assertFalse(svc.trusts_service(ACCOUNT_A, arn, "lambda.amazonaws.com",
                                            context={"aws:SourceAccount": ACCOUNT_B}))
        self.assertTrue(svc.role_propagated(ACCOUNT_A, arn))
        self.h.emu.iam_propagation_s = 30
        try:
            self.assertFalse(svc.role_propagated(ACCOUNT_A, arn))
            real_now = self.h.emu.now
            self.h.emu.now = lambda: real_now() + 31
            self.assertTrue(svc.role_propagated(ACCOUNT_A, arn))
        finally:
            self.h.emu.iam_propagation_s = 0
            del self.h.emu.now
        self.assertFalse(svc.role_propagated(ACCOUNT_A, "arn:aws:iam::%s:role/absent" % ACCOUNT_A))


class PolicyEngineTest(unittest.TestCase):
    def ev(self, statements, action, resource, context=None):
        return iam_mod.evaluate_policy([{"Version": "2012-10-17", "Statement": statements}], action, resource,
                                       context or {})

    def test_actions_and_resources(self):
        allow = {"Effect": "Allow", "Action": ["kms:ReEncrypt*", "kms:Decrypt"], "Resource": "arn:aws:kms:*:1:key/*"}
        self.assertEqual(self.ev([allow], "kms:ReEncryptFrom", "arn:aws:kms:eu-west-1:1:key/abc"), "allow")
        self.assertEqual(self.ev([allow], "KMS:decrypt", "arn:aws:kms:eu-west-1:1:key/abc"), "allow")
        self.assertEqual(self.ev([allow], "kms:Encrypt", "arn:aws:kms:eu-west-1:1:key/abc"), "implicit")
        self.assertEqual(self.ev([allow], "kms:Decrypt", "arn:aws:kms:eu-west-1:2:key/abc"), "implicit")
        q = {"Effect": "Allow", "Action": "rds:Describe?BSnapshots", "Resource": "*"}
        self.assertEqual(self.ev([q], "rds:DescribeDBSnapshots", "x"), "allow")
        self.assertEqual(self.ev([q], "rds:DescribeDDBSnapshots", "x"), "implicit")

    def test_explicit_deny_wins_and_not_elements(self):
        allow_all = {"Effect": "Allow", "Action": "*", "Resource": "*"}
        deny = {"Effect": "Deny", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::public/*"}
        self.assertEqual(self.ev([allow_all, deny], "kms:Decrypt", "arn:aws:kms:r:1:key/k"), "deny")
        self.assertEqual(self.ev([allow_all, deny], "iam:GetRole", "arn:aws:kms:r:1:key/k"), "allow")
        self.assertEqual(self.ev([allow_all, deny], "s3:GetObject", "arn:aws:s3:::public/x"), "allow")

    def test_conditions(self):
        st = {"Effect": "Allow", "Action": "kms:CreateGrant", "Resource": "*",
              "Condition": {"Bool": {"kms:GrantIsForAWSResource": True}}}
        self.assertEqual(self.ev([st], "kms:CreateGrant", "k", {"kms:GrantIsForAWSResource": True}), "allow")
        self.assertEqual(self.ev([st], "kms:CreateGrant", "k", {"kms:GrantIsForAWSResource": False}), "implicit")
        self.assertEqual(self.ev([st], "kms:CreateGrant", "k", {}), "implicit")
        src = {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*",
               "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:events:eu-west-1:1:rule/rdsbk-*"}}}
        self.assertEqual(self.ev([src], "lambda:InvokeFunction", "f",
                                 {"aws:SourceArn": "arn:aws:events:eu-west-1:1:rule/rdsbk-copy"}), "allow")
        self.assertEqual(self.ev([src], "lambda:InvokeFunction", "f",
                                 {"aws:SourceArn": "arn:aws:events:eu-west-1:1:rule/other"}), "implicit")
        ife = {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
               "Condition": {"StringEqualsIfExists": {"aws:RequestedRegion": "eu-west-1"},
                             "StringLike": {"s3:prefix": ["home/*", "pub/*"]}}}
        self.assertEqual(self.ev([ife], "s3:List", "b", {"s3:prefix": "pub/x"}), "allow")
        self.assertEqual(self.ev([ife], "s3:List", "b", {"s3:prefix": "pub/x", "aws:RequestedRegion": "us-east-1"}),
                         "implicit")
        self.assertEqual(self.ev([ife], "s3:List", "b", {"s3:prefix": "etc/x"}), "implicit")
        arn_eq = {"Effect": "Deny", "Action": "*", "Resource": "*",
                  "Condition": {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::1:role/x"}}}
        self.assertEqual(self.ev([arn_eq], "a:b", "r", {"aws:PrincipalArn": "arn:aws:iam::1:role/x"}), "deny")
        self.assertEqual(self.ev([arn_eq], "a:b", "r", {"aws:PrincipalArn": "arn:aws:iam::1:role/y"}), "implicit")

    def test_principal_matching(self):
        caller_role = {"account": "111111111111", "arn": "arn:aws:iam::111111111111:role/copy",
                       "session_arn": "arn:aws:sts::111111111111:assumed-role/copy/s"}
        caller_root = {"account": "111111111111", "arn": "arn:aws:iam::111111111111:root"}
        self.assertEqual(iam_mod.principal_match({"AWS": "111111111111"}, caller_role), "account")
        self.assertEqual(iam_mod.principal_match({"AWS": "arn:aws:iam::111111111111:root"}, caller_root), "direct")
        self.assertEqual(iam_mod.principal_match({"AWS": ["arn:aws:iam::111111111111:role/copy"]}, caller_role),
                         "direct")
        self.assertIsNone(iam_mod.principal_match({"AWS": "arn:aws:iam::222222222222:root"}, caller_role))
        self.assertEqual(iam_mod.principal_match("*", caller_role), "direct")
        self.assertEqual(iam_mod.principal_match({"Service": "events.amazonaws.com"},
                                                 {"service": "events.amazonaws.com"}), "direct")
        self.assertIsNone(iam_mod.principal_match({"Service": "events.amazonaws.com"}, caller_role))


class IdentityPolicyEnforcementTest(unittest.TestCase):
    """A role's own IAM policies decide what its sessions may do (ctx.authorize)."""

    @classmethod
    def setUpClass(cls):
        cls.h = Harness().start()

    @classmethod
    def tearDownClass(cls):
        cls.h.stop()

    def test_assumed_role_is_limited_by_its_policies(self):
        iam = self.h.client("iam")
        iam.create_role(RoleName="reader", AssumeRolePolicyDocument=ROOT_TRUST)
        iam.create_role(RoleName="other", AssumeRolePolicyDocument=LAMBDA_TRUST)
        iam.put_role_policy(RoleName="reader", PolicyName="p", PolicyDocument=doc(
            {"Effect": "Allow", "Action": ["iam:GetRole", "iam:ListRoles"], "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:GetRole", "Resource": "arn:aws:iam::%s:role/other" % ACCOUNT_A}))
        creds = self.h.client("sts").assume_role(RoleArn="arn:aws:iam::%s:role/reader" % ACCOUNT_A,
                                                 RoleSessionName="tt")["Credentials"]
        as_role = self.h.client("iam", credentials=creds)
        self.assertEqual(as_role.get_role(RoleName="reader")["Role"]["RoleName"], "reader")
        self.assertEqual(len(as_role.list_roles()["Roles"]), 2)
        with self.assertRaises(ClientError) as ctx:
            as_role.get_role(RoleName="other")
        self.assertEqual(ctx.exception.response["Error"]["Code"], "AccessDenied")
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        self.assertIn("with an explicit deny", ctx.exception.response["Error"]["Message"])
        with self.assertRaises(ClientError) as ctx:
            as_role.create_role(RoleName="x", AssumeRolePolicyDocument=LAMBDA_TRUST)
        self.assertEqual(ctx.exception.response["Error"]["Message"],
                         "User: arn:aws:sts::%s:assumed-role/reader/tt is not authorized to perform: "
                         "iam:CreateRole on resource: arn:aws:iam::%s:role/x because no identity-based "
                         "policy allows the iam:CreateRole action" % (ACCOUNT_A, ACCOUNT_A))
        kms = self.h.client("kms", credentials=creds)
        with self.assertRaises(ClientError) as ctx:
            kms.create_key()
        self.assertEqual(ctx.exception.response["Error"]["Code"], "AccessDeniedException")


if __name__ == "__main__":
    # boto3 clients made per test keep pooled sockets open until garbage collection.
    unittest.main(verbosity=2, warnings="ignore")
