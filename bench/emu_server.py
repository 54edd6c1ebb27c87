#!/usr/bin/python3
"""The emulator (tests/emulator/server.py) as the benchmark runs it.

Same options, emulator core and replies as server.py; in addition every request-log entry gets
  "ident":  the few request members that name a resource (RoleName, FunctionName, Name, Rule,
            KeyId, AliasName, StatementId, ResourceARN, Resource, logGroupName, ...), so bench/run.py can tell
            which resource of the graph each call worked on.

--front asyncio (the default) serves HTTP from one asyncio event loop instead of server.py's
thread per connection, and the fixed latency is a timer on the reply instead of a sleeping
thread, counted from the request's arrival. AWS answers many requests side by side in 50 ms
each; this emulator works on one at a time (0.25-0.3 ms of Python each), and the threaded server
adds the handing of the GIL between a thread per connection (another 0.1-0.2 ms). A burst of 114
requests from the tool (the 10 sources' destroy) kept the last of them waiting 30-40 ms before the
emulator read it, and its 50 ms only started then. Here requests are read as they arrive, queued
in order and worked on one per turn of the event loop (arrivals are read between them), and each
reply leaves `latency` after its request arrived, or as soon as it is ready when the emulator is
further behind than that: what queueing remains is the emulator's capacity, and the request log
shows it (`time`: arrival, `end`: when the reply left). The order in which requests change the
emulator's state is their order of arrival, as with the threads. Signing checks, locking and
replies are the core's, unchanged; faults that reset or hang a connection work as in server.py.
--front threads is server.py itself.
Owner: H9 (bench/). Used by bench/run.py only.
"""

import asyncio
import collections
import http
import json
import os
import signal
import socket
import sys
import threading
import traceback
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
EMU_DIR = os.path.join(HERE, "..", "tests", "emulator")
sys.path.insert(0, EMU_DIR)

from emu import core  # noqa: E402
import server  # noqa: E402

IDENT_MEMBERS = ("RoleName", "PolicyName", "FunctionName", "Name", "Rule", "KeyId", "AliasName",
                 "TargetKeyId", "StatementId", "ResourceARN", "Resource", "EventBusName",
                 "Principal", "logGroupName", "logGroupNamePrefix", "resourceArn", "TopicArn",
                 "ResourceArn", "Endpoint", "SubscriptionArn", "QueueName", "QueueUrl")

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

# -- the asyncio front ----------------------------------------------------------------------------

_orig_draw_fault = core.Emulator._draw_fault


def _draw_fault_later(self):
    """The latency is drawn as before, kept for the reply's timer, and not slept here."""
    delay, kind, hang_s = _orig_draw_fault(self)
    _local.delay = delay
    return 0.0, kind, hang_s


def _record_later(self, entry):
    """The log's time is the arrival; its end, when the reply leaves."""
    arrived = getattr(_local, "arrived", None)
    if arrived is not None:
        entry["time"] = arrived
        entry["end"] = max(entry["end"], arrived + getattr(_local, "delay", 0.0))
    return _record(self, entry)


_PENDING = collections.deque()  # (connection, request, arrival) in order of arrival
_scheduled = [False]  # a _work_one is due


def _work_one():
    """Answers the oldest request, then lets the loop read what arrived before the next."""
    conn, request, arrival = _PENDING.popleft()
    try:
        conn._answer(*request, arrival)
    except Exception:  # noqa: BLE001 - an emulator bug: say so, drop that client, serve the rest
        sys.stderr.write("emulator: internal error:\n" + traceback.format_exc())
        conn._abort()
    finally:
        if _PENDING:
            asyncio.get_running_loop().call_soon(_work_one)
        else:
            _scheduled[0] = False


MAX_HEADER_BYTES = 65536


