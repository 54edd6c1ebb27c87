"""SQS for the emulator (awsQuery, 2012-11-05, the protocol of Debian's botocore 1.29): standard
queues per account and Region with their attributes, policies (AddPermission /
RemovePermission, or the Policy attribute), tags, and messages living on AWS time.

Operations: CreateQueue, DeleteQueue, GetQueueUrl, GetQueueAttributes, SetQueueAttributes,
ListQueues, AddPermission, RemovePermission, SendMessage, ReceiveMessage, DeleteMessage,
ChangeMessageVisibility, PurgeQueue, TagQueue, UntagQueue, ListQueueTags.

Queue URLs are the emulator's: http://127.0.0.1:PORT/ACCOUNT/NAME (an SDK given the emulator
as its endpoint sends every request there and the URL only as the QueueUrl parameter; an SDK
that posts to the queue URL itself reaches the emulator too). The queue is looked up in the
Region the request is signed for. AWS's form, https://sqs.REGION.amazonaws.com/ACCOUNT/NAME, is
accepted as well (its Region must be the request's).

Messages: SendMessage (DelaySeconds, MessageAttributes with AWS's MD5 of them, the queue's
MaximumMessageSize), ReceiveMessage (MaxNumberOfMessages 1-10, VisibilityTimeout; WaitTimeSeconds
answers at once), DeleteMessage (only the latest receipt handle deletes, as on AWS), a
RedrivePolicy's dead-letter queue after maxReceiveCount receives. Visibility, delays and
retention (MessageRetentionPeriod, 4 days by default) run on AWS time: a message older than the
retention period is gone once the clock passes it (on_clock). A deleted queue's name can be used
again emu.sqs_name_reuse_wait_s later (QueueDeletedRecently before): 60 on AWS; 0 unless the
server is started with --sqs-name-reuse-wait-s (timing is opt-in, as IAM propagation is).

Authorisation: the caller's identity policy (ctx.authorize) and, from another account, the
queue policy; an explicit Deny in the queue policy refuses everyone. Encrypted queues
(KmsMasterKeyId): senders need kms:GenerateDataKey and kms:Decrypt, receivers kms:Decrypt,
through SQS.

Cross-service API (SNS subscriptions, Lambda destinations and dead-letter queues):
    SqsService.send_as(service_principal, source_arn, source_account, queue_arn, body,
                       message_attributes=None) -> message id: only the queue policy can admit a
        service (with aws:SourceArn / aws:SourceAccount); an encrypted queue's key policy must let
        the service kms:GenerateDataKey and kms:Decrypt.
    SqsService.send_as_role(role_arn, queue_arn, body, message_attributes=None) -> message id:
        the role's identity policy, and the queue policy from another account.
    Both raise AwsError when refused.

Not emulated (refused): FIFO queues, batch operations, ListDeadLetterSourceQueues, message
system attributes, long polling (WaitTimeSeconds does not wait).
"""

import base64
import hashlib
import json
import re
import struct
import urllib.parse
import uuid

from .core import AwsError
from .events import arn_parts
from .iam import (PolicyError, evaluate_resource_policy, parse_policy, role_context,
                  service_context)

_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_INVALID_BODY = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
PURGE_WAIT_S = 60
MAX_TAGS = 50
MAX_MESSAGE_ATTRIBUTES = 10
# Numeric attributes: (default, min, max).
NUMERIC = {"DelaySeconds": (0, 0, 900), "MaximumMessageSize": (262144, 1024, 262144),
           "MessageRetentionPeriod": (345600, 60, 1209600),
           "ReceiveMessageWaitTimeSeconds": (0, 0, 20), "VisibilityTimeout": (30, 0, 43200),
           "KmsDataKeyReusePeriodSeconds": (300, 60, 86400)}
