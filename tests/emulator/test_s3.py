"""S3 in the emulator, through boto3 (path-style and virtual-hosted) and raw signed requests:
buckets and their Region, objects and their headers, ListObjectsV2 and ListObjectVersions,
versioning, default encryption and SSE-KMS, conditional writes and deletes (412, 404, 409
ConditionalRequestConflict through the control route), S3's SigV4 rules (x-amz-content-sha256,
UNSIGNED-PAYLOAD logged) and authentication errors, authorisation by role and across accounts
with bucket policies, the control routes and the inventory."""

import hashlib
import http.client
import json
import os
import sys
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import botocore.auth  # noqa: E402
import botocore.awsrequest  # noqa: E402
import botocore.credentials  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from emu import core  # noqa: E402
from harness import ACCOUNT_A, ACCOUNT_B, EmulatorCase  # noqa: E402

R = "us-east-1"
EU = "eu-west-1"
PATH = {"addressing_style": "path"}
VIRTUAL = {"addressing_style": "virtual"}
TRUST_A = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT_A}, "Action": "sts:AssumeRole"}]})


def code_of(cm):
    return cm.exception.response["Error"]["Code"]


def status_of(cm):
    return cm.exception.response["ResponseMetadata"]["HTTPStatusCode"]


def error_of(cm):
    return cm.exception.response["Error"]


def allow(actions, resources):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": actions, "Resource": resources}]})


def bucket_policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class _KeepPayloadHash(botocore.auth.S3SigV4Auth):
    """S3SigV4Auth that signs the X-Amz-Content-SHA256 header the test sets (S3SigV4Auth would
    replace it with the body's hash)."""

    def _modify_request_before_signing(self, request):
        botocore.auth.SigV4Auth._modify_request_before_signing(self, request)


class _Base(EmulatorCase):
    bucket = "emu-state-bucket"

    def setUp(self):
        super().setUp()
        self.s3 = self.h.client("s3", ACCOUNT_A, R, s3=PATH)

    def make_bucket(self, name=None, client=None, region=R):
        client = client or self.s3
        config = {} if region == R else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        client.create_bucket(Bucket=name or self.bucket, **config)
        return name or self.bucket

    def role_credentials(self, name, policy, account=ACCOUNT_A):
        """Credentials of a role of the account with one inline policy."""
        iam = self.h.client("iam", account, R)
        trust = TRUST_A.replace(ACCOUNT_A, account)
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=policy)
        sts = self.h.client("sts", account, R)
        return sts.assume_role(RoleArn="arn:aws:iam::%s:role/%s" % (account, name),
                               RoleSessionName="sess")["Credentials"]

    def put(self, key, body, client=None, bucket=None, headers=None, **kw):
        """PutObject with extra request headers (botocore 1.29 knows no If-Match/If-None-Match)."""
        client = client or self.s3

        def add_headers(request, **_kwargs):
            for name, value in (headers or {}).items():
                request.headers[name] = value
        client.meta.events.register_first("before-sign.s3.PutObject", add_headers)
        try:
            return client.put_object(Bucket=bucket or self.bucket, Key=key, Body=body, **kw)
        finally:
            client.meta.events.unregister("before-sign.s3.PutObject", add_headers)

    def delete(self, key, if_match, client=None):
        client = client or self.s3

        def add_header(request, **_kwargs):
            request.headers["If-Match"] = if_match
        client.meta.events.register_first("before-sign.s3.DeleteObject", add_header)
        try:
            return client.delete_object(Bucket=self.bucket, Key=key)
        finally:
            client.meta.events.unregister("before-sign.s3.DeleteObject", add_header)

    def raw(self, method, path, body=b"", headers=None, host=None, query="", payload_hash=None,
            account=ACCOUNT_A, region=R, credentials=None, sign=True):
        """One request over http.client with an explicit Host, signed as S3 signs -> (status,
        headers, body). payload_hash: the X-Amz-Content-SHA256 to send (default the body's; False
        sends none)."""
        host = host or "127.0.0.1:%d" % self.h.server.port
        hdrs = {"Host": host}
        hdrs.update(headers or {})
        if payload_hash is not False:
            hdrs["X-Amz-Content-SHA256"] = payload_hash or hashlib.sha256(body).hexdigest()
        target = path + ("?" + query if query else "")
        if sign:
            if credentials is None:
                ak, sk = self.h.emu.root_keys[account]
                creds = botocore.credentials.Credentials(ak, sk)
            else:
                creds = botocore.credentials.Credentials(credentials["AccessKeyId"], credentials["SecretAccessKey"],
                                                         credentials.get("SessionToken"))
            request = botocore.awsrequest.AWSRequest(method=method, url="http://%s%s" % (host, target),
                                                     data=body, headers=hdrs)
            _KeepPayloadHash(creds, "s3", region).add_auth(request)
            hdrs = dict(request.headers.items())
        conn = http.client.HTTPConnection("127.0.0.1", self.h.server.port, timeout=10)
        try:
            conn.request(method, target, body=body, headers=hdrs)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def objects(self, bucket=None):
        status, body = self.h.control("GET", "/_emu/s3/objects?bucket=" + (bucket or self.bucket))
        self.assertEqual(status, 200, body)
        return body["objects"]

    def log(self):
        return self.h.control("GET", "/_emu/requests")[1]["requests"]


