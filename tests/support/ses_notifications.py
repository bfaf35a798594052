"""SES event notifications in the shapes AWS documents, for the tests and the demo (our own fixtures).

Event publishing (a configuration set's event destination): "Examples of event data that Amazon SES
publishes to Amazon SNS" in the SES developer guide: `eventType`, `mail` (with `tags`, among them
`ses:configuration-set`), and the event's own object (`bounce`, `complaint`, `delivery`, `send`, `reject`,
`deliveryDelay`). Identity feedback notifications: "Amazon SNS notification examples for Amazon SES":
`notificationType` and no configuration set. Envelopes: SNS's Notification JSON (unless raw message
delivery) and EventBridge's event (`detail-type` "Email Bounced", ..., `detail` the event).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

ACCOUNT = "123456789012"
SENDER = "sender@example.com"
STAMP = "2026-12-01T12:00:00.000Z"
DETAIL_TYPES = {
    "Send": "Email Sent",
    "Delivery": "Email Delivered",
    "Bounce": "Email Bounced",
    "Complaint": "Email Complaint Received",
    "Reject": "Email Rejected",
    "DeliveryDelay": "Email Delivery Delayed",
    "Open": "Email Opened",
}


def mail(
    message_id: str, recipients: list[str], configuration_set: str | None = "marketing"
) -> dict[str, Any]:
    tags: dict[str, list[str]] = {"ses:operation": ["SendEmail"], "ses:source-ip": ["192.0.2.0"]}
    if configuration_set is not None:
        tags["ses:configuration-set"] = [configuration_set]
    return {
        "timestamp": STAMP,
        "source": f"Sender Name <{SENDER}>",
        "sourceArn": f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/{SENDER}",
        "sendingAccountId": ACCOUNT,
        "messageId": message_id,
        "destination": recipients,
        "headersTruncated": False,
        "headers": [{"name": "From", "value": SENDER}, {"name": "To", "value": ", ".join(recipients)}],
        "commonHeaders": {"from": [SENDER], "to": recipients, "messageId": message_id, "subject": "Hello"},
        "tags": tags,
    }


def message_id() -> str:
    return f"0100018c{uuid.uuid4().hex}-000000"


def event(
    kind: str,
    recipients: list[str],
    *,
    mid: str | None = None,
    configuration_set: str | None = "marketing",
    **fields: Any,
) -> dict[str, Any]:
    """One event-publishing record: `kind` is the eventType (Bounce, Complaint, Delivery, ...)."""
    mid = mid or message_id()
    doc: dict[str, Any] = {"eventType": kind, "mail": mail(mid, recipients, configuration_set)}
    feedback = f"{mid[:-7]}-feedback-{uuid.uuid4().hex[:8]}"
    if kind == "Bounce":
        doc["bounce"] = {
            "bounceType": fields.get("bounce_type", "Permanent"),
            "bounceSubType": fields.get("bounce_sub_type", "General"),
            "bouncedRecipients": [
                {"emailAddress": r, "action": "failed", "status": "5.1.1",
                 "diagnosticCode": "smtp; 550 5.1.1 user unknown"} for r in recipients
            ],
            "timestamp": STAMP,
            "feedbackId": feedback,
            "reportingMTA": "dsn; mta.example.com",
        }  # fmt: skip
    elif kind == "Complaint":
        doc["complaint"] = {
            "complainedRecipients": [{"emailAddress": r} for r in recipients],
            "timestamp": STAMP,
            "feedbackId": feedback,
            "userAgent": "Mozilla/5.0",
            "arrivalDate": STAMP,
            "complaintSubType": None,
        }
        if fields.get("feedback_type"):
            doc["complaint"]["complaintFeedbackType"] = fields["feedback_type"]
    elif kind == "Delivery":
        doc["delivery"] = {
            "timestamp": STAMP,
            "processingTimeMillis": 546,
            "recipients": recipients,
            "smtpResponse": "250 ok:  Message 64111812 accepted",
            "reportingMTA": "a8-70.smtp-out.amazonses.com",
        }
    elif kind == "Send":
        doc["send"] = {}
    elif kind == "Reject":
        doc["reject"] = {"reason": "Bad content"}
    elif kind == "DeliveryDelay":
        doc["deliveryDelay"] = {
            "timestamp": fields.get("timestamp", STAMP),
            "delayType": fields.get("delay_type", "TransientCommunicationFailure"),
            "expirationTime": "2026-12-02T12:00:00.000Z",
            "delayedRecipients": [
                {"emailAddress": r, "status": "4.4.1", "diagnosticCode": "smtp; 421 4.4.1 Unable to connect"}
                for r in recipients
            ],
        }
    elif kind == "Open":
        doc["open"] = {"ipAddress": "192.0.2.1", "timestamp": STAMP, "userAgent": "Mozilla/5.0"}
    return doc


def identity_notification(kind: str, recipients: list[str], **fields: Any) -> dict[str, Any]:
    """An identity's feedback notification: `notificationType`, no eventType, no configuration set."""
    doc = event(kind, recipients, configuration_set=None, **fields)
    doc["notificationType"] = doc.pop("eventType")
    doc["mail"].pop("tags")
    return doc


