"""The HTTP endpoints: /metrics, /healthz, /readyz, /status."""

from __future__ import annotations

import http.client
import socket
from concurrent.futures import ThreadPoolExecutor

from sesmonitor import contract, metrics
from support.exporter_checks import FakeClock, get, parse_metrics, sample


def test_endpoints_before_and_after_the_first_refresh(simulated_ses, make_exporter):
    ses = simulated_ses("seed", configuration_sets=["marketing"])
    clock = FakeClock(ses.seeded.now)
    exporter = make_exporter(ses, clock=clock)

    assert get(exporter, contract.HEALTHZ_PATH).status == 200
    # Ready means "serves": before AWS answered, so the Service routes the operator to /status.
    assert get(exporter, contract.READYZ_PATH).status == 200
    before = contract.ExporterStatus.from_json(get(exporter, contract.STATUS_PATH).body)
    assert before.ready is False
    assert before.stale is True
    assert before.last_refresh_time is None
    assert before.account == contract.empty_account()
    assert before.bounce_rate == contract.empty_rate()

    exporter.refresher.refresh_once(clock.now)
    assert get(exporter, contract.READYZ_PATH).status == 200
    response = get(exporter, contract.STATUS_PATH)
    assert response.headers["content-type"] == "application/json"
    doc = response.json()
    assert set(doc) == {
        "monitor",
        "region",
        "ready",
        "stale",
        "bounce_rate",
        "complaint_rate",
        "account",
        "last_refresh_time",
        "last_error",
        "configuration_sets",
        "apis",
        "counts_without_data",
        "events",  # null without spec.events
        "protection",
        "protection_tenants",  # {} without spec.protection.tenants
        "tenants",  # null without spec.tenants
        "findings",  # null without spec.findings
        "configuration_sets_missing",  # [] without configuration sets
    }
    assert doc["events"] is None
    assert doc["tenants"] is None
    assert doc["findings"] is None
    status = contract.ExporterStatus.from_json(response.body)
    assert status.monitor == "mail/prod"
    assert status.region == "us-east-1"
    assert status.ready is True
    assert status.stale is False
    assert status.last_error is None
    assert status.last_refresh_time is not None
    assert status.last_refresh_time.endswith("Z")
    newest = ses.seeded.newest("Reputation.BounceRate", "marketing")
    marketing = status.configuration_sets["marketing"]["bounce_rate"]
    assert marketing["current"] == newest[1]
    assert marketing["age_seconds"] is not None
    assert marketing["age_seconds"] >= 60
    assert status.account["enforcement_status"] == "PROBATION"
    assert set(status.apis) == {"GetMetricData", "GetAccount", "GetConfigurationSet"}
    assert status.apis["GetMetricData"]["consecutive_failures"] == 0

    scrape = get(exporter, contract.METRICS_PATH)
    assert scrape.status == 200
    assert scrape.headers["content-type"].startswith("text/plain; version=")
    samples = parse_metrics(scrape.body)
    assert sample(samples, metrics.BOUNCE_RATE.prometheus_name, configuration_set="marketing") == newest[1]
    assert get(exporter, "/nope").status == 404


def test_keep_alive_and_many_concurrent_scrapers(simulated_ses, make_exporter):
    ses = simulated_ses("healthy")
    exporter = make_exporter(ses)
    exporter.refresher.refresh_once()
    host, port = exporter.address

    conn = http.client.HTTPConnection(host, port, timeout=10)
    for path in (contract.METRICS_PATH, contract.STATUS_PATH, contract.HEALTHZ_PATH):
        conn.request("GET", path)
        response = conn.getresponse()
        assert response.status == 200
        response.read()
    conn.close()

    def scrape(_: int) -> int:
        return get(exporter, contract.METRICS_PATH).status

    with ThreadPoolExecutor(50) as pool:
        assert set(pool.map(scrape, range(200))) == {200}
    assert ses.proxy.count("GetMetricData") == 1


def test_rendering_is_shared_until_state_or_second_changes(simulated_ses, make_exporter):
    ses = simulated_ses("healthy")
    clock = FakeClock(ses.seeded.now)
    exporter = make_exporter(ses, clock=clock)
    exporter.refresher.refresh_once(clock.now)
    first = get(exporter, contract.METRICS_PATH).body
    assert get(exporter, contract.METRICS_PATH).body == first
    clock.advance(5)  # ages move on
    second = get(exporter, contract.METRICS_PATH).body
    assert second != first
    age = sample(parse_metrics(second), metrics.DATAPOINT_AGE_SECONDS, metric="Send", configuration_set="")
    first_age = sample(
        parse_metrics(first), metrics.DATAPOINT_AGE_SECONDS, metric="Send", configuration_set=""
    )
    assert age == first_age + 5


def test_http_details(simulated_ses, make_exporter):
    ses = simulated_ses("healthy")
    exporter = make_exporter(ses)
    host, port = exporter.address
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("POST", contract.METRICS_PATH, body=b"x")
    response = conn.getresponse()
    assert response.status == 405
    response.read()
    conn.request("HEAD", contract.HEALTHZ_PATH)
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Length") == "3"
    assert response.read() == b""
    conn.close()
    # Two pipelined requests, then an HTTP/1.0 one that closes the connection.
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /healthz HTTP/1.0\r\n\r\n"
        )
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.count(b"HTTP/1.1 200 OK") == 2
    assert received.count(b"HTTP/1.1 404 Not Found") == 1
    assert received.endswith(b"ok\n")
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(b"NONSENSE\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 400")


def test_all_interfaces_serve_ipv4_and_ipv6_clients_from_one_exporter(simulated_ses, make_exporter):
    ses = simulated_ses("seed")
    exporter = make_exporter(ses, listen=("::", 0))
    exporter.refresher.refresh_once()
    _host, port = exporter.address
    bodies = []
    for host in ("127.0.0.1", "::1"):
        conn = http.client.HTTPConnection(host, port, timeout=10)
        try:
            conn.request("GET", contract.STATUS_PATH)
            response = conn.getresponse()
            assert response.status == 200
            bodies.append(contract.ExporterStatus.from_json(response.read().decode()))
        finally:
            conn.close()
    assert [b.monitor for b in bodies] == ["mail/prod", "mail/prod"]
    assert bodies[0].last_refresh_time == bodies[1].last_refresh_time is not None
