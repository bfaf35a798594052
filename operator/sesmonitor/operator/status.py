"""The SesMonitor status, computed purely from what a reconcile pass saw.

No I/O and no clock: the caller passes the reconcile outcome, the exporter's ``/status`` document (or
why it could not be read), the previous status and ``now``. The result is the complete new status; the
caller writes it only when it differs from the previous one (`status_patch` returns None then), so a
pass that changes nothing writes nothing.

Conditions follow metav1.Condition: ``lastTransitionTime`` moves only when ``status`` changes, not
when the reason or message does. ``status.observedGeneration`` advances for every generation acted
on; a failed pass says ``Reconciling=True`` when it will retry and fix itself (409, 429, 5xx, no
answer) and ``Stalled=True`` only when it will not (an invalid spec, a request forbidden by RBAC or
policy, a missing CRD): kstatus (Flux, Argo CD) reads Stalled as failed, Reconciling as in progress.

``Ready`` means the monitor works: its children are applied and its exporter serves fresh data from
AWS. It does not mean the account is healthy, or ``kubectl wait --for=condition=Ready`` and GitOps
health checks would hang on a bad bounce rate; BounceRateHealthy, ComplaintRateHealthy and
AccountHealthy (and the printer columns and alerts) say that.

Only what a reader sees is written: rates at their shown precision, conditions, the enforcement
status. Not the exporter's refresh time, which changes every minute (it is in the exporter's own
``sesmonitor_last_successful_refresh_timestamp_seconds``), so a steady monitor writes nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from sesmonitor.api import SesMonitorSpec, format_percent, parse_percent
from sesmonitor.api.status import (
    ACCOUNT_HEALTHY,
    BOUNCE_RATE_HEALTHY,
    COMPLAINT_RATE_HEALTHY,
    CONFIGURATION_SET_COUNTS,
    EVENTS_RECEIVED,
    EXPORTER_READY,
    READY,
    RECONCILED,
    RECONCILING,
    STALLED,
)
from sesmonitor.contract import ExporterStatus, RateStatus, empty_rate
from sesmonitor.metrics import APIS, NO_DATA_NO_EVENTS, NO_DATA_NO_SENDS
from sesmonitor.operator.aws_errors import aws_failure
from sesmonitor.operator.events_status import breakdown_text, events_condition
from sesmonitor.operator.pods import PodProblem

ConditionStatus = Literal["True", "False", "Unknown"]

# Reasons (one CamelCase word each).
APPLIED: Final = "Applied"
SERVING: Final = "Serving"
NOT_READY: Final = "NotReady"
STALE: Final = "Stale"
EXPORTER_UNREACHABLE: Final = "ExporterUnreachable"
MONITOR_MISMATCH: Final = "MonitorMismatch"
BELOW_THRESHOLD: Final = "BelowThreshold"
ABOVE_WARNING: Final = "AboveWarning"
ABOVE_CRITICAL: Final = "AboveCritical"
NO_DATA: Final = "NoData"
NO_MAIL_SENT: Final = "NoMailSent"
# NoBounces / NoComplaints: mail was sent, none bounced (complained), so AWS publishes no rate yet.
_EVENT_VERB: Final = {"bounce": "bounced", "complaint": "was marked as spam"}
HEALTHY: Final = "Healthy"
MONITORING: Final = "Monitoring"
UNDER_REVIEW: Final = "UnderReview"
SENDING_PAUSED: Final = "SendingPaused"
UNKNOWN_ENFORCEMENT: Final = "UnknownEnforcementStatus"
COUNTS_PUBLISHED: Final = "CountsPublished"
NO_COUNT_DATA: Final = "NoCountData"
# The counts every sent email produces, given an event destination with those event types; a set
# without Bounce, Complaint or Reject datapoints may simply have had none (SES publishes no zeros).
_JUDGED_COUNTS: Final = ("Send", "Delivery")

# The status keys this module owns (everything the CRD's status schema has).
STATUS_KEYS: Final = (
    "observedGeneration",
    "conditions",
    "bounceRate",
    "bounceRateWindowAverage",
    "complaintRate",
    "complaintRateWindowAverage",
    "enforcementStatus",
    "sendingEnabled",
    "bounceBreakdown",
    "protection",  # spec.protection's sets (sesmonitor.operator.protection)
)
_MIRRORED_KEYS: Final = STATUS_KEYS[2:-1]
# Keys older versions wrote and this one removes (set to null once, when found).
RETIRED_KEYS: Final = ("lastRefreshTime",)
# Ready summarises whether the monitor works; the first of these not True gives its reason. The
# account's health is not among them (see the module docstring).
_SUMMARY_ORDER: Final = (RECONCILED, EXPORTER_READY)
# Conditions whose changes are announced with a Kubernetes Event.
RATE_CONDITIONS: Final = (BOUNCE_RATE_HEALTHY, COMPLAINT_RATE_HEALTHY, ACCOUNT_HEALTHY)


@dataclass(frozen=True)
class ReconcileOutcome:
    """What applying the children came to: ``ok`` with reason Applied, or a failure reason and message;
    ``transient`` when retrying will fix it without anyone's help (Reconciling, not Stalled)."""

    ok: bool
    reason: str = APPLIED
    message: str = ""
    transient: bool = False


