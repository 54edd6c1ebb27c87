"""CloudWatch Logs for the emulator (awsJson1.1, Logs_20140328): log groups per account and
Region, with retention and tags, and the log events Lambda writes into them (counted, not
stored).

Operations: CreateLogGroup, DeleteLogGroup, DescribeLogGroups, PutRetentionPolicy,
DeleteRetentionPolicy, TagResource, UntagResource, ListTagsForResource (by the group's ARN
without ":*"), and the deprecated TagLogGroup, UntagLogGroup, ListTagsLogGroup (by name).

ARNs: a group's "arn" ends with ":*" (arn:aws:logs:R:A:log-group:NAME:*), as DescribeLogGroups
gives it; "logGroupArn" does not. As the Logs documentation says, IAM is asked with the ":*"
form for every action but TagResource, UntagResource and ListTagsForResource, which use the form
without; DescribeLogGroups is authorised on arn:aws:logs:R:A:log-group:*.

Cross-service API (called by the Lambda runtime):
    LogsService.lambda_output(account, region, function_name, role_arn, events) -> bool
        An invocation's output, `events` log events, goes to /aws/lambda/<function name>: into
        the group if it exists; else Lambda makes the group, as the function's execution role,
        when that role may logs:CreateLogGroup on it; else the output is dropped (False).
Events expire with the group's retention as AWS time passes (on_clock); the inventory shows the
count left ("events"). Not emulated (refused): kmsKeyId, linked accounts; log streams, event
contents, metric filters, subscriptions and the other operations of the model.
"""

import base64
import binascii
import collections

from .core import AwsError
from .events import arn_parts

RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                  2192, 2557, 2922, 3288, 3653)
MAX_TAGS = 50
_NOT_FOUND = "The specified log group does not exist."


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
            #   "retention": days or None, "tags": {}, "events": deque of [time, count], "count"}
            self.groups = {}

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _arn(partition, region, account, name):
        return "arn:%s:logs:%s:%s:log-group:%s" % (partition, region, account, name)

    def _star_arn(self, ctx, name):
        return ctx.arn("logs", "log-group:%s:*" % name)

    def _new_group(self, account, region, partition, name):
        group = {"name": name, "account": account, "region": region, "partition": partition,
                 "created": self.emu.now(), "retention": None, "tags": {},
                 "events": collections.deque(), "count": 0}
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
            group["count"] -= events.popleft()[1]

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

    # ------------------------------------------------------------------ lambda
    def lambda_output(self, account, region, function_name, role_arn, events):
        """Record an invocation's `events` log events in /aws/lambda/<function_name>; see the
        module docstring. True when recorded."""
        name = "/aws/lambda/" + function_name
        with self.emu.lock:
            group = self.groups.get((account, region, name))
            if group is None:
                p = arn_parts(role_arn) or {}
                partition = p.get("partition", "aws")
                star = self._arn(partition, region, account, name) + ":*"
                context = {"aws:PrincipalArn": role_arn, "aws:PrincipalAccount": p.get("account"),
                           "aws:RequestedRegion": region, "aws:PrincipalType": "AssumedRole"}
                if not role_arn or not self.emu.services["iam"].is_allowed(
                        p.get("account"), role_arn, "logs:CreateLogGroup", star, context):
                    return False
                group = self._new_group(account, region, partition, name)
            now = self.emu.now()
            group["events"].append([now, events])
            group["count"] += events
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
                            "events": group["count"]})
        return out
