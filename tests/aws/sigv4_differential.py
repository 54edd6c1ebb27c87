#!/usr/bin/python3
"""Differential test of our SigV4 signer against botocore's SigV4Auth and S3SigV4Auth.

Generates requests deterministically (fixed seed), signs each with our signer (the
rdsbk-sigv4-sign executable given as argv[1]) and with botocore.auth.SigV4Auth (S3SigV4Auth for
service "s3": the path signed as sent, x-amz-content-sha256 added) on an AWSRequest at the same
instant, and asserts byte-identical Authorization headers (and, for S3, x-amz-content-sha256).

Every generated request is one where the SigV4 specification fixes the answer, so both signers
must agree. Where botocore has its own conventions, the generator stays inside what both accept:
  - the URL's query is already canonically encoded (botocore signs the URL's query string as is,
    while we decode and re-encode it); no empty "&&" pieces;
  - no Date header (botocore then rewrites Date and signs it instead of X-Amz-Date);
  - no X-Amz-Security-Token header without a session token (botocore keeps and signs a stale one;
    we drop it because it would be the previous credentials' token);
  - header values are printable ASCII, spaces, tabs and folded line breaks (Python's str.split()
    also splits on Unicode spaces).
"""
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile
import urllib.parse
from unittest import mock

try:
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError as e:  # CTest reports exit status 77 as skipped (SKIP_RETURN_CODE)
    print(f"SKIP: botocore is not importable ({e}); apt-get install python3-botocore")
    sys.exit(77)

SEED = 20261128
COUNT = 600
S3_SEED = 20261206
S3_COUNT = 200

REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2", "sa-east-1",
           "cn-north-1", "us-gov-west-1"]
SERVICES = ["sts", "iam", "kms", "events", "lambda", "rds", "execute-api"]
SEGMENT_CHARS = (
    "abcxyzABCXYZ0189-._~"          # unreserved
    "!$&'()*+,;=:@"                 # sub-delims and pchar extras
    " %/?#[]\"<>\\^`{|}"            # must always be encoded
    "é日本語ß€"                      # UTF-8
)
SEGMENT_CHARS = list(SEGMENT_CHARS) + ["\U0001F600"]
QUERY_CHARS = list("abcXYZ019-._~ !*'();:@&=+$,/?#[]%é日") + ["\U0001F4A9"]
HEADER_NAMES = ["X-Custom", "x-custom", "X-Amz-Target", "Content-Type", "X-Amz-Meta-A",
                "My-Header1", "My-Header2", "X-Rdsbk-Test", "Accept", "Content-Encoding",
                "User-Agent", "X-Amzn-Trace-Id", "Expect", "X-Amz-Date"]
VALUE_CHARS = list("abcXYZ019 -_.:;/\\\"'(),=+*&^%$#@!?<>[]{}|`~") + [" ", "  ", "\t"]
TIMES = [1440938160, 1700000000, 1767225599, 1767225600, 951782400, 1234567890]


def rand_str(rng, alphabet, lo, hi):
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def encode_segment(rng, seg):
    # What a protocol module does to a label: percent-encode; sometimes leave pchar
    # sub-delims raw (RFC 3986 allows them in a path), sometimes lower-case escapes are NOT
    # used (both signers treat '%' literally, so any form is fine, but keep it realistic).
    safe = rng.choice(["", "-_.~", "!$&'()*+,;=:@", "~"])
    return urllib.parse.quote(seg, safe=safe)


def gen_path(rng):
    kind = rng.random()
    if kind < 0.08:
        return ""
    if kind < 0.16:
        return "/"
    segs = []
    for _ in range(rng.randint(1, 5)):
        r = rng.random()
        if r < 0.06:
            segs.append(".")
        elif r < 0.12:
            segs.append("..")
        elif r < 0.18:
            segs.append("")  # a duplicate slash
        elif r < 0.24:
            # raw UTF-8 and unreserved only: a path the caller did not encode
            segs.append(rand_str(rng, list("abc-._~") + ["é", "日", "ሴ"], 1, 6))
        else:
            segs.append(encode_segment(rng, rand_str(rng, SEGMENT_CHARS, 1, 10)))
    path = "/" + "/".join(segs)
    if rng.random() < 0.3:
        path += "/"
    return path


