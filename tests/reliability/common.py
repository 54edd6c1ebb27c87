"""Shared pieces of the reliability and security suites (tests/reliability/*.py).

Owner: H8. Each suite drives the real rdsbk-provision binary against the bundled emulator
(tests/emulator), started in-process on port 0 by harness.Harness, and reads what the emulator
holds through its control API (/_emu/inventory, /_emu/requests) and boto3.

    w = Workspace(accounts=(A, B)).start()
    w.write_topology(stack="rel")
    proc = w.run("apply", "--auto-approve")
    w.emulator_objects()   # {(type, account, region, id)} of everything the pipeline could own
    w.state_objects()      # the same keys from the state file
    w.stop()
"""

import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))

from harness import Harness  # noqa: E402

A, B, C = "111111111111", "222222222222", "333333333333"
RA, RB = "eu-central-1", "eu-west-1"

# Short client timeouts and retry delays keep the suites fast; "hang" faults last longer than the
# timeout so that every hang is a client timeout (the env overrides are read in src/aws/http.c).
FAST_ENV = {"RDSBK_HTTP_TIMEOUT_MS": "2000", "RDSBK_RETRY_BASE_DELAY_MS": "50"}
HANG_S = 3.0

IAM_TYPES = ("iam_role", "iam_role_policy")


class Failure(Exception):
    """A broken promise: the suite prints it and exits 1."""


def check(cond, message):
    if not cond:
        raise Failure(message)


def topology_text(url, stack="rel", sources=None, backup=B, timeout=60, extra="",
                  backup_profile=None, endpoints=None):
    sources = sources or [{"account": A, "region": RA, "instances": ["orders-db"],
                           "clusters": ["aurora-main"]}]
    lines = ["version: 1", "stack: %s" % stack, "sources:"]
    for s in sources:
        lines += ['  - account: "%s"' % s["account"], "    region: %s" % s["region"],
                  '    profile: "%s"' % s.get("profile", s["account"]),
                  "    instances: [%s]" % ", ".join('"%s"' % i for i in s.get("instances", []))]
        if s.get("clusters"):
            lines.append("    clusters: [%s]" % ", ".join(s["clusters"]))
        if s.get("kms_keys"):
            lines.append("    kms_keys: [%s]" % ", ".join(s["kms_keys"]))
        if s.get("option_groups"):
            lines.append("    option_groups: {%s}" % ", ".join(
                "%s: %s" % item for item in sorted(s["option_groups"].items())))
    lines += ["backup:", '  account: "%s"' % backup, "  region: %s" % RB,
              '  profile: "%s"' % (backup_profile or backup), "key:",
              "  deletion_window_days: 7",
              "functions:", "  timeout_seconds: %d" % timeout]
    lines += ["endpoints:", "  default: %s" % url]
    lines += ["  %s: %s" % (k, v) for k, v in sorted((endpoints or {}).items())]
    return "\n".join(lines) + "\n" + extra


