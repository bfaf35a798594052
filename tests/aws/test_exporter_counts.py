"""The count counters over HTTP against moto (issue 11: 8).

`aws_ses_send_sum` holds one minute's Sum for up to the lookback, so `sum_over_time` over it overcounts
about 60-fold; `aws_ses_send_total` adds each settled minute once, so its increase between two scrapes
is the number of emails CloudWatch counted in the minutes that settled in between.
"""

from __future__ import annotations

from sesmonitor import metrics
from sesmonitor.exporter.model.counting import settled_boundary
from support.exporter_checks import FakeClock, sample, scrape_metrics

MINUTE = 60
SETTLE = 300


def seeded_sum(ses, metric: str, start: float, end: float, configuration_set: str = "") -> float:
    return sum(v for t, v in ses.seeded.series(metric, configuration_set) if start <= t < end)


def test_counter_increase_equals_the_seeded_sends_and_a_second_read_adds_nothing(
    simulated_ses, make_exporter
):
    # moto matches a query without dimensions against every dimension set (CloudWatch matches exactly),
    # so here the account-wide Sums include the set's datapoints.
    ses = simulated_ses("seed", configuration_sets=["marketing"])
    first = ses.seeded.now - 90 * MINUTE
    clock = FakeClock(first)
    exporter = make_exporter(ses, clock=clock, count_configuration_sets=("marketing",))

    exporter.refresher.refresh_once(first)
    start = scrape_metrics(exporter)
    counts = [metrics.SEND, metrics.DELIVERY, metrics.BOUNCE, metrics.COMPLAINT, metrics.REJECT]
    for metric in counts:
        for scope in ("", "marketing"):
            # Every count starts at 0: the first read counts nothing, not the whole lookback.
            assert sample(start, metrics.counter_name(metric), configuration_set=scope) == 0.0

    # A refresh every minute for an hour, 17 s into the minute, two scrapes between refreshes.
    t = first
    for _ in range(60):
        t += MINUTE
        clock.now = t
        exporter.refresher.refresh_once(t)
        scrape_metrics(exporter)
        clock.now = t + 30
        scrape_metrics(exporter)
    end = scrape_metrics(exporter)

    settled_from = settled_boundary(first, SETTLE, MINUTE)
    settled_to = settled_boundary(t, SETTLE, MINUTE)
    assert settled_to - settled_from == 60 * MINUTE
    for metric in counts:
        for scope in ("", "marketing"):
            name = metrics.counter_name(metric)
            got = sample(end, name, configuration_set=scope)
            expected = seeded_sum(ses, metric.aws_name, settled_from, settled_to, scope)
            if not scope:  # moto's account-wide Sum includes the set's datapoints
                expected += seeded_sum(ses, metric.aws_name, settled_from, settled_to, "marketing")
            assert got == expected, (name, scope)
    sends = sample(end, metrics.counter_name(metrics.SEND), configuration_set="")
    assert sends is not None
    assert sends > 0
    # The seed's gauge, summed over the same scrapes as sum_over_time would: far more than was sent.
    gauge = sample(end, metrics.SEND.prometheus_name, configuration_set="")
    assert gauge is not None
    assert gauge * 120 > 5 * sends

    # The same window again, and again at the last second before another minute settles: nothing is
    # added twice. (t + 20 s is not "the same minute": from second 40 of a minute on, it settles the next.)
    last_in_period = settled_to + SETTLE + MINUTE - 1
    assert settled_boundary(last_in_period, SETTLE, MINUTE) == settled_to
    for again in (t, last_in_period):
        clock.now = again
        exporter.refresher.refresh_once(again)
        for metric in counts:
            name = metrics.counter_name(metric)
            again_samples = scrape_metrics(exporter)
            for scope in ("", "marketing"):
                assert sample(again_samples, name, configuration_set=scope) == sample(
                    end, name, configuration_set=scope
                ), (name, scope, again)


