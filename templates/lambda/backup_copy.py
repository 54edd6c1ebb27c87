"""rdsbk backup-copy function (Account-B, Region-B).

Triggered by the custom "snapshot shared" event that the share function publishes in Account-A and
a rule forwards to this account. Copies the shared snapshot into this (backup) account, encrypted
with the shared KMS key, under the same identifier; a shared copy of an unencrypted Aurora cluster's
snapshot is copied unencrypted (AWS cannot encrypt a DB cluster snapshot by copying it), with a
warning in the log line.

Triggered by the stack's scheduled rule (an EventBridge "Scheduled Event"), it first copies the
snapshots shared with this account by the stack's source accounts that have no backup copy yet
(rdsbk_common, "reconciliation": the backup account lists what is shared with it, so a lost
announcement is no loss), then applies the retention (rdsbk_common.prune) to the backup copies of
this account, taking "now" from the event's time.
"""

import datetime

from botocore.exceptions import ClientError

import rdsbk_common as c

ACTION = "backup-copy"
PRUNE_ACTION = "prune"


SWEEP_ACTION = "backup-sweep"
# The hop of a database whose newest backup copy is older than the stack's alerts.max_age.
AGE_HOP = "backup-age"
# Such a database is reported when its newest copy passes max_age, then daily for this long: a
# database deleted on purpose goes quiet (`status` still shows it).
AGE_REMINDERS = datetime.timedelta(days=7)
_LIVE = c.IN_FLIGHT | {"available"}


def _shared_snapshots(rds, settings, region, extra, failures):
    """(group, stamp, (kind, arn)) of the available snapshots shared with this account that are
    copies the stack takes (RDSBK_SHARED_GLOBS)."""
    out = []
    for kind, _snapshot, arn in c.available_arns(
            c.list_pairs(rds, "shared", extra, failures, SWEEP_ACTION)):
        identity = c.copy_identity(arn.resource_id, False)
        if identity and arn.region == region and settings.shared_with_us(arn):
            out.append(((kind, arn.account, identity[0]), identity[1], (kind, arn)))
    return out


def reconcile(rds, settings, retention, now, context, extra, failures, existing, reports):
    """Copies the shared snapshots that have no backup copy here yet (`existing`: the names of
    the manual snapshots here), oldest first, within retention; a copy that fails is reported
    (`reports`, c.Reports). Returns the counts."""
    region = settings.target_region
    counts = {"copied": 0, "exists": 0, "waiting": 0}
    found = _shared_snapshots(rds, settings, region, extra, failures)
    for _group, _stamp, (kind, arn) in c.worth_copying(found, retention, now):
        if backup_name(arn) in existing:
            continue
        if not c.sweep_room(context, counts["copied"], c.SWEEP_LIMIT):
            counts["waiting"] += 1
            continue
        try:
            result = copy_into_backup(rds, settings, kind, arn, dict(extra, kind=kind))["result"]
        except Exception as exc:  # one snapshot's failure must not stop the others
            reports.failed(ACTION, arn.text, backup_name(arn), exc, database=c.copy_database(arn.resource_id),
                           kind=kind, source_account=arn.account)
            continue
        counts["copied" if result == "copied" else "exists"] += 1
    return counts


def _newest_copies(settings, listed):
    """{(source account, database): (stamp, name, kind)} of the newest backup copy of each
    database of the stack, among the manual snapshots `listed` here (c.list_pairs) that are
    available or being made, and that the stack still takes."""
    newest = {}
    for kind, snapshot in listed:
        name = c.snapshot_identifier(kind, snapshot)
        identity = c.copy_identity(name, True)
        if identity is None or snapshot.get("Status") not in _LIVE:
            continue
        db, stamp, account = identity
        if "TagList" in snapshot and \
                c.tags_dict(snapshot["TagList"]).get(c.TAG_STACK) != settings.stack:
            continue
        resource_type = "cluster-snapshot" if kind == c.KIND_CLUSTER else "snapshot"
        if not settings.takes(account, resource_type, name[: -len(account) - 1]):
            continue
        if (account, db) not in newest or newest[(account, db)][0] < stamp:
            newest[(account, db)] = (stamp, name, kind)
    return newest


