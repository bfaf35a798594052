"""From a CloudWatch series and a clock reading to the value the exporter serves. Pure functions.

SES publishes the reputation metrics only while mail is being sent, so a series sampled "now" has gaps
(the seed's alert flapped every 20 minutes). The exporter serves instead the newest datapoint within the
lookback, with its timestamp so its age is known. A non-finite value (NaN, ±Inf) is dropped, never
served; with no datapoint left the series is absent and `no_data_reason` says why: nothing is ever
replaced by an invented 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sesmonitor import metrics
from sesmonitor.exporter.model.series import Series

ERROR_STATUS_CODES = frozenset({"InternalError", "Forbidden"})


@dataclass(frozen=True)
class SeriesSnapshot:
    value: float | None  # the newest datapoint within the lookback
    timestamp: float | None  # its time (start of its CloudWatch period), epoch seconds
    window_average: float | None  # mean of the datapoints within the window, None without any
    window_datapoints: int
    no_data_reason: str | None  # one of metrics.NO_DATA_REASONS when value is None

    def age_seconds(self, now: float) -> float | None:
        return None if self.timestamp is None else max(0.0, now - self.timestamp)


NOT_REFRESHED = SeriesSnapshot(None, None, None, 0, metrics.NO_DATA_NOT_REFRESHED)


def summarize(series: Series, now: float, lookback_seconds: float, window_seconds: float) -> SeriesSnapshot:
    """The newest datapoint within the lookback, and the mean of the datapoints within the window.

    The two ranges are independent: the lookback bounds how old a served value may be, the window is the
    alerts' averaging range and may be longer (the reader queries whichever reaches further back).
    """
    finite = [
        (t, v)
        for t, v in zip(series.timestamps, series.values, strict=False)
        if math.isfinite(v) and t <= now
    ]
    recent = [(t, v) for t, v in finite if t >= now - lookback_seconds]
    if not recent:
        reason = (
            metrics.NO_DATA_QUERY_ERROR
            if series.status_code in ERROR_STATUS_CODES
            else metrics.NO_DATA_NO_DATAPOINTS
        )
        return SeriesSnapshot(None, None, None, 0, reason)
    newest_t, newest_v = max(recent, key=lambda p: p[0])
    in_window = [v for t, v in finite if t >= now - window_seconds]
    average = math.fsum(in_window) / len(in_window) if in_window else None
    return SeriesSnapshot(newest_v, newest_t, average, len(in_window), None)
