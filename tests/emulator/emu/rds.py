"""RDS for the emulator: just enough DB instances and clusters to own snapshots, automated and
manual DB (cluster) snapshots, copies across Regions and accounts with KMS checks, sharing
(restore attribute), tags, restore, and the RDS lifecycle events into EventBridge.

Owner: H4.  Control route: POST /_emu/rds/automated-snapshot {"account", "region",
"db_instance" | "db_cluster", optional "kms_key_id", "encrypted", "backup_retention_days",
"option_group" (an instance's non-default option group, e.g. for Oracle TDE)}
creates the instance or cluster if missing and takes an automated snapshot at AWS time
(emu.now()) ("creating" -> RDS-EVENT-0090/0168, then "available" -> 0091/0169; with
"emit_event": false neither event, as if it were lost) -> {"snapshot_id", "arn"}.
POST /_emu/rds/config {"delay_s": s} sets how long creations and copies take;
{"copy_duration_s": n} makes copies take n seconds of AWS time instead (0, the default:
delay_s), reporting PercentProgress on the way, done when AWS time reaches their end (in time
order during an advance; after real time passed it, when RDS is next asked);
{"max_cross_region_copies": m} (default 20) caps the cross-Region copies in flight per account
and destination Region (the next one is refused with SnapshotQuotaExceeded; same-Region copies
do not count); GET reads the settings, a reset restores the defaults of these two;
{"copy_event_arn_region": "source"} makes RDS-EVENT-0060 carry the copy's ARN with the source
snapshot's Region in it, as AWS has been seen to (the original walkthrough's share rule matches
that form), "destination" (the default) the copy's true ARN.  POST /_emu/rds/quotas {"account",
"region", "ManualSnapshots": n, "ManualClusterSnapshots": n} sets the manual snapshot quotas of
an account and Region (GET reads them).

Time: as AWS time passes (POST /_emu/clock), automated snapshots older than their instance's or
cluster's BackupRetentionPeriod (days; default 7, "backup_retention_days" above) are deleted;
manual snapshots never expire.

Encryption ("encrypted": false above makes an unencrypted instance or cluster): a copy of an
unencrypted DB snapshot given KmsKeyId comes out encrypted with that key; CopyDBClusterSnapshot
refuses KmsKeyId for an unencrypted DB cluster snapshot (InvalidParameterCombination), whose
copies stay unencrypted, as on AWS.

Quotas (DescribeAccountAttributes): ManualSnapshots (DB snapshots) and ManualClusterSnapshots (DB
cluster snapshots), 100 each by default, per account and Region, count the manual snapshots the
account owns in any status (copies in flight included; snapshots shared with it are not its own);
CreateDBSnapshot, CreateDBClusterSnapshot, CopyDBSnapshot, CopyDBClusterSnapshot (and
DeleteDBInstance's final snapshot) past the quota fail with SnapshotQuotaExceeded.

Events (source aws.rds, into the default bus of the snapshot's account and Region):
  DB snapshot: 0090/0091 automated creating/created, 0040/0042 manual creating/created,
  0196/0197 same-Region copy started/finished, 0059/0060 cross-Region copy started/finished
  (emitted in the DESTINATION Region with the destination snapshot's ARN, or that ARN with the
  source Region in it: copy_event_arn_region), 0041 deleted.
  DB cluster snapshot: 0168/0169 automated, 0074/0075 manual.  The RDS event catalogue lists
  no copy events for cluster snapshots, so cluster copies emit none (as on AWS).
"""

import datetime
import re
import uuid

from .core import AwsError
from .events import arn_parts, err_text

# Cross-Region copies in flight per account and destination Region ("For each AWS account, you
# can copy up to 20 DB snapshots at a time from one AWS Region to another", RDS User Guide).
MAX_CROSS_REGION_COPIES = 20
MAX_SHARED_ACCOUNTS = 20
DEFAULT_RETENTION_DAYS = 7
# DescribeAccountAttributes' quotas, in AWS's order, with their default maxima (RDS and Aurora
# quota pages). The emulator counts ManualSnapshots, ManualClusterSnapshots, DBInstances,
# DBClusters and AllocatedStorage; the others report Used 0.
DEFAULT_QUOTAS = (
    ("DBInstances", 40), ("ReservedDBInstances", 40), ("AllocatedStorage", 100000),
    ("DBSecurityGroups", 25), ("AuthorizationsPerDBSecurityGroup", 20),
    ("DBParameterGroups", 50), ("ManualSnapshots", 100), ("EventSubscriptions", 20),
    ("DBSubnetGroups", 50), ("OptionGroups", 20), ("SubnetsPerDBSubnetGroup", 20),
    ("ReadReplicasPerMaster", 15), ("DBClusters", 40), ("DBClusterParameterGroups", 50),
    ("DBClusterRoles", 5), ("ManualClusterSnapshots", 100), ("CustomEndpointsPerDBCluster", 5),
    ("DBInstanceRoles", 5),
)
SETTABLE_QUOTAS = ("ManualSnapshots", "ManualClusterSnapshots")
_ID_RULES = ("Identifiers must begin with a letter; must contain only ASCII letters, digits, "
             "and hyphens; and must not end with a hyphen or contain two consecutive hyphens.")

KINDS = {
    "db": {
        "id": "DBSnapshotIdentifier", "owner": "DBInstanceIdentifier", "arn": "DBSnapshotArn",
        "arn_res": "snapshot", "enc": "Encrypted", "notfound": "DBSnapshotNotFound",
        "exists": "DBSnapshotAlreadyExists", "state": "InvalidDBSnapshotState",
        "detail_type": "RDS DB Snapshot Event", "source_type": "SNAPSHOT",
        "out": "DBSnapshot", "list": "DBSnapshots", "attrs_result":
        "DBSnapshotAttributesResult", "attrs": "DBSnapshotAttributes", "max_len": 255,
        "owner_res": "db", "word": "DBSnapshot", "target_param": "TargetDBSnapshotIdentifier",
        "source_param": "SourceDBSnapshotIdentifier", "op": "DBSnapshot",
        "ev_auto": ("RDS-EVENT-0090", "Creating automated snapshot",
                    "RDS-EVENT-0091", "Automated snapshot created"),
        "ev_manual": ("RDS-EVENT-0040", "Creating manual snapshot",
                      "RDS-EVENT-0042", "Manual snapshot created"),
        "ev_deleted": ("RDS-EVENT-0041", "Deleted user snapshot"),
        "quota": "ManualSnapshots",
    },
    "cluster": {
        "id": "DBClusterSnapshotIdentifier", "owner": "DBClusterIdentifier",
        "arn": "DBClusterSnapshotArn", "arn_res": "cluster-snapshot", "enc": "StorageEncrypted",
        "notfound": "DBClusterSnapshotNotFoundFault",
        "exists": "DBClusterSnapshotAlreadyExistsFault",
        "state": "InvalidDBClusterSnapshotStateFault",
        "detail_type": "RDS DB Cluster Snapshot Event", "source_type": "CLUSTER_SNAPSHOT",
        "out": "DBClusterSnapshot", "list": "DBClusterSnapshots",
        "attrs_result": "DBClusterSnapshotAttributesResult",
        "attrs": "DBClusterSnapshotAttributes", "max_len": 63, "owner_res": "cluster",
        "word": "DBClusterSnapshot", "target_param": "TargetDBClusterSnapshotIdentifier",
        "source_param": "SourceDBClusterSnapshotIdentifier", "op": "DBClusterSnapshot",
        "ev_auto": ("RDS-EVENT-0168", "Creating automated cluster snapshot",
                    "RDS-EVENT-0169", "Automated cluster snapshot created"),
        "ev_manual": ("RDS-EVENT-0074", "Creating manual cluster snapshot",
                      "RDS-EVENT-0075", "Manual cluster snapshot created"),
        "ev_deleted": None,
        "quota": "ManualClusterSnapshots",
    },
}


