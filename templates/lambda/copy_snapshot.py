"""rdsbk copy function (Account-A, Region-B).

Triggered by the automated-snapshot-created event forwarded from Region-A (RDS-EVENT-0091 for DB
instances, RDS-EVENT-0169 for DB clusters). Copies the system snapshot into Region-B, re-encrypted
with the shared KMS key of the backup account, as a manual snapshot named like the source without
its 'rds:' prefix. The snapshot of an unencrypted Aurora cluster is copied unencrypted (AWS cannot
encrypt a DB cluster snapshot by copying it), with a warning in the log line. A copy RDS refuses because its cross-Region copies in flight are at
the limit is left to the sweep ("deferred", no error). Lambda handler: copy_snapshot.handler (not
copy.py: a module named 'copy' would shadow the standard library module botocore imports).

Triggered by the stack's scheduled rule (an EventBridge "Scheduled Event"), it sweeps: it lists
the automated snapshots of the stack's databases in each source Region and copies those that have
no copy in Region-B yet (rdsbk_common, "reconciliation"): a lost event, or a copy that had to
wait for the limit, is made up for by the next run.
"""

from botocore.exceptions import ClientError

import rdsbk_common as c

ACTION = "copy"

# EventID -> (snapshot kind, the detail-type RDS sends with it)
EVENTS = {
    "RDS-EVENT-0091": (c.KIND_INSTANCE, "RDS DB Snapshot Event"),
    "RDS-EVENT-0169": (c.KIND_CLUSTER, "RDS DB Cluster Snapshot Event"),
}


SWEEP_ACTION = "copy-sweep"


def handler(event, context):
    now = c.scheduled_time(event)
    if now is not None:
        return sweep(context, now)
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
    if not settings.configured(arn.region, kind, db):
        return ignored(f"database {db!r} in {arn.region} is not part of stack {settings.stack}")

    extra.update(kind=kind, stack=settings.stack, source_region=arn.region)
    return copy_to_region_b(settings, kind, arn, db, source_arn, extra, context)


def copy_to_region_b(settings, kind, arn, db, source_arn, extra, context=None):
    """Copies the system snapshot `arn` of database `db` into Region-B unless the copy is there;
    returns the log record ("result": "deferred" when RDS's limit of cross-Region copies in
    flight refused it). A failed call is logged and raised (c.fail); on the event path
    (`context` given) a failure that retrying cannot cure is reported to the alert topic
    instead (c.fail_or_alert). The sweeps pass no context: they report it (c.Reports) and try
    again next run."""
    extra = dict(extra, database=db)
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
        if c.is_copy_limit(exc):
            # Not an error: the copy sweep makes it once copies in flight have finished.
            return c.log_action(ACTION, source_arn, target, "deferred",
                                reason=c.error_message(exc), **extra)
        if "option group" in c.error_message(exc) and not option_group:
            extra["hint"] = (
                "the database uses a non-default option group (Oracle or SQL Server TDE, ...): "
                "name an option group of Region-B for it in sources[].option_groups"
            )
        if context is None:
            c.fail(ACTION, source_arn, target, exc, **extra)
        return c.fail_or_alert(settings, context, ACTION, source_arn, target, exc,
                               **extra)
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


def _system_snapshots(settings, region, extra, failures):
    """(group, stamp, (kind, arn, db)) of the available automated snapshots of the stack's
    databases in source Region `region`."""
    pairs = c.list_pairs(c.client("rds", region), "automated", dict(extra, region=region),
                         failures, SWEEP_ACTION)
    out = []
    for kind, _snapshot, arn in c.available_arns(pairs):
        db = c.automated_db_identifier(arn.resource_id)
        if db is not None and settings.configured(region, kind, db):
            out.append(((region, kind, db), c.automated_stamp(arn.resource_id), (kind, arn, db)))
    return out


def sweep(context, now):
    """The scheduled run: copies into Region-B the system snapshots that have none yet, oldest
    first, within retention and the copy limit. A copy that fails for good is reported
    (c.Reports). Returns the summary record; raises c.RunFailures after it when a listing failed
    or a failure could not be reported."""
    extra = {"request_id": c.request_id(context)}
    try:
        settings = c.Settings()
        settings.require("kms_key_arn", "databases")
        retention = c.retention_settings()
    except c.ConfigError as exc:
        c.fail(SWEEP_ACTION, None, None, exc, **extra)
    region = settings.target_region
    extra.update(stack=settings.stack, mode="sweep")
    failures = []
    listed = c.list_manual_pairs(c.client("rds", region), extra, failures, SWEEP_ACTION)
    existing = {c.snapshot_identifier(kind, s) for kind, s in listed}
    in_flight = c.cross_region_copies_in_flight(listed, region)
    found = []
    for source_region in settings.source_regions() if not failures else []:
        # (without the list of copies, nothing is known to be missing)
        found.extend(_system_snapshots(settings, source_region, extra, failures))
    counts = {"copied": 0, "exists": 0, "waiting": 0, "in_flight": in_flight}
    reports = c.Reports(settings, context, now, extra)
    counts["gave_up"] = c.drain_dead_letters(reports, ACTION, SWEEP_ACTION)
    room = max(0, c.MAX_CROSS_REGION_COPIES - in_flight)
    for _group, _stamp, (kind, arn, db) in c.worth_copying(found, retention, now):
        named = settings.region_named(arn.region, kind, db)
        target = c.region_copy_name(arn.resource_id, arn.region if named else None)
        if target in existing:
            continue
        if not c.sweep_room(context, counts["copied"], room):
            counts["waiting"] += 1  # the next run takes it
            continue
        fields = dict(extra, kind=kind, source_region=arn.region)
        try:
            result = copy_to_region_b(settings, kind, arn, db, arn.text, fields)["result"]
        except Exception as exc:  # one snapshot's failure must not stop the others
            reports.failed(ACTION, arn.text, target, exc, database=db, kind=kind)
            continue
        if result == "deferred":  # the limit is reached sooner than counted: no more this run
            room = counts["copied"]
            counts["waiting"] += 1
        else:
            counts["copied" if result == "copied" else "exists"] += 1
    summary = c.log_action(SWEEP_ACTION, region, None, "swept",
                           failed=len(failures) + len(reports.unreported),
                           limit=min(room, c.SWEEP_LIMIT), **counts, **reports.counts, **extra)
    reports.finish(SWEEP_ACTION, failures)
    return summary
