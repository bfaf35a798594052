"""Throttling, 5xx, timeouts and AccessDenied injected by the proxy: last values kept, errors counted."""

from __future__ import annotations

import time

import pytest

from sesmonitor import metrics
from sesmonitor.exporter.aws.backoff import backoff_delay
from support.exporter_checks import FakeClock, get, sample, scrape_metrics

BOUNCE = metrics.BOUNCE_RATE.prometheus_name


@pytest.mark.parametrize(("kind", "outcome"), [("throttle", "throttled"), ("server_error", "server_error")])
def test_failure_keeps_last_values_marks_stale_and_recovery_clears_it(
    simulated_ses, make_exporter, kind, outcome
):
    ses = simulated_ses("seed")
    clock = FakeClock(ses.seeded.now)
    exporter = make_exporter(ses, clock=clock, refresh_interval_seconds=60)
    exporter.refresher.refresh_once(clock.now)
    before = scrape_metrics(exporter)
    good = sample(before, BOUNCE, configuration_set="")
    assert good is not None
    assert sample(before, metrics.STALE, api="GetMetricData") == 0

    ses.proxy.inject("GetMetricData", kind)
    clock.advance(60)
    result = exporter.refresher.refresh_once(clock.now)
    assert result == {"GetMetricData": False, "GetAccount": True}
    samples = scrape_metrics(exporter)
    assert sample(samples, BOUNCE, configuration_set="") == good  # last good value still served
    assert sample(samples, metrics.STALE, api="GetMetricData") == 1
    assert sample(samples, metrics.STALE, api="GetAccount") == 0
    assert sample(samples, metrics.CONSECUTIVE_FAILURES, api="GetMetricData") == 1
    assert sample(samples, metrics.AWS_REQUESTS_TOTAL, api="GetMetricData", outcome=outcome) == 1
    assert sample(samples, metrics.AWS_REQUESTS_TOTAL, api="GetMetricData", outcome="success") == 1
    first_success = sample(before, metrics.LAST_SUCCESS_TIMESTAMP_SECONDS, api="GetMetricData")
    assert sample(samples, metrics.LAST_SUCCESS_TIMESTAMP_SECONDS, api="GetMetricData") == first_success
    status = get(exporter, "/status").json()
    assert status["stale"] is True
    assert status["ready"] is True  # one missed refresh: still within 3 intervals
    expected_code = "Throttling" if kind == "throttle" else "InternalServiceError"
    assert status["last_error"].startswith(f"GetMetricData: {expected_code}")
    assert status["bounce_rate"]["current"] == good
    assert get(exporter, "/readyz").status == 200

    # Still failing three intervals after the last success: /status says not ready, while the pod
    # stays ready (it serves), so the operator can still read why.
    for _ in range(3):
        clock.advance(60)
        exporter.refresher.refresh_once(clock.now)
    assert get(exporter, "/readyz").status == 200
    assert get(exporter, "/status").json()["ready"] is False
    samples = scrape_metrics(exporter)
    assert sample(samples, metrics.CONSECUTIVE_FAILURES, api="GetMetricData") == 4
    assert sample(samples, metrics.AWS_REQUESTS_TOTAL, api="GetMetricData", outcome=outcome) == 4

    ses.proxy.clear_faults()
    clock.advance(60)
    assert exporter.refresher.refresh_once(clock.now) == {"GetMetricData": True, "GetAccount": True}
    samples = scrape_metrics(exporter)
    assert sample(samples, metrics.STALE, api="GetMetricData") == 0
    assert sample(samples, metrics.CONSECUTIVE_FAILURES, api="GetMetricData") == 0
    assert get(exporter, "/readyz").status == 200
    status = get(exporter, "/status").json()
    assert status["stale"] is False
    assert status["last_error"] is None
    assert status["apis"]["GetMetricData"]["last_error"].startswith(expected_code)  # history kept