class BucketTest(_Base):
    def test_create_list_head_location_delete(self):
        self.make_bucket()
        eu = self.h.client("s3", ACCOUNT_A, EU, s3=PATH)
        self.make_bucket("emu-eu-bucket", eu, EU)
        names = [b["Name"] for b in self.s3.list_buckets()["Buckets"]]
        self.assertEqual(names, ["emu-eu-bucket", "emu-state-bucket"])   # every Region, by name
        self.assertEqual(self.h.client("s3", ACCOUNT_B, R).list_buckets()["Buckets"], [])
        head = self.s3.head_bucket(Bucket=self.bucket)["ResponseMetadata"]["HTTPHeaders"]
        self.assertEqual(head["x-amz-bucket-region"], R)
        self.assertIsNone(self.s3.get_bucket_location(Bucket=self.bucket)["LocationConstraint"])
        # GetBucketLocation answers from any Region
        self.assertEqual(self.s3.get_bucket_location(Bucket="emu-eu-bucket")["LocationConstraint"], EU)
        # the reply document: S3's namespace, the Region as the root's text
        status, _h, body = self.raw("GET", "/emu-eu-bucket", query="location")
        self.assertEqual(status, 200)
        self.assertIn(b'<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">eu-west-1'
                      b'</LocationConstraint>', body)
        # re-creating one's own bucket: 200 in us-east-1 (legacy), 409 elsewhere; another account's: 409
        self.s3.create_bucket(Bucket=self.bucket)
        with self.assertRaises(ClientError) as cm:
            self.make_bucket("emu-eu-bucket", eu, EU)
        self.assertEqual((status_of(cm), code_of(cm)), (409, "BucketAlreadyOwnedByYou"))
        with self.assertRaises(ClientError) as cm:
            self.h.client("s3", ACCOUNT_B, R).create_bucket(Bucket=self.bucket)
        self.assertEqual((status_of(cm), code_of(cm)), (409, "BucketAlreadyExists"))
        self.assertEqual(error_of(cm)["BucketName"], self.bucket)
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"x")
        with self.assertRaises(ClientError) as cm:
            self.s3.delete_bucket(Bucket=self.bucket)
        self.assertEqual((status_of(cm), code_of(cm)), (409, "BucketNotEmpty"))
        self.s3.delete_object(Bucket=self.bucket, Key="k")
        resp = self.s3.delete_bucket(Bucket=self.bucket)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        for call in (lambda: self.s3.delete_bucket(Bucket=self.bucket),
                     lambda: self.s3.get_bucket_versioning(Bucket=self.bucket)):
            with self.assertRaises(ClientError) as cm:
                call()
            self.assertEqual((status_of(cm), code_of(cm)), (404, "NoSuchBucket"))
        with self.assertRaises(ClientError) as cm:   # HEAD: the status alone
            self.s3.head_bucket(Bucket=self.bucket)
        self.assertEqual((status_of(cm), code_of(cm)), (404, "404"))
        ops = [e["operation"] for e in self.log() if e["service"] == "s3"]
        self.assertIn("CreateBucket", ops)
        self.assertIn("HeadBucket", ops)

    def test_location_constraints_and_names(self):
        eu = self.h.client("s3", ACCOUNT_A, EU, s3=PATH)
        with self.assertRaises(ClientError) as cm:   # a regional endpoint, no constraint
            eu.create_bucket(Bucket="emu-b1")
        self.assertEqual((status_of(cm), code_of(cm)), (400, "IllegalLocationConstraintException"))
        self.assertIn("unspecified location constraint is incompatible", error_of(cm)["Message"])
        with self.assertRaises(ClientError) as cm:   # another Region's constraint
            self.make_bucket("emu-b1", eu, "us-west-2")
        self.assertEqual(code_of(cm), "IllegalLocationConstraintException")
        with self.assertRaises(ClientError) as cm:
            self.s3.create_bucket(Bucket="emu-b1", CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
        self.assertEqual(code_of(cm), "InvalidLocationConstraint")
        # us-east-1 (the global endpoint) makes a bucket in another Region
        self.make_bucket("emu-b2", self.s3, "us-west-2")
        self.assertEqual(self.s3.get_bucket_location(Bucket="emu-b2")["LocationConstraint"], "us-west-2")
        for name in ("ab", "A-bucket", "bucket_x", "-bucket", "bucket-", "a..b", "192.168.1.1", "x" * 64,
                     "xn--bucket", "bucket-s3alias"):
            with self.subTest(name=name), self.assertRaises(ClientError) as cm:
                self.h.client("s3", ACCOUNT_A, R, s3=PATH, validate=False).create_bucket(Bucket=name)
            self.assertEqual((status_of(cm), code_of(cm)), (400, "InvalidBucketName"))

    def test_bucket_of_another_region_redirects(self):
        eu = self.h.client("s3", ACCOUNT_A, EU, s3=PATH)
        self.make_bucket("emu-eu-bucket", eu, EU)
        status, headers, body = self.raw("GET", "/emu-eu-bucket", query="list-type=2")
        self.assertEqual((status, headers["x-amz-bucket-region"]), (301, EU))
        self.assertIn(b"<Code>PermanentRedirect</Code>", body)
        status, headers, body = self.raw("HEAD", "/emu-eu-bucket")
        self.assertEqual((status, headers["x-amz-bucket-region"], body), (301, EU, b""))
        # boto3 follows the redirect, re-signing for the bucket's Region
        self.s3.put_object(Bucket="emu-eu-bucket", Key="k", Body=b"x")
        puts = [(e["region"], e["status"], e["error"]) for e in self.log() if e["operation"] == "PutObject"]
        self.assertEqual(puts, [(R, 301, "PermanentRedirect"), (EU, 200, None)])
        self.assertEqual(eu.get_object(Bucket="emu-eu-bucket", Key="k")["Body"].read(), b"x")


class ObjectTest(_Base):
    def setUp(self):
        super().setUp()
        self.make_bucket()

    def check_roundtrip(self, client, key, body):
        put = client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json",
                                Metadata={"Serial": "7"}, CacheControl="no-cache")
        etag = '"%s"' % hashlib.md5(body).hexdigest()
        self.assertEqual(put["ETag"], etag)
        self.assertEqual(put["ServerSideEncryption"], "AES256")
        self.assertNotIn("VersionId", put)   # a bucket never versioned
        got = client.get_object(Bucket=self.bucket, Key=key)
        self.assertEqual(got["Body"].read(), body)
        self.assertEqual((got["ETag"], got["ContentType"], got["Metadata"], got["CacheControl"]),
                         (etag, "application/json", {"serial": "7"}, "no-cache"))
        head = client.head_object(Bucket=self.bucket, Key=key)
        self.assertEqual((head["ContentLength"], head["ETag"], head["ServerSideEncryption"]),
                         (len(body), etag, "AES256"))
        self.assertIn("LastModified", head)

    def test_roundtrip_both_addressing_styles(self):
        virtual = self.h.client("s3", ACCOUNT_A, R, s3=VIRTUAL)
        for client in (self.s3, virtual):
            for key in ("state/prod.json", "dir/a b+c~d%e=f&g.txt", "caf\u00e9/\u00fcber", "trailing/", "k"):
                with self.subTest(key=key, client=client.meta.endpoint_url):
                    self.check_roundtrip(client, key, b'{"serial": 7}')
        self.check_roundtrip(self.s3, "empty", b"")
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="k")["ContentLength"], 13)
        # a key in the Host's bucket: BUCKET.s3.localhost, BUCKET.s3.REGION.amazonaws.com, BUCKET.s3.amazonaws.com
        port = self.h.server.port
        for host in ("%s.s3.localhost:%d" % (self.bucket, port), "%s.localhost:%d" % (self.bucket, port),
                     "%s.s3.us-east-1.amazonaws.com" % self.bucket, "%s.s3.amazonaws.com" % self.bucket):
            with self.subTest(host=host):
                status, _h, body = self.raw("GET", "/state/prod.json", host=host)
                self.assertEqual((status, body), (200, b'{"serial": 7}'))
                # the log says how it was addressed
                last = self.log()[-1]
                self.assertEqual((last["host"], last["path"]), (host, "/state/prod.json"))
                status, _h, body = self.raw("GET", "/", host=host, query="list-type=2&prefix=state%2F")
                self.assertEqual(status, 200)
                self.assertIn(b"<Key>state/prod.json</Key>", body)
        # path-style on the S3 names too
        status, _h, body = self.raw("GET", "/%s/state/prod.json" % self.bucket, host="s3.localhost:%d" % port)
        self.assertEqual((status, body), (200, b'{"serial": 7}'))
        last = self.log()[-1]
        self.assertEqual((last["host"], last["path"]),
                         ("s3.localhost:%d" % port, "/%s/state/prod.json" % self.bucket))
        status, _h, body = self.raw("GET", "/%s/k" % self.bucket, host="s3.eu-west-1.amazonaws.com")
        self.assertEqual(status, 200)

    def test_errors_as_s3_answers_them(self):
        status, headers, body = self.raw("GET", "/%s/missing" % self.bucket)
        self.assertEqual((status, headers["content-type"]), (404, "application/xml"))
        self.assertTrue(body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>'
                                        b'<Message>The specified key does not exist.</Message><Key>missing</Key>'
                                        b'<RequestId>'), body)
        doc = ET.fromstring(body)
        self.assertEqual(doc.findtext("RequestId"), headers["x-amz-request-id"])
        self.assertEqual(doc.findtext("HostId"), headers["x-amz-id-2"])
        status, _h, body = self.raw("HEAD", "/%s/missing" % self.bucket)
        self.assertEqual((status, body), (404, b""))
        status, _h, body = self.raw("GET", "/no-such-bucket-here/k")
        self.assertEqual(status, 404)
        self.assertIn(b"<Code>NoSuchBucket</Code>", body)
        self.assertIn(b"<BucketName>no-such-bucket-here</BucketName>", body)
        # not emulated: refused
        with self.assertRaises(ClientError) as cm:
            self.s3.put_bucket_tagging(Bucket=self.bucket, Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
        self.assertEqual((status_of(cm), code_of(cm)), (501, "NotImplemented"))
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"0123456789")
        with self.assertRaises(ClientError) as cm:
            self.s3.get_object(Bucket=self.bucket, Key="k", Range="bytes=0-1")
        self.assertEqual((status_of(cm), error_of(cm).get("Header")), (501, "Range"))
        with self.assertRaises(ClientError) as cm:
            self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"x", ACL="public-read")
        self.assertEqual(code_of(cm), "AccessControlListNotSupported")
        with self.assertRaises(ClientError) as cm:
            self.s3.put_object(Bucket=self.bucket, Key="x" * 1025, Body=b"x")
        self.assertEqual(code_of(cm), "KeyTooLongError")
        status, _h, body = self.raw("PUT", "/%s/k" % self.bucket, body=b"abc",
                                    headers={"Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="})
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>BadDigest</Code>", body)
        status, _h, body = self.raw("PUT", "/%s" % self.bucket, query="versioning", body=b"<Nope/>")
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>MalformedXML</Code>", body)

    def test_read_conditions(self):
        etag = self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"v1")["ETag"]
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="k", IfMatch=etag)["Body"].read(), b"v1")
        with self.assertRaises(ClientError) as cm:
            self.s3.get_object(Bucket=self.bucket, Key="k", IfMatch='"0000"')
        self.assertEqual((status_of(cm), code_of(cm)), (412, "PreconditionFailed"))
        with self.assertRaises(ClientError) as cm:
            self.s3.get_object(Bucket=self.bucket, Key="k", IfNoneMatch=etag)
        self.assertEqual(status_of(cm), 304)
        with self.assertRaises(ClientError) as cm:
            self.s3.head_object(Bucket=self.bucket, Key="k", IfMatch='"0000"')
        self.assertEqual(status_of(cm), 412)

    def test_list_objects_v2(self):
        keys = ["a/1", "a/2", "a/b/3", "b/1", "c", "d e+f"]
        for key in keys:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=key.encode())
        out = self.s3.list_objects_v2(Bucket=self.bucket)
        self.assertEqual([o["Key"] for o in out["Contents"]], keys)   # encoding-type=url, decoded by botocore
        self.assertEqual((out["KeyCount"], out["IsTruncated"], out["Contents"][0]["Size"]), (6, False, 3))
        out = self.s3.list_objects_v2(Bucket=self.bucket, Delimiter="/")
        self.assertEqual([p["Prefix"] for p in out["CommonPrefixes"]], ["a/", "b/"])
        self.assertEqual([o["Key"] for o in out["Contents"]], ["c", "d e+f"])
        self.assertEqual(out["KeyCount"], 4)
        out = self.s3.list_objects_v2(Bucket=self.bucket, Prefix="a/", Delimiter="/")
        self.assertEqual(([o["Key"] for o in out["Contents"]], [p["Prefix"] for p in out["CommonPrefixes"]]),
                         (["a/1", "a/2"], ["a/b/"]))
        out = self.s3.list_objects_v2(Bucket=self.bucket, StartAfter="a/b/3")
        self.assertEqual([o["Key"] for o in out["Contents"]], ["b/1", "c", "d e+f"])
        # pages of 2, common prefixes counted as keys
        seen, token, pages = [], None, 0
        while True:
            kw = {"ContinuationToken": token} if token else {}
            out = self.s3.list_objects_v2(Bucket=self.bucket, Delimiter="/", MaxKeys=2, **kw)
            pages += 1
            seen += [o["Key"] for o in out.get("Contents", [])] + [p["Prefix"] for p in out.get("CommonPrefixes", [])]
            self.assertLessEqual(out["KeyCount"], 2)
            if not out["IsTruncated"]:
                break
            token = out["NextContinuationToken"]
        self.assertEqual((sorted(seen), pages), (["a/", "b/", "c", "d e+f"], 2))
        paged = [o["Key"] for page in self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, PaginationConfig={"PageSize": 4}) for o in page["Contents"]]
        self.assertEqual(paged, keys)
        with self.assertRaises(ClientError) as cm:
            self.s3.list_objects_v2(Bucket=self.bucket, ContinuationToken="bogus")
        self.assertEqual(code_of(cm), "InvalidArgument")
        status, _h, body = self.raw("GET", "/" + self.bucket, query="list-type=2&prefix=d")
        self.assertIn(b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>false'
                      b'</IsTruncated><Contents><Key>d e+f</Key>', body)