class Workspace:
    """One emulator, one temporary directory with a topology and its state, one environment."""

    def __init__(self, accounts=(A, B), env=None, **emu_options):
        emu_options.setdefault("hang_s", HANG_S)
        self.harness = Harness(accounts=accounts, **emu_options)
        self.accounts = list(accounts)
        self.url = self.harness.url
        self.dir = tempfile.mkdtemp(prefix="rdsbk-rel-")
        self.topo = os.path.join(self.dir, "rdsbk.yaml")
        self.state = os.path.join(self.dir, "rdsbk.state.json")
        self.sources = None
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("AWS_") and not k.startswith("RDSBK_")}
        self.env.update({"AWS_SHARED_CREDENTIALS_FILE": self.harness.credentials_file,
                         "AWS_CONFIG_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true",
                         "HOME": self.dir, "NO_COLOR": "1"})
        self.env.update(FAST_ENV)
        self.env.update(env or {})
        self.bin = None

    def start(self, binary):
        self.bin = binary
        self.harness.start()
        return self

    def stop(self):
        self.harness.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- the tool ---------------------------------------------------------------------------

    def write_topology(self, **kw):
        self.sources = kw.get("sources") or [{"account": A, "region": RA,
                                              "instances": ["orders-db"],
                                              "clusters": ["aurora-main"]}]
        kw["sources"] = self.sources
        with open(self.topo, "w") as f:
            f.write(topology_text(self.url, **kw))

    def argv(self, *args):
        return [self.bin] + list(args) + ["-f", self.topo]

    def run(self, *args, check_rc=None, timeout=300, env=None):
        e = dict(self.env)
        e.update(env or {})
        proc = subprocess.run(self.argv(*args), env=e, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)
        if check_rc is not None and proc.returncode != check_rc:
            raise Failure("rdsbk-provision %s exited %d (expected %d):\n%s\n%s" % (
                " ".join(args), proc.returncode, check_rc, proc.stdout[-3000:],
                proc.stderr[-3000:]))
        return proc

    def popen(self, *args, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        return subprocess.Popen(self.argv(*args), env=self.env, **kw)

    # -- the emulator -----------------------------------------------------------------------

    def control(self, method, path, body=None):
        status, out = self.harness.control(method, path, body)
        check(status == 200, "emulator %s %s -> %s %s" % (method, path, status, out))
        return out

    def faults(self, **kw):
        return self.control("POST", "/_emu/faults", kw)

    def wait_requests(self, timeout_s=30):
        """Until no AWS request is being handled (a killed client's requests still run)."""
        self.control("POST", "/_emu/wait-idle", {"requests": True, "timeout_s": timeout_s})

    def requests(self):
        body = self.control("GET", "/_emu/requests")
        return body.get("requests", []) if isinstance(body, dict) else body

    def clear_requests(self):
        self.control("DELETE", "/_emu/requests")

    def inventory(self):
        return self.control("GET", "/_emu/inventory")["resources"]

    def live_inventory(self):
        """The inventory but for RDS data, AWS-managed keys and keys pending deletion."""
        out = []
        for r in self.inventory():
            if r.get("service") == "rds" or r.get("manager") == "AWS":
                continue
            if r.get("type") == "key" and r.get("state") == "PendingDeletion":
                continue
            out.append(r)
        return out

    def pending_keys(self):
        return [r for r in self.inventory()
                if r.get("type") == "key" and r.get("state") == "PendingDeletion"]

    def client(self, service, account, region):
        return self.harness.client(service, account=account, region=region)

    def emulator_objects(self):
        """Every object in the emulator that the pipeline could own, as the set of
        (type, account, region, id) the state uses (IAM's region is "global"). Read with boto3:
        turn faults off first."""
        out = set()
        regions = {a: set() for a in self.accounts}
        for s in self.sources or []:
            regions[s["account"]].update((s["region"], RB))
        regions[B].add(RB)
        for acct in self.accounts:
            iam = self.client("iam", acct, "us-east-1")
            for role in iam.list_roles()["Roles"]:
                name = role["RoleName"]
                out.add(("iam_role", acct, "global", name))
                for pol in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                    out.add(("iam_role_policy", acct, "global", "%s:%s" % (name, pol)))
            for region in sorted(regions[acct]):
                ev = self.client("events", acct, region)
                for bus in ev.list_event_buses()["EventBuses"]:
                    on = {} if bus["Name"] == "default" else {"EventBusName": bus["Name"]}
                    if on:  # its policy is part of it
                        out.add(("events_bus", acct, region, bus["Name"]))
                    for rule in ev.list_rules(**on)["Rules"]:
                        out.add(("events_rule", acct, region, rule["Name"]))
                        for t in ev.list_targets_by_rule(Rule=rule["Name"], **on)["Targets"]:
                            out.add(("events_target", acct, region,
                                     "%s/%s" % (rule["Name"], t["Id"])))
                policy = ev.describe_event_bus().get("Policy")
                if policy:
                    for st in json.loads(policy).get("Statement", []):
                        out.add(("events_permission", acct, region, st["Sid"]))
                sns = self.client("sns", acct, region)
                for topic in sns.list_topics()["Topics"]:
                    # the state's id of a topic is its ARN (the topologies here subscribe nobody)
                    out.add(("sns_topic", acct, region, topic["TopicArn"]))
                lam = self.client("lambda", acct, region)
                for fn in lam.list_functions()["Functions"]:
                    name = fn["FunctionName"]
                    out.add(("lambda_function", acct, region, name))
                    try:
                        pol = json.loads(lam.get_policy(FunctionName=name)["Policy"])
                    except lam.exceptions.ResourceNotFoundException:
                        pol = {"Statement": []}
                    for st in pol.get("Statement", []):
                        out.add(("lambda_permission", acct, region, "%s/%s" % (name, st["Sid"])))
                sqs = self.client("sqs", acct, region)
                for url in sqs.list_queues().get("QueueUrls", []):
                    # the state's id of a queue is its ARN
                    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
                    out.add(("sqs_queue", acct, region, arn["Attributes"]["QueueArn"]))
                logs = self.client("logs", acct, region)
                for page in logs.get_paginator("describe_log_groups").paginate():
                    for group in page["logGroups"]:
                        out.add(("logs_log_group", acct, region, group["logGroupName"]))
        for r in self.live_inventory():
            if r["service"] != "kms":
                continue
            if r["type"] == "key":
                out.add(("kms_key", r["account"], r["region"], r["id"]))
            elif r["type"] == "alias":
                out.add(("kms_alias", r["account"], r["region"], r["id"]))
        return out

    def state_json(self):
        with open(self.state) as f:
            return json.load(f)

    def state_objects(self):
        if not os.path.exists(self.state):
            return set()
        out = set()
        for r in self.state_json()["resources"]:
            region = "global" if r["type"] in IAM_TYPES else r["region"]
            out.add((r["type"], r["account"], region, r["id"]))
        return out


def duplicates(inventory):
    """Anything that exists twice: the same (service, account, region, type, id), the same
    target/permission/statement listed twice under one resource, or more than one live
    customer key."""
    seen = collections.Counter((r["service"], r["account"], r["region"], r["type"], r["id"])
                               for r in inventory)
    out = ["%s x%d" % (k, n) for k, n in seen.items() if n > 1]
    for r in inventory:
        for field in ("targets", "permissions", "statements"):
            vals = r.get(field) or []
            if len(vals) != len(set(vals)):
                out.append("%s %s lists %s twice" % (r["type"], r["id"], field))
    keys = [r for r in inventory if r["service"] == "kms" and r["type"] == "key"]
    if len(keys) > 1:
        out.append("%d live customer keys: %s" % (len(keys), [k["id"] for k in keys]))
    return out


def type_counts(inventory):
    """{(service, type): count} plus the sub-objects the inventory lists per resource."""
    c = collections.Counter()
    for r in inventory:
        c["%s:%s" % (r["service"], r["type"])] += 1
        for field in ("targets", "permissions", "statements"):
            c["%s:%s.%s" % (r["service"], r["type"], field)] += len(r.get(field) or [])
    return dict(c)


def debug_retries(stderr):
    """Retries the client logged at --debug ("aws <op>: retry N of M in ...")."""
    return sum(1 for line in stderr.splitlines() if ": retry " in line and line.startswith("debug: aws "))


def main(run_suite):
    """usage: SUITE.py PATH/TO/rdsbk-provision [--long] [--seed N]"""
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        print("usage: %s PATH/TO/rdsbk-provision [--long] [--seed N]" % sys.argv[0])
        return 2
    binary = os.path.abspath(args[0])
    long_run = "--long" in args
    seed = 1
    if "--seed" in args:
        seed = int(args[args.index("--seed") + 1])
    t0 = time.time()
    try:
        run_suite(binary, long_run, seed)
    except Failure as err:
        print("FAIL: %s" % err)
        print("(%.1f s)" % (time.time() - t0))
        return 1
    print("PASS (%.1f s)" % (time.time() - t0))
    return 0
