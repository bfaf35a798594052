"""The AWS error an exporter meets reaches the SesMonitor's conditions (issue 11, item 1): a real
exporter over HTTP against moto with faults injected, its /status read by the operator's own client,
and the status computed from it. Before, /readyz failed with the error, the Service had no endpoints,
and the SesMonitor said only "ExporterUnreachable: connection refused"."""

from __future__ import annotations

import datetime
import socket

import pytest

from sesmonitor import contract
from sesmonitor.api import parse_spec
from sesmonitor.operator.exporter_client import fetch_status
from sesmonitor.operator.shapes import ReconcileOutcome
from sesmonitor.operator.status.compute import compute_status
from support.exporter_checks import MONITOR, FakeClock, get
from support.moto_ses import FAULTS

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def conditions_of(exporter) -> dict[str, dict[str, str]]:
    host, port = exporter.address
    reading = fetch_status(f"http://{host}:{port}{contract.STATUS_PATH}", timeout=5)
    assert reading.status is not None, reading.error
    status = compute_status(
        monitor_key=MONITOR,
        spec=parse_spec({"region": "us-east-1"}),
        generation=1,
        outcome=ReconcileOutcome(True),
        reading=reading,
        previous=None,
        now=NOW,
    )
    return {c["type"]: c for c in status["conditions"]}


@pytest.mark.parametrize(
    ("fault", "reason", "code"),
    [
        ("access_denied", "AWSAccessDenied", "AccessDeniedException"),
        ("expired_token", "AWSCredentialsExpired", "ExpiredTokenException"),
        ("throttle", "AWSThrottled", "TooManyRequestsException"),
    ],
)
def test_an_aws_error_is_served_to_the_probe_and_named_in_the_conditions(
    simulated_ses, make_exporter, fault, reason, code
):
    ses = simulated_ses("seed")
    clock = FakeClock(ses.seeded.now)
    exporter = make_exporter(ses, clock=clock)
    ses.proxy.inject("GetAccount", fault)
    exporter.refresher.refresh_once(clock.now)
    assert get(exporter, contract.READYZ_PATH).status == 200  # the pod stays an endpoint
    health = get(exporter, contract.STATUS_PATH).json()["apis"]["GetAccount"]
    assert health["last_error_code"] == code
    conditions = conditions_of(exporter)
    exporter_ready = conditions["ExporterReady"]
    assert (exporter_ready["status"], exporter_ready["reason"]) == ("False", reason)
    assert f"GetAccount: {code}: {FAULTS[fault][3]}" in exporter_ready["message"]
    assert (conditions["Ready"]["status"], conditions["Ready"]["reason"]) == ("False", reason)


@pytest.fixture
def refusing_port():
    """A port bound but not listening: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_an_unreachable_aws_endpoint_is_named(make_exporter, refusing_port):
    exporter = make_exporter(endpoint_url=f"http://127.0.0.1:{refusing_port}", connect_timeout_seconds=1)
    exporter.refresher.refresh_once()
    conditions = conditions_of(exporter)
    assert conditions["ExporterReady"]["reason"] == "AWSUnreachable"
    assert "EndpointConnectionError" in conditions["ExporterReady"]["message"]
    assert conditions["Ready"]["reason"] == "AWSUnreachable"
