"""Least privilege: every policy the tool generates grants only what the pipeline needs.

usage: /usr/bin/python3 tests/reliability/least_privilege.py PATH/TO/rdsbk-provision [--long] [--seed N]

1. `rdsbk-provision generate` on examples/fan-in.yaml (three source accounts and Regions); every
   policy document it writes (IAM inline policies and trust policies, the key policy, the
   event-bus policy) is read and checked:
   - no NotAction / NotResource / NotPrincipal, only Allow;
   - no `*` Action and no service-wide `svc:*` Action, except the key policy's administrator
     statement whose only principal is the backup account's root (AWS requires it: a key policy
     without it locks the key out);
   - no bare `*` Resource except in the key policy (where `*` means "this key"); every other
     Resource is an ARN naming its partition, service, Region (not for IAM) and 12-digit account,
     with wildcards only in the resource name;
   - KMS actions in identity policies only on the shared key (`${backup.kms_key.shared#arn}`),
     but for the copy role's reading with its source's declared keys (sources[].kms_keys);
     CreateGrant/ListGrants/RevokeGrant only with kms:GrantIsForAWSResource;
   - RDS actions of a source account's roles only on that account's snapshots, of the listed
     databases (and CopyDBSnapshot on the option groups of Region-B the sources name), (but for
     Describe*, which the sweeps need on all of the account's snapshots in Region-B, and the
     copy sweep in its source's Region-A, to list them, and the deletions of retention, on the
     account's snapshots in Region-B tagged rdsbk:stack=<stack> only); the backup role's only on the listed databases'
     snapshots (with the same two exceptions in the backup account);
   - trust policies admit one AWS service principal, never an account or `*`, and only for the
     role's own account (aws:SourceAccount); EventBridge only for the stack's forwarding rules
     (aws:SourceArn);
   - the key policy names exactly: the backup account root, and the copy role of every source
     account; the bus policy: one statement naming every source account (its root), PutEvents
     on the stack's own bus in the backup account only, for the stack's "snapshot shared"
     events only (events:source and events:detail-type conditions); the alert topic's policy:
     sns:Publish for exactly the functions' roles, which may publish to it and nothing else of
     SNS.
2. The same topology applied to the emulator: every Lambda function's resource policy lets only
   events.amazonaws.com invoke it, one statement per rule that targets it, each with
   AWS:SourceArn naming that rule;
   the live IAM inline policies, key policy and bus policy are the generated ones.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile

import common
from common import check

A1, A3, A4, BK = "111111111111", "333333333333", "444444444444", "222222222222"
SOURCES = {A1: ("eu-central-1", ["orders-db"], []),
           A3: ("us-east-1", ["analytics-*"], ["aurora-reporting"]),
           A4: ("ap-southeast-2", ["payments-db"], [])}
# sources[].kms_keys of the example: the keys its copy role may read snapshots with
SOURCE_KEYS = {A3: ["arn:aws:kms:us-east-1:333333333333:key/0f3c2a9e-6d1b-4f7a-9c52-1e8b7d4a6c30"]}
# sources[].option_groups of the example
OPTION_GROUPS = {A4: ["payments-tde-eu-west-1"]}
RB = "eu-west-1"
KEY_REF = "${backup.kms_key.shared#arn}"
ARN = re.compile(r"^arn:aws:([a-z0-9-]+):([a-z0-9-]*):(\d{12}):(.+)$")
SERVICE_PRINCIPALS = {"lambda.amazonaws.com", "events.amazonaws.com"}


def as_list(v):
    return v if isinstance(v, list) else [v]


def check_statement_shape(name, st):
    for bad in ("NotAction", "NotResource", "NotPrincipal"):
        check(bad not in st, "%s: %s in %s" % (name, bad, st.get("Sid")))
    check(st.get("Effect") == "Allow", "%s: Effect %r" % (name, st.get("Effect")))


def stack_tagged_delete(st):
    """A statement that deletes one kind of snapshot only when it carries the stack's tag."""
    tag_key = {"rds:DeleteDBSnapshot": "rds:snapshot-tag/rdsbk:stack",
               "rds:DeleteDBClusterSnapshot": "rds:cluster-snapshot-tag/rdsbk:stack"}
    actions = as_list(st["Action"])
    cond = st.get("Condition", {})
    return (len(actions) == 1 and actions[0] in tag_key and list(cond) == ["StringEquals"]
            and cond["StringEquals"] == {tag_key[actions[0]]: "fleet-dr"})


