#!/usr/bin/python3
"""Benchmarks of rdsbk-provision against the physical limit and against the AWS CLI by hand.

usage: /usr/bin/python3 bench/run.py [--latency-ms 50] [--bin PATH | --commit REV]
                                     [--sources 1,10,50] [--runs 5] [--quick] [--baseline]
                                     [--results FILE] [--raw FILE] [--parallelism N]
                                     [--max-threads N] [--emulator-front asyncio|threads]

Starts the emulator (bench/emu_server.py: tests/emulator/server.py plus the
resource-naming members on each request-log entry; served from one asyncio loop whose replies
leave a fixed latency after each request arrived; --emulator-front threads serves it from
server.py's thread per connection, as the bench did before the asyncio front), builds
the release binary in build-bench/ (from the working tree, or from exactly --commit REV via
git archive; or takes --bin), and for each number of sources (distinct
source accounts, fan-in) runs, on an emptied emulator, `runs` times the cycle

    apply (from nothing) -> plan (no-op) -> apply (after one change: functions.timeout_seconds
    60 -> 61) -> destroy

measuring for each: wall time, user+sys CPU (os.wait4 on the child) and peak RSS (GNU time's
%M) of the binary,
API calls and mutating calls (the emulator's request log), the emulator's own CPU, and the limit.

The limit (dependency depth of the calls actually made, times the latency): every logged call is
attributed to a resource of the graph that `rdsbk-provision generate` writes (resources.json) by
the members naming it (RoleName, FunctionName, rule Name, KeyId, ...). A call must wait for:
  - the previous call on the same resource that had ended before it started (calls the tool ran
    side by side on one resource stay side by side);
  - the account's STS GetCallerIdentity, when it came first (the tool checks whose credentials
    it holds before touching an account);
  - for a resource's first mutating call: the plan, i.e. every read that started before the
    first mutating call of the run (plan-then-apply: the whole diff is known before anything
    changes), and the last call on each resource it depends on (apply) or that depends on it
    (destroy), among those that had ended before it started;
  - for the key's ScheduleKeyDeletion: the RDS snapshot reads (the "encrypted copies" guard).
Calls that name no single resource (STS, RDS, DescribeEventBus) otherwise depend on nothing.
The longest path through these edges, in calls, times the latency is the bound. It is built
from the calls the tool made, so a redundant call that sits on a resource's chain raises the
bound too: the list of calls per resource (--raw) shows those separately, and a second limit
gives the read-backs (reads of a resource after its first change, but for Lambda's
GetFunctionConfiguration state poll) weight 0.

Queueing in the emulator shows in two more columns: how long it took to answer a call (median
and 90th percentile; the fixed latency alone would be 50/50), and the limit again with every call
on the chain weighed by that time instead of the fixed latency ("limit as answered"): what is
left between it and the wall time is the tool's own (start-up, CPU, calls waiting for a thread).

Also kept in --raw, from timing alone: the observed chain (walking back from the last reply to the
call that ended last before each call started) and the time on it spent outside any call (the
binary's own CPU, sleeps between polls, start-up and exit).

--baseline also runs bench/baseline-awscli.sh (create, then delete, one source, AWS CLI).
Results: a Markdown table on stdout and, with --results, in that file. Exit status 1 when a
workload failed, the no-op plan reported changes or made a mutating call, the change made
none, a call could not be attributed to a resource, or the CLI's pipeline differs from ours.
Owner: H9 (bench/).
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BACKUP = "222222222222"
REGION_B = "eu-west-1"
SOURCE_REGIONS = ("eu-central-1", "us-east-1", "ap-southeast-2", "eu-north-1", "us-west-2")
WORKLOADS = ("apply", "plan-noop", "apply-change", "destroy")
STACK = "bench"
GNU_TIME = "/usr/bin/time"


def source_account(i):
    return "1%011d" % (i + 1)


def topology(url, n_sources, timeout):
    lines = ["version: 1", "stack: %s" % STACK, "sources:"]
    for i in range(n_sources):
        acct = source_account(i)
        lines += ['  - account: "%s"' % acct,
                  "    region: %s" % SOURCE_REGIONS[i % len(SOURCE_REGIONS)],
                  '    profile: "%s"' % acct,
                  '    instances: ["db-%d"]' % i]
    lines += ["backup:", '  account: "%s"' % BACKUP, "  region: %s" % REGION_B,
              '  profile: "%s"' % BACKUP, "key:", "  deletion_window_days: 7",
              "functions:", "  timeout_seconds: %d" % timeout,
              "endpoints:", "  default: %s" % url]
    return "\n".join(lines) + "\n"


# -- the emulator -------------------------------------------------------------------------------

class Emulator:
    def __init__(self, accounts, latency_ms, workdir, front="asyncio"):
        self.creds = os.path.join(workdir, "emu-credentials")
        self.stderr = open(os.path.join(workdir, "emu-stderr.log"), "w")
        cmd = [sys.executable, os.path.join(HERE, "emu_server.py"), "--front", front, "--port", "0",
               "--accounts", ",".join(accounts), "--credentials-file", self.creds,
               "--latency-ms", str(latency_ms)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("ready "):
            self.stop()
            raise RuntimeError("emulator did not start: %r (see %s)" % (line, self.stderr.name))
        self.url = line.split(" ", 1)[1]

    def control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                return resp.status, json.loads(resp.read().decode() or "{}")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read().decode() or "{}")

    def reset(self):
        self.control("POST", "/_emu/reset")
        # A new function is Active at once: AWS's own settle time is not the tool's to win or
        # lose, and a fixed wait would not be a multiple of the request latency.
        self.control("POST", "/_emu/lambda-config", {"settle_s": 0})

    def requests(self):
        _, body = self.control("GET", "/_emu/requests")
        return body.get("requests", [])

    def clear(self):
        self.control("DELETE", "/_emu/requests")

    def cpu_s(self):
        with open("/proc/%d/stat" % self.proc.pid) as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


# -- running one measured process -----------------------------------------------------------------

def measure(cmd, env, cwd=None, timeout=1800):
    """Run cmd; return (status, wall_s, cpu_s, maxrss_kb, t_start, t_end, stdout, stderr).
    CPU comes from wait4 on this child (its own children included once reaped), peak RSS from
    GNU time (/usr/bin/time -f %M) when installed, else from wait4's ru_maxrss."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    rss_file = None
    if os.access(GNU_TIME, os.X_OK):
        # ru_maxrss of a child forked from this Python process would count Python's own pages
        # (about 20 MB) from before the exec: GNU time forks from a 1 MB process instead.
        fd, rss_file = tempfile.mkstemp(prefix="rss-")
        os.close(fd)
        cmd = [GNU_TIME, "-f", "%M", "-o", rss_file] + list(cmd)
    t0 = time.time()
    m0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    deadline = m0 + timeout
    status, ru = None, None
    while status is None:
        pid, st, rus = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            status, ru = os.waitstatus_to_exitcode(st), rus
            break
        if time.monotonic() > deadline:
            proc.kill()
            _, st, ru = os.wait4(proc.pid, 0)
            status = -9
            break
        time.sleep(0.002)
    wall = time.monotonic() - m0
    t1 = time.time()
    proc.returncode = status  # reaped by wait4: keep Popen from waiting again
    out.seek(0)
    err.seek(0)
    stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    out.close()
    err.close()
    maxrss = ru.ru_maxrss
    if rss_file is not None:
        with open(rss_file) as fh:
            text = fh.read().split()
        os.unlink(rss_file)
        if text and text[-1].isdigit():
            maxrss = int(text[-1])
    return status, wall, ru.ru_utime + ru.ru_stime, maxrss, t0, t1, stdout, stderr


