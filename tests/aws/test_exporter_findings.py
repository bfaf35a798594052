"""spec.findings through the stand-in over HTTP: only while VDM is on (GetAccount), the open findings'
series and /status, the limit, a failed read, and the pace (ListRecommendations allows 1 request/s)."""

from __future__ import annotations

from sesmonitor import contract, metrics
from support.exporter_checks import FakeClock, get, sample, scrape_metrics

IDENTITY = "arn:aws:ses:us-east-1:123456789012:identity/acme.example"
SET = "arn:aws:ses:us-east-1:123456789012:configuration-set/marketing"


def started(simulated_ses, make_exporter, vdm: str | None, **config):
    ses = simulated_ses("healthy", hours=0.5)
    if vdm is not None:
        ses.proxy.set_account(VdmEnabled=vdm)
    ses.proxy.recommendations.add(IDENTITY, "DKIM", "HIGH", "DKIM signing is not set up")
    ses.proxy.recommendations.add(SET, "BOUNCE", "LOW")
    tenant = ses.proxy.tenants.add_tenant("acme")
    ses.proxy.recommendations.add(tenant.arn, "COMPLAINT", "HIGH")
    ses.proxy.recommendations.add(IDENTITY, "SPF", "LOW")
    ses.proxy.recommendations.fix(IDENTITY, "SPF")  # fixed: never served
    clock = FakeClock(ses.seeded.now)
    exporter = make_exporter(ses, clock=clock, findings=contract.FindingsConfig(**config))
    exporter.refresher.refresh_once(clock.now)  # GetAccount says whether VDM is on
    ses.proxy.reset()
    return ses, exporter


def test_open_findings_are_served_with_type_impact_and_resource(simulated_ses, make_exporter):
    ses, exporter = started(simulated_ses, make_exporter, "ENABLED")
    assert exporter.findings is not None
    assert exporter.findings.read_once() is True
    assert ses.proxy.count("ListRecommendations") == 1
    samples = scrape_metrics(exporter)
    finding = metrics.REPUTATION_FINDING_OPEN
    assert (
        sample(
            samples, finding, type="DKIM", impact="HIGH", resource_type="identity", resource="acme.example"
        )
        == 1
    )
    assert (
        sample(
            samples,
            finding,
            type="BOUNCE",
            impact="LOW",
            resource_type="configuration-set",
            resource="marketing",
        )
        == 1
    )
    assert sample(samples, finding, type="COMPLAINT", resource_type="tenant", resource="acme") == 1
    assert sample(samples, finding, type="SPF") is None
    assert sample(samples, metrics.REPUTATION_FINDINGS, impact="HIGH") == 2.0
    assert sample(samples, metrics.FINDINGS_READ_FAILED) == 0.0
    assert sample(samples, metrics.AWS_REQUESTS_TOTAL, api="ListRecommendations", outcome="success") == 1.0
    status = get(exporter, "/status").json()["findings"]
    assert (status["vdm_enabled"], status["open"], status["high"], status["message"]) == (True, 3, 2, None)
    assert [f["type"] for f in status["worst"]] == ["DKIM", "COMPLAINT", "BOUNCE"]  # HIGH first, then oldest


def test_without_vdm_nothing_is_asked_and_the_status_says_why(simulated_ses, make_exporter):
    for vdm in (None, "DISABLED"):  # VdmAttributes left out (never set up), or off
        ses, exporter = started(simulated_ses, make_exporter, vdm)
        assert exporter.findings.read_once() is None
        assert ses.proxy.count("ListRecommendations") == 0
        status = get(exporter, "/status").json()["findings"]
        assert status["vdm_enabled"] is False
        assert status["open"] is None
        assert "Virtual Deliverability Manager is not enabled" in status["message"]
        assert "put-account-vdm-attributes" in status["message"]
        assert "paid" in status["message"]
        assert not [k for k in scrape_metrics(exporter) if k[0] == metrics.REPUTATION_FINDING_OPEN]


def test_the_limit_and_a_failed_read(simulated_ses, make_exporter):
    ses, exporter = started(simulated_ses, make_exporter, "ENABLED", limit=2)
    assert exporter.findings.read_once() is True
    status = get(exporter, "/status").json()["findings"]
    assert status["open"] == 3
    assert status["message"] == "3 findings are open, more than spec.findings.limit 2: 2 served"
    ses.proxy.inject("ListRecommendations", "throttle")
    assert exporter.findings.read_once() is False
    samples = scrape_metrics(exporter)
    assert sample(samples, metrics.FINDINGS_READ_FAILED) == 1.0
    assert len([k for k in samples if k[0] == metrics.REPUTATION_FINDING_OPEN]) == 2  # the last reading stays
    status = get(exporter, "/status").json()["findings"]
    assert status["last_error_code"] == "TooManyRequestsException"
    assert sample(samples, metrics.AWS_REQUESTS_TOTAL, api="ListRecommendations", outcome="throttled") == 1.0


def test_pages_are_a_second_apart(simulated_ses, make_exporter):
    ses = simulated_ses("healthy", hours=0.5)
    ses.proxy.set_account(VdmEnabled="ENABLED")
    for i in range(150):
        ses.proxy.recommendations.add(
            f"arn:aws:ses:us-east-1:123456789012:identity/d{i}.example", "DMARC", "LOW"
        )
    clock = FakeClock(ses.seeded.now)
    exporter = make_exporter(ses, clock=clock, findings=contract.FindingsConfig(), pace_seconds=0.01)
    exporter.refresher.refresh_once(clock.now)
    assert exporter.findings.read_once() is True
    times = [r.at for r in ses.proxy.requests("ListRecommendations")]
    assert len(times) == 2  # 150 findings: two pages of 100
    assert times[1] - times[0] >= 1.0  # ListRecommendations' limit, whatever pace the other reads use
    assert get(exporter, "/status").json()["findings"]["open"] == 150
