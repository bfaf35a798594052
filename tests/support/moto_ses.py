"""A simulated SES account over real HTTP: moto's server behind a counting, fault-injecting proxy.

Used by the AWS test tier, the exporter benchmark and the end-to-end demo.

    with SimulatedSes(scenario="seed", configuration_sets=["marketing"]) as ses:
        ses.endpoint_url        # point the exporter (or any SDK) here
        ses.proxy.count("GetMetricData")
        ses.proxy.inject("GetMetricData", "throttle", times=2)
        ses.proxy.set_account(EnforcementStatus="SHUTDOWN")

Pieces:
- moto (`ThreadedMotoServer`) holds the CloudWatch data; `seed_scenario` fills namespace AWS/SES with a
  scenario's datapoints ("seed", "healthy", "complaint-spike", "under-review"; see `SCENARIOS`).
- `FaultProxy` sits in front of moto and
  * records every request (service, operation, wire protocol, status, CloudWatch metrics requested),
    so tests and the benchmark count what really went over the wire;
  * injects faults per operation, answered in the caller's protocol (awsJson1_0 with the query-compatible
    error header, AWS query XML, Smithy RPC v2 CBOR, or REST-JSON): throttling (HTTP 400 `Throttling`,
    429 for SESv2), server errors (500), AccessDenied (403), or a delay that runs into client timeouts;
  * bridges Smithy RPC v2 CBOR (the AWS Go SDK v2 speaks it to CloudWatch, moto 5.2.5 does not) to the
    awsJson1_0 protocol moto understands, and the answers back;
  * STANDS IN FOR SESv2 GetAccount (GET /v2/email/account), which moto 5.2.5 does not implement: it
    answers with the scenario's account (enforcement status, sending, quota), switchable at run time
    through `set_account` or the control endpoint.
  * forwards SESv2 GetConfigurationSet to moto, which implements it with the set's ReputationOptions
    (checked over HTTP against moto 5.2.5: no stand-in needed); `SimulatedSes` creates the listed
    configuration sets there, reputation metrics enabled unless named in `reputation_disabled`.
  * STANDS IN FOR SESv2 PutConfigurationSetSendingOptions (PUT /v2/email/configuration-sets/<set>/sending),
    which moto does not implement (404), keeping each set's sending switch itself (`set_sending`, the
    control endpoint), and for the SendingOptions of GetConfigurationSet's answer, which moto gets
    wrong (`{"SendingEnabled": {}}`): the proxy writes its own switch into moto's answer. The tagging calls
    spec.protection uses, TagResource and ListTagsForResource (/v2/email/tags), moto implements for
    configuration set ARNs (checked over HTTP): forwarded, no stand-in.
  * with a TLS context, answers HTTP CONNECT by terminating TLS itself, so an SDK that only honours an
    HTTPS proxy setting (the AWS Java SDK in prometheus cloudwatch_exporter 0.16.0, which has no endpoint
    option) reaches moto too, given a certificate it trusts.
  * lists each metric once in ListMetrics answers (JSON and CBOR), where moto 5.2.5 repeats a metric
    once per datapoint: SDKs that list before they read would otherwise ask for hundreds of duplicates.
- Control endpoints on the proxy (JSON), for a demo running in another process:
  GET /__sesmonitor/requests, POST /__sesmonitor/reset, GET|PUT /__sesmonitor/account,
  GET|PUT /__sesmonitor/sending (body: {"marketing": false}),
  POST|DELETE /__sesmonitor/faults (body: {"operation": "GetMetricData", "kind": "throttle", "times": 2}).

Run it on its own: ``python tests/support/moto_ses.py --scenario seed --port 4566`` prints the endpoint
URL and serves until SIGTERM/SIGINT.

moto quirk worth knowing: a GetMetricData query without dimensions matches every datapoint of that metric
name whatever its dimensions, so with configuration sets seeded, moto's account-wide values mix in the
sets' datapoints (real CloudWatch keeps them apart). Configuration-set queries are exact.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import http.client
import json
import math
import signal
import ssl
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import KW_ONLY, asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `support` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import boto3
import botocore.session
from moto.server import ThreadedMotoServer

from support import cbor

NAMESPACE = "AWS/SES"
CONFIGURATION_SET_DIMENSION = "ses:configuration-set"
CLOUDWATCH_TARGET_PREFIX = "GraniteServiceVersion20100801"
CONTROL_PREFIX = "/__sesmonitor/"
EVENTS_OF_RATE = {"Reputation.BounceRate": "Bounce", "Reputation.ComplaintRate": "Complaint"}
TEST_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
MINUTE = 60

# --------------------------------------------------------------------------------------------------
# Scenarios


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    enforcement_status: str
    sending_enabled: bool
    # minute start (epoch) -> emails sent in that minute; 0 = no mail, so no reputation datapoint
    sends: Callable[[float], int]
    # (minute start, seeding "now", seeding start) -> fraction
    bounce_rate: Callable[[float, float, float], float]
    complaint_rate: Callable[[float, float, float], float]
    _: KW_ONLY  # what only some scenarios have is named where they set it
    # minute start -> the SES events (event-publishing records) of that minute, for spec.events; the
    # live account (support.live_ses) publishes them through SNS to an SQS queue. None: no events.
    events: Callable[[float], list[dict[str, Any]]] | None = None
    # configuration set -> its own (bounce, complaint) rates, instead of the scaled account rates
    set_rates: dict[str, tuple[float, float]] = field(default_factory=dict)


def _bursts(every_minutes: int, for_minutes: int, per_minute: int) -> Callable[[float], int]:
    def sends(t: float) -> int:
        return per_minute if (int(t // MINUTE) % every_minutes) < for_minutes else 0

    return sends


def _steady(per_minute: int) -> Callable[[float], int]:
    return lambda _t: per_minute


def _seed_bounce(t: float, _now: float, start: float) -> float:
    # 14.32% when the story starts, about 4 percentage points more per day.
    return 0.1432 + 0.04 * (t - start) / 86400


def _spike(t: float, now: float, _start: float) -> float:
    ramp_start = now - 45 * MINUTE
    if t < ramp_start:
        return 0.0003
    return 0.0003 + (0.006 - 0.0003) * min(1.0, (t - ramp_start) / (45 * MINUTE))


BAD_LIST_DOMAIN = "list.example"


def _bad_list_bounce(t: float, now: float, _start: float) -> float:
    # AWS's reputation rate lags: 1% until 3 minutes after seeding, then a point more every minute.
    return min(0.15, 0.01 + max(0.0, t - (now + 3 * MINUTE)) / MINUTE * 0.01)


def _bad_list_events(t: float) -> list[dict[str, Any]]:
    """Each minute 40 sends, 12 of them to a bad list at one domain: permanent NoEmail bounces; one
    transient bounce elsewhere; the rest delivered."""
    from support.ses_notifications import event  # the fixtures' shapes, kept out of moto's import path

    out = []
    for i in range(40):
        recipient = f"user{i}@{BAD_LIST_DOMAIN}" if i < 12 else f"user{i}@example.{'org' if i % 2 else 'com'}"
        mid = f"0100-{int(t)}-{i:02d}-000000"
        out.append(event("Send", [recipient], mid=mid))
        if i < 12:
            out.append(
                event("Bounce", [recipient], mid=mid, bounce_type="Permanent", bounce_sub_type="NoEmail")
            )
        elif i == 12:
            out.append(
                event("Bounce", [recipient], mid=mid, bounce_type="Transient", bounce_sub_type="MailboxFull")
            )
        else:
            out.append(event("Delivery", [recipient], mid=mid))
    return out


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "seed",
            "The seed story: bounce rate 14.32% rising ~4%/day; mail (and so reputation datapoints) "
            "only in 5-minute bursts every 20 minutes; account under review (PROBATION).",
            "PROBATION",
            True,
            _bursts(20, 5, 40),
            _seed_bounce,
            lambda *_: 0.0004,
        ),
        Scenario(
            "healthy",
            "Steady sending, bounce 0.8%, complaints 0.02%, account HEALTHY.",
            "HEALTHY",
            True,
            _steady(30),
            lambda *_: 0.008,
            lambda *_: 0.0002,
        ),
        Scenario(
            "clean",
            "Steady sending, bounce 0.8%, never a complaint, account HEALTHY: like AWS, the simulation "
            "publishes no Reputation.ComplaintRate for an account that never had a complaint.",
            "HEALTHY",
            True,
            _steady(30),
            lambda *_: 0.008,
            lambda *_: 0.0,
        ),
        Scenario(
            "complaint-spike",
            "Steady sending, bounce 1.1%; complaints 0.03% then rising to 0.6% over the last 45 minutes.",
            "HEALTHY",
            True,
            _steady(30),
            lambda *_: 0.011,
            _spike,
        ),
        Scenario(
            "protect",
            "Steady sending; configuration set marketing at 12% bounces (over AWS's 10% pause level),"
            " transactional at 0.5%; account bounce 4.5%, HEALTHY: spec.protection pauses marketing alone.",
            "HEALTHY",
            True,
            _steady(30),
            lambda *_: 0.045,
            lambda *_: 0.0003,
            set_rates={"marketing": (0.12, 0.0004), "transactional": (0.005, 0.0001)},
        ),
        Scenario(
            "under-review",
            "Bounce 6.2% (over AWS's 5% review line), complaints 0.09%, mail in 3-minute bursts every "
            "10 minutes; account under review (PROBATION).",
            "PROBATION",
            True,
            _bursts(10, 3, 25),
            lambda *_: 0.062,
            lambda *_: 0.0009,
        ),
        Scenario(
            "bad-list",
            f"A bad list (spec.events): 30% of the mail goes to {BAD_LIST_DOMAIN} and bounces permanently"
            " (NoEmail) from the start, while CloudWatch's reputation rate, AWS's lagging figure, stays at 1%"
            " for 3 minutes and then rises a point a minute; account HEALTHY.",
            "HEALTHY",
            True,
            _steady(40),
            _bad_list_bounce,
            lambda *_: 0.0002,
            events=_bad_list_events,
        ),
    )
}


@dataclass
class SeededScenario:
    scenario: Scenario
    now: float
    start: float
    configuration_sets: tuple[str, ...]
    # (CloudWatch metric name, configuration set or "") -> [(minute start, value)], oldest first
    points: dict[tuple[str, str], list[tuple[float, float]]] = field(default_factory=dict)

    def series(self, metric: str, configuration_set: str = "") -> list[tuple[float, float]]:
        return self.points.get((metric, configuration_set), [])

    def newest(
        self, metric: str, configuration_set: str = "", at: float | None = None
    ) -> tuple[float, float] | None:
        """The newest datapoint of a whole minute that had ended by `at` (default: seeding time)."""
        at = self.now if at is None else at
        end = math.floor(at / MINUTE) * MINUTE
        eligible = [p for p in self.series(metric, configuration_set) if p[0] < end]
        return eligible[-1] if eligible else None

    def sent_last_24_hours(self) -> float:
        return sum(v for t, v in self.series("Send") if t >= self.now - 86400)


def scale_for(index: int) -> float:
    """Configuration set number `index` gets the scenario's rates times this (0.5, 1.0, 1.5, ...)."""
    return 0.5 * (index + 1)