# -- the limit: dependency depth of the calls made --------------------------------------------------

class Graph:
    """resources.json from `generate`, indexed by what names a resource in a request."""

    def __init__(self, resources):
        self.by_address = {r["address"]: r for r in resources}
        self.deps = {r["address"]: list(r["dependencies"]) for r in resources}
        self.rdeps = {a: [] for a in self.deps}
        for a, ds in self.deps.items():
            for d in ds:
                if d in self.rdeps:
                    self.rdeps[d].append(a)
        self.index = {}
        for r in resources:
            t, acct, region, name = r["type"], r["account"], r["region"], r["name"]
            if t in ("iam_role", "iam_role_policy"):
                self.index[(t, acct, name)] = r["address"]
            elif t in ("kms_key", "kms_alias"):
                self.index[(t, acct, region)] = r["address"]
            elif t in ("events_permission", "events_bus", "sns_topic", "sns_subscription"):
                self.index[(t, acct, name)] = r["address"]
            elif t in ("events_target", "lambda_permission"):
                # named by what they hang on: the rule, the function (which may carry several
                # permissions: then by statement id too)
                parent_type = "events_rule" if t == "events_target" else "lambda_function"
                for d in r["dependencies"]:
                    p = self.by_address.get(d)
                    if p and p["type"] == parent_type:
                        self.index.setdefault((t, acct, region, p["name"]), []).append(r["address"])
                        self.index[(t, acct, region, p["name"], name)] = r["address"]
            else:
                self.index[(t, acct, region, name)] = r["address"]

    def attribute(self, call):
        """The resource address a logged call worked on, or None. A call that names several
        (GetPolicy reads every permission of a function) gets the first of them."""
        found = self.candidates(call)
        return found[0] if found else None

    def candidates(self, call):
        found = self._lookup(call)
        if found is None:
            return []
        return found if isinstance(found, list) else [found]

    def _lookup(self, call):
        svc, op = call.get("service"), call.get("operation") or ""
        acct, region = call.get("account"), call.get("region")
        ident = call.get("ident") or {}
        get = self.index.get
        if svc == "iam":
            role = ident.get("RoleName")
            if role is None:
                return None
            if op.endswith("RolePolicy"):
                return get(("iam_role_policy", acct, role))
            return get(("iam_role", acct, role))
        if svc == "kms":
            if "Alias" in op:
                return get(("kms_alias", acct, region))
            return get(("kms_key", acct, region))
        if svc == "events":
            if op.endswith("EventBus") or (op == "PutPermission" and "StatementId" not in ident):
                return get(("events_bus", acct, ident.get("Name") or ident.get("EventBusName")))
            if "StatementId" in ident:
                return get(("events_permission", acct, ident["StatementId"]))
            if "Rule" in ident:
                found = get(("events_target", acct, region, ident["Rule"]))
                return found[0] if found else None
            name = ident.get("Name")
            if name is None and ":event-bus/" in ident.get("ResourceARN", ""):
                return get(("events_bus", acct, ident["ResourceARN"].rsplit("/", 1)[1]))
            if name is None and ":rule/" in ident.get("ResourceARN", ""):
                name = ident["ResourceARN"].rsplit("/", 1)[1]
            if name is not None:
                return get(("events_rule", acct, region, name))
            return None
        if svc == "lambda":
            fn = ident.get("FunctionName")
            if fn is None and ":function:" in ident.get("Resource", ""):
                fn = ident["Resource"].split(":function:", 1)[1].split(":", 1)[0]
            if fn is None:
                return None
            if fn.startswith("arn:"):
                fn = fn.split(":function:", 1)[1].split(":", 1)[0]
            if op in ("AddPermission", "RemovePermission", "GetPolicy"):
                if "StatementId" in ident:
                    return get(("lambda_permission", acct, region, fn, ident["StatementId"]))
                return get(("lambda_permission", acct, region, fn))
            return get(("lambda_function", acct, region, fn))
        if svc == "sns":
            if op in ("Subscribe", "Unsubscribe"):
                return get(("sns_subscription", acct, ident.get("Endpoint")))
            arn = ident.get("TopicArn") or ident.get("ResourceArn") or ""
            name = ident.get("Name") or arn.rsplit(":", 1)[-1]
            return get(("sns_topic", acct, name))
        if svc == "sqs":
            # a queue by its name, or the name its URL ends with (.../ACCOUNT/NAME)
            name = ident.get("QueueName") or (ident.get("QueueUrl") or "").rsplit("/", 1)[-1]
            return get(("sqs_queue", acct, region, name)) if name else None
        if svc == "logs":
            name = ident.get("logGroupName")
            if name is None and ":log-group:" in ident.get("resourceArn", ""):
                name = ident["resourceArn"].split(":log-group:", 1)[1].split(":", 1)[0]
            if name is None and "logGroupNamePrefix" in ident:
                name = ident["logGroupNamePrefix"]
            return get(("logs_log_group", acct, region, name)) if name else None
        return None


