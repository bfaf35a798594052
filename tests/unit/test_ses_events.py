"""Parsing SES events from SQS message bodies: every event type in every shape AWS delivers, and junk."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from sesmonitor.exporter.events.ses_events import (
    MalformedMessage,
    SesEvent,
    parse,
    recipient_domain,
    sns_subscribe_url,
)
from support.ses_notifications import (
    ADVISOR_RECOMMENDATION_OPEN,
    SENDING_STATUS_DISABLED,
    event,
    eventbridge_envelope,
    identity_notification,
    ses_service_event,
    sns_envelope,
    subscription_confirmation,
)

SHAPES: dict[str, Callable[[dict[str, Any]], str]] = {
    "sns": sns_envelope,
    "raw": json.dumps,
    "eventbridge": eventbridge_envelope,
}
RECIPIENTS = ["a@example.com", "B@Example.ORG"]
# eventType -> (fields of the fixture, what parse() must make of it)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "Bounce": (
        {"bounce_type": "Permanent", "bounce_sub_type": "NoEmail"},
        {"kind": "bounce", "bounce_type": "Permanent", "bounce_sub_type": "NoEmail"},
    ),
    "Complaint": ({"feedback_type": "abuse"}, {"kind": "complaint", "feedback_type": "abuse"}),
    "Delivery": ({}, {"kind": "delivery"}),
    "Send": ({}, {"kind": "send"}),
    "Reject": ({}, {"kind": "reject"}),
    "DeliveryDelay": ({"delay_type": "MailboxFull"}, {"kind": "delay", "delay_type": "MailboxFull"}),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("kind", sorted(CASES))
def test_every_event_type_in_every_shape(shape: str, kind: str) -> None:
    fields, want = CASES[kind]
    doc = event(kind, RECIPIENTS, mid="msg-1", **fields)
    parsed = parse(SHAPES[shape](doc))
    assert parsed.ignored == ""
    got = parsed.event
    assert isinstance(got, SesEvent)
    assert got.message_id == "msg-1"
    assert got.configuration_set == "marketing"
    assert got.recipients == ("a@example.com", "b@example.org")
    assert got.event_id  # feedbackId or the event's timestamp
    for name, value in want.items():
        assert getattr(got, name) == value, name


@pytest.mark.parametrize("wrap", [json.dumps, sns_envelope], ids=["raw", "sns"])
@pytest.mark.parametrize("kind", ["Bounce", "Complaint", "Delivery"])
def test_identity_feedback_notifications(wrap: Callable[[dict[str, Any]], str], kind: str) -> None:
    doc = identity_notification(
        kind, ["x@example.net"], bounce_type="Transient", bounce_sub_type="MailboxFull"
    )
    assert "eventType" not in doc
    assert doc["notificationType"] == kind
    got = parse(wrap(doc)).event
    assert got is not None
    assert got.kind == kind.lower()
    assert got.configuration_set == ""  # identity notifications have none
    assert got.recipients == ("x@example.net",)
    if kind == "Bounce":
        assert (got.bounce_type, got.bounce_sub_type) == ("Transient", "MailboxFull")


def test_complaint_without_feedback_type() -> None:
    got = parse(json.dumps(event("Complaint", ["a@example.com"]))).event
    assert got is not None
    assert got.feedback_type == ""


@pytest.mark.parametrize(
    ("body", "ignored"),
    [
        (json.dumps(event("Open", ["a@example.com"])), "Open"),
        (eventbridge_envelope(event("Open", ["a@example.com"])), "Open"),
        (json.dumps({"Type": "SubscriptionConfirmation", "Token": "t", "SubscribeURL": "https://x"}),
         "SubscriptionConfirmation"),
        (json.dumps({"notificationType": "AmazonSnsSubscriptionSucceeded", "message": "ok"}),
         "AmazonSnsSubscriptionSucceeded"),
        # SES's EventBridge service events (a rule on source aws.ses alone routes them to the queue)
        (SENDING_STATUS_DISABLED, "EventBridge Sending Status Disabled"),
        (ADVISOR_RECOMMENDATION_OPEN, "EventBridge Advisor Recommendation Status Open"),
        (ses_service_event("AWS API Call via CloudTrail", {"eventSource": "ses.amazonaws.com"}),
         "EventBridge AWS API Call via CloudTrail"),
    ],
)  # fmt: skip
def test_valid_messages_that_are_not_counted(body: str, ignored: str) -> None:
    parsed = parse(body)
    assert parsed.event is None
    assert parsed.ignored == ignored


def _bounce_without(*path: str) -> str:
    doc = event("Bounce", ["a@example.com"])
    target = doc
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return json.dumps(doc)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("", "not JSON"),
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({"Type": "Notification", "Message": "{broken"}), "SNS Message is not JSON"),
        (json.dumps({"Type": "Notification", "Message": 42}), "SNS Message is not JSON"),
        (json.dumps({"source": "aws.ses", "detail": "x"}), "EventBridge detail"),
        # an email's event without its type is broken, not a service event
        (ses_service_event("Email Bounced", {"mail": {"messageId": "m"}}), "neither eventType"),
        (json.dumps({"hello": "world"}), "neither eventType nor notificationType"),
        (json.dumps({"eventType": "Teleport", "mail": {}}), "unknown event type"),
        (_bounce_without("mail"), "mail: missing"),
        (_bounce_without("mail", "messageId"), "mail.messageId"),
        (_bounce_without("bounce", "bounceType"), "bounce.bounceType"),
        (_bounce_without("bounce", "bouncedRecipients"), "bouncedRecipients"),
        (json.dumps({**event("Send", ["a@example.com"]), "mail": {"messageId": "m", "destination": []}}),
         "mail.destination"),
        (json.dumps(event("Bounce", [""])), "bouncedRecipients[].emailAddress"),
    ],
)  # fmt: skip
def test_malformed_messages_name_the_problem(body: str, says: str) -> None:
    with pytest.raises(MalformedMessage, match=None) as caught:
        parse(body)
    assert says in str(caught.value)


@pytest.mark.parametrize(
    ("address", "domain"),
    [
        ("a@example.com", "example.com"),
        ("A@Sub.Example.COM", "sub.example.com"),
        ("Name <a@example.com>", "example.com"),
        ("a@example.com.", "example.com"),
        ("no-domain", ""),
        ("a@", ""),
    ],
)
def test_recipient_domain(address: str, domain: str) -> None:
    assert recipient_domain(address) == domain


def test_a_subscription_confirmation_carries_its_topic_and_snss_own_url() -> None:
    parsed = parse(subscription_confirmation())
    assert parsed.event is None
    assert parsed.ignored == "SubscriptionConfirmation"
    assert parsed.confirmation is not None
    assert parsed.confirmation.topic_arn == "arn:aws:sns:us-west-2:123456789012:MyTopic"
    assert parsed.confirmation.message_id == "165545c9-2a5c-472c-8df2-7ff2be2b3b1b"
    url = parsed.confirmation.subscribe_url or ""
    assert url.startswith("https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&")
    china = parse(subscription_confirmation("arn:aws-cn:sns:cn-north-1:123456789012:t")).confirmation
    assert china is not None
    assert (china.subscribe_url or "").startswith("https://sns.cn-north-1.amazonaws.com/")


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=t",  # not https
        "https://sns.us-west-2.amazonaws.com.evil.example/?Action=ConfirmSubscription",
        "https://evil.example/?Action=ConfirmSubscription&host=sns.us-west-2.amazonaws.com",
        "https://user@sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription",
        "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x",
    ],
)
def test_a_url_that_is_not_snss_confirmation_is_never_passed_on(url: str) -> None:
    """Anyone who may send to the queue can forge a confirmation: its link must not reach the log."""
    assert sns_subscribe_url(url) is None
    parsed = parse(subscription_confirmation(url=url))
    assert parsed.confirmation is not None
    assert parsed.confirmation.subscribe_url is None
