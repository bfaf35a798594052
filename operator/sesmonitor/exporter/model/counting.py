"""From re-read CloudWatch count datapoints to a counter that adds each period once. Pure functions.

Every refresh re-reads the whole lookback, and CloudWatch's newest minutes are often still filling in, so
the count counters (`aws_ses_send_total`, ...) add a period's Sum only once the period has **settled**:
its end is at least `settle_seconds` old. Each series keeps a cursor, the end of the newest settled period
already added; a period is added when it starts at or after the cursor and has settled, and the cursor
then moves to the newest settled period's end, whether or not that period had a datapoint (SES publishes
no zeros). So re-reading the same window adds nothing, and no period is added twice.

The first read only places the cursor (at the settled boundary) and adds nothing: the counter starts at
0 when the exporter starts, rather than at the whole lookback's total. A counter that appears with the
lookback's total would show that total as one increase after every restart (Prometheus reads a reset as
"counted from 0"), a jump of up to 2 hours of mail in one scrape. Starting at 0 costs the periods that
settle while no exporter runs; `increase()` handles the reset itself.

A datapoint that arrives after its period settled is not counted (the settle delay bounds that).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class CounterState:
    total: float  # the counter's value: Sums of the settled periods since the exporter started
    cursor: float  # end of the newest settled period already added (epoch seconds, a period boundary)


def settled_boundary(now: float, settle_seconds: float, period_seconds: float) -> float:
    """The end of the newest period that has settled at `now`: every period starting before it has."""
    return math.floor((now - settle_seconds) / period_seconds) * period_seconds


def settle(
    datapoints: Iterable[tuple[float, float]],
    cursor: float | None,
    now: float,
    settle_seconds: float,
    period_seconds: float,
) -> tuple[float, float]:
    """(increment, new cursor): the Sum of the settled periods at or after `cursor` not yet added.

    `datapoints` are (period start, value) pairs; non-finite values are skipped. `cursor` None (the
    first read) places the cursor without adding anything. The cursor never moves back.
    """
    boundary = settled_boundary(now, settle_seconds, period_seconds)
    if cursor is None:
        return 0.0, boundary
    if boundary <= cursor:
        return 0.0, cursor
    added = math.fsum(v for t, v in datapoints if cursor <= t < boundary and math.isfinite(v))
    return added, boundary


def advance(
    state: CounterState | None,
    datapoints: Iterable[tuple[float, float]],
    now: float,
    settle_seconds: float,
    period_seconds: float,
) -> CounterState:
    """The counter after one read of a series (`state` None: its first read)."""
    added, cursor = settle(
        datapoints, None if state is None else state.cursor, now, settle_seconds, period_seconds
    )
    return CounterState((0.0 if state is None else state.total) + added, cursor)
