#!/usr/bin/python3
"""Resolves credentials with botocore (what the AWS CLI runs) and with rdsbk-provision's chain
(the probe executable given as argv[1]) for the same shared files and environment, and checks
that both pick the same source. STS, container credentials and IMDS are the local fake server
(fake_aws_server.py); botocore is pointed at it by patching Session.create_client, since
botocore 1.29 has no AWS_ENDPOINT_URL_STS.

Both sides print "<access key id> <session token or ->". Temporary keys handed out for a role are
"ASIA<account><counter>" (tokens "token-ASIA<account><counter>"); the comparison keeps
"ASIA<account>", so it checks which role (in which account) was assumed, not the counter.

A second fake server listens on this machine's non-loopback address ("elsewhere", another host
as far as the URL rules go): container URLs that name a loopback address but send to it
(http://127.0.0.1@elsewhere/...) must be refused by both sides, and that server must have seen
no container request, so no token. Without such an address those cases are skipped, and said.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"

BOTOCORE_SNIPPET = r"""
import sys
import botocore.session
profile = sys.argv[1] or None
sts = sys.argv[2]
orig = botocore.session.Session.create_client
def create_client(self, service_name, *args, **kwargs):
    if service_name == "sts":
        kwargs["endpoint_url"] = sts
    return orig(self, service_name, *args, **kwargs)
botocore.session.Session.create_client = create_client
try:
    creds = botocore.session.Session(profile=profile).get_credentials()
    if creds is None:
        print("NONE")
    else:
        frozen = creds.get_frozen_credentials()
        print(frozen.access_key, frozen.token or "-")
except Exception as e:
    print("ERROR", type(e).__name__, str(e).replace("\n", " "))
