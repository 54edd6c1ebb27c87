"""IAM (global per account): roles, inline and managed policies, tags; policy evaluation.

Owner: H3. The policy engine (module functions parse_policy, statement_matches, evaluate_policy,
evaluate_resource_policy) is shared with sts.py (trust policies) and kms.py (key policies).

Cross-service helpers (see core.py's docstring and the brief):
  get_role(account, role_name_or_arn) -> dict or None
  role_propagated(account, role_arn) -> bool
  is_allowed(account, role_arn, action, resource_arn, conditions) -> bool
  evaluate(account, role_arn, action, resource_arn, conditions) -> "allow" | "deny" | "implicit"
  trusts_service(account, role_arn, service_principal, action="sts:AssumeRole") -> bool
"""

import functools
import json
import random
import re
import urllib.parse

from emu.core import AwsError

ROLE_ARN_RE = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):role/(?:(.*)/)?([^/]+)$")
POLICY_ARN_RE = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}|aws):policy/(?:(.*)/)?([^/]+)$")
MAX_POLICY_VERSIONS = 5
TRUST_POLICY_MAX = 2048
MANAGED_POLICY_MAX = 6144
INLINE_ROLE_POLICIES_MAX = 10240

# A few AWS managed policies the pipeline (or a user) may attach.
AWS_MANAGED = {
    "service-role/AWSLambdaBasicExecutionRole": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Resource": "*",
                       "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]}],
    },
    "service-role/AWSLambdaRole": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["lambda:InvokeFunction"], "Resource": ["*"]}],
    },
    "AdministratorAccess": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    },
    "ReadOnlyAccess": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Resource": "*",
                       "Action": ["iam:Get*", "iam:List*", "kms:Describe*", "kms:Get*", "kms:List*",
                                  "events:Describe*", "events:List*", "lambda:Get*", "lambda:List*",
                                  "rds:Describe*", "rds:List*"]}],
    },
}

# ---------------------------------------------------------------------------------------------
# Policy documents


class PolicyError(ValueError):
    pass


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def parse_policy(text, kind="identity"):
    """Parses and checks a policy document. kind: identity | trust | resource. Returns the dict.
    Raises PolicyError with IAM's MalformedPolicyDocument message."""
    try:
        doc = json.loads(text)
    except (ValueError, TypeError):
        raise PolicyError("This policy contains invalid Json")
    if not isinstance(doc, dict):
        raise PolicyError("This policy contains invalid Json")
    allowed_top = {"Version", "Id", "Statement"}
    if set(doc) - allowed_top:
        raise PolicyError("Syntax errors in policy.")
    if "Version" in doc and doc["Version"] not in ("2012-10-17", "2008-10-17"):
        raise PolicyError("The policy failed legacy parsing")
    if "Statement" not in doc:
        raise PolicyError("Syntax errors in policy.")
    statements = _as_list(doc["Statement"])
    if not statements:
        raise PolicyError("Syntax errors in policy.")
    for st in statements:
        if not isinstance(st, dict):
            raise PolicyError("Syntax errors in policy.")
        known = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal",
                 "NotPrincipal", "Condition"}
        if set(st) - known:
            raise PolicyError("Syntax errors in policy.")
        if st.get("Effect") not in ("Allow", "Deny"):
            raise PolicyError("Syntax errors in policy.")
        if ("Action" in st) == ("NotAction" in st):
            raise PolicyError("Policy statement must contain actions.")
        for a in _as_list(st.get("Action", st.get("NotAction"))):
            if not isinstance(a, str) or (a != "*" and not re.fullmatch(r"[A-Za-z0-9-]+:[A-Za-z0-9*?]+", a)):
                raise PolicyError("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
        has_principal = "Principal" in st or "NotPrincipal" in st
        if kind == "identity":
            if has_principal:
                raise PolicyError("Policy document should not specify a principal.")
            if ("Resource" in st) == ("NotResource" in st):
                raise PolicyError("Policy statement must contain resources.")
        else:
            if not has_principal:
                raise PolicyError("Policy document should specify a principal." if kind == "trust"
                                  else "Syntax errors in policy.")
            if kind == "trust" and ("Resource" in st or "NotResource" in st):
                raise PolicyError("Has prohibited field Resource")
        cond = st.get("Condition")
        if cond is not None:
            if not isinstance(cond, dict) or not all(isinstance(v, dict) for v in cond.values()):
                raise PolicyError("Syntax errors in policy.")
    return doc


def _wild(pattern, value, case_insensitive=False):
    if case_insensitive:
        pattern, value = pattern.lower(), value.lower()
    if "*" not in pattern and "?" not in pattern:
        return pattern == value
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value, re.S) is not None


def _action_matches(patterns, action):
    return any(_wild(p, action, case_insensitive=True) for p in patterns)


def _resource_matches(patterns, resource):
    return any(p == "*" or _wild(p, resource) for p in patterns)


