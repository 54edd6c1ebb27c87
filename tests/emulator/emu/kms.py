"""KMS (per account and Region): keys, key policies, aliases, tags, deletion, crypto, grants.

Owner: H3. Cross-service helpers for RDS (H4):
  check_use(caller_account, principal_arn, role_arn, key_ref, region, action, via_service=None)
      -> key ARN, or raises AwsError (NotFoundException, AccessDeniedException,
         KMSInvalidStateException, DisabledException)
  default_key(account, region, "rds") -> key ARN of the AWS-managed aws/rds key (created on use)
For SNS and SQS (server-side encryption of topics and queues):
  key_arn(account, region, key_ref) -> the ARN of the key a topic's or queue's KmsMasterKeyId names
  check_service_use(service_principal, key_arn, action, context=None) -> key ARN, or raises: the
      key policy alone decides for a service principal

Authorisation follows AWS: every operation on a key needs the key policy to allow the caller. A
statement whose principal is the key's account root delegates to IAM (a role then also needs an
identity-policy allow); a statement naming the role itself suffices in the same account. Callers
from another account always need both the key-policy grant and their own IAM allow (account root
keys count as allowed on the identity side).
"""

import base64
import copy
import hashlib
import hmac
import json
import os
import re
import uuid

from emu.core import AwsError, epoch
from emu.iam import ROLE_ARN_RE, PolicyError, evaluate_resource_policy, parse_policy

KEY_ARN_RE = re.compile(r"^arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\d{12}):key/(.+)$")
ALIAS_ARN_RE = re.compile(r"^arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\d{12}):(alias/.+)$")
ALIAS_NAME_RE = re.compile(r"^alias/[a-zA-Z0-9/_-]+$")
BLOB_MAGIC = b"EMUKMS1"
CRYPTO_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo",
                  "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext")
GRANT_OPERATIONS = {"Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
                    "ReEncryptFrom", "ReEncryptTo", "CreateGrant", "RetireGrant", "DescribeKey",
                    "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "Sign", "Verify",
                    "GetPublicKey", "GenerateMac", "VerifyMac"}
AWS_MANAGED_DESCRIPTIONS = {
    "rds": "Default key that protects my RDS database volumes when no other key is defined",
}


def default_policy(partition, account):
    return json.dumps({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:%s:iam::%s:root" % (partition, account)},
            "Action": "kms:*",
            "Resource": "*",
        }],
    }, indent=2)


def aws_managed_policy(partition, account, region, service):
    return json.dumps({
        "Version": "2012-10-17",
        "Id": "auto-%s-2" % service,
        "Statement": [
            {
                "Sid": "Allow access through %s for all principals in the account that are authorized "
                       "to use %s" % (service.upper(), service.upper()),
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                           "kms:CreateGrant", "kms:ListGrants", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {"StringEquals": {
                    "kms:CallerAccount": account,
                    "kms:ViaService": "%s.%s.amazonaws.com" % (service, region)}},
            },
            {
                "Sid": "Allow direct access to key metadata to the account",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:%s:iam::%s:root" % (partition, account)},
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
                "Resource": "*",
            },
        ],
    }, indent=2)


def _partition(region):
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