class VersioningTest(_Base):
    def setUp(self):
        super().setUp()
        self.make_bucket()

    def test_versions_and_delete_markers(self):
        self.assertNotIn("Status", self.s3.get_bucket_versioning(Bucket=self.bucket))
        status, _h, body = self.raw("GET", "/" + self.bucket, query="versioning")
        self.assertIn(b'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></Versioning'
                      b'Configuration>', body)
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"v0")   # the "null" version
        self.s3.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})
        self.assertEqual(self.s3.get_bucket_versioning(Bucket=self.bucket)["Status"], "Enabled")
        v1 = self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"v1")["VersionId"]
        v2 = self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"v2")["VersionId"]
        self.assertNotEqual(v1, v2)
        self.assertEqual(len(v1), 32)
        got = self.s3.get_object(Bucket=self.bucket, Key="k")
        self.assertEqual((got["Body"].read(), got["VersionId"]), (b"v2", v2))
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="k", VersionId=v1)["Body"].read(), b"v1")
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="k", VersionId="null")["Body"].read(), b"v0")
        deleted = self.s3.delete_object(Bucket=self.bucket, Key="k")
        self.assertTrue(deleted["DeleteMarker"])
        marker = deleted["VersionId"]
        with self.assertRaises(ClientError) as cm:
            self.s3.get_object(Bucket=self.bucket, Key="k")
        self.assertEqual(code_of(cm), "NoSuchKey")
        headers = cm.exception.response["ResponseMetadata"]["HTTPHeaders"]
        self.assertEqual((headers["x-amz-delete-marker"], headers["x-amz-version-id"]), ("true", marker))
        with self.assertRaises(ClientError) as cm:
            self.s3.get_object(Bucket=self.bucket, Key="k", VersionId=marker)
        self.assertEqual((status_of(cm), code_of(cm)), (405, "MethodNotAllowed"))
        with self.assertRaises(ClientError) as cm:
            self.s3.get_object(Bucket=self.bucket, Key="k", VersionId="Z" * 32)
        self.assertEqual(code_of(cm), "NoSuchVersion")
        self.assertEqual(self.s3.list_objects_v2(Bucket=self.bucket)["KeyCount"], 0)
        listed = self.s3.list_object_versions(Bucket=self.bucket)
        self.assertEqual([(v["VersionId"], v["IsLatest"]) for v in listed["Versions"]],
                         [(v2, False), (v1, False), ("null", False)])
        self.assertEqual([(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]], [(marker, True)])
        page = self.s3.list_object_versions(Bucket=self.bucket, MaxKeys=2)
        self.assertTrue(page["IsTruncated"])
        rest = self.s3.list_object_versions(Bucket=self.bucket, KeyMarker=page["NextKeyMarker"],
                                            VersionIdMarker=page["NextVersionIdMarker"])
        self.assertEqual([v["VersionId"] for v in rest["Versions"]], [v1, "null"])
        with self.assertRaises(ClientError) as cm:   # versions count
            self.s3.delete_bucket(Bucket=self.bucket)
        self.assertEqual(code_of(cm), "BucketNotEmpty")
        self.assertIn("delete all versions", error_of(cm)["Message"])
        # deleting the marker brings v2 back
        self.assertTrue(self.s3.delete_object(Bucket=self.bucket, Key="k", VersionId=marker)["DeleteMarker"])
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="k")["Body"].read(), b"v2")
        # Suspended: writes replace the null version
        self.s3.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Suspended"})
        self.assertEqual(self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"v3")["VersionId"], "null")
        ids = [o["version_id"] for o in self.objects()]
        self.assertEqual(ids, ["null", v2, v1])
        for version in (v2, v1, "null"):
            self.s3.delete_object(Bucket=self.bucket, Key="k", VersionId=version)
        self.s3.delete_bucket(Bucket=self.bucket)


