"""A loopback HTTP proxy that passes requests to a real upstream, or fails them on purpose.

The fault-injection suite puts one in front of each upstream (PagerDuty and GitHub behind Prism,
kmock, a real Prometheus) and switches faults on and off while the dashboard runs. The faults are
real on the wire: a closed port, a request left unanswered, an error status with the headers and
body a real server or gateway sends, a body that is not JSON, an answer with optional fields taken
out, a body or watch stream cut off half way.

Used in-process (a thread), so a test flips faults directly and reads what the proxy saw: every
request, with the bytes it moved each way on the wire (the load benchmark, ``bench/perf_api.py``).
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

FAULTS = ("refused", "timeout", "500", "502-html", "429", "401", "403", "malformed-json",
          "missing-optional", "cut")
"""Every fault the proxy injects, in the order the reliability table lists them."""

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection",
              "te", "trailer", "upgrade", "content-encoding"}
"""Headers that describe one connection, not the message: never forwarded as they are."""

HOLD_LIMIT = 120.0
"""Longest a ``timeout`` fault keeps a request unanswered (the client gives up long before)."""


@dataclass
class Seen:
    """One request that reached the proxy, and the bytes it moved.

    Not frozen: the byte counts grow while the answer is written (a watch stream for minutes).
    """

    at: float
    """Monotonic time it arrived."""
    method: str
    """HTTP method."""
    path: str
    """Path and query."""
    fault: str | None
    """The fault applied, or ``None`` when it was passed through untouched."""
    request_bytes: int = 0
    """Bytes the client sent: request line, headers and body."""
    response_bytes: int = 0
    """Bytes the proxy sent back so far: status line, headers and body (chunk framing included)."""


class _CountingWriter:
    """Wraps a handler's ``wfile`` and adds every byte written to the current request's record."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self.record: Seen | None = None
        """The request being answered (``None`` before the first one is parsed)."""

    def write(self, data: bytes) -> int:
        """Write through, then count (a write that raised moved nothing the client saw)."""
        written = self._raw.write(data)
        if self.record is not None:
            self.record.response_bytes += len(data)
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


@dataclass
class FaultPlan:
    """What to do to the requests that match."""

    fault: str
    """One of :data:`FAULTS`."""
    matches: Callable[[str, str], bool] = lambda method, path: True
    """Which requests (method, path with query) it applies to."""
    reset_seconds: int = 2
    """The wait a ``429`` asks for."""
    optional_keys: frozenset[str] = frozenset()
    """JSON keys removed everywhere by ``missing-optional``."""
    released: threading.Event = field(default_factory=threading.Event)
    """Set when the fault is cleared, releasing held (``timeout``) requests."""


