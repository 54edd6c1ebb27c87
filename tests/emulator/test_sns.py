"""SNS in the emulator, through boto3: topics and their attributes, CreateTopic's idempotence,
validation from the model and from SNS's rules, topic policies across accounts and for AWS
services, subscriptions (email, sqs, lambda), Publish and its limits, delivery, encrypted topics,
tags, GET /_emu/sns/messages and the inventory."""

import io
import json
import os
import sys
import unittest
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ACCOUNT_A, ACCOUNT_B, EmulatorCase  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from emu.core import AwsError  # noqa: E402

R = "us-east-1"
LAMBDA_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})
ECHO = "def handler(event, context):\n    print(event['Records'][0]['Sns']['Message'])\n"


def code_of(cm):
    return cm.exception.response["Error"]["Code"]


def message_of(cm):
    return cm.exception.response["Error"]["Message"]


def topic_arn(name, account=ACCOUNT_A, region=R):
    return "arn:aws:sns:%s:%s:%s" % (region, account, name)


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class _Base(EmulatorCase):
    def setUp(self):
        super().setUp()
        self.sns = self.h.client("sns", ACCOUNT_A, R)
        self.sns_b = self.h.client("sns", ACCOUNT_B, R)
        self.sqs = self.h.client("sqs", ACCOUNT_A, R)

    def wait(self):
        status, body = self.h.control("POST", "/_emu/wait-idle", {"timeout_s": 30})
        self.assertEqual(status, 200, body)

    def messages(self, topic=None):
        status, body = self.h.control("GET", "/_emu/sns/messages" +
                                      ("?topic_arn=" + topic if topic else ""))
        self.assertEqual(status, 200, body)
        return body

    def failed(self):
        return self.h.control("GET", "/_emu/failed-deliveries")[1]["failed_deliveries"]

    def queue(self, name, topic=None):
        """A queue; with a topic, its policy lets that topic's SNS deliveries in."""
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "QueueArn"])["Attributes"]["QueueArn"]
        if topic:
            self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy({
                "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage", "Resource": arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic}}})})
        return url, arn

    def bodies(self, url):
        got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       MessageAttributeNames=["All"]).get("Messages", [])
        return got


