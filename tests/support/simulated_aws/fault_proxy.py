"""`FaultProxy`: the HTTP proxy in front of moto that counts, faults, stands in and translates.

For each request it names the call (`wire.identify`), records it (`RecordedRequest`: service, operation,
protocol, status, CloudWatch metrics requested, signer), then answers with, in this order: an injected
fault (`faults`), a SESv2 stand-in (`sesv2`, `tenants`, `recommendations`), the CBOR bridge
(`cbor_bridge`), or moto itself, its ListMetrics and GetConfigurationSet answers corrected on the way
back. Requests under the control prefix go to `control` and are not recorded.

With a TLS context it answers HTTP CONNECT by terminating TLS itself, so an SDK that only honours an
HTTPS proxy setting (the AWS Java SDK in prometheus cloudwatch_exporter 0.16.0, which has no endpoint
option) reaches moto too, given a certificate it trusts.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from support.http_servers import BackgroundServer, QuietHandler, Served
from support.simulated_aws import cbor_bridge, sesv2
from support.simulated_aws.cloudwatch import unique_metrics
from support.simulated_aws.control import CONTROL_PREFIX, control
from support.simulated_aws.faults import DELAY, FAULTS, Fault, fault_reply
from support.simulated_aws.recommendations import RecommendationsStandIn
from support.simulated_aws.replies import Reply
from support.simulated_aws.tenants import TAG_OPERATIONS, TenantsStandIn, is_tenant_arn, tagged_arn
from support.simulated_aws.wire import Call, identify

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "content-length", "te"}
UNFORWARDED = HOP_BY_HOP | {"server", "date", "x-amzn-requestid"}  # of moto's answers: the proxy sets its own


@dataclass(frozen=True)
class RecordedRequest:
    service: str  # from the SigV4 credential scope: monitoring, ses, sts, ...
    operation: str
    protocol: str  # json | query | cbor | rest-json | other
    status: int
    metrics_requested: int  # GetMetricData queries in the request (what CloudWatch bills)
    access_key: str
    at: float
    path: str = ""  # the request's path and query (REST calls name their resource there)


class FaultProxy(Served):
    """A counting, fault-injecting HTTP proxy in front of moto (see the module docstring)."""

    def __init__(
        self, upstream: str, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
    ) -> None:
        """`tls`: answer HTTP CONNECT by terminating TLS with this context (a certificate the client
        trusts), for SDKs that cannot be given an endpoint URL but honour an HTTPS proxy setting."""
        self.tls = tls
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream_host = parsed.hostname or "127.0.0.1"
        self.upstream_port = parsed.port or 80
        self.sesv2 = sesv2.SesV2StandIn()
        self.tenants = TenantsStandIn()
        self.recommendations = RecommendationsStandIn()
        self._records: list[RecordedRequest] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        cbor_bridge.cloudwatch_model()  # loaded now, not during a client's first CBOR request
        self._http = BackgroundServer(_make_handler(self), host, port, name="fault-proxy")

    @property
    def url(self) -> str:
        return f"http://{self._http.host}:{self._http.port}"

    # -- recording
    def record(self, req: RecordedRequest) -> None:
        with self._lock:
            self._records.append(req)

    def requests(self, operation: str | None = None, service: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [
                r
                for r in self._records
                if (operation is None or r.operation == operation)
                and (service is None or r.service == service)
            ]

    def count(self, operation: str | None = None, service: str | None = None) -> int:
        return len(self.requests(operation, service))

    def metrics_requested(self) -> int:
        return sum(r.metrics_requested for r in self.requests())

    def reset(self) -> None:
        with self._lock:
            self._records.clear()

    # -- faults
    def inject(self, operation: str, kind: str, times: int | None = None, delay_seconds: float = 0.0) -> None:
        if kind not in (*FAULTS, DELAY):
            raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            self._faults.append(Fault(operation, kind, times, delay_seconds))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def take_fault(self, operation: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.operation in ("*", operation):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    # -- the SESv2 stand-ins (see simulated_aws.sesv2)
    def set_sending(self, name: str, enabled: bool) -> None:
        self.sesv2.set_sending(name, enabled)

    def sending_enabled(self, name: str) -> bool:
        return self.sesv2.sending_enabled(name)

    def set_account(self, **fields: Any) -> None:
        self.sesv2.set_account(**fields)


def _make_handler(proxy: FaultProxy) -> type[QuietHandler]:
    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        break
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                return b"".join(chunks)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _reply(self, status: int, body: bytes, headers: Iterable[tuple[str, str]] = ()) -> None:
            self.send_body(status, body, [*headers, ("x-amzn-RequestId", "sesmonitor-proxy")])

        def do_GET(self) -> None:
            self._handle("GET")

        def do_CONNECT(self) -> None:
            """Tunnel to "AWS": terminate TLS here and handle what comes through like any request."""
            if proxy.tls is None:
                self._reply(501, b"CONNECT needs a TLS context\n")
                return
            self.send_response(200, "Connection Established")
            self.end_headers()
            self.wfile.flush()
            self.connection = proxy.tls.wrap_socket(self.connection, server_side=True)
            self.rfile = self.connection.makefile("rb")
            self.wfile = self.connection.makefile("wb")
            self.close_connection = False

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PUT(self) -> None:
            self._handle("PUT")

        def do_DELETE(self) -> None:
            self._handle("DELETE")

        def _handle(self, method: str) -> None:
            body = self._body()
            if self.path.startswith(CONTROL_PREFIX):
                what = self.path[len(CONTROL_PREFIX) :].split("?", 1)[0]
                status, headers, payload = control(proxy, method, what, body)
                self._reply(status, payload, headers)
                return
            call = identify(method, self.path, self.headers, body)
            fault = proxy.take_fault(call.operation)
            if fault and fault.kind == DELAY:
                time.sleep(fault.delay_seconds)
                fault = None
            status, headers, payload = (
                fault_reply(call.protocol, fault.kind) if fault else self._answer(method, call)
            )
            proxy.record(
                RecordedRequest(
                    call.service,
                    call.operation,
                    call.protocol,
                    status,
                    call.metrics_requested,
                    call.access_key,
                    time.time(),
                    self.path,
                )
            )
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
                self._reply(status, payload, headers)

        def _answer(self, method: str, call: Call) -> Reply:
            """A stand-in's answer, the CBOR bridge's, or moto's (corrected where it differs from AWS)."""
            if call.operation == "GetAccount" and call.protocol == "rest-json":
                return proxy.sesv2.get_account()
            if call.operation in sesv2.TENANT_OPERATIONS and call.protocol == "rest-json":
                return proxy.tenants.answer(call.operation, method, self.path, call.body)
            if call.operation in TAG_OPERATIONS and is_tenant_arn(tagged_arn(method, self.path, call.body)):
                return proxy.tenants.answer(call.operation, method, self.path, call.body)
            if call.operation == "ListRecommendations" and call.protocol == "rest-json":
                return proxy.recommendations.answer(call.body)
            if call.operation == "PutConfigurationSetSendingOptions":
                return proxy.sesv2.put_sending_options(self.path, call.body, self._configuration_set_exists)
            if call.protocol == "cbor":
                return cbor_bridge.bridge(
                    call.operation,
                    call.body,
                    self.headers.items(),
                    lambda body, headers: self._forward("POST", "/", body, headers),
                )
            status, headers, payload = self._forward(method, self.path, call.body, self.headers.items())
            if call.operation == "ListMetrics" and call.protocol == "json" and status == 200:
                payload = json.dumps(unique_metrics(json.loads(payload))).encode()
            if call.operation == "GetConfigurationSet" and status == 200:
                payload = proxy.sesv2.with_sending_options(payload)
            return status, headers, payload

        def _configuration_set_exists(self, name: str) -> bool:
            path = sesv2.configuration_set_path(name)
            return self._forward("GET", path, b"", self.headers.items())[0] == 200

        def _forward(self, method: str, path: str, body: bytes, headers: Iterable[tuple[str, str]]) -> Reply:
            conn = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=120)
            try:
                out = {k: v for k, v in headers if k.lower() not in HOP_BY_HOP}
                out["Content-Length"] = str(len(body))
                conn.request(method, path, body=body, headers=out)
                resp = conn.getresponse()
                payload = resp.read()
                return (
                    resp.status,
                    [(k, v) for k, v in resp.getheaders() if k.lower() not in UNFORWARDED],
                    payload,
                )
            finally:
                conn.close()

    return Handler
