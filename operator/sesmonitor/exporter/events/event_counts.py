"""SES events to counters: each (event, recipient) once, label values bounded, the last hour kept. Pure.

The caller passes `now`; nothing here reads a clock or talks to AWS. Not thread-safe: the consumer owns
one `EventCounts` and publishes immutable `EventsSnapshot`s to the exporter's state.

- **Once.** SQS delivers at least once: a key per (kind, SES message id, recipient, event id) is
  remembered, at most `dedupe_entries` of them (16-byte digests, oldest forgotten first), so a
  redelivery within that many recipients counts nothing. The kind and event id are part of the key
  because one message id and recipient have a Send, then a Delivery or a Bounce, and may be delayed twice.
- **Bounded labels.** Recipient domains get a label of their own only in the top N (by bounces in the
  last hour), the rest are `other`: at most N + 1 series. A domain enters the top N when it has bounced
  more in the last hour than the weakest of them, which leaves (its series ends; later bounces go to
  `other` until it climbs back). Each counter only ever grows, so `rate()` holds. Values taken from the
  events (configuration sets, types, sub-types) keep their own label for the first `MAX_VALUES` distinct
  ones, then `other`.
- **The last hour** is 60 one-minute buckets summed incrementally, for /status's breakdown.
- **A malformed message once.** One the consumer leaves on the queue comes back every visibility
  timeout (until the redrive policy moves it, or for the queue's whole retention without one): it is
  counted `malformed` the first time its SQS MessageId is seen, and never again while the id is among
  the last MALFORMED_REMEMBERED ones (bounded memory; an id forgotten and seen again counts once more).
"""

from __future__ import annotations

import hashlib
import heapq
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field
from typing import Final, TypeVar

from sesmonitor import contract
from sesmonitor.exporter.events.ses_events import SesEvent, recipient_domain
from sesmonitor.exporter.model.events import WINDOW_SECONDS, EventsSnapshot, ServiceEventSeen
from sesmonitor.exporter.model.service_events import ServiceEvent
from sesmonitor.metrics import EVENTS_OTHER_DOMAIN

K = TypeVar("K")
OTHER: Final = EVENTS_OTHER_DOMAIN
MAX_VALUES: Final = 64  # distinct configuration sets (types, sub-types) with their own label
MAX_HOUR_DOMAINS: Final = 5000  # distinct domains tracked over the last hour; beyond: `other`
BUCKET_SECONDS: Final = 60
BREAKDOWN_DOMAINS: Final = 5
MALFORMED_REMEMBERED: Final = 10_000  # SQS MessageIds of malformed messages: 16-byte digests, ~1 MB


class _Capped:
    """The first `limit` distinct values map to themselves, every later one to `other`."""

    def __init__(self, limit: int = MAX_VALUES) -> None:
        self._seen: set[str] = set()
        self._limit = limit

    def __call__(self, value: str) -> str:
        if value in self._seen:
            return value
        if len(self._seen) >= self._limit:
            return OTHER
        self._seen.add(value)
        return value


@dataclass
class _Hour:
    sends: int = 0
    deliveries: int = 0
    delays: int = 0
    bounces: Counter[tuple[str, str]] = field(default_factory=Counter)  # (type, sub-type)
    domains: Counter[str] = field(default_factory=Counter)
    complaints: Counter[str] = field(default_factory=Counter)

    def add(self, other: _Hour, sign: int) -> None:
        self.sends += sign * other.sends
        self.deliveries += sign * other.deliveries
        self.delays += sign * other.delays
        _merge(self.bounces, other.bounces, sign)
        _merge(self.domains, other.domains, sign)
        _merge(self.complaints, other.complaints, sign)


def _merge(mine: Counter[K], theirs: Counter[K], sign: int) -> None:
    for key, count in theirs.items():
        mine[key] += sign * count
        if mine[key] <= 0:
            del mine[key]


@dataclass
class _Bucket:
    start: float
    hour: _Hour = field(default_factory=_Hour)