def check_identity_policy(name, doc, account):
    problems = []
    for st in doc["Statement"]:
        check_statement_shape(name, st)
        check("Principal" not in st, "%s: a Principal in an identity policy" % name)
        actions = as_list(st["Action"])
        resources = as_list(st["Resource"])
        for a in actions:
            if a == "*" or a.endswith(":*"):
                problems.append("%s: Action %s" % (name, a))
        for r in resources:
            if r == KEY_REF:
                continue
            m = ARN.match(r)
            if not m:
                problems.append("%s: Resource %s is not a full ARN" % (name, r))
                continue
            svc, region, acct, rest = m.groups()
            if "*" in svc + region + acct:
                problems.append("%s: wildcard outside the resource name in %s" % (name, r))
            if svc != "iam" and not region:
                problems.append("%s: no Region in %s" % (name, r))
            # listing: in Region-B (the sweeps, retention), and in its source's Region-A for the
            # copy role (its sweep lists the system snapshots there)
            lists_here = region == RB or (name.endswith(".copy.policy.json") and
                                          region == SOURCES.get(account, ("",))[0])
            listing = (rest in ("snapshot:*", "cluster-snapshot:*") and lists_here and
                       acct == account and (all(a.startswith("rds:Describe") for a in actions)
                                            or stack_tagged_delete(st)))
            if rest in ("*", "snapshot:*", "cluster-snapshot:*", "event-bus/*",
                        "log-group:*") and not listing:
                problems.append("%s: all resources of a type: %s" % (name, r))
        sns = [a for a in actions if a.startswith("sns:")]
        if sns:
            # the functions report to the stack's alert topic, and do nothing else with SNS
            check(sns == ["sns:Publish"] and actions == sns and resources == [
                "arn:aws:sns:%s:%s:rdsbk-fleet-dr-alerts" % (RB, BK)],
                "%s: %s on %s" % (name, actions, resources))
        sqs = [a for a in actions if a.startswith("sqs:")]
        if sqs:
            # a function uses its own dead-letter queue, in its account and Region-B, and no other
            fn = re.search(r"(copy|share|backup_copy)_alerts\.policy\.json$", name)
            queue = "arn:aws:sqs:%s:%s:rdsbk-fleet-dr-%s-failed" % (
                RB, account, fn.group(1).replace("_", "-") if fn else "?")
            check(set(sqs) <= {"sqs:SendMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage",
                               "sqs:DeleteMessage"} and actions == sqs and resources == [queue],
                  "%s: %s on %s (expected %s)" % (name, actions, resources, queue))
        kms = [a for a in actions if a.startswith("kms:")]
        if kms and resources == SOURCE_KEYS.get(account) and name.endswith(".copy.policy.json"):
            # the source's own keys (sources[].kms_keys): read and grant to RDS, nothing more
            check(set(kms) <= {"kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant"},
                  "%s: %s on the source keys" % (name, kms))
        elif kms:
            if resources != [KEY_REF]:
                problems.append("%s: KMS actions on %s, not only the shared key" % (
                    name, resources))
            grants = [a for a in kms if a in ("kms:CreateGrant", "kms:ListGrants",
                                              "kms:RevokeGrant")]
            cond = st.get("Condition", {}).get("Bool", {}).get("kms:GrantIsForAWSResource")
            if grants and cond != "true":
                problems.append("%s: grant actions without kms:GrantIsForAWSResource" % name)
        rds = [a for a in actions if a.startswith("rds:")]
        for r in resources if rds else []:
            m = ARN.match(r)
            if not m or m.group(1) != "rds":
                problems.append("%s: rds actions on %s" % (name, r))
                continue
            acct, rest = m.group(3), m.group(4)
            if account != BK:
                check(acct == account, "%s: rds actions on another account's %s" % (name, r))
            else:
                check(acct in list(SOURCES) + [BK], "%s: rds on unknown account %s" % (name, r))
            db = rest.split(":")[-1]
            if rest.startswith("og:"):
                # a copy names its option group of Region-B (sources[].option_groups)
                check(actions == ["rds:CopyDBSnapshot"] and acct == account and
                      m.group(2) == RB and db in OPTION_GROUPS.get(account, []),
                      "%s: %s on option group %s" % (name, actions, r))
                continue
            if db == "*":
                # listing (the sweeps find what has no copy yet): read-only, in the role's own
                # account, in Region-B, and for the copy role in its source's Region-A too;
                # or deleting (retention), only what is tagged as the stack's, in Region-B
                copy_lists = (name.endswith(".copy.policy.json") and
                              m.group(2) == SOURCES.get(account, ("",))[0])
                check(acct == account and (
                    all(a.startswith("rds:Describe") for a in actions) and
                    (m.group(2) == RB or copy_lists) or
                    stack_tagged_delete(st) and m.group(2) == RB),
                    "%s: %s on every snapshot (%s)" % (name, actions, r))
                continue
            # a listed database's snapshots exactly (IAM's `?`: one character each), not those of
            # a longer name with the same prefix; a listed pattern (analytics-*) as it is
            names = [n for s in SOURCES.values() for n in s[1] + s[2]]
            exact = [re.escape(n[:-1]) + ".*" if n.endswith("*") else
                     re.escape(n) + re.escape("-????-??-??-??-??") + "(-[0-9]{12})?"
                     for n in names]
            check(any(re.fullmatch("(rds:)?" + x, db) for x in exact),
                  "%s: rds resource %s is not a listed database's snapshots" % (name, r))
        for a in actions:
            svc = a.split(":")[0]
            check(svc in ("rds", "kms", "logs", "events", "sns", "sqs"), "%s: unexpected service %s" % (
                name, a))
    return problems


