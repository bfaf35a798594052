"""The SES event alerts (only with spec.events): why mail bounces, seen minutes after it happens.

CloudWatch's Reputation.BounceRate is AWS's long-running figure: a bad list moves it slowly. The events
say at once, per send, how many recipients bounced permanently, so these alerts judge a short window
(EVENTS_WINDOW, or spec.window when shorter) of the event counters:

- permanent bounces per send at or above the bounce warning threshold: the early warning;
- transient bounces per send at or above TRANSIENT_SURGE (an ISP throttling or a mailbox provider
  deferring; no reputation effect, but mail is not arriving);
- abuse complaints per send at or above the complaint warning threshold;
- the consumer stalled (a backlog, nothing received for STALL_WINDOW) or the queue backing up (the oldest
  message received is older than BACKLOG_AGE). A failing ReceiveMessage is SESMonitorAWSReadErrors'.

Counters are summed (`sum by`), not maxed: during a rollout two exporter pods share the queue and each
counts what it received. Ratios need MIN_SENDS sends in the window, so one bounce of one send is no alert.
Every ratio's denominator is the Send event: the event destination must publish Send events
(deploy/aws/ses-events.yaml does).
"""

from __future__ import annotations

from typing import Any, Final

from sesmonitor import metrics
from sesmonitor.api import parse_duration
from sesmonitor.api.alerts import (
    ABUSE_COMPLAINTS,
    EVENT_CONSUMER_STALLED,
    EVENT_QUEUE_BACKING_UP,
    PERMANENT_BOUNCES_RISING,
    TRANSIENT_BOUNCE_SURGE,
)
from sesmonitor.render.alerting import AlertBuilder
from sesmonitor.render.promql import duration, eq, fraction, selector

EVENT_ALERTS: Final = (
    PERMANENT_BOUNCES_RISING,
    TRANSIENT_BOUNCE_SURGE,
    ABUSE_COMPLAINTS,
    EVENT_CONSUMER_STALLED,
    EVENT_QUEUE_BACKING_UP,
)
EVENTS_WINDOW: Final = "15m"
TRANSIENT_SURGE: Final = "10%"
MIN_SENDS: Final = 20
STALL_WINDOW: Final = "10m"
BACKLOG_AGE_SECONDS: Final = 900
LABELS: Final = (metrics.LABEL_MONITOR, metrics.LABEL_REGION)
VALUE: Final = "{{ $value | humanizePercentage }}"


def event_rules(b: AlertBuilder) -> list[dict[str, Any]]:
    if b.spec.events is None:
        return []
    by = ", ".join(LABELS)
    window = duration(f"{min(parse_duration(b.spec.window), parse_duration(EVENTS_WINDOW))}s")
    mine = eq(metrics.LABEL_MONITOR, b.key)

    def increase(metric: str, *matchers: Any, over: str = window) -> str:
        return f"sum by ({by}) (increase({selector(metric, mine, *matchers)}[{over}]))"

    sends = increase(metrics.EVENTS_SENDS_TOTAL)

    def per_send(numerator: str) -> str:
        return f"({numerator} / ({sends} >= {MIN_SENDS}))"

    permanent = per_send(increase(metrics.EVENTS_BOUNCES_TOTAL, eq(metrics.LABEL_BOUNCE_TYPE, "Permanent")))
    transient = per_send(increase(metrics.EVENTS_BOUNCES_TOTAL, eq(metrics.LABEL_BOUNCE_TYPE, "Transient")))
    abuse = per_send(increase(metrics.EVENTS_COMPLAINTS_TOTAL, eq(metrics.LABEL_FEEDBACK_TYPE, "abuse")))
    warning = b.severities()["warning"]
    bounce_warning = b.spec.thresholds.bounce_rate.warning
    complaint_warning = b.spec.thresholds.complaint_rate.warning
    where = f"{b.key} in {b.spec.region}"
    visible = eq(metrics.LABEL_QUEUE_STATE, "visible")
    backlog = f"max by ({by}) ({selector(metrics.EVENTS_QUEUE_MESSAGES, mine, visible)})"
    received = increase(metrics.EVENTS_MESSAGES_TOTAL, over=duration(STALL_WINDOW))
    age = f"max by ({by}) ({selector(metrics.EVENTS_OLDEST_RECEIVED_AGE_SECONDS, mine)})"
    return [
        b.alert(
            PERMANENT_BOUNCES_RISING,
            f"{permanent} >= {fraction(bounce_warning)}",
            severity=warning,
            summary=f"SES permanent bounces reach {bounce_warning} of sends: the bounce rate follows",
            description=(
                f"In the last {window}, {VALUE} of the recipients SES sent to for {where} bounced permanently"
                f" (SES events), at or above the bounce warning threshold of {bounce_warning}. CloudWatch's"
                " reputation bounce rate moves later and slower; the monitor's status (bounceBreakdown) and"
                f" {metrics.EVENTS_BOUNCES_TOTAL} / {metrics.EVENTS_BOUNCES_BY_DOMAIN_TOTAL} say which"
                " sub-type (NoEmail: a bad list) and recipient domain. Stop the campaign or clean the list."
            ),
        ),
        b.alert(
            TRANSIENT_BOUNCE_SURGE,
            f"{transient} >= {fraction(TRANSIENT_SURGE)}",
            severity=warning,
            summary=f"SES transient bounces surge to {TRANSIENT_SURGE} of sends or more",
            description=(
                f"In the last {window}, {VALUE} of the recipients SES sent to for {where} bounced"
                f" transiently (at or above {TRANSIENT_SURGE}): a mailbox provider throttles or defers"
                f" the mail (MailboxFull, General, ...: the bounce_sub_type label of"
                f" {metrics.EVENTS_BOUNCES_TOTAL}). It does not count against the reputation, but the"
                " mail is not arriving."
            ),
        ),
        b.alert(
            ABUSE_COMPLAINTS,
            f"{abuse} >= {fraction(complaint_warning)}",
            severity=warning,
            summary=f"SES abuse complaints reach {complaint_warning} of sends",
            description=(
                f"In the last {window}, recipients of {where} marked {VALUE} of the mail as abuse"
                f" (complaintFeedbackType abuse), at or above the complaint warning threshold of"
                f" {complaint_warning}. The complaint rate AWS judges will follow."
            ),
        ),
        b.alert(
            EVENT_CONSUMER_STALLED,
            f"({backlog} > 0) and ({received} == 0)",
            severity=warning,
            summary="sesmonitor receives no SES events although the queue holds some",
            description=(
                f"The SES event queue of {b.key} holds {{{{ $value }}}} messages and its exporter has"
                f" received none in {STALL_WINDOW}: the event alerts judge nothing. Check the"
                " exporter's logs and its ReceiveMessage health (SESMonitorAWSReadErrors)."
            ),
        ),
        b.alert(
            EVENT_QUEUE_BACKING_UP,
            f"{age} > {BACKLOG_AGE_SECONDS}",
            severity=warning,
            summary="SES events wait more than 15 minutes in the queue",
            description=(
                f"The oldest SES event the exporter of {b.key} last received had waited"
                " {{ $value | humanizeDuration }} in the queue (malformed messages left out): the"
                " exporter falls behind, so the event alerts judge old news."
            ),
        ),
    ]
