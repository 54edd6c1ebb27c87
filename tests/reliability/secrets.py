"""Secrets: nothing the tool prints or writes holds a secret key or a session token.

usage: /usr/bin/python3 tests/reliability/secrets.py PATH/TO/rdsbk-provision [--long] [--seed N]

The topology names profiles `deployer-a` / `deployer-b` of an AWS config file, each with
`role_arn` + `source_profile` (the emulator's root keys), so every AWS call the tool makes for
the pipeline is signed with temporary credentials and carries a session token. Run with
`--debug` and umask 000:
  plan --out FILE, apply FILE, plan --detailed-exitcode, apply --json, state list, generate,
  a failing call (every request answered 500, two attempts), a failing call whose error message
  echoes the request's canonical headers (as AWS's SignatureDoesNotMatch messages do: a hostile
  or careless endpoint; the message then holds the session token), an AccessDenied, and destroy.
Every stdout and stderr, and every file the tool wrote (state, state backup, saved plan,
generated artefacts), is searched for every root secret key, every temporary secret key and
session token the emulator issued (whole, and 16 characters from their middle and their
end: the emulator's tokens share a prefix). The state,
its backup and the saved plan must be mode 0600 even under umask 000, the plan even when it is
written over an old plan file of mode 0644. A positive control proves the search finds a secret
where there is one.
"""

import http.server
import json
import os
import stat
import threading

import common
from common import A, B, check

ECHO_PREFIX = ("The request signature we calculated does not match the signature you provided. "
               "The Canonical String for this request should have been\n'")


