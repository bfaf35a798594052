"""Why a reputation rate is absent, told over HTTP against moto: a clean account, an idle one, and a
configuration set whose reputation metrics are disabled (SESv2 GetConfigurationSet, which moto serves)."""

from __future__ import annotations

from sesmonitor import metrics
from sesmonitor.contract import ExporterStatus, ProtectionConfig
from sesmonitor.operator.shapes import ExporterReading, ReconcileOutcome
from sesmonitor.operator.status.compute import evaluate
from support.exporter_checks import MONITOR, FakeClock, get, sample, scrape_metrics
from support.monitors import load_monitor

COMPLAINT = metrics.COMPLAINT_RATE
BOUNCE = metrics.BOUNCE_RATE


def conditions(status: ExporterStatus, sets: tuple[str, ...] = ()) -> dict[str, tuple[str, str, str]]:
    namespace, name = MONITOR.split("/")
    monitor = load_monitor(
        {"configurationSets": list(sets)}, name=name, namespace=namespace, region=status.region
    )
    reading = ExporterReading(status=status)
    return {
        c.type: (c.status, c.reason, c.message)
        for c in evaluate(MONITOR, monitor.spec, ReconcileOutcome(ok=True), reading)
    }


def test_clean_busy_account_reads_healthy(simulated_ses, make_exporter):
    """Mail sent every minute, never a complaint: AWS publishes no complaint rate. The exporter says why
    (no_events_in_lookback), and the status reads healthy, not Unknown."""
    ses = simulated_ses("clean")
    clock = FakeClock(ses.seeded.now)
    exporter = make_exporter(ses, clock=clock)
    assert exporter.refresher.refresh_once(clock.now) == {"GetMetricData": True, "GetAccount": True}
    samples = scrape_metrics(exporter)
    assert sample(samples, COMPLAINT.prometheus_name) is None
    assert sample(samples, BOUNCE.prometheus_name) is not None
    assert sample(samples, metrics.NO_DATA, metric=COMPLAINT.aws_name, reason=metrics.NO_DATA_NO_EVENTS) == 1
    status = ExporterStatus.from_json(get(exporter, "/status").body)
    assert status.complaint_rate["no_data_reason"] == metrics.NO_DATA_NO_EVENTS
    assert status.bounce_rate["no_data_reason"] is None
    found = conditions(status)
    assert found["ComplaintRateHealthy"][:2] == ("True", "NoComplaints")
    assert found["BounceRateHealthy"][:2] == ("True", "BelowThreshold")
    assert found["AccountHealthy"][0] == "True"
    assert found["Ready"][0] == "True"


def test_idle_account_says_no_sends(simulated_ses, make_exporter):
    """Nothing sent within the lookback (the scenario's mail is older): no_sends_in_lookback."""
    ses = simulated_ses("clean", hours=1.0)
    clock = FakeClock(ses.seeded.now + 3 * 3600)  # 2h lookback: the newest mail is 3h old
    exporter = make_exporter(ses, clock=clock)
    exporter.refresher.refresh_once(clock.now)
    samples = scrape_metrics(exporter)
    for metric in (BOUNCE, COMPLAINT):
        assert sample(samples, metrics.NO_DATA, metric=metric.aws_name, reason=metrics.NO_DATA_NO_SENDS) == 1
    found = conditions(ExporterStatus.from_json(get(exporter, "/status").body))
    assert found["ComplaintRateHealthy"][:2] == ("Unknown", "NoMailSent")


