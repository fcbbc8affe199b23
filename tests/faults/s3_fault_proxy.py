"""A fault-injecting HTTP proxy on 127.0.0.1 in front of an S3 server (the moto server).

It forwards every request and, drawn from a seeded RNG, misbehaves the way S3 does:

- `error`: answers 500 InternalError or 503 SlowDown (S3's XML error body) WITHOUT forwarding,
  so the server never applies the request: a retried conditional write is not double-applied;
- `drop`: closes the connection without answering, also without forwarding;
- `lost_answer`: forwards the request (the server applies it), then drops the connection or
  answers 500 instead of the real answer: the write happened, but the client cannot know. A
  retried `IfNoneMatch="*"` put then meets its own object and gets 412;
- otherwise it forwards after a random delay between `min_delay_seconds` and `max_delay_seconds`.

`max_faults_in_a_row` bounds how often the same request (method + path + query) is faulted in a
row, so a ~20 % fault rate cannot, by bad luck, exhaust a client's retries and make a test flaky;
`None` makes the faults persistent (a fault that outlasts any retry budget).
"""

from __future__ import annotations

import http.client
import random
import socket
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# Hop-by-hop headers are about one connection and are not forwarded (RFC 9110 §7.6.1).
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
               "expect"}
ERRORS = {
    "InternalError": (500, "We encountered an internal error. Please try again."),
    "SlowDown": (503, "Please reduce your request rate."),
}


@dataclass
class FaultPlan:
    error_share: float = 0.0
    drop_share: float = 0.0
    lost_answer_share: float = 0.0
    max_delay_seconds: float = 0.0
    min_delay_seconds: float = 0.0
    error_codes: tuple[str, ...] = ("InternalError", "SlowDown")
    max_faults_in_a_row: int | None = 3
    # Only requests whose path starts with this are faulted (e.g. "/bucket/registry/").
    path_prefix: str = "/"
    seed: int = 0


@dataclass
class ProxyStats:
    outcomes: Counter = field(default_factory=Counter)
    # (method, path, query, outcome) per request, in arrival order.
    requests: list[tuple[str, str, str, str]] = field(default_factory=list)

    def faults(self) -> int:
        return sum(n for outcome, n in self.outcomes.items() if outcome != "forwarded")


class S3FaultProxy:
    def __init__(self, upstream_url: str, plan: FaultPlan | None = None):
        upstream = urlsplit(upstream_url)
        self.upstream = (upstream.hostname, upstream.port)
        self.plan = plan or FaultPlan()
        self.stats = ProxyStats()
        self._rng = random.Random(self.plan.seed)
        self._lock = threading.Lock()
        self._in_a_row: Counter = Counter()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="s3-fault-proxy", daemon=True)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def set_plan(self, plan: FaultPlan) -> None:
        with self._lock:
            self.plan = plan
            self._rng = random.Random(plan.seed)
            self._in_a_row.clear()

    def start(self) -> S3FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> S3FaultProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def choose(self, method: str, path: str, query: str) -> tuple[str, str, float]:
        """(outcome, error code, delay) for one request; thread-safe and seeded."""
        with self._lock:
            plan = self.plan
            request = (method, path, query)
            roll, code, delay = self._rng.random(), self._rng.choice(plan.error_codes), self._rng.random()
            outcome = "forwarded"
            if path.startswith(plan.path_prefix):
                capped = plan.max_faults_in_a_row is not None and self._in_a_row[request] >= plan.max_faults_in_a_row
                if not capped:
                    for name, share in (("error", plan.error_share), ("drop", plan.drop_share),
                                        ("lost_answer", plan.lost_answer_share)):
                        if roll < share:
                            outcome = name
                            break
                        roll -= share
            if outcome == "forwarded":
                self._in_a_row.pop(request, None)
            else:
                self._in_a_row[request] += 1
            label = f"{outcome}:{code}" if outcome == "error" else outcome
            self.stats.outcomes[label] += 1
            self.stats.requests.append((method, path, query, label))
            low = min(plan.min_delay_seconds, plan.max_delay_seconds)
            return outcome, code, low + delay * (plan.max_delay_seconds - low)

    def _handler_class(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as S3 does; also answers Expect: 100-continue

            def log_message(self, format, *args):  # noqa: A002 (the stdlib's name)
                pass  # quiet: tests read ProxyStats instead

            def _read_body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass  # trailers
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _drop(self) -> None:
                # No answer at all: the client sees the connection close under it.
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

            def _send_error_xml(self, code: str, path: str) -> None:
                status, message = ERRORS[code]
                body = (
                    '<?xml version="1.0" encoding="UTF-8"?>\n'
                    f"<Error><Code>{code}</Code><Message>{message}</Message><Resource>{path}</Resource>"
                    f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>"
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _forward(self, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
                connection = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                    headers["Content-Length"] = str(len(body))
                    connection.request(self.command, self.path, body=body, headers=headers)
                    response = connection.getresponse()
                    return response.status, response.reason, response.getheaders(), response.read()
                finally:
                    connection.close()

            def _handle(self) -> None:
                body = self._read_body()
                split = urlsplit(self.path)
                outcome, code, delay = proxy.choose(self.command, split.path, split.query)
                if outcome == "error":
                    self._send_error_xml(code, split.path)
                    return
                if outcome == "drop":
                    self._drop()
                    return
                time.sleep(delay)
                status, reason, headers, answer = self._forward(body)
                if outcome == "lost_answer":
                    # The server applied the request; its answer never reaches the client.
                    if code == "InternalError":
                        self._send_error_xml(code, split.path)
                    else:
                        self._drop()
                    return
                self.send_response(status, reason)
                for name, value in headers:
                    if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                # A HEAD answer declares the object's length but carries no body.
                declared = dict((k.lower(), v) for k, v in headers).get("content-length")
                self.send_header("Content-Length", declared if self.command == "HEAD" and declared else str(len(answer)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle

        return Handler