def gen_query(rng):
    if rng.random() < 0.45:
        return ""
    pairs = []
    keys = [rand_str(rng, QUERY_CHARS, 0 if rng.random() < 0.1 else 1, 6)
            for _ in range(rng.randint(1, 4))]
    for _ in range(rng.randint(1, 6)):
        k = rng.choice(keys)  # repeated keys
        form = rng.random()
        ek = urllib.parse.quote(k, safe="-_.~")
        if form < 0.15:
            pairs.append(ek)  # no '='
        elif form < 0.3:
            pairs.append(ek + "=")  # empty value
        else:
            v = rand_str(rng, QUERY_CHARS, 0, 8)
            pairs.append(ek + "=" + urllib.parse.quote(v, safe="-_.~"))
    if all(p == "" for p in pairs):
        return ""
    return "&".join(p for p in pairs if p != "") if rng.random() < 0.5 else "&".join(
        p if p else "x" for p in pairs)


def gen_value(rng):
    v = rand_str(rng, VALUE_CHARS, 0, 20)
    if rng.random() < 0.1:
        v = v + "\n  " + rand_str(rng, VALUE_CHARS, 1, 8)  # folded line
    if rng.random() < 0.2:
        v = "  " + v + " \t"
    return v


def gen_case(rng, i):
    service = rng.choice(SERVICES)
    region = rng.choice(REGIONS)
    scheme_host = rng.choice([
        f"https://{service}.{region}.amazonaws.com",
        "https://EXAMPLE.Amazonaws.com",
        "https://example.amazonaws.com:443",
        "https://example.amazonaws.com:8443",
        "http://127.0.0.1:4566",
        "http://localhost:80",
        "http://[::1]:4566",
    ])
    style = rng.choice(["query", "json", "rest", "get"])
    headers = []
    body = ""
    method = "POST"
    if style == "query":
        params = {"Action": rng.choice(["GetCallerIdentity", "CreateRole", "DescribeDBSnapshots"]),
                  "Version": "2011-06-15"}
        for _ in range(rng.randint(0, 4)):
            params[rand_str(rng, list("ABCxyz.1"), 1, 8)] = rand_str(rng, QUERY_CHARS, 0, 12)
        body = urllib.parse.urlencode(params, quote_via=urllib.parse.quote, safe="-_.~")
        headers.append(["Content-Type", "application/x-www-form-urlencoded; charset=utf-8"])
        path = "/"
    elif style == "json":
        obj = {"Name": rand_str(rng, QUERY_CHARS, 0, 12), "N": rng.randint(0, 10 ** 6),
               "Tags": [{"Key": "k", "Value": "é日"}]}
        body = json.dumps(obj, ensure_ascii=rng.random() < 0.5)
        headers.append(["Content-Type", "application/x-amz-json-1.1"])
        headers.append(["X-Amz-Target", rng.choice(["TrentService.DescribeKey",
                                                    "AWSEvents.PutRule"])])
        path = "/"
    elif style == "rest":
        method = rng.choice(["GET", "PUT", "POST", "DELETE"])
        path = gen_path(rng)
        if method in ("PUT", "POST") and rng.random() < 0.8:
            body = json.dumps({"FunctionName": rand_str(rng, QUERY_CHARS, 1, 10)})
            headers.append(["Content-Type", "application/json"])
    else:
        method = rng.choice(["GET", "HEAD", "DELETE"])
        path = gen_path(rng)
    query = gen_query(rng) if style in ("rest", "get") else ""
    for _ in range(rng.randint(0, 5)):
        name = rng.choice(HEADER_NAMES)
        headers.append([name, gen_value(rng)])
    if rng.random() < 0.1:
        headers.append(["Host", scheme_host.split("://", 1)[1].lower()])
    url = scheme_host + path + ("?" + query if query else "")
    return signed_case(rng, i, method, url, headers, body, region, service)


