"""S3 for the emulator (restXml, 2006-03-01): general purpose buckets, one namespace of names
across all the emulated accounts, each bucket owned by one account and in one Region, with
objects, versioning, default encryption, bucket policies and conditional writes.

Operations: CreateBucket, DeleteBucket, HeadBucket, ListBuckets, GetBucketLocation,
PutBucketVersioning, GetBucketVersioning, GetBucketEncryption, PutBucketEncryption,
DeleteBucketEncryption, PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy, PutObject,
GetObject, HeadObject, DeleteObject, ListObjectsV2, ListObjectVersions.

Addressing (path-style or virtual-hosted) and S3's SigV4 rules are the core's; a request is
answered for the Region it is signed for, as an S3 regional endpoint answers: a bucket of
another Region is 301 PermanentRedirect (x-amz-bucket-region names its Region).

Objects: ETag the quoted MD5 of the body; Content-Type (binary/octet-stream when none),
x-amz-meta-* metadata (names lower-cased), Cache-Control and the other content headers stored and
returned. Versioning Enabled gives every write a version id and deletes leave delete markers;
Suspended writes the "null" version; a bucket never versioned has only "null" versions and
answers no x-amz-version-id. Encryption: every object is encrypted, AES256 by default (the
bucket's default encryption, SSE-S3 as on AWS since 2023) or aws:kms with a KMS key of the
emulator in the bucket's Region that the caller may use for kms:GenerateDataKey via S3
(kms:Decrypt to read it back); without a key id, the caller's AWS managed aws/s3 key.

Conditional writes: PutObject If-None-Match: * (the key has a current object: 412
PreconditionFailed; any other value: 501 NotImplemented) and If-Match: ETag (no current object:
404 NoSuchKey; another ETag: 412); DeleteObject If-Match (ETag or *; no current object: 404
NoSuchKey; another ETag: 412). POST /_emu/s3/conflicts makes the next N conditional writes to a
key answer 409 ConditionalRequestConflict, as two racing writes may on AWS. A refused write
changes nothing.

Authorisation: s3:<Action> on arn:aws:s3:::BUCKET (bucket operations, s3:ListBucket) or
arn:aws:s3:::BUCKET/KEY (objects), as IAM evaluates them for the caller (HeadObject needs
s3:GetObject, with a versionId s3:GetObjectVersion; ListObjectsV2 s3:ListBucket, ...), and the
bucket policy: within the owner account the identity policy or a policy statement naming the
caller allows, an explicit Deny in either refuses; another account needs both the bucket policy
and its own identity policy (only the owner account may get, put or delete the policy: 405
otherwise). Same-account refusals carry S3's explanatory message, others "Access Denied". A key
that does not exist answers 403 AccessDenied rather than 404 to a caller without s3:ListBucket,
as S3 does.

Control routes: GET /_emu/s3/objects?bucket=B -> {"bucket", "account", "region", "versioning",
"objects": [{key, version_id, is_latest, delete_marker, etag, size, sse, kms_key,
last_modified, content_type, metadata}]}; POST /_emu/s3/conflicts {"bucket", "key", "count"}.

Not emulated (refused with 501 NotImplemented, not pretended): multipart uploads, CopyObject,
DeleteObjects, ListObjects (v1), Range reads, object tagging and lock, SSE-C, checksums
(x-amz-checksum-*), ACLs (buckets own their objects, as BucketOwnerEnforced buckets do: ACL
headers other than bucket-owner-full-control are AccessControlListNotSupported), lifecycle,
replication, notifications, website hosting, presigned URLs and chunked (STREAMING-*) payloads.
"""

import base64
import email.utils
import hashlib
import random
import re
import urllib.parse

from .core import AwsError, REGION_RE, partition_of, service_model
from .iam import PolicyError, evaluate_resource_policy, parse_policy

_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_ADDRESS = re.compile(r"\d+\.\d+\.\d+\.\d+")
RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
MAX_KEY_BYTES = 1024
MAX_METADATA_BYTES = 2048
MAX_KEYS = 1000
_VERSION_ID = re.compile(r"[A-Za-z0-9._]{32}")
_VERSION_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"
SSE_ALGORITHMS = ("AES256", "aws:kms")
# Content headers PutObject stores and GetObject / HeadObject return.
CONTENT_MEMBERS = ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage", "Expires")
# Members of the model the emulator does not emulate: refused with NotImplemented, naming the header.
UNSUPPORTED = {
    "PutObject": ("Tagging", "ObjectLockMode", "ObjectLockRetainUntilDate", "ObjectLockLegalHoldStatus",
                  "SSECustomerAlgorithm", "SSECustomerKey", "SSECustomerKeyMD5", "SSEKMSEncryptionContext",
                  "WebsiteRedirectLocation", "ChecksumAlgorithm", "ChecksumCRC32", "ChecksumCRC32C",
                  "ChecksumSHA1", "ChecksumSHA256", "RequestPayer"),
    "GetObject": ("Range", "PartNumber", "SSECustomerAlgorithm", "SSECustomerKey", "SSECustomerKeyMD5",
                  "ResponseCacheControl", "ResponseContentDisposition", "ResponseContentEncoding",
                  "ResponseContentLanguage", "ResponseContentType", "ResponseExpires", "RequestPayer"),
    "HeadObject": ("Range", "PartNumber", "SSECustomerAlgorithm", "SSECustomerKey", "SSECustomerKeyMD5",
                   "RequestPayer"),
    "DeleteObject": ("MFA", "RequestPayer"),
    "CreateBucket": ("ObjectLockEnabledForBucket",),
    "PutBucketVersioning": ("MFA",),
    "ListObjectsV2": ("RequestPayer",),
}
GRANT_MEMBERS = ("GrantFullControl", "GrantRead", "GrantReadACP", "GrantWrite", "GrantWriteACP")
DEFAULT_ENCRYPTION = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                      "BucketKeyEnabled": False}


