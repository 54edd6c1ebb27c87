"""STS: GetCallerIdentity, AssumeRole, AssumeRoleWithWebIdentity, GetSessionToken. Owner: H3.

Temporary credentials come from emu.credentials_for_role() (core), so requests signed with them
arrive with ctx.role_arn set and are subject to the role's IAM policies.
"""

import re

from emu.core import AwsError
from emu.iam import ROLE_ARN_RE, evaluate_resource_policy

JWT_RE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


class StsService:
    SERVICE = "sts"

    def __init__(self, emu):
        self.emu = emu

    def reset(self):
        pass

    def inventory(self):
        return []

    def GetCallerIdentity(self, ctx, params):
        if ctx.role_arn is None:
            user_id = ctx.account
        else:
            role = self.emu.services["iam"].get_role(ctx.account, ctx.role_arn)
            role_id = role["RoleId"] if role else "AROA" + "0" * 17
            user_id = "%s:%s" % (role_id, ctx.principal_arn.rsplit("/", 1)[-1])
        return {"UserId": user_id, "Account": ctx.account, "Arn": ctx.principal_arn}

    def _denied(self, ctx, action, role_arn):
        return ctx.access_denied(action, role_arn, message="User: %s is not authorized to perform: %s on "
                                 "resource: %s" % (ctx.principal_arn, action, role_arn))

    def _issue(self, ctx, role, role_arn, session, duration):
        if duration is None:
            duration = 3600
        if duration > role["MaxSessionDuration"]:
            raise AwsError("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration "
                           "set for this role.")
        account = ROLE_ARN_RE.match(role_arn).group(2)
        creds = self.emu.credentials_for_role(account, role_arn, session, duration_s=duration)
        assumed = creds.pop("AssumedRoleArn")
        return {"Credentials": creds,
                "AssumedRoleUser": {"AssumedRoleId": "%s:%s" % (role["RoleId"], session), "Arn": assumed},
                "PackedPolicySize": 0}

    @staticmethod
    def _refuse_session_policies(params):
        if params.get("Policy") or params.get("PolicyArns"):
            raise AwsError("ValidationError", "Session policies (Policy, PolicyArns) are not emulated; the "
                           "emulator refuses them rather than ignore them.")

    def AssumeRole(self, ctx, params):
        self._refuse_session_policies(params)
        role_arn = params["RoleArn"]
        m = ROLE_ARN_RE.match(role_arn)
        if m is None:
            raise AwsError("ValidationError", "%s is invalid" % role_arn)
        duration = params.get("DurationSeconds")
        role = self.emu.services["iam"].get_role(m.group(2), role_arn)
        if role is None:
            raise self._denied(ctx, "sts:AssumeRole", role_arn)
        caller = ctx.caller()
        context = ctx.condition_context({"sts:RoleSessionName": params["RoleSessionName"]})
        decision, how = evaluate_resource_policy(role["AssumeRolePolicyDocument"], caller, "sts:AssumeRole",
                                                 role_arn, context)
        if decision != "allow":
            raise self._denied(ctx, "sts:AssumeRole", role_arn)
        same_account = m.group(2) == ctx.account
        # Identity side: account root keys may do anything; a role needs an IAM allow unless the
        # trust policy names it directly in the same account.
        if ctx.role_arn is not None:
            identity = self.emu.services["iam"].evaluate(ctx.account, ctx.role_arn, "sts:AssumeRole", role_arn,
                                                         context)
            if identity == "deny" or (identity != "allow" and not (same_account and how == "direct")):
                raise self._denied(ctx, "sts:AssumeRole", role_arn)
        return self._issue(ctx, role, role_arn, params["RoleSessionName"], duration)

    def AssumeRoleWithWebIdentity(self, ctx, params):
        self._refuse_session_policies(params)
        role_arn = params["RoleArn"]
        token = params["WebIdentityToken"]
        if not JWT_RE.match(token.strip()):
            raise AwsError("InvalidIdentityToken", "The ID Token provided is not a valid JWT. (You may see this "
                           "error if you sent an Access Token)")
        m = ROLE_ARN_RE.match(role_arn)
        if m is None:
            raise AwsError("ValidationError", "%s is invalid" % role_arn)
        role = self.emu.services["iam"].get_role(m.group(2), role_arn)
        message = "Not authorized to perform sts:AssumeRoleWithWebIdentity"
        if role is None:
            raise AwsError("AccessDenied", message, 403)
        decision, _how = evaluate_resource_policy(role["AssumeRolePolicyDocument"], {"federated": "*"},
                                                  "sts:AssumeRoleWithWebIdentity", role_arn, {})
        if decision != "allow":
            raise AwsError("AccessDenied", message, 403)
        out = self._issue(ctx, role, role_arn, params["RoleSessionName"], params.get("DurationSeconds"))
        out["SubjectFromWebIdentityToken"] = "emulated-subject"
        out["Audience"] = "sts.amazonaws.com"
        out["Provider"] = "emulated"
        return out

    def GetSessionToken(self, ctx, params):
        if ctx.role_arn is not None:
            raise AwsError("AccessDenied", "Cannot call GetSessionToken with session credentials", 403)
        duration = params.get("DurationSeconds", 43200)
        # A session token for the account root behaves like the root keys themselves.
        creds = self.emu.credentials_for_role(ctx.account, None, None, duration_s=duration)
        creds.pop("AssumedRoleArn")
        return {"Credentials": creds}
