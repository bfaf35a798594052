"""The SES event consumer against moto's real SNS and SQS over HTTP (through the fault proxy)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from sesmonitor import metrics
from sesmonitor.api import parse_spec
from sesmonitor.contract import ExporterStatus
from sesmonitor.exporter import Exporter
from sesmonitor.operator.shapes import ExporterReading, ReconcileOutcome
from sesmonitor.operator.status.compute import evaluate
from sesmonitor.operator.status.events_received import breakdown_text
from support.exporter_checks import MONITOR, REGION, get, names, sample, scrape_metrics
from support.moto_ses import BAD_LIST_DOMAIN, SCENARIOS, SimulatedSes
from support.ses_notifications import (
    event,
    eventbridge_envelope,
    identity_notification,
    subscription_confirmation,
)
from support.simulated_aws.sqs_sns import EventPipeline, event_pipeline

BOUNCES = metrics.EVENTS_BOUNCES_TOTAL
OK = ReconcileOutcome(True)


def events_exporter(make_exporter, ses: SimulatedSes, queue_url: str, **config: object) -> Exporter:
    settings: dict[str, object] = {"events_queue_url": queue_url, "events_wait_seconds": 1, **config}
    exporter: Exporter = make_exporter(ses, **settings)
    assert exporter.events is not None
    return exporter


def drain(exporter: Exporter, polls: int = 6) -> None:
    assert exporter.events is not None
    for _ in range(polls):
        assert exporter.events.poll_once()


def publish_story(pipe: EventPipeline) -> None:
    """What a bad list looks like: 10 sends, 6 permanent NoEmail bounces from one domain, one transient,
    an abuse complaint; through SNS (wrapped), and the other shapes put on the queue directly."""
    for i in range(10):
        pipe.publish(
            event("Send", [f"user{i}@bad.example" if i < 6 else f"user{i}@good.example"], mid=f"m{i}")
        )
    for i in range(6):
        pipe.publish(event("Bounce", [f"user{i}@bad.example"], mid=f"m{i}", bounce_sub_type="NoEmail"))
    pipe.send_body(json.dumps(event("Bounce", ["user6@good.example"], mid="m6", bounce_type="Transient",
                                    bounce_sub_type="MailboxFull")))  # raw message delivery  # fmt: skip
    pipe.send_body(
        eventbridge_envelope(event("Complaint", ["user7@good.example"], mid="m7", feedback_type="abuse"))
    )
    pipe.publish(identity_notification("Delivery", ["user8@good.example"], mid="m8"))
    pipe.publish(event("DeliveryDelay", ["user9@good.example"], mid="m9", delay_type="MailboxFull"))
    pipe.publish(event("Reject", ["user10@good.example"], mid="m10"))


def test_counts_each_event_once_deletes_them_and_reports_the_backlog(simulated_ses, make_exporter) -> None:
    ses = simulated_ses("healthy")
    pipe = event_pipeline(ses, visibility_timeout=1)
    publish_story(pipe)
    pipe.send_body("this is not an SES event")
    exporter = events_exporter(make_exporter, ses, pipe.queue_url)
    assert exporter.events is not None
    assert exporter.events.read_attributes()
    before = scrape_metrics(exporter)
    assert sample(before, metrics.EVENTS_QUEUE_MESSAGES, queue_state="visible") == 22.0  # the backlog
    drain(exporter)
    samples = scrape_metrics(exporter)
    assert sample(samples, BOUNCES, bounce_type="Permanent", bounce_sub_type="NoEmail",
                  configuration_set="marketing") == 6.0  # fmt: skip
    assert sample(samples, BOUNCES, bounce_type="Transient", bounce_sub_type="MailboxFull") == 1.0
    assert sample(samples, metrics.EVENTS_SENDS_TOTAL, configuration_set="marketing") == 10.0
    assert sample(samples, metrics.EVENTS_COMPLAINTS_TOTAL, complaint_feedback_type="abuse") == 1.0
    assert sample(samples, metrics.EVENTS_DELIVERIES_TOTAL, configuration_set="") == 1.0  # identity: no set
    assert sample(samples, metrics.EVENTS_BOUNCES_BY_DOMAIN_TOTAL, recipient_domain="bad.example") == 6.0
    assert sample(samples, metrics.EVENTS_MESSAGES_TOTAL, outcome="counted") == 21.0
    assert (sample(samples, metrics.EVENTS_MESSAGES_TOTAL, outcome="malformed") or 0) >= 1.0
    assert set(metrics.EVENT_METRIC_NAMES) <= names(samples), "every event family has a sample"
    # Counted messages are gone; the malformed one stays for the redrive policy.
    left = pipe.attributes()
    assert left["ApproximateNumberOfMessages"] + left["ApproximateNumberOfMessagesNotVisible"] == 1
    status = ExporterStatus.from_json(get(exporter, "/status").body)
    assert status.events is not None
    hour = status.events["last_hour"]
    assert hour["bounce_types"] == {"Permanent": 6, "Transient": 1}
    assert hour["top_domains"][0] == {"domain": "bad.example", "count": 6}
    assert status.apis["ReceiveMessage"]["consecutive_failures"] == 0


def test_a_redelivery_after_a_failed_delete_counts_nothing(simulated_ses, make_exporter) -> None:
    ses = simulated_ses("healthy")
    pipe = event_pipeline(ses, visibility_timeout=1)
    for i in range(4):
        pipe.publish(event("Bounce", [f"u{i}@example.com"], mid=f"m{i}"))
    exporter = events_exporter(make_exporter, ses, pipe.queue_url)
    assert exporter.events is not None
    ses.proxy.inject("DeleteMessageBatch", "server_error")
    assert not exporter.events.poll_once()  # counted, then the delete failed: the messages come back
    failed = ExporterStatus.from_json(get(exporter, "/status").body).apis["ReceiveMessage"]
    assert "DeleteMessageBatch" in (failed["last_error"] or "")
    counted = sample(scrape_metrics(exporter), BOUNCES, bounce_type="Permanent")
    assert counted is not None
    assert counted > 0
    ses.proxy.clear_faults()
    time.sleep(1.5)  # the visibility timeout
    drain(exporter)
    samples = scrape_metrics(exporter)
    assert sample(samples, BOUNCES, bounce_type="Permanent") == 4.0  # each once, across the redelivery
    assert (sample(samples, metrics.EVENTS_MESSAGES_TOTAL, outcome="duplicate") or 0) >= counted
    left = pipe.attributes()
    assert left["ApproximateNumberOfMessages"] + left["ApproximateNumberOfMessagesNotVisible"] == 0
    assert ses.proxy.count("DeleteMessageBatch") >= 2


def test_a_queue_that_does_not_exist_is_a_clear_error(simulated_ses, make_exporter) -> None:
    ses = simulated_ses("healthy")
    missing = f"{ses.endpoint_url}/123456789012/no-such-queue"
    exporter = events_exporter(make_exporter, ses, missing)
    assert exporter.events is not None
    assert not exporter.events.poll_once()
    assert not exporter.events.read_attributes()
    status = ExporterStatus.from_json(get(exporter, "/status").body)
    health = status.apis["ReceiveMessage"]
    assert health["last_error_code"] in ("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue")
    assert "The specified queue does not exist" in (status.last_error or "")
    # What the operator makes of this document: a condition naming the queue and the reason.
    reading = ExporterReading(status=status)
    conditions = evaluate(
        MONITOR, parse_spec({"region": REGION, "events": {"queueURL": missing}}), OK, reading
    )
    by_type = {c.type: c for c in conditions}
    assert (by_type["EventsReceived"].status, by_type["EventsReceived"].reason) == (
        "False",
        "AWSQueueNotFound",
    )
    assert missing in by_type["EventsReceived"].message
    assert by_type["ExporterReady"].reason == "AWSQueueNotFound"
    samples = scrape_metrics(exporter)
    assert sample(samples, metrics.CONSECUTIVE_FAILURES, api="ReceiveMessage") == 1.0
    assert sample(samples, metrics.STALE, api="GetQueueAttributes") == 1.0
    assert sample(samples, metrics.AWS_REQUESTS_TOTAL, api="ReceiveMessage", outcome="client_error") == 1.0


def test_a_denied_queue_is_a_clear_error(simulated_ses, make_exporter) -> None:
    ses = simulated_ses("healthy")
    pipe = event_pipeline(ses)
    exporter = events_exporter(make_exporter, ses, pipe.queue_url)
    assert exporter.events is not None
    ses.proxy.inject("ReceiveMessage", "access_denied")
    assert not exporter.events.poll_once()
    health = ExporterStatus.from_json(get(exporter, "/status").body).apis["ReceiveMessage"]
    assert health["last_error_kind"] == "denied"
    assert sample(scrape_metrics(exporter), metrics.AWS_REQUESTS_TOTAL, api="ReceiveMessage",
                  outcome="denied") == 1.0  # fmt: skip


def test_the_background_consumer_never_blocks_a_scrape(simulated_ses, make_exporter) -> None:
    """A 20-second long poll runs while scrapes answer at once; what arrives is counted within a poll."""
    ses = simulated_ses("healthy")
    pipe = event_pipeline(ses)
    exporter = events_exporter(make_exporter, ses, pipe.queue_url, events_wait_seconds=20, refresh_loop=True)
    time.sleep(1.0)  # the consumer is inside its first long poll now
    started = time.perf_counter()
    for _ in range(20):
        scrape_metrics(exporter)
    assert (time.perf_counter() - started) / 20 < 0.2
    pipe.publish(event("Bounce", ["x@example.com"], bounce_type="Transient", bounce_sub_type="General"))
    deadline = time.time() + 25
    while time.time() < deadline:
        if sample(scrape_metrics(exporter), BOUNCES, bounce_type="Transient") == 1.0:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the background consumer did not count the bounce")
    assert sample(scrape_metrics(exporter), metrics.EVENTS_QUEUE_MESSAGES, queue_state="visible") is not None


EVENTS_POLICY = Path(__file__).resolve().parents[2] / "docs" / "iam-policy-events.json"
# SQS batch calls are authorized by the single-message action.
IAM_ACTION = {"DeleteMessageBatch": "DeleteMessage"}


def test_the_events_policy_lists_exactly_what_the_consumer_calls(simulated_ses, make_exporter) -> None:
    ses = simulated_ses("healthy")
    pipe = event_pipeline(ses)
    pipe.publish(event("Send", ["a@example.com"]))
    exporter = events_exporter(make_exporter, ses, pipe.queue_url)
    assert exporter.events is not None
    called: set[str] = set()
    exporter.clients.sqs.meta.events.register(
        "before-call.*.*", lambda model, **_: called.add(f"sqs:{IAM_ACTION.get(model.name, model.name)}")
    )
    drain(exporter, 2)
    assert exporter.events.read_attributes()
    (statement,) = json.loads(EVENTS_POLICY.read_text())["Statement"]
    assert statement["Resource"].startswith("arn:aws:sqs:")  # one queue, not "*"
    assert (
        called
        == set(statement["Action"])
        == {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
    )
    assert {r.operation for r in ses.proxy.requests(service="sqs")} == {
        "ReceiveMessage", "DeleteMessageBatch", "GetQueueAttributes",
    }  # fmt: skip


def test_the_demos_bad_list_shows_its_domain(simulated_ses, make_exporter) -> None:
    """scripts/demo.py's bad-list story, one minute of it, through SNS and the exporter."""
    ses = simulated_ses("bad-list")
    events = SCENARIOS["bad-list"].events
    assert events is not None
    pipe = event_pipeline(ses)
    for one in events(ses.seeded.now - ses.seeded.now % 60):
        pipe.publish(one)
    exporter = events_exporter(make_exporter, ses, pipe.queue_url)
    drain(exporter, 12)
    status = ExporterStatus.from_json(get(exporter, "/status").body)
    assert status.events is not None
    hour = status.events["last_hour"]
    assert (hour["sends"], hour["bounces"]) == (40, 13)
    assert (
        breakdown_text(hour)
        == f"permanent 92% (NoEmail 92%), transient 8% (MailboxFull 8%); top domain {BAD_LIST_DOMAIN} 92%"
    )
    # CloudWatch's figure lags: 1% for now.
    assert {v for _, v in ses.seeded.series("Reputation.BounceRate")} == {0.01}


