"""rdsbk share function (Account-A, Region-B).

Triggered when a cross-Region snapshot copy finishes (RDS-EVENT-0060, which fires in the
destination Region). For copies made by this stack only (tag rdsbk:stack), adds the backup account
to the snapshot's 'restore' attribute and announces the shared snapshot with a custom event on the
default event bus, which a rule forwards to the backup account.

Sweep mode: invoked by the stack's scheduled rule (an EventBridge "Scheduled Event"), or with
exactly {"rdsbk": "sweep"} (by hand, or by a rule of an older version), it lists the manual DB
snapshots and DB cluster snapshots in the target Region and shares and announces every available
copy of this stack that the backup account cannot restore yet. RDS announces no finished copy of
an Aurora cluster snapshot, and RDS events are best-effort, so without the sweep such copies would
stop in Account-A/Region-B. Snapshots already shared are left alone and not announced again: the
event path (or an earlier sweep) announced them when it shared them.

A scheduled sweep then applies the retention (rdsbk_common.prune) to this stack's copies here,
taking "now" from the scheduled event's time; a copy is deleted only once it is shared with the
backup account.
"""

import datetime
import json

from botocore.exceptions import BotoCoreError, ClientError

import rdsbk_common as c

ACTION = "share"

# Copy finished. AWS documents this ID for DB snapshots; cluster snapshot copies are accepted with
# the same ID and the cluster detail-type.
EVENTS = frozenset({"RDS-EVENT-0060"})

# The constant input of the scheduled rule that asks for a sweep.
SWEEP_EVENT = {"rdsbk": "sweep"}
SWEEP_ACTION = "sweep"

DETAIL_TYPES = {
    c.KIND_INSTANCE: "RDS DB Snapshot Event",
    c.KIND_CLUSTER: "RDS DB Cluster Snapshot Event",
}


def _restore_accounts(rds, kind, identifier):
    """The account ids (or 'all') in the snapshot's restore attribute."""
    if kind == c.KIND_CLUSTER:
        resp = rds.describe_db_cluster_snapshot_attributes(DBClusterSnapshotIdentifier=identifier)
        attrs = resp.get("DBClusterSnapshotAttributesResult", {}).get(
            "DBClusterSnapshotAttributes", []
        )
    else:
        resp = rds.describe_db_snapshot_attributes(DBSnapshotIdentifier=identifier)
        attrs = resp.get("DBSnapshotAttributesResult", {}).get("DBSnapshotAttributes", [])
    values = []
    for attr in attrs:
        if attr.get("AttributeName") == "restore":
            values.extend(attr.get("AttributeValues") or [])
    return values


def _modify_restore(rds, kind, identifier, account, add=True):
    change = {"ValuesToAdd" if add else "ValuesToRemove": [account]}
    if kind == c.KIND_CLUSTER:
        rds.modify_db_cluster_snapshot_attribute(
            DBClusterSnapshotIdentifier=identifier, AttributeName="restore", **change
        )
    else:
        rds.modify_db_snapshot_attribute(
            DBSnapshotIdentifier=identifier, AttributeName="restore", **change
        )


def _publish(events, settings, detail):
    """PutEvents the 'snapshot shared' event; returns its EventId. A failed entry raises."""
    resp = events.put_events(
        Entries=[
            {
                "Source": settings.event_source,
                "DetailType": settings.event_detail_type,
                "Detail": json.dumps(detail, sort_keys=True),
            }
        ]
    )
    entries = resp.get("Entries") or [{}]
    if resp.get("FailedEntryCount", 0) > 0 or entries[0].get("ErrorCode"):
        raise c.EntryError(
            entries[0].get("ErrorCode") or "PutEventsFailed",
            entries[0].get("ErrorMessage") or "PutEvents reported a failed entry",
        )
    return entries[0].get("EventId")


class Progress:
    """How far share_snapshot got: the step that was running ('share', 'publish') and whether
    this call added the backup account to the restore attribute."""

    def __init__(self):
        self.step = "describe"
        self.added = False


def share_snapshot(rds, settings, kind, identifier, copy_arn, account, republish, progress):
    """Adds the backup account to the restore attribute of one available snapshot of this stack
    unless it is there, then puts the 'snapshot shared' event. When the snapshot was already
    shared the event is put only if republish is true. Returns (already_shared, EventId or None).
    AWS errors propagate; progress tells which step raised."""
    target = settings.backup_account
    progress.step = "share"
    already = target in _restore_accounts(rds, kind, identifier)
    if already and not republish:
        return True, None
    if not already:
        _modify_restore(rds, kind, identifier, target)
        progress.added = True
    progress.step = "publish"
    published = _publish(
        c.client("events", settings.target_region),
        settings,
        {
            "SourceArn": copy_arn,
            "SourceIdentifier": identifier,
            "SourceType": kind,
            "SourceAccount": account,
            "Stack": settings.stack,
        },
    )
    return already, published