class ConditionalWriteTest(_Base):
    def setUp(self):
        super().setUp()
        self.make_bucket()

    def body(self, key="lock"):
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def test_if_none_match(self):
        etag = self.put("lock", b"first", headers={"If-None-Match": "*"})["ETag"]
        with self.assertRaises(ClientError) as cm:
            self.put("lock", b"second", headers={"If-None-Match": "*"})
        self.assertEqual((status_of(cm), code_of(cm), error_of(cm)["Condition"]),
                         (412, "PreconditionFailed", "If-None-Match"))
        self.assertEqual(self.body(), b"first")   # the refused write changed nothing
        self.assertEqual([(o["etag"], o["size"]) for o in self.objects()], [(etag, 5)])
        with self.assertRaises(ClientError) as cm:   # only "*"
            self.put("other", b"x", headers={"If-None-Match": etag})
        self.assertEqual((status_of(cm), code_of(cm)), (501, "NotImplemented"))
        with self.assertRaises(ClientError) as cm:
            self.put("lock", b"x", headers={"If-None-Match": "*", "If-Match": etag})
        self.assertEqual(status_of(cm), 501)
        # a delete marker is no object
        self.s3.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})
        self.s3.delete_object(Bucket=self.bucket, Key="lock")
        self.put("lock", b"again", headers={"If-None-Match": "*"})
        self.assertEqual(self.body(), b"again")

    def test_if_match(self):
        etag = self.put("state", b"serial 1")["ETag"]
        new = self.put("state", b"serial 2", headers={"If-Match": etag})["ETag"]
        with self.assertRaises(ClientError) as cm:   # the ETag it replaced
            self.put("state", b"serial 3", headers={"If-Match": etag})
        self.assertEqual((status_of(cm), code_of(cm), error_of(cm)["Condition"]),
                         (412, "PreconditionFailed", "If-Match"))
        self.assertEqual(self.body("state"), b"serial 2")
        self.assertEqual([o["etag"] for o in self.objects()], [new])
        with self.assertRaises(ClientError) as cm:
            self.put("missing", b"x", headers={"If-Match": etag})
        self.assertEqual((status_of(cm), code_of(cm)), (404, "NoSuchKey"))
        self.assertEqual(len(self.objects()), 1)
        self.put("state", b"serial 3", headers={"If-Match": new.strip('"')})   # unquoted works too

    def test_conflicts_through_the_control_route(self):
        etag = self.put("lock", b"v1")["ETag"]
        status, body = self.h.control("POST", "/_emu/s3/conflicts", {"bucket": self.bucket, "key": "lock",
                                                                     "count": 2})
        self.assertEqual(status, 200, body)
        self.put("other", b"x", headers={"If-None-Match": "*"})   # another key: no conflict
        self.put("lock", b"unconditional")                        # not a conditional write
        etag = self.s3.head_object(Bucket=self.bucket, Key="lock")["ETag"]
        for _ in range(2):
            with self.assertRaises(ClientError) as cm:
                self.put("lock", b"v2", headers={"If-Match": etag})
            self.assertEqual((status_of(cm), code_of(cm)), (409, "ConditionalRequestConflict"))
            self.assertEqual(error_of(cm)["Message"], "A conflicting conditional operation is currently in "
                             "progress against this resource. Please try again.")
        self.assertEqual(self.body(), b"unconditional")
        self.put("lock", b"v2", headers={"If-Match": etag})   # the retry
        self.assertEqual(self.body(), b"v2")
        self.assertEqual(self.h.control("POST", "/_emu/s3/conflicts", {"bucket": "nope", "key": "k"})[0], 404)

    def test_conditional_delete(self):
        etag = self.put("lock", b"held")["ETag"]
        with self.assertRaises(ClientError) as cm:
            self.delete("lock", '"%s"' % ("0" * 32))
        self.assertEqual((status_of(cm), code_of(cm)), (412, "PreconditionFailed"))
        self.assertEqual(self.body(), b"held")
        with self.assertRaises(ClientError) as cm:
            self.delete("missing", etag)
        self.assertEqual((status_of(cm), code_of(cm)), (404, "NoSuchKey"))
        self.h.control("POST", "/_emu/s3/conflicts", {"bucket": self.bucket, "key": "lock", "count": 1})
        with self.assertRaises(ClientError) as cm:
            self.delete("lock", etag)
        self.assertEqual(status_of(cm), 409)
        self.assertEqual(self.delete("lock", etag)["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertEqual(self.objects(), [])
        self.put("lock", b"again")
        self.delete("lock", "*")
        with self.assertRaises(ClientError) as cm:
            self.delete("lock", "*")
        self.assertEqual(code_of(cm), "NoSuchKey")
        # unconditional deletes of what is not there: 204
        self.assertEqual(self.s3.delete_object(Bucket=self.bucket, Key="lock")["ResponseMetadata"]
                         ["HTTPStatusCode"], 204)
        # comparing an ETag reads the object: s3:GetObject as well as s3:DeleteObject
        etag = self.put("lock", b"held")["ETag"]
        deleter = self.h.client("s3", credentials=self.role_credentials("deleter", allow(
            "s3:DeleteObject", "arn:aws:s3:::%s/*" % self.bucket)), s3=PATH)
        with self.assertRaises(ClientError) as cm:
            self.delete("lock", etag, client=deleter)
        self.assertEqual(code_of(cm), "AccessDenied")
        self.assertIn("s3:GetObject", error_of(cm)["Message"])
        self.delete("lock", "*", client=deleter)


class EncryptionTest(_Base):
    def setUp(self):
        super().setUp()
        self.make_bucket()
        self.kms = self.h.client("kms", ACCOUNT_A, R)
        self.key = self.kms.create_key()["KeyMetadata"]
        self.kms.create_alias(AliasName="alias/state", TargetKeyId=self.key["KeyId"])

    def test_sse_kms_echo_and_default(self):
        put = self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"x", ServerSideEncryption="aws:kms",
                                 SSEKMSKeyId="alias/state")
        self.assertEqual((put["ServerSideEncryption"], put["SSEKMSKeyId"]), ("aws:kms", self.key["Arn"]))
        for reply in (self.s3.get_object(Bucket=self.bucket, Key="k"),
                      self.s3.head_object(Bucket=self.bucket, Key="k")):
            self.assertEqual((reply["ServerSideEncryption"], reply["SSEKMSKeyId"]), ("aws:kms", self.key["Arn"]))
        # without a key id: the caller's AWS managed aws/s3 key
        put = self.s3.put_object(Bucket=self.bucket, Key="k2", Body=b"x", ServerSideEncryption="aws:kms")
        aws_s3 = self.kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
        self.assertEqual((put["SSEKMSKeyId"], aws_s3["KeyManager"]), (aws_s3["Arn"], "AWS"))
        # the bucket's default encryption
        self.assertEqual(self.s3.get_bucket_encryption(Bucket=self.bucket)["ServerSideEncryptionConfiguration"]
                         ["Rules"][0]["ApplyServerSideEncryptionByDefault"], {"SSEAlgorithm": "AES256"})
        self.s3.put_bucket_encryption(Bucket=self.bucket, ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": self.key["KeyId"]},
            "BucketKeyEnabled": True}]})
        put = self.s3.put_object(Bucket=self.bucket, Key="k3", Body=b"x")
        self.assertEqual((put["ServerSideEncryption"], put["SSEKMSKeyId"], put["BucketKeyEnabled"]),
                         ("aws:kms", self.key["Arn"], True))
        put = self.s3.put_object(Bucket=self.bucket, Key="k4", Body=b"x", ServerSideEncryption="AES256")
        self.assertNotIn("SSEKMSKeyId", put)
        self.s3.delete_bucket_encryption(Bucket=self.bucket)
        self.assertEqual(self.s3.put_object(Bucket=self.bucket, Key="k5", Body=b"x")["ServerSideEncryption"],
                         "AES256")
        self.assertEqual({o["key"]: o["sse"] for o in self.objects()},
                         {"k": "aws:kms", "k2": "aws:kms", "k3": "aws:kms", "k4": "AES256", "k5": "AES256"})

    def test_kms_refusals(self):
        with self.assertRaises(ClientError) as cm:
            self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"x", ServerSideEncryption="aws:kms",
                               SSEKMSKeyId="alias/missing")
        self.assertEqual((status_of(cm), code_of(cm)), (400, "KMS.NotFoundException"))
        with self.assertRaises(ClientError) as cm:
            self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"x", SSEKMSKeyId=self.key["Arn"])
        self.assertEqual(code_of(cm), "InvalidArgument")
        self.kms.disable_key(KeyId=self.key["KeyId"])
        with self.assertRaises(ClientError) as cm:
            self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"x", ServerSideEncryption="aws:kms",
                               SSEKMSKeyId=self.key["Arn"])
        self.assertEqual(code_of(cm), "KMS.DisabledException")
        self.kms.enable_key(KeyId=self.key["KeyId"])
        arn = "arn:aws:s3:::%s/*" % self.bucket
        writer = self.role_credentials("writer", allow(["s3:PutObject", "s3:GetObject"], arn))
        client = self.h.client("s3", credentials=writer, s3=PATH)
        with self.assertRaises(ClientError) as cm:   # no kms:GenerateDataKey on the key
            client.put_object(Bucket=self.bucket, Key="k", Body=b"x", ServerSideEncryption="aws:kms",
                              SSEKMSKeyId=self.key["Arn"])
        self.assertEqual((status_of(cm), code_of(cm)), (403, "AccessDenied"))
        self.assertIn("kms:GenerateDataKey", error_of(cm)["Message"])
        self.assertEqual(self.objects(), [])
        # allowed to make data keys but not to decrypt: writes, cannot read back
        self.h.client("iam", ACCOUNT_A, R).put_role_policy(
            RoleName="writer", PolicyName="kms", PolicyDocument=allow("kms:GenerateDataKey", self.key["Arn"]))
        client.put_object(Bucket=self.bucket, Key="k", Body=b"x", ServerSideEncryption="aws:kms",
                          SSEKMSKeyId=self.key["Arn"])
        client.head_object(Bucket=self.bucket, Key="k")
        with self.assertRaises(ClientError) as cm:
            client.get_object(Bucket=self.bucket, Key="k")
        self.assertEqual(code_of(cm), "AccessDenied")
        self.assertIn("kms:Decrypt", error_of(cm)["Message"])