def _iso_ms(ts):
    dt = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def valid_identifier(ident, max_len=255):
    return (isinstance(ident, str) and 1 <= len(ident) <= max_len and
            re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", ident) is not None and
            "--" not in ident and not ident.endswith("-"))


def _bad_param(msg):
    return AwsError("InvalidParameterValue", msg, status=400)


# The option group of an instance made without one (its engine's default).
DEFAULT_OPTION_GROUP = "default:postgres-15"


class RdsService:
    SERVICE = "rds"

    def __init__(self, emu):
        self.emu = emu
        self.delay_s = 0.3
        self.reset()

    def reset(self):
        with self.emu.lock:
            self.instances = {}   # (account, region, id) -> instance dict
            self.clusters = {}    # (account, region, id) -> cluster dict
            self.snaps = {}       # (kind, account, region, id) -> snapshot dict
            self.quotas = {}      # (account, region) -> {quota name: max} set by the control API
            self.copy_event_arn_region = "destination"
            # POST /_emu/rds/config: how long a copy takes in AWS time (0: delay_s, as creations)
            # and how many cross-Region copies may be in flight per account and destination
            self.copy_duration_s = 0.0
            self.max_cross_region_copies = MAX_CROSS_REGION_COPIES

    # ------------------------------------------------------------------ helpers
    def _arn(self, partition, region, account, res, ident):
        return "arn:%s:rds:%s:%s:%s:%s" % (partition, region, account, res, ident)

    @staticmethod
    def _tags_out(tags):
        return [{"Key": k, "Value": v} for k, v in tags.items()]

    def _snap_out(self, snap, ctx_account=None):
        out = {k: v for k, v in snap.items() if not k.startswith("_")}
        if snap.get("_copy_duration") and snap["Status"] != "available":
            # a copy that takes time reports how far it is, as RDS does, never 100 until done
            done = (self.emu.now() - snap["_copy_started"]) / snap["_copy_duration"]
            out["PercentProgress"] = max(0, min(99, int(done * 100)))
        out["TagList"] = self._tags_out(snap["_tags"])
        if ctx_account is not None and snap["_account"] != ctx_account:
            # shared snapshots are listed under their ARN
            out[KINDS[snap["_kind"]]["id"]] = snap[KINDS[snap["_kind"]]["arn"]]
            out["TagList"] = []
        return out

    def _emit(self, snap, event_id, message, arn_region=None):
        k = KINDS[snap["_kind"]]
        arn = snap[k["arn"]]
        if arn_region:  # the snapshot's ARN with another Region in it (copy_event_arn_region)
            parts = arn.split(":")
            parts[3] = arn_region
            arn = ":".join(parts)
        cats = {"RDS-EVENT-0090": "creation", "RDS-EVENT-0091": "creation",
                "RDS-EVENT-0040": "creation", "RDS-EVENT-0042": "creation",
                "RDS-EVENT-0041": "deletion"}.get(event_id, "notification")
        if snap["_kind"] == "cluster":
            cats = "backup"
        now = self.emu.now()
        detail = {"EventCategories": [cats], "SourceType": k["source_type"], "SourceArn": arn,
                  "Date": _iso_ms(now), "Message": message,
                  "SourceIdentifier": snap[k["id"]], "EventID": event_id}
        self.emu.services["events"].put_event(snap["_account"], snap["_region"], {
            "source": "aws.rds", "detail-type": k["detail_type"], "resources": [arn],
            "detail": detail})

    def _default_key(self, account, region):
        return self.emu.services["kms"].default_key(account, region, "rds")

    def _is_aws_managed(self, key_arn):
        meta = self.emu.services["kms"].key_metadata(key_arn) if key_arn else None
        return bool(meta) and meta.get("KeyManager") == "AWS"

    def _kms_check(self, ctx, key_ref, region, action):
        """kms.check_use via RDS for the caller; KMS refusals become KMSKeyNotAccessibleFault."""
        kms = self.emu.services["kms"]
        try:
            return kms.check_use(ctx.account, ctx.principal_arn, ctx.role_arn, key_ref, region,
                                 action, via_service="rds")
        except AwsError as exc:
            raise AwsError("KMSKeyNotAccessibleFault", "The specified KMS key %s does not "
                           "exist, is not enabled or you do not have permissions to access it "
                           "(%s)." % (key_ref, err_text(exc)), status=400)

    def _locate(self, ctx, kind, ref, allow_other_region=False):
        """Resolve an identifier or ARN to (account, region, id, snap or None)."""
        self._finish_due(self.emu.now())
        k = KINDS[kind]
        if ref.startswith("arn:"):
            p = arn_parts(ref)
            prefix = k["arn_res"] + ":"
            if p is None or p["service"] != "rds" or not p["resource"].startswith(prefix):
                raise _bad_param("Invalid %s ARN: %s" % (k["word"], ref))
            account, region, ident = p["account"], p["region"], p["resource"][len(prefix):]
        else:
            account, region, ident = ctx.account, ctx.region, ref
        ident = ident.lower()
        if region != ctx.region and not allow_other_region:
            return account, region, ident, None
        snap = self.snaps.get((kind, account, region, ident))
        if snap is not None and account != ctx.account and not self._shared_with(snap,
                                                                                ctx.account):
            snap = None
        return account, region, ident, snap

    @staticmethod
    def _shared_with(snap, account):
        r = snap["_restore"]
        return account in r or "all" in r

    def _not_found(self, kind, ident):
        k = KINDS[kind]
        if kind == "db":
            return AwsError(k["notfound"], "DBSnapshot not found: %s" % ident, status=404)
        return AwsError(k["notfound"], "DBClusterSnapshot not found: %s" % ident, status=404)

    def _own(self, ctx, kind, ref):
        account, region, ident, snap = self._locate(ctx, kind, ref)
        if snap is None or account != ctx.account:
            raise self._not_found(kind, ref)
        return snap

    # ------------------------------------------------------- instances/clusters
    def _new_instance(self, account, region, ident, kms_key=None, encrypted=True,
                      status="available", partition="aws", retention=DEFAULT_RETENTION_DAYS):
        if encrypted and not kms_key:
            kms_key = self._default_key(account, region)
        inst = {"DBInstanceIdentifier": ident, "DBInstanceClass": "db.t3.micro",
                "Engine": "postgres", "EngineVersion": "15.4", "DBInstanceStatus": status,
                "MasterUsername": "postgres", "AllocatedStorage": 20,
                "InstanceCreateTime": self.emu.now(), "AvailabilityZone": region + "a",
                "MultiAZ": False, "LicenseModel": "postgresql-license",
                "StorageType": "gp2", "StorageEncrypted": bool(encrypted),
                "DbiResourceId": "db-" + uuid.uuid4().hex[:26].upper(),
                "DBInstanceArn": self._arn(partition, region, account, "db", ident),
                "Endpoint": {"Address": "%s.emu.%s.rds.amazonaws.com" % (ident, region),
                             "Port": 5432},
                "BackupRetentionPeriod": retention, "PreferredBackupWindow": "03:00-03:30",
                "_tags": {}, "_account": account, "_region": region}
        if encrypted:
            inst["KmsKeyId"] = kms_key
        self.instances[(account, region, ident)] = inst
        return inst

    def _new_cluster(self, account, region, ident, kms_key=None, encrypted=True,
                     partition="aws", retention=DEFAULT_RETENTION_DAYS):
        if encrypted and not kms_key:
            kms_key = self._default_key(account, region)
        cl = {"DBClusterIdentifier": ident, "Engine": "aurora-postgresql",
              "EngineVersion": "15.4", "Status": "available", "MasterUsername": "postgres",
              "AllocatedStorage": 1, "ClusterCreateTime": self.emu.now(),
              "AvailabilityZones": [region + "a", region + "b"], "Port": 5432,
              "StorageEncrypted": bool(encrypted), "BackupRetentionPeriod": retention,
              "PreferredBackupWindow": "03:00-03:30",
              "DbClusterResourceId": "cluster-" + uuid.uuid4().hex[:26].upper(),
              "DBClusterArn": self._arn(partition, region, account, "cluster", ident),
              "_tags": {}, "_account": account, "_region": region}
        if encrypted:
            cl["KmsKeyId"] = kms_key
        self.clusters[(account, region, ident)] = cl
        return cl

    def _new_snap(self, kind, account, region, ident, owner, snap_type, status, kms_key,
                  encrypted, partition="aws"):
        k = KINDS[kind]
        now = self.emu.now()
        snap = {k["id"]: ident, k["owner"]: owner[k["owner"]], "SnapshotCreateTime": now,
                "Engine": owner["Engine"], "AllocatedStorage": owner["AllocatedStorage"],
                "Status": status, "Port": 5432, "MasterUsername": "postgres",
                "EngineVersion": owner["EngineVersion"], "SnapshotType": snap_type,
                "PercentProgress": 0 if status != "available" else 100,
                k["enc"]: bool(encrypted), k["arn"]: self._arn(partition, region, account,
                                                                k["arn_res"], ident),
                "IAMDatabaseAuthenticationEnabled": False, "LicenseModel": "postgresql-license",
                "_kind": kind, "_account": account, "_region": region, "_tags": {},
                "_restore": [], "_default_key": False,
                "_retention_days": owner.get("BackupRetentionPeriod", DEFAULT_RETENTION_DAYS)}
        if kind == "db":
            snap.update({"AvailabilityZone": region + "a", "VpcId": "vpc-emu",
                         "InstanceCreateTime": owner["InstanceCreateTime"],
                         "StorageType": "gp2", "DbiResourceId": owner.get("DbiResourceId"),
                         "OriginalSnapshotCreateTime": now,
                         "OptionGroupName": owner.get("_option_group", DEFAULT_OPTION_GROUP)})
        else:
            snap.update({"ClusterCreateTime": owner["ClusterCreateTime"],
                         "AvailabilityZones": [region + "a", region + "b"],
                         "EngineMode": "provisioned", "VpcId": "vpc-emu"})
        if encrypted:
            snap["KmsKeyId"] = kms_key
            snap["_default_key"] = self._is_aws_managed(kms_key)
        self.snaps[(kind, account, region, ident)] = snap
        return snap

    def _finish_due(self, now):
        """Copies that take copy_duration_s and whose end AWS time has reached become available
        (with their completion event). Called as the clock advances (clock_work at each copy's
        end, on_clock at every step) and, for real time passing between advances, whenever RDS
        is asked about snapshots."""
        due = sorted((s["_copy_due"], key) for key, s in self.snaps.items()
                     if s.get("_copy_due") is not None and s["_copy_due"] <= now and
                     s["Status"] != "available")
        for _t, key in due:
            self._finish(key, self.snaps[key]["_copy_event"])

    def _finish_due_locked(self, now):
        with self.emu.lock:
            self._finish_due(now)

    def clock_work(self, t0, t1, max_fires):
        """The ends of copies in flight that fall in (t0, t1]: an advance lives through them in
        time order (emu.lock held)."""
        work = [(s["_copy_due"], self._finish_due_locked) for s in self.snaps.values()
                if s.get("_copy_due") is not None and t0 < s["_copy_due"] <= t1 and
                s["Status"] != "available"]
        return work, 0

    def _finish(self, key, event):
        with self.emu.lock:
            snap = self.snaps.get(key)
            if snap is None or snap["Status"] == "available":
                return
            snap["Status"] = "available"
            snap["PercentProgress"] = 100
            if event:
                self._emit(snap, *event)

    # ------------------------------------------------------------ control route
    def control_routes(self):
        return {("POST", "/_emu/rds/automated-snapshot"): self._ctl_automated,
                ("POST", "/_emu/rds/config"): self._ctl_config,
                ("GET", "/_emu/rds/config"): lambda body: self._ctl_config({}),
                ("POST", "/_emu/rds/quotas"): self._ctl_quotas,
                ("GET", "/_emu/rds/quotas"): self._ctl_quotas}

    def _ctl_quotas(self, body):
        body = body or {}
        account, region = body.get("account"), body.get("region")
        if account not in self.emu.accounts or not region:
            return 400, {"error": "account (one of %s) and region are required"
                         % self.emu.accounts}
        values = {}
        for name in SETTABLE_QUOTAS:
            if name in body:
                try:
                    value = int(body[name])
                except (TypeError, ValueError):
                    value = -1
                if value < 0 or isinstance(body[name], bool):
                    return 400, {"error": "%s must be a whole number >= 0" % name}
                values[name] = value
        unknown = sorted(set(body) - set(SETTABLE_QUOTAS) - {"account", "region"})
        if unknown:
            return 400, {"error": "unknown quota %s (settable: %s)"
                         % (unknown[0], ", ".join(SETTABLE_QUOTAS))}
        with self.emu.lock:
            self.quotas.setdefault((account, region), {}).update(values)
            return 200, {"account": account, "region": region,
                         **{n: self._quota(account, region, n) for n in SETTABLE_QUOTAS}}

    def _quota(self, account, region, name):
        return self.quotas.get((account, region), {}).get(name, dict(DEFAULT_QUOTAS)[name])

    def _manual_count(self, kind, account, region):
        """Manual snapshots of a kind that the account owns in the Region, in any status."""
        return sum(1 for (kd, a, r, _), s in self.snaps.items()
                   if kd == kind and a == account and r == region and
                   s["SnapshotType"] == "manual")

    def DescribeAccountAttributes(self, ctx, params):
        ctx.authorize("rds:DescribeAccountAttributes", "*")
        used = {"ManualSnapshots": self._manual_count("db", ctx.account, ctx.region),
                "ManualClusterSnapshots": self._manual_count("cluster", ctx.account, ctx.region)}
        instances = [i for (a, r, _), i in self.instances.items()
                     if a == ctx.account and r == ctx.region]
        used["DBInstances"] = len(instances)
        used["AllocatedStorage"] = sum(i["AllocatedStorage"] for i in instances)
        used["DBClusters"] = sum(1 for (a, r, _) in self.clusters
                                 if a == ctx.account and r == ctx.region)
        return {"AccountQuotas": [
            {"AccountQuotaName": name, "Used": used.get(name, 0),
             "Max": self._quota(ctx.account, ctx.region, name)} for name, _ in DEFAULT_QUOTAS]}

    def on_clock(self, now):
        """AWS time reached `now` (emu.lock held): copies whose time is up are done
        (_finish_due); automated snapshots past their retention period are deleted, as RDS
        does; manual snapshots stay."""
        self._finish_due(now)
        for key, snap in list(self.snaps.items()):
            if snap["SnapshotType"] != "automated":
                continue
            kind, account, region, _ident = key
            store = self.clusters if kind == "cluster" else self.instances
            owner = store.get((account, region, snap[KINDS[kind]["owner"]]))
            days = owner["BackupRetentionPeriod"] if owner is not None else snap["_retention_days"]
            if now - snap["SnapshotCreateTime"] > days * 86400:
                del self.snaps[key]

    def _ctl_config(self, body):
        body = dict(body or {})
        unknown = sorted(set(body) - {"delay_s", "copy_event_arn_region", "copy_duration_s",
                                      "max_cross_region_copies"})
        if unknown:
            return 400, {"error": "unknown setting %s" % unknown[0]}
        try:
            numbers = {k: float(body[k]) for k in ("delay_s", "copy_duration_s") if k in body}
            if "max_cross_region_copies" in body:
                if isinstance(body["max_cross_region_copies"], bool):
                    raise ValueError
                numbers["max_cross_region_copies"] = int(body["max_cross_region_copies"])
        except (TypeError, ValueError):
            return 400, {"error": "delay_s and copy_duration_s (seconds), "
                                  "max_cross_region_copies (a whole number) must be numbers"}
        if any(not 0 <= v < float("inf") for v in numbers.values()):
            return 400, {"error": "delay_s, copy_duration_s and max_cross_region_copies must be "
                                  ">= 0"}
        if body.get("copy_event_arn_region", "source") not in ("source", "destination"):
            return 400, {"error": "copy_event_arn_region: source or destination"}
        with self.emu.lock:
            for name, value in numbers.items():
                setattr(self, name, value)
            if "copy_event_arn_region" in body:
                self.copy_event_arn_region = body["copy_event_arn_region"]
            return 200, {"delay_s": self.delay_s,
                         "copy_event_arn_region": self.copy_event_arn_region,
                         "copy_duration_s": self.copy_duration_s,
                         "max_cross_region_copies": self.max_cross_region_copies}

    def _ctl_automated(self, body):
        body = body or {}
        account, region = body.get("account"), body.get("region")
        if account not in self.emu.accounts or not region:
            return 400, {"error": "account (one of %s) and region are required"
                         % self.emu.accounts}
        kind = "cluster" if body.get("db_cluster") else "db"
        owner_id = (body.get("db_cluster") or body.get("db_instance") or "").lower()
        if not valid_identifier(owner_id, 63):
            return 400, {"error": "db_instance or db_cluster must be a valid identifier"}
        retention = body.get("backup_retention_days")
        if retention is not None and (isinstance(retention, bool) or
                                      not isinstance(retention, int) or not 1 <= retention <= 35):
            return 400, {"error": "backup_retention_days must be a whole number of days, 1..35 "
                                  "(RDS's BackupRetentionPeriod with automated backups on)"}
        encrypted = body.get("encrypted", True)
        if not isinstance(encrypted, bool):
            return 400, {"error": "encrypted must be true or false (JSON booleans)"}
        emit_event = body.get("emit_event", True)
        if not isinstance(emit_event, bool):
            return 400, {"error": "emit_event must be true or false (JSON booleans)"}
        option_group = body.get("option_group")
        if option_group is not None and (kind != "db" or not valid_identifier(option_group, 255)):
            return 400, {"error": "option_group: an option group name, for a db_instance"}
        partition = "aws-cn" if region.startswith("cn-") else \
            "aws-us-gov" if region.startswith("us-gov-") else "aws"
        with self.emu.lock:
            store = self.clusters if kind == "cluster" else self.instances
            owner = store.get((account, region, owner_id))
            if owner is None:
                days = DEFAULT_RETENTION_DAYS if retention is None else retention
                if kind == "cluster":
                    owner = self._new_cluster(account, region, owner_id, body.get("kms_key_id"),
                                               encrypted, partition, retention=days)
                else:
                    owner = self._new_instance(account, region, owner_id,
                                               body.get("kms_key_id"), encrypted,
                                               partition=partition, retention=days)
                    if option_group:
                        owner["_option_group"] = option_group.lower()
                        owner["OptionGroupMemberships"] = [
                            {"OptionGroupName": option_group.lower(), "Status": "in-sync"}]
            elif retention is not None:  # as ModifyDB*'s BackupRetentionPeriod would
                owner["BackupRetentionPeriod"] = retention
            ts = int(self.emu.now()) // 60 * 60
            while True:
                stamp = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
                    "%Y-%m-%d-%H-%M")
                ident = "rds:%s-%s" % (owner_id, stamp)
                if (kind, account, region, ident) not in self.snaps:
                    break
                ts += 60   # two in one minute: the later one takes the next minute's name
            snap = self._new_snap(kind, account, region, ident, owner, "automated", "creating",
                                  owner.get("KmsKeyId"), owner["StorageEncrypted"], partition)
            k = KINDS[kind]
            ev = k["ev_auto"]
            if emit_event:
                self._emit(snap, ev[0], ev[1])
            # "emit_event": false is an event lost on the way: the snapshot is taken, becomes
            # available, and nothing tells EventBridge (neither creating nor created)
            self.emu.submit(self._finish, (kind, account, region, ident),
                            (ev[2], ev[3]) if emit_event else None, delay_s=self.delay_s)
            return 200, {"snapshot_id": ident, "arn": snap[k["arn"]]}

    # --------------------------------------------------------------- describe
    def _describe(self, ctx, kind, params):
        self._finish_due(self.emu.now())
        k = KINDS[kind]
        action = "rds:Describe%ss" % k["op"]
        ident = params.get(k["id"])
        if ident:
            # with an identifier RDS authorizes against that snapshot's ARN
            account, region, sid, snap = self._locate(ctx, kind, ident)
            ctx.authorize(action, self._arn(ctx.partition, region, account, k["arn_res"], sid))
        else:
            ctx.authorize(action, self._arn(ctx.partition, ctx.region, ctx.account,
                                            k["arn_res"], "*"))
        max_records = params.get("MaxRecords")
        if max_records is not None and not 20 <= max_records <= 100:
            raise _bad_param("Invalid value %d for MaxRecords. Must be between 20 and 100"
                             % max_records)
        snap_type = params.get("SnapshotType")
        include_shared = bool(params.get("IncludeShared"))
        if ident:
            if snap is None:
                raise self._not_found(kind, ident)
            items = [snap]
        else:
            items = []
            for (kd, a, r, _), s in sorted(self.snaps.items(), key=lambda kv: kv[0]):
                if kd != kind or r != ctx.region:
                    continue
                own = a == ctx.account
                if own:
                    if snap_type in ("shared", "public"):
                        continue
                    items.append(s)
                elif self._shared_with(s, ctx.account) and (snap_type == "shared" or
                                                            (snap_type is None and
                                                             include_shared)):
                    items.append(s)
        if snap_type and snap_type not in ("shared", "public"):
            items = [s for s in items if s["SnapshotType"] == snap_type]
        owner_filter = params.get(k["owner"])
        if owner_filter:
            items = [s for s in items if s[k["owner"]] == owner_filter.lower() or
                     owner_filter.startswith("arn:") and owner_filter.endswith(
                         ":" + s[k["owner"]])]
        for f in params.get("Filters") or []:
            name, values = f["Name"], f["Values"]
            field = {"db-instance-id": k["owner"], "db-cluster-id": k["owner"],
                     "db-snapshot-id": k["id"], "db-cluster-snapshot-id": k["id"],
                     "snapshot-type": "SnapshotType", "engine": "Engine",
                     "dbi-resource-id": "DbiResourceId"}.get(name)
            if field is None:
                raise _bad_param("Unrecognized filter name: %s" % name)
            items = [s for s in items if s.get(field) in values or s.get(k["arn"]) in values]
        start = int(params.get("Marker") or 0)
        n = max_records or 100
        page = items[start:start + n]
        out = {k["list"]: [self._snap_out(s, ctx.account) for s in page]}
        if start + n < len(items):
            out["Marker"] = str(start + n)
        return out

    def DescribeDBSnapshots(self, ctx, params):
        return self._describe(ctx, "db", params)

    def DescribeDBClusterSnapshots(self, ctx, params):
        return self._describe(ctx, "cluster", params)

    # ----------------------------------------------------------------- manual
    def _create_manual(self, ctx, kind, params):
        k = KINDS[kind]
        ident = params[k["id"]]
        if not valid_identifier(ident, k["max_len"]):
            raise _bad_param("The parameter %s is not a valid identifier. %s"
                             % (k["id"], _ID_RULES))
        ident = ident.lower()
        owner_id = params[k["owner"]].lower()
        store = self.clusters if kind == "cluster" else self.instances
        owner = store.get((ctx.account, ctx.region, owner_id))
        arn = self._arn(ctx.partition, ctx.region, ctx.account, k["arn_res"], ident)
        ctx.authorize("rds:Create%s" % k["op"], arn)
        if owner is None:
            if kind == "db":
                raise AwsError("DBInstanceNotFound", "DBInstance %s not found." % owner_id,
                               status=404)
            raise AwsError("DBClusterNotFoundFault", "DBCluster %s not found." % owner_id,
                           status=404)
        if (kind, ctx.account, ctx.region, ident) in self.snaps:
            raise AwsError(k["exists"], "Cannot create the snapshot because a snapshot with "
                           "the identifier %s already exists." % ident)
        self._check_manual_quota(ctx, kind)
        snap = self._new_snap(kind, ctx.account, ctx.region, ident, owner, "manual", "creating",
                              owner.get("KmsKeyId"), owner["StorageEncrypted"], ctx.partition)
        for t in params.get("Tags") or []:
            snap["_tags"][t["Key"]] = t.get("Value", "")
        ev = k["ev_manual"]
        self._emit(snap, ev[0], ev[1])
        self.emu.submit(self._finish, (kind, ctx.account, ctx.region, ident), (ev[2], ev[3]),
                        delay_s=self.delay_s)
        return {k["out"]: self._snap_out(snap)}

    def _check_manual_quota(self, ctx, kind):
        limit = self._quota(ctx.account, ctx.region, KINDS[kind]["quota"])
        if self._manual_count(kind, ctx.account, ctx.region) >= limit:
            # AWS words it so for DB and DB cluster snapshots alike
            raise AwsError("SnapshotQuotaExceeded", "Cannot create more than %d manual snapshots"
                           % limit)

    def CreateDBSnapshot(self, ctx, params):
        return self._create_manual(ctx, "db", params)

    def CreateDBClusterSnapshot(self, ctx, params):
        return self._create_manual(ctx, "cluster", params)

    def _delete(self, ctx, kind, params):
        k = KINDS[kind]
        snap = self._own(ctx, kind, params[k["id"]])
        # IAM conditions on the snapshot's tags: rds:snapshot-tag/KEY, rds:cluster-snapshot-tag/KEY
        prefix = "rds:%s-tag/" % ("cluster-snapshot" if kind == "cluster" else "snapshot")
        ctx.authorize("rds:Delete%s" % k["op"], snap[k["arn"]],
                      {prefix + key: value for key, value in snap["_tags"].items()})
        if snap["SnapshotType"] == "automated":
            raise AwsError(k["state"], "Only manual snapshots may be deleted.")
        if snap["Status"] not in ("available", "failed", "copying", "creating"):
            raise AwsError(k["state"], "Snapshot %s is not in a deletable state: %s"
                           % (snap[k["id"]], snap["Status"]))
        del self.snaps[(kind, snap["_account"], snap["_region"], snap[k["id"]])]
        snap["Status"] = "deleted"
        if k["ev_deleted"]:
            self._emit(snap, *k["ev_deleted"])
        return {k["out"]: self._snap_out(snap)}

    def DeleteDBSnapshot(self, ctx, params):
        return self._delete(ctx, "db", params)

    def DeleteDBClusterSnapshot(self, ctx, params):
        return self._delete(ctx, "cluster", params)

    # ------------------------------------------------------------------- copy
    def _copy(self, ctx, kind, params):
        self._finish_due(self.emu.now())
        k = KINDS[kind]
        target = params[k["target_param"]]
        if target.lower().startswith("rds:") or not valid_identifier(target, k["max_len"]):
            raise _bad_param("The parameter %s is not a valid identifier. %s"
                             % (k["target_param"], _ID_RULES))
        target = target.lower()
        src_ref = params[k["source_param"]]
        account, region, sid, src = self._locate(ctx, kind, src_ref, allow_other_region=True)
        cross_region = region != ctx.region
        cross_account = account != ctx.account
        if params.get("SourceRegion") and not src_ref.startswith("arn:"):
            raise _bad_param("%s must be an ARN when SourceRegion is given." % k["source_param"])
        if cross_region and cross_account:
            raise _bad_param("A snapshot shared from another account can only be copied in "
                             "its own Region.")
        if src is None:
            raise self._not_found(kind, src_ref)
        src_arn = src[k["arn"]]
        tgt_arn = self._arn(ctx.partition, ctx.region, ctx.account, k["arn_res"], target)
        action = "rds:Copy%s" % k["op"]
        ctx.authorize(action, src_arn)
        ctx.authorize(action, tgt_arn)
        if params.get("Tags"):
            ctx.authorize("rds:AddTagsToResource", tgt_arn)
        if src["Status"] != "available":
            raise AwsError(k["state"], "Snapshot %s is not in the available state (%s)."
                           % (src[k["id"]], src["Status"]))
        if (kind, ctx.account, ctx.region, target) in self.snaps:
            raise AwsError(k["exists"], "Cannot create the snapshot because a snapshot with "
                           "the identifier %s already exists." % target)
        self._check_option_group(ctx, kind, src, params, cross_region)
        src_encrypted = bool(src[k["enc"]])
        key_ref = params.get("KmsKeyId")
        if key_ref and not src_encrypted and kind == "cluster":
            # AWS documents that this "returns an error" without naming it: the code is inferred
            # (RDS's code for parameters that may not go together). An unencrypted DB snapshot
            # copied with a key comes out encrypted with it; a DB cluster snapshot cannot.
            raise AwsError("InvalidParameterCombination", "Cannot specify KmsKeyId when copying "
                           "the unencrypted DB cluster snapshot %s: an unencrypted DB cluster "
                           "snapshot cannot be encrypted by copying it." % src[k["id"]])
        if src_encrypted and not key_ref and cross_region:
            raise _bad_param("KmsKeyId is required to copy an encrypted snapshot to another "
                             "Region.")
        if src_encrypted and not key_ref and cross_account:
            raise _bad_param("KmsKeyId is required to copy an encrypted snapshot shared from "
                             "another account.")
        if src_encrypted:
            # reading the source needs its key (via RDS, in the source Region)
            self._kms_check(ctx, src["KmsKeyId"], region, "kms:Decrypt")
        key_arn = None
        if key_ref:
            key_arn = self._kms_check(ctx, key_ref, ctx.region, "kms:CreateGrant")
            if arn_parts(key_arn)["region"] != ctx.region:
                raise AwsError("KMSKeyNotAccessibleFault", "The specified KMS key %s is not in "
                               "the destination Region %s: a copy must be encrypted with a key "
                               "of its own Region." % (key_ref, ctx.region), status=400)
            self._kms_check(ctx, key_arn, ctx.region, "kms:DescribeKey")
        elif src_encrypted:
            key_arn = src["KmsKeyId"]
        if cross_region:
            # copies of either kind from other Regions still in flight into this one; same-Region
            # copies do not count. The words are AWS's (seen when the limit was 5).
            copying = sum(1 for (kd, a, r, _), s in self.snaps.items()
                          if a == ctx.account and r == ctx.region and s.get("_cross_region")
                          and s["Status"] != "available")
            if copying >= self.max_cross_region_copies:
                raise AwsError("SnapshotQuotaExceeded", "Cannot copy more than %d snapshots "
                               "across regions" % self.max_cross_region_copies)
        self._check_manual_quota(ctx, kind)
        snap = self._new_snap(kind, ctx.account, ctx.region, target,
                              {k["owner"]: src[k["owner"]], "Engine": src["Engine"],
                               "AllocatedStorage": src["AllocatedStorage"],
                               "EngineVersion": src["EngineVersion"],
                               "InstanceCreateTime": src.get("InstanceCreateTime"),
                               "ClusterCreateTime": src.get("ClusterCreateTime"),
                               "DbiResourceId": src.get("DbiResourceId")},
                              "manual", "copying" if cross_region else "creating", key_arn,
                              src_encrypted or bool(key_arn), ctx.partition)
        snap["_copy"] = True
        snap["_cross_region"] = cross_region
        if kind == "db":
            snap["SourceDBSnapshotIdentifier"] = src_arn
            if cross_region:
                snap["SourceRegion"] = region
            snap["OriginalSnapshotCreateTime"] = src.get("OriginalSnapshotCreateTime",
                                                         src["SnapshotCreateTime"])
            snap["OptionGroupName"] = (params.get("OptionGroupName") or
                                       src.get("OptionGroupName") or DEFAULT_OPTION_GROUP)
        else:
            snap["SourceDBClusterSnapshotArn"] = src_arn
        if params.get("CopyTags") and not cross_account:
            snap["_tags"].update(src["_tags"])
        for t in params.get("Tags") or []:
            snap["_tags"][t["Key"]] = t.get("Value", "")
        finish = None
        if kind == "db":
            if cross_region:
                self._emit(snap, "RDS-EVENT-0059", "Started copy of snapshot %s from region %s."
                           % (src[k["id"]], region))
                finish = ("RDS-EVENT-0060", "Finished copy of snapshot %s from region %s in 0 "
                          "minutes." % (src[k["id"]], region),
                          region if self.copy_event_arn_region == "source" else None)
            else:
                self._emit(snap, "RDS-EVENT-0196", "Started copy of snapshot %s in region %s."
                           % (src[k["id"]], region))
                finish = ("RDS-EVENT-0197", "Finished copy of snapshot %s in region %s."
                          % (src[k["id"]], region))
        if self.copy_duration_s > 0:
            # it ends when AWS time reaches its end (_finish_due), not as queued work: an
            # advance waits for all queued work, in real time once past its end
            snap["_copy_started"] = self.emu.now()
            snap["_copy_duration"] = self.copy_duration_s
            snap["_copy_due"] = snap["_copy_started"] + self.copy_duration_s
            snap["_copy_event"] = finish
        else:
            self.emu.submit(self._finish, (kind, ctx.account, ctx.region, target), finish,
                            delay_s=self.delay_s)
        return {k["out"]: self._snap_out(snap)}

    def _check_option_group(self, ctx, kind, src, params, cross_region):
        """A DB snapshot of an instance with a non-default option group (Oracle or SQL Server TDE,
        Oracle's Timezone...) copied to another Region needs a target option group, as on AWS;
        naming one is authorized on the option group's ARN too."""
        target_og = params.get("OptionGroupName")
        if kind != "db":
            return
        if target_og:
            ctx.authorize("rds:CopyDBSnapshot",
                          self._arn(ctx.partition, ctx.region, ctx.account, "og", target_og))
        source_og = src.get("OptionGroupName") or DEFAULT_OPTION_GROUP
        if cross_region and not target_og and not source_og.startswith("default:"):
            raise _bad_param("The snapshot requires a target option group with the following "
                             "options: [TDE]")

    def CopyDBSnapshot(self, ctx, params):
        return self._copy(ctx, "db", params)

    def CopyDBClusterSnapshot(self, ctx, params):
        return self._copy(ctx, "cluster", params)

    # -------------------------------------------------------------- attributes
    def _attrs_out(self, kind, snap):
        k = KINDS[kind]
        return {k["attrs_result"]: {k["id"]: snap[k["id"]], k["attrs"]: [
            {"AttributeName": "restore", "AttributeValues": list(snap["_restore"])}]}}

    def _modify_attr(self, ctx, kind, params):
        k = KINDS[kind]
        snap = self._own(ctx, kind, params[k["id"]])
        ctx.authorize("rds:Modify%sAttribute" % k["op"], snap[k["arn"]])
        if params["AttributeName"] != "restore":
            raise _bad_param("Invalid snapshot attribute name: %s. The only supported "
                             "attribute is restore." % params["AttributeName"])
        if snap["SnapshotType"] == "automated":
            raise _bad_param("The snapshot %s is an automated snapshot: automated snapshots "
                             "cannot be shared. Copy it to a manual snapshot first."
                             % snap[k["id"]])
        if snap["Status"] != "available":
            raise AwsError(k["state"], "Snapshot %s is not in the available state (%s)."
                           % (snap[k["id"]], snap["Status"]))
        add = list(params.get("ValuesToAdd") or [])
        remove = list(params.get("ValuesToRemove") or [])
        for v in add + remove:
            if v != "all" and not re.fullmatch(r"\d{12}", v):
                raise _bad_param("Invalid AWS account id: %s" % v)
        if add and snap[k["enc"]]:
            if snap["_default_key"]:
                raise _bad_param("The snapshot %s is encrypted with the default key "
                                 "(aws/rds) of its account; snapshots encrypted with the "
                                 "default key cannot be shared. Copy it with a customer "
                                 "managed key first." % snap[k["id"]])
            if "all" in add:
                raise _bad_param("Encrypted snapshots cannot be shared publicly.")
        new = [v for v in snap["_restore"] if v not in remove]
        for v in add:
            if v not in new:
                new.append(v)
        if len([v for v in new if v != "all"]) > MAX_SHARED_ACCOUNTS:
            raise AwsError("SharedSnapshotQuotaExceeded", "You have exceeded the maximum "
                           "number of accounts (%d) with which you can share a manual "
                           "snapshot." % MAX_SHARED_ACCOUNTS)
        snap["_restore"] = new
        return self._attrs_out(kind, snap)

    def ModifyDBSnapshotAttribute(self, ctx, params):
        return self._modify_attr(ctx, "db", params)

    def ModifyDBClusterSnapshotAttribute(self, ctx, params):
        return self._modify_attr(ctx, "cluster", params)

    def DescribeDBSnapshotAttributes(self, ctx, params):
        snap = self._own(ctx, "db", params["DBSnapshotIdentifier"])
        ctx.authorize("rds:DescribeDBSnapshotAttributes", snap["DBSnapshotArn"])
        return self._attrs_out("db", snap)

    def DescribeDBClusterSnapshotAttributes(self, ctx, params):
        snap = self._own(ctx, "cluster", params["DBClusterSnapshotIdentifier"])
        ctx.authorize("rds:DescribeDBClusterSnapshotAttributes", snap["DBClusterSnapshotArn"])
        return self._attrs_out("cluster", snap)

    # -------------------------------------------------------------- instances
    def _inst_out(self, inst):
        out = {k: v for k, v in inst.items() if not k.startswith("_")}
        out["TagList"] = self._tags_out(inst["_tags"])
        return out

    def _get_instance(self, ctx, ref):
        ident = ref
        if ref.startswith("arn:"):
            p = arn_parts(ref)
            if not p or not p["resource"].startswith("db:") or p["account"] != ctx.account or \
                    p["region"] != ctx.region:
                raise AwsError("DBInstanceNotFound", "DBInstance %s not found." % ref,
                               status=404)
            ident = p["resource"][3:]
        inst = self.instances.get((ctx.account, ctx.region, ident.lower()))
        if inst is None:
            raise AwsError("DBInstanceNotFound", "DBInstance %s not found." % ref, status=404)
        return inst

    def DescribeDBInstances(self, ctx, params):
        ctx.authorize("rds:DescribeDBInstances",
                      self._arn(ctx.partition, ctx.region, ctx.account, "db", "*"))
        if params.get("DBInstanceIdentifier"):
            items = [self._get_instance(ctx, params["DBInstanceIdentifier"])]
        else:
            items = [i for (a, r, _), i in sorted(self.instances.items(), key=lambda kv: kv[0])
                     if a == ctx.account and r == ctx.region]
        for f in params.get("Filters") or []:
            if f["Name"] == "db-instance-id":
                items = [i for i in items if i["DBInstanceIdentifier"] in f["Values"] or
                         i["DBInstanceArn"] in f["Values"]]
            elif f["Name"] == "engine":
                items = [i for i in items if i["Engine"] in f["Values"]]
            else:
                raise _bad_param("Unrecognized filter name: %s" % f["Name"])
        start = int(params.get("Marker") or 0)
        n = params.get("MaxRecords") or 100
        out = {"DBInstances": [self._inst_out(i) for i in items[start:start + n]]}
        if start + n < len(items):
            out["Marker"] = str(start + n)
        return out

    def RestoreDBInstanceFromDBSnapshot(self, ctx, params):
        ident = params["DBInstanceIdentifier"]
        if not valid_identifier(ident, 63):
            raise _bad_param("The parameter DBInstanceIdentifier is not a valid identifier. "
                             + _ID_RULES)
        ident = ident.lower()
        ref = params.get("DBSnapshotIdentifier")
        if not ref:
            raise AwsError("InvalidParameterCombination", "DBSnapshotIdentifier is required.")
        account, region, sid, snap = self._locate(ctx, "db", ref)
        if snap is None:
            raise self._not_found("db", ref)
        arn = self._arn(ctx.partition, ctx.region, ctx.account, "db", ident)
        ctx.authorize("rds:RestoreDBInstanceFromDBSnapshot", arn)
        ctx.authorize("rds:RestoreDBInstanceFromDBSnapshot", snap["DBSnapshotArn"])
        if (ctx.account, ctx.region, ident) in self.instances:
            raise AwsError("DBInstanceAlreadyExists", "DB instance already exists")
        if snap["Status"] != "available":
            raise AwsError("InvalidDBSnapshotState", "Snapshot %s is not available." % ref)
        key = None
        if snap["Encrypted"]:
            key = self._kms_check(ctx, snap["KmsKeyId"], ctx.region, "kms:Decrypt")
            self._kms_check(ctx, snap["KmsKeyId"], ctx.region, "kms:CreateGrant")
        inst = self._new_instance(ctx.account, ctx.region, ident, key, snap["Encrypted"],
                                  status="creating", partition=ctx.partition)
        if params.get("DBInstanceClass"):
            inst["DBInstanceClass"] = params["DBInstanceClass"]
        for t in params.get("Tags") or []:
            inst["_tags"][t["Key"]] = t.get("Value", "")
        self.emu.submit(self._instance_available, (ctx.account, ctx.region, ident),
                        delay_s=self.delay_s)
        return {"DBInstance": self._inst_out(inst)}

    def _instance_available(self, key):
        with self.emu.lock:
            inst = self.instances.get(key)
            if inst is not None and inst["DBInstanceStatus"] == "creating":
                inst["DBInstanceStatus"] = "available"

    def DeleteDBInstance(self, ctx, params):
        inst = self._get_instance(ctx, params["DBInstanceIdentifier"])
        ctx.authorize("rds:DeleteDBInstance", inst["DBInstanceArn"])
        final = params.get("FinalDBSnapshotIdentifier")
        if not params.get("SkipFinalSnapshot") and not final:
            raise AwsError("InvalidParameterCombination", "FinalDBSnapshotIdentifier is "
                           "required unless SkipFinalSnapshot is specified.")
        if params.get("SkipFinalSnapshot") and final:
            raise AwsError("InvalidParameterCombination", "Cannot specify both "
                           "SkipFinalSnapshot and FinalDBSnapshotIdentifier.")
        if inst["DBInstanceStatus"] not in ("available", "stopped", "failed"):
            raise AwsError("InvalidDBInstanceState", "Instance %s is not in available state."
                           % inst["DBInstanceIdentifier"])
        if final:
            self._create_manual(ctx, "db", {"DBSnapshotIdentifier": final,
                                            "DBInstanceIdentifier":
                                            inst["DBInstanceIdentifier"]})
        inst["DBInstanceStatus"] = "deleting"
        del self.instances[(ctx.account, ctx.region, inst["DBInstanceIdentifier"])]
        if params.get("DeleteAutomatedBackups", True):
            for key in [key for key, s in self.snaps.items()
                        if key[0] == "db" and key[1] == ctx.account and key[2] == ctx.region and
                        s["SnapshotType"] == "automated" and
                        s["DBInstanceIdentifier"] == inst["DBInstanceIdentifier"]]:
                del self.snaps[key]
        return {"DBInstance": self._inst_out(inst)}

    # ------------------------------------------------------------------- tags
    def _tag_target(self, ctx, arn):
        p = arn_parts(arn)
        if p is None or p["service"] != "rds":
            raise _bad_param("Invalid resource name: %s" % arn)
        if p["account"] != ctx.account or p["region"] != ctx.region:
            raise _bad_param("The specified resource name does not match an RDS resource in "
                             "this region.")
        res = p["resource"]
        for kind, k in KINDS.items():
            prefix = k["arn_res"] + ":"
            if res.startswith(prefix):
                snap = self.snaps.get((kind, p["account"], p["region"], res[len(prefix):]))
                if snap is None:
                    raise self._not_found(kind, arn)
                return snap
        if res.startswith("db:"):
            return self._get_instance(ctx, arn)
        if res.startswith("cluster:"):
            cl = self.clusters.get((p["account"], p["region"], res[8:]))
            if cl is None:
                raise AwsError("DBClusterNotFoundFault", "DBCluster %s not found." % arn,
                               status=404)
            return cl
        raise _bad_param("Unsupported resource type in %s" % arn)

    def ListTagsForResource(self, ctx, params):
        obj = self._tag_target(ctx, params["ResourceName"])
        ctx.authorize("rds:ListTagsForResource", params["ResourceName"])
        return {"TagList": self._tags_out(obj["_tags"])}

    def AddTagsToResource(self, ctx, params):
        obj = self._tag_target(ctx, params["ResourceName"])
        ctx.authorize("rds:AddTagsToResource", params["ResourceName"])
        for t in params["Tags"]:
            obj["_tags"][t["Key"]] = t.get("Value", "")
        return {}

    def RemoveTagsFromResource(self, ctx, params):
        obj = self._tag_target(ctx, params["ResourceName"])
        ctx.authorize("rds:RemoveTagsFromResource", params["ResourceName"])
        for key in params["TagKeys"]:
            obj["_tags"].pop(key, None)
        return {}

    # -------------------------------------------------------------- inventory
    def inventory(self):
        out = []
        with self.emu.lock:
            self._finish_due(self.emu.now())
            for (a, r, _), inst in sorted(self.instances.items(), key=lambda kv: kv[0]):
                out.append({"account": a, "region": r, "type": "rds",
                            "id": inst["DBInstanceArn"]})
            for (a, r, _), cl in sorted(self.clusters.items(), key=lambda kv: kv[0]):
                out.append({"account": a, "region": r, "type": "rds", "id": cl["DBClusterArn"]})
            for (kind, a, r, _), s in sorted(self.snaps.items(), key=lambda kv: kv[0]):
                k = KINDS[kind]
                automated = s["SnapshotType"] == "automated"
                out.append({"account": a, "region": r,
                            "type": "rds" if automated else "rds:" + k["arn_res"],
                            "id": s[k["arn"]]})
        return out