def is_sweep(event):
    return isinstance(event, dict) and (event == SWEEP_EVENT or c.scheduled_time(event) is not None)


def handler(event, context):
    if is_sweep(event):
        return sweep(context, c.scheduled_time(event))
    detail, detail_type, source, account = c.event_detail(event)
    source_arn = str(detail.get("SourceArn") or "")
    extra = {"request_id": c.request_id(context)}
    try:
        settings = c.Settings()
        settings.require("backup_account", "event_source", "event_detail_type")
    except c.ConfigError as exc:
        c.fail(ACTION, source_arn, None, exc, **extra)
    target = settings.backup_account

    def ignored(reason):
        return c.log_action(ACTION, source_arn, target, "ignored", reason=reason, **extra)

    event_id = str(detail.get("EventID", ""))
    if source != "aws.rds":
        return ignored(f"event source {source!r} is not aws.rds")
    if event_id not in EVENTS:
        return ignored(f"event {event_id!r} is not a finished snapshot copy")
    arn = c.parse_arn(source_arn)
    if arn is None or arn.kind is None:
        return ignored("SourceArn is not a snapshot ARN")
    kind = arn.kind
    if detail_type and detail_type != DETAIL_TYPES[kind]:
        return ignored(f"detail-type {detail_type!r} does not match a {kind} ARN")
    # The copy is the snapshot of that name in this Region, whichever Region the event's ARN names:
    # RDS-EVENT-0060 has been seen carrying the copy's name in an ARN of the source Region.
    identifier = str(detail.get("SourceIdentifier") or arn.resource_id)
    if identifier.startswith("rds:") or arn.resource_id.startswith("rds:"):
        return ignored("automated snapshots cannot be shared; not a copy made by rdsbk")
    if account and arn.account != account:
        return ignored(f"snapshot of account {arn.account}, not the event's account {account}")
    extra.update(kind=kind, stack=settings.stack)
    rds = c.client("rds", settings.target_region)
    progress = Progress()
    try:
        snapshot = c.describe_snapshot(rds, kind, identifier)
        if snapshot is None:
            return ignored("snapshot no longer exists")
        tags = c.snapshot_tags(rds, kind, snapshot)
        if tags.get(c.TAG_STACK) != settings.stack:
            return ignored(f"snapshot is not tagged {c.TAG_STACK}={settings.stack}")
        status = snapshot.get("Status")
        if status != "available":
            raise c.RetryableError("SnapshotNotAvailable", f"snapshot status is {status!r}")
        # Published even when already shared: an earlier attempt may have shared the snapshot and
        # then failed to publish. A duplicate event is harmless (backup-copy is idempotent).
        already, published = share_snapshot(
            rds,
            settings,
            kind,
            identifier,
            c.snapshot_arn(kind, snapshot) or arn.text,  # the copy's true ARN, announced
            arn.account,
            True,
            progress,
        )
    except (ClientError, c.EntryError, c.RetryableError) as exc:
        return c.fail_or_alert(settings, context, ACTION, source_arn, target, exc,
                               database=c.copy_database(identifier), step=progress.step, **extra)
    return c.log_action(
        ACTION,
        source_arn,
        target,
        "exists" if already else "shared",
        already_shared=already,
        published_event_id=published,
        **extra,
    )


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def _created(item):
    created = item[1].get("SnapshotCreateTime")
    return created if isinstance(created, datetime.datetime) else _EPOCH