def test_a_quiet_queue_is_read_not_failing(simulated_ses, make_exporter) -> None:
    """Issue 20 item 10: SQS holds an empty long poll for WaitTimeSeconds (moto does too) and the answer
    then crosses a network; with the client's read timeout equal to the wait (20 s and 20 s in production,
    2 s and 2 s here) every idle poll timed out at the client. Three quiet poll periods: no read error,
    not stale, ready, and a message sent meanwhile is counted within one poll (no backoff)."""
    ses = simulated_ses("healthy")
    pipe = event_pipeline(ses)
    wait = 2
    ses.proxy.inject("ReceiveMessage", "delay", delay_seconds=0.3)  # a round trip, as to AWS
    exporter = events_exporter(
        make_exporter, ses, pipe.queue_url, events_wait_seconds=wait, read_timeout_seconds=wait,
        refresh_loop=True,
    )  # fmt: skip
    time.sleep(3 * (wait + 0.3) + 0.5)
    status = ExporterStatus.from_json(get(exporter, "/status").body)
    receive = status.apis["ReceiveMessage"]
    assert (receive["consecutive_failures"], receive["last_error"]) == (0, None)
    assert receive["stale"] is False
    assert receive["last_success_time"] is not None
    assert status.ready, status.last_error
    assert sample(scrape_metrics(exporter), metrics.AWS_REQUESTS_TOTAL, api="ReceiveMessage",
                  outcome="success") >= 3  # fmt: skip
    pipe.publish(event("Bounce", ["x@example.com"], bounce_type="Transient", bounce_sub_type="General"))
    sent = time.monotonic()
    while time.monotonic() - sent < wait + 0.3 + 1.5:
        if sample(scrape_metrics(exporter), BOUNCES, bounce_type="Transient") == 1.0:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("a message sent to a quiet queue waited for a backoff")


