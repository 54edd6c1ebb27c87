#!/usr/bin/python3
"""The emulator (tests/emulator/server.py) as the benchmark runs it.

Same options and behaviour as server.py; in addition every request-log entry gets
  "ident":  the few request members that name a resource (RoleName, FunctionName, Name, Rule,
            KeyId, AliasName, StatementId, ResourceARN, Resource, ...), so bench/run.py can tell
            which resource of the graph each call worked on.
Nothing else is changed: latency, locking, signing checks and replies are server.py's.
Owner: H9 (bench/). Used by bench/run.py only.
"""

import os
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
EMU_DIR = os.path.join(HERE, "..", "tests", "emulator")
sys.path.insert(0, EMU_DIR)

from emu import core  # noqa: E402
import server  # noqa: E402

IDENT_MEMBERS = ("RoleName", "PolicyName", "FunctionName", "Name", "Rule", "KeyId", "AliasName",
                 "TargetKeyId", "StatementId", "ResourceARN", "Resource", "EventBusName",
                 "Principal")

_local = threading.local()
_orig_route = core.Emulator._route_and_parse
_orig_handle = core.Emulator.handle_aws
_orig_record = core.Emulator._record


def _route(self, *args, **kwargs):
    operation, params = _orig_route(self, *args, **kwargs)
    ident = {}
    if isinstance(params, dict):
        for k in IDENT_MEMBERS:
            v = params.get(k)
            if isinstance(v, (str, int)):
                ident[k] = str(v)
    _local.ident = ident
    return operation, params


def _handle(self, *args, **kwargs):
    _local.ident = {}
    return _orig_handle(self, *args, **kwargs)


def _record(self, entry):
    entry["ident"] = getattr(_local, "ident", {}) or {}
    _local.ident = {}
    return _orig_record(self, entry)


core.Emulator._route_and_parse = _route
core.Emulator.handle_aws = _handle
core.Emulator._record = _record

if __name__ == "__main__":
    sys.exit(server.main())
