"""Lost replies: AWS did the change, the answer never arrived.

usage: /usr/bin/python3 tests/reliability/lost_replies.py PATH/TO/rdsbk-provision [--long] [--seed N]

The emulator's own faults strike before a request reaches the service. This suite puts a proxy
between the tool and the emulator that forwards every request, and for 10% of the mutating ones
(Create/Put/Update/Delete/Add/Remove/Tag/Untag/Schedule/...) lets the emulator carry it out and
then drops the connection instead of relaying the answer: the client sees a reset and retries a
call that already took effect (CreateRole -> EntityAlreadyExists, CreateKey -> a second key, ...).

First, the reply of the stack's one CreateKey is lost: the tool sends CreateKey on a new
connection, so that libcurl does not send it again by itself (as it does on a reused connection
that dies before replying, unseen by the tool's attempt count), and its own retry reaps the twin
key. Then per cycle (2 short, 10 long): apply exits 0 at the first run (a retried create that is
refused as already existing adopts what the lost call made), plan shows no changes, the emulator
holds exactly what the state records (a key created twice was scheduled for deletion); destroy
exits 0 at the first run and leaves nothing. (The suite would re-run a failed apply or destroy up
to 8 times to tell "needs another run" from "never converges" in its message.) Figures: replies
dropped by operation, failed runs and why, anything left unknown.
"""

import collections
import http.client
import http.server
import json
import random
import re
import socket
import struct
import threading
import time
import urllib.parse

import common
from common import check

DROP_RATE = 0.1
MAX_RUNS = 8
MUTATING = re.compile(r"^(Create|Put|Update|Delete|Add|Remove|Tag|Untag|Schedule|Cancel|Attach|"
                      r"Detach|Modify|Enable|Disable|Publish|Replicate)")


def operation_of(handler, body):
    target = handler.headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    if handler.command == "POST" and body.startswith(b"Action="):
        return urllib.parse.parse_qs(body.decode()).get("Action", ["?"])[0]
    if handler.path.startswith("/2015-03-31/") or handler.path.startswith("/2017-03-31/"):
        # Lambda (rest-json): POST is CreateFunction or AddPermission, PUT an update
        return {"GET": "Get", "POST": "Create", "PUT": "Update",
                "DELETE": "Delete"}.get(handler.command, "?") + "Lambda" + (
                    "Permission" if handler.path.endswith("/policy") else "")
    return "?"