class TopicTest(_Base):
    def test_create_is_idempotent_and_refuses_conflicts(self):
        arn = self.sns.create_topic(Name="alerts", Attributes={"DisplayName": "Alerts"},
                                    Tags=[{"Key": "team", "Value": "db"}])["TopicArn"]
        self.assertEqual(arn, topic_arn("alerts"))
        # the same name again (with the same, fewer or no attributes and tags): the same topic
        self.assertEqual(self.sns.create_topic(Name="alerts")["TopicArn"], arn)
        self.assertEqual(self.sns.create_topic(Name="alerts", Attributes={
            "DisplayName": "Alerts"}, Tags=[{"Key": "team", "Value": "db"}])["TopicArn"], arn)
        with self.assertRaises(ClientError) as cm:
            self.sns.create_topic(Name="alerts", Attributes={"DisplayName": "Other"})
        self.assertEqual(code_of(cm), "InvalidParameter")
        self.assertEqual(message_of(cm), "Invalid parameter: Attributes Reason: Topic already "
                                         "exists with different attributes")
        with self.assertRaises(ClientError) as cm:
            self.sns.create_topic(Name="alerts", Tags=[{"Key": "team", "Value": "web"}])
        self.assertEqual(message_of(cm), "Invalid parameter: Tags Reason: Topic already exists "
                                         "with different tags")
        for name in ("has space", "x" * 257, "fifo.fifo"):
            with self.subTest(name=name), self.assertRaises(ClientError) as cm:
                self.sns.create_topic(Name=name)
            self.assertEqual(code_of(cm), "InvalidParameter")
        self.assertEqual([t["TopicArn"] for t in self.sns.list_topics()["Topics"]], [arn])

    def test_attributes_and_default_policy(self):
        arn = self.sns.create_topic(Name="t")["TopicArn"]
        attrs = self.sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        self.assertEqual(attrs["TopicArn"], arn)
        self.assertEqual(attrs["Owner"], ACCOUNT_A)
        self.assertEqual(attrs["SubscriptionsConfirmed"], "0")
        self.assertIn("EffectiveDeliveryPolicy", attrs)
        self.assertNotIn("KmsMasterKeyId", attrs)
        doc = json.loads(attrs["Policy"])   # AWS's default: the owner account only
        self.assertEqual(doc["Id"], "__default_policy_ID")
        st = doc["Statement"][0]
        self.assertEqual(st["Condition"], {"StringEquals": {"AWS:SourceOwner": ACCOUNT_A}})
        self.assertIn("SNS:Publish", st["Action"])
        self.assertEqual(st["Resource"], arn)
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName",
                                      AttributeValue="Backups")
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="KmsMasterKeyId",
                                      AttributeValue="alias/aws/sns")
        attrs = self.sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        self.assertEqual((attrs["DisplayName"], attrs["KmsMasterKeyId"]),
                         ("Backups", "alias/aws/sns"))
        with self.assertRaises(ClientError) as cm:
            self.sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy",
                                          AttributeValue="{not json")
        self.assertEqual(code_of(cm), "InvalidParameter")
        with self.assertRaises(ClientError) as cm:
            self.sns.set_topic_attributes(TopicArn=arn, AttributeName="Owner",
                                          AttributeValue="x")
        self.assertEqual(message_of(cm), "Invalid parameter: AttributeName")
        with self.assertRaises(ClientError) as cm:
            self.sns.get_topic_attributes(TopicArn=topic_arn("nope"))
        self.assertEqual(code_of(cm), "NotFound")
        with self.assertRaises(ClientError) as cm:
            self.sns.get_topic_attributes(TopicArn="not-an-arn")
        self.assertEqual(message_of(cm), "Invalid parameter: TopicArn")
        self.sns.delete_topic(TopicArn=arn)
        self.sns.delete_topic(TopicArn=arn)   # deleting what is gone is not an error
        self.assertEqual(self.sns.list_topics()["Topics"], [])

    def test_policy_principals_must_be_known(self):
        missing = "arn:aws:iam::%s:role/not-yet" % ACCOUNT_A
        doc = policy({"Effect": "Allow", "Principal": {"AWS": [missing]}, "Action": "sns:Publish",
                      "Resource": topic_arn("t")})
        for call in (lambda: self.sns.create_topic(Name="t", Attributes={"Policy": doc}),
                     lambda: self.sns.set_topic_attributes(
                         TopicArn=self.sns.create_topic(Name="t")["TopicArn"],
                         AttributeName="Policy", AttributeValue=doc)):
            with self.assertRaises(ClientError) as cm:
                call()
            self.assertEqual((code_of(cm), message_of(cm)),
                             ("InvalidParameter", "Invalid parameter: Policy Error: "
                              "PrincipalNotFound"))
        self.h.client("iam", ACCOUNT_A, R).create_role(
            RoleName="not-yet", AssumeRolePolicyDocument=LAMBDA_TRUST)
        self.sns.set_topic_attributes(TopicArn=topic_arn("t"), AttributeName="Policy",
                                      AttributeValue=doc)
        # an account the emulator does not hold: its roles are not known to be missing
        self.sns.set_topic_attributes(TopicArn=topic_arn("t"), AttributeName="Policy",
                                      AttributeValue=doc.replace(missing, missing.replace(
                                          ACCOUNT_A, "333333333333")))

    def test_model_validation(self):
        raw = self.h.client("sns", ACCOUNT_A, R, validate=False)
        arn = self.sns.create_topic(Name="t")["TopicArn"]
        with self.assertRaises(ClientError) as cm:   # Message is required by the model
            raw.publish(TopicArn=arn)
        self.assertEqual(code_of(cm), "ValidationError")
        with self.assertRaises(ClientError) as cm:   # a tag key is 1-128 characters
            raw.tag_resource(ResourceArn=arn, Tags=[{"Key": "k" * 129, "Value": "v"}])
        self.assertEqual(code_of(cm), "ValidationError")
        with self.assertRaises(ClientError) as cm:
            raw.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[
                {"Id": "1", "Message": "m"}])
        self.assertEqual(code_of(cm), "InvalidAction")   # not emulated: refused

    def test_list_topics_pages_by_100(self):
        for i in range(101):
            self.sns.create_topic(Name="t%03d" % i)
        first = self.sns.list_topics()
        self.assertEqual(len(first["Topics"]), 100)
        rest = self.sns.list_topics(NextToken=first["NextToken"])
        self.assertEqual([t["TopicArn"] for t in rest["Topics"]], [topic_arn("t100")])
        self.assertNotIn("NextToken", rest)

    def test_tags(self):
        arn = self.sns.create_topic(Name="t")["TopicArn"]
        self.sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"},
                                                     {"Key": "b", "Value": "2"}])
        self.sns.untag_resource(ResourceArn=arn, TagKeys=["a"])
        self.assertEqual(self.sns.list_tags_for_resource(ResourceArn=arn)["Tags"],
                         [{"Key": "b", "Value": "2"}])
        with self.assertRaises(ClientError) as cm:
            self.sns.list_tags_for_resource(ResourceArn=topic_arn("nope"))
        self.assertEqual(code_of(cm), "ResourceNotFound")
        with self.assertRaises(ClientError) as cm:
            self.sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k%d" % i, "Value": ""}
                                                         for i in range(50)])
        self.assertEqual(code_of(cm), "TagLimitExceeded")