def test_an_unexpected_exception_restarts_the_consumer_and_shows(
    simulated_ses, make_exporter, caplog
) -> None:
    """Issue 20 item 13: a bug in counting (here: the first add raises) used to end the consumer's
    thread without a word; now it is logged, counted, shown in /status, and the loop goes on: the
    message, not deleted, comes back after the visibility timeout and is counted."""
    ses = simulated_ses("healthy")
    pipe = event_pipeline(ses, visibility_timeout=1)
    exporter = events_exporter(
        make_exporter, ses, pipe.queue_url, refresh_interval_seconds=1, refresh_loop=True
    )
    consumer = exporter.events
    assert consumer is not None
    real_add = consumer._counts.add
    calls = []

    def add_once_broken(*args: object, **kwargs: object) -> bool:
        calls.append(1)
        if len(calls) == 1:
            raise KeyError("a bug")
        return real_add(*args, **kwargs)  # type: ignore[arg-type]

    consumer._counts.add = add_once_broken  # type: ignore[method-assign]
    pipe.publish(event("Bounce", ["x@example.com"], bounce_type="Transient", bounce_sub_type="General"))
    deadline = time.time() + 15
    while time.time() < deadline:
        if sample(scrape_metrics(exporter), BOUNCES, bounce_type="Transient") == 1.0:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the consumer did not survive the exception")
    samples = scrape_metrics(exporter)
    assert sample(samples, metrics.EVENTS_LOOP_RESTARTS_TOTAL) == 1.0
    status = ExporterStatus.from_json(get(exporter, "/status").body)
    assert status.events is not None
    assert status.events["loop_restarts"] == 1
    assert "consumer crashed: KeyError" in (status.apis["ReceiveMessage"]["last_error"] or "")
    assert status.apis["ReceiveMessage"]["consecutive_failures"] == 0  # recovered
    assert any("crashed, restarting" in r.getMessage() for r in caplog.records)
    assert all(t.is_alive() for t in exporter._threads if t.name == "sesmonitor-events")


