"""CloudFormation resource types of the emulator: what each type accepts (a table per type, from
the CloudFormation template reference) and how it is created, updated and deleted.

Every change goes through the emulator's own AWS API over HTTP (boto3 clients at emu.url signed
with the stack's principal's credentials), so it is authorised, validated and logged as any
client's request; the failure a service answers is the resource's failure.

Per type (property: required?; Ref; Fn::GetAtt attributes), as the template reference has them:

| type | properties (* required) | Ref | GetAtt |
| --- | --- | --- | --- |
| AWS::IAM::Role | AssumeRolePolicyDocument*, Description, ManagedPolicyArns, MaxSessionDuration, Path, PermissionsBoundary, Policies, RoleName, Tags | name | Arn, RoleId |
| AWS::Events::Rule | Description, EventBusName, EventPattern, Name, RoleArn, ScheduleExpression, State, Targets | name (BUS|name on a custom bus) | Arn |
| AWS::Events::EventBus | Name*, Policy, Tags (Description, EventSourceName, KmsKeyIdentifier, DeadLetterConfig: refused by EventBridge here) | name | Arn, Name, Policy |
| AWS::Events::EventBusPolicy | StatementId*, EventBusName, Statement (or the older Action, Principal, Condition) | statement id | - |
| AWS::Lambda::Function | Code*, Role*, FunctionName, Handler, Runtime, Timeout, MemorySize, Environment, DeadLetterConfig, Description, Tags, Architectures | name | Arn |
| AWS::Lambda::Permission | Action*, FunctionName*, Principal*, SourceArn, SourceAccount, PrincipalOrgID, EventSourceToken | the physical id | - |
| AWS::Logs::LogGroup | LogGroupName, RetentionInDays, KmsKeyId, Tags | name | Arn (with :*) |
| AWS::SQS::Queue | QueueName, MessageRetentionPeriod, SqsManagedSseEnabled, KmsMasterKeyId, KmsDataKeyReusePeriodSeconds, VisibilityTimeout, DelaySeconds, MaximumMessageSize, ReceiveMessageWaitTimeSeconds, RedrivePolicy, Tags | URL | Arn, QueueName, QueueUrl |
| AWS::KMS::Key | KeyPolicy, Description, Enabled, EnableKeyRotation, KeySpec, KeyUsage, MultiRegion, PendingWindowInDays, Tags | key id | Arn, KeyId |
| AWS::KMS::Alias | AliasName*, TargetKeyId* | alias name | - |
| AWS::SNS::Topic | TopicName, KmsMasterKeyId, DisplayName, Tags | ARN | TopicArn, TopicName |
| AWS::SNS::TopicPolicy | PolicyDocument*, Topics* | the physical id | - |
| AWS::SNS::Subscription | TopicArn*, Protocol*, Endpoint, FilterPolicy, RawMessageDelivery | ARN | - |

Updates: a property whose change the reference marks "Replacement" (names, a rule's bus, a
queue's name, a key's spec/usage/MultiRegion, a subscription's topic/protocol/endpoint, every
Lambda::Permission property) makes the stack create a new resource and delete the old one at
the end; a custom-named resource cannot be replaced under the same name (CloudFormation's
"CloudFormation cannot update a stack when a custom-named resource requires replacing").
"""

import io
import json
import random
import string
import threading
import time
import zipfile

import botocore.config
import botocore.exceptions
import botocore.session

from .core import partition_of

_session_lock = threading.Lock()
_session = None
_CONFIG = botocore.config.Config(retries={"total_max_attempts": 1}, read_timeout=60,
                                 connect_timeout=10)
SERVICE_LABEL = {"iam": "Iam", "events": "EventBridge", "lambda": "Lambda", "logs":
                 "CloudWatchLogs", "sqs": "Sqs", "kms": "Kms", "sns": "Sns"}


