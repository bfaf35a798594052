"""Why a reputation rate is absent, when the exporter can tell; and each listed set's ReputationOptions.

AWS publishes ``Reputation.BounceRate`` only once an account (or configuration set) has had bounces,
``Reputation.ComplaintRate`` only once it has had complaints, both only while mail is sent, and per
configuration set only with the set's ``ReputationOptions.ReputationMetricsEnabled``. So an absent rate
is often no fault at all: a clean, busy account never has a complaint rate. `explain_absences` replaces
the generic ``no_datapoints_in_lookback`` of a rate by what the other series of the same scope show:

- the set's reputation metrics are disabled (SESv2 GetConfigurationSet): ``reputation_metrics_disabled``;
- no ``Send`` counted within the lookback: ``no_sends_in_lookback`` (for a configuration set the counts
  exist only with a CloudWatch event destination, so a set without one reads the same);
- mail sent but no ``Bounce`` (``Complaint``) counted within the lookback: ``no_events_in_lookback``;
- a configuration set whose counts are not read (not opted in): ``counts_not_read``.

Anything else stays ``no_datapoints_in_lookback`` (mail was sent, some bounced or complained, and still no
rate: the exporter cannot tell why), and a count that CloudWatch answered with an error explains nothing.
Pure functions, apart from the reader, which reads each set on its own (`model.configuration_set`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Final

from sesmonitor import metrics
from sesmonitor.exporter.aws.outcomes import classify_exception, describe_exception, error_code
from sesmonitor.exporter.model.configuration_set import MISSING, NOT_FOUND_CODE, SetRead
from sesmonitor.exporter.model.series import Series, SeriesKey
from sesmonitor.exporter.model.snapshot import ERROR_STATUS_CODES, SeriesSnapshot

# The count whose events make up each rate.
EVENTS: Final = {
    metrics.BOUNCE_RATE.aws_name: metrics.BOUNCE.aws_name,
    metrics.COMPLAINT_RATE.aws_name: metrics.COMPLAINT.aws_name,
}


def _counted(series: Series | None, now: float, lookback_seconds: float) -> bool | None:
    """Whether the count has a positive datapoint within the lookback; None when CloudWatch failed it."""
    if series is None or series.status_code in ERROR_STATUS_CODES:
        return None
    return any(
        now - lookback_seconds <= t <= now and math.isfinite(v) and v > 0
        for t, v in zip(series.timestamps, series.values, strict=False)
    )


def explain_absences(
    snapshots: Mapping[SeriesKey, SeriesSnapshot],
    series: Mapping[SeriesKey, Series],
    now: float,
    lookback_seconds: float,
    reputation_enabled: Mapping[str, bool | None] | None = None,
) -> dict[SeriesKey, SeriesSnapshot]:
    """`snapshots` with the no-data reason of each absent rate made as precise as the data allows."""
    enabled = reputation_enabled or {}
    out = dict(snapshots)
    for key, snap in snapshots.items():
        if key.metric not in EVENTS or snap.value is not None:
            continue
        if key.configuration_set and enabled.get(key.configuration_set) is False:
            out[key] = replace(snap, no_data_reason=metrics.NO_DATA_REPUTATION_DISABLED)
            continue
        if snap.no_data_reason != metrics.NO_DATA_NO_DATAPOINTS:
            continue
        scope = key.configuration_set
        if SeriesKey(metrics.SEND.aws_name, scope) not in series:  # the set's counts are not read
            out[key] = replace(snap, no_data_reason=metrics.NO_DATA_COUNTS_NOT_READ)
            continue
        sent = _counted(series.get(SeriesKey(metrics.SEND.aws_name, scope)), now, lookback_seconds)
        events = _counted(series.get(SeriesKey(EVENTS[key.metric], scope)), now, lookback_seconds)
        if sent is False:
            out[key] = replace(snap, no_data_reason=metrics.NO_DATA_NO_SENDS)
        elif sent and events is False:
            out[key] = replace(snap, no_data_reason=metrics.NO_DATA_NO_EVENTS)
    return out


def parse_reputation_enabled(response: Mapping[str, Any]) -> bool | None:
    """GetConfigurationSet's ReputationOptions.ReputationMetricsEnabled; None when AWS leaves it out."""
    options = response.get("ReputationOptions") or {}
    value = options.get("ReputationMetricsEnabled")
    return value if isinstance(value, bool) else None


def parse_sending_enabled(response: Mapping[str, Any]) -> bool | None:
    """GetConfigurationSet's SendingOptions.SendingEnabled; None when AWS leaves it out."""
    value = (response.get("SendingOptions") or {}).get("SendingEnabled")
    return value if isinstance(value, bool) else None


class ConfigurationSetReader:
    """SESv2 GetConfigurationSet for each listed configuration set: is it publishing reputation metrics,
    and is it sending (spec.protection, and any pause by anyone, shows there)? One call per set, each
    with its own outcome: a missing set, or one that fails, leaves the others read."""

    def __init__(self, client: Any, configuration_sets: Sequence[str]) -> None:
        self._client = client
        self._sets = tuple(configuration_sets)

    def read(self) -> dict[str, bool | None]:
        return {name: one.reputation_enabled for name, one in self.read_each().items()}

    @property
    def configuration_sets(self) -> tuple[str, ...]:
        return self._sets

    def read_each(self, names: Sequence[str] | None = None) -> dict[str, SetRead]:
        """Each of `names` (every listed set by default), one GetConfigurationSet each."""
        return {name: self.read_one(name) for name in (self._sets if names is None else names)}

    def read_one(self, name: str) -> SetRead:
        try:
            answer = self._client.get_configuration_set(ConfigurationSetName=name)
        except Exception as exc:  # recorded per set, never raised: the other sets are read all the same
            code = error_code(exc)
            if code == NOT_FOUND_CODE:
                return MISSING
            return SetRead(error=describe_exception(exc), error_code=code, error_kind=classify_exception(exc))
        return SetRead(parse_reputation_enabled(answer), parse_sending_enabled(answer))
