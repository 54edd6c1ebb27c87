"""Endpoints: plain http only on loopback; TLS verification cannot be switched off.

usage: /usr/bin/python3 tests/reliability/endpoints.py PATH/TO/rdsbk-provision [--long] [--seed N]

1. Plain-http endpoints, given in the topology (`endpoints: default:` and per service) and in
   the environment (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_KMS): loopback hosts (127.0.0.0/8,
   localhost, *.localhost, [::1]) are accepted (the plan against the emulator on 127.0.0.1 and localhost
   succeeds; other loopback addresses get as far as connecting); every other host is refused
   with "plain http:// is allowed only to a loopback host", exit 1:
   private and public addresses, names that merely start with "localhost" or "127.", integer
   and hex spellings of 127.0.0.1, IPv4-mapped IPv6, 0.0.0.0, user info in the URL.
2. TLS verification: an https endpoint on 127.0.0.1 with a self-signed certificate is refused
   (certificate verification fails; the server never sees an HTTP request), also with every
   variable of the environment set that someone might expect to switch verification off.
3. The source: CURLOPT_SSL_VERIFYPEER / CURLOPT_SSL_VERIFYHOST are only ever set to 1L / 2L,
   nothing sets CURLOPT_SSL_VERIFYSTATUS/PROXY_SSL_VERIFY* to 0, and no getenv() or command
   line option name mentions insecure / verify / tls / ssl / cert.
"""

import glob
import json
import os
import re
import socket
import ssl
import subprocess
import threading

import common
from common import check

REFUSAL = "plain http:// is allowed only to a loopback host"

REFUSED_HOSTS = [
    "10.0.0.1", "192.168.1.10", "172.16.0.1", "8.8.8.8", "128.0.0.1", "0.0.0.0",
    "example.com", "localhost.example.com", "127.0.0.1.nip.io", "localhost6",
    "2130706433", "0x7f.0.0.1", "0177.0.0.1", "127.1", "127.0.0.256",
    "[::2]", "[::ffff:127.0.0.1]", "[fe80::1]",
]
# <name>.localhost: libcurl (7.85.0 and later) resolves it to loopback itself, never asking DNS
ACCEPTED_HOSTS = ["127.0.0.1", "localhost", "LOCALHOST", "127.0.0.2", "127.255.255.254", "[::1]",
                  "s3.localhost"]

# Names that a user might hope would switch TLS verification off; none may.
HOPEFUL_ENV = {
    "RDSBK_INSECURE": "1", "RDSBK_TLS_VERIFY": "0", "RDSBK_SSL_VERIFY": "0",
    "RDSBK_NO_VERIFY_SSL": "1", "AWS_VERIFY_SSL": "false", "AWS_NO_VERIFY_SSL": "1",
    "CURL_INSECURE": "1", "CURLOPT_SSL_VERIFYPEER": "0", "SSL_VERIFY": "0",
    "GIT_SSL_NO_VERIFY": "1", "PYTHONHTTPSVERIFY": "0", "NODE_TLS_REJECT_UNAUTHORIZED": "0",
}


