"""SNS for the emulator (awsQuery, 2010-03-31): standard topics per account and Region with
their attributes (Policy, DisplayName, KmsMasterKeyId, DeliveryPolicy), policies
(AddPermission / RemovePermission), subscriptions (email, email-json, sqs, lambda), Publish and
tags, and delivery to SQS queues and Lambda functions.

Operations: CreateTopic, DeleteTopic, GetTopicAttributes, SetTopicAttributes, ListTopics,
AddPermission, RemovePermission, Subscribe, Unsubscribe, ListSubscriptionsByTopic,
ListSubscriptions, GetSubscriptionAttributes, SetSubscriptionAttributes, Publish, TagResource,
UntagResource, ListTagsForResource.

Authorisation: every topic operation needs the caller's identity policy (ctx.authorize, as every
service here) and, from another account, the topic's policy too; an explicit Deny in the topic
policy refuses everyone. A topic made without a Policy gets AWS's default one (any principal,
on condition AWS:SourceOwner = the owner account, which direct callers do not carry: it admits
only AWS services acting for the owner that set it). Same-account callers are not admitted by
the topic policy alone (AWS would let a policy naming a role stand in for its identity policy):
stricter than AWS, never laxer.

Cross-service API (Lambda destinations and dead-letter queues, EventBridge targets):
    SnsService.publish_as(service_principal, source_arn, source_account, topic_arn, subject,
                          message, message_attributes=None) -> message id
        a service publishing on its own behalf: the topic policy alone decides, with
        aws:SourceArn / aws:SourceAccount in the context; an encrypted topic's key policy must
        let the service kms:GenerateDataKey and kms:Decrypt.
    SnsService.publish_as_role(role_arn, topic_arn, subject, message, message_attributes=None)
        -> message id: a service publishing with a role it holds (a Lambda function's execution
        role for its destinations): the role's identity policy, and the topic policy from another
        account; an encrypted topic's key must be usable by the role via SNS.
    Both raise AwsError with the reason when refused.

Delivery (background work, so POST /_emu/wait-idle waits for it): to an sqs subscription as
sns.amazonaws.com, whose queue policy must allow sqs:SendMessage with aws:SourceArn = the topic
(the SNS envelope JSON as the body, or the message itself with RawMessageDelivery); to a lambda
subscription as an asynchronous invocation by sns.amazonaws.com (the function's resource policy
must allow it). Refused deliveries are recorded (emu.record_failed_delivery). Email
subscriptions stay PendingConfirmation until POST /_emu/sns/confirm; nothing is mailed; as on AWS,
Unsubscribe refuses one pending confirmation (it goes with its topic).

A topic policy naming a role of an emulated account that IAM does not know, or has not propagated
yet (--iam-propagation-ms), is refused: "Invalid parameter: Policy Error: PrincipalNotFound".

Control routes: GET /_emu/sns/messages[?topic_arn=] -> [{topic_arn, subject, message, time,
message_id, message_attributes}] (every message published, time in ISO 8601 AWS time);
POST /_emu/sns/confirm {"subscription_arn"} or {"topic_arn", "endpoint"} confirms pending
subscriptions.

Not emulated (refused): FIFO topics, PublishBatch, SMS and mobile push, http/https/firehose/
application subscriptions, subscription filter policies, ConfirmSubscription tokens, data
protection policies.
"""

import base64
import hashlib
import json
import re
import uuid

from .core import AwsError, iso8601
from .events import arn_parts, err_text
from .iam import (PolicyError, evaluate_resource_policy, parse_policy, role_context,
                  service_context)
from .sqs import attributes_bytes

_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
MAX_MESSAGE_BYTES = 262144   # a message and its attributes
MAX_SUBJECT_CHARS = 99       # "must be less than 100 characters long"
MAX_TAGS = 50
PAGE = 100
MAX_RECORDED = 10000
# Topic attributes CreateTopic and SetTopicAttributes take (FifoTopic only as "false").
SETTABLE = ("Policy", "DisplayName", "KmsMasterKeyId", "DeliveryPolicy", "SignatureVersion",
            "TracingConfig")
EFFECTIVE_DELIVERY_POLICY = json.dumps({"http": {
    "defaultHealthyRetryPolicy": {"minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3,
                                  "numMaxDelayRetries": 0, "numNoDelayRetries": 0,
                                  "numMinDelayRetries": 0, "backoffFunction": "linear"},
    "disableSubscriptionOverrides": False,
    "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"}}},
    separators=(",", ":"))
