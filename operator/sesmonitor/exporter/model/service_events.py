"""SES's EventBridge service events about tenants and the VDM advisor, as a small typed value. Pure.

What AWS documents (quoted; no other shape could be found):

- "Amazon Simple Email Service events" (Amazon EventBridge Events Reference, events-ref-ses): "Amazon SES
  sends the following events directly to EventBridge: Advisor Recommendation Status Open, Advisor
  Recommendation Status Resolved, Sending Status Enabled, Sending Status Disabled, Email Delivered, ...
  Delivery type: Best effort".
- "Tenants" (Amazon SES Developer Guide, "Setting up EventBridge notifications"): "For tenant sending
  status changes: `Sending Status Enabled` - The tenant is enabled and can send email. `Sending Status
  Disabled` - The tenant has been paused and cannot send email. For reputation findings: `Advisor
  Recommendation Status Open`, `Advisor Recommendation Status Closed`" (Closed there, Resolved in the
  reference: both are read), with these examples (the partition, `aws` there, written <partition>):

      {"detail-type": "Sending Status Disabled", "source": "aws.ses", "time": "2025-07-24T12:44:28Z",
       "resources": ["arn:<partition>:ses:us-east-1:012345678901:tenant/{tenant-name}/{tenant-id}"],
       "detail": {"version": "1.0.0", "data": {"origin": "CUSTOMER_MANAGED", "record": {
           "status": "DISABLED", "cause": "Status manually updated.",
           "lastUpdatedTimestamp": [2025, 7, 24, 12, 44, 28, 995000000]}}}}

      {"detail-type": "Advisor Recommendation Status Open", "source": "aws.ses", ...,
       "resources": ["arn:<partition>:ses:us-east-1:012345678901:tenant/{tenant-name}/{tenant-id}"],
       "detail": {"version": "1.0.0", "data": "The bounce rate exceeded 15.0% based on ...",
                  "metadata": {"impact": "HIGH", "type": "BOUNCE"}}}

  "resources - Array containing the ARN of the affected tenant. detail.data.origin - Source of the
  status change (e.g., "CUSTOMER_MANAGED" or "AWS_MANAGED"). detail.data.record.status - The new status
  of the tenant (ENABLED, DISABLED, or REINSTATED)."

The reference gives no schema for the advisor events of an identity or configuration set (VDM without
tenants): `resources[0]` is read as the resource whatever it is, and everything in `detail` is optional
and read tolerantly (unknown fields ignored; the new status falls back to what the detail-type says), since
all an event does here is make a read come sooner; the read, not the event, says what is true. What is
required: a sending-status event must name its resource (`resources[0]`), else there is nothing to read
early (`MalformedServiceEvent`, naming the field). Another aws.ses detail-type is not a service event of
ours (`parse_service_event` returns None): the consumer ignores it as before.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sesmonitor import metrics

TENANT_SENDING_STATUS: Final = metrics.SERVICE_EVENT_TENANT_SENDING_STATUS
RECOMMENDATION: Final = metrics.SERVICE_EVENT_RECOMMENDATION
ACTED, RATE_LIMITED, NOT_WATCHED, MALFORMED = metrics.SERVICE_EVENT_OUTCOMES
# detail-type -> (kind, the new status when the detail does not say)
DETAIL_TYPES: Final[dict[str, tuple[str, str]]] = {
    "Sending Status Enabled": (TENANT_SENDING_STATUS, "ENABLED"),
    "Sending Status Disabled": (TENANT_SENDING_STATUS, "DISABLED"),
    "Advisor Recommendation Status Open": (RECOMMENDATION, "OPEN"),
    "Advisor Recommendation Status Resolved": (RECOMMENDATION, "RESOLVED"),
    "Advisor Recommendation Status Closed": (RECOMMENDATION, "RESOLVED"),  # the Developer Guide's name
}
TEXT_MAX: Final = 512  # StatusRecord.Cause's maximum length in the SESv2 model: a description, no more


class MalformedServiceEvent(ValueError):
    """A service event's detail-type with a body we cannot act on; the message names the field."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class ServiceEvent:
    kind: str  # TENANT_SENDING_STATUS | RECOMMENDATION
    detail_type: str
    resource_arn: str | None  # resources[0]: the tenant's ARN (the resource's, for other findings)
    status: str  # ENABLED | DISABLED | REINSTATED; OPEN | RESOLVED
    origin: str | None = None  # AWS_MANAGED | CUSTOMER_MANAGED (sending status)
    cause: str | None = None  # the record's cause, or the finding's description
    finding_type: str | None = None  # BOUNCE, COMPLAINT, ... (recommendation)
    impact: str | None = None  # LOW | HIGH (recommendation)
    time: float | None = None  # the envelope's `time`
    event_id: str = ""  # the envelope's `id`

    @property
    def tenant_name(self) -> str | None:
        """`acme` of ...:tenant/acme/tn-123; None for another resource or the ARN form without a name."""
        parts = tenant_path(self.resource_arn)
        return parts[0] if parts is not None and len(parts) == 2 else None


