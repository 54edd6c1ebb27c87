"""State damage: a damaged or foreign state file is refused, and nothing changes in AWS.

usage: /usr/bin/python3 tests/reliability/state_damage.py PATH/TO/rdsbk-provision [--long] [--seed N]

An applied stack (27 resources, state and state.backup on disk) and then, each case on a fresh
copy of that state:
  truncated      the file cut short (at 1/2, 1/3, 1 byte, and empty)
  padded         garbage after the document, NUL bytes inside it or after it
  corrupted      random runs of JSON punctuation written over the document (seeded; 3 short, 25
                 long; only damage that Python's json rejects too), and valid JSON that is not
                 a state (no lineage, resources not a list, a negative serial)
  wrong stack    the state of another stack
  newer format   format_version 2
  missing field  one resource without its region, account, id, type or address (made one the
                 topology no longer has, so that destroy and apply would act on it from the state
                 alone: a missing region used to crash the run and leave the lock behind)
`apply`, `plan` and `destroy` must each exit 1 with a message naming the file (and, for damage,
its .backup; for a missing field, the resource and the field, on one line), leave the state file
byte for byte as it was, make no mutating AWS call (the emulator's request log), report no
sanitizer error, and leave no lock behind. Then copying the .backup over the state, as the
message advises, makes apply converge again.

  swapped during a run  while an apply is under way (the emulator slowed to 150 ms a request),
                 the state file is replaced by one of another lineage (same stack), or of another
                 stack: the next save must refuse ("another state"), leave the swapped-in file
                 byte for byte, and the run must stop (exit 1) without starting further changes.
"""

import json
import os
import random
import shutil
import time
import uuid

import common
from common import check


def refused(w, label, expect, backup_named):
    with open(w.state, "rb") as f:
        before = f.read()
    for cmd in (("apply", "--auto-approve"), ("plan",), ("destroy", "--auto-approve")):
        w.clear_requests()
        proc = w.run(*cmd)
        what = "%s: %s" % (label, cmd[0])
        check(proc.returncode == 1, "%s exited %d:\n%s\n%s" % (
            what, proc.returncode, proc.stdout[-1500:], proc.stderr[-1500:]))
        check(expect in proc.stderr, "%s: %r not in:\n%s" % (what, expect, proc.stderr[-1500:]))
        line = [l for l in proc.stderr.splitlines() if expect in l][0]
        check(w.state in line, "%s: the message does not name %s on its line:\n%s" % (
            what, w.state, proc.stderr[-1500:]))
        if backup_named:
            check(w.state + ".backup" in line, "%s: the message does not name the backup on its "
                  "line:\n%s" % (what, proc.stderr[-1500:]))
        mutating = [r for r in w.requests() if r.get("mutating")]
        check(not mutating, "%s: mutating AWS calls: %s" % (what, mutating))
        check("Sanitizer" not in proc.stderr and "runtime error" not in proc.stderr,
              "%s: a sanitizer stopped the run:\n%s" % (what, proc.stderr[-1500:]))
        check(not os.path.exists(w.state + ".lock"), "%s: the lock was left behind" % what)
        with open(w.state, "rb") as f:
            check(f.read() == before, "%s: the state file was changed" % what)
    return proc.stderr.strip().splitlines()[-1]


def restore_from_backup(w, label):
    shutil.copyfile(w.state + ".backup", w.state)
    w.run("apply", "--auto-approve", check_rc=0)
    proc = w.run("plan", "--detailed-exitcode")
    check(proc.returncode == 0, "%s: after restoring the backup, plan exited %d:\n%s" % (
        label, proc.returncode, proc.stdout[-2000:]))


