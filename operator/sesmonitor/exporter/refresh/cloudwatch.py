"""CloudWatch GetMetricData: every AWS/SES series in one request, answered as plain data.

One refresh asks for every metric of `sesmonitor.metrics.CLOUDWATCH_METRICS` for the account, and for
each configuration set (dimension ``ses:configuration-set``) its reputation rates and, for the sets whose
counts are opted in, its counts, in a single GetMetricData request. It
follows NextToken until the answer is complete and splits into several requests only past the API's
500 queries per request (71 configuration sets and more). A read without counts (`read(now,
counts=False)`) asks for the reputation rates alone: the refresher asks for the counts only every
`model.cadence.COUNTS_READ_SECONDS`, since CloudWatch bills each query.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sesmonitor import metrics
from sesmonitor.exporter.model.series import ACCOUNT, Series, SeriesKey
from sesmonitor.metrics import CloudWatchMetric

MAX_QUERIES_PER_REQUEST = 500


@dataclass(frozen=True)
class Query:
    id: str
    key: SeriesKey
    metric: CloudWatchMetric


@dataclass
class CloudWatchReading:
    series: dict[SeriesKey, Series] = field(default_factory=dict)
    requests: int = 0  # GetMetricData calls made (pages included)
    metrics_requested: int = 0  # queries sent, summed over calls: what AWS bills
    counts: bool = True  # whether the counts were asked for (else `series` holds the rates alone)


def build_queries(configuration_sets: Sequence[str], count_sets: Collection[str] = ()) -> list[Query]:
    """Account-wide queries first, then each configuration set's, in `CLOUDWATCH_METRICS` order.

    A configuration set's counts (Send, Delivery, ...) only for the sets in `count_sets`: CloudWatch has
    them only when the set has an event destination, and each query is billed whether or not it has data.
    """
    queries: list[Query] = []
    for scope in (ACCOUNT, *configuration_sets):
        for metric in metrics.CLOUDWATCH_METRICS:
            if scope and not metric.is_rate and scope not in count_sets:
                continue
            queries.append(Query(f"q{len(queries)}", SeriesKey(metric.aws_name, scope), metric))
    return queries


def query_window(now: float, lookback_seconds: int, period_seconds: int) -> tuple[datetime, datetime]:
    """Whole periods only: from the period covering `now - lookback` to the start of the current period.

    The current, still-filling period is left out, so a Sum is never a partial minute.
    """
    end = math.floor(now / period_seconds) * period_seconds
    start = end - math.ceil(lookback_seconds / period_seconds) * period_seconds
    return datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)


def metric_data_query(query: Query, period_seconds: int) -> dict[str, Any]:
    dimensions = []
    if query.key.configuration_set:
        dimensions = [{"Name": metrics.CONFIGURATION_SET_DIMENSION, "Value": query.key.configuration_set}]
    return {
        "Id": query.id,
        "MetricStat": {
            "Metric": {
                "Namespace": metrics.CLOUDWATCH_NAMESPACE,
                "MetricName": query.metric.aws_name,
                "Dimensions": dimensions,
            },
            "Period": period_seconds,
            "Stat": query.metric.statistic,
        },
        "ReturnData": True,
    }


def build_requests(
    queries: Sequence[Query], start: datetime, end: datetime, period_seconds: int
) -> list[dict[str, Any]]:
    """GetMetricData keyword arguments: one request, or one per 500 queries."""
    requests = []
    for offset in range(0, len(queries), MAX_QUERIES_PER_REQUEST):
        batch = queries[offset : offset + MAX_QUERIES_PER_REQUEST]
        requests.append(
            {
                "MetricDataQueries": [metric_data_query(q, period_seconds) for q in batch],
                "StartTime": start,
                "EndTime": end,
                "ScanBy": "TimestampDescending",
            }
        )
    return requests


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return float(value.timestamp())
    return float(value)


def parse_pages(pages: Iterable[dict[str, Any]], queries: Sequence[Query]) -> dict[SeriesKey, Series]:
    """Merge the MetricDataResults of every page by query Id; unknown Ids are ignored."""
    by_id = {q.id: q for q in queries}
    timestamps: dict[str, list[float]] = {q.id: [] for q in queries}
    values: dict[str, list[float]] = {q.id: [] for q in queries}
    status: dict[str, str] = {}
    messages: dict[str, list[str]] = {q.id: [] for q in queries}
    for page in pages:
        for result in page.get("MetricDataResults", []):
            qid = result.get("Id")
            if qid not in by_id:
                continue
            timestamps[qid].extend(_epoch(t) for t in result.get("Timestamps", []))
            values[qid].extend(float(v) for v in result.get("Values", []))
            status[qid] = result.get("StatusCode", "Complete")
            messages[qid].extend(
                f"{m.get('Code', '')}: {m.get('Value', '')}".strip(": ") for m in result.get("Messages", [])
            )
    series = {}
    for q in queries:
        pairs = sorted(zip(timestamps[q.id], values[q.id], strict=False), key=lambda p: p[0], reverse=True)
        series[q.key] = Series(
            timestamps=tuple(t for t, _ in pairs),
            values=tuple(v for _, v in pairs),
            status_code=status.get(q.id, "Complete"),
            messages=tuple(messages[q.id]),
        )
    return series


class CloudWatchReader:
    """Reads every configured series with as few GetMetricData calls as the API allows."""

    def __init__(
        self,
        client: Any,
        configuration_sets: Sequence[str],
        lookback_seconds: int,
        period_seconds: int,
        on_metrics_requested: Callable[[int], None] = lambda _n: None,
        *,
        count_sets: Collection[str] = (),
    ) -> None:
        self._client = client
        self.queries = build_queries(configuration_sets, count_sets)
        self._lookback = lookback_seconds
        self._period = period_seconds
        self._on_metrics_requested = on_metrics_requested

    def read(self, now: float, *, counts: bool = True) -> CloudWatchReading:
        """Every series as of `now`; `counts` False: the reputation rates alone (the same query Ids)."""
        start, end = query_window(now, self._lookback, self._period)
        queries = self.queries if counts else [q for q in self.queries if q.metric.is_rate]
        reading = CloudWatchReading(counts=counts)
        pages: list[dict[str, Any]] = []
        for request in build_requests(queries, start, end, self._period):
            token: str | None = None
            while True:
                kwargs = dict(request, NextToken=token) if token else request
                # Billed per metric requested, whether or not the call then succeeds.
                self._on_metrics_requested(len(request["MetricDataQueries"]))
                reading.metrics_requested += len(request["MetricDataQueries"])
                reading.requests += 1
                page = self._client.get_metric_data(**kwargs)
                pages.append(page)
                token = page.get("NextToken")
                if not token:
                    break
        reading.series = parse_pages(pages, queries)
        return reading