def tenant_path(arn: str | None) -> list[str] | None:
    """The parts after `:tenant/` of a tenant's ARN (name and id, or the id alone); None otherwise."""
    if not arn or ":tenant/" not in arn:
        return None
    parts = arn.split(":tenant/", 1)[1].split("/")
    return parts if all(parts) and len(parts) <= 2 else None


def _text(value: Any) -> str | None:
    return value[:TEXT_MAX] if isinstance(value, str) and value else None


def _epoch(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp.timestamp() if stamp.tzinfo is not None else None


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def parse_service_event(envelope: Mapping[str, Any]) -> ServiceEvent | None:
    """The service event in an aws.ses EventBridge envelope; None for a detail-type that is not one of
    DETAIL_TYPES; raises MalformedServiceEvent when it is one but cannot be acted on."""
    detail_type = envelope.get("detail-type")
    if not isinstance(detail_type, str) or detail_type not in DETAIL_TYPES:
        return None
    kind, implied = DETAIL_TYPES[detail_type]
    detail = envelope.get("detail")
    if not isinstance(detail, Mapping):
        raise MalformedServiceEvent(kind, f"{detail_type}: detail is not an object")
    resources = envelope.get("resources")
    if resources is not None and not isinstance(resources, list):
        raise MalformedServiceEvent(kind, f"{detail_type}: resources is not a list")
    resource = _text(resources[0]) if resources else None
    if kind == TENANT_SENDING_STATUS and resource is None:
        raise MalformedServiceEvent(kind, f"{detail_type}: resources[0] (the tenant's ARN) is missing")
    at, event_id = _epoch(envelope.get("time")), str(envelope.get("id") or "")
    data = detail.get("data")
    if kind == TENANT_SENDING_STATUS:
        data = _object(data)
        record = _object(data.get("record"))
        return ServiceEvent(
            kind,
            detail_type,
            resource,
            _text(record.get("status")) or implied,
            origin=_text(data.get("origin")),
            cause=_text(record.get("cause")),
            time=at,
            event_id=event_id,
        )
    metadata = _object(detail.get("metadata"))
    return ServiceEvent(
        kind,
        detail_type,
        resource,
        implied,
        cause=_text(data),
        finding_type=_text(metadata.get("type")),
        impact=_text(metadata.get("impact")),
        time=at,
        event_id=event_id,
    )


def best_outcome(outcomes: Iterable[str]) -> str:
    """One event may ask two loops for a read (a tenant's finding: the findings and the tenant): the
    outcome that did the most, ACTED before RATE_LIMITED before NOT_WATCHED."""
    found = set(outcomes)
    for outcome in (ACTED, RATE_LIMITED):
        if outcome in found:
            return outcome
    return NOT_WATCHED