def _no_bucket(name):
    return AwsError("NoSuchBucket", "The specified bucket does not exist", 404, fields={"BucketName": name})


def _no_key(key, headers=None):
    return AwsError("NoSuchKey", "The specified key does not exist.", 404, fields={"Key": key},
                    headers=headers)


def _precondition_failed(condition):
    return AwsError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
                    412, fields={"Condition": condition})


def _not_implemented(header):
    return AwsError("NotImplemented", "A header you provided implies functionality that is not implemented",
                    501, fields={"Header": header})


def _invalid_argument(message, name, value):
    return AwsError("InvalidArgument", message, 400, fields={"ArgumentName": name, "ArgumentValue": value})


def _malformed_policy(message):
    return AwsError("MalformedPolicy", message, 400)


def _etag_matches(header_value, etag):
    """Whether an If-Match / If-None-Match value ("*", or ETags, quoted or not, comma-separated)
    names the ETag."""
    for item in header_value.split(","):
        item = item.strip()
        if item.startswith("W/"):
            item = item[2:]
        if item == "*" or '"%s"' % item.strip('"') == etag:
            return True
    return False


def canonical_user_id(account):
    """The canonical user id S3 shows for an account (64 hex characters)."""
    return hashlib.sha256(("emu-canonical-user:" + account).encode("ascii")).hexdigest()


def bucket_name_error(name):
    """Why S3 refuses a bucket name (general purpose bucket naming rules), or None."""
    if not _BUCKET_NAME.fullmatch(name):
        return "3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit"
    if ".." in name or _IP_ADDRESS.fullmatch(name):
        return "no two adjacent dots, not an IP address"
    if name.startswith(RESERVED_PREFIXES) or name.endswith(RESERVED_SUFFIXES):
        return "a reserved prefix or suffix"
    return None


def _url_encode(value):
    """S3's encoding-type=url: what botocore undoes with unquote_plus."""
    return None if value is None else urllib.parse.quote_plus(value, safe="/")


def _list_token(value):
    return base64.urlsafe_b64encode(("emu1:" + value).encode("utf-8")).decode("ascii")


def _token_value(token):
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (ValueError, UnicodeError):
        text = ""
    if not text.startswith("emu1:"):
        raise _invalid_argument("The continuation token provided is incorrect", "continuation-token", token)
    return text[len("emu1:"):]


def _roll_up(entries, prefix, delimiter, max_keys):
    """ListObjects' walk over entries (key, item) in key order (a key repeats for each of its
    versions): those under prefix, a key with the delimiter past the prefix rolled up into its
    common prefix (listed once), at most max_keys results. -> (results [(key, item) or
    (common prefix, None)], truncated)."""
    out, seen = [], set()
    for key, item in entries:
        if not key.startswith(prefix):
            continue
        rest = key[len(prefix):]
        if delimiter and delimiter in rest:
            common = prefix + rest[:rest.index(delimiter) + len(delimiter)]
            if common in seen:
                continue
            seen.add(common)
            key, item = common, None
        if len(out) == max_keys:
            return out, True
        out.append((key, item))
    return out, False


