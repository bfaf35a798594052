"""Per-configuration-set counts over HTTP against moto: read only for opted-in sets, and /status names
an opted-in set whose counts never had data (issue 11: 11)."""

from __future__ import annotations

from sesmonitor import metrics
from support.exporter_checks import FakeClock, get, sample, scrape_metrics

COUNTS = [m for m in metrics.CLOUDWATCH_METRICS if not m.is_rate]


def test_only_opted_in_sets_counts_are_requested(simulated_ses, make_exporter):
    ses = simulated_ses("under-review", configuration_sets=["marketing", "transactional"])
    clock = FakeClock(ses.seeded.now)
    exporter = make_exporter(
        ses,
        clock=clock,
        configuration_sets=("marketing", "transactional", "quiet"),
        count_configuration_sets=("marketing",),
    )
    exporter.refresher.refresh_once(clock.now)
    # 7 for the account, 7 for marketing (counts opted in), 2 rates each for transactional and quiet.
    assert [r.metrics_requested for r in ses.proxy.requests("GetMetricData")] == [7 + 7 + 2 + 2]
    samples = scrape_metrics(exporter)
    assert sample(samples, metrics.CLOUDWATCH_METRICS_REQUESTED_TOTAL) == 18
    for metric in COUNTS:
        for scope in ("transactional", "quiet"):
            assert sample(samples, metric.prometheus_name, configuration_set=scope) is None
            assert sample(samples, metrics.NO_DATA, metric=metric.aws_name, configuration_set=scope) is None
            assert sample(samples, metrics.counter_name(metric), configuration_set=scope) is None
    send = ses.seeded.newest("Send", "marketing")
    assert send is not None
    assert sample(samples, metrics.SEND.prometheus_name, configuration_set="marketing") == send[1]
    # transactional still has its rates; quiet has none, and without counts the exporter cannot tell
    # whether mail went through it (no alert: the reason is not an unexplained one).
    assert sample(samples, metrics.BOUNCE_RATE.prometheus_name, configuration_set="transactional") is not None
    reason = metrics.NO_DATA_COUNTS_NOT_READ
    assert reason not in metrics.NO_DATA_UNEXPLAINED_REASONS
    for rate in (metrics.BOUNCE_RATE, metrics.COMPLAINT_RATE):
        assert (
            sample(samples, metrics.NO_DATA, metric=rate.aws_name, configuration_set="quiet", reason=reason)
            == 1
        )
    status = get(exporter, "/status").json()
    assert status["configuration_sets"]["quiet"]["bounce_rate"]["no_data_reason"] == reason


def test_status_names_an_opted_in_set_whose_counts_never_had_data(simulated_ses, make_exporter):
    ses = simulated_ses("under-review", configuration_sets=["marketing"])
    clock = FakeClock(ses.seeded.now)
    sets = ("marketing", "no-destination")  # seeded, and with no event destination: no counts
    exporter = make_exporter(ses, clock=clock, configuration_sets=sets, count_configuration_sets=sets)
    assert get(exporter, "/status").json()["counts_without_data"] == {}  # nothing read yet
    exporter.refresher.refresh_once(clock.now)
    missing = get(exporter, "/status").json()["counts_without_data"]
    assert missing["no-destination"] == [m.aws_name for m in COUNTS]
    # marketing has Send and Delivery; SES never publishes a Reject in the simulation.
    assert "Send" not in missing["marketing"]
    assert "Delivery" not in missing["marketing"]
    assert "Reject" in missing["marketing"]
    # "Never": a count seen once stays seen, though a later read (a quiet lookback) has nothing.
    clock.now += 6 * 3600
    exporter.refresher.refresh_once(clock.now)
    assert "Send" not in get(exporter, "/status").json()["counts_without_data"]["marketing"]
