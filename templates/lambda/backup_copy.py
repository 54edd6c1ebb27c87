"""rdsbk backup-copy function (Account-B, Region-B).

Triggered by the custom "snapshot shared" event that the share function publishes in Account-A and
a rule forwards to this account. Copies the shared snapshot into this (backup) account, encrypted
with the shared KMS key, under the same identifier; a shared copy of an unencrypted Aurora cluster's
snapshot is copied unencrypted (AWS cannot encrypt a DB cluster snapshot by copying it), with a
warning in the log line.

Triggered by the stack's scheduled rule (an EventBridge "Scheduled Event"), it applies the
retention (rdsbk_common.prune) to the backup copies of this account, taking "now" from the
event's time.
"""

from botocore.exceptions import ClientError

import rdsbk_common as c

ACTION = "backup-copy"
PRUNE_ACTION = "prune"


class PruneError(Exception):
    """Some deletions (or a listing) failed; raised after the others so that Lambda retries."""

    def __init__(self, failures):
        super().__init__(
            f"prune: {len(failures)} failure(s): "
            + "; ".join(f"{source}: {code}" for source, code in failures[:10])
        )
        self.failures = failures


def prune(context, now):
    """The scheduled run: the retention of this account's backup copies."""
    extra = {"request_id": c.request_id(context)}
    try:
        settings = c.Settings()
        settings.require("source_accounts")
        retention = c.retention_settings()
    except c.ConfigError as exc:
        c.fail(PRUNE_ACTION, None, None, exc, **extra)
    extra.update(stack=settings.stack, mode="prune")
    if retention is None:
        return c.log_action(PRUNE_ACTION, settings.target_region, None, "ignored",
                            reason="no retention configured", **extra)
    rds = c.client("rds", settings.target_region)
    counts, failures = c.prune(rds, settings, retention, now, True, context, extra)
    summary = c.log_action(PRUNE_ACTION, settings.target_region, None, "pruned",
                           failed=len(failures), **counts, **extra)
    if failures:
        raise PruneError(failures)
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

    # Source accounts may well have databases of the same name: the owning account is part of the
    # backup's identifier, so one account's copy never passes for another's ("exists").
    target = f"{c.strip_rds_prefix(arn.resource_id)}-{arn.account}"
    extra.update(kind=kind, stack=settings.stack, source_account=arn.account)
    rds = c.client("rds", settings.target_region)
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
        c.fail(ACTION, source_arn, target, exc, **extra)
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
