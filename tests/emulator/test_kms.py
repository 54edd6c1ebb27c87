#!/usr/bin/python3
"""Emulated KMS through boto3: keys, key policies (lock-out check, cross-account use), aliases,
tags, deletion window, crypto, grants, the aws/rds managed key and check_use().

Owner: H3. Run: /usr/bin/python3 tests/emulator/test_kms.py
"""

import datetime
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from botocore.exceptions import ClientError  # noqa: E402

from emu.core import AwsError  # noqa: E402
from harness import ACCOUNT_A, ACCOUNT_B, EmulatorCase  # noqa: E402

REGION_B = "eu-west-1"
COPY_ROLE = "arn:aws:iam::%s:role/rdsbk-copy" % ACCOUNT_A
LAMBDA_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
ROOT_TRUST_A = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": ACCOUNT_A}, "Action": "sts:AssumeRole"}]})


def shared_key_policy(owner, user_principal):
    """The pipeline's key policy: owner root administers; the other account's principal may use
    the key, and create grants only for AWS resources."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % owner},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": user_principal},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
         "Resource": "*"},
        {"Sid": "Grants", "Effect": "Allow", "Principal": {"AWS": user_principal},
         "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*",
         "Condition": {"Bool": {"kms:GrantIsForAWSResource": True}}},
    ]})


class KmsTest(EmulatorCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kms_a = cls.h.client("kms", account=ACCOUNT_A, region=REGION_B)
        cls.kms_b = cls.h.client("kms", account=ACCOUNT_B, region=REGION_B)
        cls.kms_a_east = cls.h.client("kms", account=ACCOUNT_A, region="us-east-1")
        cls.iam_a = cls.h.client("iam", account=ACCOUNT_A)

    def assertError(self, ctx, code, message_part=None):
        err = ctx.exception.response
        self.assertEqual(err["Error"]["Code"], code, err)
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 400)
        if message_part is not None:
            self.assertIn(message_part, err["Error"]["Message"])

    def role_client(self, name, policy=None, service="kms"):
        self.iam_a.create_role(RoleName=name, AssumeRolePolicyDocument=ROOT_TRUST_A)
        if policy is not None:
            self.iam_a.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
        creds = self.h.client("sts").assume_role(RoleArn="arn:aws:iam::%s:role/%s" % (ACCOUNT_A, name),
                                                 RoleSessionName="test")["Credentials"]
        return self.h.client(service, region=REGION_B, credentials=creds)

    # -- keys --------------------------------------------------------------------------------

    def test_create_and_describe(self):
        meta = self.kms_b.create_key(Description="shared", Tags=[{"TagKey": "stack", "TagValue": "s"}])["KeyMetadata"]
        self.assertEqual(meta["Arn"], "arn:aws:kms:%s:%s:key/%s" % (REGION_B, ACCOUNT_B, meta["KeyId"]))
        self.assertEqual((meta["KeyState"], meta["Enabled"], meta["KeyManager"], meta["MultiRegion"]),
                         ("Enabled", True, "CUSTOMER", False))
        self.assertEqual(meta["KeySpec"], "SYMMETRIC_DEFAULT")
        self.assertIsInstance(meta["CreationDate"], datetime.datetime)
        policy = json.loads(self.kms_b.get_key_policy(KeyId=meta["KeyId"], PolicyName="default")["Policy"])
        self.assertEqual(policy["Statement"][0]["Principal"], {"AWS": "arn:aws:iam::%s:root" % ACCOUNT_B})
        self.assertEqual(policy["Statement"][0]["Action"], "kms:*")
        self.kms_b.create_alias(AliasName="alias/rdsbk-shared", TargetKeyId=meta["KeyId"])
        for ref in (meta["KeyId"], meta["Arn"], "alias/rdsbk-shared",
                    "arn:aws:kms:%s:%s:alias/rdsbk-shared" % (REGION_B, ACCOUNT_B)):
            self.assertEqual(self.kms_b.describe_key(KeyId=ref)["KeyMetadata"]["KeyId"], meta["KeyId"], ref)
        # Keys are per Region.
        with self.assertRaises(ClientError) as ctx:
            self.h.client("kms", account=ACCOUNT_B, region="us-east-1").describe_key(KeyId=meta["KeyId"])
        self.assertError(ctx, "NotFoundException")
        with self.assertRaises(ClientError) as ctx:
            self.kms_b.describe_key(KeyId="alias/absent")
        self.assertError(ctx, "NotFoundException", "alias/absent is not found")
        self.assertEqual(self.kms_b.list_resource_tags(KeyId=meta["KeyId"])["Tags"],
                         [{"TagKey": "stack", "TagValue": "s"}])

    def test_multi_region_and_replica(self):
        meta = self.kms_b.create_key(MultiRegion=True)["KeyMetadata"]
        self.assertTrue(meta["KeyId"].startswith("mrk-"))
        self.assertEqual(meta["MultiRegionConfiguration"]["MultiRegionKeyType"], "PRIMARY")
        out = self.kms_b.replicate_key(KeyId=meta["Arn"], ReplicaRegion="eu-central-1")
        replica = out["ReplicaKeyMetadata"]
        self.assertEqual(replica["KeyId"], meta["KeyId"])
        self.assertEqual(replica["Arn"], "arn:aws:kms:eu-central-1:%s:key/%s" % (ACCOUNT_B, meta["KeyId"]))
        self.assertEqual(replica["MultiRegionConfiguration"]["MultiRegionKeyType"], "REPLICA")
        primary = self.kms_b.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]
        self.assertEqual(primary["MultiRegionConfiguration"]["ReplicaKeys"],
                         [{"Arn": replica["Arn"], "Region": "eu-central-1"}])
        # Ciphertext from one Region's copy opens with the other's (same key material).
        blob = self.kms_b.encrypt(KeyId=meta["KeyId"], Plaintext=b"x")["CiphertextBlob"]
        east = self.h.client("kms", account=ACCOUNT_B, region="eu-central-1")
        self.assertEqual(east.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]["Arn"], replica["Arn"])
        self.assertEqual(self.kms_b.decrypt(CiphertextBlob=blob)["Plaintext"], b"x")

    def test_policy_validation_and_lockout(self):
        with self.assertRaises(ClientError) as ctx:
            self.kms_b.create_key(Policy="{oops")
        self.assertError(ctx, "MalformedPolicyDocumentException")
        only_a = shared_key_policy(ACCOUNT_A, "arn:aws:iam::%s:root" % ACCOUNT_A)
        with self.assertRaises(ClientError) as ctx:
            self.kms_b.create_key(Policy=only_a)
        self.assertError(ctx, "MalformedPolicyDocumentException",
                         "The new key policy will not allow you to update the key policy in the future.")
        self.kms_b.create_key(Policy=only_a, BypassPolicyLockoutSafetyCheck=True)
        # A role principal in an emulated account must exist.
        with self.assertRaises(ClientError) as ctx:
            self.kms_b.create_key(Policy=shared_key_policy(ACCOUNT_B, COPY_ROLE))
        self.assertError(ctx, "MalformedPolicyDocumentException", "invalid principals")
        self.iam_a.create_role(RoleName="rdsbk-copy", AssumeRolePolicyDocument=LAMBDA_TRUST)
        key = self.kms_b.create_key(Policy=shared_key_policy(ACCOUNT_B, COPY_ROLE))["KeyMetadata"]["KeyId"]
        self.assertEqual(json.loads(self.kms_b.get_key_policy(KeyId=key, PolicyName="default")["Policy"]),
                         json.loads(shared_key_policy(ACCOUNT_B, COPY_ROLE)))
        # PutKeyPolicy applies the same check.
        with self.assertRaises(ClientError) as ctx:
            self.kms_b.put_key_policy(KeyId=key, PolicyName="default", Policy=only_a)
        self.assertError(ctx, "MalformedPolicyDocumentException")
        self.kms_b.put_key_policy(KeyId=key, PolicyName="default",
                                  Policy=shared_key_policy(ACCOUNT_B, "arn:aws:iam::%s:root" % ACCOUNT_A))
        with self.assertRaises(ClientError) as ctx:
            self.kms_b.get_key_policy(KeyId=key, PolicyName="other")
        self.assertError(ctx, "NotFoundException")

    def test_aliases(self):
        k1 = self.kms_b.create_key()["KeyMetadata"]["KeyId"]
        k2 = self.kms_b.create_key()["KeyMetadata"]["KeyId"]
        self.kms_b.create_alias(AliasName="alias/one", TargetKeyId=k1)
        with self.assertRaises(ClientError) as ctx:
            self.kms_b.create_alias(AliasName="alias/one", TargetKeyId=k2)
        self.assertError(ctx, "AlreadyExistsException")
        with self.assertRaises(ClientError) as ctx:
            self.kms_b.create_alias(AliasName="alias/aws/mine", TargetKeyId=k1)
        self.assertError(ctx, "InvalidAliasNameException")
        with self.assertRaises(ClientError) as ctx:
            self.kms_b.create_alias(AliasName="alias/two", TargetKeyId="alias/one")
        self.assertError(ctx, "NotFoundException")
        with self.assertRaises(ClientError) as ctx:
            self.h.client("kms", account=ACCOUNT_B, region=REGION_B, validate=False).create_alias(
                AliasName="no-prefix", TargetKeyId=k1)
        self.assertError(ctx, "ValidationException")
        self.kms_b.create_alias(AliasName="alias/two", TargetKeyId=k1)
        self.kms_b.update_alias(AliasName="alias/one", TargetKeyId=k2)
        got = {a["AliasName"]: a["TargetKeyId"] for a in self.kms_b.list_aliases()["Aliases"]}
        self.assertEqual(got, {"alias/one": k2, "alias/two": k1})
        self.assertEqual([a["AliasName"] for a in self.kms_b.list_aliases(KeyId=k1)["Aliases"]], ["alias/two"])
        self.kms_b.delete_alias(AliasName="alias/one")
        with self.assertRaises(ClientError) as ctx:
            self.kms_b.delete_alias(AliasName="alias/one")
        self.assertError(ctx, "NotFoundException")
        self.assertEqual([a["AliasName"] for a in self.kms_b.list_aliases()["Aliases"]], ["alias/two"])
        # Aliases are per account and Region.
        self.assertEqual(self.kms_a.list_aliases()["Aliases"], [])

    def test_tags(self):
        k = self.kms_b.create_key()["KeyMetadata"]["KeyId"]
        self.kms_b.tag_resource(KeyId=k, Tags=[{"TagKey": "a", "TagValue": "1"}, {"TagKey": "b", "TagValue": "2"}])
        self.kms_b.tag_resource(KeyId=k, Tags=[{"TagKey": "a", "TagValue": "3"}])
        self.kms_b.untag_resource(KeyId=k, TagKeys=["b"])
        self.assertEqual(self.kms_b.list_resource_tags(KeyId=k)["Tags"], [{"TagKey": "a", "TagValue": "3"}])
        with self.assertRaises(ClientError) as ctx:
            self.kms_b.tag_resource(KeyId=k, Tags=[{"TagKey": "aws:x", "TagValue": "1"}])
        self.assertError(ctx, "TagException")

    def test_deletion_window_and_states(self):
        meta = self.kms_b.create_key()["KeyMetadata"]
        k = meta["KeyId"]
        for days in (6, 31):
            with self.assertRaises(ClientError) as ctx:
                self.kms_b.schedule_key_deletion(KeyId=k, PendingWindowInDays=days)
            self.assertError(ctx, "ValidationException")
        out = self.kms_b.schedule_key_deletion(KeyId=k, PendingWindowInDays=7)
        self.assertEqual((out["KeyId"], out["KeyState"], out["PendingWindowInDays"]),
                         (meta["Arn"], "PendingDeletion", 7))
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertLess(abs((out["DeletionDate"] - now).total_seconds() - 7 * 86400), 60)
        desc = self.kms_b.describe_key(KeyId=k)["KeyMetadata"]
        self.assertEqual((desc["KeyState"], desc["Enabled"], desc["PendingDeletionWindowInDays"]),
                         ("PendingDeletion", False, 7))
        inv = [r for r in self.h.control("GET", "/_emu/inventory")[1]["resources"] if r["type"] == "key"]
        self.assertEqual([(r["id"], r["state"]) for r in inv], [(k, "PendingDeletion")])
        with self.assertRaises(ClientError) as ctx:
            self.kms_b.encrypt(KeyId=k, Plaintext=b"x")
        self.assertError(ctx, "KMSInvalidStateException", "pending deletion")
        with self.assertRaises(ClientError) as ctx:
            self.kms_b.schedule_key_deletion(KeyId=k, PendingWindowInDays=7)
        self.assertError(ctx, "KMSInvalidStateException")
        with self.assertRaises(ClientError) as ctx:
            self.kms_b.enable_key(KeyId=k)
        self.assertError(ctx, "KMSInvalidStateException")
        self.assertEqual(self.kms_b.cancel_key_deletion(KeyId=k)["KeyId"], meta["Arn"])
        self.assertEqual(self.kms_b.describe_key(KeyId=k)["KeyMetadata"]["KeyState"], "Disabled")
        with self.assertRaises(ClientError) as ctx:
            self.kms_b.encrypt(KeyId=k, Plaintext=b"x")
        self.assertError(ctx, "DisabledException")
        with self.assertRaises(ClientError) as ctx:
            self.kms_b.cancel_key_deletion(KeyId=k)
        self.assertError(ctx, "KMSInvalidStateException")
        self.kms_b.enable_key(KeyId=k)
        self.kms_b.encrypt(KeyId=k, Plaintext=b"x")
        self.kms_b.disable_key(KeyId=k)
        self.assertFalse(self.kms_b.describe_key(KeyId=k)["KeyMetadata"]["Enabled"])

    def test_key_is_gone_after_the_waiting_period(self):
        k = self.kms_b.create_key()["KeyMetadata"]["KeyId"]
        self.kms_b.create_alias(AliasName="alias/doomed", TargetKeyId=k)
        self.kms_b.schedule_key_deletion(KeyId=k, PendingWindowInDays=7)
        real_now = self.h.emu.now
        self.h.emu.now = lambda: real_now() + 6 * 86400
        try:
            self.assertEqual(self.kms_b.describe_key(KeyId=k)["KeyMetadata"]["KeyState"], "PendingDeletion")
            self.h.emu.now = lambda: real_now() + 7 * 86400 + 60
            with self.assertRaises(ClientError) as ctx:
                self.kms_b.describe_key(KeyId=k)
            self.assertError(ctx, "NotFoundException")
            self.assertEqual(self.kms_b.list_aliases()["Aliases"], [])
            self.assertEqual(self.h.control("GET", "/_emu/inventory")[1]["resources"], [])
        finally:
            del self.h.emu.now

    def test_key_deleted_when_the_clock_passes_its_date(self):
        k = self.kms_b.create_key()["KeyMetadata"]["KeyId"]
        date = self.kms_b.schedule_key_deletion(KeyId=k, PendingWindowInDays=7)["DeletionDate"]
        self.h.advance(6 * 86400)
        self.assertEqual(self.kms_b.describe_key(KeyId=k)["KeyMetadata"]["DeletionDate"], date)
        self.h.advance(86400 + 60)
        # gone at the advance's step, before anything asks for it
        self.assertEqual(self.h.emu.services["kms"].regions[(ACCOUNT_B, REGION_B)]["keys"], {})
        with self.assertRaises(ClientError) as ctx:
            self.kms_b.describe_key(KeyId=k)
        self.assertError(ctx, "NotFoundException")

    def test_description_rotation_and_policy_names(self):
        k = self.kms_b.create_key(Description="old")["KeyMetadata"]["KeyId"]
        self.kms_b.update_key_description(KeyId=k, Description="new")
        self.assertEqual(self.kms_b.describe_key(KeyId=k)["KeyMetadata"]["Description"], "new")
        self.assertEqual(self.kms_b.list_key_policies(KeyId=k)["PolicyNames"], ["default"])
        self.assertFalse(self.kms_b.get_key_rotation_status(KeyId=k)["KeyRotationEnabled"])
        self.kms_b.enable_key_rotation(KeyId=k)
        self.assertTrue(self.kms_b.get_key_rotation_status(KeyId=k)["KeyRotationEnabled"])
        self.kms_b.disable_key_rotation(KeyId=k)
        self.assertFalse(self.kms_b.get_key_rotation_status(KeyId=k)["KeyRotationEnabled"])
        self.kms_b.disable_key(KeyId=k)
        with self.assertRaises(ClientError) as ctx:
            self.kms_b.enable_key_rotation(KeyId=k)
        self.assertError(ctx, "DisabledException")

    def test_list_keys_paginates(self):
        ids = [self.kms_b.create_key()["KeyMetadata"]["KeyId"] for _ in range(5)]
        got = []
        for page in self.kms_b.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 2}):
            got += [k["KeyId"] for k in page["Keys"]]
        self.assertEqual(got, ids)
        self.assertEqual(self.kms_a.list_keys()["Keys"], [])

    def test_crypto(self):
        k1 = self.kms_b.create_key()["KeyMetadata"]
        k2 = self.kms_b.create_key()["KeyMetadata"]
        ctx_map = {"purpose": "test"}
        blob = self.kms_b.encrypt(KeyId=k1["KeyId"], Plaintext=b"secret", EncryptionContext=ctx_map)
        self.assertEqual(blob["KeyId"], k1["Arn"])
        out = self.kms_b.decrypt(CiphertextBlob=blob["CiphertextBlob"], EncryptionContext=ctx_map)
        self.assertEqual((out["Plaintext"], out["KeyId"]), (b"secret", k1["Arn"]))
        with self.assertRaises(ClientError) as ctx:
            self.kms_b.decrypt(CiphertextBlob=blob["CiphertextBlob"], EncryptionContext={"purpose": "other"})
        self.assertError(ctx, "InvalidCiphertextException")
        with self.assertRaises(ClientError) as ctx:
            self.kms_b.decrypt(CiphertextBlob=b"garbage" * 10)
        self.assertError(ctx, "InvalidCiphertextException")
        with self.assertRaises(ClientError) as ctx:
            self.kms_b.decrypt(CiphertextBlob=blob["CiphertextBlob"], EncryptionContext=ctx_map, KeyId=k2["KeyId"])
        self.assertError(ctx, "IncorrectKeyException")
        re = self.kms_b.re_encrypt(CiphertextBlob=blob["CiphertextBlob"], SourceEncryptionContext=ctx_map,
                                   DestinationKeyId=k2["KeyId"])
        self.assertEqual((re["SourceKeyId"], re["KeyId"]), (k1["Arn"], k2["Arn"]))
        self.assertEqual(self.kms_b.decrypt(CiphertextBlob=re["CiphertextBlob"])["Plaintext"], b"secret")
        dk = self.kms_b.generate_data_key(KeyId=k1["KeyId"], KeySpec="AES_256")
        self.assertEqual(len(dk["Plaintext"]), 32)
        self.assertEqual(self.kms_b.decrypt(CiphertextBlob=dk["CiphertextBlob"])["Plaintext"], dk["Plaintext"])
        self.assertEqual(len(self.kms_b.generate_data_key(KeyId=k1["KeyId"], NumberOfBytes=64)["Plaintext"]), 64)
        self.assertNotIn("Plaintext", self.kms_b.generate_data_key_without_plaintext(KeyId=k1["KeyId"],
                                                                                      KeySpec="AES_128"))
        with self.assertRaises(ClientError) as ctx:
            self.kms_b.generate_data_key(KeyId=k1["KeyId"])
        self.assertError(ctx, "ValidationException")

    # -- cross-account use (the pipeline's shared key) ------------------------------------------

    def test_cross_account_needs_key_policy_and_iam(self):
        k = self.kms_b.create_key()["KeyMetadata"]
        # Default policy: Account-A may not even describe it, by ARN or otherwise.
        with self.assertRaises(ClientError) as ctx:
            self.kms_a.describe_key(KeyId=k["Arn"])
        self.assertError(ctx, "AccessDeniedException",
                         "User: arn:aws:iam::%s:root is not authorized to perform: kms:DescribeKey" % ACCOUNT_A)
        with self.assertRaises(ClientError) as ctx:
            self.kms_a.describe_key(KeyId=k["KeyId"])  # a bare id means "in my account"
        self.assertError(ctx, "NotFoundException")
        # Key policy names the copy role.
        use = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
            "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": k["Arn"]}, {"Effect": "Allow", "Action": "kms:CreateGrant", "Resource": k["Arn"],
                                    "Condition": {"Bool": {"kms:GrantIsForAWSResource": True}}}]}
        as_copy = self.role_client("rdsbk-copy", use)
        no_iam = self.role_client("bare")
        self.kms_b.put_key_policy(KeyId=k["KeyId"], PolicyName="default",
                                  Policy=shared_key_policy(ACCOUNT_B, COPY_ROLE))
        self.assertEqual(as_copy.describe_key(KeyId=k["Arn"])["KeyMetadata"]["KeyId"], k["KeyId"])
        blob = as_copy.encrypt(KeyId=k["Arn"], Plaintext=b"snap")["CiphertextBlob"]
        self.assertEqual(as_copy.decrypt(CiphertextBlob=blob)["Plaintext"], b"snap")
        # Another role of Account-A is in neither policy; Account-A's root is not named either.
        with self.assertRaises(ClientError) as ctx:
            no_iam.describe_key(KeyId=k["Arn"])
        self.assertError(ctx, "AccessDeniedException")
        with self.assertRaises(ClientError) as ctx:
            self.kms_a.encrypt(KeyId=k["Arn"], Plaintext=b"x")
        self.assertError(ctx, "AccessDeniedException")
        # Grants only for AWS resources.
        with self.assertRaises(ClientError) as ctx:
            as_copy.create_grant(KeyId=k["Arn"], GranteePrincipal=COPY_ROLE, Operations=["Decrypt"])
        self.assertError(ctx, "AccessDeniedException")
        kms_svc = self.h.emu.services["kms"]
        session = "arn:aws:sts::%s:assumed-role/rdsbk-copy/test" % ACCOUNT_A
        self.assertEqual(kms_svc.check_use(ACCOUNT_A, session, COPY_ROLE, k["Arn"], REGION_B, "kms:CreateGrant",
                                           via_service="rds"), k["Arn"])
        # Account root delegation: policy names Account-A's root; then A's IAM decides.
        self.kms_b.put_key_policy(KeyId=k["KeyId"], PolicyName="default",
                                  Policy=shared_key_policy(ACCOUNT_B, "arn:aws:iam::%s:root" % ACCOUNT_A))
        as_copy.describe_key(KeyId=k["Arn"])
        self.kms_a.describe_key(KeyId=k["Arn"])
        with self.assertRaises(ClientError) as ctx:
            no_iam.describe_key(KeyId=k["Arn"])
        self.assertError(ctx, "AccessDeniedException", "no identity-based policy")
        # Key state applies across accounts.
        self.kms_b.schedule_key_deletion(KeyId=k["KeyId"], PendingWindowInDays=7)
        with self.assertRaises(AwsError) as ctx:
            kms_svc.check_use(ACCOUNT_A, session, COPY_ROLE, k["Arn"], REGION_B, "kms:Decrypt", via_service="rds")
        self.assertEqual(ctx.exception.code, "KMSInvalidStateException")
        # Cross-account alias names do not resolve; alias ARNs do.
        with self.assertRaises(AwsError) as ctx:
            kms_svc.check_use(ACCOUNT_A, session, COPY_ROLE, "alias/nope", REGION_B, "kms:Decrypt")
        self.assertEqual(ctx.exception.code, "NotFoundException")

    def test_same_account_role_needs_iam_when_policy_delegates_to_root(self):
        k = self.kms_a.create_key()["KeyMetadata"]
        as_bare = self.role_client("bare")
        with self.assertRaises(ClientError) as ctx:
            as_bare.encrypt(KeyId=k["KeyId"], Plaintext=b"x")
        self.assertError(ctx, "AccessDeniedException")
        as_user = self.role_client("user", {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}]})
        blob = as_user.encrypt(KeyId=k["KeyId"], Plaintext=b"x")["CiphertextBlob"]
        with self.assertRaises(ClientError) as ctx:
            as_user.decrypt(CiphertextBlob=blob)
        self.assertError(ctx, "AccessDeniedException", "explicit deny")

    def test_aws_managed_rds_key(self):
        svc = self.h.emu.services["kms"]
        arn = svc.default_key(ACCOUNT_A, REGION_B, "rds")
        self.assertEqual(svc.default_key(ACCOUNT_A, REGION_B, "rds"), arn)
        meta = self.kms_a.describe_key(KeyId="alias/aws/rds")["KeyMetadata"]
        self.assertEqual((meta["Arn"], meta["KeyManager"]), (arn, "AWS"))
        root = "arn:aws:iam::%s:root" % ACCOUNT_A
        self.assertEqual(svc.check_use(ACCOUNT_A, root, None, "alias/aws/rds", REGION_B, "kms:Decrypt",
                                       via_service="rds"), arn)
        with self.assertRaises(AwsError) as ctx:
            svc.check_use(ACCOUNT_A, root, None, arn, REGION_B, "kms:Decrypt")  # not via RDS
        self.assertEqual(ctx.exception.code, "AccessDeniedException")
        with self.assertRaises(AwsError) as ctx:  # cannot be shared with another account
            svc.check_use(ACCOUNT_B, "arn:aws:iam::%s:root" % ACCOUNT_B, None, arn, REGION_B, "kms:Decrypt",
                          via_service="rds")
        self.assertEqual(ctx.exception.code, "AccessDeniedException")
        for call in (lambda: self.kms_a.put_key_policy(KeyId=arn, PolicyName="default",
                                                       Policy=shared_key_policy(ACCOUNT_A, root)),
                     lambda: self.kms_a.schedule_key_deletion(KeyId=arn, PendingWindowInDays=7),
                     lambda: self.kms_a.encrypt(KeyId=arn, Plaintext=b"x")):
            with self.assertRaises(ClientError) as ctx:
                call()
            self.assertError(ctx, "AccessDeniedException")
        inv = self.h.control("GET", "/_emu/inventory")[1]["resources"]
        self.assertEqual(sorted((r["type"], r["id"], r["manager"]) for r in inv),
                         [("alias", "alias/aws/rds", "AWS"), ("key", arn.rsplit("/", 1)[1], "AWS")])

    def test_grants(self):
        k = self.kms_b.create_key()["KeyMetadata"]["KeyId"]
        g = self.kms_b.create_grant(KeyId=k, GranteePrincipal="arn:aws:iam::%s:root" % ACCOUNT_A,
                                    Operations=["Decrypt", "DescribeKey"], Name="n")
        again = self.kms_b.create_grant(KeyId=k, GranteePrincipal="arn:aws:iam::%s:root" % ACCOUNT_A,
                                        Operations=["Decrypt", "DescribeKey"], Name="n")
        self.assertEqual(g["GrantId"], again["GrantId"])
        grants = self.kms_b.list_grants(KeyId=k)["Grants"]
        self.assertEqual([(x["GrantId"], x["Operations"]) for x in grants], [(g["GrantId"], ["Decrypt", "DescribeKey"])])
        other = self.kms_b.create_grant(KeyId=k, GranteePrincipal="arn:aws:iam::%s:root" % ACCOUNT_A,
                                        Operations=["Encrypt"])
        with self.assertRaises(ClientError) as ctx:
            self.kms_a.retire_grant(GrantToken=other["GrantToken"])  # neither issuer nor retiring principal
        self.assertError(ctx, "AccessDeniedException")
        self.kms_b.retire_grant(GrantToken=other["GrantToken"])
        self.assertEqual(len(self.kms_b.list_grants(KeyId=k)["Grants"]), 1)
        self.kms_b.revoke_grant(KeyId=k, GrantId=g["GrantId"])
        self.assertEqual(self.kms_b.list_grants(KeyId=k)["Grants"], [])
        with self.assertRaises(ClientError) as ctx:
            self.kms_b.revoke_grant(KeyId=k, GrantId=g["GrantId"])
        self.assertError(ctx, "NotFoundException")


if __name__ == "__main__":
    # boto3 clients made per test keep pooled sockets open until garbage collection.
    unittest.main(verbosity=2, warnings="ignore")
