"""CloudWatch through moto's server over real HTTP: batching, gap-free series, configuration sets."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import boto3
from botocore.stub import ANY, Stubber

from sesmonitor import metrics
from sesmonitor.exporter import AwsClients
from sesmonitor.exporter.refresh.cloudwatch import MAX_QUERIES_PER_REQUEST
from support.exporter_checks import FakeClock, get, names, sample, scrape_metrics

BOUNCE = metrics.BOUNCE_RATE.prometheus_name
MINUTE = 60


def test_one_get_metric_data_per_refresh_whatever_the_scrape_count(simulated_ses, make_exporter):
    ses = simulated_ses("healthy", configuration_sets=["marketing", "transactional"])
    clock = FakeClock()
    exporter = make_exporter(ses, clock=clock, count_configuration_sets=ses.configuration_sets)

    for refresh in range(1, 4):
        exporter.refresher.refresh_once(clock.now)
        for _ in range(25):
            clock.advance(0.5)
            assert get(exporter, "/metrics").status == 200
            assert get(exporter, "/status").status == 200
        assert ses.proxy.count("GetMetricData") == refresh
        assert ses.proxy.count("GetAccount") == refresh
    # Every query of a refresh is in that one request: 7 metrics x (account + 2 sets, counts opted in)
    # the first time; then the 2 rates of each scope alone, the counts being read every 5 minutes.
    assert [r.metrics_requested for r in ses.proxy.requests("GetMetricData")] == [21, 6, 6]
    # Nothing else went to AWS (GetConfigurationSet: each listed set's ReputationOptions, every 10 min).
    assert {r.operation for r in ses.proxy.requests()} == {
        "GetMetricData",
        "GetAccount",
        "GetConfigurationSet",
    }
    assert ses.proxy.count("GetConfigurationSet") == 2
    samples = scrape_metrics(exporter)
    assert sample(samples, metrics.CLOUDWATCH_METRICS_REQUESTED_TOTAL) == 33
    assert sample(samples, metrics.AWS_REQUESTS_TOTAL, api="GetMetricData", outcome="success") == 3


def test_seed_pattern_is_gap_free_across_scrapes(simulated_ses, make_exporter):
    """Reputation datapoints exist only 5 minutes in every 20; the exported series never disappears."""
    ses = simulated_ses("seed")
    seeded = ses.seeded
    clock = FakeClock(ses.seeded.now - 60 * MINUTE)
    exporter = make_exporter(ses, clock=clock)

    naive_gaps = 0
    times = [seeded.now - 60 * MINUTE + i * 4 * MINUTE for i in range(16)]
    for t in times:
        clock.now = t
        exporter.refresher.refresh_once(t)
        newest = seeded.newest("Reputation.BounceRate", at=t)
        assert newest is not None
        # What a plain "latest period" reading would show: nothing unless mail went out last minute.
        if newest[0] < math.floor(t / MINUTE) * MINUTE - MINUTE:
            naive_gaps += 1
        for offset in (0, 70, 150, 230):  # scrapes between refreshes, served from the cache
            clock.now = t + offset
            samples = scrape_metrics(exporter)
            value = sample(samples, BOUNCE, configuration_set="")
            assert value == newest[1], f"gap or wrong value at t={t}+{offset}"
            age = sample(
                samples, metrics.DATAPOINT_AGE_SECONDS, metric="Reputation.BounceRate", configuration_set=""
            )
            assert age is not None
            assert math.isclose(age, t + offset - newest[0], abs_tol=1.01)
            assert (
                sample(samples, metrics.NO_DATA, metric="Reputation.BounceRate", configuration_set="") is None
            )
    # The raw series really has gaps: most of these instants had no datapoint in the last minute.
    assert naive_gaps >= len(times) // 2
    # And the bounce rate climbs like the seed's: 14.32% at the start, about +4 points a day.
    for t, value in seeded.series("Reputation.BounceRate"):
        assert math.isclose(value, 0.1432 + 0.04 * (t - seeded.start) / 86400)


def test_window_average_is_the_mean_of_the_datapoints_in_the_window(simulated_ses, make_exporter):
    ses = simulated_ses("seed")
    clock = FakeClock(ses.seeded.now)
    exporter = make_exporter(ses, clock=clock, window_seconds=3600)
    exporter.refresher.refresh_once(clock.now)
    end = math.floor(clock.now / MINUTE) * MINUTE
    window = [v for t, v in ses.seeded.series("Reputation.BounceRate") if clock.now - 3600 <= t < end]
    samples = scrape_metrics(exporter)
    got = sample(samples, metrics.window_average_name(metrics.BOUNCE_RATE), configuration_set="")
    assert got is not None
    assert math.isclose(got, sum(window) / len(window))
    status = get(exporter, "/status").json()
    assert math.isclose(status["bounce_rate"]["window_average"], got)
    assert status["bounce_rate"]["current"] == ses.seeded.newest("Reputation.BounceRate")[1]


def test_configuration_set_series(simulated_ses, make_exporter):
    sets = ["marketing", "transactional"]
    ses = simulated_ses("under-review", configuration_sets=sets)
    clock = FakeClock(ses.seeded.now)
    exporter = make_exporter(ses, clock=clock, count_configuration_sets=tuple(sets))
    exporter.refresher.refresh_once(clock.now)
    samples = scrape_metrics(exporter)
    status = get(exporter, "/status").json()
    for name in sets:
        for metric in (metrics.BOUNCE_RATE, metrics.COMPLAINT_RATE, metrics.SEND, metrics.DELIVERY):
            newest = ses.seeded.newest(metric.aws_name, name)
            assert newest is not None
            got = sample(samples, metric.prometheus_name, configuration_set=name)
            assert got == newest[1], (name, metric.aws_name)
        labels = {
            dict(lab)["configuration_set"]
            for (n, lab) in samples
            if n == BOUNCE and "configuration_set" in dict(lab)
        }
        assert labels == {"", *sets}
        assert (
            status["configuration_sets"][name]["bounce_rate"]["current"]
            == ses.seeded.newest("Reputation.BounceRate", name)[1]
        )
    # Every series carries the monitor and region labels.
    for (_, lab), _v in samples.items():
        assert dict(lab)["sesmonitor"] == "mail/prod"
        assert dict(lab)["region"] == "us-east-1"


def test_absent_series_say_why_and_are_never_zero(simulated_ses, make_exporter):
    ses = simulated_ses("seed", configuration_sets=["ghost"])
    clock = FakeClock(ses.seeded.now)
    sets = ("ghost", "never-used")  # seeded, and never used: no datapoints at all
    exporter = make_exporter(ses, clock=clock, configuration_sets=sets, count_configuration_sets=sets)

    samples = scrape_metrics(exporter)  # before any refresh
    assert (
        sample(samples, metrics.NO_DATA, metric="Send", configuration_set="", reason="not_refreshed_yet") == 1
    )
    assert sample(samples, metrics.SEND.prometheus_name, configuration_set="") is None

    exporter.refresher.refresh_once(clock.now)
    samples = scrape_metrics(exporter)
    # SES never published a Reject: the series is absent, not 0, and no_data says why.
    assert sample(samples, metrics.REJECT.prometheus_name, configuration_set="") is None
    assert (
        sample(
            samples,
            metrics.NO_DATA,
            metric="Reject",
            configuration_set="",
            reason="no_datapoints_in_lookback",
        )
        == 1
    )
    for metric in metrics.CLOUDWATCH_METRICS:
        assert sample(samples, metric.prometheus_name, configuration_set="never-used") is None
        assert sample(samples, metrics.NO_DATA, metric=metric.aws_name, configuration_set="never-used") == 1
    # Nothing served is NaN or infinite.
    assert all(math.isfinite(v) for v in samples.values())
    assert metrics.REJECT.prometheus_name not in names(samples)


def test_short_lookback_drops_the_series_inside_a_gap(simulated_ses, make_exporter):
    ses = simulated_ses("seed")
    seeded = ses.seeded
    # An instant 14 minutes after a burst's last datapoint: nothing in a 10-minute lookback.
    # The last datapoint of a burst (the next minute has none), well before now: "the newest datapoint
    # before now - 20 minutes" could sit inside a burst, and 14 minutes later the burst still runs.
    times = {t for t, _ in seeded.series("Reputation.BounceRate")}
    last_burst_end = max(t for t in times if t + MINUTE not in times and t < seeded.now - 20 * MINUTE)
    at = last_burst_end + 14 * MINUTE
    assert seeded.newest("Reputation.BounceRate", at=at)[0] == last_burst_end
    clock = FakeClock(at)
    exporter = make_exporter(ses, clock=clock, lookback_seconds=600, window_seconds=600)
    exporter.refresher.refresh_once(at)
    samples = scrape_metrics(exporter)
    assert sample(samples, BOUNCE, configuration_set="") is None
    assert (
        sample(
            samples,
            metrics.NO_DATA,
            metric="Reputation.BounceRate",
            configuration_set="",
            # No Send either within that lookback: the exporter can tell it is a pause in sending.
            reason="no_sends_in_lookback",
        )
        == 1
    )
    status = get(exporter, "/status").json()
    assert status["bounce_rate"] == {
        "current": None,
        "window_average": None,
        "timestamp": None,
        "age_seconds": None,
        "no_data_reason": "no_sends_in_lookback",
    }


def _result(qid: str, values: list[float], timestamps: list[Any]) -> dict[str, Any]:
    return {"Id": qid, "Label": qid, "Timestamps": timestamps, "Values": values, "StatusCode": "Complete"}


def test_paginates_and_splits_only_past_500_queries(simulated_ses, make_exporter):
    """81 scopes x 7 metrics = 567 queries: two requests (500 + 67), the first one paginated."""
    ses = simulated_ses("healthy")
    sets = tuple(f"set{i}" for i in range(80))
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=ses.endpoint_url)
    sesv2 = boto3.client("sesv2", region_name="us-east-1", endpoint_url=ses.endpoint_url)
    sizes: list[int] = []
    cloudwatch.meta.events.register(
        "before-parameter-build.cloudwatch.GetMetricData",
        lambda params, **_: sizes.append(len(params["MetricDataQueries"])),
    )
    stub = Stubber(cloudwatch)
    now = ses.seeded.now
    stamp = dt.datetime.fromtimestamp(math.floor(now / 60) * 60 - 120, dt.UTC)
    older = stamp - dt.timedelta(minutes=5)
    expected = {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, "ScanBy": "TimestampDescending"}
    stub.add_response(
        "get_metric_data",
        {"MetricDataResults": [_result("q0", [0.5], [stamp])], "NextToken": "page2"},
        expected,
    )
    stub.add_response(
        "get_metric_data",
        {"MetricDataResults": [_result("q0", [0.25], [older]), _result("q566", [7.0], [stamp])]},
        dict(expected, NextToken="page2"),
    )
    stub.add_response("get_metric_data", {"MetricDataResults": [_result("q566", [9.0], [older])]}, expected)
    stub.activate()
    clock = FakeClock(now)
    exporter = make_exporter(
        clients=AwsClients(cloudwatch=cloudwatch, sesv2=sesv2),
        clock=clock,
        configuration_sets=sets,
        count_configuration_sets=sets,
        endpoint_url=ses.endpoint_url,
    )
    assert exporter.refresher.refresh_once(now)["GetMetricData"] is True
    stub.assert_no_pending_responses()
    assert sizes == [MAX_QUERIES_PER_REQUEST, MAX_QUERIES_PER_REQUEST, 67]
    samples = scrape_metrics(exporter)
    assert sample(samples, metrics.SEND.prometheus_name, configuration_set="") == 0.5
    # q566 is the last query: set79's Reputation.ComplaintRate; its pages were merged, newest first.
    assert sample(samples, metrics.COMPLAINT_RATE.prometheus_name, configuration_set="set79") == 7.0
    assert sample(samples, metrics.CLOUDWATCH_METRICS_REQUESTED_TOTAL) == 2 * MAX_QUERIES_PER_REQUEST + 67