def check_trust(name, doc, account):
    for st in doc["Statement"]:
        check_statement_shape(name, st)
        principal = st.get("Principal", {})
        check(list(principal) == ["Service"], "%s: trust principal %s" % (name, principal))
        check(set(as_list(principal["Service"])) <= SERVICE_PRINCIPALS and
              len(as_list(principal["Service"])) == 1, "%s: trust %s" % (name, principal))
        check(as_list(st["Action"]) == ["sts:AssumeRole"], "%s: trust action %s" % (
            name, st["Action"]))
        # confused deputy: the service acts for the role's own account only, EventBridge for
        # the stack's rules in that account only
        cond = st.get("Condition", {})
        check(cond.get("StringEquals", {}).get("aws:SourceAccount") == account,
              "%s: trust without aws:SourceAccount %s" % (name, account))
        if as_list(principal["Service"]) == ["events.amazonaws.com"]:
            arns = as_list(cond.get("ArnEquals", {}).get("aws:SourceArn"))
            check(arns and all(re.match(r"^arn:aws:events:[a-z0-9-]+:%s:rule/rdsbk-fleet-dr-"
                                        r"(forward|to-backup)$" % account, a) for a in arns),
                  "%s: EventBridge trust not limited to the stack's rules: %s" % (name, arns))


def check_key_policy(doc):
    admins, users = set(), set()
    for st in doc["Statement"]:
        check_statement_shape("key policy", st)
        principals = set(as_list(st["Principal"]["AWS"]))
        check("*" not in principals, "key policy: principal *")
        check(list(st["Principal"]) == ["AWS"], "key policy: principal %s" % st["Principal"])
        actions = as_list(st["Action"])
        check(as_list(st["Resource"]) == ["*"], "key policy: resource %s" % st["Resource"])
        if "kms:*" in actions or "*" in actions:
            check(actions == ["kms:*"], "key policy: admin actions %s" % actions)
            check(principals == {"arn:aws:iam::%s:root" % BK},
                  "key policy: kms:* for %s, not only the backup account" % principals)
            admins |= principals
        else:
            for a in actions:
                check(a.startswith("kms:") and not a.endswith(":*"), "key policy: %s" % a)
            if set(actions) & {"kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"}:
                check(st.get("Condition", {}).get("Bool", {}).get(
                    "kms:GrantIsForAWSResource") == "true", "key policy: grants unconditioned")
            users |= principals
    want_users = {"arn:aws:iam::%s:role/rdsbk-fleet-dr-copy" % a for a in SOURCES}
    check(admins == {"arn:aws:iam::%s:root" % BK}, "key policy administrators: %s" % admins)
    check(users == want_users, "key policy users %s, expected the copy roles %s" % (
        sorted(users), sorted(want_users)))


BUS_CONDITION = {"ForAllValues:StringEquals": {"events:source": "rdsbk.fleet-dr"},
                 "StringEquals": {"events:detail-type": "RDS Snapshot Shared"}}


def check_bus_policy(doc):
    check(len(doc["Statement"]) == 1, "bus policy: %d statements" % len(doc["Statement"]))
    st = doc["Statement"][0]
    check_statement_shape("bus policy", st)
    check(st["Action"] == "events:PutEvents", "bus policy: action %s" % st["Action"])
    check(st["Resource"] == "arn:aws:events:%s:%s:event-bus/rdsbk-fleet-dr-bus" % (RB, BK),
          "bus policy: resource %s" % st["Resource"])
    seen = set()
    for p in st["Principal"]["AWS"]:
        check(re.match(r"^arn:aws:iam::\d{12}:root$", p), "bus policy principal %s" % p)
        seen.add(p.split(":")[4])
    check(seen == set(SOURCES), "bus policy accounts %s, expected %s" % (sorted(seen),
                                                                          sorted(SOURCES)))
    check(st.get("Condition") == BUS_CONDITION,
          "bus policy: condition %s, expected %s" % (st.get("Condition"), BUS_CONDITION))