class _Connection(asyncio.Protocol):
    """One client connection: HTTP/1.1 requests in order, each answered before the next is read."""

    def __init__(self, emu, loop):
        self.emu = emu
        self.loop = loop
        self.transport = None
        self.buf = b""
        self.busy = False  # a reply is due: what arrives meanwhile waits in buf
        self.continued = False  # "100 Continue" sent for the request in buf

    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:  # no Nagle wait on the replies (see core._Handler.setup)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data):
        self.buf += data
        self._next()

    def connection_lost(self, exc):
        self.transport = None

    def _bad(self, status):
        self._write(status, {"Content-Type": "text/plain"}, http.HTTPStatus(status).phrase.encode(),
                    False, "GET")

    def _next(self):
        """Parses and answers the requests complete in buf, one at a time."""
        while not self.busy and self.transport is not None:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > MAX_HEADER_BYTES:
                    self._bad(431)
                return
            head = self.buf[:end].decode("iso-8859-1")
            line, _, block = head.partition("\r\n")
            words = line.split()
            if len(words) != 3 or not words[2].startswith("HTTP/1."):
                self._bad(400)
                return
            method, target, version = words
            headers = core._parse_header_block(block + "\r\n\r\n")
            start = end + 4
            if (headers.get("Transfer-Encoding") or "").lower() == "chunked":
                parsed = self._chunked(start)
                if parsed is None:
                    return
                body, rest = parsed
            else:
                length = int(headers.get("Content-Length") or 0)
                if len(self.buf) < start + length:
                    if (not self.continued and version == "HTTP/1.1" and
                            (headers.get("Expect") or "").lower() == "100-continue"):
                        self.continued = True
                        self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                    return
                body, rest = self.buf[start:start + length], start + length
            self.buf = self.buf[rest:]
            self.continued = False
            connection = (headers.get("Connection") or "").lower()
            keep = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
            self.busy = True  # until its reply is written
            _PENDING.append((self, (method, target, headers, body, keep),
                             (self.loop.time(), self.emu.now())))
            if not _scheduled[0]:
                _scheduled[0] = True
                self.loop.call_soon(_work_one)

    def _chunked(self, at):
        """(body, offset after it) when the whole chunked body is in buf, else None."""
        chunks = []
        while True:
            eol = self.buf.find(b"\r\n", at)
            if eol < 0:
                return None
            size = int(self.buf[at:eol].split(b";")[0], 16)
            at = eol + 2
            if size == 0:
                eol = self.buf.find(b"\r\n", at)  # no trailers: the empty line
                return None if eol < 0 else (b"".join(chunks), eol + 2)
            if len(self.buf) < at + size + 2:
                return None
            chunks.append(self.buf[at:at + size])
            at += size + 2

    def _answer(self, method, target, headers, body, keep, arrival):
        split = urllib.parse.urlsplit(target)
        if split.path.startswith("/_emu/"):
            status, doc = self.emu.control(method, split.path, split.query, body)
            if isinstance(doc, (bytes, bytearray)):
                self._write(status, {"Content-Type": "application/octet-stream"}, bytes(doc), keep,
                            method)
            else:
                self._write(status, {"Content-Type": "application/json"},
                            json.dumps(doc, default=str).encode(), keep, method)
            return
        arrived_loop, _local.arrived = arrival
        _local.delay = 0.0
        try:
            reply = self.emu.handle_aws(method, split.path, split.query, headers, body)
            due = arrived_loop + _local.delay
        finally:
            _local.arrived = None
            _local.delay = 0.0
        if reply.action == "reset":
            self._abort()
            return
        if isinstance(reply.action, tuple) and reply.action[0] == "hang":
            self.loop.call_later(reply.action[1], self._abort)
            return
        if due > self.loop.time():
            self.loop.call_at(due, self._write, reply.status, reply.headers, reply.body, keep,
                              method)
        else:
            self._write(reply.status, reply.headers, reply.body, keep, method)

    def _abort(self):
        if self.transport is not None:
            self.transport.abort()

    def _write(self, status, headers, body, keep, method):
        """core._Handler._send's reply: status line, headers and body in one write."""
        if self.transport is None:
            return
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        lines = ["HTTP/1.1 %d %s" % (status, reason), "Server: AwsEmulator",
                 "Date: " + core._http_date()]
        lines += ["%s: %s" % item for item in headers.items()]
        lines.append("Content-Length: %d" % len(body))
        if not keep:
            lines.append("Connection: close")
        lines.append("\r\n")
        self.transport.write("\r\n".join(lines).encode("latin-1", "strict") +
                             (body if method != "HEAD" else b""))
        self.busy = False
        if not keep:
            self.transport.close()
            self.transport = None
            return
        self._next()  # a request that arrived meanwhile


def serve_asyncio(args):
    core.Emulator._draw_fault = _draw_fault_later
    core.Emulator._record = _record_later
    emu = core.Emulator(args.account_list, iam_propagation_ms=args.iam_propagation_ms,
                        latency_ms=args.latency_ms, jitter_ms=args.jitter_ms,
                        fault_rate=args.fault_rate, seed=args.seed, fault_kinds=args.kind_list,
                        hang_s=args.hang_s)
    loop = asyncio.new_event_loop()
    srv = loop.run_until_complete(loop.create_server(lambda: _Connection(emu, loop), "127.0.0.1",
                                                     args.port, backlog=1024, reuse_address=True))
    port = srv.sockets[0].getsockname()[1]
    emu.url = "http://127.0.0.1:%d" % port
    emu.write_credentials_file(args.credentials_file)
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, loop.stop)
    sys.stdout.write("ready %s\n" % emu.url)
    sys.stdout.flush()
    try:
        loop.run_forever()
    finally:
        srv.close()
        emu.queue.stop()
    return 0


def main(argv):
    front = "asyncio"
    if "--front" in argv:
        i = argv.index("--front")
        front = argv[i + 1] if i + 1 < len(argv) else ""
        argv = argv[:i] + argv[i + 2:]
    if front == "threads":
        return server.main(argv)
    if front != "asyncio":
        sys.stderr.write("emu_server.py: --front takes asyncio or threads\n")
        return 2
    return serve_asyncio(server.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