"""

PROC_SCRIPT = """#!/bin/sh
echo '{"Version": 1, "AccessKeyId": "AKID7PROC", "SecretAccessKey": "p",'
echo ' "SessionToken": "t", "Expiration": "2099-01-01T00:00:00Z"}'
"""

KEYS = "aws_access_key_id={0}\naws_secret_access_key=s-{0}\n"


def elsewhere_cases(elsewhere):
    """Container URLs written to look local that send to `elsewhere` (host:port)."""
    if not elsewhere:
        return []
    token = {"AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer ctok"}
    return [
        ("container URL with user info, to another host", None,
         dict(token, AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1@%s/container/creds"
              % elsewhere), "", ""),
        ("container URL with user:port info, to another host", None,
         dict(token, AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1:80@%s/container/creds"
              % elsewhere), "", ""),
        ("container URL, plain http to another host", None,
         dict(token, AWS_CONTAINER_CREDENTIALS_FULL_URI="http://%s/container/creds"
              % elsewhere), "", ""),
    ]


def scenarios(base, home):
    token = os.path.join(home, "token")
    proc = os.path.join(home, "proc.sh")
    env_keys = {"AWS_ACCESS_KEY_ID": "AKID1ENV", "AWS_SECRET_ACCESS_KEY": "e"}
    return [
        ("environment", None, env_keys, "", ""),
        ("environment beats AWS_PROFILE", None, dict(env_keys, AWS_PROFILE="other"), "",
         "[other]\n" + KEYS.format("AKID2OTHER")),
        ("explicit profile beats environment", "other", env_keys, "",
         "[other]\n" + KEYS.format("AKID2OTHER")),
        ("credentials file beats config file", None, {},
         "[default]\n" + KEYS.format("AKID3CONF"), "[default]\n" + KEYS.format("AKID4CRED")),
        ("config file [profile x] via AWS_PROFILE", None, {"AWS_PROFILE": "cfg"},
         "[profile cfg]\n" + KEYS.format("AKID5CFG"), ""),
        ("[profile x] is not read from the credentials file", "cfg", {}, "",
         "[profile cfg]\n" + KEYS.format("AKID5CFG")),
        ("AWS_DEFAULT_PROFILE before AWS_PROFILE", None,
         {"AWS_DEFAULT_PROFILE": "one", "AWS_PROFILE": "two"}, "",
         "[one]\n" + KEYS.format("AKID1ONE") + "[two]\n" + KEYS.format("AKID2TWO")),
        ("session token from the environment", None,
         dict(env_keys, AWS_SESSION_TOKEN="envtok"), "", ""),
        ("legacy AWS_SECURITY_TOKEN first", None,
         dict(env_keys, AWS_SESSION_TOKEN="new", AWS_SECURITY_TOKEN="old"), "", ""),
        ("session token in the credentials file", None, {}, "",
         "[default]\n" + KEYS.format("AKID3TOK") + "aws_session_token=filetok\n"),
        ("legacy aws_security_token first", None, {}, "",
         "[default]\n" + KEYS.format("AKID3TOK") + "aws_session_token=new\n"
         "aws_security_token=old\n"),
        ("missing explicit profile", "nope", {}, "", "[default]\n" + KEYS.format("AKID6DEF")),
        ("missing AWS_PROFILE profile", None, {"AWS_PROFILE": "nope"}, "",
         "[default]\n" + KEYS.format("AKID6DEF")),
        ("role chain via source_profile", "top", {},
         "[profile mid]\nrole_arn=arn:aws:iam::222222222222:role/mid\nsource_profile=base\n"
         "[profile top]\nrole_arn=arn:aws:iam::333333333333:role/top\nsource_profile=mid\n",
         "[base]\n" + KEYS.format("AKID1BASE")),
        ("role profile sourcing itself", "self", {},
         "[profile self]\nrole_arn=arn:aws:iam::444444444444:role/s\nsource_profile=self\n"
         + KEYS.format("AKID8SELF"), ""),
        ("role with static keys in the same profile is still a role", "both", {},
         "[profile both]\nrole_arn=arn:aws:iam::555555555555:role/b\nsource_profile=base\n"
         + KEYS.format("AKID9BOTH"), "[base]\n" + KEYS.format("AKID1BASE")),
        ("source profile loop", "a", {},
         "[profile a]\nrole_arn=arn:aws:iam::1:role/a\nsource_profile=b\n"
         "[profile b]\nrole_arn=arn:aws:iam::1:role/b\nsource_profile=a\n", ""),
        ("credential_source Environment", "envsrc", env_keys,
         "[profile envsrc]\nrole_arn=arn:aws:iam::666666666666:role/e\n"
         "credential_source=Environment\n", ""),
        ("credential_process", "proc", {}, "[profile proc]\ncredential_process=%s\n" % proc, ""),
        ("credentials file beats credential_process", "proc", {},
         "[profile proc]\ncredential_process=%s\n" % proc, "[proc]\n" + KEYS.format("AKID2CRED")),
        ("credential_process beats config-file keys", "proc", {},
         "[profile proc]\ncredential_process=%s\n" % proc + KEYS.format("AKID3CONF"), ""),
        ("role sourced from a credential_process profile", "r", {},
         "[profile proc]\ncredential_process=%s\n" % proc
         + "[profile r]\nrole_arn=arn:aws:iam::777777777777:role/r\nsource_profile=proc\n", ""),
        ("web identity from the environment", None,
         {"AWS_ROLE_ARN": "arn:aws:iam::888888888888:role/ci",
          "AWS_WEB_IDENTITY_TOKEN_FILE": token}, "", ""),
        ("web identity from a profile", "wi", {},
         "[profile wi]\nrole_arn=arn:aws:iam::999999999999:role/w\n"
         "web_identity_token_file=%s\n" % token, ""),
        # botocore 1.29 predates AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (test_credentials.c
        # covers the file); the token variable is common to both.
        ("container credentials (full URI, token)", None,
         {"AWS_CONTAINER_CREDENTIALS_FULL_URI": base + "/container/creds",
          "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer ctok"}, "", ""),
        ("static keys beat container credentials", None,
         {"AWS_CONTAINER_CREDENTIALS_FULL_URI": base + "/container/creds",
          "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer ctok"}, "",
         "[default]\n" + KEYS.format("AKID4CRED")),
        ("instance metadata (IMDSv2)", None,
         {"AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": base}, "", ""),
        ("nothing at all", None, {}, "", ""),
    ]


def normalise(out):
    """"<key> <token>", with the fake server's per-call counters cut off."""
    out = out.strip()
    if out.startswith("ERROR") or out == "NONE" or not out:
        return "ERROR"
    key, _, token = out.partition(" ")
    if key.startswith("ASIA"):
        key, token = key[:16], token[:22]
    return key + " " + token


