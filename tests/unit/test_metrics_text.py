"""/metrics' page: the tenants' and findings' families rendered once a reading, the page byte-identical to
prometheus_client's fresh rendering of the exporter's whole registry, whatever changed in between."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from sesmonitor import contract
from sesmonitor.exporter import Exporter
from sesmonitor.exporter.model.findings import Finding, FindingsReading
from sesmonitor.exporter.model.state import API_ACCOUNT
from sesmonitor.exporter.model.tenants import StatusRecord, Tenant, TenantsReading
from sesmonitor.exporter.serving.metrics_text import MetricsRenderer, RenderPart

NOW = 1_800_000_000.0
ARN = "arn:aws:ses:us-east-1:123456789012:tenant/{}/tn-{}"


def tenants_reading(count: int, paused: str = "t0001") -> TenantsReading:
    tenants = tuple(
        Tenant(
            f"t{i:04d}", ARN.format(f"t{i:04d}", i), "ENABLED", "ENABLED",
            StatusRecord("DISABLED" if f"t{i:04d}" == paused else "ENABLED", "bounces \"12%\"\nabove"),
            StatusRecord("ENABLED"), "HIGH" if i % 7 == 0 else "LOW", "standard",
        )
        for i in range(count)
    )  # fmt: skip
    return TenantsReading(tenants, matching=count + 5, requests=2 * (count // 100 + 1))


def findings_reading(count: int) -> FindingsReading:
    findings = tuple(
        Finding(ARN.format(f"t{i:04d}", i), "BOUNCE" if i % 2 else "COMPLAINT", "HIGH", None, NOW - i)
        for i in range(count)
    )
    return FindingsReading(findings, count, 2)


class Counted(Collector):
    """A collector that counts how often it is asked for its families."""

    def __init__(self, inner: Collector) -> None:
        self.inner = inner
        self.collected = 0

    def collect(self) -> Iterator[Metric]:
        self.collected += 1
        return self.inner.collect()


def exporter() -> Exporter:
    config = contract.ExporterConfig(
        monitor="mail/prod",
        region="us-east-1",
        endpoint_url="http://127.0.0.1:9",  # never called: nothing here reads AWS
        tenants=contract.TenantsConfig(limit=5000),
        findings=contract.FindingsConfig(),
        events_queue_url="http://127.0.0.1:9/123456789012/ses-events",
    )
    return Exporter(config, clock=lambda: NOW, render_cache_seconds=0.0)


def test_the_page_is_the_registrys_fresh_rendering_before_and_after_each_reading():
    one = exporter()
    assert [type(p.collector).__name__ for p in one.parts] == [
        "ExporterCollector", "TenantsCollector", "FindingsCollector", "EventsCollector",
    ]  # fmt: skip
    assert one.renderer.render() == generate_latest(one.registry)  # nothing read yet
    one.state.record_tenants(NOW, tenants_reading(300))
    one.state.record_findings(NOW, findings_reading(200))
    first = one.renderer.render()
    assert first == generate_latest(one.registry)
    assert first.count(b"aws_ses_tenant_status{") == 300
    one.state.record_request(API_ACCOUNT, "success")  # the state moves, the readings do not
    assert one.renderer.render() == generate_latest(one.registry) != first
    one.state.record_tenants(NOW + 1200, tenants_reading(300, paused="t0002"))  # a new reading
    after = one.renderer.render()
    assert after == generate_latest(one.registry)
    paused = [line for line in after.splitlines() if b"tenant_status{" in line and b"paused_by_aws" in line]
    assert len(paused) == 1
    assert b'tenant="t0002"' in paused[0]
    one.state.record_tenants_failure(NOW + 2400, "throttled", "TooManyRequestsException")
    failed = one.renderer.render()
    assert failed == generate_latest(one.registry)
    assert b"sesmonitor_tenants_read_failed{" in failed
    assert failed != after


def test_a_reading_is_rendered_once_however_often_the_state_moves():
    one = exporter()
    tenants = Counted(one.parts[1].collector)
    plain = Counted(one.parts[0].collector)
    renderer = MetricsRenderer(
        [RenderPart(plain), RenderPart(tenants, one.parts[1].reading)], one.state, lambda: NOW, 0.0
    )
    one.state.record_tenants(NOW, tenants_reading(50))
    pages = []
    for _ in range(5):
        one.state.record_request(API_ACCOUNT, "success")
        pages.append(renderer.render())
    assert (plain.collected, tenants.collected) == (5, 1)
    assert len(set(pages)) == 5  # the request counter moved on every page
    one.state.record_tenants(NOW + 1200, tenants_reading(51))
    assert renderer.render().count(b"aws_ses_tenant_status{") == 51
    assert tenants.collected == 2


def test_the_page_is_kept_while_the_state_is_unchanged():
    one = exporter()
    plain = Counted(one.parts[0].collector)
    clock = [NOW]
    renderer = MetricsRenderer([RenderPart(plain)], one.state, lambda: clock[0], 1.0)
    renderer.render()
    renderer.render()
    assert plain.collected == 1
    clock[0] += 1.0  # the datapoints' ages move: rendered again
    renderer.render()
    assert plain.collected == 2
