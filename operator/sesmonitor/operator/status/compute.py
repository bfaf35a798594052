"""The SesMonitor status, computed purely from what a reconcile pass saw.

No I/O and no clock: the caller passes the reconcile outcome, the exporter's ``/status`` document (or
why it could not be read), the previous status and ``now``. The result is the complete new status; the
caller writes it only when it differs from the previous one (`status_patch` returns None then), so a
pass that changes nothing writes nothing.

Conditions follow metav1.Condition: ``lastTransitionTime`` moves only when ``status`` changes, not
when the reason or message does. ``status.observedGeneration`` advances for every generation acted
on; whenever Ready is not True, ``Reconciling=True`` says it will fix itself and ``Stalled=True`` that
only a person can (`sesmonitor.operator.status.kstatus` decides): kstatus (Flux) reads Stalled as
failed, Reconciling as in progress, and so does Argo CD with deploy/gitops/argocd/health.lua.

What ``Ready`` means: `sesmonitor.operator.status.ready`. Each condition family has its module in
this package; `evaluate` asks each of them.

Only what a reader sees is written: rates at their shown precision, conditions, the enforcement
status. Not the exporter's refresh time, which changes every minute (it is in the exporter's own
``sesmonitor_last_successful_refresh_timestamp_seconds``), so a steady monitor writes nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from sesmonitor.api import SesMonitorSpec, format_percent
from sesmonitor.api.status import (
    ACCOUNT_HEALTHY,
    BOUNCE_RATE_HEALTHY,
    COMPLAINT_RATE_HEALTHY,
    CONFIGURATION_SETS_FOUND,
    EVENTS_RECEIVED,
    READY,
    RECONCILED,
    RECONCILING,
    STALLED,
)
from sesmonitor.operator.shapes import Condition, ConditionChange, ExporterReading, ReconcileOutcome
from sesmonitor.operator.status.account import account_condition, counts_condition
from sesmonitor.operator.status.configuration_sets import configuration_sets_condition
from sesmonitor.operator.status.events_received import breakdown_text, events_condition
from sesmonitor.operator.status.exporter_ready import exporter_condition, exporter_problem
from sesmonitor.operator.status.protection import (
    protection_condition,
    protection_status,
    protection_tenants_status,
)
from sesmonitor.operator.status.rates import rate_condition
from sesmonitor.operator.status.ready import progress_conditions, ready_condition, reconciled_condition
from sesmonitor.operator.status.tenants import findings_summary, tenants_summary

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
    "protection",  # spec.protection's sets (sesmonitor.operator.status.protection)
    "protectionTenants",  # spec.protection's tenants (likewise)
    "tenants",  # spec.tenants (sesmonitor.operator.status.tenants)
    "findings",  # spec.findings (likewise)
)
_MIRRORED_KEYS: Final = STATUS_KEYS[2 : STATUS_KEYS.index("protection")]
# Keys older versions wrote and this one removes (set to null once, when found).
RETIRED_KEYS: Final = ("lastRefreshTime",)
# Conditions whose changes are announced with a Kubernetes Event (a missing configuration set's as
# ConfigurationSetMissing).
RATE_CONDITIONS: Final = (
    BOUNCE_RATE_HEALTHY,
    COMPLAINT_RATE_HEALTHY,
    ACCOUNT_HEALTHY,
    CONFIGURATION_SETS_FOUND,
)


def rfc3339(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def evaluate(
    monitor_key: str, spec: SesMonitorSpec, outcome: ReconcileOutcome, reading: ExporterReading
) -> list[Condition]:
    """All six conditions (more with spec.configurationSetCounts, configurationSets, events,
    protection), Ready first."""
    unavailable = exporter_problem(monitor_key, reading)
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
    found = configuration_sets_condition(spec, doc, unavailable)
    if found is not None:
        others.append(found)
    events = events_condition(spec, doc if unavailable is None else None)
    if events is not None:
        others.append(Condition(EVENTS_RECEIVED, *events))
    namespace, _, name = monitor_key.partition("/")
    guard = protection_condition(
        spec,
        namespace,
        name,
        protection_status(reading),
        unavailable,
        tenants=protection_tenants_status(reading),
    )
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
    conditions = evaluate(monitor_key, spec, outcome, reading)
    conditions += progress_conditions(outcome, conditions[0], reading)
    status: dict[str, Any] = {}
    # This generation was acted on, successfully or not: kstatus reads a lagging observedGeneration as
    # "in progress" whatever happened, so a failure must advance it and say Reconciling or Stalled.
    if generation is not None:
        status["observedGeneration"] = generation
    status["conditions"] = _with_transition_times(
        conditions, previous.get("conditions") or [], generation, now
    )
    usable = exporter_problem(monitor_key, reading) is None
    status.update(_mirrored(reading, previous, usable))
    if spec.protection.mode != "Off":
        sets = protection_status(reading) if usable else previous.get("protection") or []
        if sets:
            status["protection"] = sets
        tenants = protection_tenants_status(reading) if usable else previous.get("protectionTenants") or []
        if tenants:
            status["protectionTenants"] = tenants
    if spec.tenants is not None:
        doc = reading.status
        if usable and doc is not None and doc.tenants is not None:
            status["tenants"] = tenants_summary(doc.tenants)
        elif previous.get("tenants") is not None:
            status["tenants"] = previous["tenants"]
    if spec.findings is not None:
        doc = reading.status
        if usable and doc is not None and doc.findings is not None:
            status["findings"] = findings_summary(doc.findings)
        elif previous.get("findings") is not None:
            status["findings"] = previous["findings"]
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
        [ready, failed, *progress_conditions(outcome)], old_conditions, generation, now
    ) + [dict(c) for c in kept]
    return status


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