class ResourceFailed(Exception):
    """A resource's change failed: the message is its ResourceStatusReason; code is the AWS
    error code when a service refused."""
    code = None


class NeedsReplacement(Exception):
    """The update changes a property that needs a new resource."""


class Clients:
    """boto3-style (botocore) clients of the emulator for one principal and Region."""

    def __init__(self, url, credentials, region):
        self.url = url
        self.credentials = credentials
        self.region = region
        self._clients = {}

    def __call__(self, service):
        if service not in self._clients:
            global _session
            with _session_lock:  # making clients from one session is not thread-safe
                if _session is None:
                    _session = botocore.session.Session()
                    _session.set_config_variable("config_file", "/dev/null")
                    _session.set_config_variable("credentials_file", "/dev/null")
                region = "us-east-1" if service == "iam" else self.region
                self._clients[service] = _session.create_client(
                    service, region_name=region, endpoint_url=self.url, config=_CONFIG,
                    aws_access_key_id=self.credentials["AccessKeyId"],
                    aws_secret_access_key=self.credentials["SecretAccessKey"],
                    aws_session_token=self.credentials.get("SessionToken"))
        return self._clients[service]

    def close(self):
        for client in self._clients.values():
            close = getattr(client, "close", None)
            if close is not None:
                close()
        self._clients = {}


class Env:
    """What a provisioner knows besides properties: clients, stack and logical id."""

    def __init__(self, clients, account, region, stack_name, logical_id):
        self.c = clients
        self.account = account
        self.region = region
        self.partition = partition_of(region)
        self.stack_name = stack_name
        self.logical_id = logical_id

    def name(self, maxlen):
        """A generated physical name as CloudFormation makes them: STACK-LOGICALID-SUFFIX."""
        suffix = "".join(random.choice(string.ascii_uppercase + string.digits) for _ in range(12))
        head = "%s-%s" % (self.stack_name, self.logical_id)
        return "%s-%s" % (head[:maxlen - 13], suffix)


def call(env, service, op, **kwargs):
    """One API call; a service error becomes ResourceFailed with CloudFormation's wording."""
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    try:
        return getattr(env.c(service), op)(**kwargs)
    except botocore.exceptions.ClientError as exc:
        err = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        failed = ResourceFailed("Resource handler returned message: \"%s (Service: %s, Status "
                                "Code: %s, Request ID: %s)\" (HandlerErrorCode: %s)" % (
                                    err.get("Message"), SERVICE_LABEL.get(service, service),
                                    meta.get("HTTPStatusCode"), meta.get("RequestId"),
                                    err.get("Code")))
        failed.code = err.get("Code")
        raise failed


def _changed(old, new, *names):
    return [n for n in names if old.get(n) != new.get(n)]


def _doc(value):
    return value if isinstance(value, str) or value is None else json.dumps(value)


def _tags(props, key="Key", value="Value"):
    return [{key: t["Key"], value: t["Value"]} for t in props.get("Tags") or []] or None


def _tag_map(props):
    return {t["Key"]: t["Value"] for t in props.get("Tags") or []} or None


def _replace_if(old, new, *names):
    if _changed(old, new, *names):
        raise NeedsReplacement(_changed(old, new, *names))


def _wait(check, timeout_s=60.0):
    """Poll until check() is true (a function to become Active, ...)."""
    deadline = time.time() + timeout_s
    while not check():
        if time.time() > deadline:
            raise ResourceFailed("Resource did not stabilize in %d s" % timeout_s)
        time.sleep(0.05)


# ---------------------------------------------------------------------------------- IAM::Role