def check_topic_policy(doc):
    """The stack's alert topic: sns:Publish for exactly the functions' roles."""
    check(len(doc["Statement"]) == 1, "topic policy: %d statements" % len(doc["Statement"]))
    st = doc["Statement"][0]
    check_statement_shape("topic policy", st)
    check(st["Action"] == "sns:Publish", "topic policy: action %s" % st["Action"])
    check(st["Resource"] == "arn:aws:sns:%s:%s:rdsbk-fleet-dr-alerts" % (RB, BK),
          "topic policy: resource %s" % st["Resource"])
    want = {"arn:aws:iam::%s:role/rdsbk-fleet-dr-%s" % (a, f)
            for a in SOURCES for f in ("copy", "share")}
    want.add("arn:aws:iam::%s:role/rdsbk-fleet-dr-backup-copy" % BK)
    check(set(st["Principal"]["AWS"]) == want and "Condition" not in st,
          "topic policy principals %s, expected the functions' roles %s" % (
              sorted(st["Principal"]["AWS"]), sorted(want)))


def generated(binary, out_dir):
    proc = subprocess.run([binary, "generate", "-f",
                           os.path.join(common.ROOT, "examples", "fan-in.yaml"), "-o", out_dir],
                          capture_output=True, text=True, timeout=120)
    check(proc.returncode == 0, "generate exited %d: %s" % (proc.returncode, proc.stderr))
    docs = {}
    for root, _, files in os.walk(out_dir):
        for f in files:
            if f.endswith(".json") and ("policy" in f or "trust" in f):
                with open(os.path.join(root, f)) as fh:
                    docs[os.path.relpath(os.path.join(root, f), out_dir)] = json.load(fh)
    return docs


def static_checks(docs):
    problems = []
    counts = {"identity": 0, "trust": 0, "key": 0, "bus": 0, "topic": 0}
    for name, doc in sorted(docs.items()):
        if name == os.path.join("kms", "key-policy.json"):
            check_key_policy(doc)
            counts["key"] += 1
        elif name == os.path.join("events", "bus-policy.json"):
            check_bus_policy(doc)
            counts["bus"] += 1
        elif name == os.path.join("sns", "alerts-topic-policy.json"):
            check_topic_policy(doc)
            counts["topic"] += 1
        elif name.endswith(".trust.json"):
            m = re.search(r"account\[(\d{12})\]", name)
            check_trust(name, doc, m.group(1) if m else BK)
            counts["trust"] += 1
        elif name.endswith(".policy.json"):
            m = re.search(r"account\[(\d{12})\]", name)
            problems += check_identity_policy(name, doc, m.group(1) if m else BK)
            counts["identity"] += 1
    check(not problems, "over-broad policies:\n  " + "\n  ".join(problems))
    # identity: copy, share, events in each of 3 accounts and backup-copy; and the alerts
    # policy of each function's role (3 x 2 + 1)
    check(counts == {"identity": 17, "trust": 10, "key": 1, "bus": 1, "topic": 1},
          "expected 17 identity policies, 10 trust policies, a key, a bus and a topic policy: "
          "%s" % counts)
    return counts


def canon(doc):
    """Order-insensitive form of a policy document."""
    if isinstance(doc, dict):
        return tuple(sorted((k, canon(v)) for k, v in doc.items()))
    if isinstance(doc, list):
        return tuple(sorted((canon(v) for v in doc), key=repr))
    return doc