class PublishTest(_Base):
    def test_limits(self):
        arn = self.sns.create_topic(Name="t")["TopicArn"]
        self.sns.publish(TopicArn=arn, Message="m", Subject="s" * 99)
        for subject in ("s" * 100, "line\nbreak", "caf\u00e9", " leading space"):
            with self.subTest(subject=subject), self.assertRaises(ClientError) as cm:
                self.sns.publish(TopicArn=arn, Message="m", Subject=subject)
            self.assertEqual(message_of(cm), "Invalid parameter: Subject")
        self.sns.publish(TopicArn=arn, Message="x" * 262144)
        with self.assertRaises(ClientError) as cm:
            self.sns.publish(TopicArn=arn, Message="x" * 262145)
        self.assertEqual(message_of(cm), "Invalid parameter: Message too long")
        with self.assertRaises(ClientError) as cm:   # attributes count towards the size
            self.sns.publish(TopicArn=arn, Message="x" * 262140, MessageAttributes={
                "attr": {"DataType": "String", "StringValue": "value"}})
        self.assertEqual(message_of(cm), "Invalid parameter: Message too long")
        with self.assertRaises(ClientError) as cm:
            self.sns.publish(TopicArn=arn, Message="")
        self.assertEqual(message_of(cm), "Invalid parameter: Empty message")
        with self.assertRaises(ClientError) as cm:
            self.sns.publish(TopicArn=topic_arn("gone"), Message="m")
        self.assertEqual(code_of(cm), "NotFound")
        self.assertEqual(len(self.messages()), 2)

    def test_messages_route_and_reset(self):
        a = self.sns.create_topic(Name="a")["TopicArn"]
        b = self.sns.create_topic(Name="b")["TopicArn"]
        before = self.h.now()
        self.h.advance(86400)
        mid = self.sns.publish(TopicArn=a, Message="first", Subject="Backup failed")["MessageId"]
        self.sns.publish(TopicArn=b, Message="second")
        got = self.messages()
        self.assertEqual([(m["topic_arn"], m["subject"], m["message"]) for m in got],
                         [(a, "Backup failed", "first"), (b, None, "second")])
        self.assertEqual(got[0]["message_id"], mid)
        # the time is AWS time, ISO 8601: a day after the real clock here
        self.assertRegex(got[0]["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        import datetime
        stamp = datetime.datetime.strptime(got[0]["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        self.assertGreaterEqual(stamp, before + 86400 - 1)
        self.assertEqual([m["message"] for m in self.messages(b)], ["second"])
        self.h.control("POST", "/_emu/reset")
        self.assertEqual(self.messages(), [])

    def test_cross_account_publish_needs_the_topic_policy(self):
        arn = self.sns.create_topic(Name="alerts")["TopicArn"]
        # the default policy admits no other account
        with self.assertRaises(ClientError) as cm:
            self.sns_b.publish(TopicArn=arn, Message="from b")
        self.assertEqual(code_of(cm), "AuthorizationError")
        self.assertIn("resource-based policy", message_of(cm))
        # a statement for account B, case as the console writes it, with a condition
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=policy({
            "Sid": "b", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT_B},
            "Action": "SNS:Publish", "Resource": arn,
            "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT_B}}}))
        self.sns_b.publish(TopicArn=arn, Message="from b")
        with self.assertRaises(ClientError) as cm:   # only Publish was granted
            self.sns_b.get_topic_attributes(TopicArn=arn)
        self.assertEqual(code_of(cm), "AuthorizationError")
        # a condition that does not hold admits nobody
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=policy({
            "Effect": "Allow", "Principal": "*", "Action": "sns:publish", "Resource": arn,
            "Condition": {"StringEquals": {"aws:PrincipalAccount": "333333333333"}}}))
        with self.assertRaises(ClientError) as cm:
            self.sns_b.publish(TopicArn=arn, Message="from b")
        self.assertEqual(code_of(cm), "AuthorizationError")
        # AddPermission writes the statement for us
        self.sns.add_permission(TopicArn=arn, Label="b-publish", AWSAccountId=[ACCOUNT_B],
                                ActionName=["Publish"])
        self.sns_b.publish(TopicArn=arn, Message="again")
        self.sns.remove_permission(TopicArn=arn, Label="b-publish")
        with self.assertRaises(ClientError) as cm:
            self.sns_b.publish(TopicArn=arn, Message="after removal")
        self.assertEqual(code_of(cm), "AuthorizationError")
        self.assertEqual([m["message"] for m in self.messages()], ["from b", "again"])

    def test_roles_need_their_identity_policy_and_a_deny_wins(self):
        arn = self.sns.create_topic(Name="t")["TopicArn"]
        iam = self.h.client("iam", ACCOUNT_A, R)
        iam.create_role(RoleName="pub", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT_A},
                "Action": "sts:AssumeRole"}]}))
        role = "arn:aws:iam::%s:role/pub" % ACCOUNT_A
        client = self.h.client("sns", ACCOUNT_A, R, credentials=self.h.emu.credentials_for_role(
            ACCOUNT_A, role, "pub"))
        with self.assertRaises(ClientError) as cm:
            client.publish(TopicArn=arn, Message="m")
        self.assertEqual(code_of(cm), "AuthorizationError")
        iam.put_role_policy(RoleName="pub", PolicyName="p", PolicyDocument=policy({
            "Effect": "Allow", "Action": "sns:Publish", "Resource": arn}))
        client.publish(TopicArn=arn, Message="m")
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=policy({
            "Effect": "Deny", "Principal": {"AWS": role}, "Action": "SNS:Publish",
            "Resource": arn}))
        with self.assertRaises(ClientError) as cm:
            client.publish(TopicArn=arn, Message="m")
        self.assertEqual(code_of(cm), "AuthorizationError")
        self.assertIn("explicit deny", message_of(cm))

    def test_services_publish_when_the_topic_policy_admits_them(self):
        sns = self.h.emu.services["sns"]
        arn = self.sns.create_topic(Name="t")["TopicArn"]
        rule = "arn:aws:events:%s:%s:rule/alarm" % (R, ACCOUNT_A)
        # the default policy does not admit EventBridge (it sets no AWS:SourceOwner)
        with self.assertRaises(AwsError) as cm:
            sns.publish_as("events.amazonaws.com", rule, ACCOUNT_A, arn, None, "event")
        self.assertEqual(cm.exception.code, "AuthorizationError")
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=policy({
            "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish", "Resource": arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": rule},
                          "StringEquals": {"aws:SourceAccount": ACCOUNT_A}}}))
        mid = sns.publish_as("events.amazonaws.com", rule, ACCOUNT_A, arn, "Subj", "event")
        self.assertEqual(self.messages()[0]["message_id"], mid)
        for source, account in ((rule.replace("alarm", "other"), ACCOUNT_A),
                                (rule, ACCOUNT_B)):
            with self.assertRaises(AwsError):
                sns.publish_as("events.amazonaws.com", source, account, arn, None, "event")
        # encrypted with the AWS-managed aws/sns key, whose policy admits no service
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="KmsMasterKeyId",
                                      AttributeValue="alias/aws/sns")
        with self.assertRaises(AwsError) as cm:
            sns.publish_as("events.amazonaws.com", rule, ACCOUNT_A, arn, None, "event")
        self.assertEqual(cm.exception.code, "KMSAccessDenied")
        self.sns.publish(TopicArn=arn, Message="the owner may, via SNS")
        # a customer managed key whose policy names the service
        kms = self.h.client("kms", ACCOUNT_A, R)
        key = kms.create_key(Policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT_A},
             "Action": "kms:*", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
             "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*"}]}))[
            "KeyMetadata"]["Arn"]
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="KmsMasterKeyId",
                                      AttributeValue=key)
        sns.publish_as("events.amazonaws.com", rule, ACCOUNT_A, arn, None, "event")
        self.assertEqual(len(self.messages()), 3)


