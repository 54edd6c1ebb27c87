"""EventBridge for the emulator: default and custom buses, rules, targets, bus policies,
PutEvents and the delivery engine (rule matching, Lambda, SNS topic and cross-Region/cross-account
bus targets: an event reaches the rules of the one bus it was put on or forwarded to), and
schedules: while POST /_emu/clock advances AWS time, every ENABLED rule with a
ScheduleExpression (emu/schedules.py) fires for the periods the advance crosses, with the event
EventBridge sends ("Scheduled Event" from aws.events, time = the period's boundary), to its
targets. At most max_fires_per_rule periods per rule and advance fire (default 1: the last one,
with its own time); the earlier ones are coalesced into it and counted.

Owner: H4.  Cross-service API (called by rds.py and the Lambda runtime):
    EventsService.put_event(account, region, event) -> event id
Helpers shared with lambda_svc.py / rds.py: arn_parts(), err_text().
Failures of delivery are recorded with emu.record_failed_delivery({time, rule_arn,
target_arn, reason, event_id}); nothing is silently dropped without a record.
"""

import datetime
import functools
import json
import re
import uuid

from . import patterns, schedules
from .core import AwsError

_RULE_NAME = re.compile(r"^[\.\-_A-Za-z0-9]{1,64}$")
_STATEMENT_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
MAX_TARGETS_PER_RULE = 5
DEFAULT_BUS = "default"
# CreateEventBus members of partner buses and of features the emulator does not model (newer
# models than python3-botocore 1.29's have the last three): refused rather than ignored
_UNMODELLED_BUS_MEMBERS = ("EventSourceName", "KmsKeyIdentifier", "DeadLetterConfig",
                           "LogConfig")


def json_compact(obj):
    return json.dumps(obj, separators=(",", ":"))


def arn_parts(arn):
    """'arn:partition:service:region:account:resource' -> dict or None."""
    if not isinstance(arn, str):
        return None
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return {"partition": parts[1], "service": parts[2], "region": parts[3],
            "account": parts[4], "resource": parts[5]}


def err_code(exc):
    code = getattr(exc, "code", None)
    return code if code else (exc.args[0] if exc.args else "Error")


def err_message(exc):
    msg = getattr(exc, "message", None)
    if msg is None:
        msg = exc.args[1] if len(exc.args) > 1 else ""
    return msg


def err_text(exc):
    return "%s: %s" % (err_code(exc), err_message(exc))


def _as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def _glob(pattern, value):
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value, re.S) is not None


def _iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


