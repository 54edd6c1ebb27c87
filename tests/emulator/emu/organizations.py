"""AWS Organizations for the emulator (awsJson1.1, AWSOrganizationsV20161128; a global service:
requests must be signed for us-east-1, as IAM's are): one organisation, set up through the
control API, whose structure the read operations report and whose membership feeds the
aws:PrincipalOrgID and aws:PrincipalOrgPaths condition keys of every caller.

Operations: DescribeOrganization, ListAccounts, ListAccountsForParent, ListChildren, ListRoots,
ListParents, DescribeAccount, DescribeOrganizationalUnit. The List operations page with
MaxResults (1-20, the model's range; 20 when absent) and an opaque NextToken, which is only
good for the operation and parameters that produced it (InvalidInputException
INVALID_NEXT_TOKEN otherwise).

Who may call (AWS's "API operations by account" reference, and each operation's documentation
in the model): an account outside the organisation gets AWSOrganizationsNotInUseException from
every operation; DescribeOrganization may be called from any account of the organisation; the
others only from the management account (a member gets AccessDeniedException "You don't have
permissions to access this resource."). Delegated administrators are not emulated. Before that,
an assumed role needs an identity policy allowing organizations:<Operation> (ctx.authorize) on
the account, OU or root ARN the call names, or "*" for those that name none.

Errors as Organizations answers them: a parameter outside the model's constraints is
InvalidInputException (Reason INVALID_PATTERN, MAX_VALUE_EXCEEDED, ..., set by the core) with
"You provided a value that does not match the required pattern." and the like, not the
ValidationException of other json services; unknown ids give ParentNotFoundException,
ChildNotFoundException, AccountNotFoundException, OrganizationalUnitNotFoundException.

Control API:
    POST /_emu/organizations {"id": "o-...", "management": ACCOUNT,
                              "ous": {"ou-xxxx-yyyyyyyy": [ACCOUNT, ...]},
                              "root": "r-xxxx", "ou_names": {OU: NAME}, "accounts": [ACCOUNT]}
        sets the organisation up, replacing any earlier one: the root (r- and the OU ids' common
        middle part, as AWS derives OU ids from their root's; "root" when there are no OUs,
        else r- and 4 characters from the organisation id), the OUs directly under it, every
        named account a member (the management account, those in "ous", and "accounts", which
        sit under the root, as does every member not placed in an OU). Ids are checked
        against the model's patterns; accounts must be the emulator's. -> the structure.
    POST /_emu/organizations/move-account {"account", "ou"} moves a member into an OU (or,
        with the root's id, back under the root); nothing else is created. Every callable in
        OrganizationsService.move_listeners is then called with (account, old_parent,
        new_parent), emu.lock not held: the hook for StackSets' automatic deployments.
    GET /_emu/organizations -> {"id", "arn", "management", "root", "ous": {OU: {"name",
        "accounts"}}, "accounts": {ACCOUNT: PARENT}} or 404 when there is none.
    POST /_emu/reset forgets the organisation (move_listeners stay: services register them).

Cross-service API: OrganizationsService.principal_org(account) -> {"aws:PrincipalOrgID",
"aws:PrincipalOrgPaths"} for a member (paths "o-.../r-.../ou-.../", a list of one), {} for any
other account; the core's Emulator.principal_org_keys(account) calls it for Ctx.condition_context
and iam.role_context.

Not emulated: creating, inviting, removing or closing accounts through the API, OUs inside OUs,
policies (SCPs are neither listed nor enforced; AvailablePolicyTypes says SERVICE_CONTROL_POLICY
is enabled, as on a new organisation with all features, and the root's PolicyTypes is empty),
delegated administrators, handshakes, tags, trusted service access. Account names and emails
are made up ("account-ID", "account-ID@example.com"); every account's JoinedMethod is CREATED
and JoinedTimestamp is the set-up time.
"""

import base64
import json
import re

from .core import AwsError