def seed_scenario(
    cloudwatch: Any,
    scenario: str | Scenario,
    *,
    now: float | None = None,
    hours: float = 3.0,
    configuration_sets: Sequence[str] = (),
    reputation_disabled: Sequence[str] = (),
) -> SeededScenario:
    """Put a scenario's AWS/SES datapoints for the last `hours` into CloudWatch, one per minute.

    Per sending minute: Send, Delivery, and Bounce / Complaint when non-zero (SES publishes no zeros;
    Reject is never published), plus Reputation.BounceRate and Reputation.ComplaintRate. Minutes without
    mail get no datapoint at all, like SES. Like AWS, a reputation rate of 0 is not published while the
    scope has had no such event yet (a clean account has no complaint rate), and a configuration set in
    `reputation_disabled` gets no reputation rates at all.
    """
    sc = SCENARIOS[scenario] if isinstance(scenario, str) else scenario
    now = time.time() if now is None else now
    first = math.floor((now - hours * 3600) / MINUTE) * MINUTE
    seeded = SeededScenario(sc, now, first, tuple(configuration_sets))
    data: list[dict[str, Any]] = []
    for index, scope in enumerate(["", *configuration_sets]):
        factor = 1.0 if not scope else scale_for(index - 1)
        dims = [{"Name": CONFIGURATION_SET_DIMENSION, "Value": scope}] if scope else []
        t = first
        while t <= now - MINUTE:  # whole minutes only
            sent = sc.sends(t)
            if scope and sent:  # a configuration set carries part of the mail
                sent = max(1, sent // 2)
            if sent:
                bounce_rate = min(1.0, sc.bounce_rate(t, now, first) * factor)
                complaint_rate = min(1.0, sc.complaint_rate(t, now, first) * factor)
                if scope in sc.set_rates:
                    bounce_rate, complaint_rate = sc.set_rates[scope]
                bounces = round(sent * bounce_rate)
                delivered = sent - bounces
                complaints = round(delivered * complaint_rate)
                values = {
                    "Send": float(sent),
                    "Delivery": float(delivered),
                    "Bounce": float(bounces),
                    "Complaint": float(complaints),
                    "Reputation.BounceRate": bounce_rate,
                    "Reputation.ComplaintRate": complaint_rate,
                }
                for name, value in values.items():
                    if name in ("Bounce", "Complaint") and value == 0:
                        continue
                    if name.startswith("Reputation.") and (
                        scope in reputation_disabled
                        or (value == 0 and not seeded.series(EVENTS_OF_RATE[name], scope))
                    ):
                        continue
                    seeded.points.setdefault((name, scope), []).append((t, value))
                    data.append(
                        {
                            "MetricName": name,
                            "Dimensions": dims,
                            "Timestamp": dt.datetime.fromtimestamp(t, dt.UTC),
                            "Value": value,
                        }
                    )
            t += MINUTE
    for offset in range(0, len(data), 500):
        cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data[offset : offset + 500])
    return seeded


