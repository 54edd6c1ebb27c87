"""Shared helpers for the rdsbk Lambda handlers: configuration, logging, errors, ARNs.

Packaged into every function's zip by rdsbk-provision. Everything specific to a deployment comes
from environment variables set on the function; the code is identical for every stack.
"""

import datetime
import fnmatch
import hashlib
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
        # "<Region-A>/<instance|cluster>/<pattern>,...": the sources' databases (copy function)
        self.databases = _region_patterns(env.get("RDSBK_DATABASES", ""))
        self.region_named_patterns = _region_patterns(env.get("RDSBK_REGION_NAMED", ""))
        # the SNS topic a hop that fails for good reports to (alert)
        self.alert_topic_arn = env.get("RDSBK_ALERT_TOPIC_ARN", "").strip()
        # the function's dead-letter queue: the invocations Lambda gave up on (drain_dead_letters)
        self.failure_queue = env.get("RDSBK_FAILURE_QUEUE", "").strip()
        # a database whose newest backup copy is older than this is reported (backup-copy)
        self.alert_max_age = _seconds(env, "RDSBK_ALERT_MAX_AGE_S")
        # "<account>:<snapshot|cluster-snapshot>:<glob>,...": the copies the backup account takes
        self.shared_globs = [
            tuple(item.split(":", 2)) for item in split_list(env.get("RDSBK_SHARED_GLOBS", ""))
            if item.count(":") >= 2
        ]
        # RDSBK_OPTION_GROUPS: "<Region-A>/<database pattern>=<option group in Region-B>,..."
        self.option_groups = []
        for item in split_list(env.get("RDSBK_OPTION_GROUPS", "")):
            where, _, group = item.partition("=")
            region, _, pattern = where.partition("/")
            if not (region and pattern and group):
                raise ConfigError(f"RDSBK_OPTION_GROUPS: {item!r} is not <region>/<db>=<group>")
            self.option_groups.append((region, pattern, group))

    def configured(self, region, kind, db):
        """Whether `db`, a database of `kind` in Region `region`, is one of the stack's."""
        wanted = "cluster" if kind == KIND_CLUSTER else "instance"
        return any(where == region and what == wanted and matches_any(db, [pattern])
                   for where, what, pattern in self.databases)

    def source_regions(self):
        """The Regions-A of the sources, each once, in the order listed."""
        return list(dict.fromkeys(where for where, _what, _pattern in self.databases))

    def shared_with_us(self, arn):
        """Whether the snapshot `arn` (an Arn), shared with the backup account, is a copy the
        stack takes: its owner, type and name match one of RDSBK_SHARED_GLOBS."""
        return self.takes(arn.account, arn.resource_type, arn.resource_id)

    def takes(self, owner, resource_type, name):
        """Whether a copy named `name` of `resource_type` ("snapshot", "cluster-snapshot") in
        account `owner` is one the backup account takes (RDSBK_SHARED_GLOBS; an account "*":
        any account of the organisation)."""
        return any(account in (owner, "*") and kind == resource_type and
                   fnmatch.fnmatchcase(name, glob) for account, kind, glob in self.shared_globs)

    def source_account(self, account):
        """Whether `account` is a source of the stack: one of RDSBK_SOURCE_ACCOUNTS, or any
        when that is "*" (an organisation's stack: its bus admits only the organisation's
        accounts, and only their copy roles may use the key)."""
        return account in self.source_accounts or "*" in self.source_accounts

    def region_named(self, region, kind, db):
        """Whether the copies of `db` (a database of `kind`) from `region` carry the Region's code
        in their names: RDSBK_REGION_NAMED ("<Region-A>/<instance|cluster>/<pattern>,...") lists
        the databases an account has in two Regions."""
        wanted = "cluster" if kind == KIND_CLUSTER else "instance"
        return any(where == region and what == wanted and matches_any(db, [pattern])
                   for where, what, pattern in self.region_named_patterns)

    def option_group(self, region, db):
        """The option group of Region-B that copies of `db`'s snapshots from `region` take (the
        first pattern that matches), or None."""
        for where, pattern, group in self.option_groups:
            if where == region and matches_any(db, [pattern]):
                return group
        return None

    def require(self, *names):
        """Raises ConfigError unless every named setting is non-empty."""
        missing = [n for n in names if not getattr(self, n)]
        if missing:
            raise ConfigError("missing setting(s): " + ", ".join(missing))