def critical_path(calls, graph, workload):
    """Longest chain (in calls) of must-happen-in-order calls; see the module docstring.
    Returns [(depth, chain) as made, the same without read-backs, (seconds, chain) with each
    call weighed by how long the emulator took to answer it]."""
    calls = sorted(calls, key=lambda c: c["time"])
    n = len(calls)
    if n == 0:
        return [(0, []), (0, []), (0.0, [])]
    # A call naming several resources (GetPolicy: every permission of a function) belongs to
    # the one among them that was worked on last (its read-back), else to the first.
    owner, last_seen = [], {}
    for i, c in enumerate(calls):
        cands = graph.candidates(c)
        a = max(cands, key=lambda x: last_seen.get(x, -1)) if len(cands) > 1 else \
            (cands[0] if cands else None)
        owner.append(a)
        if a is not None and c.get("mutating"):
            last_seen[a] = i
    first_mut_time = min((c["time"] for c in calls if c.get("mutating")), default=None)
    sts = {}
    for i, c in enumerate(calls):
        if c.get("service") == "sts" and c.get("operation") == "GetCallerIdentity":
            sts.setdefault(c.get("account"), i)
    by_res = {}
    for i, a in enumerate(owner):
        if a is not None:
            by_res.setdefault(a, []).append(i)
    first_mut = {}
    for a, idx in by_res.items():
        for i in idx:
            if calls[i].get("mutating"):
                first_mut[a] = i
                break
    plan_reads = [i for i, c in enumerate(calls)
                  if first_mut_time is not None and not c.get("mutating") and
                  c["time"] < first_mut_time]
    rds_reads = [i for i, c in enumerate(calls) if c.get("service") == "rds"]

    def before(i, candidates):
        """The candidates that had ended when call i started."""
        start = calls[i]["time"]
        return [j for j in candidates if j != i and calls[j]["end"] <= start]

    def last_before(i, candidates):
        done = before(i, candidates)
        return [max(done, key=lambda j: calls[j]["end"])] if done else []

    preds = [[] for _ in range(n)]
    for i, c in enumerate(calls):
        a = owner[i]
        s = sts.get(c.get("account"))
        if s is not None and s != i:
            preds[i] += before(i, [s])
        if a is not None:
            preds[i] += last_before(i, [j for j in by_res[a] if j < i])
            if first_mut.get(a) == i:
                preds[i] += before(i, plan_reads)
                related = graph.rdeps.get(a, []) if workload == "destroy" else graph.deps.get(a, [])
                for d in related:
                    preds[i] += last_before(i, by_res.get(d, []))
                if graph.by_address[a]["type"] == "kms_key" and workload == "destroy":
                    preds[i] += before(i, rds_reads)
    # Read-backs: reads of a resource after its first change, other than the function's state
    # poll (AWS says to wait for State/LastUpdateStatus). Weighed 1 for the limit "as made",
    # 0 for the limit without them.
    readback = [False] * n
    for a, i0 in first_mut.items():
        for i in by_res[a]:
            c = calls[i]
            if (calls[i]["time"] > calls[i0]["time"] and not c.get("mutating") and
                    c.get("operation") != "GetFunctionConfiguration"):
                readback[i] = True
    order = sorted(range(n), key=lambda i: calls[i]["time"])
    results = []
    served = [max(0.0, c["end"] - c["time"]) for c in calls]
    for weights in ([1] * n, [0 if rb else 1 for rb in readback], served):
        depth = list(weights)
        back = [None] * n
        for i in order:
            for j in preds[i]:
                if depth[j] + weights[i] > depth[i]:
                    depth[i], back[i] = depth[j] + weights[i], j
        tip = max(range(n), key=lambda i: depth[i])
        chain = []
        while tip is not None:
            chain.append(tip)
            tip = back[tip]
        chain.reverse()
        results.append((depth[chain[-1]], [(owner[i], calls[i]["operation"]) for i in chain
                                           if weights[i]]))
    return results


