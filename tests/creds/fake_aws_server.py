#!/usr/bin/python3
"""A fake STS, container-credentials endpoint and IMDSv2 on 127.0.0.1 (or the --bind address) for
the credentials tests.

Prints "PORT <n>" on stdout once listening, then serves until killed, until its parent process
goes away, or after --lifetime seconds.

  POST /                      STS (awsQuery): AssumeRole (must be signed),
                              AssumeRoleWithWebIdentity (must be unsigned, token checked),
                              GetCallerIdentity (account derived from the signing key)
  GET  /container/creds       container credentials (Authorization must equal --container-token)
  PUT  /latest/api/token      IMDSv2 session token
  GET  /latest/meta-data/iam/security-credentials/[role]   (token header required)
  GET  /__log                 JSON list of every request seen (action, params, signing key id)
  POST /__config              JSON {"expires_in": seconds} for the credentials handed out next,
                              {"fail_sts": true} to refuse every STS call
  POST /__reset               clears the log

Accounts: a key "AKID<digit>..." belongs to account <digit>*12; keys handed out for a role
"arn:aws:iam::<account>:role/<name>" are "ASIA<account>" + a counter and belong to <account>.
"""
import argparse
import datetime
import json
import os
import re
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = {"log": [], "expires_in": 3600, "counter": 0, "key_accounts": {}, "fail_sts": False}
LOCK = threading.Lock()
ARGS = None
IMDS_TOKEN = "imds-session-token-1"
WEB_TOKEN = "web-identity-token-abc"


def expiration():
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
        seconds=STATE["expires_in"])
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def new_keys(account):
    with LOCK:
        STATE["counter"] += 1
        akid = "ASIA%s%04d" % (account, STATE["counter"])
        STATE["key_accounts"][akid] = account
    return akid, "secret-" + akid, "token-" + akid


def account_of(akid):
    if akid in STATE["key_accounts"]:
        return STATE["key_accounts"][akid]
    m = re.match(r"AKID(\d)", akid or "")
    return m.group(1) * 12 if m else "000000000000"