def _region_patterns(value):
    """'<region>/<what>/<pattern>,...' -> [(region, what, pattern), ...]"""
    return [tuple(item.split("/", 2)) for item in split_list(value) if item.count("/") >= 2]


def _seconds(env, name):
    """The environment's `name`, a whole number of seconds > 0, as a timedelta; None if unset."""
    value = env.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) <= 0:
        raise ConfigError(f"environment variable {name} is not a number of seconds: {value!r}")
    return datetime.timedelta(seconds=int(value))


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


# The longest database part of a copy's name: "<base>-YYYY-MM-DD-HH-MM-<account>", a backup copy's
# name, then fits the 63 characters RDS allows a DB cluster snapshot for every valid identifier.
COPY_BASE_MAX = 33

# Region name words and their initials in a Region's code ("ap-southeast-2": "apse2").
_REGION_WORDS = {"central": "c", "north": "n", "south": "s", "east": "e", "west": "w",
                 "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw"}


def region_code(region):
    """'eu-central-1' -> 'euc1', 'ap-southeast-2' -> 'apse2' (at most 15 characters)."""
    return "".join(_REGION_WORDS.get(part, part) for part in region.split("-"))[:15]


def copy_base(db, region=None):
    """What stands for database `db` in its copies' names (src/model/graph.c, rdsbk_copy_base, is
    the same rule): `db` in lower case, followed by '-' and the code of `region` when given (an
    account with the same database in two Regions); when that is longer than COPY_BASE_MAX, the
    database's first characters (a trailing '-' dropped), '-' and 6 hex digits of its SHA-256
    stand for it."""
    code = "-" + region_code(region) if region else ""
    room = COPY_BASE_MAX - len(code)
    db = db.lower()
    if len(db) <= room:
        return db + code
    digest = hashlib.sha256(db.encode()).hexdigest()[:6]
    return db[: room - 7].rstrip("-") + "-" + digest + code


def region_copy_name(snapshot_id, region=None):
    """The name of the Region-B copy of automated snapshot 'rds:<db>-<stamp>': '<base>-<stamp>'
    (copy_base, `region` as there); any other name without its 'rds:'."""
    db = automated_db_identifier(snapshot_id)
    if db is None:
        return strip_rds_prefix(snapshot_id)
    return copy_base(db, region) + snapshot_id[len("rds:") + len(db):]


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


# SNS takes a Subject of fewer than 100 printable ASCII characters.
ALERT_SUBJECT_MAX = 99


def _ascii(text):
    return "".join(ch if " " <= ch <= "~" else "?" for ch in str(text))


def alert(settings, context, hop, source, target, exc, database=None, **fields):
    """Publishes one message to the alert topic (RDSBK_ALERT_TOPIC_ARN) for a hop that failed for
    good: it names the stack, database, snapshot, hop, account, Region and error. The log line
    of a published alert carries its alert_key, the memory of scheduled runs (Reports). Returns
    the message id, or None when no topic is set or the publication failed (logged)."""
    if not settings.alert_topic_arn:
        return None
    function = getattr(context, "invoked_function_arn", "") or ""
    parts = function.split(":")
    snapshot = parse_arn(source)
    account = parts[4] if len(parts) > 4 else snapshot.account if snapshot else ""
    body = {
        "stack": settings.stack,
        "hop": hop,
        "database": database,
        "snapshot": source,
        "target": target,
        "account": account,
        "region": settings.target_region,
        "error_code": error_code(exc) or type(exc).__name__,
        "error": error_message(exc),
        "function": function or None,
        "request_id": request_id(context),
    }
    summary = (f"rdsbk stack {settings.stack}: the {hop} step failed for database "
               f"{database or '(unknown)'} in account {account}, {settings.target_region}: "
               f"{body['error_code']}: {body['error']}")
    subject = _ascii(f"rdsbk {settings.stack}: {hop} failed for {database or 'a database'}")
    topic_region = settings.alert_topic_arn.split(":")[3]
    try:
        reply = client("sns", topic_region).publish(
            TopicArn=settings.alert_topic_arn,
            Subject=subject[:ALERT_SUBJECT_MAX],
            Message=summary + "\n\n" + json.dumps(body, indent=2, sort_keys=True),
        )
    except ClientError as publish_exc:
        log_error("alert", source, settings.alert_topic_arn, publish_exc, hop=hop, **fields)
        return None
    message_id = reply.get("MessageId")
    log_action("alert", source, settings.alert_topic_arn, "published", hop=hop,
               database=database, error_code=body["error_code"], message_id=message_id,
               alert_key=alert_key(hop, source), **fields)
    return message_id