def test_configuration_set_with_reputation_metrics_disabled_is_named(simulated_ses, make_exporter):
    """GetConfigurationSet per listed set (on the wire, counted under its own `api` label): the set whose
    ReputationMetricsEnabled is false gets reason reputation_metrics_disabled for both rates; the others
    keep their rates."""
    ses = simulated_ses("healthy", configuration_sets=["marketing", "promo"], reputation_disabled=["promo"])
    clock = FakeClock(ses.seeded.now)
    exporter = make_exporter(ses, clock=clock)
    assert exporter.refresher.refresh_once(clock.now) == {
        "GetConfigurationSet": True,
        "GetMetricData": True,
        "GetAccount": True,
    }
    assert ses.proxy.count("GetConfigurationSet") == 2
    assert exporter.state.view().reputation_enabled == {"marketing": True, "promo": False}
    samples = scrape_metrics(exporter)
    for metric in (BOUNCE, COMPLAINT):
        assert sample(samples, metric.prometheus_name, configuration_set="promo") is None
        assert sample(samples, metric.prometheus_name, configuration_set="marketing") is not None
        assert (
            sample(
                samples,
                metrics.NO_DATA,
                metric=metric.aws_name,
                configuration_set="promo",
                reason=metrics.NO_DATA_REPUTATION_DISABLED,
            )
            == 1
        )
    requests = metrics.AWS_REQUESTS_TOTAL
    assert sample(samples, requests, api="GetConfigurationSet", outcome="success") == 2
    status = get(exporter, "/status").json()
    promo = status["configuration_sets"]["promo"]
    assert promo["bounce_rate"]["no_data_reason"] == metrics.NO_DATA_REPUTATION_DISABLED
    assert "GetConfigurationSet" in status["apis"]


def test_denied_get_configuration_set_is_its_own_failure(simulated_ses, make_exporter):
    """An IAM policy without ses:GetConfigurationSet fails that API only, and says so."""
    ses = simulated_ses("healthy", configuration_sets=["marketing"])
    clock = FakeClock(ses.seeded.now)
    exporter = make_exporter(ses, clock=clock)
    ses.proxy.inject("GetConfigurationSet", "access_denied")
    result = exporter.refresher.refresh_once(clock.now)
    assert result == {"GetConfigurationSet": False, "GetMetricData": True, "GetAccount": True}
    health = get(exporter, "/status").json()["apis"]["GetConfigurationSet"]
    assert health["last_error_code"] == "AccessDeniedException"
    assert health["last_error_kind"] == "denied"


def test_settings_are_read_every_ten_minutes_a_protected_set_every_refresh(simulated_ses, make_exporter):
    """Issue 21: 6. A set's ReputationOptions change by hand: GetConfigurationSet every 10 minutes, and
    the API stays fresh (ready) in between; a set spec.protection guards is read on every refresh, since
    each pass judges its sending switch. A set whose read failed is read again at the next refresh."""
    ses = simulated_ses("healthy", configuration_sets=["marketing", "transactional"])
    clock = FakeClock(ses.seeded.now)
    guarded = ProtectionConfig("DryRun", ("marketing",), 0.10, 0.005)
    plain = make_exporter(ses, clock=clock)
    start = clock.now

    def reads(exporter, minutes, fail_at=None):
        """The sets GetConfigurationSet asked for, in order, over a refresh a minute."""
        ses.proxy.reset()
        for minute in range(minutes):
            clock.now = start + minute * 60
            if minute == fail_at:
                ses.proxy.inject("GetConfigurationSet", "server_error", times=1)
            exporter.refresher.refresh_once(clock.now)
            if fail_at is None:  # fresh between two reads: its staleness counts in its own interval
                status = get(exporter, "/status").json()
                assert status["ready"] is True, minute
                assert status["apis"]["GetConfigurationSet"]["stale"] is False, minute
        return [r.path.rsplit("/", 1)[-1] for r in ses.proxy.requests("GetConfigurationSet")]

    assert reads(plain, 21) == ["marketing", "transactional"] * 3  # minutes 0, 10 and 20
    protected = make_exporter(ses, clock=clock, protection=guarded)
    guarded_reads = ["marketing", "transactional", *["marketing"] * 9, "marketing", "transactional"]
    assert reads(protected, 11) == guarded_reads
    retried = make_exporter(ses, clock=clock)
    # Minute 0's first request fails (marketing): marketing again at minute 1 (its 10 minutes start
    # there), transactional at 10.
    expected = ["marketing", "transactional", "marketing", "transactional"]
    assert reads(retried, 11, fail_at=0) == expected