def observed_chain(calls, t_start, t_end):
    """Walk back from the last reply: each step to the call that ended last before this one
    started. Returns (calls on it, seconds of the wall spent outside any call on it)."""
    if not calls:
        return 0, t_end - t_start
    by_end = sorted(calls, key=lambda c: c["end"])
    cur = by_end[-1]
    length, in_calls = 1, cur["end"] - cur["time"]
    while True:
        prev = None
        for c in reversed(by_end):
            if c["end"] <= cur["time"]:
                prev = c
                break
        if prev is None:
            break
        cur = prev
        length += 1
        in_calls += cur["end"] - cur["time"]
    return length, (t_end - t_start) - in_calls


# -- the workloads --------------------------------------------------------------------------------

def tool_env(emu, home):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_SHARED_CREDENTIALS_FILE": emu.creds, "AWS_CONFIG_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true", "HOME": home, "NO_COLOR": "1"})
    return env


def run_cycle(binary, emu, n_sources, latency_ms, parallelism, workdir):
    """One apply/plan/apply-change/destroy cycle on an empty emulator. Returns {workload: m}."""
    emu.reset()
    d = tempfile.mkdtemp(prefix="cycle-", dir=workdir)
    topo = os.path.join(d, "rdsbk.yaml")
    env = tool_env(emu, d)
    with open(topo, "w") as fh:
        fh.write(topology(emu.url, n_sources, 60))
    gen = os.path.join(d, "gen")
    subprocess.run([binary, "generate", "-o", gen, "-f", topo], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    with open(os.path.join(gen, "resources.json")) as fh:
        graph = Graph(json.load(fh))
    par = ["--parallelism", str(parallelism)] if parallelism else []
    steps = [("apply", ["apply", "--auto-approve"] + par, 0),
             ("plan-noop", ["plan", "--detailed-exitcode"] + par, 0),
             ("apply-change", ["apply", "--auto-approve"] + par, 0),
             ("destroy", ["destroy", "--auto-approve"] + par, 0)]
    results = {}
    for name, args, want in steps:
        if name == "apply-change":
            with open(topo, "w") as fh:
                fh.write(topology(emu.url, n_sources, 61))
        emu.clear()
        cpu0 = emu.cpu_s()
        status, wall, cpu, rss, t0, t1, out, err = measure([binary] + args + ["-f", topo], env)
        emu_cpu = emu.cpu_s() - cpu0
        calls = [c for c in emu.requests() if c.get("operation")]
        m = {"status": status, "wall_s": wall, "cpu_s": cpu, "maxrss_kb": rss,
             "calls": len(calls), "mutating": sum(1 for c in calls if c.get("mutating")),
             "errors": sum(1 for c in calls if not str(c.get("status")).startswith("2")),
             "emu_cpu_s": emu_cpu, "resources": len(graph.by_address)}
        if status != want:
            m["failure"] = "exit %d (wanted %d): %s%s" % (status, want, out[-1500:], err[-1500:])
        (depth, chain), (lean, lean_chain), (served_s, _) = critical_path(
            calls, graph, name.split("-")[0])
        m["depth"] = depth
        m["limit_s"] = depth * latency_ms / 1000.0
        m["chain"] = ["%s %s" % (a or "-", op) for a, op in chain]
        m["depth_no_readback"] = lean
        m["chain_no_readback"] = ["%s %s" % (a or "-", op) for a, op in lean_chain]
        m["observed_chain"], m["outside_calls_s"] = observed_chain(calls, t0, t1)
        m["limit_served_s"] = served_s
        answer_ms = sorted((c["end"] - c["time"]) * 1000.0 for c in calls)
        m["answer_ms_p50"] = answer_ms[len(answer_ms) // 2] if answer_ms else 0.0
        m["answer_ms_p90"] = answer_ms[int(len(answer_ms) * 0.9)] if answer_ms else 0.0
        per_res = {}
        for c in calls:
            a = graph.attribute(c) or "(%s %s)" % (c.get("service"), c.get("account"))
            per_res.setdefault(a, []).append(c["operation"])
        m["calls_per_resource"] = per_res
        m["unattributed"] = sorted(set(
            "%s:%s" % (c.get("service"), c.get("operation")) for c in calls
            if graph.attribute(c) is None and c.get("service") not in ("sts", "rds") and
            c.get("operation") != "DescribeEventBus"))
        ops = {}
        for c in calls:
            k = "%s:%s" % (c.get("service"), c.get("operation"))
            ops[k] = ops.get(k, 0) + 1
        m["operations"] = ops
        results[name] = m
        if "failure" in m:
            break
    shutil.rmtree(d, ignore_errors=True)
    return results


def run_baseline(emu, workdir, binary):
    """bench/baseline-awscli.sh create, then delete, on an empty emulator (one source)."""
    emu.reset()
    d = tempfile.mkdtemp(prefix="baseline-", dir=workdir)
    topo = os.path.join(d, "rdsbk.yaml")
    env = tool_env(emu, d)
    with open(topo, "w") as fh:
        fh.write(topology(emu.url, 1, 60))
    gen = os.path.join(d, "gen")
    subprocess.run([binary, "generate", "-o", gen, "-f", topo], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    env["AWS_CLI"] = os.environ.get("AWS_CLI", "/usr/bin/aws")
    results = {}
    for phase in ("create", "delete"):
        emu.clear()
        cpu0 = emu.cpu_s()
        status, wall, cpu, rss, _, _, out, err = measure(
            ["/bin/sh", os.path.join(HERE, "baseline-awscli.sh"), phase, emu.url, gen,
             source_account(0), SOURCE_REGIONS[0], BACKUP, REGION_B, STACK], env)
        calls = [c for c in emu.requests() if c.get("operation")]
        m = {"status": status, "wall_s": wall, "cpu_s": cpu, "maxrss_kb": rss,
             "calls": len(calls), "mutating": sum(1 for c in calls if c.get("mutating")),
             "emu_cpu_s": emu.cpu_s() - cpu0}
        if status != 0:
            m["failure"] = "exit %d: %s%s" % (status, out[-1500:], err[-2500:])
        results[phase] = m
        if status != 0:
            break
        if phase == "create":
            # The same pipeline? Our plan, with no state, against what the CLI built: everything
            # found under the stack's names is adopted; nothing should need adding or changing.
            proc = subprocess.run([binary, "plan", "--json", "-f", topo], env=env,
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True)
            try:
                plan = json.loads(proc.stdout)
                m["plan_summary"] = plan.get("summary")
                m["plan_changes"] = sorted("%s %s %s" % (c.get("action"), c.get("address"),
                                                         ",".join(c.get("changed") or []))
                                           for c in plan.get("changes", [])
                                           if c.get("action") not in ("no-op", "adopt"))
            except ValueError:
                m["plan_summary"] = "plan failed: %s" % proc.stderr[-500:]
            for f in os.listdir(d):
                if f.startswith("rdsbk.state"):
                    os.unlink(os.path.join(d, f))
    _, inv = emu.control("GET", "/_emu/inventory")
    results["left_behind"] = [r for r in inv.get("resources", [])
                              if r.get("service") != "rds" and r.get("manager") != "AWS" and
                              not (r.get("type") == "key" and r.get("state") == "PendingDeletion")]
    shutil.rmtree(d, ignore_errors=True)
    return results


# -- summary -------------------------------------------------------------------------------------

def spread(values, fmt):
    if not values:
        return "-"
    med = statistics.median(values)
    if len(values) == 1:
        return fmt % med
    return (fmt + " (" + fmt + "–" + fmt + ")") % (med, min(values), max(values))


def table(results, latency_ms, baseline):
    lines = ["| sources | workload | wall s, median (min–max) | limit s (depth) | wall / limit "
             "| limit without read-backs s (depth) | CPU ms (user+sys) | CPU µs / call "
             "| peak RSS MB | API calls | mutating | emulator CPU s "
             "| emulator answer ms p50/p90 | limit as answered s |",
             "| ---: | --- | --- | --- | ---: | --- | --- | ---: | --- | --- | ---: | ---: "
             "| --- | --- |"]
    for n in sorted(results):
        for w in WORKLOADS:
            runs = [r[w] for r in results[n] if w in r]
            if not runs:
                continue
            walls = [r["wall_s"] for r in runs]
            limits = [r["limit_s"] for r in runs]
            depths = [r["depth"] for r in runs]
            ratios = [r["wall_s"] / r["limit_s"] for r in runs if r["limit_s"] > 0]
            cpus = [r["cpu_s"] * 1000 for r in runs]
            per_call = [r["cpu_s"] * 1e6 / r["calls"] for r in runs if r["calls"]]
            rss = [r["maxrss_kb"] / 1024.0 for r in runs]
            calls = [r["calls"] for r in runs]
            muts = [r["mutating"] for r in runs]
            leans = [r["depth_no_readback"] for r in runs]
            lines.append("| %d | %s | %s | %s (%s) | %s | %s (%s) | %s | %s | %s | %s | %s | %s "
                         "| %s | %s |" % (
                n, w, spread(walls, "%.2f"), spread(limits, "%.2f"),
                "/".join(str(x) for x in sorted(set(depths))),
                ("%.2f" % statistics.median(ratios)) if ratios else "n/a",
                "%.2f" % (statistics.median(leans) * latency_ms / 1000.0),
                "/".join(str(x) for x in sorted(set(leans))),
                spread(cpus, "%.0f"), ("%.0f" % statistics.median(per_call)) if per_call else "-",
                spread(rss, "%.1f"), "/".join(str(x) for x in sorted(set(calls))),
                "/".join(str(x) for x in sorted(set(muts))),
                "%.2f" % statistics.median([r["emu_cpu_s"] for r in runs]),
                "%.0f/%.0f" % (statistics.median([r["answer_ms_p50"] for r in runs]),
                               statistics.median([r["answer_ms_p90"] for r in runs])),
                spread([r["limit_served_s"] for r in runs], "%.2f")))
    if baseline:
        lines += ["", "| baseline (1 source) | AWS CLI wall s | rdsbk-provision wall s | ours / CLI "
                  "| CLI API calls | ours API calls | CLI CPU s | ours CPU ms | CLI peak RSS MB |",
                  "| --- | --- | --- | ---: | --- | --- | --- | --- | --- |"]
        ours = {"create": "apply", "delete": "destroy"}
        for phase in ("create", "delete"):
            runs = [b[phase] for b in baseline if phase in b]
            mine = [r[ours[phase]] for r in results.get(1, []) if ours[phase] in r]
            if not runs:
                continue
            cli_wall = statistics.median([r["wall_s"] for r in runs])
            our_wall = statistics.median([r["wall_s"] for r in mine]) if mine else None
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                phase, spread([r["wall_s"] for r in runs], "%.2f"),
                spread([r["wall_s"] for r in mine], "%.2f"),
                ("%.3f" % (our_wall / cli_wall)) if our_wall else "-",
                "/".join(str(x) for x in sorted(set(r["calls"] for r in runs))),
                "/".join(str(x) for x in sorted(set(r["calls"] for r in mine))),
                spread([r["cpu_s"] for r in runs], "%.1f"),
                spread([r["cpu_s"] * 1000 for r in mine], "%.0f"),
                spread([r["maxrss_kb"] / 1024.0 for r in runs], "%.0f")))
    return "\n".join(lines) + "\n"


def git(*args):
    return subprocess.run(["git", "-C", ROOT] + list(args), check=True, capture_output=True,
                          text=True).stdout.strip()


def build_release(commit=None):
    """Build the release binary: from the working tree into build-bench/, or, with a commit,
    from exactly that commit (git archive into a temporary tree, built in build-bench/<sha>).
    Returns (path, description of what was built)."""
    src = ROOT
    if commit:
        sha = git("rev-parse", "--verify", commit + "^{commit}")
        src = os.path.join(ROOT, "build-bench", "src-" + sha[:12])
        bdir = os.path.join(ROOT, "build-bench", sha[:12])
        if not os.path.isdir(src):
            os.makedirs(src)
            archive = subprocess.Popen(["git", "-C", ROOT, "archive", sha], stdout=subprocess.PIPE)
            subprocess.run(["tar", "-x", "-C", src], stdin=archive.stdout, check=True)
            archive.stdout.close()
            if archive.wait() != 0:
                raise RuntimeError("git archive %s failed" % sha)
        what = "commit %s" % sha[:12]
    else:
        bdir = os.path.join(ROOT, "build-bench")
        dirty = git("status", "--porcelain", "--", "src", "include", "templates", "CMakeLists.txt")
        what = "working tree at %s%s" % (git("rev-parse", "--short=12", "HEAD"),
                                         " with uncommitted changes" if dirty else "")
    subprocess.run(["cmake", "-S", src, "-B", bdir, "-DCMAKE_BUILD_TYPE=Release",
                    "-DRDSBK_TESTS=OFF"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", bdir, "-j2"], check=True, stdout=subprocess.DEVNULL)
    return os.path.join(bdir, "rdsbk-provision"), what


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    p.add_argument("--latency-ms", type=float, default=50.0)
    p.add_argument("--bin", help="the rdsbk-provision binary (default: build it in build-bench/)")
    p.add_argument("--commit", help="build this commit (git archive) instead of the working tree")
    p.add_argument("--sources", help="comma-separated numbers of sources (default 1,10,50)")
    p.add_argument("--runs", type=int, help="cycles per number of sources (default 5)")
    p.add_argument("--quick", action="store_true", help="1 run of 1 and 10 sources")
    p.add_argument("--baseline", action="store_true", help="also time bench/baseline-awscli.sh")
    p.add_argument("--baseline-runs", type=int, default=3)
    p.add_argument("--parallelism", type=int, help="pass --parallelism N to the tool")
    p.add_argument("--max-threads", type=int,
                   help="run the tool with RDSBK_MAX_THREADS=N (default: unset, the tool's cap "
                        "by the stack's size, whatever the calling environment has)")
    p.add_argument("--emulator-front", choices=("asyncio", "threads"), default="asyncio",
                   help="how bench/emu_server.py serves HTTP (default asyncio)")
    p.add_argument("--results", help="write the table (Markdown) to this file")
    p.add_argument("--raw", help="write every measurement (JSON) to this file")
    args = p.parse_args(argv)
    sizes = "1,10" if args.quick else "1,10,50"
    args.sizes = [int(x) for x in (args.sources or sizes).split(",") if x]
    if args.runs is None:
        args.runs = 1 if args.quick else 5
    # 50: the backup bus's policy holds a statement per source account, and a 51st passes
    # EventBridge's default quota of 10,240 characters (the tool refuses such a topology)
    if args.runs < 1 or not args.sizes or min(args.sizes) < 1 or max(args.sizes) > 50:
        p.error("--runs must be >= 1 and --sources within 1..50")
    return args


def s_terminate(signum, frame):
    raise SystemExit(128 + signum)  # runs the finally blocks: the emulator is stopped


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, s_terminate)
    os.environ.pop("RDSBK_MAX_THREADS", None)  # tool_env passes the rest of ours on
    if args.max_threads:
        os.environ["RDSBK_MAX_THREADS"] = str(args.max_threads)
    if args.bin:
        binary, built = os.path.abspath(args.bin), "given with --bin"
    else:
        binary, built = build_release(args.commit)
    workdir = tempfile.mkdtemp(prefix="rdsbk-bench-")
    accounts = [BACKUP] + [source_account(i) for i in range(max(args.sizes))]
    emu = Emulator(accounts, args.latency_ms, workdir, args.emulator_front)
    results, baseline, failures = {}, [], []
    try:
        for n in args.sizes:
            results[n] = []
            for r in range(args.runs):
                cycle = run_cycle(binary, emu, n, args.latency_ms, args.parallelism, workdir)
                results[n].append(cycle)
                brief = ", ".join("%s %.2fs %d calls" % (w, m["wall_s"], m["calls"])
                                  for w, m in cycle.items())
                sys.stderr.write("sources %d run %d: %s\n" % (n, r + 1, brief))
                for w, m in cycle.items():
                    if "failure" in m:
                        failures.append("sources %d %s: %s" % (n, w, m["failure"]))
                for w in WORKLOADS:
                    m = cycle.get(w)
                    if m is None:
                        failures.append("sources %d: %s did not run" % (n, w))
                    elif m["calls"] == 0:
                        failures.append("sources %d %s: no API call reached the emulator" % (n, w))
                    elif m["unattributed"]:
                        failures.append("sources %d %s: calls not attributed to a resource "
                                        "(the limit would be wrong): %s" % (n, w, m["unattributed"]))
                if cycle.get("apply-change", {}).get("mutating") == 0:
                    failures.append("sources %d: apply after the change made no mutating call" % n)
                noop = cycle.get("plan-noop")
                if noop and noop["mutating"]:
                    failures.append("sources %d: the no-op plan made %d mutating calls"
                                    % (n, noop["mutating"]))
                if failures:
                    break
            if failures:
                break
        if args.baseline and not failures:
            for r in range(args.baseline_runs):
                b = run_baseline(emu, workdir, binary)
                baseline.append(b)
                sys.stderr.write("baseline run %d: %s\n" % (r + 1, ", ".join(
                    "%s %.2fs %d calls" % (k, v["wall_s"], v["calls"])
                    for k, v in b.items() if isinstance(v, dict))))
                for k, v in b.items():
                    if isinstance(v, dict) and "failure" in v:
                        failures.append("baseline %s: %s" % (k, v["failure"]))
                create = b.get("create", {})
                if create.get("plan_changes") or not isinstance(create.get("plan_summary"), dict):
                    failures.append("baseline: the CLI's pipeline is not ours: %s %s" % (
                        create.get("plan_summary"), create.get("plan_changes")))
                if b["left_behind"]:
                    failures.append("baseline left behind: %s" % b["left_behind"][:5])
                if failures:
                    break
    finally:
        emu.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    text = ("Binary: %s (%s); latency %g ms per request (emulator front: %s); %d run(s) per "
            "size; %s; %s; %s.\n\n"
            % (binary, built, args.latency_ms, args.emulator_front, args.runs,
               "--parallelism %d" % args.parallelism if args.parallelism else
               "default parallelism",
               "RDSBK_MAX_THREADS=%d" % args.max_threads if args.max_threads else
               "default thread cap", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())))
    text += table(results, args.latency_ms, baseline)
    sys.stdout.write(text)
    if args.results:
        with open(args.results, "w") as fh:
            fh.write(text)
    if args.raw:
        with open(args.raw, "w") as fh:
            json.dump({"latency_ms": args.latency_ms, "emulator_front": args.emulator_front,
                       "binary": binary, "built": built,
                       "results": results,
                       "baseline": baseline}, fh, indent=1, sort_keys=True)
    for f in failures:
        sys.stderr.write("FAIL: %s\n" % f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