class Role:
    props = {"AssumeRolePolicyDocument": True, "Description": False, "ManagedPolicyArns": False,
             "MaxSessionDuration": False, "Path": False, "PermissionsBoundary": False,
             "Policies": False, "RoleName": False, "Tags": False}
    getatt = ("Arn", "RoleId")
    iam = True
    name_prop = "RoleName"

    def create(self, env, p):
        name = p.get("RoleName") or env.name(64)
        role = call(env, "iam", "create_role", RoleName=name, Path=p.get("Path"),
                    AssumeRolePolicyDocument=_doc(p["AssumeRolePolicyDocument"]),
                    Description=p.get("Description"),
                    MaxSessionDuration=p.get("MaxSessionDuration"),
                    PermissionsBoundary=p.get("PermissionsBoundary"), Tags=_tags(p))["Role"]
        state = {"physical": name, "ref": name,
                 "attrs": {"Arn": role["Arn"], "RoleId": role["RoleId"]}}
        self._policies(env, name, {}, p)
        return state

    def _policies(self, env, name, old, new):
        before = {x["PolicyName"]: x for x in old.get("Policies") or []}
        after = {x["PolicyName"]: x for x in new.get("Policies") or []}
        for pname, pol in after.items():
            if before.get(pname) != pol:
                call(env, "iam", "put_role_policy", RoleName=name, PolicyName=pname,
                     PolicyDocument=_doc(pol["PolicyDocument"]))
        for pname in before:
            if pname not in after:
                call(env, "iam", "delete_role_policy", RoleName=name, PolicyName=pname)
        old_arns, new_arns = set(old.get("ManagedPolicyArns") or []), \
            set(new.get("ManagedPolicyArns") or [])
        for arn in sorted(new_arns - old_arns):
            call(env, "iam", "attach_role_policy", RoleName=name, PolicyArn=arn)
        for arn in sorted(old_arns - new_arns):
            call(env, "iam", "detach_role_policy", RoleName=name, PolicyArn=arn)

    def update(self, env, state, old, new):
        _replace_if(old, new, "RoleName", "Path")
        name = state["physical"]
        if _changed(old, new, "AssumeRolePolicyDocument"):
            call(env, "iam", "update_assume_role_policy", RoleName=name,
                 PolicyDocument=_doc(new["AssumeRolePolicyDocument"]))
        if _changed(old, new, "Description", "MaxSessionDuration"):
            call(env, "iam", "update_role", RoleName=name, Description=new.get("Description"),
                 MaxSessionDuration=new.get("MaxSessionDuration"))
        self._policies(env, name, old, new)
        return state

    def delete(self, env, state, p):
        name = state["physical"]
        self._policies(env, name, p, {})
        call(env, "iam", "delete_role", RoleName=name)


# ------------------------------------------------------------------------------ Events::Rule

class Rule:
    props = {"Description": False, "EventBusName": False, "EventPattern": False, "Name": False,
             "RoleArn": False, "ScheduleExpression": False, "State": False, "Targets": False}
    getatt = ("Arn",)

    @staticmethod
    def _bus(p):
        bus = p.get("EventBusName") or "default"
        return bus.rsplit("/", 1)[-1] if bus.startswith("arn:") else bus

    def _put(self, env, name, p):
        return call(env, "events", "put_rule", Name=name, EventBusName=p.get("EventBusName"),
                    EventPattern=_doc(p.get("EventPattern")),
                    ScheduleExpression=p.get("ScheduleExpression"), State=p.get("State"),
                    Description=p.get("Description"), RoleArn=p.get("RoleArn"))["RuleArn"]

    def create(self, env, p):
        name = p.get("Name") or env.name(64)
        arn = self._put(env, name, p)
        if p.get("Targets"):
            self._targets(env, name, p, p["Targets"])
        bus = self._bus(p)
        ref = name if bus == "default" else "%s|%s" % (bus, name)
        return {"physical": ref, "ref": ref, "name": name, "attrs": {"Arn": arn}}

    def _targets(self, env, name, p, targets):
        out = call(env, "events", "put_targets", Rule=name, EventBusName=p.get("EventBusName"),
                   Targets=targets)
        if out.get("FailedEntryCount"):
            e = out["FailedEntries"][0]
            raise ResourceFailed("Resource handler returned message: \"%s\" (target %s, "
                                 "HandlerErrorCode: %s)" % (e.get("ErrorMessage"),
                                                            e.get("TargetId"),
                                                            e.get("ErrorCode")))

    def update(self, env, state, old, new):
        _replace_if(old, new, "Name", "EventBusName")
        name = state["name"]
        state["attrs"]["Arn"] = self._put(env, name, new)
        new_ids = {t["Id"] for t in new.get("Targets") or []}
        gone = [t["Id"] for t in old.get("Targets") or [] if t["Id"] not in new_ids]
        if gone:
            call(env, "events", "remove_targets", Rule=name, EventBusName=new.get("EventBusName"),
                 Ids=gone)
        if new.get("Targets"):
            self._targets(env, name, new, new["Targets"])
        return state

    def delete(self, env, state, p):
        name = state["name"]
        targets = call(env, "events", "list_targets_by_rule", Rule=name,
                       EventBusName=p.get("EventBusName")).get("Targets") or []
        if targets:
            call(env, "events", "remove_targets", Rule=name, EventBusName=p.get("EventBusName"),
                 Ids=[t["Id"] for t in targets])
        call(env, "events", "delete_rule", Name=name, EventBusName=p.get("EventBusName"))