class KmsService:
    SERVICE = "kms"

    def __init__(self, emu):
        self.emu = emu
        self.reset()

    def reset(self):
        # (account, region) -> {"keys": {key_id: key}, "aliases": {alias_name: alias}}
        self.regions = {}

    def _store(self, account, region):
        store = self.regions.setdefault((account, region), {"keys": {}, "aliases": {}})
        self._expire(store)
        return store

    def _expire(self, store):
        """Keys whose deletion date has passed (emu.now() may be moved on) are gone, with their
        aliases, as AWS deletes them at the end of the waiting period."""
        now = self.emu.now()
        gone = [kid for kid, k in store["keys"].items()
                if k["KeyState"] == "PendingDeletion" and k["DeletionDate"] <= now]
        for kid in gone:
            del store["keys"][kid]
        if gone:
            for name in [n for n, a in store["aliases"].items() if a["TargetKeyId"] in gone]:
                del store["aliases"][name]

    def on_clock(self, now):
        """AWS time moved on (POST /_emu/clock): keys past their deletion date are gone."""
        for store in self.regions.values():
            self._expire(store)

    def inventory(self):
        out = []
        for (account, region), store in self.regions.items():
            self._expire(store)
            for key in store["keys"].values():
                out.append({"account": account, "region": region, "type": "key", "id": key["KeyId"],
                            "arn": key["Arn"], "state": key["KeyState"], "manager": key["KeyManager"]})
            for alias in store["aliases"].values():
                out.append({"account": account, "region": region, "type": "alias", "id": alias["AliasName"],
                            "arn": alias["AliasArn"], "target": alias["TargetKeyId"],
                            "manager": "AWS" if alias["AliasName"].startswith("alias/aws/") else "CUSTOMER"})
        return out

    # -- key resolution and authorisation ----------------------------------------------------

    def _resolve(self, account, region, key_ref, allow_alias=True, cross_account=True):
        """key_ref (id, key ARN, alias name, alias ARN) -> key dict, else NotFoundException."""
        m = KEY_ARN_RE.match(key_ref)
        if m is not None:
            if not cross_account and m.group(3) != account:
                raise AwsError("NotFoundException", "Key '%s' does not exist" % key_ref)
            key = self._store(m.group(3), m.group(2))["keys"].get(m.group(4))
            if key is None or key["Arn"] != key_ref:
                raise AwsError("NotFoundException", "Key '%s' does not exist" % key_ref)
            return key
        m = ALIAS_ARN_RE.match(key_ref)
        if m is not None:
            if not allow_alias or (not cross_account and m.group(3) != account):
                raise AwsError("NotFoundException", "Alias %s is not found." % key_ref)
            store = self._store(m.group(3), m.group(2))
            alias = store["aliases"].get(m.group(4))
            if alias is None:
                raise AwsError("NotFoundException", "Alias %s is not found." % key_ref)
            return store["keys"][alias["TargetKeyId"]]
        if key_ref.startswith("arn:"):
            raise AwsError("NotFoundException", "Invalid arn %s" % key_ref)
        store = self._store(account, region)
        if key_ref.startswith("alias/"):
            alias_arn = "arn:%s:kms:%s:%s:%s" % (_partition(region), region, account, key_ref)
            alias = store["aliases"].get(key_ref) if allow_alias else None
            if alias is None:
                raise AwsError("NotFoundException", "Alias %s is not found." % alias_arn)
            return store["keys"][alias["TargetKeyId"]]
        key = store["keys"].get(key_ref)
        if key is None:
            raise AwsError("NotFoundException", "Key 'arn:%s:kms:%s:%s:key/%s' does not exist"
                           % (_partition(region), region, account, key_ref))
        return key

    def _decide(self, caller_account, principal_arn, role_arn, key, action, context):
        """-> (allowed: bool, reason) following the rules in the module docstring."""
        caller = {"account": caller_account, "arn": role_arn or principal_arn, "session_arn": principal_arn}
        decision, how = evaluate_resource_policy(json.loads(key["Policy"]), caller, action, key["Arn"], context)
        if decision == "deny":
            return False, "with an explicit deny in a resource-based policy"
        if decision != "allow":
            return False, "because no resource-based policy allows the %s action" % action
        same_account = caller_account == key["AWSAccountId"]
        if role_arn is None:
            return True, None  # account root keys: the identity side is always allowed
        identity = self.emu.services["iam"].evaluate(caller_account, role_arn, action, key["Arn"], context)
        if identity == "deny":
            return False, "with an explicit deny in an identity-based policy"
        if identity == "allow" or (same_account and how == "direct"):
            return True, None
        return False, "because no identity-based policy allows the %s action" % action

    def _context(self, caller_account, principal_arn, role_arn, region, via_service=None, extra=None):
        ctx = {"kms:CallerAccount": caller_account,
               "aws:PrincipalAccount": caller_account,
               "aws:PrincipalArn": role_arn or principal_arn,
               "aws:RequestedRegion": region,
               "kms:GrantIsForAWSResource": bool(via_service)}
        if via_service:
            ctx["kms:ViaService"] = "%s.%s.amazonaws.com" % (via_service, region)
        ctx.update(self.emu.principal_org_keys(caller_account))
        ctx.update(extra or {})
        return ctx

    def _authorize_key(self, ctx, key, action, extra=None):
        context = self._context(ctx.account, ctx.principal_arn, ctx.role_arn, ctx.region, extra=extra)
        ok, why = self._decide(ctx.account, ctx.principal_arn, ctx.role_arn, key, action, context)
        if not ok:
            raise AwsError("AccessDeniedException", "User: %s is not authorized to perform: %s on resource: %s %s"
                           % (ctx.principal_arn, action, key["Arn"], why), status=400)

    @staticmethod
    def _check_state(key, usable=True):
        if key["KeyState"] == "PendingDeletion":
            raise AwsError("KMSInvalidStateException", "%s is pending deletion." % key["Arn"])
        if usable and key["KeyState"] == "Disabled":
            raise AwsError("DisabledException", "%s is disabled." % key["Arn"])

    def check_use(self, caller_account, principal_arn, role_arn, key_ref, region, action, via_service=None):
        """For other services (RDS): may this principal use the key for action? -> key ARN."""
        with self.emu.lock:
            key = self._resolve(caller_account, region, key_ref)
            self._check_state(key)
            context = self._context(caller_account, principal_arn, role_arn, region, via_service)
            ok, why = self._decide(caller_account, principal_arn, role_arn, key, action, context)
            if not ok:
                raise AwsError("AccessDeniedException", "User: %s is not authorized to perform: %s on resource: "
                               "%s %s" % (principal_arn, action, key["Arn"], why), status=400)
            return key["Arn"]

    def key_arn(self, account, region, key_ref):
        """The ARN of the key that key_ref (id, ARN, alias name or ARN) names in the account and
        Region of the resource that holds it (an SNS topic's or SQS queue's KmsMasterKeyId), or
        raises NotFoundException. alias/aws/sns and alias/aws/sqs name those services' AWS-managed
        keys, made on first use as AWS makes them."""
        with self.emu.lock:
            m = re.match(r"^(?:arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:)?alias/aws/(sns|sqs)$", key_ref)
            if m is not None:
                self.default_key(account, region, m.group(1))
            return self._resolve(account, region, key_ref)["Arn"]

    def check_service_use(self, service_principal, key_arn, action, context=None):
        """May a service principal (sns.amazonaws.com delivering to an encrypted queue,
        events.amazonaws.com publishing to an encrypted topic) use the key for action? Only the key
        policy can say so (a service has no identity policies). -> key ARN, or raises AwsError."""
        with self.emu.lock:
            m = KEY_ARN_RE.match(key_arn)
            if m is None:
                raise AwsError("NotFoundException", "Invalid arn %s" % key_arn)
            key = self._resolve(m.group(3), m.group(2), key_arn)
            self._check_state(key)
            cond = {"aws:PrincipalServiceName": service_principal, "aws:RequestedRegion": m.group(2)}
            cond.update(context or {})
            decision, _how = evaluate_resource_policy(json.loads(key["Policy"]), {"service": service_principal},
                                                      action, key["Arn"], cond)
            if decision != "allow":
                why = ("with an explicit deny in a resource-based policy" if decision == "deny" else
                       "because no resource-based policy allows the %s action" % action)
                raise AwsError("AccessDeniedException", "User: %s is not authorized to perform: %s on "
                               "resource: %s %s" % (service_principal, action, key["Arn"], why), status=400)
            return key["Arn"]

    def default_key(self, account, region, service="rds"):
        """The AWS-managed aws/<service> key of the account and Region, created on first use."""
        with self.emu.lock:
            store = self._store(account, region)
            name = "alias/aws/%s" % service
            alias = store["aliases"].get(name)
            if alias is not None:
                return store["keys"][alias["TargetKeyId"]]["Arn"]
            key = self._new_key(account, region, aws_managed_policy(_partition(region), account, region, service),
                                AWS_MANAGED_DESCRIPTIONS.get(service, "Default master key that protects my %s "
                                                             "data when no other key is defined" % service),
                                manager="AWS")
            self._add_alias(store, account, region, name, key["KeyId"])
            return key["Arn"]

    def key_metadata(self, key_arn):
        """Public KeyMetadata of a key by ARN, or None (for other services' describe calls)."""
        with self.emu.lock:
            m = KEY_ARN_RE.match(key_arn or "")
            if m is None:
                return None
            key = self._store(m.group(3), m.group(2))["keys"].get(m.group(4))
            return self._metadata(key) if key else None

    # -- keys ------------------------------------------------------------------------------

    def _new_key(self, account, region, policy, description, manager="CUSTOMER", multi_region=False,
                 key_id=None, tags=None):
        partition = _partition(region)
        if key_id is None:
            key_id = ("mrk-" + uuid.uuid4().hex) if multi_region else str(uuid.uuid4())
        key = {"AWSAccountId": account, "KeyId": key_id,
               "Arn": "arn:%s:kms:%s:%s:key/%s" % (partition, region, account, key_id),
               "CreationDate": self.emu.now(), "Enabled": True, "Description": description or "",
               "KeyUsage": "ENCRYPT_DECRYPT", "KeyState": "Enabled", "Origin": "AWS_KMS",
               "KeyManager": manager, "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
               "KeySpec": "SYMMETRIC_DEFAULT", "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
               "MultiRegion": multi_region, "Policy": policy, "Tags": list(tags or []),
               "material": os.urandom(32), "grants": {}, "rotation": manager == "AWS",
               "region": region}
        if multi_region:
            key["MultiRegionConfiguration"] = {"MultiRegionKeyType": "PRIMARY",
                                               "PrimaryKey": {"Arn": key["Arn"], "Region": region},
                                               "ReplicaKeys": []}
        self._store(account, region)["keys"][key_id] = key
        return key

    def _metadata(self, key):
        keys = ("AWSAccountId", "KeyId", "Arn", "CreationDate", "Enabled", "Description", "KeyUsage",
                "KeyState", "Origin", "KeyManager", "CustomerMasterKeySpec", "KeySpec",
                "EncryptionAlgorithms", "MultiRegion")
        out = {k: copy.deepcopy(key[k]) for k in keys}
        if key["KeyState"] == "PendingDeletion":
            out["DeletionDate"] = key["DeletionDate"]
            out["PendingDeletionWindowInDays"] = key["PendingDeletionWindowInDays"]
        if key.get("MultiRegionConfiguration"):
            out["MultiRegionConfiguration"] = copy.deepcopy(key["MultiRegionConfiguration"])
        return out

    def _validate_key_policy(self, ctx, text, bypass, key_arn):
        try:
            doc = parse_policy(text, kind="resource")
        except PolicyError:
            raise AwsError("MalformedPolicyDocumentException", "The policy is not valid JSON or has a syntax error.")
        for st in doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]:
            principal = st.get("Principal", st.get("NotPrincipal"))
            values = []
            if isinstance(principal, dict):
                for v in principal.get("AWS", []) if isinstance(principal.get("AWS"), list) else [principal.get("AWS")]:
                    if v is not None:
                        values.append(v)
            for v in values:
                m = ROLE_ARN_RE.match(v)
                if v == "*" or re.fullmatch(r"\d{12}", v) or re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:root", v):
                    continue
                if m is not None:
                    if m.group(2) in self.emu.accounts and self.emu.services["iam"].get_role(m.group(2), v) is None:
                        raise AwsError("MalformedPolicyDocumentException",
                                       "Policy contains a statement with one or more invalid principals.")
                    continue
                if not v.startswith("arn:"):
                    raise AwsError("MalformedPolicyDocumentException",
                                   "Policy contains a statement with one or more invalid principals.")
        if not bypass:
            probe = {"Policy": text, "Arn": key_arn, "AWSAccountId": ctx.account}
            context = self._context(ctx.account, ctx.principal_arn, ctx.role_arn, ctx.region)
            ok, _why = self._decide(ctx.account, ctx.principal_arn, ctx.role_arn, probe, "kms:PutKeyPolicy", context)
            if not ok:
                raise AwsError("MalformedPolicyDocumentException",
                               "The new key policy will not allow you to update the key policy in the future.")
        return text

    def CreateKey(self, ctx, params):
        ctx.authorize("kms:CreateKey", "*")
        if params.get("KeyUsage", "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT" or \
                params.get("KeySpec", params.get("CustomerMasterKeySpec", "SYMMETRIC_DEFAULT")) != "SYMMETRIC_DEFAULT":
            raise AwsError("UnsupportedOperationException", "The emulator supports only SYMMETRIC_DEFAULT "
                           "ENCRYPT_DECRYPT keys.")
        if params.get("Origin", "AWS_KMS") != "AWS_KMS":
            raise AwsError("UnsupportedOperationException", "The emulator supports only Origin AWS_KMS.")
        multi = bool(params.get("MultiRegion"))
        key_id = ("mrk-" + uuid.uuid4().hex) if multi else str(uuid.uuid4())
        arn = "arn:%s:kms:%s:%s:key/%s" % (ctx.partition, ctx.region, ctx.account, key_id)
        if "Policy" in params:
            policy = self._validate_key_policy(ctx, params["Policy"], params.get("BypassPolicyLockoutSafetyCheck"), arn)
        else:
            policy = default_policy(ctx.partition, ctx.account)
        tags = self._check_tags(params.get("Tags", []))
        key = self._new_key(ctx.account, ctx.region, policy, params.get("Description", ""), multi_region=multi,
                            key_id=key_id, tags=tags)
        return {"KeyMetadata": self._metadata(key)}

    def ReplicateKey(self, ctx, params):
        key = self._resolve(ctx.account, ctx.region, params["KeyId"], allow_alias=False, cross_account=False)
        self._authorize_key(ctx, key, "kms:ReplicateKey")
        if not key["MultiRegion"] or key["MultiRegionConfiguration"]["MultiRegionKeyType"] != "PRIMARY":
            raise AwsError("UnsupportedOperationException", "%s is not a multi-Region primary key." % key["Arn"])
        target = params["ReplicaRegion"]
        if target == ctx.region or key["KeyId"] in self._store(ctx.account, target)["keys"]:
            raise AwsError("AlreadyExistsException", "Replica key %s already exists in %s." % (key["KeyId"], target))
        policy = params.get("Policy", key["Policy"])
        replica = self._new_key(ctx.account, target, policy, params.get("Description", key["Description"]),
                                multi_region=True, key_id=key["KeyId"],
                                tags=self._check_tags(params.get("Tags", [])))
        replica["material"] = key["material"]
        replica["MultiRegionConfiguration"] = {"MultiRegionKeyType": "REPLICA",
                                               "PrimaryKey": {"Arn": key["Arn"], "Region": ctx.region},
                                               "ReplicaKeys": []}
        key["MultiRegionConfiguration"]["ReplicaKeys"].append({"Arn": replica["Arn"], "Region": target})
        return {"ReplicaKeyMetadata": self._metadata(replica), "ReplicaPolicy": policy,
                "ReplicaTags": [dict(t) for t in replica["Tags"]]}

    def DescribeKey(self, ctx, params):
        key = self._resolve(ctx.account, ctx.region, params["KeyId"])
        self._authorize_key(ctx, key, "kms:DescribeKey")
        return {"KeyMetadata": self._metadata(key)}

    def ListKeys(self, ctx, params):
        ctx.authorize("kms:ListKeys", "*")
        keys = sorted(self._store(ctx.account, ctx.region)["keys"].values(), key=lambda k: k["CreationDate"])
        items = [{"KeyId": k["KeyId"], "KeyArn": k["Arn"]} for k in keys]
        return self._page(items, params, "Keys")

    @staticmethod
    def _page(items, params, name):
        start = 0
        if params.get("Marker"):
            try:
                start = int(params["Marker"])
            except ValueError:
                raise AwsError("InvalidMarkerException", "Invalid marker")
        limit = params.get("Limit") or 100
        out = {name: items[start:start + limit], "Truncated": start + limit < len(items)}
        if out["Truncated"]:
            out["NextMarker"] = str(start + limit)
        return out

    def GetKeyPolicy(self, ctx, params):
        key = self._resolve(ctx.account, ctx.region, params["KeyId"], allow_alias=False, cross_account=False)
        self._authorize_key(ctx, key, "kms:GetKeyPolicy")
        if params.get("PolicyName", "default") != "default":
            raise AwsError("NotFoundException", "No such policy exists")
        return {"Policy": key["Policy"]}

    def ListKeyPolicies(self, ctx, params):
        key = self._resolve(ctx.account, ctx.region, params["KeyId"], allow_alias=False, cross_account=False)
        self._authorize_key(ctx, key, "kms:ListKeyPolicies")
        return {"PolicyNames": ["default"], "Truncated": False}

    def PutKeyPolicy(self, ctx, params):
        key = self._resolve(ctx.account, ctx.region, params["KeyId"], allow_alias=False, cross_account=False)
        self._authorize_key(ctx, key, "kms:PutKeyPolicy")
        self._check_state(key, usable=False)
        if params.get("PolicyName", "default") != "default":
            raise AwsError("NotFoundException", "No such policy exists")
        key["Policy"] = self._validate_key_policy(ctx, params["Policy"], params.get("BypassPolicyLockoutSafetyCheck"),
                                                  key["Arn"])
        return {}

    def UpdateKeyDescription(self, ctx, params):
        key = self._resolve(ctx.account, ctx.region, params["KeyId"], allow_alias=False, cross_account=False)
        self._authorize_key(ctx, key, "kms:UpdateKeyDescription")
        self._check_state(key, usable=False)
        key["Description"] = params["Description"]
        return {}

    def EnableKey(self, ctx, params):
        key = self._resolve(ctx.account, ctx.region, params["KeyId"], allow_alias=False, cross_account=False)
        self._authorize_key(ctx, key, "kms:EnableKey")
        self._check_state(key, usable=False)
        key["KeyState"], key["Enabled"] = "Enabled", True
        return {}

    def DisableKey(self, ctx, params):
        key = self._resolve(ctx.account, ctx.region, params["KeyId"], allow_alias=False, cross_account=False)
        self._authorize_key(ctx, key, "kms:DisableKey")
        self._check_state(key, usable=False)
        key["KeyState"], key["Enabled"] = "Disabled", False
        return {}

    def ScheduleKeyDeletion(self, ctx, params):
        key = self._resolve(ctx.account, ctx.region, params["KeyId"], allow_alias=False, cross_account=False)
        self._authorize_key(ctx, key, "kms:ScheduleKeyDeletion")
        days = params.get("PendingWindowInDays", 30)
        if not 7 <= days <= 30:
            raise AwsError("ValidationException", "1 validation error detected: Value '%d' at 'pendingWindowInDays' "
                           "failed to satisfy constraint: Member must have value less than or equal to 30 and "
                           "greater than or equal to 7" % days)
        self._check_state(key, usable=False)
        if key.get("MultiRegionConfiguration", {}).get("MultiRegionKeyType") == "PRIMARY" and \
                key["MultiRegionConfiguration"]["ReplicaKeys"]:
            raise AwsError("UnsupportedOperationException", "%s has replica keys; delete them first." % key["Arn"])
        key["KeyState"], key["Enabled"] = "PendingDeletion", False
        key["DeletionDate"] = self.emu.now() + days * 86400
        key["PendingDeletionWindowInDays"] = days
        return {"KeyId": key["Arn"], "DeletionDate": key["DeletionDate"], "KeyState": "PendingDeletion",
                "PendingWindowInDays": days}

    def CancelKeyDeletion(self, ctx, params):
        key = self._resolve(ctx.account, ctx.region, params["KeyId"], allow_alias=False, cross_account=False)
        self._authorize_key(ctx, key, "kms:CancelKeyDeletion")
        if key["KeyState"] != "PendingDeletion":
            raise AwsError("KMSInvalidStateException", "%s is not pending deletion." % key["Arn"])
        key["KeyState"], key["Enabled"] = "Disabled", False
        key.pop("DeletionDate", None)
        key.pop("PendingDeletionWindowInDays", None)
        return {"KeyId": key["Arn"]}

    def EnableKeyRotation(self, ctx, params):
        key = self._resolve(ctx.account, ctx.region, params["KeyId"], allow_alias=False, cross_account=False)
        self._authorize_key(ctx, key, "kms:EnableKeyRotation")
        self._check_state(key)
        key["rotation"] = True
        return {}

    def DisableKeyRotation(self, ctx, params):
        key = self._resolve(ctx.account, ctx.region, params["KeyId"], allow_alias=False, cross_account=False)
        self._authorize_key(ctx, key, "kms:DisableKeyRotation")
        self._check_state(key)
        key["rotation"] = False
        return {}

    def GetKeyRotationStatus(self, ctx, params):
        key = self._resolve(ctx.account, ctx.region, params["KeyId"], allow_alias=False)
        self._authorize_key(ctx, key, "kms:GetKeyRotationStatus")
        self._check_state(key, usable=False)
        return {"KeyRotationEnabled": key["rotation"]}

    # -- tags ------------------------------------------------------------------------------

    @staticmethod
    def _check_tags(tags):
        seen = {}
        for t in tags:
            if t["TagKey"].startswith("aws:"):
                raise AwsError("TagException", "Tags beginning with aws: are reserved")
            seen[t["TagKey"]] = {"TagKey": t["TagKey"], "TagValue": t["TagValue"]}
        if len(seen) > 50:
            raise AwsError("TagException", "Too many tags")
        return list(seen.values())

    def TagResource(self, ctx, params):
        key = self._resolve(ctx.account, ctx.region, params["KeyId"], allow_alias=False, cross_account=False)
        self._authorize_key(ctx, key, "kms:TagResource")
        self._check_state(key, usable=False)
        merged = {t["TagKey"]: t for t in key["Tags"]}
        for t in self._check_tags(params["Tags"]):
            merged[t["TagKey"]] = t
        key["Tags"] = self._check_tags(list(merged.values()))
        return {}

    def UntagResource(self, ctx, params):
        key = self._resolve(ctx.account, ctx.region, params["KeyId"], allow_alias=False, cross_account=False)
        self._authorize_key(ctx, key, "kms:UntagResource")
        self._check_state(key, usable=False)
        drop = set(params["TagKeys"])
        key["Tags"] = [t for t in key["Tags"] if t["TagKey"] not in drop]
        return {}

    def ListResourceTags(self, ctx, params):
        key = self._resolve(ctx.account, ctx.region, params["KeyId"], allow_alias=False, cross_account=False)
        self._authorize_key(ctx, key, "kms:ListResourceTags")
        return self._page([dict(t) for t in key["Tags"]], params, "Tags")

    # -- aliases ---------------------------------------------------------------------------

    def _add_alias(self, store, account, region, name, key_id):
        now = self.emu.now()
        store["aliases"][name] = {"AliasName": name, "TargetKeyId": key_id, "CreationDate": now,
                                  "LastUpdatedDate": now,
                                  "AliasArn": "arn:%s:kms:%s:%s:%s" % (_partition(region), region, account, name)}

    def _check_alias_name(self, name):
        if not name.startswith("alias/") or not ALIAS_NAME_RE.match(name):
            raise AwsError("ValidationException", "1 validation error detected: Value '%s' at 'aliasName' failed "
                           "to satisfy constraint: Member must satisfy regular expression pattern: "
                           "^alias/[a-zA-Z0-9/_-]+$" % name)
        if name.startswith("alias/aws/"):
            raise AwsError("InvalidAliasNameException", "Alias must not begin with 'alias/aws/'. The alias/aws/ "
                           "prefix is reserved for AWS managed keys.")

    def CreateAlias(self, ctx, params):
        name = params["AliasName"]
        self._check_alias_name(name)
        store = self._store(ctx.account, ctx.region)
        key = self._resolve(ctx.account, ctx.region, params["TargetKeyId"], allow_alias=False, cross_account=False)
        alias_arn = "arn:%s:kms:%s:%s:%s" % (ctx.partition, ctx.region, ctx.account, name)
        ctx.authorize("kms:CreateAlias", alias_arn)
        self._authorize_key(ctx, key, "kms:CreateAlias")
        if key["KeyManager"] == "AWS":
            raise AwsError("NotFoundException", "Cannot create an alias for an AWS managed key.")
        self._check_state(key, usable=False)
        if name in store["aliases"]:
            raise AwsError("AlreadyExistsException", "An alias with the name %s already exists" % alias_arn)
        self._add_alias(store, ctx.account, ctx.region, name, key["KeyId"])
        return {}

    def UpdateAlias(self, ctx, params):
        name = params["AliasName"]
        self._check_alias_name(name)
        store = self._store(ctx.account, ctx.region)
        alias = store["aliases"].get(name)
        if alias is None:
            raise AwsError("NotFoundException", "Alias arn:%s:kms:%s:%s:%s is not found."
                           % (ctx.partition, ctx.region, ctx.account, name))
        key = self._resolve(ctx.account, ctx.region, params["TargetKeyId"], allow_alias=False, cross_account=False)
        ctx.authorize("kms:UpdateAlias", alias["AliasArn"])
        self._authorize_key(ctx, key, "kms:UpdateAlias")
        self._check_state(key, usable=False)
        alias["TargetKeyId"] = key["KeyId"]
        alias["LastUpdatedDate"] = self.emu.now()
        return {}

    def DeleteAlias(self, ctx, params):
        name = params["AliasName"]
        store = self._store(ctx.account, ctx.region)
        alias = store["aliases"].get(name)
        if name.startswith("alias/aws/"):
            raise AwsError("InvalidAliasNameException", "Cannot delete an alias reserved for AWS managed keys.")
        if alias is None:
            raise AwsError("NotFoundException", "Alias arn:%s:kms:%s:%s:%s is not found."
                           % (ctx.partition, ctx.region, ctx.account, name))
        ctx.authorize("kms:DeleteAlias", alias["AliasArn"])
        self._authorize_key(ctx, store["keys"][alias["TargetKeyId"]], "kms:DeleteAlias")
        del store["aliases"][name]
        return {}

    def ListAliases(self, ctx, params):
        ctx.authorize("kms:ListAliases", "*")
        store = self._store(ctx.account, ctx.region)
        aliases = sorted(store["aliases"].values(), key=lambda a: a["AliasName"])
        if params.get("KeyId"):
            key = self._resolve(ctx.account, ctx.region, params["KeyId"], allow_alias=False, cross_account=False)
            aliases = [a for a in aliases if a["TargetKeyId"] == key["KeyId"]]
        return self._page([dict(a) for a in aliases], params, "Aliases")

    # -- cryptography ----------------------------------------------------------------------

    @staticmethod
    def _keystream(material, nonce, n):
        out = b""
        counter = 0
        while len(out) < n:
            out += hmac.new(material, nonce + counter.to_bytes(4, "big"), hashlib.sha256).digest()
            counter += 1
        return out[:n]

    @staticmethod
    def _context_bytes(context):
        return json.dumps(context or {}, sort_keys=True, separators=(",", ":")).encode()

    def _seal(self, key, plaintext, context):
        nonce = os.urandom(16)
        body = bytes(a ^ b for a, b in zip(plaintext, self._keystream(key["material"], nonce, len(plaintext))))
        arn = key["Arn"].encode()
        head = BLOB_MAGIC + len(arn).to_bytes(2, "big") + arn + nonce
        tag = hmac.new(key["material"], head + body + self._context_bytes(context), hashlib.sha256).digest()
        return head + body + tag

    def _blob_key_arn(self, blob):
        if not blob.startswith(BLOB_MAGIC) or len(blob) < len(BLOB_MAGIC) + 2 + 16 + 32:
            raise AwsError("InvalidCiphertextException", "")
        n = int.from_bytes(blob[len(BLOB_MAGIC):len(BLOB_MAGIC) + 2], "big")
        return blob[len(BLOB_MAGIC) + 2:len(BLOB_MAGIC) + 2 + n].decode("utf-8", "replace")

    def _open(self, key, blob, context):
        n = int.from_bytes(blob[len(BLOB_MAGIC):len(BLOB_MAGIC) + 2], "big")
        head_len = len(BLOB_MAGIC) + 2 + n + 16
        head, body, tag = blob[:head_len], blob[head_len:-32], blob[-32:]
        want = hmac.new(key["material"], head + body + self._context_bytes(context), hashlib.sha256).digest()
        if not hmac.compare_digest(want, tag):
            raise AwsError("InvalidCiphertextException", "")
        nonce = head[-16:]
        return bytes(a ^ b for a, b in zip(body, self._keystream(key["material"], nonce, len(body))))

    def _crypto_key(self, ctx, key_ref, action, extra=None):
        key = self._resolve(ctx.account, ctx.region, key_ref)
        self._authorize_key(ctx, key, action, extra)
        self._check_state(key)
        return key

    def Encrypt(self, ctx, params):
        key = self._crypto_key(ctx, params["KeyId"], "kms:Encrypt")
        return {"CiphertextBlob": self._seal(key, params["Plaintext"], params.get("EncryptionContext")),
                "KeyId": key["Arn"], "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}

    def _source_key(self, ctx, blob, key_ref):
        arn = self._blob_key_arn(blob)
        m = KEY_ARN_RE.match(arn)
        key = self._store(m.group(3), m.group(2))["keys"].get(m.group(4)) if m else None
        if key is None:
            raise AwsError("InvalidCiphertextException", "")
        if key_ref:
            wanted = self._resolve(ctx.account, ctx.region, key_ref)
            if wanted["Arn"] != key["Arn"]:
                raise AwsError("IncorrectKeyException", "The key ID in the request does not identify a CMK that "
                               "can perform this operation.")
        return key

    def Decrypt(self, ctx, params):
        key = self._source_key(ctx, params["CiphertextBlob"], params.get("KeyId"))
        self._authorize_key(ctx, key, "kms:Decrypt")
        self._check_state(key)
        plaintext = self._open(key, params["CiphertextBlob"], params.get("EncryptionContext"))
        return {"KeyId": key["Arn"], "Plaintext": plaintext, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}

    def ReEncrypt(self, ctx, params):
        src = self._source_key(ctx, params["CiphertextBlob"], params.get("SourceKeyId"))
        self._authorize_key(ctx, src, "kms:ReEncryptFrom")
        self._check_state(src)
        plaintext = self._open(src, params["CiphertextBlob"], params.get("SourceEncryptionContext"))
        dst = self._crypto_key(ctx, params["DestinationKeyId"], "kms:ReEncryptTo")
        return {"CiphertextBlob": self._seal(dst, plaintext, params.get("DestinationEncryptionContext")),
                "SourceKeyId": src["Arn"], "KeyId": dst["Arn"], "SourceEncryptionAlgorithm": "SYMMETRIC_DEFAULT",
                "DestinationEncryptionAlgorithm": "SYMMETRIC_DEFAULT"}

    def _data_key_size(self, params):
        if "NumberOfBytes" in params and "KeySpec" in params:
            raise AwsError("ValidationException", "Please specify either number of bytes or key spec.")
        if "NumberOfBytes" in params:
            return params["NumberOfBytes"]
        spec = params.get("KeySpec")
        if spec is None:
            raise AwsError("ValidationException", "Please specify either number of bytes or key spec.")
        return 32 if spec == "AES_256" else 16

    def GenerateDataKey(self, ctx, params):
        key = self._crypto_key(ctx, params["KeyId"], "kms:GenerateDataKey")
        plaintext = os.urandom(self._data_key_size(params))
        return {"CiphertextBlob": self._seal(key, plaintext, params.get("EncryptionContext")),
                "Plaintext": plaintext, "KeyId": key["Arn"]}

    def GenerateDataKeyWithoutPlaintext(self, ctx, params):
        key = self._crypto_key(ctx, params["KeyId"], "kms:GenerateDataKeyWithoutPlaintext")
        plaintext = os.urandom(self._data_key_size(params))
        return {"CiphertextBlob": self._seal(key, plaintext, params.get("EncryptionContext")), "KeyId": key["Arn"]}

    # -- grants ----------------------------------------------------------------------------

    def CreateGrant(self, ctx, params):
        key = self._crypto_key(ctx, params["KeyId"], "kms:CreateGrant",
                               {"kms:GranteePrincipal": params["GranteePrincipal"]})
        bad = [op for op in params["Operations"] if op not in GRANT_OPERATIONS]
        if bad:
            raise AwsError("ValidationException", "Invalid grant operations: %s" % ", ".join(bad))
        name = params.get("Name")
        if name:
            for g in key["grants"].values():
                if g.get("Name") == name and g["GranteePrincipal"] == params["GranteePrincipal"] and \
                        sorted(g["Operations"]) == sorted(params["Operations"]):
                    return {"GrantToken": g["token"], "GrantId": g["GrantId"]}
        grant_id = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
        token = base64.b64encode(b"emu-grant:" + grant_id.encode()).decode()
        grant = {"KeyId": key["Arn"], "GrantId": grant_id, "CreationDate": self.emu.now(),
                 "GranteePrincipal": params["GranteePrincipal"], "IssuingAccount": "arn:%s:iam::%s:root"
                 % (ctx.partition, ctx.account), "Operations": list(params["Operations"]), "token": token}
        if name:
            grant["Name"] = name
        if params.get("RetiringPrincipal"):
            grant["RetiringPrincipal"] = params["RetiringPrincipal"]
        if params.get("Constraints"):
            grant["Constraints"] = params["Constraints"]
        key["grants"][grant_id] = grant
        return {"GrantToken": token, "GrantId": grant_id}

    def ListGrants(self, ctx, params):
        key = self._resolve(ctx.account, ctx.region, params["KeyId"], allow_alias=False)
        self._authorize_key(ctx, key, "kms:ListGrants")
        grants = [{k: v for k, v in g.items() if k != "token"} for g in key["grants"].values()]
        if params.get("GrantId"):
            grants = [g for g in grants if g["GrantId"] == params["GrantId"]]
        if params.get("GranteePrincipal"):
            grants = [g for g in grants if g["GranteePrincipal"] == params["GranteePrincipal"]]
        grants.sort(key=lambda g: epoch(g["CreationDate"]))
        return self._page(grants, params, "Grants")

    def RevokeGrant(self, ctx, params):
        key = self._resolve(ctx.account, ctx.region, params["KeyId"], allow_alias=False)
        self._authorize_key(ctx, key, "kms:RevokeGrant")
        if params["GrantId"] not in key["grants"]:
            raise AwsError("NotFoundException", "Grant ID %s not found" % params["GrantId"])
        del key["grants"][params["GrantId"]]
        return {}

    def RetireGrant(self, ctx, params):
        me = {p for p in (ctx.principal_arn, ctx.role_arn) if p}
        for store in self.regions.values():
            for key in store["keys"].values():
                for gid, g in list(key["grants"].items()):
                    if gid == params.get("GrantId") or g["token"] == params.get("GrantToken"):
                        # The issuing account, the retiring principal, or a grantee allowed RetireGrant.
                        may = (g["IssuingAccount"].split(":")[4] == ctx.account or
                               g.get("RetiringPrincipal") in me or
                               (g["GranteePrincipal"] in me and "RetireGrant" in g["Operations"]))
                        if not may:
                            raise ctx.access_denied("kms:RetireGrant", key["Arn"])
                        del key["grants"][gid]
                        return {}
        raise AwsError("NotFoundException", "Grant not found")