def other_address():
    """This machine's address on its default route, when it is not a loopback one."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.1", 9))  # UDP: nothing is sent, the kernel only picks a route
        addr = s.getsockname()[0]
    except OSError:
        return None
    finally:
        s.close()
    return None if addr.startswith("127.") or addr == "0.0.0.0" else addr


def start_server(bind="127.0.0.1"):
    """A fake server; returns (process, "host:port")."""
    proc = subprocess.Popen([PYTHON, os.path.join(HERE, "fake_aws_server.py"),
                             "--container-token", "Bearer ctok", "--bind", bind],
                            stdout=subprocess.PIPE, text=True)
    return proc, "%s:%d" % (bind, int(proc.stdout.readline().split()[1]))


def container_requests(hostport):
    """The container requests the server at `hostport` has seen (no proxy on the way)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open("http://%s/__log" % hostport, timeout=10) as r:
        return [e for e in json.load(r) if e.get("action") == "container"]


def main():
    probe = sys.argv[1]
    server, local = start_server()
    addr = other_address()
    other, elsewhere = start_server(addr) if addr else (None, None)
    if not addr:
        print("skip: no non-loopback address here, the cases that send elsewhere are not run")
    failures = 0
    try:
        base = "http://" + local
        home = tempfile.mkdtemp(prefix="rdsbk-creds-cmp-")
        try:
            os.mkdir(os.path.join(home, ".aws"))
            with open(os.path.join(home, "token"), "w") as f:
                f.write("web-identity-token-abc")
            with open(os.path.join(home, "ctoken"), "w") as f:
                f.write("Bearer ctok\n")
            with open(os.path.join(home, "proc.sh"), "w") as f:
                f.write(PROC_SCRIPT)
            os.chmod(os.path.join(home, "proc.sh"), 0o700)
            cases = scenarios(base, home) + elsewhere_cases(elsewhere)
            for name, profile, extra, config, creds in cases:
                with open(os.path.join(home, ".aws", "config"), "w") as f:
                    f.write(config)
                with open(os.path.join(home, ".aws", "credentials"), "w") as f:
                    f.write(creds)
                env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
                env.update({"HOME": home, "AWS_EC2_METADATA_DISABLED": "true",
                            "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL_STS": base,
                            "NO_PROXY": "127.0.0.1,localhost,%s" % addr,
                            "no_proxy": "127.0.0.1,localhost,%s" % addr})
                env.update(extra)
                env = {k: v for k, v in env.items() if v != ""}
                ours = subprocess.run([probe, profile or ""], env=env, capture_output=True,
                                      text=True, timeout=60).stdout
                theirs = subprocess.run([PYTHON, "-c", BOTOCORE_SNIPPET, profile or "", base],
                                        env=env, capture_output=True, text=True,
                                        timeout=60).stdout
                same = normalise(ours) == normalise(theirs)
                failures += 0 if same else 1
                print("%s %-50s rdsbk=%-40s botocore=%s" % (
                    "ok  " if same else "FAIL", name, normalise(ours)[:40], theirs.strip()[:70]))
            if elsewhere:
                sent = container_requests(elsewhere)
                failures += 1 if sent else 0
                print("%s no container request reached the other host (%d did, with "
                      "Authorization %s)" % ("ok  " if not sent else "FAIL", len(sent),
                                             sorted({e.get("auth") for e in sent})))
        finally:
            shutil.rmtree(home)
    finally:
        for proc in (server, other):
            if proc:
                proc.terminate()
                proc.wait()
    print("%d scenarios, %d differ from botocore" % (len(cases), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
