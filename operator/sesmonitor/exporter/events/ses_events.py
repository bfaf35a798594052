"""SES events from an SQS message body, in every shape SES's notifications reach a queue. Pure.

- SNS, wrapped: `{"Type": "Notification", "Message": "<the event as a JSON string>", ...}`;
- SNS with raw message delivery: the event itself;
- EventBridge: `{"source": "aws.ses", "detail-type": "Email Bounced", "detail": <the event>}`;
- the event is a configuration set's event publishing (`eventType`: Send, Reject, Bounce, Complaint,
  Delivery, DeliveryDelay, ...) or an identity's feedback notification (`notificationType`: Bounce,
  Complaint, Delivery), which has no configuration set.

Event types the exporter does not count (Open, Click, Rendering Failure, Subscription), SNS's own
messages (SubscriptionConfirmation) and SES's EventBridge service events that are not about one email
are `ignored`: valid, deleted, not counted as email events. Among those, the tenants' sending status and
the VDM advisor's recommendations ("Sending Status Enabled"/"Disabled", "Advisor Recommendation Status
Open"/"Resolved"/"Closed") come back as `Parsed.service` (`model.service_events`), an early signal for
the tenants and findings reads; the others (AWS API calls via CloudTrail: a rule on `source: aws.ses`
alone routes them too) are ignored only. Anything else that does not hold an event is
`MalformedMessage`, which the consumer leaves on the queue for its redrive policy.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any, Final, Literal

from sesmonitor.exporter.model.service_events import (
    MalformedServiceEvent,
    ServiceEvent,
    parse_service_event,
)

Kind = Literal["send", "delivery", "bounce", "complaint", "delay", "reject"]

CONFIGURATION_SET_TAG: Final = "ses:configuration-set"
# eventType / notificationType -> (kind, the event's own object, its recipients list, recipient key)
COUNTED_TYPES: Final[dict[str, tuple[Kind, str, str | None, str | None]]] = {
    "Send": ("send", "send", None, None),
    "Reject": ("reject", "reject", None, None),
    "Bounce": ("bounce", "bounce", "bouncedRecipients", "emailAddress"),
    "Complaint": ("complaint", "complaint", "complainedRecipients", "emailAddress"),
    "Delivery": ("delivery", "delivery", "recipients", None),
    "DeliveryDelay": ("delay", "deliveryDelay", "delayedRecipients", "emailAddress"),
}
IGNORED_TYPES: Final = frozenset(
    {
        "Open",
        "Click",
        "Rendering Failure",
        "RenderingFailure",
        "Subscription",
        "AmazonSnsSubscriptionSucceeded",
    }
)
_SNS_CONTROL_TYPES: Final = frozenset({"SubscriptionConfirmation", "UnsubscribeConfirmation"})
# EventBridge detail-types of SES's per-email events ("Email Bounced", "Email Sent", ...); every other
# aws.ses detail-type is a service event whose detail has no eventType.
_EMAIL_DETAIL_TYPE_PREFIX: Final = "Email "


class MalformedMessage(ValueError):
    """The body holds no SES event we can read; the message names what is wrong. `service_kind`: the
    service event's kind when its detail-type was one of ours (model.service_events)."""

    def __init__(self, message: str, service_kind: str | None = None) -> None:
        super().__init__(message)
        self.service_kind = service_kind


@dataclass(frozen=True)
class SesEvent:
    kind: Kind
    message_id: str  # SES's mail.messageId
    configuration_set: str  # "" for identity notifications (and mail sent without a set)
    recipients: tuple[str, ...]
    event_id: str  # feedbackId, else the event's timestamp: tells two events of one recipient apart
    bounce_type: str = ""
    bounce_sub_type: str = ""
    feedback_type: str = ""
    delay_type: str = ""


@dataclass(frozen=True)
class SnsConfirmation:
    """An SNS SubscriptionConfirmation: the queue receives the topic's messages only once someone
    confirms (a cross-account topic's owner cannot), so the consumer logs it before deleting it."""

    topic_arn: str
    message_id: str
    subscribe_url: str | None  # None when it is not SNS's own ConfirmSubscription URL


@dataclass(frozen=True)
class Parsed:
    event: SesEvent | None  # None: a valid message that is not counted (`ignored` says what)
    ignored: str = ""
    confirmation: SnsConfirmation | None = None
    service: ServiceEvent | None = None  # a tenant's sending status or an advisor recommendation


# SNS's confirmation URL: https://sns.<region>.amazonaws.com[.cn]/?Action=ConfirmSubscription&...
_SNS_HOST: Final = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")


def sns_subscribe_url(value: Any) -> str | None:
    """`value` when it is SNS's ConfirmSubscription URL (https, an SNS host, that action), else None:
    anyone who may send to the queue could forge the message, and a log must not carry their link."""
    if not isinstance(value, str):
        return None
    url = urllib.parse.urlsplit(value)
    query = urllib.parse.parse_qs(url.query)
    if url.scheme != "https" or not _SNS_HOST.match(url.hostname or "") or url.username or url.port:
        return None
    return value if query.get("Action") == ["ConfirmSubscription"] else None


