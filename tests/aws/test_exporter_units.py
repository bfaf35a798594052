"""The exporter's pure pieces: snapshot arithmetic, query windows, outcome classification, config."""

from __future__ import annotations

import json
import math

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from sesmonitor import contract, metrics
from sesmonitor.exporter.aws.outcomes import classify_exception, classify_response
from sesmonitor.exporter.model.series import Series
from sesmonitor.exporter.model.snapshot import summarize
from sesmonitor.exporter.refresh.account import parse_account
from sesmonitor.exporter.refresh.cloudwatch import build_queries, build_requests, query_window

NOW = 1_800_000_000.0


def series(points: list[tuple[float, float]], status: str = "Complete") -> Series:
    points = sorted(points, reverse=True)
    return Series(tuple(t for t, _ in points), tuple(v for _, v in points), status)


def test_newest_value_within_lookback_its_age_and_the_window_average():
    s = series([(NOW - 7000, 0.5), (NOW - 3000, 0.1), (NOW - 1200, 0.2), (NOW - 8000, 0.9)])
    snap = summarize(s, NOW, lookback_seconds=7200, window_seconds=3600)
    assert (snap.value, snap.timestamp) == (0.2, NOW - 1200)
    assert snap.age_seconds(NOW + 30) == 1230
    assert snap.window_average == pytest.approx(0.15)
    assert snap.window_datapoints == 2
    assert snap.no_data_reason is None


def test_nan_is_dropped_never_served_and_nothing_becomes_zero():
    s = series([(NOW - 60, math.nan), (NOW - 120, math.inf), (NOW - 180, 0.3)])
    snap = summarize(s, NOW, 7200, 3600)
    assert snap.value == 0.3
    empty = summarize(series([(NOW - 60, math.nan)]), NOW, 7200, 3600)
    assert (empty.value, empty.window_average, empty.timestamp) == (None, None, None)
    assert empty.no_data_reason == metrics.NO_DATA_NO_DATAPOINTS
    errored = summarize(series([], status="InternalError"), NOW, 7200, 3600)
    assert errored.no_data_reason == metrics.NO_DATA_QUERY_ERROR


def test_window_without_points_has_no_average_but_the_value_stays():
    snap = summarize(series([(NOW - 5000, 0.4)]), NOW, 7200, 3600)
    assert snap.value == 0.4
    assert snap.window_average is None


def test_query_window_is_whole_periods_ending_before_now():
    start, end = query_window(NOW + 59, 7200, 60)
    assert end.timestamp() == NOW
    assert start.timestamp() == NOW - 7200
    # A set's 5 counts only when opted in: 7 + 2 x 2 without, 7 x 3 with both.
    assert len(build_queries(["a", "b"])) == 11
    queries = build_queries(["a", "b"], {"a", "b"})
    assert len(queries) == 21
    assert len({q.id for q in queries}) == 21
    request = build_requests(queries, start, end, 60)[0]
    dims = [q["MetricStat"]["Metric"]["Dimensions"] for q in request["MetricDataQueries"]]
    assert dims[0] == []
    assert dims[7] == [{"Name": "ses:configuration-set", "Value": "a"}]
    assert {q["MetricStat"]["Stat"] for q in request["MetricDataQueries"][:7]} == {"Sum", "Average"}


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op"
    )


@pytest.mark.parametrize(
    ("exc", "outcome"),
    [
        (client_error("Throttling", 400), "throttled"),
        (client_error("TooManyRequestsException", 429), "throttled"),
        (client_error("AccessDenied", 403), "denied"),
        (client_error("AccessDeniedException", 403), "denied"),
        (client_error("InternalServiceError", 500), "server_error"),
        (client_error("InvalidParameterValue", 400), "client_error"),
        (ReadTimeoutError(endpoint_url="http://x"), "timeout"),
        (EndpointConnectionError(endpoint_url="http://x"), "error"),
    ],
)
def test_outcomes(exc, outcome):
    assert classify_exception(exc) == outcome
    assert outcome in metrics.OUTCOMES


def test_success_outcome():
    assert classify_response(200, None) == "success"


def test_account_parsing_keeps_missing_fields_missing():
    snap = parse_account({"EnforcementStatus": "healthy", "SendQuota": {"MaxSendRate": 1}})
    assert snap.enforcement_status == "HEALTHY"
    assert snap.max_send_rate == 1.0
    assert snap.sending_enabled is None
    assert snap.max_24_hour_send is None


def test_config_round_trip_and_new_fields():
    config = contract.ExporterConfig(monitor="a/b", region="eu-west-1", configuration_sets=("x",))
    assert contract.ExporterConfig.from_json(config.to_json()) == config
    assert config.retry_mode == "standard"
    assert config.period_seconds == 60
    doc = json.loads(config.to_json())
    doc["retry_mode"] = "adaptive"
    assert contract.ExporterConfig.from_json(json.dumps(doc)).retry_mode == "adaptive"


def test_status_reader_ignores_unknown_keys():
    status = contract.ExporterStatus(
        "a/b",
        "r",
        True,
        False,
        contract.empty_rate(),
        contract.empty_rate(),
        contract.empty_account(),
        None,
        None,
    )
    doc = json.loads(status.to_json())
    doc["from_the_future"] = 1
    assert contract.ExporterStatus.from_json(json.dumps(doc)) == status


def test_window_longer_than_lookback_averages_the_whole_window() -> None:
    # A 24h alert window with the default 2h lookback: the served value must be recent, the average
    # must still cover the day.
    snap = summarize(series([(NOW - 20 * 3600, 0.2), (NOW - 600, 0.1)]), NOW, 7200, 24 * 3600)
    assert snap.value == 0.1
    assert snap.window_average == pytest.approx(0.15)
    stale_only = summarize(series([(NOW - 20 * 3600, 0.2)]), NOW, 7200, 24 * 3600)
    assert stale_only.value is None
