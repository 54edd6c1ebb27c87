"""STS: GetCallerIdentity, AssumeRole, AssumeRoleWithWebIdentity, GetSessionToken. Owner: H3."""

from emu.core import AwsError


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
            user_id = ctx.principal_arn.rsplit("/", 1)[-1]
        return {"UserId": user_id, "Account": ctx.account, "Arn": ctx.principal_arn}