def _sweep_one(rds, settings, kind, snapshot, extra):
    """Shares and announces one available snapshot of this stack unless it is shared already.
    Returns 'already_shared' or 'shared'; logs and raises on failure. A failed announcement
    after this call shared the snapshot undoes the share, so that the next sweep, which skips
    shared snapshots, tries both steps again."""
    target = settings.backup_account
    identifier = c.snapshot_identifier(kind, snapshot)
    copy_arn = c.snapshot_arn(kind, snapshot)
    arn = c.parse_arn(copy_arn)
    progress = Progress()
    try:
        if not identifier or arn is None:
            raise c.EntryError("MalformedSnapshot", "the reply lacks the identifier or the ARN")
        already, published = share_snapshot(
            rds, settings, kind, identifier, copy_arn, arn.account, False, progress
        )
    except Exception as exc:
        fields = dict(extra, kind=kind, step=progress.step, database=c.copy_database(identifier))
        if progress.added and isinstance(exc, (ClientError, c.EntryError)):
            # PutEvents refused the event: it was not announced, so unshare.
            try:
                _modify_restore(rds, kind, identifier, target, add=False)
                fields["unshared"] = True
            except (ClientError, BotoCoreError) as undo:
                fields["unshared"] = False
                fields["unshare_error"] = c.error_code(undo) or type(undo).__name__
        if progress.added and not fields.get("unshared"):
            # A timeout may hide a delivered event; a failed unshare leaves a shared snapshot
            # that later sweeps skip. Either way only a re-drive of the event path announces it.
            fields["note"] = (
                "shared, announcement failed or unknown, and later sweeps skip shared snapshots: "
                "re-drive the share function with the RDS-EVENT-0060 event of this copy "
                "(rdsbk-provision drill --snapshot)"
            )
        c.log_error(ACTION, copy_arn or identifier, target, exc, **fields)
        raise
    if already:
        return "already_shared"
    c.log_action(
        ACTION,
        copy_arn,
        target,
        "shared",
        already_shared=False,
        published_event_id=published,
        kind=kind,
        **extra,
    )
    return "shared"


def sweep(context, now=None):
    """Sweep mode (see the module comment); with `now` (the scheduled event's time), the
    retention too. A snapshot that fails for good is reported (c.Reports). Returns the summary
    record; raises c.RunFailures after the summary when a listing or a deletion failed, or a
    failure could not be reported."""
    extra = {"request_id": c.request_id(context)}
    try:
        settings = c.Settings()
        settings.require("backup_account", "event_source", "event_detail_type")
        retention = c.retention_settings()
    except c.ConfigError as exc:
        c.fail(SWEEP_ACTION, None, None, exc, **extra)
    target = settings.backup_account
    region = settings.target_region
    extra.update(stack=settings.stack, mode="sweep")
    rds = c.client("rds", region)
    counts = {"shared": 0, "already_shared": 0, "not_ready": 0, "other_stacks": 0, "remaining": 0}
    failures = []
    reports = c.Reports(settings, context, now, extra)
    counts["gave_up"] = c.drain_dead_letters(reports, ACTION, SWEEP_ACTION)

    candidates = []
    for kind in (c.KIND_INSTANCE, c.KIND_CLUSTER):
        try:
            for snapshot in c.list_manual_snapshots(rds, kind):
                candidates.append((kind, snapshot))
        except (ClientError, BotoCoreError) as exc:
            c.log_error(SWEEP_ACTION, region, target, exc, step="list", kind=kind, **extra)
            failures.append((f"list {kind}", c.error_code(exc) or type(exc).__name__))
    # Newest first: when the limit or the time runs out, the latest backups go first.
    candidates.sort(key=_created, reverse=True)

    attempts = 0
    for kind, snapshot in candidates:
        source = c.snapshot_arn(kind, snapshot) or c.snapshot_identifier(kind, snapshot)
        database = c.copy_database(c.snapshot_identifier(kind, snapshot))
        try:
            tags = c.snapshot_tags(rds, kind, snapshot)
        except (ClientError, BotoCoreError) as exc:
            c.log_error(ACTION, source, target, exc, step="tags", kind=kind, database=database,
                        **extra)
            reports.failed(ACTION, source, target, exc, database=database, kind=kind)
            continue
        if tags.get(c.TAG_STACK) != settings.stack:
            counts["other_stacks"] += 1
            continue
        if snapshot.get("Status") != "available":
            counts["not_ready"] += 1
            continue
        # Past the limit or the time reserve, available copies of this stack are only counted
        # ("remaining": not examined, some may be shared already); the next sweep takes them.
        if not c.sweep_room(context, attempts, c.SWEEP_LIMIT):
            counts["remaining"] += 1
            continue
        try:
            outcome = _sweep_one(rds, settings, kind, snapshot, extra)
        except Exception as exc:  # one snapshot's failure must not stop the others
            attempts += 1
            reports.failed(ACTION, source, target, exc, database=database, kind=kind)
            continue
        counts[outcome] += 1
        if outcome == "shared":
            attempts += 1

    if retention is not None and now is not None:

        def shared(kind, snapshot):
            return target in _restore_accounts(rds, kind, c.snapshot_identifier(kind, snapshot))

        pruned, prune_failures = c.prune(
            rds, settings, retention, now, False, context, extra, shared
        )
        counts.update(pruned)
        failures.extend(prune_failures)

    summary = c.log_action(
        SWEEP_ACTION,
        region,
        target,
        "swept",
        failed=len(failures) + len(reports.unreported),
        limit=c.SWEEP_LIMIT,
        **counts,
        **reports.counts,
        **extra,
    )
    reports.finish(SWEEP_ACTION, failures)
    return summary
