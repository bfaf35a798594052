"""The SES event consumer: long-polls the SQS queue in a thread of its own, counts, deletes what it counted.

Two loops, each a daemon thread, neither on the scrape path (scrapes read the state's snapshot):

- `poll_once`: ReceiveMessage (up to 10 messages, long polling `events_wait_seconds`), each message
  parsed and counted (`event_counts`), then one DeleteMessageBatch for every message that was counted,
  ignored or a duplicate. A malformed message is counted once (by its MessageId, however often it comes
  back) and, with a dead-letter queue, **not** deleted: it becomes visible again after the queue's
  visibility timeout and the queue's redrive policy moves it to the dead-letter queue after
  maxReceiveCount receives. Without a dead-letter queue (the RedrivePolicy as last read) it is deleted
  after its count and a warning: see `_malformed`. A failed call is recorded as a failure of `ReceiveMessage`
  (message and AWS code in /status) and the loop backs off as the refresher does; it never raises.
- `read_attributes`, every refresh interval: GetQueueAttributes' ApproximateNumberOfMessages (backlog),
  ApproximateNumberOfMessagesNotVisible (in flight) and RedrivePolicy (is there a dead-letter queue).
  A separate loop, so a consumer that stalls
  still has its backlog reported.

SES's EventBridge service events (a tenant's sending status, an advisor recommendation: `Parsed.service`)
are deleted as `ignored` and handed to `on_service_event`, which `main` wires to the tenants and findings
loops (an earlier read, rate-limited there) and which answers the outcome counted in
`sesmonitor_events_service_events_total`. The polls go on regardless: EventBridge delivers best effort.

The age of the oldest message: SQS has ApproximateAgeOfOldestMessage only as a CloudWatch metric, not
as a queue attribute, so the exporter reports `now - SentTimestamp` of the oldest SES message
(malformed ones left out: one that keeps coming back is no event waiting) in the newest receive that
returned messages, and 0 after an empty receive (nothing was waiting).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Final

from sesmonitor import metrics
from sesmonitor.exporter.aws.backoff import MIN_WAIT_SECONDS, backoff_delay
from sesmonitor.exporter.aws.outcomes import classify_exception, describe_exception, error_code
from sesmonitor.exporter.events.event_counts import EventCounts
from sesmonitor.exporter.events.ses_events import MalformedMessage, SnsConfirmation, parse
from sesmonitor.exporter.model.events import parse_redrive_policy
from sesmonitor.exporter.model.service_events import ACTED, MALFORMED, NOT_WATCHED, ServiceEvent
from sesmonitor.exporter.model.state import ExporterState

log = logging.getLogger(__name__)

BATCH: int = 10  # the most ReceiveMessage returns
# A service event's handler: (the event, now) -> its outcome (metrics.SERVICE_EVENT_OUTCOMES).
ServiceEventHandler = Callable[[ServiceEvent, float], str]
# Outcomes of one message beyond metrics.EVENTS_MESSAGE_OUTCOMES' counted, duplicate, ignored.
LEFT: Final = "left"  # malformed, left on the queue for its redrive policy
DELETED_MALFORMED: Final = "deleted_malformed"  # malformed, and the queue has no dead-letter queue
QUEUE_ATTRIBUTES: Final = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "RedrivePolicy",
)


class EventConsumer:
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        state: ExporterState,
        counts: EventCounts,
        *,
        wait_seconds: int,
        refresh_interval: float,
        clock: Callable[[], float] = time.time,
        on_service_event: ServiceEventHandler | None = None,
    ) -> None:
        self._sqs = sqs
        self._on_service_event = on_service_event
        self._queue_url = queue_url
        self._state = state
        self._counts = counts
        self._wait = wait_seconds
        self._interval = refresh_interval
        self._clock = clock
        self._lock = threading.Lock()  # one poll at a time, whoever calls

    def poll_once(self, now: float | None = None) -> bool:
        """Receive one batch, count it, delete what was counted; False (recorded) when a call failed."""
        with self._lock:
            try:
                answer = self._sqs.receive_message(
                    QueueUrl=self._queue_url,
                    MaxNumberOfMessages=BATCH,
                    WaitTimeSeconds=self._wait,
                    MessageSystemAttributeNames=["SentTimestamp"],
                )
            except Exception as exc:
                self._failed(metrics.API_RECEIVE_MESSAGE, exc, now)
                return False
            now = self._clock() if now is None else now
            messages = answer.get("Messages", [])
            outcomes = [(m, self._count(m, now)) for m in messages]
            done = [m["ReceiptHandle"] for m, outcome in outcomes if outcome != LEFT]
            sent = [
                int(m.get("Attributes", {}).get("SentTimestamp", 0)) / 1000
                for m, outcome in outcomes
                if outcome not in (LEFT, DELETED_MALFORMED)
            ]
            oldest = max(0.0, now - min(sent)) if sent and min(sent) > 0 else 0.0
            if done:
                try:
                    self._delete(done)
                except Exception as exc:
                    # Not deleted: redelivered after the visibility timeout and then found duplicate.
                    self._state.record_events(now, self._counts.snapshot(now), oldest, ok=False)
                    self._failed(metrics.API_RECEIVE_MESSAGE, exc, now, "DeleteMessageBatch: ")
                    return False
            self._state.record_events(now, self._counts.snapshot(now), oldest)
            return True

    def _count(self, message: dict[str, Any], now: float) -> str:
        """Count one message; its outcome, LEFT for one to leave on the queue."""
        try:
            parsed = parse(message.get("Body", ""))
        except Exception as exc:  # MalformedMessage, or a shape parse() did not foresee: never a crash
            return self._malformed(str(message.get("MessageId", "")), exc)
        if parsed.confirmation is not None:
            self._confirmation(parsed.confirmation)
        if parsed.service is not None:
            self._service_event(parsed.service, now)
        if parsed.event is None:
            outcome = "ignored"
        else:
            outcome = "counted" if self._counts.add(parsed.event, now) else "duplicate"
        self._counts.messages[outcome] += 1
        return outcome

    def _service_event(self, event: ServiceEvent, now: float) -> None:
        """Hand it on; a handler's failure is logged and the event counted as not acted on, never
        letting one event keep the message (and the batch's deletes) back."""
        outcome = NOT_WATCHED
        if self._on_service_event is not None:
            try:
                outcome = self._on_service_event(event, now)
            except Exception as exc:
                log.error("handling the service event %s failed: %s", event.detail_type,
                          describe_exception(exc), exc_info=True)  # fmt: skip
        (log.info if outcome == ACTED else log.debug)(  # a burst: one INFO line for what it made happen
            "SES service event %s on %s (%s): %s",
            event.detail_type,
            event.resource_arn,
            event.status,
            outcome,
        )
        self._counts.add_service_event(event, outcome, now)

    def _confirmation(self, found: SnsConfirmation) -> None:
        """An SNS SubscriptionConfirmation is deleted like every ignored message, so this warning is
        its only trace: without it a cross-account topic's confirmation (which the topic's owner cannot
        give) is lost and the queue never gets the topic's events. The SubscribeURL is logged, only
        when it is SNS's own ConfirmSubscription URL (`ses_events.sns_subscribe_url`). Its token is no
        credential: it can do one thing, confirm this queue's pending subscription to that topic
        (within 3 days), which sends into the queue only what the queue's own policy already lets that
        topic send; it reads nothing and publishes nothing. Whoever reads the exporter's logs could
        confirm it, and that is the point. Confirming through the URL leaves the subscription
        unsubscribable without authentication; the CLI form below with --authenticate-on-unsubscribe
        does not, so it comes first."""
        url = found.subscribe_url or "(the message holds no SNS ConfirmSubscription URL: none logged)"
        log.warning(
            "SNS subscription confirmation for %s from topic %s (message %s): the queue gets no events"
            " from that topic until someone confirms it: aws sns confirm-subscription --topic-arn %s"
            " --authenticate-on-unsubscribe true --token <the Token parameter of the URL>, or open the"
            " URL: %s",
            self._queue_url, found.topic_arn, found.message_id, found.topic_arn, url,
        )  # fmt: skip

    def _malformed(self, message_id: str, exc: Exception) -> str:
        """Counted once per MessageId. With a dead-letter queue (or while the RedrivePolicy is not
        known) it is left for the redrive policy, where a person can read it. Without one it is
        deleted: left, it would come back every visibility timeout for the queue's whole retention
        (4 days by default, up to 14), cost a receive each time and be dropped by SQS unseen in the
        end; its count and this warning (the id and what is wrong, never the body, which may hold
        addresses) are all anyone could learn from it there. docs/events.md says so."""
        first = self._counts.add_malformed(message_id)
        kind = exc.service_kind if isinstance(exc, MalformedMessage) else None  # a service event's
        if first and kind is not None:
            self._counts.service_events[(kind, MALFORMED)] += 1
        redrive = self._state.view().events.redrive
        if redrive is not None and not redrive.has_dead_letter_queue:
            log.warning("SQS message %s is not an SES event (%s) and the queue has no dead-letter queue:"
                        " counted and deleted", message_id, exc)  # fmt: skip
            return DELETED_MALFORMED
        (log.warning if first else log.debug)(
            "SQS message %s is not an SES event, left for the redrive policy%s: %s",
            message_id, "" if first else " (seen before, not counted again)", exc,
        )  # fmt: skip
        return LEFT

    def _delete(self, handles: list[str]) -> None:
        entries = [{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(handles)]
        answer = self._sqs.delete_message_batch(QueueUrl=self._queue_url, Entries=entries)
        failed = answer.get("Failed") or []
        if failed:
            first = failed[0]
            reason = f"{first.get('Code')}: {first.get('Message', '')}"
            raise RuntimeError(f"{len(failed)} of {len(entries)} not deleted: {reason}")

    def read_attributes(self, now: float | None = None) -> bool:
        try:
            answer = self._sqs.get_queue_attributes(
                QueueUrl=self._queue_url,
                AttributeNames=list(QUEUE_ATTRIBUTES),
            )
        except Exception as exc:
            self._failed(metrics.API_QUEUE_ATTRIBUTES, exc, now)
            return False
        attributes = answer.get("Attributes", {})

        def number(name: str) -> int | None:
            value = attributes.get(name)
            return int(value) if value is not None else None

        self._state.record_queue(
            self._clock() if now is None else now,
            number("ApproximateNumberOfMessages"),
            number("ApproximateNumberOfMessagesNotVisible"),
            parse_redrive_policy(attributes.get("RedrivePolicy")),
        )
        return True

    def _failed(self, api: str, exc: Exception, now: float | None, prefix: str = "") -> None:
        now = self._clock() if now is None else now
        message = prefix + describe_exception(exc)
        failures = self._state.view().apis[api].consecutive_failures + 1
        log.warning("%s on %s failed (%d in a row): %s", api, self._queue_url, failures, message)
        self._state.record_failure(api, now, message, error_code(exc), classify_exception(exc))

    def _backoff(self, api: str) -> float:
        failures = self._state.view().apis[api].consecutive_failures
        return backoff_delay(self._interval, failures) if failures else 0.0

    def _guarded(self, api: str, step: Callable[[], object]) -> None:
        """One step of a loop; an exception nobody foresaw (a bug, a shape no parser expected) is
        logged, counted and shown as the API's failure, and the loop goes on after the backoff,
        instead of the daemon thread dying without a word while /status goes on serving old counts."""
        try:
            step()
        except Exception as exc:
            # describe_exception: the type and message, never the client's configuration or credentials.
            log.error("the %s loop on %s crashed, restarting after the backoff: %s",
                      api, self._queue_url, describe_exception(exc), exc_info=True)  # fmt: skip
            self._state.record_loop_crash(api, self._clock(), f"consumer crashed: {describe_exception(exc)}")

    def run(self, stop: threading.Event) -> None:
        """Poll until `stop` is set; after a failure, wait as the refresher would."""
        while not stop.is_set():
            self._guarded(metrics.API_RECEIVE_MESSAGE, self.poll_once)
            stop.wait(
                max(self._backoff(metrics.API_RECEIVE_MESSAGE), MIN_WAIT_SECONDS if not self._wait else 0)
            )

    def run_attributes(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self._guarded(metrics.API_QUEUE_ATTRIBUTES, self.read_attributes)
            stop.wait(max(self._backoff(metrics.API_QUEUE_ATTRIBUTES), self._interval))
