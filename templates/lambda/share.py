"""rdsbk share function (Account-A, Region-B).

Triggered when a cross-Region snapshot copy finishes (RDS-EVENT-0060, which fires in the
destination Region). For copies made by this stack only (tag rdsbk:stack), adds the backup account
to the snapshot's 'restore' attribute and announces the shared snapshot with a custom event on the
default event bus, which a rule forwards to the backup account.
"""

import json

from botocore.exceptions import ClientError

import rdsbk_common as c

ACTION = "share"

# Copy finished. AWS documents this ID for DB snapshots; cluster snapshot copies are accepted with
# the same ID and the cluster detail-type.
EVENTS = frozenset({"RDS-EVENT-0060"})

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


def _add_restore(rds, kind, identifier, account):
    if kind == c.KIND_CLUSTER:
        rds.modify_db_cluster_snapshot_attribute(
            DBClusterSnapshotIdentifier=identifier, AttributeName="restore", ValuesToAdd=[account]
        )
    else:
        rds.modify_db_snapshot_attribute(
            DBSnapshotIdentifier=identifier, AttributeName="restore", ValuesToAdd=[account]
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


def handler(event, context):
    detail, detail_type, source, _account = c.event_detail(event)
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
    if arn.region != settings.target_region:
        return ignored(f"snapshot is not in the target Region {settings.target_region}")
    if arn.resource_id.startswith("rds:"):
        return ignored("automated snapshots cannot be shared; not a copy made by rdsbk")

    identifier = arn.resource_id
    extra.update(kind=kind, stack=settings.stack)
    rds = c.client("rds", settings.target_region)
    action = "describe"
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
        action = "share"
        already = target in _restore_accounts(rds, kind, identifier)
        if not already:
            _add_restore(rds, kind, identifier, target)
        # Published even when already shared: an earlier attempt may have shared the snapshot and
        # then failed to publish. A duplicate event is harmless (backup-copy is idempotent).
        action = "publish"
        copy_arn = c.snapshot_arn(kind, snapshot) or arn.text
        published = _publish(
            c.client("events", settings.target_region),
            settings,
            {
                "SourceArn": copy_arn,
                "SourceIdentifier": identifier,
                "SourceType": kind,
                "SourceAccount": arn.account,
                "Stack": settings.stack,
            },
        )
    except (ClientError, c.EntryError, c.RetryableError) as exc:
        c.fail(ACTION, source_arn, target, exc, step=action, **extra)
    return c.log_action(
        ACTION,
        source_arn,
        target,
        "exists" if already else "shared",
        already_shared=already,
        published_event_id=published,
        **extra,
    )
