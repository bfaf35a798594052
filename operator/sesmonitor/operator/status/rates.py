"""BounceRateHealthy and ComplaintRateHealthy: a rate compared with its thresholds as the alerts do."""

from __future__ import annotations

from typing import Final

from sesmonitor.api import format_percent, parse_percent
from sesmonitor.contract import RateStatus, empty_rate
from sesmonitor.metrics import NO_DATA_NO_EVENTS, NO_DATA_NO_SENDS
from sesmonitor.operator.shapes import NO_DATA, Condition

BELOW_THRESHOLD: Final = "BelowThreshold"
ABOVE_WARNING: Final = "AboveWarning"
ABOVE_CRITICAL: Final = "AboveCritical"
NO_MAIL_SENT: Final = "NoMailSent"
# NoBounces / NoComplaints: mail was sent, none bounced (complained), so AWS publishes no rate yet.
_EVENT_VERB: Final = {"bounce": "bounced", "complaint": "was marked as spam"}


def _rate_value(rate: RateStatus, window: str) -> tuple[float | None, str]:
    """The value judged and which one it is: the alerts average the exporter's series over the same
    window in Prometheus, both compare with >= (AWS acts when a rate reaches a level)."""
    if rate.get("window_average") is not None:
        return rate["window_average"], f"mean of CloudWatch's datapoints over the last {window}"
    if rate.get("current") is not None:
        return rate["current"], "newest CloudWatch datapoint"
    return None, ""


def rate_condition(
    *,
    kind: str,
    label: str,
    rate: RateStatus | None,
    warning: str,
    critical: str,
    window: str,
    unavailable: Condition | None,
) -> Condition:
    """BounceRateHealthy / ComplaintRateHealthy from one rate, compared as the alerts do (window average)."""
    if unavailable is not None:
        return Condition(kind, "Unknown", unavailable.reason, f"{label} rate unknown: {unavailable.message}")
    value, basis = _rate_value(rate or empty_rate(), window)
    if value is None:
        no_data_reason = rate.get("no_data_reason") if rate is not None else None
        if no_data_reason == NO_DATA_NO_EVENTS:
            # A clean account: AWS publishes the rate only once there were bounces (complaints).
            return Condition(
                kind, "True", f"No{label.capitalize()}s",
                f"mail was sent within the lookback and none of it {_EVENT_VERB[label]}: AWS publishes"
                f" no {label} rate until an account has had {label}s",
            )  # fmt: skip
        if no_data_reason == NO_DATA_NO_SENDS:
            return Condition(
                kind, "Unknown", NO_MAIL_SENT,
                "no mail sent within the lookback: SES publishes reputation metrics only while mail is sent",
            )  # fmt: skip
        return Condition(
            kind,
            "Unknown",
            NO_DATA,
            f"no {label} rate datapoint within the lookback (SES publishes reputation metrics only while"
            " mail is sent)",
        )
    shown = format_percent(value)
    percent = value * 100
    if percent >= parse_percent(critical):
        return Condition(
            kind, "False", ABOVE_CRITICAL,
            f"{label} rate {shown} ({basis}) is at or above the critical threshold {critical}",
        )  # fmt: skip
    if percent >= parse_percent(warning):
        return Condition(
            kind, "False", ABOVE_WARNING,
            f"{label} rate {shown} ({basis}) is at or above the warning threshold {warning}"
            f" (critical {critical})",
        )  # fmt: skip
    return Condition(
        kind,
        "True",
        BELOW_THRESHOLD,
        f"{label} rate {shown} ({basis}) is below the warning threshold {warning}",
    )
