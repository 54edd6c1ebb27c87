#!/usr/bin/python3
"""The benchmark's emulator front (bench/emu_server.py --front asyncio), checked with botocore.

The bench measures the tool against this front, so it must be the emulator of the tests in all
but how it schedules: the same signed requests accepted, replies `latency` after the request
arrived, many requests answered side by side, the request log's time and end as the bench reads
them, HTTP as clients send it (keep-alive, chunked bodies, Expect: 100-continue), and the faults
that reset or hang a connection (a hanging one holds no other).
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))

import boto3  # noqa: E402
import botocore.auth  # noqa: E402
import botocore.awsrequest  # noqa: E402
import botocore.config  # noqa: E402
import botocore.session  # noqa: E402

ACCOUNT = "111111111111"
LATENCY_MS = 40


class Front:
    """bench/emu_server.py in a child process."""

    def __init__(self, front, latency_ms):
        self.dir = tempfile.mkdtemp(prefix="emu-front-")
        self.creds = os.path.join(self.dir, "credentials")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "bench", "emu_server.py"), "--front", front,
             "--port", "0", "--accounts", ACCOUNT + ",222222222222", "--credentials-file",
             self.creds, "--latency-ms", str(latency_ms)],
            stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("ready "):
            self.stop()
            raise RuntimeError("emulator did not start: %r" % line)
        self.url = line.split(" ", 1)[1]
        self.port = int(self.url.rsplit(":", 1)[1])
        bc = botocore.session.Session(profile=ACCOUNT)
        bc.set_config_variable("credentials_file", self.creds)
        bc.set_config_variable("config_file", os.devnull)
        self.session = boto3.Session(botocore_session=bc, region_name="us-east-1")

    def client(self, service):
        config = botocore.config.Config(retries={"total_max_attempts": 1}, max_pool_connections=50,
                                        read_timeout=10, connect_timeout=10)
        return self.session.client(service, endpoint_url=self.url, config=config)

    def control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read().decode() or "{}")

    def signed_sts(self):
        """A signed STS GetCallerIdentity as (header lines without Content-Length, body)."""
        body = b"Action=GetCallerIdentity&Version=2011-06-15"
        req = botocore.awsrequest.AWSRequest(
            method="POST", url=self.url + "/", data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        creds = self.session.get_credentials()
        botocore.auth.SigV4Auth(creds, "sts", "us-east-1").add_auth(req)
        lines = ["POST / HTTP/1.1", "Host: 127.0.0.1:%d" % self.port]
        lines += ["%s: %s" % (k, v) for k, v in req.headers.items() if k.lower() != "host"]
        return lines, body

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        self.proc.stdout.close()


def read_reply(sock):
    """One HTTP reply on `sock`: (status, headers text, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a reply")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    text = head.decode("latin-1")
    length = 0
    for line in text.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    while len(body) < length:
        body += sock.recv(65536)
    return int(text.split()[1]), text, body


class AsyncioFront(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.front = Front("asyncio", LATENCY_MS)

    @classmethod
    def tearDownClass(cls):
        cls.front.stop()

    def setUp(self):
        self.front.control("POST", "/_emu/faults", {"fault_rate": 0})
        self.front.control("DELETE", "/_emu/requests")

    def test_reply_after_the_latency(self):
        sts = self.front.client("sts")
        t0 = time.monotonic()
        self.assertEqual(sts.get_caller_identity()["Account"], ACCOUNT)
        self.assertGreaterEqual(time.monotonic() - t0, LATENCY_MS / 1000.0)
        sts.close()
        entry = [e for e in self.front.control("GET", "/_emu/requests")["requests"]
                 if e.get("operation") == "GetCallerIdentity"][-1]
        self.assertAlmostEqual(entry["end"] - entry["time"], LATENCY_MS / 1000.0, delta=0.005)

    def test_requests_answered_side_by_side(self):
        iam = self.front.client("iam")
        policy = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]})
        errors = []

        def create(i):
            try:
                iam.create_role(RoleName="front-%02d" % i, AssumeRolePolicyDocument=policy)
            except Exception as err:  # noqa: BLE001 - reported below
                errors.append(err)

        threads = [threading.Thread(target=create, args=(i,)) for i in range(24)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - t0
        self.assertEqual(errors, [])
        # one after the other: 24 x 40 ms = 0.96 s
        self.assertLess(wall, 0.5)
        names = {r["RoleName"] for r in iam.list_roles()["Roles"]}
        iam.close()
        self.assertTrue({"front-%02d" % i for i in range(24)} <= names)
        created = [e for e in self.front.control("GET", "/_emu/requests")["requests"]
                   if e.get("operation") == "CreateRole"]
        self.assertEqual(len(created), 24)
        for e in created:
            self.assertEqual(e["ident"]["RoleName"][:6], "front-")
            self.assertGreaterEqual(e["end"] - e["time"], LATENCY_MS / 1000.0 - 0.001)

    def test_unsigned_request_refused(self):
        req = urllib.request.Request(self.front.url + "/", method="POST",
                                     data=b"Action=GetCallerIdentity&Version=2011-06-15",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(ctx.exception.code, 403)

    def test_keep_alive_chunked_and_continue(self):
        lines, body = self.front.signed_sts()
        with socket.create_connection(("127.0.0.1", self.front.port), timeout=10) as sock:
            # chunked body
            head = "\r\n".join(lines + ["Transfer-Encoding: chunked", "", ""]).encode()
            chunks = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (10, body[:10], len(body) - 10,
                                                             body[10:])
            sock.sendall(head + chunks)
            status, _, reply = read_reply(sock)
            self.assertEqual(status, 200, reply)
            self.assertIn(ACCOUNT.encode(), reply)
            # the same connection again: Expect: 100-continue, the body after the interim reply
            head = "\r\n".join(lines + ["Content-Length: %d" % len(body),
                                        "Expect: 100-continue", "", ""]).encode()
            sock.sendall(head)
            interim = sock.recv(4096)
            self.assertTrue(interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), interim)
            sock.sendall(body)
            status, _, reply = read_reply(sock)
            self.assertEqual(status, 200, reply)

    def test_reset_fault_drops_the_connection(self):
        self.front.control("POST", "/_emu/faults", {"fault_rate": 1, "kinds": ["reset"]})
        lines, body = self.front.signed_sts()
        with socket.create_connection(("127.0.0.1", self.front.port), timeout=10) as sock:
            sock.sendall("\r\n".join(lines + ["Content-Length: %d" % len(body), "", ""]).encode()
                         + body)
            try:
                data = sock.recv(4096)
            except ConnectionResetError:
                data = b""
            self.assertEqual(data, b"")


    def test_hang_fault_holds_then_drops_the_connection(self):
        self.front.control("POST", "/_emu/faults", {"fault_rate": 1, "kinds": ["hang"],
                                                   "hang_s": 0.5})
        lines, body = self.front.signed_sts()
        sts = self.front.client("sts")
        with socket.create_connection(("127.0.0.1", self.front.port), timeout=10) as sock:
            t0 = time.monotonic()
            sock.sendall("\r\n".join(lines + ["Content-Length: %d" % len(body), "", ""]).encode()
                         + body)
            time.sleep(0.05)  # the hanging request is in
            self.front.control("POST", "/_emu/faults", {"fault_rate": 0})
            # the loop is not held: another request is answered while that one hangs
            self.assertEqual(sts.get_caller_identity()["Account"], ACCOUNT)
            self.assertLess(time.monotonic() - t0, 0.4)
            try:
                data = sock.recv(4096)
            except ConnectionResetError:
                data = b""
            held = time.monotonic() - t0
        sts.close()
        self.assertEqual(data, b"")
        self.assertGreaterEqual(held, 0.5)


class ThreadsFront(unittest.TestCase):
    def test_threads_front_still_serves(self):
        front = Front("threads", 0)
        try:
            sts = front.client("sts")
            self.assertEqual(sts.get_caller_identity()["Account"], ACCOUNT)
            sts.close()
        finally:
            front.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