def check_age(settings, listed, now, reports):
    """Reports (`reports`, c.Reports) each database whose newest backup copy here is older than
    alerts.max_age (RDSBK_ALERT_MAX_AGE_S), for AGE_REMINDERS after that; returns how many are
    too old. A database with no backup copy here at all is not known to this account."""
    max_age = settings.alert_max_age
    if max_age is None:
        return 0
    too_old = 0
    for (account, db), (stamp, name, kind) in sorted(_newest_copies(settings, listed).items()):
        age = now - stamp
        if age <= max_age:
            continue
        too_old += 1
        if age > max_age + AGE_REMINDERS:
            continue
        hours = int(age.total_seconds() // 3600)
        exc = c.EntryError("BackupTooOld", f"the newest backup copy of database {db} of account "
                           f"{account} is {name}, {hours} hours old; alerts.max_age is "
                           f"{int(max_age.total_seconds() // 3600)} hours")
        fields = {"database": db, "kind": kind, "source_account": account}
        c.log_error(AGE_HOP, f"{account}/{db}", name, exc, **fields, **reports.extra)
        reports.failed(AGE_HOP, f"{account}/{db}", name, exc, **fields)
    return too_old


def prune(context, now):
    """The scheduled run: the backup copies missing here, then the retention of this account's
    backup copies."""
    extra = {"request_id": c.request_id(context)}
    try:
        settings = c.Settings()
        settings.require("kms_key_arn", "source_accounts")
        retention = c.retention_settings()
    except c.ConfigError as exc:
        c.fail(PRUNE_ACTION, None, None, exc, **extra)
    extra.update(stack=settings.stack, mode="prune")
    rds = c.client("rds", settings.target_region)
    failures = []
    reports = c.Reports(settings, context, now, extra)
    gave_up = c.drain_dead_letters(reports, ACTION, SWEEP_ACTION)
    listed = c.list_manual_pairs(rds, extra, failures, PRUNE_ACTION)
    if failures:  # without the list of backup copies, nothing is known to be missing
        counts = {}
    else:
        existing = {c.snapshot_identifier(kind, s) for kind, s in listed}
        counts = reconcile(rds, settings, retention, now, context, extra, failures, existing,
                           reports)
        counts["too_old"] = check_age(settings, listed, now, reports)
    counts["gave_up"] = gave_up
    if retention is None:
        counts["prune"] = "no retention configured"
    else:
        pruned, prune_failures = c.prune(rds, settings, retention, now, True, context, extra,
                                         listed=listed)
        counts.update(pruned)
        failures.extend(prune_failures)
    summary = c.log_action(PRUNE_ACTION, settings.target_region, None, "pruned",
                           failed=len(failures) + len(reports.unreported), **counts,
                           **reports.counts, **extra)
    reports.finish(PRUNE_ACTION, failures)
    return summary


def handler(event, context):
    now = c.scheduled_time(event)
    if now is not None:
        return prune(context, now)
    detail, detail_type, source, account = c.event_detail(event)
    source_arn = str(detail.get("SourceArn") or "")
    extra = {"request_id": c.request_id(context)}
    try:
        settings = c.Settings()
        settings.require("kms_key_arn", "source_accounts", "event_source", "event_detail_type")
    except c.ConfigError as exc:
        c.fail(ACTION, source_arn, None, exc, **extra)

    def ignored(reason):
        return c.log_action(ACTION, source_arn, None, "ignored", reason=reason, **extra)

    if source != settings.event_source or detail_type != settings.event_detail_type:
        return ignored(f"event {source!r}/{detail_type!r} is not this stack's shared-snapshot event")
    if not settings.source_account(account):
        return ignored(f"event from account {account!r}, not a source account of this stack")
    if detail.get("Stack") != settings.stack:
        return ignored(f"event is for stack {detail.get('Stack')!r}, not {settings.stack}")
    kind = detail.get("SourceType")
    arn = c.parse_arn(source_arn)
    if arn is None or kind not in (c.KIND_INSTANCE, c.KIND_CLUSTER) or arn.kind != kind:
        return ignored("SourceArn/SourceType do not name a DB snapshot or DB cluster snapshot")
    if not settings.source_account(arn.account) or arn.account != account:
        return ignored(f"snapshot owner {arn.account!r} is not the event's source account")
    if arn.region != settings.target_region:
        # A shared snapshot can only be copied within its own Region.
        return ignored(f"snapshot is not in the target Region {settings.target_region}")

    extra.update(kind=kind, stack=settings.stack)
    return copy_into_backup(c.client("rds", settings.target_region), settings, kind, arn, extra,
                            context)


def backup_name(arn):
    """The backup copy's name of shared snapshot `arn`. Source accounts may well have databases
    of the same name: the owning account is part of it, so that one account's copy never passes
    for another's ("exists")."""
    return f"{c.strip_rds_prefix(arn.resource_id)}-{arn.account}"


def copy_into_backup(rds, settings, kind, arn, extra, context=None):
    """Copies the shared snapshot `arn` into this account unless its backup copy is here;
    returns the log record. A failed call is logged and raised (c.fail); on the event path
    (`context` given) a failure that retrying cannot cure is reported to the alert topic
    instead (c.fail_or_alert)."""
    target = backup_name(arn)
    source_arn = arn.text
    extra = dict(extra, source_account=arn.account, database=c.copy_database(arn.resource_id))
    try:
        existing = c.describe_snapshot(rds, kind, target)
        if existing is not None:
            return c.log_action(
                ACTION, source_arn, target, "exists", status=existing.get("Status"), **extra
            )
        tags = {
            c.TAG_SOURCE_SNAPSHOT: arn.text,
            c.TAG_SOURCE_ACCOUNT: arn.account,
            c.TAG_STACK: settings.stack,
        }
        key, encryption = c.copy_key(rds, kind, arn.text, "shared", settings.kms_key_arn)
        # Tags of a snapshot shared from another account are not visible here: no CopyTags.
        copied = c.copy_snapshot(rds, kind, arn.text, target, key, tags, copy_tags=False)
    except ClientError as exc:
        if c.is_already_exists(exc):
            return c.log_action(ACTION, source_arn, target, "exists", **extra)
        if context is None:
            c.fail(ACTION, source_arn, target, exc, **extra)
        return c.fail_or_alert(settings, context, ACTION, source_arn, target, exc, **extra)
    return c.log_action(
        ACTION,
        source_arn,
        target,
        "copied",
        status=copied.get("Status"),
        target_arn=c.snapshot_arn(kind, copied),
        **encryption,
        **extra,
    )