def _load(text: str, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, TypeError) as exc:
        raise MalformedMessage(f"{what} is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise MalformedMessage(f"{what} is not a JSON object")
    return doc


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise MalformedMessage(f"{what}: missing or not a string")
    return value


def _unwrap(doc: dict[str, Any]) -> dict[str, Any] | str | ServiceEvent:
    """The SES event inside the envelopes, the name of an SNS control message, or a service event."""
    if doc.get("Type") in _SNS_CONTROL_TYPES:
        return str(doc["Type"])
    if doc.get("Type") == "Notification" and "Message" in doc:
        return _unwrap(_load(doc["Message"], "SNS Message"))
    if doc.get("source") == "aws.ses" and "detail" in doc:
        try:
            service = parse_service_event(doc)
        except MalformedServiceEvent as exc:
            raise MalformedMessage(f"EventBridge {exc}", exc.kind) from exc
        if service is not None:
            return service
        detail = doc["detail"]
        if not isinstance(detail, dict):
            raise MalformedMessage("EventBridge detail is not an object")
        detail_type = doc.get("detail-type")
        if (
            isinstance(detail_type, str)
            and not detail_type.startswith(_EMAIL_DETAIL_TYPE_PREFIX)
            and "eventType" not in detail
            and "notificationType" not in detail
        ):
            return f"EventBridge {detail_type}"  # a service event (sending status, advisor, ...)
        return detail
    return doc


def _recipients(
    event: dict[str, Any], body: dict[str, Any], list_key: str | None, key: str | None
) -> tuple[str, ...]:
    if list_key is None:
        items = event["mail"].get("destination")
        list_key, key = "mail.destination", None
    else:
        items = body.get(list_key)
    if not isinstance(items, list) or not items:
        raise MalformedMessage(f"{list_key}: missing or empty")
    found = []
    for item in items:
        address = item.get(key) if key is not None and isinstance(item, dict) else item
        found.append(_str(address, f"{list_key}[].{key}" if key else list_key).strip().lower())
    return tuple(found)


def parse(body: str) -> Parsed:
    """The SES event in an SQS message body; raises MalformedMessage."""
    doc = _load(body, "body")
    if doc.get("Type") == "SubscriptionConfirmation":
        confirmation = SnsConfirmation(
            str(doc.get("TopicArn", "")),
            str(doc.get("MessageId", "")),
            sns_subscribe_url(doc.get("SubscribeURL")),
        )
        return Parsed(None, "SubscriptionConfirmation", confirmation)
    event = _unwrap(doc)
    if isinstance(event, str):
        return Parsed(None, event)
    if isinstance(event, ServiceEvent):
        return Parsed(None, f"EventBridge {event.detail_type}", service=event)
    name = event.get("eventType", event.get("notificationType"))
    if not isinstance(name, str):
        raise MalformedMessage("neither eventType nor notificationType")
    if name in IGNORED_TYPES:
        return Parsed(None, name)
    if name not in COUNTED_TYPES:
        raise MalformedMessage(f"unknown event type {name!r}")
    kind, object_key, list_key, key = COUNTED_TYPES[name]
    mail = event.get("mail")
    if not isinstance(mail, dict):
        raise MalformedMessage("mail: missing")
    own = event.get(object_key, {})
    if not isinstance(own, dict):
        raise MalformedMessage(f"{object_key}: not an object")
    tags = mail.get("tags") or {}
    sets = tags.get(CONFIGURATION_SET_TAG) if isinstance(tags, dict) else None
    configuration_set = sets[0] if isinstance(sets, list) and sets and isinstance(sets[0], str) else ""
    event_id = own.get("feedbackId") or own.get("timestamp") or mail.get("timestamp") or ""
    fields: dict[str, str] = {}
    if kind == "bounce":
        fields = {
            "bounce_type": _str(own.get("bounceType"), "bounce.bounceType"),
            "bounce_sub_type": _str(own.get("bounceSubType"), "bounce.bounceSubType"),
        }
    elif kind == "complaint":
        feedback = own.get("complaintFeedbackType")  # absent when the ISP's report had none
        fields = {"feedback_type": feedback if isinstance(feedback, str) else ""}
    elif kind == "delay":
        fields = {"delay_type": _str(own.get("delayType"), "deliveryDelay.delayType")}
    return Parsed(
        SesEvent(
            kind=kind,
            message_id=_str(mail.get("messageId"), "mail.messageId"),
            configuration_set=configuration_set,
            recipients=_recipients(event, own, list_key, key),
            event_id=str(event_id),
            **fields,
        )
    )


def recipient_domain(address: str) -> str:
    """`example.com` of `someone@Example.com`; "" when the address has no domain."""
    domain = address.rpartition("@")[2].strip().strip("<>").rstrip(".").lower()
    return domain if "@" in address and domain else ""
