"""Kubernetes Events on the SesMonitor: when a rate or account condition changes, and when applying
the children fails or recovers. Posted through kopf's event queue (retried in the background, never
failing the reconcile). Only transitions raise Events, so a steady state writes none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from sesmonitor.api.status import RECONCILED
from sesmonitor.operator.shapes import ConditionChange

# (object, type, reason, message): kopf.event in the operator, a list's append in tests.
Poster = Callable[[Mapping[str, Any], str, str, str], None]


def kopf_poster(obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
    import kopf

    kopf.event(cast(Any, dict(obj)), type=type_, reason=reason, message=message)


def announce(obj: Mapping[str, Any], changes: Iterable[ConditionChange], post: Poster) -> int:
    """One Event per changed condition: Warning when it is no longer True, Normal when it recovered."""
    count = 0
    for change in changes:
        current = change.current
        if change.type == RECONCILED:
            if current.status == "True":
                post(obj, "Normal", "Reconciled", current.message)
            else:
                post(obj, "Warning", "ReconcileFailed", f"{current.reason}: {current.message}")
        else:
            before = change.previous.get("reason") if change.previous else None
            prefix = f"{change.type} {before} -> {current.reason}: " if before else f"{change.type}: "
            post(obj, "Warning" if change.warning else "Normal", current.reason, prefix + current.message)
        count += 1
    return count
