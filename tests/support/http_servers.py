"""The harness's small HTTP servers (fault proxy, webhook receiver, stand-in exporters), their shared parts.

`QuietHandler`: a request handler that logs nothing to stderr and answers a body with its length.
`BackgroundServer`: a threading HTTP server on a daemon thread, started and stopped once.
`Served`: start() / stop() / `with` for a class that serves through a BackgroundServer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

JSON = (("Content-Type", "application/json"),)


class QuietHandler(BaseHTTPRequestHandler):
    # The head and the body go out in two writes: with Nagle's algorithm the body waits for the
    # client's delayed ACK of the head, about 40 ms an answer on a keep-alive connection.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_body(self, status: int, body: bytes, headers: Iterable[tuple[str, str]] = JSON) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()  # a no-op on the plain socket; needed once a tunnel's TLS stream replaces it


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # a class attribute: listen() runs in the constructor


class BackgroundServer:
    def __init__(
        self,
        handler: type[BaseHTTPRequestHandler],
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "http",
    ) -> None:
        self.server = _Server((host, port), handler)
        self._name = name
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self.server.server_address[0])

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, name=self._name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(5)
            self._thread = None
        self.server.server_close()


class Served:
    _http: BackgroundServer

    def start(self) -> Self:
        self._http.start()
        return self

    def stop(self) -> None:
        self._http.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
