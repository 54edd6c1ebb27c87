"""EventBridge for the emulator: default buses, rules, targets, bus policies, PutEvents and
the delivery engine (rule matching, Lambda and cross-Region/cross-account bus targets), and
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
            # (account, region) -> {"policy": dict|None, "tags": {}}
            self.buses = {}
            # (account, region, rule name) -> rule dict
            self.rules = {}

    # ------------------------------------------------------------------ helpers
    def _bus_arn(self, partition, account, region, name="default"):
        return "arn:%s:events:%s:%s:event-bus/%s" % (partition, region, account, name)

    def _bus(self, account, region):
        key = (account, region)
        if key not in self.buses:
            self.buses[key] = {"policy": None, "tags": {}}
        return self.buses[key]

    def _resolve_bus(self, ctx, name):
        """Our only bus is 'default'; accept its name or ARN (own account only)."""
        if name is None or name == "default":
            return ctx.account, ctx.region
        p = arn_parts(name)
        if p and p["service"] == "events" and p["resource"] == "event-bus/default":
            if p["region"] != ctx.region:
                raise AwsError("ValidationException", "Cross-region api call is not allowed.")
            return p["account"], p["region"]
        raise AwsError("ResourceNotFoundException", "Event bus %s does not exist." % name)

    def _rule_arn(self, partition, account, region, name):
        return "arn:%s:events:%s:%s:rule/%s" % (partition, region, account, name)

    def _get_rule(self, ctx, name, bus_name=None):
        account, region = self._resolve_bus(ctx, bus_name)
        if account != ctx.account:
            raise AwsError("AccessDeniedException", "User: %s is not authorized to access "
                           "rules on another account's event bus" % ctx.principal_arn)
        rule = self.rules.get((account, region, name))
        if rule is None:
            raise AwsError("ResourceNotFoundException",
                           "Rule %s does not exist on EventBus default." % name)
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
            account, region = self._resolve_bus(ctx, params.get("EventBusName"))
            arn = self._rule_arn(ctx.partition, account, region, name)
            ctx.authorize("events:PutRule", arn)
            if params.get("Tags"):
                ctx.authorize("events:TagResource", arn)
            rule = self.rules.get((account, region, name))
            if rule is None:
                rule = {"Name": name, "Arn": arn, "EventBusName": "default", "targets": {},
                        "tags": {}, "account": account, "region": region,
                        "created": self.emu.now()}
                self.rules[(account, region, name)] = rule
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
            account, region = self._resolve_bus(ctx, params.get("EventBusName"))
            name = params["Name"]
            ctx.authorize("events:DeleteRule",
                          self._rule_arn(ctx.partition, account, region, name))
            rule = self.rules.get((account, region, name))
            if rule is None:
                return {}
            if rule["targets"]:
                raise AwsError("ValidationException", "Rule can't be deleted since it has "
                               "targets.")
            del self.rules[(account, region, name)]
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
            account, region = self._resolve_bus(ctx, params.get("EventBusName"))
            ctx.authorize("events:ListRules", self._rule_arn(ctx.partition, account, region,
                                                             "*"))
            prefix = params.get("NamePrefix") or ""
            rules = sorted((r for (a, rg, n), r in self.rules.items()
                            if a == account and rg == region and n.startswith(prefix)),
                           key=lambda r: r["Name"])
            page, nxt = self._page(rules, params.get("NextToken"), params.get("Limit"))
            out = {"Rules": [self._rule_out(r) for r in page]}
            if nxt:
                out["NextToken"] = nxt
            return out

    def ListRuleNamesByTarget(self, ctx, params):
        with self.emu.lock:
            account, region = self._resolve_bus(ctx, params.get("EventBusName"))
            names = sorted(r["Name"] for (a, rg, _), r in self.rules.items()
                           if a == account and rg == region and
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
        if p["service"] == "events" and p["resource"].startswith("event-bus/"):
            if p["region"] != rule["region"] and not role_arn:
                raise AwsError("ValidationException", "RoleArn is required for target %s: an "
                               "event bus in another Region needs a role that may "
                               "events:PutEvents on it." % t["Id"])
            if p["resource"] != "event-bus/default":
                return ("ResourceNotFoundException", "Event bus %s does not exist (the "
                        "emulator has only default event buses)." % t["Arn"])
            if p["account"] == rule["account"] and p["region"] == rule["region"]:
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

    # --------------------------------------------------------------- bus policy
    def DescribeEventBus(self, ctx, params):
        with self.emu.lock:
            account, region = self._resolve_bus(ctx, params.get("Name"))
            arn = self._bus_arn(ctx.partition, account, region)
            ctx.authorize("events:DescribeEventBus", arn)
            bus = self._bus(account, region)
            out = {"Name": "default", "Arn": arn}
            if bus["policy"] and bus["policy"].get("Statement"):
                out["Policy"] = json_compact(bus["policy"])
            return out

    def ListEventBuses(self, ctx, params):
        with self.emu.lock:
            arn = self._bus_arn(ctx.partition, ctx.account, ctx.region)
            ctx.authorize("events:ListEventBuses", arn)
            prefix = params.get("NamePrefix") or ""
            if not "default".startswith(prefix):
                return {"EventBuses": []}
            bus = {"Name": "default", "Arn": arn}
            pol = self._bus(ctx.account, ctx.region)["policy"]
            if pol and pol.get("Statement"):
                bus["Policy"] = json_compact(pol)
            return {"EventBuses": [bus]}

    def PutPermission(self, ctx, params):
        with self.emu.lock:
            account, region = self._resolve_bus(ctx, params.get("EventBusName"))
            arn = self._bus_arn(ctx.partition, account, region)
            ctx.authorize("events:PutPermission", arn)
            bus = self._bus(account, region)
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
                bus["policy"] = doc
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
            bus["policy"] = pol
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
            account, region = self._resolve_bus(ctx, params.get("EventBusName"))
            arn = self._bus_arn(ctx.partition, account, region)
            ctx.authorize("events:RemovePermission", arn)
            bus = self._bus(account, region)
            if params.get("RemoveAllPermissions"):
                bus["policy"] = None
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
            if not rest:
                bus["policy"] = None
            return {}

    def bus_admits(self, dest_account, dest_region, sender_account, partition="aws"):
        """Does the destination bus policy let sender_account events:PutEvents?"""
        if dest_account == sender_account:
            return True
        bus = self.buses.get((dest_account, dest_region))
        pol = bus["policy"] if bus else None
        if not pol:
            return False
        arn = self._bus_arn(partition, dest_account, dest_region)
        allowed = False
        for st in _as_list(pol.get("Statement")):
            if not self._stmt_applies(st, arn, sender_account):
                continue
            if st.get("Effect") == "Deny":
                return False
            allowed = True
        return allowed

    @staticmethod
    def _stmt_applies(st, bus_arn, sender):
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
        cond = {}
        for op, kv in (st.get("Condition") or {}).items():
            # no Organizations in the emulator: aws:PrincipalOrgID is not evaluated
            kept = {key: v for key, v in kv.items() if key.lower() != "aws:principalorgid"}
            if kept:
                cond[op] = kept
        from .iam import conditions_match
        return conditions_match(cond, {"aws:PrincipalAccount": sender,
                                       "aws:SourceAccount": sender})

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
        with self.emu.lock:
            bus_name = e.get("EventBusName")
            p = arn_parts(bus_name) if bus_name else None
            if p and p["service"] == "events" and p["resource"] == "event-bus/default":
                dest_account, dest_region = p["account"], p["region"]
            elif bus_name in (None, "", "default"):
                dest_account, dest_region = ctx.account, ctx.region
            else:
                return {"ErrorCode": "ResourceNotFoundException",
                        "ErrorMessage": "Event bus %s does not exist." % bus_name}
            arn = self._bus_arn(ctx.partition, dest_account, dest_region)
            if dest_region != ctx.region:
                return {"ErrorCode": "InvalidArgument", "ErrorMessage": "Cross-region "
                        "PutEvents is not allowed."}
            if not self.bus_admits(dest_account, dest_region, ctx.account, ctx.partition):
                return {"ErrorCode": "AccessDeniedException", "ErrorMessage": "Not authorized "
                        "to put events on event bus %s." % arn}
        when = e.get("Time")
        ts = when.timestamp() if isinstance(when, datetime.datetime) else self.emu.now()
        event = {"source": e["Source"], "detail-type": e["DetailType"],
                 "resources": list(e.get("Resources") or []), "detail": detail,
                 "time": _iso(ts)}
        eid = self.put_event(ctx.account, ctx.region, event, dest_account=dest_account)
        return {"EventId": eid}

    def put_event(self, account, region, event, dest_account=None):
        """Inject an event (its account/region are `account`/`region`) into the default bus
        of dest_account (default: account) in `region`; delivery is asynchronous."""
        ev = {"version": "0", "id": str(uuid.uuid4()),
              "detail-type": event.get("detail-type", ""), "source": event.get("source", ""),
              "account": account, "time": event.get("time") or _iso(self.emu.now()),
              "region": region, "resources": list(event.get("resources") or []),
              "detail": event.get("detail") or {}}
        self.emu.submit(self._deliver_on_bus, dest_account or account, region, ev, 0)
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
    def _deliver_on_bus(self, bus_account, bus_region, event, hops):
        if hops > 5:
            return
        jobs = []
        with self.emu.lock:
            for (a, rg, _), rule in sorted(self.rules.items()):
                if a != bus_account or rg != bus_region or rule["State"] != "ENABLED":
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
        if p["service"] == "events":
            reason = self._check_forward(rule, target, p)
            if reason:
                self._fail(rule, target, event, reason)
                return
            self._deliver_on_bus(p["account"], p["region"], event, hops + 1)
            return
        self._fail(rule, target, event, "unsupported target type")

    def _check_forward(self, rule, target, dest):
        """Why forwarding to the destination bus is refused, or None."""
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
            if cross_account and not self.bus_admits(dest["account"], dest["region"],
                                                     src_account, dest["partition"]):
                return ("Event bus %s does not allow account %s to events:PutEvents (no "
                        "matching bus policy statement)" % (dest_arn, src_account))
        return None

    # -------------------------------------------------------------------- tags
    def _tag_owner(self, ctx, arn):
        p = arn_parts(arn)
        if p is None or p["service"] != "events":
            raise AwsError("ValidationException", "Invalid ARN: %s" % arn)
        if p["resource"].startswith("rule/"):
            rule = self.rules.get((p["account"], p["region"], p["resource"][5:]))
            if rule is None or p["account"] != ctx.account:
                raise AwsError("ResourceNotFoundException",
                               "Rule %s does not exist on EventBus default." % p["resource"][5:])
            return rule["tags"]
        if p["resource"] == "event-bus/default" and p["account"] == ctx.account:
            return self._bus(p["account"], p["region"])["tags"]
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
        out = []
        with self.emu.lock:
            for (a, rg, _), rule in sorted(self.rules.items()):
                out.append({"account": a, "region": rg, "type": "events:rule",
                            "id": rule["Arn"],
                            "targets": [t["Arn"] for t in rule["targets"].values()]})
            for (a, rg), bus in sorted(self.buses.items()):
                if bus["policy"] and bus["policy"].get("Statement"):
                    out.append({"account": a, "region": rg, "type": "events:bus-policy",
                                "id": "arn:aws:events:%s:%s:event-bus/default" % (rg, a),
                                "statements": [s.get("Sid") for s in
                                               bus["policy"]["Statement"]]})
        return out