def test_a_restarted_exporter_starts_from_zero(simulated_ses, make_exporter):
    ses = simulated_ses("healthy")
    now = ses.seeded.now
    exporter = make_exporter(ses, clock=FakeClock(now))
    exporter.refresher.refresh_once(now)
    assert sample(scrape_metrics(exporter), "aws_ses_send_total", configuration_set="") == 0.0
    # Not refreshed yet: no counter at all, rather than a 0 that the first read would jump from.
    fresh = make_exporter(ses, clock=FakeClock(now))
    assert sample(scrape_metrics(fresh), "aws_ses_send_total", configuration_set="") is None


def test_counts_are_read_every_five_minutes_and_add_each_settled_minute_once(simulated_ses, make_exporter):
    """Issue 21: 6. The rates on every refresh, the counts every 5 minutes (CloudWatch bills each query);
    a failed count read is made at the next refresh, and no minute is lost or added twice across reads
    that each bring several minutes."""
    ses = simulated_ses("seed", configuration_sets=["marketing"])
    first = ses.seeded.now - 40 * MINUTE
    clock = FakeClock(first)
    exporter = make_exporter(ses, clock=clock, count_configuration_sets=("marketing",))
    counts = [m for m in metrics.CLOUDWATCH_METRICS if not m.is_rate]
    every = (2 * len(metrics.CLOUDWATCH_METRICS), 2 * 2)  # (account + marketing) x 7, or x the 2 rates

    def counter(metric: metrics.CloudWatchMetric, scope: str) -> float | None:
        return sample(scrape_metrics(exporter), metrics.counter_name(metric), configuration_set=scope)

    totals: list[tuple[float, dict[tuple[str, str], float | None]]] = []  # after each count read
    failed_at = 10
    for minute in range(32):
        t = first + minute * MINUTE
        clock.now = t
        if minute == failed_at:
            ses.proxy.inject("GetMetricData", "server_error", times=1)
        before = {(m.aws_name, s): counter(m, s) for m in counts for s in ("", "marketing")}
        exporter.refresher.refresh_once(t)
        after = {(m.aws_name, s): counter(m, s) for m in counts for s in ("", "marketing")}
        if minute in (0, 5, 11, 16, 21, 26, 31):
            totals.append((t, after))
        else:  # a refresh that did not read the counts leaves every counter as it was
            assert after == before, minute
    sizes = [r.metrics_requested for r in ses.proxy.requests("GetMetricData")]
    count_reads = {0, 5, 10, 11, 16, 21, 26, 31}  # 10 asked for the counts and failed
    assert sizes == [every[0] if m in count_reads else every[1] for m in range(32)]

    settled_from = settled_boundary(first, SETTLE, MINUTE)
    for t, after in totals:
        settled_to = settled_boundary(t, SETTLE, MINUTE)
        for metric in counts:
            expected_set = seeded_sum(ses, metric.aws_name, settled_from, settled_to, "marketing")
            # moto's account-wide Sum includes the set's datapoints
            expected = seeded_sum(ses, metric.aws_name, settled_from, settled_to) + expected_set
            assert after[(metric.aws_name, "")] == expected, (metric.aws_name, t - first)
            assert after[(metric.aws_name, "marketing")] == expected_set, (metric.aws_name, t - first)
    assert totals[-1][1][("Send", "")]  # mail was counted: the sums compared are not all 0

    # Between two count reads the count gauges serve the last read's values, not an absence.
    served = sample(scrape_metrics(exporter), metrics.SEND.prometheus_name, configuration_set="marketing")
    clock.now = first + 32 * MINUTE
    exporter.refresher.refresh_once(clock.now)
    assert ses.proxy.requests("GetMetricData")[-1].metrics_requested == every[1]
    samples = scrape_metrics(exporter)
    assert served is not None
    assert sample(samples, metrics.SEND.prometheus_name, configuration_set="marketing") == served
    assert sample(samples, metrics.NO_DATA, metric="Send", configuration_set="marketing") is None