def malformed_count(exporter: Exporter) -> float:
    return sample(scrape_metrics(exporter), metrics.EVENTS_MESSAGES_TOTAL, outcome="malformed") or 0.0


def test_a_returning_malformed_message_counts_once_and_waits_for_the_redrive(
    simulated_ses, make_exporter
) -> None:
    """Issue 20 item 11: a malformed message left on the queue comes back every visibility timeout; it
    used to be counted `malformed` at every receive. With a dead-letter queue it stays for the redrive
    policy (here: moved after 3 receives) and counts once; /status names the dead-letter queue."""
    ses = simulated_ses("healthy")
    pipe = event_pipeline(ses, visibility_timeout=1, max_receive_count=3)
    pipe.send_body("this is not an SES event")
    exporter = events_exporter(make_exporter, ses, pipe.queue_url)
    assert exporter.events is not None
    assert exporter.events.read_attributes()
    for _ in range(4):  # received three times, the visibility timeout between; the fourth moves it
        assert exporter.events.poll_once()
        time.sleep(1.2)
    assert malformed_count(exporter) == 1.0
    assert pipe.attributes(pipe.dead_letter_url)["ApproximateNumberOfMessages"] == 1  # the redrive took it
    events = ExporterStatus.from_json(get(exporter, "/status").body).events
    assert events is not None
    assert events["redrive_policy_read"] is True
    assert (events["dead_letter_queue"] or "").endswith(":ses-events-dlq")
    assert events["max_receive_count"] == 3