def fail_or_alert(settings, context, action, source, target, exc, **fields):
    """A failed step of the event path: a transient error is raised (fail: Lambda retries);
    one that retrying cannot cure is reported once, to the alert topic, and the error line
    returned: the event is done with (retrying would only repeat the report). Raised too when
    the report could not be published, so that Lambda records the failure. `fields` go into
    both lines (`database` names the database in the alert)."""
    if not is_reportable(exc):
        fail(action, source, target, exc, **fields)
    record = log_error(action, source, target, exc, **fields)
    if alert(settings, context, action, source, target, exc, **fields) is None:
        raise exc
    return dict(record, alerted=True)


def is_reportable(exc):
    """Whether `exc` is a failure that retrying cannot cure (what is alerted), rather than a
    transient one or a deployment bug."""
    return not (is_retryable(exc) or isinstance(exc, (RetryableError, ConfigError)))


# ---- what was reported ------------------------------------------------------------------------
#
# A function's own log group is its memory of what it reported: the log line of each published
# alert carries the alert's key (the hop and the snapshot, or what else failed). A scheduled run
# reports a failure only when no alert of the same key was logged in the REMIND_AFTER before it:
# once, then once a day for as long as it lasts. A run that Lambda retries finds the alerts of its
# earlier attempt there, so a retry never repeats one.

REMIND_AFTER = datetime.timedelta(days=1)
# CloudWatch Logs' JSON filter: the published alerts among a function's log lines.
ALERTS_FILTER = '{ $.action = "alert" && $.result = "published" }'


def alert_key(hop, source):
    """What makes two alerts the same: the hop and the name of what failed there (a snapshot's
    name, whichever Region or form its ARN is given in)."""
    arn = parse_arn(source)
    return f"{hop}:{arn.resource_id if arn else source}"


def log_group_name():
    """The function's own log group."""
    name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "").strip()
    return name or "/aws/lambda/" + os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")


def epoch_ms(when):
    return int(when.timestamp() * 1000)


def alerted_since(region, since):
    """The keys of the alerts this function logged from `since` (a UTC datetime) on; raises
    ClientError when its log group cannot be read."""
    keys = set()
    pages = client("logs", region).get_paginator("filter_log_events").paginate(
        logGroupName=log_group_name(), startTime=epoch_ms(since), filterPattern=ALERTS_FILTER)
    for page in pages:
        for event in page.get("events") or []:
            try:
                record = json.loads(event.get("message") or "")
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("alert_key"):
                keys.add(record["alert_key"])
    return keys


class Reports:
    """The failures of a scheduled run (`now`: its scheduled time). One that retrying cannot cure
    is alerted, unless the same was alerted within REMIND_AFTER; the others (transient ones, or
    any when no alert could be sent or the memory could not be read) are `unreported`, raised by
    finish() so that Lambda retries the run."""

    def __init__(self, settings, context, now, extra):
        self.settings = settings
        self.context = context
        self.now = now or datetime.datetime.now(datetime.timezone.utc)
        self.extra = extra
        self.unreported = []
        self.counts = {"alerted": 0, "alerted_before": 0}
        self._alerted = None

    def _memory(self):
        if self._alerted is None:
            try:
                self._alerted = alerted_since(self.settings.target_region,
                                              self.now - REMIND_AFTER)
            except ClientError as exc:
                log_error("alert", log_group_name(), None, exc, step="read-memory", **self.extra)
                self._alerted = False
        return self._alerted

    def failed(self, hop, source, target, exc, **fields):
        """One failure at `hop` (the error line was logged by whoever caught it). Returns whether
        it is reported (now or before)."""
        code = error_code(exc) or type(exc).__name__
        memory = self._memory() if is_reportable(exc) and self.settings.alert_topic_arn else False
        key = alert_key(hop, source)
        if memory is False:
            self.unreported.append((source, code))
            return False
        if key in memory:
            self.counts["alerted_before"] += 1
            return True
        if alert(self.settings, self.context, hop, source, target, exc,
                 **dict(self.extra, **fields)) is None:
            self.unreported.append((source, code))
            return False
        memory.add(key)
        self.counts["alerted"] += 1
        return True

    def finish(self, what, listing_failures):
        """Raises RunFailures for what was not reported, and for `listing_failures`."""
        failures = list(listing_failures) + self.unreported
        if failures:
            raise RunFailures(what, failures)


