"""Faults: apply -> plan -> destroy cycles through an unreliable AWS always converge.

usage: /usr/bin/python3 tests/reliability/faults.py PATH/TO/rdsbk-provision [--long] [--seed N]

The emulator answers 20% of AWS requests with a fault (throttling, 500, 503, a reset connection,
or a hang longer than the client's timeout, one kind in five each) and adds 0-40 ms of latency
jitter to every request. Faults stay on for apply, plan AND destroy: plan's refresh goes through
the same retries and must still find nothing to do. Faults are switched off only while the suite
itself inspects the emulator with boto3.

Per cycle (3 short, 50 long):
  1. apply exits 0; the emulator holds exactly what the state records, nothing twice, one live
     customer key, the same count of every resource type as the first cycle;
  2. `plan --detailed-exitcode` exits 0 and says "No changes.";
  3. destroy exits 0; nothing the pipeline owns is left but the keys pending deletion (one more
     per cycle).
Prints the figures: cycles, requests, faults injected by kind, client retries, wall time.
"""

import collections
import json
import time

import common
from common import check

FAULT_RATE = 0.2
JITTER_MS = 40


def run_suite(binary, long_run, seed):
    cycles = 50 if long_run else 3
    w = common.Workspace().start(binary)
    totals = collections.Counter()
    baseline = None
    t0 = time.time()
    try:
        w.write_topology(stack="faults")
        for cycle in range(1, cycles + 1):
            tc = time.time()
            w.clear_requests()
            w.faults(fault_rate=FAULT_RATE, jitter_ms=JITTER_MS, seed=seed * 1000 + cycle,
                     kinds=["throttle", "500", "503", "reset", "hang"])
            retries = 0

            # 1. apply
            proc = w.run("apply", "--auto-approve", "--debug", check_rc=0)
            retries += common.debug_retries(proc.stderr)
            check("Apply complete!" in proc.stdout, "cycle %d: apply said:\n%s" % (
                cycle, proc.stdout[-2000:]))
            w.faults(fault_rate=0)
            live = w.live_inventory()
            dups = common.duplicates(live)
            check(not dups, "cycle %d: duplicated after apply: %s" % (cycle, dups))
            counts = common.type_counts(live)
            if baseline is None:
                baseline = counts
            check(counts == baseline, "cycle %d: resource counts %s differ from cycle 1's %s" % (
                cycle, counts, baseline))
            emu, state = w.emulator_objects(), w.state_objects()
            check(emu == state, "cycle %d: emulator and state differ: only in the emulator %s, "
                  "only in the state %s" % (cycle, sorted(emu - state), sorted(state - emu)))

            # 2. plan, faults on
            w.faults(fault_rate=FAULT_RATE)
            proc = w.run("plan", "--detailed-exitcode", "--debug")
            retries += common.debug_retries(proc.stderr)
            check(proc.returncode == 0 and "No changes." in proc.stdout,
                  "cycle %d: plan after apply exited %d:\n%s\n%s" % (
                      cycle, proc.returncode, proc.stdout[-3000:], proc.stderr[-2000:]))

            # 3. destroy, faults on
            proc = w.run("destroy", "--auto-approve", "--debug", check_rc=0)
            retries += common.debug_retries(proc.stderr)
            w.faults(fault_rate=0)
            left = w.live_inventory()
            check(left == [], "cycle %d: left after destroy: %s" % (cycle, left))
            left = w.emulator_objects()
            check(left == set(), "cycle %d: left after destroy: %s" % (cycle, sorted(left)))
            pending = w.pending_keys()
            check(len(pending) == cycle, "cycle %d: %d keys pending deletion, expected %d" % (
                cycle, len(pending), cycle))

            reqs = w.requests()
            kinds = collections.Counter(r["status"][6:] for r in reqs
                                        if str(r.get("status", "")).startswith("fault:"))
            n_faults = sum(kinds.values())
            totals["requests"] += len(reqs)
            totals["faults"] += n_faults
            totals["retries"] += retries
            for k, n in kinds.items():
                totals["fault:" + k] += n
            print("cycle %d/%d ok: %d requests, %d faults %s, %d retries, %.1f s" % (
                cycle, cycles, len(reqs), n_faults, dict(sorted(kinds.items())), retries,
                time.time() - tc), flush=True)
        check(totals["faults"] > 0, "no fault was injected: the suite tested nothing")
        check(totals["retries"] > 0, "the client never retried: the suite tested nothing")
        figures = {"suite": "faults", "cycles": cycles, "seed": seed,
                   "fault_rate": FAULT_RATE, "jitter_ms": JITTER_MS,
                   "wall_s": round(time.time() - t0, 1)}
        figures.update(totals)
        print("FIGURES " + json.dumps(figures, sort_keys=True))
    finally:
        w.stop()


if __name__ == "__main__":
    raise SystemExit(common.main(run_suite))
