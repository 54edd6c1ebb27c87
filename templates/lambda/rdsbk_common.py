"""Shared helpers for the rdsbk Lambda handlers: configuration, logging, errors, ARNs.

Packaged into every function's zip by rdsbk-provision. Everything specific to a deployment comes
from environment variables set on the function; the code is identical for every stack.
"""

import json
import os
import re

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

TAG_STACK = "rdsbk:stack"
TAG_SOURCE_SNAPSHOT = "rdsbk:source-snapshot"
TAG_SOURCE_ACCOUNT = "rdsbk:source-account"

KIND_INSTANCE = "SNAPSHOT"
KIND_CLUSTER = "CLUSTER_SNAPSHOT"

# Error codes that mean "try again later": the snapshot/concurrent-copy quota and throttling.
# Raising RetryableError lets Lambda's asynchronous retries (and the event's redelivery) recover.
RETRYABLE_CODES = frozenset(
    {
        "SnapshotQuotaExceeded",
        "SnapshotQuotaExceededFault",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
        "PriorRequestNotComplete",
        "ServiceUnavailable",
        "InternalFailure",
    }
)

ALREADY_EXISTS_CODES = frozenset(
    {"DBSnapshotAlreadyExists", "DBSnapshotAlreadyExistsFault", "DBClusterSnapshotAlreadyExistsFault"}
)

NOT_FOUND_CODES = frozenset(
    {"DBSnapshotNotFound", "DBSnapshotNotFoundFault", "DBClusterSnapshotNotFoundFault"}
)

# Automated snapshot names: rds:<db identifier>-YYYY-MM-DD-HH-MM
_AUTOMATED_NAME = re.compile(r"^rds:(?P<db>.+)-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}$")


class ConfigError(Exception):
    """A required environment variable is missing or malformed (a deployment bug)."""


class RetryableError(Exception):
    """A transient failure (quota, throttling, snapshot not ready): safe to retry later."""

    def __init__(self, code, message):
        super().__init__(f"retryable: {code}: {message}")
        self.code = code
        self.message = message


class Settings:
    """The function's environment, read once per invocation."""

    def __init__(self, environ=None):
        env = os.environ if environ is None else environ
        self.stack = _required(env, "RDSBK_STACK")
        self.target_region = _required(env, "RDSBK_TARGET_REGION")
        self.kms_key_arn = env.get("RDSBK_KMS_KEY_ARN", "").strip()
        self.backup_account = env.get("RDSBK_BACKUP_ACCOUNT", "").strip()
        self.source_accounts = split_list(env.get("RDSBK_SOURCE_ACCOUNTS", ""))
        self.event_source = env.get("RDSBK_EVENT_SOURCE", "").strip() or f"rdsbk.{self.stack}"
        self.event_detail_type = (
            env.get("RDSBK_EVENT_DETAIL_TYPE", "").strip() or "RDS Snapshot Shared"
        )
        self.db_instances = split_list(env.get("RDSBK_DB_INSTANCES", ""))
        self.db_clusters = split_list(env.get("RDSBK_DB_CLUSTERS", ""))

    def require(self, *names):
        """Raises ConfigError unless every named setting is non-empty."""
        missing = [n for n in names if not getattr(self, n)]
        if missing:
            raise ConfigError("missing setting(s): " + ", ".join(missing))


def _required(env, name):
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"environment variable {name} is not set")
    return value


def split_list(value):
    """'a, b,,c' -> ['a', 'b', 'c']"""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def matches_any(identifier, patterns):
    """True when identifier equals a pattern, or starts with a pattern's text before a trailing '*'.

    RDS identifiers are case-insensitive (stored lower-case), so the comparison is too.
    """
    ident = identifier.lower()
    for pattern in patterns:
        p = pattern.lower()
        if p.endswith("*"):
            if ident.startswith(p[:-1]):
                return True
        elif ident == p:
            return True
    return False


def automated_db_identifier(snapshot_id):
    """The database of an automated snapshot name 'rds:<db>-YYYY-MM-DD-HH-MM', else None."""
    m = _AUTOMATED_NAME.match(snapshot_id or "")
    return m.group("db") if m else None


