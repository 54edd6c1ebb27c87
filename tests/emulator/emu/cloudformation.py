"""AWS CloudFormation for the emulator (query protocol, cloudformation 2010-05-15): stacks, and
StackSets with service-managed permissions over the emulated AWS Organizations.

Stacks: CreateStack, UpdateStack, DeleteStack, DescribeStacks, DescribeStackResources,
ListStackResources, DescribeStackEvents (one event per resource status change and per stack
status), ValidateTemplate, GetTemplate. StackSets: CreateStackSet, UpdateStackSet,
DeleteStackSet, DescribeStackSet, ListStackSets, CreateStackInstances, DeleteStackInstances,
ListStackInstances, DescribeStackInstance, DescribeStackSetOperation, ListStackSetOperations,
ListStackSetOperationResults. The template engine is emu/cfn_template.py, the resource types
emu/cfn_resources.py (each resource made through the emulator's own API, as the stack's
principal, over HTTP: authorised, validated and logged like any request).

Facts followed (AWS documentation, checked):
- TemplateBody: 1 to 51,200 bytes (ValidationError beyond); TemplateURL: an S3 object of at
  most 1 MB (today's API reference; older ones said 460,800 bytes), read with the caller's
  rights from the emulated S3 (https://BUCKET.s3.REGION.amazonaws.com/KEY,
  https://BUCKET.s3.amazonaws.com/KEY or path-style https://s3[.REGION].amazonaws.com/BUCKET/KEY).
- A template with IAM resources needs CAPABILITY_IAM, with named IAM resources (RoleName)
  CAPABILITY_NAMED_IAM: InsufficientCapabilitiesException "Requires capabilities :
  [CAPABILITY_NAMED_IAM]" (at CreateStack/UpdateStack/CreateStackSet/UpdateStackSet).
- SERVICE_MANAGED StackSets: AutoDeployment is required (CreateStackSet reference); they are
  created in the management account; DeploymentTargets.OrganizationalUnitIds (create and delete
  take OUs); StackSets never deploy to the management account, even when it is in a target OU
  (DeploymentTargets reference).
- Operations run one Region after another (RegionConcurrencyType SEQUENTIAL), in RegionOrder
  when given, else as Regions lists them; FailureToleranceCount defaults to 0 (per Region: one
  failed account stops the operation in that Region and no later Region is attempted);
  one operation per StackSet at a time (OperationInProgressException, 409).
- DeleteStackSet while instances exist: StackSetNotEmptyException ("You can't yet delete this
  StackSet, because it still contains one or more stack instances. ...").
- Automatic deployment (AutoDeployment.Enabled): an account moved into a target OU gets the
  set's instances in every Region of the set; moved out, they are deleted unless
  RetainStacksOnAccountRemoval (then they leave the set and their stacks stay).
  StackSetOperationPreferences do not apply to automatic deployments (AWS documents it; the
  emulator still deploys Region after Region, in the order the set's Regions were first
  targeted: the tool's template relies on that order).
- A failed stack instance's StatusReason reads as AWS writes it: "ResourceLogicalId:X,
  ResourceType:AWS::..., ResourceStatusReason:<the resource's failure>".

Differences (emulator choices, not confirmed AWS behaviour):
- JSON templates only; YAML is refused (ValidationError). No Mappings/FindInMap, Transform,
  nested stacks, change sets, stack policies, exports/imports, drift, termination protection,
  rollback triggers, notification ARNs.
- SELF_MANAGED StackSets are refused (ValidationError: not emulated); so are delegated
  administrators (CallAs DELEGATED_ADMIN) and DeploymentTargets.Accounts filters.
  A caller that is not the organisation's management account gets ValidationError "Account
  used is not a management account nor delegated administrator" (wording inferred).
- An OU that is not in the organisation fails the request (ValidationError) instead of
  the operation. CreateStackInstances for an instance that exists leaves it as it is.
- The execution principal in a target account is an administrator session
  (arn:aws:sts::ACCOUNT:assumed-role/stacksets-exec-<hash>/...) that is no IAM role: nothing
  to list or delete there, unlike AWS's stacksets-exec-* role.
- Operation StatusReason wording, MaxConcurrent* (one account at a time), FailureTolerance
  percentages (rounded down), ConcurrencyMode, stack events' detail are the emulator's own.
- An update that fails rolls back by deleting what it created and re-applying the previous
  properties of what it changed (UPDATE_ROLLBACK_COMPLETE); replaced resources are deleted
  only after every resource succeeded, as CloudFormation's cleanup phase does.

Inventory: cloudformation:stack (id the stack ARN, name, status) for every stack not
DELETE_COMPLETE; cloudformation:stack-set (id the StackSetId, name, instances) for every set not
deleted; cloudformation:stack-instance (in the target account and Region, id
"SET/ACCOUNT/REGION", status).
"""

import collections
import hashlib
import re
import urllib.parse
import uuid

from . import cfn_resources as res
from .cfn_template import Resolver, Template, TemplateError, parse
from .core import AwsError, Ctx, partition_of

MAX_BODY = 51200
MAX_URL_OBJECT = 1024 * 1024
IAM_TYPES = ("AWS::IAM::Role",)
_S3_VIRTUAL = re.compile(r"^([a-z0-9.-]+)\.s3(?:[.-]([a-z0-9-]+))?\.amazonaws\.com(?:\.cn)?$")
_S3_PATH = re.compile(r"^s3(?:[.-]([a-z0-9-]+))?\.amazonaws\.com(?:\.cn)?$")
NOT_MANAGEMENT = "Account used is not a management account nor delegated administrator"


def _resource_item(item, lid, r, physical):
    """`item` with what DescribeStackResources and ListStackResources both say of resource `r`
    (logical id `lid`, physical id `physical` or None)."""
    item.update({"LogicalResourceId": lid, "ResourceType": r["type"],
                 "ResourceStatus": r["status"],
                 "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"}})
    if physical:
        item["PhysicalResourceId"] = physical
    if r.get("reason"):
        item["ResourceStatusReason"] = r["reason"]
    return item


def _invalid(message):
    return AwsError("ValidationError", message, 400)