# --------------------------------------------------------------------------------------------------
# The proxy


@dataclass(frozen=True)
class RecordedRequest:
    service: str  # from the SigV4 credential scope: monitoring, ses, sts, ...
    operation: str
    protocol: str  # json | query | cbor | rest-json | other
    status: int
    metrics_requested: int  # GetMetricData queries in the request (what CloudWatch bills)
    access_key: str
    at: float


@dataclass
class Fault:
    operation: str  # "*" for every operation
    kind: str  # throttle | server_error | access_denied | delay
    times: int | None = None  # None: until cleared
    delay_seconds: float = 0.0


@dataclass
class AccountStandIn:
    """What the stand-in GetAccount answers (SESv2 field names)."""

    EnforcementStatus: str = "HEALTHY"
    SendingEnabled: bool = True
    ProductionAccessEnabled: bool = True
    Max24HourSend: float = 50000.0
    MaxSendRate: float = 14.0
    SentLast24Hours: float = 0.0

    def response(self) -> dict[str, Any]:
        return {
            "DedicatedIpAutoWarmupEnabled": False,
            "EnforcementStatus": self.EnforcementStatus,
            "ProductionAccessEnabled": self.ProductionAccessEnabled,
            "SendingEnabled": self.SendingEnabled,
            "SendQuota": {
                "Max24HourSend": self.Max24HourSend,
                "MaxSendRate": self.MaxSendRate,
                "SentLast24Hours": self.SentLast24Hours,
            },
            "SuppressionAttributes": {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]},
        }