class SigV4Test(_Base):
    def setUp(self):
        super().setUp()
        self.make_bucket()

    def last_put(self):
        return [e for e in self.log() if e["operation"] == "PutObject"][-1]

    def test_payload_hash(self):
        path = "/%s/k" % self.bucket
        status, _h, _b = self.raw("PUT", path, body=b"data")
        self.assertEqual(status, 200)
        self.assertIs(self.last_put()["unsigned_payload"], False)
        status, _h, _b = self.raw("PUT", path, body=b"data", payload_hash="UNSIGNED-PAYLOAD")
        self.assertEqual(status, 200)
        self.assertIs(self.last_put()["unsigned_payload"], True)
        status, _h, body = self.raw("PUT", path, body=b"data", payload_hash=hashlib.sha256(b"other").hexdigest())
        self.assertEqual(status, 400)
        doc = ET.fromstring(body)
        self.assertEqual((doc.findtext("Code"), doc.findtext("S3ComputedContentSHA256")),
                         ("XAmzContentSHA256Mismatch", hashlib.sha256(b"data").hexdigest()))
        status, _h, body = self.raw("PUT", path, body=b"data", payload_hash=False)
        self.assertEqual(status, 400)
        self.assertEqual(ET.fromstring(body).findtext("Message"),
                         "Missing required header for this request: x-amz-content-sha256")
        status, _h, body = self.raw("PUT", path, body=b"data", payload_hash="GIBBERISH")
        self.assertEqual((status, ET.fromstring(body).findtext("Code")), (400, "InvalidArgument"))
        status, _h, body = self.raw("PUT", path, body=b"data", payload_hash="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
        self.assertEqual(status, 501)
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="k")["Body"].read(), b"data")
        # boto3 signs its payloads
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"data")
        self.assertIs(self.last_put()["unsigned_payload"], False)

    def test_authentication_errors(self):
        path = "/%s/k" % self.bucket
        status, _h, body = self.raw("GET", path, sign=False)
        self.assertEqual((status, ET.fromstring(body).findtext("Code")), (403, "AccessDenied"))
        status, _h, body = self.raw("GET", path, credentials={"AccessKeyId": "AKIA" + "X" * 16,
                                                              "SecretAccessKey": "s"})
        doc = ET.fromstring(body)
        self.assertEqual((status, doc.findtext("Code"), doc.findtext("AWSAccessKeyId")),
                         (403, "InvalidAccessKeyId", "AKIA" + "X" * 16))
        ak, _sk = self.h.emu.root_keys[ACCOUNT_A]
        status, _h, body = self.raw("GET", path, credentials={"AccessKeyId": ak, "SecretAccessKey": "wrong"})
        doc = ET.fromstring(body)
        self.assertEqual((status, doc.findtext("Code")), (403, "SignatureDoesNotMatch"))
        self.assertTrue(doc.findtext("CanonicalRequest").startswith("GET\n%s\n" % path))
        self.assertIn("AWS4-HMAC-SHA256\n", doc.findtext("StringToSign"))
        creds = self.role_credentials("reader", allow("s3:*", "*"))
        status, _h, _b = self.raw("GET", path, credentials=dict(creds, SessionToken="bogus"))
        self.assertEqual(status, 400)
        status, _h, body = self.raw("GET", path, credentials=dict(creds, SessionToken=None))
        self.assertEqual((status, ET.fromstring(body).findtext("Code")), (403, "InvalidAccessKeyId"))
        # S3 allows 15 minutes of skew, not 5
        self.h.control("POST", "/_emu/faults", {"clock_skew_s": 600})
        self.s3.list_buckets()
        self.h.control("POST", "/_emu/faults", {"clock_skew_s": 1000})
        status, _h, body = self.raw("GET", path)
        doc = ET.fromstring(body)
        self.assertEqual((status, doc.findtext("Code"), doc.findtext("MaxAllowedSkewMilliseconds")),
                         (403, "RequestTimeTooSkewed", "900000"))
        self.h.control("POST", "/_emu/faults", {"clock_skew_s": 3700})   # past the session's hour
        status, _h, body = self.raw("GET", path, credentials=creds)
        self.assertEqual((status, ET.fromstring(body).findtext("Code")), (400, "ExpiredToken"))
        self.h.control("POST", "/_emu/faults", {"clock_skew_s": 0})

    def test_crosscheck_with_botocore(self):
        """The verifier's fast path equals botocore's S3SigV4Auth on S3's request shapes
        (EMU_SIGV4_CROSSCHECK=1 does this for every request of every suite)."""
        saved = core.SIGV4_CROSSCHECK
        core.SIGV4_CROSSCHECK = True
        try:
            virtual = self.h.client("s3", ACCOUNT_A, R, s3=VIRTUAL)
            for client in (self.s3, virtual):
                client.put_object(Bucket=self.bucket, Key="a b/c+d~e%f\u00e9", Body=b"x" * 100)
                client.list_objects_v2(Bucket=self.bucket, Prefix="a b/", Delimiter="/")
                client.get_bucket_versioning(Bucket=self.bucket)
                client.head_object(Bucket=self.bucket, Key="a b/c+d~e%f\u00e9")
            status, _h, _b = self.raw("PUT", "/%s/u" % self.bucket, body=b"x", payload_hash="UNSIGNED-PAYLOAD")
            self.assertEqual(status, 200)
            status, _h, _b = self.raw("GET", "/%s/./u/../u" % self.bucket)   # not normalised: another key
            self.assertEqual(status, 404)
        finally:
            core.SIGV4_CROSSCHECK = saved
        self.assertFalse([e for e in self.log() if e["error"] == "InternalFailure"])


