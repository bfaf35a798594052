"""The shapes the operator's rooms share: what a reconcile pass saw, and a condition as computed.

`reconcile` fills a `ReconcileOutcome` and an `ExporterReading` (from `exporter_client` and `pods`);
`status` turns them into `Condition`s and the status; `events` announces each `ConditionChange`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from sesmonitor.contract import ExporterStatus

ConditionStatus = Literal["True", "False", "Unknown"]

# Reasons more than one room gives (one CamelCase word each).
APPLIED: Final = "Applied"
NO_DATA: Final = "NoData"


@dataclass(frozen=True)
class PodProblem:
    """ExporterReady's reason and message when the exporter's workload explains the silence."""

    reason: str
    message: str
    restarts: int = 0  # the container's restartCount (kstatus: a crash loop stalls past a count)


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
    rollout: str | None = None  # how far the exporter's Deployment is from rolled out (pods.py)


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
