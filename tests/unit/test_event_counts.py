"""Counting SES events: each (event, recipient) once in bounded memory, bounded labels, the last hour."""

from __future__ import annotations

import json

from sesmonitor.exporter.events.event_counts import MAX_VALUES, OTHER, EventCounts
from sesmonitor.exporter.events.ses_events import SesEvent, parse
from support.ses_notifications import event

T0 = 1_800_000_000.0


def parsed(kind: str, recipients: list[str], **fields: object) -> SesEvent:
    got = parse(json.dumps(event(kind, recipients, **fields))).event  # type: ignore[arg-type]
    assert got is not None
    return got


def bounce(domain: str, sub: str = "NoEmail", kind: str = "Permanent", user: str = "u") -> SesEvent:
    return parsed("Bounce", [f"{user}@{domain}"], bounce_type=kind, bounce_sub_type=sub)


def test_a_redelivered_event_counts_once() -> None:
    counts = EventCounts(top_domains=20, dedupe_entries=1000)
    one = parsed(
        "Bounce", ["a@example.com", "b@example.com"], bounce_type="Permanent", bounce_sub_type="NoEmail"
    )
    assert counts.add(one, T0) == 2
    assert counts.add(one, T0 + 5) == 0  # the same SQS message again
    snap = counts.snapshot(T0 + 5)
    assert snap.bounces == {("marketing", "Permanent", "NoEmail"): 2}
    assert snap.bounces_by_domain == {"example.com": 2}


def test_send_delivery_and_bounce_of_one_recipient_all_count() -> None:
    """The key holds the kind and event id: one message id and recipient have several events."""
    counts = EventCounts(top_domains=20, dedupe_entries=1000)
    for kind in ("Send", "Delivery", "Bounce"):
        assert counts.add(parsed(kind, ["a@example.com"], mid="m1"), T0) == 1
    first = parsed("DeliveryDelay", ["a@example.com"], mid="m1", timestamp="2026-12-01T12:00:00Z")
    second = parsed("DeliveryDelay", ["a@example.com"], mid="m1", timestamp="2026-12-01T12:30:00Z")
    assert counts.add(first, T0) == 1
    assert counts.add(second, T0) == 1  # delayed twice: two events
    assert counts.add(second, T0) == 0
    snap = counts.snapshot(T0)
    assert (snap.sends, snap.deliveries) == ({"marketing": 1}, {"marketing": 1})
    assert snap.delays == {("marketing", "TransientCommunicationFailure"): 2}


def test_dedupe_memory_is_bounded_and_forgets_the_oldest() -> None:
    counts = EventCounts(top_domains=20, dedupe_entries=3)
    events = [parsed("Send", [f"r{i}@example.com"]) for i in range(5)]
    for one in events:
        counts.add(one, T0)
    assert counts.remembered == 3
    assert counts.add(events[-1], T0) == 0  # still remembered
    assert counts.add(events[0], T0) == 1  # forgotten: counted again (the bound's price, documented)


def test_domains_beyond_the_top_n_count_as_other_and_every_bounce_is_counted() -> None:
    counts = EventCounts(top_domains=2, dedupe_entries=10_000)
    totals: dict[str, int] = {}
    for i in range(30):
        domain = f"d{i % 6}.example"
        counts.add(bounce(domain, user=f"u{i}"), T0 + i)
        totals[domain] = totals.get(domain, 0) + 1
    snap = counts.snapshot(T0 + 30)
    labels = set(snap.bounces_by_domain)
    assert len(labels - {OTHER}) <= 2
    assert OTHER in labels
    assert sum(snap.bounces_by_domain.values()) == 30


def test_a_surging_domain_takes_the_weakest_slot_and_counters_never_decrease() -> None:
    counts = EventCounts(top_domains=2, dedupe_entries=10_000)
    for i in range(3):
        counts.add(bounce("quiet-a.example", user=f"a{i}"), T0)
        counts.add(bounce("quiet-b.example", user=f"b{i}"), T0)
    before = counts.snapshot(T0)
    assert set(before.bounces_by_domain) == {"quiet-a.example", "quiet-b.example"}
    previous: dict[str, int] = dict(before.bounces_by_domain)
    for i in range(10):
        counts.add(bounce("bad-list.example", user=f"x{i}"), T0 + 60)
        snap = counts.snapshot(T0 + 60)
        for label, value in snap.bounces_by_domain.items():
            if label in previous:
                assert value >= previous[label], label  # a series that stays never goes down
        previous = dict(snap.bounces_by_domain)
    assert "bad-list.example" in previous
    assert len(set(previous) - {OTHER}) == 2
    # The last hour's breakdown ranks it first whatever the labels did.
    top = counts.snapshot(T0 + 60).last_hour["top_domains"][0]
    assert top == {"domain": "bad-list.example", "count": 10}


def test_top_zero_puts_every_domain_in_other() -> None:
    counts = EventCounts(top_domains=0, dedupe_entries=100)
    counts.add(bounce("example.com"), T0)
    assert counts.snapshot(T0).bounces_by_domain == {OTHER: 1}


def test_label_values_from_events_are_capped() -> None:
    counts = EventCounts(top_domains=1, dedupe_entries=10_000)
    for i in range(MAX_VALUES + 5):
        counts.add(parsed("Send", [f"a{i}@example.com"], configuration_set=f"set-{i}"), T0)
    assert len(counts.snapshot(T0).sends) == MAX_VALUES + 1
    assert counts.snapshot(T0).sends[OTHER] == 5


def test_last_hour_breakdown_forgets_what_is_older() -> None:
    counts = EventCounts(top_domains=20, dedupe_entries=10_000)
    for i in range(8):
        counts.add(bounce("example.com", user=f"p{i}"), T0)
    counts.add(bounce("example.org", sub="MailboxFull", kind="Transient", user="t"), T0 + 1800)
    counts.add(bounce("example.org", sub="General", kind="Transient", user="t2"), T0 + 1800)
    for i in range(10):
        counts.add(parsed("Send", [f"s{i}@example.com"]), T0 + 1800)
    counts.add(parsed("Complaint", ["c@example.com"], feedback_type="abuse"), T0 + 1800)
    hour = counts.snapshot(T0 + 1900).last_hour
    assert hour["bounces"] == 10
    assert hour["bounce_types"] == {"Permanent": 8, "Transient": 2}
    assert hour["bounce_sub_types"] == {
        "Permanent": {"NoEmail": 8},
        "Transient": {"MailboxFull": 1, "General": 1},
    }
    assert hour["top_domains"][0] == {"domain": "example.com", "count": 8}
    assert (hour["sends"], hour["complaints"]) == (10, {"abuse": 1})
    later = counts.snapshot(T0 + 3600 + 60).last_hour  # the first minute's bucket is gone
    assert later["bounce_types"] == {"Transient": 2}
    assert later["top_domains"] == [{"domain": "example.org", "count": 2}]
    # The counters keep everything.
    assert sum(counts.snapshot(T0 + 3700).bounces.values()) == 10
    assert counts.snapshot(T0 + 5500).last_hour["bounces"] == 0