TEXT = ("Policy", "RedrivePolicy", "RedriveAllowPolicy", "KmsMasterKeyId", "SqsManagedSseEnabled")
FIFO_ONLY = ("ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit")
COMPUTED = ("QueueArn", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed", "CreatedTimestamp", "LastModifiedTimestamp")
MESSAGE_ATTRIBUTES = ("SenderId", "SentTimestamp", "ApproximateReceiveCount",
                      "ApproximateFirstReceiveTimestamp")
# The actions AddPermission may grant.
QUEUE_ACTIONS = ("SendMessage", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility",
                 "GetQueueAttributes", "GetQueueUrl", "ListDeadLetterSourceQueues", "PurgeQueue",
                 "ListQueueTags")
_KMS_CODES = {"NotFoundException": "KMS.NotFoundException",
              "DisabledException": "KMS.DisabledException",
              "KMSInvalidStateException": "KMS.InvalidStateException",
              "AccessDeniedException": "KMS.AccessDeniedException"}
_NO_QUEUE = "The specified queue does not exist for this wsdl version."


def _bad_value(name, value, reason):
    return AwsError("InvalidParameterValue", "Value %s for parameter %s is invalid. Reason: %s."
                    % (value, name, reason))


def _bad_attribute(name):
    return AwsError("InvalidAttributeValue", "Invalid value for the parameter %s." % name)


def _no_queue():
    return AwsError("AWS.SimpleQueueService.NonExistentQueue", _NO_QUEUE)


def _md5(data):
    return hashlib.md5(data).hexdigest()


def attributes_md5(attributes):
    """MD5OfMessageAttributes as AWS computes it: for each attribute in name order, the name, the
    data type (each as a 4-byte big-endian length and UTF-8 bytes), a transport byte (1 for a
    string value, 2 for binary) and the value (length-prefixed)."""
    data = b""
    for name in sorted(attributes):
        value = attributes[name]

        def lp(b):
            return struct.pack(">I", len(b)) + b
        data += lp(name.encode("utf-8")) + lp(value["DataType"].encode("utf-8"))
        if value.get("BinaryValue") is not None:
            data += b"\x02" + lp(value["BinaryValue"])
        else:
            data += b"\x01" + lp(value["StringValue"].encode("utf-8"))
    return _md5(data)


def attributes_bytes(attributes):
    """The bytes message attributes count toward a message's size (SQS's and SNS's rule)."""
    n = 0
    for name, value in (attributes or {}).items():
        n += len(name.encode("utf-8")) + len(value.get("DataType", "").encode("utf-8"))
        n += len((value.get("StringValue") or "").encode("utf-8"))
        n += len(value.get("BinaryValue") or b"")
    return n


class SqsService:
    SERVICE = "sqs"

    def __init__(self, emu):
        self.emu = emu
        self.reset()

    def reset(self):
        with self.emu.lock:
            # (account, region, name) -> {"name", "account", "region", "partition", "arn",
            #   "created", "modified", "attributes": {name: str}, "tags": {}, "messages": [],
            #   "purged": time or None}
            self.queues = {}
            self.deleted = {}     # (account, region, name) -> when it was deleted

    # ------------------------------------------------------------------ helpers
    def _url(self, queue):
        base = self.emu.url or "https://sqs.%s.amazonaws.com" % queue["region"]
        return "%s/%s/%s" % (base, queue["account"], queue["name"])

    def _by_url(self, ctx, url):
        """The queue a QueueUrl names: /ACCOUNT/NAME in the request's Region."""
        split = urllib.parse.urlsplit(url or "")
        parts = [p for p in split.path.split("/") if p]
        if not split.scheme or len(parts) != 2 or not re.fullmatch(r"\d{12}", parts[0]):
            raise AwsError("InvalidAddress", "The address %s is not valid for this endpoint."
                           % url, status=404)
        region = ctx.region
        m = re.fullmatch(r"sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?", split.hostname or "")
        if m is not None:
            region = m.group(1)
        elif split.hostname == "queue.amazonaws.com":
            region = "us-east-1"
        queue = self.queues.get((parts[0], region, parts[1]))
        if queue is None or region != ctx.region:
            raise _no_queue()
        return queue

    def _by_arn(self, arn):
        p = arn_parts(arn)
        queue = self.queues.get((p["account"], p["region"], p["resource"])) if \
            p and p["service"] == "sqs" else None
        if queue is None:
            raise _no_queue()
        return queue

    def _policy(self, queue):
        text = queue["attributes"].get("Policy")
        return json.loads(text) if text else {"Statement": []}

    def _authorize(self, ctx, queue, action):
        """The caller's identity policy, then the queue policy: an explicit Deny refuses anyone,
        another account needs an Allow."""
        denied = AwsError("AccessDenied", "Access to the resource %s is denied." % self._url(queue),
                          status=403)
        try:
            ctx.authorize("sqs:" + action, queue["arn"])
        except AwsError:
            raise denied
        caller = ctx.caller()
        decision, _how = evaluate_resource_policy(self._policy(queue), caller, "sqs:" + action,
                                                  queue["arn"], ctx.condition_context())
        if decision == "deny" or (decision != "allow" and ctx.account != queue["account"]):
            raise denied

    def _kms_key(self, queue):
        try:
            return self.emu.services["kms"].key_arn(queue["account"], queue["region"],
                                                    queue["attributes"]["KmsMasterKeyId"])
        except AwsError as exc:
            raise self._kms_error(exc)

    @staticmethod
    def _kms_error(exc):
        return AwsError(_KMS_CODES.get(exc.code, "KMS.AccessDeniedException"),
                        "%s (Service: AWSKMS; Status Code: 400; Error Code: %s)"
                        % (exc.message, exc.code), status=400)

    def _kms_for_caller(self, queue, account, principal_arn, role_arn, actions):
        if not queue["attributes"].get("KmsMasterKeyId"):
            return
        key = self._kms_key(queue)
        kms = self.emu.services["kms"]
        try:
            for action in actions:
                kms.check_use(account, principal_arn, role_arn, key, queue["region"], action,
                              via_service="sqs")
        except AwsError as exc:
            raise self._kms_error(exc)

    def _kms_for_service(self, queue, principal, context):
        if not queue["attributes"].get("KmsMasterKeyId"):
            return
        key = self._kms_key(queue)
        kms = self.emu.services["kms"]
        try:
            for action in ("kms:GenerateDataKey", "kms:Decrypt"):
                kms.check_service_use(principal, key, action, context)
        except AwsError as exc:
            raise self._kms_error(exc)

    def _number(self, queue, name):
        return int(queue["attributes"].get(name, NUMERIC[name][0]))

    def _expire(self, queue, now):
        """Messages older than the queue's retention period are gone."""
        edge = now - self._number(queue, "MessageRetentionPeriod")
        queue["messages"] = [m for m in queue["messages"] if m["sent"] >= edge]

    # --------------------------------------------------------------- attributes
    def _check_attributes(self, attributes, queue_arn):
        """Attributes as CreateQueue / SetQueueAttributes take them -> normalised copy."""
        out = {}
        for name, value in attributes.items():
            if name in NUMERIC:
                lo, hi = NUMERIC[name][1:]
                try:
                    number = int(value)
                except ValueError:
                    raise _bad_attribute(name)
                if not lo <= number <= hi:
                    raise _bad_attribute(name)
                out[name] = str(number)
            elif name == "Policy":
                if value:
                    try:
                        parse_policy(value, kind="resource")
                    except PolicyError:
                        raise _bad_attribute(name)
                out[name] = value
            elif name == "RedrivePolicy":
                if value:
                    self._check_redrive(value, queue_arn)
                out[name] = value
            elif name == "SqsManagedSseEnabled":
                if value.lower() not in ("true", "false"):
                    raise _bad_attribute(name)
                out[name] = value.lower()
            elif name in ("RedriveAllowPolicy", "KmsMasterKeyId"):
                out[name] = value
            elif name == "FifoQueue":
                if value.lower() == "true":
                    raise AwsError("InvalidAttributeValue", "Invalid value for the parameter "
                                   "FifoQueue. Reason: FIFO queues are not emulated.")
            else:
                raise AwsError("InvalidAttributeName", "Unknown Attribute %s." % name)
        if out.get("KmsMasterKeyId") and out.get("SqsManagedSseEnabled") == "true":
            raise AwsError("InvalidAttributeName", "You can use one type of server-side "
                           "encryption (SSE) at one time. You can either enable KMS SSE or SQS "
                           "SSE.")
        return out

    @staticmethod
    def _check_redrive(value, queue_arn):
        try:
            doc = json.loads(value)
            target, count = doc["deadLetterTargetArn"], int(doc["maxReceiveCount"])
        except (ValueError, KeyError, TypeError):
            raise AwsError("InvalidParameterValue", "Value %s for parameter RedrivePolicy is "
                           "invalid. Reason: Redrive policy is not a valid JSON map with "
                           "deadLetterTargetArn and maxReceiveCount." % value)
        p = arn_parts(target)
        if p is None or p["service"] != "sqs" or target == queue_arn:
            raise AwsError("InvalidParameterValue", "Value %s for parameter RedrivePolicy is "
                           "invalid. Reason: Invalid value for deadLetterTargetArn." % value)
        if not 1 <= count <= 1000:
            raise AwsError("InvalidParameterValue", "Value %s for parameter RedrivePolicy is "
                           "invalid. Reason: Invalid value for maxReceiveCount: %d, valid values "
                           "are from 1 to 1000 both inclusive." % (value, count))

    def _apply(self, queue, attributes):
        queue["attributes"].update(attributes)
        if attributes.get("KmsMasterKeyId"):
            queue["attributes"]["SqsManagedSseEnabled"] = "false"
        for name in [k for k, v in queue["attributes"].items() if v == "" and k in TEXT]:
            del queue["attributes"][name]   # "" removes a policy, key, redrive policy
        queue["modified"] = self.emu.now()

    def _all_attributes(self, queue):
        now = self.emu.now()
        self._expire(queue, now)
        visible = sum(1 for m in queue["messages"] if m["visible_at"] <= now)
        in_flight = sum(1 for m in queue["messages"] if m["visible_at"] > now and m["received"])
        out = {name: str(d) for name, (d, _lo, _hi) in NUMERIC.items()
               if name != "KmsDataKeyReusePeriodSeconds"}
        out.update(queue["attributes"])
        if out.get("KmsMasterKeyId"):
            out.setdefault("KmsDataKeyReusePeriodSeconds", "300")
        out.update({"QueueArn": queue["arn"], "ApproximateNumberOfMessages": str(visible),
                    "ApproximateNumberOfMessagesNotVisible": str(in_flight),
                    "ApproximateNumberOfMessagesDelayed": str(len(queue["messages"]) - visible -
                                                              in_flight),
                    "CreatedTimestamp": str(int(queue["created"])),
                    "LastModifiedTimestamp": str(int(queue["modified"]))})
        return out

    # ------------------------------------------------------------------- queues
    def CreateQueue(self, ctx, params):
        name = params["QueueName"]
        if name.endswith(".fifo"):
            raise AwsError("InvalidParameterValue", "Can only include alphanumeric characters, "
                           "hyphens, or underscores. 1 to 80 in length (FIFO queues are not "
                           "emulated).")
        if not _QUEUE_NAME.match(name):
            raise AwsError("InvalidParameterValue", "Can only include alphanumeric characters, "
                           "hyphens, or underscores. 1 to 80 in length")
        arn = ctx.arn("sqs", name)
        attributes = self._check_attributes(params.get("Attributes") or {}, arn)
        tags = dict(params.get("tags") or {})
        ctx.authorize("sqs:CreateQueue", arn)
        if tags:   # tagging at creation needs both actions
            ctx.authorize("sqs:TagQueue", arn)
        key = (ctx.account, ctx.region, name)
        queue = self.queues.get(key)
        now = self.emu.now()
        if queue is not None:
            current = self._all_attributes(queue)
            for attr, value in attributes.items():
                if current.get(attr, "") != value:
                    raise AwsError("QueueAlreadyExists", "A queue already exists with the same "
                                   "name and a different value for attribute %s" % attr)
            return {"QueueUrl": self._url(queue)}
        deleted = self.deleted.get(key)
        if deleted is not None and now - deleted < self.emu.sqs_name_reuse_wait_s:
            raise AwsError("AWS.SimpleQueueService.QueueDeletedRecently", "You must wait 60 "
                           "seconds after deleting a queue before you can create another with "
                           "the same name.")
        if len(tags) > MAX_TAGS:
            raise AwsError("InvalidParameterValue", "Too many tags added for queue %s." % name)
        queue = {"name": name, "account": ctx.account, "region": ctx.region,
                 "partition": ctx.partition, "arn": arn, "created": now, "modified": now,
                 "attributes": {"SqsManagedSseEnabled": "true"}, "tags": tags, "messages": [],
                 "purged": None}
        self._apply(queue, attributes)
        self.queues[key] = queue
        return {"QueueUrl": self._url(queue)}

    def DeleteQueue(self, ctx, params):
        queue = self._by_url(ctx, params["QueueUrl"])
        self._authorize(ctx, queue, "DeleteQueue")
        key = (queue["account"], queue["region"], queue["name"])
        del self.queues[key]
        self.deleted[key] = self.emu.now()
        return {}

    def GetQueueUrl(self, ctx, params):
        owner = params.get("QueueOwnerAWSAccountId") or ctx.account
        queue = self.queues.get((owner, ctx.region, params["QueueName"]))
        if queue is None:
            raise _no_queue()
        self._authorize(ctx, queue, "GetQueueUrl")
        return {"QueueUrl": self._url(queue)}

    def GetQueueAttributes(self, ctx, params):
        queue = self._by_url(ctx, params["QueueUrl"])
        self._authorize(ctx, queue, "GetQueueAttributes")
        names = params.get("AttributeNames") or []
        for name in names:
            if name != "All" and name not in NUMERIC and name not in TEXT and \
                    name not in COMPUTED:
                raise AwsError("InvalidAttributeName", "Unknown Attribute %s." % name)
        attrs = self._all_attributes(queue)
        if "All" not in names:
            attrs = {k: v for k, v in attrs.items() if k in names}
        return {"Attributes": attrs} if attrs else {}

    def SetQueueAttributes(self, ctx, params):
        queue = self._by_url(ctx, params["QueueUrl"])
        self._authorize(ctx, queue, "SetQueueAttributes")
        attributes = self._check_attributes(params["Attributes"], queue["arn"])
        if attributes.get("KmsMasterKeyId") and "SqsManagedSseEnabled" not in attributes:
            attributes["SqsManagedSseEnabled"] = "false"
        if attributes.get("SqsManagedSseEnabled") == "true":
            attributes["KmsMasterKeyId"] = ""
        self._apply(queue, attributes)
        return {}

    def ListQueues(self, ctx, params):
        ctx.authorize("sqs:ListQueues", ctx.arn("sqs", "*"))
        prefix = params.get("QueueNamePrefix") or ""
        limit = params.get("MaxResults")
        if limit is not None and not 1 <= limit <= 1000:
            raise _bad_value("MaxResults", limit, "MaxResults must be an integer between 1 and "
                             "1000")
        if params.get("NextToken") and limit is None:
            raise _bad_value("NextToken", params["NextToken"], "NextToken is only valid with "
                             "MaxResults")
        queues = sorted((q for (a, r, n), q in self.queues.items()
                         if a == ctx.account and r == ctx.region and n.startswith(prefix)),
                        key=lambda q: q["name"])
        if limit is None:
            queues = queues[:1000]   # AWS lists at most 1,000 without MaxResults
            return {"QueueUrls": [self._url(q) for q in queues]} if queues else {}
        start = 0
        if params.get("NextToken"):
            try:
                start = int(base64.b64decode(params["NextToken"]).decode())
            except (ValueError, UnicodeDecodeError):
                raise _bad_value("NextToken", params["NextToken"], "Invalid NextToken value")
        page = queues[start:start + limit]
        out = {"QueueUrls": [self._url(q) for q in page]} if page else {}
        if start + limit < len(queues):
            out["NextToken"] = base64.b64encode(str(start + limit).encode()).decode()
        return out

    def AddPermission(self, ctx, params):
        queue = self._by_url(ctx, params["QueueUrl"])
        self._authorize(ctx, queue, "AddPermission")
        label = params["Label"]
        doc = self._policy(queue)
        statements = doc["Statement"] if isinstance(doc.get("Statement"), list) else \
            [doc["Statement"]]
        if any(st.get("Sid") == label for st in statements):
            raise _bad_value("Label", label, "Already exists")
        actions = []
        for action in params["Actions"]:
            if action != "*" and action not in QUEUE_ACTIONS:
                raise _bad_value("Actions", action, "Only the queue owner is allowed to invoke "
                                 "this action")
            actions.append("SQS:" + action)
        principals = ["arn:%s:iam::%s:root" % (ctx.partition, a) for a in params["AWSAccountIds"]]
        statements.append({"Sid": label, "Effect": "Allow",
                           "Principal": {"AWS": principals if len(principals) > 1 else
                                         principals[0]},
                           "Action": actions if len(actions) > 1 else actions[0],
                           "Resource": queue["arn"]})
        doc = {"Version": doc.get("Version", "2012-10-17"),
               "Id": doc.get("Id", queue["arn"] + "/SQSDefaultPolicy"), "Statement": statements}
        self._apply(queue, {"Policy": json.dumps(doc, separators=(",", ":"))})
        return {}

    def RemovePermission(self, ctx, params):
        queue = self._by_url(ctx, params["QueueUrl"])
        self._authorize(ctx, queue, "RemovePermission")
        doc = self._policy(queue)
        statements = doc["Statement"] if isinstance(doc.get("Statement"), list) else \
            [doc["Statement"]]
        rest = [st for st in statements if st.get("Sid") != params["Label"]]
        if len(rest) == len(statements):
            raise _bad_value("Label", params["Label"], "can't find label on existing policy")
        doc["Statement"] = rest
        self._apply(queue, {"Policy": json.dumps(doc, separators=(",", ":")) if rest else ""})
        return {}

    # ----------------------------------------------------------------- messages
    def _check_message(self, queue, body, attributes, delay):
        if not body:
            raise AwsError("MissingParameter", "The request must contain the parameter "
                           "MessageBody.")
        if _INVALID_BODY.search(body):
            raise AwsError("InvalidMessageContents", "Invalid characters found. Valid unicode "
                           "characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD "
                           "| #x10000 to #x10FFFF")
        attributes = attributes or {}
        if len(attributes) > MAX_MESSAGE_ATTRIBUTES:
            raise AwsError("InvalidParameterValue", "Number of message attributes [%d] exceeds "
                           "the allowed maximum [%d]." % (len(attributes), MAX_MESSAGE_ATTRIBUTES))
        for name, value in attributes.items():
            dtype = value.get("DataType") or ""
            if not re.match(r"^(String|Number|Binary)(\.|$)", dtype):
                raise AwsError("InvalidParameterValue", "The type of message (user) attribute "
                               "'%s' is invalid. You must use only the following supported "
                               "type prefixes: Binary, Number, String." % name)
            if value.get("StringListValues") or value.get("BinaryListValues"):
                raise AwsError("InvalidParameterValue", "Message (user) attribute '%s': list "
                               "values are not supported." % name)
            key = "BinaryValue" if dtype.startswith("Binary") else "StringValue"
            if value.get(key) in (None, "", b""):
                raise AwsError("InvalidParameterValue", "Message (user) attribute '%s' must "
                               "contain a non-empty value of type '%s'."
                               % (name, dtype.split(".")[0]))
        limit = self._number(queue, "MaximumMessageSize")
        if len(body.encode("utf-8")) + attributes_bytes(attributes) > limit:
            raise AwsError("InvalidParameterValue", "One or more parameters are invalid. "
                           "Reason: Message must be shorter than %d bytes." % limit)
        if delay is not None and not 0 <= delay <= 900:
            raise _bad_value("DelaySeconds", delay, "DelaySeconds must be >= 0 and <= 900")

    def _enqueue(self, queue, body, attributes, delay, sender):
        now = self.emu.now()
        self._expire(queue, now)
        if delay is None:
            delay = self._number(queue, "DelaySeconds")
        msg = {"id": str(uuid.uuid4()), "body": body, "attributes": dict(attributes or {}),
               "sent": now, "visible_at": now + delay, "receive_count": 0,
               "first_receive": None, "handle": None, "received": False, "sender": sender}
        queue["messages"].append(msg)
        out = {"MessageId": msg["id"], "MD5OfMessageBody": _md5(body.encode("utf-8"))}
        if msg["attributes"]:
            out["MD5OfMessageAttributes"] = attributes_md5(msg["attributes"])
        return out

    def SendMessage(self, ctx, params):
        queue = self._by_url(ctx, params["QueueUrl"])
        self._authorize(ctx, queue, "SendMessage")
        for name in ("MessageGroupId", "MessageDeduplicationId"):
            if params.get(name):
                raise _bad_value(name, params[name], "The request include parameter that is "
                                 "not valid for this queue type")
        if params.get("MessageSystemAttributes"):
            raise _bad_value("MessageSystemAttributes", "[...]", "message system attributes "
                             "are not emulated")
        self._check_message(queue, params["MessageBody"], params.get("MessageAttributes"),
                            params.get("DelaySeconds"))
        self._kms_for_caller(queue, ctx.account, ctx.principal_arn, ctx.role_arn,
                             ("kms:GenerateDataKey", "kms:Decrypt"))
        sender = ctx.account if ctx.role_arn is None else ctx.principal_arn.split("/", 1)[-1]
        return self._enqueue(queue, params["MessageBody"], params.get("MessageAttributes"),
                             params.get("DelaySeconds"), sender)

    def send_as(self, service_principal, source_arn, source_account, queue_arn, body,
                message_attributes=None):
        """A service sending on its own behalf (SNS delivering to a subscribed queue): see the
        module docstring. -> message id; raises AwsError when refused."""
        with self.emu.lock:
            queue = self._by_arn(queue_arn)
            context = service_context(service_principal, source_arn, source_account)
            decision, _how = evaluate_resource_policy(self._policy(queue),
                                                      {"service": service_principal},
                                                      "sqs:SendMessage", queue["arn"], context)
            if decision != "allow":
                raise AwsError("AccessDenied", "Access to the resource %s is denied: the queue "
                               "policy does not allow %s to sqs:SendMessage%s." % (
                                   self._url(queue), service_principal,
                                   " with aws:SourceArn %s" % source_arn if source_arn else ""),
                               status=403)
            self._check_message(queue, body, message_attributes, None)
            self._kms_for_service(queue, service_principal, context)
            return self._enqueue(queue, body, message_attributes, None,
                                 service_principal)["MessageId"]

    def send_as_role(self, role_arn, queue_arn, body, message_attributes=None):
        """A service sending with a role it holds (a Lambda function's destination or
        dead-letter queue): see the module docstring. -> message id; raises AwsError."""
        with self.emu.lock:
            queue = self._by_arn(queue_arn)
            account, context = role_context(self.emu, role_arn, queue["region"])
            identity = self.emu.services["iam"].evaluate(account, role_arn, "sqs:SendMessage",
                                                         queue["arn"], context)
            decision, _how = evaluate_resource_policy(self._policy(queue),
                                                      {"account": account, "arn": role_arn},
                                                      "sqs:SendMessage", queue["arn"], context)
            if identity != "allow" or decision == "deny" or (
                    decision != "allow" and account != queue["account"]):
                side = "identity-based" if identity != "allow" else "resource-based"
                raise AwsError("AccessDenied", "Access to the resource %s is denied: %s may not "
                               "sqs:SendMessage (%s policy)." % (self._url(queue), role_arn, side),
                               status=403)
            self._check_message(queue, body, message_attributes, None)
            self._kms_for_caller(queue, account, role_arn, role_arn,
                                 ("kms:GenerateDataKey", "kms:Decrypt"))
            return self._enqueue(queue, body, message_attributes, None,
                                 role_arn.rsplit("/", 1)[-1])["MessageId"]

    def _handle(self, queue, msg):
        token = "%s %s %s" % (queue["arn"], msg["id"], uuid.uuid4().hex)
        return base64.b64encode(token.encode()).decode()

    def _parse_handle(self, queue, handle):
        """(message id, handle) or ReceiptHandleIsInvalid."""
        try:
            arn, msg_id, _token = base64.b64decode(handle, validate=True).decode().split(" ")
        except (ValueError, UnicodeDecodeError):
            arn = msg_id = None
        if arn != queue["arn"]:
            raise AwsError("ReceiptHandleIsInvalid", "The input receipt handle \"%s\" is not a "
                           "valid receipt handle." % handle)
        return msg_id

    def _dead_letter(self, queue, msg):
        """Move a message received maxReceiveCount times to the redrive policy's queue; True
        when it moved."""
        text = queue["attributes"].get("RedrivePolicy")
        if not text:
            return False
        doc = json.loads(text)
        if msg["receive_count"] < int(doc["maxReceiveCount"]):
            return False
        try:
            target = self._by_arn(doc["deadLetterTargetArn"])
        except AwsError:
            return False   # AWS keeps the message while its dead-letter queue is missing
        moved = dict(msg, visible_at=self.emu.now(), handle=None, received=False)
        target["messages"].append(moved)
        queue["messages"].remove(msg)
        return True

    def ReceiveMessage(self, ctx, params):
        queue = self._by_url(ctx, params["QueueUrl"])
        self._authorize(ctx, queue, "ReceiveMessage")
        n = params.get("MaxNumberOfMessages")
        if n is not None and not 1 <= n <= 10:
            raise _bad_value("MaxNumberOfMessages", n, "Must be between 1 and 10, if provided")
        vt = params.get("VisibilityTimeout")
        if vt is not None and not 0 <= vt <= 43200:
            raise _bad_value("VisibilityTimeout", vt, "Must be between 0 and 43200, if provided")
        wait = params.get("WaitTimeSeconds")
        if wait is not None and not 0 <= wait <= 20:
            raise _bad_value("WaitTimeSeconds", wait, "Must be >= 0 and <= 20, if provided")
        if vt is None:
            vt = self._number(queue, "VisibilityTimeout")
        now = self.emu.now()
        self._expire(queue, now)
        picked = []
        for msg in list(queue["messages"]):
            if len(picked) >= (n or 1):
                break
            if msg["visible_at"] > now or self._dead_letter(queue, msg):
                continue
            picked.append(msg)
        if picked:
            self._kms_for_caller(queue, ctx.account, ctx.principal_arn, ctx.role_arn,
                                 ("kms:Decrypt",))
        out = []
        for msg in picked:
            msg["receive_count"] += 1
            msg["received"] = True
            if msg["first_receive"] is None:
                msg["first_receive"] = now
            msg["visible_at"] = now + vt
            msg["handle"] = self._handle(queue, msg)
            out.append(self._message_out(msg, params))
        return {"Messages": out} if out else {}

    @staticmethod
    def _message_out(msg, params):
        out = {"MessageId": msg["id"], "ReceiptHandle": msg["handle"],
               "MD5OfBody": _md5(msg["body"].encode("utf-8")), "Body": msg["body"]}
        names = params.get("AttributeNames") or []
        system = {"SenderId": msg["sender"], "SentTimestamp": str(int(msg["sent"] * 1000)),
                  "ApproximateReceiveCount": str(msg["receive_count"]),
                  "ApproximateFirstReceiveTimestamp": str(int(msg["first_receive"] * 1000))}
        attrs = {k: v for k, v in system.items() if "All" in names or k in names}
        if attrs:
            out["Attributes"] = attrs
        wanted = params.get("MessageAttributeNames") or []
        chosen = {}
        for name, value in msg["attributes"].items():
            if any(w in ("All", ".*") or w == name or
                   (w.endswith(".*") and name.startswith(w[:-1])) for w in wanted):
                chosen[name] = value
        if chosen:
            out["MessageAttributes"] = chosen
            out["MD5OfMessageAttributes"] = attributes_md5(chosen)
        return out

    def DeleteMessage(self, ctx, params):
        queue = self._by_url(ctx, params["QueueUrl"])
        self._authorize(ctx, queue, "DeleteMessage")
        handle = params["ReceiptHandle"]
        msg_id = self._parse_handle(queue, handle)
        # only the latest receipt handle deletes; an older one succeeds and deletes nothing
        queue["messages"] = [m for m in queue["messages"]
                             if not (m["id"] == msg_id and m["handle"] == handle)]
        return {}

    def ChangeMessageVisibility(self, ctx, params):
        queue = self._by_url(ctx, params["QueueUrl"])
        self._authorize(ctx, queue, "ChangeMessageVisibility")
        handle = params["ReceiptHandle"]
        msg_id = self._parse_handle(queue, handle)
        vt = params["VisibilityTimeout"]
        if not 0 <= vt <= 43200:
            raise _bad_value("VisibilityTimeout", vt, "Must be between 0 and 43200")
        now = self.emu.now()
        for msg in queue["messages"]:
            if msg["id"] == msg_id and msg["handle"] == handle and msg["visible_at"] > now:
                msg["visible_at"] = now + vt
                return {}
        raise AwsError("AWS.SimpleQueueService.MessageNotInflight", "Value %s for parameter "
                       "ReceiptHandle is invalid. Reason: Message does not exist or is not "
                       "available for visibility timeout change." % handle)

    def PurgeQueue(self, ctx, params):
        queue = self._by_url(ctx, params["QueueUrl"])
        self._authorize(ctx, queue, "PurgeQueue")
        now = self.emu.now()
        if queue["purged"] is not None and now - queue["purged"] < PURGE_WAIT_S:
            raise AwsError("AWS.SimpleQueueService.PurgeQueueInProgress", "Only one PurgeQueue "
                           "operation on %s is allowed every 60 seconds." % queue["name"])
        queue["purged"] = now
        queue["messages"] = []
        return {}

    # --------------------------------------------------------------------- tags
    def TagQueue(self, ctx, params):
        queue = self._by_url(ctx, params["QueueUrl"])
        self._authorize(ctx, queue, "TagQueue")
        if len(set(queue["tags"]) | set(params["Tags"])) > MAX_TAGS:
            raise AwsError("InvalidParameterValue", "Too many tags added for queue %s."
                           % queue["name"])
        queue["tags"].update(params["Tags"])
        return {}

    def UntagQueue(self, ctx, params):
        queue = self._by_url(ctx, params["QueueUrl"])
        self._authorize(ctx, queue, "UntagQueue")
        for key in params["TagKeys"]:
            queue["tags"].pop(key, None)
        return {}

    def ListQueueTags(self, ctx, params):
        queue = self._by_url(ctx, params["QueueUrl"])
        self._authorize(ctx, queue, "ListQueueTags")
        return {"Tags": dict(queue["tags"])} if queue["tags"] else {}

    # ---------------------------------------------------------------- time etc.
    def on_clock(self, now):
        """AWS time moved on (emu.lock held): messages past their queue's retention are gone,
        deleted names become free again."""
        for queue in self.queues.values():
            self._expire(queue, now)
        wait = self.emu.sqs_name_reuse_wait_s
        for key in [k for k, t in self.deleted.items() if now - t >= wait]:
            del self.deleted[key]

    def inventory(self):
        out = []
        with self.emu.lock:
            now = self.emu.now()
            for (account, region, _name), queue in sorted(self.queues.items()):
                self._expire(queue, now)
                out.append({"account": account, "region": region, "type": "sqs:queue",
                            "id": queue["arn"], "url": self._url(queue),
                            "messages": len(queue["messages"]), "tags": dict(queue["tags"]),
                            "kms_key": queue["attributes"].get("KmsMasterKeyId")})
        return out