def sns_envelope(
    inner: dict[str, Any], topic_arn: str = f"arn:aws:sns:us-east-1:{ACCOUNT}:ses-events"
) -> str:
    """What SQS holds for an SNS subscription without raw message delivery."""
    return json.dumps({
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": topic_arn,
        "Message": json.dumps(inner),
        "Timestamp": STAMP,
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-EXAMPLE.pem",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=EXAMPLE",
    })  # fmt: skip


def eventbridge_envelope(inner: dict[str, Any]) -> str:
    return json.dumps({
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPES[inner["eventType"]],
        "source": "aws.ses",
        "account": ACCOUNT,
        "time": STAMP,
        "region": "us-east-1",
        "resources": [f"arn:aws:ses:us-east-1:{ACCOUNT}:configuration-set/marketing"],
        "detail": inner,
    })  # fmt: skip


def ses_service_event(
    detail_type: str, detail: dict[str, Any], resources: list[str] | None = None, time: str = STAMP
) -> str:
    """An EventBridge event SES sends about the account or a tenant, not an email (no eventType)."""
    return json.dumps({
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.ses",
        "account": ACCOUNT,
        "time": time,
        "region": "us-east-1",
        "resources": resources or [],
        "detail": detail,
    })  # fmt: skip


TENANT_ARN = f"arn:aws:ses:us-east-1:{ACCOUNT}:tenant/acme/tn-0000abcd"


def tenant_sending_status(
    arn: str = TENANT_ARN,
    status: str = "DISABLED",
    origin: str = "AWS_MANAGED",
    cause: str | None = "Bounce rate above the standard policy",
) -> str:
    """A tenant's "Sending Status Enabled/Disabled" as the SES Developer Guide's "Tenants" page shows it
    ("Setting up EventBridge notifications"): the tenant's ARN in resources, detail.data.origin and
    detail.data.record (status, cause, lastUpdatedTimestamp as the array of numbers the example has)."""
    record: dict[str, Any] = {"status": status, "lastUpdatedTimestamp": [2026, 12, 1, 12, 0, 0, 0]}
    if cause is not None:
        record["cause"] = cause
    detail_type = "Sending Status Disabled" if status == "DISABLED" else "Sending Status Enabled"
    return ses_service_event(
        detail_type, {"version": "1.0.0", "data": {"origin": origin, "record": record}}, [arn]
    )


def advisor_recommendation(
    arn: str = TENANT_ARN,
    status: str = "Open",
    finding_type: str = "BOUNCE",
    impact: str = "HIGH",
    description: str = "The bounce rate exceeded 15.0% based on a representative volume of 197 emails.",
) -> str:
    """ "Advisor Recommendation Status Open/Resolved/Closed" as the same page shows it: the resource's ARN
    in resources, the description in detail.data, detail.metadata's impact and type."""
    return ses_service_event(
        f"Advisor Recommendation Status {status}",
        {"version": "1.0.0", "data": description, "metadata": {"impact": impact, "type": finding_type}},
        [arn],
    )


SENDING_STATUS_DISABLED = tenant_sending_status()
ADVISOR_RECOMMENDATION_OPEN = advisor_recommendation(
    f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/example.com", finding_type="DMARC"
)


def subscription_confirmation(
    topic_arn: str = "arn:aws:sns:us-west-2:123456789012:MyTopic", url: str | None = None
) -> str:
    """An SNS SubscriptionConfirmation as SNS delivers it to an HTTP/SQS endpoint (the example in AWS's
    SNS developer guide, "Parsing message formats"; token and signature shortened)."""
    region = topic_arn.split(":")[3]
    token = "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3"
    return json.dumps(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
            "Token": token,
            "TopicArn": topic_arn,
            "Message": f"You have chosen to subscribe to the topic {topic_arn}.\nTo confirm the subscription,"
            " visit the SubscribeURL included in this message.",
            "SubscribeURL": url
            or f"https://sns.{region}.amazonaws.com/?Action=ConfirmSubscription&TopicArn={topic_arn}&Token={token}",
            "Timestamp": "2012-04-26T20:45:04.751Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQ",
            "SigningCertURL": f"https://sns.{region}.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
        }
    )