def signed_case(rng, i, method, url, headers, body, region, service):
    """The case of a request: what it is, and the credentials and instant it is signed with."""
    token = None
    if rng.random() < 0.4:
        token = rand_str(rng, list("ABCDEFabcdef0123456789/+="), 40, 300)
    return {
        "id": i,
        "method": method,
        "url": url,
        "headers": headers,
        "body": body,
        "region": region,
        "service": service,
        "access_key": "AKID" + rand_str(rng, list("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), 16, 16),
        "secret_key": rand_str(rng, list("abcdefABCDEF0123456789/+"), 40, 40),
        "token": token,
        "time": rng.choice(TIMES) + rng.randint(0, 86400),
    }


def gen_s3_case(rng, i):
    """A request as the S3 client sends one: a key path (segments encoded once, '/' kept, and
    sometimes raw dot segments and empty ones, which S3 signs as they are), a body of any
    method, sometimes a stale x-amz-content-sha256 to be replaced."""
    region = rng.choice(REGIONS)
    scheme_host = rng.choice([
        f"https://s3.{region}.amazonaws.com",
        f"https://bucket-{rng.randint(0, 99)}.s3.{region}.amazonaws.com",
        "https://s3.amazonaws.com",
        "http://127.0.0.1:4566",
        "http://rdsbk-state.s3.localhost:4566",
        "http://[::1]:9000",
    ])
    method = rng.choice(["GET", "PUT", "HEAD", "DELETE", "POST"])
    path = gen_path(rng) or "/"
    headers = []
    body = ""
    if method in ("PUT", "POST") and rng.random() < 0.9:
        body = rand_str(rng, QUERY_CHARS + ["\n", "{", "}"], 0, 200)
        headers.append(["Content-Type", rng.choice(["application/octet-stream",
                                                    "application/json", "application/xml"])])
    for _ in range(rng.randint(0, 4)):
        name = rng.choice(HEADER_NAMES + ["If-Match", "If-None-Match",
                                          "x-amz-server-side-encryption"])
        headers.append([name, gen_value(rng)])
    if rng.random() < 0.2:
        headers.append(["X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD"])
    query = gen_query(rng) if rng.random() < 0.5 else rng.choice(["", "versioning", "list-type=2"])
    url = scheme_host + path + ("?" + query if query else "")
    return signed_case(rng, i, method, url, headers, body, region, "s3")


def capturing(signer_class):
    """signer_class that keeps the last canonical request it made, for the mismatch report."""
    class Capturing(signer_class):
        def canonical_request(self, request):
            self.last_canonical_request = super().canonical_request(request)
            return self.last_canonical_request
    return Capturing


CapturingSigV4Auth = capturing(botocore.auth.SigV4Auth)
CapturingS3SigV4Auth = capturing(botocore.auth.S3SigV4Auth)


def botocore_sign(case):
    request = AWSRequest(method=case["method"], url=case["url"],
                         data=case["body"].encode("utf-8") if case["body"] else None)
    for name, value in case["headers"]:
        request.headers[name] = value  # HTTPMessage appends: duplicates are kept in order
    creds = Credentials(case["access_key"], case["secret_key"], case["token"])
    if case["service"] == "s3":
        signer = CapturingS3SigV4Auth(creds, case["service"], case["region"])
    else:
        signer = CapturingSigV4Auth(creds, case["service"], case["region"])
    fixed = datetime.datetime.utcfromtimestamp(case["time"])
    with mock.patch.object(botocore.auth, "datetime") as fake:
        fake.datetime.utcnow.return_value = fixed
        fake.datetime.strptime = datetime.datetime.strptime
        signer.add_auth(request)
    return (request.headers["Authorization"], signer.last_canonical_request,
            request.headers.get("X-Amz-Content-SHA256"))


def main():
    if len(sys.argv) != 2:
        print("usage: sigv4_differential.py PATH-TO-rdsbk-sigv4-sign", file=sys.stderr)
        return 2
    rng = random.Random(SEED)
    cases = [gen_case(rng, i) for i in range(COUNT)]
    rng = random.Random(S3_SEED)
    cases += [gen_s3_case(rng, COUNT + i) for i in range(S3_COUNT)]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "cases.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(cases, f, ensure_ascii=False)
        run = subprocess.run([sys.argv[1], path], capture_output=True, text=True, timeout=300)
    if run.returncode != 0:
        print(run.stderr, file=sys.stderr)
        print(f"FAIL: our signer exited with {run.returncode}")
        return 1
    ours = {}
    for line in run.stdout.splitlines():
        obj = json.loads(line)
        ours[int(obj["id"])] = obj
    mismatches = 0
    for case in cases:
        theirs, their_creq, their_sha = botocore_sign(case)
        mine = ours.get(case["id"])
        if (mine is None or mine["authorization"] != theirs or
                mine.get("content_sha256") != their_sha):
            mismatches += 1
            if mismatches <= 5:
                print(f"MISMATCH case {case['id']}: {json.dumps(case, ensure_ascii=False)}")
                print("--- botocore canonical request\n" + their_creq)
                print("--- ours\n" + (mine["canonical_request"] if mine else "(none)"))
    print(f"sigv4 differential: {len(cases)} requests signed by both ({S3_COUNT} of them S3), "
          f"{mismatches} mismatches (seeds {SEED}, {S3_SEED})")
    if len(cases) < 500:
        print("FAIL: fewer than 500 requests")
        return 1
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