class EventsService:
    SERVICE = "events"

    def __init__(self, emu):
        self.emu = emu
        self.reset()

    def reset(self):
        with self.emu.lock:
            # (account, region, bus name) -> {"policy": dict|None, "tags": {}, ...}; a default
            # bus is made on first use, a custom one by CreateEventBus
            self.buses = {}
            # (account, region, bus name, rule name) -> rule dict
            self.rules = {}

    # ------------------------------------------------------------------ helpers
    def _bus_arn(self, partition, account, region, name="default"):
        return "arn:%s:events:%s:%s:event-bus/%s" % (partition, region, account, name)

    def _bus(self, key):
        """The bus of key (account, region, bus name): a default bus always exists (made here on
        first use), a custom bus only after CreateEventBus (None otherwise)."""
        if key[2] == DEFAULT_BUS and key not in self.buses:
            self.buses[key] = {"policy": None, "tags": {}}
        return self.buses.get(key)

    @staticmethod
    def _bus_ref(ref, account, region):
        """A bus name or ARN -> (account, region, bus name) or None; a name is a bus of
        account/region."""
        p = arn_parts(ref)
        if p is None:
            return account, region, ref or DEFAULT_BUS
        if p["service"] == "events" and p["resource"].startswith("event-bus/"):
            return p["account"], p["region"], p["resource"][len("event-bus/"):]
        return None

    def _resolve_bus(self, ctx, name):
        """A bus by name (the caller's) or ARN (any account, the caller's Region) -> its key
        (account, region, bus name); a custom bus must exist."""
        key = self._bus_ref(name, ctx.account, ctx.region)
        if key is not None and key[1] != ctx.region:
            raise AwsError("ValidationException", "Cross-region api call is not allowed.")
        if key is None or self._bus(key) is None:
            raise AwsError("ResourceNotFoundException", "Event bus %s does not exist." % name)
        return key

    def _rule_arn(self, partition, account, region, name, bus=DEFAULT_BUS):
        """rule/NAME on a default bus, rule/BUS/NAME on a custom one."""
        path = name if bus == DEFAULT_BUS else "%s/%s" % (bus, name)
        return "arn:%s:events:%s:%s:rule/%s" % (partition, region, account, path)

    def _get_rule(self, ctx, name, bus_name=None):
        bus_key = self._resolve_bus(ctx, bus_name)
        if bus_key[0] != ctx.account:
            raise AwsError("AccessDeniedException", "User: %s is not authorized to access "
                           "rules on another account's event bus" % ctx.principal_arn)
        rule = self.rules.get(bus_key + (name,))
        if rule is None:
            raise AwsError("ResourceNotFoundException",
                           "Rule %s does not exist on EventBus %s." % (name, bus_key[2]))
        return rule

    @staticmethod
    def _tags_out(tags):
        return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]

    # ------------------------------------------------------------------- rules
    def PutRule(self, ctx, params):
        name = params["Name"]
        if not _RULE_NAME.match(name):
            raise AwsError("ValidationException", "1 validation error detected: Value '%s' at "
                           "'name' failed to satisfy constraint: Member must satisfy regular "
                           "expression pattern: [\\.\\-_A-Za-z0-9]+" % name)
        pattern_text = params.get("EventPattern")
        schedule = params.get("ScheduleExpression")
        if not pattern_text and not schedule:
            raise AwsError("ValidationException",
                           "Parameter(s) EventPattern or ScheduleExpression must be specified.")
        parsed = None
        schedule_parsed = None
        if schedule:
            try:
                schedule_parsed = schedules.parse(schedule)
            except schedules.ScheduleError as exc:
                raise AwsError("ValidationException", "Parameter ScheduleExpression is not valid."
                               " Reason: %s." % exc.reason)
        if pattern_text:
            try:
                parsed = patterns.parse(pattern_text)
            except patterns.PatternError as exc:
                raise AwsError("InvalidEventPatternException",
                               "Event pattern is not valid. Reason: %s" % exc.reason)
        state = params.get("State", "ENABLED")
        if state not in ("ENABLED", "DISABLED"):
            raise AwsError("ValidationException", "1 validation error detected: Value '%s' at "
                           "'state' failed to satisfy constraint: Member must satisfy enum "
                           "value set: [ENABLED, DISABLED]" % state)
        with self.emu.lock:
            account, region, bus = bus_key = self._resolve_bus(ctx, params.get("EventBusName"))
            if schedule and bus != DEFAULT_BUS:
                raise AwsError("ValidationException", "ScheduleExpression is supported only on "
                               "the default event bus.")
            arn = self._rule_arn(ctx.partition, account, region, name, bus)
            ctx.authorize("events:PutRule", arn)
            if params.get("Tags"):
                ctx.authorize("events:TagResource", arn)
            rule = self.rules.get(bus_key + (name,))
            if rule is None:
                rule = {"Name": name, "Arn": arn, "EventBusName": bus, "targets": {},
                        "tags": {}, "account": account, "region": region,
                        "created": self.emu.now()}
                self.rules[bus_key + (name,)] = rule
            rule["EventPattern"] = pattern_text
            rule["pattern"] = parsed
            rule["ScheduleExpression"] = schedule
            rule["schedule"] = schedule_parsed
            rule["State"] = state
            rule["Description"] = params.get("Description")
            rule["RoleArn"] = params.get("RoleArn")
            for t in params.get("Tags") or []:
                rule["tags"][t["Key"]] = t["Value"]
            return {"RuleArn": arn}

    def _rule_out(self, rule):
        out = {"Name": rule["Name"], "Arn": rule["Arn"], "State": rule["State"],
               "EventBusName": rule["EventBusName"]}
        for k in ("EventPattern", "ScheduleExpression", "Description", "RoleArn"):
            if rule.get(k):
                out[k] = rule[k]
        return out

    def DescribeRule(self, ctx, params):
        with self.emu.lock:
            rule = self._get_rule(ctx, params["Name"], params.get("EventBusName"))
            ctx.authorize("events:DescribeRule", rule["Arn"])
            out = self._rule_out(rule)
            out["CreatedBy"] = rule["account"]
            return out

    def DeleteRule(self, ctx, params):
        with self.emu.lock:
            account, region, bus = bus_key = self._resolve_bus(ctx, params.get("EventBusName"))
            name = params["Name"]
            ctx.authorize("events:DeleteRule",
                          self._rule_arn(ctx.partition, account, region, name, bus))
            rule = self.rules.get(bus_key + (name,))
            if rule is None:
                return {}
            if rule["targets"]:
                raise AwsError("ValidationException", "Rule can't be deleted since it has "
                               "targets.")
            del self.rules[bus_key + (name,)]
            return {}

    def _set_state(self, ctx, params, state, action):
        with self.emu.lock:
            rule = self._get_rule(ctx, params["Name"], params.get("EventBusName"))
            ctx.authorize(action, rule["Arn"])
            rule["State"] = state
            return {}

    def EnableRule(self, ctx, params):
        return self._set_state(ctx, params, "ENABLED", "events:EnableRule")

    def DisableRule(self, ctx, params):
        return self._set_state(ctx, params, "DISABLED", "events:DisableRule")

    @staticmethod
    def _page(items, token, limit, default_limit=100):
        start = 0
        if token:
            try:
                start = int(token)
            except ValueError:
                raise AwsError("ValidationException", "The nextToken provided is invalid.")
        limit = limit or default_limit
        page = items[start:start + limit]
        nxt = str(start + limit) if start + limit < len(items) else None
        return page, nxt

    def ListRules(self, ctx, params):
        with self.emu.lock:
            account, region, bus = bus_key = self._resolve_bus(ctx, params.get("EventBusName"))
            ctx.authorize("events:ListRules", self._rule_arn(ctx.partition, account, region,
                                                             "*", bus))
            prefix = params.get("NamePrefix") or ""
            rules = sorted((r for key, r in self.rules.items()
                            if key[:3] == bus_key and key[3].startswith(prefix)),
                           key=lambda r: r["Name"])
            page, nxt = self._page(rules, params.get("NextToken"), params.get("Limit"))
            out = {"Rules": [self._rule_out(r) for r in page]}
            if nxt:
                out["NextToken"] = nxt
            return out

    def ListRuleNamesByTarget(self, ctx, params):
        with self.emu.lock:
            bus_key = self._resolve_bus(ctx, params.get("EventBusName"))
            names = sorted(r["Name"] for key, r in self.rules.items()
                           if key[:3] == bus_key and
                           any(t["Arn"] == params["TargetArn"] for t in r["targets"].values()))
            page, nxt = self._page(names, params.get("NextToken"), params.get("Limit"))
            out = {"RuleNames": page}
            if nxt:
                out["NextToken"] = nxt
            return out

    # ----------------------------------------------------------------- targets
    def PutTargets(self, ctx, params):
        with self.emu.lock:
            rule = self._get_rule(ctx, params["Rule"], params.get("EventBusName"))
            ctx.authorize("events:PutTargets", rule["Arn"])
            targets = params["Targets"]
            ids = [t["Id"] for t in targets]
            if len(set(ids)) != len(ids):
                raise AwsError("ValidationException", "Target ids must be unique.")
            new_ids = set(ids) - set(rule["targets"])
            if len(rule["targets"]) + len(new_ids) > MAX_TARGETS_PER_RULE:
                raise AwsError("LimitExceededException", "The requested resource exceeds the "
                               "maximum number allowed.")
            failed = []
            for t in targets:
                reason = self._check_target(ctx, rule, t)
                if reason:
                    failed.append({"TargetId": t["Id"], "ErrorCode": reason[0],
                                   "ErrorMessage": reason[1]})
                    continue
                stored = {k: v for k, v in t.items() if v is not None}
                rule["targets"][t["Id"]] = stored
            return {"FailedEntryCount": len(failed), "FailedEntries": failed}

    def _check_target(self, ctx, rule, t):
        """Return None or (ErrorCode, ErrorMessage); raises for request-level refusals."""
        p = arn_parts(t["Arn"])
        if p is None:
            raise AwsError("ValidationException", "Parameter %s is not valid. Reason: Provided "
                           "Arn is not in correct format." % t["Arn"])
        if t.get("InputTransformer"):
            return ("ValidationException", "InputTransformer is not supported by this emulator.")
        if t.get("Input") and t.get("InputPath"):
            raise AwsError("ValidationException", "Only one of Input, InputPath, or "
                           "InputTransformer can be provided.")
        if t.get("InputPath") and not re.fullmatch(r"\$(\.[A-Za-z0-9_-]+)*",
                                                    t["InputPath"]):
            return ("ValidationException", "InputPath %s is not supported by this emulator "
                    "(only $ and $.a.b paths)." % t["InputPath"])
        role_arn = t.get("RoleArn")
        if role_arn:
            rp = arn_parts(role_arn)
            if rp is None or rp["service"] != "iam" or not rp["resource"].startswith("role/"):
                raise AwsError("ValidationException", "Parameter(s) RoleArn is not valid. "
                               "Reason: Provided Arn is not in correct format.")
            # EventBridge passes the role: the caller needs iam:PassRole on it
            ctx.authorize("iam:PassRole", role_arn)
        if p["service"] == "lambda":
            if not p["resource"].startswith("function:"):
                return ("ValidationException", "Invalid Lambda function ARN.")
            if p["region"] != rule["region"]:
                return ("ValidationException", "Lambda target must be in the same region as "
                        "the rule.")
            return None
        if p["service"] == "sns":
            # EventBridge delivers to topics of the rule's Region only, AWS's refusal as users
            # report it; another account's topic (AWS, since 2025) through a role of the rule's
            # account that EventBridge assumes
            if p["region"] != rule["region"]:
                raise AwsError("ValidationException", "Cross-region api call is not allowed.")
            if p["account"] != rule["account"] and not role_arn:
                raise AwsError("ValidationException", "RoleArn is required for target %s: a "
                               "topic in another account needs a role that may sns:Publish to "
                               "it." % t["Id"])
            return None
        if p["service"] == "events" and p["resource"].startswith("event-bus/"):
            if p["region"] != rule["region"] and not role_arn:
                raise AwsError("ValidationException", "RoleArn is required for target %s: an "
                               "event bus in another Region needs a role that may "
                               "events:PutEvents on it." % t["Id"])
            # whether the bus exists is not known here (it may be another account's): a
            # missing one fails at delivery
            if (p["account"], p["region"], p["resource"][len("event-bus/"):]) == \
                    (rule["account"], rule["region"], rule["EventBusName"]):
                return ("ValidationException", "The target cannot be the event bus of the "
                        "rule itself.")
            return None
        return ("ValidationException", "Target type %s is not supported by this emulator."
                % p["service"])

    def RemoveTargets(self, ctx, params):
        with self.emu.lock:
            rule = self._get_rule(ctx, params["Rule"], params.get("EventBusName"))
            ctx.authorize("events:RemoveTargets", rule["Arn"])
            failed = []
            for tid in params["Ids"]:
                if tid in rule["targets"]:
                    del rule["targets"][tid]
            return {"FailedEntryCount": len(failed), "FailedEntries": failed}

    def ListTargetsByRule(self, ctx, params):
        with self.emu.lock:
            rule = self._get_rule(ctx, params["Rule"], params.get("EventBusName"))
            ctx.authorize("events:ListTargetsByRule", rule["Arn"])
            items = [dict(t) for t in rule["targets"].values()]
            page, nxt = self._page(items, params.get("NextToken"), params.get("Limit"))
            out = {"Targets": page}
            if nxt:
                out["NextToken"] = nxt
            return out

    # -------------------------------------------------------------------- buses
    @staticmethod
    def _check_custom_bus_name(name):
        """What CreateEventBus refuses beyond the model's pattern and length: the "aws." prefix
        (AWS's words), the default bus's name and "/" (both reserved, for the default and for
        partner buses, by the CreateEventBus documentation)."""
        if name.startswith("aws."):
            raise AwsError("ValidationException", "EventBus name starting with 'aws.' is not "
                           "valid.")
        if "/" in name:
            raise AwsError("ValidationException", "Event bus name %s is not valid: custom event "
                           "bus names can't contain '/'." % name)
        if name == DEFAULT_BUS:
            raise AwsError("ValidationException", "Event bus name default is not valid: it is "
                           "the name of the account's default event bus.")

    def CreateEventBus(self, ctx, params):
        name = params["Name"]
        for member in _UNMODELLED_BUS_MEMBERS:
            if params.get(member) is not None:
                raise AwsError("ValidationException", "%s is not supported by this emulator "
                               "(custom event buses only, without encryption, dead-letter "
                               "queue or logging)." % member)
        self._check_custom_bus_name(name)
        with self.emu.lock:
            key = (ctx.account, ctx.region, name)
            arn = self._bus_arn(ctx.partition, *key)
            ctx.authorize("events:CreateEventBus", arn)
            if params.get("Tags"):
                ctx.authorize("events:TagResource", arn)
            if key in self.buses:
                raise AwsError("ResourceAlreadyExistsException",
                               "Event bus %s already exists." % name)
            now = self.emu.now()
            self.buses[key] = {"policy": None, "Arn": arn, "created": now, "modified": now,
                               "Description": params.get("Description"),
                               "tags": {t["Key"]: t["Value"] for t in params.get("Tags") or []}}
            out = {"EventBusArn": arn}
            if params.get("Description"):
                out["Description"] = params["Description"]
            return out

    def DeleteEventBus(self, ctx, params):
        name = params["Name"]
        with self.emu.lock:
            key = (ctx.account, ctx.region, name)
            ctx.authorize("events:DeleteEventBus", self._bus_arn(ctx.partition, *key))
            if name == DEFAULT_BUS:
                raise AwsError("ValidationException", "Cannot delete event bus default.")
            if key not in self.buses:
                return {}   # as on AWS: deleting a missing bus succeeds
            # the API refuses (the console deletes the rules first), in AWS's words
            if any(rule_key[:3] == key for rule_key in self.rules):
                raise AwsError("ValidationException", "EventBus can't be deleted since it has "
                               "rules.")
            del self.buses[key]
            return {}

    def _bus_out(self, key, arn):
        """A bus as DescribeEventBus and ListEventBuses describe it (members the model lacks,
        such as CreationTime in python3-botocore 1.29's, are left out by the serialiser)."""
        bus = self._bus(key)
        out = {"Name": key[2], "Arn": arn}
        if bus["policy"] and bus["policy"].get("Statement"):
            out["Policy"] = json_compact(bus["policy"])
        if key[2] != DEFAULT_BUS:
            if bus.get("Description"):
                out["Description"] = bus["Description"]
            out["CreationTime"] = bus["created"]
            out["LastModifiedTime"] = bus["modified"]
        return out

    def DescribeEventBus(self, ctx, params):
        with self.emu.lock:
            key = self._resolve_bus(ctx, params.get("Name"))
            arn = self._bus_arn(ctx.partition, *key)
            ctx.authorize("events:DescribeEventBus", arn)
            return self._bus_out(key, arn)

    def ListEventBuses(self, ctx, params):
        with self.emu.lock:
            arn = self._bus_arn(ctx.partition, ctx.account, ctx.region)
            ctx.authorize("events:ListEventBuses", arn)
            prefix = params.get("NamePrefix") or ""
            self._bus((ctx.account, ctx.region, DEFAULT_BUS))
            keys = sorted(k for k in self.buses
                          if k[:2] == (ctx.account, ctx.region) and k[2].startswith(prefix))
            page, nxt = self._page(keys, params.get("NextToken"), params.get("Limit"))
            out = {"EventBuses": [self._bus_out(k, self._bus_arn(ctx.partition, *k))
                                  for k in page]}
            if nxt:
                out["NextToken"] = nxt
            return out

    # --------------------------------------------------------------- bus policy
    def _set_policy(self, bus, policy):
        bus["policy"] = policy
        bus["modified"] = self.emu.now()

    def PutPermission(self, ctx, params):
        with self.emu.lock:
            key = self._resolve_bus(ctx, params.get("EventBusName"))
            arn = self._bus_arn(ctx.partition, *key)
            ctx.authorize("events:PutPermission", arn)
            bus = self._bus(key)
            if params.get("Policy"):
                for k in ("Action", "Principal", "StatementId", "Condition"):
                    if params.get(k):
                        raise AwsError("ValidationException", "Policy cannot be combined with "
                                       "Action, Principal, StatementId or Condition.")
                try:
                    doc = json.loads(params["Policy"])
                except ValueError:
                    raise AwsError("ValidationException", "Policy is not valid JSON.")
                if not isinstance(doc, dict) or not isinstance(doc.get("Statement"), list):
                    raise AwsError("ValidationException", "Policy must contain a Statement "
                                   "array.")
                for st in doc["Statement"]:
                    if not isinstance(st, dict) or st.get("Effect") not in ("Allow", "Deny"):
                        raise AwsError("ValidationException", "Policy statement is not valid.")
                self._check_policy_size(doc)
                self._set_policy(bus, doc)
                return {}
            action = params.get("Action")
            principal = params.get("Principal")
            sid = params.get("StatementId")
            if not action or not principal or not sid:
                raise AwsError("ValidationException", "Parameter(s) Action, Principal and "
                               "StatementId must be specified (or Policy).")
            if action != "events:PutEvents":
                raise AwsError("ValidationException", "Provided value in parameter 'action' is "
                               "not supported.")
            if not _STATEMENT_ID.match(sid):
                raise AwsError("ValidationException", "Parameter StatementId is not valid.")
            if principal != "*" and not re.fullmatch(r"\d{12}", principal):
                raise AwsError("ValidationException", "Parameter Principal is not valid: it "
                               "must be a 12-digit account id or *.")
            st = {"Sid": sid, "Effect": "Allow",
                  "Principal": "*" if principal == "*" else
                  {"AWS": "arn:%s:iam::%s:root" % (ctx.partition, principal)},
                  "Action": "events:PutEvents", "Resource": arn}
            cond = params.get("Condition")
            if cond:
                st["Condition"] = {cond["Type"]: {cond["Key"]: cond["Value"]}}
            pol = dict(bus["policy"] or {"Version": "2012-10-17", "Statement": []})
            pol["Statement"] = [s for s in pol["Statement"] if s.get("Sid") != sid] + [st]
            self._check_policy_size(pol)
            self._set_policy(bus, pol)
            return {}

    def _check_policy_size(self, policy):
        """The "Event bus policy size" quota: 10,240 characters by default (adjustable; the
        emulator option events_policy_quota), counted on the policy as stored (compact JSON)."""
        quota = int(self.emu.options.get("events_policy_quota", 10240))
        size = len(json_compact(policy))
        if size > quota:
            raise AwsError("PolicyLengthExceededException",
                           "The policy would be %d characters; the event bus policy size quota is "
                           "%d." % (size, quota))

    def RemovePermission(self, ctx, params):
        with self.emu.lock:
            key = self._resolve_bus(ctx, params.get("EventBusName"))
            arn = self._bus_arn(ctx.partition, *key)
            ctx.authorize("events:RemovePermission", arn)
            bus = self._bus(key)
            if params.get("RemoveAllPermissions"):
                self._set_policy(bus, None)
                return {}
            sid = params.get("StatementId")
            if not sid:
                raise AwsError("ValidationException", "Parameter StatementId must be "
                               "specified unless RemoveAllPermissions is true.")
            pol = bus["policy"]
            if not pol or not pol.get("Statement"):
                raise AwsError("ResourceNotFoundException", "EventBus does not have a policy.")
            rest = [s for s in pol["Statement"] if s.get("Sid") != sid]
            if len(rest) == len(pol["Statement"]):
                raise AwsError("ResourceNotFoundException",
                               "Statement with the provided id does not exist.")
            pol["Statement"] = rest
            self._set_policy(bus, pol if rest else None)
            return {}

    def bus_admits(self, bus_key, sender_account, event, partition="aws"):
        """Does the policy of the bus (account, region, name) let sender_account
        events:PutEvents this event (its "source" and "detail-type" are the condition keys
        events:source and events:detail-type)?"""
        if bus_key[0] == sender_account:
            return True
        bus = self.buses.get(bus_key)
        pol = bus["policy"] if bus else None
        if not pol:
            return False
        arn = self._bus_arn(partition, *bus_key)
        context = {"aws:PrincipalAccount": sender_account, "aws:SourceAccount": sender_account,
                   "events:source": event["source"], "events:detail-type": event["detail-type"]}
        context.update(self.emu.principal_org_keys(sender_account))
        allowed = False
        for st in _as_list(pol.get("Statement")):
            if not self._stmt_applies(st, arn, sender_account, context):
                continue
            if st.get("Effect") == "Deny":
                return False
            allowed = True
        return allowed

    @staticmethod
    def _stmt_applies(st, bus_arn, sender, context):
        actions = _as_list(st.get("Action"))
        if not any(_glob(a, "events:PutEvents") for a in actions if isinstance(a, str)):
            return False
        res = _as_list(st.get("Resource")) or ["*"]
        if not any(_glob(r, bus_arn) for r in res if isinstance(r, str)):
            return False
        pr = st.get("Principal")
        if pr == "*":
            ok = True
        elif isinstance(pr, dict):
            ok = False
            for p in _as_list(pr.get("AWS")):
                if p == "*" or p == sender or (isinstance(p, str) and
                                               re.fullmatch(r"arn:[^:]+:iam::%s:.*" % sender,
                                                            p)):
                    ok = True
        else:
            ok = False
        if not ok:
            return False
        from .iam import conditions_match
        return conditions_match(st.get("Condition") or {}, context)

    # ------------------------------------------------------------------ events
    def PutEvents(self, ctx, params):
        entries = params["Entries"]
        if not 1 <= len(entries) <= 10:
            raise AwsError("ValidationException", "1 validation error detected: Value at "
                           "'entries' failed to satisfy constraint: Member must have length "
                           "less than or equal to 10")
        # the identity-policy check is per request (AccessDeniedException for the whole call)
        for e in entries:
            bus_name = e.get("EventBusName")
            p = arn_parts(bus_name) if bus_name else None
            if p and p["service"] == "events" and p["resource"].startswith("event-bus/"):
                arn = bus_name
            elif bus_name and not bus_name.startswith("arn:"):
                arn = self._bus_arn(ctx.partition, ctx.account, ctx.region, bus_name)
            else:
                arn = self._bus_arn(ctx.partition, ctx.account, ctx.region)
            ctx.authorize("events:PutEvents", arn)
        results = []
        failed = 0
        for e in entries:
            res = self._put_one(ctx, e)
            if "ErrorCode" in res:
                failed += 1
            results.append(res)
        return {"FailedEntryCount": failed, "Entries": results}

    def _put_one(self, ctx, e):
        for field in ("Source", "DetailType", "Detail"):
            if not e.get(field):
                return {"ErrorCode": "InvalidArgument", "ErrorMessage": "Parameter %s is not "
                        "valid. Reason: %s is a required argument." % (field, field)}
        try:
            detail = json.loads(e["Detail"])
        except ValueError:
            detail = None
        if not isinstance(detail, dict):
            return {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
        if e["Source"].startswith("aws."):
            return {"ErrorCode": "NotAuthorizedForSourceException", "ErrorMessage":
                    "Not authorized for the source."}
        when = e.get("Time")
        ts = when.timestamp() if isinstance(when, datetime.datetime) else self.emu.now()
        event = {"source": e["Source"], "detail-type": e["DetailType"],
                 "resources": list(e.get("Resources") or []), "detail": detail,
                 "time": _iso(ts)}
        with self.emu.lock:
            bus_name = e.get("EventBusName")
            bus_key = self._bus_ref(bus_name, ctx.account, ctx.region)
            if bus_key is None:
                return {"ErrorCode": "ResourceNotFoundException",
                        "ErrorMessage": "Event bus %s does not exist." % bus_name}
            arn = self._bus_arn(ctx.partition, *bus_key)
            if bus_key[1] != ctx.region:
                return {"ErrorCode": "InvalidArgument", "ErrorMessage": "Cross-region "
                        "PutEvents is not allowed."}
            if self._bus(bus_key) is None:
                return {"ErrorCode": "ResourceNotFoundException",
                        "ErrorMessage": "Event bus %s does not exist." % bus_name}
            if not self.bus_admits(bus_key, ctx.account, event, ctx.partition):
                return {"ErrorCode": "AccessDeniedException", "ErrorMessage": "Not authorized "
                        "to put events on event bus %s." % arn}
        eid = self.put_event(ctx.account, ctx.region, event, dest_account=bus_key[0],
                             dest_bus=bus_key[2])
        return {"EventId": eid}

    def put_event(self, account, region, event, dest_account=None, dest_bus=DEFAULT_BUS):
        """Inject an event (its account/region are `account`/`region`) into the bus dest_bus
        (default: the default bus) of dest_account (default: account) in `region`; delivery
        is asynchronous."""
        ev = {"version": "0", "id": str(uuid.uuid4()),
              "detail-type": event.get("detail-type", ""), "source": event.get("source", ""),
              "account": account, "time": event.get("time") or _iso(self.emu.now()),
              "region": region, "resources": list(event.get("resources") or []),
              "detail": event.get("detail") or {}}
        self.emu.submit(self._deliver_on_bus, (dest_account or account, region, dest_bus), ev, 0)
        return ev["id"]

    def TestEventPattern(self, ctx, params):
        try:
            pat = patterns.parse(params["EventPattern"])
        except patterns.PatternError as exc:
            raise AwsError("InvalidEventPatternException",
                           "Event pattern is not valid. Reason: %s" % exc.reason)
        try:
            event = json.loads(params["Event"])
        except ValueError:
            raise AwsError("ValidationException", "Parameter Event is not valid.")
        if not isinstance(event, dict):
            raise AwsError("ValidationException", "Parameter Event is not valid.")
        for f in ("id", "account", "source", "time", "region", "detail-type"):
            if f not in event:
                raise AwsError("ValidationException", "Parameter Event is not valid. Reason: "
                               "Provided event is missing required field %s" % f)
        return {"Result": patterns.matches(pat, event)}

    # --------------------------------------------------------------- schedules
    def clock_work(self, t0, t1, max_fires):
        """The schedule rules' fires in (t0, t1] (called by the core's clock advance, emu.lock
        held): ([(time, fire)], coalesced)."""
        work, coalesced = [], 0
        for key, rule in sorted(self.rules.items()):
            if rule["State"] != "ENABLED" or rule.get("schedule") is None:
                continue
            times, count = rule["schedule"].times(t0, t1, rule["created"], max_fires)
            coalesced += count - len(times)
            fire = functools.partial(self._fire_scheduled, key, rule["Arn"])
            work.extend((t, fire) for t in times)
        return work, coalesced

    def _fire_scheduled(self, key, rule_arn, t):
        """The event EventBridge sends for a schedule, to the rule's targets (if the rule is still
        there and enabled)."""
        with self.emu.lock:
            rule = self.rules.get(key)
            if rule is None or rule["Arn"] != rule_arn or rule["State"] != "ENABLED" or \
                    rule.get("schedule") is None:
                return
            event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
                     "source": "aws.events", "account": rule["account"], "time": _iso(t),
                     "region": rule["region"], "resources": [rule["Arn"]], "detail": {}}
            jobs = [(dict(rule, targets=None), dict(target)) for target in rule["targets"].values()]
        for rule_copy, target in jobs:
            self.emu.submit(self._deliver_to_target, rule_copy, target, event, 0)

    # ---------------------------------------------------------------- delivery
    def _deliver_on_bus(self, bus_key, event, hops):
        """The event to the matching rules of the one bus bus_key (account, region, name)."""
        if hops > 5:
            return
        jobs = []
        with self.emu.lock:
            for key, rule in sorted(self.rules.items()):
                if key[:3] != bus_key or rule["State"] != "ENABLED":
                    continue
                if rule["pattern"] is None or not patterns.matches(rule["pattern"], event):
                    continue
                for t in rule["targets"].values():
                    jobs.append((dict(rule, targets=None), dict(t)))
        for rule, target in jobs:
            self.emu.submit(self._deliver_to_target, rule, target, event, hops)

    def _fail(self, rule, target, event, reason):
        self.emu.record_failed_delivery({"time": self.emu.now(), "rule_arn": rule["Arn"],
                                         "target_arn": target["Arn"], "reason": reason,
                                         "event_id": event["id"]})

    def _deliver_to_target(self, rule, target, event, hops):
        p = arn_parts(target["Arn"])
        payload = event
        if target.get("Input"):
            try:
                payload = json.loads(target["Input"])
            except ValueError:
                payload = target["Input"]
        elif target.get("InputPath"):
            for part in target["InputPath"].split(".")[1:]:
                payload = payload.get(part) if isinstance(payload, dict) else None
        if p["service"] == "lambda":
            try:
                self.emu.services["lambda"].invoke_async(
                    p["account"], p["region"], target["Arn"], payload,
                    source_arn=rule["Arn"], principal="events.amazonaws.com")
            except AwsError as exc:
                self._fail(rule, target, event, err_text(exc))
            return
        if p["service"] == "sns":
            self._publish_to_topic(rule, target, event, payload)
            return
        if p["service"] == "events":
            bus_key = (p["account"], p["region"], p["resource"][len("event-bus/"):])
            reason = self._check_forward(rule, target, p, bus_key, event)
            if reason:
                self._fail(rule, target, event, reason)
                return
            self._deliver_on_bus(bus_key, event, hops + 1)
            return
        self._fail(rule, target, event, "unsupported target type")

    def _publish_to_topic(self, rule, target, event, payload):
        """An SNS topic target: the event, as the target's Input / InputPath made it, is the
        message (no subject). To a topic of the rule's account EventBridge publishes as
        events.amazonaws.com, which the topic policy alone admits (aws:SourceArn = the rule,
        aws:SourceAccount = its account); to another account's, with the target's role (trusting
        events.amazonaws.com for the rule; its identity policy and the topic policy decide). A
        refusal is a failed delivery."""
        message = target["Input"] if target.get("Input") else json_compact(payload)
        sns = self.emu.services["sns"]
        role_arn = target.get("RoleArn")
        try:
            if arn_parts(target["Arn"])["account"] == rule["account"]:
                sns.publish_as("events.amazonaws.com", rule["Arn"], rule["account"],
                               target["Arn"], None, message)
                return
            iam = self.emu.services["iam"]
            if not iam.trusts_service(rule["account"], role_arn, "events.amazonaws.com",
                                      context={"aws:SourceArn": rule["Arn"]}):
                self._fail(rule, target, event, "Role %s cannot be assumed by "
                           "events.amazonaws.com (trust policy)" % role_arn)
                return
            sns.publish_as_role(role_arn, target["Arn"], None, message)
        except AwsError as exc:
            self._fail(rule, target, event, err_text(exc))

    def _check_forward(self, rule, target, dest, bus_key, event):
        """Why forwarding the event to the destination bus (ARN parts dest, key bus_key) is
        refused, or None."""
        src_account, src_region = rule["account"], rule["region"]
        cross_region = dest["region"] != src_region
        cross_account = dest["account"] != src_account
        dest_arn = target["Arn"]
        role_arn = target.get("RoleArn")
        iam = self.emu.services["iam"]
        with self.emu.lock:
            if role_arn:
                role = iam.get_role(src_account, role_arn)
                if role is None:
                    return "RoleArn %s does not exist" % role_arn
                # EventBridge assumes the role for the rule: aws:SourceArn is the rule's ARN
                if not iam.trusts_service(src_account, role_arn, "events.amazonaws.com",
                                          context={"aws:SourceArn": rule["Arn"]}):
                    return ("Role %s cannot be assumed by events.amazonaws.com (trust policy)"
                            % role_arn)
                if not iam.is_allowed(src_account, role_arn, "events:PutEvents", dest_arn,
                                      {}):
                    return ("Role %s is not authorized to perform: events:PutEvents on "
                            "resource: %s" % (role_arn, dest_arn))
            elif cross_region:
                return "A target event bus in another Region requires RoleArn"
            if self._bus(bus_key) is None:
                return "ResourceNotFoundException: Event bus %s does not exist." % dest_arn
            if cross_account and not self.bus_admits(bus_key, src_account, event,
                                                     dest["partition"]):
                return ("Event bus %s does not allow account %s to events:PutEvents (no "
                        "matching bus policy statement)" % (dest_arn, src_account))
        return None

    # -------------------------------------------------------------------- tags
    def _tag_owner(self, ctx, arn):
        p = arn_parts(arn)
        if p is None or p["service"] != "events":
            raise AwsError("ValidationException", "Invalid ARN: %s" % arn)
        if p["resource"].startswith("rule/"):
            # rule/NAME (default bus) or rule/BUS/NAME; rule names have no "/"
            bus, _, name = p["resource"][5:].rpartition("/")
            bus = bus or DEFAULT_BUS
            rule = self.rules.get((p["account"], p["region"], bus, name))
            if rule is None or p["account"] != ctx.account:
                raise AwsError("ResourceNotFoundException",
                               "Rule %s does not exist on EventBus %s." % (name, bus))
            return rule["tags"]
        if p["resource"].startswith("event-bus/") and p["account"] == ctx.account:
            bus = self._bus((p["account"], p["region"], p["resource"][len("event-bus/"):]))
            if bus is not None:
                return bus["tags"]
        raise AwsError("ResourceNotFoundException", "Resource %s does not exist." % arn)

    def TagResource(self, ctx, params):
        with self.emu.lock:
            tags = self._tag_owner(ctx, params["ResourceARN"])
            ctx.authorize("events:TagResource", params["ResourceARN"])
            for t in params["Tags"]:
                tags[t["Key"]] = t["Value"]
            return {}

    def UntagResource(self, ctx, params):
        with self.emu.lock:
            tags = self._tag_owner(ctx, params["ResourceARN"])
            ctx.authorize("events:UntagResource", params["ResourceARN"])
            for k in params["TagKeys"]:
                tags.pop(k, None)
            return {}

    def ListTagsForResource(self, ctx, params):
        with self.emu.lock:
            tags = self._tag_owner(ctx, params["ResourceARN"])
            ctx.authorize("events:ListTagsForResource", params["ResourceARN"])
            return {"Tags": self._tags_out(tags)}

    # --------------------------------------------------------------- inventory
    def inventory(self):
        """Rules; custom buses (with their tags and policy's statement ids: a bus left after a
        destroy is a leftover); default buses only by their policy (a default bus itself
        always exists, never a leftover)."""
        out = []
        with self.emu.lock:
            for (a, rg, _, _), rule in sorted(self.rules.items()):
                out.append({"account": a, "region": rg, "type": "events:rule",
                            "id": rule["Arn"],
                            "targets": [t["Arn"] for t in rule["targets"].values()]})
            for (a, rg, name), bus in sorted(self.buses.items()):
                policy = bus["policy"] if bus["policy"] and bus["policy"].get("Statement") \
                    else None
                sids = [s.get("Sid") for s in policy["Statement"]] if policy else []
                if name != DEFAULT_BUS:
                    out.append({"account": a, "region": rg, "type": "events:event-bus",
                                "id": bus["Arn"], "name": name, "tags": dict(bus["tags"]),
                                "statements": sids})
                elif policy:
                    out.append({"account": a, "region": rg, "type": "events:bus-policy",
                                "id": "arn:aws:events:%s:%s:event-bus/default" % (rg, a),
                                "statements": sids})
        return out
