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

from botocore.exceptions import ClientError

import rdsbk_common as c

ACTION = "backup-copy"
PRUNE_ACTION = "prune"


SWEEP_ACTION = "backup-sweep"


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


def reconcile(rds, settings, retention, now, context, extra, failures, existing):
    """Copies the shared snapshots that have no backup copy here yet (`existing`: the names of
    the manual snapshots here), oldest first, within retention; returns the counts."""
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
            failures.append((arn.text, c.error_code(exc) or type(exc).__name__))
            continue
        counts["copied" if result == "copied" else "exists"] += 1
    return counts


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
    listed = c.list_manual_pairs(rds, extra, failures, PRUNE_ACTION)
    if failures:  # without the list of backup copies, nothing is known to be missing
        counts = {}
    else:
        existing = {c.snapshot_identifier(kind, s) for kind, s in listed}
        counts = reconcile(rds, settings, retention, now, context, extra, failures, existing)
    if retention is None:
        counts["prune"] = "no retention configured"
    else:
        pruned, prune_failures = c.prune(rds, settings, retention, now, True, context, extra,
                                         listed=listed)
        counts.update(pruned)
        failures.extend(prune_failures)
    summary = c.log_action(PRUNE_ACTION, settings.target_region, None, "pruned",
                           failed=len(failures), **counts, **extra)
    if failures:
        raise c.RunFailures(PRUNE_ACTION, failures)
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
    if account not in settings.source_accounts:
        return ignored(f"event from account {account!r}, not a source account of this stack")
    if detail.get("Stack") != settings.stack:
        return ignored(f"event is for stack {detail.get('Stack')!r}, not {settings.stack}")
    kind = detail.get("SourceType")
    arn = c.parse_arn(source_arn)
    if arn is None or kind not in (c.KIND_INSTANCE, c.KIND_CLUSTER) or arn.kind != kind:
        return ignored("SourceArn/SourceType do not name a DB snapshot or DB cluster snapshot")
    if arn.account not in settings.source_accounts or arn.account != account:
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
    extra = dict(extra, source_account=arn.account)
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
        identity = c.copy_identity(arn.resource_id, False)
        return c.fail_or_alert(settings, context, ACTION, source_arn, target, exc,
                               database=identity[0] if identity else None, **extra)
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