class SubscriptionTest(_Base):
    def test_email_pending_until_confirmed(self):
        arn = self.sns.create_topic(Name="t")["TopicArn"]
        out = self.sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="ops@example.com")
        self.assertEqual(out["SubscriptionArn"], "pending confirmation")
        subs = self.sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        self.assertEqual(subs, [{"SubscriptionArn": "PendingConfirmation", "Owner": ACCOUNT_A,
                                 "Protocol": "email", "Endpoint": "ops@example.com",
                                 "TopicArn": arn}])
        attrs = self.sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        self.assertEqual((attrs["SubscriptionsPending"], attrs["SubscriptionsConfirmed"]),
                         ("1", "0"))
        real = self.sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="ops@example.com",
                                  ReturnSubscriptionArn=True)["SubscriptionArn"]
        self.assertTrue(real.startswith(arn + ":"))
        with self.assertRaises(ClientError) as cm:   # pending: AWS lets nobody delete it
            self.sns.unsubscribe(SubscriptionArn=real)
        self.assertEqual((code_of(cm), message_of(cm)),
                         ("InvalidParameter", "Invalid parameter: SubscriptionArn Reason: Cannot "
                          "unsubscribe a subscription that is pending confirmation"))
        status, body = self.h.control("POST", "/_emu/sns/confirm", {
            "topic_arn": arn, "endpoint": "ops@example.com"})
        self.assertEqual((status, body["confirmed"]), (200, [real]))
        subs = self.sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        self.assertEqual(subs[0]["SubscriptionArn"], real)
        self.sns.unsubscribe(SubscriptionArn=real)
        self.assertEqual(self.sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"], [])
        for protocol, endpoint in (("email", "not-an-address"), ("sqs", "queue"),
                                   ("lambda", "arn:aws:sqs:us-east-1:%s:q" % ACCOUNT_A),
                                   ("http", "http://example.com"), ("pigeon", "x")):
            with self.subTest(protocol=protocol), self.assertRaises(ClientError) as cm:
                self.sns.subscribe(TopicArn=arn, Protocol=protocol, Endpoint=endpoint)
            self.assertEqual(code_of(cm), "InvalidParameter")

    def test_sqs_delivery_needs_the_queue_policy(self):
        arn = self.sns.create_topic(Name="t")["TopicArn"]
        open_url, open_arn = self.queue("open", topic=arn)
        shut_url, shut_arn = self.queue("shut")
        raw_url, raw_arn = self.queue("raw", topic=arn)
        sub = self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=open_arn)[
            "SubscriptionArn"]
        self.assertTrue(sub.startswith(arn + ":"))   # same account: confirmed at once
        self.assertEqual(self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=open_arn)[
            "SubscriptionArn"], sub)   # the same endpoint again: the same subscription
        self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=shut_arn)
        self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=raw_arn,
                           Attributes={"RawMessageDelivery": "true"})
        mid = self.sns.publish(TopicArn=arn, Message="snapshot copy failed", Subject="Alarm",
                               MessageAttributes={"severity": {"DataType": "String",
                                                               "StringValue": "high"}})[
            "MessageId"]
        self.wait()
        got = self.bodies(open_url)
        self.assertEqual(len(got), 1)
        envelope = json.loads(got[0]["Body"])
        self.assertEqual((envelope["Type"], envelope["MessageId"], envelope["TopicArn"],
                          envelope["Subject"], envelope["Message"]),
                         ("Notification", mid, arn, "Alarm", "snapshot copy failed"))
        self.assertEqual(envelope["MessageAttributes"], {"severity": {"Type": "String",
                                                                      "Value": "high"}})
        raw = self.bodies(raw_url)
        self.assertEqual(raw[0]["Body"], "snapshot copy failed")
        self.assertEqual(raw[0]["MessageAttributes"]["severity"]["StringValue"], "high")
        self.assertEqual(self.bodies(shut_url), [])
        failed = self.failed()
        self.assertEqual([(f["target_arn"], f["source_arn"], f["event_id"]) for f in failed],
                         [(shut_arn, arn, mid)])
        self.assertIn("AccessDenied", failed[0]["reason"])

    def test_cross_account_queue_subscription(self):
        arn = self.sns.create_topic(Name="t")["TopicArn"]
        self.sns.add_permission(TopicArn=arn, Label="b-subscribes", AWSAccountId=[ACCOUNT_B],
                                ActionName=["Subscribe"])
        sqs_b = self.h.client("sqs", ACCOUNT_B, R)
        url = sqs_b.create_queue(QueueName="inbox", Attributes={"Policy": policy({
            "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:%s:%s:inbox" % (R, ACCOUNT_B),
            "Condition": {"ArnEquals": {"aws:SourceArn": arn}}})})["QueueUrl"]
        # the queue's owner subscribes: confirmed; the topic's owner would need a confirmation
        sub = self.sns_b.subscribe(TopicArn=arn, Protocol="sqs",
                                   Endpoint="arn:aws:sqs:%s:%s:inbox" % (R, ACCOUNT_B))
        self.assertNotEqual(sub["SubscriptionArn"], "pending confirmation")
        self.sns.publish(TopicArn=arn, Message="to b")
        self.wait()
        got = sqs_b.receive_message(QueueUrl=url).get("Messages", [])
        self.assertEqual(json.loads(got[0]["Body"])["Message"], "to b")
        inv = [r for r in self.h.control("GET", "/_emu/inventory")[1]["resources"]
               if r["service"] == "sns"]
        self.assertEqual(sorted(r["type"] for r in inv), ["sns:subscription", "sns:topic"])
        topic = [r for r in inv if r["type"] == "sns:topic"][0]
        self.assertEqual(topic["subscriptions"], [sub["SubscriptionArn"]])
        self.sns_b.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
        self.sns.delete_topic(TopicArn=arn)
        self.assertEqual([r for r in self.h.control("GET", "/_emu/inventory")[1]["resources"]
                          if r["service"] == "sns"], [])

    def test_lambda_subscription_invokes_asynchronously(self):
        iam = self.h.client("iam", ACCOUNT_A, R)
        lam = self.h.client("lambda", ACCOUNT_A, R)
        self.h.control("POST", "/_emu/lambda-config", {"retry_delays_s": [0.1, 0.1],
                                                       "settle_s": 0.1})
        role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("app.py", ECHO)
        fn = lam.create_function(FunctionName="notify", Runtime="python3.12", Role=role,
                                 Handler="app.handler", Code={"ZipFile": buf.getvalue()})[
            "FunctionArn"]
        arn = self.sns.create_topic(Name="t")["TopicArn"]
        self.sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint=fn)
        self.wait()
        self.sns.publish(TopicArn=arn, Message="without permission")
        self.wait()
        self.assertIn("lambda:InvokeFunction", self.failed()[0]["reason"])
        lam.add_permission(FunctionName="notify", StatementId="sns", Action="lambda:InvokeFunction",
                           Principal="sns.amazonaws.com", SourceArn=arn)
        self.sns.publish(TopicArn=arn, Message="with permission")
        self.wait()
        logs = self.h.control("GET", "/_emu/lambda-logs")[1]["logs"]
        self.assertEqual([(x["status"], x["invocation_type"]) for x in logs],
                         [("success", "Event")])
        self.assertIn("with permission", logs[0]["log"])


if __name__ == "__main__":
    unittest.main(warnings="ignore")
