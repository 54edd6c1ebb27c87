#!/usr/bin/python3
"""A scripted HTTP/1.1 server on 127.0.0.1 for the transport and retry tests.

Prints "PORT <n>" on stdout once listening, then serves until killed. With --tls it speaks HTTPS
with a throwaway self-signed certificate (made with the openssl command), which no client that
verifies certificates accepts. Control endpoints:
  POST /__script   body: JSON list of steps, replacing the script and clearing the log
  GET  /__log      JSON {"requests": [{"t": monotonic seconds, "method", "path", "headers":
                   [[name, value]...], "body_len"}...]} of every non-control request
Every other request consumes the next step (a 200 "{}" once the script is exhausted):
  {"status": 503, "headers": {"Name": "value"}, "body": "..."}   a reply
  {..., "date_offset_s": 600}           a reply whose Date header is 600 s ahead of the clock
  {"action": "reset"}                   close the connection with a TCP RST, no reply
  {"action": "hang", "seconds": 1.5}    wait, then close without a reply (client times out)
  {"action": "close"}                   close the connection cleanly without a reply
"""
import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"script": [], "log": []}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    date_offset_s = 0.0

    def date_time_string(self, timestamp=None):
        return super().date_time_string((timestamp or time.time()) + self.date_offset_s)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self):
        body = self._body()
        if self.path == "/__script":
            with LOCK:
                STATE["script"] = json.loads(body or b"[]")
                STATE["log"] = []
            self._reply(200, b"{}", {"Content-Type": "application/json"})
            return
        if self.path == "/__log":
            with LOCK:
                data = json.dumps({"requests": STATE["log"]}).encode()
            self._reply(200, data, {"Content-Type": "application/json"})
            return
        with LOCK:
            STATE["log"].append({
                "t": time.monotonic(),
                "method": self.command,
                "path": self.path,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body_len": len(body),
                "peer_port": self.client_address[1],  # which connection carried it
            })
            step = STATE["script"].pop(0) if STATE["script"] else {"status": 200, "body": "{}"}
        action = step.get("action")
        if action == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if action == "hang":
            time.sleep(float(step.get("seconds", 1)))
            self.close_connection = True
            return
        if action == "close":
            self.close_connection = True
            return
        self.date_offset_s = float(step.get("date_offset_s", 0))
        self._reply(int(step.get("status", 200)), step.get("body", "").encode(),
                    step.get("headers"))

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # resets are expected
        pass


def main():
    server = Server(("127.0.0.1", 0), Handler)
    if "--tls" in sys.argv[1:]:
        tmp = tempfile.mkdtemp(prefix="rdsbk-tls-")
        key, cert = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        os.unlink(key)
        os.unlink(cert)
        os.rmdir(tmp)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