class FaultProxy:
    """A proxy on ``127.0.0.1`` in front of ``upstream``."""

    def __init__(self, upstream: str, *, name: str = "upstream") -> None:
        """Start proxying.

        Args:
            upstream: Base URL of the real server (``http://127.0.0.1:PORT``).
            name: For messages.
        """
        parts = urlsplit(upstream)
        self.name = name
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._lock = threading.Lock()
        self._plan: FaultPlan | None = None
        self.seen: list[Seen] = []
        self._sockets: set[socket.socket] = set()
        self._upstreams: set[http.client.HTTPConnection] = set()
        self._server: ThreadingHTTPServer | None = None
        self.port = self._listen(0)

    @property
    def url(self) -> str:
        """Where clients should connect."""
        return f"http://127.0.0.1:{self.port}"

    # -- control ------------------------------------------------------------------------------

    def inject(self, fault: str, *, matches: Callable[[str, str], bool] | None = None,
               reset_seconds: int = 2, optional_keys: Iterable[str] = (), drop_connections: bool = False) -> None:
        """Apply ``fault`` to matching requests from now on (replacing any earlier fault).

        ``drop_connections`` also breaks the connections open now (a long-lived watch among them),
        so the fault reaches a stream that is already flowing.
        """
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
        self.clear()
        plan = FaultPlan(fault, matches or (lambda method, path: True), reset_seconds, frozenset(optional_keys))
        with self._lock:
            self._plan = plan
        if fault == "refused" and matches is None:
            self._stop_listening()
        elif drop_connections:
            self._drop_connections()

    def clear(self) -> None:
        """Pass everything through again (and listen again after ``refused``)."""
        with self._lock:
            plan, self._plan = self._plan, None
        if plan is not None:
            plan.released.set()
            if plan.fault == "refused" and self._server is None:
                self._listen(self.port)

    def requests(self, since: float = 0.0, *, fault: str | None | bool = False) -> list[Seen]:
        """Requests seen at or after monotonic ``since``; only those with ``fault`` unless it is False."""
        with self._lock:
            rows = [r for r in self.seen if r.at >= since]
        return rows if fault is False else [r for r in rows if r.fault == fault]

    def traffic(self, since: float = 0.0, until: float = float("inf")) -> tuple[int, int, int]:
        """``(requests, request bytes, response bytes)`` of the requests that arrived in ``[since, until)``.

        A long-lived request (a watch) counts whole where it arrived, bytes streamed so far included.
        """
        with self._lock:
            rows = [r for r in self.seen if since <= r.at < until]
        return len(rows), sum(r.request_bytes for r in rows), sum(r.response_bytes for r in rows)

    def close(self) -> None:
        """Stop the proxy and drop every connection, its own to the upstream too (an open watch
        would otherwise keep the upstream server from shutting down)."""
        self.clear()
        self._stop_listening()
        with self._lock:
            upstreams, self._upstreams = set(self._upstreams), set()
        for connection in upstreams:
            if connection.sock is not None:
                try:
                    connection.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    # -- listening ----------------------------------------------------------------------------

    def _listen(self, port: int) -> int:
        proxy = self

        class Handler(_ProxyHandler):
            owner = proxy

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                         name=f"fault-proxy-{self.name}", daemon=True).start()
        self._server = server
        return server.server_address[1]

    def _stop_listening(self) -> None:
        """Close the port and every open connection, so new and pooled connections alike fail."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        self._drop_connections()

    def _drop_connections(self) -> None:
        """Break every connection open now."""
        with self._lock:
            sockets, self._sockets = set(self._sockets), set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # -- used by the handler ------------------------------------------------------------------

    def _begin(self, method: str, path: str, sock: socket.socket, request_bytes: int) -> tuple[FaultPlan | None, Seen]:
        with self._lock:
            self._sockets.add(sock)
            plan = self._plan if self._plan is not None and self._plan.matches(method, path) else None
            record = Seen(time.monotonic(), method, path, plan.fault if plan else None, request_bytes)
            self.seen.append(record)
        return plan, record

    def _forget(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)


def strip_keys(value: Any, keys: frozenset[str]) -> Any:
    """``value`` with every dict key in ``keys`` removed, at any depth."""
    if isinstance(value, dict):
        return {k: strip_keys(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [strip_keys(v, keys) for v in value]
    return value


class _ProxyHandler(BaseHTTPRequestHandler):
    """Forwards one connection's requests, applying the proxy's current fault."""

    protocol_version = "HTTP/1.1"
    owner: FaultProxy

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  # quiet: tests read `seen`
        pass

    def setup(self) -> None:
        super().setup()
        self.wfile = _CountingWriter(self.wfile)

    def handle(self) -> None:
        try:
            super().handle()
        except OSError:  # a client that gave up, or a connection the fault itself broke: expected here
            self.close_connection = True

    def finish(self) -> None:
        self.owner._forget(self.connection)
        super().finish()

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        # As received: request line, each header line, the blank line, the body.
        head = len(self.raw_requestline) + sum(len(k) + len(v) + 4 for k, v in self.headers.items()) + 2
        plan, record = self.owner._begin(self.command, self.path, self.connection, head + len(body or b""))
        self.wfile.record = record
        fault = plan.fault if plan else None
        if fault == "timeout":
            plan.released.wait(HOLD_LIMIT)
            self.close_connection = True
            return
        if fault in ("refused", "500", "502-html", "429", "401", "403", "malformed-json"):
            self._answer_fault(plan)
            return
        self._forward(body, plan)

    def _answer_fault(self, plan: FaultPlan) -> None:
        """The answer a real server or gateway gives for the fault."""
        fault = plan.fault
        headers: dict[str, str] = {}
        if fault == "refused":
            # Only some paths refused (an aggregated API such as metrics-server behind a server that
            # is up): what the client sees is the API server's 503 naming the refused connection.
            status, kind, payload = 503, "application/json", json.dumps(
                {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "ServiceUnavailable", "code": 503,
                 "message": "error trying to reach service: dial tcp 10.96.0.12:443: connect: connection refused"})
        elif fault == "500":
            status, kind, payload = 500, "application/json", json.dumps(
                {"error": {"message": "Internal Server Error", "code": 2001}, "message": "Internal Server Error"})
        elif fault == "502-html":
            status, kind, payload = 502, "text/html", (
                "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
                "</h1></center><hr><center>nginx</center></body></html>")
        elif fault == "429":
            reset = plan.reset_seconds
            status, kind = 429, "application/json"
            payload = json.dumps({"error": {"message": "Rate Limit Exceeded", "code": 2020},
                                  "message": "API rate limit exceeded"})
            headers = {"ratelimit-limit": "960", "ratelimit-remaining": "0", "ratelimit-reset": str(reset),
                       "Retry-After": str(reset), "x-ratelimit-remaining": "0",
                       "x-ratelimit-reset": str(int(time.time()) + reset)}
        elif fault in ("401", "403"):
            status, kind = int(fault), "application/json"
            message = "Bad credentials" if fault == "401" else "Forbidden"
            payload = json.dumps({"error": {"message": message, "code": 2006 if fault == "401" else 2010},
                                  "message": message, "kind": "Status", "apiVersion": "v1",
                                  "status": "Failure", "reason": "Unauthorized" if fault == "401" else "Forbidden",
                                  "code": int(fault)})
        else:  # malformed-json: says JSON, is not
            status, kind, payload = 200, "application/json", '{"incidents": [{"id": "Q1", "title": "cut'
        data = payload.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _forward(self, body: bytes | None, plan: FaultPlan | None) -> None:
        """Pass the request on and the answer back, cutting or trimming it when the plan says."""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host", "accept-encoding"}}
        headers["Accept-Encoding"] = "identity"  # so bodies can be trimmed and cut
        upstream = http.client.HTTPConnection(*self.owner._upstream, timeout=HOLD_LIMIT)
        with self.owner._lock:
            self.owner._upstreams.add(upstream)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
        except OSError:
            self.send_error(502, "upstream unreachable")
            return
        try:
            streaming = "watch=true" in self.path.lower() or "watch=1" in self.path
            self.send_response(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in HOP_BY_HOP:
                    self.send_header(key, value)
            if streaming:
                self._stream(response, plan)
                return
            data = response.read()
            if plan is not None and plan.fault == "missing-optional" and data:
                try:
                    data = json.dumps(strip_keys(json.loads(data), plan.optional_keys)).encode()
                except ValueError:
                    pass
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if plan is not None and plan.fault == "cut" and len(data) > 1:
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(data)
        finally:
            with self.owner._lock:
                self.owner._upstreams.discard(upstream)
            upstream.close()

    def _stream(self, response: http.client.HTTPResponse, plan: FaultPlan | None) -> None:
        """Relay a watch stream line by line as chunks; ``cut`` breaks it off in the middle of an event."""
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if plan is not None and plan.fault == "cut":
            # Half an event, then the connection goes: a stream cut mid-way (a load balancer's
            # idle timeout, an API server restart), whether or not the upstream had sent anything.
            partial = b'{"type": "MODIFIED", "object": {"kind": "Pod", "apiVersion": "v1", "metadata": {"na'
            self.wfile.write(f"{len(partial) + 40:x}\r\n".encode() + partial)
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        while True:
            line = response.readline()
            if not line:
                break
            if plan is not None and plan.fault == "missing-optional":
                try:
                    line = json.dumps(strip_keys(json.loads(line), plan.optional_keys)).encode() + b"\n"
                except ValueError:
                    pass
            try:
                self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
                self.wfile.flush()
            except OSError:  # the client went away (the source closed its watch)
                return
        self.wfile.write(b"0\r\n\r\n")