def fail(action, source, target, exc, **fields):
    """Logs the error line, then raises: RetryableError for transient codes, else exc itself."""
    code = error_code(exc) or type(exc).__name__
    retryable = is_retryable(exc) or isinstance(exc, RetryableError)
    log_error(action, source, target, exc, **fields)
    if retryable and not isinstance(exc, RetryableError):
        raise RetryableError(code, error_message(exc)) from exc
    raise exc


# ---- invocations Lambda gave up on ------------------------------------------------------------
#
# An asynchronous invocation that failed three times (Lambda's two retries spent) goes, as its
# event with RequestID, ErrorCode and ErrorMessage message attributes, to the function's
# dead-letter queue (RDSBK_FAILURE_QUEUE, in its own account and Region). Each scheduled run of the
# function first reports what is there, one alert a message (c.Reports: an invocation of a
# snapshot already reported is not alerted again), and deletes what it reported. The sweep that
# follows makes up for the lost work itself.

# Messages taken from the queue per run at most; the next run takes the rest.
DEAD_LETTER_LIMIT = 50


class GaveUp(Exception):
    """An invocation Lambda gave up on, as its dead-letter message tells."""

    code = "InvocationGivenUp"

    def __init__(self, request, error):
        self.message = (f"Lambda gave up on invocation {request or '(unknown)'} after its "
                        f"retries: {error or 'no error message'}")
        super().__init__(self.message)


def _attribute(message, name):
    return ((message.get("MessageAttributes") or {}).get(name) or {}).get("StringValue")


def dead_letter_subject(body, hop, sweep_hop):
    """(hop, what failed, database or None) of a dead-letter message's body, the event of the
    invocation: a scheduled event is a sweep's (the rule's ARN), any other names its snapshot."""
    try:
        event = json.loads(body)
    except ValueError:
        return hop, "an event that is not JSON", None
    if scheduled_time(event) is not None:
        resources = event.get("resources") or ["a scheduled run"]
        return sweep_hop, str(resources[0]), None
    detail, _detail_type, _source, _account = event_detail(event)
    source = str(detail.get("SourceArn") or detail.get("SourceIdentifier") or "an event")
    arn = parse_arn(source)
    name = arn.resource_id if arn else ""
    database = automated_db_identifier(name) or copy_database(name)
    return hop, source, database


def drain_dead_letters(reports, hop, sweep_hop):
    """Reports (`reports`, Reports) and deletes the messages of the function's dead-letter queue,
    at most DEAD_LETTER_LIMIT; one that could not be reported stays for the next run. Returns
    how many were reported."""
    settings = reports.settings
    if not settings.failure_queue:
        return 0
    sqs = client("sqs", settings.target_region)
    try:
        url = sqs.get_queue_url(QueueName=settings.failure_queue)["QueueUrl"]
    except ClientError as exc:
        log_error("dead-letter", settings.failure_queue, None, exc, **reports.extra)
        reports.unreported.append((settings.failure_queue, error_code(exc)))
        return 0
    reported = 0
    try:
        while reported < DEAD_LETTER_LIMIT:
            messages = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                VisibilityTimeout=120, WaitTimeSeconds=0).get("Messages") or []
            if not messages:
                break
            for message in messages:
                what, source, database = dead_letter_subject(message.get("Body") or "", hop,
                                                             sweep_hop)
                exc = GaveUp(_attribute(message, "RequestID"),
                             _attribute(message, "ErrorMessage"))
                log_error(what, source, None, exc, database=database, step="dead-letter",
                          **reports.extra)
                if not reports.failed(what, source, None, exc, database=database):
                    return reported
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                reported += 1
    except ClientError as exc:  # the rest of the run goes on; the messages wait for the next
        log_error("dead-letter", settings.failure_queue, None, exc, **reports.extra)
        reports.unreported.append((settings.failure_queue, error_code(exc)))
    return reported


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