def test_without_a_dead_letter_queue_a_malformed_message_is_counted_once_and_deleted(
    simulated_ses, make_exporter, caplog
) -> None:
    """Issue 20 item 11: without a RedrivePolicy a malformed message came back for the queue's whole
    retention, counted each time and holding the backlog's age up. Now: counted once, logged, deleted;
    /status and the EventsReceived condition say the queue has no dead-letter queue."""
    ses = simulated_ses("healthy")
    pipe = event_pipeline(ses, visibility_timeout=1, dead_letter=False)
    pipe.send_body("this is not an SES event")
    exporter = events_exporter(make_exporter, ses, pipe.queue_url)
    assert exporter.events is not None
    assert exporter.events.poll_once()  # before the attributes are read: left, as with a redrive policy
    assert exporter.events.read_attributes()
    time.sleep(1.2)
    for _ in range(3):
        assert exporter.events.poll_once()
    assert malformed_count(exporter) == 1.0
    left = pipe.attributes()
    assert left["ApproximateNumberOfMessages"] + left["ApproximateNumberOfMessagesNotVisible"] == 0
    assert any("no dead-letter queue" in r.getMessage() for r in caplog.records)
    doc = ExporterStatus.from_json(get(exporter, "/status").body)
    assert doc.events is not None
    assert doc.events["redrive_policy_read"] is True
    assert doc.events["dead_letter_queue"] is None
    assert doc.events["oldest_received_age_seconds"] == 0.0  # a malformed message is no event waiting
    spec = parse_spec({"region": REGION, "events": {"queueURL": pipe.queue_url}})
    conditions = {c.type: c for c in evaluate(MONITOR, spec, OK, ExporterReading(status=doc))}
    assert "the queue has no dead-letter queue" in conditions["EventsReceived"].message


def test_an_sns_subscription_confirmation_is_logged_with_its_topic_then_deleted(
    simulated_ses, make_exporter, caplog
) -> None:
    """Issue 20 item 14: a cross-account topic's SubscriptionConfirmation reached the queue and was
    deleted as `ignored` without a word, so nobody could confirm it. Now a warning names the topic and
    carries SNS's own SubscribeURL (the token confirms this subscription only); a forged link is not
    passed on."""
    ses = simulated_ses("healthy")
    pipe = event_pipeline(ses)
    topic = "arn:aws:sns:us-east-1:444455556666:ses-events-other-account"
    pipe.send_body(subscription_confirmation(topic))
    pipe.send_body(subscription_confirmation(topic, url="https://evil.example/?Action=ConfirmSubscription"))
    exporter = events_exporter(make_exporter, ses, pipe.queue_url)
    drain(exporter, polls=2)
    warnings = [r.getMessage() for r in caplog.records if "subscription confirmation" in r.getMessage()]
    assert len(warnings) == 2
    assert all(topic in w and "aws sns confirm-subscription" in w for w in warnings)
    assert sum("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&" in w for w in warnings) == 1
    assert not any("evil.example" in w for w in warnings)
    assert all(
        r.levelname == "WARNING" for r in caplog.records if "subscription confirmation" in r.getMessage()
    )
    assert sample(scrape_metrics(exporter), metrics.EVENTS_MESSAGES_TOTAL, outcome="ignored") == 2.0
    left = pipe.attributes()
    assert left["ApproximateNumberOfMessages"] + left["ApproximateNumberOfMessagesNotVisible"] == 0
