#!/usr/bin/python3
"""Emulated STS through boto3: caller identity, AssumeRole trust evaluation (same and cross
account), web identity, session tokens, expiry.

Owner: H3. Run: /usr/bin/python3 tests/emulator/test_sts.py
"""

import datetime
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from botocore.exceptions import ClientError  # noqa: E402

from harness import ACCOUNT_A, ACCOUNT_B, EmulatorCase  # noqa: E402

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJl"


def trust(principal, action="sts:AssumeRole", condition=None):
    st = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition:
        st["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [st]})


def role_arn(account, name):
    return "arn:aws:iam::%s:role/%s" % (account, name)


class StsTest(EmulatorCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.iam_a = cls.h.client("iam", account=ACCOUNT_A)
        cls.iam_b = cls.h.client("iam", account=ACCOUNT_B)
        cls.sts_a = cls.h.client("sts", account=ACCOUNT_A)
        cls.sts_b = cls.h.client("sts", account=ACCOUNT_B)

    def assertDenied(self, ctx, role):
        err = ctx.exception.response
        self.assertEqual(err["Error"]["Code"], "AccessDenied")
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 403)
        self.assertIn("sts:AssumeRole on resource: %s" % role, err["Error"]["Message"])

    def test_caller_identity(self):
        me = self.sts_b.get_caller_identity()
        self.assertEqual((me["Account"], me["UserId"], me["Arn"]),
                         (ACCOUNT_B, ACCOUNT_B, "arn:aws:iam::%s:root" % ACCOUNT_B))

    def test_assume_role_same_account(self):
        created = self.iam_a.create_role(RoleName="ops", AssumeRolePolicyDocument=trust(
            {"AWS": "arn:aws:iam::%s:root" % ACCOUNT_A}))["Role"]
        out = self.sts_a.assume_role(RoleArn=created["Arn"], RoleSessionName="deploy", DurationSeconds=900)
        creds = out["Credentials"]
        self.assertTrue(creds["AccessKeyId"].startswith("ASIA"))
        self.assertTrue(creds["SessionToken"])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertLess(abs((creds["Expiration"] - now).total_seconds() - 900), 30)
        self.assertEqual(out["AssumedRoleUser"]["Arn"], "arn:aws:sts::%s:assumed-role/ops/deploy" % ACCOUNT_A)
        self.assertEqual(out["AssumedRoleUser"]["AssumedRoleId"], created["RoleId"] + ":deploy")
        me = self.h.client("sts", credentials=creds).get_caller_identity()
        self.assertEqual(me["Arn"], "arn:aws:sts::%s:assumed-role/ops/deploy" % ACCOUNT_A)
        self.assertEqual(me["UserId"], created["RoleId"] + ":deploy")
        self.assertEqual(me["Account"], ACCOUNT_A)

    def test_assume_role_refusals(self):
        self.iam_a.create_role(RoleName="lambda-only", AssumeRolePolicyDocument=trust(
            {"Service": "lambda.amazonaws.com"}))
        with self.assertRaises(ClientError) as ctx:
            self.sts_a.assume_role(RoleArn=role_arn(ACCOUNT_A, "lambda-only"), RoleSessionName="s1")
        self.assertDenied(ctx, role_arn(ACCOUNT_A, "lambda-only"))
        with self.assertRaises(ClientError) as ctx:
            self.sts_a.assume_role(RoleArn=role_arn(ACCOUNT_A, "absent"), RoleSessionName="s1")
        self.assertDenied(ctx, role_arn(ACCOUNT_A, "absent"))
        self.iam_a.create_role(RoleName="short", AssumeRolePolicyDocument=trust(
            {"AWS": ACCOUNT_A}))
        with self.assertRaises(ClientError) as ctx:
            self.sts_a.assume_role(RoleArn=role_arn(ACCOUNT_A, "short"), RoleSessionName="s1", DurationSeconds=7200)
        self.assertEqual(ctx.exception.response["Error"]["Code"], "ValidationError")

    def test_session_policies_are_refused_not_ignored(self):
        self.iam_a.create_role(RoleName="ops", AssumeRolePolicyDocument=trust({"AWS": ACCOUNT_A}))
        with self.assertRaises(ClientError) as ctx:
            self.sts_a.assume_role(RoleArn=role_arn(ACCOUNT_A, "ops"), RoleSessionName="s1", Policy=json.dumps({
                "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        self.assertEqual(ctx.exception.response["Error"]["Code"], "ValidationError")

    def test_cross_account_assume_role(self):
        # B's role trusts A's account: A's root keys may assume it; B's own root may not.
        self.iam_b.create_role(RoleName="backup", AssumeRolePolicyDocument=trust(
            {"AWS": "arn:aws:iam::%s:root" % ACCOUNT_A}))
        arn_b = role_arn(ACCOUNT_B, "backup")
        creds = self.sts_a.assume_role(RoleArn=arn_b, RoleSessionName="x-acct")["Credentials"]
        self.assertEqual(self.h.client("sts", credentials=creds).get_caller_identity()["Account"], ACCOUNT_B)
        with self.assertRaises(ClientError) as ctx:
            self.sts_b.assume_role(RoleArn=arn_b, RoleSessionName="same")
        self.assertDenied(ctx, arn_b)

    def test_role_chaining_needs_identity_permission_cross_account(self):
        self.iam_a.create_role(RoleName="hop", AssumeRolePolicyDocument=trust({"AWS": ACCOUNT_A}))
        self.iam_b.create_role(RoleName="target", AssumeRolePolicyDocument=trust(
            {"AWS": role_arn(ACCOUNT_A, "hop")}))
        hop = self.sts_a.assume_role(RoleArn=role_arn(ACCOUNT_A, "hop"), RoleSessionName="h1")["Credentials"]
        as_hop = self.h.client("sts", credentials=hop)
        with self.assertRaises(ClientError) as ctx:
            as_hop.assume_role(RoleArn=role_arn(ACCOUNT_B, "target"), RoleSessionName="h2")
        self.assertDenied(ctx, role_arn(ACCOUNT_B, "target"))
        self.iam_a.put_role_policy(RoleName="hop", PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Resource": role_arn(ACCOUNT_B, "target")}]}))
        out = as_hop.assume_role(RoleArn=role_arn(ACCOUNT_B, "target"), RoleSessionName="h2")
        self.assertEqual(out["AssumedRoleUser"]["Arn"], "arn:aws:sts::%s:assumed-role/target/h2" % ACCOUNT_B)

    def test_trust_conditions(self):
        self.iam_a.create_role(RoleName="cond", AssumeRolePolicyDocument=trust(
            {"AWS": ACCOUNT_A}, condition={"StringLike": {"sts:RoleSessionName": "ci-*"}}))
        self.sts_a.assume_role(RoleArn=role_arn(ACCOUNT_A, "cond"), RoleSessionName="ci-42")
        with self.assertRaises(ClientError) as ctx:
            self.sts_a.assume_role(RoleArn=role_arn(ACCOUNT_A, "cond"), RoleSessionName="dev-42")
        self.assertDenied(ctx, role_arn(ACCOUNT_A, "cond"))

    def test_web_identity(self):
        self.iam_a.create_role(RoleName="ci", AssumeRolePolicyDocument=trust(
            {"Federated": "arn:aws:iam::%s:oidc-provider/token.actions.githubusercontent.com" % ACCOUNT_A},
            action="sts:AssumeRoleWithWebIdentity"))
        anon = self.h.client("sts", credentials={"AccessKeyId": "unused", "SecretAccessKey": "unused"})
        out = anon.assume_role_with_web_identity(RoleArn=role_arn(ACCOUNT_A, "ci"), RoleSessionName="gha",
                                                 WebIdentityToken=JWT)
        me = self.h.client("sts", credentials=out["Credentials"]).get_caller_identity()
        self.assertEqual(me["Arn"], "arn:aws:sts::%s:assumed-role/ci/gha" % ACCOUNT_A)
        with self.assertRaises(ClientError) as ctx:
            anon.assume_role_with_web_identity(RoleArn=role_arn(ACCOUNT_A, "ci"), RoleSessionName="gha",
                                               WebIdentityToken="not-a-jwt-at-all")
        self.assertEqual(ctx.exception.response["Error"]["Code"], "InvalidIdentityToken")
        self.iam_a.create_role(RoleName="no-oidc", AssumeRolePolicyDocument=trust({"AWS": ACCOUNT_A}))
        with self.assertRaises(ClientError) as ctx:
            anon.assume_role_with_web_identity(RoleArn=role_arn(ACCOUNT_A, "no-oidc"), RoleSessionName="gha",
                                               WebIdentityToken=JWT)
        self.assertEqual(ctx.exception.response["Error"]["Code"], "AccessDenied")
        # The request really went unsigned.
        log = self.h.control("GET", "/_emu/requests")[1]["requests"]
        web = [r for r in log if r["operation"] == "AssumeRoleWithWebIdentity"]
        self.assertTrue(web and all(r["principal"] is None for r in web))

    def test_session_token_and_expiry(self):
        creds = self.sts_a.get_session_token(DurationSeconds=900)["Credentials"]
        sess = self.h.client("sts", credentials=creds)
        self.assertEqual(sess.get_caller_identity()["Arn"], "arn:aws:iam::%s:root" % ACCOUNT_A)
        # Temporary credentials expire by the clock of authentication (the real one), not by
        # AWS time: advancing AWS time by days leaves sessions valid.
        status, _ = self.h.control("POST", "/_emu/clock", {"advance_s": 3 * 86400})
        self.assertEqual(status, 200)
        self.assertEqual(sess.get_caller_identity()["Arn"], "arn:aws:iam::%s:root" % ACCOUNT_A)
        real_auth_now = self.h.emu.auth_now
        self.h.emu.auth_now = lambda: real_auth_now() + 901
        try:
            with self.assertRaises(ClientError) as ctx:
                sess.get_caller_identity()
            self.assertEqual(ctx.exception.response["Error"]["Code"], "ExpiredToken")
            self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        finally:
            del self.h.emu.auth_now

    def test_credentials_for_role_helper(self):
        self.iam_a.create_role(RoleName="fn", AssumeRolePolicyDocument=trust({"Service": "lambda.amazonaws.com"}))
        creds = self.h.emu.credentials_for_role(ACCOUNT_A, role_arn(ACCOUNT_A, "fn"), "fn-session")
        me = self.h.client("sts", credentials=creds).get_caller_identity()
        self.assertEqual(me["Arn"], "arn:aws:sts::%s:assumed-role/fn/fn-session" % ACCOUNT_A)
        # Temporary credentials do not survive a reset.
        self.h.control("POST", "/_emu/reset")
        with self.assertRaises(ClientError) as ctx:
            self.h.client("sts", credentials=creds).get_caller_identity()
        self.assertEqual(ctx.exception.response["Error"]["Code"], "InvalidClientTokenId")


if __name__ == "__main__":
    # boto3 clients made per test keep pooled sockets open until garbage collection.
    unittest.main(verbosity=2, warnings="ignore")
