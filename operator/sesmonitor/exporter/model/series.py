"""A CloudWatch series as the exporter holds it: its key (metric, configuration set) and its datapoints.

Read by `refresh.cloudwatch`, summarised by `model.snapshot`, judged by `protection.decide`, served by
`serving`: the one shape every concern of the exporter passes around.
"""

from __future__ import annotations

from dataclasses import dataclass

ACCOUNT = ""  # configuration_set of the account-wide series


@dataclass(frozen=True, order=True)
class SeriesKey:
    metric: str  # the CloudWatch metric name, e.g. "Reputation.BounceRate"
    configuration_set: str = ACCOUNT


@dataclass(frozen=True)
class Series:
    """What CloudWatch returned for one query: newest first, as epoch seconds."""

    timestamps: tuple[float, ...]
    values: tuple[float, ...]
    status_code: str = "Complete"
    messages: tuple[str, ...] = ()