class AuthorisationTest(_Base):
    def setUp(self):
        super().setUp()
        self.make_bucket()
        self.s3.put_object(Bucket=self.bucket, Key="state/a", Body=b"a")
        self.arn = "arn:aws:s3:::" + self.bucket

    def test_role_permissions(self):
        reader = self.h.client("s3", credentials=self.role_credentials("reader", allow(
            "s3:GetObject", self.arn + "/*")), s3=PATH)
        self.assertEqual(reader.get_object(Bucket=self.bucket, Key="state/a")["Body"].read(), b"a")
        reader.head_object(Bucket=self.bucket, Key="state/a")   # HeadObject is s3:GetObject
        with self.assertRaises(ClientError) as cm:
            reader.put_object(Bucket=self.bucket, Key="state/a", Body=b"b")
        self.assertEqual((status_of(cm), code_of(cm)), (403, "AccessDenied"))
        self.assertEqual(error_of(cm)["Message"], 'User: arn:aws:sts::%s:assumed-role/reader/sess is not authorized '
                         'to perform: s3:PutObject on resource: "%s/state/a" because no identity-based policy '
                         'allows the s3:PutObject action' % (ACCOUNT_A, self.arn))
        for call in (lambda: reader.list_objects_v2(Bucket=self.bucket),
                     lambda: reader.get_bucket_versioning(Bucket=self.bucket),
                     lambda: reader.get_object(Bucket=self.bucket, Key="missing")):   # no s3:ListBucket: 403
            with self.assertRaises(ClientError) as cm:
                call()
            self.assertEqual(code_of(cm), "AccessDenied")
        lister = self.h.client("s3", credentials=self.role_credentials("lister", json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketVersioning"], "Resource": self.arn},
                {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": self.arn + "/state/*"},
                {"Effect": "Deny", "Action": "s3:PutObject", "Resource": self.arn + "/state/locked"}]})), s3=PATH)
        self.assertEqual(lister.list_objects_v2(Bucket=self.bucket)["KeyCount"], 1)
        lister.get_bucket_versioning(Bucket=self.bucket)
        with self.assertRaises(ClientError) as cm:
            lister.get_object(Bucket=self.bucket, Key="state/missing")
        self.assertEqual(code_of(cm), "NoSuchKey")
        lister.put_object(Bucket=self.bucket, Key="state/b", Body=b"b")
        with self.assertRaises(ClientError) as cm:
            lister.put_object(Bucket=self.bucket, Key="state/locked", Body=b"b")
        self.assertIn("explicit deny in an identity-based policy", error_of(cm)["Message"])
        with self.assertRaises(ClientError) as cm:
            lister.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})
        self.assertEqual(code_of(cm), "AccessDenied")

    def test_other_accounts_and_bucket_policies(self):
        other = self.h.client("s3", ACCOUNT_B, R, s3=PATH)
        with self.assertRaises(ClientError) as cm:
            other.get_object(Bucket=self.bucket, Key="state/a")
        self.assertEqual((status_of(cm), code_of(cm), error_of(cm)["Message"]), (403, "AccessDenied", "Access Denied"))
        with self.assertRaises(ClientError) as cm:
            self.s3.get_bucket_policy(Bucket=self.bucket)
        self.assertEqual((status_of(cm), code_of(cm)), (404, "NoSuchBucketPolicy"))
        self.s3.put_bucket_policy(Bucket=self.bucket, Policy=bucket_policy(
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT_B},
             "Action": ["s3:GetObject", "s3:PutObject", "s3:GetBucketPolicy"], "Resource": [self.arn, self.arn + "/*"]},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": self.arn + "/state/*"}))
        self.assertIn("s3:GetObject", self.s3.get_bucket_policy(Bucket=self.bucket)["Policy"])
        self.assertEqual(other.get_object(Bucket=self.bucket, Key="state/a")["Body"].read(), b"a")
        other.put_object(Bucket=self.bucket, Key="state/b", Body=b"from B")
        with self.assertRaises(ClientError) as cm:   # allowed, but not the owner
            other.get_bucket_policy(Bucket=self.bucket)
        self.assertEqual((status_of(cm), code_of(cm)), (405, "MethodNotAllowed"))
        with self.assertRaises(ClientError) as cm:   # the Deny holds for the owner too
            self.s3.delete_object(Bucket=self.bucket, Key="state/a")
        self.assertIn("explicit deny in a resource-based policy", error_of(cm)["Message"])
        # another account's role needs its own identity policy as well
        iam_b = self.h.client("iam", ACCOUNT_B, R)
        iam_b.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST_A.replace(ACCOUNT_A, ACCOUNT_B))
        creds = self.h.client("sts", ACCOUNT_B, R).assume_role(
            RoleArn="arn:aws:iam::%s:role/r" % ACCOUNT_B, RoleSessionName="sess")["Credentials"]
        role_b = self.h.client("s3", credentials=creds, s3=PATH)
        with self.assertRaises(ClientError) as cm:
            role_b.get_object(Bucket=self.bucket, Key="state/a")
        self.assertEqual(code_of(cm), "AccessDenied")
        iam_b.put_role_policy(RoleName="r", PolicyName="p", PolicyDocument=allow("s3:GetObject", "*"))
        self.assertEqual(role_b.get_object(Bucket=self.bucket, Key="state/a")["Body"].read(), b"a")
        # x-amz-expected-bucket-owner
        with self.assertRaises(ClientError) as cm:
            other.get_object(Bucket=self.bucket, Key="state/a", ExpectedBucketOwner=ACCOUNT_B)
        self.assertEqual(code_of(cm), "AccessDenied")
        self.s3.delete_bucket_policy(Bucket=self.bucket)
        with self.assertRaises(ClientError) as cm:
            other.get_object(Bucket=self.bucket, Key="state/a")
        self.assertEqual(code_of(cm), "AccessDenied")

    def test_policy_validation(self):
        for policy, message in (
                ("not json", "Policies must be valid JSON and the first byte must be '{'"),
                (bucket_policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                "Resource": "arn:aws:s3:::another-bucket/*"}), "Policy has invalid resource"),
                (bucket_policy({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:role/ghost" % ACCOUNT_B},
                                "Action": "s3:GetObject", "Resource": self.arn + "/*"}),
                 "Invalid principal in policy")):
            with self.subTest(message=message), self.assertRaises(ClientError) as cm:
                self.s3.put_bucket_policy(Bucket=self.bucket, Policy=policy)
            self.assertEqual((code_of(cm), error_of(cm)["Message"]), ("MalformedPolicy", message))


class ControlTest(_Base):
    def test_objects_inventory_and_reset(self):
        self.make_bucket()
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"abc")
        objects = self.objects()
        self.assertEqual([(o["key"], o["version_id"], o["etag"], o["size"], o["sse"]) for o in objects],
                         [("k", "null", '"%s"' % hashlib.md5(b"abc").hexdigest(), 3, "AES256")])
        self.assertEqual(self.h.control("GET", "/_emu/s3/objects?bucket=nope")[0], 404)
        inv = [r for r in self.h.control("GET", "/_emu/inventory")[1]["resources"] if r["service"] == "s3"]
        self.assertEqual(inv, [{"service": "s3", "account": ACCOUNT_A, "region": R, "type": "s3:bucket",
                                "id": self.bucket, "versioning": None, "encryption": "AES256", "policy": False,
                                "objects": 1}])
        self.h.control("POST", "/_emu/reset")
        self.assertEqual(self.s3.list_buckets()["Buckets"], [])
        self.make_bucket()   # the name is free again


if __name__ == "__main__":
    unittest.main(verbosity=2, warnings="ignore")