def describe_snapshot(rds, kind, identifier, snapshot_type=None):
    """The DBSnapshot / DBClusterSnapshot dict for identifier (name or ARN), or None if absent.
    snapshot_type ("automated", "shared") is what RDS wants beside the name of a snapshot that is
    not one of the caller's manual ones."""
    extra = {"SnapshotType": snapshot_type} if snapshot_type else {}
    try:
        if kind == KIND_CLUSTER:
            resp = rds.describe_db_cluster_snapshots(
                DBClusterSnapshotIdentifier=identifier, **extra
            )
            items = resp.get("DBClusterSnapshots", [])
        else:
            resp = rds.describe_db_snapshots(DBSnapshotIdentifier=identifier, **extra)
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
    return list_snapshots(rds, kind, "manual")


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


# The warning logged with every copy of an unencrypted Aurora cluster's snapshot.
UNENCRYPTED_WARNING = (
    "backup NOT encrypted: the source DB cluster is unencrypted, and AWS cannot encrypt a DB "
    "cluster snapshot by copying it (CopyDBClusterSnapshot refuses a KmsKeyId for it), so it is "
    "copied without the stack's key; to encrypt this database's backups, encrypt the cluster "
    "(restore a snapshot of it into a new cluster with a KMS key)"
)


def copy_key(rds, kind, source, snapshot_type, kms_key_id):
    """(KmsKeyId to copy `source` with or None, log fields saying whether the copy is encrypted).

    A DB snapshot is copied with the stack's key, which encrypts even an unencrypted one. A DB
    cluster snapshot is described first (`rds` in its Region; snapshot_type as describe_snapshot
    takes it): an unencrypted one is copied without a key, the only copy AWS makes of it, and the
    fields carry UNENCRYPTED_WARNING. One that cannot be found keeps the key: the copy call then
    reports what is wrong."""
    if kind != KIND_CLUSTER:
        return kms_key_id, {"encrypted": True}
    snapshot = describe_snapshot(rds, kind, source, snapshot_type)
    if snapshot is None or snapshot.get("StorageEncrypted", True):
        return kms_key_id, {"encrypted": True}
    return None, {"encrypted": False, "warning": UNENCRYPTED_WARNING}


def copy_snapshot(
    rds, kind, source, target, kms_key_id, tags, copy_tags, source_region=None, option_group=None
):
    """Starts CopyDBSnapshot / CopyDBClusterSnapshot (without KmsKeyId when kms_key_id is None);
    returns the new snapshot's dict. `option_group`: the target option group that a DB snapshot
    of a non-default one needs across Regions."""
    if kind == KIND_CLUSTER:
        params = {
            "SourceDBClusterSnapshotIdentifier": source,
            "TargetDBClusterSnapshotIdentifier": target,
        }
    else:
        params = {"SourceDBSnapshotIdentifier": source, "TargetDBSnapshotIdentifier": target}
    if kms_key_id:
        params["KmsKeyId"] = kms_key_id
    params["Tags"] = tag_list(tags)
    if copy_tags:
        params["CopyTags"] = True
    if source_region:
        # botocore turns SourceRegion into the PreSignedUrl a cross-Region encrypted copy needs.
        params["SourceRegion"] = source_region
    if option_group:
        params["OptionGroupName"] = option_group
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


# ---- retention --------------------------------------------------------------------------------
#
# The pipeline deletes its own old copies, so that RDS's manual-snapshot quota (100 per account and
# Region by default) is never reached. A copy is deleted only when all of these hold:
#   - it is this stack's: named as the pipeline names copies ('<db>-<stamp>' in Region-B of a
#     source account, '<db>-<stamp>-<source account>' in the backup account) AND tagged
#     rdsbk:stack=<stack>; a system snapshot ('rds:' names), or one made by hand or another tool,
#     is never touched;
#   - it is available (never a copy still being made);
#   - it is older than the retention, counted from its stamp (the time of the system snapshot it
#     copies) to "now", which is the triggering scheduled event's time, not the machine's clock;
#   - it is not one of the newest keep_last available copies of its database (kept whatever
#     their age, so a pipeline that stops never deletes its last backups);
#   - the caller's own check passes (in Account-A: the copy was shared with the backup account,
#     whose copy of it is the one that matters).

