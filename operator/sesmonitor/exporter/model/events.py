"""The SES event counts as of one moment: what `events.event_counts` publishes into the state and
`serving` turns into metric families and /status's last-hour breakdown."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from sesmonitor import contract

WINDOW_SECONDS: Final = 3600  # the breakdown's "last hour"


@dataclass(frozen=True)
class EventsSnapshot:
    """Counter values (label tuples -> totals) and the last hour's breakdown, as of one moment."""

    sends: Mapping[str, int]  # configuration set -> count
    deliveries: Mapping[str, int]
    rejects: Mapping[str, int]
    bounces: Mapping[tuple[str, str, str], int]  # (configuration set, type, sub-type)
    complaints: Mapping[tuple[str, str], int]  # (configuration set, feedback type)
    delays: Mapping[tuple[str, str], int]  # (configuration set, delay type)
    bounces_by_domain: Mapping[str, int]  # top-N domain or `other`
    messages: Mapping[str, int]  # outcome -> SQS messages
    last_hour: contract.EventsBreakdown


def empty_breakdown() -> contract.EventsBreakdown:
    return contract.EventsBreakdown(
        window_seconds=WINDOW_SECONDS, sends=0, deliveries=0, bounces=0, bounce_types={},
        bounce_sub_types={}, top_domains=[], complaints={}, delays=0,
    )  # fmt: skip