class EventCounts:
    def __init__(
        self, top_domains: int, dedupe_entries: int, malformed_remembered: int = MALFORMED_REMEMBERED
    ) -> None:
        self._top_n = top_domains
        self._dedupe_limit = dedupe_entries
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self._sets, self._types, self._sub_types = _Capped(), _Capped(), _Capped()
        self._feedback, self._delay_types = _Capped(), _Capped()
        self.sends: Counter[str] = Counter()
        self.deliveries: Counter[str] = Counter()
        self.rejects: Counter[str] = Counter()
        self.bounces: Counter[tuple[str, str, str]] = Counter()
        self.complaints: Counter[tuple[str, str]] = Counter()
        self.delays: Counter[tuple[str, str]] = Counter()
        self.labeled_domains: dict[str, int] = {}  # the top N's counters
        self.other_domains = 0
        self.messages: Counter[str] = Counter()
        self.service_events: Counter[tuple[str, str]] = Counter()  # (kind, outcome): bounded labels
        self.last_service: dict[str, ServiceEventSeen] = {}
        self._malformed: OrderedDict[bytes, None] = OrderedDict()
        self._malformed_limit = malformed_remembered
        self._buckets: deque[_Bucket] = deque()
        self._hour = _Hour()

    @property
    def remembered(self) -> int:
        return len(self._seen)

    def add_malformed(self, message_id: str) -> bool:
        """Count a malformed message the first time its SQS MessageId is seen; True then."""
        digest = hashlib.blake2b(message_id.encode(), digest_size=16).digest()
        if digest in self._malformed:
            self._malformed.move_to_end(digest)  # still coming back: remembered the longest
            return False
        self._malformed[digest] = None
        if len(self._malformed) > self._malformed_limit:
            self._malformed.popitem(last=False)
        self.messages["malformed"] += 1
        return True

    def add_service_event(self, event: ServiceEvent, outcome: str, now: float) -> None:
        self.service_events[(event.kind, outcome)] += 1
        self.last_service[event.kind] = ServiceEventSeen(event, now, outcome)

    def _first_time(self, event: SesEvent, recipient: str) -> bool:
        key = "\0".join((event.kind, event.message_id, recipient, event.event_id)).encode()
        digest = hashlib.blake2b(key, digest_size=16).digest()
        if digest in self._seen:
            return False
        self._seen[digest] = None
        if len(self._seen) > self._dedupe_limit:
            self._seen.popitem(last=False)
        return True

    def _bucket(self, now: float) -> _Hour:
        self.expire(now)
        start = now - now % BUCKET_SECONDS
        if not self._buckets or self._buckets[-1].start < start:
            self._buckets.append(_Bucket(start))
        return self._buckets[-1].hour

    def expire(self, now: float) -> None:
        """Forget the buckets older than the last hour."""
        while self._buckets and self._buckets[0].start <= now - WINDOW_SECONDS:
            self._hour.add(self._buckets.popleft().hour, -1)

    def add(self, event: SesEvent, now: float) -> int:
        """Count `event`'s recipients not counted before; returns how many were new."""
        new = [r for r in event.recipients if self._first_time(event, r)]
        if not new:
            return 0
        bucket = self._bucket(now)
        delta = _Hour()
        scope = self._sets(event.configuration_set) if event.configuration_set else ""
        n = len(new)
        if event.kind == "send":
            self.sends[scope] += n
            delta.sends = n
        elif event.kind == "delivery":
            self.deliveries[scope] += n
            delta.deliveries = n
        elif event.kind == "reject":
            self.rejects[scope] += n
        elif event.kind == "delay":
            self.delays[(scope, self._delay_types(event.delay_type))] += n
            delta.delays = n
        elif event.kind == "complaint":
            feedback = self._feedback(event.feedback_type) if event.feedback_type else ""
            self.complaints[(scope, feedback)] += n
            delta.complaints[feedback] += n
        else:
            kind, sub = self._types(event.bounce_type), self._sub_types(event.bounce_sub_type)
            self.bounces[(scope, kind, sub)] += n
            delta.bounces[(kind, sub)] += n
            for recipient in new:
                self._count_domain(recipient_domain(recipient) or OTHER, delta)
        bucket.add(delta, 1)
        self._hour.add(delta, 1)
        return n

    def _count_domain(self, domain: str, delta: _Hour) -> None:
        if domain != OTHER and (domain in self._hour.domains or len(self._hour.domains) < MAX_HOUR_DOMAINS):
            delta.domains[domain] += 1
        hourly = self._hour.domains[domain] + delta.domains[domain] if domain != OTHER else 0
        labeled = self.labeled_domains
        if domain in labeled:
            labeled[domain] += 1
            return
        if domain != OTHER and self._top_n > 0:
            if len(labeled) < self._top_n:
                labeled[domain] = 1
                return
            weakest = min(labeled, key=lambda d: (self._hour.domains.get(d, 0), d))
            if hourly > self._hour.domains.get(weakest, 0):
                del labeled[weakest]
                labeled[domain] = 1
                return
        self.other_domains += 1

    def snapshot(self, now: float) -> EventsSnapshot:
        self.expire(now)
        hour = self._hour
        types: Counter[str] = Counter()
        subs: dict[str, dict[str, int]] = {}
        for (kind, sub), count in hour.bounces.items():
            types[kind] += count
            subs.setdefault(kind, {})[sub] = count
        top = heapq.nlargest(BREAKDOWN_DOMAINS, hour.domains.items(), key=lambda item: (item[1], item[0]))
        domains = dict(self.labeled_domains)
        if self.other_domains:
            domains[OTHER] = self.other_domains
        return EventsSnapshot(
            sends=dict(self.sends),
            deliveries=dict(self.deliveries),
            rejects=dict(self.rejects),
            bounces=dict(self.bounces),
            complaints=dict(self.complaints),
            delays=dict(self.delays),
            bounces_by_domain=domains,
            messages=dict(self.messages),
            service_events=dict(self.service_events),
            last_service_events=dict(self.last_service),
            last_hour=contract.EventsBreakdown(
                window_seconds=WINDOW_SECONDS,
                sends=hour.sends,
                deliveries=hour.deliveries,
                bounces=sum(types.values()),
                bounce_types=dict(types),
                bounce_sub_types=subs,
                top_domains=[contract.DomainCount(domain=d, count=c) for d, c in top],
                complaints=dict(hour.complaints),
                delays=hour.delays,
            ),
        )