# Copies deleted per invocation at most; the next run takes the rest.
PRUNE_LIMIT = 50
# A prune stops starting deletions when less than this is left of the function's timeout.
PRUNE_TIME_RESERVE_MS = 10000

_COPY_NAME = re.compile(
    r"^(?P<db>[a-z][a-z0-9-]*?)-(?P<stamp>\d{4}-\d{2}-\d{2}-\d{2}-\d{2})(?:-(?P<account>\d{12}))?$"
)


def scheduled_time(event):
    """The time of an EventBridge scheduled event as a UTC datetime, or None for anything else."""
    if not isinstance(event, dict):
        return None
    if event.get("source") != "aws.events" or event.get("detail-type") != "Scheduled Event":
        return None
    return parse_time(event.get("time"))


def parse_time(text):
    """'2024-08-13T03:10:00Z' (EventBridge's format) -> an aware UTC datetime, or None."""
    try:
        when = datetime.datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return when.replace(tzinfo=datetime.timezone.utc)


def copy_identity(identifier, in_backup_account):
    """(database, stamp as a UTC datetime, source account or None) of a copy named as the pipeline
    names them, or None when the name is not one of those."""
    m = _COPY_NAME.match(identifier or "")
    if not m or (m.group("account") is not None) != in_backup_account:
        return None
    stamp = datetime.datetime.strptime(m.group("stamp"), "%Y-%m-%d-%H-%M")
    return m.group("db"), stamp.replace(tzinfo=datetime.timezone.utc), m.group("account")


def copy_database(identifier):
    """The database part of a Region-B copy's name ('<db>-<stamp>'), or None."""
    identity = copy_identity(identifier, False)
    return identity[0] if identity else None


class Retention:
    """What to keep: copies younger than `days`, and the newest `keep_last` available copies of
    each database whatever their age."""

    def __init__(self, days, keep_last):
        self.days = days
        self.keep_last = keep_last


def retention_settings(environ=None):
    """The Retention of RDSBK_RETENTION_DAYS and RDSBK_KEEP_LAST, or None when the function was
    deployed without retention (nothing is deleted then)."""
    env = os.environ if environ is None else environ
    days = env.get("RDSBK_RETENTION_DAYS", "").strip()
    if not days:
        return None
    try:
        retention = Retention(int(days), int(env.get("RDSBK_KEEP_LAST", "1").strip() or "1"))
    except ValueError as exc:
        raise ConfigError(f"RDSBK_RETENTION_DAYS / RDSBK_KEEP_LAST: {exc}") from exc
    if retention.days < 0 or retention.keep_last < 1:
        raise ConfigError("RDSBK_RETENTION_DAYS must be >= 0 and RDSBK_KEEP_LAST >= 1")
    return retention


def prune_candidates(snapshots, settings, retention, now, in_backup_account):
    """The (kind, snapshot) pairs that retention lets go, oldest first, from `snapshots` (pairs of
    kind and DescribeDB*Snapshots item, tags included as 'TagList' or looked up by the caller)."""
    groups = {}
    for kind, snapshot in snapshots:
        identity = copy_identity(snapshot_identifier(kind, snapshot), in_backup_account)
        if identity is None or tags_dict(snapshot.get("TagList")).get(TAG_STACK) != settings.stack:
            continue
        db, stamp, account = identity
        if in_backup_account and not settings.source_account(account):
            continue
        groups.setdefault((kind, db, account), []).append((stamp, kind, snapshot))
    limit = datetime.timedelta(days=retention.days)
    out = []
    for copies in groups.values():
        copies.sort(key=lambda item: item[0], reverse=True)
        available = [item for item in copies if item[2].get("Status") == "available"]
        for stamp, kind, snapshot in available[retention.keep_last:]:
            if now - stamp > limit:
                out.append((stamp, kind, snapshot))
    out.sort(key=lambda item: item[0])
    return [(kind, snapshot) for _stamp, kind, snapshot in out]


def delete_snapshot(rds, kind, identifier):
    if kind == KIND_CLUSTER:
        rds.delete_db_cluster_snapshot(DBClusterSnapshotIdentifier=identifier)
    else:
        rds.delete_db_snapshot(DBSnapshotIdentifier=identifier)