class CloudFormationService:
    SERVICE = "cloudformation"

    def __init__(self, emu):
        self.emu = emu
        self.reset()
        org = emu.services.get("organizations")
        if org is not None:
            org.move_listeners.append(self._account_moved)

    def reset(self):
        with self.emu.lock:
            self.stacks = {}        # stack id -> stack (deleted ones too, as DescribeStacks by id)
            self.stack_sets = {}    # (account, region, name) -> set
            self.generation = getattr(self, "generation", 0) + 1

    # ------------------------------------------------------------------ templates
    def _template_text(self, ctx, params, previous=None):
        if params.get("UsePreviousTemplate"):
            if previous is None:
                raise _invalid("UsePreviousTemplate is not valid here")
            return previous
        body, url = params.get("TemplateBody"), params.get("TemplateURL")
        if body is not None and url is not None:
            raise _invalid("Specify exactly one of TemplateBody or TemplateUrl.")
        if body is not None:
            if len(body.encode()) > MAX_BODY:
                raise _invalid("1 validation error detected: Value '[...]' at 'templateBody' "
                               "failed to satisfy constraint: Member must have length less than "
                               "or equal to %d" % MAX_BODY)
            return body
        if url is not None:
            return self._read_url(ctx, url)
        raise _invalid("Either Template URL or Template Body must be specified.")

    def _read_url(self, ctx, url):
        """The template object a TemplateURL names, read from the emulated S3 as the caller."""
        parts = urllib.parse.urlsplit(url)
        host = (parts.hostname or "").lower()
        path = urllib.parse.unquote(parts.path)
        m = _S3_VIRTUAL.match(host)
        if parts.scheme == "https" and m and not host.startswith("s3."):
            bucket, region, key = m.group(1), m.group(2), path.lstrip("/")
        else:
            m = _S3_PATH.match(host)
            if parts.scheme != "https" or m is None or "/" not in path.lstrip("/"):
                raise _invalid("TemplateURL must be a supported URL.")
            region = m.group(1)
            bucket, key = path.lstrip("/").split("/", 1)
        s3 = self.emu.services["s3"]
        b = s3.buckets.get(bucket)
        s3ctx = Ctx(self.emu, ctx.account, region or (b["region"] if b else ctx.region), "s3",
                    "GetObject", ctx.principal_arn, ctx.role_arn, ctx.request_id,
                    protocol="rest-xml")
        try:
            obj = s3._read(s3ctx, {"Bucket": bucket, "Key": key}, head=False)
        except AwsError as exc:
            raise _invalid("S3 error: %s\nFor more information check "
                           "http://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html"
                           % exc.message)
        data = obj["Body"]
        if len(data) > MAX_URL_OBJECT:
            raise _invalid("Template may not exceed 1048576 bytes in size.")
        return data.decode("utf-8", "replace")

    def _template(self, text):
        try:
            return Template(parse(text), res.TYPES)
        except TemplateError as exc:
            raise _invalid(str(exc))

    @staticmethod
    def _needed_capability(template):
        named = False
        iam = False
        for r in template.resources.values():
            if r["Type"] in IAM_TYPES:
                iam = True
                if (r.get("Properties") or {}).get(res.NAME_PROPS.get(r["Type"], "-")):
                    named = True
        return "CAPABILITY_NAMED_IAM" if named else ("CAPABILITY_IAM" if iam else None)

    def _check_capabilities(self, template, capabilities):
        need = self._needed_capability(template)
        caps = set(capabilities or [])
        if need == "CAPABILITY_NAMED_IAM" and need not in caps:
            raise AwsError("InsufficientCapabilitiesException",
                           "Requires capabilities : [CAPABILITY_NAMED_IAM]", 400)
        if need == "CAPABILITY_IAM" and not caps & {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"}:
            raise AwsError("InsufficientCapabilitiesException",
                           "Requires capabilities : [CAPABILITY_IAM]", 400)

    def _bind(self, template, given, previous=None):
        try:
            return template.bind_parameters(given, previous)
        except TemplateError as exc:
            raise _invalid(str(exc))

    # ------------------------------------------------------------------ stacks: state
    def _live(self, account, region, name_or_id):
        for st in self.stacks.values():
            if st["account"] != account or st["region"] != region:
                continue
            if st["id"] == name_or_id:
                return st
            if st["name"] == name_or_id and st["status"] != "DELETE_COMPLETE":
                return st
        return None

    def _stack(self, ctx, name_or_id):
        st = self._live(ctx.account, ctx.region, name_or_id)
        if st is None:
            raise _invalid("Stack with id %s does not exist" % name_or_id)
        return st

    def _event(self, st, lid, rtype, status, reason=None, physical=None):
        ev = {"StackId": st["id"], "EventId": str(uuid.uuid4()), "StackName": st["name"],
              "LogicalResourceId": lid, "PhysicalResourceId": physical or "",
              "ResourceType": rtype, "Timestamp": self.emu.now(), "ResourceStatus": status}
        if reason:
            ev["ResourceStatusReason"] = reason
        st["events"].insert(0, ev)

    def _set_status(self, st, status, reason=None):
        with self.emu.lock:
            st["status"] = status
            st["reason"] = reason
            st["updated"] = self.emu.now()
            self._event(st, st["name"], "AWS::CloudFormation::Stack", status, reason, st["id"])

    def _set_resource(self, st, lid, rtype, status, reason=None, state=None):
        with self.emu.lock:
            r = st["resources"].setdefault(lid, {"type": rtype})
            r.update(type=rtype, status=status, reason=reason, time=self.emu.now())
            if state is not None:
                r["state"] = state
            physical = (r.get("state") or {}).get("physical")
            self._event(st, lid, rtype, status, reason, physical)

    def _new_stack(self, account, region, name, text, template, values, capabilities,
                   principal, tags=None, role_arn=None, description=None, on_failure=None):
        sid = "arn:%s:cloudformation:%s:%s:stack/%s/%s" % (
            partition_of(region), region, account, name, uuid.uuid4())
        st = {"id": sid, "name": name, "account": account, "region": region,
              "status": "CREATE_IN_PROGRESS", "reason": None, "body": text,
              "template": template, "params": values, "capabilities": list(capabilities or []),
              "resources": {}, "order": [], "outputs": [], "created": self.emu.now(),
              "updated": None, "events": [], "principal": principal, "tags": tags or [],
              "role_arn": role_arn, "on_failure": on_failure or "ROLLBACK",
              "description": description if description is not None else
              template.description}
        self.stacks[sid] = st
        self._event(st, name, "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS",
                    "User Initiated", sid)
        return st

    # ------------------------------------------------------------------ stacks: engine
    def _clients(self, st):
        return res.Clients(self.emu.url, st["principal"](), st["region"])

    def _pseudo(self, st):
        part = partition_of(st["region"])
        return {"AWS::AccountId": st["account"], "AWS::Region": st["region"],
                "AWS::Partition": part, "AWS::StackName": st["name"], "AWS::StackId": st["id"],
                "AWS::URLSuffix": "amazonaws.com.cn" if part == "aws-cn" else "amazonaws.com",
                "AWS::NotificationARNs": []}

    def _env(self, st, clients, lid):
        return res.Env(clients, st["account"], st["region"], st["name"], lid)

    def _make(self, st, clients, resolver, lid):
        """Resolve and create one resource; returns its state or raises ResourceFailed."""
        rtype = st["template"].resources[lid]["Type"]
        self._set_resource(st, lid, rtype, "CREATE_IN_PROGRESS")
        try:
            props = resolver.value(st["template"].resources[lid].get("Properties") or {})
        except TemplateError as exc:
            raise res.ResourceFailed(str(exc))
        res.check_properties(rtype, props)
        state = res.TYPES[rtype].create(self._env(st, clients, lid), props)
        state.update(type=rtype, props=props)
        return state

    def _fail_reason(self, st, lid, rtype, exc, verb):
        self._set_resource(st, lid, rtype, verb + "_FAILED", str(exc))
        return "ResourceLogicalId:%s, ResourceType:%s, ResourceStatusReason:%s" % (
            lid, rtype, exc)

    def _remove(self, st, clients, lid, state, quiet_missing=True):
        """Delete one resource; a resource already gone counts as deleted."""
        rtype = state["type"]
        self._set_resource(st, lid, rtype, "DELETE_IN_PROGRESS")
        try:
            res.TYPES[rtype].delete(self._env(st, clients, lid), state, state["props"])
        except res.ResourceFailed as exc:
            if not (quiet_missing and exc.code and ("NotFound" in exc.code or
                                                    exc.code.startswith("NoSuch"))):
                self._set_resource(st, lid, rtype, "DELETE_FAILED", str(exc))
                raise
        self._set_resource(st, lid, rtype, "DELETE_COMPLETE")

    def run_create(self, st):
        return self._with_clients(self._run_create, st)

    def _run_create(self, st, clients):
        """Create every resource of a new stack in dependency order; on a failure, delete what
        was made in reverse order. -> None on success, else the failure's reason."""
        resolver = Resolver(st["template"], st["params"], self._pseudo(st))
        failure = None
        for lid in st["template"].order:
            if not resolver.included(lid):
                continue
            rtype = st["template"].resources[lid]["Type"]
            try:
                state = self._make(st, clients, resolver, lid)
            except (res.ResourceFailed, TemplateError) as exc:
                failure = self._fail_reason(st, lid, rtype, exc, "CREATE")
                break
            resolver.made[lid] = state
            with self.emu.lock:
                st["order"].append(lid)
            self._set_resource(st, lid, rtype, "CREATE_COMPLETE", state=state)
        if failure is None:
            try:
                outputs = resolver.outputs()
            except TemplateError as exc:
                failure = "Outputs: %s" % exc
            else:
                with self.emu.lock:
                    st["outputs"] = outputs
                self._set_status(st, "CREATE_COMPLETE")
                return None
        if st["on_failure"] == "DO_NOTHING":
            self._set_status(st, "CREATE_FAILED", failure)
            return failure
        self._set_status(st, "ROLLBACK_IN_PROGRESS", "The following resource(s) failed to "
                         "create: [%s]. Rollback requested by user." % failure.split(",")[0]
                         .split(":", 1)[-1])
        try:
            self._delete_all(st, clients)
        except res.ResourceFailed:
            self._set_status(st, "ROLLBACK_FAILED", failure)
            return failure
        if st["on_failure"] == "DELETE":
            self._set_status(st, "DELETE_COMPLETE")
        else:
            self._set_status(st, "ROLLBACK_COMPLETE", failure)
        return failure

    def _delete_all(self, st, clients):
        for lid in reversed(list(st["order"])):
            state = st["resources"][lid].get("state")
            if state is not None:
                self._remove(st, clients, lid, state)
            with self.emu.lock:
                st["order"].remove(lid)
                st["resources"][lid]["state"] = None

    def run_delete(self, st):
        return self._with_clients(self._run_delete, st)

    def _run_delete(self, st, clients):
        self._set_status(st, "DELETE_IN_PROGRESS", "User Initiated")
        try:
            self._delete_all(st, clients)
        except res.ResourceFailed as exc:
            self._set_status(st, "DELETE_FAILED", "The following resource(s) failed to delete: "
                             "%s" % exc)
            return str(exc)
        self._set_status(st, "DELETE_COMPLETE")
        return None

    def run_update(self, st, text, template, values):
        return self._with_clients(self._run_update, st, text, template, values)

    def _with_clients(self, fn, st, *args):
        """Run a stack operation with clients of the stack's principal, closed at the end."""
        clients = self._clients(st)
        try:
            return fn(st, clients, *args)
        finally:
            clients.close()

    def _run_update(self, st, clients, text, template, values):
        """Bring a stack to a new template/parameters: new resources made, changed ones updated
        in place or replaced, removed ones deleted (after everything else succeeded)."""
        self._set_status(st, "UPDATE_IN_PROGRESS", "User Initiated")
        old_template, old_values, old_order = st["template"], st["params"], list(st["order"])
        old = {lid: st["resources"][lid]["state"] for lid in old_order}
        with self.emu.lock:
            st["template"], st["params"] = template, values
        resolver = Resolver(template, values, self._pseudo(st))
        created, updated, cleanup = [], [], []   # cleanup: old states to delete at the end
        new_order = []
        failure = None
        for lid in template.order:
            if not resolver.included(lid):
                continue
            rtype = template.resources[lid]["Type"]
            try:
                state = self._update_one(st, clients, resolver, lid, rtype, old.get(lid),
                                         created, updated, cleanup)
            except (res.ResourceFailed, TemplateError) as exc:
                failure = self._fail_reason(st, lid, rtype, exc, "UPDATE")
                break
            resolver.made[lid] = state
            new_order.append(lid)
        if failure is None:
            try:
                outputs = resolver.outputs()
            except TemplateError as exc:
                failure = "Outputs: %s" % exc
        if failure is not None:
            self._rollback_update(st, clients, created, updated, old_template, old_values,
                                  old_order, old, failure)
            return failure
        cleanup += [(lid, old[lid]) for lid in old_order if lid not in new_order]
        with self.emu.lock:
            st["order"] = new_order
            st["outputs"] = outputs
        self._set_status(st, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        for lid, state in reversed(cleanup):
            try:
                self._remove(st, clients, lid, state)
            except res.ResourceFailed:
                pass  # CloudFormation does not fail an update for its cleanup
            if lid not in new_order:
                with self.emu.lock:
                    st["resources"].pop(lid, None)
        self._set_status(st, "UPDATE_COMPLETE")
        return None

    def _update_one(self, st, clients, resolver, lid, rtype, prev, created, updated, cleanup):
        if prev is None or prev["type"] != rtype:
            state = self._make(st, clients, resolver, lid)
            created.append((lid, state))
            if prev is not None:
                cleanup.append((lid, prev))
            self._set_resource(st, lid, rtype, "CREATE_COMPLETE", state=state)
            return state
        try:
            props = resolver.value(st["template"].resources[lid].get("Properties") or {})
        except TemplateError as exc:
            raise res.ResourceFailed(str(exc))
        if props == prev["props"]:
            return prev
        res.check_properties(rtype, props)
        self._set_resource(st, lid, rtype, "UPDATE_IN_PROGRESS")
        env = self._env(st, clients, lid)
        try:
            state = res.TYPES[rtype].update(env, dict(prev), prev["props"], props)
        except res.NeedsReplacement:
            name_prop = res.NAME_PROPS.get(rtype)
            if name_prop and props.get(name_prop) and props.get(name_prop) == \
                    prev["props"].get(name_prop):
                raise res.ResourceFailed(
                    "CloudFormation cannot update a stack when a custom-named resource "
                    "requires replacing. Rename %s and update the stack again." %
                    props[name_prop])
            state = res.TYPES[rtype].create(env, props)
            state.update(type=rtype, props=props)
            created.append((lid, state))
            cleanup.append((lid, prev))
            self._set_resource(st, lid, rtype, "UPDATE_COMPLETE", state=state)
            return state
        state = dict(state, type=rtype, props=props)
        updated.append((lid, prev, state))
        self._set_resource(st, lid, rtype, "UPDATE_COMPLETE", state=state)
        return state

    def _rollback_update(self, st, clients, created, updated, old_template, old_values,
                         old_order, old, failure):
        self._set_status(st, "UPDATE_ROLLBACK_IN_PROGRESS", failure)
        ok = True
        for lid, prev, state in reversed(updated):
            try:
                res.TYPES[prev["type"]].update(self._env(st, clients, lid), dict(state),
                                               state["props"], prev["props"])
            except (res.ResourceFailed, res.NeedsReplacement):
                ok = False
        for lid, state in reversed(created):
            try:
                self._remove(st, clients, lid, state)
            except res.ResourceFailed:
                ok = False
        with self.emu.lock:
            st["template"], st["params"], st["order"] = old_template, old_values, old_order
            for lid, state in old.items():
                st["resources"][lid] = {"type": state["type"], "status": "UPDATE_COMPLETE",
                                        "reason": None, "time": self.emu.now(), "state": state}
            for lid in list(st["resources"]):
                if lid not in old:
                    del st["resources"][lid]
        self._set_status(st, "UPDATE_ROLLBACK_COMPLETE" if ok else "UPDATE_ROLLBACK_FAILED",
                         failure)

    # ------------------------------------------------------------------ stacks: principal
    def _principal_for(self, ctx, role_arn=None):
        """A callable giving credentials of the stack's principal: its service role, else the
        caller (the same role, or the account's root keys)."""
        emu = self.emu
        account = ctx.account
        if role_arn:
            ctx.authorize("iam:PassRole", role_arn)
            iam = emu.services["iam"]
            if iam.get_role(account, role_arn) is None or not iam.trusts_service(
                    account, role_arn, "cloudformation.amazonaws.com"):
                raise _invalid("Role %s is invalid or cannot be assumed" % role_arn)
            return lambda: emu.credentials_for_role(account, role_arn, "AWSCloudFormation")
        if ctx.role_arn:
            caller_role = ctx.role_arn
            return lambda: emu.credentials_for_role(account, caller_role, "AWSCloudFormation")
        ak, secret = emu.root_keys[account]
        return lambda: {"AccessKeyId": ak, "SecretAccessKey": secret}

    def _stack_arn(self, ctx, name):
        return ctx.arn("cloudformation", "stack/%s/*" % name)

    # ------------------------------------------------------------------ stacks: operations
    def ValidateTemplate(self, ctx, params):
        ctx.authorize("cloudformation:ValidateTemplate", "*")
        template = self._template(self._template_text(ctx, params))
        out = {"Parameters": template.parameter_declarations()}
        if template.description is not None:
            out["Description"] = template.description
        need = self._needed_capability(template)
        if need:
            out["Capabilities"] = [need]
            out["CapabilitiesReason"] = "The following resource(s) require capabilities: [%s]" \
                % ", ".join(sorted({r["Type"] for r in template.resources.values()
                                    if r["Type"] in IAM_TYPES}))
        return out

    def CreateStack(self, ctx, params):
        name = params["StackName"]
        ctx.authorize("cloudformation:CreateStack", self._stack_arn(ctx, name))
        if self._live(ctx.account, ctx.region, name) is not None:
            raise AwsError("AlreadyExistsException", "Stack [%s] already exists" % name, 400)
        if params.get("OnFailure") and "DisableRollback" in params:
            raise _invalid("You cannot specify both DisableRollback and OnFailure.")
        text = self._template_text(ctx, params)
        template = self._template(text)
        values = self._bind(template, params.get("Parameters"))
        self._check_capabilities(template, params.get("Capabilities"))
        principal = self._principal_for(ctx, params.get("RoleARN"))
        on_failure = params.get("OnFailure") or \
            ("DO_NOTHING" if params.get("DisableRollback") else "ROLLBACK")
        st = self._new_stack(ctx.account, ctx.region, name, text, template, values,
                             params.get("Capabilities"), principal, params.get("Tags"),
                             params.get("RoleARN"), on_failure=on_failure)
        self._submit(self.run_create, st)
        return {"StackId": st["id"]}

    def _submit(self, fn, *args):
        generation = self.generation

        def run():
            if generation == self.generation:  # not after a reset
                fn(*args)
        self.emu.submit(run)

    def UpdateStack(self, ctx, params):
        st = self._stack(ctx, params["StackName"])
        ctx.authorize("cloudformation:UpdateStack", st["id"])
        if st["status"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE",
                                "UPDATE_ROLLBACK_COMPLETE"):
            raise _invalid("Stack:%s is in %s state and can not be updated." % (st["id"],
                                                                              st["status"]))
        text = self._template_text(ctx, params, previous=st["body"])
        template = self._template(text)
        values = self._bind(template, params.get("Parameters"), previous=st["params"])
        self._check_capabilities(template, params.get("Capabilities"))
        if text == st["body"] and values == st["params"]:
            raise _invalid("No updates are to be performed.")
        if params.get("RoleARN"):
            st["principal"] = self._principal_for(ctx, params["RoleARN"])
            st["role_arn"] = params["RoleARN"]
        st["status"] = "UPDATE_IN_PROGRESS"
        st["previous_body"] = st["body"]
        st["body"] = text
        st["capabilities"] = list(params.get("Capabilities") or [])
        self._submit(self._run_stack_update, st, text, template, values)
        return {"StackId": st["id"]}

    def _run_stack_update(self, st, text, template, values):
        failure = self.run_update(st, text, template, values)
        if failure is not None:
            with self.emu.lock:
                st["body"] = st.get("previous_body", st["body"])

    def DeleteStack(self, ctx, params):
        st = self._live(ctx.account, ctx.region, params["StackName"])
        if st is None or st["status"] == "DELETE_COMPLETE":
            ctx.authorize("cloudformation:DeleteStack", self._stack_arn(ctx, params["StackName"]))
            return {}
        ctx.authorize("cloudformation:DeleteStack", st["id"])
        if st["status"].endswith("_IN_PROGRESS"):
            if st["status"] == "DELETE_IN_PROGRESS":
                return {}
            raise _invalid("Stack [%s] cannot be deleted while in status %s" % (st["name"],
                                                                               st["status"]))
        st["status"] = "DELETE_IN_PROGRESS"
        self._submit(self.run_delete, st)
        return {}

    def _stack_out(self, st):
        t = st["template"]
        out = {"StackId": st["id"], "StackName": st["name"], "CreationTime": st["created"],
               "StackStatus": st["status"], "DisableRollback": st["on_failure"] == "DO_NOTHING",
               "Tags": st["tags"], "EnableTerminationProtection": False,
               "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
               "Parameters": [{"ParameterKey": k,
                               "ParameterValue": "****" if t.no_echo(k) else v}
                              for k, v in st["params"].items()]}
        for key, value in (("StackStatusReason", st["reason"]),
                           ("LastUpdatedTime", st["updated"]),
                           ("Description", st["description"]), ("RoleARN", st["role_arn"])):
            if value is not None:
                out[key] = value
        if st["capabilities"]:
            out["Capabilities"] = st["capabilities"]
        if st["outputs"]:
            out["Outputs"] = st["outputs"]
        if st["status"] == "DELETE_COMPLETE":
            out["DeletionTime"] = st["updated"]
        return out

    def DescribeStacks(self, ctx, params):
        name = params.get("StackName")
        if name:
            st = self._stack(ctx, name)
            ctx.authorize("cloudformation:DescribeStacks", st["id"])
            return {"Stacks": [self._stack_out(st)]}
        ctx.authorize("cloudformation:DescribeStacks", "*")
        return {"Stacks": [self._stack_out(st) for st in self.stacks.values()
                           if st["account"] == ctx.account and st["region"] == ctx.region
                           and st["status"] != "DELETE_COMPLETE"]}

    def _resources(self, st):
        for lid, r in st["resources"].items():
            yield lid, r, (r.get("state") or {}).get("physical")

    def DescribeStackResources(self, ctx, params):
        if params.get("StackName"):
            st = self._stack(ctx, params["StackName"])
        elif params.get("PhysicalResourceId"):
            st = next((s for s in self.stacks.values() if s["account"] == ctx.account and
                       s["region"] == ctx.region and any(
                           p == params["PhysicalResourceId"] for _, _, p in self._resources(s))),
                      None)
            if st is None:
                raise _invalid("Stack for %s does not exist" % params["PhysicalResourceId"])
        else:
            raise _invalid("Either StackName or PhysicalResourceId must be specified.")
        ctx.authorize("cloudformation:DescribeStackResources", st["id"])
        out = []
        for lid, r, physical in self._resources(st):
            if params.get("LogicalResourceId") not in (None, lid):
                continue
            out.append(_resource_item(
                {"StackName": st["name"], "StackId": st["id"], "Timestamp": r["time"]},
                lid, r, physical))
        return {"StackResources": out}

    def ListStackResources(self, ctx, params):
        st = self._stack(ctx, params["StackName"])
        ctx.authorize("cloudformation:ListStackResources", st["id"])
        out = []
        for lid, r, physical in self._resources(st):
            out.append(_resource_item({"LastUpdatedTimestamp": r["time"]}, lid, r, physical))
        return {"StackResourceSummaries": out}

    def DescribeStackEvents(self, ctx, params):
        st = self._stack(ctx, params["StackName"])
        ctx.authorize("cloudformation:DescribeStackEvents", st["id"])
        return {"StackEvents": list(st["events"])}

    def GetTemplate(self, ctx, params):
        st = self._stack(ctx, params["StackName"])
        ctx.authorize("cloudformation:GetTemplate", st["id"])
        return {"TemplateBody": st["body"], "StagesAvailable": ["Original", "Processed"]}

    # ------------------------------------------------------------------ StackSets: state
    def _org(self):
        return self.emu.services["organizations"].org

    def _check_management(self, ctx):
        org = self._org()
        if org is None or org["management"] != ctx.account:
            raise _invalid(NOT_MANAGEMENT)

    def _set(self, ctx, name):
        for ss in self.stack_sets.values():
            if ss["account"] == ctx.account and ss["region"] == ctx.region and \
                    name in (ss["name"], ss["id"]) and ss["status"] != "DELETED":
                return ss
        raise AwsError("StackSetNotFoundException", "StackSet %s not found" % name, 404)

    def _busy(self, ss):
        if ss["running"] or ss["queue"]:
            raise AwsError("OperationInProgressException", "Another Operation on StackSet %s "
                           "is in progress" % ss["id"], 409)

    def _exec_principal(self, ss, account):
        """Credentials of the administrator session StackSets use in a target account."""
        digest = hashlib.sha256(ss["id"].encode()).hexdigest()[:32]
        arn = "arn:%s:sts::%s:assumed-role/stacksets-exec-%s/%s" % (
            partition_of(ss["region"]), account, digest, "StackSetsExecution")
        emu = self.emu
        return lambda: emu.credentials_for_admin(account, arn)

    def CreateStackSet(self, ctx, params):
        name = params["StackSetName"]
        ctx.authorize("cloudformation:CreateStackSet",
                      ctx.arn("cloudformation", "stackset/%s:*" % name))
        model = params.get("PermissionModel") or "SELF_MANAGED"
        if model != "SERVICE_MANAGED":
            raise _invalid("SELF_MANAGED StackSets are not emulated (use SERVICE_MANAGED)")
        if params.get("CallAs") == "DELEGATED_ADMIN":
            raise _invalid("Delegated administrators are not emulated")
        self._check_management(ctx)
        auto = params.get("AutoDeployment")
        if auto is None or auto.get("Enabled") is None:
            raise _invalid("AutoDeployment must be specified for a StackSet with "
                           "SERVICE_MANAGED permission model")
        if any(k[:3] == (ctx.account, ctx.region, name) and ss["status"] != "DELETED"
               for k, ss in self.stack_sets.items()):
            raise AwsError("NameAlreadyExistsException", "StackSet %s already exists" % name,
                           409)
        text = self._template_text(ctx, params)
        template = self._template(text)
        values = self._bind(template, params.get("Parameters"))
        self._check_capabilities(template, params.get("Capabilities"))
        set_id = "%s:%s" % (name, uuid.uuid4())
        ss = {"id": set_id, "name": name, "account": ctx.account, "region": ctx.region,
              "arn": ctx.arn("cloudformation", "stackset/" + set_id),
              "description": params.get("Description"), "body": text, "template": template,
              "params": values, "given": params.get("Parameters") or [],
              "capabilities": list(params.get("Capabilities") or []), "tags":
              params.get("Tags") or [], "auto": {"Enabled": bool(auto.get("Enabled")),
                                                 "RetainStacksOnAccountRemoval": bool(
                                                     auto.get("RetainStacksOnAccountRemoval"))},
              "status": "ACTIVE", "instances": collections.OrderedDict(), "ous": [],
              "regions": [], "operations": collections.OrderedDict(), "running": None,
              "queue": collections.deque()}
        self.stack_sets[(ctx.account, ctx.region, name, set_id)] = ss
        return {"StackSetId": set_id}

    def _set_out(self, ss):
        out = {"StackSetName": ss["name"], "StackSetId": ss["id"], "Status": ss["status"],
               "TemplateBody": ss["body"], "Parameters": [
                   {"ParameterKey": k, "ParameterValue": "****" if ss["template"].no_echo(k)
                    else v} for k, v in ss["params"].items()],
               "Capabilities": ss["capabilities"], "Tags": ss["tags"],
               "StackSetARN": ss["arn"], "AutoDeployment": ss["auto"],
               "PermissionModel": "SERVICE_MANAGED", "OrganizationalUnitIds": list(ss["ous"]),
               "ManagedExecution": {"Active": False}}
        if ss["description"]:
            out["Description"] = ss["description"]
        return out

    def DescribeStackSet(self, ctx, params):
        ss = self._set(ctx, params["StackSetName"])
        ctx.authorize("cloudformation:DescribeStackSet", ss["arn"])
        return {"StackSet": self._set_out(ss)}

    def ListStackSets(self, ctx, params):
        ctx.authorize("cloudformation:ListStackSets", "*")
        want = params.get("Status")
        out = []
        for ss in self.stack_sets.values():
            if ss["account"] != ctx.account or ss["region"] != ctx.region:
                continue
            if want and ss["status"] != want:
                continue
            item = {"StackSetName": ss["name"], "StackSetId": ss["id"], "Status": ss["status"],
                    "AutoDeployment": ss["auto"], "PermissionModel": "SERVICE_MANAGED",
                    "DriftStatus": "NOT_CHECKED", "ManagedExecution": {"Active": False}}
            if ss["description"]:
                item["Description"] = ss["description"]
            out.append(item)
        return {"Summaries": out}

    def DeleteStackSet(self, ctx, params):
        ss = self._set(ctx, params["StackSetName"])
        ctx.authorize("cloudformation:DeleteStackSet", ss["arn"])
        self._busy(ss)
        if ss["instances"]:
            raise AwsError("StackSetNotEmptyException", "You can't yet delete this StackSet, "
                           "because it still contains one or more stack instances. Delete all "
                           "stack instances from the StackSet before deleting the StackSet.",
                           409)
        ss["status"] = "DELETED"
        return {}

    # ------------------------------------------------------------------ StackSets: targets
    def _accounts_of(self, ous):
        """Target accounts of OUs (or the root): their members, never the management account."""
        org = self._org()
        out = []
        for ou in ous:
            if ou != org["root"] and ou not in org["ous"]:
                raise _invalid("OrganizationalUnitIds [%s] not found in the organization %s"
                               % (ou, org["id"]))
            for account, parent in sorted(org["parents"].items()):
                if (parent == ou or ou == org["root"]) and account != org["management"]:
                    out.append((account, parent))
        return out

    @staticmethod
    def _region_order(regions, prefs):
        order = list((prefs or {}).get("RegionOrder") or [])
        return [r for r in order if r in regions] + [r for r in regions if r not in order]

    def _new_operation(self, ss, action, work, prefs=None, retain=False, targets=None):
        """Queue an operation: work = [(region, [(account, ou)])] in the order to run."""
        op_id = str(uuid.uuid4())
        op = {"id": op_id, "action": action, "status": "QUEUED", "created": self.emu.now(),
              "ended": None, "prefs": dict(prefs or {}), "retain": retain, "work": work,
              "results": collections.OrderedDict(), "reason": None, "targets": targets}
        for region, accounts in work:
            for account, ou in accounts:
                op["results"][(account, region)] = {"Status": "PENDING", "ou": ou}
        ss["operations"][op_id] = op
        ss["queue"].append(op_id)
        if ss["running"] is None:
            ss["running"] = "starting"
            self._submit(self._drain, ss)
        return op_id

    def _drain(self, ss):
        """Run a set's queued operations one after another (one operation at a time)."""
        while True:
            with self.emu.lock:
                if not ss["queue"]:
                    ss["running"] = None
                    return
                op = ss["operations"][ss["queue"].popleft()]
                ss["running"] = op["id"]
                op["status"] = "RUNNING"
            self._run_operation(ss, op)

    def _tolerance(self, op, n):
        prefs = op["prefs"]
        if prefs.get("FailureToleranceCount") is not None:
            return prefs["FailureToleranceCount"]
        if prefs.get("FailureTolerancePercentage") is not None:
            return n * prefs["FailureTolerancePercentage"] // 100
        return 0

    def _run_operation(self, ss, op):
        stopped = False
        for region, accounts in op["work"]:
            failed = 0
            for account, ou in accounts:
                result = op["results"][(account, region)]
                if stopped:
                    self._instance_result(ss, op, account, region, "CANCELLED",
                                          "Cancelled since failure tolerance has exceeded")
                    continue
                with self.emu.lock:
                    result["Status"] = "RUNNING"
                    inst = ss["instances"].get((account, region))
                    if inst is not None:
                        inst["detailed"] = "RUNNING"
                reason = self._run_instance(ss, op, account, region, ou)
                if reason is None:
                    self._instance_result(ss, op, account, region, "SUCCEEDED", None)
                else:
                    failed += 1
                    self._instance_result(ss, op, account, region, "FAILED", reason)
                    if failed > self._tolerance(op, len(accounts)):
                        stopped = True
        with self.emu.lock:
            op["ended"] = self.emu.now()
            failures = [k for k, r in op["results"].items() if r["Status"] == "FAILED"]
            if stopped:
                op["status"] = "FAILED"
                op["reason"] = "The Operation %s has failed in %d account(s) and Region(s): " \
                    "failure tolerance exceeded" % (op["id"], len(failures))
            else:
                op["status"] = "SUCCEEDED"

    def _instance_result(self, ss, op, account, region, status, reason):
        with self.emu.lock:
            result = op["results"][(account, region)]
            result["Status"] = status
            result["StatusReason"] = reason
            inst = ss["instances"].get((account, region))
            if inst is None:
                return
            inst["last_op"] = op["id"]
            if status == "SUCCEEDED" and op["action"] == "DELETE":
                del ss["instances"][(account, region)]
                return
            inst["detailed"] = status
            inst["reason"] = reason
            if status == "SUCCEEDED":
                inst["status"] = "CURRENT"
            elif op["action"] == "DELETE" and status == "FAILED":
                inst["status"] = "INOPERABLE"
            else:
                inst["status"] = "OUTDATED"

    def _run_instance(self, ss, op, account, region, ou):
        """One account and Region of an operation -> None, or the failure's reason."""
        inst = ss["instances"].get((account, region))
        st = self.stacks.get(inst["stack_id"]) if inst and inst.get("stack_id") else None
        if op["action"] == "DELETE":
            if st is None or op["retain"] or st["status"] == "DELETE_COMPLETE":
                return None
            return self.run_delete(st)
        if st is not None and st["status"] in ("ROLLBACK_COMPLETE", "CREATE_FAILED",
                                               "ROLLBACK_FAILED"):
            self.run_delete(st)  # a failed first creation is made again
            st = None
        if st is None or st["status"] == "DELETE_COMPLETE":
            with self.emu.lock:
                name = "StackSet-%s-%s" % (ss["name"], uuid.uuid4())
                st = self._new_stack(account, region, name, ss["body"], ss["template"],
                                     dict(ss["params"]), ss["capabilities"],
                                     self._exec_principal(ss, account),
                                     description=ss["description"])
                inst["stack_id"] = st["id"]
            return self.run_create(st)
        if st["body"] == ss["body"] and st["params"] == ss["params"]:
            return None
        with self.emu.lock:
            st["body"] = ss["body"]
        return self.run_update(st, ss["body"], ss["template"], dict(ss["params"]))

    def _add_instances(self, ss, op_targets, regions):
        for region in regions:
            if region not in ss["regions"]:
                ss["regions"].append(region)
            for account, ou in op_targets:
                if (account, region) not in ss["instances"]:
                    ss["instances"][(account, region)] = {
                        "account": account, "region": region, "ou": ou, "stack_id": None,
                        "status": "OUTDATED", "detailed": "PENDING",
                        "reason": "User Initiated", "last_op": None}

    # ------------------------------------------------------------------ StackSets: operations
    def _check_targets(self, params):
        targets = params.get("DeploymentTargets") or {}
        if params.get("Accounts") or targets.get("Accounts") or targets.get("AccountsUrl"):
            raise _invalid("StackSets with SERVICE_MANAGED permission model can only have "
                           "OrganizationalUnit as target")
        ous = targets.get("OrganizationalUnitIds") or []
        if not ous:
            raise _invalid("DeploymentTargets.OrganizationalUnitIds must be specified for a "
                           "StackSet with SERVICE_MANAGED permission model")
        return ous

    def CreateStackInstances(self, ctx, params):
        ss = self._set(ctx, params["StackSetName"])
        ctx.authorize("cloudformation:CreateStackInstances", ss["arn"])
        self._check_management(ctx)
        ous = self._check_targets(params)
        if params.get("ParameterOverrides"):
            raise _invalid("ParameterOverrides are not emulated")
        self._busy(ss)
        targets = self._accounts_of(ous)
        regions = self._region_order(params["Regions"], params.get("OperationPreferences"))
        work = [(r, [t for t in targets if (t[0], r) not in ss["instances"]]) for r in regions]
        for ou in ous:
            if ou not in ss["ous"]:
                ss["ous"].append(ou)
        self._add_instances(ss, targets, regions)
        op_id = self._new_operation(ss, "CREATE", work, params.get("OperationPreferences"),
                                    targets={"OrganizationalUnitIds": ous})
        return {"OperationId": op_id}

    def DeleteStackInstances(self, ctx, params):
        ss = self._set(ctx, params["StackSetName"])
        ctx.authorize("cloudformation:DeleteStackInstances", ss["arn"])
        self._check_management(ctx)
        ous = self._check_targets(params)
        self._busy(ss)
        regions = self._region_order(params["Regions"], params.get("OperationPreferences"))
        work = []
        for region in regions:
            accounts = [(i["account"], i["ou"]) for (a, r), i in ss["instances"].items()
                        if r == region and i["ou"] in ous]
            work.append((region, accounts))
            for account, _ in accounts:
                inst = ss["instances"][(account, region)]
                inst.update(status="OUTDATED", detailed="PENDING", reason="User Initiated")
        remaining = {i["ou"] for (a, r), i in ss["instances"].items() if r not in regions}
        ss["ous"] = [ou for ou in ss["ous"] if ou not in ous or ou in remaining]
        op_id = self._new_operation(ss, "DELETE", work, params.get("OperationPreferences"),
                                    retain=params["RetainStacks"],
                                    targets={"OrganizationalUnitIds": ous})
        return {"OperationId": op_id}

    def UpdateStackSet(self, ctx, params):
        ss = self._set(ctx, params["StackSetName"])
        ctx.authorize("cloudformation:UpdateStackSet", ss["arn"])
        self._check_management(ctx)
        if params.get("PermissionModel") not in (None, "SERVICE_MANAGED"):
            raise _invalid("SELF_MANAGED StackSets are not emulated")
        if params.get("DeploymentTargets") or params.get("Accounts") or params.get("Regions"):
            raise _invalid("Updating a subset of instances is not emulated: UpdateStackSet "
                           "updates every instance")
        self._busy(ss)
        text = self._template_text(ctx, params, previous=ss["body"])
        template = self._template(text)
        values = self._bind(template, params.get("Parameters"), previous=ss["params"])
        self._check_capabilities(template, params.get("Capabilities"))
        ss.update(body=text, template=template, params=values,
                  capabilities=list(params.get("Capabilities") or []))
        if params.get("Description") is not None:
            ss["description"] = params["Description"]
        if params.get("Tags") is not None:
            ss["tags"] = params["Tags"]
        if params.get("AutoDeployment"):
            ss["auto"].update({k: bool(v) for k, v in params["AutoDeployment"].items()
                               if k in ("Enabled", "RetainStacksOnAccountRemoval")})
        regions = self._region_order(ss["regions"], params.get("OperationPreferences"))
        work = []
        for region in regions:
            accounts = [(i["account"], i["ou"]) for (a, r), i in ss["instances"].items()
                        if r == region]
            work.append((region, accounts))
        for inst in ss["instances"].values():
            inst.update(status="OUTDATED", detailed="PENDING", reason="User Initiated")
        op_id = self._new_operation(ss, "UPDATE", work, params.get("OperationPreferences"),
                                    targets={"OrganizationalUnitIds": list(ss["ous"])})
        return {"OperationId": op_id}

    def _instance_out(self, ss, inst, summary=False):
        out = {"StackSetId": ss["id"], "Region": inst["region"], "Account": inst["account"],
               "Status": inst["status"], "OrganizationalUnitId": inst["ou"],
               "StackInstanceStatus": {"DetailedStatus": inst["detailed"]},
               "DriftStatus": "NOT_CHECKED"}
        if inst["stack_id"]:
            out["StackId"] = inst["stack_id"]
        if inst["reason"]:
            out["StatusReason"] = inst["reason"]
        if inst["last_op"]:
            out["LastOperationId"] = inst["last_op"]
        if not summary:
            out["ParameterOverrides"] = []
        return out

    def ListStackInstances(self, ctx, params):
        ss = self._set(ctx, params["StackSetName"])
        ctx.authorize("cloudformation:ListStackInstances", ss["arn"])
        out = []
        for inst in ss["instances"].values():
            if params.get("StackInstanceAccount") not in (None, inst["account"]):
                continue
            if params.get("StackInstanceRegion") not in (None, inst["region"]):
                continue
            if not self._filters_match(params.get("Filters"), inst):
                continue
            out.append(self._instance_out(ss, inst, summary=True))
        return {"Summaries": out}

    @staticmethod
    def _filters_match(filters, inst):
        for f in filters or []:
            value = {"DETAILED_STATUS": inst["detailed"], "LAST_OPERATION_ID": inst["last_op"],
                     "DRIFT_STATUS": "NOT_CHECKED"}.get(f.get("Name"))
            if value != f.get("Values"):
                return False
        return True

    def DescribeStackInstance(self, ctx, params):
        ss = self._set(ctx, params["StackSetName"])
        ctx.authorize("cloudformation:DescribeStackInstance", ss["arn"])
        inst = ss["instances"].get((params["StackInstanceAccount"],
                                    params["StackInstanceRegion"]))
        if inst is None:
            raise AwsError("StackInstanceNotFoundException", "Stack instance %s/%s not found "
                           "in StackSet %s" % (params["StackInstanceAccount"],
                                               params["StackInstanceRegion"], ss["id"]), 404)
        return {"StackInstance": self._instance_out(ss, inst)}

    def _operation(self, ctx, ss, op_id):
        op = ss["operations"].get(op_id)
        if op is None:
            raise AwsError("OperationNotFoundException", "Operation %s not found" % op_id, 404)
        return op

    def _op_status(self, op):
        return "RUNNING" if op["status"] == "QUEUED" else op["status"]

    def DescribeStackSetOperation(self, ctx, params):
        ss = self._set(ctx, params["StackSetName"])
        ctx.authorize("cloudformation:DescribeStackSetOperation", ss["arn"])
        op = self._operation(ctx, ss, params["OperationId"])
        out = {"OperationId": op["id"], "StackSetId": ss["id"], "Action": op["action"],
               "Status": self._op_status(op), "OperationPreferences": op["prefs"],
               "RetainStacks": op["retain"], "CreationTimestamp": op["created"],
               "ExecutionRoleName": "stacksets-exec", "StatusDetails": {
                   "FailedStackInstancesCount": sum(1 for r in op["results"].values()
                                                    if r["Status"] == "FAILED")}}
        if op["targets"]:
            out["DeploymentTargets"] = op["targets"]
        if op["ended"] is not None:
            out["EndTimestamp"] = op["ended"]
        if op["reason"]:
            out["StatusReason"] = op["reason"]
        return {"StackSetOperation": out}

    def ListStackSetOperations(self, ctx, params):
        ss = self._set(ctx, params["StackSetName"])
        ctx.authorize("cloudformation:ListStackSetOperations", ss["arn"])
        out = []
        for op in reversed(ss["operations"].values()):
            item = {"OperationId": op["id"], "Action": op["action"],
                    "Status": self._op_status(op), "CreationTimestamp": op["created"],
                    "OperationPreferences": op["prefs"]}
            if op["ended"] is not None:
                item["EndTimestamp"] = op["ended"]
            if op["reason"]:
                item["StatusReason"] = op["reason"]
            out.append(item)
        return {"Summaries": out}

    def ListStackSetOperationResults(self, ctx, params):
        ss = self._set(ctx, params["StackSetName"])
        ctx.authorize("cloudformation:ListStackSetOperationResults", ss["arn"])
        op = self._operation(ctx, ss, params["OperationId"])
        out = []
        for (account, region), r in op["results"].items():
            item = {"Account": account, "Region": region, "Status": r["Status"],
                    "OrganizationalUnitId": r["ou"],
                    "AccountGateResult": {"Status": "SKIPPED", "StatusReason": "Function not "
                                          "found: arn:aws:lambda:::function:"
                                          "AWSCloudFormationStackSetAccountGate"}}
            if r.get("StatusReason"):
                item["StatusReason"] = r["StatusReason"]
            out.append(item)
        return {"Summaries": out}

    # ------------------------------------------------------------------ auto-deployment
    def _account_moved(self, account, old_parent, new_parent):
        """OrganizationsService move listener (emu.lock not held): automatic deployments."""
        with self.emu.lock:
            org = self._org()
            if org is None or account == org["management"]:
                return
            for ss in list(self.stack_sets.values()):
                if ss["status"] != "ACTIVE" or not ss["auto"]["Enabled"]:
                    continue
                covers = lambda p: p in ss["ous"] or org["root"] in ss["ous"]  # noqa: E731
                if covers(new_parent) and not covers(old_parent):
                    self._auto_create(ss, account, new_parent)
                elif covers(old_parent) and not covers(new_parent):
                    self._auto_remove(ss, account)
                elif covers(new_parent):  # moved between two target OUs
                    for inst in ss["instances"].values():
                        if inst["account"] == account:
                            inst["ou"] = new_parent

    def _auto_create(self, ss, account, ou):
        regions = list(ss["regions"])
        if not regions:
            return
        self._add_instances(ss, [(account, ou)], regions)
        work = [(r, [(account, ou)]) for r in regions]
        self._new_operation(ss, "CREATE", work, targets={"OrganizationalUnitIds": [ou]})

    def _auto_remove(self, ss, account):
        keys = [k for k in ss["instances"] if k[0] == account]
        if not keys:
            return
        if ss["auto"]["RetainStacksOnAccountRemoval"]:
            for k in keys:  # the stacks stay, the set forgets them
                del ss["instances"][k]
            return
        ou = ss["instances"][keys[0]]["ou"]
        for k in keys:
            ss["instances"][k].update(status="OUTDATED", detailed="PENDING",
                                      reason="User Initiated")
        work = [(r, [(account, ou)]) for r in ss["regions"] if (account, r) in keys]
        self._new_operation(ss, "DELETE", work, targets={"OrganizationalUnitIds": [ou]})

    # ------------------------------------------------------------------ inventory
    def inventory(self):
        out = []
        with self.emu.lock:
            for st in self.stacks.values():
                if st["status"] != "DELETE_COMPLETE":
                    out.append({"service": "cloudformation", "account": st["account"],
                                "region": st["region"], "type": "stack", "id": st["id"],
                                "name": st["name"], "status": st["status"]})
            for ss in self.stack_sets.values():
                if ss["status"] == "DELETED":
                    continue
                out.append({"service": "cloudformation", "account": ss["account"],
                            "region": ss["region"], "type": "stack-set", "id": ss["id"],
                            "name": ss["name"], "instances": len(ss["instances"])})
                for inst in ss["instances"].values():
                    out.append({"service": "cloudformation", "account": inst["account"],
                                "region": inst["region"], "type": "stack-instance",
                                "id": "%s/%s/%s" % (ss["id"], inst["account"], inst["region"]),
                                "status": inst["status"], "stack_id": inst["stack_id"]})
        return out
