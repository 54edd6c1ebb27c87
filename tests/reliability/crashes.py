"""Crashes: SIGKILL apply, and separately destroy, at random moments; the next run converges.

usage: /usr/bin/python3 tests/reliability/crashes.py PATH/TO/rdsbk-provision [--long] [--seed N]

The emulator adds 0-30 ms of jitter to every request so that a run lasts long enough to be cut
anywhere. First one clean apply and destroy measure how long each takes; then (5 of each short,
30 long; kill moments drawn from a seeded generator, uniform over most of the measured duration):

  apply kills: from an empty stack, start apply, SIGKILL it after t seconds, then
    - a lock left behind (the kill came after the lock was taken) is reported and taken over
      by the next run (its holder is dead);
    - odd kills: the next apply exits 0; the emulator then holds exactly what the state records
      (whatever the killed run created before saving it was adopted, not duplicated), nothing
      twice, one live customer key; plan says "No changes."; destroy leaves nothing;
    - even kills: the next run is a destroy, which must leave nothing either (including what the
      killed apply created but had not recorded yet).
  destroy kills: from an applied stack, start destroy, SIGKILL it after t seconds, then
    - everything still in the emulator is in the state (destroy forgets a resource only after
      deleting it);
    - the next destroy exits 0 and leaves nothing but keys pending deletion.
Figures: kills of each kind, how many left the state behind the emulator (objects created but not
yet recorded when the kill came), and wall time.
"""

import json
import os
import random
import signal
import time

import common
from common import check

JITTER_MS = 30
N_RESOURCES = [0]  # what a clean apply creates, measured first


def kill_after(w, args, t):
    proc = w.popen(*args)
    time.sleep(t)
    still_running = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # what the killed run had sent still runs in the emulator, as on AWS; read after it ends
    w.wait_requests()
    return still_running


def converged(w, label):
    live = w.live_inventory()
    dups = common.duplicates(live)
    check(not dups, "%s: duplicated: %s" % (label, dups))
    emu, state = w.emulator_objects(), w.state_objects()
    check(emu == state, "%s: emulator and state differ: only in the emulator %s, only in the "
          "state %s" % (label, sorted(emu - state), sorted(state - emu)))
    check(len(state) == N_RESOURCES[0], "%s: %d resources in the state, %d expected" % (
        label, len(state), N_RESOURCES[0]))
    proc = w.run("plan", "--detailed-exitcode")
    check(proc.returncode == 0 and "No changes." in proc.stdout, "%s: plan exited %d:\n%s\n%s" % (
        label, proc.returncode, proc.stdout[-2000:], proc.stderr[-1000:]))


def empty(w, label):
    left = w.emulator_objects()
    check(left == set(), "%s: left behind: %s" % (label, sorted(left)))
    check(w.live_inventory() == [], "%s: left behind: %s" % (label, w.live_inventory()))


def run_suite(binary, long_run, seed):
    n = 30 if long_run else 5
    rng = random.Random(seed)
    w = common.Workspace().start(binary)
    figures = {"suite": "crashes", "seed": seed, "apply_kills": 0, "destroy_kills": 0,
               "apply_kills_mid_run": 0, "destroy_kills_mid_run": 0,
               "apply_kills_leaving_unrecorded": 0, "unrecorded_objects_adopted": 0,
               "destroy_kills_leaving_stale_state": 0, "stale_locks_taken_over": 0}
    t0 = time.time()
    try:
        w.write_topology(stack="crash")
        w.faults(jitter_ms=JITTER_MS)
        ta = time.time()
        w.run("apply", "--auto-approve", check_rc=0)
        t_apply = time.time() - ta
        N_RESOURCES[0] = len(w.state_objects())
        td = time.time()
        w.run("destroy", "--auto-approve", check_rc=0)
        t_destroy = time.time() - td
        figures["apply_s"], figures["destroy_s"] = round(t_apply, 2), round(t_destroy, 2)
        print("a clean apply takes %.2f s, a destroy %.2f s" % (t_apply, t_destroy), flush=True)

        for i in range(1, n + 1):
            label = "apply kill %d" % i
            t = rng.uniform(0.0, t_apply * 0.9)
            mid = kill_after(w, ("apply", "--auto-approve"), t)
            figures["apply_kills"] += 1
            figures["apply_kills_mid_run"] += mid
            stale_lock = os.path.exists(w.state + ".lock")
            figures["stale_locks_taken_over"] += stale_lock
            unrecorded = w.emulator_objects() - w.state_objects()
            if unrecorded:
                figures["apply_kills_leaving_unrecorded"] += 1
                figures["unrecorded_objects_adopted"] += len(unrecorded)
            if i % 2:
                # the next run is an apply: it converges, adopting what was not recorded
                proc = w.run("apply", "--auto-approve", check_rc=0)
                converged(w, label)
                w.run("destroy", "--auto-approve", check_rc=0)
                nxt = "apply"
            else:
                # the next run is a destroy: it removes what was not recorded too
                proc = w.run("destroy", "--auto-approve", check_rc=0)
                nxt = "destroy"
            if stale_lock:
                check("taking over a stale lock" in proc.stderr,
                      "%s: the next run did not report the stale lock:\n%s" % (
                          label, proc.stderr[-1500:]))
            empty(w, label)
            print("%s at %.2f s ok (%s, %d objects not yet in the state, next run %s)" % (
                label, t, "mid-run" if mid else "after it ended", len(unrecorded), nxt),
                flush=True)

        for i in range(1, n + 1):
            label = "destroy kill %d" % i
            w.run("apply", "--auto-approve", check_rc=0)
            t = rng.uniform(0.1, 0.8) * t_destroy
            mid = kill_after(w, ("destroy", "--auto-approve"), t)
            figures["destroy_kills"] += 1
            figures["destroy_kills_mid_run"] += mid
            emu, state = w.emulator_objects(), w.state_objects()
            check(emu <= state, "%s: in the emulator but not in the state: %s" % (
                label, sorted(emu - state)))
            if state - emu:
                figures["destroy_kills_leaving_stale_state"] += 1
            w.run("destroy", "--auto-approve", check_rc=0)
            empty(w, label)
            print("%s at %.2f s ok (%s, %d left, %d gone but still in the state)" % (
                label, t, "mid-run" if mid else "after it ended", len(emu), len(state - emu)),
                flush=True)
        check(figures["apply_kills_mid_run"] > 0 and figures["destroy_kills_mid_run"] > 0,
              "no kill landed while a run was under way: the suite tested nothing")
        figures["wall_s"] = round(time.time() - t0, 1)
        print("FIGURES " + json.dumps(figures, sort_keys=True))
    finally:
        w.stop()


if __name__ == "__main__":
    raise SystemExit(common.main(run_suite))
