#!/usr/bin/python3
"""Local AWS emulator for rdsbk-provision's tests: one process, 127.0.0.1 only.

Usage: server.py --port 0 --accounts 111111111111,222222222222 --credentials-file PATH
                 [--latency-ms N] [--jitter-ms N] [--fault-rate F] [--seed S]
                 [--iam-propagation-ms N] [--sqs-name-reuse-wait-s N] [--fault-kinds throttle,500,503,reset,hang]
Prints "ready http://127.0.0.1:PORT" once it accepts requests. See README.md beside it.
Owner: H3.
"""

import argparse
import os
import re
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from emu import core  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description="Local AWS emulator (IAM, STS, KMS, EventBridge, "
                                            "Lambda, RDS, CloudWatch Logs, SNS, SQS, S3)")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--accounts", required=True, help="comma-separated 12-digit account ids")
    p.add_argument("--credentials-file", required=True)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--jitter-ms", type=float, default=0.0)
    p.add_argument("--fault-rate", type=float, default=0.0)
    p.add_argument("--fault-kinds", default=",".join(core.FAULT_KINDS))
    p.add_argument("--hang-s", type=float, default=10.0, help="how long a 'hang' fault stalls")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--iam-propagation-ms", type=float, default=0.0)
    p.add_argument("--sqs-name-reuse-wait-s", type=float, default=0.0,
                   help="how long SQS refuses the name of a deleted queue (AWS: 60)")
    args = p.parse_args(argv)
    accounts = [a.strip() for a in args.accounts.split(",") if a.strip()]
    if not accounts or any(not re.fullmatch(r"\d{12}", a) for a in accounts):
        p.error("--accounts needs 12-digit account ids")
    if len(set(accounts)) != len(accounts):
        p.error("--accounts has duplicates")
    args.account_list = accounts
    if not 0.0 <= args.fault_rate <= 1.0:
        p.error("--fault-rate must be within 0..1")
    args.kind_list = [k for k in args.fault_kinds.split(",") if k]
    if not args.kind_list or any(k not in core.FAULT_KINDS for k in args.kind_list):
        p.error("--fault-kinds: choose from %s" % ",".join(core.FAULT_KINDS))
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    emu = core.Emulator(args.account_list, iam_propagation_ms=args.iam_propagation_ms,
                        sqs_name_reuse_wait_s=args.sqs_name_reuse_wait_s,
                        latency_ms=args.latency_ms, jitter_ms=args.jitter_ms,
                        fault_rate=args.fault_rate, seed=args.seed, fault_kinds=args.kind_list,
                        hang_s=args.hang_s)
    server = core.EmulatorServer(emu, args.port)
    emu.write_credentials_file(args.credentials_file)

    def stop(signum, frame):
        # shutdown() blocks until serve_forever returns: call it from another thread.
        threading.Thread(target=server.httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stdout.write("ready %s\n" % server.url)
    sys.stdout.flush()
    try:
        server.serve_forever()
    finally:
        server.httpd._stop_event.set()
        server.httpd.server_close()
        emu.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