def test_botocore_retries_are_counted_one_by_one(simulated_ses, make_exporter):
    ses = simulated_ses("healthy")
    exporter = make_exporter(ses, max_attempts=2)
    ses.proxy.inject("GetMetricData", "throttle", times=1)
    assert exporter.refresher.refresh_once()["GetMetricData"] is True  # the retry succeeded
    assert ses.proxy.count("GetMetricData") == 2
    samples = scrape_metrics(exporter)
    assert sample(samples, metrics.AWS_REQUESTS_TOTAL, api="GetMetricData", outcome="throttled") == 1
    assert sample(samples, metrics.AWS_REQUESTS_TOTAL, api="GetMetricData", outcome="success") == 1
    assert sample(samples, metrics.STALE, api="GetMetricData") == 0


def test_read_timeout_is_bounded_and_counted(simulated_ses, make_exporter):
    ses = simulated_ses("healthy")
    exporter = make_exporter(ses, read_timeout_seconds=0.5)
    ses.proxy.inject("GetMetricData", "delay", times=1, delay_seconds=2.0)
    started = time.monotonic()
    assert exporter.refresher.refresh_once() == {"GetMetricData": False, "GetAccount": True}
    assert time.monotonic() - started < 2.0
    samples = scrape_metrics(exporter)
    assert sample(samples, metrics.AWS_REQUESTS_TOTAL, api="GetMetricData", outcome="timeout") == 1
    assert "ReadTimeoutError" in get(exporter, "/status").json()["last_error"]


def test_access_denied_on_get_account_does_not_stop_cloudwatch(simulated_ses, make_exporter):
    ses = simulated_ses("seed")
    clock = FakeClock(ses.seeded.now)
    exporter = make_exporter(ses, clock=clock)
    ses.proxy.inject("GetAccount", "access_denied")
    for _ in range(3):
        assert exporter.refresher.refresh_once(clock.now) == {"GetMetricData": True, "GetAccount": False}
        clock.advance(60)
    samples = scrape_metrics(exporter)
    assert sample(samples, metrics.AWS_REQUESTS_TOTAL, api="GetAccount", outcome="denied") == 3
    assert sample(samples, metrics.AWS_REQUESTS_TOTAL, api="GetMetricData", outcome="success") == 3
    assert sample(samples, BOUNCE, configuration_set="") is not None
    assert sample(samples, metrics.ENFORCEMENT_STATUS, status="HEALTHY") is None  # never invented
    status = get(exporter, "/status").json()
    assert status["last_error"].startswith("GetAccount: AccessDeniedException")
    assert status["account"]["enforcement_status"] is None
    assert status["ready"] is False  # a permission is missing: say so
    assert get(exporter, "/healthz").status == 200


def test_failing_api_backs_off_alone(simulated_ses, make_exporter):
    ses = simulated_ses("healthy")
    clock = FakeClock(ses.seeded.now)
    exporter = make_exporter(ses, clock=clock, refresh_interval_seconds=60)
    ses.proxy.inject("GetAccount", "throttle")
    start = clock.now
    exporter.refresher.refresh_once(start)
    assert exporter.refresher.next_due == {"GetMetricData": start + 60, "GetAccount": start + 60}
    # Drive the due-based loop for 10 simulated minutes.
    for _ in range(600):
        clock.advance(1)
        exporter.refresher.refresh_due(clock.now)
    calls_cw = ses.proxy.count("GetMetricData")
    calls_account = ses.proxy.count("GetAccount")
    assert calls_cw == 11  # every 60 s
    assert calls_account == 4  # at 0, 60, 180 and 420 s (waits of 60, 120, 240), next at 900 s
    assert [backoff_delay(60, n) for n in range(6)] == [60, 60, 120, 240, 480, 600]


def test_the_refresh_loop_runs_in_the_background(simulated_ses, make_exporter):
    ses = simulated_ses("healthy")
    started = time.monotonic()
    exporter = make_exporter(ses, refresh_loop=True, refresh_interval_seconds=1)
    deadline = time.monotonic() + 10
    while not get(exporter, "/status").json()["ready"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert get(exporter, "/status").json()["ready"] is True
    for _ in range(50):
        get(exporter, "/metrics")
    time.sleep(1.6)
    count = ses.proxy.count("GetMetricData")
    elapsed = time.monotonic() - started
    assert 2 <= count <= elapsed + 1  # about one per second, not one per scrape