# (HTTP status, code for CloudWatch's query/JSON/CBOR protocols, code for SESv2 REST-JSON, message)
FAULTS = {
    "throttle": (400, "Throttling", "TooManyRequestsException", "Rate exceeded"),
    "server_error": (500, "InternalServiceError", "InternalFailure", "Internal service error (injected)"),
    "access_denied": (
        403,
        "AccessDenied",
        "AccessDeniedException",
        "User: arn:aws:iam::123456789012:user/test is not authorized to perform this action (injected)",
    ),
    "expired_token": (
        400,
        "ExpiredToken",
        "ExpiredTokenException",
        "The security token included in the request is expired (injected)",
    ),
}
SESV2_STATUS = {"throttle": 429}
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "content-length", "te"}


def _cloudwatch_model() -> Any:
    return botocore.session.get_session().get_service_model("cloudwatch")


def _to_cbor_value(value: Any, shape: Any) -> Any:
    """moto's JSON answer, typed by the botocore shape, as the values a CBOR SDK expects."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        return {
            k: _to_cbor_value(v, shape.members[k])
            for k, v in value.items()
            if k in shape.members and v is not None
        }
    if kind == "list":
        return [_to_cbor_value(v, shape.member) for v in value]
    if kind == "map":
        return {k: _to_cbor_value(v, shape.value) for k, v in value.items()}
    if kind == "timestamp":
        if isinstance(value, str):
            try:
                return cbor.Tagged(1, float(value))
            except ValueError:
                parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
                return cbor.Tagged(1, parsed.timestamp())
        return cbor.Tagged(1, float(value))
    if kind in ("double", "float"):
        return float(value)
    if kind in ("integer", "long"):
        return int(value)
    if kind == "blob":
        return base64.b64decode(value) if isinstance(value, str) else value
    return value


def _from_cbor_value(value: Any) -> Any:
    """A decoded CBOR request as JSON-ready values (tag 1 timestamps become epoch seconds)."""
    if isinstance(value, cbor.Tagged):
        return _from_cbor_value(value.value)
    if isinstance(value, dict):
        return {k: _from_cbor_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_cbor_value(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


class FaultProxy:
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
        self.account = AccountStandIn()
        self.sending: dict[str, bool] = {}  # the PutConfigurationSetSendingOptions stand-in's switches
        self._records: list[RecordedRequest] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._cloudwatch_model = _cloudwatch_model()
        self.server = ThreadingHTTPServer((host, port), _make_handler(self))
        self.server.daemon_threads = True
        self.server.request_queue_size = 128
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self.server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread:
            self._thread.join(5)

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
        if kind not in (*FAULTS, "delay"):
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

    # -- the PutConfigurationSetSendingOptions stand-in
    def set_sending(self, name: str, enabled: bool) -> None:
        with self._lock:
            self.sending[name] = enabled

    def sending_enabled(self, name: str) -> bool:
        with self._lock:
            return self.sending.get(name, True)

    # -- the GetAccount stand-in
    def set_account(self, **fields: Any) -> None:
        with self._lock:
            for name, value in fields.items():
                if not hasattr(self.account, name):
                    raise ValueError(f"unknown account field {name!r}")
                setattr(self.account, name, value)


@dataclass
class _Call:
    service: str
    operation: str
    protocol: str
    access_key: str
    body: bytes
    metrics_requested: int = 0


def _credential(headers: Any) -> tuple[str, str]:
    auth = headers.get("Authorization", "")
    marker = "Credential="
    if marker not in auth:
        return "", ""
    scope = auth.split(marker, 1)[1].split(",", 1)[0].split("/")
    return (scope[3] if len(scope) > 3 else ""), scope[0]


def _identify(method: str, path: str, headers: Any, body: bytes) -> _Call:
    service, key = _credential(headers)
    content_type = headers.get("Content-Type", "")
    if headers.get("smithy-protocol") == "rpc-v2-cbor" or "application/cbor" in content_type:
        operation = path.rstrip("/").rsplit("/", 1)[-1]
        call = _Call(service or "monitoring", operation, "cbor", key, body)
        if operation == "GetMetricData":
            doc = cbor.loads(body) or {}
            call.metrics_requested = len(doc.get("MetricDataQueries", []))
        return call
    if headers.get("X-Amz-Target"):
        operation = headers["X-Amz-Target"].rsplit(".", 1)[-1]
        call = _Call(service, operation, "json", key, body)
        if operation == "GetMetricData":
            call.metrics_requested = len(json.loads(body or b"{}").get("MetricDataQueries", []))
        return call
    if "x-www-form-urlencoded" in content_type:
        form = urllib.parse.parse_qs(body.decode())
        operation = form.get("Action", [""])[0]
        call = _Call(service, operation, "query", key, body)
        if operation == "GetMetricData":
            call.metrics_requested = sum(
                1 for k in form if k.startswith("MetricDataQueries.member.") and k.endswith(".Id")
            )
        return call
    if path.split("?", 1)[0].rstrip("/") == "/v2/email/account" and method == "GET":
        return _Call(service or "ses", "GetAccount", "rest-json", key, body)
    # Forwarded to moto, which implements it (ReputationOptions included); named for counts and faults.
    parts = path.split("?", 1)[0].rstrip("/").split("/")
    if method == "GET" and len(parts) == 5 and parts[1:4] == ["v2", "email", "configuration-sets"]:
        return _Call(service or "ses", "GetConfigurationSet", "rest-json", key, body)
    if (
        method == "PUT"
        and len(parts) == 6
        and parts[1:4] == ["v2", "email", "configuration-sets"]
        and parts[5] == "sending"
    ):
        return _Call(  # the stand-in answers it
            service or "ses", "PutConfigurationSetSendingOptions", "rest-json", key, body
        )
    if parts[1:4] == ["v2", "email", "tags"]:  # forwarded to moto
        operation = {"GET": "ListTagsForResource", "POST": "TagResource", "DELETE": "UntagResource"}
        return _Call(service or "ses", operation.get(method, method), "rest-json", key, body)
    return _Call(service, f"{method} {path.split('?', 1)[0]}", "other", key, body)


def _make_handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

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
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-amzn-RequestId", "sesmonitor-proxy")
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()

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
                self._control(method, self.path[len(CONTROL_PREFIX) :].split("?", 1)[0], body)
                return
            call = _identify(method, self.path, self.headers, body)
            fault = proxy.take_fault(call.operation)
            if fault and fault.kind == "delay":
                time.sleep(fault.delay_seconds)
                fault = None
            if fault:
                status, headers, payload = _fault_response(call, fault.kind)
            elif call.operation == "GetAccount" and call.protocol == "rest-json":
                with proxy._lock:
                    doc = proxy.account.response()
                status, headers, payload = (
                    200,
                    [("Content-Type", "application/json")],
                    json.dumps(doc).encode(),
                )
            elif call.operation == "PutConfigurationSetSendingOptions":
                status, headers, payload = self._put_sending(method, body)
            elif call.protocol == "cbor":
                status, headers, payload = self._bridge_cbor(call)
            else:
                status, headers, payload = self._forward(method, self.path, body, self.headers.items())
                if call.operation == "ListMetrics" and call.protocol == "json" and status == 200:
                    payload = json.dumps(_unique_metrics(json.loads(payload))).encode()
                if call.operation == "GetConfigurationSet" and status == 200:  # the stand-in's switch
                    doc = json.loads(payload)
                    doc["SendingOptions"] = {
                        "SendingEnabled": proxy.sending_enabled(doc["ConfigurationSetName"])
                    }
                    payload = json.dumps(doc).encode()
            proxy.record(
                RecordedRequest(
                    call.service,
                    call.operation,
                    call.protocol,
                    status,
                    call.metrics_requested,
                    call.access_key,
                    time.time(),
                )
            )
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
                self._reply(status, payload, headers)

        def _forward(
            self, method: str, path: str, body: bytes, headers: Iterable[tuple[str, str]]
        ) -> tuple[int, list[tuple[str, str]], bytes]:
            conn = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=120)
            try:
                out = {k: v for k, v in headers if k.lower() not in HOP_BY_HOP}
                out["Content-Length"] = str(len(body))
                conn.request(method, path, body=body, headers=out)
                resp = conn.getresponse()
                payload = resp.read()
                kept = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
                kept = [(k, v) for k, v in kept if k.lower() not in ("server", "date", "x-amzn-requestid")]
                return resp.status, kept, payload
            finally:
                conn.close()

        def _put_sending(self, method: str, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
            """PutConfigurationSetSendingOptions (stand-in): only for a set moto has, like SES."""
            name = urllib.parse.unquote(self.path.split("?", 1)[0].rstrip("/").split("/")[4])
            status, _, _ = self._forward(
                "GET", f"/v2/email/configuration-sets/{name}", b"", self.headers.items()
            )
            if status != 200:
                error = [("Content-Type", "application/json"), ("x-amzn-ErrorType", "NotFoundException")]
                return (
                    404,
                    error,
                    json.dumps({"message": f"Configuration set {name} does not exist"}).encode(),
                )
            proxy.set_sending(name, bool(json.loads(body or b"{}").get("SendingEnabled", True)))
            return 200, [("Content-Type", "application/json")], b"{}"

        def _bridge_cbor(self, call: _Call) -> tuple[int, list[tuple[str, str]], bytes]:
            params = _from_cbor_value(cbor.loads(call.body) or {})
            headers = [
                (k, v)
                for k, v in self.headers.items()
                if k.lower() not in ("content-type", "smithy-protocol")
            ]
            headers += [
                ("Content-Type", "application/x-amz-json-1.0"),
                ("X-Amz-Target", f"{CLOUDWATCH_TARGET_PREFIX}.{call.operation}"),
            ]
            status, upstream_headers, payload = self._forward(
                "POST", "/", json.dumps(params).encode(), headers
            )
            doc = json.loads(payload or b"{}")
            if call.operation == "ListMetrics" and status == 200:
                doc = _unique_metrics(doc)
            out_headers = [("smithy-protocol", "rpc-v2-cbor"), ("Content-Type", "application/cbor")]
            out_headers += [(k, v) for k, v in upstream_headers if k.lower() == "x-amzn-query-error"]
            if status >= 300:
                error_type = str(doc.get("__type", "InternalFailure"))
                message = doc.get("message") or doc.get("Message") or ""
                return status, out_headers, cbor.dumps({"__type": error_type, "message": message})
            shape = proxy._cloudwatch_model.operation_model(call.operation).output_shape
            value = _to_cbor_value(doc, shape) if shape is not None else {}
            return status, out_headers, cbor.dumps(value)

        def _control(self, method: str, what: str, body: bytes) -> None:
            doc = json.loads(body) if body else {}
            result: Any
            if what == "requests" and method == "GET":
                reqs = proxy.requests()
                counts: dict[str, int] = {}
                for r in reqs:
                    counts[r.operation] = counts.get(r.operation, 0) + 1
                result = {"counts": counts, "requests": [asdict(r) for r in reqs]}
            elif what == "reset" and method == "POST":
                proxy.reset()
                result = {"ok": True}
            elif what == "account" and method in ("PUT", "POST"):
                try:
                    proxy.set_account(**doc)
                except (TypeError, ValueError) as exc:
                    self._reply(
                        400, json.dumps({"error": str(exc)}).encode(), [("Content-Type", "application/json")]
                    )
                    return
                result = asdict(proxy.account)
            elif what == "account" and method == "GET":
                result = asdict(proxy.account)
            elif what == "sending" and method in ("PUT", "POST"):
                for name, enabled in doc.items():
                    proxy.set_sending(name, bool(enabled))
                result = dict(proxy.sending)
            elif what == "sending" and method == "GET":
                result = dict(proxy.sending)
            elif what == "faults" and method == "POST":
                try:
                    proxy.inject(
                        doc["operation"], doc["kind"], doc.get("times"), float(doc.get("delay_seconds", 0))
                    )
                except (KeyError, ValueError) as exc:
                    self._reply(
                        400, json.dumps({"error": str(exc)}).encode(), [("Content-Type", "application/json")]
                    )
                    return
                result = {"ok": True}
            elif what == "faults" and method == "DELETE":
                proxy.clear_faults()
                result = {"ok": True}
            else:
                self._reply(
                    404, b'{"error": "unknown control endpoint"}', [("Content-Type", "application/json")]
                )
                return
            self._reply(200, json.dumps(result).encode(), [("Content-Type", "application/json")])

    return Handler


def _unique_metrics(doc: dict[str, Any]) -> dict[str, Any]:
    """moto 5.2.5 lists a metric once per datapoint; CloudWatch lists it once. Keep the first of each."""
    seen: set[str] = set()
    unique = []
    for metric in doc.get("Metrics", []):
        key = json.dumps(metric, sort_keys=True)
        if key not in seen:
            seen.add(key)
            unique.append(metric)
    return dict(doc, Metrics=unique)


def _fault_response(call: _Call, kind: str) -> tuple[int, list[tuple[str, str]], bytes]:
    status, code, rest_code, message = FAULTS[kind]
    if call.protocol == "rest-json":
        return (
            SESV2_STATUS.get(kind, status),
            [("Content-Type", "application/json"), ("x-amzn-ErrorType", rest_code)],
            json.dumps({"message": message}).encode(),
        )
    fault_side = "Receiver" if status >= 500 else "Sender"
    query_error = ("x-amzn-query-error", f"{code};{fault_side}")
    if call.protocol == "json":
        body = json.dumps({"__type": f"{CLOUDWATCH_TARGET_PREFIX}#{code}", "message": message}).encode()
        return status, [("Content-Type", "application/x-amz-json-1.0"), query_error], body
    if call.protocol == "cbor":
        body = cbor.dumps({"__type": f"com.amazonaws.cloudwatch#{code}", "message": message})
        return (
            status,
            [("smithy-protocol", "rpc-v2-cbor"), ("Content-Type", "application/cbor"), query_error],
            body,
        )
    xml = (
        f'<ErrorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><Error><Type>{fault_side}</Type>'
        f"<Code>{code}</Code><Message>{message}</Message></Error><RequestId>sesmonitor-proxy</RequestId>"
        "</ErrorResponse>"
    )
    return status, [("Content-Type", "text/xml")], xml.encode()


# --------------------------------------------------------------------------------------------------
# moto + proxy + scenario, together


class SimulatedSes:
    """moto + FaultProxy + a seeded scenario. Resets moto's (process-wide) state when it starts."""

    def __init__(
        self,
        scenario: str | Scenario = "seed",
        *,
        region: str = "us-east-1",
        configuration_sets: Sequence[str] = (),
        reputation_disabled: Sequence[str] = (),
        hours: float = 3.0,
        now: float | None = None,
        host: str = "127.0.0.1",
        proxy_port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.scenario = SCENARIOS[scenario] if isinstance(scenario, str) else scenario
        self.tls = tls
        self.region = region
        self.configuration_sets = tuple(configuration_sets)
        self.reputation_disabled = tuple(reputation_disabled)
        self.hours = hours
        self.now = now
        self.host = host
        self.proxy_port = proxy_port
        self.moto: ThreadedMotoServer | None = None
        self.proxy: FaultProxy
        self.seeded: SeededScenario

    @property
    def moto_url(self) -> str:
        assert self.moto is not None
        host, port = self.moto.get_host_and_port()
        return f"http://{host}:{port}"

    @property
    def endpoint_url(self) -> str:
        return self.proxy.url

    def client(self, service: str, *, direct: bool = False, **kwargs: Any) -> Any:
        """A boto3 client with test credentials, through the proxy (or straight to moto: not counted)."""
        return boto3.client(
            service,
            region_name=self.region,
            endpoint_url=self.moto_url if direct else self.endpoint_url,
            **TEST_CREDENTIALS,
            **kwargs,
        )

    def start(self) -> SimulatedSes:
        self.moto = ThreadedMotoServer(ip_address=self.host, port=0, verbose=False)
        self.moto.start()
        urllib.request.urlopen(
            urllib.request.Request(self.moto_url + "/moto-api/reset", method="POST")
        ).read()
        self.proxy = FaultProxy(self.moto_url, host=self.host, port=self.proxy_port, tls=self.tls).start()
        # The configuration sets exist in SESv2 (moto implements GetConfigurationSet with its
        # ReputationOptions), reputation metrics enabled unless listed in `reputation_disabled`.
        sesv2 = self.client("sesv2", direct=True)
        for name in self.configuration_sets:
            enabled = name not in self.reputation_disabled
            sesv2.create_configuration_set(
                ConfigurationSetName=name, ReputationOptions={"ReputationMetricsEnabled": enabled}
            )
        self.seeded = seed_scenario(
            self.client("cloudwatch", direct=True),
            self.scenario,
            now=self.now,
            hours=self.hours,
            configuration_sets=self.configuration_sets,
            reputation_disabled=self.reputation_disabled,
        )
        self.proxy.set_account(
            EnforcementStatus=self.scenario.enforcement_status,
            SendingEnabled=self.scenario.sending_enabled,
            SentLast24Hours=self.seeded.sent_last_24_hours(),
        )
        return self

    def stop(self) -> None:
        self.proxy.stop()
        if self.moto is not None:
            self.moto.stop()
            self.moto = None

    def __enter__(self) -> SimulatedSes:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a simulated SES account (moto + fault proxy).")
    parser.add_argument("--scenario", default="seed", choices=sorted(SCENARIOS))
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--configuration-set", action="append", default=[])
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="proxy port (0: any free port)")
    args = parser.parse_args(argv)
    ses = SimulatedSes(
        args.scenario,
        region=args.region,
        configuration_sets=args.configuration_set,
        hours=args.hours,
        host=args.host,
        proxy_port=args.port,
    ).start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(json.dumps({"endpoint_url": ses.endpoint_url, "scenario": args.scenario}), flush=True)
    stop.wait()
    ses.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
