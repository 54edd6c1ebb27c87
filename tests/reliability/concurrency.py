"""Concurrency: two runs on one state at once: exactly one runs, the other is refused.

usage: /usr/bin/python3 tests/reliability/concurrency.py PATH/TO/rdsbk-provision [--long] [--seed N]

The emulator adds 80 ms to every request so that a run lasts seconds. Each round starts two
processes on the same topology and state (simultaneously, or the second a random moment after
the first): two applies on an empty stack, two applies that change a function's timeout, and an
apply racing a destroy. In every round exactly one process must finish its work (exit 0) and
the other must exit 1 with a message naming the holder (user, the winner's pid, host,
operation) and `state unlock`. Afterwards the lock file is gone, the state parses with a sane
serial (at most one save per change: the engine's state writer saves what changed since its
last write, so it went up by 1..N for N changes), its .backup is the serial before, and a plan shows no changes
(or, after a destroy, nothing is left). Short: 3 rounds; long: 20. Last, a lock file seen empty
(created, not yet written) and written 0.3 s later: the refusal must still name its holder.
"""

import json
import os
import random
import re
import subprocess
import time

import common
from common import check

LATENCY_MS = 80


def race(w, first, second, delay_s):
    """Starts `first`, then `second` after delay_s; returns their CompletedProcess-like tuples."""
    p1 = w.popen(*first, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if delay_s:
        time.sleep(delay_s)
    p2 = w.popen(*second, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = []
    for p in (p1, p2):
        stdout, stderr = p.communicate(timeout=300)
        out.append((p.pid, p.returncode, stdout, stderr))
    return out


def check_state(w, label):
    check(not os.path.exists(w.state + ".lock"), "%s: the lock file was left behind" % label)
    st = w.state_json()
    check(isinstance(st.get("serial"), int) and st["serial"] >= 1, "%s: serial %r" % (
        label, st.get("serial")))
    check(len(st.get("lineage", "")) == 36, "%s: lineage %r" % (label, st.get("lineage")))
    if os.path.exists(w.state + ".backup"):
        with open(w.state + ".backup") as f:
            backup = json.load(f)
        check(backup["serial"] == st["serial"] - 1 and backup["lineage"] == st["lineage"],
              "%s: backup serial %s / lineage %s vs state %s / %s" % (
                  label, backup["serial"], backup["lineage"], st["serial"], st["lineage"]))
    return st


def one_winner(results, label):
    winners = [r for r in results if r[1] == 0]
    losers = [r for r in results if r[1] != 0]
    check(len(winners) == 1 and len(losers) == 1, "%s: exit statuses %s (one must run, one be "
          "refused):\n%s" % (label, [r[1] for r in results],
                             "\n".join(r[3][-1500:] for r in results)))
    win, lose = winners[0], losers[0]
    check(lose[1] == 1, "%s: the refused run exited %d" % (label, lose[1]))
    m = re.search(r"locked by (\S+) \(pid (\d+) on (\S+), (\w+) since", lose[3])
    check(m is not None, "%s: the refusal does not name the holder:\n%s" % (label, lose[3][-1500:]))
    check(int(m.group(2)) == win[0], "%s: the refusal names pid %s, the holder was %d" % (
        label, m.group(2), win[0]))
    check(m.group(3) == os.uname().nodename, "%s: host %s" % (label, m.group(3)))
    check("state unlock" in lose[3], "%s: the refusal does not say how to unlock" % label)
    return win, lose


def run_suite(binary, long_run, seed):
    rounds = 20 if long_run else 3
    rng = random.Random(seed)
    w = common.Workspace(latency_ms=LATENCY_MS).start(binary)
    counts = {"rounds": 0, "refusals": 0}
    try:
        w.write_topology(stack="conc", timeout=60)
        n_create = json.loads(w.run("plan", "--json", check_rc=0).stdout)["summary"]["add"]
        check(n_create > 20, "the plan of an empty stack adds %d resources" % n_create)
        for rnd in range(1, rounds + 1):
            w.write_topology(stack="conc", timeout=60)
            delay = 0 if rnd == 1 else rng.uniform(0.0, 0.3)
            label = "round %d" % rnd

            # 1. two applies on an empty stack
            w.clear_requests()
            res = race(w, ("apply", "--auto-approve"), ("apply", "--auto-approve"), delay)
            win, lose = one_winner(res, label + " (create)")
            check("Apply complete! Resources: %d added" % n_create in win[2],
                  "%s: winner said %s" % (label, win[2][-800:]))
            st = check_state(w, label)
            check(len(st["resources"]) == n_create and 1 <= st["serial"] <= n_create,
                  "%s: serial %d for %d resources after creating %d" % (
                      label, st["serial"], len(st["resources"]), n_create))
            w.run("plan", "--detailed-exitcode", check_rc=0)

            # 2. two applies of a change (3 functions updated)
            w.write_topology(stack="conc", timeout=90)
            before = st["serial"]
            res = race(w, ("apply", "--auto-approve"), ("apply", "--auto-approve"), delay)
            win, lose = one_winner(res, label + " (update)")
            check("3 changed" in win[2], "%s: winner said %s" % (label, win[2][-800:]))
            st = check_state(w, label)
            check(before < st["serial"] <= before + 3, "%s: serial %d after 3 changes from %d" % (
                label, st["serial"], before))
            w.run("plan", "--detailed-exitcode", check_rc=0)

            # 3. apply against destroy: whichever wins, the outcome is consistent
            w.write_topology(stack="conc", timeout=60)
            first, second = ("destroy", "--auto-approve"), ("apply", "--auto-approve")
            if rng.random() < 0.5:
                first, second = second, first
            res = race(w, first, second, delay)
            win, lose = one_winner(res, label + " (apply/destroy)")
            check_state(w, label)
            if "Destroy complete!" in win[2]:
                check(w.live_inventory() == [], "%s: destroy won but left %s" % (
                    label, w.live_inventory()))
            else:
                w.run("plan", "--detailed-exitcode", check_rc=0)
                w.run("destroy", "--auto-approve", check_rc=0)
            check(w.live_inventory() == [], "%s: left %s" % (label, w.live_inventory()))
            counts["rounds"] += 1
            counts["refusals"] += 3
            print("%s ok (second start +%.2f s)" % (label, delay), flush=True)
            os.unlink(w.state)
            if os.path.exists(w.state + ".backup"):
                os.unlink(w.state + ".backup")
        # a lock seen between its creation and its content (the window the races above can hit
        # under load): the refusal still names the holder
        w.write_topology(stack="conc", timeout=60)
        holder = subprocess.Popen(["sleep", "30"])
        try:
            open(w.state + ".lock", "w").close()
            proc = w.popen("apply", "--auto-approve", stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
            time.sleep(0.3)
            with open(w.state + ".lock", "w") as f:
                json.dump({"holder": "ci", "pid": holder.pid, "host": os.uname().nodename,
                           "time": "2026-01-01T00:00:00Z", "operation": "apply"}, f)
            _, stderr = proc.communicate(timeout=120)
            check(proc.returncode == 1 and "locked by ci (pid %d" % holder.pid in stderr,
                  "a lock being written: exit %d, %s" % (proc.returncode, stderr[-1000:]))
        finally:
            holder.kill()
            holder.wait()
            os.unlink(w.state + ".lock")
        print("a lock caught while being written: the refusal names its holder", flush=True)
        counts.update({"suite": "concurrency", "seed": seed})
        print("FIGURES " + json.dumps(counts, sort_keys=True))
    finally:
        w.stop()


if __name__ == "__main__":
    raise SystemExit(common.main(run_suite))