def signing_key(headers):
    m = re.search(r"Credential=([^/]+)/", headers.get("Authorization", ""))
    return m.group(1) if m else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, ctype="text/xml"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def record(self, **kw):
        with LOCK:
            STATE["log"].append(kw)

    def body(self):
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n).decode() if n else ""

    def sts_error(self, status, code, msg):
        self.reply(status, "<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code>"
                   "<Message>%s</Message></Error><RequestId>fake-rid</RequestId>"
                   "</ErrorResponse>" % (code, msg))

    def creds_xml(self, action, role_arn, session):
        account = role_arn.split(":")[4]
        ak, sk, tok = new_keys(account)
        self.reply(200, (
            "<{a}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><{a}Result>"
            "<Credentials><AccessKeyId>{ak}</AccessKeyId><SecretAccessKey>{sk}</SecretAccessKey>"
            "<SessionToken>{tok}</SessionToken><Expiration>{exp}</Expiration></Credentials>"
            "<AssumedRoleUser><Arn>arn:aws:sts::{acct}:assumed-role/{name}/{sess}</Arn>"
            "<AssumedRoleId>AROA:{sess}</AssumedRoleId></AssumedRoleUser>"
            "</{a}Result><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata>"
            "</{a}Response>").format(a=action, ak=ak, sk=sk, tok=tok, exp=expiration(),
                                     acct=account, name=role_arn.split("/")[-1], sess=session))

    def do_POST(self):
        if self.path == "/__config":
            cfg = json.loads(self.body() or "{}")
            with LOCK:
                STATE.update({k: v for k, v in cfg.items() if k in ("expires_in", "fail_sts")})
            return self.reply(200, "{}", "application/json")
        if self.path == "/__reset":
            self.body()
            with LOCK:
                STATE["log"] = []
            return self.reply(200, "{}", "application/json")
        if self.path != "/":
            return self.reply(404, "not found", "text/plain")
        params = dict(urllib.parse.parse_qsl(self.body(), keep_blank_values=True))
        action = params.get("Action")
        key = signing_key(self.headers)
        self.record(action=action, params=params, key=key,
                    token=self.headers.get("X-Amz-Security-Token"),
                    content_type=self.headers.get("Content-Type"))
        if STATE["fail_sts"]:
            return self.sts_error(400, "InvalidClientTokenId", "told to fail")
        if params.get("Version") != "2011-06-15":
            return self.sts_error(400, "InvalidAction", "bad version")
        if action == "AssumeRole":
            if not key:
                return self.sts_error(403, "MissingAuthenticationToken", "unsigned")
            if not params.get("RoleArn") or not params.get("RoleSessionName"):
                return self.sts_error(400, "ValidationError", "missing parameter")
            if "denied" in params["RoleArn"]:
                return self.sts_error(403, "AccessDenied", "not authorized to assume")
            return self.creds_xml(action, params["RoleArn"], params["RoleSessionName"])
        if action == "AssumeRoleWithWebIdentity":
            if key:
                return self.sts_error(400, "InvalidAction", "must be unsigned")
            if params.get("WebIdentityToken") != WEB_TOKEN:
                return self.sts_error(400, "InvalidIdentityToken", "bad token")
            return self.creds_xml(action, params["RoleArn"], params.get("RoleSessionName", ""))
        if action == "GetCallerIdentity":
            if not key:
                return self.sts_error(403, "MissingAuthenticationToken", "unsigned")
            acct = account_of(key)
            return self.reply(200, (
                "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::%s:user/t"
                "</Arn><UserId>%s</UserId><Account>%s</Account></GetCallerIdentityResult>"
                "</GetCallerIdentityResponse>") % (acct, key, acct))
        return self.sts_error(400, "InvalidAction", "unknown action")

    def do_PUT(self):
        self.body()
        if self.path == "/latest/api/token":
            self.record(action="imds-token",
                        ttl=self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"))
            if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                return self.reply(400, "", "text/plain")
            return self.reply(200, IMDS_TOKEN, "text/plain")
        return self.reply(404, "", "text/plain")

    def do_GET(self):
        if self.path == "/__log":
            with LOCK:
                return self.reply(200, json.dumps(STATE["log"]), "application/json")
        if self.path == "/container/creds":
            auth = self.headers.get("Authorization")
            self.record(action="container", auth=auth)
            if ARGS.container_token and auth != ARGS.container_token:
                return self.reply(401, "{}", "application/json")
            ak, sk, tok = new_keys("444444444444")
            return self.reply(200, json.dumps({"AccessKeyId": ak, "SecretAccessKey": sk,
                                               "Token": tok, "Expiration": expiration()}),
                              "application/json")
        prefix = "/latest/meta-data/iam/security-credentials/"
        if self.path.startswith(prefix):
            tok = self.headers.get("X-aws-ec2-metadata-token")
            self.record(action="imds-get", path=self.path, token=tok)
            if tok != IMDS_TOKEN:
                return self.reply(401, "", "text/plain")
            role = self.path[len(prefix):]
            if not role:
                return self.reply(200, "fake-instance-role\n", "text/plain")
            if role != "fake-instance-role":
                return self.reply(404, "", "text/plain")
            ak, sk, tok = new_keys("555555555555")
            return self.reply(200, json.dumps({
                "Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": ak, "SecretAccessKey": sk,
                "Token": tok, "Expiration": expiration(),
                "LastUpdated": "2026-01-01T00:00:00Z"}), "text/plain")
        return self.reply(404, "", "text/plain")


def watchdog(parent, lifetime, server):
    deadline = datetime.datetime.now() + datetime.timedelta(seconds=lifetime)
    while datetime.datetime.now() < deadline and os.getppid() == parent:
        threading.Event().wait(0.5)
    server.shutdown()


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--container-token", default="")
    p.add_argument("--lifetime", type=int, default=240)
    p.add_argument("--bind", default="127.0.0.1")
    ARGS = p.parse_args()
    server = ThreadingHTTPServer((ARGS.bind, 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=watchdog, args=(os.getppid(), ARGS.lifetime, server),
                     daemon=True).start()
    sys.stdout.write("PORT %d\n" % server.server_address[1])
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
