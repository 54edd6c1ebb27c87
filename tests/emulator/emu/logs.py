"""CloudWatch Logs for the emulator (awsJson1.1, Logs_20140328): log groups per account and
Region, with retention and tags, the log events Lambda writes into them, and FilterLogEvents to
read them back.

Operations: CreateLogGroup, DeleteLogGroup, DescribeLogGroups, PutRetentionPolicy,
DeleteRetentionPolicy, TagResource, UntagResource, ListTagsForResource (by the group's ARN
without ":*"), the deprecated TagLogGroup, UntagLogGroup, ListTagsLogGroup (by name), and
FilterLogEvents.

ARNs: a group's "arn" ends with ":*" (arn:aws:logs:R:A:log-group:NAME:*), as DescribeLogGroups
gives it; "logGroupArn" does not. As the Logs documentation says, IAM is asked with the ":*"
form for every action but TagResource, UntagResource and ListTagsForResource, which use the form
without; DescribeLogGroups is authorised on arn:aws:logs:R:A:log-group:*.

Cross-service API (called by the Lambda runtime):
    LogsService.lambda_output(account, region, function_name, role_arn, lines, stream=None)
        -> bool
        An invocation's output, `lines` (its log lines, no newlines: START, what the function
        printed, END, REPORT), goes to /aws/lambda/<function name>, one log event a line, all
        stamped with AWS time now (emu.now()) as timestamp and ingestionTime: into the group if
        it exists; else Lambda makes the group, as the function's execution role, when that
        role may logs:CreateLogGroup on it; else the output is dropped (False), as it is when
        the role may not logs:PutLogEvents on the stream (arn:...:log-group:NAME:log-stream:
        STREAM; the group's ARN with ":*" covers every stream). `stream` is the
        log stream, `YYYY/MM/DD/[$LATEST]<32 hex>` (lambda_stream_name): Lambda passes its
        execution environment's, so an environment's invocations share a stream as on AWS;
        None makes one for this invocation alone.
    lambda_stream_name(now) -> a new stream name of that form for AWS time `now`.
Events are kept per group in time order, each with its stream; they expire with the group's
retention as AWS time passes (on_clock), and a group keeps its MAX_EVENTS (10,000) newest
events only (an emulator limit, for bounded memory: AWS keeps everything until retention
removes it). The inventory shows the count left ("events").

FilterLogEvents: logGroupName or logGroupIdentifier (a name or the group's ARN without ":*";
exactly one, else InvalidParameterException), logStreamNames or logStreamNamePrefix (not both),
startTime and endTime (ms, both inclusive, as the API reference words them: events "before"
startTime and "later than" endTime are not returned), filterPattern (the subset in
logs_filter.py; anything else InvalidParameterException "Invalid filter pattern"), limit
(1..10,000, default 10,000), nextToken (opaque: the position after the last event returned and
a digest of the query, so pages do not shift as events expire and a token is refused with
another query), unmask (needs logs:Unmask; the emulator masks nothing), interleaved (ignored,
as AWS has since 2019). Events come in time order, then in the order they were written, a page
holding at most `limit` events and at most 1 MB (messages plus 26 bytes each, as PutLogEvents
counts); nextToken only when more match. Not answered: searchedLogStreams (deprecated).
Authorised as logs:FilterLogEvents on the group's ":*" ARN. A missing group (or an ARN of
another account or Region) is ResourceNotFoundException "The specified log group does not
exist."; stream names that name no stream match nothing.

Not emulated (refused): kmsKeyId, linked accounts; DescribeLogStreams, GetLogEvents,
PutLogEvents, metric filters, subscriptions and the other operations of the model.
"""

import base64
import binascii
import collections
import hashlib
import json
import time
import uuid

from .core import AwsError
from .events import arn_parts
from .logs_filter import PatternError, compile_pattern

RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                  2192, 2557, 2922, 3288, 3653)
MAX_TAGS = 50
MAX_EVENTS = 10000          # per group, the newest (an emulator limit)
MAX_PAGE_BYTES = 1048576    # FilterLogEvents: messages + 26 bytes each per page
EVENT_OVERHEAD = 26
DEFAULT_FILTER_LIMIT = 10000
_NOT_FOUND = "The specified log group does not exist."
_BAD_TOKEN = "The specified nextToken is invalid."


def lambda_stream_name(now):
    """A new Lambda log stream name for AWS time `now`: YYYY/MM/DD/[$LATEST]<32 hex>."""
    return "%s/[$LATEST]%s" % (time.strftime("%Y/%m/%d", time.gmtime(now)), uuid.uuid4().hex)


def _invalid(message):
    return AwsError("InvalidParameterException", message)