def list_pairs(rds, snapshot_type, extra, failures, action):
    """(kind, snapshot) pairs of every snapshot of both kinds of `snapshot_type` (list_snapshots)
    in the client's Region; a listing that fails is logged (`action`) and appended to
    `failures`."""
    snapshots = []
    for kind in (KIND_INSTANCE, KIND_CLUSTER):
        try:
            snapshots.extend((kind, s) for s in list_snapshots(rds, kind, snapshot_type))
        except ClientError as exc:
            log_error(action, None, None, exc, step="list", kind=kind,
                      snapshot_type=snapshot_type, **extra)
            failures.append((f"list {snapshot_type} {kind}", error_code(exc)))
    return snapshots


def list_manual_pairs(rds, extra, failures, action):
    """list_pairs of the manual snapshots: the caller's own."""
    return list_pairs(rds, "manual", extra, failures, action)


def available_arns(pairs):
    """(kind, snapshot, Arn) of the available snapshots of `pairs` (list_pairs)."""
    out = []
    for kind, snapshot in pairs:
        arn = parse_arn(snapshot_arn(kind, snapshot))
        if arn is not None and snapshot.get("Status") == "available":
            out.append((kind, snapshot, arn))
    return out


def prune(rds, settings, retention, now, in_backup_account, context, extra, allowed=None,
          listed=None):
    """Deletes the copies retention lets go in the client's account and Region (at most
    PRUNE_LIMIT, and none once the time reserve is reached); `allowed(kind, snapshot)` (may be
    None) may still spare one; `listed`: the manual snapshots there (list_manual_pairs) when the
    caller has them. Returns (counts, failures); logs one line per deletion."""
    counts = {"deleted": 0, "spared": 0, "prune_remaining": 0}
    failures = []
    snapshots = []
    if listed is None:
        listed = list_manual_pairs(rds, extra, failures, "prune")
    for kind, snapshot in listed:
        try:
            if "TagList" not in snapshot:
                snapshot = dict(snapshot, TagList=tag_list(snapshot_tags(rds, kind, snapshot)))
        except ClientError as exc:
            log_error("prune", snapshot_identifier(kind, snapshot), None, exc, step="tags",
                      **extra)
            failures.append((snapshot_identifier(kind, snapshot), error_code(exc)))
            continue
        snapshots.append((kind, snapshot))
    for kind, snapshot in prune_candidates(snapshots, settings, retention, now, in_backup_account):
        identifier = snapshot_identifier(kind, snapshot)
        left = remaining_ms(context)
        if counts["deleted"] >= PRUNE_LIMIT or (left is not None and left < PRUNE_TIME_RESERVE_MS):
            counts["prune_remaining"] += 1
            continue
        try:
            if allowed is not None and not allowed(kind, snapshot):
                counts["spared"] += 1
                continue
            delete_snapshot(rds, kind, identifier)
        except ClientError as exc:
            if is_not_found(exc):
                continue
            log_error("prune", identifier, None, exc, kind=kind, **extra)
            failures.append((identifier, error_code(exc)))
            continue
        counts["deleted"] += 1
        log_action("prune", snapshot_arn(kind, snapshot) or identifier, None, "deleted",
                   kind=kind, retention_days=retention.days, keep_last=retention.keep_last,
                   **extra)
    return counts, failures


# ---- reconciliation ---------------------------------------------------------------------------
#
# Events are an accelerator; the scheduled sweeps are the guarantee. Each hop's sweep lists what
# should have a copy at the next hop and has none, and copies it, oldest first, so that a lost
# event, a copy refused for RDS's limit of copies in flight, or a failed invocation is made up
# for by the next run:
#   - only what retention keeps: a snapshot younger than the retention days (less SWEEP_MARGIN),
#     or among the newest keep_last of its database; a copy that retention has deleted is never
#     made again;
#   - across Regions, at most as many as RDS's limit of copies in flight leaves room for, and a
#     refusal for that limit ends the run's copies without error: the next run goes on;
#   - at most SWEEP_LIMIT copies, none once SWEEP_TIME_RESERVE_MS is all that is left;
#   - side by side with the event path: both look before they copy, and a copy that exists
#     already (DBSnapshotAlreadyExists: the other one was first) is the goal reached.