def _arn_like(pattern, value):
    """ArnLike: segment-wise wildcard match of the six ARN parts."""
    pp = pattern.split(":", 5)
    vv = value.split(":", 5)
    if len(pp) != 6 or len(vv) != 6:
        return _wild(pattern, value)
    return all(_wild(p, v) for p, v in zip(pp, vv))


def _str(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _condition_op(op, ctx_values, policy_values):
    """True when any context value satisfies the operator against any policy value."""
    base = op
    negated = base in ("StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike",
                       "StringNotEqualsIgnoreCase", "NumericNotEquals")

    def one(cv, pv):
        cv_s, pv_s = _str(cv), _str(pv)
        if base in ("StringEquals", "StringNotEquals"):
            return cv_s == pv_s
        if base in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
            return cv_s.lower() == pv_s.lower()
        if base in ("StringLike", "StringNotLike"):
            return _wild(pv_s, cv_s)
        if base in ("ArnEquals", "ArnNotEquals"):
            return cv_s == pv_s
        if base in ("ArnLike", "ArnNotLike"):
            return _arn_like(pv_s, cv_s)
        if base == "Bool":
            return cv_s.lower() == pv_s.lower()
        if base in ("NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
                    "NumericGreaterThan", "NumericGreaterThanEquals"):
            a, b = _num(cv), _num(pv)
            if a is None or b is None:
                return False
            return {"NumericEquals": a == b, "NumericNotEquals": a == b, "NumericLessThan": a < b,
                    "NumericLessThanEquals": a <= b, "NumericGreaterThan": a > b,
                    "NumericGreaterThanEquals": a >= b}[base]
        raise KeyError(base)

    try:
        hit = any(one(cv, pv) for cv in ctx_values for pv in policy_values)
    except KeyError:
        return False
    return not hit if negated else hit


def conditions_match(condition, context):
    """IAM Condition block against a context dict (keys case-insensitive; values str/bool/list)."""
    if not condition:
        return True
    lowered = {k.lower(): v for k, v in context.items()}
    for op, block in condition.items():
        if_exists = op.endswith("IfExists")
        base = op[:-len("IfExists")] if if_exists else op
        qualifier = None
        if ":" in base:
            qualifier, base = base.split(":", 1)
        for key, pvals in block.items():
            pvals = _as_list(pvals)
            present = key.lower() in lowered and lowered[key.lower()] is not None
            if base == "Null":
                want_null = _str(pvals[0]).lower() == "true"
                if want_null == present:
                    return False
                continue
            if not present:
                if if_exists or qualifier == "ForAllValues":
                    continue
                return False
            cvals = _as_list(lowered[key.lower()])
            if qualifier == "ForAllValues":
                if not all(_condition_op(base, [cv], pvals) for cv in cvals):
                    return False
            elif not _condition_op(base, cvals, pvals):
                return False
    return True


def statement_matches(st, action, resource, context):
    if "Action" in st:
        if not _action_matches(_as_list(st["Action"]), action):
            return False
    elif _action_matches(_as_list(st.get("NotAction")), action):
        return False
    if "Resource" in st:
        if not _resource_matches(_as_list(st["Resource"]), resource):
            return False
    elif "NotResource" in st and _resource_matches(_as_list(st["NotResource"]), resource):
        return False
    return conditions_match(st.get("Condition"), context)


def evaluate_policy(docs, action, resource, context):
    """Identity policies -> "deny" (explicit), "allow" or "implicit"."""
    allowed = False
    for doc in docs:
        for st in _as_list(doc.get("Statement")):
            if statement_matches(st, action, resource, context):
                if st.get("Effect") == "Deny":
                    return "deny"
                allowed = True
    return "allow" if allowed else "implicit"


def _principal_values(block):
    """Principal element -> list of (type, value)."""
    if block == "*":
        return [("AWS", "*")]
    out = []
    if isinstance(block, dict):
        for ptype, vals in block.items():
            for v in _as_list(vals):
                out.append((ptype, str(v)))
    return out


def principal_match(block, caller):
    """How a Principal element matches the caller: "direct", "account" (account-root delegation) or
    None. caller: {"account", "arn" (root ARN, role ARN), "session_arn", "service", "federated"}."""
    result = None
    for ptype, value in _principal_values(block):
        if ptype == "AWS":
            if value == "*":
                if caller.get("account") or caller.get("service"):
                    result = result or "direct"
                continue
            if caller.get("account") is None:
                continue
            acct = caller["account"]
            if value == acct or re.fullmatch(r"arn:aws[a-z-]*:iam::%s:root" % acct, value):
                if caller.get("arn", "").endswith(":root"):
                    return "direct"
                result = "account"
                continue
            if value in (caller.get("arn"), caller.get("session_arn")):
                return "direct"
        elif ptype == "Service":
            if caller.get("service") and value == caller["service"]:
                return "direct"
        elif ptype == "Federated":
            if caller.get("federated") and (value == caller["federated"] or caller["federated"] == "*"):
                return "direct"
    return result


def service_context(service_principal, source_arn=None, source_account=None):
    """The condition context of a request a service makes on its own behalf (EventBridge
    publishing to a topic, SNS sending to a queue), with aws:SourceArn/aws:SourceAccount when
    the service sets them."""
    context = {"aws:PrincipalServiceName": service_principal}
    if source_arn:
        context["aws:SourceArn"] = source_arn
    if source_account:
        context["aws:SourceAccount"] = source_account
    return context


def role_context(emu, role_arn, region):
    """(the role's account, the condition context of a request a service makes with a role it
    holds in `region`: a Lambda function's execution role delivering to a destination; with
    aws:PrincipalOrgID/Paths when the account is in the organisation)."""
    account = (role_arn or "").split(":")[4] if (role_arn or "").count(":") >= 5 else None
    context = {"aws:PrincipalArn": role_arn, "aws:PrincipalAccount": account,
               "aws:PrincipalType": "AssumedRole", "aws:RequestedRegion": region}
    context.update(emu.principal_org_keys(account))
    return account, context


def evaluate_resource_policy(doc, caller, action, resource, context):
    """Resource policy -> ("deny"|"allow"|"implicit", how) where how is "direct" or "account"."""
    allowed = None
    for st in _as_list(doc.get("Statement")):
        if "Principal" in st:
            how = principal_match(st["Principal"], caller)
        elif "NotPrincipal" in st:
            how = None if principal_match(st["NotPrincipal"], caller) else "direct"
        else:
            how = None
        if how is None:
            continue
        if not statement_matches(st, action, resource, context):
            continue
        if st.get("Effect") == "Deny":
            return "deny", how
        if allowed != "direct":
            allowed = how
    if allowed:
        return "allow", allowed
    return "implicit", None


# ---------------------------------------------------------------------------------------------


def _new_id(prefix):
    return prefix + "".join(random.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(17))


def _paginate(items, params, key):
    start = 0
    if params.get("Marker"):
        try:
            start = int(params["Marker"])
        except ValueError:
            raise AwsError("ValidationError", "Invalid Marker.")
    limit = params.get("MaxItems") or 100
    page = items[start:start + limit]
    out = {key: page, "IsTruncated": start + limit < len(items)}
    if out["IsTruncated"]:
        out["Marker"] = str(start + limit)
    return out


@functools.lru_cache(maxsize=1024)
def _encode_doc(text):
    # A role's documents are returned by every GetRole: quote() is slow on long text.
    return urllib.parse.quote(text, safe="")


class IamService:
    SERVICE = "iam"

    def __init__(self, emu):
        self.emu = emu
        self.reset()

    def reset(self):
        # account -> {"roles": {lower name: role}, "policies": {arn: policy}}
        self.accounts = {}

    def _acct(self, account):
        return self.accounts.setdefault(account, {"roles": {}, "policies": {}})

    def inventory(self):
        out = []
        for account, data in self.accounts.items():
            for role in data["roles"].values():
                out.append({"account": account, "region": "global", "type": "role",
                            "id": role["RoleName"], "arn": role["Arn"]})
            for pol in data["policies"].values():
                out.append({"account": account, "region": "global", "type": "policy",
                            "id": pol["PolicyName"], "arn": pol["Arn"]})
        return out

    # -- helpers -----------------------------------------------------------------------------

    def _role(self, ctx, name):
        role = self._acct(ctx.account)["roles"].get(name.lower())
        if role is None:
            raise AwsError("NoSuchEntity", "The role with name %s cannot be found." % name)
        return role

    def _role_arn_for(self, ctx, name, path="/"):
        return "arn:%s:iam::%s:role%s%s" % (ctx.partition, ctx.account, path, name)

    def _check_doc(self, text, kind):
        try:
            doc = parse_policy(text, "identity" if kind == "managed" else kind)
        except PolicyError as exc:
            raise AwsError("MalformedPolicyDocument", str(exc))
        # IAM counts policy size without whitespace.
        size = len(re.sub(r"\s", "", text))
        if kind == "trust" and size > TRUST_POLICY_MAX:
            raise AwsError("LimitExceeded", "Cannot exceed quota for ACLSizePerRole: %d" % TRUST_POLICY_MAX)
        if kind == "managed" and size > MANAGED_POLICY_MAX:
            raise AwsError("LimitExceeded", "Cannot exceed quota for PolicySize: %d" % MANAGED_POLICY_MAX)
        return doc

    def _public_role(self, role, with_tags=True):
        out = {k: role[k] for k in ("Path", "RoleName", "RoleId", "Arn", "CreateDate", "MaxSessionDuration")}
        out["AssumeRolePolicyDocument"] = _encode_doc(role["AssumeRolePolicyDocument"])
        if role.get("Description") is not None:
            out["Description"] = role["Description"]
        if with_tags and role.get("boundary"):
            out["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                          "PermissionsBoundaryArn": role["boundary"]}
        if with_tags:  # ListRoles returns neither Tags nor RoleLastUsed
            if role["Tags"]:
                out["Tags"] = [dict(t) for t in role["Tags"]]
            out["RoleLastUsed"] = {}
        return out

    def _policy(self, ctx, arn):
        m = POLICY_ARN_RE.match(arn or "")
        if m is None:
            raise AwsError("InvalidInput", "ARN %s is not valid." % arn)
        if m.group(2) == "aws":
            name = (m.group(3) + "/" if m.group(3) else "") + m.group(4)
            if name in AWS_MANAGED:
                return self._aws_managed(ctx.account, name)
            return None
        return self._acct(m.group(2))["policies"].get(arn) if m.group(2) == ctx.account else None

    def _aws_managed(self, account, name):
        """AWS managed policies are shared; attachment counts are tracked per account."""
        data = self._acct(account)
        key = "aws-managed:" + name
        pol = data.get(key)
        if pol is None:
            path = "/" + name.rsplit("/", 1)[0] + "/" if "/" in name else "/"
            pname = name.rsplit("/", 1)[-1]
            pol = {"PolicyName": pname, "PolicyId": _new_id("ANPA"), "Path": path,
                   "Arn": "arn:aws:iam::aws:policy/" + name, "DefaultVersionId": "v1",
                   "AttachmentCount": 0, "PermissionsBoundaryUsageCount": 0, "IsAttachable": True,
                   "CreateDate": 1420070400.0, "UpdateDate": 1420070400.0, "Tags": [],
                   "versions": {"v1": {"Document": json.dumps(AWS_MANAGED[name]), "VersionId": "v1",
                                       "IsDefaultVersion": True, "CreateDate": 1420070400.0}},
                   "next_version": 2, "aws": True}
            data[key] = pol
        return pol

    def _public_policy(self, pol):
        keys = ("PolicyName", "PolicyId", "Arn", "Path", "DefaultVersionId", "AttachmentCount",
                "PermissionsBoundaryUsageCount", "IsAttachable", "CreateDate", "UpdateDate")
        out = {k: pol[k] for k in keys}
        if pol.get("Description") is not None:
            out["Description"] = pol["Description"]
        if pol["Tags"]:
            out["Tags"] = [dict(t) for t in pol["Tags"]]
        return out

    @staticmethod
    def _merge_tags(existing, new):
        by_key = {t["Key"]: t for t in existing}
        for t in new:
            by_key[t["Key"]] = {"Key": t["Key"], "Value": t.get("Value", "")}
        if len(by_key) > 50:
            raise AwsError("LimitExceeded", "The number of tags has reached the maximum limit.")
        return list(by_key.values())

    # -- cross-service helpers -----------------------------------------------------------------

    def get_role(self, account, role_name_or_arn):
        with self.emu.lock:
            name = role_name_or_arn
            m = ROLE_ARN_RE.match(role_name_or_arn or "")
            if m is not None:
                if m.group(2) != account:
                    return None
                name = m.group(4)
            role = self.accounts.get(account, {"roles": {}})["roles"].get((name or "").lower())
            if role is None:
                return None
            if m is not None and role["Arn"] != role_name_or_arn:
                return None
            out = self._public_role(role)
            out["AssumeRolePolicyDocument"] = json.loads(role["AssumeRolePolicyDocument"])
            return out

    def unknown_role_principal(self, doc):
        """The first role ARN a resource policy's principals name, of an emulated account, that
        IAM does not know or has not propagated yet (--iam-propagation-ms); None if none. SNS
        and S3 refuse such a policy."""
        for st in _as_list(doc.get("Statement")):
            principal = st.get("Principal", st.get("NotPrincipal"))
            aws = principal.get("AWS") if isinstance(principal, dict) else None
            for arn in _as_list(aws):
                m = ROLE_ARN_RE.match(arn) if isinstance(arn, str) else None
                if m and m.group(2) in self.emu.accounts and not self.role_propagated(m.group(2), arn):
                    return arn
        return None

    def role_propagated(self, account, role_arn):
        role = self.get_role(account, role_arn)
        if role is None:
            return False
        return self.emu.now() - role["CreateDate"] >= self.emu.iam_propagation_s

    def _managed_doc(self, data, arn):
        pol = data["policies"].get(arn)
        if pol is None and arn.startswith("arn:aws:iam::aws:policy/"):
            pol = data.get("aws-managed:" + arn[len("arn:aws:iam::aws:policy/"):])
        if pol is None:
            return None
        return json.loads(pol["versions"][pol["DefaultVersionId"]]["Document"])

    def role_boundary(self, account, role_arn):
        """The parsed permissions boundary of a role, or None."""
        with self.emu.lock:
            m = ROLE_ARN_RE.match(role_arn or "")
            data = self.accounts.get(account) if m else None
            role = data["roles"].get(m.group(4).lower()) if data else None
            if role is None or role["Arn"] != role_arn or not role.get("boundary"):
                return None
            return self._managed_doc(data, role["boundary"]) or {"Statement": []}

    def role_policies(self, account, role_arn):
        """Parsed identity policy documents (inline + attached managed defaults) of a role."""
        with self.emu.lock:
            m = ROLE_ARN_RE.match(role_arn or "")
            if m is None or m.group(2) != account:
                return []
            data = self.accounts.get(account)
            if data is None:
                return []
            role = data["roles"].get(m.group(4).lower())
            if role is None or role["Arn"] != role_arn:
                return []
            docs = [json.loads(t) for t in role["inline"].values()]
            for arn in role["attached"]:
                doc = self._managed_doc(data, arn)
                if doc is not None:
                    docs.append(doc)
            return docs

    def evaluate(self, account, role_arn, action, resource_arn, conditions=None):
        """Identity-side decision for a role: its policies, limited by its permissions boundary."""
        decision = evaluate_policy(self.role_policies(account, role_arn), action, resource_arn,
                                   conditions or {})
        boundary = self.role_boundary(account, role_arn)
        if boundary is not None and decision == "allow":
            limit = evaluate_policy([boundary], action, resource_arn, conditions or {})
            if limit != "allow":
                return "deny" if limit == "deny" else "implicit"
        return decision

    def is_allowed(self, account, role_arn, action, resource_arn, conditions=None):
        return self.evaluate(account, role_arn, action, resource_arn, conditions) == "allow"

    def trusts_service(self, account, role_arn, service_principal, action="sts:AssumeRole", context=None):
        """May the service principal assume the role? The context holds what the service passes
        (by default aws:SourceAccount = the role's account, for confused-deputy conditions)."""
        role = self.get_role(account, role_arn)
        if role is None:
            return False
        cond = {"aws:SourceAccount": account, "aws:PrincipalServiceName": service_principal}
        cond.update(context or {})
        decision, _how = evaluate_resource_policy(role["AssumeRolePolicyDocument"],
                                                  {"service": service_principal}, action, role_arn, cond)
        return decision == "allow"

    # -- roles ----------------------------------------------------------------------------------

    def CreateRole(self, ctx, params):
        name = params["RoleName"]
        path = params.get("Path", "/")
        if not (path.startswith("/") and path.endswith("/")):
            raise AwsError("ValidationError", "The specified value for path is invalid. It must begin and "
                           "end with / and contain only alphanumeric characters and/or / characters.")
        arn = self._role_arn_for(ctx, name, path)
        ctx.authorize("iam:CreateRole", arn)
        data = self._acct(ctx.account)
        if name.lower() in data["roles"]:
            raise AwsError("EntityAlreadyExists", "Role with name %s already exists." % name)
        self._check_doc(params["AssumeRolePolicyDocument"], "trust")
        max_session = params.get("MaxSessionDuration", 3600)
        if not 3600 <= max_session <= 43200:
            raise AwsError("ValidationError", "The requested MaxSessionDuration is outside the allowed range "
                           "of 3600 to 43200 seconds.")
        boundary = params.get("PermissionsBoundary")
        if boundary is not None:
            self._boundary_policy(ctx, boundary)
        role = {"RoleName": name, "RoleId": _new_id("AROA"), "Arn": arn, "Path": path, "boundary": boundary,
                "CreateDate": self.emu.now(), "AssumeRolePolicyDocument": params["AssumeRolePolicyDocument"],
                "Description": params.get("Description"), "MaxSessionDuration": max_session,
                "Tags": self._merge_tags([], params.get("Tags", [])), "inline": {}, "attached": []}
        data["roles"][name.lower()] = role
        self._count_boundary(ctx, boundary, +1)
        return {"Role": self._public_role(role)}

    def GetRole(self, ctx, params):
        role = self._role(ctx, params["RoleName"])
        ctx.authorize("iam:GetRole", role["Arn"])
        return {"Role": self._public_role(role)}

    def ListRoles(self, ctx, params):
        ctx.authorize("iam:ListRoles", "*")
        prefix = params.get("PathPrefix", "/")
        roles = sorted(self._acct(ctx.account)["roles"].values(), key=lambda r: r["RoleName"].lower())
        items = [self._public_role(r, with_tags=False) for r in roles if r["Path"].startswith(prefix)]
        return _paginate(items, params, "Roles")

    def _boundary_policy(self, ctx, arn):
        pol = self._policy(ctx, arn)
        if pol is None:
            raise AwsError("NoSuchEntity", "Scope ARN: %s does not exist or is not attachable." % arn)
        return pol

    def PutRolePermissionsBoundary(self, ctx, params):
        role = self._role(ctx, params["RoleName"])
        ctx.authorize("iam:PutRolePermissionsBoundary", role["Arn"])
        old = role.get("boundary")
        self._boundary_policy(ctx, params["PermissionsBoundary"])
        role["boundary"] = params["PermissionsBoundary"]
        self._count_boundary(ctx, old, -1)
        self._count_boundary(ctx, role["boundary"], +1)
        return {}

    def DeleteRolePermissionsBoundary(self, ctx, params):
        role = self._role(ctx, params["RoleName"])
        ctx.authorize("iam:DeleteRolePermissionsBoundary", role["Arn"])
        if not role.get("boundary"):
            raise AwsError("NoSuchEntity", "The role %s has no permissions boundary." % role["RoleName"])
        self._count_boundary(ctx, role["boundary"], -1)
        role["boundary"] = None
        return {}

    def _count_boundary(self, ctx, arn, delta):
        pol = self._policy(ctx, arn) if arn else None
        if pol is not None:
            pol["PermissionsBoundaryUsageCount"] += delta

    def UpdateRole(self, ctx, params):
        role = self._role(ctx, params["RoleName"])
        ctx.authorize("iam:UpdateRole", role["Arn"])
        if "MaxSessionDuration" in params:
            if not 3600 <= params["MaxSessionDuration"] <= 43200:
                raise AwsError("ValidationError", "The requested MaxSessionDuration is outside the allowed "
                               "range of 3600 to 43200 seconds.")
            role["MaxSessionDuration"] = params["MaxSessionDuration"]
        if "Description" in params:
            role["Description"] = params["Description"]
        return {}

    def UpdateRoleDescription(self, ctx, params):
        role = self._role(ctx, params["RoleName"])
        ctx.authorize("iam:UpdateRoleDescription", role["Arn"])
        role["Description"] = params["Description"]
        return {"Role": self._public_role(role)}

    def UpdateAssumeRolePolicy(self, ctx, params):
        role = self._role(ctx, params["RoleName"])
        ctx.authorize("iam:UpdateAssumeRolePolicy", role["Arn"])
        self._check_doc(params["PolicyDocument"], "trust")
        role["AssumeRolePolicyDocument"] = params["PolicyDocument"]
        return {}

    def DeleteRole(self, ctx, params):
        role = self._role(ctx, params["RoleName"])
        ctx.authorize("iam:DeleteRole", role["Arn"])
        if role["inline"]:
            raise AwsError("DeleteConflict", "Cannot delete entity, must delete policies first.")
        if role["attached"]:
            raise AwsError("DeleteConflict", "Cannot delete entity, must detach all policies first.")
        self._count_boundary(ctx, role.get("boundary"), -1)
        del self._acct(ctx.account)["roles"][role["RoleName"].lower()]
        return {}

    def TagRole(self, ctx, params):
        role = self._role(ctx, params["RoleName"])
        ctx.authorize("iam:TagRole", role["Arn"])
        role["Tags"] = self._merge_tags(role["Tags"], params["Tags"])
        return {}

    def UntagRole(self, ctx, params):
        role = self._role(ctx, params["RoleName"])
        ctx.authorize("iam:UntagRole", role["Arn"])
        drop = set(params["TagKeys"])
        role["Tags"] = [t for t in role["Tags"] if t["Key"] not in drop]
        return {}

    def ListRoleTags(self, ctx, params):
        role = self._role(ctx, params["RoleName"])
        ctx.authorize("iam:ListRoleTags", role["Arn"])
        return _paginate([dict(t) for t in role["Tags"]], params, "Tags")

    # -- inline policies -------------------------------------------------------------------------

    def PutRolePolicy(self, ctx, params):
        role = self._role(ctx, params["RoleName"])
        ctx.authorize("iam:PutRolePolicy", role["Arn"])
        self._check_doc(params["PolicyDocument"], "identity")
        sizes = [len(re.sub(r"\s", "", d)) for n, d in role["inline"].items() if n != params["PolicyName"]]
        if sum(sizes) + len(re.sub(r"\s", "", params["PolicyDocument"])) > INLINE_ROLE_POLICIES_MAX:
            raise AwsError("LimitExceeded", "Maximum policy size of %d bytes exceeded for role %s"
                           % (INLINE_ROLE_POLICIES_MAX, role["RoleName"]))
        role["inline"][params["PolicyName"]] = params["PolicyDocument"]
        return {}

    def GetRolePolicy(self, ctx, params):
        role = self._role(ctx, params["RoleName"])
        ctx.authorize("iam:GetRolePolicy", role["Arn"])
        doc = role["inline"].get(params["PolicyName"])
        if doc is None:
            raise AwsError("NoSuchEntity", "The role policy with name %s cannot be found." % params["PolicyName"])
        return {"RoleName": role["RoleName"], "PolicyName": params["PolicyName"],
                "PolicyDocument": _encode_doc(doc)}

    def DeleteRolePolicy(self, ctx, params):
        role = self._role(ctx, params["RoleName"])
        ctx.authorize("iam:DeleteRolePolicy", role["Arn"])
        if params["PolicyName"] not in role["inline"]:
            raise AwsError("NoSuchEntity", "The role policy with name %s cannot be found." % params["PolicyName"])
        del role["inline"][params["PolicyName"]]
        return {}

    def ListRolePolicies(self, ctx, params):
        role = self._role(ctx, params["RoleName"])
        ctx.authorize("iam:ListRolePolicies", role["Arn"])
        return _paginate(sorted(role["inline"]), params, "PolicyNames")

    # -- managed policies ------------------------------------------------------------------------

    def CreatePolicy(self, ctx, params):
        name = params["PolicyName"]
        path = params.get("Path", "/")
        arn = "arn:%s:iam::%s:policy%s%s" % (ctx.partition, ctx.account, path, name)
        ctx.authorize("iam:CreatePolicy", arn)
        data = self._acct(ctx.account)
        if any(p["PolicyName"].lower() == name.lower() for p in data["policies"].values()):
            raise AwsError("EntityAlreadyExists", "A policy called %s already exists. Duplicate names are not "
                           "allowed." % name)
        self._check_doc(params["PolicyDocument"], "managed")
        now = self.emu.now()
        pol = {"PolicyName": name, "PolicyId": _new_id("ANPA"), "Arn": arn, "Path": path,
               "DefaultVersionId": "v1", "AttachmentCount": 0, "PermissionsBoundaryUsageCount": 0,
               "IsAttachable": True, "Description": params.get("Description"), "CreateDate": now,
               "UpdateDate": now, "Tags": self._merge_tags([], params.get("Tags", [])),
               "versions": {"v1": {"Document": params["PolicyDocument"], "VersionId": "v1",
                                   "IsDefaultVersion": True, "CreateDate": now}},
               "next_version": 2}
        data["policies"][arn] = pol
        return {"Policy": self._public_policy(pol)}

    def _must_policy(self, ctx, arn):
        pol = self._policy(ctx, arn)
        if pol is None:
            raise AwsError("NoSuchEntity", "Policy %s was not found." % arn)
        return pol

    def GetPolicy(self, ctx, params):
        pol = self._must_policy(ctx, params["PolicyArn"])
        ctx.authorize("iam:GetPolicy", pol["Arn"])
        return {"Policy": self._public_policy(pol)}

    def DeletePolicy(self, ctx, params):
        pol = self._must_policy(ctx, params["PolicyArn"])
        ctx.authorize("iam:DeletePolicy", pol["Arn"])
        if pol.get("aws"):
            raise AwsError("AccessDenied", "You cannot delete an AWS managed policy.", 403)
        if pol["AttachmentCount"] or pol["PermissionsBoundaryUsageCount"]:
            raise AwsError("DeleteConflict", "Cannot delete a policy attached to entities.")
        if len(pol["versions"]) > 1:
            raise AwsError("DeleteConflict", "This policy has more than one version. Before you delete a policy, "
                           "you must delete the policy's versions. The default version is deleted with the policy.")
        del self._acct(ctx.account)["policies"][pol["Arn"]]
        return {}

    def ListPolicies(self, ctx, params):
        ctx.authorize("iam:ListPolicies", "*")
        scope = params.get("Scope", "All")
        prefix = params.get("PathPrefix", "/")
        pols = []
        if scope in ("All", "AWS"):
            pols += [self._aws_managed(ctx.account, n) for n in sorted(AWS_MANAGED)]
        if scope in ("All", "Local"):
            pols += sorted(self._acct(ctx.account)["policies"].values(), key=lambda p: p["PolicyName"].lower())
        pols = [p for p in pols if p["Path"].startswith(prefix)]
        if params.get("OnlyAttached"):
            pols = [p for p in pols if p["AttachmentCount"]]
        return _paginate([self._public_policy(p) for p in pols], params, "Policies")

    def CreatePolicyVersion(self, ctx, params):
        pol = self._must_policy(ctx, params["PolicyArn"])
        ctx.authorize("iam:CreatePolicyVersion", pol["Arn"])
        if pol.get("aws"):
            raise AwsError("AccessDenied", "You cannot modify an AWS managed policy.", 403)
        self._check_doc(params["PolicyDocument"], "managed")
        if len(pol["versions"]) >= MAX_POLICY_VERSIONS:
            raise AwsError("LimitExceeded", "A managed policy can have up to %d versions. Before you create a "
                           "new version, you must delete an existing version." % MAX_POLICY_VERSIONS)
        vid = "v%d" % pol["next_version"]
        pol["next_version"] += 1
        now = self.emu.now()
        pol["versions"][vid] = {"Document": params["PolicyDocument"], "VersionId": vid,
                                "IsDefaultVersion": False, "CreateDate": now}
        if params.get("SetAsDefault"):
            self._set_default(pol, vid)
        pol["UpdateDate"] = now
        return {"PolicyVersion": self._public_version(pol["versions"][vid], with_doc=False)}

    @staticmethod
    def _set_default(pol, vid):
        for v in pol["versions"].values():
            v["IsDefaultVersion"] = v["VersionId"] == vid
        pol["DefaultVersionId"] = vid

    @staticmethod
    def _public_version(v, with_doc=True):
        out = {"VersionId": v["VersionId"], "IsDefaultVersion": v["IsDefaultVersion"],
               "CreateDate": v["CreateDate"]}
        if with_doc:
            out["Document"] = _encode_doc(v["Document"])
        return out

    def _version(self, pol, vid):
        v = pol["versions"].get(vid)
        if v is None:
            raise AwsError("NoSuchEntity", "Policy %s version %s does not exist or is not attachable."
                           % (pol["Arn"], vid))
        return v

    def GetPolicyVersion(self, ctx, params):
        pol = self._must_policy(ctx, params["PolicyArn"])
        ctx.authorize("iam:GetPolicyVersion", pol["Arn"])
        return {"PolicyVersion": self._public_version(self._version(pol, params["VersionId"]))}

    def DeletePolicyVersion(self, ctx, params):
        pol = self._must_policy(ctx, params["PolicyArn"])
        ctx.authorize("iam:DeletePolicyVersion", pol["Arn"])
        v = self._version(pol, params["VersionId"])
        if v["IsDefaultVersion"]:
            raise AwsError("DeleteConflict", "Cannot delete the default version of a policy.")
        del pol["versions"][params["VersionId"]]
        return {}

    def ListPolicyVersions(self, ctx, params):
        pol = self._must_policy(ctx, params["PolicyArn"])
        ctx.authorize("iam:ListPolicyVersions", pol["Arn"])
        versions = sorted(pol["versions"].values(), key=lambda v: -int(v["VersionId"][1:]))
        return _paginate([self._public_version(v, with_doc=False) for v in versions], params, "Versions")

    def SetDefaultPolicyVersion(self, ctx, params):
        pol = self._must_policy(ctx, params["PolicyArn"])
        ctx.authorize("iam:SetDefaultPolicyVersion", pol["Arn"])
        self._version(pol, params["VersionId"])
        self._set_default(pol, params["VersionId"])
        return {}

    def TagPolicy(self, ctx, params):
        pol = self._must_policy(ctx, params["PolicyArn"])
        ctx.authorize("iam:TagPolicy", pol["Arn"])
        pol["Tags"] = self._merge_tags(pol["Tags"], params["Tags"])
        return {}

    def UntagPolicy(self, ctx, params):
        pol = self._must_policy(ctx, params["PolicyArn"])
        ctx.authorize("iam:UntagPolicy", pol["Arn"])
        pol["Tags"] = [t for t in pol["Tags"] if t["Key"] not in set(params["TagKeys"])]
        return {}

    def ListPolicyTags(self, ctx, params):
        pol = self._must_policy(ctx, params["PolicyArn"])
        ctx.authorize("iam:ListPolicyTags", pol["Arn"])
        return _paginate([dict(t) for t in pol["Tags"]], params, "Tags")

    # -- attachments -----------------------------------------------------------------------------

    def AttachRolePolicy(self, ctx, params):
        role = self._role(ctx, params["RoleName"])
        ctx.authorize("iam:AttachRolePolicy", role["Arn"], {"iam:PolicyARN": params["PolicyArn"]})
        pol = self._policy(ctx, params["PolicyArn"])
        if pol is None:
            raise AwsError("NoSuchEntity", "Policy %s does not exist or is not attachable." % params["PolicyArn"])
        if pol["Arn"] not in role["attached"]:
            if len(role["attached"]) >= 10:
                raise AwsError("LimitExceeded", "Cannot exceed quota for PoliciesPerRole: 10")
            role["attached"].append(pol["Arn"])
            pol["AttachmentCount"] += 1
        return {}

    def DetachRolePolicy(self, ctx, params):
        role = self._role(ctx, params["RoleName"])
        ctx.authorize("iam:DetachRolePolicy", role["Arn"], {"iam:PolicyARN": params["PolicyArn"]})
        pol = self._policy(ctx, params["PolicyArn"])
        if pol is None or pol["Arn"] not in role["attached"]:
            raise AwsError("NoSuchEntity", "Policy %s was not found." % params["PolicyArn"])
        role["attached"].remove(pol["Arn"])
        pol["AttachmentCount"] -= 1
        return {}

    def ListAttachedRolePolicies(self, ctx, params):
        role = self._role(ctx, params["RoleName"])
        ctx.authorize("iam:ListAttachedRolePolicies", role["Arn"])
        prefix = params.get("PathPrefix", "/")
        items = []
        for arn in role["attached"]:
            pol = self._policy(ctx, arn)
            if pol is not None and pol["Path"].startswith(prefix):
                items.append({"PolicyName": pol["PolicyName"], "PolicyArn": pol["Arn"]})
        return _paginate(items, params, "AttachedPolicies")

    def ListEntitiesForPolicy(self, ctx, params):
        pol = self._must_policy(ctx, params["PolicyArn"])
        ctx.authorize("iam:ListEntitiesForPolicy", pol["Arn"])
        roles = [{"RoleName": r["RoleName"], "RoleId": r["RoleId"]}
                 for r in self._acct(ctx.account)["roles"].values() if pol["Arn"] in r["attached"]]
        return {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": roles, "IsTruncated": False}