def live_checks(binary, docs):
    w = common.Workspace(accounts=(A1, BK, A3, A4)).start(binary)
    try:
        sources = [{"account": a, "region": r, "instances": [i + ("*" if i.endswith("-") else "")
                                                              for i in inst],
                    "clusters": cl, "kms_keys": SOURCE_KEYS.get(a),
                    "option_groups": {"payments-db": g for g in OPTION_GROUPS.get(a, [])}}
                   for a, (r, inst, cl) in SOURCES.items()]
        w.write_topology(stack="fleet-dr", sources=sources)
        w.run("apply", "--auto-approve", check_rc=0)
        key_arn = w.client("kms", BK, RB).describe_key(
            KeyId="alias/rdsbk-fleet-dr")["KeyMetadata"]["Arn"]
        n_perm = 0
        for acct in (A1, A3, A4, BK):
            ev, lam = w.client("events", acct, RB), w.client("lambda", acct, RB)
            rule_of = {}
            for bus in ev.list_event_buses()["EventBuses"]:
                on = {"EventBusName": bus["Name"]}
                for rule in ev.list_rules(**on)["Rules"]:
                    for t in ev.list_targets_by_rule(Rule=rule["Name"], **on)["Targets"]:
                        rule_of.setdefault(t["Arn"], []).append(rule["Arn"])
            for fn in lam.list_functions()["Functions"]:
                pol = json.loads(lam.get_policy(FunctionName=fn["FunctionName"])["Policy"])
                rules = sorted(rule_of.get(fn["FunctionArn"], []))
                check(rules, "%s is the target of no rule" % fn["FunctionName"])
                scoped = []
                for st in pol["Statement"]:
                    n_perm += 1
                    what = "%s permission %s" % (fn["FunctionName"], st.get("Sid"))
                    check(st["Principal"] == {"Service": "events.amazonaws.com"},
                          "%s: principal %s" % (what, st["Principal"]))
                    check(st["Action"] == "lambda:InvokeFunction", "%s: %s" % (
                        what, st["Action"]))
                    src = st.get("Condition", {}).get("ArnLike", {}).get(
                        "AWS:SourceArn") or st.get("Condition", {}).get(
                        "ArnEquals", {}).get("AWS:SourceArn")
                    check(src in rules, "%s: SourceArn %s, the rules that target it are %s" %
                          (what, src, rules))
                    scoped.append(src)
                check(sorted(scoped) == rules, "%s: permissions for %s, rules targeting it %s" % (
                    fn["FunctionName"], sorted(scoped), rules))
            iam = w.client("iam", acct, "us-east-1")
            for role in iam.list_roles()["Roles"]:
                name = role["RoleName"]
                for pname in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                    live = iam.get_role_policy(RoleName=name, PolicyName=pname)["PolicyDocument"]
                    short = name[len("rdsbk-fleet-dr-"):].replace("-", "_")
                    if pname == "rdsbk-alerts":
                        short += "_alerts"
                    prefix = "backup" if acct == BK else "account[%s]" % acct
                    gen_name = os.path.join("iam", "%s.iam_role_policy.%s.policy.json" % (
                        prefix, short))
                    check(gen_name in docs, "no generated policy %s for %s" % (gen_name, name))
                    want = json.loads(json.dumps(docs[gen_name]).replace(KEY_REF, key_arn))
                    check(canon(live) == canon(want), "%s: the live policy differs from the "
                          "generated one" % name)
        live_key = json.loads(w.client("kms", BK, RB).get_key_policy(
            KeyId=key_arn, PolicyName="default")["Policy"])
        check(canon(live_key["Statement"]) == canon(
            docs[os.path.join("kms", "key-policy.json")]["Statement"]),
            "the live key policy differs from the generated one")
        live_bus = json.loads(w.client("events", BK, RB).describe_event_bus(
            Name="rdsbk-fleet-dr-bus")["Policy"])
        check(canon(live_bus["Statement"]) == canon(
            docs[os.path.join("events", "bus-policy.json")]["Statement"]),
            "the live bus policy differs from the generated one")
        live_topic = json.loads(w.client("sns", BK, RB).get_topic_attributes(
            TopicArn="arn:aws:sns:%s:%s:rdsbk-fleet-dr-alerts" % (RB, BK))["Attributes"]["Policy"])
        check(canon(live_topic["Statement"]) == canon(
            docs[os.path.join("sns", "alerts-topic-policy.json")]["Statement"]),
            "the live alert topic policy differs from the generated one")
        check(n_perm >= 7, "%d Lambda permissions, expected at least 7" % n_perm)
        w.run("destroy", "--auto-approve", check_rc=0)
        return n_perm
    finally:
        w.stop()


def run_suite(binary, long_run, seed):
    del long_run, seed
    out = tempfile.mkdtemp(prefix="rdsbk-lp-")
    try:
        docs = generated(binary, out)
        counts = static_checks(docs)
        print("generated policies: %d identity, %d trust, key and bus policy: all narrow" % (
            counts["identity"], counts["trust"]), flush=True)
        n_perm = live_checks(binary, docs)
        print("live: %d Lambda permissions each scoped to the rule that targets it; IAM, key, "
              "bus and alert topic policies as generated" % n_perm, flush=True)
        figures = {"suite": "least_privilege", "lambda_permissions": n_perm}
        figures.update(counts)
        print("FIGURES " + json.dumps(figures, sort_keys=True))
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(common.main(run_suite))
