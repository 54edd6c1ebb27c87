"""Organizations in the emulator, through boto3: the control API that sets an organisation up
and moves accounts, the read operations with their pagination and errors, who may call them,
and aws:PrincipalOrgID / aws:PrincipalOrgPaths in resource policies (EventBridge, SNS, KMS)."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

MGMT, M1, M2, M3, OUTSIDER = ("111111111111", "222222222222", "333333333333", "444444444444",
                              "555555555555")
ORG = "o-a1b2c3d4e5"
ROOT = "r-ab12"
OU_PROD = "ou-ab12-11111111"
OU_DEV = "ou-ab12-22222222"
R = "us-east-1"


def code_of(cm):
    return cm.exception.response["Error"]["Code"]


def all_pages(call, key, **kw):
    out, pages = [], 0
    while True:
        page = call(**kw)
        pages += 1
        out += page[key]
        if not page.get("NextToken"):
            return out, pages
        kw["NextToken"] = page["NextToken"]


class OrganizationsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = Harness(accounts=(MGMT, M1, M2, M3, OUTSIDER)).start()
        cls.addClassCleanup(cls.h.stop)

    def setUp(self):
        self.h.control("POST", "/_emu/reset")
        self.org = self.client(MGMT)

    def client(self, account, **kw):
        return self.h.client("organizations", account, R, **kw)

    def setup_org(self):
        status, out = self.h.control("POST", "/_emu/organizations", {
            "id": ORG, "management": MGMT, "ous": {OU_PROD: [M1, M2], OU_DEV: []},
            "ou_names": {OU_PROD: "prod"}, "accounts": [M3]})
        self.assertEqual(status, 200, out)
        return out

    # ------------------------------------------------------------------ control API
    def test_control_setup_get_and_reset(self):
        self.assertEqual(self.h.control("GET", "/_emu/organizations")[0], 404)
        out = self.setup_org()
        self.assertEqual(out["root"], ROOT)   # from the OU ids' middle part
        self.assertEqual(out["arn"], "arn:aws:organizations::%s:organization/%s" % (MGMT, ORG))
        self.assertEqual(out["accounts"], {MGMT: ROOT, M1: OU_PROD, M2: OU_PROD, M3: ROOT})
        self.assertEqual(out["ous"][OU_PROD], {"name": "prod", "accounts": [M1, M2]})
        self.assertEqual(out["ous"][OU_DEV], {"name": OU_DEV, "accounts": []})
        self.assertEqual(self.h.control("GET", "/_emu/organizations")[1], out)
        # without OUs the root comes from the organisation id
        status, out = self.h.control("POST", "/_emu/organizations",
                                     {"id": ORG, "management": M1})
        self.assertEqual((status, out["root"], out["accounts"]), (200, "r-a1b2", {M1: "r-a1b2"}))
        self.h.control("POST", "/_emu/reset")
        self.assertEqual(self.h.control("GET", "/_emu/organizations")[0], 404)

    def test_control_validation(self):
        bad = [
            {"id": "o-123", "management": MGMT},                       # the model's pattern
            {"id": ORG, "management": "999999999999"},                 # not the emulator's
            {"id": ORG, "management": "12345"},
            {"id": ORG, "management": MGMT, "ous": {"ou-bad": [M1]}},
            {"id": ORG, "management": MGMT,                            # two roots named
             "ous": {"ou-ab12-11111111": [], "ou-cd34-11111111": []}},
            {"id": ORG, "management": MGMT, "ous": {OU_PROD: [M1], OU_DEV: [M1]}},
            {"id": ORG, "management": MGMT, "root": "r-zz99", "ous": {OU_PROD: []}},
            {"id": ORG, "management": MGMT, "ous": {OU_PROD: ["999999999999"]}},
        ]
        for body in bad:
            with self.subTest(body=body):
                status, out = self.h.control("POST", "/_emu/organizations", body)
                self.assertEqual(status, 400, out)
        self.assertEqual(self.h.control("GET", "/_emu/organizations")[0], 404)

    def test_move_account_calls_the_listeners(self):
        self.setup_org()
        seen = []
        listeners = self.h.emu.services["organizations"].move_listeners
        listeners.append(lambda *args: seen.append(args))
        self.addCleanup(listeners.clear)
        status, out = self.h.control("POST", "/_emu/organizations/move-account",
                                     {"account": M3, "ou": OU_DEV})
        self.assertEqual(status, 200, out)
        self.assertEqual(out["accounts"][M3], OU_DEV)
        self.assertEqual(out["moved"], {"account": M3, "from": ROOT, "to": OU_DEV})
        self.assertEqual(seen, [(M3, ROOT, OU_DEV)])
        self.assertEqual(self.org.list_parents(ChildId=M3)["Parents"],
                         [{"Id": OU_DEV, "Type": "ORGANIZATIONAL_UNIT"}])
        # back under the root; a move to where it is calls nobody
        self.h.control("POST", "/_emu/organizations/move-account", {"account": M3, "ou": ROOT})
        self.h.control("POST", "/_emu/organizations/move-account", {"account": M3, "ou": ROOT})
        self.assertEqual(seen, [(M3, ROOT, OU_DEV), (M3, OU_DEV, ROOT)])
        for body in ({"account": OUTSIDER, "ou": OU_DEV}, {"account": M3, "ou": "ou-ab12-99999999"}):
            with self.subTest(body=body):
                self.assertEqual(self.h.control("POST", "/_emu/organizations/move-account",
                                                body)[0], 400)
        # no organisation structure is created by a move
        self.assertEqual(sorted(self.h.control("GET", "/_emu/organizations")[1]["ous"]),
                         [OU_PROD, OU_DEV])

    # ------------------------------------------------------------------ operations
    def test_describe_organization_from_any_member(self):
        self.setup_org()
        for account in (MGMT, M1):
            org = self.client(account).describe_organization()["Organization"]
            self.assertEqual(org["Id"], ORG)
            self.assertEqual(org["MasterAccountId"], MGMT)
            self.assertEqual(org["FeatureSet"], "ALL")
            self.assertEqual(org["MasterAccountArn"],
                             "arn:aws:organizations::%s:account/%s/%s" % (MGMT, ORG, MGMT))
        with self.assertRaises(ClientError) as cm:
            self.client(OUTSIDER).describe_organization()
        self.assertEqual(code_of(cm), "AWSOrganizationsNotInUseException")

    def test_no_organisation(self):
        for call in (lambda c: c.describe_organization(), lambda c: c.list_accounts(),
                     lambda c: c.describe_account(AccountId=MGMT)):
            with self.assertRaises(ClientError) as cm:
                call(self.org)
            self.assertEqual(code_of(cm), "AWSOrganizationsNotInUseException")

    def test_roots_accounts_children_parents(self):
        self.setup_org()
        roots = self.org.list_roots()["Roots"]
        self.assertEqual(roots, [{"Id": ROOT, "Name": "Root", "PolicyTypes": [], "Arn":
                                  "arn:aws:organizations::%s:root/%s/%s" % (MGMT, ORG, ROOT)}])
        accounts = self.org.list_accounts()["Accounts"]
        self.assertEqual([a["Id"] for a in accounts], [MGMT, M1, M2, M3])
        self.assertEqual(accounts[1]["Status"], "ACTIVE")
        self.assertEqual(accounts[1]["Arn"],
                         "arn:aws:organizations::%s:account/%s/%s" % (MGMT, ORG, M1))
        self.assertEqual([a["Id"] for a in self.org.list_accounts_for_parent(
            ParentId=OU_PROD)["Accounts"]], [M1, M2])
        self.assertEqual([a["Id"] for a in self.org.list_accounts_for_parent(
            ParentId=ROOT)["Accounts"]], [MGMT, M3])
        self.assertEqual(self.org.list_accounts_for_parent(ParentId=OU_DEV)["Accounts"], [])
        self.assertEqual(self.org.list_children(ParentId=ROOT, ChildType="ORGANIZATIONAL_UNIT")
                         ["Children"], [{"Id": OU_PROD, "Type": "ORGANIZATIONAL_UNIT"},
                                        {"Id": OU_DEV, "Type": "ORGANIZATIONAL_UNIT"}])
        self.assertEqual(self.org.list_children(ParentId=OU_PROD, ChildType="ACCOUNT")
                         ["Children"], [{"Id": M1, "Type": "ACCOUNT"},
                                        {"Id": M2, "Type": "ACCOUNT"}])
        self.assertEqual(self.org.list_children(ParentId=OU_PROD,
                                                ChildType="ORGANIZATIONAL_UNIT")["Children"], [])
        self.assertEqual(self.org.list_parents(ChildId=M1)["Parents"],
                         [{"Id": OU_PROD, "Type": "ORGANIZATIONAL_UNIT"}])
        self.assertEqual(self.org.list_parents(ChildId=OU_DEV)["Parents"],
                         [{"Id": ROOT, "Type": "ROOT"}])
        self.assertEqual(self.org.describe_account(AccountId=M2)["Account"]["Id"], M2)
        self.assertEqual(self.org.describe_organizational_unit(
            OrganizationalUnitId=OU_PROD)["OrganizationalUnit"],
            {"Id": OU_PROD, "Name": "prod",
             "Arn": "arn:aws:organizations::%s:ou/%s/%s" % (MGMT, ORG, OU_PROD)})

    def test_not_found(self):
        self.setup_org()
        cases = [
            (lambda: self.org.list_accounts_for_parent(ParentId="ou-ab12-99999999"),
             "ParentNotFoundException"),
            (lambda: self.org.list_children(ParentId="r-zz99", ChildType="ACCOUNT"),
             "ParentNotFoundException"),
            (lambda: self.org.list_parents(ChildId=OUTSIDER), "ChildNotFoundException"),
            (lambda: self.org.list_parents(ChildId="ou-ab12-99999999"), "ChildNotFoundException"),
            (lambda: self.org.describe_account(AccountId=OUTSIDER), "AccountNotFoundException"),
            (lambda: self.org.describe_organizational_unit(
                OrganizationalUnitId="ou-ab12-99999999"), "OrganizationalUnitNotFoundException"),
        ]
        for call, code in cases:
            with self.subTest(code=code), self.assertRaises(ClientError) as cm:
                call()
            self.assertEqual(code_of(cm), code)

    def test_pagination(self):
        self.setup_org()
        page = self.org.list_accounts(MaxResults=3)
        self.assertEqual(len(page["Accounts"]), 3)
        accounts, pages = all_pages(self.org.list_accounts, "Accounts", MaxResults=1)
        self.assertEqual(([a["Id"] for a in accounts], pages), ([MGMT, M1, M2, M3], 4))
        children, pages = all_pages(self.org.list_children, "Children", ParentId=ROOT,
                                    ChildType="ORGANIZATIONAL_UNIT", MaxResults=1)
        self.assertEqual(([c["Id"] for c in children], pages), ([OU_PROD, OU_DEV], 2))
        # boto3's paginators drive the same tokens
        paginator = self.org.get_paginator("list_accounts_for_parent")
        ids = [a["Id"] for p in paginator.paginate(ParentId=OU_PROD,
                                                   PaginationConfig={"PageSize": 1})
               for a in p["Accounts"]]
        self.assertEqual(ids, [M1, M2])
        # a token is good only for the call that made it
        token = self.org.list_accounts(MaxResults=1)["NextToken"]
        for call in (lambda: self.org.list_roots(NextToken=token),
                     lambda: self.org.list_accounts_for_parent(ParentId=ROOT, NextToken=token),
                     lambda: self.org.list_accounts(NextToken="not-a-token")):
            with self.assertRaises(ClientError) as cm:
                call()
            self.assertEqual(code_of(cm), "InvalidInputException")
            self.assertEqual(cm.exception.response["Error"]["Message"][:36],
                             "You specified an invalid value for n")

    def test_validation_is_invalid_input(self):
        self.setup_org()
        raw = self.client(MGMT, validate=False)
        cases = [
            (lambda: raw.describe_account(AccountId="1234"), "INVALID_PATTERN",
             "You provided a value that does not match the required pattern."),
            (lambda: raw.list_children(ParentId="x-1", ChildType="ACCOUNT"), "INVALID_PATTERN",
             None),
            (lambda: raw.list_accounts(MaxResults=21), "MAX_VALUE_EXCEEDED", None),
            (lambda: raw.list_accounts(MaxResults=0), "MIN_VALUE_EXCEEDED", None),
            (lambda: raw.describe_organizational_unit(), "INPUT_REQUIRED", None),
        ]
        for call, reason, message in cases:
            with self.subTest(reason=reason), self.assertRaises(ClientError) as cm:
                call()
            self.assertEqual(code_of(cm), "InvalidInputException")
            self.assertEqual(cm.exception.response.get("Reason"), reason)
            if message:
                self.assertEqual(cm.exception.response["Error"]["Message"], message)

    def test_management_only_operations(self):
        self.setup_org()
        member = self.client(M1)
        for call in (lambda: member.list_accounts(), lambda: member.list_roots(),
                     lambda: member.describe_account(AccountId=M1),
                     lambda: member.list_parents(ChildId=M1),
                     lambda: member.list_children(ParentId=ROOT, ChildType="ACCOUNT"),
                     lambda: member.list_accounts_for_parent(ParentId=ROOT),
                     lambda: member.describe_organizational_unit(OrganizationalUnitId=OU_PROD)):
            with self.assertRaises(ClientError) as cm:
                call()
            self.assertEqual(code_of(cm), "AccessDeniedException")
            self.assertEqual(cm.exception.response["Error"]["Message"],
                             "You don't have permissions to access this resource.")

    def test_roles_need_organizations_permissions(self):
        self.setup_org()
        iam = self.h.client("iam", MGMT, R)
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % MGMT},
            "Action": "sts:AssumeRole"}]}
        iam.create_role(RoleName="reader", AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(RoleName="reader", PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "organizations:ListAccounts", "Resource": "*"},
                {"Effect": "Allow", "Action": "organizations:DescribeAccount",
                 "Resource": "arn:aws:organizations::%s:account/%s/%s" % (MGMT, ORG, M1)}]}))
        creds = self.h.client("sts", MGMT, R).assume_role(
            RoleArn="arn:aws:iam::%s:role/reader" % MGMT, RoleSessionName="reader")["Credentials"]
        org = self.h.client("organizations", MGMT, R, credentials=creds)
        self.assertEqual(len(org.list_accounts()["Accounts"]), 4)
        self.assertEqual(org.describe_account(AccountId=M1)["Account"]["Id"], M1)
        for call in (lambda: org.describe_account(AccountId=M2), lambda: org.list_roots()):
            with self.assertRaises(ClientError) as cm:
                call()
            self.assertEqual(code_of(cm), "AccessDeniedException")
            self.assertIn("is not authorized to perform: organizations:",
                          cm.exception.response["Error"]["Message"])

    def test_signed_for_us_east_1_only(self):
        self.setup_org()
        with self.assertRaises(ClientError) as cm:
            self.h.client("organizations", MGMT, "eu-west-1").describe_organization()
        self.assertEqual(code_of(cm), "InvalidSignatureException")

    # ------------------------------------------------------------------ aws:PrincipalOrgID
    def org_condition_policy(self, action, resource):
        return {"Version": "2012-10-17", "Statement": [{
            "Sid": "org", "Effect": "Allow", "Principal": "*", "Action": action,
            "Resource": resource,
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}}]}

    def test_event_bus_policy_with_principal_org_id(self):
        self.setup_org()
        ev = self.h.client("events", MGMT, R)
        bus = ev.create_event_bus(Name="org-bus")["EventBusArn"]
        ev.put_permission(EventBusName="org-bus", Policy=json.dumps(
            self.org_condition_policy("events:PutEvents", bus)))
        entry = {"Source": "app", "DetailType": "ping", "Detail": "{}", "EventBusName": bus}
        out = self.h.client("events", M1, R).put_events(Entries=[entry])
        self.assertEqual(out["FailedEntryCount"], 0, out)
        out = self.h.client("events", OUTSIDER, R).put_events(Entries=[entry])
        self.assertEqual(out["FailedEntryCount"], 1, out)
        self.assertEqual(out["Entries"][0]["ErrorCode"], "AccessDeniedException")

    def test_topic_policy_with_principal_org_id_and_paths(self):
        self.setup_org()
        sns = self.h.client("sns", MGMT, R)
        topic = sns.create_topic(Name="org")["TopicArn"]
        policy = self.org_condition_policy("SNS:Publish", topic)
        # only the prod OU, through aws:PrincipalOrgPaths (multivalued)
        policy["Statement"].append({
            "Sid": "prod", "Effect": "Allow", "Principal": "*", "Action": "SNS:Subscribe",
            "Resource": topic, "Condition": {"ForAnyValue:StringLike": {
                "aws:PrincipalOrgPaths": "%s/%s/%s/*" % (ORG, ROOT, OU_PROD)}}})
        sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy",
                                 AttributeValue=json.dumps(policy))
        self.h.client("sns", M3, R).publish(TopicArn=topic, Message="in the org")
        with self.assertRaises(ClientError) as cm:
            self.h.client("sns", OUTSIDER, R).publish(TopicArn=topic, Message="outside")
        self.assertEqual(code_of(cm), "AuthorizationError")
        sub = dict(TopicArn=topic, Protocol="email", Endpoint="a@example.com")
        self.h.client("sns", M1, R).subscribe(**sub)          # in prod
        with self.assertRaises(ClientError) as cm:
            self.h.client("sns", M3, R).subscribe(**sub)      # under the root
        self.assertEqual(code_of(cm), "AuthorizationError")
        # moved into prod, M3 may
        self.h.control("POST", "/_emu/organizations/move-account", {"account": M3, "ou": OU_PROD})
        self.h.client("sns", M3, R).subscribe(**sub)

    def test_key_policy_with_principal_org_id(self):
        self.setup_org()
        kms = self.h.client("kms", MGMT, R)
        policy = {"Version": "2012-10-17", "Statement": [
            {"Sid": "root", "Effect": "Allow",
             "Principal": {"AWS": "arn:aws:iam::%s:root" % MGMT}, "Action": "kms:*",
             "Resource": "*"}] + self.org_condition_policy("kms:DescribeKey", "*")["Statement"]}
        key = kms.create_key(Policy=json.dumps(policy))["KeyMetadata"]["Arn"]
        self.assertEqual(self.h.client("kms", M2, R).describe_key(KeyId=key)
                         ["KeyMetadata"]["Arn"], key)
        with self.assertRaises(ClientError) as cm:
            self.h.client("kms", OUTSIDER, R).describe_key(KeyId=key)
        self.assertEqual(code_of(cm), "AccessDeniedException")


if __name__ == "__main__":
    unittest.main(warnings="ignore")