def make_proxy(upstream, rng, stats, drop_first=()):
    """The proxy; the first reply of each operation in `drop_first` is dropped too, and
    stats["reused:<op>"] counts those that came on a connection that had carried a request."""
    host, port = urllib.parse.urlsplit(upstream).netloc.split(":")
    lock = threading.Lock()

    class Proxy(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def handle_one(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            op = operation_of(self, body)
            conn = http.client.HTTPConnection(host, int(port), timeout=60)
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("connection", "keep-alive")}
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
            served = getattr(self, "served", 0)
            self.served = served + 1
            with lock:
                drop = bool(MUTATING.match(op)) and rng.random() < DROP_RATE
                if op in drop_first and not stats["dropped first:" + op]:
                    drop = True
                    stats["dropped first:" + op] += 1
                    stats["reused:" + op] += served > 0
                stats["forwarded"] += 1
                if drop:
                    stats["dropped"] += 1
                    stats["dropped:" + op] += 1
            if drop:
                # the change is done; the client gets a reset instead of the answer
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.close_connection = True
                return
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("connection", "content-length", "transfer-encoding"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = handle_one

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, "http://127.0.0.1:%d" % server.server_address[1]


def until_ok(w, label, *args):
    """Runs the tool until it exits 0; returns the failures' last lines."""
    failures = []
    for _ in range(MAX_RUNS):
        proc = w.run(*args)
        if proc.returncode == 0:
            return failures
        failures.append(proc.stderr.strip().splitlines()[-1][:300] if proc.stderr.strip()
                        else "exit %d" % proc.returncode)
    raise common.Failure("%s: %d runs failed:\n  %s" % (label, MAX_RUNS, "\n  ".join(failures)))


def run_suite(binary, long_run, seed):
    cycles = 10 if long_run else 2
    rng = random.Random(seed)
    stats = collections.Counter()
    w = common.Workspace().start(binary)
    drop_first = {"CreateKey"}
    proxy, proxy_url = make_proxy(w.url, rng, stats, drop_first)
    figures = {"suite": "lost_replies", "seed": seed, "cycles": cycles, "drop_rate": DROP_RATE,
               "failed_runs": 0, "left_unknown": []}
    reasons = collections.Counter()
    t0 = time.time()
    try:
        w.write_topology(stack="lost")
        with open(w.topo) as f:
            text = f.read().replace(w.url, proxy_url)
        with open(w.topo, "w") as f:
            f.write(text)

        # the stack's CreateKey loses its reply: one run, one live key, the twin scheduled
        proc = w.run("apply", "--auto-approve")
        check(proc.returncode == 0, "CreateKey's reply lost: apply exited %d:\n%s" % (
            proc.returncode, proc.stderr[-2000:]))
        check(stats["dropped first:CreateKey"] == 1, "CreateKey's reply was not dropped")
        check(stats["reused:CreateKey"] == 0, "CreateKey went on a reused connection")
        unknown = sorted(w.emulator_objects() - w.state_objects())
        check(not unknown, "CreateKey's reply lost: unknown to the state: %s" % unknown)
        # one live key, every twin scheduled for deletion (a random drop may have struck a
        # retried CreateKey too, making more than one twin)
        kms = w.client("kms", common.B, common.RB)
        states = sorted(kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"]
                        for k in kms.list_keys()["Keys"])
        check(states.count("Enabled") == 1 and len(states) >= 2 and
              set(states) == {"Enabled", "PendingDeletion"},
              "CreateKey's reply lost: keys %s, not one live and its twins scheduled for "
              "deletion" % states)
        fails = until_ok(w, "destroy after the lost CreateKey", "destroy", "--auto-approve")
        check(not fails and not w.emulator_objects(), "destroy after the lost CreateKey: %s %s" % (
            fails, sorted(w.emulator_objects())))
        print("CreateKey's reply lost: one live key, its twin scheduled for deletion", flush=True)

        for cycle in range(1, cycles + 1):
            fails = until_ok(w, "cycle %d apply" % cycle, "apply", "--auto-approve")
            proc = w.run("plan", "--detailed-exitcode")
            check(proc.returncode == 0, "cycle %d: plan after apply exited %d:\n%s" % (
                cycle, proc.returncode, proc.stdout[-2000:]))
            emu, state = w.emulator_objects(), w.state_objects()
            unknown = sorted(emu - state)
            check(not unknown, "cycle %d: after apply, unknown to the state: %s" % (cycle, unknown))
            check(not (state - emu), "cycle %d: the state records what does not exist: %s" % (
                cycle, sorted(state - emu)))
            dups = common.duplicates(w.live_inventory())
            check(not dups, "cycle %d: duplicated: %s" % (cycle, dups))
            fails += until_ok(w, "cycle %d destroy" % cycle, "destroy", "--auto-approve")
            left = sorted(w.emulator_objects())
            for f in fails:
                reasons[re.sub(r"[0-9a-f-]{36}|\d{12}|mrk-[0-9a-f]+", "#", f)[:160]] += 1
            figures["failed_runs"] += len(fails)
            figures["left_unknown"] += ["%s:%s" % (o[0], o[3]) for o in left]
            print("cycle %d/%d: %d failed runs before convergence; after apply %d object(s) not "
                  "in the state %s; after destroy left %s" % (
                      cycle, cycles, len(fails), len(unknown), unknown, left), flush=True)
            # what a destroy left (a key created twice) is cleaned up so the next cycle starts
            # from nothing
            kms = w.client("kms", common.B, common.RB)
            for o in left:
                if o[0] == "kms_key":
                    kms.schedule_key_deletion(KeyId=o[3], PendingWindowInDays=7)
            check(not fails, "cycle %d: runs failed on a lost reply (a retried create must "
                  "adopt what it created): %s" % (cycle, fails))
            check(not left, "cycle %d: destroy left %s" % (cycle, left))
        figures.update({k: v for k, v in stats.items()})
        figures["failure_reasons"] = dict(reasons)
        figures["wall_s"] = round(time.time() - t0, 1)
        print("FIGURES " + json.dumps(figures, sort_keys=True))
    finally:
        proxy.shutdown()
        w.stop()


if __name__ == "__main__":
    raise SystemExit(common.main(run_suite))