class LogsService:
    SERVICE = "logs"

    def __init__(self, emu):
        self.emu = emu
        self.reset()

    def reset(self):
        with self.emu.lock:
            # (account, region, name) -> {"name", "account", "region", "partition", "created",
            #   "retention": days or None, "tags": {},
            #   "events": deque (MAX_EVENTS newest) of (time, seq, stream, message)}
            self.groups = {}
            self.seq = 0   # every event's, rising: its order within a time, and paging

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _arn(partition, region, account, name):
        return "arn:%s:logs:%s:%s:log-group:%s" % (partition, region, account, name)

    def _star_arn(self, ctx, name):
        return ctx.arn("logs", "log-group:%s:*" % name)

    def _new_group(self, account, region, partition, name):
        group = {"name": name, "account": account, "region": region, "partition": partition,
                 "created": self.emu.now(), "retention": None, "tags": {},
                 "events": collections.deque(maxlen=MAX_EVENTS)}
        self.groups[(account, region, name)] = group
        return group

    def _get(self, ctx, name):
        group = self.groups.get((ctx.account, ctx.region, name))
        if group is None:
            raise AwsError("ResourceNotFoundException", _NOT_FOUND)
        return group

    def _by_arn(self, ctx, arn):
        """The group a tagging call's resourceArn names (the form without ":*")."""
        p = arn_parts(arn)
        if p is None or p["service"] != "logs":
            raise _invalid("Invalid resource ARN: %s" % arn)
        if not p["resource"].startswith("log-group:"):
            raise _invalid("The resource type of %s is not supported by the emulator (log groups "
                           "only)." % arn)
        if p["account"] != ctx.account or p["region"] != ctx.region:
            raise AwsError("ResourceNotFoundException", _NOT_FOUND)
        return self._get(ctx, p["resource"][len("log-group:"):])

    @staticmethod
    def _check_tags(tags, existing):
        for key in tags:
            if key.lower().startswith("aws:"):
                raise _invalid("Tag keys starting with 'aws:' are reserved for AWS use.")
        if len(set(existing) | set(tags)) > MAX_TAGS:
            raise AwsError("TooManyTagsException", "A resource can have no more than %d tags."
                           % MAX_TAGS)

    def _authorize_tagging(self, ctx, group_arn, star_arn):
        """Tags given at creation need logs:TagResource or the older logs:TagLogGroup."""
        try:
            ctx.authorize("logs:TagResource", group_arn)
        except AwsError:
            ctx.authorize("logs:TagLogGroup", star_arn)

    def _expire(self, group, now):
        if group["retention"] is None:
            return
        edge = now - group["retention"] * 86400
        events = group["events"]
        while events and events[0][0] < edge:
            events.popleft()

    def _out(self, group):
        arn = self._arn(group["partition"], group["region"], group["account"], group["name"])
        out = {"logGroupName": group["name"], "creationTime": int(group["created"] * 1000),
               "metricFilterCount": 0, "arn": arn + ":*", "logGroupArn": arn, "storedBytes": 0}
        if group["retention"] is not None:
            out["retentionInDays"] = group["retention"]
        return out

    # --------------------------------------------------------------- log groups
    def CreateLogGroup(self, ctx, params):
        name = params["logGroupName"]
        if params.get("kmsKeyId"):
            raise _invalid("The emulator does not model log group encryption (kmsKeyId).")
        if name.startswith("aws/"):
            raise _invalid("Log group names cannot start with 'aws/'.")
        star = self._star_arn(ctx, name)
        ctx.authorize("logs:CreateLogGroup", star)
        tags = params.get("tags") or {}
        if tags:
            self._authorize_tagging(ctx, ctx.arn("logs", "log-group:" + name), star)
            self._check_tags(tags, {})
        if (ctx.account, ctx.region, name) in self.groups:
            raise AwsError("ResourceAlreadyExistsException", "The specified log group already "
                           "exists")
        self._new_group(ctx.account, ctx.region, ctx.partition, name)["tags"].update(tags)
        return {}

    def DeleteLogGroup(self, ctx, params):
        name = params["logGroupName"]
        ctx.authorize("logs:DeleteLogGroup", self._star_arn(ctx, name))
        self._get(ctx, name)
        del self.groups[(ctx.account, ctx.region, name)]
        return {}

    def DescribeLogGroups(self, ctx, params):
        ctx.authorize("logs:DescribeLogGroups", ctx.arn("logs", "log-group:*"))
        prefix, pattern = params.get("logGroupNamePrefix"), params.get("logGroupNamePattern")
        if prefix is not None and pattern is not None:
            raise _invalid("LogGroupNamePrefix and LogGroupNamePattern are mutually exclusive. "
                           "Only one of these parameters can be passed.")
        if params.get("includeLinkedAccounts") or params.get("accountIdentifiers"):
            raise _invalid("The emulator has no monitoring accounts: includeLinkedAccounts and "
                           "accountIdentifiers are not supported.")
        after = None
        token = params.get("nextToken")
        if token is not None:
            try:
                if not token.startswith("1/"):
                    raise ValueError(token)
                after = base64.b64decode(token[2:], altchars=b"-_", validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                raise _invalid("The specified nextToken is invalid.")
        limit = params.get("limit") or 50
        now = self.emu.now()
        names = sorted(name for (a, r, name) in self.groups
                       if a == ctx.account and r == ctx.region and
                       (prefix is None or name.startswith(prefix)) and
                       (pattern is None or pattern in name) and (after is None or name > after))
        page = names[:limit]
        groups = []
        for name in page:
            group = self.groups[(ctx.account, ctx.region, name)]
            self._expire(group, now)
            groups.append(self._out(group))
        out = {"logGroups": groups}
        if len(names) > limit:
            out["nextToken"] = "1/" + base64.urlsafe_b64encode(page[-1].encode("utf-8")).decode()
        return out

    def PutRetentionPolicy(self, ctx, params):
        days = params["retentionInDays"]
        if days not in RETENTION_DAYS:
            raise _invalid("1 validation error detected: Value '%s' at 'retentionInDays' failed "
                           "to satisfy constraint: Member must satisfy enum value set: [%s]"
                           % (days, ", ".join(str(d) for d in RETENTION_DAYS)))
        name = params["logGroupName"]
        ctx.authorize("logs:PutRetentionPolicy", self._star_arn(ctx, name))
        group = self._get(ctx, name)
        group["retention"] = days
        self._expire(group, self.emu.now())
        return {}

    def DeleteRetentionPolicy(self, ctx, params):
        name = params["logGroupName"]
        ctx.authorize("logs:DeleteRetentionPolicy", self._star_arn(ctx, name))
        self._get(ctx, name)["retention"] = None
        return {}

    # --------------------------------------------------------------------- tags
    def TagResource(self, ctx, params):
        arn = params["resourceArn"]
        ctx.authorize("logs:TagResource", arn)
        group = self._by_arn(ctx, arn)
        self._check_tags(params["tags"], group["tags"])
        group["tags"].update(params["tags"])
        return {}

    def UntagResource(self, ctx, params):
        arn = params["resourceArn"]
        ctx.authorize("logs:UntagResource", arn)
        group = self._by_arn(ctx, arn)
        for key in params["tagKeys"]:
            group["tags"].pop(key, None)
        return {}

    def ListTagsForResource(self, ctx, params):
        arn = params["resourceArn"]
        ctx.authorize("logs:ListTagsForResource", arn)
        return {"tags": dict(self._by_arn(ctx, arn)["tags"])}

    def TagLogGroup(self, ctx, params):
        name = params["logGroupName"]
        ctx.authorize("logs:TagLogGroup", self._star_arn(ctx, name))
        group = self._get(ctx, name)
        self._check_tags(params["tags"], group["tags"])
        group["tags"].update(params["tags"])
        return {}

    def UntagLogGroup(self, ctx, params):
        name = params["logGroupName"]
        ctx.authorize("logs:UntagLogGroup", self._star_arn(ctx, name))
        group = self._get(ctx, name)
        for key in params["tags"]:
            group["tags"].pop(key, None)
        return {}

    def ListTagsLogGroup(self, ctx, params):
        name = params["logGroupName"]
        ctx.authorize("logs:ListTagsLogGroup", self._star_arn(ctx, name))
        return {"tags": dict(self._get(ctx, name)["tags"])}

    # ------------------------------------------------------------------- events
    def FilterLogEvents(self, ctx, params):
        name, ident = params.get("logGroupName"), params.get("logGroupIdentifier")
        if (name is None) == (ident is None):
            raise _invalid("Exactly one of LogGroupName and LogGroupIdentifier must be passed: "
                           "they are mutually exclusive.")
        account, region = ctx.account, ctx.region
        if ident is not None:
            name = ident
            if ident.startswith("arn:"):
                p = arn_parts(ident)
                if p is None or p["service"] != "logs" or \
                        not p["resource"].startswith("log-group:"):
                    raise _invalid("Invalid log group ARN: %s" % ident)
                account, region = p["account"], p["region"]
                name = p["resource"][len("log-group:"):]
        star = self._arn(ctx.partition, region, account, name) + ":*"
        ctx.authorize("logs:FilterLogEvents", star)
        if params.get("unmask"):
            ctx.authorize("logs:Unmask", star)
        if (account, region) != (ctx.account, ctx.region):
            raise AwsError("ResourceNotFoundException", _NOT_FOUND)
        group = self._get(ctx, name)
        streams, prefix = params.get("logStreamNames"), params.get("logStreamNamePrefix")
        if streams is not None and prefix is not None:
            raise _invalid("LogStreamNames and LogStreamNamePrefix are mutually exclusive. Only "
                           "one of these parameters can be passed.")
        try:
            matches = compile_pattern(params.get("filterPattern"))
        except PatternError:
            raise _invalid("Invalid filter pattern")
        start, end = params.get("startTime"), params.get("endTime")
        query = hashlib.sha256(json.dumps(
            [account, region, name, sorted(streams or []), prefix, start, end,
             params.get("filterPattern") or ""]).encode()).hexdigest()[:16]
        after = self._token_position(params.get("nextToken"), query)
        limit = params.get("limit") or DEFAULT_FILTER_LIMIT
        wanted = set(streams) if streams is not None else None
        self._expire(group, self.emu.now())
        page, size, more, last = [], 0, False, None
        for t, seq, stream, message in group["events"]:
            if after is not None and seq <= after:
                continue
            ms = int(t * 1000)
            if (start is not None and ms < start or end is not None and ms > end or
                    wanted is not None and stream not in wanted or
                    prefix is not None and not stream.startswith(prefix) or
                    not matches(message)):
                continue
            cost = len(message.encode("utf-8")) + EVENT_OVERHEAD
            if len(page) >= limit or page and size + cost > MAX_PAGE_BYTES:
                more = True
                break
            size += cost
            last = seq
            page.append({"logStreamName": stream, "timestamp": ms, "message": message,
                         "ingestionTime": ms, "eventId": "%d%020d" % (ms, seq)})
        out = {"events": page}
        if more:
            token = json.dumps([last, query]).encode()
            out["nextToken"] = "1/" + base64.urlsafe_b64encode(token).decode()
        return out

    @staticmethod
    def _token_position(token, query):
        """The seq of the last event a FilterLogEvents page returned, from its nextToken."""
        if token is None:
            return None
        try:
            if not token.startswith("1/"):
                raise ValueError(token)
            seq, digest = json.loads(base64.b64decode(token[2:], altchars=b"-_",
                                                      validate=True).decode("utf-8"))
            if not isinstance(seq, int) or isinstance(seq, bool) or digest != query:
                raise ValueError(token)
        except (binascii.Error, ValueError, TypeError):
            raise _invalid(_BAD_TOKEN)
        return seq

    # ------------------------------------------------------------------ lambda
    def lambda_output(self, account, region, function_name, role_arn, lines, stream=None):
        """Record an invocation's log `lines` in /aws/lambda/<function_name>, in `stream` (a new
        one when None); see the module docstring. True when recorded."""
        name = "/aws/lambda/" + function_name
        with self.emu.lock:
            group = self.groups.get((account, region, name))
            p = arn_parts(role_arn) or {}
            partition = p.get("partition", "aws")
            star = self._arn(partition, region, account, name) + ":*"
            context = {"aws:PrincipalArn": role_arn, "aws:PrincipalAccount": p.get("account"),
                       "aws:RequestedRegion": region, "aws:PrincipalType": "AssumedRole"}
            context.update(self.emu.principal_org_keys(p.get("account")))

            def may(action, resource):
                return bool(role_arn) and self.emu.services["iam"].is_allowed(
                    p.get("account"), role_arn, action, resource, context)

            now = self.emu.now()
            if stream is None:
                stream = lambda_stream_name(now)
            if group is None:
                if not may("logs:CreateLogGroup", star):
                    return False
                group = self._new_group(account, region, partition, name)
            # Lambda writes as the execution role: without PutLogEvents the output is lost
            if not may("logs:PutLogEvents", star[:-1] + "log-stream:" + stream):
                return False
            events = group["events"]
            for line in lines:
                self.seq += 1
                events.append((now, self.seq, stream, line))
            self._expire(group, now)
            return True

    # ---------------------------------------------------------------- time etc.
    def on_clock(self, now):
        """AWS time moved on (emu.lock held): events past their group's retention are gone."""
        for group in self.groups.values():
            self._expire(group, now)

    def inventory(self):
        out = []
        with self.emu.lock:
            now = self.emu.now()
            for (account, region, name), group in sorted(self.groups.items()):
                self._expire(group, now)
                out.append({"account": account, "region": region, "type": "log-group",
                            "id": name, "arn": self._arn(group["partition"], region, account,
                                                         name),
                            "retention": group["retention"], "tags": dict(group["tags"]),
                            "events": len(group["events"])})
        return out