# -------------------------------------------------------------------------- Events::EventBus

class EventBus:
    props = {"Name": True, "Policy": False, "Tags": False, "Description": False,
             "EventSourceName": False, "KmsKeyIdentifier": False, "DeadLetterConfig": False}
    getatt = ("Arn", "Name", "Policy")

    def create(self, env, p):
        extra = {k: p[k] for k in ("EventSourceName", "KmsKeyIdentifier", "DeadLetterConfig",
                                   "Description") if k in p}
        arn = call(env, "events", "create_event_bus", Name=p["Name"], Tags=_tags(p),
                   **extra)["EventBusArn"]
        state = {"physical": p["Name"], "ref": p["Name"],
                 "attrs": {"Arn": arn, "Name": p["Name"], "Policy": _doc(p.get("Policy")) or ""}}
        if p.get("Policy"):
            call(env, "events", "put_permission", EventBusName=p["Name"], Policy=_doc(p["Policy"]))
        return state

    def update(self, env, state, old, new):
        _replace_if(old, new, "Name", "EventSourceName")
        if _changed(old, new, "Policy"):
            if new.get("Policy"):
                call(env, "events", "put_permission", EventBusName=new["Name"],
                     Policy=_doc(new["Policy"]))
            else:
                call(env, "events", "remove_permission", EventBusName=new["Name"],
                     RemoveAllPermissions=True)
            state["attrs"]["Policy"] = _doc(new.get("Policy")) or ""
        return state

    def delete(self, env, state, p):
        call(env, "events", "delete_event_bus", Name=state["physical"])


# -------------------------------------------------------------------- Events::EventBusPolicy

class EventBusPolicy:
    props = {"StatementId": True, "EventBusName": False, "Statement": False, "Action": False,
             "Principal": False, "Condition": False}
    getatt = ()

    def _apply(self, env, p):
        bus = p.get("EventBusName")
        if p.get("Statement") is None:
            call(env, "events", "put_permission", EventBusName=bus, Action=p.get("Action"),
                 Principal=p.get("Principal"), StatementId=p["StatementId"],
                 Condition=p.get("Condition"))
            return
        current = call(env, "events", "describe_event_bus", Name=bus).get("Policy")
        doc = json.loads(current) if current else {"Version": "2012-10-17", "Statement": []}
        statement = dict(p["Statement"], Sid=p["StatementId"])
        doc["Statement"] = [s for s in doc["Statement"] if s.get("Sid") != p["StatementId"]] + \
            [statement]
        call(env, "events", "put_permission", EventBusName=bus, Policy=json.dumps(doc))

    def create(self, env, p):
        self._apply(env, p)
        return {"physical": p["StatementId"], "ref": p["StatementId"], "attrs": {}}

    def update(self, env, state, old, new):
        _replace_if(old, new, "StatementId", "EventBusName")
        self._apply(env, new)
        return state

    def delete(self, env, state, p):
        call(env, "events", "remove_permission", EventBusName=p.get("EventBusName"),
             StatementId=p["StatementId"])