class EchoHandler(http.server.BaseHTTPRequestHandler):
    """Answers every request with an InvalidSignatureException whose message quotes the request's
    headers, values included."""

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        canonical = "\n".join("%s:%s" % (k.lower(), v.strip()) for k, v in
                              sorted(self.headers.items()) if k.lower() != "authorization")
        body = json.dumps({"__type": "InvalidSignatureException",
                           "message": ECHO_PREFIX + "POST\n/\n\n" + canonical + "'"}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("x-amzn-RequestId", "echo-1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, *args):
        pass


def secrets_of(w):
    emu = w.harness.emu
    out = {}
    for acct, (_, secret) in emu.root_keys.items():
        out["root secret of %s" % acct] = secret
    with emu.lock:
        keys = dict(emu._keys)
    for ak, info in keys.items():
        if info.get("temporary"):
            out["temporary secret %s" % ak] = info["secret"]
            out["session token %s" % ak] = info["token"]
    return out


def leaks(text, secrets):
    found = []
    for name, s in secrets.items():
        mid = len(s) // 2
        for what, needle in (("whole", s), ("middle", s[mid - 8:mid + 8]), ("tail", s[-16:])):
            if needle and needle in text:
                found.append("%s (%s)" % (name, what))
                break
    return found


def run_suite(binary, long_run, seed):
    del long_run, seed  # one pass covers it
    w = common.Workspace().start(binary)
    echo = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    echo_url = "http://127.0.0.1:%d" % echo.server_address[1]
    outputs = []  # (label, text)
    figures = {"suite": "secrets", "runs": 0}
    try:
        # 1. deployer roles the profiles assume
        for acct in (A, B):
            iam = w.client("iam", acct, "us-east-1")
            iam.create_role(RoleName="rdsbk-deployer", AssumeRolePolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % acct},
                    "Action": "sts:AssumeRole"}]}))
            iam.attach_role_policy(RoleName="rdsbk-deployer",
                                   PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        config = os.path.join(w.dir, "aws-config")
        with open(config, "w") as f:
            for name, acct in (("deployer-a", A), ("deployer-b", B)):
                f.write("[profile %s]\nrole_arn = arn:aws:iam::%s:role/rdsbk-deployer\n"
                        "source_profile = %s\nregion = eu-west-1\n\n" % (name, acct, acct))
        w.env["AWS_CONFIG_FILE"] = config
        sources = [{"account": A, "region": common.RA, "profile": "deployer-a",
                    "instances": ["orders-db"]}]
        w.write_topology(stack="sec", sources=sources, backup_profile="deployer-b")
        os.umask(0)  # the tool must not rely on the caller's umask for 0600

        def run(label, *args, rc=0, env=None):
            proc = w.run(*args, env=env)
            check(proc.returncode == rc, "%s exited %d (expected %d):\n%s\n%s" % (
                label, proc.returncode, rc, proc.stdout[-1500:], proc.stderr[-2500:]))
            outputs.append((label + " stdout", proc.stdout))
            outputs.append((label + " stderr", proc.stderr))
            figures["runs"] += 1
            return proc

        plan_file = os.path.join(w.dir, "saved.plan")
        gen_dir = os.path.join(w.dir, "generated")
        # an old plan of mode 0644 where the new one goes: the new one must still be 0600
        with open(plan_file, "w") as f:
            f.write("{}\n")
        os.chmod(plan_file, 0o644)
        run("plan --out", "plan", "--debug", "--out", plan_file)
        run("apply PLAN", "apply", "--debug", plan_file)
        run("plan", "plan", "--debug", "--detailed-exitcode")
        run("apply --json", "apply", "--auto-approve", "--json", "--debug")
        run("state list", "state", "list", "--debug")
        run("generate", "generate", "--debug", "-o", gen_dir)

        # 2. failing calls
        w.faults(fault_rate=1.0, kinds=["500"])
        proc = run("failing call (500s)", "plan", "--debug", rc=1,
                   env={"RDSBK_RETRY_MAX_ATTEMPTS": "2"})
        check("InternalFailure" in proc.stderr, "the 500 failure was not reported:\n%s" %
              proc.stderr[-1500:])
        w.faults(fault_rate=0)
        w.write_topology(stack="sec", sources=sources, backup_profile="deployer-b",
                         endpoints={"kms": echo_url})
        proc = run("failing call (echoed headers)", "plan", "--debug", rc=1)
        check("InvalidSignatureException" in proc.stderr and "x-amz-security-token:" in
              proc.stderr, "the echo endpoint was not called:\n%s" % proc.stderr[-1500:])
        check("x-amz-security-token:[redacted]" in proc.stderr, "the echoed token was not "
              "redacted:\n%s" % proc.stderr[-1500:])
        w.write_topology(stack="sec", sources=sources, backup_profile="deployer-b")
        iam_b = w.client("iam", B, "us-east-1")
        iam_b.detach_role_policy(RoleName="rdsbk-deployer",
                                 PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        proc = run("failing call (AccessDenied)", "plan", "--debug", rc=1)
        check("AccessDenied" in proc.stderr or "not authorized" in proc.stderr,
              "no AccessDenied:\n%s" % proc.stderr[-1500:])
        iam_b.attach_role_policy(RoleName="rdsbk-deployer",
                                 PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        run("destroy", "destroy", "--auto-approve", "--debug")

        # 3. temporary credentials were really in play
        secrets = secrets_of(w)
        tokens = [k for k in secrets if k.startswith("session token")]
        check(len(tokens) >= 2, "only %d session tokens issued: the roles were not assumed" %
              len(tokens))
        principals = {r.get("principal") or "" for r in w.requests()}
        check(any(":assumed-role/rdsbk-deployer/" in p for p in principals),
              "no request was signed by the assumed role: %s" % sorted(principals)[:5])
        figures["secrets_searched"] = len(secrets)
        figures["session_tokens"] = len(tokens)

        # 4. positive control: the search finds a secret where there is one
        with open(w.harness.credentials_file) as f:
            check(leaks(f.read(), secrets), "the search does not find the root secrets in the "
                  "credentials file: it would find nothing anywhere")
        echo_secret = leaks(json.dumps({"k": list(secrets.values())[-1]}), secrets)
        check(echo_secret, "the search misses an embedded token")

        # 5. files the tool wrote
        written = [w.state, w.state + ".backup", plan_file]
        for path in written:
            check(os.path.exists(path), "%s was not written" % path)
            mode = stat.S_IMODE(os.stat(path).st_mode)
            check(mode == 0o600, "%s has mode %o under umask 000, not 600" % (path, mode))
        for root, _, files in os.walk(gen_dir):
            written += [os.path.join(root, f) for f in files]
        for path in written:
            with open(path, "rb") as f:
                outputs.append((os.path.relpath(path, w.dir), f.read().decode("latin-1")))
        figures["files_searched"] = len(written)
        figures["outputs_searched"] = len(outputs)
        figures["bytes_searched"] = sum(len(t) for _, t in outputs)

        found = []
        for label, text in outputs:
            for leak in leaks(text, secrets):
                found.append("%s: %s" % (label, leak))
        check(not found, "secrets found:\n  " + "\n  ".join(found))
        print("FIGURES " + json.dumps(figures, sort_keys=True))
    finally:
        echo.shutdown()
        w.stop()


if __name__ == "__main__":
    raise SystemExit(common.main(run_suite))