# Protocols AWS takes that the emulator does not deliver to: refused, not pretended.
UNDELIVERED = ("http", "https", "sms", "application", "firehose")
DEFAULT_ACTIONS = ("SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                   "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                   "SNS:ListSubscriptionsByTopic", "SNS:Publish")
# AddPermission's ActionName values (the topic actions a policy can grant).
TOPIC_ACTIONS = {a.split(":")[1].lower(): a.split(":")[1] for a in DEFAULT_ACTIONS}
# A KMS refusal as SNS reports it (its KMS* error codes).
_KMS_CODES = {"NotFoundException": "KMSNotFound", "DisabledException": "KMSDisabled",
              "KMSInvalidStateException": "KMSInvalidState",
              "AccessDeniedException": "KMSAccessDenied"}


def _invalid(what):
    return AwsError("InvalidParameter", "Invalid parameter: " + what)


def default_policy(topic_arn, account):
    """AWS's policy of a topic made without one."""
    return json.dumps({
        "Version": "2008-10-17", "Id": "__default_policy_ID",
        "Statement": [{"Sid": "__default_statement_ID", "Effect": "Allow",
                       "Principal": {"AWS": "*"}, "Action": list(DEFAULT_ACTIONS),
                       "Resource": topic_arn,
                       "Condition": {"StringEquals": {"AWS:SourceOwner": account}}}]},
        separators=(",", ":"))


def _check_policy(text):
    try:
        return parse_policy(text, kind="resource")
    except PolicyError as exc:
        raise _invalid("Policy Error: %s" % exc)


def _message_bytes(message, attributes):
    return len(message.encode("utf-8")) + attributes_bytes(attributes)