def strip_rds_prefix(snapshot_id):
    """'rds:db-2024-...' -> 'db-2024-...': 'rds:' is not allowed in a manual snapshot's name."""
    return snapshot_id[4:] if snapshot_id.startswith("rds:") else snapshot_id


class Arn:
    """An RDS snapshot ARN: arn:<partition>:rds:<region>:<account>:<type>:<id> (id may hold ':')."""

    def __init__(self, text):
        parts = (text or "").split(":", 6)
        if len(parts) != 7 or parts[0] != "arn" or parts[2] != "rds" or not parts[6]:
            raise ValueError(f"not an RDS ARN: {text!r}")
        self.text = text
        self.partition = parts[1]
        self.region = parts[3]
        self.account = parts[4]
        self.resource_type = parts[5]
        self.resource_id = parts[6]

    @property
    def kind(self):
        if self.resource_type == "snapshot":
            return KIND_INSTANCE
        if self.resource_type == "cluster-snapshot":
            return KIND_CLUSTER
        return None


def parse_arn(text):
    """The Arn, or None when text is not an RDS ARN."""
    try:
        return Arn(text)
    except ValueError:
        return None


def tags_dict(tag_list):
    return {t.get("Key"): t.get("Value") for t in tag_list or [] if isinstance(t, dict)}


def tag_list(tags):
    """{'k': 'v'} -> [{'Key': 'k', 'Value': 'v'}] in key order (stable requests and logs)."""
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def log_action(action, source, target, result, **fields):
    """Prints one JSON line describing one action; returns the record."""
    record = {"action": action, "source": source, "target": target, "result": result}
    for key, value in fields.items():
        if value is not None:
            record[key] = value
    print(json.dumps(record, sort_keys=True, default=str), flush=True)
    return record


