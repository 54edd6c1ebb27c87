"""Test harness for the emulator: start it in-process on port 0, hand out boto3 clients.

Owner: H3. Used by test_core/test_iam/test_sts/test_kms (and free for the other emulator tests).

    h = Harness(accounts=("111111111111", "222222222222")).start()
    iam = h.client("iam", account="111111111111")
    ...
    h.stop()
"""

import json
import os
import socket
import sys
import tempfile
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import botocore.session  # noqa: E402

from emu import core  # noqa: E402

ACCOUNT_A = "111111111111"
ACCOUNT_B = "222222222222"
_getaddrinfo = socket.getaddrinfo


def _getaddrinfo_localhost(host, *args, **kwargs):
    if isinstance(host, str) and host.lower().endswith(".localhost"):
        host = "127.0.0.1"
    return _getaddrinfo(host, *args, **kwargs)


def resolve_localhost_names():
    """Resolve every *.localhost name to 127.0.0.1 in this process, as libcurl does (the C tool
    reaches virtual-hosted S3 at BUCKET.s3.localhost that way); the system resolver may not."""
    socket.getaddrinfo = _getaddrinfo_localhost


class Harness:
    def __init__(self, accounts=(ACCOUNT_A, ACCOUNT_B), **emu_options):
        self.accounts = list(accounts)
        self.emu = core.Emulator(self.accounts, **emu_options)
        self.server = core.EmulatorServer(self.emu, 0)
        self.url = self.server.url
        self._sessions = {}
        fd, self.credentials_file = tempfile.mkstemp(prefix="emu-creds-", suffix=".ini")
        os.close(fd)
        self.emu.write_credentials_file(self.credentials_file)

    def start(self):
        self.server.start()
        return self

    def stop(self):
        self.server.stop()
        try:
            os.unlink(self.credentials_file)
        except OSError:
            pass

    def session(self, account=ACCOUNT_A, region="us-east-1"):
        """A boto3 session reading the written credentials file, profile = account id. Cached:
        loading service models is the slow part of making clients (not thread-safe: make clients
        in one thread, use them in many)."""
        key = (account, region)
        if key not in self._sessions:
            bc = botocore.session.Session(profile=account)
            bc.set_config_variable("credentials_file", self.credentials_file)
            bc.set_config_variable("config_file", os.devnull)
            self._sessions[key] = boto3.Session(botocore_session=bc, region_name=region)
        return self._sessions[key]

    def client(self, service, account=ACCOUNT_A, region="us-east-1", validate=True, retries=0,
               timeout=10, credentials=None, s3=None):
        """A boto3 client of the emulator. s3: botocore's S3 options ({"addressing_style": "path"
        or "virtual"}); a virtual-hosted client uses http://s3.localhost:PORT as its endpoint
        (requests go to BUCKET.s3.localhost, resolved to 127.0.0.1 in this process)."""
        config = botocore.config.Config(
            retries={"max_attempts": retries, "mode": "standard"} if retries else {"total_max_attempts": 1},
            parameter_validation=validate, read_timeout=timeout, connect_timeout=timeout,
            max_pool_connections=50, s3=s3)
        endpoint = self.url
        if s3 and s3.get("addressing_style") == "virtual":
            resolve_localhost_names()
            endpoint = "http://s3.localhost:%d" % self.server.port
        if credentials is not None:
            return boto3.client(service, region_name=region, endpoint_url=endpoint, config=config,
                                aws_access_key_id=credentials["AccessKeyId"],
                                aws_secret_access_key=credentials["SecretAccessKey"],
                                aws_session_token=credentials.get("SessionToken"))
        return self.session(account, region).client(service, endpoint_url=endpoint, config=config)

    def advance(self, seconds, **extra):
        """POST /_emu/clock: move AWS time `seconds` on (extra: max_fires_per_rule, timeout_s);
        returns the reply ({"now", "fired", "coalesced"}), raises unless it is 200."""
        body = {"advance_s": seconds}
        body.update(extra)
        status, out = self.control("POST", "/_emu/clock", body)
        if status != 200:
            raise AssertionError("POST /_emu/clock %s -> %d %s" % (body, status, out))
        return out

    def now(self):
        """AWS time (epoch seconds) as the emulator has it."""
        return self.control("GET", "/_emu/clock")[1]["now"]

    def control(self, method, path, body=None, timeout=None):
        """An unsigned control-API call -> (status, JSON body). timeout: seconds to wait for the
        reply (default 30; a clock advance gets its own timeout_s plus 30)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        if timeout is None:
            timeout = 30
            if path == "/_emu/clock" and body:
                try:
                    timeout = float(body.get("timeout_s", 300)) + 30
                except (TypeError, ValueError):
                    pass
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, json.loads(resp.read().decode() or "{}")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read().decode() or "{}")


class EmulatorCase(unittest.TestCase):
    """A test class with an emulator of its own (`self.h`), started once for the class and reset
    before each test."""

    @classmethod
    def setUpClass(cls):
        cls.h = Harness().start()
        cls.addClassCleanup(cls.h.stop)

    def setUp(self):
        self.h.control("POST", "/_emu/reset")