# -------------------------------------------------------------------------- Lambda::Function

def inline_zip(runtime, source):
    """Code.ZipFile as CloudFormation packs it: one file, index.<ext> (index.py for Python)."""
    ext = "py" if (runtime or "").startswith("python") else "js"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("index." + ext, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        zf.writestr(info, source)
    return buf.getvalue()


class Function:
    props = {"Code": True, "Role": True, "FunctionName": False, "Handler": False,
             "Runtime": False, "Timeout": False, "MemorySize": False, "Environment": False,
             "DeadLetterConfig": False, "Description": False, "Tags": False,
             "Architectures": False}
    getatt = ("Arn",)
    CONFIG = ("Role", "Handler", "Runtime", "Timeout", "MemorySize", "Environment",
              "DeadLetterConfig", "Description")

    @staticmethod
    def _code(p):
        code = dict(p["Code"])
        if "ZipFile" in code:
            return {"ZipFile": inline_zip(p.get("Runtime"), code["ZipFile"])}
        return code

    def _settled(self, env, name):
        def check():
            cfg = call(env, "lambda", "get_function_configuration", FunctionName=name)
            return cfg.get("State") != "Pending" and cfg.get("LastUpdateStatus") != "InProgress"
        _wait(check)

    def create(self, env, p):
        name = p.get("FunctionName") or env.name(64)
        cfg = {k: p.get(k) for k in self.CONFIG}
        fn = call(env, "lambda", "create_function", FunctionName=name, Code=self._code(p),
                  Tags=_tag_map(p), Architectures=p.get("Architectures"), **cfg)
        self._settled(env, name)  # CloudFormation waits for the function to be Active
        return {"physical": name, "ref": name, "attrs": {"Arn": fn["FunctionArn"]}}

    def update(self, env, state, old, new):
        _replace_if(old, new, "FunctionName")
        name = state["physical"]
        if old.get("Code") != new.get("Code"):
            code = self._code(new)
            call(env, "lambda", "update_function_code", FunctionName=name, **code)
            self._settled(env, name)
        if _changed(old, new, *self.CONFIG):
            cfg = {k: new.get(k) for k in self.CONFIG}
            for k in ("Environment", "DeadLetterConfig", "Description"):
                if cfg[k] is None and old.get(k) is not None:
                    cfg[k] = {"Variables": {}} if k == "Environment" else \
                        ({} if k == "DeadLetterConfig" else "")
            call(env, "lambda", "update_function_configuration", FunctionName=name, **cfg)
            self._settled(env, name)
        return state

    def delete(self, env, state, p):
        call(env, "lambda", "delete_function", FunctionName=state["physical"])


class Permission:
    props = {"Action": True, "FunctionName": True, "Principal": True, "SourceArn": False,
             "SourceAccount": False, "PrincipalOrgID": False, "EventSourceToken": False}
    getatt = ()

    def create(self, env, p):
        sid = env.name(100)
        call(env, "lambda", "add_permission", FunctionName=p["FunctionName"], StatementId=sid,
             Action=p["Action"], Principal=p["Principal"], SourceArn=p.get("SourceArn"),
             SourceAccount=p.get("SourceAccount"), PrincipalOrgID=p.get("PrincipalOrgID"),
             EventSourceToken=p.get("EventSourceToken"))
        return {"physical": sid, "ref": sid, "attrs": {}}

    def update(self, env, state, old, new):
        raise NeedsReplacement(list(new))  # every property: "Update requires: Replacement"

    def delete(self, env, state, p):
        call(env, "lambda", "remove_permission", FunctionName=p["FunctionName"],
             StatementId=state["physical"])


# ------------------------------------------------------------------------------ Logs::LogGroup

class LogGroup:
    props = {"LogGroupName": False, "RetentionInDays": False, "KmsKeyId": False, "Tags": False}
    getatt = ("Arn",)

    def create(self, env, p):
        name = p.get("LogGroupName") or env.name(512)
        call(env, "logs", "create_log_group", logGroupName=name, kmsKeyId=p.get("KmsKeyId"),
             tags=_tag_map(p))
        if p.get("RetentionInDays"):
            call(env, "logs", "put_retention_policy", logGroupName=name,
                 retentionInDays=int(p["RetentionInDays"]))
        arn = "arn:%s:logs:%s:%s:log-group:%s:*" % (env.partition, env.region, env.account, name)
        return {"physical": name, "ref": name, "attrs": {"Arn": arn}}

    def update(self, env, state, old, new):
        _replace_if(old, new, "LogGroupName", "KmsKeyId")
        if _changed(old, new, "RetentionInDays"):
            if new.get("RetentionInDays"):
                call(env, "logs", "put_retention_policy", logGroupName=state["physical"],
                     retentionInDays=int(new["RetentionInDays"]))
            else:
                call(env, "logs", "delete_retention_policy", logGroupName=state["physical"])
        return state

    def delete(self, env, state, p):
        call(env, "logs", "delete_log_group", logGroupName=state["physical"])


# -------------------------------------------------------------------------------- SQS::Queue

class Queue:
    ATTRIBUTES = ("MessageRetentionPeriod", "SqsManagedSseEnabled", "KmsMasterKeyId",
                  "KmsDataKeyReusePeriodSeconds", "VisibilityTimeout", "DelaySeconds",
                  "MaximumMessageSize", "ReceiveMessageWaitTimeSeconds", "RedrivePolicy")
    props = dict({"QueueName": False, "Tags": False}, **{a: False for a in ATTRIBUTES})
    getatt = ("Arn", "QueueName", "QueueUrl")

    def _attributes(self, p):
        out = {}
        for a in self.ATTRIBUTES:
            if a in p:
                v = p[a]
                out[a] = json.dumps(v) if isinstance(v, dict) else \
                    (str(v).lower() if isinstance(v, bool) else str(v))
        return out

    def create(self, env, p):
        name = p.get("QueueName") or env.name(80)
        url = call(env, "sqs", "create_queue", QueueName=name,
                   Attributes=self._attributes(p) or None, tags=_tag_map(p))["QueueUrl"]
        arn = call(env, "sqs", "get_queue_attributes", QueueUrl=url,
                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return {"physical": url, "ref": url,
                "attrs": {"Arn": arn, "QueueName": name, "QueueUrl": url}}

    def update(self, env, state, old, new):
        _replace_if(old, new, "QueueName")
        attrs = self._attributes(new)
        if attrs != self._attributes(old) and attrs:
            call(env, "sqs", "set_queue_attributes", QueueUrl=state["physical"],
                 Attributes=attrs)
        return state

    def delete(self, env, state, p):
        call(env, "sqs", "delete_queue", QueueUrl=state["physical"])


# ---------------------------------------------------------------------------------- KMS::Key

class Key:
    props = {"KeyPolicy": False, "Description": False, "Enabled": False,
             "EnableKeyRotation": False, "KeySpec": False, "KeyUsage": False,
             "MultiRegion": False, "PendingWindowInDays": False, "Tags": False}
    getatt = ("Arn", "KeyId")

    def create(self, env, p):
        meta = call(env, "kms", "create_key", Policy=_doc(p.get("KeyPolicy")),
                    Description=p.get("Description"), KeySpec=p.get("KeySpec"),
                    KeyUsage=p.get("KeyUsage"), MultiRegion=p.get("MultiRegion"),
                    Tags=_tags(p, "TagKey", "TagValue"))["KeyMetadata"]
        key_id = meta["KeyId"]
        if p.get("EnableKeyRotation"):
            call(env, "kms", "enable_key_rotation", KeyId=key_id)
        if p.get("Enabled") is False:
            call(env, "kms", "disable_key", KeyId=key_id)
        return {"physical": key_id, "ref": key_id, "attrs": {"Arn": meta["Arn"], "KeyId": key_id}}

    def update(self, env, state, old, new):
        _replace_if(old, new, "KeySpec", "KeyUsage", "MultiRegion")
        key_id = state["physical"]
        if _changed(old, new, "KeyPolicy") and new.get("KeyPolicy"):
            call(env, "kms", "put_key_policy", KeyId=key_id, PolicyName="default",
                 Policy=_doc(new["KeyPolicy"]))
        if _changed(old, new, "Description"):
            call(env, "kms", "update_key_description", KeyId=key_id,
                 Description=new.get("Description") or "")
        if _changed(old, new, "EnableKeyRotation"):
            op = "enable_key_rotation" if new.get("EnableKeyRotation") else "disable_key_rotation"
            call(env, "kms", op, KeyId=key_id)
        if _changed(old, new, "Enabled"):
            op = "disable_key" if new.get("Enabled") is False else "enable_key"
            call(env, "kms", op, KeyId=key_id)
        return state

    def delete(self, env, state, p):
        call(env, "kms", "schedule_key_deletion", KeyId=state["physical"],
             PendingWindowInDays=int(p.get("PendingWindowInDays") or 30))


class Alias:
    props = {"AliasName": True, "TargetKeyId": True}
    getatt = ()

    def create(self, env, p):
        call(env, "kms", "create_alias", AliasName=p["AliasName"], TargetKeyId=p["TargetKeyId"])
        return {"physical": p["AliasName"], "ref": p["AliasName"], "attrs": {}}

    def update(self, env, state, old, new):
        _replace_if(old, new, "AliasName")
        call(env, "kms", "update_alias", AliasName=new["AliasName"], TargetKeyId=new["TargetKeyId"])
        return state

    def delete(self, env, state, p):
        call(env, "kms", "delete_alias", AliasName=state["physical"])


# ---------------------------------------------------------------------------------------- SNS

class Topic:
    props = {"TopicName": False, "KmsMasterKeyId": False, "DisplayName": False, "Tags": False}
    getatt = ("TopicArn", "TopicName")
    ATTRIBUTES = ("KmsMasterKeyId", "DisplayName")

    def create(self, env, p):
        name = p.get("TopicName") or env.name(256)
        attrs = {a: p[a] for a in self.ATTRIBUTES if p.get(a)}
        arn = call(env, "sns", "create_topic", Name=name, Attributes=attrs or None,
                   Tags=_tags(p))["TopicArn"]
        return {"physical": arn, "ref": arn, "attrs": {"TopicArn": arn, "TopicName": name}}

    def update(self, env, state, old, new):
        _replace_if(old, new, "TopicName")
        for a in _changed(old, new, *self.ATTRIBUTES):
            call(env, "sns", "set_topic_attributes", TopicArn=state["physical"], AttributeName=a,
                 AttributeValue=new.get(a) or "")
        return state

    def delete(self, env, state, p):
        call(env, "sns", "delete_topic", TopicArn=state["physical"])


def _default_topic_policy(topic_arn):
    account = topic_arn.split(":")[4]
    return json.dumps({"Version": "2008-10-17", "Id": "__default_policy_ID", "Statement": [{
        "Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                   "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                   "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
        "Resource": topic_arn, "Condition": {"StringEquals": {"AWS:SourceOwner": account}}}]})


class TopicPolicy:
    props = {"PolicyDocument": True, "Topics": True}
    getatt = ()

    def _set(self, env, topics, doc):
        for arn in topics:
            call(env, "sns", "set_topic_attributes", TopicArn=arn, AttributeName="Policy",
                 AttributeValue=doc if doc is not None else _default_topic_policy(arn))

    def create(self, env, p):
        self._set(env, p["Topics"], _doc(p["PolicyDocument"]))
        pid = env.name(128)
        return {"physical": pid, "ref": pid, "attrs": {}}

    def update(self, env, state, old, new):
        self._set(env, new["Topics"], _doc(new["PolicyDocument"]))
        self._set(env, [t for t in old["Topics"] if t not in new["Topics"]], None)
        return state

    def delete(self, env, state, p):
        # a topic deleted before its policy (reverse order) has nothing left to reset
        for arn in p["Topics"]:
            try:
                self._set(env, [arn], None)
            except ResourceFailed as exc:
                if "NotFound" not in str(exc):
                    raise


class Subscription:
    props = {"TopicArn": True, "Protocol": True, "Endpoint": False, "FilterPolicy": False,
             "RawMessageDelivery": False}
    getatt = ()
    ATTRIBUTES = ("FilterPolicy", "RawMessageDelivery")

    def _attrs(self, p):
        return {a: _doc(p[a]) if a == "FilterPolicy" else str(p[a]).lower()
                for a in self.ATTRIBUTES if a in p}

    def create(self, env, p):
        arn = call(env, "sns", "subscribe", TopicArn=p["TopicArn"], Protocol=p["Protocol"],
                   Endpoint=p.get("Endpoint"), Attributes=self._attrs(p) or None,
                   ReturnSubscriptionArn=True)["SubscriptionArn"]
        return {"physical": arn, "ref": arn, "attrs": {}}

    def update(self, env, state, old, new):
        _replace_if(old, new, "TopicArn", "Protocol", "Endpoint")
        for a, v in self._attrs(new).items():
            if self._attrs(old).get(a) != v:
                call(env, "sns", "set_subscription_attributes",
                     SubscriptionArn=state["physical"], AttributeName=a, AttributeValue=v)
        return state

    def delete(self, env, state, p):
        call(env, "sns", "unsubscribe", SubscriptionArn=state["physical"])


TYPES = {
    "AWS::IAM::Role": Role(),
    "AWS::Events::Rule": Rule(),
    "AWS::Events::EventBus": EventBus(),
    "AWS::Events::EventBusPolicy": EventBusPolicy(),
    "AWS::Lambda::Function": Function(),
    "AWS::Lambda::Permission": Permission(),
    "AWS::Logs::LogGroup": LogGroup(),
    "AWS::SQS::Queue": Queue(),
    "AWS::KMS::Key": Key(),
    "AWS::KMS::Alias": Alias(),
    "AWS::SNS::Topic": Topic(),
    "AWS::SNS::TopicPolicy": TopicPolicy(),
    "AWS::SNS::Subscription": Subscription(),
}
# Custom-named properties: replacing such a resource under the same name is refused.
NAME_PROPS = {"AWS::IAM::Role": "RoleName", "AWS::Events::Rule": "Name",
              "AWS::Events::EventBus": "Name", "AWS::Lambda::Function": "FunctionName",
              "AWS::Logs::LogGroup": "LogGroupName", "AWS::SQS::Queue": "QueueName",
              "AWS::KMS::Alias": "AliasName", "AWS::SNS::Topic": "TopicName"}


def check_properties(rtype, props):
    """The failure CloudFormation reports for an unknown or a missing required property."""
    spec = TYPES[rtype].props
    for name in props:
        if name not in spec:
            raise ResourceFailed("Encountered unsupported property %s" % name)
    for name, required in spec.items():
        if required and (props.get(name) is None or props.get(name) == ""):
            raise ResourceFailed("Property %s cannot be empty." % name)