class EntryError(Exception):
    """A failure reported inside a successful response (e.g. a PutEvents entry), with its code."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def error_code(exc):
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code", "") or ""
    return getattr(exc, "code", "") or ""


def error_message(exc):
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Message", "") or str(exc)
    return getattr(exc, "message", "") or str(exc)


def is_retryable(exc):
    return error_code(exc) in RETRYABLE_CODES


def is_already_exists(exc):
    return error_code(exc) in ALREADY_EXISTS_CODES


def is_not_found(exc):
    return error_code(exc) in NOT_FOUND_CODES


def log_error(action, source, target, exc, **fields):
    """Prints the error line for exc (code, message, retryable, AWS request id); returns it."""
    code = error_code(exc) or type(exc).__name__
    retryable = is_retryable(exc) or isinstance(exc, RetryableError)
    request_id = None
    if isinstance(exc, ClientError):
        request_id = exc.response.get("ResponseMetadata", {}).get("RequestId")
    return log_action(
        action,
        source,
        target,
        "error",
        error_code=code,
        message=error_message(exc),
        retryable=retryable,
        aws_request_id=request_id,
        **fields,
    )


def fail(action, source, target, exc, **fields):
    """Logs the error line, then raises: RetryableError for transient codes, else exc itself."""
    code = error_code(exc) or type(exc).__name__
    retryable = is_retryable(exc) or isinstance(exc, RetryableError)
    log_error(action, source, target, exc, **fields)
    if retryable and not isinstance(exc, RetryableError):
        raise RetryableError(code, error_message(exc)) from exc
    raise exc


# Clients are created once per container and reused across invocations. Tests put stubbed clients
# in _CLIENTS under the same (service, region) key.
_CLIENTS = {}

# Short timeouts and a few SDK-level retries keep the worst case well inside the function's 60 s
# timeout; what still fails is raised, and Lambda's asynchronous retries take over.
_CLIENT_CONFIG = Config(
    connect_timeout=5,
    read_timeout=15,
    retries={"max_attempts": 3, "mode": "standard"},
)


def _endpoint_url(service):
    # Newer botocore reads these itself; older ones (and the local emulator's runner) need help.
    specific = os.environ.get("AWS_ENDPOINT_URL_" + service.upper().replace("-", "_"), "")
    return specific.strip() or os.environ.get("AWS_ENDPOINT_URL", "").strip() or None


def client(service, region):
    key = (service, region)
    if key not in _CLIENTS:
        _CLIENTS[key] = boto3.client(
            service,
            region_name=region,
            endpoint_url=_endpoint_url(service),
            config=_CLIENT_CONFIG,
        )
    return _CLIENTS[key]


def request_id(context):
    return getattr(context, "aws_request_id", None)


def describe_snapshot(rds, kind, identifier):
    """The DBSnapshot / DBClusterSnapshot dict for identifier (name or ARN), or None if absent."""
    try:
        if kind == KIND_CLUSTER:
            resp = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=identifier)
            items = resp.get("DBClusterSnapshots", [])
        else:
            resp = rds.describe_db_snapshots(DBSnapshotIdentifier=identifier)
            items = resp.get("DBSnapshots", [])
    except ClientError as exc:
        if is_not_found(exc):
            return None
        raise
    return items[0] if items else None


def snapshot_identifier(kind, snapshot):
    key = "DBClusterSnapshotIdentifier" if kind == KIND_CLUSTER else "DBSnapshotIdentifier"
    return snapshot.get(key)


def list_manual_snapshots(rds, kind):
    """Every manual DB snapshot (or DB cluster snapshot) of the caller's account in the client's
    Region, all pages. Shared and public snapshots of other accounts are not included."""
    if kind == KIND_CLUSTER:
        operation, key = "describe_db_cluster_snapshots", "DBClusterSnapshots"
    else:
        operation, key = "describe_db_snapshots", "DBSnapshots"
    items = []
    for page in rds.get_paginator(operation).paginate(SnapshotType="manual"):
        items.extend(page.get(key) or [])
    return items


def remaining_ms(context):
    """Milliseconds left in this invocation, or None when the context cannot tell."""
    get = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(get):
        return None
    try:
        return int(get())
    except (TypeError, ValueError):
        return None


def snapshot_arn(kind, snapshot):
    key = "DBClusterSnapshotArn" if kind == KIND_CLUSTER else "DBSnapshotArn"
    return snapshot.get(key)


def snapshot_tags(rds, kind, snapshot):
    """The snapshot's tags as a dict; DescribeDB*Snapshots includes them, else ListTagsForResource."""
    if "TagList" in snapshot:
        return tags_dict(snapshot["TagList"])
    arn = snapshot_arn(kind, snapshot)
    if not arn:
        return {}
    return tags_dict(rds.list_tags_for_resource(ResourceName=arn).get("TagList", []))


def copy_snapshot(rds, kind, source, target, kms_key_id, tags, copy_tags, source_region=None):
    """Starts CopyDBSnapshot / CopyDBClusterSnapshot; returns the new snapshot's dict."""
    if kind == KIND_CLUSTER:
        params = {
            "SourceDBClusterSnapshotIdentifier": source,
            "TargetDBClusterSnapshotIdentifier": target,
        }
    else:
        params = {"SourceDBSnapshotIdentifier": source, "TargetDBSnapshotIdentifier": target}
    params["KmsKeyId"] = kms_key_id
    params["Tags"] = tag_list(tags)
    if copy_tags:
        params["CopyTags"] = True
    if source_region:
        # botocore turns SourceRegion into the PreSignedUrl a cross-Region encrypted copy needs.
        params["SourceRegion"] = source_region
    if kind == KIND_CLUSTER:
        return rds.copy_db_cluster_snapshot(**params).get("DBClusterSnapshot", {})
    return rds.copy_db_snapshot(**params).get("DBSnapshot", {})


def event_detail(event):
    """(detail dict, detail-type, source, account) of an EventBridge event, tolerating junk."""
    if not isinstance(event, dict):
        return {}, "", "", ""
    detail = event.get("detail")
    if not isinstance(detail, dict):
        detail = {}
    return (
        detail,
        str(event.get("detail-type", "")),
        str(event.get("source", "")),
        str(event.get("account", "")),
    )
