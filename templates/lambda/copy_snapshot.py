"""rdsbk copy function (Account-A, Region-B).

Triggered by the automated-snapshot-created event forwarded from Region-A (RDS-EVENT-0091 for DB
instances, RDS-EVENT-0169 for DB clusters). Copies the system snapshot into Region-B, re-encrypted
with the shared KMS key of the backup account, as a manual snapshot named like the source without
its 'rds:' prefix. The snapshot of an unencrypted Aurora cluster is copied unencrypted (AWS cannot
encrypt a DB cluster snapshot by copying it), with a warning in the log line. Lambda handler:
copy_snapshot.handler (not copy.py: a module named 'copy' would shadow the standard library module
botocore imports).
"""

from botocore.exceptions import ClientError

import rdsbk_common as c

ACTION = "copy"

# EventID -> (snapshot kind, the detail-type RDS sends with it)
EVENTS = {
    "RDS-EVENT-0091": (c.KIND_INSTANCE, "RDS DB Snapshot Event"),
    "RDS-EVENT-0169": (c.KIND_CLUSTER, "RDS DB Cluster Snapshot Event"),
}


def handler(event, context):
    detail, detail_type, source, _account = c.event_detail(event)
    source_arn = str(detail.get("SourceArn") or "")
    extra = {"request_id": c.request_id(context)}
    try:
        settings = c.Settings()
        settings.require("kms_key_arn")
    except c.ConfigError as exc:
        c.fail(ACTION, source_arn, None, exc, **extra)

    def ignored(reason):
        return c.log_action(ACTION, source_arn, None, "ignored", reason=reason, **extra)

    event_id = str(detail.get("EventID", ""))
    if source != "aws.rds":
        return ignored(f"event source {source!r} is not aws.rds")
    if event_id not in EVENTS:
        return ignored(f"event {event_id!r} is not an automated snapshot creation")
    kind, expected_type = EVENTS[event_id]
    if detail_type and detail_type != expected_type:
        return ignored(f"detail-type {detail_type!r} does not match {event_id}")
    arn = c.parse_arn(source_arn)
    if arn is None or arn.kind != kind:
        return ignored("SourceArn is not the ARN of a " + kind.lower().replace("_", " "))
    if arn.region == settings.target_region:
        return ignored(f"snapshot is already in the target Region {settings.target_region}")
    if not arn.resource_id.startswith("rds:"):
        return ignored("not an automated (system) snapshot")
    db = c.automated_db_identifier(arn.resource_id)
    if db is None:
        return ignored(f"unrecognised automated snapshot name {arn.resource_id!r}")
    patterns = settings.db_clusters if kind == c.KIND_CLUSTER else settings.db_instances
    if not c.matches_any(db, patterns):
        return ignored(f"database {db!r} is not part of stack {settings.stack}")

    extra.update(kind=kind, stack=settings.stack, source_region=arn.region)
    return copy_to_region_b(settings, kind, arn, db, source_arn, extra)


def copy_to_region_b(settings, kind, arn, db, source_arn, extra):
    """Copies the system snapshot `arn` of database `db` into Region-B unless the copy is there;
    returns the log record. A failed call is logged and raised (c.fail)."""
    named = settings.region_named(arn.region, kind, db)
    target = c.region_copy_name(arn.resource_id, arn.region if named else None)
    rds = c.client("rds", settings.target_region)
    try:
        # Duplicate and late events are common: a cheap look first avoids a failing copy call.
        existing = c.describe_snapshot(rds, kind, target)
        if existing is not None:
            return c.log_action(
                ACTION, source_arn, target, "exists", status=existing.get("Status"), **extra
            )
        tags = {c.TAG_SOURCE_SNAPSHOT: arn.text, c.TAG_STACK: settings.stack}
        key, encryption = c.copy_key(
            c.client("rds", arn.region), kind, arn.text, "automated", settings.kms_key_arn
        )
        option_group = settings.option_group(arn.region, db) if kind == c.KIND_INSTANCE else None
        copied = c.copy_snapshot(
            rds,
            kind,
            arn.text,
            target,
            key,
            tags,
            copy_tags=True,
            source_region=arn.region,
            option_group=option_group,
        )
    except ClientError as exc:
        if c.is_already_exists(exc):
            # Lost a race with a duplicate invocation: the copy is there, which is the goal.
            return c.log_action(ACTION, source_arn, target, "exists", **extra)
        if "option group" in c.error_message(exc) and not option_group:
            extra["hint"] = (
                "the database uses a non-default option group (Oracle or SQL Server TDE, ...): "
                "name an option group of Region-B for it in sources[].option_groups"
            )
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
