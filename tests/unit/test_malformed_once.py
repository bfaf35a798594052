"""Issue 20 item 11, the pure parts: a malformed message counts once per SQS MessageId (bounded memory),
the queue's RedrivePolicy as read, and what EventsReceived says about a queue with and without one."""

from __future__ import annotations

import json

from test_events_status import events_status

from sesmonitor.exporter.events.event_counts import EventCounts
from sesmonitor.exporter.model.events import NO_REDRIVE, RedrivePolicy, parse_redrive_policy
from sesmonitor.operator.status.events_received import redrive_text

DLQ = "arn:aws:sqs:us-east-1:111122223333:ses-events-dlq"


def test_a_malformed_message_counts_once_however_often_it_returns() -> None:
    counts = EventCounts(top_domains=5, dedupe_entries=100)
    assert counts.add_malformed("id-1")
    assert not counts.add_malformed("id-1")
    assert not counts.add_malformed("id-1")
    assert counts.add_malformed("id-2")
    assert counts.messages["malformed"] == 2


def test_the_memory_is_bounded_and_keeps_the_ones_still_returning() -> None:
    counts = EventCounts(top_domains=5, dedupe_entries=100, malformed_remembered=2)
    assert counts.add_malformed("a")
    assert counts.add_malformed("b")
    assert not counts.add_malformed("a")  # a returns: now the newest
    assert counts.add_malformed("c")  # forgets b, the oldest
    assert not counts.add_malformed("a")
    assert counts.add_malformed("b")  # forgotten, so counted again: the price of bounded memory
    assert counts.messages["malformed"] == 4


def test_the_redrive_policy_as_sqs_returns_it() -> None:
    assert parse_redrive_policy(None) == NO_REDRIVE
    assert not NO_REDRIVE.has_dead_letter_queue
    policy = parse_redrive_policy(json.dumps({"deadLetterTargetArn": DLQ, "maxReceiveCount": "5"}))
    assert policy == RedrivePolicy(DLQ, 5)
    assert parse_redrive_policy(json.dumps({"deadLetterTargetArn": DLQ, "maxReceiveCount": 3})) == (
        RedrivePolicy(DLQ, 3)
    )
    # A value that does not parse never reads as "no dead-letter queue": nothing is deleted on a guess.
    assert parse_redrive_policy("{not json").has_dead_letter_queue


def test_events_received_says_what_happens_to_a_malformed_message() -> None:
    assert redrive_text(events_status()) == ""  # not read yet
    with_dlq = events_status(redrive_policy_read=True, dead_letter_queue=DLQ, max_receive_count=5)
    assert redrive_text(with_dlq) == (
        "; malformed messages go to the dead-letter queue ses-events-dlq after 5 receives"
    )
    without = redrive_text(events_status(redrive_policy_read=True))
    assert "no dead-letter queue (RedrivePolicy): a malformed message is counted once and deleted" in without
