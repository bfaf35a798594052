"""sesmonitor's record of what it last did to a protected configuration set (the set's tags).

`protection.decide` judges with it, `protection.protector` writes and reads it back, `serving` shows who
paused a set and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sesmonitor import metrics

PAUSED: Final = "paused"
RESUMED: Final = "resumed"
RATES: Final = (metrics.BOUNCE_RATE.aws_name, metrics.COMPLAINT_RATE.aws_name)


@dataclass(frozen=True)
class Record:
    """What sesmonitor last did to a set: written as the set's tags (in memory only in DryRun)."""

    state: str  # PAUSED | RESUMED
    at: float  # epoch seconds
    monitor: str  # "<namespace>/<name>" of the SesMonitor that did it
    metric: str = ""  # the rate that paused it, e.g. Reputation.BounceRate
    rate: float | None = None  # its newest value then (a fraction)


def describe_record(record: Record) -> str:
    noun = {RATES[0]: "bounce rate", RATES[1]: "complaint rate"}.get(record.metric, record.metric)
    rate = f" {record.rate * 100:.2f}%" if record.rate is not None else ""
    return f"{noun}{rate}".strip()
