"""The EventsReceived condition and the `bounceBreakdown` status text, from the exporter's /status. Pure.

Percentages are whole numbers (under 1% shows as "<1%"): the status is written only when what a
reader sees changes, and a tenth of a percent more bounces is not news.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final, Literal

from sesmonitor.api import SesMonitorSpec
from sesmonitor.contract import EventsBreakdown, EventsStatus, ExporterStatus
from sesmonitor.metrics import API_RECEIVE_MESSAGE, EVENTS_APIS
from sesmonitor.operator.status.aws_errors import aws_failure

RECEIVING: Final = "Receiving"
NOT_RECEIVED_YET: Final = "NotReceivedYet"
NOT_REPORTED: Final = "NotReported"


def share(part: int, whole: int) -> str:
    if whole <= 0:
        return "0%"
    percent = 100 * part / whole
    return "<1%" if 0 < percent < 1 else f"{round(percent)}%"


def breakdown_text(hour: EventsBreakdown) -> str:
    """ "permanent 92% (NoEmail 80%), transient 8%; top domain example.com 41%"; complaints after."""
    total = hour["bounces"]
    if total <= 0:
        text = "no bounces in the last hour"
    else:
        parts = []
        for kind, count in sorted(hour["bounce_types"].items(), key=lambda kv: (-kv[1], kv[0])):
            subs = hour["bounce_sub_types"].get(kind, {})
            top_sub = max(subs.items(), key=lambda kv: (kv[1], kv[0]), default=None)
            detail = f" ({top_sub[0]} {share(top_sub[1], total)})" if top_sub else ""
            parts.append(f"{kind.lower()} {share(count, total)}{detail}")
        text = ", ".join(parts)
        if hour["top_domains"]:
            top = hour["top_domains"][0]
            text += f"; top domain {top['domain']} {share(top['count'], total)}"
    complaints = hour["complaints"]
    if complaints:
        listed = ", ".join(
            f"{kind or 'unspecified'} {count}"
            for kind, count in sorted(complaints.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        text += f"; complaints: {listed}"
    return text


def events_condition(
    spec: SesMonitorSpec, doc: ExporterStatus | None
) -> tuple[Literal["True", "False", "Unknown"], str, str] | None:
    """(status, reason, message) of EventsReceived, only with spec.events; `doc` None: unreadable."""
    if spec.events is None:
        return None
    queue = spec.events.queue_url
    if doc is None:
        return "Unknown", NOT_REPORTED, "the exporter's /status cannot be read"
    if doc.events is None:
        return "Unknown", NOT_REPORTED, f"the exporter does not report SES events from {queue}"
    failure = aws_failure(
        replace(doc, apis={k: v for k, v in doc.apis.items() if k in EVENTS_APIS}, last_error=None)
    )
    if failure is not None:
        return "False", failure.reason, f"cannot read SES events from {queue}: {failure.message}"
    health = doc.apis.get(API_RECEIVE_MESSAGE)
    if not health or not health.get("last_success_time"):
        return "Unknown", NOT_RECEIVED_YET, f"waiting for the first receive from {queue}"
    # No backlog or message counts here: they change every minute, and the status is written only when
    # what a reader sees changes (they are in the exporter's metrics).
    return (
        "True",
        RECEIVING,
        f"receiving SES events from {queue}; last hour: {breakdown_text(doc.events['last_hour'])}"
        + redrive_text(doc.events),
    )


def redrive_text(events: EventsStatus) -> str:
    """What happens to a malformed message, from the queue's RedrivePolicy ("" until it was read)."""
    if not events.get("redrive_policy_read"):
        return ""
    target = events.get("dead_letter_queue")
    if target:
        after = events.get("max_receive_count")
        receives = f" after {after} receives" if after else ""
        return f"; malformed messages go to the dead-letter queue {target.rsplit(':', 1)[-1]}{receives}"
    return (
        "; the queue has no dead-letter queue (RedrivePolicy): a malformed message is counted once and"
        " deleted (its id is in the exporter's log); add one to keep such messages"
    )
