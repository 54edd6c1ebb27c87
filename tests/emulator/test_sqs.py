"""SQS in the emulator, through boto3: queues and their attributes, validation from the model
and from SQS's rules, messages with visibility, delays and retention on AWS time, receipt
handles, dead-letter queues, policies across accounts, encrypted queues, tags, inventory."""

import hashlib
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ACCOUNT_A, ACCOUNT_B, EmulatorCase  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

R = "us-east-1"
LAMBDA_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})


def code_of(cm):
    return cm.exception.response["Error"]["Code"]


def queue_arn(name, account=ACCOUNT_A, region=R):
    return "arn:aws:sqs:%s:%s:%s" % (region, account, name)


class SqsTest(EmulatorCase):
    def setUp(self):
        super().setUp()
        self.sqs = self.h.client("sqs", ACCOUNT_A, R)

    def arn_of(self, url, client=None):
        return (client or self.sqs).get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def receive(self, url, client=None, **kw):
        kw.setdefault("MaxNumberOfMessages", 10)
        return (client or self.sqs).receive_message(QueueUrl=url, **kw).get("Messages", [])

    # ------------------------------------------------------------------ queues
    def test_create_attributes_idempotence_and_url(self):
        url = self.sqs.create_queue(QueueName="jobs",
                                    Attributes={"VisibilityTimeout": "45"})["QueueUrl"]
        # the emulator's own URL: an SDK pointed at the emulator can use it as it is
        self.assertEqual(url, "%s/%s/jobs" % (self.h.url, ACCOUNT_A))
        self.assertEqual(self.sqs.get_queue_url(QueueName="jobs")["QueueUrl"], url)
        attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        self.assertEqual(attrs["QueueArn"], queue_arn("jobs"))
        self.assertEqual(attrs["VisibilityTimeout"], "45")
        self.assertEqual(attrs["MessageRetentionPeriod"], "345600")   # 4 days
        self.assertEqual(attrs["ApproximateNumberOfMessages"], "0")
        self.assertEqual(attrs["SqsManagedSseEnabled"], "true")
        # the same name and attributes: the same queue; a different value: refused
        self.assertEqual(self.sqs.create_queue(QueueName="jobs",
                                               Attributes={"VisibilityTimeout": "45"})
                         ["QueueUrl"], url)
        with self.assertRaises(ClientError) as cm:
            self.sqs.create_queue(QueueName="jobs", Attributes={"VisibilityTimeout": "46"})
        self.assertEqual(code_of(cm), "QueueAlreadyExists")
        # AWS's own URL form works too
        aws_url = "https://sqs.%s.amazonaws.com/%s/jobs" % (R, ACCOUNT_A)
        self.assertEqual(self.sqs.get_queue_attributes(QueueUrl=aws_url, AttributeNames=[
            "QueueArn"])["Attributes"]["QueueArn"], queue_arn("jobs"))
        # another Region has its own queues
        other = self.h.client("sqs", ACCOUNT_A, "eu-west-1")
        with self.assertRaises(ClientError) as cm:
            other.get_queue_url(QueueName="jobs")
        self.assertEqual(code_of(cm), "AWS.SimpleQueueService.NonExistentQueue")
        self.assertEqual(other.list_queues().get("QueueUrls"), None)

    def test_validation(self):
        raw = self.h.client("sqs", ACCOUNT_A, R, validate=False)
        with self.assertRaises(ClientError) as cm:   # the model's required member
            raw.create_queue()
        self.assertEqual(code_of(cm), "MissingParameter")
        for name in ("bad name", "x" * 81, "q.fifo"):
            with self.subTest(name=name), self.assertRaises(ClientError) as cm:
                self.sqs.create_queue(QueueName=name)
            self.assertEqual(code_of(cm), "InvalidParameterValue")
        for attrs, code in (({"VisibilityTimeout": "43201"}, "InvalidAttributeValue"),
                            ({"MessageRetentionPeriod": "59"}, "InvalidAttributeValue"),
                            ({"Policy": "{not json"}, "InvalidAttributeValue"),
                            ({"FifoQueue": "true"}, "InvalidAttributeValue"),
                            ({"Colour": "blue"}, "InvalidAttributeName")):
            with self.subTest(attrs=attrs), self.assertRaises(ClientError) as cm:
                self.sqs.create_queue(QueueName="q", Attributes=attrs)
            self.assertEqual(code_of(cm), code)
        url = self.sqs.create_queue(QueueName="q")["QueueUrl"]
        with self.assertRaises(ClientError) as cm:
            self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11)
        self.assertEqual(code_of(cm), "InvalidParameterValue")
        with self.assertRaises(ClientError) as cm:
            self.sqs.send_message(QueueUrl=url, MessageBody="x" * 262145)
        self.assertEqual(code_of(cm), "InvalidParameterValue")
        self.assertIn("262144", str(cm.exception))
        with self.assertRaises(ClientError) as cm:
            self.sqs.send_message(QueueUrl=url, MessageBody="bad \x01 char")
        self.assertEqual(code_of(cm), "InvalidMessageContents")
        with self.assertRaises(ClientError) as cm:
            self.sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
        self.assertEqual(code_of(cm), "InvalidParameterValue")
        with self.assertRaises(ClientError) as cm:
            self.sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")
        self.assertEqual(code_of(cm), "ReceiptHandleIsInvalid")
        with self.assertRaises(ClientError) as cm:
            self.sqs.send_message(QueueUrl=url.replace("/q", "/nope"), MessageBody="x")
        self.assertEqual(code_of(cm), "AWS.SimpleQueueService.NonExistentQueue")

    def test_delete_and_name_reuse_after_sixty_seconds(self):
        self.h.emu.sqs_name_reuse_wait_s = 60   # as on AWS (--sqs-name-reuse-wait-s 60)
        self.addCleanup(setattr, self.h.emu, "sqs_name_reuse_wait_s", 0.0)
        url = self.sqs.create_queue(QueueName="short")["QueueUrl"]
        self.sqs.delete_queue(QueueUrl=url)
        with self.assertRaises(ClientError) as cm:
            self.sqs.create_queue(QueueName="short")
        self.assertEqual(code_of(cm), "AWS.SimpleQueueService.QueueDeletedRecently")
        self.h.advance(61)
        self.assertEqual(self.sqs.create_queue(QueueName="short")["QueueUrl"], url)

    def test_list_queues_prefix_and_paging(self):
        for name in ("a1", "a2", "a3", "b1"):
            self.sqs.create_queue(QueueName=name)
        urls = self.sqs.list_queues(QueueNamePrefix="a")["QueueUrls"]
        self.assertEqual([u.rsplit("/", 1)[1] for u in urls], ["a1", "a2", "a3"])
        page = self.sqs.list_queues(MaxResults=2)
        self.assertEqual(len(page["QueueUrls"]), 2)
        rest = self.sqs.list_queues(MaxResults=2, NextToken=page["NextToken"])
        self.assertEqual(len(rest["QueueUrls"]), 2)
        self.assertNotIn("NextToken", rest)

    # ---------------------------------------------------------------- messages
    def test_send_receive_visibility_on_aws_time(self):
        url = self.sqs.create_queue(QueueName="work",
                                    Attributes={"VisibilityTimeout": "300"})["QueueUrl"]
        attrs = {"kind": {"DataType": "String", "StringValue": "backup"},
                 "n": {"DataType": "Number", "StringValue": "7"}}
        sent = self.sqs.send_message(QueueUrl=url, MessageBody="hello", MessageAttributes=attrs)
        self.assertEqual(sent["MD5OfMessageBody"], hashlib.md5(b"hello").hexdigest())
        self.assertIn("MD5OfMessageAttributes", sent)
        got = self.receive(url, AttributeNames=["All"], MessageAttributeNames=["All"])
        self.assertEqual(len(got), 1)
        msg = got[0]
        self.assertEqual(msg["Body"], "hello")
        self.assertEqual(msg["MessageId"], sent["MessageId"])
        self.assertEqual(msg["MessageAttributes"]["kind"]["StringValue"], "backup")
        self.assertEqual(msg["MD5OfMessageAttributes"], sent["MD5OfMessageAttributes"])
        self.assertEqual(msg["Attributes"]["ApproximateReceiveCount"], "1")
        # in flight: invisible until the visibility timeout passes on AWS time
        self.assertEqual(self.receive(url), [])
        counts = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        self.assertEqual(counts["ApproximateNumberOfMessagesNotVisible"], "1")
        self.h.advance(299)
        self.assertEqual(self.receive(url), [])
        self.h.advance(2)
        again = self.receive(url, AttributeNames=["ApproximateReceiveCount"],
                             VisibilityTimeout=60)
        self.assertEqual(len(again), 1)
        self.assertEqual(again[0]["Attributes"]["ApproximateReceiveCount"], "2")
        # the first receipt handle is stale: deleting with it succeeds and deletes nothing
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
        self.h.advance(61)
        latest = self.receive(url)
        self.assertEqual(len(latest), 1)
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=latest[0]["ReceiptHandle"])
        self.h.advance(3600)
        self.assertEqual(self.receive(url), [])

    def test_change_visibility_delay_and_purge(self):
        url = self.sqs.create_queue(QueueName="d", Attributes={"DelaySeconds": "30"})["QueueUrl"]
        self.sqs.send_message(QueueUrl=url, MessageBody="late")
        self.sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=120)
        self.assertEqual(self.receive(url), [])
        attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessagesDelayed"])["Attributes"]
        self.assertEqual(attrs, {"ApproximateNumberOfMessagesDelayed": "2"})
        self.h.advance(31)
        msg = self.receive(url)
        self.assertEqual([m["Body"] for m in msg], ["late"])
        self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=msg[0]["ReceiptHandle"],
                                           VisibilityTimeout=0)
        self.assertEqual([m["Body"] for m in self.receive(url, VisibilityTimeout=0)], ["late"])
        self.h.advance(90)
        self.assertEqual(sorted(m["Body"] for m in self.receive(url)), ["late", "later"])
        self.sqs.purge_queue(QueueUrl=url)
        with self.assertRaises(ClientError) as cm:
            self.sqs.purge_queue(QueueUrl=url)
        self.assertEqual(code_of(cm), "AWS.SimpleQueueService.PurgeQueueInProgress")
        self.h.advance(3600)
        self.assertEqual(self.receive(url), [])

    def test_retention_on_aws_time(self):
        url = self.sqs.create_queue(QueueName="r")["QueueUrl"]
        short = self.sqs.create_queue(QueueName="s", Attributes={
            "MessageRetentionPeriod": "60"})["QueueUrl"]
        self.sqs.send_message(QueueUrl=url, MessageBody="old")
        self.sqs.send_message(QueueUrl=short, MessageBody="brief")
        self.h.advance(61)
        self.assertEqual(self.receive(short), [])
        self.h.advance(4 * 86400 - 120)
        self.sqs.send_message(QueueUrl=url, MessageBody="new")
        self.h.advance(120)   # "old" is now past 4 days
        self.assertEqual([m["Body"] for m in self.receive(url)], ["new"])
        inv = [r for r in self.h.control("GET", "/_emu/inventory")[1]["resources"]
               if r["service"] == "sqs"]
        self.assertEqual(sorted((r["type"], r["id"], r["messages"]) for r in inv),
                         [("sqs:queue", queue_arn("r"), 1), ("sqs:queue", queue_arn("s"), 0)])

    def test_redrive_to_dead_letter_queue(self):
        dlq = self.sqs.create_queue(QueueName="dlq")["QueueUrl"]
        url = self.sqs.create_queue(QueueName="main", Attributes={
            "VisibilityTimeout": "10", "RedrivePolicy": json.dumps({
                "deadLetterTargetArn": queue_arn("dlq"), "maxReceiveCount": "2"})})["QueueUrl"]
        with self.assertRaises(ClientError) as cm:
            self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": "{}"})
        self.assertEqual(code_of(cm), "InvalidParameterValue")
        self.sqs.send_message(QueueUrl=url, MessageBody="poison")
        for _ in range(2):
            self.assertEqual(len(self.receive(url)), 1)
            self.h.advance(11)
        self.assertEqual(self.receive(url), [])
        self.assertEqual([m["Body"] for m in self.receive(dlq)], ["poison"])

    # ---------------------------------------------------------------- policies
    def test_cross_account_needs_the_queue_policy(self):
        url = self.sqs.create_queue(QueueName="shared")["QueueUrl"]
        sqs_b = self.h.client("sqs", ACCOUNT_B, R)
        with self.assertRaises(ClientError) as cm:
            sqs_b.send_message(QueueUrl=url, MessageBody="from b")
        self.assertEqual(code_of(cm), "AccessDenied")
        self.sqs.add_permission(QueueUrl=url, Label="b-sends", AWSAccountIds=[ACCOUNT_B],
                                Actions=["SendMessage"])
        sqs_b.send_message(QueueUrl=url, MessageBody="from b")
        with self.assertRaises(ClientError) as cm:   # only what the statement grants
            sqs_b.receive_message(QueueUrl=url)
        self.assertEqual(code_of(cm), "AccessDenied")
        policy = json.loads(self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "Policy"])["Attributes"]["Policy"])
        self.assertEqual(policy["Statement"][0]["Sid"], "b-sends")
        self.sqs.remove_permission(QueueUrl=url, Label="b-sends")
        with self.assertRaises(ClientError) as cm:
            sqs_b.send_message(QueueUrl=url, MessageBody="again")
        self.assertEqual(code_of(cm), "AccessDenied")
        # an explicit Deny refuses the owner's roles too, and a role needs its identity policy
        iam = self.h.client("iam", ACCOUNT_A, R)
        sts = self.h.client("sts", ACCOUNT_A, R)
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT_A},
            "Action": "sts:AssumeRole"}]})
        role = iam.create_role(RoleName="sender", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        creds = sts.assume_role(RoleArn=role, RoleSessionName="sender")["Credentials"]
        as_role = self.h.client("sqs", ACCOUNT_A, R, credentials=creds)
        with self.assertRaises(ClientError) as cm:
            as_role.send_message(QueueUrl=url, MessageBody="no identity policy")
        self.assertEqual(code_of(cm), "AccessDenied")
        iam.put_role_policy(RoleName="sender", PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*",
                                                    "Resource": "*"}]}))
        as_role.send_message(QueueUrl=url, MessageBody="allowed")
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage",
                "Resource": queue_arn("shared")}]})})
        with self.assertRaises(ClientError) as cm:
            as_role.send_message(QueueUrl=url, MessageBody="denied")
        self.assertEqual(code_of(cm), "AccessDenied")

    def test_encrypted_queue_needs_the_key(self):
        kms = self.h.client("kms", ACCOUNT_A, R)
        key = kms.create_key()["KeyMetadata"]["Arn"]
        url = self.sqs.create_queue(QueueName="enc", Attributes={
            "KmsMasterKeyId": key})["QueueUrl"]
        attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        self.assertEqual(attrs["KmsMasterKeyId"], key)
        self.assertEqual(attrs["SqsManagedSseEnabled"], "false")
        self.sqs.send_message(QueueUrl=url, MessageBody="secret")
        self.assertEqual(len(self.receive(url)), 1)
        kms.disable_key(KeyId=key)
        with self.assertRaises(ClientError) as cm:
            self.sqs.send_message(QueueUrl=url, MessageBody="secret")
        self.assertEqual(code_of(cm), "KMS.DisabledException")
        with self.assertRaises(ClientError) as cm:
            self.sqs.create_queue(QueueName="both", Attributes={
                "KmsMasterKeyId": key, "SqsManagedSseEnabled": "true"})
        self.assertEqual(code_of(cm), "InvalidAttributeName")

    def test_tags(self):
        url = self.sqs.create_queue(QueueName="t", tags={"team": "db"})["QueueUrl"]
        self.sqs.tag_queue(QueueUrl=url, Tags={"env": "prod"})
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url)["Tags"],
                         {"team": "db", "env": "prod"})
        self.sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url)["Tags"], {"env": "prod"})
        inv = [r for r in self.h.control("GET", "/_emu/inventory")[1]["resources"]
               if r["service"] == "sqs"]
        self.assertEqual(inv[0]["tags"], {"env": "prod"})
        self.assertEqual(inv[0]["url"], url)


if __name__ == "__main__":
    unittest.main(warnings="ignore")