@dataclass(frozen=True)
class ExporterReading:
    """The exporter's /status document, or why there is none (``error``, and what the exporter's pods
    say about it in ``workload``)."""

    status: ExporterStatus | None = None
    error: str | None = None
    url: str | None = None
    workload: PodProblem | None = None


@dataclass(frozen=True)
class Condition:
    type: str
    status: ConditionStatus
    reason: str
    message: str


@dataclass(frozen=True)
class ConditionChange:
    """A condition whose status or reason changed: the material of a Kubernetes Event."""

    type: str
    previous: Mapping[str, Any] | None
    current: Condition

    @property
    def warning(self) -> bool:
        return self.current.status == "False"


def rfc3339(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --------------------------------------------------------------------------------------------------
# One condition each
# --------------------------------------------------------------------------------------------------


def reconciled_condition(outcome: ReconcileOutcome) -> Condition:
    if outcome.ok:
        message = outcome.message or "all children are applied as rendered"
        return Condition(RECONCILED, "True", APPLIED, message)
    return Condition(RECONCILED, "False", outcome.reason, outcome.message)


def _exporter_problem(monitor_key: str, reading: ExporterReading) -> Condition | None:
    """ExporterReady=False when the document is missing or belongs to another monitor, else None."""
    where = f" at {reading.url}" if reading.url else ""
    if reading.status is None:
        error = reading.error or "no status document"
        if reading.workload is not None:
            return Condition(
                EXPORTER_READY,
                "False",
                reading.workload.reason,
                f"{reading.workload.message} (its /status{where}: {error})",
            )
        return Condition(
            EXPORTER_READY,
            "False",
            EXPORTER_UNREACHABLE,
            f"cannot read the exporter's /status{where}: {error}",
        )
    if reading.status.monitor != monitor_key:
        return Condition(
            EXPORTER_READY,
            "False",
            MONITOR_MISMATCH,
            f"the exporter{where} serves monitor {reading.status.monitor!r}, not {monitor_key!r}",
        )
    return None


def exporter_condition(monitor_key: str, reading: ExporterReading) -> Condition:
    problem = _exporter_problem(monitor_key, reading)
    if problem is not None:
        return problem
    doc = reading.status
    assert doc is not None
    failure = aws_failure(doc)
    if not doc.ready or doc.stale:
        if doc.last_refresh_time is None:
            situation = "the exporter has no complete read of AWS yet"
        else:
            situation = f"the exporter serves data last read from AWS at {doc.last_refresh_time}"
        if failure is not None:
            return Condition(EXPORTER_READY, "False", failure.reason, f"{situation}: {failure.message}")
        if not doc.ready:
            return Condition(EXPORTER_READY, "False", NOT_READY, f"{situation}; waiting for its reads")
        return Condition(EXPORTER_READY, "False", STALE, situation)
    return Condition(EXPORTER_READY, "True", SERVING, "the exporter serves fresh data from AWS")


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


def account_condition(reading: ExporterReading, unavailable: Condition | None) -> Condition:
    if unavailable is not None:
        return Condition(
            ACCOUNT_HEALTHY, "Unknown", unavailable.reason, f"account status unknown: {unavailable.message}"
        )
    assert reading.status is not None
    account = reading.status.account
    enforcement = account.get("enforcement_status")
    sending = account.get("sending_enabled")
    if enforcement is None:
        return Condition(ACCOUNT_HEALTHY, "Unknown", NO_DATA, "the exporter has not read the SES account yet")
    if enforcement == "SHUTDOWN":
        return Condition(
            ACCOUNT_HEALTHY,
            "False",
            SENDING_PAUSED,
            "SES paused the account's sending (enforcement status SHUTDOWN)",
        )
    if enforcement == "PROBATION":
        return Condition(
            ACCOUNT_HEALTHY,
            "False",
            UNDER_REVIEW,
            "SES put the account under review (enforcement status PROBATION)",
        )
    if sending is False:
        return Condition(
            ACCOUNT_HEALTHY, "False", SENDING_PAUSED,
            f"sending is disabled for the account (enforcement status {enforcement})",
        )  # fmt: skip
    if enforcement == "HEALTHY":
        return Condition(
            ACCOUNT_HEALTHY, "True", HEALTHY, "the account is in good standing (enforcement status HEALTHY)"
        )
    return Condition(
        ACCOUNT_HEALTHY,
        "Unknown",
        UNKNOWN_ENFORCEMENT,
        f"unrecognised SES enforcement status {enforcement!r}",
    )


def counts_condition(
    spec: SesMonitorSpec, reading: ExporterReading, unavailable: Condition | None
) -> Condition | None:
    """ConfigurationSetCounts, only with spec.configurationSetCounts: False while an opted-in set's Send
    or Delivery count has had no datapoint since the exporter started (no event destination for it)."""
    sets = spec.configuration_set_counts
    if not sets:
        return None
    if unavailable is not None:
        return Condition(
            CONFIGURATION_SET_COUNTS, "Unknown", unavailable.reason,
            f"configuration set counts unknown: {unavailable.message}",
        )  # fmt: skip
    doc = reading.status
    assert doc is not None
    api = doc.apis.get(APIS[0])  # GetMetricData
    read = api.get("last_success_time") if api else None
    if read is None:
        return Condition(
            CONFIGURATION_SET_COUNTS, "Unknown", NO_DATA, "the exporter has not read CloudWatch yet"
        )
    missing = doc.counts_without_data or {}
    empty = {name: missing[name] for name in sets if set(_JUDGED_COUNTS) & set(missing.get(name, ()))}
    if empty:
        listed = "; ".join(f"{name}: {', '.join(metrics)}" for name, metrics in sorted(empty.items()))
        return Condition(
            CONFIGURATION_SET_COUNTS, "False", NO_COUNT_DATA,
            f"no datapoint since the exporter started (lookback included) for {listed}. CloudWatch has a"
            " configuration set's counts only through a CloudWatch event destination of the set with"
            " the dimension ses:configuration-set (and those event types): add one, or remove the set"
            " from spec.configurationSetCounts (its 5 count metrics are billed every minute either way)",
        )  # fmt: skip
    quiet = {name: missing[name] for name in sets if missing.get(name)}
    note = ""
    if quiet:
        listed = "; ".join(f"{name}: {', '.join(metrics)}" for name, metrics in sorted(quiet.items()))
        note = f" (none yet of {listed}: SES publishes no zeros)"
    return Condition(
        CONFIGURATION_SET_COUNTS, "True", COUNTS_PUBLISHED,
        f"CloudWatch has counts for {', '.join(sorted(sets))}{note}",
    )  # fmt: skip


def ready_condition(conditions: Sequence[Condition]) -> Condition:
    by_type = {c.type: c for c in conditions}
    ordered = [by_type[t] for t in _SUMMARY_ORDER if t in by_type]
    failing = [c for c in ordered if c.status == "False"]
    unknown = [c for c in ordered if c.status == "Unknown"]
    if failing:
        first = failing[0]
        return Condition(READY, "False", first.reason, f"{first.type}: {first.message}")
    if unknown:
        first = unknown[0]
        return Condition(READY, "Unknown", first.reason, f"{first.type}: {first.message}")
    return Condition(
        READY,
        "True",
        MONITORING,
        "reconciled; the exporter serves fresh data from AWS (the account's health is in"
        f" {BOUNCE_RATE_HEALTHY}, {COMPLAINT_RATE_HEALTHY} and {ACCOUNT_HEALTHY})",
    )


def evaluate(
    monitor_key: str, spec: SesMonitorSpec, outcome: ReconcileOutcome, reading: ExporterReading
) -> list[Condition]:
    """All six conditions (seven with spec.configurationSetCounts), Ready first."""
    unavailable = _exporter_problem(monitor_key, reading)
    thresholds = spec.thresholds
    doc = reading.status
    others = [
        reconciled_condition(outcome),
        exporter_condition(monitor_key, reading),
        rate_condition(
            kind=BOUNCE_RATE_HEALTHY, label="bounce", rate=doc.bounce_rate if doc else None,
            warning=thresholds.bounce_rate.warning, critical=thresholds.bounce_rate.critical,
            window=spec.window, unavailable=unavailable,
        ),
        rate_condition(
            kind=COMPLAINT_RATE_HEALTHY, label="complaint", rate=doc.complaint_rate if doc else None,
            warning=thresholds.complaint_rate.warning, critical=thresholds.complaint_rate.critical,
            window=spec.window, unavailable=unavailable,
        ),
        account_condition(reading, unavailable),
    ]  # fmt: skip
    counts = counts_condition(spec, reading, unavailable)
    if counts is not None:
        others.append(counts)
    events = events_condition(spec, doc if unavailable is None else None)
    if events is not None:
        others.append(Condition(EVENTS_RECEIVED, *events))
    from sesmonitor.operator.protection import protection_condition, protection_status  # imports us

    namespace, _, name = monitor_key.partition("/")
    guard = protection_condition(spec, namespace, name, protection_status(reading), unavailable)
    if guard is not None:
        others.append(guard)
    return [ready_condition(others), *others]


# --------------------------------------------------------------------------------------------------
# The whole status
# --------------------------------------------------------------------------------------------------


def _mirrored(reading: ExporterReading, previous: Mapping[str, Any], usable: bool) -> dict[str, Any]:
    """Rates and account fields from the exporter; the previous values while it cannot be read."""
    if not usable or reading.status is None:
        return {key: previous[key] for key in _MIRRORED_KEYS if previous.get(key) is not None}
    doc = reading.status

    def percent(value: float | None) -> str | None:
        return None if value is None else format_percent(value)

    values: dict[str, Any] = {
        "bounceRate": percent(doc.bounce_rate.get("current")),
        "bounceRateWindowAverage": percent(doc.bounce_rate.get("window_average")),
        "complaintRate": percent(doc.complaint_rate.get("current")),
        "complaintRateWindowAverage": percent(doc.complaint_rate.get("window_average")),
        "enforcementStatus": doc.account.get("enforcement_status"),
        "sendingEnabled": doc.account.get("sending_enabled"),
        "bounceBreakdown": breakdown_text(doc.events["last_hour"]) if doc.events else None,
    }
    return {key: value for key, value in values.items() if value is not None}


def _with_transition_times(
    conditions: Iterable[Condition],
    previous: Sequence[Mapping[str, Any]],
    generation: int | None,
    now: datetime.datetime,
) -> list[dict[str, Any]]:
    before = {str(c.get("type")): c for c in previous if isinstance(c, Mapping)}
    out = []
    for condition in conditions:
        old = before.get(condition.type)
        same = old is not None and old.get("status") == condition.status and old.get("lastTransitionTime")
        entry: dict[str, Any] = {
            "type": condition.type,
            "status": condition.status,
            "reason": condition.reason,
            "message": condition.message[:32768],
            "lastTransitionTime": old["lastTransitionTime"] if same and old is not None else rfc3339(now),
        }
        if generation is not None:
            entry["observedGeneration"] = generation
        out.append(entry)
    return out


def compute_status(
    *,
    monitor_key: str,
    spec: SesMonitorSpec,
    generation: int | None,
    outcome: ReconcileOutcome,
    reading: ExporterReading,
    previous: Mapping[str, Any] | None,
    now: datetime.datetime,
) -> dict[str, Any]:
    """The complete new status (only the keys the CRD defines; absent means unset)."""
    previous = previous or {}
    conditions = evaluate(monitor_key, spec, outcome, reading) + _progress(outcome)
    status: dict[str, Any] = {}
    # This generation was acted on, successfully or not: kstatus reads a lagging observedGeneration as
    # "in progress" whatever happened, so a failure must advance it and say Reconciling or Stalled.
    if generation is not None:
        status["observedGeneration"] = generation
    status["conditions"] = _with_transition_times(
        conditions, previous.get("conditions") or [], generation, now
    )
    usable = _exporter_problem(monitor_key, reading) is None
    status.update(_mirrored(reading, previous, usable))
    if spec.protection.mode != "Off":
        from sesmonitor.operator.protection import protection_status  # it imports this module

        sets = protection_status(reading) if usable else previous.get("protection") or []
        if sets:
            status["protection"] = sets
    return status


def invalid_spec_status(
    *,
    previous: Mapping[str, Any] | None,
    outcome: ReconcileOutcome,
    generation: int | None,
    now: datetime.datetime,
) -> dict[str, Any]:
    """The status when the spec itself is unusable: Reconciled and Ready say why; the rest is kept."""
    previous = previous or {}
    failed = Condition(RECONCILED, "False", outcome.reason, outcome.message)
    ready = Condition(READY, "False", outcome.reason, f"{RECONCILED}: {outcome.message}")
    owned = {READY, RECONCILED, RECONCILING, STALLED}
    old_conditions = previous.get("conditions") or []
    kept = [c for c in old_conditions if isinstance(c, Mapping) and c.get("type") not in owned]
    status = {key: previous[key] for key in STATUS_KEYS if previous.get(key) is not None}
    if generation is not None:
        status["observedGeneration"] = generation
    status["conditions"] = _with_transition_times(
        [ready, failed, *_progress(outcome)], old_conditions, generation, now
    ) + [dict(c) for c in kept]
    return status


def _progress(outcome: ReconcileOutcome) -> list[Condition]:
    """kstatus's abnormal-true conditions, present only while reconciling fails: Reconciling while a
    retry will fix it, Stalled when only a person can."""
    if outcome.ok:
        return []
    if outcome.transient:
        return [Condition(RECONCILING, "True", outcome.reason, f"retrying: {outcome.message}")]
    return [Condition(STALLED, "True", outcome.reason, outcome.message)]


def status_patch(previous: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any] | None:
    """A JSON merge patch of ``status`` turning ``previous`` into ``new``; None when they are equal.

    Keys we own that disappeared are set to null (a merge patch keeps absent keys); lists (conditions)
    are replaced whole.
    """
    previous = previous or {}
    patch: dict[str, Any] = {}
    for key in STATUS_KEYS:
        old, value = previous.get(key), new.get(key)
        if old == value:
            continue
        patch[key] = value  # None removes it
    for key in RETIRED_KEYS:
        if previous.get(key) is not None:
            patch[key] = None
    return patch or None


def condition_changes(
    previous: Sequence[Mapping[str, Any]] | None, current: Sequence[Mapping[str, Any]], types: Iterable[str]
) -> list[ConditionChange]:
    """Conditions of ``types`` whose status or reason changed.

    A condition seen for the first time counts as a change only when it is False, so a new monitor
    raises no Events while it is healthy or still waiting for data.
    """
    before = {str(c.get("type")): c for c in previous or [] if isinstance(c, Mapping)}
    now_by_type = {str(c.get("type")): c for c in current}
    changes = []
    for kind in types:
        new = now_by_type.get(kind)
        if new is None:
            continue
        old = before.get(kind)
        if old is None and new.get("status") != "False":
            continue
        if (
            old is not None
            and old.get("status") == new.get("status")
            and old.get("reason") == new.get("reason")
        ):
            continue
        changes.append(
            ConditionChange(
                type=kind,
                previous=old,
                current=Condition(kind, new["status"], str(new["reason"]), str(new.get("message", ""))),
            )
        )
    return changes