class SnsService:
    SERVICE = "sns"

    def __init__(self, emu):
        self.emu = emu
        self.reset()

    def reset(self):
        with self.emu.lock:
            # (account, region, name) -> {"arn", "name", "account", "region", "attributes": {},
            #   "tags": {}}
            self.topics = {}
            # subscription ARN -> {"arn", "topic_arn", "protocol", "endpoint", "owner",
            #   "pending", "attributes": {}}
            self.subs = {}
            self.messages = []    # what GET /_emu/sns/messages lists

    # ------------------------------------------------------------------ helpers
    def _topic_key(self, arn):
        p = arn_parts(arn)
        if p is None or p["service"] != "sns" or not _TOPIC_NAME.match(p["resource"]) or \
                not re.fullmatch(r"\d{12}", p["account"]):
            return None
        return p["account"], p["region"], p["resource"]

    def _topic(self, ctx, arn, param="TopicArn"):
        """The topic an ARN names, in the Region of the request (SNS calls are regional)."""
        key = self._topic_key(arn or "")
        if key is None or key[1] != ctx.region:
            raise _invalid(param)
        topic = self.topics.get(key)
        if topic is None:
            raise AwsError("NotFound", "Topic does not exist", status=404)
        return topic

    def _topic_by_arn(self, arn):
        key = self._topic_key(arn or "")
        topic = self.topics.get(key) if key else None
        if topic is None:
            raise AwsError("NotFound", "Topic does not exist", status=404)
        return topic

    @staticmethod
    def _policy_decision(topic, caller, action, context):
        return evaluate_resource_policy(json.loads(topic["attributes"]["Policy"]), caller,
                                        action, topic["arn"], context)[0]

    def _authorize(self, ctx, topic, action):
        """The caller's identity policy, then the topic policy: an explicit Deny refuses anyone,
        another account needs an Allow."""
        try:
            ctx.authorize("sns:" + action, topic["arn"])
        except AwsError as exc:
            raise AwsError("AuthorizationError", exc.message, status=403)
        caller = ctx.caller()
        decision = self._policy_decision(topic, caller, "SNS:" + action, ctx.condition_context())
        if decision == "deny" or (decision != "allow" and ctx.account != topic["account"]):
            raise self._denied(ctx.principal_arn, action, topic["arn"], decision)

    @staticmethod
    def _denied(who, action, arn, decision):
        why = ("with an explicit deny in a resource-based policy" if decision == "deny" else
               "because no resource-based policy allows the SNS:%s action" % action)
        return AwsError("AuthorizationError", "User: %s is not authorized to perform: SNS:%s on "
                        "resource: %s %s" % (who, action, arn, why), status=403)

    def _kms_key(self, topic):
        """The ARN of the topic's key (KmsMasterKeyId names it in the topic's account)."""
        try:
            return self.emu.services["kms"].key_arn(topic["account"], topic["region"],
                                                    topic["attributes"]["KmsMasterKeyId"])
        except AwsError as exc:
            raise self._kms_error(exc)

    @staticmethod
    def _kms_error(exc):
        code = _KMS_CODES.get(exc.code, "KMSAccessDenied")
        return AwsError(code, "%s (Service: AWSKMS; Status Code: 400; Error Code: %s)"
                        % (exc.message, exc.code), status=400)

    def _kms_for_caller(self, topic, account, principal_arn, role_arn):
        """A publisher to an encrypted topic needs its key for kms:GenerateDataKey and
        kms:Decrypt, used via SNS."""
        if not topic["attributes"].get("KmsMasterKeyId"):
            return
        key = self._kms_key(topic)
        kms = self.emu.services["kms"]
        try:
            for action in ("kms:GenerateDataKey", "kms:Decrypt"):
                kms.check_use(account, principal_arn, role_arn, key, topic["region"], action,
                              via_service="sns")
        except AwsError as exc:
            raise self._kms_error(exc)

    def _kms_for_service(self, topic, principal, context):
        if not topic["attributes"].get("KmsMasterKeyId"):
            return
        key = self._kms_key(topic)
        kms = self.emu.services["kms"]
        try:
            for action in ("kms:GenerateDataKey", "kms:Decrypt"):
                kms.check_service_use(principal, key, action, context)
        except AwsError as exc:
            raise self._kms_error(exc)

    def _check_principals(self, doc):
        """A policy naming a role of an emulated account that IAM does not know, or has not
        propagated yet, is refused as SNS refuses it: "Invalid parameter: Policy Error:
        PrincipalNotFound"."""
        if self.emu.services["iam"].unknown_role_principal(doc) is not None:
            raise _invalid("Policy Error: PrincipalNotFound")

    def _check_attribute(self, topic_arn, name, value):
        """A topic attribute as CreateTopic / SetTopicAttributes take it -> the value to store."""
        if name == "Policy":
            self._check_principals(_check_policy(value))
        elif name == "SignatureVersion" and value not in ("1", "2"):
            raise _invalid("Attributes Reason: SignatureVersion must be 1 or 2")
        elif name == "TracingConfig" and value not in ("PassThrough", "Active"):
            raise _invalid("Attributes Reason: TracingConfig must be PassThrough or Active")
        elif name in ("DeliveryPolicy",) and value:
            try:
                json.loads(value)
            except ValueError:
                raise _invalid("DeliveryPolicy: Invalid JSON")
        return value

    @staticmethod
    def _tags(tag_list):
        return {t["Key"]: t.get("Value", "") for t in tag_list or []}

    def _page(self, items, token):
        start = 0
        if token:
            try:
                start = int(base64.b64decode(token).decode())
            except (ValueError, UnicodeDecodeError):
                raise _invalid("NextToken")
        out = items[start:start + PAGE]
        nxt = base64.b64encode(str(start + PAGE).encode()).decode() \
            if start + PAGE < len(items) else None
        return out, nxt

    # ------------------------------------------------------------------- topics
    def CreateTopic(self, ctx, params):
        name = params["Name"]
        if not _TOPIC_NAME.match(name):
            raise _invalid("Topic Name")
        attributes = dict(params.get("Attributes") or {})
        if attributes.get("FifoTopic", "false").lower() == "true" or name.endswith(".fifo"):
            raise _invalid("Attributes Reason: FIFO topics are not emulated")
        attributes.pop("FifoTopic", None)
        if params.get("DataProtectionPolicy"):
            raise _invalid("DataProtectionPolicy: data protection policies are not emulated")
        arn = ctx.arn("sns", name)
        for attr, value in attributes.items():
            if attr not in SETTABLE:
                raise _invalid("Attributes Reason: Unknown attribute %s" % attr)
            self._check_attribute(arn, attr, value)
        tags = self._tags(params.get("Tags"))
        ctx.authorize("sns:CreateTopic", arn)
        if tags:   # tagging at creation needs both actions
            ctx.authorize("sns:TagResource", arn)
        key = (ctx.account, ctx.region, name)
        topic = self.topics.get(key)
        if topic is not None:
            # idempotent for the same name; what is given must match what the topic has
            for attr, value in attributes.items():
                if topic["attributes"].get(attr) != value:
                    raise _invalid("Attributes Reason: Topic already exists with different "
                                   "attributes")
            if any(topic["tags"].get(k) != v for k, v in tags.items()):
                raise _invalid("Tags Reason: Topic already exists with different tags")
            return {"TopicArn": topic["arn"]}
        if len(tags) > MAX_TAGS:
            raise AwsError("TagLimitExceeded", "Could not complete request: tag quota of per "
                           "resource exceeded")
        attrs = {"Policy": default_policy(arn, ctx.account), "DisplayName": ""}
        attrs.update(attributes)
        self.topics[key] = {"arn": arn, "name": name, "account": ctx.account,
                            "region": ctx.region, "attributes": attrs, "tags": tags}
        return {"TopicArn": arn}

    def DeleteTopic(self, ctx, params):
        key = self._topic_key(params["TopicArn"])
        if key is None or key[1] != ctx.region:
            raise _invalid("TopicArn")
        topic = self.topics.get(key)
        if topic is None:   # deleting a topic that does not exist is not an error
            ctx.authorize("sns:DeleteTopic", params["TopicArn"])
            return {}
        self._authorize(ctx, topic, "DeleteTopic")
        del self.topics[key]
        for arn in [a for a, s in self.subs.items() if s["topic_arn"] == topic["arn"]]:
            del self.subs[arn]
        return {}

    def GetTopicAttributes(self, ctx, params):
        topic = self._topic(ctx, params["TopicArn"])
        self._authorize(ctx, topic, "GetTopicAttributes")
        subs = [s for s in self.subs.values() if s["topic_arn"] == topic["arn"]]
        attrs = {"TopicArn": topic["arn"], "Owner": topic["account"],
                 "SubscriptionsConfirmed": str(sum(1 for s in subs if not s["pending"])),
                 "SubscriptionsPending": str(sum(1 for s in subs if s["pending"])),
                 "SubscriptionsDeleted": "0",
                 "EffectiveDeliveryPolicy": topic["attributes"].get("DeliveryPolicy") or
                 EFFECTIVE_DELIVERY_POLICY}
        attrs.update({k: v for k, v in topic["attributes"].items() if v is not None})
        return {"Attributes": attrs}

    def SetTopicAttributes(self, ctx, params):
        topic = self._topic(ctx, params["TopicArn"])
        name = params["AttributeName"]
        if name not in SETTABLE:
            raise _invalid("AttributeName")
        self._authorize(ctx, topic, "SetTopicAttributes")
        value = params.get("AttributeValue") or ""
        if name == "Policy" and not value:
            value = default_policy(topic["arn"], topic["account"])   # back to the default
        self._check_attribute(topic["arn"], name, value)
        if name in ("KmsMasterKeyId", "DeliveryPolicy", "TracingConfig", "SignatureVersion") \
                and not value:
            topic["attributes"].pop(name, None)
        else:
            topic["attributes"][name] = value
        return {}

    def ListTopics(self, ctx, params):
        ctx.authorize("sns:ListTopics", ctx.arn("sns", "*"))
        arns = sorted(t["arn"] for (a, r, _n), t in self.topics.items()
                      if a == ctx.account and r == ctx.region)
        page, nxt = self._page(arns, params.get("NextToken"))
        out = {"Topics": [{"TopicArn": a} for a in page]}
        if nxt:
            out["NextToken"] = nxt
        return out

    def AddPermission(self, ctx, params):
        topic = self._topic(ctx, params["TopicArn"])
        self._authorize(ctx, topic, "AddPermission")
        label = params["Label"]
        doc = json.loads(topic["attributes"]["Policy"])
        statements = doc.get("Statement") if isinstance(doc.get("Statement"), list) else \
            [doc["Statement"]]
        if any(st.get("Sid") == label for st in statements):
            raise _invalid("Statement already exists")
        actions = []
        for name in params["ActionName"]:
            if name.lower() not in TOPIC_ACTIONS:
                raise _invalid("Policy statement action out of service scope!")
            actions.append("SNS:" + TOPIC_ACTIONS[name.lower()])
        accounts = []
        for acct in params["AWSAccountId"]:
            if not re.fullmatch(r"\d{12}", acct):
                raise _invalid("AWSAccountId")
            accounts.append("arn:%s:iam::%s:root" % (ctx.partition, acct))
        statements.append({"Sid": label, "Effect": "Allow",
                           "Principal": {"AWS": accounts if len(accounts) > 1 else accounts[0]},
                           "Action": actions if len(actions) > 1 else actions[0],
                           "Resource": topic["arn"]})
        doc["Statement"] = statements
        topic["attributes"]["Policy"] = json.dumps(doc, separators=(",", ":"))
        return {}

    def RemovePermission(self, ctx, params):
        topic = self._topic(ctx, params["TopicArn"])
        self._authorize(ctx, topic, "RemovePermission")
        doc = json.loads(topic["attributes"]["Policy"])
        statements = doc.get("Statement") if isinstance(doc.get("Statement"), list) else \
            [doc["Statement"]]
        rest = [st for st in statements if st.get("Sid") != params["Label"]]
        if len(rest) == len(statements):
            raise _invalid("Label")
        doc["Statement"] = rest
        topic["attributes"]["Policy"] = json.dumps(doc, separators=(",", ":"))
        return {}

    # ------------------------------------------------------------ subscriptions
    def _check_endpoint(self, protocol, endpoint):
        if protocol in ("email", "email-json"):
            if not re.fullmatch(r"[^@\s]+@[^@\s]+", endpoint or ""):
                raise _invalid("Email address")
        elif protocol == "sqs":
            p = arn_parts(endpoint)
            if p is None or p["service"] != "sqs" or not re.fullmatch(r"\d{12}", p["account"]):
                raise _invalid("SQS endpoint ARN")
        elif protocol == "lambda":
            p = arn_parts(endpoint)
            if p is None or p["service"] != "lambda" or not p["resource"].startswith("function:"):
                raise _invalid("Lambda endpoint ARN")
        elif protocol in UNDELIVERED:
            raise _invalid("Protocol Reason: the emulator does not deliver to %s endpoints"
                           % protocol)
        else:
            raise _invalid("Invalid protocol type: %s" % protocol)

    def Subscribe(self, ctx, params):
        topic = self._topic(ctx, params["TopicArn"])
        protocol = params["Protocol"].lower()
        endpoint = params.get("Endpoint") or ""
        self._check_endpoint(protocol, endpoint)
        attributes = dict(params.get("Attributes") or {})
        for name, value in attributes.items():
            self._check_sub_attribute(protocol, name, value)
        self._authorize(ctx, topic, "Subscribe")
        for sub in self.subs.values():   # the same endpoint again: the same subscription
            if sub["topic_arn"] == topic["arn"] and sub["protocol"] == protocol and \
                    sub["endpoint"] == endpoint:
                return {"SubscriptionArn": self._shown_arn(sub, params)}
        # an email address must confirm; a queue of another account than the subscriber's is
        # confirmed by its owner (POST /_emu/sns/confirm here)
        pending = protocol.startswith("email") or (
            protocol == "sqs" and arn_parts(endpoint)["account"] != ctx.account)
        arn = "%s:%s" % (topic["arn"], uuid.uuid4())
        self.subs[arn] = {"arn": arn, "topic_arn": topic["arn"], "protocol": protocol,
                          "endpoint": endpoint, "owner": ctx.account, "pending": pending,
                          "attributes": attributes}
        return {"SubscriptionArn": self._shown_arn(self.subs[arn], params)}

    @staticmethod
    def _shown_arn(sub, params):
        if sub["pending"] and not params.get("ReturnSubscriptionArn"):
            return "pending confirmation"
        return sub["arn"]

    @staticmethod
    def _check_sub_attribute(protocol, name, value):
        if name == "RawMessageDelivery":
            if value.lower() not in ("true", "false"):
                raise _invalid("Attributes Reason: RawMessageDelivery: Invalid value [%s]. Must "
                               "be true or false." % value)
            if protocol not in ("sqs", "http", "https", "firehose"):
                raise _invalid("Attributes Reason: Delivery protocol [%s] does not support raw "
                               "message delivery." % protocol)
        elif name == "DeliveryPolicy":
            pass
        elif name in ("FilterPolicy", "FilterPolicyScope", "RedrivePolicy",
                      "SubscriptionRoleArn"):
            raise _invalid("Attributes Reason: %s is not emulated" % name)
        else:
            raise _invalid("Attributes Reason: Unknown attribute %s" % name)

    def _sub(self, arn):
        sub = self.subs.get(arn)
        if sub is None:
            raise AwsError("NotFound", "Subscription does not exist", status=404)
        return sub

    def Unsubscribe(self, ctx, params):
        arn = params["SubscriptionArn"]
        if arn == "pending confirmation" or arn_parts(arn) is None:
            raise _invalid("SubscriptionArn")
        sub = self._sub(arn)
        topic = self._topic_by_arn(sub["topic_arn"])
        try:
            ctx.authorize("sns:Unsubscribe", sub["arn"])
        except AwsError as exc:
            raise AwsError("AuthorizationError", exc.message, status=403)
        if ctx.account not in (sub["owner"], topic["account"]):
            raise self._denied(ctx.principal_arn, "Unsubscribe", sub["arn"], "implicit")
        if sub["pending"]:   # AWS deletes it itself when it is not confirmed in time
            raise _invalid("SubscriptionArn Reason: Cannot unsubscribe a subscription that is "
                           "pending confirmation")
        del self.subs[arn]
        return {}

    def _sub_out(self, sub):
        return {"SubscriptionArn": "PendingConfirmation" if sub["pending"] else sub["arn"],
                "Owner": sub["owner"], "Protocol": sub["protocol"], "Endpoint": sub["endpoint"],
                "TopicArn": sub["topic_arn"]}

    def ListSubscriptionsByTopic(self, ctx, params):
        topic = self._topic(ctx, params["TopicArn"])
        self._authorize(ctx, topic, "ListSubscriptionsByTopic")
        subs = sorted((s for s in self.subs.values() if s["topic_arn"] == topic["arn"]),
                      key=lambda s: s["arn"])
        page, nxt = self._page(subs, params.get("NextToken"))
        out = {"Subscriptions": [self._sub_out(s) for s in page]}
        if nxt:
            out["NextToken"] = nxt
        return out

    def ListSubscriptions(self, ctx, params):
        ctx.authorize("sns:ListSubscriptions", "*")
        subs = sorted((s for s in self.subs.values()
                       if s["owner"] == ctx.account and
                       (self._topic_key(s["topic_arn"]) or ("", ""))[1] == ctx.region),
                      key=lambda s: s["arn"])
        page, nxt = self._page(subs, params.get("NextToken"))
        out = {"Subscriptions": [self._sub_out(s) for s in page]}
        if nxt:
            out["NextToken"] = nxt
        return out

    def _sub_for(self, ctx, params, action):
        """The subscription of the request, which the caller may `action` (sns:<action>) and
        owns, or whose topic's account it is in."""
        sub = self._sub(params["SubscriptionArn"])
        try:
            ctx.authorize("sns:" + action, sub["arn"])
        except AwsError as exc:
            raise AwsError("AuthorizationError", exc.message, status=403)
        topic = self._topic_by_arn(sub["topic_arn"])
        if ctx.account not in (sub["owner"], topic["account"]):
            raise self._denied(ctx.principal_arn, action, sub["arn"], "implicit")
        return sub

    def GetSubscriptionAttributes(self, ctx, params):
        sub = self._sub_for(ctx, params, "GetSubscriptionAttributes")
        attrs = {"SubscriptionArn": sub["arn"], "TopicArn": sub["topic_arn"],
                 "Owner": sub["owner"], "Protocol": sub["protocol"],
                 "Endpoint": sub["endpoint"],
                 "PendingConfirmation": "true" if sub["pending"] else "false",
                 "ConfirmationWasAuthenticated": "false" if sub["pending"] else "true",
                 "RawMessageDelivery": "false"}
        attrs.update(sub["attributes"])
        return {"Attributes": attrs}

    def SetSubscriptionAttributes(self, ctx, params):
        sub = self._sub_for(ctx, params, "SetSubscriptionAttributes")
        name, value = params["AttributeName"], params.get("AttributeValue") or ""
        self._check_sub_attribute(sub["protocol"], name, value)
        sub["attributes"][name] = value
        return {}

    # ------------------------------------------------------------------ publish
    def _check_message(self, subject, message, attributes):
        if subject is not None:
            # ASCII text beginning with a letter, number or punctuation mark, no line breaks
            # or control characters, less than 100 characters
            if not subject or len(subject) > MAX_SUBJECT_CHARS or \
                    not re.fullmatch(r"[\x21-\x7e][\x20-\x7e]*", subject):
                raise _invalid("Subject")
        if not message:
            raise _invalid("Empty message")
        for name, value in (attributes or {}).items():
            dtype = value.get("DataType") or ""
            if not re.match(r"^(String|Number|Binary)(\.|$)", dtype) and dtype != "String.Array":
                raise _invalid("The message attribute '%s' has an invalid message attribute "
                               "type, the set of supported type prefixes is Binary, Number, and "
                               "String." % name)
            if dtype.startswith("Binary") and value.get("BinaryValue") is None:
                raise _invalid("The message attribute '%s' must contain non-empty message "
                               "attribute value for message attribute type 'Binary'." % name)
            if not dtype.startswith("Binary") and not value.get("StringValue"):
                raise _invalid("The message attribute '%s' must contain non-empty message "
                               "attribute value for message attribute type '%s'."
                               % (name, dtype.split(".")[0]))
        if _message_bytes(message, attributes) > MAX_MESSAGE_BYTES:
            raise _invalid("Message too long")

    def Publish(self, ctx, params):
        if params.get("PhoneNumber"):
            raise _invalid("PhoneNumber Reason: SMS is not emulated")
        if params.get("TopicArn") and params.get("TargetArn"):
            raise _invalid("Topic and target arn may not be specified together")
        arn = params.get("TopicArn") or params.get("TargetArn")
        if not arn:
            raise _invalid("TopicArn or TargetArn Reason: no value for required parameter")
        if params.get("MessageStructure"):
            raise _invalid("MessageStructure Reason: per-protocol messages are not emulated")
        if params.get("MessageGroupId") or params.get("MessageDeduplicationId"):
            raise _invalid("MessageGroupId Reason: The request includes MessageGroupId "
                           "parameter that is not valid for this topic type")
        topic = self._topic(ctx, arn, "TopicArn" if params.get("TopicArn") else "TargetArn")
        self._authorize(ctx, topic, "Publish")
        self._check_message(params.get("Subject"), params["Message"],
                            params.get("MessageAttributes"))
        self._kms_for_caller(topic, ctx.account, ctx.principal_arn, ctx.role_arn)
        return {"MessageId": self._publish(topic, params.get("Subject"), params["Message"],
                                           params.get("MessageAttributes"))}

    def publish_as(self, service_principal, source_arn, source_account, topic_arn, subject,
                   message, message_attributes=None):
        """A service publishing on its own behalf (an EventBridge target): see the module
        docstring. -> message id; raises AwsError when refused."""
        with self.emu.lock:
            topic = self._topic_by_arn(topic_arn)
            context = service_context(service_principal, source_arn, source_account)
            decision = self._policy_decision(topic, {"service": service_principal},
                                             "SNS:Publish", context)
            if decision != "allow":   # a service has no identity policy: the topic decides
                raise self._denied(service_principal, "Publish", topic["arn"], decision)
            self._check_message(subject, message, message_attributes)
            self._kms_for_service(topic, service_principal, context)
            return self._publish(topic, subject, message, message_attributes)

    def publish_as_role(self, role_arn, topic_arn, subject, message, message_attributes=None):
        """A service publishing with a role it holds (a Lambda function's destination): see the
        module docstring. -> message id; raises AwsError when refused."""
        with self.emu.lock:
            topic = self._topic_by_arn(topic_arn)
            account, context = role_context(self.emu, role_arn, topic["region"])
            identity = self.emu.services["iam"].evaluate(account, role_arn, "sns:Publish",
                                                         topic["arn"], context)
            if identity != "allow":
                why = ("with an explicit deny in an identity-based policy" if identity == "deny"
                       else "because no identity-based policy allows the SNS:Publish action")
                raise AwsError("AuthorizationError", "User: %s is not authorized to perform: "
                               "SNS:Publish on resource: %s %s" % (role_arn, topic["arn"], why),
                               status=403)
            decision = self._policy_decision(topic, {"account": account, "arn": role_arn},
                                             "SNS:Publish", context)
            if decision == "deny" or (decision != "allow" and account != topic["account"]):
                raise self._denied(role_arn, "Publish", topic["arn"], decision)
            self._check_message(subject, message, message_attributes)
            self._kms_for_caller(topic, account, role_arn, role_arn)
            return self._publish(topic, subject, message, message_attributes)

    def _publish(self, topic, subject, message, attributes):
        """Record the message and hand it to the topic's confirmed subscriptions."""
        message_id = str(uuid.uuid4())
        now = self.emu.now()
        attrs = {k: dict(v) for k, v in (attributes or {}).items()}
        self.messages.append({"topic_arn": topic["arn"], "subject": subject, "message": message,
                              "time": iso8601(now), "message_id": message_id,
                              "message_attributes": {k: v.get("StringValue") for k, v in
                                                     attrs.items()}})
        del self.messages[:-MAX_RECORDED]
        note = {"topic": topic["arn"], "account": topic["account"], "region": topic["region"],
                "id": message_id, "subject": subject, "message": message, "time": now,
                "attributes": attrs}
        for sub in sorted(self.subs.values(), key=lambda s: s["arn"]):
            if sub["topic_arn"] == topic["arn"] and not sub["pending"] and \
                    sub["protocol"] in ("sqs", "lambda"):
                self.emu.submit(self._deliver, dict(sub), note)
        return message_id

    # ----------------------------------------------------------------- delivery
    def _envelope(self, sub, note):
        region = note["region"]
        doc = {"Type": "Notification", "MessageId": note["id"], "TopicArn": note["topic"]}
        if note["subject"] is not None:
            doc["Subject"] = note["subject"]
        doc.update({"Message": note["message"], "Timestamp": iso8601(note["time"]),
                    "SignatureVersion": "1",
                    # not a signature: the emulator signs nothing
                    "Signature": base64.b64encode(hashlib.sha256(
                        (note["id"] + note["message"]).encode()).digest()).decode(),
                    "SigningCertURL": "https://sns.%s.amazonaws.com/SimpleNotificationService-"
                                      "emulator.pem" % region,
                    "UnsubscribeURL": "https://sns.%s.amazonaws.com/?Action=Unsubscribe&"
                                      "SubscriptionArn=%s" % (region, sub["arn"])})
        if note["attributes"]:
            doc["MessageAttributes"] = {
                k: {"Type": v["DataType"],
                    "Value": v.get("StringValue") if v.get("BinaryValue") is None else
                    base64.b64encode(v["BinaryValue"]).decode()}
                for k, v in note["attributes"].items()}
        return doc

    def _lambda_event(self, sub, note):
        env = self._envelope(sub, note)
        env["Subject"] = note["subject"]
        env["SigningCertUrl"] = env.pop("SigningCertURL")
        env["UnsubscribeUrl"] = env.pop("UnsubscribeURL")
        env.setdefault("MessageAttributes", {})
        return {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
                             "EventSubscriptionArn": sub["arn"], "Sns": env}]}

    def _deliver(self, sub, note):
        try:
            if sub["protocol"] == "sqs":
                raw = sub["attributes"].get("RawMessageDelivery", "false").lower() == "true"
                body = note["message"] if raw else json.dumps(self._envelope(sub, note))
                self.emu.services["sqs"].send_as(
                    "sns.amazonaws.com", note["topic"], note["account"], sub["endpoint"], body,
                    note["attributes"] if raw else None)
            else:
                p = arn_parts(sub["endpoint"])
                self.emu.services["lambda"].invoke_async(
                    p["account"], p["region"], sub["endpoint"], self._lambda_event(sub, note),
                    source_arn=note["topic"], principal="sns.amazonaws.com")
        except AwsError as exc:
            self.emu.record_failed_delivery({
                "time": self.emu.now(), "rule_arn": None, "source_arn": note["topic"],
                "target_arn": sub["endpoint"], "event_id": note["id"],
                "reason": "SNS could not deliver message %s of %s to %s: %s"
                          % (note["id"], note["topic"], sub["endpoint"], err_text(exc))})

    # --------------------------------------------------------------------- tags
    def _tag_topic(self, ctx, arn):
        key = self._topic_key(arn)
        topic = self.topics.get(key) if key else None
        if topic is None or key[0] != ctx.account or key[1] != ctx.region:
            raise AwsError("ResourceNotFound", "Resource does not exist", status=404)
        return topic

    def TagResource(self, ctx, params):
        topic = self._tag_topic(ctx, params["ResourceArn"])
        ctx.authorize("sns:TagResource", topic["arn"])
        tags = self._tags(params["Tags"])
        if len(set(topic["tags"]) | set(tags)) > MAX_TAGS:
            raise AwsError("TagLimitExceeded", "Could not complete request: tag quota of per "
                           "resource exceeded")
        topic["tags"].update(tags)
        return {}

    def UntagResource(self, ctx, params):
        topic = self._tag_topic(ctx, params["ResourceArn"])
        ctx.authorize("sns:UntagResource", topic["arn"])
        for key in params["TagKeys"]:
            topic["tags"].pop(key, None)
        return {}

    def ListTagsForResource(self, ctx, params):
        topic = self._tag_topic(ctx, params["ResourceArn"])
        ctx.authorize("sns:ListTagsForResource", topic["arn"])
        return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(topic["tags"].items())]}

    # ------------------------------------------------------------------ control
    def control_routes(self):
        return {("GET", "/_emu/sns/messages"): self._ctl_messages,
                ("POST", "/_emu/sns/confirm"): self._ctl_confirm}

    def _ctl_messages(self, body):
        topic_arn = (body or {}).get("topic_arn")
        with self.emu.lock:
            return 200, [dict(m) for m in self.messages
                         if not topic_arn or m["topic_arn"] == topic_arn]

    def _ctl_confirm(self, body):
        body = body or {}
        with self.emu.lock:
            if body.get("subscription_arn"):
                subs = [self.subs.get(body["subscription_arn"])]
            elif body.get("topic_arn") and body.get("endpoint"):
                subs = [s for s in self.subs.values() if s["topic_arn"] == body["topic_arn"]
                        and s["endpoint"] == body["endpoint"]]
            else:
                return 400, {"error": "subscription_arn, or topic_arn and endpoint, required"}
            subs = [s for s in subs if s is not None]
            if not subs:
                return 404, {"error": "no such subscription"}
            for sub in subs:
                sub["pending"] = False
            return 200, {"confirmed": [s["arn"] for s in subs]}

    def inventory(self):
        out = []
        with self.emu.lock:
            for (account, region, _name), topic in sorted(self.topics.items()):
                subs = sorted(s["arn"] for s in self.subs.values()
                              if s["topic_arn"] == topic["arn"])
                out.append({"account": account, "region": region, "type": "sns:topic",
                            "id": topic["arn"], "subscriptions": subs,
                            "tags": dict(topic["tags"]),
                            "kms_key": topic["attributes"].get("KmsMasterKeyId")})
            for arn, sub in sorted(self.subs.items()):
                key = self._topic_key(sub["topic_arn"])
                out.append({"account": key[0], "region": key[1], "type": "sns:subscription",
                            "id": arn, "topic_arn": sub["topic_arn"],
                            "protocol": sub["protocol"], "endpoint": sub["endpoint"],
                            "owner": sub["owner"], "pending": sub["pending"]})
        return out
