"""Reconciled, the summary Ready, and kstatus's Reconciling and Stalled.

``Ready`` means the monitor works: its children are applied and its exporter serves fresh data from
AWS. It does not mean the account is healthy, or ``kubectl wait --for=condition=Ready`` and GitOps
health checks would hang on a bad bounce rate; BounceRateHealthy, ComplaintRateHealthy and
AccountHealthy (and the printer columns and alerts) say that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from sesmonitor.api.status import (
    ACCOUNT_HEALTHY,
    BOUNCE_RATE_HEALTHY,
    COMPLAINT_RATE_HEALTHY,
    EXPORTER_READY,
    READY,
    RECONCILED,
)
from sesmonitor.operator.shapes import APPLIED, Condition, ExporterReading, ReconcileOutcome
from sesmonitor.operator.status.kstatus import progress

MONITORING: Final = "Monitoring"
# Ready summarises whether the monitor works; the first of these not True gives its reason. The
# account's health is not among them (see the module docstring).
_SUMMARY_ORDER: Final = (RECONCILED, EXPORTER_READY)


def reconciled_condition(outcome: ReconcileOutcome) -> Condition:
    if outcome.ok:
        message = outcome.message or "all children are applied as rendered"
        return Condition(RECONCILED, "True", APPLIED, message)
    return Condition(RECONCILED, "False", outcome.reason, outcome.message)


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


def progress_conditions(
    outcome: ReconcileOutcome, ready: Condition | None = None, reading: ExporterReading | None = None
) -> list[Condition]:
    """kstatus's Stalled or Reconciling, whenever Ready is not True or a rollout is under way
    (sesmonitor.operator.status.kstatus decides)."""
    found = progress(outcome, ready, reading)
    return [] if found is None else [Condition(found.type, "True", found.reason, found.message)]
