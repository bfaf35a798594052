"""The SES event counts as of one moment: what `events.event_counts` publishes into the state and
`serving` turns into metric families and /status's last-hour breakdown; and the queue's redrive policy."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from sesmonitor import contract
from sesmonitor.exporter.model.service_events import ServiceEvent

WINDOW_SECONDS: Final = 3600  # the breakdown's "last hour"


@dataclass(frozen=True)
class ServiceEventSeen:
    """The last service event of a kind: what it said, when the consumer received it, what came of it."""

    event: ServiceEvent
    received: float
    outcome: str  # metrics.SERVICE_EVENT_OUTCOMES


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
    service_events: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (kind, outcome)
    last_service_events: Mapping[str, ServiceEventSeen] = field(default_factory=dict)  # kind -> last


@dataclass(frozen=True)
class RedrivePolicy:
    """The queue's RedrivePolicy (GetQueueAttributes): where SQS moves a message received
    `max_receive_count` times. Both None: the queue has none, so a message the consumer leaves comes back
    every visibility timeout for the queue's whole retention."""

    dead_letter_target_arn: str | None
    max_receive_count: int | None

    @property
    def has_dead_letter_queue(self) -> bool:
        return self.dead_letter_target_arn is not None


NO_REDRIVE: Final = RedrivePolicy(None, None)


def parse_redrive_policy(value: object) -> RedrivePolicy:
    """The attribute's JSON ({"deadLetterTargetArn": ..., "maxReceiveCount": 5 or "5"}); absent: none.
    A value that does not parse is taken as a dead-letter queue of unknown target, so a consumer never
    deletes a message a person meant to keep."""
    if value is None or value == "":
        return NO_REDRIVE
    try:
        doc = json.loads(str(value))
        target = doc.get("deadLetterTargetArn")
        count = doc.get("maxReceiveCount")
        return RedrivePolicy(str(target) if target else "unknown", int(count) if count is not None else None)
    except (ValueError, TypeError, AttributeError):
        return RedrivePolicy("unknown", None)


def empty_breakdown() -> contract.EventsBreakdown:
    return contract.EventsBreakdown(
        window_seconds=WINDOW_SECONDS, sends=0, deliveries=0, bounces=0, bounce_types={},
        bounce_sub_types={}, top_domains=[], complaints={}, delays=0,
    )  # fmt: skip