ORG_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
ROOT_ID = re.compile(r"^r-[0-9a-z]{4,32}$")
OU_ID = re.compile(r"^ou-([0-9a-z]{4,32})-[a-z0-9]{8,32}$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
DEFAULT_PAGE = 20
NOT_IN_USE = "Your account is not a member of an organization."
DENIED = "You don't have permissions to access this resource."
# Operations a member account (not only the management account) may call.
ANY_MEMBER = {"DescribeOrganization"}


def _bad_token():
    return AwsError("InvalidInputException", "You specified an invalid value for nextToken. You "
                    "must get the value from the response to a previous call to the API.",
                    fields={"Reason": "INVALID_NEXT_TOKEN"})


class OrganizationsService:
    SERVICE = "organizations"

    def __init__(self, emu):
        self.emu = emu
        # Called with (account, old_parent, new_parent) after a move-account, emu.lock not held.
        self.move_listeners = []
        self.reset()

    def reset(self):
        with self.emu.lock:
            # None, or {"id", "management", "root", "created",
            #           "ous": {ou: name}, "parents": {account: root or ou}}
            self.org = None

    def inventory(self):
        return []

    # ------------------------------------------------------------------ helpers
    def _arn(self, kind, rest):
        return "arn:aws:organizations::%s:%s/%s" % (self.org["management"], kind, rest)

    def org_arn(self):
        return self._arn("organization", self.org["id"])

    def _account_arn(self, account):
        return self._arn("account", "%s/%s" % (self.org["id"], account))

    def _ou_arn(self, ou):
        return self._arn("ou", "%s/%s" % (self.org["id"], ou))

    def _root_arn(self):
        return self._arn("root", "%s/%s" % (self.org["id"], self.org["root"]))

    def _parent_arn(self, parent):
        return self._root_arn() if parent == self.org["root"] else self._ou_arn(parent)

    def _account(self, account):
        return {"Id": account, "Arn": self._account_arn(account),
                "Email": "account-%s@example.com" % account, "Name": "account-%s" % account,
                "Status": "ACTIVE", "JoinedMethod": "CREATED",
                "JoinedTimestamp": self.org["created"]}

    def _ou(self, ou):
        return {"Id": ou, "Arn": self._ou_arn(ou), "Name": self.org["ous"][ou]}

    def _parent_type(self, parent):
        return "ROOT" if parent == self.org["root"] else "ORGANIZATIONAL_UNIT"

    def _check(self, ctx, resource_arn=None):
        """IAM first (a role needs organizations:<Operation>), then membership: outside the
        organisation nothing, a member only what any member may call."""
        ctx.authorize("organizations:" + ctx.operation, resource_arn or "*")
        if self.org is None or ctx.account not in self.org["parents"]:
            raise AwsError("AWSOrganizationsNotInUseException", NOT_IN_USE)
        if ctx.operation not in ANY_MEMBER and ctx.account != self.org["management"]:
            raise AwsError("AccessDeniedException", DENIED)

    def _maybe_arn(self, fn, *args):
        return fn(*args) if self.org is not None else None

    def _require_parent(self, parent):
        if parent != self.org["root"] and parent not in self.org["ous"]:
            raise AwsError("ParentNotFoundException",
                           "We can't find a root or OU with the ParentId that you specified.")

    def _page(self, ctx, params, items, key):
        """One page of `items` (a list) as {key: [...], "NextToken"}: the token names the
        operation, the other parameters and the offset, and is refused for anything else."""
        limit = params.get("MaxResults") or DEFAULT_PAGE
        scope = {k: v for k, v in params.items() if k not in ("NextToken", "MaxResults")}
        start = 0
        if params.get("NextToken"):
            try:
                token = json.loads(base64.urlsafe_b64decode(params["NextToken"].encode()))
                start = int(token["offset"])
            except (ValueError, TypeError, KeyError):
                raise _bad_token()
            if token.get("op") != ctx.operation or token.get("scope") != scope or \
                    token.get("org") != self.org["id"] or start < 0:
                raise _bad_token()
        out = {key: items[start:start + limit]}
        if start + limit < len(items):
            token = {"op": ctx.operation, "scope": scope, "org": self.org["id"],
                     "offset": start + limit}
            out["NextToken"] = base64.urlsafe_b64encode(
                json.dumps(token, sort_keys=True).encode()).decode()
        return out

    def _accounts_sorted(self, parent=None):
        return sorted(a for a, p in self.org["parents"].items() if parent is None or p == parent)

    # --------------------------------------------------------------- cross-service
    def principal_org(self, account):
        """The aws:PrincipalOrgID / aws:PrincipalOrgPaths condition keys of a principal of
        `account`: {} when the account is outside the organisation. Called from every
        authorisation, background deliveries included, so it reads without taking emu.lock
        (one dict lookup; a move replaces a single value)."""
        org = self.org
        parent = org["parents"].get(account) if org is not None else None
        if parent is None:
            return {}
        path = "%s/%s/" % (org["id"], org["root"])
        if parent != org["root"]:
            path += parent + "/"
        return {"aws:PrincipalOrgID": org["id"], "aws:PrincipalOrgPaths": [path]}

    # ------------------------------------------------------------------ operations
    def DescribeOrganization(self, ctx, params):
        self._check(ctx)
        org = self.org
        return {"Organization": {
            "Id": org["id"], "Arn": self.org_arn(), "FeatureSet": "ALL",
            "MasterAccountArn": self._account_arn(org["management"]),
            "MasterAccountId": org["management"],
            "MasterAccountEmail": "account-%s@example.com" % org["management"],
            "AvailablePolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]}}

    def ListRoots(self, ctx, params):
        self._check(ctx)
        root = {"Id": self.org["root"], "Arn": self._root_arn(), "Name": "Root",
                "PolicyTypes": []}
        return self._page(ctx, params, [root], "Roots")

    def ListAccounts(self, ctx, params):
        self._check(ctx)
        return self._page(ctx, params, [self._account(a) for a in self._accounts_sorted()],
                          "Accounts")

    def ListAccountsForParent(self, ctx, params):
        parent = params["ParentId"]
        self._check(ctx, self._maybe_arn(self._parent_arn, parent))
        self._require_parent(parent)
        return self._page(ctx, params, [self._account(a) for a in self._accounts_sorted(parent)],
                          "Accounts")

    def ListChildren(self, ctx, params):
        parent = params["ParentId"]
        self._check(ctx, self._maybe_arn(self._parent_arn, parent))
        self._require_parent(parent)
        if params["ChildType"] == "ACCOUNT":
            ids = self._accounts_sorted(parent)
        elif parent == self.org["root"]:
            ids = sorted(self.org["ous"])
        else:
            ids = []  # no OUs inside OUs
        return self._page(ctx, params, [{"Id": i, "Type": params["ChildType"]} for i in ids],
                          "Children")

    def ListParents(self, ctx, params):
        child = params["ChildId"]
        is_ou = child.startswith("ou-")
        self._check(ctx, self._maybe_arn(self._ou_arn if is_ou else self._account_arn, child))
        if is_ou and child in self.org["ous"]:
            parent = self.org["root"]
        elif not is_ou and child in self.org["parents"]:
            parent = self.org["parents"][child]
        else:
            raise AwsError("ChildNotFoundException", "We can't find an organizational unit (OU) "
                           "or AWS account with the ChildId that you specified.")
        return self._page(ctx, params, [{"Id": parent, "Type": self._parent_type(parent)}],
                          "Parents")

    def DescribeAccount(self, ctx, params):
        account = params["AccountId"]
        self._check(ctx, self._maybe_arn(self._account_arn, account))
        if account not in self.org["parents"]:
            raise AwsError("AccountNotFoundException",
                           "You specified an account that doesn't exist.")
        return {"Account": self._account(account)}

    def DescribeOrganizationalUnit(self, ctx, params):
        ou = params["OrganizationalUnitId"]
        self._check(ctx, self._maybe_arn(self._ou_arn, ou))
        if ou not in self.org["ous"]:
            raise AwsError("OrganizationalUnitNotFoundException",
                           "You specified an organizational unit that doesn't exist.")
        return {"OrganizationalUnit": self._ou(ou)}

    # ------------------------------------------------------------------ control API
    def control_routes(self):
        return {("POST", "/_emu/organizations"): self._ctl_setup,
                ("GET", "/_emu/organizations"): self._ctl_get,
                ("POST", "/_emu/organizations/move-account"): self._ctl_move}

    def _structure(self):
        org = self.org
        return {"id": org["id"], "arn": self.org_arn(), "management": org["management"],
                "root": org["root"],
                "ous": {ou: {"name": name, "accounts": self._accounts_sorted(ou)}
                        for ou, name in sorted(org["ous"].items())},
                "accounts": dict(sorted(org["parents"].items()))}

    def _member(self, account, what):
        if not isinstance(account, str) or not ACCOUNT_ID.match(account):
            raise ValueError("%s %r is not a 12-digit account id" % (what, account))
        if account not in self.emu.accounts:
            raise ValueError("%s %s is not an account of the emulator" % (what, account))
        return account

    def _ctl_setup(self, body):
        try:
            org_id = body.get("id")
            if not isinstance(org_id, str) or not ORG_ID.match(org_id):
                raise ValueError("id %r does not match %s" % (org_id, ORG_ID.pattern))
            management = self._member(body.get("management"), "management")
            ous = body.get("ous") or {}
            names = body.get("ou_names") or {}
            if not isinstance(ous, dict) or not isinstance(names, dict):
                raise ValueError("ous and ou_names must be objects")
            middles = set()
            for ou in ous:
                m = OU_ID.match(ou)
                if m is None:
                    raise ValueError("OU id %r does not match %s" % (ou, OU_ID.pattern))
                middles.add(m.group(1))
            if len(middles) > 1:
                raise ValueError("OU ids name different roots (%s): an OU's id is "
                                 "ou-<root>-<suffix>" % ", ".join(sorted(middles)))
            root = body.get("root")
            if root is None:
                root = "r-" + (middles.pop() if middles else org_id[2:6])
            if not isinstance(root, str) or not ROOT_ID.match(root):
                raise ValueError("root %r does not match %s" % (root, ROOT_ID.pattern))
            if middles and root[2:] not in middles:
                raise ValueError("root %s is not the root the OU ids name" % root)
            parents = {management: root}
            for account in body.get("accounts") or []:
                parents[self._member(account, "account")] = root
            for ou, accounts in ous.items():
                for account in accounts or []:
                    self._member(account, "account")
                    if parents.get(account, root) != root:
                        raise ValueError("account %s is in two OUs" % account)
                    parents[account] = ou
            for ou, name in names.items():
                if ou not in ous or not isinstance(name, str) or not 1 <= len(name) <= 128:
                    raise ValueError("ou_names: %r is not a name of one of the OUs" % ou)
        except ValueError as exc:
            return 400, {"error": str(exc)}
        with self.emu.lock:
            self.org = {"id": org_id, "management": management, "root": root,
                        "created": self.emu.now(),
                        "ous": {ou: names.get(ou, ou) for ou in ous}, "parents": parents}
            return 200, self._structure()

    def _ctl_get(self, body):
        with self.emu.lock:
            if self.org is None:
                return 404, {"error": "no organisation (POST /_emu/organizations sets one up)"}
            return 200, self._structure()

    def _ctl_move(self, body):
        account, target = body.get("account"), body.get("ou")
        with self.emu.lock:
            if self.org is None:
                return 404, {"error": "no organisation (POST /_emu/organizations sets one up)"}
            if account not in self.org["parents"]:
                return 400, {"error": "account %r is not a member of %s" % (account,
                                                                              self.org["id"])}
            if target != self.org["root"] and target not in self.org["ous"]:
                return 400, {"error": "%r is neither the root nor an OU of %s" % (
                    target, self.org["id"])}
            old = self.org["parents"][account]
            self.org["parents"][account] = target
            listeners = list(self.move_listeners)
            out = self._structure()
        if old != target:
            for listener in listeners:
                listener(account, old, target)
        out["moved"] = {"account": account, "from": old, "to": target}
        return 200, out