def tls_server(dirpath):
    """A TLS server on 127.0.0.1 with a fresh self-signed certificate; records what arrives."""
    cert, key = os.path.join(dirpath, "cert.pem"), os.path.join(dirpath, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    seen = {"handshakes_ok": 0, "requests": 0, "connections": 0}

    def serve():
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            seen["connections"] += 1
            try:
                with ctx.wrap_socket(conn, server_side=True) as tls:
                    seen["handshakes_ok"] += 1
                    tls.settimeout(2)
                    if tls.recv(4096):
                        seen["requests"] += 1
            except (ssl.SSLError, OSError):
                pass

    threading.Thread(target=serve, daemon=True).start()
    return sock, "https://127.0.0.1:%d" % sock.getsockname()[1], seen


def source_checks():
    found = []
    files = glob.glob(os.path.join(common.ROOT, "src", "**", "*.[ch]"), recursive=True)
    files += glob.glob(os.path.join(common.ROOT, "include", "**", "*.h"), recursive=True)
    check(files, "no source files found under %s" % common.ROOT)
    envs, options = set(), set()
    sets = 0
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for m in re.finditer(r"CURLOPT_(PROXY_)?SSL_VERIFY(PEER|HOST|STATUS)\s*,\s*([^)]*)\)",
                             text):
            sets += 1
            what, value = m.group(2), m.group(3).strip()
            if value not in {"PEER": ("1L",), "HOST": ("2L",), "STATUS": ("1L",)}[what]:
                found.append("%s: CURLOPT_%sSSL_VERIFY%s set to %s" % (
                    os.path.relpath(path, common.ROOT), m.group(1) or "", what, value))
        envs.update(re.findall(r'getenv\(\s*"([A-Za-z0-9_]+)"', text))
        if os.sep + "cli" + os.sep in path:
            options.update(re.findall(r'\{\s*"([a-z][a-z0-9-]*)"\s*,', text))
    check(sets >= 2, "the source never sets CURLOPT_SSL_VERIFYPEER/HOST: the grep is broken")
    check("AWS_PROFILE" in envs and "force-key-deletion" in options,
          "the getenv()/option scan found %d/%d names: broken" % (len(envs), len(options)))
    bad = re.compile(r"insecure|verify|tls|ssl|cert|no-check", re.I)
    found += ["getenv(\"%s\")" % e for e in sorted(envs) if bad.search(e)]
    found += ["option --%s" % o for o in sorted(options) if bad.search(o)]
    return found, sets, len(envs), len(options)


def run_suite(binary, long_run, seed):
    del long_run, seed
    w = common.Workspace().start(binary)
    port = w.url.rsplit(":", 1)[1]
    figures = {"suite": "endpoints", "refused": 0, "accepted": 0}
    one_try = {"RDSBK_RETRY_MAX_ATTEMPTS": "1", "RDSBK_HTTP_TIMEOUT_MS": "3000"}
    try:
        # 1. plain http
        for host in REFUSED_HOSTS + ACCEPTED_HOSTS:
            url = "http://%s:%s" % (host, port)
            accepted = host in ACCEPTED_HOSTS
            for how in ("topology default", "topology kms", "AWS_ENDPOINT_URL",
                        "AWS_ENDPOINT_URL_KMS"):
                env = dict(one_try)
                if how == "topology default":
                    w.write_topology(stack="ep", endpoints={})
                    with open(w.topo) as f:
                        text = f.read().replace(w.url, url)
                    with open(w.topo, "w") as f:
                        f.write(text)
                elif how == "topology kms":
                    w.write_topology(stack="ep", endpoints={"kms": url})
                else:
                    w.write_topology(stack="ep")
                    with open(w.topo) as f:
                        text = f.read().split("endpoints:")[0]
                    with open(w.topo, "w") as f:
                        f.write(text)
                    env[how] = url
                    if how == "AWS_ENDPOINT_URL_KMS":
                        env["AWS_ENDPOINT_URL"] = w.url
                proc = w.run("plan", env=env)
                label = "%s via %s" % (url, how)
                if accepted:
                    check(REFUSAL not in proc.stderr, "%s refused:\n%s" % (label, proc.stderr))
                    if host.lower() in ("127.0.0.1", "localhost"):
                        check(proc.returncode == 0, "%s: plan exited %d:\n%s" % (
                            label, proc.returncode, proc.stderr[-1500:]))
                    figures["accepted"] += 1
                else:
                    check(proc.returncode == 1 and REFUSAL in proc.stderr,
                          "%s: not refused (exit %d):\n%s" % (label, proc.returncode,
                                                              proc.stderr[-1500:]))
                    figures["refused"] += 1
        w.write_topology(stack="ep", endpoints={})
        with open(w.topo) as f:
            text = f.read().replace(w.url, "http://user:pw@127.0.0.1:%s" % port)
        with open(w.topo, "w") as f:
            f.write(text)
        proc = w.run("plan", env=one_try)
        check(proc.returncode == 1 and "credentials" in proc.stderr.lower(),
              "user info in an endpoint was not refused:\n%s" % proc.stderr[-1000:])
        print("plain http: %d refusals and %d acceptances as expected" % (
            figures["refused"], figures["accepted"]), flush=True)

        # 2. TLS verification
        sock, https_url, seen = tls_server(w.dir)
        try:
            for label, env in (("default", {}), ("hopeful environment", HOPEFUL_ENV)):
                w.write_topology(stack="ep", endpoints={})
                with open(w.topo) as f:
                    text = f.read().replace(w.url, https_url)
                with open(w.topo, "w") as f:
                    f.write(text)
                e = dict(one_try)
                e.update(env)
                before = dict(seen)
                proc = w.run("plan", "--debug", env=e)
                check(proc.returncode == 1, "self-signed https (%s): plan exited %d:\n%s" % (
                    label, proc.returncode, proc.stderr[-1500:]))
                check(re.search(r"certificate|SSL|TLS", proc.stderr) is not None,
                      "self-signed https (%s): no certificate error:\n%s" % (
                          label, proc.stderr[-1500:]))
                check(seen["connections"] > before["connections"],
                      "self-signed https (%s): the server was never contacted" % label)
                check(seen["requests"] == before["requests"],
                      "self-signed https (%s): a request was sent over an unverified "
                      "connection" % label)
            figures["tls_connections_refused"] = seen["connections"]
            figures["tls_requests_received"] = seen["requests"]
        finally:
            sock.close()
        print("self-signed TLS endpoint refused (%d connections, 0 requests)" % (
            seen["connections"]), flush=True)

        # 3. the source
        found, sets, n_env, n_opt = source_checks()
        check(not found, "TLS verification can be weakened: %s" % found)
        figures.update({"verify_setopts": sets, "getenv_names": n_env, "cli_options": n_opt})
        print("source: %d VERIFY setopts, all on; %d getenv names and %d options, none about "
              "TLS" % (sets, n_env, n_opt), flush=True)
        print("FIGURES " + json.dumps(figures, sort_keys=True))
    finally:
        w.stop()


if __name__ == "__main__":
    raise SystemExit(common.main(run_suite))
