"""The HTTP endpoints: /metrics, /healthz, /readyz and /status, all served from the cache.

An asyncio server on one thread of its own, HTTP/1.1 with keep-alive, GET and HEAD only. Why not the
standard library's `ThreadingHTTPServer`: with 50 scrapers on keep-alive connections it runs 50 threads
that pass the GIL back and forth, and its p99 scrape latency was 32 ms on the benchmark machine against
under 3 ms here (docs/benchmarks.md). One event loop answers each request in a few tens of microseconds.

/readyz answers 200 as soon as the server serves, whatever AWS says. Readiness gates the Service's
endpoints, and through them everything that reads this pod: were it "AWS reads succeeded" (as it once
was), a missing IAM permission or an AWS outage would empty the Service, and the operator, which reads
/status through it, could only report "connection refused" instead of the AWS error that /status
carries. The other way out, a Service
with publishNotReadyAddresses, would also expose pods that are still starting, and a Deployment rollout
would never wait for a pod that serves. AWS health is in /status (`ready`, `stale`, `apis`) and /metrics.

/metrics is `metrics_text.MetricsRenderer`'s page: prometheus_client's exposition of the exporter's
collectors, the tenants' and findings' families rendered once a reading, the page kept for up to
`render_cache_seconds` while the state is unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from http import HTTPStatus

from prometheus_client.exposition import CONTENT_TYPE_LATEST

from sesmonitor import contract
from sesmonitor.exporter.serving.metrics_text import MetricsRenderer
from sesmonitor.listen import bound_address, listen_socket

log = logging.getLogger(__name__)

StatusBuilder = Callable[[float], contract.ExporterStatus]
TEXT = "text/plain; charset=utf-8"
MAX_HEADER_BYTES = 64 * 1024
IDLE_TIMEOUT_SECONDS = 300.0
BACKLOG = 128


def _response(status: HTTPStatus, body: bytes, content_type: str, keep_alive: bool, head: bool) -> bytes:
    lines = [
        f"HTTP/1.1 {status.value} {status.phrase}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        "Connection: keep-alive" if keep_alive else "Connection: close",
        "",
        "",
    ]
    return "\r\n".join(lines).encode("latin-1") + (b"" if head else body)


class _Connection(asyncio.Protocol):
    """One client connection: HTTP/1.1 requests parsed straight from the bytes, pipelining allowed."""

    def __init__(self, server: ExporterHTTPServer) -> None:
        self._server = server
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._last_activity = 0.0
        self._idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        loop = asyncio.get_running_loop()
        self._last_activity = loop.time()
        self._idle = loop.call_later(IDLE_TIMEOUT_SECONDS, self._check_idle)

    def _check_idle(self) -> None:
        loop = asyncio.get_running_loop()
        idle_for = loop.time() - self._last_activity
        if idle_for >= IDLE_TIMEOUT_SECONDS:
            if self._transport is not None:
                self._transport.close()
        else:
            self._idle = loop.call_later(IDLE_TIMEOUT_SECONDS - idle_for, self._check_idle)

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: ARG002
        if self._idle is not None:
            self._idle.cancel()
        self._transport = None

    def data_received(self, data: bytes) -> None:
        transport = self._transport
        if transport is None:
            return
        self._last_activity = asyncio.get_running_loop().time()
        self._buffer += data
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_HEADER_BYTES:
                    transport.write(
                        _response(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, b"", TEXT, False, False)
                    )
                    transport.close()
                return
            request = _parse(bytes(self._buffer[:end]))
            if request is None:
                transport.write(_response(HTTPStatus.BAD_REQUEST, b"bad request\n", TEXT, False, False))
                transport.close()
                return
            method, path, keep_alive, body_length = request
            if len(self._buffer) < end + 4 + body_length:
                return  # wait for the (ignored) body
            del self._buffer[: end + 4 + body_length]
            if method in ("GET", "HEAD"):
                status, body, content_type = self._server.route(path)
            else:  # read-only: nothing on this port, which any pod may reach, changes anything
                status, body, content_type = HTTPStatus.METHOD_NOT_ALLOWED, b"method not allowed\n", TEXT
            transport.write(_response(status, body, content_type, keep_alive, method == "HEAD"))
            if not keep_alive:
                transport.close()
                return


def _parse(head: bytes) -> tuple[str, str, bool, int] | None:
    """(method, path, keep_alive, body length) of a request head, None if it is not HTTP/1.x."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[2] not in ("HTTP/1.0", "HTTP/1.1"):
        return None
    method, target, version = parts
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    length = headers.get("content-length", "0")
    if not length.isdigit() or "chunked" in headers.get("transfer-encoding", "").lower():
        return None
    connection = headers.get("connection", "").lower()
    keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
    return method, target.split("?", 1)[0], keep_alive, int(length)


class ExporterHTTPServer:
    """Binds in the constructor (so a taken port fails at once, in the caller), serves after `start()`."""

    def __init__(
        self,
        address: tuple[str, int],
        renderer: MetricsRenderer,
        status: StatusBuilder,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.renderer = renderer
        self.status = status
        self.clock = clock
        self.socket = listen_socket(address[0], address[1], BACKLOG)
        self.server_address: tuple[str, int] = bound_address(self.socket)
        self._loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sesmonitor-http", daemon=True)
        self._thread.start()
        self._started.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            self._loop.create_server(lambda: _Connection(self), sock=self.socket)
        )
        self._started.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            self._loop.close()

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
        self.socket.close()

    def route(self, path: str) -> tuple[HTTPStatus, bytes, str]:
        try:
            if path == contract.METRICS_PATH:
                return HTTPStatus.OK, self.renderer.render(), CONTENT_TYPE_LATEST
            if path == contract.HEALTHZ_PATH:
                return HTTPStatus.OK, b"ok\n", TEXT
            if path == contract.READYZ_PATH:
                # Ready means "this process serves", not "AWS answered": see `readyz` in the
                # module docstring.
                return HTTPStatus.OK, b"ready\n", TEXT
            if path == contract.STATUS_PATH:
                return HTTPStatus.OK, self.status(self.clock()).to_json().encode(), "application/json"
            return HTTPStatus.NOT_FOUND, b"not found\n", TEXT
        except Exception:
            log.exception("error serving %s", path)
            return HTTPStatus.INTERNAL_SERVER_ERROR, b"internal error\n", TEXT