class S3Service:
    SERVICE = "s3"

    def __init__(self, emu):
        self.emu = emu
        self.reset()

    def reset(self):
        with self.emu.lock:
            # name -> {"name", "account", "region", "constraint", "created", "versioning" (None,
            #   "Enabled", "Suspended"), "encryption" (a rule, None = the default), "policy" (None or
            #   (text, parsed document)),
            #   "objects": {key: [version, newest first]}}
            self.buckets = {}
            self.conflicts = {}  # (bucket, key) -> conditional writes still to answer 409

    # ------------------------------------------------------------------ helpers
    def _bucket(self, ctx, name, check_region=True):
        bucket = self.buckets.get(name)
        if bucket is None:
            raise _no_bucket(name)
        if check_region and bucket["region"] != ctx.region:
            raise AwsError("PermanentRedirect", "The bucket you are attempting to access must be addressed using "
                           "the specified endpoint. Please send all future requests to this endpoint.", 301,
                           fields={"Bucket": name, "Endpoint": "%s.s3.%s.amazonaws.com" % (name, bucket["region"])},
                           headers={"x-amz-bucket-region": bucket["region"]})
        return bucket

    @staticmethod
    def _arn(bucket, key=None):
        arn = "arn:%s:s3:::%s" % (partition_of(bucket["region"]), bucket["name"])
        return arn if key is None else arn + "/" + key

    def _decide(self, ctx, bucket, action, resource, conditions=None):
        """-> (allowed, why): the identity policy and the bucket policy, as S3 combines them."""
        context = ctx.condition_context(conditions)
        context["aws:SecureTransport"] = True  # the emulator's HTTP stands for AWS's HTTPS
        identity = "allow"
        if ctx.role_arn is not None:
            identity = self.emu.services["iam"].evaluate(ctx.account, ctx.role_arn, action, resource, context)
        decision, how = "implicit", None
        if bucket["policy"]:
            caller = ctx.caller()
            decision, how = evaluate_resource_policy(bucket["policy"][1], caller, action, resource, context)
        if decision == "deny":
            return False, "with an explicit deny in a resource-based policy"
        if identity == "deny":
            return False, "with an explicit deny in an identity-based policy"
        if ctx.account == bucket["account"]:
            allowed = identity == "allow" or (decision == "allow" and how == "direct")
        else:
            allowed = identity == "allow" and decision == "allow"
        return allowed, "because no identity-based policy allows the %s action" % action

    def _authorize(self, ctx, bucket, action, key=None, conditions=None):
        resource = self._arn(bucket, key)
        allowed, why = self._decide(ctx, bucket, action, resource, conditions)
        if allowed:
            return
        if ctx.account != bucket["account"]:
            raise AwsError("AccessDenied", "Access Denied", 403)
        raise AwsError("AccessDenied", 'User: %s is not authorized to perform: %s on resource: "%s" %s'
                       % (ctx.principal_arn, action, resource, why), 403)

    @staticmethod
    def _refuse_unsupported(ctx, params):
        members = [m for m in UNSUPPORTED.get(ctx.operation, ()) if params.get(m) is not None]
        if members:
            shape = service_model("s3").operation_model(ctx.operation).input_shape
            raise _not_implemented(shape.members[members[0]].serialization.get("name", members[0]))

    @staticmethod
    def _check_owner(bucket, params):
        """x-amz-expected-bucket-owner: a bucket of another account is refused."""
        expected = params.get("ExpectedBucketOwner")
        if expected is not None and expected != bucket["account"]:
            raise AwsError("AccessDenied", "Access Denied", 403)

    def _bucket_for(self, ctx, params, action, key=None, conditions=None):
        """The request's bucket, in the request's Region, the caller allowed `action` on it (or
        on key in it)."""
        bucket = self._bucket(ctx, params["Bucket"])
        self._check_owner(bucket, params)
        self._authorize(ctx, bucket, action, key, conditions)
        return bucket

    @staticmethod
    def _current(bucket, key):
        versions = bucket["objects"].get(key)
        return versions[0] if versions else None

    def _new_version_id(self, bucket):
        if bucket["versioning"] != "Enabled":
            return "null"
        return "".join(random.choice(_VERSION_ID_CHARS) for _ in range(32))

    @staticmethod
    def _find_version(bucket, key, version_id):
        if version_id != "null" and not _VERSION_ID.fullmatch(version_id):
            raise _invalid_argument("Invalid version id specified", "versionId", version_id)
        for version in bucket["objects"].get(key, ()):
            if version["version_id"] == version_id:
                return version
        return None

    def _store(self, bucket, version):
        """Adds a version (object or delete marker) as the key's current one: with versioning
        Enabled it goes on top; otherwise it replaces the key's "null" version."""
        versions = bucket["objects"].setdefault(version["key"], [])
        if version["version_id"] == "null":
            versions[:] = [v for v in versions if v["version_id"] != "null"]
        versions.insert(0, version)

    def _consume_conflict(self, bucket, key):
        """POST /_emu/s3/conflicts: the next N conditional writes to the key lose a race."""
        pending = self.conflicts.get((bucket["name"], key), 0)
        if pending > 0:
            self.conflicts[(bucket["name"], key)] = pending - 1
            raise AwsError("ConditionalRequestConflict", "A conflicting conditional operation is currently in "
                           "progress against this resource. Please try again.", 409, fields={"Key": key})

    def _missing_object(self, ctx, bucket, key, headers=None):
        """NoSuchKey, or AccessDenied (s3:ListBucket) to a caller that may not list the bucket:
        S3 tells only those who could see it that a key does not exist."""
        self._authorize(ctx, bucket, "s3:ListBucket")
        return _no_key(key, headers)

    # -- encryption ------------------------------------------------------------------------

    @staticmethod
    def _kms_error(exc):
        if exc.code == "AccessDeniedException":
            return AwsError("AccessDenied", exc.message, 403)
        return AwsError("KMS." + exc.code, exc.message, 400)

    def _kms_use(self, ctx, bucket, key_ref, action):
        """The caller may use the key (id, ARN, alias; None: the caller's aws/s3 key) via S3 in the
        bucket's Region for action -> the key's ARN."""
        kms = self.emu.services["kms"]
        try:
            if key_ref is None:
                key_ref = kms.default_key(ctx.account, bucket["region"], "s3")
            key_arn = kms.check_use(ctx.account, ctx.principal_arn, ctx.role_arn, key_ref, bucket["region"],
                                    action, via_service="s3")
        except AwsError as exc:
            raise self._kms_error(exc)
        region = key_arn.split(":")[3]
        if region != bucket["region"]:
            raise AwsError("KMS.NotFoundException", "Invalid arn %s" % region, 400)
        return key_arn

    def _encryption_for(self, ctx, bucket, params):
        """PutObject's encryption: the x-amz-server-side-encryption headers, else the bucket's
        default -> (algorithm, KMS key ARN or None, bucket key enabled)."""
        sse = params.get("ServerSideEncryption")
        key_ref = params.get("SSEKMSKeyId")
        bucket_key = params.get("BucketKeyEnabled")
        if sse is None:
            if key_ref is not None:
                raise _invalid_argument("Server Side Encryption with AWS KMS managed key requires HTTP header "
                                        "x-amz-server-side-encryption : aws:kms", "x-amz-server-side-encryption",
                                        "null")
            rule = bucket["encryption"] or DEFAULT_ENCRYPTION
            default = rule["ApplyServerSideEncryptionByDefault"]
            sse, key_ref = default["SSEAlgorithm"], default.get("KMSMasterKeyID")
            if bucket_key is None:
                bucket_key = rule.get("BucketKeyEnabled")
        elif sse not in SSE_ALGORITHMS:
            if sse.startswith("aws:kms"):
                raise _not_implemented("x-amz-server-side-encryption")
            raise _invalid_argument("The encryption method specified is not supported",
                                    "x-amz-server-side-encryption", sse)
        elif sse == "AES256" and key_ref is not None:
            raise _invalid_argument("Server Side Encryption with AWS KMS managed key requires HTTP header "
                                    "x-amz-server-side-encryption : aws:kms", "x-amz-server-side-encryption",
                                    sse)
        if sse == "AES256":
            return sse, None, False
        return sse, self._kms_use(ctx, bucket, key_ref, "kms:GenerateDataKey"), bool(bucket_key)

    # -- replies ---------------------------------------------------------------------------

    @staticmethod
    def _object_reply(bucket, version, head):
        out = {"ETag": version["etag"], "LastModified": version["last_modified"],
               "ContentType": version["content_type"], "Metadata": dict(version["metadata"]),
               "ServerSideEncryption": version["sse"], "AcceptRanges": "bytes"}
        out.update(version["content"])
        if version["kms_key"]:
            out["SSEKMSKeyId"] = version["kms_key"]
            if version["bucket_key"]:
                out["BucketKeyEnabled"] = True
        if version["storage_class"] != "STANDARD":
            out["StorageClass"] = version["storage_class"]
        if bucket["versioning"]:
            out["VersionId"] = version["version_id"]
        if head:
            out["ContentLength"] = version["size"]
        else:
            out["Body"] = version["body"]
        return out

    @staticmethod
    def _marker_headers(bucket, version):
        headers = {"x-amz-delete-marker": "true"}
        if bucket["versioning"]:
            headers["x-amz-version-id"] = version["version_id"]
        return headers

    # ------------------------------------------------------------------ buckets
    def CreateBucket(self, ctx, params):
        name = params["Bucket"]
        ctx.authorize("s3:CreateBucket", "arn:%s:s3:::%s" % (ctx.partition, name))
        self._refuse_unsupported(ctx, params)
        why = bucket_name_error(name)
        if why is not None:
            raise AwsError("InvalidBucketName", "The specified bucket is not valid.", 400,
                           fields={"BucketName": name})
        if params.get("ACL") not in (None, "private") or any(params.get(m) for m in GRANT_MEMBERS):
            raise AwsError("InvalidBucketAclWithObjectOwnership", "Bucket cannot have ACLs set with "
                           "ObjectOwnership's BucketOwnerEnforced setting", 400)
        if params.get("ObjectOwnership") not in (None, "BucketOwnerEnforced"):
            raise _not_implemented("x-amz-object-ownership")
        constraint = (params.get("CreateBucketConfiguration") or {}).get("LocationConstraint")
        region = {"EU": "eu-west-1", None: "us-east-1", "": "us-east-1"}.get(constraint, constraint)
        if constraint == "us-east-1" or not REGION_RE.match(region):
            raise AwsError("InvalidLocationConstraint", "The specified location-constraint is not valid", 400,
                           fields={"LocationConstraint": constraint})
        # us-east-1 (the global endpoint) creates buckets in any Region; a regional endpoint only in its own
        if ctx.region != "us-east-1" and region != ctx.region:
            raise AwsError("IllegalLocationConstraintException", "The %s location constraint is incompatible "
                           "for the region specific endpoint this request was sent to."
                           % (constraint or "unspecified"), 400)
        existing = self.buckets.get(name)
        if existing is not None:
            if existing["account"] != ctx.account:
                raise AwsError("BucketAlreadyExists", "The requested bucket name is not available. The bucket "
                               "namespace is shared by all users of the system. Please select a different name "
                               "and try again.", 409, fields={"BucketName": name})
            if existing["region"] == "us-east-1" and region == "us-east-1":
                return {"Location": "/" + name}  # S3's legacy answer in North Virginia
            raise AwsError("BucketAlreadyOwnedByYou", "Your previous request to create the named bucket "
                           "succeeded and you already own it.", 409, fields={"BucketName": name})
        self.buckets[name] = {"name": name, "account": ctx.account, "region": region, "constraint": constraint,
                              "created": self.emu.now(), "versioning": None, "encryption": None,
                              "policy": None, "objects": {}}
        if region == "us-east-1":
            return {"Location": "/" + name}
        return {"Location": "http://%s.s3.amazonaws.com/" % name}

    def DeleteBucket(self, ctx, params):
        bucket = self._bucket_for(ctx, params, "s3:DeleteBucket")
        if bucket["objects"]:
            message = "The bucket you tried to delete is not empty"
            if bucket["versioning"]:
                message += ". You must delete all versions in the bucket."
            raise AwsError("BucketNotEmpty", message, 409, fields={"BucketName": bucket["name"]})
        del self.buckets[bucket["name"]]
        for conflict in [c for c in self.conflicts if c[0] == bucket["name"]]:
            del self.conflicts[conflict]
        return {}

    def HeadBucket(self, ctx, params):
        bucket = self._bucket_for(ctx, params, "s3:ListBucket")
        return {"BucketRegion": bucket["region"]}

    def ListBuckets(self, ctx, params):
        ctx.authorize("s3:ListAllMyBuckets", "arn:%s:s3:::*" % ctx.partition)
        mine = sorted(n for n, b in self.buckets.items() if b["account"] == ctx.account)
        return {"Buckets": [{"Name": n, "CreationDate": self.buckets[n]["created"]} for n in mine],
                "Owner": {"ID": canonical_user_id(ctx.account)}}

    def GetBucketLocation(self, ctx, params):
        bucket = self._bucket(ctx, params["Bucket"], check_region=False)  # answered from any Region
        self._check_owner(bucket, params)
        self._authorize(ctx, bucket, "s3:GetBucketLocation")
        return {"LocationConstraint": bucket["constraint"] or None}

    def PutBucketVersioning(self, ctx, params):
        bucket = self._bucket_for(ctx, params, "s3:PutBucketVersioning")
        self._refuse_unsupported(ctx, params)
        config = params["VersioningConfiguration"]
        if config.get("MFADelete") == "Enabled":
            raise _not_implemented("x-amz-mfa")
        if config.get("Status") not in ("Enabled", "Suspended"):
            raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against "
                           "our published schema", 400)
        bucket["versioning"] = config["Status"]
        return {}

    def GetBucketVersioning(self, ctx, params):
        bucket = self._bucket_for(ctx, params, "s3:GetBucketVersioning")
        return {"Status": bucket["versioning"]}  # a bucket never versioned: an empty document

    def GetBucketEncryption(self, ctx, params):
        bucket = self._bucket_for(ctx, params, "s3:GetEncryptionConfiguration")
        return {"ServerSideEncryptionConfiguration": {"Rules": [bucket["encryption"] or DEFAULT_ENCRYPTION]}}

    def PutBucketEncryption(self, ctx, params):
        bucket = self._bucket_for(ctx, params, "s3:PutEncryptionConfiguration")
        rules = params["ServerSideEncryptionConfiguration"].get("Rules") or []
        if len(rules) != 1 or "ApplyServerSideEncryptionByDefault" not in rules[0]:
            raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against "
                           "our published schema", 400)
        default = rules[0]["ApplyServerSideEncryptionByDefault"]
        if default["SSEAlgorithm"] not in SSE_ALGORITHMS:
            if default["SSEAlgorithm"].startswith("aws:kms"):
                raise _not_implemented("SSEAlgorithm")
            raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against "
                           "our published schema", 400)
        if default["SSEAlgorithm"] == "AES256" and default.get("KMSMasterKeyID"):
            raise _invalid_argument("a KMSMasterKeyID is not applicable if the default sse algorithm is not "
                                    "aws:kms or aws:kms:dsse", "ApplyServerSideEncryptionByDefault", "null")
        rule = {"ApplyServerSideEncryptionByDefault": dict(default),
                "BucketKeyEnabled": bool(rules[0].get("BucketKeyEnabled"))}
        bucket["encryption"] = rule
        return {}

    def DeleteBucketEncryption(self, ctx, params):
        bucket = self._bucket_for(ctx, params, "s3:PutEncryptionConfiguration")
        bucket["encryption"] = None  # back to SSE-S3
        return {}

    def _owner_only(self, ctx, params, action):
        """Bucket policy operations: allowed callers of another account than the owner's get 405."""
        bucket = self._bucket_for(ctx, params, action)
        if ctx.account != bucket["account"]:
            raise AwsError("MethodNotAllowed", "The specified method is not allowed against this resource.",
                           405, fields={"Method": ctx.operation, "ResourceType": "BUCKETPOLICY"})
        return bucket

    def PutBucketPolicy(self, ctx, params):
        bucket = self._owner_only(ctx, params, "s3:PutBucketPolicy")
        text = params["Policy"]
        try:
            doc = parse_policy(text, kind="resource")
        except PolicyError as exc:
            if not text.lstrip().startswith("{"):
                raise _malformed_policy("Policies must be valid JSON and the first byte must be '{'")
            raise _malformed_policy(str(exc))
        arn = self._arn(bucket)
        for st in doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]:
            resources = st.get("Resource", st.get("NotResource"))
            for resource in resources if isinstance(resources, list) else [resources]:
                if not isinstance(resource, str) or not (resource == arn or resource.startswith(arn + "/")):
                    raise _malformed_policy("Policy has invalid resource")
        if self.emu.services["iam"].unknown_role_principal(doc) is not None:
            raise _malformed_policy("Invalid principal in policy")
        bucket["policy"] = (text, doc)
        return {}

    def GetBucketPolicy(self, ctx, params):
        bucket = self._owner_only(ctx, params, "s3:GetBucketPolicy")
        if not bucket["policy"]:
            raise AwsError("NoSuchBucketPolicy", "The bucket policy does not exist", 404,
                           fields={"BucketName": bucket["name"]})
        return {"Policy": bucket["policy"][0]}

    def DeleteBucketPolicy(self, ctx, params):
        bucket = self._owner_only(ctx, params, "s3:DeleteBucketPolicy")
        bucket["policy"] = None
        return {}

    # ------------------------------------------------------------------ objects
    def PutObject(self, ctx, params):
        key = params["Key"]
        if_match, if_none_match = params.get("IfMatch"), params.get("IfNoneMatch")
        conditions = {"s3:if-match": if_match, "s3:if-none-match": if_none_match,
                      "s3:x-amz-server-side-encryption": params.get("ServerSideEncryption"),
                      "s3:x-amz-server-side-encryption-aws-kms-key-id": params.get("SSEKMSKeyId")}
        bucket = self._bucket_for(ctx, params, "s3:PutObject", key, conditions)
        self._refuse_unsupported(ctx, params)
        if params.get("ACL") not in (None, "bucket-owner-full-control") or any(params.get(m) for m in GRANT_MEMBERS):
            raise AwsError("AccessControlListNotSupported", "The bucket does not allow ACLs", 400)
        if len(key.encode("utf-8")) > MAX_KEY_BYTES:
            raise AwsError("KeyTooLongError", "Your key is too long", 400,
                           fields={"Size": len(key.encode("utf-8")), "MaxSizeAllowed": MAX_KEY_BYTES})
        body = params.get("Body") or b""
        digest = hashlib.md5(body).digest()
        if params.get("ContentMD5") is not None:
            try:
                claimed = base64.b64decode(params["ContentMD5"], validate=True)
            except ValueError:
                claimed = b""
            if len(claimed) != 16:
                raise AwsError("InvalidDigest", "The Content-MD5 you specified was invalid.", 400,
                               fields={"Content-MD5": params["ContentMD5"]})
            if claimed != digest:
                raise AwsError("BadDigest", "The Content-MD5 you specified did not match what we received.", 400,
                               fields={"ExpectedDigest": claimed.hex(), "CalculatedDigest":
                                       base64.b64encode(digest).decode("ascii")})
        metadata = {k.lower(): v for k, v in (params.get("Metadata") or {}).items()}
        if sum(len(k) + len(v) for k, v in metadata.items()) > MAX_METADATA_BYTES:
            raise AwsError("MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size",
                           400, fields={"MaxSizeAllowed": MAX_METADATA_BYTES})
        sse, kms_key, bucket_key = self._encryption_for(ctx, bucket, params)
        if if_match is not None or if_none_match is not None:
            self._check_write_conditions(bucket, key, if_match, if_none_match)
        version = {"key": key, "version_id": self._new_version_id(bucket), "delete_marker": False,
                   "body": body, "etag": '"%s"' % digest.hex(), "size": len(body),
                   "last_modified": float(int(self.emu.now())),
                   "content_type": params.get("ContentType") or "binary/octet-stream", "metadata": metadata,
                   "content": {m: params[m] for m in CONTENT_MEMBERS if params.get(m) is not None},
                   "sse": sse, "kms_key": kms_key, "bucket_key": bucket_key,
                   "storage_class": params.get("StorageClass") or "STANDARD"}
        self._store(bucket, version)
        out = {"ETag": version["etag"], "ServerSideEncryption": sse}
        if kms_key:
            out["SSEKMSKeyId"] = kms_key
            if bucket_key:
                out["BucketKeyEnabled"] = True
        if bucket["versioning"]:
            out["VersionId"] = version["version_id"]
        return out

    def _check_write_conditions(self, bucket, key, if_match, if_none_match):
        """PutObject's If-Match / If-None-Match against the key's current object."""
        if if_match is not None and if_none_match is not None:
            raise _not_implemented("If-None-Match")
        if if_none_match is not None and if_none_match.strip() != "*":
            raise _not_implemented("If-None-Match")
        self._consume_conflict(bucket, key)
        current = self._current(bucket, key)
        exists = current is not None and not current["delete_marker"]
        if if_none_match is not None and exists:
            raise _precondition_failed("If-None-Match")
        if if_match is not None:
            if not exists:
                raise _no_key(key)
            if not _etag_matches(if_match, current["etag"]):
                raise _precondition_failed("If-Match")

    def _read(self, ctx, params, head):
        """GetObject / HeadObject: the version asked for, its read conditions checked."""
        key, version_id = params["Key"], params.get("VersionId")
        action = "s3:GetObject" if version_id is None else "s3:GetObjectVersion"
        bucket = self._bucket_for(ctx, params, action, key)
        self._refuse_unsupported(ctx, params)
        if version_id is None:
            version = self._current(bucket, key)
            if version is None:
                raise self._missing_object(ctx, bucket, key)
            if version["delete_marker"]:
                raise self._missing_object(ctx, bucket, key, self._marker_headers(bucket, version))
        else:
            version = self._find_version(bucket, key, version_id)
            if version is None:
                raise AwsError("NoSuchVersion", "The specified version does not exist.", 404,
                               fields={"Key": key, "VersionId": version_id})
            if version["delete_marker"]:
                headers = self._marker_headers(bucket, version)
                headers["Last-Modified"] = _http_date(version["last_modified"])
                raise AwsError("MethodNotAllowed", "The specified method is not allowed against this resource.",
                               405, fields={"Method": "HEAD" if head else "GET", "ResourceType": "DeleteMarker"},
                               headers=headers)
        self._check_read_conditions(params, version)
        if not head and version["kms_key"]:
            self._kms_use(ctx, bucket, version["kms_key"], "kms:Decrypt")
        return self._object_reply(bucket, version, head)

    @staticmethod
    def _check_read_conditions(params, version):
        """RFC 7232's order, as S3 documents it: If-Match (or else If-Unmodified-Since) -> 412;
        If-None-Match (or else If-Modified-Since) -> 304."""
        modified = version["last_modified"]
        if params.get("IfMatch") is not None:
            if not _etag_matches(params["IfMatch"], version["etag"]):
                raise _precondition_failed("If-Match")
        elif params.get("IfUnmodifiedSince") is not None and modified > params["IfUnmodifiedSince"].timestamp():
            raise _precondition_failed("If-Unmodified-Since")
        not_modified = AwsError("NotModified", "Not Modified", 304,
                                headers={"ETag": version["etag"], "Last-Modified": _http_date(modified)})
        if params.get("IfNoneMatch") is not None:
            if _etag_matches(params["IfNoneMatch"], version["etag"]):
                raise not_modified
        elif params.get("IfModifiedSince") is not None and modified <= params["IfModifiedSince"].timestamp():
            raise not_modified

    def GetObject(self, ctx, params):
        return self._read(ctx, params, head=False)

    def HeadObject(self, ctx, params):
        return self._read(ctx, params, head=True)

    def DeleteObject(self, ctx, params):
        key, version_id, if_match = params["Key"], params.get("VersionId"), params.get("IfMatch")
        action = "s3:DeleteObject" if version_id is None else "s3:DeleteObjectVersion"
        bucket = self._bucket_for(ctx, params, action, key, {"s3:if-match": if_match})
        self._refuse_unsupported(ctx, params)
        if if_match is not None:
            if if_match.strip() != "*":  # comparing ETags reads the object
                self._authorize(ctx, bucket, "s3:GetObject", key)
            self._consume_conflict(bucket, key)
            current = self._current(bucket, key)
            if current is None or current["delete_marker"]:
                raise _no_key(key)
            if not _etag_matches(if_match, current["etag"]):
                raise _precondition_failed("If-Match")
        versions = bucket["objects"].get(key, [])
        if version_id is not None:
            version = self._find_version(bucket, key, version_id)
            if version is None:
                return {"VersionId": version_id}
            versions.remove(version)
            if not versions:
                del bucket["objects"][key]
            return {"VersionId": version_id, "DeleteMarker": version["delete_marker"] or None}
        if bucket["versioning"] is None:
            bucket["objects"].pop(key, None)
            return {}
        marker = {"key": key, "version_id": self._new_version_id(bucket), "delete_marker": True,
                  "last_modified": float(int(self.emu.now())), "etag": None, "size": 0}
        self._store(bucket, marker)
        return {"DeleteMarker": True, "VersionId": marker["version_id"]}

    def _list_arguments(self, params):
        max_keys = params.get("MaxKeys", MAX_KEYS)
        if max_keys < 0:
            raise _invalid_argument("Argument maxKeys must be an integer between 0 and 2147483647", "maxKeys",
                                    max_keys)
        encoding = params.get("EncodingType")
        if encoding not in (None, "url"):
            raise _invalid_argument("Invalid Encoding Method specified in Request", "encoding-type", encoding)
        encode = _url_encode if encoding == "url" else (lambda value: value)
        return params.get("Prefix") or "", params.get("Delimiter") or "", min(max_keys, MAX_KEYS), encode

    def _list_bucket(self, ctx, params, action):
        conditions = {"s3:prefix": params.get("Prefix") or "", "s3:delimiter": params.get("Delimiter"),
                      "s3:max-keys": params.get("MaxKeys")}
        return self._bucket_for(ctx, params, action, conditions=conditions)

    def ListObjectsV2(self, ctx, params):
        bucket = self._list_bucket(ctx, params, "s3:ListBucket")
        self._refuse_unsupported(ctx, params)
        prefix, delimiter, max_keys, encode = self._list_arguments(params)
        after = params.get("StartAfter")
        if params.get("ContinuationToken") is not None:
            after = max(after or "", _token_value(params["ContinuationToken"]))
        current = [(key, versions[0]) for key, versions in sorted(bucket["objects"].items())
                   if not versions[0]["delete_marker"] and (after is None or key > after)]
        if after is not None and delimiter and after.endswith(delimiter):  # a common prefix listed before
            current = [(key, v) for key, v in current if not key.startswith(after)]
        entries, truncated = _roll_up(current, prefix, delimiter, max_keys)
        owner = {"ID": canonical_user_id(bucket["account"])} if params.get("FetchOwner") else None
        contents = [{"Key": encode(key), "LastModified": v["last_modified"], "ETag": v["etag"], "Size": v["size"],
                     "StorageClass": v["storage_class"], "Owner": owner} for key, v in entries if v is not None]
        out = {"Name": bucket["name"], "Prefix": encode(prefix), "Delimiter": encode(delimiter or None),
               "MaxKeys": max_keys, "KeyCount": len(entries), "IsTruncated": truncated,
               "Contents": contents or None, "EncodingType": params.get("EncodingType"),
               "CommonPrefixes": [{"Prefix": encode(key)} for key, v in entries if v is None] or None,
               "ContinuationToken": params.get("ContinuationToken"), "StartAfter": encode(params.get("StartAfter"))}
        if truncated:
            out["NextContinuationToken"] = _list_token(entries[-1][0])
        return out

    def ListObjectVersions(self, ctx, params):
        bucket = self._list_bucket(ctx, params, "s3:ListBucketVersions")
        prefix, delimiter, max_keys, encode = self._list_arguments(params)
        key_marker, id_marker = params.get("KeyMarker"), params.get("VersionIdMarker")
        every = []  # (key, (version, is latest)), newest first within a key
        for key, versions in sorted(bucket["objects"].items()):
            items = [(v, i == 0) for i, v in enumerate(versions)]
            if id_marker and key == key_marker:  # resume after that version of the marker's key
                ids = [v["version_id"] for v in versions]
                items = items[ids.index(id_marker) + 1:] if id_marker in ids else []
            elif key_marker is not None and key <= key_marker:
                continue
            every.extend((key, item) for item in items)
        entries, truncated = _roll_up(every, prefix, delimiter, max_keys)
        out = {"Name": bucket["name"], "Prefix": encode(prefix), "Delimiter": encode(delimiter or None),
               "MaxKeys": max_keys, "IsTruncated": truncated, "EncodingType": params.get("EncodingType"),
               "KeyMarker": encode(key_marker or ""), "VersionIdMarker": id_marker or ""}
        versions, markers = [], []
        for key, item in entries:
            if item is None:
                continue
            version, latest = item
            entry = {"Key": encode(key), "VersionId": version["version_id"], "IsLatest": latest,
                     "LastModified": version["last_modified"],
                     "Owner": {"ID": canonical_user_id(bucket["account"])}}
            if version["delete_marker"]:
                markers.append(entry)
            else:
                entry.update({"ETag": version["etag"], "Size": version["size"],
                              "StorageClass": version["storage_class"]})
                versions.append(entry)
        out["Versions"] = versions or None
        out["DeleteMarkers"] = markers or None
        out["CommonPrefixes"] = [{"Prefix": encode(key)} for key, item in entries if item is None] or None
        if truncated:
            key, item = entries[-1]
            out["NextKeyMarker"] = encode(key)
            if item is not None:
                out["NextVersionIdMarker"] = item[0]["version_id"]
        return out

    # ------------------------------------------------------------------ control API
    def control_routes(self):
        return {("GET", "/_emu/s3/objects"): self._ctl_objects,
                ("POST", "/_emu/s3/conflicts"): self._ctl_conflicts}

    def _ctl_objects(self, body):
        name = (body or {}).get("bucket")
        if not name:
            return 400, {"error": "bucket is required"}
        with self.emu.lock:
            bucket = self.buckets.get(name)
            if bucket is None:
                return 404, {"error": "no such bucket %s" % name}
            objects = []
            for key, versions in sorted(bucket["objects"].items()):
                for i, v in enumerate(versions):
                    objects.append({"key": key, "version_id": v["version_id"], "is_latest": i == 0,
                                    "delete_marker": v["delete_marker"], "etag": v["etag"], "size": v["size"],
                                    "sse": v.get("sse"), "kms_key": v.get("kms_key"),
                                    "last_modified": v["last_modified"], "content_type": v.get("content_type"),
                                    "metadata": dict(v.get("metadata") or {})})
            return 200, {"bucket": name, "account": bucket["account"], "region": bucket["region"],
                         "versioning": bucket["versioning"], "objects": objects}

    def _ctl_conflicts(self, body):
        body = body or {}
        try:
            name, key, count = body["bucket"], body["key"], int(body.get("count", 1))
        except (KeyError, TypeError, ValueError):
            return 400, {"error": "bucket, key and count (a number >= 0) are required"}
        if count < 0:
            return 400, {"error": "count must be >= 0"}
        with self.emu.lock:
            if name not in self.buckets:
                return 404, {"error": "no such bucket %s" % name}
            self.conflicts[(name, key)] = count
        return 200, {"bucket": name, "key": key, "count": count}

    def inventory(self):
        out = []
        with self.emu.lock:
            for name, bucket in sorted(self.buckets.items()):
                rule = bucket["encryption"] or DEFAULT_ENCRYPTION
                out.append({"account": bucket["account"], "region": bucket["region"], "type": "s3:bucket",
                            "id": name, "versioning": bucket["versioning"],
                            "encryption": rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"],
                            "policy": bucket["policy"] is not None,
                            "objects": sum(1 for v in bucket["objects"].values() if not v[0]["delete_marker"])})
        return out


def _http_date(epoch_s):
    return email.utils.formatdate(epoch_s, usegmt=True)