# RDS allows this many cross-Region snapshot copies in flight per account and destination Region.
MAX_CROSS_REGION_COPIES = 20
# At most this many copies are started (or shares made) per run; the next run takes the rest.
SWEEP_LIMIT = 50
# A run stops starting copies when less than this is left of the function's timeout.
SWEEP_TIME_RESERVE_MS = 10000
# A sweep leaves alone what retention is about to let go (a prune's "now" may be a little later).
SWEEP_MARGIN = datetime.timedelta(hours=1)

# The statuses of a snapshot being made.
IN_FLIGHT = frozenset({"creating", "copying", "pending"})


class RunFailures(Exception):
    """Some snapshots (or a listing) failed during a scheduled run; raised after all others were
    done, so that Lambda records the invocation as failed and retries it."""

    def __init__(self, what, failures):
        super().__init__(
            f"{what}: {len(failures)} failure(s): "
            + "; ".join(f"{source}: {code}" for source, code in failures[:10])
        )
        self.failures = failures


def is_copy_limit(exc):
    """Whether RDS refused a copy because its cross-Region copies in flight are at the limit.
    The code, SnapshotQuotaExceeded, also means the manual snapshot quota: the message tells."""
    if error_code(exc) not in ("SnapshotQuotaExceeded", "SnapshotQuotaExceededFault"):
        return False
    message = error_message(exc).lower()
    return any(word in message for word in ("across region", "cross-region", "concurrent"))


def copy_source_region(kind, snapshot):
    """The Region a copy was made from (DBSnapshot's SourceRegion, the Region of a cluster
    snapshot's SourceDBClusterSnapshotArn), or None for a snapshot that is not such a copy."""
    if kind == KIND_CLUSTER:
        arn = parse_arn(snapshot.get("SourceDBClusterSnapshotArn"))
        return arn.region if arn else None
    return snapshot.get("SourceRegion") or None


def cross_region_copies_in_flight(snapshots, region):
    """How many of `snapshots` (pairs of kind and item, in Region `region`) are copies from
    another Region not finished yet: what RDS counts against MAX_CROSS_REGION_COPIES."""
    return sum(1 for kind, s in snapshots
               if s.get("Status") in IN_FLIGHT and copy_source_region(kind, s) not in (None, region))


def automated_stamp(snapshot_id):
    """The time in an automated snapshot's name 'rds:<db>-YYYY-MM-DD-HH-MM' (UTC), or None."""
    db = automated_db_identifier(snapshot_id)
    if db is None:
        return None
    stamp = datetime.datetime.strptime(snapshot_id[len("rds:") + len(db) + 1:], "%Y-%m-%d-%H-%M")
    return stamp.replace(tzinfo=datetime.timezone.utc)


def worth_copying(items, retention, now):
    """The items, (group, stamp, payload) triples, whose copies retention keeps (see above),
    oldest first; `retention` None keeps everything."""
    if retention is None:
        return sorted(items, key=lambda item: item[1])
    window = datetime.timedelta(days=retention.days) - SWEEP_MARGIN
    groups = {}
    for item in items:
        groups.setdefault(item[0], []).append(item)
    out = []
    for group in groups.values():
        group.sort(key=lambda item: item[1], reverse=True)
        out.extend(item for rank, item in enumerate(group)
                   if rank < retention.keep_last or now - item[1] < window)
    return sorted(out, key=lambda item: item[1])


def list_snapshots(rds, kind, snapshot_type):
    """Every DB snapshot (or DB cluster snapshot) of `snapshot_type` ("manual", "automated",
    "shared") that the caller sees in the client's Region, all pages."""
    if kind == KIND_CLUSTER:
        operation, key = "describe_db_cluster_snapshots", "DBClusterSnapshots"
    else:
        operation, key = "describe_db_snapshots", "DBSnapshots"
    items = []
    for page in rds.get_paginator(operation).paginate(SnapshotType=snapshot_type):
        items.extend(page.get(key) or [])
    return items


def sweep_room(context, started, limit):
    """Whether a run that started `started` copies may start another: under `limit` (and
    SWEEP_LIMIT), with more than the time reserve left."""
    left = remaining_ms(context)
    return started < min(limit, SWEEP_LIMIT) and (left is None or left >= SWEEP_TIME_RESERVE_MS)