def swap_during_run(w, label, foreign):
    """Starts an apply that makes 3 slow changes, swaps the state for `foreign` once the run holds
    the lock, and checks the save refuses."""
    w.write_topology(stack="dmg", timeout=120)
    w.faults(latency_ms=150)
    w.clear_requests()
    proc = w.popen("apply", "--auto-approve", stdout=common.subprocess.PIPE,
                   stderr=common.subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        if any(r.get("mutating") for r in w.requests()):
            break
        time.sleep(0.02)
    swapped_at = len(w.requests())
    tmp = w.state + ".swap"
    with open(tmp, "w") as f:
        f.write(foreign)
    os.rename(tmp, w.state)
    stdout, stderr = proc.communicate(timeout=300)
    w.faults(latency_ms=0)
    check(proc.returncode == 1, "%s: apply exited %d after the swap:\n%s\n%s" % (
        label, proc.returncode, stdout[-1500:], stderr[-1500:]))
    check("now holds another state" in stderr, "%s: the save did not refuse:\n%s" % (
        label, stderr[-1500:]))
    with open(w.state) as f:
        check(f.read() == foreign, "%s: the swapped-in state was overwritten" % label)
    after = [r for r in w.requests()[swapped_at:] if r.get("mutating")]
    started = {r["operation"] for r in after}
    check(len(after) <= 3 and started <= {"UpdateFunctionConfiguration"},
          "%s: changes went on after the swap: %s" % (label, [r["operation"] for r in after]))
    return stderr.strip().splitlines()[-1]


def run_suite(binary, long_run, seed):
    rng = random.Random(seed)
    n_random = 25 if long_run else 3
    w = common.Workspace().start(binary)
    figures = {"suite": "state_damage", "seed": seed, "cases": 0}
    try:
        w.write_topology(stack="dmg")
        w.run("apply", "--auto-approve", check_rc=0)
        w.write_topology(stack="dmg", timeout=90)
        w.run("apply", "--auto-approve", check_rc=0)  # so that a .backup exists
        check(os.path.exists(w.state + ".backup"), "no state backup after two applies")
        with open(w.state, "rb") as f:
            good = f.read()
        doc = json.loads(good)

        cases = []
        for frac in (2, 3):
            cases.append(("truncated at 1/%d" % frac, good[:len(good) // frac], "damaged", True))
        cases.append(("truncated to 1 byte", good[:1], "damaged", True))
        cases.append(("empty", b"", "damaged", True))
        last = good.rindex(b"}")
        for i in range(n_random):
            b = bytearray(good)
            for _ in range(rng.randint(1, 8)):
                pos = rng.randrange(len(b) // 4, last - 3)
                b[pos:pos + 3] = bytes(rng.choice(b"{}[]\",:") for _ in range(3))
            try:
                json.loads(bytes(b))
                continue  # still valid JSON by chance: not this case
            except ValueError:
                pass
            cases.append(("corrupted bytes #%d" % (i + 1), bytes(b), "damaged", True))
        for name, mutate in (("no lineage", lambda d: d.pop("lineage")),
                             ("resources not a list", lambda d: d.update(resources={})),
                             ("negative serial", lambda d: d.update(serial=-4))):
            d = json.loads(good)
            mutate(d)
            cases.append(("valid JSON, " + name, json.dumps(d).encode(), "damaged", True))
        for field in ("region", "account", "id", "type", "address"):
            d = json.loads(good)
            k = len(d["resources"]) - 1
            gone = d["resources"][k]
            gone["address"] = "zz_gone." + gone["address"]  # the topology no longer has it
            where = "resources[%d] (%s)" % (k, gone["address"]) if field != "address" else \
                "resources[%d]" % k
            gone.pop(field)
            cases.append(("resource without %s" % field, json.dumps(d, indent=1).encode(),
                          '%s has no "%s"' % (where, field), True))
        d = dict(doc, stack="other")
        cases.append(("wrong stack", json.dumps(d).encode(), "belongs to stack 'other'", False))
        d = dict(doc, format_version=2)
        cases.append(("newer format", json.dumps(d).encode(), "state format 2 is newer", False))

        # cJSON alone would read these two as whole (it skips NULs as whitespace and stops after
        # the first value); rdsbk_state_parse refuses them
        cases.append(("trailing garbage after the document", good + b"\n}garbage", "damaged",
                      True))
        cases.append(("NUL bytes inside the document", good[:last] + b"\x00" * 16 + good[last:],
                      "damaged", True))
        cases.append(("NUL bytes after the document (a zero-filled tail)", good + b"\x00" * 512,
                      "damaged", True))

        for label, data, expect, backup_named in cases:
            with open(w.state, "wb") as f:
                f.write(data)
            msg = refused(w, label, expect, backup_named)
            figures["cases"] += 1
            print("%s: refused: %s" % (label, msg[:160]), flush=True)
        restore_from_backup(w, "backup restore")
        print("restoring the .backup as advised: apply converges, plan shows no changes",
              flush=True)

        other_lineage = dict(json.loads(open(w.state).read()), lineage=str(uuid.uuid4()))
        msg = swap_during_run(w, "swapped (other lineage)", json.dumps(other_lineage))
        print("swapped for another lineage during apply: %s" % msg[:200], flush=True)
        figures["cases"] += 1
        shutil.copyfile(w.state + ".backup", w.state)
        w.write_topology(stack="dmg", timeout=90)
        w.run("apply", "--auto-approve", check_rc=0)
        other_stack = dict(json.loads(open(w.state).read()), stack="other",
                           lineage=str(uuid.uuid4()))
        msg = swap_during_run(w, "swapped (other stack)", json.dumps(other_stack))
        print("swapped for another stack's state during apply: %s" % msg[:200], flush=True)
        figures["cases"] += 1
        print("FIGURES " + json.dumps(figures, sort_keys=True))
    finally:
        w.stop()


if __name__ == "__main__":
    raise SystemExit(common.main(run_suite))
